// catalog.rename_folder, catalog.rename_environment and catalog.move_project:
// what follows a folder, an environment or a project to its new name or
// place (schedules, environment references, what executions then resolve),
// what keeps its old name (the executions' history), and refusals that
// change nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog_fixture.h"
#include "core/catalog/environments.h"
#include "core/catalog/rows.h"
#include "core/catalog/schedules.h"

namespace scaleout::core::catalog::testing {
namespace {

using StatusCode = sdk::StatusCode;

class RenamesTest : public CatalogTest {
 protected:
  // F/P (DeployBasic), environment Prod in F with Conn = "prod-db", a
  // relative reference of P to it with Conn bound, and a schedule of P.
  void SetUpProject() {
    DeployBasic();
    ASSERT_TRUE(
        TxR<std::int64_t>([&](Txn& t) { return CreateEnvironment(t, admin_, "F", "Prod"); }).ok());
    ASSERT_TRUE(Tx([&](Txn& t) {
                  return CreateEnvironmentVariable(t, admin_, "F", "Prod", "Conn", "String", false,
                                                   "prod-db");
                }).ok());
    auto ref = TxR<std::int64_t>([&](Txn& t) {
      return CreateEnvironmentReference(t, admin_, "F", "P", "Prod", std::nullopt);
    });
    ASSERT_TRUE(ref.ok());
    reference_ = *ref;
    ASSERT_TRUE(Tx([&](Txn& t) {
                  return SetObjectParameterValue(t, admin_, kObjectProject, "F", "P", "Conn",
                                                 "Conn", std::nullopt, "R");
                }).ok());
    Schedule s;
    s.name = "nightly";
    s.cron_expression = "@daily";
    s.folder_name = "F";
    s.project_name = "P";
    s.package_name = "Main.dtsx";
    s.next_due_at = now() + 1000;
    ASSERT_TRUE(TxR<std::int64_t>([&](Txn& t) { return CreateSchedule(t, admin_, s); }).ok());
  }
  sdk::Result<std::int64_t> Create(const std::string& folder) {
    CreateExecutionRequest r{folder, "P", "Main.dtsx", reference_, false, true, true};
    return TxR<std::int64_t>([&](Txn& t) { return CreateExecution(t, admin_, r); });
  }
  std::string ScheduleFolder() {
    auto all = TxR<std::vector<Schedule>>([&](Txn& t) { return ListSchedules(t, admin_); });
    EXPECT_TRUE(all.ok() && all->size() == 1u);
    return all.ok() && !all->empty() ? (*all)[0].folder_name : "";
  }
  std::string ConnOf(std::int64_t execution_id) {
    auto values = internal::LoadParameterValues(conn(), execution_id);
    EXPECT_TRUE(values.ok());
    for (const ParameterValue& v : *values) {
      if (v.parameter_name == "Conn") return v.value.value_or("");
    }
    return "";
  }
  std::int64_t reference_ = 0;
};

TEST_P(RenamesTest, ARenamedFolderTakesItsSchedulesAndAbsoluteReferencesWithIt) {
  SetUpProject();
  const std::int64_t before = *Create("F");
  // Another project refers to Prod absolutely, by its folder's name.
  ProjectDeployment q = NextVersion({});
  q.project_name = "Q";
  ASSERT_TRUE(TxR<DeployResult>([&](Txn& t) { return DeployProject(t, admin_, q); }).ok());
  ASSERT_TRUE(TxR<std::int64_t>([&](Txn& t) {
                return CreateEnvironmentReference(t, admin_, "F", "Q", "Prod", "F");
              }).ok());

  ASSERT_TRUE(Tx([&](Txn& t) { return RenameFolder(t, admin_, "F", "Finance"); }).ok());
  EXPECT_EQ(ScheduleFolder(), "Finance");
  auto refs = TxR<std::vector<EnvironmentReference>>(
      [&](Txn& t) { return ListEnvironmentReferences(t, admin_, "Finance", "Q"); });
  ASSERT_TRUE(refs.ok()) << refs.status().ToString();
  ASSERT_EQ(refs->size(), 1u);
  EXPECT_EQ((*refs)[0].environment_folder_name, "Finance");
  // New executions use the new name and still resolve the environment; the
  // one created before keeps the name it was created under.
  auto after = Create("Finance");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(ConnOf(*after), "prod-db");
  EXPECT_EQ(Exec(*after).folder_name, "Finance");
  EXPECT_EQ(Exec(before).folder_name, "F");
  EXPECT_EQ(Create("F").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(TxR<std::int64_t>([&](Txn& t) { return CreateFolder(t, admin_, "Other"); }).ok());
  auto rename = [&](const std::string& from, const std::string& to, const Caller& who) {
    return Tx([&](Txn& t) { return RenameFolder(t, who, from, to); });
  };
  EXPECT_REFUSED_UNCHANGED(rename("Finance", "Other", admin_), StatusCode::kAlreadyExists,
                           "exists already");
  EXPECT_REFUSED_UNCHANGED(rename("Nope", "X", admin_), StatusCode::kNotFound, "create_folder");
  EXPECT_REFUSED_UNCHANGED(rename("Finance", "", admin_), StatusCode::kInvalidArgument, "new_name");
  EXPECT_REFUSED_UNCHANGED(rename("Finance", "X", reader_), StatusCode::kPermissionDenied,
                           "ssis_admin");
}

TEST_P(RenamesTest, ARenamedEnvironmentKeepsTheReferencesToIt) {
  SetUpProject();
  ASSERT_TRUE(
      Tx([&](Txn& t) { return RenameEnvironment(t, admin_, "F", "Prod", "Production"); }).ok());
  auto refs = TxR<std::vector<EnvironmentReference>>(
      [&](Txn& t) { return ListEnvironmentReferences(t, admin_, "F", "P"); });
  ASSERT_TRUE(refs.ok());
  ASSERT_EQ(refs->size(), 1u);
  EXPECT_EQ((*refs)[0].environment_name, "Production");
  auto id = Create("F");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(ConnOf(*id), "prod-db");

  ASSERT_TRUE(
      TxR<std::int64_t>([&](Txn& t) { return CreateEnvironment(t, admin_, "F", "Test"); }).ok());
  auto rename = [&](const std::string& from, const std::string& to) {
    return Tx([&](Txn& t) { return RenameEnvironment(t, admin_, "F", from, to); });
  };
  EXPECT_REFUSED_UNCHANGED(rename("Production", "Test"), StatusCode::kAlreadyExists,
                           "exists already");
  EXPECT_REFUSED_UNCHANGED(rename("Nope", "X"), StatusCode::kNotFound, "create it first");
  EXPECT_REFUSED_UNCHANGED(
      Tx([&](Txn& t) { return RenameEnvironment(t, executor_, "F", "Test", "X"); }),
      StatusCode::kPermissionDenied, "ssis_admin");
}

TEST_P(RenamesTest, AMovedProjectTakesItsSchedulesAndResolvesRelativeReferencesInItsNewFolder) {
  SetUpProject();
  ASSERT_TRUE(TxR<std::int64_t>([&](Txn& t) { return CreateFolder(t, admin_, "G"); }).ok());
  auto move = [&](const std::string& from, const std::string& to, const Caller& who) {
    return Tx([&](Txn& t) { return MoveProject(t, who, from, "P", to); });
  };
  ASSERT_TRUE(move("F", "G", admin_).ok());
  EXPECT_EQ(ScheduleFolder(), "G");
  EXPECT_EQ(Create("F").status().code(), StatusCode::kNotFound);
  // The relative reference now names G's Prod, which does not exist yet.
  auto missing = Create("G");
  EXPECT_EQ(missing.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.status().message(), ::testing::HasSubstr("no longer exists"));
  ASSERT_TRUE(
      TxR<std::int64_t>([&](Txn& t) { return CreateEnvironment(t, admin_, "G", "Prod"); }).ok());
  ASSERT_TRUE(Tx([&](Txn& t) {
                return CreateEnvironmentVariable(t, admin_, "G", "Prod", "Conn", "String", false,
                                                 "g-db");
              }).ok());
  auto id = Create("G");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(ConnOf(*id), "g-db");

  // Back to F, where a project of the same name now blocks the way.
  const ProjectDeployment other = NextVersion({});  // deploys F/P again: a new project
  ASSERT_TRUE(TxR<DeployResult>([&](Txn& t) { return DeployProject(t, admin_, other); }).ok());
  EXPECT_REFUSED_UNCHANGED(move("G", "F", admin_), StatusCode::kAlreadyExists, "has a project 'P'");
  EXPECT_REFUSED_UNCHANGED(move("G", "Nope", admin_), StatusCode::kNotFound, "create_folder");
  EXPECT_REFUSED_UNCHANGED(move("Nope", "F", admin_), StatusCode::kNotFound, "does not exist");
  EXPECT_REFUSED_UNCHANGED(move("G", "F", reader_), StatusCode::kPermissionDenied, "ssis_admin");
}

INSTANTIATE_TEST_SUITE_P(Storage, RenamesTest, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<StorageParam>& param_info) {
                           return param_info.param.label;
                         });

}  // namespace
}  // namespace scaleout::core::catalog::testing
