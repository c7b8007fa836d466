// The SSIS procedures and views: success, errors, permissions, bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog_fixture.h"
#include "core/catalog/environments.h"
#include "core/catalog/limits.h"

namespace scaleout::core::catalog::testing {
namespace {

using ::testing::HasSubstr;

// ---- folders and deploy ------------------------------------------------------------------

TEST_P(CatalogTest, DeployMakesANewProjectVersionEachTime) {
  DeployBasic();
  std::int64_t first = CreatedExecution();
  ProjectDeployment d;
  d.folder_name = "F";
  d.project_name = "P";
  d.packages = {{"Main.dtsx", "<main v2/>", true}};
  auto second = TxR<DeployResult>([&](Txn& t) { return DeployProject(t, admin_, d); });
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_GT(second->object_version_lsn, Exec(first).project_lsn);
  // The content of each version is kept with its hash.
  auto content = TxR<sdk::Bytes>(
      [&](Txn& t) { return ReadPackageContent(t, second->object_version_lsn, "Main.dtsx"); });
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "<main v2/>");
}

TEST_P(CatalogTest, DeployIntoMissingFolderIsRefused) {
  ProjectDeployment d;
  d.folder_name = "Nope";
  d.project_name = "P";
  d.packages = {{"Main.dtsx", "x", true}};
  EXPECT_REFUSED_UNCHANGED(
      TxR<DeployResult>([&](Txn& t) { return DeployProject(t, admin_, d); }).status(),
      sdk::StatusCode::kNotFound, "create it first");
}

TEST_P(CatalogTest, DeployRefusesBadDeclarations) {
  ASSERT_TRUE(TxR<std::int64_t>([&](Txn& t) { return CreateFolder(t, admin_, "F"); }).ok());
  ProjectDeployment d;
  d.folder_name = "F";
  d.project_name = "P";
  auto deploy = [&] {
    return TxR<DeployResult>([&](Txn& t) { return DeployProject(t, admin_, d); }).status();
  };
  EXPECT_REFUSED_UNCHANGED(deploy(), sdk::StatusCode::kInvalidArgument, "no packages");
  d.packages = {{"A.dtsx", "x", true}, {"A.dtsx", "y", true}};
  EXPECT_REFUSED_UNCHANGED(deploy(), sdk::StatusCode::kInvalidArgument, "appears twice");
  d.packages = {{"A.dtsx", "x", true}};
  d.parameters = {ParameterSpec{kObjectProject, "", "N", "Int9", std::nullopt, false, false}};
  EXPECT_REFUSED_UNCHANGED(deploy(), sdk::StatusCode::kInvalidArgument, "data type");
  d.parameters = {ParameterSpec{kObjectProject, "", "N", "Int32", "many", false, false}};
  EXPECT_REFUSED_UNCHANGED(deploy(), sdk::StatusCode::kInvalidArgument, "is not an integer");
  d.parameters = {
      ParameterSpec{kObjectPackage, "Missing.dtsx", "N", "Int32", std::nullopt, false, false}};
  EXPECT_REFUSED_UNCHANGED(deploy(), sdk::StatusCode::kInvalidArgument, "not in the deployment");
  d.parameters = {ParameterSpec{40, "", "N", "Int32", std::nullopt, false, false}};
  EXPECT_REFUSED_UNCHANGED(deploy(), sdk::StatusCode::kInvalidArgument, "object_type");
}

TEST_P(CatalogTest, CreateFolderTwiceIsAlreadyExists) {
  ASSERT_TRUE(TxR<std::int64_t>([&](Txn& t) { return CreateFolder(t, admin_, "F"); }).ok());
  EXPECT_REFUSED_UNCHANGED(
      TxR<std::int64_t>([&](Txn& t) { return CreateFolder(t, admin_, "F"); }).status(),
      sdk::StatusCode::kAlreadyExists, "already exists");
}

// ---- create_execution ------------------------------------------------------------------------

TEST_P(CatalogTest, CreateExecutionRecordsSsisColumnsAndDefaults) {
  DeployBasic();
  CreateExecutionRequest r{"F", "P", "Main.dtsx", std::nullopt, true, std::nullopt, true};
  auto id = TxR<std::int64_t>([&](Txn& t) { return CreateExecution(t, admin_, r); });
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  Execution e = Exec(*id);
  EXPECT_EQ(e.status, ExecutionStatus::kCreated);
  EXPECT_EQ(e.folder_name, "F");
  EXPECT_EQ(e.package_name, "Main.dtsx");
  EXPECT_TRUE(e.use32bitruntime);
  EXPECT_FALSE(e.runinscaleout);  // DEFAULT_EXECUTION_MODE is 0 (Server)
  EXPECT_TRUE(e.useanyworker);
  EXPECT_EQ(e.executed_count, 0);
  EXPECT_EQ(e.caller_name, "alice");
  EXPECT_EQ(e.created_time, now());
  // With DEFAULT_EXECUTION_MODE = 1 an omitted runinscaleout means Scale Out.
  ASSERT_TRUE(
      Tx([&](Txn& t) { return ConfigureCatalog(t, admin_, "DEFAULT_EXECUTION_MODE", "1"); }).ok());
  auto id2 = TxR<std::int64_t>([&](Txn& t) { return CreateExecution(t, admin_, r); });
  ASSERT_TRUE(id2.ok());
  EXPECT_TRUE(Exec(*id2).runinscaleout);
  // The operation shares the execution's id and has type 200.
  auto ops = TxR<std::vector<Operation>>([&](Txn& t) { return ListOperations(t, reader_); });
  ASSERT_TRUE(ops.ok());
  bool found = false;
  for (const Operation& o : *ops)
    found = found || (o.operation_id == *id && o.operation_type == 200);
  EXPECT_TRUE(found);
  // Parameter values: the declared defaults, the system parameters, sensitive hidden.
  auto values = TxR<std::vector<ParameterValue>>(
      [&](Txn& t) { return ListExecutionParameterValues(t, reader_, *id); });
  ASSERT_TRUE(values.ok());
  std::map<std::string, ParameterValue> by_name;
  for (const ParameterValue& v : *values) by_name[v.parameter_name] = v;
  EXPECT_EQ(by_name["Conn"].value, "db");
  EXPECT_EQ(by_name["LOGGING_LEVEL"].value, "1");
  EXPECT_TRUE(by_name["Password"].sensitive);
  EXPECT_FALSE(by_name["Password"].value.has_value());
  EXPECT_TRUE(by_name["Rows"].required);
}

TEST_P(CatalogTest, CreateExecutionErrors) {
  DeployBasic();
  auto create = [&](CreateExecutionRequest r, const Caller& who) {
    return TxR<std::int64_t>([&](Txn& t) { return CreateExecution(t, who, r); }).status();
  };
  EXPECT_REFUSED_UNCHANGED(create({"F", "P", "Child.dtsx", {}, false, true, true}, admin_),
                           sdk::StatusCode::kFailedPrecondition, "not an entry-point package");
  EXPECT_REFUSED_UNCHANGED(create({"F", "P", "None.dtsx", {}, false, true, true}, admin_),
                           sdk::StatusCode::kNotFound, "None.dtsx");
  EXPECT_REFUSED_UNCHANGED(create({"F", "Q", "Main.dtsx", {}, false, true, true}, admin_),
                           sdk::StatusCode::kNotFound, "deploy it first");
  EXPECT_REFUSED_UNCHANGED(create({"G", "P", "Main.dtsx", {}, false, true, true}, admin_),
                           sdk::StatusCode::kNotFound, "folder 'G'");
  EXPECT_REFUSED_UNCHANGED(create({"F", "P", "Main.dtsx", 77, false, true, true}, admin_),
                           sdk::StatusCode::kNotFound, "environment reference 77");
  // ssis_cluster_executor may run in Scale Out but not in server mode; readers may not run.
  EXPECT_TRUE(create({"F", "P", "Main.dtsx", {}, false, true, true}, executor_).ok());
  EXPECT_REFUSED_UNCHANGED(create({"F", "P", "Main.dtsx", {}, false, false, true}, executor_),
                           sdk::StatusCode::kPermissionDenied, "ssis_admin");
  EXPECT_REFUSED_UNCHANGED(create({"F", "P", "Main.dtsx", {}, false, true, true}, reader_),
                           sdk::StatusCode::kPermissionDenied, "ssis_cluster_executor");
  EXPECT_REFUSED_UNCHANGED(create({"F", "P", "Main.dtsx", {}, false, true, true}, worker_caller_),
                           sdk::StatusCode::kPermissionDenied, "needs the role");
}

TEST_P(CatalogTest, ADeletedProjectLeavesItsHistoryAndItsName) {
  DeployBasic();
  ASSERT_TRUE(
      TxR<std::int64_t>([&](Txn& t) { return CreateEnvironment(t, admin_, "F", "Prod"); }).ok());
  ASSERT_TRUE(TxR<std::int64_t>([&](Txn& t) {
                return CreateEnvironmentReference(t, admin_, "F", "P", "Prod", std::nullopt);
              }).ok());
  ASSERT_TRUE(Tx([&](Txn& t) {
                return SetObjectParameterValue(t, admin_, kObjectProject, "F", "P", "Conn",
                                               "configured", std::nullopt, "V");
              }).ok());
  const std::int64_t created = CreatedExecution();
  const std::int64_t pending = StartedExecution();
  auto remove = [&](const Caller& who) {
    return Tx([&](Txn& t) { return DeleteProject(t, who, "F", "P"); });
  };
  EXPECT_REFUSED_UNCHANGED(remove(admin_), sdk::StatusCode::kFailedPrecondition,
                           "1 executions pending or running");
  EXPECT_REFUSED_UNCHANGED(remove(executor_), sdk::StatusCode::kPermissionDenied, "ssis_admin");
  ASSERT_TRUE(Tx([&](Txn& t) { return StopOperation(t, admin_, pending); }).ok());
  ASSERT_TRUE(remove(admin_).ok());

  // Gone by name: not run, not listed, not deleted twice.
  EXPECT_EQ(Code(TxR<std::int64_t>([&](Txn& t) {
              return CreateExecution(t, admin_, {"F", "P", "Main.dtsx", {}, false, true, true});
            })),
            sdk::StatusCode::kNotFound);
  EXPECT_REFUSED_UNCHANGED(remove(admin_), sdk::StatusCode::kNotFound, "deploy it first");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return StartExecution(t, admin_, created, 0); }),
                           sdk::StatusCode::kFailedPrecondition, "which was deleted");
  // Its history stays; its references and configured values went with it.
  EXPECT_EQ(Exec(pending).status, ExecutionStatus::kCanceled);
  EXPECT_EQ(Exec(created).project_name, "P");
  auto refs = TxR<std::vector<EnvironmentReference>>(
      [&](Txn& t) { return ListEnvironmentReferences(t, admin_, std::nullopt, std::nullopt); });
  ASSERT_TRUE(refs.ok());
  EXPECT_TRUE(refs->empty());

  // The name is free: a new deploy is a new project with nothing configured.
  DeployBasic();
  auto params = TxR<std::vector<ObjectParameter>>(
      [&](Txn& t) { return ListObjectParameters(t, admin_, "F", "P"); });
  ASSERT_TRUE(params.ok());
  for (const ObjectParameter& p : *params) EXPECT_FALSE(p.value_set) << p.parameter_name;
  const std::int64_t again = StartedExecution();
  EXPECT_EQ(Exec(again).status, ExecutionStatus::kPending);
}

