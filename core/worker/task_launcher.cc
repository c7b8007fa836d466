#include "core/worker/task_launcher.h"

#include "core/taskhost/launcher.h"

namespace scaleout::core::worker {
namespace {

class TaskHostProcess final : public TaskProcess {
 public:
  TaskHostProcess(TaskCallbacks callbacks, Clock& clock)
      : launcher_(taskhost::TaskHostCallbacks{std::move(callbacks.on_event),
                                              [on_exit = std::move(callbacks.on_exit)](
                                                  const sdk::TaskOutcome&) {
                                                if (on_exit) on_exit();
                                              }},
                  clock) {}

  sdk::Status Start(const taskhost::TaskHostRequest& request) { return launcher_.Start(request); }
  void Cancel() override { launcher_.Cancel(); }
  void Kill() override { launcher_.Kill(); }
  bool Done() const override { return launcher_.Done(); }
  sdk::TaskOutcome Wait() override { return launcher_.Wait(); }

 private:
  taskhost::TaskHostLauncher launcher_;
};

class TaskHostLauncherAdapter final : public TaskLauncher {
 public:
  TaskHostLauncherAdapter(TaskHostLauncherOptions options, Clock& clock)
      : options_(std::move(options)), clock_(clock) {}

  sdk::Result<std::unique_ptr<TaskProcess>> Launch(const TaskLaunch& launch,
                                                   TaskCallbacks callbacks) override {
    taskhost::TaskHostRequest request;
    request.host_binary = options_.host_binary;
    request.plugin_dir = options_.plugin_dir;
    request.executor = launch.executor;
    for (const auto& [k, v] : launch.executor_config) request.executor_config[k] = v;
    request.spec = launch.spec;
    request.log_file = launch.log_file;
    request.log_level = launch.log_level;
    request.kill_grace = options_.kill_grace;
    request.parent_death_signal = options_.parent_death_signal;
    auto process = std::make_unique<TaskHostProcess>(std::move(callbacks), clock_);
    SCALEOUT_RETURN_IF_ERROR(process->Start(request));
    return std::unique_ptr<TaskProcess>(std::move(process));
  }

 private:
  TaskHostLauncherOptions options_;
  Clock& clock_;
};

}  // namespace

std::unique_ptr<TaskLauncher> MakeTaskHostLauncher(TaskHostLauncherOptions options, Clock& clock) {
  return std::make_unique<TaskHostLauncherAdapter>(std::move(options), clock);
}

}  // namespace scaleout::core::worker
