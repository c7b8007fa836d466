// executor/noop: runs nothing, quickly. Used by tests and the noop benchmark
// to exercise scheduling without a real package.
//
// Package parameters it understands (any object type):
//   NOOP_RESULT    "succeed" (default) or "fail": the outcome to report.
//   NOOP_SLEEP_MS  0..3600000: wait this long first (cancellable), so tests
//                  can stop a running task or let a lease be renewed.
// It emits one information event naming the package.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "scaleout/sdk/executor.h"
#include "scaleout/sdk/plugin.h"

namespace scaleout::plugins::noop {
namespace {

using sdk::Result;
using sdk::Status;

constexpr std::int64_t kMaxSleepMs = 3'600'000;

const sdk::ExecutionParameter* FindParameter(const sdk::TaskSpec& task, std::string_view name) {
  for (const auto& parameter : task.parameters) {
    if (parameter.name == name) return &parameter;
  }
  return nullptr;
}

Result<bool> WantsFailure(const sdk::TaskSpec& task) {
  const auto* parameter = FindParameter(task, "NOOP_RESULT");
  if (parameter == nullptr || parameter->value == "succeed") return false;
  if (parameter->value == "fail") return true;
  return Status::InvalidArgument(
      "executor/noop: parameter NOOP_RESULT must be 'succeed' or "
      "'fail', got '" +
      parameter->value + "'");
}

Result<std::int64_t> SleepMillis(const sdk::TaskSpec& task) {
  const auto* parameter = FindParameter(task, "NOOP_SLEEP_MS");
  if (parameter == nullptr) return 0;
  const sdk::ConfigView::Map values{{"NOOP_SLEEP_MS", parameter->value}};
  return sdk::ConfigView(values, "parameter").GetInt("NOOP_SLEEP_MS", 0, 0, kMaxSleepMs);
}

}  // namespace

class NoopExecutor final : public sdk::Executor {
 public:
  // Takes no settings: any key in its config section is a typo.
  static Result<std::unique_ptr<NoopExecutor>> Create(const sdk::PluginContext& context) {
    SCALEOUT_RETURN_IF_ERROR(context.config->CheckKnownKeys({}));
    return std::make_unique<NoopExecutor>();
  }

  Status Start() override { return Status::Ok(); }
  void Stop() noexcept override {}

  Result<sdk::TaskOutcome> Run(const sdk::TaskSpec& task, sdk::EventSink& events,
                               const sdk::CancellationToken& cancel) override {
    SCALEOUT_ASSIGN_OR_RETURN(const bool fail, WantsFailure(task));
    SCALEOUT_ASSIGN_OR_RETURN(const std::int64_t sleep_ms, SleepMillis(task));
    if (sleep_ms > 0) cancel.WaitFor(std::chrono::milliseconds(sleep_ms));
    if (cancel.IsCancelled()) {
      return sdk::TaskOutcome{sdk::TaskResult::kCancelled, 0, "noop: cancelled"};
    }
    events.Emit({sdk::MessageType::kInformation, "noop",
                 "noop: package '" + task.package_name + "' attempt " +
                     std::to_string(task.attempt) + (fail ? " fails as asked" : " succeeded")});
    if (fail) {
      return sdk::TaskOutcome{sdk::TaskResult::kFailed, 1, "noop: failed because NOOP_RESULT=fail"};
    }
    return sdk::TaskOutcome{sdk::TaskResult::kSucceeded, 0, "noop: succeeded"};
  }
};

}  // namespace scaleout::plugins::noop

SCALEOUT_PLUGIN(kExecutor, "noop", "0.1.0", "Does nothing and succeeds (or fails on request)",
                scaleout::plugins::noop::NoopExecutor)
