// HTTPS server: one strand per connection, `threads` I/O threads, limits on
// everything a client controls.
//
// Lifetime, the part that is easy to get wrong:
//   - HttpsServer (the handle core holds) owns a shared ServerCore.
//   - ServerCore owns the io_context, the acceptor, the TLS context, the
//     threads and the registry of live sessions (strong references). A
//     session leaves the registry when it ends.
//   - A Responder holds only a weak reference to its session plus the
//     core's Gate. Send() posts to the session's strand under the gate's
//     lock; Stop() closes the gate before it tears sessions down, so a
//     Responder that outlives the server does nothing (and never touches a
//     destroyed io_context).
//   - Stop(): close the gate's acceptance of new work, stop the io_context,
//     join the threads, then destroy sessions and the io_context from the
//     stopping thread while no handler can run.
#include "server.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace scaleout::plugins::https {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using sdk::Result;
using sdk::Status;

using Stream = beast::ssl_stream<beast::tcp_stream>;
using RequestParser = http::request_parser<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// How long a closing connection may take to exchange close_notify.
constexpr std::chrono::milliseconds kShutdownTimeout{2'000};

// Headers on every answer, whatever it carries: browsers (the master's web
// dashboard is served through here) must not guess a type, frame a page,
// send a referrer or keep an answer, which may hold catalog data, in a cache.
void SetStandardHeaders(HttpResponse& response) {
  response.set(http::field::server, "scaleout");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("X-Frame-Options", "DENY");
  response.set("Content-Security-Policy", "frame-ancestors 'none'");
  response.set("Referrer-Policy", "no-referrer");
  response.set(http::field::cache_control, "no-store");
}

// Beast (Boost 1.74) has its own string_view; the SDK speaks std::string_view.
std::string_view View(beast::string_view text) { return {text.data(), text.size()}; }

std::string EndpointText(const tcp::endpoint& endpoint) {
  const net::ip::address address = endpoint.address();
  std::string host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port());
}

// Shared by a server and its Responders: tells a Responder whether the
// server can still take its answer.
struct Gate {
  std::mutex mutex;
  bool open = true;
};

class ServerCore;

// One TLS connection: handshake, then read request / answer / repeat.
// Every member is touched only on the connection's strand, except that the
// ServerCore destroys a session after all I/O threads have stopped.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ServerCore& core, tcp::socket socket, std::string remote);
  void Start();
  Stream::executor_type Executor() { return stream_.get_executor(); }
  // On the strand: sends the answer to the request being handled.
  void Deliver(sdk::Response response);
  // Closes the socket at once. Only while no I/O thread runs (Stop()).
  void CloseNow();

 private:
  void OnHandshake(beast::error_code ec);
  void ReadNextRequest();
  void OnIdleData(beast::error_code ec, std::size_t bytes);
  void ReadHeader();
  void OnHeader(beast::error_code ec, std::size_t bytes);
  void OnContinueSent(beast::error_code ec, std::size_t bytes);
  void ReadBody();
  void OnBody(beast::error_code ec, std::size_t bytes);
  void Dispatch();
  void SendError(http::status status, std::string_view message);
  void Write(HttpResponse response);
  void OnWrite(beast::error_code ec, std::size_t bytes);
  void Shutdown();
  void Finish();
  void OnReadError(beast::error_code ec, std::string_view stage);

  ServerCore& core_;
  Stream stream_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  std::optional<HttpResponse> response_;  // the one being written
  std::optional<http::response<http::empty_body>> continue_;
  sdk::PeerIdentity peer_;
  bool request_keep_alive_ = false;
  unsigned request_version_ = 11;
  bool awaiting_answer_ = false;
  bool finished_ = false;
};

