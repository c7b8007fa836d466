// TaskLauncher: how the agent starts a task and controls it afterwards.
//
// The real implementation runs each task in a `scaleout task-host` child
// process, like SSIS's ISServerExec: a warm pool of long-lived task hosts
// that run one task after another (core/taskhost's TaskHostPool), or one
// fresh host per task (TaskHostLauncher).
// Tests may substitute their own launcher to drive the lease logic without
// processes.
#ifndef SCALEOUT_CORE_WORKER_TASK_LAUNCHER_H_
#define SCALEOUT_CORE_WORKER_TASK_LAUNCHER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/common/clock.h"
#include "scaleout/sdk/config.h"
#include "scaleout/sdk/executor.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::worker {

// One running task. Thread-safety: every method may be called from any thread.
class TaskProcess {
 public:
  virtual ~TaskProcess() = default;
  // Asks the package to stop, kills it after the launcher's grace. Idempotent.
  virtual void Cancel() = 0;
  // Kills the package and everything it started, now. Idempotent.
  virtual void Kill() = 0;
  // True once Wait() will not block.
  virtual bool Done() const = 0;
  // Blocks until the task has ended; returns its outcome.
  virtual sdk::TaskOutcome Wait() = 0;
};

struct TaskLaunch {
  sdk::TaskSpec spec;                    // work_dir and project_dir exist
  std::string executor;                  // "process"
  sdk::ConfigView::Map executor_config;  // PluginSettings["executor.<name>"]
  std::string log_file;                  // "" when TaskLogEnabled is false
  std::uint32_t log_level = 126;         // TaskLogLevel
};

struct TaskCallbacks {
  // Each event of the package, in order, from a launcher thread.
  std::function<void(const sdk::Event&)> on_event;
  // Once, when the task has ended (Done() is already true), from a launcher
  // thread. Must not call Wait().
  std::function<void()> on_exit;
};

// Thread-safety: Launch() is called from one agent thread at a time.
class TaskLauncher {
 public:
  virtual ~TaskLauncher() = default;
  virtual sdk::Result<std::unique_ptr<TaskProcess>> Launch(const TaskLaunch& launch,
                                                           TaskCallbacks callbacks) = 0;
};

struct TaskHostLauncherOptions {
  std::string host_binary;                       // the `scaleout` executable
  std::string plugin_dir;                        // where the task host loads executors from
  std::chrono::milliseconds kill_grace{10'000};  // Cancel() -> SIGKILL
  // SIGTERM to each task host if the launching thread (the agent) dies, so
  // a crashed worker's packages stop instead of running on unleased.
  int parent_death_signal = 15;
};

// TaskLauncher over core/taskhost, one task host process per task. `clock`
// must outlive every task.
std::unique_ptr<TaskLauncher> MakeTaskHostLauncher(TaskHostLauncherOptions options, Clock& clock);

// TaskLauncher over a pool of warm task hosts (TaskHostPool), keeping up to
// `max_idle_hosts` (MaxTaskCount) of them between tasks. Launch() must come
// from a thread that lives as long as the launcher (parent_death_signal).
// `clock` must outlive the launcher; destroying it kills every task host.
std::unique_ptr<TaskLauncher> MakeTaskHostPoolLauncher(const TaskHostLauncherOptions& options,
                                                       std::size_t max_idle_hosts, Clock& clock);

}  // namespace scaleout::core::worker

#endif  // SCALEOUT_CORE_WORKER_TASK_LAUNCHER_H_
