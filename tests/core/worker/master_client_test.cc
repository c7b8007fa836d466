// TransportMasterClient over transport/inproc: failover between several
// master endpoints (a stopped master, a master that stops answering), and no
// failover for a master's own refusal.
#include "core/worker/master_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "core/protocol/codec.h"
#include "host/plugin_loader.h"
#include "scaleout/sdk/logger.h"
#include "tests/support/test_util.h"

namespace scaleout::core::worker {
namespace {

using std::chrono::milliseconds;

enum class Mode { kAnswer, kHang, kRefuse };

// A master double: answers an agent heartbeat, keeps the call unanswered
// (a hung master), or refuses it with an error reply.
class FakeMaster final : public sdk::RequestHandler {
 public:
  void OnRequest(const sdk::Request&, std::unique_ptr<sdk::Responder> r) noexcept override {
    ++calls;
    switch (mode.load()) {
      case Mode::kAnswer:
        r->Send(
            {200, "application/msgpack", protocol::Encode(protocol::AgentHeartbeatReply{true})});
        return;
      case Mode::kRefuse:
        r->Send({403, "application/msgpack",
                 protocol::EncodeError(sdk::Status::PermissionDenied("worker is not trusted"))});
        return;
      case Mode::kHang: {
        std::lock_guard lock(mutex);
        held.push_back(std::move(r));  // answered (503) when the test ends
        return;
      }
    }
  }
  std::atomic<Mode> mode{Mode::kAnswer};
  std::atomic<int> calls{0};
  std::mutex mutex;
  std::vector<std::unique_ptr<sdk::Responder>> held;
};

class MasterClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::LoadInTreePlugin(loader_, "transport/inproc").ok());
    auto transport = loader_.CreateTransport("inproc", sdk::ConfigView(empty_, "transport.inproc"));
    ASSERT_TRUE(transport.ok()) << transport.status().ToString();
    transport_ = std::move(transport).value();
    ASSERT_TRUE(transport_->Start().ok());
    test::WriteFile(dir_ / "a.id", "master-a");
    test::WriteFile(dir_ / "b.id", "master-b");
    test::WriteFile(dir_ / "worker.id", "worker-1");
    a_server_ = Listen("a.id", a_);
    b_server_ = Listen("b.id", b_);
  }
  void TearDown() override {
    for (auto* server : {&a_server_, &b_server_}) {
      if (*server) (*server)->Stop();
      server->reset();
    }
    if (transport_) transport_->Stop();
  }

  std::unique_ptr<sdk::Server> Listen(const char* id_file, FakeMaster& handler) {
    sdk::ServerOptions options;
    options.bind_address = "master-client-test";
    options.cert_file = (dir_ / id_file).string();
    auto server = transport_->Listen(options, handler, admit_);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    return server.ok() ? std::move(server).value() : nullptr;
  }
  std::string Url(const std::unique_ptr<sdk::Server>& server) const {
    return "inproc://master-client-test:" + std::to_string(server->port());
  }
  MasterClientOptions Options(std::vector<std::string> endpoints) const {
    MasterClientOptions options;
    options.endpoints = std::move(endpoints);
    options.cert_file = (dir_ / "worker.id").string();
    options.pinned_server_ids = {"master-a", "master-b"};
    options.call_timeout = milliseconds(200);
    return options;
  }
  static sdk::Result<protocol::AgentHeartbeatReply> Beat(MasterClient& client) {
    return client.AgentHeartbeat(protocol::AgentHeartbeatRequest{});
  }

  sdk::NullLogger logger_;
  host::PluginLoader loader_{logger_};
  sdk::ConfigView::Map empty_;
  host::PluginPtr<sdk::Transport> transport_;
  test::TempDir dir_;
  test::AdmitAll admit_;
  FakeMaster a_;
  FakeMaster b_;
  std::unique_ptr<sdk::Server> a_server_;
  std::unique_ptr<sdk::Server> b_server_;
};

TEST_F(MasterClientTest, StoppedMasterFailsOverToTheNextAndStaysThere) {
  const std::string a = Url(a_server_);
  const std::string b = Url(b_server_);
  TransportMasterClient client(*transport_, Options({a, b}));
  ASSERT_TRUE(Beat(client).ok());
  EXPECT_EQ(a_.calls.load(), 1);
  EXPECT_EQ(client.current_endpoint(), a);

  a_server_->Stop();
  a_server_.reset();
  auto after = Beat(client);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(after->enabled);
  EXPECT_EQ(b_.calls.load(), 1);
  EXPECT_EQ(client.current_endpoint(), b);
  ASSERT_TRUE(Beat(client).ok());
  EXPECT_EQ(b_.calls.load(), 2) << "the client must stay on the master that answers";
}

TEST_F(MasterClientTest, EveryMasterDownIsUnreachable) {
  const std::string a = Url(a_server_);
  const std::string b = Url(b_server_);
  TransportMasterClient client(*transport_, Options({a, b}));
  a_server_->Stop();
  b_server_->Stop();
  auto down = Beat(client);
  ASSERT_FALSE(down.ok());
  EXPECT_TRUE(IsUnreachable(down.status())) << down.status().ToString();
}

TEST_F(MasterClientTest, HungMasterFailsOverAfterRepeatedTimeouts) {
  a_.mode = Mode::kHang;
  const std::string a = Url(a_server_);
  const std::string b = Url(b_server_);
  TransportMasterClient client(*transport_, Options({a, b}));
  for (int i = 1; i <= kTimeoutsBeforeFailover; ++i) {
    auto timed_out = Beat(client);
    ASSERT_FALSE(timed_out.ok());
    EXPECT_EQ(timed_out.status().code(), sdk::StatusCode::kDeadlineExceeded)
        << timed_out.status().ToString();
    EXPECT_EQ(b_.calls.load(), 0) << "a timed-out call is not repeated elsewhere at once";
  }
  EXPECT_EQ(a_.calls.load(), kTimeoutsBeforeFailover);
  EXPECT_EQ(client.current_endpoint(), b);
  ASSERT_TRUE(Beat(client).ok());
  EXPECT_EQ(b_.calls.load(), 1);
}

TEST_F(MasterClientTest, OneTimeoutAndAnAnswerKeepTheEndpoint) {
  a_.mode = Mode::kHang;
  const std::string a = Url(a_server_);
  TransportMasterClient client(*transport_, Options({a, Url(b_server_)}));
  EXPECT_EQ(Beat(client).status().code(), sdk::StatusCode::kDeadlineExceeded);
  a_.mode = Mode::kAnswer;
  ASSERT_TRUE(Beat(client).ok());
  // The count starts again after an answer: one more timeout is not enough.
  a_.mode = Mode::kHang;
  EXPECT_EQ(Beat(client).status().code(), sdk::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(client.current_endpoint(), a);
  EXPECT_EQ(b_.calls.load(), 0);
}

TEST_F(MasterClientTest, RefusalIsReturnedWithoutFailover) {
  a_.mode = Mode::kRefuse;
  const std::string a = Url(a_server_);
  TransportMasterClient client(*transport_, Options({a, Url(b_server_)}));
  auto refused = Beat(client);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), sdk::StatusCode::kPermissionDenied)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("not trusted"), std::string::npos);
  EXPECT_EQ(client.current_endpoint(), a);
  EXPECT_EQ(b_.calls.load(), 0);
}

}  // namespace
}  // namespace scaleout::core::worker