// The Responder handed to core with each request.
class SessionResponder final : public sdk::Responder {
 public:
  SessionResponder(std::weak_ptr<Session> session, std::shared_ptr<Gate> gate)
      : session_(std::move(session)), gate_(std::move(gate)) {}
  ~SessionResponder() override {
    if (!sent_) {
      sdk::Response response;
      response.status = 503;
      response.content_type = "text/plain";
      response.body = "the server dropped this request without an answer\n";
      Send(std::move(response));
    }
  }
  void Send(sdk::Response response) noexcept override {
    if (sent_) return;  // exactly once
    sent_ = true;
    try {
      std::lock_guard lock(gate_->mutex);
      if (!gate_->open) return;
      std::shared_ptr<Session> session = session_.lock();
      if (!session) return;
      Stream::executor_type executor = session->Executor();
      net::post(executor, [session = std::move(session), r = std::move(response)]() mutable {
        session->Deliver(std::move(r));
      });
    } catch (const std::exception&) {
      // Out of memory while posting: the connection ends without an answer.
    }
  }

 private:
  std::weak_ptr<Session> session_;
  std::shared_ptr<Gate> gate_;
  bool sent_ = false;
};

class ServerCore final : public ServerControl {
 public:
  ServerCore(const sdk::ServerOptions& options, sdk::RequestHandler& handler,
             const sdk::PeerAuthenticator& authenticator, sdk::Logger& logger,
             const TransportSettings& settings)
      : options_(options),
        settings_(settings),
        handler_(handler),
        logger_(logger),
        verifier_(authenticator, logger),
        ssl_(ssl::context::tls_server),
        acceptor_(net::make_strand(io_)),
        retry_timer_(acceptor_.get_executor()),
        gate_(std::make_shared<Gate>()) {}

  // Handlers capture `this` raw: they live in io_, which is destroyed before
  // the members they use (declared after them), and no handler runs after Stop()
  // joined the threads. Sessions still owned by queued handlers are
  // destroyed with io_; a Session's destructor does not touch the core.
  ~ServerCore() override { Stop(); }

  Status Open();
  void Stop() noexcept override;
  std::uint16_t port() const noexcept { return port_; }

  const sdk::ServerOptions& options() const { return options_; }
  const TransportSettings& settings() const { return settings_; }
  sdk::RequestHandler& handler() { return handler_; }
  sdk::Logger& logger() { return logger_; }
  ssl::context& ssl_context() { return ssl_; }
  const std::shared_ptr<Gate>& gate() const { return gate_; }

  // Called on the session's strand when a connection ends.
  void Forget(Session* session) {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(session);
  }

 private:
  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);

  const sdk::ServerOptions options_;
  const TransportSettings settings_;
  sdk::RequestHandler& handler_;
  sdk::Logger& logger_;
  ServerVerifier verifier_;
  ssl::context ssl_;
  net::io_context io_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  std::shared_ptr<Gate> gate_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;

  std::mutex sessions_mutex_;
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions_;

  std::mutex stop_mutex_;
  bool stopped_ = false;
};

// ---- ServerCore ----------------------------------------------------------------

