// transport/inproc, loaded through the real loader from the build's plugin folder.
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "host/plugin_loader.h"
#include "tests/support/test_util.h"

namespace scaleout {
namespace {

using namespace std::chrono_literals;

// Admits the ids it was given; remembers whom it was asked about.
class AllowList final : public sdk::PeerAuthenticator {
 public:
  explicit AllowList(std::set<std::string> ids) : ids_(std::move(ids)) {}
  sdk::Status Admit(const sdk::PeerIdentity& peer) const noexcept override {
    std::lock_guard lock(mutex_);
    asked_.push_back(peer.id);
    if (ids_.contains(peer.id)) return sdk::Status::Ok();
    return sdk::Status::Unauthenticated("id '" + peer.id + "' is not a known worker");
  }
  std::vector<std::string> asked() const {
    std::lock_guard lock(mutex_);
    return asked_;
  }

 private:
  std::set<std::string> ids_;
  mutable std::mutex mutex_;
  mutable std::vector<std::string> asked_;
};

// Answers "<peer id>:<target>:<body>" at once.
class EchoHandler final : public sdk::RequestHandler {
 public:
  void OnRequest(const sdk::Request& request,
                 std::unique_ptr<sdk::Responder> responder) noexcept override {
    ++calls;
    responder->Send(
        {200, "text/plain",
         request.peer->id + ":" + std::string(request.target) + ":" + std::string(request.body)});
  }
  std::atomic<int> calls{0};
};

// Keeps every Responder, so a test can answer later, drop it, or never answer.
class HoldingHandler final : public sdk::RequestHandler {
 public:
  void OnRequest(const sdk::Request&, std::unique_ptr<sdk::Responder> responder) noexcept override {
    std::lock_guard lock(mutex_);
    held_.push_back(std::move(responder));
    arrived_.set_value();
  }
  std::future<void> arrived() { return arrived_.get_future(); }
  std::unique_ptr<sdk::Responder> Take() {
    std::lock_guard lock(mutex_);
    auto responder = std::move(held_.back());
    held_.pop_back();
    return responder;
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<sdk::Responder>> held_;
  std::promise<void> arrived_;
};

class InprocTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::LoadInTreePlugin(loader_, "transport/inproc").ok());
    auto made = loader_.CreateTransport("inproc", config_);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    transport_ = std::move(made).value();
    ASSERT_TRUE(transport_->Start().ok());
    test::WriteFile(master_id_, "master-1\n");
    test::WriteFile(worker_id_, "worker-1");
    test::WriteFile(stranger_id_, "stranger");
  }
  void TearDown() override {
    if (transport_) transport_->Stop();
  }

