// Environments, their variables and references, and a project's configured
// parameter values (set_object_parameter_value), down to the values an
// execution gets: success, refusals that change nothing, roles, masking.
#include "core/catalog/environments.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog_fixture.h"
#include "core/catalog/rows.h"

namespace scaleout::core::catalog::testing {
namespace {

using ::testing::HasSubstr;
using StatusCode = sdk::StatusCode;

class EnvironmentsTest : public CatalogTest {
 protected:
  sdk::Status CreateEnv(const std::string& folder, const std::string& name,
                        const Caller* caller = nullptr) {
    return TxR<std::int64_t>([&](Txn& t) {
             return CreateEnvironment(t, caller ? *caller : admin_, folder, name, "for tests");
           })
        .status();
  }
  sdk::Status AddVariable(const std::string& env, const std::string& name, const std::string& type,
                          const std::string& value, bool sensitive = false) {
    return Tx([&](Txn& t) {
      return CreateEnvironmentVariable(t, admin_, "F", env, name, type, sensitive, value);
    });
  }
  std::int64_t Reference(const std::string& env,
                         std::optional<std::string> env_folder = std::nullopt) {
    auto ref = TxR<std::int64_t>(
        [&](Txn& t) { return CreateEnvironmentReference(t, admin_, "F", "P", env, env_folder); });
    EXPECT_TRUE(ref.ok()) << ref.status().ToString();
    return ref.ok() ? *ref : -1;
  }
  sdk::Status ConfigureParameter(int type, const std::string& name, const std::string& value,
                                 std::string_view value_type = "V",
                                 std::optional<std::string> object = std::nullopt) {
    if (type == kObjectPackage && !object) object = "Main.dtsx";
    return Tx([&](Txn& t) {
      return SetObjectParameterValue(t, admin_, type, "F", "P", name, value, object, value_type);
    });
  }
  sdk::Result<std::int64_t> Create(std::optional<std::int64_t> reference_id) {
    CreateExecutionRequest r{"F", "P", "Main.dtsx", reference_id, false, true, true};
    return TxR<std::int64_t>([&](Txn& t) { return CreateExecution(t, admin_, r); });
  }
  // The execution's value of a parameter, sensitive ones included.
  std::optional<std::string> Value(std::int64_t id, int type, const std::string& name) {
    auto values = internal::LoadParameterValues(conn(), id);
    EXPECT_TRUE(values.ok());
    for (const ParameterValue& v : *values) {
      if (v.object_type != type || v.parameter_name != name) continue;
      if (!v.sensitive || !v.value) return v.value;
      auto opened = key_.Open(*v.value);  // stored sealed; what a claim hands out
      EXPECT_TRUE(opened.ok()) << opened.status().ToString();
      return opened.ok() ? std::optional<std::string>(*opened) : std::nullopt;
    }
    ADD_FAILURE() << "no parameter " << name;
    return std::nullopt;
  }
  std::vector<Environment> Environments(std::optional<std::string> folder = std::nullopt) {
    auto list =
        TxR<std::vector<Environment>>([&](Txn& t) { return ListEnvironments(t, reader_, folder); });
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return list.ok() ? *list : std::vector<Environment>{};
  }
};

TEST_P(EnvironmentsTest, VariablesAreCreatedChangedListedWithSensitiveValuesHiddenAndDeleted) {
  DeployBasic();
  ASSERT_TRUE(CreateEnv("F", "Prod").ok());
  ASSERT_TRUE(AddVariable("Prod", "Server", "String", "db1").ok());
  ASSERT_TRUE(AddVariable("Prod", "Batch", "Int32", "500").ok());
  ASSERT_TRUE(AddVariable("Prod", "Secret", "String", "s3cr3t", true).ok());
  ASSERT_TRUE(Tx([&](Txn& t) {
                return SetEnvironmentVariableValue(t, admin_, "F", "Prod", "Batch", "750");
              }).ok());

  std::vector<Environment> envs = Environments("F");
  ASSERT_EQ(envs.size(), 1u);
  EXPECT_EQ(envs[0].name, "Prod");
  EXPECT_EQ(envs[0].folder_name, "F");
  EXPECT_EQ(envs[0].description, "for tests");
  ASSERT_EQ(envs[0].variables.size(), 3u);
  EXPECT_EQ(envs[0].variables[0].name, "Batch");
  EXPECT_EQ(envs[0].variables[0].value, "750");
  EXPECT_EQ(envs[0].variables[0].data_type, "Int32");
  EXPECT_EQ(envs[0].variables[1].name, "Secret");
  EXPECT_TRUE(envs[0].variables[1].sensitive);
  EXPECT_EQ(envs[0].variables[1].value, std::nullopt);
  EXPECT_EQ(envs[0].variables[2].value, "db1");

  ASSERT_TRUE(
      Tx([&](Txn& t) { return DeleteEnvironmentVariable(t, admin_, "F", "Prod", "Server"); }).ok());
  EXPECT_EQ(Environments()[0].variables.size(), 2u);
  ASSERT_TRUE(Tx([&](Txn& t) { return DeleteEnvironment(t, admin_, "F", "Prod"); }).ok());
  EXPECT_TRUE(Environments().empty());
  // An environment with no variables is listed too.
  ASSERT_TRUE(CreateEnv("F", "Empty").ok());
  ASSERT_EQ(Environments().size(), 1u);
  EXPECT_TRUE(Environments()[0].variables.empty());
}

TEST_P(EnvironmentsTest, BadEnvironmentAndVariableCallsAreRefusedAndChangeNothing) {
  DeployBasic();
  ASSERT_TRUE(CreateEnv("F", "Prod").ok());
  ASSERT_TRUE(AddVariable("Prod", "Batch", "Int32", "5").ok());
  EXPECT_REFUSED_UNCHANGED(CreateEnv("Nope", "Prod"), StatusCode::kNotFound, "create_folder");
  EXPECT_REFUSED_UNCHANGED(CreateEnv("F", "Prod"), StatusCode::kAlreadyExists, "already exists");
  EXPECT_REFUSED_UNCHANGED(CreateEnv("F", "Other", &reader_), StatusCode::kPermissionDenied,
                           "ssis_admin");
  EXPECT_REFUSED_UNCHANGED(CreateEnv("F", std::string(129, 'x')), StatusCode::kInvalidArgument,
                           "environment_name");
  EXPECT_REFUSED_UNCHANGED(AddVariable("Prod", "Batch", "Int32", "6"), StatusCode::kAlreadyExists,
                           "set_environment_variable_value");
  EXPECT_REFUSED_UNCHANGED(AddVariable("Prod", "X", "Float128", "1"), StatusCode::kInvalidArgument,
                           "is not known");
  EXPECT_REFUSED_UNCHANGED(AddVariable("Prod", "X", "Int32", "many"), StatusCode::kInvalidArgument,
                           "Int32");
  EXPECT_REFUSED_UNCHANGED(AddVariable("Gone", "X", "String", "1"), StatusCode::kNotFound,
                           "create_environment");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) {
                             return SetEnvironmentVariableValue(t, admin_, "F", "Prod", "Batch",
                                                                "lots");
                           }),
                           StatusCode::kInvalidArgument, "Int32");
  EXPECT_REFUSED_UNCHANGED(
      Tx([&](Txn& t) { return SetEnvironmentVariableValue(t, admin_, "F", "Prod", "Nope", "1"); }),
      StatusCode::kNotFound, "no variable 'Nope'");
  EXPECT_REFUSED_UNCHANGED(
      Tx([&](Txn& t) { return DeleteEnvironmentVariable(t, admin_, "F", "Prod", "Nope"); }),
      StatusCode::kNotFound, "no variable");
  EXPECT_REFUSED_UNCHANGED(
      Tx([&](Txn& t) { return DeleteEnvironmentVariable(t, executor_, "F", "Prod", "Batch"); }),
      StatusCode::kPermissionDenied, "ssis_admin");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return DeleteEnvironmentReference(t, admin_, 99); }),
                           StatusCode::kNotFound, "list_environment_references");
  auto as_worker = TxR<std::vector<Environment>>(
      [&](Txn& t) { return ListEnvironments(t, worker_caller_, std::nullopt); });
  EXPECT_EQ(as_worker.status().code(), StatusCode::kPermissionDenied);
}

