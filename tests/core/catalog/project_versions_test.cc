// catalog.object_versions and catalog.restore_project: the versions a
// project keeps, and making an earlier one current again: what executions
// then run, what can no longer start, refusals that change nothing, roles,
// and the maintenance keeping a restored version however old.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog_fixture.h"
#include "core/catalog/maintenance.h"
#include "core/catalog/rows.h"

namespace scaleout::core::catalog::testing {
namespace {

using StatusCode = sdk::StatusCode;

class ProjectVersionsTest : public CatalogTest {
 protected:
  // Version 1 (DeployBasic) and version 2 (Main.dtsx "<main v2/>").
  void DeployTwo() {
    DeployBasic();
    ParameterSpec rows;
    rows.object_type = kObjectPackage;
    rows.object_name = "Main.dtsx";
    rows.name = "Rows";
    rows.data_type = "Int32";
    const ProjectDeployment d = NextVersion({rows}, "<main v2/>");
    ASSERT_TRUE(TxR<DeployResult>([&](Txn& t) { return DeployProject(t, admin_, d); }).ok());
  }
  std::vector<ProjectVersion> Versions(const Caller& caller) {
    auto v = TxR<std::vector<ProjectVersion>>(
        [&](Txn& t) { return ListProjectVersions(t, caller, "F", "P"); });
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : std::vector<ProjectVersion>{};
  }
  sdk::Status Restore(std::int64_t lsn, const Caller* caller = nullptr,
                      const std::string& project = "P") {
    return TxR<std::int64_t>([&](Txn& t) {
             return RestoreProject(t, caller ? *caller : admin_, "F", project, lsn);
           })
        .status();
  }
};

TEST_P(ProjectVersionsTest, ARestoredVersionIsWhatNewExecutionsRun) {
  DeployTwo();
  EnableScaleOut();
  const std::string worker = AddWorker('a', true, 100);
  std::vector<ProjectVersion> versions = Versions(reader_);
  ASSERT_EQ(versions.size(), 2u);
  const std::int64_t v2 = versions[0].object_version_lsn;
  const std::int64_t v1 = versions[1].object_version_lsn;
  EXPECT_GT(v2, v1);
  EXPECT_TRUE(versions[0].current);
  EXPECT_FALSE(versions[1].current);
  EXPECT_EQ(versions[1].package_count, 2);  // Main.dtsx and Child.dtsx
  EXPECT_EQ(versions[0].package_count, 1);
  EXPECT_EQ(versions[0].created_by, "alice");
  EXPECT_FALSE(versions[1].restored_by.has_value());
  const std::int64_t outdated = CreatedExecution();  // for version 2

  Advance(5000);
  auto operation =
      TxR<std::int64_t>([&](Txn& t) { return RestoreProject(t, admin_, "F", "P", v1); });
  ASSERT_TRUE(operation.ok()) << operation.status().ToString();
  versions = Versions(admin_);
  EXPECT_FALSE(versions[0].current);
  EXPECT_TRUE(versions[1].current);
  EXPECT_EQ(versions[1].restored_by, "alice");
  EXPECT_EQ(versions[1].last_restored_time, now());
  auto ops = TxR<std::vector<Operation>>([&](Txn& t) { return ListOperations(t, admin_); });
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  bool recorded = false;
  for (const Operation& o : *ops) {
    recorded = recorded || (o.operation_id == *operation && o.operation_type == 106 &&
                            o.status == ExecutionStatus::kSucceeded);
  }
  EXPECT_TRUE(recorded);

  // A new execution runs version 1's package; one created for version 2 cannot start.
  const std::int64_t id = StartedExecution();
  EXPECT_EQ(Exec(id).project_lsn, v1);
  std::vector<ClaimedTask> claimed = Claim(worker, 1);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].project_lsn, v1);
  EXPECT_EQ(claimed[0].package_sha256, internal::Sha256Hex("<main/>"));
  ASSERT_TRUE(Tx([&](Txn& t) {
                return SetExecutionParameterValue(t, admin_, outdated, 30, "Rows", "1");
              }).ok());
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return StartExecution(t, admin_, outdated); }),
                           StatusCode::kFailedPrecondition, "redeployed or restored");
  // Back to version 2, and a new deploy after that is version 3 as usual.
  ASSERT_TRUE(Restore(v2).ok());
  EXPECT_TRUE(Versions(admin_)[0].current);
}

