// transport/https against itself and against a raw OpenSSL client: real
// certificates, real TLS, real sockets on 127.0.0.1 with port 0.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tests/plugins/transport/https/test_support.h"

namespace scaleout::plugins::https::testing {
namespace {

using sdk::StatusCode;
using namespace std::chrono_literals;

// Answers every request at once with "<method> <target> <body>" and the
// caller's identity in the content type (for assertions).
FunctionHandler::Function Echo() {
  return [](const sdk::Request& request, std::unique_ptr<sdk::Responder> responder) {
    sdk::Response response;
    response.content_type = "text/plain";
    response.body = std::string(request.method) + " " + std::string(request.target) + " " +
                    std::string(request.body) + "|" + std::string(request.remote_address) + "|" +
                    request.peer->id + "|" + request.peer->display_name + "|" +
                    std::string(request.authorization) + "|" + std::string(request.content_type);
    responder->Send(std::move(response));
  };
}

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto bar = text.find('|', start);
    parts.push_back(text.substr(start, bar - start));
    if (bar == std::string::npos) return parts;
    start = bar + 1;
  }
}

class HttpsTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_cert_ = MakeCert(dir_, "master");
    client_cert_ = MakeCert(dir_, "worker1");
    stranger_cert_ = MakeCert(dir_, "stranger");
  }

  void LoadTransport(const std::map<std::string, std::string, std::less<>>& config = {}) {
    auto loaded = LoadedTransport::Load(config, logger_);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    transport_ = std::move(loaded).value();
    ASSERT_TRUE((*transport_)->Start().ok());
  }

  sdk::ServerOptions ServerOptionsFor() const {
    sdk::ServerOptions options;
    options.cert_file = server_cert_.cert_file;
    options.key_file = server_cert_.key_file;
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

  sdk::ClientOptions ClientOptionsFor(const TestCert* cert) const {
    sdk::ClientOptions options;
    options.endpoint = "https://127.0.0.1:" + std::to_string(server_->port());
    if (cert != nullptr) {
      options.cert_file = cert->cert_file;
      options.key_file = cert->key_file;
    }
    options.pinned_server_ids = {server_cert_.sha256};
    return options;
  }

  std::unique_ptr<sdk::Client> Connect(const sdk::ClientOptions& options) {
    auto client = (*transport_)->Connect(options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  static sdk::ClientRequest Post(std::string target, std::string_view body = "ping") {
    sdk::ClientRequest request;
    request.target = std::move(target);
    request.body = body;
    return request;
  }

  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    if (transport_) (*transport_)->Stop();
    transport_.reset();
  }

  TempDir dir_;
  TestCert server_cert_, client_cert_, stranger_cert_;
  CapturingLogger logger_;
  SetAuthenticator authenticator_{std::set<std::string>{}};
  std::unique_ptr<LoadedTransport> transport_;
  std::unique_ptr<FunctionHandler> handler_;
  std::unique_ptr<sdk::Server> server_;
};

// A fixture whose authenticator trusts the worker1 certificate.
class TrustedWorkerTest : public HttpsTransportTest {
 protected:
  void SetUp() override {
    HttpsTransportTest::SetUp();
    authenticator_.Trust(client_cert_.sha256);
  }
};

TEST_F(TrustedWorkerTest, RoundTripsOnOneKeptAliveConnection) {
  StartServer(ServerOptionsFor(), Echo());
  auto client = Connect(ClientOptionsFor(&client_cert_));
  ASSERT_NE(client, nullptr);
  std::string first_remote;
  for (int i = 0; i < 5; ++i) {
    const std::string body = "beat" + std::to_string(i);  // the request only views it
    sdk::ClientRequest request = Post("/v1/worker/heartbeat", body);
    request.authorization = "Bearer t0k3n";
    auto response = client->Call(request);
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->content_type, "text/plain");
    auto parts = Split(response->body);
    ASSERT_EQ(parts.size(), 6u) << response->body;
    EXPECT_EQ(parts[0], "POST /v1/worker/heartbeat beat" + std::to_string(i));
    EXPECT_EQ(parts[2], client_cert_.sha256);
    EXPECT_EQ(parts[3], "worker1");
    EXPECT_EQ(parts[4], "Bearer t0k3n");
    EXPECT_EQ(parts[5], "application/msgpack");
    if (i == 0) first_remote = parts[1];
    EXPECT_EQ(parts[1], first_remote) << "each call should reuse the first connection";
  }
  EXPECT_EQ(handler_->calls(), 5);
  EXPECT_EQ(authenticator_.calls(), 1) << "one connection, one handshake";
}

