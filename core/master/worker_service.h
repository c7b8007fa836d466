// WorkerService: the master's side of the worker protocol.
//
// Every worker call becomes one operation on the group-commit CatalogWriter,
// and its answer is sent only after that operation's transaction committed,
// so a worker never acts on something the catalog could still lose. No call
// holds a thread while it waits: a request for work that finds nothing to
// claim is parked as a Waiter and re-tried the moment a committed batch may
// have made work claimable (start_execution, a retry, a freed slot, an
// enabled worker...), or answered empty at its deadline (long-poll).
//
// Identity: the transport has authenticated the peer; every call's agent_id
// must be the worker that peer's certificate is trusted as (RegisterWorker
// checks the same for the first call).
//
// Thread-safety: Handle() is called on transport I/O threads, OnCommit() on
// the writer thread, the deadline thread runs inside; all shared state is
// under mutex_. Start()/Stop() from one controlling thread.
#ifndef SCALEOUT_CORE_MASTER_WORKER_SERVICE_H_
#define SCALEOUT_CORE_MASTER_WORKER_SERVICE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/catalog/catalog_writer.h"
#include "core/catalog/sensitive_values.h"
#include "core/common/clock.h"
#include "core/master/trust_store.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/storage.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::core::master {

struct WorkerServiceOptions {
  // Opens the sensitive values of the tasks claimed (borrowed; nullptr: a
  // task with one cannot be claimed).
  const catalog::CatalogKey* catalog_key = nullptr;
  std::int64_t lease_interval_ms = 60'000;
  std::int64_t task_heartbeat_interval_ms = 10'000;
  std::int64_t agent_heartbeat_interval_ms = 60'000;
  std::int64_t max_long_poll_ms = 30'000;
  // Parked long-polls look for work at least this often even when this
  // master committed nothing (another master may share the catalog).
  std::int64_t fallback_poll_ms = 1'000;
  // Executor plugin for a package, chosen by the package name's extension
  // (".noop" → "noop"); packages matching none use default_executor.
  std::string default_executor = "process";
  std::map<std::string, std::string> executor_by_extension = {{".noop", "noop"}};
  // Called on the writer thread after a commit that may have made work
  // claimable, once the parked long-polls were handed to the writer (the
  // master's own task host waits on it). Must not block.
  std::function<void()> on_work_may_be_available;
};

class WorkerService {
 public:
  // All references must outlive the service.
  WorkerService(catalog::CatalogWriter& writer, const sdk::Dialect& dialect, Clock& clock,
                const TrustStore& trust, sdk::Logger& logger, WorkerServiceOptions options);
  ~WorkerService();
  WorkerService(const WorkerService&) = delete;
  WorkerService& operator=(const WorkerService&) = delete;

  void Start();
  // Answers every parked long-poll with an empty list and stops the deadline
  // thread. Idempotent.
  void Stop();

  // Handles `request` when its target is a worker route and returns true
  // (taking `responder`); returns false for any other target.
  bool Handle(const sdk::Request& request, std::unique_ptr<sdk::Responder>& responder);

  // Call from an op running on the writer thread (or any thread before it is
  // committed) when the op may make a task claimable. OnCommit() then wakes
  // the parked long-polls.
  void NoteWorkMayBeAvailable() { work_may_be_available_.store(true, std::memory_order_relaxed); }

  // The CatalogWriter's after_commit hook.
  void OnCommit();
  // The CatalogWriter's before_commit hook: when an op of the batch may
  // have made work claimable, the parked long-polls' claims run in the
  // batch's own transaction (their answers go out after its commit).
  void ClaimInBatch(std::vector<catalog::CatalogWriter::Request*>& more);

  // Number of parked long-polls (for metrics and tests).
  std::size_t parked() const;

  // The executor plugin for a package (by the name's extension).
  std::string ExecutorFor(const std::string& package_name) const;

 private:
  struct Waiter;

  void HandleRegister(const sdk::Request& request, std::unique_ptr<sdk::Responder> responder);
  void HandleAgentHeartbeat(const sdk::Request& request, std::unique_ptr<sdk::Responder> responder);
  void HandleRequestTasks(const sdk::Request& request, std::unique_ptr<sdk::Responder> responder);
  void HandleTaskHeartbeat(const sdk::Request& request, std::unique_ptr<sdk::Responder> responder);
  void HandleReportEvents(const sdk::Request& request, std::unique_ptr<sdk::Responder> responder);
  void HandleReportResults(const sdk::Request& request, std::unique_ptr<sdk::Responder> responder);
  void HandleGetProject(const sdk::Request& request, std::unique_ptr<sdk::Responder> responder);

  // OK when `agent_id` is the worker the peer's credential is trusted as.
  sdk::Status CheckAgent(const sdk::Request& request, const std::string& agent_id) const;

  // The reply to a request for work that got no task: the acks of its results.
  static sdk::Response NoTaskReply(const Waiter& waiter);
  void SubmitClaim(const std::shared_ptr<Waiter>& waiter);
  // The claim SubmitClaim() queues, for the writer to run (it owns itself).
  catalog::CatalogWriter::Request* NewClaim(const std::shared_ptr<Waiter>& waiter);
  void ParkOrRetry(const std::shared_ptr<Waiter>& waiter, std::uint64_t generation_seen);
  void AnswerWaiter(Waiter& waiter, sdk::Response response);
  void DeadlineLoop();

  catalog::CatalogWriter& writer_;
  const sdk::Dialect& dialect_;
  Clock& clock_;
  const TrustStore& trust_;
  sdk::Logger& logger_;
  const WorkerServiceOptions options_;

  std::atomic<bool> work_may_be_available_{false};

  mutable std::mutex mutex_;
  std::uint64_t generation_ = 0;  // bumped by OnCommit when work may be available
  std::vector<std::shared_ptr<Waiter>> waiters_;
  // Steady ms at which the deadline thread wakes up next (it sleeps at most
  // fallback_poll_ms); a parked waiter due earlier must wake it.
  std::int64_t deadline_thread_wakes_at_ = 0;
  bool stopping_ = false;
  std::atomic<bool> wake_deadline_thread_{false};
  std::thread deadline_thread_;
};

}  // namespace scaleout::core::master

#endif  // SCALEOUT_CORE_MASTER_WORKER_SERVICE_H_
