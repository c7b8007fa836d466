// Scheduler operations: what the master does to the catalog for workers.
//
// Each is an in-transaction function of a Txn (transaction.h): the caller
// (RunInTransaction, or the group-commit CatalogWriter) owns BEGIN/COMMIT,
// every refusal happens before the first write, and hot statements are
// prepared with PrepareCached. They do not take a Caller: the master calls
// them on behalf of a worker the transport has already authenticated (by its
// certificate thumbprint, see RegisterWorker), passing that worker's id.
//
// Fencing: every claim bumps the execution's lease epoch (it only grows) and
// stamps it on the task; renewals and results must carry it, and a stale one
// is refused with kAborted and changes nothing.
//
// Thread-safety: as the Txn's connection.
#ifndef SCALEOUT_CORE_CATALOG_SCHEDULER_H_
#define SCALEOUT_CORE_CATALOG_SCHEDULER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog/transaction.h"
#include "core/catalog/types.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::catalog {

// ---- workers ---------------------------------------------------------------------------

struct WorkerRegistration {
  std::string cert_sha256;                     // from the authenticated TLS/CURVE peer
  std::optional<std::string> worker_agent_id;  // the worker's configured AgentId, if any
  std::string machine_name;
  std::string user_account;
  std::int64_t max_task_count = 10;  // MaxTaskCount
};

struct WorkerResources {
  double cpu_percent = 0;
  double free_memory_mb = 0;
  std::int64_t running_tasks = 0;
};

// A worker whose certificate is trusted (in worker_agents) reports itself.
// Marks it online (LastOnlineTime = now) and stores machine name, account and
// capacity; it stays disabled until an admin enables it. Errors:
// kUnauthenticated (thumbprint not trusted), kFailedPrecondition (the worker's
// AgentId differs from the one the certificate is trusted as).
sdk::Result<WorkerAgent> RegisterWorker(Txn& txn, const WorkerRegistration& registration);

// The agent heartbeat: LastOnlineTime = now, online, resources. kNotFound for an unknown id.
sdk::Status WorkerHeartbeat(Txn& txn, std::string_view worker_agent_id,
                            const WorkerResources& resources);

// Marks offline every online worker whose LastOnlineTime is older than
// now - timeout_ms. Returns how many.
sdk::Result<std::int64_t> MarkWorkersOffline(Txn& txn, std::int64_t timeout_ms);

// ---- tasks -----------------------------------------------------------------------------

// Everything a worker needs to run one claimed attempt.
struct ClaimedTask {
  std::string task_id;
  std::int64_t execution_id = 0;
  std::int64_t attempt = 0;
  std::int64_t lease_epoch = 0;
  std::int64_t lease_expires_at = 0;
  std::int64_t project_id = 0;
  std::int64_t project_lsn = 0;
  std::string folder_name;
  std::string project_name;
  std::string package_name;
  std::string package_sha256;  // fetch the content with ReadPackageContent
  bool use32bitruntime = false;
  std::vector<ParameterValue> parameters;  // sensitive values included (the worker needs them)
};

// Claims up to `max_count` pending tasks for `worker_agent_id`, oldest first.
// Eligible only when IS_SCALEOUT_ENABLED, the worker is enabled and online,
// the execution allows it (useanyworker or allow-list) and the worker runs
// fewer than its MaxTaskCount. Each claim: task and execution running (2),
// a new lease epoch, lease_expires_at = now + lease_ms, execution
// worker_agent_id, start_time (first claim) and executed_count + 1.
// Returns an empty list when nothing is eligible (not an error).
// Errors: kNotFound (unknown worker), kInvalidArgument (counts out of range).
sdk::Result<std::vector<ClaimedTask>> ClaimTasks(Txn& txn, std::string_view worker_agent_id,
                                                 std::int64_t max_count, std::int64_t lease_ms);

// Claims server-mode (runinscaleout = 0) tasks for the master's own task host,
// which acts as worker kMasterTaskHostId (no enablement or scale-out checks).
sdk::Result<std::vector<ClaimedTask>> ClaimServerTasks(Txn& txn, std::int64_t max_count,
                                                       std::int64_t lease_ms);

// True when ClaimTasks for this worker would return at least one task now;
// cheap (reads only), to wake a waiting long-poll.
sdk::Result<bool> HasClaimableTask(Txn& txn, std::string_view worker_agent_id);