TEST_F(TrustedWorkerTest, BinaryBodiesSurviveTheRoundTrip) {
  StartServer(ServerOptionsFor(),
              [](const sdk::Request& request, std::unique_ptr<sdk::Responder> responder) {
                sdk::Response response;
                response.body = std::string(request.body);
                responder->Send(std::move(response));
              });
  auto client = Connect(ClientOptionsFor(&client_cert_));
  std::string body;
  for (int i = 0; i < 70000; ++i) body += static_cast<char>(i % 256);
  auto response = client->Call(Post("/bin", body));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, body);
  EXPECT_EQ(response->content_type, "application/msgpack");
}

// The long-poll shape: one request waits for an answer given later from
// another thread, while other requests are served meanwhile.
TEST_F(TrustedWorkerTest, DelayedAnswerFromAnotherThreadWhileOthersAreServed) {
  std::mutex mutex;
  std::condition_variable arrived;
  std::unique_ptr<sdk::Responder> parked;
  StartServer(ServerOptionsFor(),
              [&](const sdk::Request& request, std::unique_ptr<sdk::Responder> responder) {
                if (request.target == "/v1/worker/tasks") {
                  std::lock_guard lock(mutex);
                  parked = std::move(responder);
                  arrived.notify_all();
                  return;
                }
                sdk::Response response;
                response.body = "fast";
                responder->Send(std::move(response));
              });

  auto slow_client = Connect(ClientOptionsFor(&client_cert_));
  sdk::Result<sdk::Response> slow_result = sdk::Status::Internal("not run");
  std::thread slow([&] { slow_result = slow_client->Call(Post("/v1/worker/tasks")); });
  {
    std::unique_lock lock(mutex);
    arrived.wait(lock, [&] { return parked != nullptr; });
  }
  auto fast_client = Connect(ClientOptionsFor(&client_cert_));
  for (int i = 0; i < 3; ++i) {
    auto response = fast_client->Call(Post("/v1/worker/heartbeat"));
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->body, "fast");
  }
  std::thread answerer([&] {
    std::lock_guard lock(mutex);
    sdk::Response response;
    response.body = "task-42";
    parked->Send(std::move(response));
    parked.reset();
  });
  answerer.join();
  slow.join();
  ASSERT_TRUE(slow_result.ok()) << slow_result.status().ToString();
  EXPECT_EQ(slow_result->body, "task-42");
}