// ---- set_execution_parameter_value
// ---------------------------------------------------------------

TEST_P(CatalogTest, SetParameterValueValidatesNamesTypesAndSystemValues) {
  DeployBasic();
  std::int64_t id = CreatedExecution();
  auto set = [&](int type, std::string name, std::string value) {
    return Tx([&](Txn& t) { return SetExecutionParameterValue(t, admin_, id, type, name, value); });
  };
  EXPECT_TRUE(set(20, "Conn", "other").ok());
  EXPECT_TRUE(set(50, "LOGGING_LEVEL", "3").ok());
  EXPECT_TRUE(set(50, "SYNCHRONIZED", "1").ok());
  EXPECT_TRUE(set(50, "DUMP_ON_ERROR", "true").ok());
  EXPECT_TRUE(set(50, "DUMP_EVENT_CODE", "0xC020801C;0x80004005").ok());
  EXPECT_TRUE(set(50, "CALLER_INFO", "job 7").ok());
  EXPECT_REFUSED_UNCHANGED(set(30, "Rows", "five"), sdk::StatusCode::kInvalidArgument, "Int32");
  EXPECT_REFUSED_UNCHANGED(set(30, "Rows", "99999999999"), sdk::StatusCode::kInvalidArgument,
                           "-2147483648 to 2147483647");
  EXPECT_REFUSED_UNCHANGED(set(20, "Nope", "x"), sdk::StatusCode::kNotFound,
                           "no project parameter 'Nope'");
  EXPECT_REFUSED_UNCHANGED(set(30, "Conn", "x"), sdk::StatusCode::kNotFound, "package parameter");
  EXPECT_REFUSED_UNCHANGED(set(50, "LOGGING_LEVEL", "7"), sdk::StatusCode::kInvalidArgument,
                           "100 (custom)");
  EXPECT_REFUSED_UNCHANGED(set(50, "SYNCHRONIZED", "maybe"), sdk::StatusCode::kInvalidArgument,
                           "Boolean");
  EXPECT_REFUSED_UNCHANGED(set(50, "DUMP_EVENT_CODE", "oops"), sdk::StatusCode::kInvalidArgument,
                           "0xC020801C");
  EXPECT_REFUSED_UNCHANGED(set(40, "Conn", "x"), sdk::StatusCode::kInvalidArgument,
                           "object_type 40");
  EXPECT_REFUSED_UNCHANGED(
      Tx([&](Txn& t) { return SetExecutionParameterValue(t, reader_, id, 20, "Conn", "x"); }),
      sdk::StatusCode::kPermissionDenied, "ssis_admin or ssis_cluster_executor");
  EXPECT_REFUSED_UNCHANGED(
      Tx([&](Txn& t) { return SetExecutionParameterValue(t, admin_, 999, 20, "Conn", "x"); }),
      sdk::StatusCode::kNotFound, "execution 999 does not exist");
  // Only while created.
  ASSERT_TRUE(Tx([&](Txn& t) { return StartExecution(t, admin_, id, 0); }).ok());
  EXPECT_REFUSED_UNCHANGED(
      set(20, "Conn", "late"), sdk::StatusCode::kFailedPrecondition,
      "is pending (5); parameter values can be set only while it is created (1)");
}

