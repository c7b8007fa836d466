// End-to-end tests of the main job: a real master and real workers on
// 127.0.0.1 over mutual TLS, a SQLite catalog, packages run by the process
// executor in task-host child processes.
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/e2e/scaleout/cluster.h"

namespace scaleout::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path PackagesDir() {
  return fs::path(SCALEOUT_TEST_SOURCE_DIR) / "tests" / "e2e" / "scaleout" / "packages";
}

// `exec show --json` has the execution and its attempts.
const json& ExecutionOf(const json& shown) {
  return shown.contains("execution") ? shown.at("execution") : shown;
}
int StatusOf(const json& shown) { return ExecutionOf(shown).value("status", 0); }
std::vector<json> AttemptsOf(const json& shown) {
  if (!shown.contains("attempts")) return {};
  return shown.at("attempts").get<std::vector<json>>();
}

struct LedgerLine {
  std::int64_t execution = 0;
  int attempt = 0;
  std::string what;
  std::int64_t ns = 0;
};

std::vector<LedgerLine> ReadLedger(const fs::path& file) {
  std::vector<LedgerLine> lines;
  std::ifstream in(file);
  LedgerLine l;
  while (in >> l.execution >> l.attempt >> l.what >> l.ns) lines.push_back(l);
  return lines;
}

// For every execution: each attempt's start comes after the previous
// attempt's end, and an attempt without an end never ends later (it was killed).
void ExpectNoOverlappingAttempts(const std::vector<LedgerLine>& ledger) {
  std::map<std::int64_t, std::map<int, std::pair<std::int64_t, std::int64_t>>> by_execution;
  for (const auto& l : ledger) {
    auto& span = by_execution[l.execution][l.attempt];
    (l.what == "start" ? span.first : span.second) = l.ns;
  }
  for (const auto& [execution, attempts] : by_execution) {
    std::int64_t previous_end = 0;
    std::int64_t previous_start = 0;
    for (const auto& [attempt, span] : attempts) {
      if (previous_start != 0) {
        EXPECT_GT(span.first, previous_start)
            << "execution " << execution << " attempt " << attempt;
        if (previous_end != 0) {
          EXPECT_GT(span.first, previous_end)
              << "execution " << execution << ": attempt " << attempt
              << " started before the previous attempt ended";
        }
      }
      previous_start = span.first;
      previous_end = span.second;
    }
  }
}

class ScaleoutEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.StartMaster();
    cluster_.Deploy("e2e", "packages", PackagesDir());
  }
  Cluster cluster_;
};

TEST_F(ScaleoutEndToEnd, TwoWorkersRunTwoHundredExecutionsWithinMaxTaskCount) {
  WorkerOptions options;
  options.max_task_count = 4;
  const std::string w1 = cluster_.AddWorker("w1", options);
  const std::string w2 = cluster_.AddWorker("w2", options);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 200; ++i) ids.push_back(cluster_.Run("e2e", "packages", "ok.sh"));
  const auto shown = cluster_.WaitAll(ids, std::chrono::seconds(300));
  // Attempt times are ISO-8601 UTC strings of one width, so they order as text.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> spans_by_worker;
  for (const json& s : shown) {
    ASSERT_EQ(StatusOf(s), 7) << s.dump();
    for (const json& a : AttemptsOf(s)) {
      spans_by_worker[a.value("worker_agent_id", "")].push_back(
          {a.value("start_time", std::string()), a.value("end_time", std::string())});
    }
  }
  EXPECT_EQ(spans_by_worker.count(w1), 1u) << "worker 1 took no part";
  EXPECT_EQ(spans_by_worker.count(w2), 1u) << "worker 2 took no part";
  for (auto& [worker, spans] : spans_by_worker) {
    // The most attempts a worker held at once, from the catalog's start/end times.
    std::vector<std::pair<std::string, int>> edges;
    for (const auto& [start, end] : spans) {
      edges.push_back({start, +1});
      edges.push_back({end, -1});
    }
    std::sort(edges.begin(), edges.end());  // an end before a start at the same ms
    int running = 0;
    int most = 0;
    for (const auto& [t, delta] : edges) most = std::max(most, running += delta);
    EXPECT_LE(most, options.max_task_count) << "worker " << worker;
  }
}

TEST_F(ScaleoutEndToEnd, AllowListSendsTheExecutionOnlyToTheAddedWorker) {
  cluster_.AddWorker("w1");
  const std::string w2 = cluster_.AddWorker("w2");
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 10; ++i) {
    ids.push_back(cluster_.Run("e2e", "packages", "ok.sh", {"--worker", w2}));
  }
  for (const json& s : cluster_.WaitAll(ids, std::chrono::seconds(120))) {
    ASSERT_EQ(StatusOf(s), 7) << s.dump();
    EXPECT_EQ(ExecutionOf(s).value("worker_agent_id", ""), w2) << s.dump();
  }
}

