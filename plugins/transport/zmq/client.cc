// transport/zmq client: one DEALER socket plus its monitor, in the client's
// own context (libzmq starts one I/O thread for it).
//
// The monitor tells what the socket API hides: whether the TCP connection
// came up, whether the CURVE handshake succeeded, and why it failed (ZAP
// refused our key, the server speaks another mechanism, or the server closed
// the handshake because our pinned key is not its key). A call waits for the
// handshake first, so those failures become kUnavailable or kUnauthenticated
// instead of a silent timeout.
//
// Requests carry an id; an answer with another id belongs to an earlier call
// that timed out and is discarded.
#include "client.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "curve.h"
#include "framing.h"

namespace scaleout::plugins::zmq {
namespace {

using sdk::Result;
using sdk::Status;
using Clock = std::chrono::steady_clock;

std::atomic<std::uint64_t> g_monitor_counter{0};

Status CheckEndpoint(const std::string& endpoint) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("endpoint '" + endpoint + "' is invalid: " + std::string(why) +
                                   " (expected tcp://host:port)");
  };
  constexpr std::string_view kScheme = "tcp://";
  if (endpoint.rfind(kScheme, 0) != 0) return bad("the scheme must be tcp");
  const std::string rest = endpoint.substr(kScheme.size());
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) {
    return bad("it needs a host and a port");
  }
  const std::string port = rest.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) == 0 || std::stoul(port) > 65535) {
    return bad("the port must be 1..65535");
  }
  if (rest.find('/') != std::string::npos) return bad("it must not have a path");
  return Status::Ok();
}

// One monitor event.
struct Event {
  std::uint16_t kind = 0;
  std::uint32_t value = 0;
};

class ZmqClient final : public sdk::Client {
 public:
  ZmqClient(const sdk::ClientOptions& options, CurveKeyPair keys, sdk::Logger& logger,
            const TransportSettings& settings)
      : options_(options), keys_(std::move(keys)), logger_(logger), settings_(settings) {}
  ~ZmqClient() override {
    Drop();
    context_.shutdown();
    context_.close();
  }

  Result<sdk::Response> Call(const sdk::ClientRequest& request) override;

 private:
  void Open(const std::string& pin);
  void Drop();
  std::optional<Event> NextEvent(Clock::time_point until);
  Status Handshake(Clock::time_point deadline);
  Status HandshakeWithPin(const std::string& pin, Clock::time_point deadline, bool* next_pin);
  Status Send(const sdk::ClientRequest& request, std::uint64_t id);
  Result<sdk::Response> Await(std::uint64_t id, Clock::time_point deadline);
  // Reads the answer to call `id` if one is queued; skips late answers to
  // earlier calls. nullopt: nothing for this call yet.
  std::optional<Result<sdk::Response>> ReceiveAnswer(std::uint64_t id);
  // Consumes the monitor's events; true if the connection went down.
  bool ConnectionLost();

  const sdk::ClientOptions options_;
  const CurveKeyPair keys_;  // empty in insecure plain mode
  sdk::Logger& logger_;
  const TransportSettings settings_;
  ::zmq::context_t context_{1};
  std::optional<::zmq::socket_t> socket_;
  std::optional<::zmq::socket_t> monitor_;
  bool ready_ = false;         // the handshake succeeded on this socket
  std::size_t pin_index_ = 0;  // the pin that worked last
  std::uint64_t next_id_ = 1;
};

