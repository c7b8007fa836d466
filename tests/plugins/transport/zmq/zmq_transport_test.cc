// transport/zmq against itself and against a raw libzmq DEALER: real CURVE
// keys in files, real sockets on 127.0.0.1 with an ephemeral port, the real
// plugin loaded with dlopen.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "scaleout/sdk/config.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/plugin.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::plugins::zmq::testing {
namespace {

namespace fs = std::filesystem;
using sdk::StatusCode;
using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "scaleout-zmq-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

struct TestKey {
  std::string public_key;
  std::string secret_key;
  std::string public_file;
  std::string secret_file;
};

// A key pair from libzmq itself, written in the zcert-like text format.
TestKey MakeKey(const TempDir& dir, const std::string& name) {
  char pub[41] = {};
  char sec[41] = {};
  if (zmq_curve_keypair(pub, sec) != 0) throw std::runtime_error("zmq_curve_keypair failed");
  TestKey key{pub, sec, dir.File(name + ".key"), dir.File(name + ".key_secret")};
  std::ofstream(key.public_file) << "# " << name << "\ncurve\n    public-key = \"" << pub << "\"\n";
  std::ofstream(key.secret_file) << "# " << name << "\ncurve\n    public-key = \"" << pub
                                 << "\"\n    secret-key = \"" << sec << "\"\n";
  ::chmod(key.secret_file.c_str(), 0600);
  return key;
}

class CapturingLogger final : public sdk::Logger {
 public:
  void Log(sdk::LogLevel, std::string_view message) noexcept override {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(message);
    changed_.notify_all();
  }
  bool Enabled(sdk::LogLevel) const noexcept override { return true; }
  bool Contains(std::string_view text) const {
    std::lock_guard lock(mutex_);
    for (const auto& line : lines_) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
  std::string All() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& line : lines_) out += line + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
};

class SetAuthenticator final : public sdk::PeerAuthenticator {
 public:
  void Trust(const std::string& id) {
    std::lock_guard lock(mutex_);
    trusted_.insert(id);
  }
  sdk::Status Admit(const sdk::PeerIdentity& peer) const noexcept override {
    std::lock_guard lock(mutex_);
    ++calls_;
    if (peer.anonymous() || trusted_.count(peer.id) != 0) return sdk::Status::Ok();
    return sdk::Status::Unauthenticated("key " + peer.id + " is not in the test's trusted set");
  }
  int calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  mutable std::mutex mutex_;
  std::set<std::string> trusted_;
  mutable int calls_ = 0;
};

class FunctionHandler final : public sdk::RequestHandler {
 public:
  using Function = std::function<void(const sdk::Request&, std::unique_ptr<sdk::Responder>)>;
  explicit FunctionHandler(Function function) : function_(std::move(function)) {}
  void OnRequest(const sdk::Request& request,
                 std::unique_ptr<sdk::Responder> responder) noexcept override {
    calls_.fetch_add(1);
    function_(request, std::move(responder));
  }
  int calls() const { return calls_.load(); }

 private:
  Function function_;
  std::atomic<int> calls_{0};
};

// Keeps responders for later answers (long-polls); thread-safe.
class Parked {
 public:
  void Park(std::unique_ptr<sdk::Responder> responder, std::string body) {
    std::lock_guard lock(mutex_);
    responders_.push_back(std::move(responder));
    bodies_.push_back(std::move(body));
    changed_.notify_all();
  }
  void WaitFor(std::size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return responders_.size() >= count; });
  }
  std::vector<std::unique_ptr<sdk::Responder>> Take() {
    std::lock_guard lock(mutex_);
    return std::move(responders_);
  }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mutex_);
    return bodies_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::unique_ptr<sdk::Responder>> responders_;
  std::vector<std::string> bodies_;
};