TEST_P(EnvironmentsTest, AReferencedEnvironmentIsNotDeletedUntilItsReferencesAre) {
  DeployBasic();
  ASSERT_TRUE(CreateEnv("F", "Prod").ok());
  const std::int64_t ref = Reference("Prod");
  auto refs = TxR<std::vector<EnvironmentReference>>(
      [&](Txn& t) { return ListEnvironmentReferences(t, reader_, "F", "P"); });
  auto all = TxR<std::vector<EnvironmentReference>>(
      [&](Txn& t) { return ListEnvironmentReferences(t, reader_, std::nullopt, std::nullopt); });
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].project_name, "P");
  EXPECT_EQ((*all)[0].folder_name, "F");
  auto half = TxR<std::vector<EnvironmentReference>>(
      [&](Txn& t) { return ListEnvironmentReferences(t, reader_, "F", std::nullopt); });
  EXPECT_EQ(half.status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(refs.ok());
  ASSERT_EQ(refs->size(), 1u);
  EXPECT_EQ((*refs)[0].reference_id, ref);
  EXPECT_EQ((*refs)[0].reference_type, "R");
  EXPECT_EQ((*refs)[0].environment_name, "Prod");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return DeleteEnvironment(t, admin_, "F", "Prod"); }),
                           StatusCode::kFailedPrecondition,
                           "referenced by project 'P' (reference " + std::to_string(ref));
  ASSERT_TRUE(Tx([&](Txn& t) { return DeleteEnvironmentReference(t, admin_, ref); }).ok());
  EXPECT_TRUE(Tx([&](Txn& t) { return DeleteEnvironment(t, admin_, "F", "Prod"); }).ok());
}