Status ServerCore::Open() {
  const sdk::ServerOptions& o = options_;
  if (o.max_body_bytes == 0 || o.max_header_bytes < 256 || o.max_connections == 0 ||
      o.header_timeout.count() <= 0 || o.idle_timeout.count() <= 0) {
    return Status::InvalidArgument(
        "server limits must be positive (max_body_bytes, max_connections, header_timeout, "
        "idle_timeout) and max_header_bytes at least 256");
  }
  if (o.max_header_bytes > UINT32_MAX) {
    return Status::InvalidArgument("max_header_bytes is too large");
  }
  SCALEOUT_RETURN_IF_ERROR(ApplyTlsPolicy(ssl_.native_handle()));
  SCALEOUT_RETURN_IF_ERROR(LoadCredential(ssl_.native_handle(), o.cert_file, o.key_file)
                               .WithContext("server certificate"));
  verifier_.Install(ssl_.native_handle(), o.require_client_credential);

  beast::error_code ec;
  net::ip::address address = net::ip::make_address(o.bind_address, ec);
  if (ec) {
    return Status::InvalidArgument("bind address '" + o.bind_address +
                                   "' is not an IP address: " + ec.message());
  }
  tcp::endpoint endpoint(address, o.port);
  const std::string where = EndpointText(endpoint);
  if (acceptor_.open(endpoint.protocol(), ec) ||
      acceptor_.set_option(net::socket_base::reuse_address(true), ec) ||
      acceptor_.bind(endpoint, ec) ||
      acceptor_.listen(net::socket_base::max_listen_connections, ec)) {
    return Status::Unavailable("cannot listen on " + where + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint(ec).port();
  if (ec) return Status::Unavailable("cannot read the bound port: " + ec.message());

  Accept();
  try {
    for (int i = 0; i < settings_.threads; ++i) {
      threads_.emplace_back([this] {
        // Named for `top -H` and profilers; a failure changes nothing.
        (void)::pthread_setname_np(::pthread_self(), "https-io");
        for (;;) {
          try {
            io_.run();
            return;
          } catch (const std::exception& e) {
            // A handler threw (should not happen); keep the thread serving.
            logger_.Error(std::string("https server I/O thread caught: ") + e.what());
          }
        }
      });
    }
  } catch (const std::exception& e) {
    Stop();
    return Status::Internal(std::string("cannot start I/O threads: ") + e.what());
  }
  logger_.Info("https server listening on " + EndpointText(tcp::endpoint(address, port_)) +
               (o.require_client_credential ? " (client certificate required)"
                                            : " (client certificate optional)"));
  return Status::Ok();
}

void ServerCore::Accept() {
  acceptor_.async_accept(net::make_strand(io_),
                         beast::bind_front_handler(&ServerCore::OnAccept, this));
}

void ServerCore::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // EMFILE and friends: back off briefly instead of spinning.
    logger_.Warn("https accept failed: " + ec.message());
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec) Accept();
    });
    return;
  }
  beast::error_code endpoint_ec;
  std::string remote = EndpointText(socket.remote_endpoint(endpoint_ec));
  // No Nagle: a reply larger than one TLS record leaves in several writes,
  // and the second would wait 40 ms for the client's delayed ACK.
  socket.set_option(tcp::no_delay(true), endpoint_ec);
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(sessions_mutex_);
    if (sessions_.size() >= options_.max_connections) {
      if (logger_.Enabled(sdk::LogLevel::kDebug)) {
        logger_.Debug("closing connection from " + remote + ": max_connections (" +
                      std::to_string(options_.max_connections) + ") reached");
      }
      socket.close(endpoint_ec);
      Accept();
      return;
    }
    session = std::make_shared<Session>(*this, std::move(socket), std::move(remote));
    sessions_.emplace(session.get(), session);
  }
  session->Start();
  Accept();
}

void ServerCore::Stop() noexcept {
  std::lock_guard stop_lock(stop_mutex_);
  if (stopped_) return;
  stopped_ = true;
  {
    // From here on no Responder posts anything.
    std::lock_guard lock(gate_->mutex);
    gate_->open = false;
  }
  io_.stop();
  const std::thread::id self = std::this_thread::get_id();
  for (std::thread& thread : threads_) {
    if (thread.get_id() == self) {
      thread.detach();  // Stop() from a handler: cannot join ourselves
    } else if (thread.joinable()) {
      thread.join();
    }
  }
  threads_.clear();
  // No handler runs now: close the listener and every connection here.
  beast::error_code ignored;
  acceptor_.close(ignored);
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(sessions_mutex_);
    sessions.swap(sessions_);
  }
  // Sessions with an operation queued stay alive in io_ until it is
  // destroyed; close their sockets now so peers see the end immediately.
  for (auto& [raw, session] : sessions) session->CloseNow();
  sessions.clear();
  logger_.Info("https server on port " + std::to_string(port_) + " stopped");
}

// ---- Session ---------------------------------------------------------------------

Session::Session(ServerCore& core, tcp::socket socket, std::string remote)
    : core_(core), stream_(std::move(socket), core.ssl_context()), remote_(std::move(remote)) {
  SetRemoteAddress(stream_.native_handle(), &remote_);
}

void Session::Start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    beast::get_lowest_layer(self->stream_).expires_after(self->core_.settings().handshake_timeout);
    self->stream_.async_handshake(ssl::stream_base::server,
                                  beast::bind_front_handler(&Session::OnHandshake, self));
  });
}