class LoadedTransport {
 public:
  static std::unique_ptr<LoadedTransport> Load(
      const std::map<std::string, std::string, std::less<>>& config, sdk::Logger& logger,
      std::string* error) {
    const std::string path =
        std::string(SCALEOUT_TEST_PLUGIN_DIR) + "/libscaleout_transport_zmq.so";
    auto loaded = std::make_unique<LoadedTransport>();
    loaded->library_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (loaded->library_ == nullptr) {
      *error = ::dlerror();
      return nullptr;
    }
    auto entry =
        reinterpret_cast<sdk::PluginEntryPoint>(::dlsym(loaded->library_, sdk::kEntryPointName));
    if (entry == nullptr) {
      *error = "no entry point";
      return nullptr;
    }
    loaded->descriptor_ = entry();
    sdk::ConfigView view(config, "transport.zmq");
    sdk::PluginContext context{&view, &logger};
    char message[512] = {};
    void* instance = loaded->descriptor_->create(&context, message, sizeof(message));
    if (instance == nullptr) {
      *error = message;
      return nullptr;
    }
    loaded->transport_ = static_cast<sdk::Transport*>(instance);
    return loaded;
  }
  ~LoadedTransport() {
    if (transport_ != nullptr) descriptor_->destroy(transport_);
    if (library_ != nullptr) ::dlclose(library_);
  }
  sdk::Transport* operator->() const { return transport_; }

 private:
  void* library_ = nullptr;
  const sdk::PluginDescriptor* descriptor_ = nullptr;
  sdk::Transport* transport_ = nullptr;
};

FunctionHandler::Function Echo() {
  return [](const sdk::Request& request, std::unique_ptr<sdk::Responder> responder) {
    sdk::Response response;
    response.content_type = "text/plain";
    response.body = std::string(request.method) + " " + std::string(request.target) + " " +
                    std::string(request.body) + "|" + request.peer->scheme + "|" +
                    request.peer->id + "|" + std::string(request.authorization) + "|" +
                    std::string(request.content_type) + "|" + std::string(request.remote_address);
    responder->Send(std::move(response));
  };
}

class ZmqTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_key_ = MakeKey(dir_, "master");
    client_key_ = MakeKey(dir_, "worker1");
    stranger_key_ = MakeKey(dir_, "stranger");
    authenticator_.Trust(client_key_.public_key);
  }
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    if (transport_) (*transport_)->Stop();
  }

  void LoadTransport(const std::map<std::string, std::string, std::less<>>& config = {}) {
    std::string error;
    transport_ = LoadedTransport::Load(config, logger_, &error);
    ASSERT_NE(transport_, nullptr) << error;
    ASSERT_TRUE((*transport_)->Start().ok());
  }

  sdk::ServerOptions ServerOptionsFor() const {
    sdk::ServerOptions options;
    options.cert_file = server_key_.public_file;
    options.key_file = server_key_.secret_file;
    return options;
  }

  void StartServer(const sdk::ServerOptions& options, FunctionHandler::Function function) {
    if (!transport_) LoadTransport();
    handler_ = std::make_unique<FunctionHandler>(std::move(function));
    auto server = (*transport_)->Listen(options, *handler_, authenticator_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_NE(server_->port(), 0);
  }

  sdk::ClientOptions ClientOptionsFor(const TestKey* key) const {
    sdk::ClientOptions options;
    options.endpoint = "tcp://127.0.0.1:" + std::to_string(server_->port());
    if (key != nullptr) {
      options.cert_file = key->public_file;
      options.key_file = key->secret_file;
    }
    options.pinned_server_ids = {server_key_.public_key};
    return options;
  }

  std::unique_ptr<sdk::Client> Connect(const sdk::ClientOptions& options) {
    auto client = (*transport_)->Connect(options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  // The request views `body`: pass a literal, or call within one full
  // expression (Call(Post(...))) when `body` is a temporary.
  static sdk::ClientRequest Post(const std::string& target, std::string_view body,
                                 std::chrono::milliseconds timeout = 10s) {
    sdk::ClientRequest request;
    request.target = target;
    request.body = body;
    request.timeout = timeout;
    return request;
  }

  TempDir dir_;
  TestKey server_key_;
  TestKey client_key_;
  TestKey stranger_key_;
  CapturingLogger logger_;
  SetAuthenticator authenticator_;
  std::unique_ptr<LoadedTransport> transport_;
  std::unique_ptr<FunctionHandler> handler_;
  std::unique_ptr<sdk::Server> server_;
};

TEST_F(ZmqTransportTest, CurveRoundTripCarriesEveryFieldAndThePeerKey) {
  StartServer(ServerOptionsFor(), Echo());
  auto client = Connect(ClientOptionsFor(&client_key_));
  ASSERT_NE(client, nullptr);
  sdk::ClientRequest request = Post("/v1/worker/tasks?x=1", "hello");
  request.authorization = "Bearer abc";
  request.content_type = "application/json";
  auto response = client->Call(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->content_type, "text/plain");
  EXPECT_EQ(response->body, "POST /v1/worker/tasks?x=1 hello|curve|" + client_key_.public_key +
                                "|Bearer abc|application/json|127.0.0.1");
  // The connection is kept: a second call on the same client works too.
  auto again = client->Call(Post("/again", std::string(100'000, 'x')));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->body.substr(0, 7), "POST /a");
  EXPECT_EQ(authenticator_.calls(), 1);  // one handshake for both calls
}

TEST_F(ZmqTransportTest, ManyConcurrentClientsEachGetTheirOwnAnswers) {
  StartServer(ServerOptionsFor(), Echo());
  constexpr int kClients = 12;
  constexpr int kCalls = 25;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(kClients));
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      auto client = (*transport_)->Connect(ClientOptionsFor(&client_key_));
      if (!client.ok()) return;
      for (int i = 0; i < kCalls; ++i) {
        const std::string body = "c" + std::to_string(c) + "-" + std::to_string(i);
        auto response = (*client)->Call(Post("/echo", body));
        if (response.ok() && response->body.rfind("POST /echo " + body + "|", 0) == 0) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), kClients * kCalls);
  EXPECT_EQ(handler_->calls(), kClients * kCalls);
}

TEST_F(ZmqTransportTest, LongPollIsAnsweredLaterFromAnotherThread) {
  Parked parked;
  StartServer(ServerOptionsFor(), [&](const sdk::Request& request, auto responder) {
    parked.Park(std::move(responder), std::string(request.body));
  });
  auto client = Connect(ClientOptionsFor(&client_key_));
  std::thread answerer([&] {
    parked.WaitFor(1);
    auto responders = parked.Take();
    sdk::Response response;
    response.status = 202;
    response.body = "work for " + parked.bodies()[0];
    responders[0]->Send(std::move(response));
  });
  auto response = client->Call(Post("/v1/worker/tasks", "w1", 30s));
  answerer.join();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 202);
  EXPECT_EQ(response->body, "work for w1");
}

TEST_F(ZmqTransportTest, ClientTimeoutThenTheLateAnswerIsNotMistakenForTheNextOne) {
  Parked parked;
  std::atomic<bool> park{true};
  StartServer(ServerOptionsFor(), [&](const sdk::Request& request, auto responder) {
    if (park.load()) {
      parked.Park(std::move(responder), std::string(request.body));
      return;
    }
    Echo()(request, std::move(responder));
  });
  auto client = Connect(ClientOptionsFor(&client_key_));
  auto timed_out = client->Call(Post("/slow", "first", 300ms));
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.status().code(), StatusCode::kDeadlineExceeded)
      << timed_out.status().ToString();
  // The late answer to the first call arrives; the next call must get its own.
  park = false;
  for (auto& responder : parked.Take()) {
    sdk::Response late;
    late.body = "late answer";
    responder->Send(std::move(late));
  }
  auto next = client->Call(Post("/fast", "second"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->body.substr(0, 18), "POST /fast second|");
}

TEST_F(ZmqTransportTest, UntrustedKeyIsRefusedByZapBeforeAnyRequest) {
  StartServer(ServerOptionsFor(), Echo());
  auto client = Connect(ClientOptionsFor(&stranger_key_));
  auto response = client->Call(Post("/v1/worker/register", "x"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnauthenticated) << response.status().ToString();
  EXPECT_NE(response.status().message().find(stranger_key_.public_key), std::string::npos)
      << response.status().message();
  EXPECT_EQ(handler_->calls(), 0);
  EXPECT_TRUE(
      logger_.Contains("key " + stranger_key_.public_key + " is not in the test's trusted set"))
      << logger_.All();
}

TEST_F(ZmqTransportTest, WrongServerPinFailsWithUnauthenticatedNamingThePin) {
  StartServer(ServerOptionsFor(), Echo());
  sdk::ClientOptions options = ClientOptionsFor(&client_key_);
  options.pinned_server_ids = {stranger_key_.public_key};
  auto client = Connect(options);
  auto response = client->Call(Post("/x", "x"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnauthenticated) << response.status().ToString();
  EXPECT_NE(response.status().message().find(stranger_key_.public_key), std::string::npos)
      << response.status().message();
  EXPECT_EQ(handler_->calls(), 0);

  // With the right key among several pins the client finds it.
  options.pinned_server_ids = {stranger_key_.public_key, server_key_.public_key};
  auto rotated = Connect(options);
  auto ok = rotated->Call(Post("/x", "y"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ZmqTransportTest, PlainIsRefusedWithoutTheInsecureFlag) {
  LoadTransport();
  FunctionHandler handler(Echo());
  sdk::ServerOptions options;  // no key files
  auto server = (*transport_)->Listen(options, handler, authenticator_);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(server.status().message().find("insecure_plain"), std::string::npos)
      << server.status().message();

  sdk::ClientOptions client_options;
  client_options.endpoint = "tcp://127.0.0.1:1";
  auto client = (*transport_)->Connect(client_options);  // no pin
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ZmqTransportTest, InsecurePlainWorksOnlyWhenAskedForAndPeersAreAnonymous) {
  LoadTransport({{"insecure_plain", "true"}});
  sdk::ServerOptions options;
  options.require_client_credential = false;
  StartServer(options, Echo());
  sdk::ClientOptions client_options;
  client_options.endpoint = "tcp://127.0.0.1:" + std::to_string(server_->port());
  auto client = Connect(client_options);
  auto response = client->Call(Post("/plain", "p"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body.substr(0, 16), "POST /plain p|||");  // no scheme, no id
  EXPECT_TRUE(logger_.Contains("WITHOUT CURVE")) << logger_.All();
}

TEST_F(ZmqTransportTest, AnonymousCurveClientOnlyWhenCredentialsAreOptional) {
  sdk::ServerOptions options = ServerOptionsFor();
  options.require_client_credential = false;
  StartServer(options, Echo());
  auto anonymous = Connect(ClientOptionsFor(nullptr));
  auto response = anonymous->Call(Post("/api/v1/x", "a"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body.substr(0, 17), "POST /api/v1/x a|");
  EXPECT_EQ(response->body.substr(17, 2), "||");  // anonymous: no scheme, no id
  server_->Stop();

  StartServer(ServerOptionsFor(), Echo());  // require_client_credential = true
  auto refused = Connect(ClientOptionsFor(nullptr))->Call(Post("/api/v1/x", "a"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated) << refused.status().ToString();
}

TEST_F(ZmqTransportTest, OversizedMessageDropsThatPeerWhileOthersAreServed) {
  sdk::ServerOptions options = ServerOptionsFor();
  options.max_body_bytes = 64 << 10;
  StartServer(options, Echo());
  auto big = Connect(ClientOptionsFor(&client_key_));
  auto small = Connect(ClientOptionsFor(&client_key_));
  ASSERT_TRUE(small->Call(Post("/warm", "s")).ok());
  auto dropped = big->Call(Post("/big", std::string(256 << 10, 'b')));
  ASSERT_FALSE(dropped.ok());
  EXPECT_EQ(dropped.status().code(), StatusCode::kUnavailable) << dropped.status().ToString();
  auto served = small->Call(Post("/small", "still here"));
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_EQ(served->body.substr(0, 23), "POST /small still here|");
  // The big client reconnects and may go on with a request that fits.
  auto retried = big->Call(Post("/fits", "ok"));
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(handler_->calls(), 3);
}

// A raw DEALER with a trusted key, to send what a well-behaved client cannot.
class RawDealer {
 public:
  RawDealer(const TestKey& key, const std::string& server_key, std::uint16_t port)
      : socket_(context_, ::zmq::socket_type::dealer) {
    socket_.set(::zmq::sockopt::linger, 0);
    socket_.set(::zmq::sockopt::curve_serverkey, server_key);
    socket_.set(::zmq::sockopt::curve_publickey, key.public_key);
    socket_.set(::zmq::sockopt::curve_secretkey, key.secret_key);
    socket_.set(::zmq::sockopt::rcvtimeo, 20'000);  // safety net only
    socket_.connect("tcp://127.0.0.1:" + std::to_string(port));
  }
  void Send(const std::vector<std::string>& frames) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      socket_.send(::zmq::buffer(frames[i]),
                   i + 1 < frames.size() ? ::zmq::send_flags::sndmore : ::zmq::send_flags::none);
    }
  }
  std::vector<std::string> Receive() {
    std::vector<std::string> frames;
    for (;;) {
      ::zmq::message_t part;
      if (!socket_.recv(part)) return frames;
      frames.emplace_back(static_cast<const char*>(part.data()), part.size());
      if (!part.more()) return frames;
    }
  }

 private:
  ::zmq::context_t context_{1};
  ::zmq::socket_t socket_;
};

std::string Id(std::uint64_t id) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, id >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(id);
  return out;
}

TEST_F(ZmqTransportTest, MalformedFramesAreAnsweredWithAnError) {
  StartServer(ServerOptionsFor(), Echo());
  RawDealer raw(client_key_, server_key_.public_key, server_->port());

  raw.Send({"SCALEOUT/1", Id(7), "POST"});  // too few frames
  auto answer = raw.Receive();
  ASSERT_EQ(answer.size(), 5u);
  EXPECT_EQ(answer[0], "SCALEOUT/1");
  EXPECT_EQ(answer[1], Id(7));
  EXPECT_EQ(answer[2], "400");
  EXPECT_NE(answer[4].find("expected 7 frames, got 3"), std::string::npos) << answer[4];

  raw.Send({"HTTP/1.1", "garbage"});
  answer = raw.Receive();
  ASSERT_EQ(answer.size(), 5u);
  EXPECT_EQ(answer[1], Id(0));
  EXPECT_EQ(answer[2], "400");

  raw.Send({"SCALEOUT/1", Id(8), "post", "/x", "", "", ""});  // method not upper case
  answer = raw.Receive();
  ASSERT_EQ(answer.size(), 5u);
  EXPECT_EQ(answer[2], "400");
  raw.Send({"SCALEOUT/1", Id(9), "POST", "no-slash", "", "", ""});
  answer = raw.Receive();
  ASSERT_EQ(answer.size(), 5u);
  EXPECT_EQ(answer[1], Id(9));
  EXPECT_EQ(answer[2], "400");

  // The same connection still serves a good request.
  raw.Send({"SCALEOUT/1", Id(10), "GET", "/ok", "text/plain", "", "body"});
  answer = raw.Receive();
  ASSERT_EQ(answer.size(), 5u);
  EXPECT_EQ(answer[1], Id(10));
  EXPECT_EQ(answer[2], "200");
  EXPECT_EQ(answer[4].substr(0, 12), "GET /ok body");
  EXPECT_EQ(handler_->calls(), 1);
}

TEST_F(ZmqTransportTest, StopAnswersPendingLongPollsWith503) {
  Parked parked;
  StartServer(ServerOptionsFor(), [&](const sdk::Request& request, auto responder) {
    parked.Park(std::move(responder), std::string(request.body));
  });
  constexpr int kPolls = 3;
  std::vector<int> statuses(kPolls, 0);
  std::vector<std::string> errors(kPolls);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(kPolls));
  for (int i = 0; i < kPolls; ++i) {
    threads.emplace_back([&, i] {
      auto client = (*transport_)->Connect(ClientOptionsFor(&client_key_));
      if (!client.ok()) return;
      auto response = (*client)->Call(Post("/v1/worker/tasks", std::to_string(i), 60s));
      statuses[static_cast<std::size_t>(i)] = response.ok() ? response->status : -1;
      if (!response.ok()) errors[static_cast<std::size_t>(i)] = response.status().ToString();
    });
  }
  parked.WaitFor(kPolls);
  server_->Stop();
  server_->Stop();  // idempotent
  for (auto& t : threads) t.join();
  for (int i = 0; i < kPolls; ++i) {
    EXPECT_EQ(statuses[static_cast<std::size_t>(i)], 503) << errors[static_cast<std::size_t>(i)];
  }
  // Answers after Stop() go nowhere and do no harm.
  for (auto& responder : parked.Take()) responder->Send(sdk::Response{});
}

TEST_F(ZmqTransportTest, SecretKeyFileReadableByOthersIsRefused) {
  ::chmod(server_key_.secret_file.c_str(), 0644);
  LoadTransport();
  FunctionHandler handler(Echo());
  auto server = (*transport_)->Listen(ServerOptionsFor(), handler, authenticator_);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(server.status().message().find("chmod 600"), std::string::npos);

  ::chmod(server_key_.secret_file.c_str(), 0600);
  sdk::ServerOptions mismatched = ServerOptionsFor();
  mismatched.cert_file = client_key_.public_file;  // another key's public file
  server = (*transport_)->Listen(mismatched, handler, authenticator_);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(server.status().message().find(client_key_.public_key), std::string::npos);
}

TEST_F(ZmqTransportTest, ManySequentialAndParallelCallsWithTheRatePrinted) {
  StartServer(ServerOptionsFor(), Echo());
  constexpr int kSequential = 2000;
  auto client = Connect(ClientOptionsFor(&client_key_));
  const std::string body(200, 'm');  // about the size of a heartbeat
  auto start = std::chrono::steady_clock::now();
  int ok = 0;
  for (int i = 0; i < kSequential; ++i) ok += client->Call(Post("/hb", body)).ok() ? 1 : 0;
  const double sequential_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(ok, kSequential);

  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  std::atomic<int> parallel_ok{0};
  start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto own = (*transport_)->Connect(ClientOptionsFor(&client_key_));
      if (!own.ok()) return;
      for (int i = 0; i < kPerThread; ++i) {
        if ((*own)->Call(Post("/hb", body)).ok()) ++parallel_ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double parallel_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(parallel_ok.load(), kThreads * kPerThread);
  std::cout << "{\"transport\": \"zmq\", \"sequential_calls_per_s\": "
            << static_cast<int>(kSequential / sequential_s)
            << ", \"parallel_clients\": " << kThreads << ", \"parallel_calls_per_s\": "
            << static_cast<int>(kThreads * kPerThread / parallel_s) << "}" << std::endl;
}

TEST_F(ZmqTransportTest, ConnectionsAboveMaxConnectionsAreRefusedByZap) {
  sdk::ServerOptions options = ServerOptionsFor();
  options.max_connections = 1;
  StartServer(options, Echo());
  auto first = Connect(ClientOptionsFor(&client_key_));
  ASSERT_TRUE(first->Call(Post("/one", "1")).ok());
  auto second = Connect(ClientOptionsFor(&client_key_));
  auto busy = second->Call(Post("/two", "2"));
  ASSERT_FALSE(busy.ok());
  // ZAP can only refuse: the client cannot tell "busy" from "not trusted",
  // so its message names both and the server's log says which.
  EXPECT_EQ(busy.status().code(), StatusCode::kUnauthenticated) << busy.status().ToString();
  EXPECT_NE(busy.status().message().find("max_connections"), std::string::npos)
      << busy.status().ToString();
  EXPECT_TRUE(logger_.Contains("max_connections (1) reached")) << logger_.All();
  EXPECT_TRUE(first->Call(Post("/one", "again")).ok());  // the admitted one keeps working
  first.reset();                                         // frees the slot
  bool admitted = false;
  for (int i = 0; i < 50 && !admitted; ++i) {
    admitted = second->Call(Post("/two", "retry")).ok();
    if (!admitted) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(admitted) << logger_.All();
}

TEST_F(ZmqTransportTest, NothingListeningIsUnavailable) {
  StartServer(ServerOptionsFor(), Echo());
  sdk::ClientOptions options = ClientOptionsFor(&client_key_);
  const std::uint16_t port = server_->port();
  server_->Stop();
  options.endpoint = "tcp://127.0.0.1:" + std::to_string(port);
  options.connect_timeout = 500ms;
  auto response = Connect(options)->Call(Post("/x", "x"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable) << response.status().ToString();
}

}  // namespace
}  // namespace scaleout::plugins::zmq::testing
