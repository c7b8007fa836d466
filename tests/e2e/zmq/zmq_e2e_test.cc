// A real master and a real worker as child processes talking over
// transport/zmq: CURVE key pairs made by `scaleout cert curve create`, the
// worker trusted by its public key, the master pinned by its public key, one
// execution run to success, and a worker with an untrusted key refused by the
// master's ZAP handler.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/e2e/scaleout/cluster.h"

namespace scaleout::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

fs::path PackagesDir() {
  return fs::path(SCALEOUT_TEST_SOURCE_DIR) / "tests/e2e/scaleout/packages";
}

std::string ReadAll(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ZmqEndToEnd, MasterAndWorkerRunAnExecutionOverCurve) {
  ClusterOptions options;
  options.transport = "zmq";
  options.storage = "sqlite";
  if (std::string why = options.backend().Unavailable(); !why.empty()) GTEST_SKIP() << why;
  Cluster cluster(options);
  cluster.StartMaster();
  ASSERT_EQ(cluster.master_url().rfind("tcp://127.0.0.1:", 0), 0u) << cluster.master_url();
  // The master pins are CURVE public keys, not thumbprints.
  EXPECT_EQ(cluster.master_thumbprint().size(), 40u);

  const std::string agent = cluster.AddWorker("w1");
  ASSERT_FALSE(agent.empty());
  EXPECT_EQ(cluster.worker_credential("w1").id.size(), 40u);

  cluster.Deploy("zmq", "packages", PackagesDir());
  const std::int64_t id = cluster.Run("zmq", "packages", "ok.sh");
  const auto shown = cluster.WaitAll({id}, std::chrono::seconds(120));
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_EQ(shown[0].value("status", 0), 7) << shown[0].dump(2);
  EXPECT_EQ(shown[0].value("worker_agent_id", ""), agent) << shown[0].dump(2);

  const std::string master_log = ReadAll(cluster.master_log());
  EXPECT_NE(master_log.find("zmq server listening on tcp://"), std::string::npos) << master_log;
  EXPECT_NE(master_log.find("CURVE, server key " + cluster.master_thumbprint()), std::string::npos);
}

TEST(ZmqEndToEnd, WorkerWithAnUntrustedKeyIsRefusedByTheZapHandler) {
  ClusterOptions options;
  options.transport = "zmq";
  if (std::string why = options.backend().Unavailable(); !why.empty()) GTEST_SKIP() << why;
  Cluster cluster(options);
  cluster.StartMaster();
  // A worker whose key nobody added: made by hand, never `worker add`.
  const fs::path dir = cluster.dir() / "stranger";
  const Credential key = cluster.CreateCredential("stranger", dir, "worker");
  json settings = cluster.WorkerSettings(key, {0}, "7D3F8C1E-2B4A-4C6D-8E9F-0A1B2C3D4E5F");
  { std::ofstream(dir / "worker.json") << settings.dump(2); }
  auto worker = ChildProcess::Start(
      HostBinary(), {"worker", "--config", (dir / "worker.json").string()}, dir / "worker.out");
  ASSERT_NE(worker, nullptr);
  const bool refused = Cluster::WaitUntil(
      [&] {
        return ReadAll(cluster.master_log()).find("zmq: refused CURVE key " + key.id) !=
               std::string::npos;
      },
      std::chrono::seconds(60));
  EXPECT_TRUE(refused) << ReadAll(cluster.master_log());
  const json workers = cluster.ManageJson({"worker", "list"});
  for (const json& w : workers) EXPECT_NE(w.value("cert_sha256", ""), key.id) << w.dump();
}

}  // namespace
}  // namespace scaleout::test
