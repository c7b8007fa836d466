// Server mode end to end: `scaleout manage exec run --server` on a real
// master with no worker at all. The execution runs in a task-host child of
// the master itself (the reserved worker 00000000-...), ends succeeded with
// its output stored as events, and `exec stop` cancels a running one.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/e2e/scaleout/cluster.h"

namespace scaleout::test {
namespace {

using nlohmann::json;

// catalog::kMasterTaskHostId: the master's own task host.
constexpr const char* kMasterTaskHost = "00000000-0000-0000-0000-000000000000";

class ServerModeEndToEnd : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    const std::string why = GetParam().Unavailable();
    if (!why.empty()) GTEST_SKIP() << why;
  }
};

TEST_P(ServerModeEndToEnd, ServerExecutionRunsOnTheMasterWithNoWorker) {
  Cluster cluster(ClusterOptions::For(GetParam()));
  cluster.StartMaster();
  cluster.Deploy("F", "P", e2e::PackagesDir());
  const std::int64_t id = cluster.Run("F", "P", "ok.sh", {"--server"});
  ASSERT_GT(id, 0);
  const std::vector<json> shown = cluster.WaitAll({id}, std::chrono::seconds(120));
  ASSERT_EQ(shown.size(), 1u);
  const json& execution = e2e::ExecutionOf(shown[0]);
  EXPECT_EQ(e2e::StatusOf(shown[0]), 7) << shown[0].dump(2);  // succeeded
  EXPECT_EQ(execution.value("runinscaleout", true), false);
  EXPECT_EQ(execution.value("worker_agent_id", ""), kMasterTaskHost) << shown[0].dump(2);
  const std::vector<json> attempts = e2e::AttemptsOf(shown[0]);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].value("worker_agent_id", ""), kMasterTaskHost);
  // No worker exists: the master ran it.
  const json workers = cluster.ManageJson({"worker", "list"});
  EXPECT_TRUE(workers.empty()) << workers.dump(2);
  // The task ran in the master's server task folder.
  const std::string task_id = attempts[0].value("task_id", "");
  ASSERT_FALSE(task_id.empty());
  EXPECT_TRUE(Cluster::WaitUntil(
      [&] {
        std::error_code ec;
        for (const auto& entry : std::filesystem::recursive_directory_iterator(cluster.dir(), ec)) {
          if (entry.path().filename() == task_id &&
              entry.path().parent_path().filename() == "Tasks" &&
              entry.path().parent_path().parent_path().filename() == "Server") {
            return true;
          }
        }
        return false;
      },
      std::chrono::seconds(10)));
}

TEST_P(ServerModeEndToEnd, StopCancelsARunningServerExecution) {
  Cluster cluster(ClusterOptions::For(GetParam()));
  cluster.StartMaster();
  cluster.Deploy("F", "P", e2e::PackagesDir());
  const std::int64_t id = cluster.Run("F", "P", "sleeper.sh", {"--server"});
  ASSERT_GT(id, 0);
  ASSERT_TRUE(Cluster::WaitUntil([&] { return e2e::StatusOf(cluster.Show(id)) == 2; },
                                 std::chrono::seconds(60)));
  ASSERT_EQ(cluster.Manage({"exec", "stop", std::to_string(id)}).exit_code, 0);
  const std::vector<json> shown = cluster.WaitAll({id}, std::chrono::seconds(120));
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_EQ(e2e::StatusOf(shown[0]), 3) << shown[0].dump(2);  // canceled
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerModeEndToEnd, ::testing::ValuesIn(AllBackends()),
                         [](const auto& p) { return p.param.Name(); });

}  // namespace
}  // namespace scaleout::test
