#include "core/catalog/scheduler.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "core/catalog/limits.h"
#include "core/catalog/rows.h"
#include "core/catalog/sensitive_values.h"
#include "core/catalog/sql.h"
#include "core/catalog/state_machine.h"
#include "core/common/clock.h"
#include "core/common/ids.h"
#include "core/common/peer_id.h"

namespace scaleout::core::catalog {

using internal::Cached;
using internal::CheckText;
using internal::Execute;
using internal::ExecutionLabel;
using internal::ObjectTypeName;
using internal::Query;
using internal::Quoted;
using sdk::Result;
using sdk::Status;

namespace {

std::string TaskLabel(std::string_view task_id) { return "task " + std::string(task_id); }

Status CheckRange(std::string_view field, std::int64_t value, std::int64_t lo, std::int64_t hi) {
  if (value >= lo && value <= hi) return Status::Ok();
  return Status::InvalidArgument(std::string(field) + " must be from " + std::to_string(lo) +
                                 " to " + std::to_string(hi) + ", got " + std::to_string(value));
}

Result<WorkerAgent> RequireWorker(sdk::Connection& c, std::string_view worker_agent_id,
                                  std::string* id_out) {
  SCALEOUT_ASSIGN_OR_RETURN(*id_out, internal::ParseGuid("worker id", worker_agent_id));
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<WorkerAgent> worker, internal::LoadWorker(c, *id_out));
  if (!worker) {
    return Status::NotFound("worker agent " + *id_out +
                            " is not in the catalog; it was removed or never added");
  }
  return *worker;
}

// How many tasks the worker may claim now (0 when it may not claim at all:
// scale out is off, or the worker is disabled or offline), read in one
// statement with the scale-out switch and the worker's running tasks
// (`worker_task_counts`, see CountClaimed).
// Errors: kInvalidArgument (not a GUID), kNotFound (no such worker).
Result<std::int64_t> FreeSlots(sdk::Connection& c, std::string_view worker_agent_id,
                               std::string* id_out) {
  SCALEOUT_ASSIGN_OR_RETURN(*id_out, internal::ParseGuid("worker id", worker_agent_id));
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(c,
                      "SELECT w.is_enabled, w.is_online, w.max_task_count, (SELECT property_value "
                      "FROM catalog_properties WHERE property_name = 'IS_SCALEOUT_ENABLED'), "
                      "(SELECT n.claimed_task_count FROM worker_task_counts n WHERE "
                      "n.worker_agent_id = w.worker_agent_id) FROM worker_agents w WHERE "
                      "w.worker_agent_id = ?"));
  q.Text(*id_out);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) {
    return Status::NotFound("worker agent " + *id_out +
                            " is not in the catalog; it was removed or never added");
  }
  const bool scaleout = internal::ScaleoutEnabledValue(q.OptT(3));
  if (!scaleout || q.I(0) == 0 || q.I(1) == 0) return std::int64_t{0};
  return std::max<std::int64_t>(0, q.I(2) - q.OptI(4).value_or(0));
}

// A claimable task as the claim reads it: the task, its execution and the
// package's hash, in one row. Only what a claim reads is filled in (see
// CandidateColumns); the other fields of `task` and `execution` keep their
// defaults.
struct Candidate {
  Task task;
  Execution execution;
  std::string package_sha256;
};

// The columns of a Candidate row, in the order ReadCandidate reads them: the
// claim's own fields only, not whole rows (each column read costs a copy).
const std::string& CandidateColumns() {
  static const std::string kColumns =
      "t.task_id, t.execution_id, t.attempt, t.status, e.execution_id, e.status, e.lease_epoch, "
      "e.project_id, e.project_lsn, e.folder_name, e.project_name, e.package_name, "
      "e.use32bitruntime, k.content_sha256";
  return kColumns;
}
constexpr int kCandidateExecutionFirst = 4;  // e.execution_id: NULL when the execution is gone

Candidate ReadCandidate(const Query& q) {
  Candidate c;
  c.task.task_id = q.T(0);
  c.task.execution_id = q.I(1);
  c.task.attempt = q.I(2);
  c.task.status = StatusFromCode(q.I(3)).value_or(ExecutionStatus::kPending);
  Execution& e = c.execution;
  e.execution_id = q.I(kCandidateExecutionFirst);
  e.status = StatusFromCode(q.I(5)).value_or(ExecutionStatus::kCreated);
  e.lease_epoch = q.I(6);
  e.project_id = q.I(7);
  e.project_lsn = q.I(8);
  e.folder_name = q.T(9);
  e.project_name = q.T(10);
  e.package_name = q.T(11);
  e.use32bitruntime = q.I(12) != 0;
  c.package_sha256 = q.OptT(13).value_or(std::string());
  return c;
}