void ZmqClient::Open(const std::string& pin) {
  socket_.emplace(context_, ::zmq::socket_type::dealer);
  ::zmq::socket_t& s = *socket_;
  s.set(::zmq::sockopt::linger, 0);
  // No ZMQ_IMMEDIATE: with it, libzmq terminates the connection's pipe
  // without delay when the peer disconnects, discarding answers already
  // received but not yet read. The 503 a stopping server sends just before
  // it closes was lost whenever the close was processed before our read. A
  // request sent while the connection is down waits in the pipe instead, and
  // Await() reports the lost connection as before.
  s.set(::zmq::sockopt::handshake_ivl, static_cast<int>(settings_.handshake_timeout.count()));
  // Twice the response limit: a larger frame drops the connection; between
  // the two, the call reports kResourceExhausted with the size.
  s.set(::zmq::sockopt::maxmsgsize,
        static_cast<std::int64_t>(options_.max_response_bytes) * 2 + 4096);
  if (!settings_.insecure_plain) {
    s.set(::zmq::sockopt::curve_serverkey, pin);
    s.set(::zmq::sockopt::curve_publickey, keys_.public_key);
    s.set(::zmq::sockopt::curve_secretkey, keys_.secret_key);
  }
  const std::string monitor_endpoint =
      "inproc://scaleout-zmq-client-monitor-" + std::to_string(++g_monitor_counter);
  if (zmq_socket_monitor(s.handle(), monitor_endpoint.c_str(),
                         ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_DISCONNECTED |
                             ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0) {
    throw ::zmq::error_t();
  }
  monitor_.emplace(context_, ::zmq::socket_type::pair);
  monitor_->set(::zmq::sockopt::linger, 0);
  monitor_->connect(monitor_endpoint);
  s.connect(options_.endpoint);
  ready_ = false;
}

void ZmqClient::Drop() {
  if (socket_) zmq_socket_monitor(socket_->handle(), nullptr, 0);
  monitor_.reset();
  socket_.reset();
  ready_ = false;
}

std::optional<Event> ZmqClient::NextEvent(Clock::time_point until) {
  for (;;) {
    ::zmq::message_t frame;
    if (monitor_->recv(frame, ::zmq::recv_flags::dontwait)) {
      ::zmq::message_t endpoint;
      if (frame.more()) (void)monitor_->recv(endpoint, ::zmq::recv_flags::none);
      if (frame.size() < 6) continue;
      Event event;
      std::memcpy(&event.kind, frame.data(), sizeof(event.kind));
      std::memcpy(&event.value, static_cast<const char*>(frame.data()) + 2, sizeof(event.value));
      return event;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) return std::nullopt;
    zmq_pollitem_t item{monitor_->handle(), 0, ZMQ_POLLIN, 0};
    ::zmq::poll(&item, 1, std::chrono::milliseconds(left));
  }
}

Status ZmqClient::HandshakeWithPin(const std::string& pin, Clock::time_point deadline,
                                   bool* next_pin) {
  *next_pin = false;
  const Clock::time_point connect_deadline =
      std::min(deadline, Clock::now() + options_.connect_timeout);
  bool connected = false;
  for (;;) {
    std::optional<Event> event = NextEvent(connect_deadline);
    if (!event) break;
    switch (event->kind) {
      case ZMQ_EVENT_CONNECTED: connected = true; break;
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: ready_ = true; return Status::Ok();
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        if (event->value == 300) {
          return Status::Unavailable("the server at " + options_.endpoint +
                                     " is busy (max_connections reached); try again later");
        }
        if (keys_.public_key == AnonymousKeyPair().public_key) {
          return Status::Unauthenticated("the server at " + options_.endpoint +
                                         " requires a client CURVE key; configure this client's "
                                         "key files (ZAP status " +
                                         std::to_string(event->value) + ")");
        }
        return Status::Unauthenticated(
            "the server at " + options_.endpoint + " refused our CURVE key " + keys_.public_key +
            " (ZAP status " + std::to_string(event->value) +
            "): the key is not trusted, or the server has reached max_connections (its log "
            "says which). The master trusts a worker only after an administrator adds its "
            "public key");
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        if (event->value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
          return Status::Unauthenticated(
              "the server at " + options_.endpoint + " does not use " +
              (settings_.insecure_plain ? std::string("plain ZeroMQ (it requires CURVE)")
                                        : std::string("CURVE (is it in insecure_plain mode?)")));
        }
        *next_pin = true;
        return Status::Unauthenticated("the CURVE handshake with " + options_.endpoint +
                                       " failed (protocol error " + std::to_string(event->value) +
                                       ")");
      case ZMQ_EVENT_DISCONNECTED:
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        if (connected) {
          // A CURVE server closes the connection when it cannot open our
          // HELLO: it holds another key than the one we pinned.
          *next_pin = true;
          return Status::Unauthenticated(
              "the server at " + options_.endpoint +
              " closed the CURVE handshake: its public key is not the pinned key " + pin +
              " (CURVE never reveals the server's key to a client that does not know it; "
              "print the master's key with 'scaleout cert curve public FILE')");
        }
        break;
      default: break;  // CONNECT_RETRIED: the server is not listening (yet)
    }
  }
  if (Clock::now() >= deadline) {
    return Status::DeadlineExceeded("connecting to " + options_.endpoint +
                                    " did not finish in time");
  }
  if (connected) {
    return Status::Unavailable("the handshake with " + options_.endpoint +
                               " did not finish within " +
                               std::to_string(options_.connect_timeout.count()) + " ms");
  }
  return Status::Unavailable("cannot connect to " + options_.endpoint + " within " +
                             std::to_string(options_.connect_timeout.count()) +
                             " ms (connection refused or unreachable)");
}

Status ZmqClient::Handshake(Clock::time_point deadline) {
  if (settings_.insecure_plain) {
    if (!socket_) Open("");
    bool ignored = false;
    Status status = HandshakeWithPin("", deadline, &ignored);
    if (!status.ok()) Drop();
    return status;
  }
  const auto& pins = options_.pinned_server_ids;
  Status last = Status::Ok();
  std::string refused;
  for (std::size_t tries = 0; tries < pins.size(); ++tries) {
    const std::string& pin = pins[pin_index_];
    if (!socket_) Open(pin);
    bool next_pin = false;
    last = HandshakeWithPin(pin, deadline, &next_pin);
    if (last.ok()) return last;
    Drop();
    if (!next_pin) return last;
    refused += (refused.empty() ? "" : ", ") + pin;
    pin_index_ = (pin_index_ + 1) % pins.size();
    if (tries + 1 < pins.size()) {  // a rotation in progress, or a stale pin
      logger_.Info("zmq: the server at " + options_.endpoint + " does not hold pinned key " + pin +
                   "; trying the next pinned key");
    }
  }
  if (pins.size() > 1) {
    return Status::Unauthenticated("the server at " + options_.endpoint +
                                   " holds none of the pinned CURVE keys (" + refused + ")");
  }
  return last;
}

Status ZmqClient::Send(const sdk::ClientRequest& request, std::uint64_t id) {
  const std::string id_frame = EncodeId(id);
  ::zmq::socket_t& s = *socket_;
  if (!s.send(::zmq::buffer(kProtocolTag),
              ::zmq::send_flags::sndmore | ::zmq::send_flags::dontwait)) {
    Drop();
    return Status::Unavailable("cannot send to " + options_.endpoint + ": not connected");
  }
  s.send(::zmq::buffer(id_frame), ::zmq::send_flags::sndmore);
  s.send(::zmq::buffer(request.method), ::zmq::send_flags::sndmore);
  s.send(::zmq::buffer(request.target), ::zmq::send_flags::sndmore);
  s.send(::zmq::buffer(request.content_type), ::zmq::send_flags::sndmore);
  s.send(::zmq::buffer(request.authorization), ::zmq::send_flags::sndmore);
  s.send(::zmq::const_buffer(request.body.data(), request.body.size()), ::zmq::send_flags::none);
  return Status::Ok();
}

std::optional<Result<sdk::Response>> ZmqClient::ReceiveAnswer(std::uint64_t id) {
  for (;;) {
    std::vector<::zmq::message_t> parts;
    for (;;) {
      ::zmq::message_t part;
      auto received = socket_->recv(
          part, parts.empty() ? ::zmq::recv_flags::dontwait : ::zmq::recv_flags::none);
      if (!received) break;
      const bool more = part.more();
      if (parts.size() < 8) parts.push_back(std::move(part));
      if (!more) break;
    }
    if (parts.empty()) return std::nullopt;
    const std::optional<std::uint64_t> answer_id =
        parts.size() >= 2 ? DecodeId(View(parts[1])) : std::nullopt;
    if (parts.size() != kResponseFrames || View(parts[0]) != kProtocolTag || !answer_id) {
      Drop();
      return Status::Unavailable("malformed answer from " + options_.endpoint);
    }
    if (*answer_id != id && *answer_id != 0) continue;  // a late answer to an earlier call
    std::optional<int> status = DecodeStatus(View(parts[2]));
    if (!status) {
      Drop();
      return Status::Unavailable("malformed status in the answer from " + options_.endpoint);
    }
    if (parts[4].size() > options_.max_response_bytes) {
      return Status::ResourceExhausted("the response from " + options_.endpoint +
                                       " is larger than " +
                                       std::to_string(options_.max_response_bytes) + " bytes (" +
                                       std::to_string(parts[4].size()) + ")");
    }
    sdk::Response response;
    response.status = *status;
    response.content_type = std::string(View(parts[3]));
    response.body.assign(static_cast<const char*>(parts[4].data()), parts[4].size());
    return response;
  }
}

bool ZmqClient::ConnectionLost() {
  bool lost = false;
  while (auto event = NextEvent(Clock::now())) {
    if (event->kind == ZMQ_EVENT_DISCONNECTED) lost = true;
  }
  return lost;
}

Result<sdk::Response> ZmqClient::Await(std::uint64_t id, Clock::time_point deadline) {
  for (;;) {
    if (auto answer = ReceiveAnswer(id)) return std::move(*answer);
    // A lost connection loses the request with it: say so now rather than
    // at the deadline (the server may be gone for good). But a server that
    // answers and then closes (Stop() answers every long-poll with 503) puts
    // the answer and the close on the wire together, and one poll may wake
    // for both. libzmq hands every frame the connection carried to the
    // socket before it reports DISCONNECTED, so one more read after the
    // event finds such an answer; only then is the request really lost.
    if (ConnectionLost()) {
      if (auto answer = ReceiveAnswer(id)) return std::move(*answer);
      Drop();
      return Status::Unavailable("the connection to " + options_.endpoint +
                                 " was lost while waiting for the answer (the server stopped, "
                                 "or sent a frame larger than " +
                                 std::to_string(options_.max_response_bytes * 2) + " bytes)");
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      return Status::DeadlineExceeded("no answer from " + options_.endpoint + " in time");
    }
    zmq_pollitem_t items[2] = {{socket_->handle(), 0, ZMQ_POLLIN, 0},
                               {monitor_->handle(), 0, ZMQ_POLLIN, 0}};
    ::zmq::poll(items, 2, std::chrono::milliseconds(left));
  }
}

Result<sdk::Response> ZmqClient::Call(const sdk::ClientRequest& request) {
  if (request.timeout.count() <= 0) {
    return Status::InvalidArgument("the call timeout must be positive");
  }
  if (request.target.empty() || request.target.front() != '/') {
    return Status::InvalidArgument("the request target must start with '/', got '" +
                                   request.target + "'");
  }
  try {
    const Clock::time_point deadline = Clock::now() + request.timeout;
    if (socket_) {
      // Between calls the connection may have dropped (server restart):
      // start over with a fresh socket rather than trust a half state.
      while (auto event = NextEvent(Clock::now())) {
        if (event->kind == ZMQ_EVENT_DISCONNECTED) Drop();
        if (!socket_) break;
      }
    }
    if (!socket_ || !ready_) SCALEOUT_RETURN_IF_ERROR(Handshake(deadline));
    const std::uint64_t id = next_id_++;
    SCALEOUT_RETURN_IF_ERROR(Send(request, id));
    return Await(id, deadline);
  } catch (const ::zmq::error_t& e) {
    Drop();
    if (e.num() == EAGAIN) {
      return Status::Unavailable("cannot send to " + options_.endpoint + ": not connected");
    }
    return Status::Internal(std::string("zmq call failed: ") + e.what());
  } catch (const std::exception& e) {
    Drop();
    return Status::Internal(std::string("zmq call failed: ") + e.what());
  }
}

}  // namespace

