// The permission matrix: every management operation × {admin, executor,
// reader, anonymous, worker identity}. A denied call is 401/403, says which
// role it needs, and changes nothing.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/e2e/manage/master_process.h"

namespace scaleout::test {
namespace {

using nlohmann::json;

const std::set<std::string> kAdmin = {"ssis_admin"};
const std::set<std::string> kRunners = {"ssis_admin", "ssis_cluster_executor"};
const std::set<std::string> kReaders = {"ssis_admin", "ssis_cluster_executor", "ssis_reader"};
const std::set<std::string> kAnyone = {};

// The roles each operation needs, as docs/api.md documents them.
const std::map<std::string, std::set<std::string>> kMatrix = {
    {"whoami", kAnyone},
    {"status", kReaders},
    {"metrics", kReaders},
    {"list_master_properties", kAnyone},
    {"list_catalog_properties", kReaders},
    {"get_catalog_property", kReaders},
    {"configure_catalog", kAdmin},
    {"enable_scaleout", kAdmin},
    {"update_master_address", kAdmin},
    {"update_logdb_info", kAdmin},
    {"list_worker_agents", kReaders},
    {"get_worker_agent", kReaders},
    {"add_worker_agent", kAdmin},
    {"remove_worker_agent", kAdmin},
    {"enable_worker_agent", kAdmin},
    {"disable_worker_agent", kAdmin},
    {"set_worker_agent_property", kAdmin},
    {"list_folders", kReaders},
    {"create_folder", kAdmin},
    {"delete_folder", kAdmin},
    {"deploy_project", kAdmin},
    {"delete_project", kAdmin},
    {"set_folder_description", kAdmin},
    {"rename_folder", kAdmin},
    {"move_project", kAdmin},
    {"rename_environment", kAdmin},
    {"set_environment_variable_protection", kAdmin},
    {"set_environment_variable_type", kAdmin},
    {"set_environment_variable_property", kAdmin},
    {"set_environment_property", kAdmin},
    {"list_project_versions", kReaders},
    {"restore_project", kAdmin},
    {"get_project", kReaders},
    {"list_projects", kReaders},
    {"list_packages", kReaders},
    {"create_execution", kRunners},
    {"set_execution_parameter_value", kRunners},
    {"add_execution_worker", kRunners},
    {"start_execution", kRunners},
    {"run_execution", kRunners},
    {"run_executions", kRunners},
    {"stop_operation", kRunners},
    {"list_executions", kReaders},
    {"get_execution", kReaders},
    {"list_event_messages", kReaders},
    {"list_operations", kReaders},
    {"create_schedule", kAdmin},
    {"list_schedules", kReaders},
    {"enable_schedule", kAdmin},
    {"disable_schedule", kAdmin},
    {"remove_schedule", kAdmin},
    {"create_principal", kAdmin},
    {"list_principals", kAdmin},
    {"remove_principal", kAdmin},
    {"list_environments", kReaders},
    {"create_environment", kAdmin},
    {"delete_environment", kAdmin},
    {"create_environment_variable", kAdmin},
    {"set_environment_variable_value", kAdmin},
    {"delete_environment_variable", kAdmin},
    {"list_environment_references", kReaders},
    {"create_environment_reference", kAdmin},
    {"delete_environment_reference", kAdmin},
    {"list_object_parameters", kReaders},
    {"set_object_parameter_value", kAdmin},
    {"clear_object_parameter_value", kAdmin},
    {"validate_project", kRunners},
    {"validate_package", kRunners},
};

TEST(ManagePermissionsTest, EveryOperationTimesEveryIdentity) {
  MasterProcess master;
  ASSERT_TRUE(master.started());
  RawApi api;
  const std::string executor = master.AddTokenPrincipal("eve", "executor");
  const std::string reader = master.AddTokenPrincipal("rita", "reader");
  const TestCertificate worker = MakeCertificate(master.dir(), "worker");
  ASSERT_EQ(master.ManageAsAdmin({"worker", "add", "--cert-file", worker.cert.string(), "--yes"})
                .exit_code,
            0);

  // The operation list the master serves is the one this matrix covers.
  const sdk::Response listed = api.Call(master.url(), master.thumbprint(), "GET",
                                        "/api/v1/operations", "", master.admin_token());
  ASSERT_EQ(listed.status, 200) << listed.body;
  std::set<std::string> served;
  const json listed_doc = json::parse(listed.body);
  for (const json& op : listed_doc["result"]) served.insert(op["name"].get<std::string>());
  std::set<std::string> expected;
  for (const auto& [name, roles] : kMatrix) expected.insert(name);
  EXPECT_EQ(served, expected);

  const std::string before_principals = master.Json({"user", "list"}).dump();
  const std::string before_workers = master.Json({"worker", "list"}).dump();
  const std::string before_catalog = master.Json({"catalog", "get"}).dump();

  struct Identity {
    std::string label;
    std::string token;
    const TestCertificate* cert;
    std::string role;  // "" for anonymous and the worker
  };
  const Identity identities[] = {{"executor", executor, nullptr, "ssis_cluster_executor"},
                                 {"reader", reader, nullptr, "ssis_reader"},
                                 {"anonymous", "", nullptr, ""},
                                 {"worker", "", &worker, ""},
                                 {"admin", master.admin_token(), nullptr, "ssis_admin"}};
  for (const Identity& who : identities) {
    for (const auto& [operation, roles] : kMatrix) {
      SCOPED_TRACE(who.label + " calls " + operation);
      const sdk::Response r = api.Call(master.url(), master.thumbprint(), "POST",
                                       "/api/v1/" + operation, "{}", who.token, who.cert);
      const std::string body = r.body;
      if (who.label == "anonymous") {
        EXPECT_EQ(r.status, 401) << body;
        EXPECT_NE(body.find("no credential"), std::string::npos) << body;
      } else if (who.label == "worker") {
        EXPECT_EQ(r.status, 403) << body;
        EXPECT_NE(body.find("worker"), std::string::npos) << body;
      } else if (roles.empty() || roles.contains(who.role)) {
        // Allowed: whatever the (empty) arguments lead to, it is not a refusal by role.
        EXPECT_NE(r.status, 401) << body;
        EXPECT_NE(r.status, 403) << body;
      } else {
        EXPECT_EQ(r.status, 403) << body;
        EXPECT_NE(body.find("needs the role"), std::string::npos) << body;
        EXPECT_NE(body.find(*roles.begin()), std::string::npos) << body;
      }
    }
    if (who.label != "admin") {
      // Nothing a refused caller did changed the catalog.
      EXPECT_EQ(master.Json({"user", "list"}).dump(), before_principals);
      EXPECT_EQ(master.Json({"worker", "list"}).dump(), before_workers);
      EXPECT_EQ(master.Json({"catalog", "get"}).dump(), before_catalog);
    }
  }
  // Health is the one thing anonymous callers may ask.
  EXPECT_EQ(api.Call(master.url(), master.thumbprint(), "GET", "/api/v1/health", "", "").status,
            200);
}

}  // namespace
}  // namespace scaleout::test