// `rows` false: the task ids only (enough to know whether one is eligible).
std::string EligibleSql(bool skip_locked, bool server_only, bool rows) {
  std::string sql = "SELECT " + (rows ? CandidateColumns() : std::string("t.task_id")) +
                    " FROM tasks t JOIN executions e ON e.execution_id = t.execution_id ";
  if (rows) {
    sql +=
        "LEFT JOIN packages k ON k.project_version_lsn = e.project_lsn AND k.name = "
        "e.package_name ";
  }
  sql += "WHERE t.status = 5 AND e.status = 5 AND t.server_only = ";
  if (server_only) {
    sql += "1";
  } else {
    sql +=
        "0 AND (e.useanyworker = 1 OR EXISTS (SELECT 1 FROM execution_workers w WHERE "
        "w.execution_id = t.execution_id AND w.worker_agent_id = ?))";
  }
  sql += " ORDER BY t.created_time, t.task_id LIMIT ?";
  if (skip_locked) sql += " FOR UPDATE OF t SKIP LOCKED";
  return sql;
}

// EligibleSql depends only on these flags: built once each, not per claim.
const std::string& EligibleSqlFor(bool skip_locked, bool server_only, bool rows) {
  static const std::string kSql[2][2][2] = {
      {{EligibleSql(false, false, false), EligibleSql(false, false, true)},
       {EligibleSql(false, true, false), EligibleSql(false, true, true)}},
      {{EligibleSql(true, false, false), EligibleSql(true, false, true)},
       {EligibleSql(true, true, false), EligibleSql(true, true, true)}}};
  return kSql[skip_locked ? 1 : 0][server_only ? 1 : 0][rows ? 1 : 0];
}

Result<std::vector<Candidate>> FindEligible(Txn& txn, std::string_view worker_id, bool server_only,
                                            std::int64_t limit) {
  const std::string& sql = EligibleSqlFor(txn.dialect.supports_skip_locked, server_only, true);
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(txn.connection, sql));
  if (!server_only) q.Text(worker_id);
  q.Int(limit);
  std::vector<Candidate> found;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    found.push_back(ReadCandidate(q));
  }
  return found;
}

// A candidate read again (after this claim changed its execution).
// nullopt when the task is gone; kNotFound when its execution is.
Result<std::optional<Candidate>> ReloadCandidate(sdk::Connection& c, std::string_view task_id) {
  static const std::string sql = "SELECT " + CandidateColumns() +
                                 " FROM tasks t LEFT JOIN executions e ON e.execution_id = "
                                 "t.execution_id LEFT JOIN packages k ON k.project_version_lsn = "
                                 "e.project_lsn AND k.name = e.package_name WHERE t.task_id = ?";
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c, sql));
  q.Text(task_id);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) return std::optional<Candidate>();
  if (q.IsNull(kCandidateExecutionFirst)) return internal::ExecutionNotFound(q.I(1));
  return std::optional<Candidate>(ReadCandidate(q));
}

// Moves `worker_id`'s count of running tasks by `delta` (a claim: +n; the end
// of an attempt: -1), in the caller's transaction. The count has a narrow
// table of its own because an UPDATE rewrites the whole row: in the wide
// worker_agents row it cost twice as much. The master's own task host has no
// worker row, so nothing is counted for it.
Status CountClaimed(sdk::Connection& c, std::string_view worker_id, std::int64_t delta) {
  if (delta == 0 || worker_id == kMasterTaskHostId) return Status::Ok();
  return Execute(c,
                 "UPDATE worker_task_counts SET claimed_task_count = claimed_task_count + ? "
                 "WHERE worker_agent_id = ?",
                 [&](Query& q) { q.Int(delta).Text(worker_id); })
      .status();
}

Result<std::optional<std::string>> ApplyEnd(Txn& txn, const Task& task, const Execution& e,
                                            ExecutionStatus task_to, ExecutionStatus execution_to,
                                            bool retry, std::optional<std::int64_t> exit_code,
                                            std::string_view message, bool* changed);

// Opens the sensitive values among `parameters` in place. kDataLoss names
// the first that does not open.
Status OpenSensitiveParameters(const Txn& txn, std::vector<ParameterValue>& parameters) {
  for (ParameterValue& p : parameters) {
    if (!p.sensitive || !p.value) continue;
    Result<std::string> opened = internal::OpenSensitive(txn, *p.value);
    if (!opened.ok()) {
      return opened.status().WithContext(std::string(ObjectTypeName(p.object_type)) +
                                         " parameter " + Quoted(p.parameter_name));
    }
    p.value = std::move(opened).value();
  }
  return Status::Ok();
}

