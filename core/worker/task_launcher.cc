#include "core/worker/task_launcher.h"

#include "core/taskhost/host_pool.h"
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

class PooledTaskProcess final : public TaskProcess {
 public:
  explicit PooledTaskProcess(std::unique_ptr<taskhost::PooledTask> task) : task_(std::move(task)) {}
  void Cancel() override { task_->Cancel(); }
  void Kill() override { task_->Kill(); }
  bool Done() const override { return task_->Done(); }
  sdk::TaskOutcome Wait() override { return task_->Wait(); }

 private:
  std::unique_ptr<taskhost::PooledTask> task_;
};

class TaskHostPoolLauncher final : public TaskLauncher {
 public:
  TaskHostPoolLauncher(const TaskHostLauncherOptions& options, std::size_t max_idle_hosts,
                       Clock& clock)
      : pool_(taskhost::TaskHostPoolOptions{options.host_binary, options.plugin_dir,
                                            options.kill_grace, options.parent_death_signal,
                                            max_idle_hosts},
              clock) {}

  sdk::Result<std::unique_ptr<TaskProcess>> Launch(const TaskLaunch& launch,
                                                   TaskCallbacks callbacks) override {
    taskhost::PooledTaskRequest request;
    request.executor = launch.executor;
    for (const auto& [k, v] : launch.executor_config) request.executor_config[k] = v;
    request.spec = launch.spec;
    request.log_file = launch.log_file;
    request.log_level = launch.log_level;
    taskhost::TaskHostCallbacks host_callbacks{
        std::move(callbacks.on_event),
        [on_exit = std::move(callbacks.on_exit)](const sdk::TaskOutcome&) {
          if (on_exit) on_exit();
        }};
    SCALEOUT_ASSIGN_OR_RETURN(std::unique_ptr<taskhost::PooledTask> task,
                              pool_.Launch(request, std::move(host_callbacks)));
    return std::unique_ptr<TaskProcess>(std::make_unique<PooledTaskProcess>(std::move(task)));
  }

 private:
  taskhost::TaskHostPool pool_;
};

}  // namespace

std::unique_ptr<TaskLauncher> MakeTaskHostPoolLauncher(const TaskHostLauncherOptions& options,
                                                       std::size_t max_idle_hosts, Clock& clock) {
  return std::make_unique<TaskHostPoolLauncher>(options, max_idle_hosts, clock);
}

std::unique_ptr<TaskLauncher> MakeTaskHostLauncher(TaskHostLauncherOptions options, Clock& clock) {
  return std::make_unique<TaskHostLauncherAdapter>(std::move(options), clock);
}

}  // namespace scaleout::core::worker