  sdk::ServerOptions ServerOptions() {
    sdk::ServerOptions options;
    options.bind_address = "master";
    options.cert_file = master_id_.string();
    return options;
  }
  sdk::ClientOptions ClientOptions(std::uint16_t port, const std::filesystem::path& id) {
    sdk::ClientOptions options;
    options.endpoint = "inproc://master:" + std::to_string(port);
    options.cert_file = id.string();
    options.pinned_server_ids = {"master-1"};
    return options;
  }
  std::unique_ptr<sdk::Server> Listen(sdk::RequestHandler& handler,
                                      sdk::ServerOptions options = {}) {
    if (options.cert_file.empty()) options = ServerOptions();
    auto server = transport_->Listen(options, handler, allow_);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    return server.ok() ? std::move(server).value() : nullptr;
  }
  std::unique_ptr<sdk::Client> Connect(const sdk::ClientOptions& options) {
    auto client = transport_->Connect(options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }
  static sdk::ClientRequest Request(std::string_view body) {
    sdk::ClientRequest request;
    request.target = "/v1/worker/tasks";
    request.body = body;
    return request;
  }

  test::TempDir dir_;
  std::filesystem::path master_id_ = dir_ / "master.id";
  std::filesystem::path worker_id_ = dir_ / "worker.id";
  std::filesystem::path stranger_id_ = dir_ / "stranger.id";
  test::CapturingLogger logger_;
  host::PluginLoader loader_{logger_};
  sdk::ConfigView::Map values_;
  sdk::ConfigView config_{values_, "transport.inproc"};
  host::PluginPtr<sdk::Transport> transport_;
  AllowList allow_{{"worker-1"}};
};

TEST_F(InprocTransportTest, CallsTheHandlerWithTheAuthenticatedPeer) {
  EchoHandler handler;
  auto server = Listen(handler);
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  auto client = Connect(ClientOptions(server->port(), worker_id_));
  ASSERT_NE(client, nullptr);
  auto response = client->Call(Request("hello"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "worker-1:/v1/worker/tasks:hello");
  EXPECT_EQ(allow_.asked(), std::vector<std::string>{"worker-1"});
  EXPECT_EQ(transport_->Scheme(), "inproc");
}

TEST_F(InprocTransportTest, WaitsForAnAnswerSentLaterFromAnotherThread) {
  HoldingHandler handler;
  auto arrived = handler.arrived();
  auto server = Listen(handler);
  auto client = Connect(ClientOptions(server->port(), worker_id_));
  std::thread answerer([&] {
    arrived.wait();
    handler.Take()->Send({202, "application/msgpack", "later"});
  });
  auto response = client->Call(Request("long-poll"));
  answerer.join();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 202);
  EXPECT_EQ(response->body, "later");
}

TEST_F(InprocTransportTest, RefusesAServerWhoseIdIsNotPinned) {
  EchoHandler handler;
  auto server = Listen(handler);
  auto options = ClientOptions(server->port(), worker_id_);
  options.pinned_server_ids = {"someone-else"};
  auto response = Connect(options)->Call(Request("x"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), sdk::StatusCode::kUnauthenticated);
  EXPECT_NE(response.status().message().find("'master-1'"), std::string::npos);
  EXPECT_NE(response.status().message().find("'someone-else'"), std::string::npos);
  EXPECT_EQ(handler.calls, 0);
}

TEST_F(InprocTransportTest, AnEmptyPinListAdmitsNoServer) {
  EchoHandler handler;
  auto server = Listen(handler);
  auto options = ClientOptions(server->port(), worker_id_);
  options.pinned_server_ids.clear();
  auto response = Connect(options)->Call(Request("x"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), sdk::StatusCode::kUnauthenticated);
  EXPECT_EQ(handler.calls, 0);
}

TEST_F(InprocTransportTest, RefusesAClientTheAuthenticatorRejects) {
  EchoHandler handler;
  auto server = Listen(handler);
  auto response = Connect(ClientOptions(server->port(), stranger_id_))->Call(Request("x"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), sdk::StatusCode::kUnauthenticated);
  EXPECT_NE(response.status().message().find("not a known worker"), std::string::npos);
  EXPECT_EQ(handler.calls, 0);
}

TEST_F(InprocTransportTest, AnonymousClientsNeedTheServerToAllowThem) {
  EchoHandler handler;
  auto strict = Listen(handler);
  auto anonymous = ClientOptions(strict->port(), worker_id_);
  anonymous.cert_file.clear();
  auto refused = Connect(anonymous)->Call(Request("x"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), sdk::StatusCode::kUnauthenticated);
  EXPECT_NE(refused.status().message().find("requires a client credential"), std::string::npos);

  auto lenient_options = ServerOptions();
  lenient_options.require_client_credential = false;
  auto lenient = Listen(handler, lenient_options);
  anonymous.endpoint = "inproc://master:" + std::to_string(lenient->port());
  auto admitted = Connect(anonymous)->Call(Request("x"));
  ASSERT_TRUE(admitted.ok()) << admitted.status().ToString();
  EXPECT_EQ(admitted->body, ":/v1/worker/tasks:x");  // anonymous: empty id
  EXPECT_TRUE(allow_.asked().empty());               // nobody to ask about
}

TEST_F(InprocTransportTest, NothingListeningIsUnavailable) {
  auto response = Connect(ClientOptions(4242, worker_id_))->Call(Request("x"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), sdk::StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("inproc://master:4242"), std::string::npos);
}

TEST_F(InprocTransportTest, APortInUseIsRefusedAndPortZeroPicksAFreeOne) {
  EchoHandler handler;
  auto first = Listen(handler);
  auto second = Listen(handler);
  EXPECT_NE(first->port(), second->port());
  auto taken = ServerOptions();
  taken.port = first->port();
  auto clash = transport_->Listen(taken, handler, allow_);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), sdk::StatusCode::kAlreadyExists);
  EXPECT_NE(clash.status().message().find("port 0"), std::string::npos);
}

