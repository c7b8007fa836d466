// Schema, migrations and the state machine table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "catalog_fixture.h"
#include "core/catalog/rows.h"
#include "core/catalog/state_machine.h"
#include "core/catalog/transaction.h"
#include "tests/support/postgres_server.h"

namespace scaleout::core::catalog::testing {
namespace {

using ::testing::HasSubstr;

TEST_P(CatalogTest, FreshCatalogHasSchemaVersionAndSsisDefaults) {
  auto version = ReadSchemaVersion(conn(), dialect());
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(*version, kSchemaVersion);
  auto props = TxR<std::vector<Property>>([&](Txn& t) { return ListCatalogProperties(t, admin_); });
  ASSERT_TRUE(props.ok());
  std::map<std::string, std::string> by_name;
  for (const Property& p : *props) by_name[p.name] = p.value;
  EXPECT_EQ(by_name["DEFAULT_EXECUTION_MODE"], "0");
  EXPECT_EQ(by_name["IS_SCALEOUT_ENABLED"], "False");
  EXPECT_EQ(by_name["RETENTION_WINDOW"], "365");
  EXPECT_EQ(by_name["OPERATION_CLEANUP_ENABLED"], "TRUE");
  EXPECT_EQ(by_name["SERVER_LOGGING_LEVEL"], "1");
}

TEST_P(CatalogTest, ReopeningAnExistingCatalogChangesNothing) {
  const std::string before = Snapshot();
  auto storage = MakeStorage();
  ASSERT_NE(storage, nullptr);
  auto again = OpenCatalog(*storage, clock());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Snapshot(), before);
}

// Takes one id of the "operation" counter on `c`; commits, or rolls back when
// `commit` is false.
std::int64_t TakeOperationId(sdk::Connection& c, bool commit) {
  std::int64_t id = -1;
  sdk::Status s = RunInTransaction(c, sdk::TransactionMode::kWrite, [&](sdk::Connection& t) {
    auto next = internal::NextBlockId(t, "operation");
    if (!next.ok()) return next.status();
    id = *next;
    return commit ? sdk::Status::Ok() : sdk::Status::Aborted("rolled back on purpose");
  });
  EXPECT_EQ(s.ok(), commit) << s.ToString();
  return id;
}

TEST_P(CatalogTest, OperationIdBlocksSurviveRollbacksAndOtherConnections) {
  auto storage = MakeStorage();
  ASSERT_NE(storage, nullptr);
  auto second = storage->Open();
  auto third = storage->Open();
  ASSERT_TRUE(second.ok() && third.ok());

  // Ids from one block are consecutive.
  const std::int64_t first = TakeOperationId(conn(), true);
  EXPECT_EQ(TakeOperationId(conn(), true), first + 1);
  // Another connection cannot use this connection's block and reserves the next.
  const std::int64_t theirs = TakeOperationId(**second, true);
  EXPECT_GT(theirs, first + 1);
  // This connection sees the newer reservation and reserves again, in a
  // transaction that rolls back: the reservation is undone with it.
  const std::int64_t rolled_back = TakeOperationId(conn(), false);
  EXPECT_GT(rolled_back, theirs);
  // A third connection reserves the same range anew.
  const std::int64_t reserved_anew = TakeOperationId(**third, true);
  EXPECT_EQ(reserved_anew, rolled_back);
  // This connection's block was rolled back: it must not hand out its next id
  // (the third connection's next one), but reserve past the third's block.
  const std::int64_t ours = TakeOperationId(conn(), true);
  EXPECT_GT(ours, reserved_anew);
  const std::int64_t third_next = TakeOperationId(**third, true);
  EXPECT_NE(third_next, ours);
  EXPECT_GT(third_next, reserved_anew);
}

TEST_P(CatalogTest, NewerSchemaIsRefusedWithUpgradeAdvice) {
  ASSERT_TRUE(RunInTransaction(conn(), sdk::TransactionMode::kWrite, [](sdk::Connection& c) {
                return c.ExecuteScript(
                    "INSERT INTO schema_version (version, applied_time) VALUES (99, 0)");
              }).ok());
  const std::string before = Snapshot();
  auto storage = MakeStorage();
  ASSERT_NE(storage, nullptr);
  auto opened = OpenCatalog(*storage, clock());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(Code(opened), sdk::StatusCode::kFailedPrecondition);
  EXPECT_THAT(opened.status().message(),
              HasSubstr("catalog schema version 99 is newer than this build supports (" +
                        std::to_string(kSchemaVersion) + "); upgrade scaleout"));
  EXPECT_EQ(Snapshot(), before);
}

TEST_P(CatalogTest, DatabaseWithForeignTablesIsNotACatalog) {
  // A second database that holds someone else's table.
  auto storage = MakeStorageOnOtherDatabase("other");
  ASSERT_NE(storage, nullptr);
  auto c = storage->Open();
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->ExecuteScript("CREATE TABLE invoices (id INTEGER PRIMARY KEY)").ok());
  sdk::Status migrated = Migrate(**c, storage->GetDialect(), now());
  EXPECT_EQ(Code(migrated), sdk::StatusCode::kFailedPrecondition);
  EXPECT_THAT(migrated.message(), HasSubstr("not a scaleout catalog"));
  // Nothing was created next to the foreign table.
  auto probe = (*c)->Prepare(dialect().name == "sqlite"
                                 ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
                                 : "SELECT COUNT(*) FROM information_schema.tables WHERE "
                                   "table_schema = current_schema()");
  ASSERT_TRUE(probe.ok());
  ASSERT_TRUE(*(*probe)->Step());
  EXPECT_EQ((*probe)->ColumnInt64(0), 1);
}