// System parameters have no row until set (or until SERVER_LOGGING_LEVEL
// makes LOGGING_LEVEL's start differ from 1), yet every reader sees all seven
// with their defaults, in (object_type, name) order.
TEST_P(CatalogTest, SystemParametersReadTheirDefaultsUntilSet) {
  DeployBasic();
  EnableScaleOut();
  const std::string worker = AddWorker('A');
  auto values_of = [&](std::int64_t id) {
    auto values = TxR<std::vector<ParameterValue>>(
        [&](Txn& t) { return ListExecutionParameterValues(t, reader_, id); });
    EXPECT_TRUE(values.ok()) << values.status().ToString();
    return values.ok() ? *values : std::vector<ParameterValue>();
  };
  auto system_of = [&](const std::vector<ParameterValue>& values) {
    std::map<std::string, ParameterValue> out;
    for (const ParameterValue& v : values) {
      if (v.object_type == 50) out[v.parameter_name] = v;
    }
    return out;
  };
  auto expect_sorted = [](const std::vector<ParameterValue>& values) {
    for (std::size_t i = 1; i < values.size(); ++i) {
      const auto& a = values[i - 1];
      const auto& b = values[i];
      EXPECT_TRUE(a.object_type < b.object_type ||
                  (a.object_type == b.object_type && a.parameter_name < b.parameter_name))
          << a.parameter_name << " before " << b.parameter_name;
    }
  };
  const std::int64_t first = CreatedExecution();
  std::vector<ParameterValue> values = values_of(first);
  expect_sorted(values);
  std::map<std::string, ParameterValue> system = system_of(values);
  ASSERT_EQ(system.size(), 7u);
  EXPECT_EQ(system["LOGGING_LEVEL"].value, "1");
  EXPECT_EQ(system["LOGGING_LEVEL"].data_type, "Int32");
  EXPECT_EQ(system["SYNCHRONIZED"].value, "0");
  EXPECT_EQ(system["DUMP_EVENT_CODE"].value, "");
  EXPECT_FALSE(system["CALLER_INFO"].value.has_value());
  for (const auto& [name, v] : system) EXPECT_FALSE(v.value_set) << name;

  // Set once (a new row), then again (the same row).
  auto set = [&](std::int64_t id, std::string name, std::string value) {
    return Tx([&](Txn& t) { return SetExecutionParameterValue(t, admin_, id, 50, name, value); });
  };
  ASSERT_TRUE(set(first, "SYNCHRONIZED", "1").ok());
  ASSERT_TRUE(set(first, "SYNCHRONIZED", "0").ok());
  ASSERT_TRUE(set(first, "CALLER_INFO", "job 7").ok());
  values = values_of(first);
  expect_sorted(values);
  system = system_of(values);
  ASSERT_EQ(system.size(), 7u);
  EXPECT_EQ(system["SYNCHRONIZED"].value, "0");
  EXPECT_TRUE(system["SYNCHRONIZED"].value_set);
  EXPECT_EQ(system["CALLER_INFO"].value, "job 7");
  EXPECT_FALSE(system["LOGGING_LEVEL"].value_set);

  // LOGGING_LEVEL starts at SERVER_LOGGING_LEVEL as it was at creation.
  ASSERT_TRUE(
      Tx([&](Txn& t) { return ConfigureCatalog(t, admin_, "SERVER_LOGGING_LEVEL", "3"); }).ok());
  const std::int64_t second = StartedExecution();
  ASSERT_TRUE(
      Tx([&](Txn& t) { return ConfigureCatalog(t, admin_, "SERVER_LOGGING_LEVEL", "0"); }).ok());
  EXPECT_EQ(system_of(values_of(first))["LOGGING_LEVEL"].value, "1");
  EXPECT_EQ(system_of(values_of(second))["LOGGING_LEVEL"].value, "3");
  EXPECT_FALSE(system_of(values_of(second))["LOGGING_LEVEL"].value_set);

  // The claim hands the worker the same list.
  std::vector<ClaimedTask> claimed = Claim(worker);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].execution_id, second);
  expect_sorted(claimed[0].parameters);
  std::map<std::string, ParameterValue> handed = system_of(claimed[0].parameters);
  ASSERT_EQ(handed.size(), 7u);
  EXPECT_EQ(handed["LOGGING_LEVEL"].value, "3");
  EXPECT_EQ(handed["SYNCHRONIZED"].value, "0");

  // A name that is no system parameter is still refused, and nothing is stored.
  EXPECT_REFUSED_UNCHANGED(set(first, "NOT_A_SYSTEM_PARAMETER", "1"), sdk::StatusCode::kNotFound,
                           "NOT_A_SYSTEM_PARAMETER");
}

