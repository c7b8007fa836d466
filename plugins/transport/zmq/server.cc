// transport/zmq server: ROUTER socket, one I/O thread, one ZAP thread.
//
// Threads and ownership:
//   - The I/O thread owns the ROUTER socket: it reads requests, calls the
//     RequestHandler, and writes every answer. Responders on other threads
//     never touch the socket: they queue their answer in the Outbox and wake
//     the I/O thread through an eventfd that it polls with the socket.
//   - The ZAP thread owns the ZAP socket (inproc://zeromq.zap.01 in this
//     server's own context) and the ROUTER's monitor socket. It is bound
//     before the ROUTER binds and closed only after the ROUTER is closed, so
//     no handshake can ever complete without it.
//   - Stop(): close the Outbox, let the I/O thread answer 503 to every
//     request still pending (a long-poll must not wait for a timeout), close
//     the ROUTER (short linger to flush those answers), then shut the context
//     down, which ends the ZAP thread, and join both threads.
#include "server.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include "curve.h"
#include "framing.h"

namespace scaleout::plugins::zmq {
namespace {

using sdk::Result;
using sdk::Status;

#ifdef ZMQ_ZAP_ENFORCE_DOMAIN
constexpr int kZapEnforceDomain = ZMQ_ZAP_ENFORCE_DOMAIN;
#else
constexpr int kZapEnforceDomain = 93;  // a draft option in libzmq 4.3
#endif

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr const char* kMonitorEndpoint = "inproc://scaleout-zmq-server-monitor";
constexpr std::size_t kMaxFramesKept = 16;  // a request has 7; more are counted, not kept
constexpr int kStopLingerMs = 1'000;        // flushes the 503s sent while stopping
constexpr int kMaxReadsPerWakeup = 256;     // fairness between reading and answering

// An answer on its way from a Responder to the I/O thread.
struct Outgoing {
  std::uint64_t sequence = 0;  // the server's own number of the request
  sdk::Response response;
};

// Shared by the server and its Responders.
class Outbox {
 public:
  Outbox() : event_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~Outbox() {
    if (event_fd_ >= 0) ::close(event_fd_);
  }
  int fd() const { return event_fd_; }

  void Push(Outgoing outgoing) {
    {
      std::lock_guard lock(mutex_);
      if (!open_) return;
      queue_.push_back(std::move(outgoing));
    }
    Wake();
  }
  void Close() {
    {
      std::lock_guard lock(mutex_);
      open_ = false;
    }
    Wake();
  }
  // I/O thread: takes everything queued; false once closed.
  bool Take(std::deque<Outgoing>* out) {
    std::uint64_t ignored = 0;
    while (::read(event_fd_, &ignored, sizeof(ignored)) > 0) {
    }
    std::lock_guard lock(mutex_);
    out->swap(queue_);
    return open_;
  }

 private:
  void Wake() {
    const std::uint64_t one = 1;
    ssize_t written = ::write(event_fd_, &one, sizeof(one));
    (void)written;  // EAGAIN only when the counter is saturated: already awake
  }

  const int event_fd_;
  std::mutex mutex_;
  bool open_ = true;
  std::deque<Outgoing> queue_;
};

class ZmqResponder final : public sdk::Responder {
 public:
  ZmqResponder(std::shared_ptr<Outbox> outbox, std::uint64_t sequence)
      : outbox_(std::move(outbox)), sequence_(sequence) {}
  ~ZmqResponder() override {
    if (!sent_) {
      sdk::Response response;
      response.status = 503;
      response.content_type = "text/plain";
      response.body = "the server dropped this request without an answer\n";
      Send(std::move(response));
    }
  }
  void Send(sdk::Response response) noexcept override {
    if (sent_) return;
    sent_ = true;
    try {
      outbox_->Push(Outgoing{sequence_, std::move(response)});
    } catch (const std::exception&) {
      // Out of memory: the request stays pending until Stop() answers it.
    }
  }