TEST_P(ProjectVersionsTest, AVersionComesBackAsItWasDeployedWithoutSensitiveDefaults) {
  DeployTwo();
  const std::vector<ProjectVersion> versions = Versions(admin_);
  auto get = [&](std::optional<std::int64_t> lsn, const Caller& who) {
    return TxR<ProjectExport>([&](Txn& t) { return GetProject(t, who, "F", "P", lsn); });
  };
  auto current = get(std::nullopt, reader_);
  ASSERT_TRUE(current.ok()) << current.status().ToString();
  EXPECT_EQ(current->object_version_lsn, versions[0].object_version_lsn);
  ASSERT_EQ(current->project.packages.size(), 1u);
  EXPECT_EQ(current->project.packages[0].content, "<main v2/>");
  auto first = get(versions[1].object_version_lsn, reader_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const ProjectDeployment& d = first->project;
  ASSERT_EQ(d.packages.size(), 2u);  // by name
  EXPECT_EQ(d.packages[0].name, "Child.dtsx");
  EXPECT_FALSE(d.packages[0].entry_point);
  EXPECT_EQ(d.packages[1].content, "<main/>");
  EXPECT_TRUE(d.packages[1].entry_point);
  ASSERT_EQ(d.parameters.size(), 3u);  // project Conn, Password; package Rows
  EXPECT_EQ(d.parameters[0].name, "Conn");
  EXPECT_EQ(d.parameters[0].default_value, "db");
  EXPECT_EQ(d.parameters[1].name, "Password");
  EXPECT_TRUE(d.parameters[1].sensitive);
  EXPECT_FALSE(d.parameters[1].default_value.has_value()) << "a sensitive default left the catalog";
  EXPECT_EQ(d.parameters[2].object_type, kObjectPackage);
  EXPECT_EQ(d.parameters[2].object_name, "Main.dtsx");
  EXPECT_TRUE(d.parameters[2].required);
  // Deployed again, it is a project of its own with the same packages.
  ProjectDeployment again = d;
  again.project_name = "Copy";
  ASSERT_TRUE(TxR<DeployResult>([&](Txn& t) { return DeployProject(t, admin_, again); }).ok());

  EXPECT_EQ(get(424242, reader_).status().code(), StatusCode::kNotFound);
  const Caller nobody{"nobody", {}};
  EXPECT_EQ(get(std::nullopt, nobody).status().code(), StatusCode::kPermissionDenied);
}

TEST_P(ProjectVersionsTest, RefusalsChangeNothing) {
  DeployTwo();
  const std::int64_t v1 = Versions(admin_)[1].object_version_lsn;
  EXPECT_REFUSED_UNCHANGED(Restore(v1, &reader_), StatusCode::kPermissionDenied, "ssis_admin");
  EXPECT_REFUSED_UNCHANGED(Restore(v1, &executor_), StatusCode::kPermissionDenied, "ssis_admin");
  EXPECT_REFUSED_UNCHANGED(Restore(424242), StatusCode::kNotFound, "has no version 424242");
  EXPECT_REFUSED_UNCHANGED(Restore(v1, nullptr, "Nope"), StatusCode::kNotFound, "deploy_project");
  // A version of another project is not this one's.
  ProjectDeployment other = NextVersion({});
  other.project_name = "Q";
  auto q = TxR<DeployResult>([&](Txn& t) { return DeployProject(t, admin_, other); });
  ASSERT_TRUE(q.ok());
  EXPECT_REFUSED_UNCHANGED(Restore(q->object_version_lsn), StatusCode::kNotFound, "has no version");
  EXPECT_EQ(TxR<std::vector<ProjectVersion>>(
                [&](Txn& t) { return ListProjectVersions(t, reader_, "F", "Nope"); })
                .status()
                .code(),
            StatusCode::kNotFound);
  const Caller nobody{"nobody", {}};
  EXPECT_EQ(TxR<std::vector<ProjectVersion>>(
                [&](Txn& t) { return ListProjectVersions(t, nobody, "F", "P"); })
                .status()
                .code(),
            StatusCode::kPermissionDenied);
}

TEST_P(ProjectVersionsTest, TheMaintenanceKeepsARestoredVersionHoweverOld) {
  DeployTwo();
  const std::int64_t v1 = Versions(admin_)[1].object_version_lsn;
  ASSERT_TRUE(Restore(v1).ok());
  ASSERT_TRUE(
      Tx([&](Txn& t) { return ConfigureCatalog(t, admin_, "MAX_PROJECT_VERSIONS", "1"); }).ok());
  auto result = TxR<MaintenanceResult>([&](Txn& t) { return RunCatalogMaintenance(t, 1000); });
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->versions, 0);  // version 2 is the newest, version 1 the current one
  ASSERT_EQ(Versions(admin_).size(), 2u);
  // A third deploy: version 2 is neither the newest nor current any more.
  const ProjectDeployment d = NextVersion({}, "<main v3/>");
  ASSERT_TRUE(TxR<DeployResult>([&](Txn& t) { return DeployProject(t, admin_, d); }).ok());
  result = TxR<MaintenanceResult>([&](Txn& t) { return RunCatalogMaintenance(t, 1000); });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->versions, 2);
  const std::vector<ProjectVersion> left = Versions(admin_);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_TRUE(left[0].current);
}

INSTANTIATE_TEST_SUITE_P(Storage, ProjectVersionsTest, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<StorageParam>& param_info) {
                           return param_info.param.label;
                         });

}  // namespace
}  // namespace scaleout::core::catalog::testing