// ---- add_execution_worker -----------------------------------------------------------------------

TEST_P(CatalogTest, AddExecutionWorkerErrors) {
  DeployBasic();
  std::string worker = AddWorker('A');
  std::int64_t id = CreatedExecution(/*useanyworker=*/false);
  auto add = [&](std::int64_t exec, std::string w) {
    return Tx([&](Txn& t) { return AddExecutionWorker(t, admin_, exec, w); });
  };
  EXPECT_TRUE(add(id, worker).ok());
  EXPECT_TRUE(add(id, worker).ok());  // twice is harmless
  EXPECT_REFUSED_UNCHANGED(add(id, "not-a-guid"), sdk::StatusCode::kInvalidArgument,
                           "is not a GUID");
  EXPECT_REFUSED_UNCHANGED(add(id, "11111111-2222-3333-4444-555555555555"),
                           sdk::StatusCode::kNotFound, "not in the catalog");
  EXPECT_REFUSED_UNCHANGED(add(4242, worker), sdk::StatusCode::kNotFound, "execution 4242");
  CreateExecutionRequest server{"F", "P", "Main.dtsx", {}, false, false, true};
  auto server_id = TxR<std::int64_t>([&](Txn& t) { return CreateExecution(t, admin_, server); });
  ASSERT_TRUE(server_id.ok());
  EXPECT_REFUSED_UNCHANGED(add(*server_id, worker), sdk::StatusCode::kFailedPrecondition,
                           "does not run in Scale Out");
}

// ---- start_execution ----------------------------------------------------------------------------

TEST_P(CatalogTest, StartExecutionQueuesTheFirstAttempt) {
  DeployBasic();
  std::int64_t id = StartedExecution(/*retry_count=*/2);
  Execution e = Exec(id);
  EXPECT_EQ(e.status, ExecutionStatus::kPending);
  EXPECT_EQ(e.retry_count, 2);
  std::vector<Task> tasks = Tasks(id);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].attempt, 1);
  EXPECT_EQ(tasks[0].status, ExecutionStatus::kPending);
  EXPECT_FALSE(tasks[0].server_only);
  EXPECT_EQ(tasks[0].lease_epoch, 0);
}