// The attempt `claimed` (just claimed, epoch `epoch`) ends failed at once
// without reaching a worker, with no retry (it would fail alike).
Status FailClaimedAttempt(Txn& txn, const Task& claimed, const Execution& e, std::int64_t epoch,
                          const Status& why) {
  Task running = claimed;
  running.status = ExecutionStatus::kRunning;
  running.lease_epoch = epoch;
  running.worker_agent_id.reset();  // counted for no worker: the claim was not counted either
  SCALEOUT_ASSIGN_OR_RETURN(ExecutionStatus task_to,
                            Transition(Entity::kTask, Event::kFail, ExecutionStatus::kRunning,
                                       TaskLabel(claimed.task_id)));
  SCALEOUT_ASSIGN_OR_RETURN(ExecutionStatus execution_to,
                            Transition(Entity::kExecution, Event::kFail, ExecutionStatus::kRunning,
                                       ExecutionLabel(e.execution_id)));
  bool changed = false;
  return ApplyEnd(txn, running, e, task_to, execution_to, false, std::nullopt,
                  "the package was not started: " + why.message(), &changed)
      .status();
}

// Claims one candidate for `worker_id`; nullopt when it is no longer
// claimable, or when its attempt failed at once because a sensitive value
// of it does not open (damaged, or sealed with another key): that fails
// the execution, not every claim and result of the batch.
Result<std::optional<ClaimedTask>> ClaimOne(Txn& txn, std::string_view worker_id,
                                            Candidate& candidate, std::int64_t lease_ms) {
  sdk::Connection& c = txn.connection;
  const Task& task = candidate.task;
  const Execution& e = candidate.execution;
  Result<ExecutionStatus> task_to =
      Transition(Entity::kTask, Event::kClaim, task.status, TaskLabel(task.task_id));
  Result<ExecutionStatus> exec_to =
      Transition(Entity::kExecution, Event::kClaim, e.status, ExecutionLabel(e.execution_id));
  if (!task_to.ok() || !exec_to.ok()) return std::optional<ClaimedTask>();
  // Read (and sensitive values opened) before this claim writes. Without
  // the key at all nothing can be claimed: refused with nothing written.
  SCALEOUT_ASSIGN_OR_RETURN(std::vector<ParameterValue> parameters,
                            internal::LoadParameterValues(c, e.execution_id));
  const Status opened = OpenSensitiveParameters(txn, parameters);
  if (!opened.ok() && opened.code() != sdk::StatusCode::kDataLoss) return opened;

  const std::int64_t epoch = e.lease_epoch + 1;
  const std::int64_t expires = txn.now + lease_ms;
  SCALEOUT_ASSIGN_OR_RETURN(
      std::int64_t claimed,
      Execute(c,
              "UPDATE tasks SET status = ?, worker_agent_id = ?, lease_epoch = ?, "
              "lease_expires_at = ?, last_heartbeat = ?, start_time = ? WHERE task_id = ? AND "
              "status = 5",
              [&](Query& q) {
                q.Int(static_cast<int>(*task_to))
                    .Text(worker_id)
                    .Int(epoch)
                    .Int(expires)
                    .Int(txn.now)
                    .Int(txn.now)
                    .Text(task.task_id);
              }));
  if (claimed != 1) return std::optional<ClaimedTask>();  // taken meanwhile: nothing written
  // The lease and the status move in one UPDATE of the execution (what
  // WriteExecutionStatus would write to it).
  SCALEOUT_RETURN_IF_ERROR(Execute(c,
                                   "UPDATE executions SET lease_epoch = ?, worker_agent_id = ?, "
                                   "executed_count = executed_count + 1, start_time = "
                                   "COALESCE(start_time, ?), status = ?, end_time = "
                                   "COALESCE(?, end_time) WHERE execution_id = ?",
                                   [&](Query& q) {
                                     q.Int(epoch)
                                         .Text(worker_id)
                                         .Int(txn.now)
                                         .Int(static_cast<int>(*exec_to))
                                         .OptInt(internal::EndTimeFor(*exec_to, txn.now))
                                         .Int(e.execution_id);
                                   })
                               .status());
  if (!opened.ok()) {
    SCALEOUT_RETURN_IF_ERROR(FailClaimedAttempt(txn, task, e, epoch, opened));
    return std::optional<ClaimedTask>();
  }

  ClaimedTask out;
  out.task_id = std::move(candidate.task.task_id);
  out.execution_id = e.execution_id;
  out.attempt = task.attempt;
  out.lease_epoch = epoch;
  out.lease_expires_at = expires;
  out.project_id = e.project_id;
  out.project_lsn = e.project_lsn;
  out.folder_name = std::move(candidate.execution.folder_name);
  out.project_name = std::move(candidate.execution.project_name);
  out.package_name = std::move(candidate.execution.package_name);
  out.use32bitruntime = e.use32bitruntime;
  out.package_sha256 = std::move(candidate.package_sha256);
  out.parameters = std::move(parameters);
  return std::optional<ClaimedTask>(std::move(out));
}

