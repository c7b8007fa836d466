// The catalog's maintenance (SSIS's maintenance job): executions past
// RETENTION_WINDOW go with everything that belongs to them, versions beyond
// MAX_PROJECT_VERSIONS go unless an execution in flight uses them, a deleted
// project's versions and finally its row go, and the switches hold it back.
#include "core/catalog/maintenance.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog_fixture.h"
#include "core/catalog/environments.h"

namespace scaleout::core::catalog::testing {
namespace {

constexpr std::int64_t kDay = 86'400'000;

class MaintenanceTest : public CatalogTest {
 protected:
  MaintenanceResult Maintain(std::int64_t batch = 1000) {
    auto result = TxR<MaintenanceResult>([&](Txn& t) { return RunCatalogMaintenance(t, batch); });
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : MaintenanceResult{};
  }
  void Configure(const std::string& name, const std::string& value) {
    ASSERT_TRUE(Tx([&](Txn& t) { return ConfigureCatalog(t, admin_, name, value); }).ok());
  }
  // An execution that ran on `worker` and succeeded.
  std::int64_t FinishedExecution(const std::string& worker) {
    const std::int64_t id = StartedExecution();
    const std::vector<ClaimedTask> claimed = Claim(worker, 1);
    EXPECT_EQ(claimed.size(), 1u);
    if (claimed.empty()) return id;
    EXPECT_TRUE(Tx([&](Txn& t) {
                  return CompleteTask(t, worker, claimed[0].task_id, claimed[0].lease_epoch,
                                      TaskResult::kSucceeded, 0, "done")
                      .status();
                }).ok());
    return id;
  }
  std::int64_t Rows(const std::string& sql) {
    auto q = conn().Prepare(sql);
    EXPECT_TRUE(q.ok());
    auto row = (*q)->Step();
    EXPECT_TRUE(row.ok() && *row);
    return (*q)->ColumnInt64(0);
  }
  bool Exists(std::int64_t execution_id) {
    return TxR<Execution>([&](Txn& t) { return GetExecution(t, admin_, execution_id); }).ok();
  }
};

TEST_P(MaintenanceTest, ExecutionsPastTheRetentionWindowGoWithAllThatIsTheirs) {
  DeployBasic();
  EnableScaleOut();
  const std::string w = AddWorker('A');
  const std::int64_t old1 = FinishedExecution(w);
  const std::int64_t old2 = FinishedExecution(w);
  // A created one with an allow-list: never ended, so kept.
  const std::int64_t created = CreatedExecution(/*useanyworker=*/false);
  ASSERT_TRUE(Tx([&](Txn& t) { return AddExecutionWorker(t, admin_, created, w); }).ok());
  Configure("RETENTION_WINDOW", "1");
  Advance(kDay / 2);
  const std::int64_t recent = FinishedExecution(w);
  const std::int64_t pending = StartedExecution();  // after the claims: it stays pending

  // Within the window nothing goes; switched off, nothing goes either.
  EXPECT_FALSE(Maintain().any());
  Advance(kDay);  // old1 and old2 ended 1.5 days ago, recent 1 day ago
  Configure("OPERATION_CLEANUP_ENABLED", "FALSE");
  EXPECT_EQ(Maintain().executions, 0);
  Configure("OPERATION_CLEANUP_ENABLED", "TRUE");

  // In passes of one: the oldest first, and `more` until done.
  MaintenanceResult first = Maintain(1);
  EXPECT_EQ(first.executions, 1);
  EXPECT_TRUE(first.more);
  EXPECT_FALSE(Exists(old1));
  EXPECT_TRUE(Exists(old2));
  MaintenanceResult second = Maintain(1);
  EXPECT_EQ(second.executions, 1);
  EXPECT_FALSE(Exists(old2));
  EXPECT_EQ(Maintain(1).executions, 0);
  EXPECT_TRUE(Exists(recent));
  EXPECT_TRUE(Exists(pending));
  EXPECT_TRUE(Exists(created));
  // Their rows in every table went with them; the deploy's operation too.
  for (const std::string table : {"tasks", "execution_parameter_values", "execution_workers"}) {
    EXPECT_EQ(Rows("SELECT COUNT(*) FROM " + table + " WHERE execution_id IN (" +
                   std::to_string(old1) + ", " + std::to_string(old2) + ")"),
              0)
        << table;
  }
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM operations WHERE operation_id IN (" + std::to_string(old1) +
                 ", " + std::to_string(old2) + ")"),
            0);
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM operations WHERE operation_type = 101"), 0);
  EXPECT_EQ(Exec(recent).status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(Exec(pending).status, ExecutionStatus::kPending);
}

TEST_P(MaintenanceTest, AProjectKeepsItsNewestVersionsAndAnyAnExecutionInFlightUses) {
  DeployBasic();  // version 1
  EnableScaleOut();
  AddWorker('A');
  DeployBasic();                                    // version 2
  const std::int64_t pending = StartedExecution();  // of version 2, waiting for a worker
  DeployBasic();                                    // version 3
  DeployBasic();                                    // version 4
  const std::int64_t v2 = Exec(pending).project_lsn;
  Configure("MAX_PROJECT_VERSIONS", "2");
  Configure("VERSION_CLEANUP_ENABLED", "FALSE");
  EXPECT_EQ(Maintain().versions, 0);
  Configure("VERSION_CLEANUP_ENABLED", "TRUE");
  EXPECT_EQ(Maintain().versions, 1);  // version 1; version 2 is in use
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM object_versions"), 3);
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM packages WHERE project_version_lsn = " + std::to_string(v2)),
            2);
  // Its execution gone from the queue (stopped), version 2 goes too.
  ASSERT_TRUE(Tx([&](Txn& t) { return StopOperation(t, admin_, pending); }).ok());
  EXPECT_EQ(Maintain().versions, 1);
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM object_versions"), 2);
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM packages WHERE project_version_lsn = " + std::to_string(v2)),
            0);
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM object_parameters WHERE project_version_lsn = " +
                 std::to_string(v2)),
            0);
  // The current version still runs.
  EXPECT_EQ(Exec(StartedExecution()).status, ExecutionStatus::kPending);
}