TEST_P(CatalogTest, StartExecutionErrors) {
  DeployBasic();
  CreateExecutionRequest r{"F", "P", "Main.dtsx", {}, false, true, true};
  auto id = TxR<std::int64_t>([&](Txn& t) { return CreateExecution(t, admin_, r); });
  ASSERT_TRUE(id.ok());
  auto start = [&](std::int64_t exec, std::int64_t retries) {
    return Tx([&](Txn& t) { return StartExecution(t, admin_, exec, retries); });
  };
  EXPECT_REFUSED_UNCHANGED(start(*id, 0), sdk::StatusCode::kFailedPrecondition,
                           "required parameters have no value: 'Rows'");
  ASSERT_TRUE(
      Tx([&](Txn& t) { return SetExecutionParameterValue(t, admin_, *id, 30, "Rows", "1"); }).ok());
  EXPECT_REFUSED_UNCHANGED(start(*id, -1), sdk::StatusCode::kInvalidArgument, "retry_count");
  EXPECT_REFUSED_UNCHANGED(start(*id, kMaxRetryCount + 1), sdk::StatusCode::kInvalidArgument,
                           "retry_count");
  EXPECT_REFUSED_UNCHANGED(start(31337, 0), sdk::StatusCode::kNotFound, "execution 31337");
  // Redeploying between create and start makes the execution outdated.
  ProjectDeployment d;
  d.folder_name = "F";
  d.project_name = "P";
  d.packages = {{"Main.dtsx", "v2", true}};
  ASSERT_TRUE(TxR<DeployResult>([&](Txn& t) { return DeployProject(t, admin_, d); }).ok());
  EXPECT_REFUSED_UNCHANGED(start(*id, 0), sdk::StatusCode::kFailedPrecondition,
                           "has since been redeployed");
}

TEST_P(CatalogTest, StartingTwiceIsRefusedByTheStateMachine) {
  DeployBasic();
  std::int64_t id = StartedExecution();
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return StartExecution(t, admin_, id, 0); }),
                           sdk::StatusCode::kFailedPrecondition,
                           "is pending (5); only created (1) executions can be started");
}

TEST_P(CatalogTest, ServerModeExecutionGetsAServerOnlyTask) {
  DeployBasic();
  CreateExecutionRequest r{"F", "P", "Main.dtsx", {}, false, false, true};
  auto id = TxR<std::int64_t>([&](Txn& t) { return CreateExecution(t, admin_, r); });
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(
      Tx([&](Txn& t) { return SetExecutionParameterValue(t, admin_, *id, 30, "Rows", "1"); }).ok());
  ASSERT_TRUE(Tx([&](Txn& t) { return StartExecution(t, admin_, *id, 0); }).ok());
  std::vector<Task> tasks = Tasks(*id);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_TRUE(tasks[0].server_only);
}

// ---- stop_operation -----------------------------------------------------------------------------

TEST_P(CatalogTest, StopPendingCancelsAtOnce) {
  DeployBasic();
  std::int64_t id = StartedExecution();
  ASSERT_TRUE(Tx([&](Txn& t) { return StopOperation(t, executor_, id); }).ok());
  Execution e = Exec(id);
  EXPECT_EQ(e.status, ExecutionStatus::kCanceled);
  EXPECT_TRUE(e.stop_requested);
  EXPECT_EQ(e.stopped_by_name, "eve");
  EXPECT_TRUE(e.end_time.has_value());
  EXPECT_EQ(Tasks(id)[0].status, ExecutionStatus::kCanceled);
}

TEST_P(CatalogTest, StopErrors) {
  DeployBasic();
  std::int64_t created = CreatedExecution();
  auto stop = [&](std::int64_t op) {
    return Tx([&](Txn& t) { return StopOperation(t, admin_, op); });
  };
  EXPECT_REFUSED_UNCHANGED(
      stop(created), sdk::StatusCode::kFailedPrecondition,
      "is created (1); only running (2) or pending (5) executions can be stopped");
  EXPECT_REFUSED_UNCHANGED(stop(123456), sdk::StatusCode::kNotFound,
                           "operation 123456 does not exist");
  std::int64_t id = StartedExecution();
  ASSERT_TRUE(stop(id).ok());
  EXPECT_REFUSED_UNCHANGED(stop(id), sdk::StatusCode::kFailedPrecondition, "is canceled (3)");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return StopOperation(t, reader_, id); }),
                           sdk::StatusCode::kPermissionDenied, "stop_operation");
}

// ---- workers --------------------------------------------------------------------------------