// Claims the candidates in order. A candidate whose execution an earlier one
// of this call already claimed is read again first, so it is judged on the
// execution as it is now (its claim then finds it running and skips it).
Result<std::vector<ClaimedTask>> ClaimList(Txn& txn, std::string_view worker_id,
                                           std::vector<Candidate> candidates,
                                           std::int64_t lease_ms) {
  std::vector<ClaimedTask> claimed;
  std::set<std::int64_t> touched;
  for (Candidate& candidate : candidates) {
    if (touched.count(candidate.execution.execution_id) != 0) {
      SCALEOUT_ASSIGN_OR_RETURN(std::optional<Candidate> fresh,
                                ReloadCandidate(txn.connection, candidate.task.task_id));
      if (!fresh) continue;
      candidate = std::move(*fresh);
    }
    const std::int64_t execution_id = candidate.execution.execution_id;
    SCALEOUT_ASSIGN_OR_RETURN(std::optional<ClaimedTask> one,
                              ClaimOne(txn, worker_id, candidate, lease_ms));
    if (!one) continue;
    touched.insert(execution_id);
    claimed.push_back(std::move(*one));
  }
  SCALEOUT_RETURN_IF_ERROR(
      CountClaimed(txn.connection, worker_id, static_cast<std::int64_t>(claimed.size())));
  return claimed;
}

Status CheckClaimArgs(std::int64_t max_count, std::int64_t lease_ms) {
  SCALEOUT_RETURN_IF_ERROR(CheckRange("max_count", max_count, 1, kMaxClaimCount));
  return CheckRange("lease_ms", lease_ms, 1, kMaxLeaseMillis);
}

// What to do with an execution whose attempt did not succeed.
struct Plan {
  ExecutionStatus task_to;
  ExecutionStatus execution_to;
  bool retry = false;
};

// `attempt_event` is kFail or kEndUnexpectedly (what happened to the attempt).
// Validates every transition before anything is written.
Result<Plan> PlanUnsuccessful(const Task& task, const Execution& e, Event attempt_event,
                              bool task_canceled) {
  Plan plan{};
  SCALEOUT_ASSIGN_OR_RETURN(
      plan.task_to, Transition(Entity::kTask, task_canceled ? Event::kCancel : attempt_event,
                               task.status, TaskLabel(task.task_id)));
  const std::string label = ExecutionLabel(e.execution_id);
  if (e.stop_requested) {
    // No new attempt after a stop request.
    SCALEOUT_ASSIGN_OR_RETURN(plan.execution_to,
                              Transition(Entity::kExecution, Event::kCancel, e.status, label));
  } else if (e.executed_count <= e.retry_count) {
    plan.retry = true;
    SCALEOUT_ASSIGN_OR_RETURN(plan.execution_to,
                              Transition(Entity::kExecution, Event::kRetry, e.status, label));
  } else {
    SCALEOUT_ASSIGN_OR_RETURN(plan.execution_to,
                              Transition(Entity::kExecution, attempt_event, e.status, label));
  }
  return plan;
}

// Applies an attempt's end and its execution's move; returns the new task id on retry.
Result<std::optional<std::string>> ApplyEnd(Txn& txn, const Task& task, const Execution& e,
                                            ExecutionStatus task_to, ExecutionStatus execution_to,
                                            bool retry, std::optional<std::int64_t> exit_code,
                                            std::string_view message, bool* changed) {
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(
      std::int64_t updated,
      Execute(c,
              "UPDATE tasks SET status = ?, end_time = ?, exit_code = ?, result_message = ? "
              "WHERE task_id = ? AND lease_epoch = ? AND status = 2",
              [&](Query& q) {
                q.Int(static_cast<int>(task_to))
                    .Int(txn.now)
                    .OptInt(exit_code)
                    .Text(message)
                    .Text(task.task_id)
                    .Int(task.lease_epoch);
              }));
  *changed = updated == 1;
  if (!*changed) return std::optional<std::string>();
  if (task.worker_agent_id) {
    SCALEOUT_RETURN_IF_ERROR(CountClaimed(c, *task.worker_agent_id, -1));
  }
  SCALEOUT_RETURN_IF_ERROR(
      internal::WriteExecutionStatus(c, e.execution_id, execution_to, txn.now));
  if (!retry) return std::optional<std::string>();
  SCALEOUT_ASSIGN_OR_RETURN(std::string id, internal::QueueTask(c, e.execution_id, task.attempt + 1,
                                                                task.server_only, txn.now));
  return std::optional<std::string>(std::move(id));
}

