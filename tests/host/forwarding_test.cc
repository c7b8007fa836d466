// tests/support/forwarding_plugins.h: the wrappers forward to real plugins
// and fail exactly the calls a test asks them to.
#include <gtest/gtest.h>

#include <filesystem>

#include "host/plugin_loader.h"
#include "tests/support/forwarding_plugins.h"
#include "tests/support/test_util.h"

namespace scaleout {
namespace {

using test::FaultInjector;

class ForwardingTest : public ::testing::Test {
 protected:
  template <typename T>
  static std::shared_ptr<T> Shared(sdk::Result<host::PluginPtr<T>> made) {
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return made.ok() ? std::shared_ptr<T>(std::move(made).value()) : nullptr;
  }

  test::CapturingLogger logger_;
  host::PluginLoader loader_{logger_};
  sdk::ConfigView::Map empty_;
  std::shared_ptr<FaultInjector> faults_ = std::make_shared<FaultInjector>();
};

TEST_F(ForwardingTest, ExecutorForwardsAndFailsTheNthRun) {
  ASSERT_TRUE(test::LoadInTreePlugin(loader_, "executor/noop").ok());
  test::ForwardingExecutor executor(Shared(loader_.CreateExecutor("noop", {empty_, "e"})), faults_);
  ASSERT_TRUE(executor.Start().ok());
  faults_->FailNth("Executor::Run", 2, sdk::Status::Unavailable("injected"));
  sdk::TaskSpec task;
  test::CollectingEventSink events;
  test::SettableCancellationToken cancel;
  EXPECT_TRUE(executor.Run(task, events, cancel).ok());
  auto second = executor.Run(task, events, cancel);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), sdk::StatusCode::kUnavailable);
  EXPECT_TRUE(executor.Run(task, events, cancel).ok());
  EXPECT_EQ(faults_->CallCount("Executor::Run"), 3);
  EXPECT_EQ(events.events().size(), 2u) << "the failed call never reached the plugin";
  executor.Stop();
}

class Pong final : public sdk::RequestHandler {
 public:
  void OnRequest(const sdk::Request&, std::unique_ptr<sdk::Responder> r) noexcept override {
    r->Send({200, "text/plain", "pong"});
  }
};

TEST_F(ForwardingTest, TransportFailsClientCallsAndServerRequests) {
  ASSERT_TRUE(test::LoadInTreePlugin(loader_, "transport/inproc").ok());
  test::ForwardingTransport transport(Shared(loader_.CreateTransport("inproc", {empty_, "t"})),
                                      faults_);
  ASSERT_TRUE(transport.Start().ok());
  test::TempDir dir;
  test::WriteFile(dir / "server.id", "server");
  test::WriteFile(dir / "client.id", "client");
  Pong pong;
  test::AdmitAll admit;
  sdk::ServerOptions server_options;
  server_options.bind_address = "forwarding";
  server_options.cert_file = (dir / "server.id").string();
  auto server = transport.Listen(server_options, pong, admit);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  sdk::ClientOptions client_options;
  client_options.endpoint = "inproc://forwarding:" + std::to_string(server.value()->port());
  client_options.cert_file = (dir / "client.id").string();
  client_options.pinned_server_ids = {"server"};
  auto client = transport.Connect(client_options);
  ASSERT_TRUE(client.ok());
  sdk::ClientRequest request;

  auto ok = client.value()->Call(request);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->body, "pong");

  faults_->FailAll("Client::Call", sdk::Status::Unavailable("network down (injected)"));
  auto down = client.value()->Call(request);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), sdk::StatusCode::kUnavailable);

  faults_->FailAll("Server::OnRequest", sdk::Status::Internal("handler broken (injected)"));
  auto refused = client.value()->Call(request);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("handler broken"), std::string::npos);

  faults_->Clear();
  EXPECT_EQ(client.value()->Call(request)->body, "pong");
  server.value()->Stop();
  client.value().reset();
  server.value().reset();
  transport.Stop();
}

TEST_F(ForwardingTest, StorageFailsStartAndOpen) {
  ASSERT_TRUE(test::LoadInTreePlugin(loader_, "storage/null").ok());
  test::ForwardingStorage storage(Shared(loader_.CreateStorage("null", {empty_, "s"})), faults_);
  faults_->FailNth("Storage::Start", 1, sdk::Status::Unavailable("disk gone (injected)"));
  EXPECT_EQ(storage.Start().code(), sdk::StatusCode::kUnavailable);
  EXPECT_TRUE(storage.Start().ok());
  EXPECT_EQ(storage.Open().status().code(), sdk::StatusCode::kUnimplemented) << "forwarded";
  EXPECT_EQ(storage.GetDialect().name, "null");
  storage.Stop();
}

// Connections and statements need a real database: storage/sqlite, when built.
TEST_F(ForwardingTest, ConnectionsAndStatementsAreWrappedToo) {
  const auto sqlite = test::InTreePluginFile("storage/sqlite");
  if (!std::filesystem::exists(sqlite)) GTEST_SKIP() << "storage/sqlite is not built";
  ASSERT_TRUE(loader_.LoadFile(sqlite).ok());
  test::TempDir dir;
  sdk::ConfigView::Map settings{{"path", (dir / "catalog.db").string()}};
  test::ForwardingStorage storage(Shared(loader_.CreateStorage("sqlite", {settings, "s"})),
                                  faults_);
  ASSERT_TRUE(storage.Start().ok());
  auto connection = storage.Open();
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  sdk::Connection& db = *connection.value();
  ASSERT_TRUE(db.ExecuteScript("CREATE TABLE t (v INTEGER)").ok());

  auto insert = db.PrepareCached("INSERT INTO t (v) VALUES (?)");
  ASSERT_TRUE(insert.ok());
  ASSERT_TRUE(insert.value()->BindInt64(1, 7).ok());
  ASSERT_TRUE(insert.value()->Step().ok());
  EXPECT_EQ(insert.value()->RowsAffected(), 1);
  EXPECT_EQ(db.PrepareCached("INSERT INTO t (v) VALUES (?)").value(), insert.value())
      << "the same wrapper for the same cached statement";

  faults_->FailNth("Connection::Commit", 1, sdk::Status::Unavailable("commit lost (injected)"));
  ASSERT_TRUE(db.Begin(sdk::TransactionMode::kWrite).ok());
  ASSERT_TRUE(insert.value()->Reset().ok());
  ASSERT_TRUE(insert.value()->BindInt64(1, 8).ok());
  ASSERT_TRUE(insert.value()->Step().ok());
  EXPECT_EQ(db.Commit().code(), sdk::StatusCode::kUnavailable);
  ASSERT_TRUE(db.Rollback().ok());

  faults_->FailAll("Statement::Step", sdk::Status::Aborted("conflict (injected)"));
  auto select = db.Prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(select.ok());
  EXPECT_EQ(select.value()->Step().status().code(), sdk::StatusCode::kAborted);
  faults_->Clear();
  auto row = select.value()->Step();
  ASSERT_TRUE(row.ok() && row.value());
  EXPECT_EQ(select.value()->ColumnInt64(0), 1) << "the injected commit failure was rolled back";
  select.value().reset();
  connection.value().reset();
  storage.Stop();
}

}  // namespace
}  // namespace scaleout
