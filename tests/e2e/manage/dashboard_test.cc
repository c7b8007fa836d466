// The web dashboard's files and the Prometheus page of a real master: what
// a browser and a scraper get, with and without credentials.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "tests/e2e/manage/master_process.h"

namespace scaleout::test {
namespace {

using nlohmann::json;

const std::filesystem::path kDashboardDir =
    std::filesystem::path(SCALEOUT_TEST_SOURCE_DIR) / "web" / "dashboard";

class DashboardEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(master_.started()); }

  sdk::Response Get(const std::string& target, const std::string& token = "",
                    const TestCertificate* cert = nullptr, const std::string& method = "GET") {
    return api_.Call(master_.url(), master_.thumbprint(), method, target, "", token, cert);
  }

  // Deploys folder F, project P: one package, job.sh, and one parameter, Rows.
  void Deploy() {
    const std::filesystem::path project = master_.dir() / "project";
    WriteFile(project / "job.sh", "#!/bin/sh\nexit 0\n");
    WriteFile(project / "project.json",
              R"({"entry_points": ["job.sh"],
                  "parameters": [{"name": "Rows", "data_type": "Int32", "default": "5"}]})");
    const ProcessResult r =
        master_.ManageAsAdmin({"deploy", "--folder", "F", "--project", "P", project.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Runs job.sh in Scale Out; with no worker enabled it stays pending.
  // Returns its id, or -1 after a test failure.
  std::int64_t StartPendingExecution() {
    const json run = master_.Json(
        {"exec", "run", "--folder", "F", "--project", "P", "--package", "job.sh", "--scaleout"});
    EXPECT_TRUE(run.contains("execution_id")) << run.dump();
    return run.contains("execution_id") ? run["execution_id"].get<std::int64_t>() : -1;
  }

  MasterProcess master_;
  RawApi api_;
};

// Every file the page loads (index.html's script and stylesheet, and each
// module the scripts import) is served, byte for byte the source, with the
// type a browser insists on for a module script; no credential is needed,
// as the files hold no data.
TEST_F(DashboardEndToEnd, ThePageAndEverythingItLoadsAreServed) {
  const sdk::Response index = Get("/");
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index.body, ReadFile(kDashboardDir / "index.html"));
  EXPECT_TRUE(Contains(index.body, "Content-Security-Policy")) << "the page lost its CSP";
  EXPECT_TRUE(Contains(index.body, "script-src 'self'"));

  std::set<std::string> to_load;
  const std::regex reference(R"((?:src|href)="([a-z_]+\.(?:mjs|css))\")");
  for (std::sregex_iterator it(index.body.begin(), index.body.end(), reference), end; it != end;
       ++it) {
    to_load.insert((*it)[1]);
  }
  EXPECT_TRUE(to_load.contains("app.mjs"));
  EXPECT_TRUE(to_load.contains("app.css"));
  std::set<std::string> loaded;
  const std::regex import(R"(from '\./([a-z_]+\.mjs)')");
  while (!to_load.empty()) {
    const std::string name = *to_load.begin();
    to_load.erase(to_load.begin());
    if (!loaded.insert(name).second) continue;
    SCOPED_TRACE(name);
    const sdk::Response file = Get("/" + name);
    ASSERT_EQ(file.status, 200) << file.body;
    EXPECT_EQ(file.body, ReadFile(kDashboardDir / name));
    if (name.ends_with(".mjs")) {
      EXPECT_EQ(file.content_type, "text/javascript; charset=utf-8");
      for (std::sregex_iterator it(file.body.begin(), file.body.end(), import), end; it != end;
           ++it) {
        to_load.insert((*it)[1]);
      }
    } else {
      EXPECT_EQ(file.content_type, "text/css; charset=utf-8");
    }
  }
  EXPECT_TRUE(loaded.contains("views.mjs"));
  EXPECT_TRUE(loaded.contains("api.mjs"));
}

TEST_F(DashboardEndToEnd, OtherPathsAndMethodsAreRefusedAndTheApiIsUntouched) {
  const sdk::Response post = Get("/", "", nullptr, "POST");
  EXPECT_EQ(post.status, 405) << post.body;
  const sdk::Response unknown = Get("/admin.php");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_TRUE(Contains(unknown.body, "no such endpoint '/admin.php'")) << unknown.body;
  EXPECT_EQ(Get("/../etc/passwd").status, 404);
  // The API keeps its own routes under the dashboard's "/".
  const sdk::Response status = Get("/api/v1/status", master_.admin_token());
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(status.content_type, "application/json");
  EXPECT_EQ(Get("/api/v1/status").status, 401);
}

// Prometheus: a reader's token (a scrape config's bearer_token) gets the
// page; its figures are the catalog's, the same as `manage status`.
TEST_F(DashboardEndToEnd, MetricsAreTheCatalogsFiguresForAReader) {
  Deploy();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(master_
                  .ManageAsAdmin({"exec", "create", "--folder", "F", "--project", "P", "--package",
                                  "job.sh", "--scaleout"})
                  .exit_code,
              0);
  }
  const TestCertificate worker = MakeCertificate(master_.dir(), "worker");
  ASSERT_EQ(master_
                .ManageAsAdmin({"worker", "add", "--cert-file", worker.cert.string(),
                                "--display-name", "night \"shift\"", "--yes"})
                .exit_code,
            0);
  const std::string reader = master_.AddTokenPrincipal("prometheus", "reader");