Status StaleLease(const Task& task, std::string_view worker_id, std::int64_t epoch) {
  return Status::Aborted(
      "stale lease: " + TaskLabel(task.task_id) + " is " + StatusLabel(task.status) +
      " with epoch " + std::to_string(task.lease_epoch) + " held by " +
      task.worker_agent_id.value_or("no worker") + ", not epoch " + std::to_string(epoch) + " of " +
      std::string(worker_id) + "; stop the package, its result will not be recorded");
}

}  // namespace

// ---- workers ------------------------------------------------------------------------------

Result<WorkerAgent> RegisterWorker(Txn& txn, const WorkerRegistration& r) {
  std::optional<std::string> sha256 = NormalizePeerId(r.cert_sha256);  // or a CURVE key
  if (!sha256) {
    return Status::InvalidArgument(
        "the worker identity is neither a certificate thumbprint (64 hex digits) nor a CURVE "
        "public key (40 Z85 characters)");
  }
  SCALEOUT_RETURN_IF_ERROR(CheckText("MachineName", r.machine_name, kMaxWorkerTextChars));
  SCALEOUT_RETURN_IF_ERROR(CheckText("UserAccount", r.user_account, kMaxWorkerTextChars));
  SCALEOUT_RETURN_IF_ERROR(CheckRange("MaxTaskCount", r.max_task_count, 1, kMaxTaskCountLimit));
  std::optional<std::string> reported;
  if (r.worker_agent_id) {
    SCALEOUT_ASSIGN_OR_RETURN(reported, internal::ParseGuid("AgentId", *r.worker_agent_id));
  }
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                            "SELECT worker_agent_id FROM worker_agents WHERE "
                                            "cert_sha256 = ?"));
  q.Text(*sha256);
  SCALEOUT_ASSIGN_OR_RETURN(bool trusted, q.Next());
  if (!trusted) {
    return Status::Unauthenticated("worker certificate " + *sha256 +
                                   " is not trusted by this master; add the worker by this "
                                   "thumbprint first (Scale Out Manager '+')");
  }
  const std::string id = q.T(0);
  if (reported && *reported != id) {
    return Status::FailedPrecondition(
        "the worker reports AgentId " + *reported + " but its certificate is trusted as worker " +
        id + "; set AgentId to " + id + " in the worker's settings, or remove and re-add it");
  }
  SCALEOUT_RETURN_IF_ERROR(
      Execute(
          c,
          "UPDATE worker_agents SET machine_name = ?, user_account = ?, max_task_count = ?, "
          "last_online_time = ?, is_online = 1 WHERE worker_agent_id = ?",
          [&](Query& b) {
            b.Text(r.machine_name).Text(r.user_account).Int(r.max_task_count).Int(txn.now).Text(id);
          })
          .status());
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<WorkerAgent> worker, internal::LoadWorker(c, id));
  return *worker;
}

Status WorkerHeartbeat(Txn& txn, std::string_view worker_agent_id, const WorkerResources& res) {
  if (!std::isfinite(res.cpu_percent) || res.cpu_percent < 0 || res.cpu_percent > 100 ||
      !std::isfinite(res.free_memory_mb) || res.free_memory_mb < 0 || res.running_tasks < 0) {
    return Status::InvalidArgument(
        "worker resources out of range: cpu_percent must be 0-100, free_memory_mb and "
        "running_tasks must not be negative");
  }
  std::string id;
  SCALEOUT_RETURN_IF_ERROR(RequireWorker(txn.connection, worker_agent_id, &id).status());
  return Execute(txn.connection,
                 "UPDATE worker_agents SET last_online_time = ?, is_online = 1, cpu_percent = ?, "
                 "free_memory_mb = ?, running_tasks = ? WHERE worker_agent_id = ?",
                 [&](Query& q) {
                   q.Int(txn.now)
                       .Double(res.cpu_percent)
                       .Double(res.free_memory_mb)
                       .Int(res.running_tasks)
                       .Text(id);
                 })
      .status();
}

Result<std::int64_t> MarkWorkersOffline(Txn& txn, std::int64_t timeout_ms) {
  SCALEOUT_RETURN_IF_ERROR(CheckRange("timeout_ms", timeout_ms, 1, kMaxLeaseMillis));
  return Execute(txn.connection,
                 "UPDATE worker_agents SET is_online = 0 WHERE is_online = 1 AND "
                 "(last_online_time IS NULL OR last_online_time < ?)",
                 [&](Query& q) { q.Int(txn.now - timeout_ms); });
}

// ---- tasks ---------------------------------------------------------------------------------