Result<std::unique_ptr<sdk::Client>> ConnectZmqClient(const sdk::ClientOptions& options,
                                                      sdk::Logger& logger,
                                                      const TransportSettings& settings) {
  try {
    SCALEOUT_RETURN_IF_ERROR(CheckEndpoint(options.endpoint));
    if (options.connect_timeout.count() <= 0 || options.max_response_bytes == 0) {
      return Status::InvalidArgument("connect_timeout and max_response_bytes must be positive");
    }
    CurveKeyPair keys;
    if (!settings.insecure_plain) {
      if (options.pinned_server_ids.empty()) {
        return Status::InvalidArgument(
            "no pinned server key: a CURVE client must know the server's public key (40 Z85 "
            "characters, 'scaleout cert curve public FILE')");
      }
      for (const std::string& pin : options.pinned_server_ids) {
        if (!IsZ85Key(pin)) {
          return Status::InvalidArgument("pinned server id '" + pin +
                                         "' is not a CURVE public key (40 Z85 characters)");
        }
      }
      if (options.cert_file.empty() && options.key_file.empty()) {
        keys = AnonymousKeyPair();
      } else {
        SCALEOUT_ASSIGN_OR_RETURN(keys, LoadKeyPair(options.cert_file, options.key_file, "client"));
      }
    } else if (!options.cert_file.empty() || !options.key_file.empty()) {
      return Status::InvalidArgument(
          "[transport.zmq] insecure_plain is set, but CURVE key files are configured too; remove "
          "one of them");
    }
    return std::unique_ptr<sdk::Client>(
        std::make_unique<ZmqClient>(options, std::move(keys), logger, settings));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("creating the zmq client failed: ") + e.what());
  }
}

}  // namespace scaleout::plugins::zmq