TEST_P(CatalogTest, TrustedWorkerStartsDisabledAndCanBeManaged) {
  AddWorkerRequest request;
  request.cert_sha256 = "aa:" + std::string(62, 'b');
  request.cert_sha1 = std::string(40, 'c');
  request.display_name = "Build box";
  auto id = TxR<std::string>([&](Txn& t) { return AddWorkerAgent(t, admin_, request); });
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto w = TxR<WorkerAgent>([&](Txn& t) { return GetWorkerAgent(t, executor_, *id); });
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(w->is_enabled);
  EXPECT_EQ(w->cert_sha256, "AA" + std::string(62, 'B'));
  EXPECT_EQ(w->cert_sha1, std::string(40, 'C'));
  EXPECT_EQ(w->display_name, "Build box");
  ASSERT_TRUE(Tx([&](Txn& t) { return EnableWorkerAgent(t, admin_, *id); }).ok());
  ASSERT_TRUE(
      Tx([&](Txn& t) { return SetWorkerAgentProperty(t, admin_, *id, "Tags", "linux;big"); }).ok());
  ASSERT_TRUE(
      Tx([&](Txn& t) { return SetWorkerAgentProperty(t, admin_, *id, "DisplayName", "B2"); }).ok());
  ASSERT_TRUE(
      Tx([&](Txn& t) { return SetWorkerAgentProperty(t, admin_, *id, "Description", "d"); }).ok());
  w = TxR<WorkerAgent>([&](Txn& t) { return GetWorkerAgent(t, reader_, *id); });
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w->is_enabled);
  EXPECT_EQ(w->tags, "linux;big");
  EXPECT_EQ(w->display_name, "B2");
  EXPECT_EQ(w->description, "d");
  ASSERT_TRUE(Tx([&](Txn& t) { return DisableWorkerAgent(t, admin_, *id); }).ok());
  ASSERT_TRUE(Tx([&](Txn& t) { return RemoveWorkerAgent(t, admin_, *id); }).ok());
  auto list = TxR<std::vector<WorkerAgent>>([&](Txn& t) { return ListWorkerAgents(t, admin_); });
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_P(CatalogTest, WorkerProcedureErrors) {
  std::string id = AddWorker('A', false);
  const std::string unknown = "11111111-2222-3333-4444-555555555555";
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return EnableWorkerAgent(t, admin_, unknown); }),
                           sdk::StatusCode::kNotFound, "not in the catalog");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return EnableWorkerAgent(t, admin_, "xyz"); }),
                           sdk::StatusCode::kInvalidArgument, "is not a GUID");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return EnableWorkerAgent(t, executor_, id); }),
                           sdk::StatusCode::kPermissionDenied, "ssis_admin");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return DisableWorkerAgent(t, reader_, id); }),
                           sdk::StatusCode::kPermissionDenied, "ssis_admin");
  EXPECT_REFUSED_UNCHANGED(
      Tx([&](Txn& t) { return SetWorkerAgentProperty(t, admin_, id, "MaxTaskCount", "99"); }),
      sdk::StatusCode::kInvalidArgument, "use DisplayName, Description or Tags");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) {
                             return SetWorkerAgentProperty(
                                 t, admin_, id, "DisplayName",
                                 std::string(kMaxWorkerTextChars + 1, 'x'));
                           }),
                           sdk::StatusCode::kInvalidArgument, "the limit is 256");
  AddWorkerRequest dup;
  dup.cert_sha256 = Thumb('A');
  EXPECT_REFUSED_UNCHANGED(
      TxR<std::string>([&](Txn& t) { return AddWorkerAgent(t, admin_, dup); }).status(),
      sdk::StatusCode::kAlreadyExists, "remove it first");
  AddWorkerRequest bad;
  bad.cert_sha256 = "1234";
  EXPECT_REFUSED_UNCHANGED(
      TxR<std::string>([&](Txn& t) { return AddWorkerAgent(t, admin_, bad); }).status(),
      sdk::StatusCode::kInvalidArgument, "64 hex digits");
}

TEST_P(CatalogTest, RemovingAWorkerWithRunningTasksIsRefused) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  StartedExecution();
  ASSERT_EQ(Claim(w).size(), 1u);
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return RemoveWorkerAgent(t, admin_, w); }),
                           sdk::StatusCode::kFailedPrecondition, "disable it and wait");
}

// ---- configuration
// ---------------------------------------------------------------------------------

TEST_P(CatalogTest, ConfigureCatalogValidatesEachProperty) {
  auto configure = [&](std::string name, std::string value) {
    return Tx([&](Txn& t) { return ConfigureCatalog(t, admin_, name, value); });
  };
  EXPECT_TRUE(configure("DEFAULT_EXECUTION_MODE", "1").ok());
  EXPECT_TRUE(configure("RETENTION_WINDOW", "30").ok());
  EXPECT_TRUE(configure("OPERATION_CLEANUP_ENABLED", "false").ok());
  EXPECT_TRUE(configure("MAX_PROJECT_VERSIONS", "5").ok());
  EXPECT_TRUE(configure("SERVER_LOGGING_LEVEL", "3").ok());
  EXPECT_TRUE(configure("ENCRYPTION_ALGORITHM", "aes_128").ok());
  EXPECT_REFUSED_UNCHANGED(configure("DEFAULT_EXECUTION_MODE", "2"),
                           sdk::StatusCode::kInvalidArgument, "0 (Server) or 1 (Scale Out)");
  EXPECT_REFUSED_UNCHANGED(configure("RETENTION_WINDOW", "0"), sdk::StatusCode::kInvalidArgument,
                           "1 to 3650");
  EXPECT_REFUSED_UNCHANGED(configure("OPERATION_CLEANUP_ENABLED", "sometimes"),
                           sdk::StatusCode::kInvalidArgument, "TRUE, FALSE");
  EXPECT_REFUSED_UNCHANGED(configure("SERVER_LOGGING_LEVEL", "5"),
                           sdk::StatusCode::kInvalidArgument, "LOGGING_LEVEL");
  EXPECT_REFUSED_UNCHANGED(configure("IS_SCALEOUT_ENABLED", "True"),
                           sdk::StatusCode::kInvalidArgument, "enable_scaleout");
  EXPECT_REFUSED_UNCHANGED(configure("COLOR", "blue"), sdk::StatusCode::kInvalidArgument,
                           "unknown catalog property");
  EXPECT_REFUSED_UNCHANGED(
      Tx([&](Txn& t) { return ConfigureCatalog(t, executor_, "RETENTION_WINDOW", "3"); }),
      sdk::StatusCode::kPermissionDenied, "configure_catalog");
  auto props =
      TxR<std::vector<Property>>([&](Txn& t) { return ListCatalogProperties(t, reader_); });
  ASSERT_TRUE(props.ok());
  std::map<std::string, std::string> by_name;
  for (const Property& p : *props) by_name[p.name] = p.value;
  EXPECT_EQ(by_name["OPERATION_CLEANUP_ENABLED"], "FALSE");
  EXPECT_EQ(by_name["ENCRYPTION_ALGORITHM"], "AES_128");
}