TEST_F(ScaleoutEndToEnd, RetriesEndFailedAfterRetryCountAndFlakyPackagesSucceed) {
  cluster_.AddWorker("w1");
  const std::int64_t failing = cluster_.Run("e2e", "packages", "fail.sh", {"--retry", "2"});
  const std::int64_t flaky = cluster_.Run("e2e", "packages", "flaky.sh", {"--retry", "1"});
  const auto shown = cluster_.WaitAll({failing, flaky}, std::chrono::seconds(120));
  EXPECT_EQ(StatusOf(shown[0]), 4) << shown[0].dump();
  EXPECT_EQ(ExecutionOf(shown[0]).value("executed_count", 0), 3) << shown[0].dump();
  EXPECT_EQ(StatusOf(shown[1]), 7) << shown[1].dump();
  EXPECT_EQ(ExecutionOf(shown[1]).value("executed_count", 0), 2) << shown[1].dump();
}

TEST_F(ScaleoutEndToEnd, KilledWorkersTasksRunAgainElsewhereWithoutOverlap) {
  WorkerOptions options;
  options.max_task_count = 3;
  const std::string w1 = cluster_.AddWorker("w1", options);
  const fs::path ledger = cluster_.dir() / "ledger.txt";
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(cluster_.Run(
        "e2e", "packages", "ledger.sh",
        {"--retry", "2", "--param", "LEDGER=" + ledger.string(), "--param", "SECONDS=4"}));
  }
  ASSERT_TRUE(
      Cluster::WaitUntil([&] { return ReadLedger(ledger).size() >= 3; }, std::chrono::seconds(60)));
  cluster_.StopWorker("w1", SIGKILL);
  const std::string w2 = cluster_.AddWorker("w2", options);
  for (const json& s : cluster_.WaitAll(ids, std::chrono::seconds(120))) {
    EXPECT_EQ(StatusOf(s), 7) << s.dump();
    EXPECT_EQ(ExecutionOf(s).value("worker_agent_id", ""), w2) << s.dump();
    EXPECT_GE(ExecutionOf(s).value("executed_count", 0), 2) << s.dump();
  }
  // Let any survivor of the killed attempts write its end line, if one could.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ExpectNoOverlappingAttempts(ReadLedger(ledger));
}

TEST_F(ScaleoutEndToEnd, StopOperationKillsTheProcessGroupAndCancels) {
  cluster_.AddWorker("w1");
  const fs::path ledger = cluster_.dir() / "workdirs.txt";
  const std::int64_t id =
      cluster_.Run("e2e", "packages", "sleeper.sh", {"--param", "LEDGER=" + ledger.string()});
  fs::path work_dir;
  ASSERT_TRUE(Cluster::WaitUntil(
      [&] {
        std::ifstream in(ledger);
        std::string line;
        if (!std::getline(in, line)) return false;
        work_dir = line;
        return fs::exists(work_dir / "grandchild.pid");
      },
      std::chrono::seconds(60)));
  const pid_t package = std::stoi(ReadFile(work_dir / "package.pid"));
  const pid_t grandchild = std::stoi(ReadFile(work_dir / "grandchild.pid"));
  cluster_.ManageJson({"exec", "stop", std::to_string(id)});
  const auto shown = cluster_.WaitAll({id}, std::chrono::seconds(60));
  EXPECT_EQ(StatusOf(shown[0]), 3) << shown[0].dump();
  EXPECT_TRUE(Cluster::WaitUntil([&] { return kill(package, 0) != 0 && kill(grandchild, 0) != 0; },
                                 std::chrono::seconds(30)))
      << "the package or its child survived the stop";
}

TEST_F(ScaleoutEndToEnd, DisabledWorkerGetsNoTasksUntilEnabled) {
  WorkerOptions options;
  options.enable = false;
  const std::string w1 = cluster_.AddWorker("w1", options);
  const std::int64_t id = cluster_.Run("e2e", "packages", "ok.sh");
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(StatusOf(cluster_.Show(id)), 5) << "a disabled worker must not take work";
  cluster_.ManageJson({"worker", "enable", w1});
  const auto shown = cluster_.WaitAll({id}, std::chrono::seconds(60));
  EXPECT_EQ(StatusOf(shown[0]), 7) << shown[0].dump();
  EXPECT_EQ(ExecutionOf(shown[0]).value("worker_agent_id", ""), w1);
}