TEST_P(EnvironmentsTest, AProjectsOwnValueReachesItsExecutionsUntilCleared) {
  DeployBasic();
  ASSERT_TRUE(ConfigureParameter(kObjectProject, "Conn", "warehouse").ok());
  ASSERT_TRUE(ConfigureParameter(kObjectPackage, "Rows", "42").ok());
  auto id = Create(std::nullopt);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(Value(*id, kObjectProject, "Conn"), "warehouse");
  EXPECT_EQ(Value(*id, kObjectPackage, "Rows"), "42");
  // A required parameter set by the project needs no value per execution.
  EXPECT_TRUE(Tx([&](Txn& t) { return StartExecution(t, admin_, *id, 0); }).ok());

  ASSERT_TRUE(Tx([&](Txn& t) {
                return ClearObjectParameterValue(t, admin_, kObjectProject, "F", "P", "Conn",
                                                 std::nullopt);
              }).ok());
  auto second = Create(std::nullopt);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(Value(*second, kObjectProject, "Conn"), "db");     // the design default again
  EXPECT_EQ(Value(*id, kObjectProject, "Conn"), "warehouse");  // kept by the first

  // A value set for the execution still wins.
  ASSERT_TRUE(Tx([&](Txn& t) {
                return SetExecutionParameterValue(t, admin_, *second, kObjectPackage, "Rows", "7");
              }).ok());
  EXPECT_EQ(Value(*second, kObjectPackage, "Rows"), "7");
}