void Session::OnHandshake(beast::error_code ec) {
  if (ec) {
    // A refused certificate was already logged (with its thumbprint) by the
    // verifier; say what else went wrong at info level, without the noise
    // of every port scanner at warn.
    if (core_.logger().Enabled(sdk::LogLevel::kInfo)) {
      std::string why = ec == beast::error::timeout ? "handshake timed out" : ec.message();
      core_.logger().Info("TLS handshake with " + remote_ + " failed: " + why);
    }
    Finish();
    return;
  }
  if (X509* certificate = SSL_get0_peer_certificate(stream_.native_handle())) {
    peer_ = IdentityOf(certificate);
  }
  ReadHeader();  // the first request must start at once: header_timeout
}

void Session::ReadNextRequest() {
  if (buffer_.size() > 0) {
    ReadHeader();  // a pipelined request is already here
    return;
  }
  // Idle between requests: wait (up to idle_timeout) for the first byte, so
  // header_timeout measures only how long the header itself takes.
  beast::get_lowest_layer(stream_).expires_after(core_.options().idle_timeout);
  stream_.async_read_some(buffer_.prepare(4096),
                          beast::bind_front_handler(&Session::OnIdleData, shared_from_this()));
}

void Session::OnIdleData(beast::error_code ec, std::size_t bytes) {
  if (ec) {
    OnReadError(ec, "idle");
    return;
  }
  buffer_.commit(bytes);
  ReadHeader();
}

void Session::ReadHeader() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(core_.options().max_header_bytes));
  parser_->body_limit(static_cast<std::uint64_t>(core_.options().max_body_bytes));
  beast::get_lowest_layer(stream_).expires_after(core_.options().header_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
}

void Session::OnHeader(beast::error_code ec, std::size_t) {
  if (ec) {
    OnReadError(ec, "header");
    return;
  }
  const auto& header = parser_->get();
  // A client that asks before sending a large body gets its answer now.
  if (!parser_->is_done() && beast::iequals(header[http::field::expect], "100-continue")) {
    continue_.emplace(http::status::continue_, header.version());
    beast::get_lowest_layer(stream_).expires_after(core_.options().idle_timeout);
    http::async_write(stream_, *continue_,
                      beast::bind_front_handler(&Session::OnContinueSent, shared_from_this()));
    return;
  }
  ReadBody();
}

void Session::OnContinueSent(beast::error_code ec, std::size_t) {
  continue_.reset();
  if (ec) {
    Finish();
    return;
  }
  ReadBody();
}

void Session::ReadBody() {
  if (parser_->is_done()) {
    Dispatch();
    return;
  }
  // The body must arrive within idle_timeout (a slow-body client holds a
  // connection no longer than an idle one).
  beast::get_lowest_layer(stream_).expires_after(core_.options().idle_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&Session::OnBody, shared_from_this()));
}

void Session::OnBody(beast::error_code ec, std::size_t) {
  if (ec) {
    OnReadError(ec, "body");
    return;
  }
  Dispatch();
}

void Session::OnReadError(beast::error_code ec, std::string_view stage) {
  if (ec == http::error::header_limit) {
    SendError(http::status::request_header_fields_too_large,
              "the request header is larger than " +
                  std::to_string(core_.options().max_header_bytes) + " bytes\n");
    return;
  }
  if (ec == http::error::body_limit) {
    SendError(http::status::payload_too_large, "the request body is larger than " +
                                                   std::to_string(core_.options().max_body_bytes) +
                                                   " bytes\n");
    return;
  }
  const bool http_error =
      ec.category() == http::make_error_code(http::error::bad_method).category();
  if (http_error && ec != http::error::end_of_stream && ec != http::error::partial_message) {
    SendError(http::status::bad_request, "malformed HTTP request: " + ec.message() + "\n");
    return;
  }
  if (ec == beast::error::timeout && core_.logger().Enabled(sdk::LogLevel::kDebug)) {
    core_.logger().Debug("closing connection from " + remote_ + ": no complete request " +
                         std::string(stage) + " in time");
  }
  Finish();  // end of stream, timeout, reset: nothing to answer
}