Result<std::vector<ClaimedTask>> ClaimTasks(Txn& txn, std::string_view worker_agent_id,
                                            std::int64_t max_count, std::int64_t lease_ms) {
  SCALEOUT_RETURN_IF_ERROR(CheckClaimArgs(max_count, lease_ms));
  std::string id;
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t free, FreeSlots(txn.connection, worker_agent_id, &id));
  const std::int64_t limit = std::min(free, max_count);
  if (limit <= 0) return std::vector<ClaimedTask>();
  SCALEOUT_ASSIGN_OR_RETURN(std::vector<Candidate> candidates, FindEligible(txn, id, false, limit));
  return ClaimList(txn, id, std::move(candidates), lease_ms);
}

Result<std::vector<ClaimedTask>> ClaimServerTasks(Txn& txn, std::int64_t max_count,
                                                  std::int64_t lease_ms) {
  SCALEOUT_RETURN_IF_ERROR(CheckClaimArgs(max_count, lease_ms));
  SCALEOUT_ASSIGN_OR_RETURN(std::vector<Candidate> candidates,
                            FindEligible(txn, {}, true, max_count));
  return ClaimList(txn, kMasterTaskHostId, std::move(candidates), lease_ms);
}

Result<bool> HasClaimableTask(Txn& txn, std::string_view worker_agent_id) {
  std::string id;
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t free, FreeSlots(txn.connection, worker_agent_id, &id));
  if (free <= 0) return false;
  // Without the dialect's row locks: this only reads.
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(txn.connection, EligibleSqlFor(false, false, false)));
  q.Text(id).Int(1);
  return q.Next();
}

Result<sdk::Bytes> ReadPackageContent(Txn& txn, std::int64_t project_lsn,
                                      std::string_view package_name) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(txn.connection,
                      "SELECT content FROM packages WHERE project_version_lsn = ? AND name = ?"));
  q.Int(project_lsn).Text(package_name);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) {
    return Status::NotFound("package '" + std::string(package_name) + "' of project version " +
                            std::to_string(project_lsn) + " is not in the catalog");
  }
  return q.B(0);
}

Result<std::vector<LeaseRenewal>> RenewLeases(Txn& txn, std::string_view worker_agent_id,
                                              const std::vector<LeaseRef>& leases,
                                              std::int64_t lease_ms) {
  SCALEOUT_RETURN_IF_ERROR(CheckRange("lease_ms", lease_ms, 1, kMaxLeaseMillis));
  SCALEOUT_RETURN_IF_ERROR(CheckRange("number of leases", static_cast<std::int64_t>(leases.size()),
                                      0, kMaxTaskCountLimit));
  SCALEOUT_ASSIGN_OR_RETURN(std::string worker, internal::ParseGuid("worker id", worker_agent_id));
  sdk::Connection& c = txn.connection;
  std::vector<LeaseRenewal> out;
  out.reserve(leases.size());
  for (const LeaseRef& lease : leases) {
    LeaseRenewal r;
    r.task_id = lease.task_id;
    SCALEOUT_ASSIGN_OR_RETURN(std::optional<Task> task, internal::LoadTask(c, lease.task_id));
    if (!task) {
      r.status = Status::NotFound(TaskLabel(lease.task_id) + " is not in the catalog");
    } else if (task->worker_agent_id != worker || task->lease_epoch != lease.lease_epoch ||
               task->status != ExecutionStatus::kRunning) {
      r.status = StaleLease(*task, worker, lease.lease_epoch);
    } else {
      r.lease_expires_at = txn.now + lease_ms;
      SCALEOUT_RETURN_IF_ERROR(
          Execute(
              c,
              "UPDATE tasks SET lease_expires_at = ?, last_heartbeat = ? "
              "WHERE task_id = ? AND lease_epoch = ? AND status = 2",
              [&](Query& q) {
                q.Int(r.lease_expires_at).Int(txn.now).Text(lease.task_id).Int(lease.lease_epoch);
              })
              .status());
      SCALEOUT_ASSIGN_OR_RETURN(Execution e, internal::LoadExecution(c, task->execution_id));
      r.stop_requested = e.stop_requested;
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<CompletionOutcome> CompleteTask(Txn& txn, std::string_view worker_agent_id,
                                       std::string_view task_id, std::int64_t lease_epoch,
                                       TaskResult result, std::int64_t exit_code,
                                       std::string_view message) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string worker, internal::ParseGuid("worker id", worker_agent_id));
  SCALEOUT_RETURN_IF_ERROR(internal::ParseGuid("task id", task_id).status());
  SCALEOUT_RETURN_IF_ERROR(CheckText("result message", message, kMaxMessageChars));
  // The task and its execution in one read.
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<internal::TaskWithExecution> loaded,
                            internal::LoadTaskWithExecution(txn.connection, task_id));
  if (!loaded) return Status::NotFound(TaskLabel(task_id) + " is not in the catalog");
  const Task* task = &loaded->task;
  if (task->worker_agent_id != worker || task->lease_epoch != lease_epoch) {
    return StaleLease(*task, worker, lease_epoch);
  }
  if (!loaded->execution) return internal::ExecutionNotFound(task->execution_id);
  const Execution& e = *loaded->execution;
  CompletionOutcome outcome;
  if (IsTerminal(task->status)) {
    if (task->status == ExecutionStatus::kEndedUnexpectedly && task->exit_code == std::nullopt) {
      return Status::Aborted("the lease of " + TaskLabel(task_id) +
                             " expired before its result arrived; the result was not recorded");
    }
    outcome.task_status = task->status;
    outcome.execution_status = e.status;
    outcome.already_recorded = true;  // a resend of a recorded result
    return outcome;
  }
  Plan plan{};
  if (result == TaskResult::kSucceeded) {
    SCALEOUT_ASSIGN_OR_RETURN(
        plan.task_to, Transition(Entity::kTask, Event::kSucceed, task->status, TaskLabel(task_id)));
    SCALEOUT_ASSIGN_OR_RETURN(
        plan.execution_to,
        Transition(Entity::kExecution, Event::kSucceed, e.status, ExecutionLabel(e.execution_id)));
  } else if (result == TaskResult::kFailed) {
    SCALEOUT_ASSIGN_OR_RETURN(plan, PlanUnsuccessful(*task, e, Event::kFail, false));
  } else if (e.stop_requested) {
    SCALEOUT_ASSIGN_OR_RETURN(plan, PlanUnsuccessful(*task, e, Event::kFail, true));
  } else {
    // Canceled without a stop request: the worker gave the package up (it
    // fenced itself or shut down), which is an infrastructure loss.
    SCALEOUT_ASSIGN_OR_RETURN(plan, PlanUnsuccessful(*task, e, Event::kEndUnexpectedly, false));
  }
  bool changed = false;
  SCALEOUT_ASSIGN_OR_RETURN(outcome.retry_task_id,
                            ApplyEnd(txn, *task, e, plan.task_to, plan.execution_to, plan.retry,
                                     exit_code, message, &changed));
  if (!changed) return StaleLease(*task, worker, lease_epoch);  // lost a race; nothing written
  outcome.task_status = plan.task_to;
  outcome.execution_status = plan.execution_to;
  return outcome;
}