TEST_P(CatalogTest, EncryptionCannotChangeWhileExecutionsAreActive) {
  DeployBasic();
  StartedExecution();
  EXPECT_REFUSED_UNCHANGED(
      Tx([&](Txn& t) { return ConfigureCatalog(t, admin_, "ENCRYPTION_ALGORITHM", "AES_192"); }),
      sdk::StatusCode::kFailedPrecondition, "executions are active");
}

TEST_P(CatalogTest, EnableScaleoutAndMasterAddress) {
  EnableScaleOut();
  auto props = TxR<std::vector<Property>>([&](Txn& t) { return ListCatalogProperties(t, admin_); });
  ASSERT_TRUE(props.ok());
  bool enabled = false;
  for (const Property& p : *props)
    enabled = enabled || (p.name == "IS_SCALEOUT_ENABLED" && p.value == "True");
  EXPECT_TRUE(enabled);
  ASSERT_TRUE(
      Tx([&](Txn& t) { return UpdateMasterAddress(t, admin_, "https://master:8391"); }).ok());
  EXPECT_REFUSED_UNCHANGED(
      Tx([&](Txn& t) { return UpdateMasterAddress(t, admin_, "master:8391"); }),
      sdk::StatusCode::kInvalidArgument, "https://<host>:<port>");
  EXPECT_REFUSED_UNCHANGED(
      Tx([&](Txn& t) { return UpdateMasterAddress(t, executor_, "https://x"); }),
      sdk::StatusCode::kPermissionDenied, "ssis_admin");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return EnableScaleout(t, reader_); }),
                           sdk::StatusCode::kPermissionDenied, "enable_scaleout");
  // master_properties is public: even a worker identity reads it.
  auto master =
      TxR<std::vector<Property>>([&](Txn& t) { return ListMasterProperties(t, worker_caller_); });
  ASSERT_TRUE(master.ok());
  ASSERT_EQ(master->size(), 1u);
  EXPECT_EQ((*master)[0].name, "MASTER_ADDRESS");
  EXPECT_EQ((*master)[0].value, "https://master:8391");
  ASSERT_TRUE(
      Tx([&](Txn& t) { return UpdateLogdbInfo(t, admin_, "sql01", "Server=sql01;"); }).ok());
}

// ---- views and permissions
// ---------------------------------------------------------------------------

TEST_P(CatalogTest, ViewsNeedAReadingRole) {
  EXPECT_EQ(Code(TxR<std::vector<WorkerAgent>>(
                [&](Txn& t) { return ListWorkerAgents(t, worker_caller_); })),
            sdk::StatusCode::kPermissionDenied);
  EXPECT_EQ(
      Code(TxR<std::vector<Execution>>([&](Txn& t) { return ListExecutions(t, worker_caller_); })),
      sdk::StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(TxR<std::vector<Operation>>([&](Txn& t) {
              return ListOperations(t, Caller{"nobody", {}});
            })),
            sdk::StatusCode::kPermissionDenied);
  EXPECT_TRUE(
      TxR<std::vector<WorkerAgent>>([&](Txn& t) { return ListWorkerAgents(t, executor_); }).ok());
  EXPECT_TRUE(TxR<std::vector<Execution>>([&](Txn& t) { return ListExecutions(t, reader_); }).ok());
}

TEST_P(CatalogTest, ReaderRoleCannotChangeAnything) {
  DeployBasic();
  std::int64_t id = CreatedExecution();
  std::string w = AddWorker('A');
  EXPECT_REFUSED_UNCHANGED(
      TxR<std::int64_t>([&](Txn& t) { return CreateFolder(t, reader_, "G"); }).status(),
      sdk::StatusCode::kPermissionDenied, "ssis_admin");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return StartExecution(t, reader_, id, 0); }),
                           sdk::StatusCode::kPermissionDenied, "start_execution");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return AddExecutionWorker(t, reader_, id, w); }),
                           sdk::StatusCode::kPermissionDenied, "add_execution_worker");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return RemoveWorkerAgent(t, executor_, w); }),
                           sdk::StatusCode::kPermissionDenied, "ssis_admin");
}