void Session::Dispatch() {
  auto& message = parser_->get();
  request_keep_alive_ = message.keep_alive();
  request_version_ = message.version();
  awaiting_answer_ = true;
  // Nothing is read while core works on the request: the deadline is its
  // business (a long-poll may take minutes).
  beast::get_lowest_layer(stream_).expires_never();

  sdk::Request request;
  request.method = View(message.method_string());
  request.target = View(message.target());
  request.content_type = View(message[http::field::content_type]);
  request.authorization = View(message[http::field::authorization]);
  request.body = message.body();
  request.peer = &peer_;
  request.remote_address = remote_;
  auto responder = std::make_unique<SessionResponder>(weak_from_this(), core_.gate());
  core_.handler().OnRequest(request, std::move(responder));
  // The parser (and the request views) may go now; an answer given inside
  // OnRequest is queued behind this handler on the strand.
  parser_.reset();
}

void Session::Deliver(sdk::Response answer) {
  if (finished_ || !awaiting_answer_) return;
  awaiting_answer_ = false;
  int code = answer.status;
  if (code < 100 || code > 599) code = 500;
  HttpResponse response{static_cast<http::status>(code), request_version_};
  SetStandardHeaders(response);
  if (!answer.content_type.empty()) response.set(http::field::content_type, answer.content_type);
  response.body() = std::move(answer.body);
  response.keep_alive(request_keep_alive_);
  response.prepare_payload();
  Write(std::move(response));
}

void Session::SendError(http::status status, std::string_view message) {
  if (core_.logger().Enabled(sdk::LogLevel::kInfo)) {
    core_.logger().Info("answering " + std::to_string(static_cast<int>(status)) + " to " + remote_ +
                        ": " + std::string(message.substr(0, message.size() - 1)));
  }
  parser_.reset();
  HttpResponse response{status, 11};
  SetStandardHeaders(response);
  response.set(http::field::content_type, "text/plain");
  response.body() = std::string(message);
  response.keep_alive(false);  // the rest of the stream cannot be trusted
  response.prepare_payload();
  Write(std::move(response));
}

void Session::Write(HttpResponse response) {
  response_.emplace(std::move(response));
  beast::get_lowest_layer(stream_).expires_after(core_.options().idle_timeout);
  http::async_write(stream_, *response_,
                    beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
}

void Session::OnWrite(beast::error_code ec, std::size_t) {
  const bool keep_alive = response_ && response_->keep_alive();
  response_.reset();
  if (ec) {
    Finish();
    return;
  }
  if (!keep_alive) {
    Shutdown();
    return;
  }
  ReadNextRequest();
}

void Session::Shutdown() {
  beast::get_lowest_layer(stream_).expires_after(kShutdownTimeout);
  stream_.async_shutdown([self = shared_from_this()](beast::error_code) { self->Finish(); });
}

void Session::CloseNow() {
  finished_ = true;
  beast::error_code ignored;
  beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(stream_).socket().close(ignored);
}

void Session::Finish() {
  if (finished_) return;
  finished_ = true;
  beast::error_code ignored;
  beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(stream_).close();
  core_.Forget(this);  // may drop the registry's reference; a handler still holds one
}

// ---- the handle --------------------------------------------------------------------

class HttpsServer final : public sdk::Server {
 public:
  explicit HttpsServer(std::shared_ptr<ServerCore> core) : core_(std::move(core)) {}
  ~HttpsServer() override { core_->Stop(); }
  std::uint16_t port() const noexcept override { return core_->port(); }
  void Stop() noexcept override { core_->Stop(); }

 private:
  std::shared_ptr<ServerCore> core_;
};

}  // namespace

Result<std::unique_ptr<sdk::Server>> StartHttpsServer(const sdk::ServerOptions& options,
                                                      sdk::RequestHandler& handler,
                                                      const sdk::PeerAuthenticator& authenticator,
                                                      sdk::Logger& logger,
                                                      const TransportSettings& settings,
                                                      std::shared_ptr<ServerControl>* control) {
  try {
    auto core = std::make_shared<ServerCore>(options, handler, authenticator, logger, settings);
    Status opened = core->Open();
    if (!opened.ok()) {
      core->Stop();
      return opened;
    }
    if (control != nullptr) *control = core;
    return std::unique_ptr<sdk::Server>(std::make_unique<HttpsServer>(std::move(core)));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("starting the https server failed: ") + e.what());
  }
}

}  // namespace scaleout::plugins::https