Result<ExpireSummary> ExpireLeases(Txn& txn, std::int64_t max_count) {
  SCALEOUT_RETURN_IF_ERROR(CheckRange("max_count", max_count, 1, kMaxListLimit));
  sdk::Connection& c = txn.connection;
  std::vector<std::string> ids;
  {
    SCALEOUT_ASSIGN_OR_RETURN(
        Query q, Cached(c,
                        "SELECT task_id FROM tasks WHERE status = 2 AND lease_expires_at < ? "
                        "ORDER BY lease_expires_at, task_id LIMIT ?"));
    q.Int(txn.now).Int(max_count);
    SCALEOUT_ASSIGN_OR_RETURN(ids, internal::FirstColumnTexts(q));
  }
  ExpireSummary summary;
  for (const std::string& id : ids) {
    SCALEOUT_ASSIGN_OR_RETURN(std::optional<Task> task, internal::LoadTask(c, id));
    if (!task) continue;
    SCALEOUT_ASSIGN_OR_RETURN(Execution e, internal::LoadExecution(c, task->execution_id));
    Result<Plan> plan = PlanUnsuccessful(*task, e, Event::kEndUnexpectedly, false);
    if (!plan.ok()) continue;  // an inconsistent row is left for an operator, not guessed at
    const std::string message = "the lease expired at " +
                                FormatUtc(task->lease_expires_at.value_or(0)) + ": worker " +
                                task->worker_agent_id.value_or("?") + " stopped renewing it";
    bool changed = false;
    SCALEOUT_ASSIGN_OR_RETURN(std::optional<std::string> retry,
                              ApplyEnd(txn, *task, e, plan->task_to, plan->execution_to,
                                       plan->retry, std::nullopt, message, &changed));
    if (!changed) continue;
    ++summary.expired;
    if (retry) {
      ++summary.retried;
    } else {
      ++summary.ended;
    }
  }
  return summary;
}

// ---- logs and housekeeping -------------------------------------------------------------------