TEST_F(InprocTransportTest, ADroppedResponderAnswers503) {
  HoldingHandler handler;
  auto arrived = handler.arrived();
  auto server = Listen(handler);
  auto client = Connect(ClientOptions(server->port(), worker_id_));
  std::thread dropper([&] {
    arrived.wait();
    handler.Take().reset();
  });
  auto response = client->Call(Request("x"));
  dropper.join();
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 503);
}

TEST_F(InprocTransportTest, NoAnswerWithinTheTimeoutIsDeadlineExceeded) {
  HoldingHandler handler;
  auto server = Listen(handler);
  auto request = Request("x");
  request.timeout = 20ms;
  auto response = Connect(ClientOptions(server->port(), worker_id_))->Call(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), sdk::StatusCode::kDeadlineExceeded);
}

TEST_F(InprocTransportTest, StoppingTheServerReleasesWaitingCallers) {
  HoldingHandler handler;
  auto arrived = handler.arrived();
  auto server = Listen(handler);
  auto client = Connect(ClientOptions(server->port(), worker_id_));
  std::thread stopper([&] {
    arrived.wait();
    server->Stop();
  });
  auto response = client->Call(Request("x"));
  stopper.join();
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), sdk::StatusCode::kUnavailable);
  auto after = client->Call(Request("again"));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), sdk::StatusCode::kUnavailable);
}

TEST_F(InprocTransportTest, AnOversizedBodyIsAnswered413WithoutReachingTheHandler) {
  EchoHandler handler;
  auto options = ServerOptions();
  options.max_body_bytes = 4;
  auto server = Listen(handler, options);
  auto response = Connect(ClientOptions(server->port(), worker_id_))->Call(Request("too long"));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(handler.calls, 0);
}

TEST_F(InprocTransportTest, AnOversizedResponseIsResourceExhausted) {
  EchoHandler handler;
  auto server = Listen(handler);
  auto options = ClientOptions(server->port(), worker_id_);
  options.max_response_bytes = 8;
  auto response = Connect(options)->Call(Request("a body long enough"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), sdk::StatusCode::kResourceExhausted);
}

TEST_F(InprocTransportTest, RejectsBadOptionsClearly) {
  auto bad_endpoint = ClientOptions(1, worker_id_);
  bad_endpoint.endpoint = "https://master:1";
  auto client = transport_->Connect(bad_endpoint);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), sdk::StatusCode::kInvalidArgument);
  EXPECT_NE(client.status().message().find("inproc://<address>:<port>"), std::string::npos);

  auto missing_id = ClientOptions(1, dir_ / "missing.id");
  client = transport_->Connect(missing_id);
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("missing.id"), std::string::npos);

  EchoHandler handler;
  auto bad_bind = ServerOptions();
  bad_bind.bind_address = "a:b";
  EXPECT_FALSE(transport_->Listen(bad_bind, handler, allow_).ok());
}

TEST_F(InprocTransportTest, ListenBeforeStartIsAFailedPrecondition) {
  auto made = loader_.CreateTransport("inproc", config_);
  ASSERT_TRUE(made.ok());
  EchoHandler handler;
  auto server = made.value()->Listen(ServerOptions(), handler, allow_);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), sdk::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace scaleout
