// ServerTaskHost: server-mode executions (runinscaleout = 0) run on the
// master's own task host. Real parts: a SQLite catalog through the
// storage/sqlite plugin, the group-commit CatalogWriter, and real
// `scaleout task-host` child processes running executor/process packages.
#include "core/master/server_task_host.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/catalog/procedures.h"
#include "core/catalog/roles.h"
#include "core/catalog/schema.h"
#include "core/catalog/transaction.h"
#include "core/catalog/types.h"
#include "host/plugin_loader.h"
#include "tests/support/test_util.h"

namespace scaleout::core::master {
namespace {

namespace fs = std::filesystem;
using catalog::ExecutionStatus;
using catalog::Txn;

bool Terminal(ExecutionStatus s) {
  return s == ExecutionStatus::kSucceeded || s == ExecutionStatus::kFailed ||
         s == ExecutionStatus::kCanceled || s == ExecutionStatus::kEndedUnexpectedly;
}

class ServerTaskHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(test::HostBinary())) GTEST_SKIP() << "build the scaleout target first";
    loader_ = std::make_unique<host::PluginLoader>(logger_);
    sdk::Status loaded = test::LoadInTreePlugin(*loader_, "storage/sqlite");
    ASSERT_TRUE(loaded.ok()) << loaded.ToString();
    sdk::ConfigView::Map values{{"path", (dir_ / "catalog.db").string()},
                                {"synchronous", "NORMAL"}};
    auto storage = loader_->CreateStorage("sqlite", sdk::ConfigView(values, "storage.sqlite"));
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    storage_ = std::move(storage).value();
    ASSERT_TRUE(storage_->Start().ok());
    {
      auto opened = catalog::OpenCatalog(*storage_, clock_);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    }
    catalog::CatalogWriterOptions options;
    // What the master does: a commit that may make work claimable wakes us.
    options.after_commit = [this](std::size_t) {
      if (ServerTaskHost* h = host_to_wake_.load()) h->WakeForWork();
    };
    auto writer = catalog::CatalogWriter::Open(*storage_, std::move(options));
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    writer_ = std::move(writer).value();
    launcher_ = worker::MakeTaskHostLauncher(
        {test::HostBinary().string(), test::InTreePluginDir().string()}, clock_);
    Deploy();
  }

  void TearDown() override {
    host_to_wake_.store(nullptr);
    if (host_) host_->Stop();
    host_.reset();
    if (writer_) writer_->Stop();
    if (storage_) storage_->Stop();
  }

  void StartHost(int max_task_count) {
    ServerTaskHostOptions options;
    options.max_task_count = max_task_count;
    options.lease_interval_ms = 60'000;
    options.task_heartbeat_interval_ms = 200;
    options.data_folder = (dir_ / "Server").string();
    options.executor_for = [](const std::string&) { return std::string("process"); };
    host_ = std::make_unique<ServerTaskHost>(*writer_, storage_->GetDialect(), clock_, *launcher_,
                                             options);
    ASSERT_TRUE(host_->Start().ok());
    host_to_wake_.store(host_.get());
  }

  template <typename F>
  auto Tx(F&& op) {
    return writer_->Execute([&](sdk::Connection& c) {
      Txn txn{c, storage_->GetDialect(), clock_.NowUnixMillis()};
      return op(txn);
    });
  }

  void Deploy() {
    const std::string ledger = (dir_ / "ledger").string();
    catalog::ProjectDeployment d;
    d.folder_name = "F";
    d.project_name = "P";
    d.packages = {
        {"ok.sh", "#!/bin/sh\necho hello-from-the-master\nexit 0\n", true},
        {"fail.sh", "#!/bin/sh\necho about-to-fail\nexit 3\n", true},
        {"sleep.sh", "#!/bin/sh\nexec sleep 300\n", true},
        // Writes begin/end lines around a short sleep: overlapping runs
        // interleave them.
        {"ledger.sh",
         "#!/bin/sh\necho begin >> '" + ledger + "'\nsleep 0.3\necho end >> '" + ledger + "'\n",
         true},
    };
    ASSERT_TRUE(Tx([&](Txn& t) { return catalog::CreateFolder(t, admin_, "F"); }).ok());
    auto deployed = Tx([&](Txn& t) { return catalog::DeployProject(t, admin_, d); });
    ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
  }

  std::int64_t Start(const std::string& package, bool server = true, std::int64_t retries = 0) {
    catalog::CreateExecutionRequest r;
    r.folder_name = "F";
    r.project_name = "P";
    r.package_name = package;
    r.runinscaleout = !server;
    auto id = Tx([&](Txn& t) { return catalog::CreateExecution(t, admin_, r); });
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    sdk::Status s = Tx([&](Txn& t) { return catalog::StartExecution(t, admin_, *id, retries); });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return *id;
  }

  catalog::Execution Exec(std::int64_t id) {
    auto e = Tx([&](Txn& t) { return catalog::GetExecution(t, admin_, id); });
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : catalog::Execution{};
  }

  // Waits for `done` (bounded so a broken build fails instead of hanging).
  template <typename Pred>
  bool WaitFor(Pred done) {
    for (int i = 0; i < 1200; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
  }

  catalog::Execution WaitTerminal(std::int64_t id) {
    EXPECT_TRUE(WaitFor([&] { return Terminal(Exec(id).status); }))
        << "execution " << id << " did not end";
    return Exec(id);
  }

  std::vector<std::string> Messages(std::int64_t id) {
    auto events = Tx([&](Txn& t) { return catalog::ListEventMessages(t, admin_, id); });
    std::vector<std::string> out;
    if (events.ok()) {
      for (const auto& e : *events) out.push_back(e.message);
    }
    return out;
  }

  bool HasMessage(std::int64_t id, const std::string& text) {
    for (const auto& m : Messages(id)) {
      if (m.find(text) != std::string::npos) return true;
    }
    return false;
  }

  test::TempDir dir_;
  test::CapturingLogger logger_;
  SystemClock& clock_ = SystemClock::Instance();
  catalog::Caller admin_ = catalog::Caller::Admin("test");
  std::unique_ptr<host::PluginLoader> loader_;
  host::PluginPtr<sdk::Storage> storage_;
  std::unique_ptr<catalog::CatalogWriter> writer_;
  std::unique_ptr<worker::TaskLauncher> launcher_;
  std::unique_ptr<ServerTaskHost> host_;
  std::atomic<ServerTaskHost*> host_to_wake_{nullptr};
};