TEST_P(EnvironmentsTest, BadParameterValuesAreRefusedAndChangeNothing) {
  DeployBasic();
  EXPECT_REFUSED_UNCHANGED(ConfigureParameter(kObjectProject, "Nope", "1"), StatusCode::kNotFound,
                           "list_object_parameters");
  EXPECT_REFUSED_UNCHANGED(ConfigureParameter(kObjectPackage, "Rows", "many"),
                           StatusCode::kInvalidArgument, "Int32");
  EXPECT_REFUSED_UNCHANGED(ConfigureParameter(kObjectPackage, "Rows", "1", "V", "Child.dtsx"),
                           StatusCode::kNotFound, "package 'Child.dtsx'");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) {
                             return SetObjectParameterValue(t, admin_, kObjectPackage, "F", "P",
                                                            "Rows", "1", std::nullopt, "V");
                           }),
                           StatusCode::kInvalidArgument, "object_name");
  EXPECT_REFUSED_UNCHANGED(ConfigureParameter(kObjectProject, "Conn", "x", "X"),
                           StatusCode::kInvalidArgument, "value_type");
  EXPECT_REFUSED_UNCHANGED(ConfigureParameter(50, "Conn", "x"), StatusCode::kInvalidArgument,
                           "object_type");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) {
                             return SetObjectParameterValue(t, reader_, kObjectProject, "F", "P",
                                                            "Conn", "x", std::nullopt, "V");
                           }),
                           StatusCode::kPermissionDenied, "ssis_admin");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) {
                             return SetObjectParameterValue(t, admin_, kObjectProject, "F", "Q",
                                                            "Conn", "x", std::nullopt, "V");
                           }),
                           StatusCode::kNotFound, "deploy_project");
}

TEST_P(EnvironmentsTest, ABoundParameterTakesItsVariableFromTheReferencedEnvironment) {
  DeployBasic();
  ASSERT_TRUE(CreateEnv("F", "Prod").ok());
  ASSERT_TRUE(AddVariable("Prod", "ProdConn", "String", "prod-db").ok());
  ASSERT_TRUE(AddVariable("Prod", "BatchRows", "Int32", "1000").ok());
  ASSERT_TRUE(AddVariable("Prod", "ProdPassword", "String", "pa55", true).ok());
  ASSERT_TRUE(CreateEnv("F", "Test").ok());
  ASSERT_TRUE(AddVariable("Test", "ProdConn", "String", "test-db").ok());
  ASSERT_TRUE(AddVariable("Test", "BatchRows", "Int32", "10").ok());
  ASSERT_TRUE(AddVariable("Test", "ProdPassword", "String", "t", true).ok());
  const std::int64_t prod = Reference("Prod");
  const std::int64_t test = Reference("Test");
  ASSERT_TRUE(ConfigureParameter(kObjectProject, "Conn", "ProdConn", "R").ok());
  ASSERT_TRUE(ConfigureParameter(kObjectPackage, "Rows", "BatchRows", "R").ok());
  ASSERT_TRUE(ConfigureParameter(kObjectProject, "Password", "ProdPassword", "R").ok());

  auto on_prod = Create(prod);
  ASSERT_TRUE(on_prod.ok()) << on_prod.status().ToString();
  EXPECT_EQ(Value(*on_prod, kObjectProject, "Conn"), "prod-db");
  EXPECT_EQ(Value(*on_prod, kObjectPackage, "Rows"), "1000");
  EXPECT_EQ(Value(*on_prod, kObjectProject, "Password"), "pa55");
  EXPECT_EQ(Exec(*on_prod).reference_id, prod);
  auto on_test = Create(test);
  ASSERT_TRUE(on_test.ok());
  EXPECT_EQ(Value(*on_test, kObjectProject, "Conn"), "test-db");
  EXPECT_EQ(Value(*on_test, kObjectPackage, "Rows"), "10");

  // A later change reaches later executions only.
  ASSERT_TRUE(Tx([&](Txn& t) {
                return SetEnvironmentVariableValue(t, admin_, "F", "Prod", "ProdConn", "prod-2");
              }).ok());
  auto later = Create(prod);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(Value(*later, kObjectProject, "Conn"), "prod-2");
  EXPECT_EQ(Value(*on_prod, kObjectProject, "Conn"), "prod-db");

  // The view says what is bound to what and shows no sensitive value.
  auto params = TxR<std::vector<ObjectParameter>>(
      [&](Txn& t) { return ListObjectParameters(t, reader_, "F", "P"); });
  ASSERT_TRUE(params.ok()) << params.status().ToString();
  ASSERT_EQ(params->size(), 3u);
  const ObjectParameter& conn_param = (*params)[0];
  EXPECT_EQ(conn_param.parameter_name, "Conn");
  EXPECT_EQ(conn_param.value_type, "R");
  EXPECT_EQ(conn_param.referenced_variable_name, "ProdConn");
  EXPECT_EQ(conn_param.design_default_value, "db");
  EXPECT_EQ((*params)[1].parameter_name, "Password");
  EXPECT_EQ((*params)[1].design_default_value, std::nullopt);
  EXPECT_EQ((*params)[2].object_name, "Main.dtsx");
  EXPECT_TRUE((*params)[2].required);
}