Result<std::int64_t> InsertEvents(Txn& txn, const std::vector<EventMessage>& batch) {
  SCALEOUT_RETURN_IF_ERROR(CheckRange("events in a batch", static_cast<std::int64_t>(batch.size()),
                                      0, static_cast<std::int64_t>(kMaxEventsPerBatch)));
  sdk::Connection& c = txn.connection;
  std::vector<std::string> guids;
  std::set<std::string> seen;
  std::set<std::int64_t> operations;
  for (const EventMessage& m : batch) {
    SCALEOUT_ASSIGN_OR_RETURN(std::string guid,
                              internal::ParseGuid("event_message_guid", m.event_message_guid));
    if (!seen.insert(guid).second) {
      return Status::InvalidArgument("event_message_guid " + guid +
                                     " appears twice in one batch; give each message its own");
    }
    SCALEOUT_RETURN_IF_ERROR(CheckText("message", m.message, kMaxMessageChars));
    SCALEOUT_RETURN_IF_ERROR(CheckText("message_source", m.message_source, kMaxPackageNameChars));
    SCALEOUT_RETURN_IF_ERROR(CheckText("package_name", m.package_name, kMaxPackageNameChars));
    SCALEOUT_RETURN_IF_ERROR(CheckText("event_name", m.event_name, kMaxNameChars));
    if (operations.insert(m.operation_id).second) {
      SCALEOUT_ASSIGN_OR_RETURN(Query q,
                                Cached(c, "SELECT 1 FROM operations WHERE operation_id = ?"));
      q.Int(m.operation_id);
      SCALEOUT_ASSIGN_OR_RETURN(bool found, q.Next());
      if (!found) {
        return Status::NotFound("operation " + std::to_string(m.operation_id) +
                                " does not exist; the batch was not stored");
      }
    }
    guids.push_back(std::move(guid));
  }
  std::int64_t inserted = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const EventMessage& m = batch[i];
    SCALEOUT_ASSIGN_OR_RETURN(
        Query q, Cached(c, "SELECT 1 FROM event_messages WHERE event_message_guid = ?"));
    q.Text(guids[i]);
    SCALEOUT_ASSIGN_OR_RETURN(bool exists, q.Next());
    if (exists) continue;  // a resent batch
    SCALEOUT_ASSIGN_OR_RETURN(
        std::int64_t n,
        Execute(c,
                "INSERT INTO event_messages (operation_id, message_time, message_type, "
                "message_source_type, message_source, message, package_name, event_name, "
                "event_message_guid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [&](Query& b) {
                  b.Int(m.operation_id)
                      .Int(m.message_time)
                      .Int(m.message_type)
                      .Int(m.message_source_type)
                      .Text(m.message_source)
                      .Text(m.message)
                      .Text(m.package_name)
                      .Text(m.event_name)
                      .Text(guids[i]);
                }));
    inserted += n;
  }
  return inserted;
}

Result<std::int64_t> CleanupCompletedJobs(Txn& txn, std::int64_t older_than) {
  return Execute(txn.connection,
                 "DELETE FROM tasks WHERE execution_id IN (SELECT execution_id FROM executions "
                 "WHERE status IN (3, 4, 6, 7, 9) AND end_time < ?)",
                 [&](Query& q) { q.Int(older_than); });
}

Status WriteMasterHeartbeat(Txn& txn, const MasterInfo& info) {
  SCALEOUT_RETURN_IF_ERROR(CheckText("MACHINE_NAME", info.machine_name, kMaxWorkerTextChars));
  SCALEOUT_RETURN_IF_ERROR(CheckText("MACHINE_IP", info.machine_ip, kMaxWorkerTextChars));
  SCALEOUT_RETURN_IF_ERROR(CheckText("SSLCERT_THUMBPRINT", info.ssl_cert_thumbprint, 128));
  SCALEOUT_RETURN_IF_ERROR(CheckText("MASTER_ADDRESS", info.master_address, kMaxAddressChars));
  SCALEOUT_RETURN_IF_ERROR(CheckRange("MASTER_SERVICE_PORT", info.service_port, 1, 65535));
  sdk::Connection& c = txn.connection;
  SCALEOUT_RETURN_IF_ERROR(internal::SetMasterProperty(c, "LAST_ONLINE_TIME", FormatUtc(txn.now)));
  SCALEOUT_RETURN_IF_ERROR(internal::SetMasterProperty(c, "MACHINE_NAME", info.machine_name));
  SCALEOUT_RETURN_IF_ERROR(internal::SetMasterProperty(c, "MACHINE_IP", info.machine_ip));
  SCALEOUT_RETURN_IF_ERROR(
      internal::SetMasterProperty(c, "MASTER_SERVICE_PORT", std::to_string(info.service_port)));
  SCALEOUT_RETURN_IF_ERROR(
      internal::SetMasterProperty(c, "SSLCERT_THUMBPRINT", info.ssl_cert_thumbprint));
  if (info.master_address.empty()) return Status::Ok();
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(c, "SELECT 1 FROM master_properties WHERE property_name = 'MASTER_ADDRESS'"));
  SCALEOUT_ASSIGN_OR_RETURN(bool present, q.Next());
  if (present) return Status::Ok();
  return internal::SetMasterProperty(c, "MASTER_ADDRESS", info.master_address);
}

}  // namespace scaleout::core::catalog