// The rows of a Snapshot() sorted within each table (a rebuilt table may
// return rows with the same first column in another order), without
// schema_version (which a migration adds to).
std::string CatalogRows(const std::string& snapshot) {
  std::string out;
  std::vector<std::string> rows;
  bool skipping = false;
  auto flush = [&] {
    std::sort(rows.begin(), rows.end());
    for (const std::string& r : rows) out += r + "\n";
    rows.clear();
  };
  std::istringstream in(snapshot);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("## ")) {
      flush();
      skipping = line == "## schema_version";
      if (!skipping) out += line + "\n";
    } else if (!skipping) {
      rows.push_back(line);
    }
  }
  flush();
  return out;
}

// `snapshot` with the last column of every row of `table` removed (the
// column a migration appended).
std::string WithoutLastColumn(const std::string& snapshot, const std::string& table) {
  std::string out;
  bool inside = false;
  std::istringstream in(snapshot);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("## ")) {
      inside = line == "## " + table;
    } else if (inside && line.size() >= 2) {
      line.erase(line.find_last_of('|', line.size() - 2) + 1);
    }
    out += line + "\n";
  }
  return out;
}

TEST_P(CatalogTest, MigrationsKeepEveryRowOfAVersionOneCatalog) {
  auto storage = MakeStorageOnOtherDatabase("v1");
  ASSERT_NE(storage, nullptr);
  auto opened = storage->Open();
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_TRUE(MigrateTo(**opened, dialect(), now(), 1).ok());
  std::unique_ptr<sdk::Connection> current = SwapConnection(std::move(opened).value());
  // Today's procedures keep migration 3's counts and id reservations and
  // read migration 5's configured parameter values (with migration 6's
  // flag) and projects' deleted_time; the tables and the columns are lent to the version 1
  // catalog while the rows are written and dropped before the snapshot.
  ASSERT_TRUE(conn()
                  .ExecuteScript("CREATE TABLE worker_task_counts (worker_agent_id " +
                                 dialect().text_type + " PRIMARY KEY, claimed_task_count " +
                                 dialect().int64_type + " NOT NULL)")
                  .ok());
  ASSERT_TRUE(conn()
                  .ExecuteScript("ALTER TABLE id_counters ADD COLUMN reservation " +
                                 dialect().int64_type + " NOT NULL DEFAULT 0")
                  .ok());
  ASSERT_TRUE(
      conn()
          .ExecuteScript("ALTER TABLE projects ADD COLUMN deleted_time " + dialect().int64_type)
          .ok());
  const std::string& text = dialect().text_type;
  ASSERT_TRUE(conn()
                  .ExecuteScript("CREATE TABLE object_parameter_values (project_id " +
                                 dialect().int64_type + ", object_type " + dialect().int64_type +
                                 ", object_name " + text + ", parameter_name " + text +
                                 ", value_type " + text + ", value " + text + ", sensitive " +
                                 dialect().int64_type + " NOT NULL DEFAULT 0)")
                  .ok());

  // A version 1 catalog with a pending, a running, a finished and a retried
  // execution (parameters, tasks in every status, an allow-list).
  DeployBasic();
  EnableScaleOut();
  const std::string w1 = AddWorker('A');
  const std::string w2 = AddWorker('B');
  const std::int64_t finished = StartedExecution();
  std::vector<ClaimedTask> first = Claim(w1, 1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(Tx([&](Txn& t) {
                return CompleteTask(t, w1, first[0].task_id, first[0].lease_epoch,
                                    TaskResult::kSucceeded, 0, "done")
                    .status();
              }).ok());
  const std::int64_t retried = StartedExecution(1, false, {w2});
  std::vector<ClaimedTask> second = Claim(w2, 1);
  ASSERT_EQ(second.size(), 1u);
  Advance(1000);  // the retry is queued before the pending execution below
  ASSERT_TRUE(Tx([&](Txn& t) {
                return CompleteTask(t, w2, second[0].task_id, second[0].lease_epoch,
                                    TaskResult::kFailed, 1, "failed once")
                    .status();
              }).ok());
  const std::int64_t running = StartedExecution();
  ASSERT_EQ(Claim(w1, 1).size(), 1u);
  Advance(1000);
  const std::int64_t pending = StartedExecution();
  ASSERT_TRUE(conn().ExecuteScript("DROP TABLE worker_task_counts").ok());
  ASSERT_TRUE(conn().ExecuteScript("DROP TABLE object_parameter_values").ok());
  ASSERT_TRUE(conn().ExecuteScript("ALTER TABLE projects DROP COLUMN deleted_time").ok());
  ASSERT_TRUE(conn().ExecuteScript("ALTER TABLE id_counters DROP COLUMN reservation").ok());
  const std::string before = CatalogRows(Snapshot({"worker_task_counts"}));

  ASSERT_TRUE(Migrate(conn(), dialect(), now()).ok());
  auto version = ReadSchemaVersion(conn(), dialect());
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, kSchemaVersion);
  // Migration 6 adds object_versions' restored_by_name and last_restored_time.
  const std::string after = WithoutLastColumn(
      WithoutLastColumn(Snapshot({"worker_task_counts", "object_parameter_values"}),
                        "object_versions"),
      "object_versions");
  EXPECT_EQ(CatalogRows(WithoutLastColumn(WithoutLastColumn(after, "id_counters"), "projects")),
            before);
  // Migration 3 counted the running tasks: w1 runs one, w2 none.
  EXPECT_EQ(ClaimedCount(w1), 1);
  EXPECT_EQ(ClaimedCount(w2), 0);

  // The migrated catalog works through the new indexes: the retry and the
  // pending execution are claimed oldest first, and the finished ones stay.
  EXPECT_EQ(Exec(finished).status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(Exec(running).status, ExecutionStatus::kRunning);
  // Filtering by status still finds every execution in it once migration 4
  // dropped the status index: newest first.
  ExecutionFilter by_status;
  by_status.status = ExecutionStatus::kPending;
  auto listed =
      TxR<std::vector<Execution>>([&](Txn& t) { return ListExecutions(t, admin_, by_status); });
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::vector<std::int64_t> ids;
  for (const Execution& e : *listed) ids.push_back(e.execution_id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{pending, retried}));
  std::vector<ClaimedTask> retry = Claim(w2, 10);
  ASSERT_EQ(retry.size(), 2u);
  EXPECT_EQ(retry[0].execution_id, retried);
  EXPECT_EQ(retry[0].attempt, 2);
  EXPECT_EQ(retry[1].execution_id, pending);
  EXPECT_EQ(Exec(pending).status, ExecutionStatus::kRunning);
  SwapConnection(std::move(current));
}

