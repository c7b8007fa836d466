// TaskHostPool: the worker's warm task hosts.
//
// Starting a `scaleout task-host` process per task (TaskHostLauncher) costs
// an exec, the dynamic loading of the host and of an executor plugin, and a
// spec file, for every task. The pool keeps long-lived hosts instead
// (`scaleout task-host --serve`, task_host.h's ServeTaskHost), each running
// one task at a time, many tasks one after another:
//   - a task goes to an idle host (the most recently used first), or to a new
//     one; the request (the spec with its parameter values) goes over the
//     host's stdin, a socket private to the two processes, never to disk;
//   - events and the outcome come back as records (records.h) on its stdout;
//     stderr lines become diagnostic events of the current task, as before;
//   - each host is the leader of its own session, a child of the worker.
//
// Isolation is that of one host per task: Cancel() asks the host to cancel
// the task (the executor stops its package's process group) and, if the
// task has not ended after `kill_grace`, kills the host's whole session.
// Kill() kills the whole session at once. A host that dies (crash, kill)
// fails only the task it was running, reported as TaskHostLauncher reports
// it, and a later Launch() starts a replacement. A host that could not
// clean up after a task says so before the outcome and exits; it is not
// reused.
//
// Thread-safety: Launch() from one thread at a time, and from a thread that
// lives as long as the pool when `parent_death_signal` is set (Linux ties
// PR_SET_PDEATHSIG to the thread that started the child). PooledTask's
// methods from any thread; callbacks as in TaskHostLauncher (on a host's
// reader thread, in order; they must not call Wait() or destroy the task).
#ifndef SCALEOUT_CORE_TASKHOST_HOST_POOL_H_
#define SCALEOUT_CORE_TASKHOST_HOST_POOL_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/common/clock.h"
#include "core/taskhost/launcher.h"
#include "scaleout/sdk/executor.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::taskhost {

struct TaskHostPoolOptions {
  std::string host_binary;                       // the `scaleout` executable
  std::string plugin_dir;                        // where hosts load executors from
  std::chrono::milliseconds kill_grace{10'000};  // Cancel() -> SIGKILL of the session
  int parent_death_signal = 0;                   // see TaskHostRequest
  std::size_t max_idle_hosts = 16;               // more idle hosts than this are retired
};

struct PooledTaskRequest {
  std::string executor;  // "process" or "executor/process"
  std::map<std::string, std::string, std::less<>> executor_config;
  sdk::TaskSpec spec;    // spec.work_dir must exist
  std::string log_file;  // empty: no task log
  std::uint32_t log_level = kDefaultTaskLogLevel;
};

class PooledHost;
struct PooledTaskState;

// One task running in a pooled host. The destructor kills a task still
// running and waits for it.
class PooledTask {
 public:
  explicit PooledTask(std::shared_ptr<PooledTaskState> state);
  ~PooledTask();
  PooledTask(const PooledTask&) = delete;
  PooledTask& operator=(const PooledTask&) = delete;

  // Asks the task to stop; kills its host's session after the grace.
  // Idempotent; a no-op once the task has ended.
  void Cancel();
  // Kills the host's whole session (the host is replaced). Idempotent.
  void Kill();
  // True once the outcome is final.
  bool Done() const;
  // Blocks until the task has ended; returns its outcome.
  sdk::TaskOutcome Wait();
  // The pid (and session id) of the host running the task.
  pid_t host_pid() const;

 private:
  std::shared_ptr<PooledTaskState> state_;
};

class TaskHostPool {
 public:
  // `clock` measures Cancel()'s grace and must outlive the pool.
  TaskHostPool(TaskHostPoolOptions options, Clock& clock);
  // Kills every host (tasks still running end as killed) and joins them.
  ~TaskHostPool();
  TaskHostPool(const TaskHostPool&) = delete;
  TaskHostPool& operator=(const TaskHostPool&) = delete;

  // Hands the task to a host. Errors: kInvalidArgument (an empty field),
  // kUnavailable (no host could be started: the message says why).
  sdk::Result<std::unique_ptr<PooledTask>> Launch(const PooledTaskRequest& request,
                                                  TaskHostCallbacks callbacks);

  // Hosts started so far, and idle now (tests, logs).
  std::uint64_t hosts_started() const;
  std::size_t idle_hosts() const;

 private:
  friend class PooledHost;
  // From a host's reader thread, without the host's lock.
  void Release(const std::shared_ptr<PooledHost>& host);
  void Forget(const PooledHost* host);
  sdk::Result<std::shared_ptr<PooledHost>> TakeOrStartHost();
  void JoinDeadHosts();

  const TaskHostPoolOptions options_;
  Clock& clock_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<PooledHost>> idle_;  // guarded by mutex_; most recent last
  std::vector<std::shared_ptr<PooledHost>> all_;   // guarded by mutex_; until joined
  std::uint64_t hosts_started_ = 0;                // guarded by mutex_
};

}  // namespace scaleout::core::taskhost

#endif  // SCALEOUT_CORE_TASKHOST_HOST_POOL_H_
