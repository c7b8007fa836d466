// deploy, projects and packages, and the execution commands: create, param,
// add-worker, start, run, stop, list, show, log, wait.
#include <gtest/gtest.h>

#include "tests/e2e/manage/master_process.h"

namespace scaleout::test {
namespace {

using nlohmann::json;

class ManageDeployTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(master_.started());
    project_ = master_.dir() / "project";
    WriteFile(project_ / "job.sh", "#!/bin/sh\necho \"rows=$SCALEOUT_PARAM_ROWS\"\n");
    WriteFile(project_ / "helper.sh", "#!/bin/sh\nexit 0\n");
    WriteFile(project_ / "project.json",
              R"({"description": "test project", "entry_points": ["job.sh"],
                  "parameters": [{"name": "Rows", "data_type": "Int32", "default": "5"}]})");
  }

  std::int64_t Deploy() {
    const ProcessResult r =
        master_.ManageAsAdmin({"deploy", "--folder", "F", "--project", "P", project_.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto at = r.out.find("version ");
    EXPECT_NE(at, std::string::npos) << r.out;
    return at == std::string::npos ? -1 : std::stoll(r.out.substr(at + 8));
  }

  std::int64_t Create() {
    const ProcessResult r = master_.ManageAsAdmin(
        {"exec", "create", "--folder", "F", "--project", "P", "--package", "job.sh", "--scaleout"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::stoll(r.out);
  }

  MasterProcess master_;
  std::filesystem::path project_;
};

TEST_F(ManageDeployTest, DeployListsProjectsAndPackages) {
  const std::int64_t v1 = Deploy();
  const json projects = master_.Json({"project", "list"});
  ASSERT_EQ(projects.size(), 1u);
  EXPECT_EQ(projects[0]["version"], v1);
  EXPECT_EQ(projects[0]["package_count"], 2);
  const json packages = master_.Json({"package", "list", "--folder", "F"});
  ASSERT_EQ(packages.size(), 2u);
  EXPECT_EQ(packages[0]["package_name"], "helper.sh");
  EXPECT_EQ(packages[0]["entry_point"], false);
  EXPECT_EQ(packages[1]["entry_point"], true);
  const ProcessResult human = master_.ManageAsAdmin({"package", "list"});
  EXPECT_TRUE(Contains(human.out, "helper.sh"));
  EXPECT_TRUE(Contains(human.out, "job.sh"));

  // Bad input: a missing path, a project without packages, no folder.
  EXPECT_EQ(master_
                .ManageAsAdmin({"deploy", "--folder", "F", "--project", "P",
                                (master_.dir() / "missing").string()})
                .exit_code,
            1);
  WriteFile(master_.dir() / "empty" / "project.json", "{}");
  const ProcessResult empty = master_.ManageAsAdmin(
      {"deploy", "--folder", "F", "--project", "E", (master_.dir() / "empty").string()});
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_TRUE(Contains(empty.err, "no files")) << empty.err;
  EXPECT_EQ(master_.ManageAsAdmin({"deploy", "--project", "P", project_.string()}).exit_code, 2);
  EXPECT_EQ(master_.Json({"project", "list"}).size(), 1u);
}

TEST_F(ManageDeployTest, AnExecutionOfAnOldVersionCannotStart) {
  const std::int64_t v1 = Deploy();
  const std::int64_t old_execution = Create();
  const std::int64_t v2 = Deploy();
  EXPECT_GT(v2, v1);
  const ProcessResult start =
      master_.ManageAsAdmin({"exec", "start", std::to_string(old_execution)});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_TRUE(Contains(start.err, "redeployed")) << start.err;
  EXPECT_EQ(master_.Json({"exec", "show", std::to_string(old_execution)})["status_name"],
            "created");
  // A new execution of the new version starts.
  const std::int64_t fresh = Create();
  ASSERT_EQ(
      master_.ManageAsAdmin({"exec", "start", std::to_string(fresh), "--retry", "2"}).exit_code, 0);
  const json shown = master_.Json({"exec", "show", std::to_string(fresh)});
  EXPECT_EQ(shown["status_name"], "pending");
  EXPECT_EQ(shown["retry_count"], 2);
  EXPECT_EQ(shown["project_lsn"], v2);
}

TEST_F(ManageDeployTest, ADeletedProjectKeepsItsHistoryAndFreesItsName) {
  Deploy();
  const std::int64_t created = Create();
  const ProcessResult deleted =
      master_.ManageAsAdmin({"project", "delete", "--folder", "F", "--project", "P"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_TRUE(Contains(deleted.out, "its executions stay in the history")) << deleted.out;
  EXPECT_TRUE(master_.Json({"project", "list"}).empty());
  EXPECT_TRUE(master_.Json({"package", "list"}).empty());
  EXPECT_EQ(master_.Json({"exec", "list"}).size(), 1u);  // the history stays
  const ProcessResult start = master_.ManageAsAdmin({"exec", "start", std::to_string(created)});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_TRUE(Contains(start.err, "which was deleted")) << start.err;
  const ProcessResult again =
      master_.ManageAsAdmin({"project", "delete", "--folder", "F", "--project", "P"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(Contains(again.err, "deploy it first")) << again.err;
  Deploy();  // the name is free again
  EXPECT_EQ(master_.Json({"project", "list"}).size(), 1u);
}

TEST_F(ManageDeployTest, ExecutionStepsAndReports) {
  Deploy();
  ASSERT_EQ(master_.ManageAsAdmin({"enable-scaleout"}).exit_code, 0);
  const TestCertificate worker = MakeCertificate(master_.dir(), "w1");
  ASSERT_EQ(master_.ManageAsAdmin({"worker", "add", "--cert-file", worker.cert.string(), "--yes"})
                .exit_code,
            0);
  const std::string worker_id = master_.Json({"worker", "list"})[0]["worker_agent_id"];

  const std::int64_t id = Create();
  const std::string ids = std::to_string(id);
  ASSERT_EQ(master_.ManageAsAdmin({"exec", "param", ids, "Rows=42"}).exit_code, 0);
  const ProcessResult bad_value = master_.ManageAsAdmin({"exec", "param", ids, "Rows=many"});
  EXPECT_EQ(bad_value.exit_code, 1);
  EXPECT_TRUE(Contains(bad_value.err, "Rows")) << bad_value.err;
  const ProcessResult unknown = master_.ManageAsAdmin({"exec", "param", ids, "Nope=1"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(Contains(unknown.err, "no project, package or system parameter")) << unknown.err;
  ASSERT_EQ(master_.ManageAsAdmin({"exec", "add-worker", ids, worker_id}).exit_code, 0);
  ASSERT_EQ(master_.ManageAsAdmin({"exec", "start", ids}).exit_code, 0);
  // Started executions are fixed: parameters can no longer change.
  EXPECT_EQ(master_.ManageAsAdmin({"exec", "param", ids, "Rows=1"}).exit_code, 1);
  EXPECT_EQ(master_.ManageAsAdmin({"exec", "start", ids}).exit_code, 1);

  const json shown = master_.Json({"exec", "show", ids});
  ASSERT_EQ(shown["attempts"].size(), 1u);
  EXPECT_EQ(shown["attempts"][0]["status_name"], "pending");
  bool rows_set = false;
  for (const json& p : shown["parameters"]) {
    if (p["parameter_name"] == "Rows") rows_set = p["value"] == "42";
  }
  EXPECT_TRUE(rows_set) << shown.dump(2);
  const ProcessResult human_show = master_.ManageAsAdmin({"exec", "show", ids});
  EXPECT_TRUE(Contains(human_show.out, "Attempts:"));
  EXPECT_TRUE(Contains(human_show.out, "42"));

  // exec run: all four steps in one, with a parameter and an allow-listed worker.
  const ProcessResult run = master_.ManageAsAdmin(
      {"exec", "run", "--folder", "F", "--project", "P", "--package", "job.sh", "--scaleout",
       "--param", "Rows=7", "--worker", worker_id, "--retry", "1", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json run_doc = json::parse(run.out);
  EXPECT_EQ(run_doc["status_name"], "pending");
  EXPECT_EQ(run_doc["useanyworker"], false);
  EXPECT_EQ(run_doc["retry_count"], 1);
  // A failing run leaves nothing behind (one transaction).
  const std::size_t before = master_.Json({"exec", "list"}).size();
  EXPECT_EQ(master_
                .ManageAsAdmin({"exec", "run", "--folder", "F", "--project", "P", "--package",
                                "job.sh", "--param", "Rows=x"})
                .exit_code,
            1);
  EXPECT_EQ(master_.Json({"exec", "list"}).size(), before);

  // All Executions: filters, and the table carries what the JSON does.
  const json pending = master_.Json({"exec", "list", "--status", "pending"});
  EXPECT_EQ(pending.size(), 2u);
  const ProcessResult table = master_.ManageAsAdmin({"exec", "list", "--status", "pending"});
  for (const json& e : pending) {
    EXPECT_TRUE(Contains(table.out, std::to_string(e["execution_id"].get<std::int64_t>())));
  }
  EXPECT_EQ(master_.Json({"exec", "list", "--folder", "nope"}).size(), 0u);
  EXPECT_EQ(master_.Json({"exec", "list", "--package", "job.sh"}).size(), 2u);
  EXPECT_EQ(master_.ManageAsAdmin({"exec", "list", "--status", "sleeping"}).exit_code, 1);

  // Stop, log, wait.
  ASSERT_EQ(master_.ManageAsAdmin({"exec", "stop", ids}).exit_code, 0);
  EXPECT_EQ(master_.Json({"exec", "show", ids})["status_name"], "canceled");
  EXPECT_EQ(master_.ManageAsAdmin({"exec", "stop", ids}).exit_code, 1);  // already finished
  EXPECT_EQ(master_.ManageAsAdmin({"exec", "log", ids}).exit_code, 0);
  const ProcessResult waited = master_.ManageAsAdmin({"exec", "wait", ids, "--timeout", "60"});
  EXPECT_EQ(waited.exit_code, 1);  // it ended, but not successfully
  EXPECT_TRUE(Contains(waited.out, "canceled")) << waited.out;
  EXPECT_EQ(master_.ManageAsAdmin({"exec", "show", "999999"}).exit_code, 1);
  EXPECT_EQ(master_.ManageAsAdmin({"exec", "log", "999999"}).exit_code, 1);
  EXPECT_EQ(master_.ManageAsAdmin({"exec", "show", "abc"}).exit_code, 2);

  // exec run --count: a job array through run_executions, one transaction per call.
  const ProcessResult many = master_.ManageAsAdmin({"exec", "run", "--folder", "F", "--project",
                                                    "P", "--package", "job.sh", "--scaleout",
                                                    "--param", "Rows=3", "--count", "3", "--json"});
  ASSERT_EQ(many.exit_code, 0) << many.err;
  const json many_ids = json::parse(many.out)["execution_ids"];
  ASSERT_EQ(many_ids.size(), 3u);
  for (const json& many_id : many_ids) {
    const json e = master_.Json({"exec", "show", std::to_string(many_id.get<std::int64_t>())});
    EXPECT_EQ(e["status_name"], "pending");
    EXPECT_EQ(e["package_name"], "job.sh");
  }
  const ProcessResult human_many = master_.ManageAsAdmin(
      {"exec", "run", "--folder", "F", "--project", "P", "--package", "job.sh", "--count", "2"});
  EXPECT_EQ(human_many.exit_code, 0) << human_many.err;
  EXPECT_TRUE(Contains(human_many.out, "Started 2 executions")) << human_many.out;
  EXPECT_EQ(master_
                .ManageAsAdmin({"exec", "run", "--folder", "F", "--project", "P", "--package",
                                "job.sh", "--count", "0"})
                .exit_code,
            2);
  // The list form: each element overrides the call's keys; one bad element
  // starts none of them, and the error names it.
  const std::size_t before_batch = master_.Json({"exec", "list"}).size();
  const ProcessResult bad_batch =
      master_.ManageAsAdmin({"api", "run_executions", "--data",
                             R"({"folder_name": "F", "project_name": "P", "package_name": "job.sh",
           "executions": [{}, {"package_name": "nosuch.sh"}, {}]})"});
  EXPECT_EQ(bad_batch.exit_code, 1);
  EXPECT_TRUE(Contains(bad_batch.err, "executions[1]")) << bad_batch.err;
  EXPECT_EQ(master_.Json({"exec", "list"}).size(), before_batch);
  for (const char* data :
       {R"({"folder_name": "F", "project_name": "P", "package_name": "job.sh"})",
        R"({"folder_name": "F", "project_name": "P", "package_name": "job.sh", "count": 1001})",
        R"({"folder_name": "F", "project_name": "P", "package_name": "job.sh", "count": 2,
            "executions": [{}]})",
        R"({"folder_name": "F", "project_name": "P", "package_name": "job.sh",
            "executions": [7]})"}) {
    const ProcessResult refused = master_.ManageAsAdmin({"api", "run_executions", "--data", data});
    EXPECT_EQ(refused.exit_code, 1) << data;
    EXPECT_FALSE(refused.err.empty()) << data;
  }
  EXPECT_EQ(master_.Json({"exec", "list"}).size(), before_batch);
  const ProcessResult listed =
      master_.ManageAsAdmin({"api", "run_executions", "--data",
                             R"({"folder_name": "F", "project_name": "P", "package_name": "job.sh",
           "executions": [{"retry_count": 2}, {"runinscaleout": false}]})"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const json listed_ids = json::parse(listed.out)["execution_ids"];
  ASSERT_EQ(listed_ids.size(), 2u);
  EXPECT_EQ(master_.Json(
                {"exec", "show", std::to_string(listed_ids[0].get<std::int64_t>())})["retry_count"],
            2);
  EXPECT_EQ(master_.Json({"exec", "show",
                          std::to_string(listed_ids[1].get<std::int64_t>())})["runinscaleout"],
            false);
  for (const json& many_id : many_ids) {
    ASSERT_EQ(master_.ManageAsAdmin({"exec", "stop", std::to_string(many_id.get<std::int64_t>())})
                  .exit_code,
              0);
  }
}

}  // namespace
}  // namespace scaleout::test