 private:
  std::shared_ptr<Outbox> outbox_;
  std::uint64_t sequence_;
  bool sent_ = false;
};

// Where an answer must go.
struct Pending {
  std::string routing_id;
  std::uint64_t request_id = 0;
};

std::string Z85(const void* key32) {
  char out[41] = {};
  if (zmq_z85_encode(out, static_cast<const std::uint8_t*>(key32), 32) == nullptr) return {};
  return std::string(out, 40);
}

class ServerCore final : public ServerControl {
 public:
  ServerCore(const sdk::ServerOptions& options, sdk::RequestHandler& handler,
             const sdk::PeerAuthenticator& authenticator, sdk::Logger& logger,
             const TransportSettings& settings)
      : options_(options),
        settings_(settings),
        handler_(handler),
        authenticator_(authenticator),
        logger_(logger),
        context_(settings.io_threads),
        outbox_(std::make_shared<Outbox>()) {}
  ~ServerCore() override { Stop(); }

  Status Open();
  void Stop() noexcept override;
  std::uint16_t port() const noexcept { return port_; }

 private:
  Status Configure();
  Status Bind();
  void RunIo();
  void ReadRequests();
  void HandleMessage(std::vector<::zmq::message_t>& parts, std::size_t total_parts);
  void SendResponse(const std::string& routing_id, std::uint64_t request_id,
                    const sdk::Response& response);
  void SendError(const std::string& routing_id, const FrameError& error);
  void Deliver(std::deque<Outgoing>& answers);
  void AnswerPendingOnStop();

  void RunZap();
  void DrainMonitor();
  void AnswerZap();
  // The ZAP decision for one client: {status code, text, user id}.
  struct ZapVerdict {
    std::string code;
    std::string text;
    std::string user_id;
  };
  ZapVerdict Decide(std::string_view domain, std::string_view address, std::string_view mechanism,
                    const std::vector<::zmq::message_t>& frames);

  const sdk::ServerOptions options_;
  const TransportSettings settings_;
  sdk::RequestHandler& handler_;
  const sdk::PeerAuthenticator& authenticator_;
  sdk::Logger& logger_;
  ::zmq::context_t context_;
  std::shared_ptr<Outbox> outbox_;
  std::optional<::zmq::socket_t> router_;   // I/O thread once started
  std::optional<::zmq::socket_t> zap_;      // ZAP thread once started
  std::optional<::zmq::socket_t> monitor_;  // ZAP thread once started
  CurveKeyPair keys_;
  std::uint16_t port_ = 0;
  std::string where_;

  // I/O thread only.
  std::uint64_t next_sequence_ = 1;
  std::unordered_map<std::uint64_t, Pending> pending_;

  // ZAP thread only: descriptors of accepted, not yet disconnected peers.
  std::unordered_set<int> connections_;

