// ManagementService: the management API of the master.
//
//   transport I/O thread ──► route (/api/v1/..., /v1/manage)
//       authenticate (token / certificate / anonymous), find the operation,
//       check its roles, parse the arguments, CatalogWriter::Submit(call)
//                                                  [no blocking, no database]
//   ──► writer thread: the operation runs in the next group commit, with
//       every other call queued meanwhile (one fsync for all of them)
//   ──► after commit, the writer thread only queues the call for the pool;
//       a pool thread logs it, encodes the answer and sends it (reloading
//       the trust list or the principals first when the operation changed
//       them), so the writer is free for the next batch at once.
//
// No thread waits for a commit, so hundreds of concurrent calls share one
// transaction (see bench/management). A ScheduleRunner thread fires due
// schedules.
//
// Lifetime: construct before Master::Start() (it adds the routes), call
// Start() after it, Stop() (or destroy) before Master::Stop(). The master
// must outlive the service. Thread-safety: Start/Stop from the controlling
// thread; the routes run on transport threads.
#ifndef SCALEOUT_CORE_MANAGEMENT_SERVICE_H_
#define SCALEOUT_CORE_MANAGEMENT_SERVICE_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/catalog/transaction.h"
#include "core/management/auth.h"
#include "core/management/execution_counts.h"
#include "core/management/operations.h"
#include "core/management/read_pool.h"
#include "core/management/schedule_runner.h"
#include "core/master/master.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::core::management {

inline constexpr std::string_view kJsonApiPrefix = "/api/v1/";
inline constexpr std::string_view kManageRoute = "/v1/manage";

struct ManagementOptions {
  // Pool for the work that follows every commit: answering the call, and
  // reloading the trust list or the principals (which blocks on the catalog)
  // when it changed them. Operations themselves never wait.
  std::size_t threads = 2;
  // Threads (each with a read connection of its own) for the operations
  // that only read (read_pool.h): they never wait for, nor hold up, the
  // catalog writer. 0: reads go through the writer like writes.
  std::size_t read_threads = 2;
  bool run_schedules = true;
  std::string first_admin_name = "admin";
  // Receives the one-time notice with the first admin's token (the master
  // prints it on stdout, never in the log). Empty: the notice is dropped.
  std::function<void(const std::string& text)> notice;
};

// The first admin: when the catalog has no principal, creates `name` with
// ssis_admin and a fresh token, and returns the token (shown once; only its
// digest is stored). Returns nullopt when principals exist already.
sdk::Result<std::optional<std::string>> EnsureFirstAdmin(catalog::Txn& txn, std::string_view name);

// How to use a token: the environment variables and a first command.
std::string FirstAdminNotice(std::string_view name, std::string_view token,
                             std::string_view master_url, std::string_view master_thumbprint);

class ManagementService {
 public:
  ManagementService(master::Master& master, sdk::Logger& logger, ManagementOptions options = {});
  ~ManagementService();
  ManagementService(const ManagementService&) = delete;
  ManagementService& operator=(const ManagementService&) = delete;

  // REQUIRES: master.Start() returned OK. Loads the principals, creates the
  // first admin on a fresh catalog, starts the pool and the schedule runner.
  sdk::Status Start();
  void Stop();  // idempotent

  // Re-reads the principals (after a change made elsewhere). Blocks.
  sdk::Status ReloadPrincipals();

 private:
  using Reply = std::function<void(const sdk::Status&, const nlohmann::json&)>;

  void OnJsonRequest(const sdk::Request& request, std::unique_ptr<sdk::Responder> responder);
  void OnManageRequest(const sdk::Request& request, std::unique_ptr<sdk::Responder> responder);
  // GET /metrics: the `metrics` operation as a Prometheus page (metrics.h).
  void OnMetricsRequest(const sdk::Request& request, std::unique_ptr<sdk::Responder> responder);
  struct PendingCall;

  // Authenticates and checks the role on the calling (I/O) thread, then
  // submits the operation to the catalog writer; `reply` is called once,
  // after the commit (writer or pool thread) or at once when refused.
  void Dispatch(const sdk::Request& request, const Operation& operation, nlohmann::json args,
                Reply reply);
  void SubmitOperation(const Operation& operation, catalog::Caller caller, nlohmann::json args,
                       Reply reply);
  // A read: on the read pool; REQUIRES: counted in in_flight_.
  void SubmitRead(const std::shared_ptr<PendingCall>& call);
  // Runs inside the call's transaction: on the writer thread, or for a read on a read thread.
  sdk::Status RunOperation(PendingCall& call, sdk::Connection& connection);
  // The acknowledgement (writer thread): hands the call to the pool.
  void FinishOperation(const std::shared_ptr<PendingCall>& call, const sdk::Status& status);
  // After the commit (a pool thread, or the writer thread while stopping,
  // then without the reloads): logs, reloads when `may_reload`, replies.
  void CompleteCall(PendingCall& call, const sdk::Status& status, bool may_reload);
  void ReplyAndRelease(PendingCall& call, const sdk::Status& status, const nlohmann::json& result);
  bool Post(std::function<void()> job);
  void PoolLoop();

  master::Master& master_;
  sdk::Logger& logger_;
  ManagementOptions options_;
  PrincipalDirectory principals_;
  ExecutionCounts execution_counts_;     // `status` and `metrics`, off the writer
  std::unique_ptr<ReadPool> read_pool_;  // set by Start() when read_threads > 0
  std::unique_ptr<ScheduleRunner> schedules_;

  const std::function<void()> note_work_;  // wakes parked worker long-polls

  // Two locks so the writer queueing answers and the I/O threads admitting
  // calls do not contend.
  std::mutex mutex_;
  bool accepting_ = false;     // guarded by mutex_: new API calls admitted
  std::size_t in_flight_ = 0;  // guarded by mutex_: submitted, not yet answered
  std::mutex pool_mutex_;
  std::condition_variable cv_;              // guarded by pool_mutex_
  std::deque<std::function<void()>> jobs_;  // guarded by pool_mutex_
  bool pool_open_ = false;                  // guarded by pool_mutex_: the pool takes jobs
  std::condition_variable drained_;         // in_flight_ reached 0
  std::vector<std::thread> pool_;
};

}  // namespace scaleout::core::management

#endif  // SCALEOUT_CORE_MANAGEMENT_SERVICE_H_