TEST_P(EnvironmentsTest, AnExecutionIsRefusedWhenABoundParameterCannotBeResolved) {
  DeployBasic();
  ASSERT_TRUE(CreateEnv("F", "Prod").ok());
  ASSERT_TRUE(AddVariable("Prod", "Rows", "String", "12").ok());
  ASSERT_TRUE(AddVariable("Prod", "Secret", "String", "x", true).ok());
  const std::int64_t prod = Reference("Prod");
  ASSERT_TRUE(ConfigureParameter(kObjectProject, "Conn", "Missing", "R").ok());
  auto create = [&](std::optional<std::int64_t> ref) { return Create(ref).status(); };
  EXPECT_REFUSED_UNCHANGED(create(std::nullopt), StatusCode::kFailedPrecondition,
                           "bound to environment variable 'Missing'; give the execution an "
                           "environment reference");
  EXPECT_REFUSED_UNCHANGED(create(prod), StatusCode::kFailedPrecondition,
                           "which environment 'Prod' in folder 'F' (reference " +
                               std::to_string(prod) + ") does not have");
  ASSERT_TRUE(ConfigureParameter(kObjectProject, "Conn", "Secret", "R").ok());
  EXPECT_REFUSED_UNCHANGED(create(prod), StatusCode::kFailedPrecondition,
                           "a sensitive value goes only to a sensitive parameter");
  ASSERT_TRUE(ConfigureParameter(kObjectProject, "Conn", "plain").ok());
  ASSERT_TRUE(ConfigureParameter(kObjectPackage, "Rows", "Rows", "R").ok());
  EXPECT_REFUSED_UNCHANGED(create(prod), StatusCode::kFailedPrecondition,
                           "of type String in environment 'Prod'");
  // Another project's reference is not this one's.
  EXPECT_REFUSED_UNCHANGED(create(prod + 1000), StatusCode::kNotFound, "environment reference");
}

TEST_P(EnvironmentsTest, AnAbsoluteReferenceUsesAnEnvironmentOfAnotherFolder) {
  DeployBasic();
  ASSERT_TRUE(TxR<std::int64_t>([&](Txn& t) { return CreateFolder(t, admin_, "Shared"); }).ok());
  ASSERT_TRUE(CreateEnv("Shared", "Common").ok());
  ASSERT_TRUE(Tx([&](Txn& t) {
                return CreateEnvironmentVariable(t, admin_, "Shared", "Common", "Conn", "String",
                                                 false, "shared-db");
              }).ok());
  // Relative: the project's folder has no such environment.
  EXPECT_REFUSED_UNCHANGED(TxR<std::int64_t>([&](Txn& t) {
                             return CreateEnvironmentReference(t, admin_, "F", "P", "Common",
                                                               std::nullopt);
                           }).status(),
                           StatusCode::kNotFound, "environment 'Common' in folder 'F'");
  const std::int64_t ref = Reference("Common", "Shared");
  ASSERT_TRUE(ConfigureParameter(kObjectProject, "Conn", "Conn", "R").ok());
  auto id = Create(ref);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(Value(*id, kObjectProject, "Conn"), "shared-db");
  EXPECT_EQ(Environments("Shared").size(), 1u);
  EXPECT_TRUE(Environments("F").empty());
}