TEST_P(CatalogTest, ListExecutionsFilters) {
  DeployBasic();
  EnableScaleOut();
  std::string w = AddWorker('A');
  std::int64_t a = StartedExecution();
  std::int64_t b = CreatedExecution();
  ASSERT_EQ(Claim(w).size(), 1u);
  auto list = [&](ExecutionFilter f) {
    auto r = TxR<std::vector<Execution>>([&](Txn& t) { return ListExecutions(t, reader_, f); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::int64_t> ids;
    if (r.ok()) {
      for (const Execution& e : *r) ids.push_back(e.execution_id);
    }
    return ids;
  };
  EXPECT_EQ(list({}), (std::vector<std::int64_t>{b, a}));
  ExecutionFilter running;
  running.status = ExecutionStatus::kRunning;
  EXPECT_EQ(list(running), (std::vector<std::int64_t>{a}));
  ExecutionFilter by_worker;
  by_worker.worker_agent_id = w;
  EXPECT_EQ(list(by_worker), (std::vector<std::int64_t>{a}));
  ExecutionFilter by_package;
  by_package.folder_name = "F";
  by_package.project_name = "P";
  by_package.package_name = "Main.dtsx";
  EXPECT_EQ(list(by_package).size(), 2u);
  by_package.package_name = "Other.dtsx";
  EXPECT_TRUE(list(by_package).empty());
  ExecutionFilter bad;
  bad.limit = 0;
  EXPECT_EQ(
      Code(TxR<std::vector<Execution>>([&](Txn& t) { return ListExecutions(t, reader_, bad); })),
      sdk::StatusCode::kInvalidArgument);
}

// ---- bad input
// -----------------------------------------------------------------------------------------

TEST_P(CatalogTest, OversizedNamesAndValuesAreRefused) {
  DeployBasic();
  std::int64_t id = CreatedExecution();
  const std::string long_name(kMaxNameChars + 1, 'n');
  EXPECT_REFUSED_UNCHANGED(
      TxR<std::int64_t>([&](Txn& t) { return CreateFolder(t, admin_, long_name); }).status(),
      sdk::StatusCode::kInvalidArgument, "the limit is 128");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) {
                             return SetExecutionParameterValue(
                                 t, admin_, id, 20, "Conn",
                                 std::string(kMaxParameterValueChars + 1, 'v'));
                           }),
                           sdk::StatusCode::kInvalidArgument, "the limit is 4000");
  // The limit counts characters, not bytes: 128 two-byte characters fit.
  std::string wide;
  for (std::size_t i = 0; i < kMaxNameChars; ++i) wide += "\xC3\xA9";
  EXPECT_TRUE(TxR<std::int64_t>([&](Txn& t) { return CreateFolder(t, admin_, wide); }).ok());
  EXPECT_REFUSED_UNCHANGED(
      TxR<std::int64_t>([&](Txn& t) { return CreateFolder(t, admin_, ""); }).status(),
      sdk::StatusCode::kInvalidArgument, "must not be empty");
  EXPECT_REFUSED_UNCHANGED(TxR<std::int64_t>([&](Txn& t) {
                             return CreateFolder(t, admin_, std::string("a\nb"));
                           }).status(),
                           sdk::StatusCode::kInvalidArgument, "control character");
}

TEST_P(CatalogTest, SqlMetacharactersAreStoredVerbatimEverywhere) {
  const std::string evil = "'; DROP TABLE executions; --";
  const std::string evil2 = "x\" OR 1=1; DELETE FROM tasks WHERE '1'='1";
  ASSERT_TRUE(TxR<std::int64_t>([&](Txn& t) { return CreateFolder(t, admin_, evil, evil2); }).ok());
  ProjectDeployment d;
  d.folder_name = evil;
  d.project_name = evil2;
  d.description = evil;
  d.packages = {{evil, evil2, true}};
  d.parameters = {ParameterSpec{kObjectProject, "", evil, "String", evil2, false, false}};
  ASSERT_TRUE(TxR<DeployResult>([&](Txn& t) { return DeployProject(t, admin_, d); }).ok());
  Caller weird{evil, {std::string(kRoleAdmin)}};
  CreateExecutionRequest r{evil, evil2, evil, std::nullopt, false, true, true};
  auto id = TxR<std::int64_t>([&](Txn& t) { return CreateExecution(t, weird, r); });
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(
      Tx([&](Txn& t) { return SetExecutionParameterValue(t, weird, *id, 20, evil, evil); }).ok());
  AddWorkerRequest wr;
  wr.cert_sha256 = Thumb('E');
  wr.display_name = evil;
  wr.description = evil2;
  wr.machine_name = evil;
  auto w = TxR<std::string>([&](Txn& t) { return AddWorkerAgent(t, admin_, wr); });
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(Tx([&](Txn& t) { return SetWorkerAgentProperty(t, admin_, *w, "Tags", evil); }).ok());
  ASSERT_TRUE(Tx([&](Txn& t) {
                return ConfigureCatalog(t, admin_, "SERVER_CUSTOMIZED_LOGGING_LEVEL", evil);
              }).ok());
  ASSERT_TRUE(Tx([&](Txn& t) { return UpdateLogdbInfo(t, admin_, evil, evil2); }).ok());

  Execution e = Exec(*id);
  EXPECT_EQ(e.folder_name, evil);
  EXPECT_EQ(e.project_name, evil2);
  EXPECT_EQ(e.package_name, evil);
  EXPECT_EQ(e.caller_name, evil);
  auto values = TxR<std::vector<ParameterValue>>(
      [&](Txn& t) { return ListExecutionParameterValues(t, admin_, *id); });
  ASSERT_TRUE(values.ok());
  bool found = false;
  for (const ParameterValue& v : *values)
    found = found || (v.parameter_name == evil && v.value == evil);
  EXPECT_TRUE(found);
  auto worker = TxR<WorkerAgent>([&](Txn& t) { return GetWorkerAgent(t, admin_, *w); });
  ASSERT_TRUE(worker.ok());
  EXPECT_EQ(worker->display_name, evil);
  EXPECT_EQ(worker->description, evil2);
  EXPECT_EQ(worker->tags, evil);
  ExecutionFilter f;
  f.folder_name = evil;
  auto listed = TxR<std::vector<Execution>>([&](Txn& t) { return ListExecutions(t, admin_, f); });
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
  auto content =
      TxR<sdk::Bytes>([&](Txn& t) { return ReadPackageContent(t, e.project_lsn, evil); });
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, evil2);
}

}  // namespace
}  // namespace scaleout::core::catalog::testing