  const sdk::Response page = Get("/metrics", reader);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_TRUE(Contains(page.body, "scaleout_up 1\n")) << page.body;
  EXPECT_TRUE(Contains(page.body, "scaleout_workers{state=\"total\"} 1\n")) << page.body;
  EXPECT_TRUE(Contains(page.body, "scaleout_workers{state=\"online\"} 0\n")) << page.body;
  EXPECT_TRUE(Contains(page.body, "display_name=\"night \\\"shift\\\"\"")) << page.body;
  const json status = master_.Json({"status"});
  ASSERT_TRUE(status.contains("executions_by_status")) << status.dump();
  EXPECT_EQ(status["executions_by_status"]["created"], 3);
  for (const auto& [name, count] : status["executions_by_status"].items()) {
    EXPECT_TRUE(Contains(page.body, "scaleout_executions{status=\"" + name + "\"} " +
                                        std::to_string(count.get<int>()) + "\n"))
        << name << " in\n"
        << page.body;
  }
  // The master's own figures: its catalog writer has committed this test's
  // calls, and it reports its memory.
  const std::smatch transactions = [&page] {
    std::smatch m;
    std::regex_search(page.body, m, std::regex("\nscaleout_catalog_transactions_total ([0-9]+)\n"));
    return m;
  }();
  ASSERT_FALSE(transactions.empty()) << page.body;
  EXPECT_GT(std::stoll(transactions[1]), 5);
  EXPECT_TRUE(
      std::regex_search(page.body, std::regex("\nprocess_resident_memory_bytes [1-9][0-9]{6,}\n")))
      << page.body;
  EXPECT_TRUE(Contains(page.body, "\nscaleout_waiting_task_requests 0\n")) << page.body;
  // The same figures as JSON, for anything that is not Prometheus.
  const sdk::Response as_json = Get("/api/v1/metrics", reader);
  ASSERT_EQ(as_json.status, 200) << as_json.body;
  EXPECT_EQ(json::parse(as_json.body)["result"]["worker_agents"].size(), 1u);
}