TEST_P(EnvironmentsTest, ConfiguredValuesCarryOverToANewVersionThatStillDeclaresThem) {
  DeployBasic();
  ASSERT_TRUE(ConfigureParameter(kObjectProject, "Conn", "kept").ok());
  ASSERT_TRUE(ConfigureParameter(kObjectPackage, "Rows", "9").ok());
  // Version 2: Conn is still there, Rows is now an Int64 of another package.
  ParameterSpec conn_param;
  conn_param.name = "Conn";
  conn_param.default_value = "db";
  ProjectDeployment d = NextVersion({conn_param}, "<main v2/>");
  ASSERT_TRUE(TxR<DeployResult>([&](Txn& t) { return DeployProject(t, admin_, d); }).ok());
  auto id = Create(std::nullopt);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(Value(*id, kObjectProject, "Conn"), "kept");
  auto params = TxR<std::vector<ObjectParameter>>(
      [&](Txn& t) { return ListObjectParameters(t, admin_, "F", "P"); });
  ASSERT_TRUE(params.ok());
  ASSERT_EQ(params->size(), 1u);
  EXPECT_EQ((*params)[0].default_value, "kept");
  EXPECT_TRUE((*params)[0].value_set);
}

TEST_P(EnvironmentsTest, ValidationFindsWhatAnExecutionWouldBeRefusedForAndCreatesNothing) {
  DeployBasic();  // Main.dtsx (entry point) requires Rows, which has no default
  ASSERT_TRUE(CreateEnv("F", "Prod").ok());
  ASSERT_TRUE(AddVariable("Prod", "ConnVar", "String", "prod-db").ok());
  ASSERT_TRUE(CreateEnv("F", "Test").ok());
  const std::int64_t prod = Reference("Prod");
  const std::int64_t test = Reference("Test");
  ASSERT_TRUE(ConfigureParameter(kObjectProject, "Conn", "ConnVar", "R").ok());
  auto validate = [&](std::optional<std::string> package, std::string scope,
                      std::optional<std::int64_t> ref, const Caller& who) {
    return TxR<ValidationResult>(
        [&](Txn& t) { return ValidateProject(t, who, "F", "P", package, scope, ref); });
  };
  auto all = validate(std::nullopt, "A", std::nullopt, executor_);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_FALSE(all->succeeded);
  EXPECT_EQ(all->checks, 2);  // one entry package x two references
  ASSERT_EQ(all->messages.size(), 2u);
  EXPECT_EQ(all->messages[0].package_name, "Main.dtsx");
  EXPECT_EQ(all->messages[0].reference_id, std::nullopt);
  EXPECT_THAT(all->messages[0].message, HasSubstr("required parameter 'Rows' has no value"));
  EXPECT_EQ(all->messages[1].reference_id, test);
  EXPECT_THAT(all->messages[1].message, HasSubstr("'ConnVar', which environment 'Test'"));

  // Rows given a value: only Test is still wrong; Prod alone validates.
  ASSERT_TRUE(ConfigureParameter(kObjectPackage, "Rows", "10").ok());
  auto on_prod = validate("Main.dtsx", "S", prod, admin_);
  ASSERT_TRUE(on_prod.ok()) << on_prod.status().ToString();
  EXPECT_TRUE(on_prod->succeeded);
  EXPECT_EQ(on_prod->checks, 1);
  auto none = validate(std::nullopt, "D", std::nullopt, admin_);
  ASSERT_TRUE(none.ok());
  ASSERT_EQ(none->messages.size(), 1u);
  EXPECT_THAT(none->messages[0].message, HasSubstr("give the execution an environment reference"));

  // Each validation is an operation (300 project, 301 package), nothing else.
  auto ops = TxR<std::vector<Operation>>([&](Txn& t) { return ListOperations(t, admin_, 100); });
  ASSERT_TRUE(ops.ok());
  int validations = 0;
  for (const Operation& op : *ops) {
    if (op.operation_type == 300 || op.operation_type == 301) ++validations;
    if (op.operation_id == on_prod->operation_id) {
      EXPECT_EQ(op.operation_type, 301);
      EXPECT_EQ(op.status, ExecutionStatus::kSucceeded);
    }
    if (op.operation_id == all->operation_id) {
      EXPECT_EQ(op.status, ExecutionStatus::kFailed);
    }
  }
  EXPECT_EQ(validations, 3);
  auto executions = TxR<std::vector<Execution>>([&](Txn& t) { return ListExecutions(t, admin_); });
  ASSERT_TRUE(executions.ok());
  EXPECT_TRUE(executions->empty());

  // Bad calls are refused and change nothing.
  EXPECT_REFUSED_UNCHANGED(validate(std::nullopt, "X", std::nullopt, admin_).status(),
                           StatusCode::kInvalidArgument, "environment_scope");
  EXPECT_REFUSED_UNCHANGED(validate(std::nullopt, "S", std::nullopt, admin_).status(),
                           StatusCode::kInvalidArgument, "needs reference_id");
  EXPECT_REFUSED_UNCHANGED(validate(std::nullopt, "S", prod + 100, admin_).status(),
                           StatusCode::kNotFound, "does not belong to this project");
  EXPECT_REFUSED_UNCHANGED(validate("Child.dtsx", "A", std::nullopt, admin_).status(),
                           StatusCode::kFailedPrecondition, "not an entry-point package");
  EXPECT_REFUSED_UNCHANGED(validate("Nope.dtsx", "A", std::nullopt, admin_).status(),
                           StatusCode::kNotFound, "list_packages");
  EXPECT_REFUSED_UNCHANGED(validate(std::nullopt, "A", std::nullopt, reader_).status(),
                           StatusCode::kPermissionDenied, "ssis_cluster_executor");
}

}  // namespace

