// ServerTaskHost: server mode, the master running packages itself.
//
// An execution created with runinscaleout = 0 (or under
// DEFAULT_EXECUTION_MODE = 0) is not handed to a Scale Out Worker: the master
// claims it as the reserved worker kMasterTaskHostId and runs it on its own
// task host, as SSIS runs such an execution on the catalog server.
//
// It is the worker agent itself (core/worker/agent.h), so a server task is
// launched, leased, fenced, cancelled, logged and reported by exactly the
// code that runs a task on a remote worker: each task in its own task-host
// child process (the TaskLauncher given), lease renewals every
// task_heartbeat_interval_ms that also deliver stop_operation, execution
// events through a crash-safe spool, and each result with its lease epoch.
// Only the "network" differs: the agent's MasterClient is an in-process one
// whose calls are operations on the master's CatalogWriter (worker_ops.h),
// with ClaimServerTasks instead of ClaimTasks. A request for work waits
// (long-poll) and is woken by WakeForWork() the moment a commit may have made
// a server task claimable, like a remote worker's request.
//
// At most max_task_count server tasks run at once (ServerMaxTaskCount).
//
// Ownership: borrows the writer, dialect, clock and launcher (all must
// outlive it). Thread-safety: Start()/Stop() from one controlling thread;
// WakeForWork() and stats() from any thread.
#ifndef SCALEOUT_CORE_MASTER_SERVER_TASK_HOST_H_
#define SCALEOUT_CORE_MASTER_SERVER_TASK_HOST_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/catalog/catalog_writer.h"
#include "core/catalog/sensitive_values.h"
#include "core/common/clock.h"
#include "core/worker/agent.h"
#include "core/worker/task_launcher.h"
#include "scaleout/sdk/config.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::core::master {

struct ServerTaskHostOptions {
  // Opens the sensitive values of the tasks claimed (borrowed).
  const catalog::CatalogKey* catalog_key = nullptr;
  int max_task_count = 4;                   // ServerMaxTaskCount
  std::int64_t lease_interval_ms = 60'000;  // LeaseIntervalInMs
  // Renewals are in-process and cheap; they also carry stop_operation, so
  // this bounds how long a stop takes to reach a server task.
  std::int64_t task_heartbeat_interval_ms = 1'000;
  // How long one request for work waits before asking again.
  std::int64_t max_long_poll_ms = 30'000;
  // Parked requests look again this often even when nothing was committed
  // here (another master may share the catalog).
  std::int64_t fallback_poll_ms = 1'000;
  // Tasks/, Projects/ and Agent/ELogCache/ are made under this folder.
  std::string data_folder;
  // Default executor plugin and each executor's section ("executor.process").
  std::string executor = "process";
  std::map<std::string, sdk::ConfigView::Map, std::less<>> plugin_sections;
  // The executor for a package name (WorkerService::ExecutorFor); required.
  std::function<std::string(const std::string&)> executor_for;
};

class ServerTaskHost {
 public:
  ServerTaskHost(catalog::CatalogWriter& writer, const sdk::Dialect& dialect, Clock& clock,
                 worker::TaskLauncher& launcher, ServerTaskHostOptions options);
  ~ServerTaskHost();
  ServerTaskHost(const ServerTaskHost&) = delete;
  ServerTaskHost& operator=(const ServerTaskHost&) = delete;

  // Creates the folders and starts the agent. Errors name the folder.
  sdk::Status Start();
  // Stops asking for work and kills running server tasks without a result
  // (the expired-task sweep re-queues them, as for a stopped worker).
  // Idempotent.
  void Stop();

  // A commit may have made a server task claimable: wake a waiting request.
  // Cheap and non-blocking (the writer's after-commit hook calls it).
  void WakeForWork();

  worker::AgentStats stats() const;
  // The agent's settings (folders, MaxTaskCount), for logs and tests.
  const worker::WorkerSettings& settings() const;

 private:
  class LocalMasterClient;
  struct Shared;

  std::shared_ptr<Shared> shared_;
  std::unique_ptr<worker::ResourceProbe> probe_;
  std::unique_ptr<worker::Agent> agent_;
  bool started_ = false;
};

}  // namespace scaleout::core::master

#endif  // SCALEOUT_CORE_MASTER_SERVER_TASK_HOST_H_
