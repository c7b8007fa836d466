// Scheduler operations: registration, claims and eligibility, leases and
// fencing, completion and retries, lease expiry, stop, events, housekeeping.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog_fixture.h"
#include "core/common/ids.h"

namespace scaleout::core::catalog::testing {
namespace {

using ::testing::HasSubstr;

#define COMPLETE(worker, task, result)                                                      \
  TxR<CompletionOutcome>([&](Txn& t_) {                                                     \
    return CompleteTask(t_, worker, (task).task_id, (task).lease_epoch, result, 0, "done"); \
  })

#define EXPECT_UNCHANGED_ON(expr, want_code)                                      \
  do {                                                                            \
    const std::string before_ = Snapshot();                                       \
    auto result_ = (expr);                                                        \
    EXPECT_EQ(result_.status().code(), want_code) << result_.status().ToString(); \
    EXPECT_EQ(Snapshot(), before_) << "a refused call changed the catalog";       \
  } while (false)

// ---- registration and heartbeats --------------------------------------------------------------

TEST_P(CatalogTest, RegisterNeedsATrustedCertificate) {
  WorkerRegistration reg;
  reg.cert_sha256 = Thumb('9');
  reg.machine_name = "m";
  EXPECT_UNCHANGED_ON(TxR<WorkerAgent>([&](Txn& t) { return RegisterWorker(t, reg); }),
                      sdk::StatusCode::kUnauthenticated);
  std::string id = AddWorker('9', /*enable=*/false, 4);
  auto w = TxR<WorkerAgent>([&](Txn& t) { return GetWorkerAgent(t, admin_, id); });
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(w->is_enabled);  // new workers start disabled, as in SSIS
  EXPECT_TRUE(w->is_online);
  EXPECT_EQ(w->last_online_time, now());
  EXPECT_EQ(w->max_task_count, 4);
  EXPECT_EQ(w->user_account, "svc");
  // A worker that reports another AgentId than the one its certificate is trusted as.
  reg.worker_agent_id = NewGuid();
  EXPECT_UNCHANGED_ON(TxR<WorkerAgent>([&](Txn& t) { return RegisterWorker(t, reg); }),
                      sdk::StatusCode::kFailedPrecondition);
  reg.worker_agent_id = id;
  reg.max_task_count = 0;
  EXPECT_UNCHANGED_ON(TxR<WorkerAgent>([&](Txn& t) { return RegisterWorker(t, reg); }),
                      sdk::StatusCode::kInvalidArgument);
}

TEST_P(CatalogTest, HeartbeatsAndOfflineSweep) {
  std::string id = AddWorker('A');
  Advance(30'000);
  ASSERT_TRUE(Tx([&](Txn& t) { return WorkerHeartbeat(t, id, {42.5, 2048, 3}); }).ok());
  auto w = TxR<WorkerAgent>([&](Txn& t) { return GetWorkerAgent(t, admin_, id); });
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->last_online_time, now());
  EXPECT_DOUBLE_EQ(w->cpu_percent, 42.5);
  EXPECT_EQ(w->running_tasks, 3);
  EXPECT_UNCHANGED_ON(TxR<std::int64_t>([&](Txn& t) -> sdk::Result<std::int64_t> {
                        SCALEOUT_RETURN_IF_ERROR(WorkerHeartbeat(t, id, {150, 1, 0}));
                        return 0;
                      }),
                      sdk::StatusCode::kInvalidArgument);
  Advance(std::int64_t{9} * 60'000);
  auto marked =
      TxR<std::int64_t>([&](Txn& t) { return MarkWorkersOffline(t, std::int64_t{10} * 60'000); });
  ASSERT_TRUE(marked.ok());
  EXPECT_EQ(*marked, 0);
  Advance(std::int64_t{2} * 60'000);
  marked =
      TxR<std::int64_t>([&](Txn& t) { return MarkWorkersOffline(t, std::int64_t{10} * 60'000); });
  ASSERT_TRUE(marked.ok());
  EXPECT_EQ(*marked, 1);
  w = TxR<WorkerAgent>([&](Txn& t) { return GetWorkerAgent(t, admin_, id); });
  EXPECT_FALSE(w->is_online);
}

// ---- claims -----------------------------------------------------------------------------------

TEST_P(CatalogTest, ClaimGivesTheWorkerEverythingAndBumpsTheEpoch) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  std::int64_t id = StartedExecution();
  std::vector<ClaimedTask> claimed = Claim(w, 5, 60'000);
  ASSERT_EQ(claimed.size(), 1u);
  const ClaimedTask& c = claimed[0];
  EXPECT_EQ(c.execution_id, id);
  EXPECT_EQ(c.attempt, 1);
  EXPECT_EQ(c.lease_epoch, 1);
  EXPECT_EQ(c.lease_expires_at, now() + 60'000);
  EXPECT_EQ(c.package_name, "Main.dtsx");
  EXPECT_EQ(c.package_sha256.size(), 64u);
  bool rows = false, password = false;
  for (const ParameterValue& v : c.parameters) {
    rows = rows || (v.parameter_name == "Rows" && v.value == "5");
    password = password || (v.parameter_name == "Password" && v.value == "hunter2");
  }
  EXPECT_TRUE(rows);
  EXPECT_TRUE(password);  // the worker needs sensitive values to run the package
  Execution e = Exec(id);
  EXPECT_EQ(e.status, ExecutionStatus::kRunning);
  EXPECT_EQ(e.worker_agent_id, w);
  EXPECT_EQ(e.executed_count, 1);
  EXPECT_EQ(e.lease_epoch, 1);
  std::vector<Task> tasks = Tasks(id);
  EXPECT_EQ(tasks[0].status, ExecutionStatus::kRunning);
  EXPECT_EQ(tasks[0].worker_agent_id, w);
  // Nothing left to claim.
  EXPECT_TRUE(Claim(w).empty());
}

TEST_P(CatalogTest, ClaimEligibility) {
  DeployBasic();
  std::string a = AddWorker('A');
  std::string disabled = AddWorker('B', /*enable=*/false);
  std::string offline = AddWorker('C');
  std::string pinned = AddWorker('D');
  std::int64_t any = StartedExecution();
  auto has = [&](const std::string& w) {
    auto r = TxR<bool>([&](Txn& t) { return HasClaimableTask(t, w); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  };
  // Scale Out not enabled: nobody claims.
  EXPECT_FALSE(has(a));
  EXPECT_TRUE(Claim(a).empty());
  EnableScaleOut();
  // Disabled worker.
  EXPECT_FALSE(has(disabled));
  EXPECT_TRUE(Claim(disabled).empty());
  // Offline worker.
  Advance(std::int64_t{20} * 60'000);
  ASSERT_TRUE(Tx([&](Txn& t) { return WorkerHeartbeat(t, a, {}); }).ok());
  ASSERT_TRUE(Tx([&](Txn& t) { return WorkerHeartbeat(t, pinned, {}); }).ok());
  ASSERT_TRUE(TxR<std::int64_t>([&](Txn& t) {
                return MarkWorkersOffline(t, std::int64_t{10} * 60'000);
              }).ok());
  EXPECT_FALSE(has(offline));
  EXPECT_TRUE(Claim(offline).empty());
  // Allow-list: only the pinned worker may take the pinned execution.
  std::int64_t only_d = StartedExecution(0, /*useanyworker=*/false, {pinned});
  std::vector<ClaimedTask> by_a = Claim(a);
  ASSERT_EQ(by_a.size(), 1u);
  EXPECT_EQ(by_a[0].execution_id, any);
  EXPECT_FALSE(has(a));
  EXPECT_TRUE(Claim(a).empty());
  std::vector<ClaimedTask> by_d = Claim(pinned);
  ASSERT_EQ(by_d.size(), 1u);
  EXPECT_EQ(by_d[0].execution_id, only_d);
}

TEST_P(CatalogTest, ClaimRespectsMaxTaskCountAndCreatedOrder) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A', true, /*max_tasks=*/2);
  std::int64_t e1 = StartedExecution();
  Advance(1);
  std::int64_t e2 = StartedExecution();
  Advance(1);
  std::int64_t e3 = StartedExecution();
  std::vector<ClaimedTask> first = Claim(w, 10);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].execution_id, e1);
  EXPECT_EQ(first[1].execution_id, e2);
  EXPECT_TRUE(Claim(w, 10).empty());  // at MaxTaskCount
  ASSERT_TRUE(COMPLETE(w, first[0], TaskResult::kSucceeded).ok());
  std::vector<ClaimedTask> next = Claim(w, 10);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].execution_id, e3);
}

TEST_P(CatalogTest, ClaimArgumentErrors) {
  std::string w = AddWorker('A');
  EXPECT_UNCHANGED_ON(
      TxR<std::vector<ClaimedTask>>([&](Txn& t) { return ClaimTasks(t, w, 0, 1000); }),
      sdk::StatusCode::kInvalidArgument);
  EXPECT_UNCHANGED_ON(TxR<std::vector<ClaimedTask>>([&](Txn& t) { return ClaimTasks(t, w, 1, 0); }),
                      sdk::StatusCode::kInvalidArgument);
  EXPECT_UNCHANGED_ON(
      TxR<std::vector<ClaimedTask>>([&](Txn& t) { return ClaimTasks(t, "nope", 1, 1000); }),
      sdk::StatusCode::kInvalidArgument);
  EXPECT_UNCHANGED_ON(
      TxR<std::vector<ClaimedTask>>([&](Txn& t) { return ClaimTasks(t, NewGuid(), 1, 1000); }),
      sdk::StatusCode::kNotFound);
}

TEST_P(CatalogTest, ServerModeTasksGoOnlyToTheMastersTaskHost) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  CreateExecutionRequest r{"F", "P", "Main.dtsx", {}, false, false, true};
  auto id = TxR<std::int64_t>([&](Txn& t) { return CreateExecution(t, admin_, r); });
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(
      Tx([&](Txn& t) { return SetExecutionParameterValue(t, admin_, *id, 30, "Rows", "1"); }).ok());
  ASSERT_TRUE(Tx([&](Txn& t) { return StartExecution(t, admin_, *id, 0); }).ok());
  EXPECT_TRUE(Claim(w).empty());
  auto server =
      TxR<std::vector<ClaimedTask>>([&](Txn& t) { return ClaimServerTasks(t, 4, 60'000); });
  ASSERT_TRUE(server.ok());
  ASSERT_EQ(server->size(), 1u);
  EXPECT_EQ(Exec(*id).worker_agent_id, std::string(kMasterTaskHostId));
  auto done = TxR<CompletionOutcome>([&](Txn& t) {
    return CompleteTask(t, kMasterTaskHostId, (*server)[0].task_id, (*server)[0].lease_epoch,
                        TaskResult::kSucceeded, 0, "");
  });
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(Exec(*id).status, ExecutionStatus::kSucceeded);
}

// ---- leases and fencing -------------------------------------------------------------------------

TEST_P(CatalogTest, RenewLeasesExtendsCurrentAndRefusesStale) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  std::string other = AddWorker('B');
  StartedExecution();
  std::vector<ClaimedTask> claimed = Claim(w, 1, 60'000);
  ASSERT_EQ(claimed.size(), 1u);
  Advance(10'000);
  std::vector<LeaseRef> leases = {{claimed[0].task_id, claimed[0].lease_epoch},
                                  {claimed[0].task_id, claimed[0].lease_epoch + 7},
                                  {NewGuid(), 1}};
  auto renewed =
      TxR<std::vector<LeaseRenewal>>([&](Txn& t) { return RenewLeases(t, w, leases, 60'000); });
  ASSERT_TRUE(renewed.ok());
  ASSERT_EQ(renewed->size(), 3u);
  EXPECT_TRUE((*renewed)[0].status.ok());
  EXPECT_EQ((*renewed)[0].lease_expires_at, now() + 60'000);
  EXPECT_FALSE((*renewed)[0].stop_requested);
  EXPECT_EQ((*renewed)[1].status.code(), sdk::StatusCode::kAborted);
  EXPECT_THAT((*renewed)[1].status.message(), HasSubstr("stale lease"));
  EXPECT_EQ((*renewed)[2].status.code(), sdk::StatusCode::kNotFound);
  EXPECT_EQ(Tasks(claimed[0].execution_id)[0].lease_expires_at, now() + 60'000);
  // Another worker cannot renew it, and nothing changes.
  const std::string before = Snapshot();
  auto theirs = TxR<std::vector<LeaseRenewal>>([&](Txn& t) {
    return RenewLeases(t, other, {{claimed[0].task_id, claimed[0].lease_epoch}}, 60'000);
  });
  ASSERT_TRUE(theirs.ok());
  EXPECT_EQ((*theirs)[0].status.code(), sdk::StatusCode::kAborted);
  EXPECT_EQ(Snapshot(), before);
}

TEST_P(CatalogTest, StaleEpochResultIsRefusedAndChangesNothing) {
  DeployBasic();
  EnableScaleOut();
  std::string zombie = AddWorker('A');
  std::string fresh = AddWorker('B');
  std::int64_t id = StartedExecution(/*retry_count=*/1);
  std::vector<ClaimedTask> old = Claim(zombie, 1, 60'000);
  ASSERT_EQ(old.size(), 1u);
  // The zombie pauses; its lease lapses and the attempt is re-queued.
  Advance(61'000);
  auto swept = TxR<ExpireSummary>([&](Txn& t) { return ExpireLeases(t); });
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->retried, 1);
  std::vector<ClaimedTask> next = Claim(fresh, 1, 60'000);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_GT(next[0].lease_epoch, old[0].lease_epoch);
  EXPECT_EQ(next[0].attempt, 2);
  // The zombie wakes up and reports: refused, nothing changes.
  EXPECT_UNCHANGED_ON(COMPLETE(zombie, old[0], TaskResult::kSucceeded), sdk::StatusCode::kAborted);
  ClaimedTask forged = old[0];
  forged.task_id = next[0].task_id;  // the current attempt with the old epoch
  EXPECT_UNCHANGED_ON(COMPLETE(zombie, forged, TaskResult::kSucceeded), sdk::StatusCode::kAborted);
  // The current holder's result is recorded once; a resend changes nothing.
  auto done = COMPLETE(fresh, next[0], TaskResult::kSucceeded);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_FALSE(done->already_recorded);
  EXPECT_EQ(Exec(id).status, ExecutionStatus::kSucceeded);
  const std::string before = Snapshot();
  auto again = COMPLETE(fresh, next[0], TaskResult::kFailed);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_recorded);
  EXPECT_EQ(again->execution_status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(Snapshot(), before);
}

// ---- completion and retries
// --------------------------------------------------------------------------

TEST_P(CatalogTest, SuccessEndsTheExecution) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  std::int64_t id = StartedExecution();
  std::vector<ClaimedTask> c = Claim(w);
  Advance(5'000);
  auto done = TxR<CompletionOutcome>([&](Txn& t) {
    return CompleteTask(t, w, c[0].task_id, c[0].lease_epoch, TaskResult::kSucceeded, 0, "ok");
  });
  ASSERT_TRUE(done.ok());
  Execution e = Exec(id);
  EXPECT_EQ(e.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(e.end_time, now());
  Task t = Tasks(id)[0];
  EXPECT_EQ(t.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(t.exit_code, 0);
  EXPECT_EQ(t.result_message, "ok");
  auto ops = TxR<std::vector<Operation>>([&](Txn& tx) { return ListOperations(tx, reader_); });
  ASSERT_TRUE(ops.ok());
  for (const Operation& o : *ops) {
    if (o.operation_id == id) {
      EXPECT_EQ(o.status, ExecutionStatus::kSucceeded);
    }
  }
}

// An execution's operation (same id, type 200) shows the execution's status,
// times and stopper at every step; other operations keep their own values.
TEST_P(CatalogTest, OperationOfAnExecutionFollowsTheExecution) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  auto op = [&](std::int64_t id) {
    auto ops = TxR<std::vector<Operation>>([&](Txn& tx) { return ListOperations(tx, reader_); });
    EXPECT_TRUE(ops.ok());
    for (const Operation& o : ops.ok() ? *ops : std::vector<Operation>()) {
      if (o.operation_id == id) return o;
    }
    ADD_FAILURE() << "no operation " << id;
    return Operation{};
  };
  auto expect_same = [&](std::int64_t id) {
    const Execution e = Exec(id);
    const Operation o = op(id);
    EXPECT_EQ(o.operation_type, 200);
    EXPECT_EQ(o.status, e.status);
    EXPECT_EQ(o.start_time, e.start_time);
    EXPECT_EQ(o.end_time, e.end_time);
    EXPECT_EQ(o.stopped_by_name, e.stopped_by_name);
    EXPECT_EQ(o.caller_name, e.caller_name);
    EXPECT_EQ(o.created_time, e.created_time);
  };
  const std::int64_t created = CreatedExecution();
  expect_same(created);
  EXPECT_EQ(op(created).status, ExecutionStatus::kCreated);
  EXPECT_EQ(op(created).start_time, std::nullopt);
  Advance(1'000);
  const std::int64_t id = StartedExecution(/*retry_count=*/1);
  expect_same(id);
  EXPECT_EQ(op(id).status, ExecutionStatus::kPending);
  EXPECT_EQ(op(id).start_time, now());
  Advance(1'000);
  std::vector<ClaimedTask> c = Claim(w);
  ASSERT_EQ(c.size(), 1u);
  expect_same(id);
  EXPECT_EQ(op(id).status, ExecutionStatus::kRunning);
  Advance(1'000);
  ASSERT_TRUE(Tx([&](Txn& t) { return StopOperation(t, admin_, id); }).ok());
  expect_same(id);
  EXPECT_EQ(op(id).status, ExecutionStatus::kStopping);
  EXPECT_EQ(op(id).stopped_by_name, admin_.name);
  Advance(1'000);
  auto done = COMPLETE(w, c[0], TaskResult::kCanceled);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  expect_same(id);
  EXPECT_EQ(op(id).status, ExecutionStatus::kCanceled);
  EXPECT_EQ(op(id).end_time, now());
  // The stop request is an operation of its own (type 202), finished at once.
  auto ops = TxR<std::vector<Operation>>([&](Txn& tx) { return ListOperations(tx, reader_); });
  ASSERT_TRUE(ops.ok());
  ASSERT_FALSE(ops->empty());
  const Operation& stop = ops->front();  // newest first
  EXPECT_EQ(stop.operation_type, 202);
  EXPECT_EQ(stop.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(stop.object_id, id);
  EXPECT_EQ(stop.stopped_by_name, std::nullopt);
  expect_same(created);  // untouched by the other execution's steps
}

TEST_P(CatalogTest, FailuresRetryWhileExecutedCountIsWithinRetryCount) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  std::int64_t id = StartedExecution(/*retry_count=*/2);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    std::vector<ClaimedTask> c = Claim(w);
    ASSERT_EQ(c.size(), 1u) << "attempt " << attempt;
    EXPECT_EQ(c[0].attempt, attempt);
    EXPECT_EQ(Exec(id).executed_count, attempt);
    auto done = COMPLETE(w, c[0], TaskResult::kFailed);
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(done->task_status, ExecutionStatus::kFailed);
    if (attempt < 3) {
      EXPECT_EQ(done->execution_status, ExecutionStatus::kPending);
      EXPECT_TRUE(done->retry_task_id.has_value());
    } else {
      EXPECT_EQ(done->execution_status, ExecutionStatus::kFailed);
      EXPECT_FALSE(done->retry_task_id.has_value());
    }
  }
  EXPECT_EQ(Exec(id).status, ExecutionStatus::kFailed);
  EXPECT_EQ(Tasks(id).size(), 3u);
  EXPECT_TRUE(Claim(w).empty());
}

TEST_P(CatalogTest, NoRetryCountMeansOneAttempt) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  std::int64_t id = StartedExecution(0);
  std::vector<ClaimedTask> c = Claim(w);
  ASSERT_TRUE(COMPLETE(w, c[0], TaskResult::kFailed).ok());
  EXPECT_EQ(Exec(id).status, ExecutionStatus::kFailed);
  EXPECT_EQ(Exec(id).executed_count, 1);
}

TEST_P(CatalogTest, CompleteErrors) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  StartedExecution();
  std::vector<ClaimedTask> c = Claim(w);
  EXPECT_UNCHANGED_ON(TxR<CompletionOutcome>([&](Txn& t) {
                        return CompleteTask(t, w, "bad", 1, TaskResult::kSucceeded, 0, "");
                      }),
                      sdk::StatusCode::kInvalidArgument);
  EXPECT_UNCHANGED_ON(TxR<CompletionOutcome>([&](Txn& t) {
                        return CompleteTask(t, w, NewGuid(), 1, TaskResult::kSucceeded, 0, "");
                      }),
                      sdk::StatusCode::kNotFound);
  EXPECT_UNCHANGED_ON(TxR<CompletionOutcome>([&](Txn& t) {
                        return CompleteTask(t, w, c[0].task_id, c[0].lease_epoch,
                                            TaskResult::kSucceeded, 0, std::string(40000, 'm'));
                      }),
                      sdk::StatusCode::kInvalidArgument);
}

TEST_P(CatalogTest, ClaimedCountFollowsEveryWayAnAttemptStartsAndEnds) {
  DeployBasic();
  EnableScaleOut();
  const std::string w = AddWorker('A', true, /*max_tasks=*/3);
  const std::string v = AddWorker('B');
  auto agree = [&](const char* step) {
    for (const std::string& worker : {w, v}) {
      EXPECT_EQ(ClaimedCount(worker), RunningCount(worker)) << step << ", worker " << worker;
    }
    // A listing by an in-flight status finds the executions through their
    // attempts (ListExecutions); it must list exactly what a scan finds.
    for (ExecutionStatus status :
         {ExecutionStatus::kPending, ExecutionStatus::kRunning, ExecutionStatus::kStopping}) {
      EXPECT_EQ(ListedIds(status), ScannedIds(status))
          << step << ", status " << static_cast<int>(status);
    }
  };
  const std::int64_t succeeds = StartedExecution();
  const std::int64_t retries = StartedExecution(/*retry_count=*/1);
  const std::int64_t expires = StartedExecution(/*retry_count=*/1);
  const std::int64_t stopped = StartedExecution();
  std::vector<ClaimedTask> c = Claim(w, 10, 60'000);
  ASSERT_EQ(c.size(), 3u);  // MaxTaskCount, from the counter
  EXPECT_EQ(ClaimedCount(w), 3);
  agree("claim");
  ASSERT_TRUE(COMPLETE(w, c[0], TaskResult::kSucceeded).ok());
  agree("success");
  ASSERT_TRUE(COMPLETE(w, c[1], TaskResult::kFailed).ok());  // queues the retry
  agree("failure with retry");
  // A repeated completion is answered again and counts nothing twice.
  EXPECT_TRUE(COMPLETE(w, c[0], TaskResult::kSucceeded).ok());
  agree("repeated completion");
  std::vector<ClaimedTask> more = Claim(w, 10, 60'000);
  ASSERT_EQ(more.size(), 2u);  // the fourth execution and the retry
  EXPECT_EQ(ClaimedCount(w), 3);
  agree("second claim");
  for (const ClaimedTask& t : more) {
    if (t.execution_id == stopped) {
      ASSERT_TRUE(Tx([&](Txn& txn) { return StopOperation(txn, admin_, stopped); }).ok());
      EXPECT_EQ(ListedIds(ExecutionStatus::kStopping), std::vector<std::int64_t>{stopped});
      agree("stopping");
      ASSERT_TRUE(COMPLETE(w, t, TaskResult::kCanceled).ok());
      agree("stop");
    }
  }
  Advance(60'001);  // the remaining leases of w lapse
  auto swept = TxR<ExpireSummary>([&](Txn& t) { return ExpireLeases(t); });
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(ClaimedCount(w), 0);
  agree("expiry");
  // The expired attempt's retry goes to the other worker.
  std::vector<ClaimedTask> other = Claim(v, 10, 60'000);
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].execution_id, expires);
  EXPECT_EQ(ClaimedCount(v), 1);
  agree("claim by the other worker");
  EXPECT_EQ(Exec(succeeds).status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(Exec(stopped).status, ExecutionStatus::kCanceled);
  EXPECT_EQ(Exec(retries).status, ExecutionStatus::kEndedUnexpectedly);
}

// ---- lease expiry
// --------------------------------------------------------------------------------------

TEST_P(CatalogTest, ExpiredLeaseWithoutRetryEndsUnexpectedly) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  std::int64_t id = StartedExecution(0);
  std::vector<ClaimedTask> c = Claim(w, 1, 60'000);
  Advance(60'000);  // exactly at expiry: not yet expired
  auto swept = TxR<ExpireSummary>([&](Txn& t) { return ExpireLeases(t); });
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->expired, 0);
  Advance(1);
  swept = TxR<ExpireSummary>([&](Txn& t) { return ExpireLeases(t); });
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->expired, 1);
  EXPECT_EQ(swept->ended, 1);
  EXPECT_EQ(Exec(id).status, ExecutionStatus::kEndedUnexpectedly);
  Task t = Tasks(id)[0];
  EXPECT_EQ(t.status, ExecutionStatus::kEndedUnexpectedly);
  EXPECT_THAT(t.result_message, HasSubstr("lease expired"));
  // The late result is refused and changes nothing.
  EXPECT_UNCHANGED_ON(COMPLETE(w, c[0], TaskResult::kSucceeded), sdk::StatusCode::kAborted);
}

TEST_P(CatalogTest, ExpiredLeaseWithRetryRequeuesAndRenewalKeepsItAlive) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  std::int64_t id = StartedExecution(1);
  std::vector<ClaimedTask> c = Claim(w, 1, 60'000);
  // Renewing keeps the lease alive past the original expiry.
  Advance(50'000);
  ASSERT_TRUE(TxR<std::vector<LeaseRenewal>>([&](Txn& t) {
                return RenewLeases(t, w, {{c[0].task_id, c[0].lease_epoch}}, 60'000);
              }).ok());
  Advance(50'000);
  auto swept = TxR<ExpireSummary>([&](Txn& t) { return ExpireLeases(t); });
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->expired, 0);
  Advance(20'000);
  swept = TxR<ExpireSummary>([&](Txn& t) { return ExpireLeases(t); });
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->retried, 1);
  EXPECT_EQ(Exec(id).status, ExecutionStatus::kPending);
  std::vector<Task> tasks = Tasks(id);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[1].status, ExecutionStatus::kPending);
  // The second attempt expires too: no retries left.
  std::vector<ClaimedTask> c2 = Claim(w, 1, 60'000);
  ASSERT_EQ(c2.size(), 1u);
  EXPECT_EQ(Exec(id).executed_count, 2);
  Advance(60'001);
  swept = TxR<ExpireSummary>([&](Txn& t) { return ExpireLeases(t); });
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->ended, 1);
  EXPECT_EQ(Exec(id).status, ExecutionStatus::kEndedUnexpectedly);
}

// ---- stop
// -------------------------------------------------------------------------------------------

TEST_P(CatalogTest, StopRunningIsDeliveredByRenewalAndEndsCanceled) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  std::int64_t id = StartedExecution(/*retry_count=*/3);
  std::vector<ClaimedTask> c = Claim(w);
  ASSERT_TRUE(Tx([&](Txn& t) { return StopOperation(t, admin_, id); }).ok());
  EXPECT_EQ(Exec(id).status, ExecutionStatus::kStopping);
  auto renewed = TxR<std::vector<LeaseRenewal>>([&](Txn& t) {
    return RenewLeases(t, w, {{c[0].task_id, c[0].lease_epoch}}, 60'000);
  });
  ASSERT_TRUE(renewed.ok());
  EXPECT_TRUE((*renewed)[0].stop_requested);
  auto done = COMPLETE(w, c[0], TaskResult::kCanceled);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->execution_status, ExecutionStatus::kCanceled);
  EXPECT_FALSE(done->retry_task_id.has_value());  // no new attempt after a stop
  EXPECT_EQ(Exec(id).status, ExecutionStatus::kCanceled);
  EXPECT_TRUE(Claim(w).empty());
}

TEST_P(CatalogTest, StoppingExecutionWhoseLeaseLapsesIsCanceledNotRetried) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  std::int64_t id = StartedExecution(/*retry_count=*/3);
  Claim(w, 1, 60'000);
  ASSERT_TRUE(Tx([&](Txn& t) { return StopOperation(t, admin_, id); }).ok());
  Advance(60'001);
  auto swept = TxR<ExpireSummary>([&](Txn& t) { return ExpireLeases(t); });
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->ended, 1);
  EXPECT_EQ(Exec(id).status, ExecutionStatus::kCanceled);
  EXPECT_EQ(Tasks(id).size(), 1u);
}

TEST_P(CatalogTest, CanceledWithoutStopIsAnInfrastructureLossAndRetries) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  std::int64_t id = StartedExecution(1);
  std::vector<ClaimedTask> c = Claim(w);
  auto done = COMPLETE(w, c[0], TaskResult::kCanceled);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->task_status, ExecutionStatus::kEndedUnexpectedly);
  EXPECT_EQ(done->execution_status, ExecutionStatus::kPending);
  EXPECT_EQ(Exec(id).status, ExecutionStatus::kPending);
}

// ---- events and housekeeping
// ----------------------------------------------------------------------

TEST_P(CatalogTest, EventBatchesAreIdempotentByGuid) {
  DeployBasic();
  std::int64_t id = StartedExecution();
  std::vector<EventMessage> batch(3);
  for (int i = 0; i < 3; ++i) {
    batch[i].operation_id = id;
    batch[i].message_time = now() + i;
    batch[i].message = "line " + std::to_string(i) + " '; DROP TABLE event_messages; --";
    batch[i].message_source = "Main.dtsx";
    batch[i].event_name = "OnInformation";
    batch[i].event_message_guid = NewGuid();
  }
  auto inserted = TxR<std::int64_t>([&](Txn& t) { return InsertEvents(t, batch); });
  ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  EXPECT_EQ(*inserted, 3);
  const std::string before = Snapshot();
  inserted = TxR<std::int64_t>([&](Txn& t) { return InsertEvents(t, batch); });  // resent
  ASSERT_TRUE(inserted.ok());
  EXPECT_EQ(*inserted, 0);
  EXPECT_EQ(Snapshot(), before);
  auto listed =
      TxR<std::vector<EventMessage>>([&](Txn& t) { return ListEventMessages(t, reader_, id); });
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[2].message, batch[2].message);
  EXPECT_EQ((*listed)[0].event_message_guid, batch[0].event_message_guid);
  // Bad batches store nothing.
  std::vector<EventMessage> bad = batch;
  bad[1].event_message_guid = "nope";
  EXPECT_UNCHANGED_ON(TxR<std::int64_t>([&](Txn& t) { return InsertEvents(t, bad); }),
                      sdk::StatusCode::kInvalidArgument);
  bad = {batch[0], batch[0]};
  bad[0].event_message_guid = bad[1].event_message_guid = NewGuid();
  EXPECT_UNCHANGED_ON(TxR<std::int64_t>([&](Txn& t) { return InsertEvents(t, bad); }),
                      sdk::StatusCode::kInvalidArgument);
  bad = {batch[0]};
  bad[0].event_message_guid = NewGuid();
  bad[0].operation_id = 99999;
  EXPECT_UNCHANGED_ON(TxR<std::int64_t>([&](Txn& t) { return InsertEvents(t, bad); }),
                      sdk::StatusCode::kNotFound);
}

TEST_P(CatalogTest, CleanupRemovesOnlyOldFinishedJobs) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  std::int64_t done_id = StartedExecution();
  std::vector<ClaimedTask> c = Claim(w);
  ASSERT_TRUE(COMPLETE(w, c[0], TaskResult::kSucceeded).ok());
  std::int64_t pending_id = StartedExecution();
  Advance(1000);
  auto removed = TxR<std::int64_t>([&](Txn& t) { return CleanupCompletedJobs(t, now() - 5000); });
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0);
  removed = TxR<std::int64_t>([&](Txn& t) { return CleanupCompletedJobs(t, now()); });
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1);
  EXPECT_TRUE(Tasks(done_id).empty());
  EXPECT_EQ(Tasks(pending_id).size(), 1u);
  EXPECT_EQ(Exec(done_id).status, ExecutionStatus::kSucceeded);  // the execution stays
}

TEST_P(CatalogTest, MasterHeartbeatWritesMasterProperties) {
  MasterInfo info{"master01", "10.0.0.5", 8391, std::string(64, 'F'), "https://master01:8391"};
  ASSERT_TRUE(Tx([&](Txn& t) { return WriteMasterHeartbeat(t, info); }).ok());
  Advance(30'000);
  info.master_address = "https://ignored:1";
  ASSERT_TRUE(Tx([&](Txn& t) { return WriteMasterHeartbeat(t, info); }).ok());
  auto props = TxR<std::vector<Property>>([&](Txn& t) { return ListMasterProperties(t, reader_); });
  ASSERT_TRUE(props.ok());
  std::map<std::string, std::string> by_name;
  for (const Property& p : *props) by_name[p.name] = p.value;
  EXPECT_EQ(by_name["LAST_ONLINE_TIME"], FormatUtc(now()));
  EXPECT_EQ(by_name["MACHINE_NAME"], "master01");
  EXPECT_EQ(by_name["MACHINE_IP"], "10.0.0.5");
  EXPECT_EQ(by_name["MASTER_SERVICE_PORT"], "8391");
  EXPECT_EQ(by_name["SSLCERT_THUMBPRINT"], std::string(64, 'F'));
  EXPECT_EQ(by_name["MASTER_ADDRESS"], "https://master01:8391");  // set once, kept
  info.service_port = 70000;
  EXPECT_UNCHANGED_ON(TxR<std::int64_t>([&](Txn& t) -> sdk::Result<std::int64_t> {
                        SCALEOUT_RETURN_IF_ERROR(WriteMasterHeartbeat(t, info));
                        return 0;
                      }),
                      sdk::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scaleout::core::catalog::testing