TEST_P(EnvironmentsTest, DescriptionsOfVariablesEnvironmentsAndFoldersChangeInPlace) {
  DeployBasic();
  ASSERT_TRUE(CreateEnv("F", "Prod").ok());
  ASSERT_TRUE(AddVariable("Prod", "Batch", "Int32", "500").ok());
  ASSERT_TRUE(Tx([&](Txn& t) {
                return SetEnvironmentVariableProperty(t, admin_, "F", "Prod", "Batch",
                                                      "Description", "rows per batch");
              }).ok());
  ASSERT_TRUE(Tx([&](Txn& t) {
                return SetEnvironmentProperty(t, admin_, "F", "Prod", "Description", "production");
              }).ok());
  ASSERT_TRUE(
      Tx([&](Txn& t) { return SetFolderDescription(t, admin_, "F", "finance loads"); }).ok());
  const std::vector<Environment> envs = Environments("F");
  ASSERT_EQ(envs.size(), 1u);
  EXPECT_EQ(envs[0].description, "production");
  ASSERT_EQ(envs[0].variables.size(), 1u);
  EXPECT_EQ(envs[0].variables[0].description, "rows per batch");
  EXPECT_THAT(Snapshot(), HasSubstr("'finance loads'"));
  // A type the value parses as is taken; one it does not is refused.
  ASSERT_TRUE(Tx([&](Txn& t) {
                return SetEnvironmentVariableType(t, admin_, "F", "Prod", "Batch", "Int64");
              }).ok());
  EXPECT_EQ(Environments("F")[0].variables[0].data_type, "Int64");

  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) {
                             return SetEnvironmentVariableType(t, admin_, "F", "Prod", "Batch",
                                                               "Boolean");
                           }),
                           StatusCode::kInvalidArgument, "Boolean");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) {
                             return SetEnvironmentVariableProperty(t, admin_, "F", "Prod", "Batch",
                                                                   "Sensitive", "1");
                           }),
                           StatusCode::kInvalidArgument, "use Description");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) {
                             return SetEnvironmentProperty(t, admin_, "F", "Prod", "Description",
                                                           std::string(2000, 'd'));
                           }),
                           StatusCode::kInvalidArgument, "property_value");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) {
                             return SetEnvironmentProperty(t, admin_, "F", "Nope", "Description",
                                                           "x");
                           }),
                           StatusCode::kNotFound, "create it first");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return SetFolderDescription(t, admin_, "Nope", "x"); }),
                           StatusCode::kNotFound, "create_folder");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) { return SetFolderDescription(t, reader_, "F", "x"); }),
                           StatusCode::kPermissionDenied, "ssis_admin");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) {
                             return SetEnvironmentVariableProperty(t, executor_, "F", "Prod",
                                                                   "Batch", "Description", "x");
                           }),
                           StatusCode::kPermissionDenied, "ssis_admin");
}

INSTANTIATE_TEST_SUITE_P(Storage, EnvironmentsTest, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<StorageParam>& param_info) {
                           return param_info.param.label;
                         });

}  // namespace scaleout::core::catalog::testing
