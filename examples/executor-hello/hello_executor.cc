// executor/hello: the smallest useful executor, and the starting point for
// plugin authors (docs/plugin-guide.md walks through it).
//
// For every package parameter it emits an information event
// "<greeting> <value>" (or "<greeting> world" when there are none) and writes
// the same lines to hello.txt in the task's work folder.
//
// Settings (section [executor.hello]):
//   greeting  the word to greet with (default "hello")
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <scaleout/sdk/executor.h>
#include <scaleout/sdk/plugin.h>

namespace hello {

namespace sdk = scaleout::sdk;

class HelloExecutor final : public sdk::Executor {
 public:
  // Called by the host through the plugin's create(). Validate the settings
  // here so a typo fails at start-up, not at the first task.
  static sdk::Result<std::unique_ptr<HelloExecutor>> Create(const sdk::PluginContext& context) {
    SCALEOUT_RETURN_IF_ERROR(context.config->CheckKnownKeys({"greeting"}));
    std::string greeting = context.config->GetString("greeting", "hello");
    if (greeting.empty()) {
      return sdk::Status::InvalidArgument("'executor.hello.greeting' must not be empty");
    }
    return std::make_unique<HelloExecutor>(std::move(greeting), *context.logger);
  }

  HelloExecutor(std::string greeting, sdk::Logger& logger)
      : greeting_(std::move(greeting)), logger_(logger) {}

  sdk::Status Start() override { return sdk::Status::Ok(); }
  void Stop() noexcept override {}

  sdk::Result<sdk::TaskOutcome> Run(const sdk::TaskSpec& task, sdk::EventSink& events,
                                    const sdk::CancellationToken& cancel) override {
    std::vector<std::string> lines;
    for (const auto& parameter : task.parameters)
      lines.push_back(greeting_ + " " + parameter.value);
    if (lines.empty()) lines.push_back(greeting_ + " world");

    const std::string file = task.work_dir + "/hello.txt";
    std::ofstream out(file, std::ios::trunc);
    if (!out) {
      // The executor itself could not run: a non-OK Result.
      return sdk::Status::FailedPrecondition("executor/hello cannot write '" + file +
                                             "'; check that the work folder is writable");
    }
    for (const std::string& line : lines) {
      if (cancel.IsCancelled()) {
        return sdk::TaskOutcome{sdk::TaskResult::kCancelled, 0, "hello: cancelled"};
      }
      events.Emit({sdk::MessageType::kInformation, "hello", line});
      out << line << "\n";
    }
    logger_.Debug("executor/hello greeted " + std::to_string(lines.size()) + " time(s)");
    return sdk::TaskOutcome{sdk::TaskResult::kSucceeded, 0,
                            "greeted " + std::to_string(lines.size()) + " time(s)"};
  }

 private:
  const std::string greeting_;
  sdk::Logger& logger_;  // owned by the host; outlives this executor
};

}  // namespace hello

SCALEOUT_PLUGIN(kExecutor, "hello", "1.0.0", "Greets every parameter (the example plugin)",
                hello::HelloExecutor)
