// TaskHostLauncher: the worker's side of the task host.
//
// The worker runs every task in a child process, `scaleout task-host`, as
// SSIS runs packages in ISServerExec: a package or executor that crashes,
// hangs or leaks takes down only that child. The launcher
//   - writes the task's spec to a file in the task's work dir (mode 0600: it
//     may hold sensitive parameter values, which therefore never appear on a
//     command line); the task host deletes the file as soon as it has read it;
//   - starts the child as the leader of a new session (and so of a new process
//     group); the package the executor starts stays inside that session;
//   - reads framed records (records.h) from the child's stdout: events go to
//     `on_event` as they arrive, the final outcome is kept for Wait(); lines
//     the child writes to stderr become diagnostic events (source
//     "task-host") and the last ones are quoted when the child dies without
//     reporting an outcome;
//   - when the child has exited, kills whatever is left of its session before
//     reaping it, so no descendant outlives the task (except one that made
//     its own session with setsid(): that needs cgroups, see docs/executors.md).
//
// Stopping: Cancel() asks politely (SIGTERM to the task host, which cancels
// the executor's token; the executor stops its package) and kills the whole
// session after `kill_grace` measured on the injected clock. Kill() kills the
// whole session at once (used when the lease cannot be renewed).
//
// Thread-safety: one launcher per task. Start() once, from one thread; then
// Cancel(), Kill(), Done(), pid() may be called from any thread, Wait() from
// any one thread. Callbacks run on the launcher's reader thread, one at a
// time, in the order the child produced them; they must not call Wait() or
// destroy the launcher. The destructor kills a child still running and waits.
#ifndef SCALEOUT_CORE_TASKHOST_LAUNCHER_H_
#define SCALEOUT_CORE_TASKHOST_LAUNCHER_H_

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/common/clock.h"
#include "scaleout/sdk/executor.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::taskhost {

// SSIS TaskLogLevel bits (WorkerSettings.config); the default 126 (0x7E)
// logs everything except Verbose.
inline constexpr std::uint32_t kTaskLogVerbose = 0x01;
inline constexpr std::uint32_t kTaskLogInformation = 0x02;
inline constexpr std::uint32_t kTaskLogWarning = 0x04;
inline constexpr std::uint32_t kTaskLogError = 0x08;
inline constexpr std::uint32_t kTaskLogProgress = 0x10;
inline constexpr std::uint32_t kTaskLogCriticalError = 0x20;
inline constexpr std::uint32_t kTaskLogAudit = 0x40;
inline constexpr std::uint32_t kDefaultTaskLogLevel = 126;

// Name of the spec file the launcher writes into spec.work_dir.
inline constexpr const char* kSpecFileName = ".scaleout-task-spec.json";

struct TaskHostRequest {
  std::string host_binary;  // the `scaleout` executable; must be executable
  std::string plugin_dir;   // where the task host loads plugins from
  std::string executor;     // "process" or "executor/process"
  std::map<std::string, std::string, std::less<>> executor_config;  // its config section
  sdk::TaskSpec spec;  // spec.work_dir is created (0700) if missing
  // Per-task log (TasksRootFolder/<task id>/task.log); empty disables it
  // (TaskLogEnabled = false). `log_level` is the TaskLogLevel bitmask.
  std::string log_file;
  std::uint32_t log_level = kDefaultTaskLogLevel;
  // Between Cancel()'s SIGTERM and the SIGKILL of the whole session. Should
  // exceed the executor's own grace (process: kill_grace_ms, 5000) so the
  // executor gets to stop its package cleanly first.
  std::chrono::milliseconds kill_grace{10000};
  // Signal the task host receives when the thread that called Start() dies
  // (PR_SET_PDEATHSIG; 0 = none). SIGTERM makes a worker crash cancel its
  // packages. Only set it when Start() runs on a thread that lives as long
  // as the task: Linux ties this to the creating thread, not the process.
  int parent_death_signal = 0;
};

struct TaskHostCallbacks {
  // Each event of the package, in order. Sensitive values are already masked.
  std::function<void(const sdk::Event&)> on_event;
  // Called once with the final outcome, after the child has been reaped
  // (Wait() returns the same outcome) and Done() has turned true, so a thread
  // it wakes finds the task ended. Optional.
  std::function<void(const sdk::TaskOutcome&)> on_exit;
};

class TaskHostLauncher {
 public:
  // `clock` measures Cancel()'s grace period and must outlive the launcher.
  explicit TaskHostLauncher(TaskHostCallbacks callbacks, Clock& clock = SystemClock::Instance());
  ~TaskHostLauncher();
  TaskHostLauncher(const TaskHostLauncher&) = delete;
  TaskHostLauncher& operator=(const TaskHostLauncher&) = delete;

  // Writes the spec file and starts the child. Errors: kInvalidArgument (an
  // empty field, a binary that is not executable), kFailedPrecondition
  // (called twice), kInternal / kUnavailable (the OS refused: the message
  // says which call and why). On error nothing is left running.
  sdk::Status Start(const TaskHostRequest& request);

  // Asks the task to stop; kills the session after `kill_grace`. Idempotent;
  // a no-op before Start() or after the child has exited.
  void Cancel();
  // Kills the whole session now. Idempotent; safe at any time.
  void Kill();

  // Blocks until the child has exited and been reaped; returns the outcome.
  // Without a reported outcome: kFailed "task host exited unexpectedly
  // (signal N | exit code N)", or kCancelled after Cancel()/Kill().
  // Before a successful Start(): kFailed "task host was not started".
  sdk::TaskOutcome Wait();

  // True once the outcome is final (Wait() will not block).
  bool Done() const;
  // The child's pid (also its process group and session id); 0 before Start().
  pid_t pid() const;

 private:
  void ReaderLoop();
  void GraceLoop();
  void KillLocked();  // REQUIRES: mutex_ held
  void Finish(const sdk::TaskOutcome& outcome);

  TaskHostCallbacks callbacks_;
  Clock& clock_;

  mutable std::mutex mutex_;
  std::condition_variable done_cv_;
  pid_t pid_ = 0;         // guarded by mutex_
  bool started_ = false;  // guarded by mutex_
  bool exited_ = false;   // guarded by mutex_; true once the child is reaped (pid may be reused)
  bool done_ = false;     // guarded by mutex_
  bool cancel_requested_ = false;            // guarded by mutex_
  bool kill_requested_ = false;              // guarded by mutex_
  std::optional<sdk::TaskOutcome> outcome_;  // guarded by mutex_; set once done_

  std::chrono::milliseconds kill_grace_{10000};
  std::string spec_path_;
  int out_fd_ = -1;  // read end of the child's stdout (records); reader thread only
  int err_fd_ = -1;  // read end of the child's stderr; reader thread only
  int pid_fd_ = -1;  // pidfd of the child, or -1 (then the reader polls); reader thread only
  std::atomic<bool> grace_wake_{false};
  std::thread reader_;
  std::thread grace_;  // started by the first Cancel()
};

}  // namespace scaleout::core::taskhost

#endif  // SCALEOUT_CORE_TASKHOST_LAUNCHER_H_