// The page's own logic, in a DOM (jsdom under node) against this master:
// tests/web/app_with_master.mjs signs in as a reader and as an admin, walks
// every page, and uses the buttons and forms (enable, disable, add a worker
// from its certificate file, edit, remove, stop), checking what each
// changed through the API.
TEST_F(DashboardEndToEnd, ThePageWorksAgainstARealMaster) {
  Deploy();
  Deploy();  // a second version, for the project page's Restore
  const std::int64_t pending = StartPendingExecution();
  ASSERT_GT(pending, 0);
  const TestCertificate worker = MakeCertificate(master_.dir(), "worker");
  const json added = master_.Json(
      {"worker", "add", "--cert-file", worker.cert.string(), "--display-name", "dash", "--yes"});
  ASSERT_TRUE(added.contains("worker_agent_id")) << added.dump();
  const TestCertificate other_worker = MakeCertificate(master_.dir(), "other-worker");

  const ProcessResult node = RunProcess(
      "/usr/bin/env",
      {"node",
       (std::filesystem::path(SCALEOUT_TEST_SOURCE_DIR) / "tests" / "web" / "app_with_master.mjs")
           .string()},
      {"SCALEOUT_MASTER=" + master_.url(), "NODE_EXTRA_CA_CERTS=" + master_.cert_file().string(),
       // Debian's node packages (jsdom) live here; Debian's node looks
       // there by itself, other builds of node need telling.
       "NODE_PATH=/usr/share/nodejs", "SCALEOUT_ADMIN_TOKEN=" + master_.admin_token(),
       "SCALEOUT_READER_TOKEN=" + master_.AddTokenPrincipal("dash-reader", "reader"),
       "SCALEOUT_TEMPORARY_TOKEN=" + master_.AddTokenPrincipal("dash-temporary", "reader"),
       "SCALEOUT_WORKER_ID=" + added["worker_agent_id"].get<std::string>(),
       "SCALEOUT_PENDING_ID=" + std::to_string(pending),
       "SCALEOUT_NEW_WORKER_CERT=" + other_worker.cert.string(),
       "SCALEOUT_NEW_WORKER_SHA256=" + other_worker.sha256});
  EXPECT_EQ(node.exit_code, 0) << "stdout:\n"
                               << node.out << "stderr:\n"
                               << node.err
                               << "(node and jsdom come from Debian's nodejs and node-jsdom)";
  EXPECT_TRUE(Contains(node.out, "every step passed")) << node.out;
}

// A real browser (headless Chromium, trusting exactly the master's key):
// the page loads its modules and stylesheet under its Content Security
// Policy, signs in through its form and draws every page, with no script
// error and no CSP refusal (tests/web/browser_check.py).
TEST_F(DashboardEndToEnd, ARealBrowserDrawsEveryPageUnderItsCsp) {
  Deploy();
  const std::int64_t pending = StartPendingExecution();
  ASSERT_GT(pending, 0);
  const std::string id = std::to_string(pending);
  const TestCertificate worker = MakeCertificate(master_.dir(), "worker");
  ASSERT_EQ(master_.ManageAsAdmin({"worker", "add", "--cert-file", worker.cert.string(), "--yes"})
                .exit_code,
            0);

  const ProcessResult browser = RunProcess(
      "/usr/bin/python3",
      {(std::filesystem::path(SCALEOUT_TEST_SOURCE_DIR) / "tests" / "web" / "browser_check.py")
           .string(),
       master_.url(), master_.cert_file().string(), master_.admin_token(),
       "#/workers=Worker Manager", "#/executions=All Executions",
       "#/executions?status=pending=All Executions", "#/executions/" + id + "=Execution " + id,
       "#/environments=Environments", "#/projects=Projects", "#/projects/F/P=F / P"});
  EXPECT_EQ(browser.exit_code, 0) << browser.out << browser.err
                                  << "(Debian's chromium and python3-websocket are needed)";
  EXPECT_TRUE(Contains(browser.out, "every page rendered with no error")) << browser.out;
}

TEST_F(DashboardEndToEnd, MetricsNeedAPrincipal) {
  const sdk::Response anonymous = Get("/metrics");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_TRUE(Contains(anonymous.body, "no credential")) << anonymous.body;
  EXPECT_EQ(Get("/metrics", "sot_not_a_token").status, 401);
  const TestCertificate worker = MakeCertificate(master_.dir(), "worker");
  ASSERT_EQ(master_.ManageAsAdmin({"worker", "add", "--cert-file", worker.cert.string(), "--yes"})
                .exit_code,
            0);
  EXPECT_EQ(Get("/metrics", "", &worker).status, 403);
  const sdk::Response post = Get("/metrics", master_.admin_token(), nullptr, "POST");
  EXPECT_EQ(post.status, 405) << post.body;
  EXPECT_EQ(Get("/metrics.json", master_.admin_token()).status, 404);
  EXPECT_EQ(Get("/metrics?name[]=x", master_.admin_token()).status, 200);
}

}  // namespace
}  // namespace scaleout::test