  std::thread io_thread_;
  std::thread zap_thread_;
  std::mutex stop_mutex_;
  bool stopped_ = false;
};

// ---- opening ------------------------------------------------------------------------

Status ServerCore::Open() {
  const sdk::ServerOptions& o = options_;
  if (o.max_body_bytes == 0 || o.max_header_bytes < 256 || o.max_connections == 0) {
    return Status::InvalidArgument(
        "server limits must be positive (max_body_bytes, max_connections) and max_header_bytes "
        "at least 256");
  }
  if (settings_.insecure_plain) {
    if (!o.cert_file.empty() || !o.key_file.empty()) {
      return Status::InvalidArgument(
          "[transport.zmq] insecure_plain is set, but CURVE key files are configured too; remove "
          "one of them");
    }
    logger_.Warn(
        "transport/zmq server runs WITHOUT CURVE (insecure_plain): no encryption, every client "
        "is anonymous; for development only");
  } else {
    if (o.key_file.empty()) {
      return Status::InvalidArgument(
          "transport/zmq requires CURVE: give the server's secret key file (key_file; create it "
          "with 'scaleout cert curve create'). Plain ZeroMQ without encryption is refused unless "
          "[transport.zmq] insecure_plain = true (development only)");
    }
    SCALEOUT_ASSIGN_OR_RETURN(keys_, LoadKeyPair(o.cert_file, o.key_file, "server"));
  }
  try {
    SCALEOUT_RETURN_IF_ERROR(Configure());
    SCALEOUT_RETURN_IF_ERROR(Bind());
    // Named for `top -H` and profilers; a failure changes nothing.
    zap_thread_ = std::thread([this] {
      (void)::pthread_setname_np(::pthread_self(), "zmq-auth");
      RunZap();
    });
    io_thread_ = std::thread([this] {
      (void)::pthread_setname_np(::pthread_self(), "zmq-io");
      RunIo();
    });
  } catch (const ::zmq::error_t& e) {
    return Status::Internal(std::string("transport/zmq server setup failed: ") + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("transport/zmq server setup failed: ") + e.what());
  }
  logger_.Info("zmq server listening on " + where_ +
               (settings_.insecure_plain ? " (PLAIN, insecure)"
                                         : " (CURVE, server key " + keys_.public_key + ")"));
  return Status::Ok();
}

// The ZAP handler exists before the ROUTER: libzmq 4.3 admits every CURVE
// client when no handler is bound and ZAP_ENFORCE_DOMAIN is unavailable.
Status ServerCore::Configure() {
  if (outbox_->fd() < 0) return Status::Internal("eventfd failed: " + std::string(strerror(errno)));
  zap_.emplace(context_, ::zmq::socket_type::rep);
  zap_->set(::zmq::sockopt::linger, 0);
  zap_->bind(kZapEndpoint);

  router_.emplace(context_, ::zmq::socket_type::router);
  ::zmq::socket_t& r = *router_;
  r.set(::zmq::sockopt::linger, 0);
  r.set(::zmq::sockopt::maxmsgsize,
        static_cast<std::int64_t>(std::max(options_.max_body_bytes, options_.max_header_bytes)));
  r.set(::zmq::sockopt::handshake_ivl, static_cast<int>(settings_.handshake_timeout.count()));
  r.set(::zmq::sockopt::zap_domain, settings_.zap_domain);
  r.set(::zmq::sockopt::router_handover, 0);
  if (!settings_.insecure_plain) {
    r.set(::zmq::sockopt::curve_server, 1);
    r.set(::zmq::sockopt::curve_secretkey, keys_.secret_key);
  }
  const int enforce = 1;
  if (zmq_setsockopt(r.handle(), kZapEnforceDomain, &enforce, sizeof(enforce)) != 0) {
    // Libraries built without draft options; safe here because the handler
    // above is bound for as long as the ROUTER exists and checks the domain.
    logger_.Debug(
        "libzmq has no ZMQ_ZAP_ENFORCE_DOMAIN (draft option); the ZAP handler is bound for the "
        "server's whole life and checks the domain itself");
  }
  if (zmq_socket_monitor(r.handle(), kMonitorEndpoint,
                         ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
                             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0) {
    return Status::Internal(std::string("cannot monitor the server socket: ") +
                            zmq_strerror(zmq_errno()));
  }
  monitor_.emplace(context_, ::zmq::socket_type::pair);
  monitor_->set(::zmq::sockopt::linger, 0);
  monitor_->connect(kMonitorEndpoint);
  return Status::Ok();
}

Status ServerCore::Bind() {
  std::string host = options_.bind_address;
  if (host.find(':') != std::string::npos) {
    router_->set(::zmq::sockopt::ipv6, 1);
    host = "[" + host + "]";
  }
  const std::string endpoint =
      "tcp://" + host + ":" +
      (options_.port == 0 ? std::string("*") : std::to_string(options_.port));
  try {
    router_->bind(endpoint);
  } catch (const ::zmq::error_t& e) {
    return Status::Unavailable("cannot listen on " + endpoint + ": " + e.what());
  }
  where_ = router_->get(::zmq::sockopt::last_endpoint);
  const auto colon = where_.rfind(':');
  port_ = colon == std::string::npos
              ? 0
              : static_cast<std::uint16_t>(std::stoul(where_.substr(colon + 1)));
  if (port_ == 0) return Status::Unavailable("cannot read the bound port of " + where_);
  return Status::Ok();
}

// ---- the I/O thread ------------------------------------------------------------------

void ServerCore::RunIo() {
  std::deque<Outgoing> answers;
  for (;;) {
    zmq_pollitem_t items[2] = {{router_->handle(), 0, ZMQ_POLLIN, 0},
                               {nullptr, outbox_->fd(), ZMQ_POLLIN, 0}};
    try {
      ::zmq::poll(items, 2, std::chrono::milliseconds(-1));
    } catch (const ::zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      logger_.Error(std::string("zmq server poll failed: ") + e.what());
      break;
    }
    try {
      if (items[1].revents != 0) {
        const bool open = outbox_->Take(&answers);
        Deliver(answers);
        if (!open) break;
      }
      if (items[0].revents != 0) ReadRequests();
    } catch (const std::exception& e) {
      logger_.Error(std::string("zmq server I/O thread caught: ") + e.what());
    }
  }
  try {
    outbox_->Take(&answers);  // answers that raced with Stop() go out too
    Deliver(answers);
    AnswerPendingOnStop();
    zmq_socket_monitor(router_->handle(), nullptr, 0);
    router_->set(::zmq::sockopt::linger, kStopLingerMs);
  } catch (const std::exception& e) {
    logger_.Error(std::string("zmq server stopping: ") + e.what());
  }
  router_.reset();  // closes; the context flushes within the linger
}

void ServerCore::ReadRequests() {
  for (int n = 0; n < kMaxReadsPerWakeup; ++n) {
    std::vector<::zmq::message_t> parts;
    std::size_t total = 0;
    for (;;) {
      ::zmq::message_t part;
      auto received =
          router_->recv(part, total == 0 ? ::zmq::recv_flags::dontwait : ::zmq::recv_flags::none);
      if (!received) return;  // nothing more for now
      ++total;
      const bool more = part.more();
      if (parts.size() < kMaxFramesKept) parts.push_back(std::move(part));
      if (!more) break;
    }
    HandleMessage(parts, total);
  }
}

void ServerCore::HandleMessage(std::vector<::zmq::message_t>& parts, std::size_t total_parts) {
  if (parts.size() < 2) return;  // a routing id alone carries nothing to answer
  const std::string routing_id(View(parts[0]));
  std::vector<std::string_view> frames;
  for (std::size_t i = 1; i < parts.size(); ++i) frames.push_back(View(parts[i]));
  if (total_parts > parts.size()) frames.resize(kMaxFramesKept + 1);  // too many frames anyway
  FrameError error;
  std::optional<ParsedRequest> parsed = ParseRequest(frames, options_.max_header_bytes, &error);
  if (total_parts > parts.size()) {
    parsed.reset();
    error.status = 400;
    error.message = "malformed request: " + std::to_string(total_parts - 1) + " frames";
  }
  if (!parsed) {
    SendError(routing_id, error);
    return;
  }
  if (parsed->body.size() > options_.max_body_bytes) {
    error.id = parsed->id;
    error.status = 413;
    error.message =
        "the request body is larger than " + std::to_string(options_.max_body_bytes) + " bytes";
    SendError(routing_id, error);
    return;
  }
  // libzmq attaches the ZAP user id and the peer's address to every frame
  // that came over the wire (not to the routing id the ROUTER prepends).
  sdk::PeerIdentity peer;
  ::zmq::message_t& wire = parts[1];
  const char* user = zmq_msg_gets(wire.handle(), "User-Id");
  if (user != nullptr && *user != '\0' && user != AnonymousKeyPair().public_key) {
    peer.scheme = "curve";
    peer.id = user;
  }
  const char* address = zmq_msg_gets(wire.handle(), "Peer-Address");
  const std::string remote = address != nullptr ? address : "";

  const std::uint64_t sequence = next_sequence_++;
  pending_.emplace(sequence, Pending{routing_id, parsed->id});
  sdk::Request request;
  request.method = parsed->method;
  request.target = parsed->target;
  request.content_type = parsed->content_type;
  request.authorization = parsed->authorization;
  request.body = sdk::ByteView(parsed->body.data(), parsed->body.size());
  request.peer = &peer;
  request.remote_address = remote;
  handler_.OnRequest(request, std::make_unique<ZmqResponder>(outbox_, sequence));
}

void ServerCore::Deliver(std::deque<Outgoing>& answers) {
  while (!answers.empty()) {
    Outgoing outgoing = std::move(answers.front());
    answers.pop_front();
    auto it = pending_.find(outgoing.sequence);
    if (it == pending_.end()) continue;  // answered already (on stop)
    SendResponse(it->second.routing_id, it->second.request_id, outgoing.response);
    pending_.erase(it);
  }
}

void ServerCore::SendResponse(const std::string& routing_id, std::uint64_t request_id,
                              const sdk::Response& response) {
  // A peer that went away is skipped by the ROUTER; dontwait keeps a slow
  // peer with a full queue from blocking everyone else (its answer is lost,
  // as it would be on a broken connection).
  const std::string id = EncodeId(request_id);
  const std::string status = EncodeStatus(response.status);
  try {
    router_->send(::zmq::buffer(routing_id),
                  ::zmq::send_flags::sndmore | ::zmq::send_flags::dontwait);
    router_->send(::zmq::buffer(kProtocolTag), ::zmq::send_flags::sndmore);
    router_->send(::zmq::buffer(id), ::zmq::send_flags::sndmore);
    router_->send(::zmq::buffer(status), ::zmq::send_flags::sndmore);
    router_->send(::zmq::buffer(response.content_type), ::zmq::send_flags::sndmore);
    router_->send(::zmq::const_buffer(response.body.data(), response.body.size()),
                  ::zmq::send_flags::none);
  } catch (const ::zmq::error_t& e) {
    logger_.Warn(std::string("zmq server could not send an answer: ") + e.what());
  }
}

void ServerCore::SendError(const std::string& routing_id, const FrameError& error) {
  if (logger_.Enabled(sdk::LogLevel::kInfo)) {
    logger_.Info("answering " + std::to_string(error.status) + " on " + where_ + ": " +
                 error.message);
  }
  sdk::Response response;
  response.status = error.status;
  response.content_type = "text/plain";
  response.body = error.message + "\n";
  SendResponse(routing_id, error.id, response);
}

void ServerCore::AnswerPendingOnStop() {
  if (!pending_.empty()) {
    logger_.Info("zmq server on " + where_ + " stopping: answering 503 to " +
                 std::to_string(pending_.size()) + " pending request(s)");
  }
  sdk::Response response;
  response.status = 503;
  response.content_type = "text/plain";
  response.body = "the server is stopping\n";
  for (const auto& [sequence, pending] : pending_) {
    SendResponse(pending.routing_id, pending.request_id, response);
  }
  pending_.clear();
}

// ---- the ZAP thread --------------------------------------------------------------------

void ServerCore::RunZap() {
  for (;;) {
    zmq_pollitem_t items[2] = {{zap_->handle(), 0, ZMQ_POLLIN, 0},
                               {monitor_->handle(), 0, ZMQ_POLLIN, 0}};
    try {
      ::zmq::poll(items, 2, std::chrono::milliseconds(-1));
      // Connection counts first: a ZAP request must see its own ACCEPTED.
      DrainMonitor();
      if (items[0].revents != 0) AnswerZap();
    } catch (const ::zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      if (e.num() != ETERM) logger_.Error(std::string("zmq ZAP handler stopped: ") + e.what());
      break;
    } catch (const std::exception& e) {
      logger_.Error(std::string("zmq ZAP handler caught: ") + e.what());
    }
  }
  zap_.reset();
  monitor_.reset();
}

void ServerCore::DrainMonitor() {
  for (;;) {
    ::zmq::message_t event;
    if (!monitor_->recv(event, ::zmq::recv_flags::dontwait)) return;
    ::zmq::message_t endpoint;
    if (event.more()) (void)monitor_->recv(endpoint, ::zmq::recv_flags::none);
    if (event.size() < 6) continue;
    std::uint16_t kind = 0;
    std::uint32_t value = 0;
    std::memcpy(&kind, event.data(), sizeof(kind));
    std::memcpy(&value, static_cast<const char*>(event.data()) + 2, sizeof(value));
    switch (kind) {
      case ZMQ_EVENT_ACCEPTED: connections_.insert(static_cast<int>(value)); break;
      case ZMQ_EVENT_DISCONNECTED: connections_.erase(static_cast<int>(value)); break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        if (logger_.Enabled(sdk::LogLevel::kInfo)) {
          logger_.Info("zmq handshake on " + where_ + " failed (protocol error " +
                       std::to_string(value) +
                       "): a client without CURVE, with a wrong server key, or a timeout");
        }
        break;
      default: break;
    }
  }
}

void ServerCore::AnswerZap() {
  std::vector<::zmq::message_t> frames;
  for (;;) {
    ::zmq::message_t frame;
    if (!zap_->recv(frame, ::zmq::recv_flags::dontwait)) break;
    const bool more = frame.more();
    if (frames.size() < 16) frames.push_back(std::move(frame));
    if (!more) break;
  }
  if (frames.empty()) return;
  ZapVerdict verdict;
  std::string version = frames.size() > 0 ? std::string(View(frames[0])) : "";
  std::string request_id = frames.size() > 1 ? std::string(View(frames[1])) : "";
  if (frames.size() < 6 || version != "1.0") {
    verdict = {"500", "malformed ZAP request", ""};
  } else {
    verdict = Decide(View(frames[2]), View(frames[3]), View(frames[5]), frames);
  }
  zap_->send(::zmq::buffer(version), ::zmq::send_flags::sndmore);
  zap_->send(::zmq::buffer(request_id), ::zmq::send_flags::sndmore);
  zap_->send(::zmq::buffer(verdict.code), ::zmq::send_flags::sndmore);
  zap_->send(::zmq::buffer(verdict.text), ::zmq::send_flags::sndmore);
  zap_->send(::zmq::buffer(verdict.user_id), ::zmq::send_flags::sndmore);
  zap_->send(::zmq::message_t(), ::zmq::send_flags::none);
}

ServerCore::ZapVerdict ServerCore::Decide(std::string_view domain, std::string_view address,
                                          std::string_view mechanism,
                                          const std::vector<::zmq::message_t>& frames) {
  const std::string from(address);
  if (domain != settings_.zap_domain) {
    logger_.Warn("zmq: refused a handshake from " + from + " for ZAP domain '" +
                 std::string(domain) + "'");
    return {"400", "wrong ZAP domain", ""};
  }
  if (connections_.size() > options_.max_connections) {
    logger_.Info("zmq: refused a handshake from " + from + ": max_connections (" +
                 std::to_string(options_.max_connections) + ") reached");
    // 400, not 300: libzmq 4.3 sends no ERROR to the client for a 300, which
    // would leave it waiting for the handshake timeout.
    return {"400", "too many connections", ""};
  }
  sdk::PeerIdentity peer;
  if (mechanism == "CURVE" && !settings_.insecure_plain) {
    if (frames.size() < 7 || frames[6].size() != 32) return {"500", "malformed CURVE key", ""};
    const std::string key = Z85(frames[6].data());
    if (key != AnonymousKeyPair().public_key) {
      peer.scheme = "curve";
      peer.id = key;
    }
  } else if (mechanism != "NULL" || !settings_.insecure_plain) {
    logger_.Warn("zmq: refused a handshake from " + from + " with mechanism " +
                 std::string(mechanism));
    return {"400", "unsupported mechanism", ""};
  }
  if (peer.anonymous() && options_.require_client_credential) {
    logger_.Warn("zmq: refused a client without a CURVE key from " + from +
                 ": this server requires a client credential");
    return {"400", "a client key is required", ""};
  }
  const Status admitted = authenticator_.Admit(peer);
  if (!admitted.ok()) {
    logger_.Warn("zmq: refused " +
                 (peer.anonymous() ? std::string("anonymous client") : "CURVE key " + peer.id) +
                 " from " + from + ": " + admitted.message());
    return {"400", admitted.message(), ""};
  }
  return {"200", "OK", peer.anonymous() ? std::string() : peer.id};
}

// ---- stopping -----------------------------------------------------------------------------

void ServerCore::Stop() noexcept {
  std::lock_guard lock(stop_mutex_);
  if (stopped_) return;
  stopped_ = true;
  outbox_->Close();
  bool from_io_thread = false;
  if (io_thread_.joinable()) {
    if (io_thread_.get_id() == std::this_thread::get_id()) {
      from_io_thread = true;
      io_thread_.detach();  // Stop() from a handler: the loop ends after it
    } else {
      io_thread_.join();
    }
  } else {
    router_.reset();
  }
  context_.shutdown();  // ends the ZAP thread's poll with ETERM
  if (zap_thread_.joinable()) {
    zap_thread_.join();
  } else {
    zap_.reset();
    monitor_.reset();
  }
  // Every socket is closed now: terminating the context waits for the
  // answers sent while stopping (up to the linger) and closes the listener,
  // so the port is free when Stop() returns.
  if (!from_io_thread) context_.close();
  if (port_ != 0) logger_.Info("zmq server on " + where_ + " stopped");
}

class ZmqServer final : public sdk::Server {
 public:
  explicit ZmqServer(std::shared_ptr<ServerCore> core) : core_(std::move(core)) {}
  ~ZmqServer() override { core_->Stop(); }
  std::uint16_t port() const noexcept override { return core_->port(); }
  void Stop() noexcept override { core_->Stop(); }

 private:
  std::shared_ptr<ServerCore> core_;
};

}  // namespace

Result<std::unique_ptr<sdk::Server>> StartZmqServer(const sdk::ServerOptions& options,
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
    return std::unique_ptr<sdk::Server>(std::make_unique<ZmqServer>(std::move(core)));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("starting the zmq server failed: ") + e.what());
  }
}

}  // namespace scaleout::plugins::zmq