TEST_F(ScaleoutEndToEnd, UntrustedWorkerAndWrongMasterPinAreRefusedAtTls) {
  const std::string good = cluster_.AddWorker("good");
  const json before = cluster_.ManageJson({"worker", "list"});
  // A worker whose certificate nobody trusted: create its files but do not add it.
  const fs::path dir = cluster_.dir() / "intruder";
  fs::create_directories(dir);
  ProcessResult cert =
      RunProcess(HostBinary(), {"cert", "create", "--cn", "intruder", "--out-cert",
                                (dir / "w.crt").string(), "--out-key", (dir / "w.key").string()});
  ASSERT_EQ(cert.exit_code, 0) << cert.err;
  json settings = {{"MasterEndpoint", cluster_.master_url()},
                   {"MasterHttpsCertThumbprint", cluster_.master_thumbprint()},
                   {"WorkerCertFile", "w.crt"},
                   {"WorkerKeyFile", "w.key"},
                   {"Plugins", {{"Directory", InTreePluginDir().string()}}}};
  WriteFile(dir / "untrusted.json", settings.dump());
  settings["WorkerCertFile"] = (cluster_.worker_dir("good") / "worker.crt").string();
  settings["WorkerKeyFile"] = (cluster_.worker_dir("good") / "worker.key").string();
  settings["MasterHttpsCertThumbprint"] = std::string(64, 'A');
  WriteFile(dir / "wrongpin.json", settings.dump());
  for (const char* config : {"untrusted.json", "wrongpin.json"}) {
    auto worker = ChildProcess::Start(HostBinary(), {"worker", "--config", (dir / config).string()},
                                      dir / (std::string(config) + ".out"));
    std::this_thread::sleep_for(std::chrono::seconds(3));
    worker->Signal(SIGTERM);
    worker->WaitFor(std::chrono::seconds(30));
  }
  const std::string master_log = ReadFile(cluster_.master_log());
  EXPECT_NE(master_log.find("refused x509 credential"), std::string::npos) << master_log;
  const std::string pin_log = ReadFile(dir / "wrongpin.json.out");
  EXPECT_NE(pin_log.find(cluster_.master_thumbprint()), std::string::npos)
      << "the worker must say which thumbprint it saw: " << pin_log;
  const json after = cluster_.ManageJson({"worker", "list"});
  auto ids = [](const json& list) {
    std::set<std::string> out;
    for (const json& w : list)
      out.insert(w.value("worker_agent_id", "") + w.value("cert_sha256", ""));
    return out;
  };
  EXPECT_EQ(ids(before), ids(after)) << "a refused worker changed the catalog: " << after.dump();
}

TEST_F(ScaleoutEndToEnd, MasterKilledDuringHundredExecutionsLosesNone) {
  WorkerOptions options;
  options.max_task_count = 10;
  cluster_.AddWorker("w1", options);
  cluster_.AddWorker("w2", options);
  const fs::path ledger = cluster_.dir() / "ledger.txt";
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 100; ++i) {
    ids.push_back(cluster_.Run(
        "e2e", "packages", "ledger.sh",
        {"--retry", "3", "--param", "LEDGER=" + ledger.string(), "--param", "SECONDS=1"}));
  }
  ASSERT_TRUE(Cluster::WaitUntil([&] { return ReadLedger(ledger).size() >= 10; },
                                 std::chrono::seconds(120)));
  cluster_.StopMaster(SIGKILL);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  cluster_.StartMaster();
  for (const json& s : cluster_.WaitAll(ids, std::chrono::seconds(300))) {
    EXPECT_TRUE(IsTerminalStatus(StatusOf(s))) << s.dump();
    EXPECT_EQ(StatusOf(s), 7) << s.dump();
  }
  ExpectNoOverlappingAttempts(ReadLedger(ledger));
}

TEST_F(ScaleoutEndToEnd, MalformedRequestsGetClearErrorsAndTheMasterKeepsServing) {
  const std::string w1 = cluster_.AddWorker("w1");
  const fs::path wdir = cluster_.worker_dir("w1");
  // Raw requests with the trusted worker's certificate through curl-like
  // calls of the https transport are covered by the transport's tests; here
  // the master itself must answer bad bodies on every worker route.
  for (const char* route : {"/v1/register", "/v1/heartbeat", "/v1/tasks/request",
                            "/v1/tasks/heartbeat", "/v1/events", "/v1/results"}) {
    ProcessResult r =
        RunProcess("/usr/bin/curl",
                   {"-sS", "-k", "--cert", (wdir / "worker.crt").string(), "--key",
                    (wdir / "worker.key").string(), "-X", "POST", "--data-binary",
                    "\x93\x01\xff garbage", "-w", "\n%{http_code}", cluster_.master_url() + route});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string code = r.out.substr(r.out.rfind('\n') + 1);
    EXPECT_EQ(code, "400") << route << ": " << r.out;
  }
  ProcessResult big =
      RunProcess("/bin/sh", {"-c", "head -c 20000000 /dev/zero | /usr/bin/curl -sS -k --cert " +
                                       (wdir / "worker.crt").string() + " --key " +
                                       (wdir / "worker.key").string() +
                                       " -X POST --data-binary @- -o /dev/null -w '%{http_code}' " +
                                       cluster_.master_url() + "/v1/events"});
  EXPECT_TRUE(big.out == "413" || big.exit_code != 0) << big.out << big.err;
  // Still serving: an execution runs to success.
  const std::int64_t id = cluster_.Run("e2e", "packages", "ok.sh");
  EXPECT_EQ(StatusOf(cluster_.WaitAll({id}, std::chrono::seconds(60))[0]), 7);
}

}  // namespace
}  // namespace scaleout::test