// The content of a package version (for a worker that does not have its hash cached).
sdk::Result<sdk::Bytes> ReadPackageContent(Txn& txn, std::int64_t project_lsn,
                                           std::string_view package_name);

struct LeaseRef {
  std::string task_id;
  std::int64_t lease_epoch = 0;
};

struct LeaseRenewal {
  std::string task_id;
  sdk::Status status;  // OK renewed; kAborted stale epoch / not this worker's; kNotFound
  std::int64_t lease_expires_at = 0;  // when renewed
  bool stop_requested = false;        // stop_operation was called: stop the package
};

// The task heartbeat: renews each lease that is current (same worker, same
// epoch, task running). Per-task refusals are reported in the list and change
// nothing for that task. Errors for the whole call: kInvalidArgument.
sdk::Result<std::vector<LeaseRenewal>> RenewLeases(Txn& txn, std::string_view worker_agent_id,
                                                   const std::vector<LeaseRef>& leases,
                                                   std::int64_t lease_ms);

enum class TaskResult : int { kSucceeded, kFailed, kCanceled };

struct CompletionOutcome {
  ExecutionStatus task_status = ExecutionStatus::kSucceeded;
  ExecutionStatus execution_status = ExecutionStatus::kSucceeded;
  std::optional<std::string> retry_task_id;  // set when a new attempt was queued
  bool already_recorded = false;  // the same result was recorded before (a resend); nothing changed
};

// Records the result of an attempt exactly once. Stale epoch or another
// worker's task: kAborted, nothing changes. kSucceeded -> succeeded (7).
// kFailed -> a new pending attempt while executed_count <= retry_count, else
// failed (4). kCanceled -> canceled (3) when a stop was requested; otherwise
// the attempt ended unexpectedly (6) and is retried like a lost lease.
// A stop request turns any non-success into canceled (no retry after a stop).
sdk::Result<CompletionOutcome> CompleteTask(Txn& txn, std::string_view worker_agent_id,
                                            std::string_view task_id, std::int64_t lease_epoch,
                                            TaskResult result, std::int64_t exit_code,
                                            std::string_view message);

struct ExpireSummary {
  std::int64_t expired = 0;  // attempts ended unexpectedly (6)
  std::int64_t retried = 0;  // of those, re-queued as a new attempt
  std::int64_t ended = 0;    // executions ended unexpectedly (6) or canceled (stopping)
};

// The expired-task sweep: every running attempt whose lease_expires_at < now
// ends unexpectedly (6); its execution is re-queued while executed_count <=
// retry_count, else ends unexpectedly (6) (canceled when stopping). At most
// `max_count` tasks per call, oldest expiry first.
sdk::Result<ExpireSummary> ExpireLeases(Txn& txn, std::int64_t max_count = 1000);

// ---- logs and housekeeping ------------------------------------------------------------------

// Inserts a batch of event messages; a message whose event_message_guid is
// already stored is skipped, so a resent batch is not duplicated. Returns how
// many were inserted. Errors (nothing inserted): kInvalidArgument (bad GUID,
// sizes, a GUID twice in the batch), kNotFound (unknown operation).
sdk::Result<std::int64_t> InsertEvents(Txn& txn, const std::vector<EventMessage>& batch);

// Deletes the attempts (tasks) of finished executions that ended before
// `older_than` (CleanupCompletedJobsIntervalInMs). Returns rows deleted.
sdk::Result<std::int64_t> CleanupCompletedJobs(Txn& txn, std::int64_t older_than);

struct MasterInfo {
  std::string machine_name;
  std::string machine_ip;
  std::int64_t service_port = 8391;
  std::string ssl_cert_thumbprint;
  std::string master_address;  // written only when MASTER_ADDRESS is not set yet; "" keeps it
};

// The master heartbeat: LAST_ONLINE_TIME = now (ISO-8601 UTC) plus the other
// master_properties rows (MACHINE_NAME, MACHINE_IP, MASTER_SERVICE_PORT,
// SSLCERT_THUMBPRINT, MASTER_ADDRESS if unset).
sdk::Status WriteMasterHeartbeat(Txn& txn, const MasterInfo& info);

}  // namespace scaleout::core::catalog

#endif  // SCALEOUT_CORE_CATALOG_SCHEDULER_H_