TEST_F(TrustedWorkerTest, DroppedResponderAnswers503) {
  StartServer(ServerOptionsFor(), [](const sdk::Request&, std::unique_ptr<sdk::Responder>) {});
  auto client = Connect(ClientOptionsFor(&client_cert_));
  auto response = client->Call(Post("/x"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 503);
  // The connection stays usable.
  auto again = client->Call(Post("/x"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->status, 503);
  EXPECT_EQ(authenticator_.calls(), 1);
}

TEST_F(TrustedWorkerTest, UntrustedClientCertificateIsRefusedAtHandshake) {
  StartServer(ServerOptionsFor(), Echo());
  auto client = Connect(ClientOptionsFor(&stranger_cert_));
  auto response = client->Call(Post("/v1/worker/heartbeat"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnauthenticated) << response.status().ToString();
  EXPECT_NE(response.status().message().find(stranger_cert_.sha256), std::string::npos)
      << response.status().message();
  EXPECT_EQ(handler_->calls(), 0);
  logger_.WaitFor("refused TLS client 127.0.0.1:");
  EXPECT_TRUE(logger_.Contains(stranger_cert_.sha256)) << logger_.All();
  EXPECT_TRUE(logger_.Contains("thumbprint is not in the trusted set")) << logger_.All();
}

TEST_F(TrustedWorkerTest, UntrustedClientIsRefusedWithTls12Too) {
  StartServer(ServerOptionsFor(), Echo());
  RawTlsClient::Options options;
  options.cert_file = stranger_cert_.cert_file;
  options.key_file = stranger_cert_.key_file;
  options.max_version = TLS1_2_VERSION;
  RawTlsClient raw(options);
  std::string error;
  EXPECT_FALSE(raw.Connect(server_->port(), &error));
  EXPECT_NE(error.find("bad certificate"), std::string::npos) << error;
  EXPECT_EQ(handler_->calls(), 0);
}

TEST_F(TrustedWorkerTest, ClientWithoutCertificateIsRefusedWhenRequired) {
  StartServer(ServerOptionsFor(), Echo());
  auto client = Connect(ClientOptionsFor(nullptr));
  auto response = client->Call(Post("/x"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnauthenticated) << response.status().ToString();
  EXPECT_EQ(handler_->calls(), 0);
}

TEST_F(TrustedWorkerTest, AnonymousClientIsAdmittedOnlyWhenCredentialIsOptional) {
  sdk::ServerOptions options = ServerOptionsFor();
  options.require_client_credential = false;
  StartServer(options, Echo());
  auto anonymous = Connect(ClientOptionsFor(nullptr));
  auto response = anonymous->Call(Post("/api/v1/executions"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  auto parts = Split(response->body);
  EXPECT_EQ(parts[2], "") << "an anonymous peer has no id";
  EXPECT_EQ(authenticator_.calls(), 0) << "no certificate, nothing to check";

  // A certificate, when presented, is still checked: trusted passes...
  auto trusted = Connect(ClientOptionsFor(&client_cert_));
  response = trusted->Call(Post("/api/v1/executions"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(Split(response->body)[2], client_cert_.sha256);
  // ...an untrusted one does not become anonymous.
  auto stranger = Connect(ClientOptionsFor(&stranger_cert_));
  response = stranger->Call(Post("/api/v1/executions"));
  EXPECT_EQ(response.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(handler_->calls(), 2);
}

TEST_F(TrustedWorkerTest, WrongServerPinIsRefusedNamingSeenAndExpected) {
  StartServer(ServerOptionsFor(), Echo());
  sdk::ClientOptions options = ClientOptionsFor(&client_cert_);
  options.pinned_server_ids = {stranger_cert_.sha256, stranger_cert_.sha1};
  auto client = Connect(options);
  auto response = client->Call(Post("/x"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnauthenticated);
  const std::string message = response.status().message();
  EXPECT_NE(message.find(server_cert_.sha256), std::string::npos) << message;    // seen
  EXPECT_NE(message.find(stranger_cert_.sha256), std::string::npos) << message;  // expected
  EXPECT_NE(message.find(stranger_cert_.sha1), std::string::npos) << message;
  EXPECT_EQ(handler_->calls(), 0);
}

TEST_F(TrustedWorkerTest, EmptyPinSetAdmitsNoServer) {
  StartServer(ServerOptionsFor(), Echo());
  sdk::ClientOptions options = ClientOptionsFor(&client_cert_);
  options.pinned_server_ids.clear();
  auto client = Connect(options);
  auto response = client->Call(Post("/x"));
  EXPECT_EQ(response.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(response.status().message().find(server_cert_.sha256), std::string::npos);
}

TEST_F(TrustedWorkerTest, Sha1PinInSsisFormatIsAccepted) {
  StartServer(ServerOptionsFor(), Echo());
  sdk::ClientOptions options = ClientOptionsFor(&client_cert_);
  std::string sha1 = server_cert_.sha1;
  for (char& c : sha1) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  options.pinned_server_ids = {sha1.substr(0, 20) + " " + sha1.substr(20)};
  auto client = Connect(options);
  auto response = client->Call(Post("/x"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
}

TEST_F(TrustedWorkerTest, Tls11ClientIsRefused) {
  StartServer(ServerOptionsFor(), Echo());
  RawTlsClient::Options options;
  options.cert_file = client_cert_.cert_file;
  options.key_file = client_cert_.key_file;
  options.min_version = TLS1_1_VERSION;
  options.max_version = TLS1_1_VERSION;
  options.tls12_ciphers = "DEFAULT:@SECLEVEL=0";  // let OpenSSL 3 offer TLS 1.1 at all
  options.security_level = 0;
  RawTlsClient raw(options);
  std::string error;
  ASSERT_FALSE(raw.Connect(server_->port(), &error));
  // The server answered with a protocol_version alert: it was the server
  // that refused, not our client that could not even try.
  EXPECT_EQ(ERR_GET_REASON(raw.last_error_code()), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) << error;
  EXPECT_EQ(handler_->calls(), 0);
}

TEST_F(TrustedWorkerTest, Tls12NonAeadCipherIsRefusedAndAeadIsAccepted) {
  StartServer(ServerOptionsFor(), Echo());
  RawTlsClient::Options options;
  options.cert_file = client_cert_.cert_file;
  options.key_file = client_cert_.key_file;
  options.max_version = TLS1_2_VERSION;
  options.tls12_ciphers = "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA";  // CBC
  RawTlsClient cbc(options);
  std::string error;
  EXPECT_FALSE(cbc.Connect(server_->port(), &error));
  EXPECT_NE(error.find("handshake failure"), std::string::npos) << error;

  options.tls12_ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
  RawTlsClient gcm(options);
  ASSERT_TRUE(gcm.Connect(server_->port(), &error)) << error;
  ASSERT_TRUE(gcm.Write("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(gcm.ReadResponse().substr(0, 15), "HTTP/1.1 200 OK");
}

TEST_F(TrustedWorkerTest, OversizedBodyGets413AndTheServerKeepsServing) {
  sdk::ServerOptions options = ServerOptionsFor();
  options.max_body_bytes = 1024;
  StartServer(options, Echo());
  RawTlsClient::Options raw_options;
  raw_options.cert_file = client_cert_.cert_file;
  raw_options.key_file = client_cert_.key_file;
  RawTlsClient raw(raw_options);
  std::string error;
  ASSERT_TRUE(raw.Connect(server_->port(), &error)) << error;
  ASSERT_TRUE(raw.Write("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n"));
  std::string response = raw.ReadResponse();
  EXPECT_EQ(response.substr(0, 12), "HTTP/1.1 413") << response;
  EXPECT_TRUE(raw.WaitClosed());

  // A chunked body crossing the limit is refused too.
  RawTlsClient chunked(raw_options);
  ASSERT_TRUE(chunked.Connect(server_->port(), &error)) << error;
  ASSERT_TRUE(chunked.Write(
      "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "400\r\n" +
      std::string(1024, 'a') + "\r\n10\r\n" + std::string(16, 'b') + "\r\n0\r\n\r\n"));
  EXPECT_EQ(chunked.ReadResponse().substr(0, 12), "HTTP/1.1 413");

  auto client = Connect(ClientOptionsFor(&client_cert_));
  const std::string at_limit(1024, 'z'), over_limit(5000, 'z');
  auto ok = client->Call(Post("/x", at_limit));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(handler_->calls(), 1);

  // Through the real client the status arrives as a response, not an error.
  auto big = client->Call(Post("/x", over_limit));
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(handler_->calls(), 1);
}

// Every answer, a handler's or the transport's own refusal, carries the
// headers that keep a browser from sniffing, framing, referring and caching.
TEST_F(TrustedWorkerTest, EveryAnswerCarriesTheBrowserSafetyHeaders) {
  StartServer(ServerOptionsFor(), Echo());
  RawTlsClient::Options raw_options;
  raw_options.cert_file = client_cert_.cert_file;
  raw_options.key_file = client_cert_.key_file;
  for (const std::string request :
       {"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi",  // the handler's
        "BROKEN\r\n\r\n"}) {                                           // the transport's 400
    RawTlsClient raw(raw_options);
    std::string error;
    ASSERT_TRUE(raw.Connect(server_->port(), &error)) << error;
    ASSERT_TRUE(raw.Write(request));
    const std::string response = raw.ReadResponse();
    SCOPED_TRACE(response);
    for (const char* header :
         {"X-Content-Type-Options: nosniff\r\n", "X-Frame-Options: DENY\r\n",
          "Content-Security-Policy: frame-ancestors 'none'\r\n", "Referrer-Policy: no-referrer\r\n",
          "Cache-Control: no-store\r\n", "Server: scaleout\r\n"}) {
      EXPECT_NE(response.find(header), std::string::npos) << header;
    }
  }
}

TEST_F(TrustedWorkerTest, OversizedHeaderGets431) {
  sdk::ServerOptions options = ServerOptionsFor();
  options.max_header_bytes = 4096;
  StartServer(options, Echo());
  RawTlsClient::Options raw_options;
  raw_options.cert_file = client_cert_.cert_file;
  raw_options.key_file = client_cert_.key_file;
  RawTlsClient raw(raw_options);
  std::string error;
  ASSERT_TRUE(raw.Connect(server_->port(), &error)) << error;
  ASSERT_TRUE(
      raw.Write("GET /x HTTP/1.1\r\nHost: x\r\nX-Junk: " + std::string(8000, 'j') + "\r\n\r\n"));
  std::string response = raw.ReadResponse();
  EXPECT_EQ(response.substr(0, 12), "HTTP/1.1 431") << response;
  EXPECT_EQ(handler_->calls(), 0);
}

TEST_F(TrustedWorkerTest, MalformedHttpGets400AndTheServerKeepsServing) {
  StartServer(ServerOptionsFor(), Echo());
  RawTlsClient::Options raw_options;
  raw_options.cert_file = client_cert_.cert_file;
  raw_options.key_file = client_cert_.key_file;
  for (std::string garbage : {"GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
                              "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n",
                              "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    RawTlsClient raw(raw_options);
    std::string error;
    ASSERT_TRUE(raw.Connect(server_->port(), &error)) << error;
    ASSERT_TRUE(raw.Write(garbage));
    std::string response = raw.ReadResponse();
    EXPECT_EQ(response.substr(0, 12), "HTTP/1.1 400") << garbage << " -> " << response;
    EXPECT_TRUE(raw.WaitClosed());
  }
  EXPECT_EQ(handler_->calls(), 0);
  auto client = Connect(ClientOptionsFor(&client_cert_));
  auto ok = client->Call(Post("/x"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, 200);
}

TEST_F(TrustedWorkerTest, SlowHeaderIsClosedAfterHeaderTimeout) {
  sdk::ServerOptions options = ServerOptionsFor();
  options.header_timeout = 300ms;
  StartServer(options, Echo());
  RawTlsClient::Options raw_options;
  raw_options.cert_file = client_cert_.cert_file;
  raw_options.key_file = client_cert_.key_file;

  RawTlsClient silent(raw_options);  // handshakes, then sends nothing
  std::string error;
  ASSERT_TRUE(silent.Connect(server_->port(), &error)) << error;
  RawTlsClient partial(raw_options);  // sends half a header and stalls
  ASSERT_TRUE(partial.Connect(server_->port(), &error)) << error;
  ASSERT_TRUE(partial.Write("POST /v1/worker/tasks HTTP/1.1\r\nHost: x\r\nContent-Le"));

  EXPECT_TRUE(silent.WaitClosed()) << "a silent connection must be closed by the server";
  EXPECT_TRUE(partial.WaitClosed()) << "a partial header must be closed by the server";
  EXPECT_EQ(handler_->calls(), 0);
}

TEST_F(TrustedWorkerTest, ConnectionThatNeverHandshakesIsClosed) {
  LoadTransport({{"handshake_timeout_ms", "300"}});
  StartServer(ServerOptionsFor(), Echo());
  RawTlsClient tcp_only;
  std::string error;
  ASSERT_TRUE(tcp_only.ConnectTcp(server_->port(), &error)) << error;
  EXPECT_TRUE(tcp_only.WaitClosed());
  logger_.WaitFor("handshake timed out");
}

TEST_F(TrustedWorkerTest, MaxConnectionsIsRespected) {
  sdk::ServerOptions options = ServerOptionsFor();
  options.max_connections = 2;
  StartServer(options, Echo());
  auto first = Connect(ClientOptionsFor(&client_cert_));
  auto second = Connect(ClientOptionsFor(&client_cert_));
  ASSERT_TRUE(first->Call(Post("/x")).ok());
  ASSERT_TRUE(second->Call(Post("/x")).ok());

  auto third = Connect(ClientOptionsFor(&client_cert_));
  auto refused = third->Call(Post("/x"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().ToString();
  EXPECT_EQ(handler_->calls(), 2);

  // Once a connection goes away, a newcomer gets in. The server learns of
  // the close asynchronously, so retry until it has.
  first.reset();
  sdk::Result<sdk::Response> admitted = sdk::Status::Internal("not tried");
  for (int attempt = 0; attempt < 500 && !admitted.ok(); ++attempt) {
    admitted = third->Call(Post("/x"));
    if (!admitted.ok()) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(admitted.ok()) << admitted.status().ToString();
  EXPECT_TRUE(second->Call(Post("/x")).ok());
}

TEST_F(TrustedWorkerTest, ClientReconnectsAfterTheServerClosedAnIdleConnection) {
  sdk::ServerOptions options = ServerOptionsFor();
  options.idle_timeout = 200ms;
  StartServer(options, Echo());
  auto client = Connect(ClientOptionsFor(&client_cert_));
  auto first = client->Call(Post("/x"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  logger_.WaitFor("no complete request idle in time");
  auto second = client->Call(Post("/x"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(Split(first->body)[1], Split(second->body)[1]) << "a new connection was needed";
  EXPECT_EQ(authenticator_.calls(), 2);
}

TEST_F(TrustedWorkerTest, CallTimeoutIsDeadlineExceeded) {
  std::vector<std::unique_ptr<sdk::Responder>> parked;
  std::mutex mutex;
  StartServer(ServerOptionsFor(),
              [&](const sdk::Request&, std::unique_ptr<sdk::Responder> responder) {
                std::lock_guard lock(mutex);
                parked.push_back(std::move(responder));
              });
  auto client = Connect(ClientOptionsFor(&client_cert_));
  sdk::ClientRequest request = Post("/v1/worker/tasks");
  request.timeout = 200ms;
  auto response = client->Call(request);
  EXPECT_EQ(response.status().code(), StatusCode::kDeadlineExceeded)
      << response.status().ToString();
  server_->Stop();  // answers nothing further; the parked responders are inert now
  std::lock_guard lock(mutex);
  parked.clear();
}

TEST_F(TrustedWorkerTest, OversizedResponseIsResourceExhausted) {
  StartServer(ServerOptionsFor(), [](const sdk::Request&, std::unique_ptr<sdk::Responder> r) {
    sdk::Response response;
    response.body = std::string(10000, 'x');
    r->Send(std::move(response));
  });
  sdk::ClientOptions options = ClientOptionsFor(&client_cert_);
  options.max_response_bytes = 1000;
  auto client = Connect(options);
  auto response = client->Call(Post("/x"));
  EXPECT_EQ(response.status().code(), StatusCode::kResourceExhausted)
      << response.status().ToString() << (response.ok() ? response->body.size() : 0) << " "
      << (response.ok() ? response->status : 0);
}

TEST_F(TrustedWorkerTest, StopWithOpenConnectionsIsCleanAndIdempotent) {
  std::mutex mutex;
  std::condition_variable arrived;
  std::unique_ptr<sdk::Responder> parked;
  StartServer(ServerOptionsFor(),
              [&](const sdk::Request& request, std::unique_ptr<sdk::Responder> responder) {
                if (request.target == "/wait") {
                  std::lock_guard lock(mutex);
                  parked = std::move(responder);
                  arrived.notify_all();
                  return;
                }
                responder->Send(sdk::Response{});
              });
  auto idle = Connect(ClientOptionsFor(&client_cert_));
  ASSERT_TRUE(idle->Call(Post("/now")).ok());  // an idle kept-alive connection
  RawTlsClient::Options raw_options;
  raw_options.cert_file = client_cert_.cert_file;
  raw_options.key_file = client_cert_.key_file;
  RawTlsClient half(raw_options);  // a connection in the middle of a header
  std::string error;
  ASSERT_TRUE(half.Connect(server_->port(), &error)) << error;
  ASSERT_TRUE(half.Write("GET / HTTP/1.1\r\n"));

  auto waiting = Connect(ClientOptionsFor(&client_cert_));
  sdk::Result<sdk::Response> waited = sdk::Status::Internal("not run");
  std::thread waiter([&] { waited = waiting->Call(Post("/wait")); });
  {
    std::unique_lock lock(mutex);
    arrived.wait(lock, [&] { return parked != nullptr; });
  }
  const std::uint16_t port = server_->port();
  server_->Stop();
  server_->Stop();  // idempotent
  waiter.join();
  EXPECT_FALSE(waited.ok()) << "the waiting call ends when the server stops";
  EXPECT_TRUE(half.WaitClosed());
  {
    std::lock_guard lock(mutex);
    parked->Send(sdk::Response{});  // after Stop: ignored, no crash
    parked.reset();
  }
  auto after = idle->Call(Post("/now"));
  EXPECT_EQ(after.status().code(), StatusCode::kUnavailable) << after.status().ToString();
  EXPECT_EQ(server_->port(), port);
  server_.reset();
  (*transport_)->Stop();
  (*transport_)->Stop();
}

TEST_F(TrustedWorkerTest, TransportStopStopsItsServers) {
  StartServer(ServerOptionsFor(), Echo());
  auto client = Connect(ClientOptionsFor(&client_cert_));
  ASSERT_TRUE(client->Call(Post("/x")).ok());
  (*transport_)->Stop();
  auto after = client->Call(Post("/x"));
  EXPECT_FALSE(after.ok());
  auto listen = (*transport_)->Listen(ServerOptionsFor(), *handler_, authenticator_);
  EXPECT_EQ(listen.status().code(), StatusCode::kFailedPrecondition);
}

// Not a benchmark gate: it checks many calls in a row and in parallel all
// succeed, and prints the rate so a regression is visible in test logs.
TEST_F(TrustedWorkerTest, ManySequentialAndParallelCallsSucceed) {
  StartServer(ServerOptionsFor(), Echo());
  constexpr int kCalls = 500;
  auto client = Connect(ClientOptionsFor(&client_cert_));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) ASSERT_TRUE(client->Call(Post("/v1/worker/heartbeat")).ok());
  const double sequential_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  constexpr int kClients = 4;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const auto parallel_start = std::chrono::steady_clock::now();
  threads.reserve(static_cast<std::size_t>(kClients));
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&] {
      auto own = (*transport_)->Connect(ClientOptionsFor(&client_cert_));
      if (!own.ok()) {
        failures += kCalls;
        return;
      }
      for (int i = 0; i < kCalls; ++i) {
        if (!own.value()->Call(Post("/v1/worker/heartbeat")).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const double parallel_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - parallel_start).count();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(authenticator_.calls(), 1 + kClients) << "one handshake per connection";
  std::cout << "[ figures  ] keep-alive round trips: " << static_cast<int>(kCalls / sequential_s)
            << "/s on one connection, " << static_cast<int>(kClients * kCalls / parallel_s)
            << "/s with " << kClients << " clients\n";
}

// ---- bad configuration -----------------------------------------------------------

TEST_F(HttpsTransportTest, UnknownOrBadSettingsAreRefused) {
  auto unknown = LoadedTransport::Load({{"thread", "2"}}, logger_);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("transport.https.thread"), std::string::npos)
      << unknown.status().message();
  auto zero = LoadedTransport::Load({{"threads", "0"}}, logger_);
  EXPECT_FALSE(zero.ok());
  auto text = LoadedTransport::Load({{"handshake_timeout_ms", "soon"}}, logger_);
  EXPECT_FALSE(text.ok());
  auto good = LoadedTransport::Load({{"threads", "4"}, {"handshake_timeout_ms", "5000"}}, logger_);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ((*good.value())->Scheme(), "https");
}

TEST_F(HttpsTransportTest, ListenRefusesBadCredentialsAndAddresses) {
  LoadTransport();
  FunctionHandler handler(Echo());
  auto listen = [&](const sdk::ServerOptions& options) {
    return (*transport_)->Listen(options, handler, authenticator_).status();
  };
  sdk::ServerOptions options = ServerOptionsFor();
  options.cert_file = dir_.File("missing.crt");
  EXPECT_EQ(listen(options).code(), StatusCode::kNotFound);

  options = ServerOptionsFor();
  options.key_file = client_cert_.key_file;  // someone else's key
  sdk::Status mismatch = listen(options);
  EXPECT_EQ(mismatch.code(), StatusCode::kFailedPrecondition) << mismatch.ToString();
  EXPECT_NE(mismatch.message().find("does not belong"), std::string::npos);

  options = ServerOptionsFor();
  options.cert_file = server_cert_.key_file;  // a key where the certificate should be
  EXPECT_EQ(listen(options).code(), StatusCode::kInvalidArgument);

  ::chmod(server_cert_.key_file.c_str(), 0644);
  sdk::Status open_key = listen(ServerOptionsFor());
  EXPECT_EQ(open_key.code(), StatusCode::kPermissionDenied) << open_key.ToString();
  EXPECT_NE(open_key.message().find("chmod 600"), std::string::npos);
  ::chmod(server_cert_.key_file.c_str(), 0600);

  options = ServerOptionsFor();
  options.bind_address = "not-an-ip";
  EXPECT_EQ(listen(options).code(), StatusCode::kInvalidArgument);

  options = ServerOptionsFor();
  options.max_body_bytes = 0;
  EXPECT_EQ(listen(options).code(), StatusCode::kInvalidArgument);

  auto first = (*transport_)->Listen(ServerOptionsFor(), handler, authenticator_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  options = ServerOptionsFor();
  options.port = first.value()->port();
  sdk::Status in_use = listen(options);
  EXPECT_EQ(in_use.code(), StatusCode::kUnavailable) << in_use.ToString();
  EXPECT_NE(in_use.message().find(std::to_string(options.port)), std::string::npos);
}

TEST_F(HttpsTransportTest, ConnectRefusesBadOptions) {
  LoadTransport();
  sdk::ClientOptions options;
  options.cert_file = client_cert_.cert_file;
  options.key_file = client_cert_.key_file;
  options.pinned_server_ids = {server_cert_.sha256};
  for (const char* endpoint : {"http://127.0.0.1:1", "tcp://127.0.0.1:1", "https://", "https://h:x",
                               "https://h:70000", "https://h:1/path"}) {
    options.endpoint = endpoint;
    EXPECT_EQ((*transport_)->Connect(options).status().code(), StatusCode::kInvalidArgument)
        << endpoint;
  }
  options.endpoint = "https://127.0.0.1:1";
  options.pinned_server_ids = {"not-a-thumbprint"};
  auto bad_pin = (*transport_)->Connect(options);
  EXPECT_EQ(bad_pin.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_pin.status().message().find("not-a-thumbprint"), std::string::npos);

  options.pinned_server_ids = {server_cert_.sha256};
  options.key_file = dir_.File("missing.key");
  EXPECT_EQ((*transport_)->Connect(options).status().code(), StatusCode::kNotFound);
}

TEST_F(HttpsTransportTest, NothingListeningIsUnavailable) {
  LoadTransport();
  // Find a free port, then close it.
  FunctionHandler handler(Echo());
  std::uint16_t port;
  {
    auto server = (*transport_)->Listen(ServerOptionsFor(), handler, authenticator_);
    ASSERT_TRUE(server.ok());
    port = server.value()->port();
  }
  sdk::ClientOptions options;
  options.endpoint = "https://127.0.0.1:" + std::to_string(port);
  options.pinned_server_ids = {server_cert_.sha256};
  auto client = (*transport_)->Connect(options);
  ASSERT_TRUE(client.ok());
  auto response = client.value()->Call(Post("/x"));
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable) << response.status().ToString();
  EXPECT_NE(response.status().message().find("cannot connect"), std::string::npos);
}

TEST_F(HttpsTransportTest, CallsBeforeStartAreRefused) {
  auto loaded = LoadedTransport::Load({}, logger_);
  ASSERT_TRUE(loaded.ok());
  FunctionHandler handler(Echo());
  auto server = (*loaded.value())->Listen(ServerOptionsFor(), handler, authenticator_);
  EXPECT_EQ(server.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace scaleout::plugins::https::testing