TEST_P(CatalogTest, DialectSubstitutionUsesTheDriversTypeNames) {
  const std::string ddl =
      SubstituteDialect("a {INT64}, b {TEXT}, c {BLOB}, d {DOUBLE}, e {ID_PK}", dialect());
  EXPECT_EQ(ddl, "a " + dialect().int64_type + ", b " + dialect().text_type + ", c " +
                     dialect().blob_type + ", d " + dialect().double_type + ", e " +
                     dialect().identity_primary_key);
}

// ---- the state machine table (pure) ------------------------------------------------------

constexpr ExecutionStatus kAll[] = {
    ExecutionStatus::kCreated,   ExecutionStatus::kRunning,  ExecutionStatus::kCanceled,
    ExecutionStatus::kFailed,    ExecutionStatus::kPending,  ExecutionStatus::kEndedUnexpectedly,
    ExecutionStatus::kSucceeded, ExecutionStatus::kStopping, ExecutionStatus::kCompleted};
constexpr Event kEvents[] = {Event::kStart,       Event::kClaim, Event::kSucceed,
                             Event::kFail,        Event::kRetry, Event::kEndUnexpectedly,
                             Event::kRequestStop, Event::kCancel};

TEST(StateMachine, EveryPairFollowsTheTableAndRefusalsNameAllowedStates) {
  for (Entity entity : {Entity::kExecution, Entity::kTask}) {
    for (Event event : kEvents) {
      for (ExecutionStatus from : kAll) {
        std::optional<ExecutionStatus> expected;
        for (const TransitionRule& rule : TransitionTable()) {
          if (rule.entity == entity && rule.event == event && rule.from == from) expected = rule.to;
        }
        auto result = Transition(entity, event, from, "execution 42");
        if (expected) {
          ASSERT_TRUE(result.ok()) << result.status().ToString();
          EXPECT_EQ(*result, *expected);
        } else {
          ASSERT_FALSE(result.ok());
          EXPECT_EQ(Code(result), sdk::StatusCode::kFailedPrecondition);
          EXPECT_THAT(result.status().message(), HasSubstr(StatusLabel(from)));
        }
      }
    }
  }
}

