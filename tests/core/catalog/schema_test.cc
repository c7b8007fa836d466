// Schema, migrations and the state machine table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog_fixture.h"
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
  // A second database file that holds someone else's table.
  sdk::ConfigView::Map other = config_;
  for (auto& [key, value] : other) {
    if (key == "path") value = (dir_.path() / "other.db").string();
    // storage/odbc: another file, or another database on the test server.
    if (key == "connection_string" && dialect().name == "sqlite") {
      value.replace(value.find("catalog.db"), 10, "other.db");
    } else if (key == "connection_string") {
      auto server = test::PostgresServer::Shared();
      ASSERT_TRUE(server.ok()) << server.status().ToString();
      auto database = (*server)->CreateDatabase("other");
      ASSERT_TRUE(database.ok()) << database.status().ToString();
      value = (*server)->ConnectionString(*database);
    }
  }
  config_.swap(other);
  auto storage = MakeStorage();
  config_.swap(other);
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

// Add a backend here and the whole suite runs on it too.
std::vector<StorageParam> Backends() {
  std::vector<StorageParam> backends = {StorageParam{
      "sqlite", "storage/sqlite", {{"path", "{dir}/catalog.db"}, {"synchronous", "NORMAL"}}}};
#ifdef SCALEOUT_TEST_WITH_ODBC
  // "{postgres}": a fresh database on this binary's PostgreSQL test server.
  backends.push_back({"odbc_postgresql", "storage/odbc", {{"connection_string", "{postgres}"}}});
  backends.push_back({"odbc_sqlite",
                      "storage/odbc",
                      {{"connection_string", "Driver=SQLite3;Database={dir}/catalog.db"}}});
#endif
  return backends;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Storage, CatalogTest, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<StorageParam>& param_info) {
                           return param_info.param.label;
                         });

}  // namespace scaleout::core::catalog::testing