TEST_F(ServerTaskHostTest, RunsAServerExecutionAsTheMaster) {
  StartHost(2);
  const std::int64_t id = Start("ok.sh");
  const catalog::Execution e = WaitTerminal(id);
  EXPECT_EQ(e.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(e.worker_agent_id, std::string(catalog::kMasterTaskHostId));
  EXPECT_EQ(e.executed_count, 1);
  // The package's output reaches the catalog as events of the execution.
  EXPECT_TRUE(WaitFor([&] { return HasMessage(id, "hello-from-the-master"); }));
  // It ran in a task-host child under the server folders.
  const auto tasks = Tx([&](Txn& t) { return catalog::ListExecutionTasks(t, admin_, id); });
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_TRUE(fs::exists(dir_ / "Server" / "Tasks" / (*tasks)[0].task_id / "task.log"));
  EXPECT_EQ(host_->stats().tasks_started, 1u);
}

TEST_F(ServerTaskHostTest, ScaleOutExecutionsAreLeftForWorkers) {
  StartHost(2);
  const std::int64_t scaleout = Start("ok.sh", /*server=*/false);
  const std::int64_t server = Start("ok.sh");
  EXPECT_EQ(WaitTerminal(server).status, ExecutionStatus::kSucceeded);
  // Started first, yet still waiting: only a worker may run it.
  EXPECT_EQ(Exec(scaleout).status, ExecutionStatus::kPending);
  EXPECT_EQ(host_->stats().tasks_started, 1u);
}

TEST_F(ServerTaskHostTest, FailuresAreRetriedThenFail) {
  StartHost(2);
  const std::int64_t id = Start("fail.sh", true, /*retries=*/1);
  const catalog::Execution e = WaitTerminal(id);
  EXPECT_EQ(e.status, ExecutionStatus::kFailed);
  EXPECT_EQ(e.executed_count, 2);
  EXPECT_TRUE(WaitFor([&] { return HasMessage(id, "about-to-fail"); }));
}

TEST_F(ServerTaskHostTest, StopOperationCancelsARunningServerTask) {
  StartHost(2);
  const std::int64_t id = Start("sleep.sh");
  ASSERT_TRUE(WaitFor([&] { return host_->stats().running_tasks == 1; }));
  ASSERT_EQ(Exec(id).status, ExecutionStatus::kRunning);
  ASSERT_TRUE(Tx([&](Txn& t) { return catalog::StopOperation(t, admin_, id); }).ok());
  const catalog::Execution e = WaitTerminal(id);
  EXPECT_EQ(e.status, ExecutionStatus::kCanceled);
  EXPECT_TRUE(WaitFor([&] { return host_->stats().running_tasks == 0; }));
}

TEST_F(ServerTaskHostTest, RunsAtMostServerMaxTaskCountAtOnce) {
  StartHost(1);
  std::vector<std::int64_t> ids;
  ids.reserve(3);
  for (int i = 0; i < 3; ++i) ids.push_back(Start("ledger.sh"));
  for (std::int64_t id : ids) EXPECT_EQ(WaitTerminal(id).status, ExecutionStatus::kSucceeded);
  // One at a time: the ledger alternates begin/end.
  EXPECT_EQ(test::ReadFile(dir_ / "ledger"), "begin\nend\nbegin\nend\nbegin\nend\n");
}

TEST_F(ServerTaskHostTest, ServerMaxTaskCountMustBePositive) {
  ServerTaskHostOptions options;
  options.max_task_count = 0;
  options.data_folder = (dir_ / "Server").string();
  options.executor_for = [](const std::string&) { return std::string("process"); };
  ServerTaskHost host(*writer_, storage_->GetDialect(), clock_, *launcher_, options);
  sdk::Status s = host.Start();
  EXPECT_EQ(s.code(), sdk::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("ServerMaxTaskCount"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace scaleout::core::master