TEST_P(MaintenanceTest, ADeletedProjectGoesOnceItsHistoryHasGone) {
  DeployBasic();
  EnableScaleOut();
  const std::string w = AddWorker('A');
  const std::int64_t finished = FinishedExecution(w);
  ASSERT_TRUE(Tx([&](Txn& t) { return DeleteProject(t, admin_, "F", "P"); }).ok());
  MaintenanceResult result = Maintain();
  EXPECT_EQ(result.versions, 1);  // whatever the settings
  EXPECT_EQ(result.projects, 0);  // its execution still refers to it
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM projects"), 1);
  EXPECT_TRUE(Exists(finished));
  // The folder is held by that history (and by an environment) until it goes.
  ASSERT_TRUE(
      TxR<std::int64_t>([&](Txn& t) { return CreateEnvironment(t, admin_, "F", "Prod"); }).ok());
  auto remove_folder = [&] { return Tx([&](Txn& t) { return DeleteFolder(t, admin_, "F"); }); };
  EXPECT_REFUSED_UNCHANGED(remove_folder(), sdk::StatusCode::kFailedPrecondition,
                           "holds 0 project(s) and 1 environment(s)");
  ASSERT_TRUE(Tx([&](Txn& t) { return DeleteEnvironment(t, admin_, "F", "Prod"); }).ok());
  EXPECT_REFUSED_UNCHANGED(remove_folder(), sdk::StatusCode::kFailedPrecondition,
                           "history of 1 deleted project(s)");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return DeleteFolder(t, executor_, "F"); }),
                           sdk::StatusCode::kPermissionDenied, "ssis_admin");
  Configure("RETENTION_WINDOW", "1");
  Advance(2 * kDay);
  result = Maintain();
  EXPECT_EQ(result.executions, 1);
  EXPECT_EQ(result.projects, 1);
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM projects"), 0);
  EXPECT_FALSE(Maintain().any());
  EXPECT_TRUE(remove_folder().ok());
  EXPECT_REFUSED_UNCHANGED(remove_folder(), sdk::StatusCode::kNotFound, "create it first");
}

INSTANTIATE_TEST_SUITE_P(Storage, MaintenanceTest, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<StorageParam>& param_info) {
                           return param_info.param.label;
                         });

}  // namespace
}  // namespace scaleout::core::catalog::testing