TEST(StateMachine, TerminalStatesHaveNoWayOut) {
  for (const TransitionRule& rule : TransitionTable()) EXPECT_FALSE(IsTerminal(rule.from));
}

TEST(StateMachine, StartFromSucceededSaysOnlyCreatedCanStart) {
  auto r =
      Transition(Entity::kExecution, Event::kStart, ExecutionStatus::kSucceeded, "execution 42");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "execution 42 is succeeded (7); only created (1) executions can be started");
}

TEST(StateMachine, SsisStatusCodes) {
  EXPECT_EQ(static_cast<int>(ExecutionStatus::kCreated), 1);
  EXPECT_EQ(static_cast<int>(ExecutionStatus::kRunning), 2);
  EXPECT_EQ(static_cast<int>(ExecutionStatus::kCanceled), 3);
  EXPECT_EQ(static_cast<int>(ExecutionStatus::kFailed), 4);
  EXPECT_EQ(static_cast<int>(ExecutionStatus::kPending), 5);
  EXPECT_EQ(static_cast<int>(ExecutionStatus::kEndedUnexpectedly), 6);
  EXPECT_EQ(static_cast<int>(ExecutionStatus::kSucceeded), 7);
  EXPECT_EQ(static_cast<int>(ExecutionStatus::kStopping), 8);
  EXPECT_EQ(static_cast<int>(ExecutionStatus::kCompleted), 9);
  EXPECT_FALSE(StatusFromCode(0).has_value());
  EXPECT_FALSE(StatusFromCode(10).has_value());
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Storage, CatalogTest, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<StorageParam>& param_info) {
                           return param_info.param.label;
                         });

}  // namespace scaleout::core::catalog::testing
