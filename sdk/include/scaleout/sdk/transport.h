// Transport: moves request/response bytes and authenticates peers.
//
// A transport knows nothing of messages: it hands core a Request (bytes plus
// the authenticated peer identity) and sends back whatever Response core
// produces. The server side is asynchronous so that a request can wait (the
// long-poll for work) without holding a thread: core answers through the
// Responder, from any thread, whenever it is ready.
//
// Identities: for X.509 transports a peer's id is the uppercase hex SHA-256
// thumbprint of its certificate (the SHA-1 one is carried for display and
// SSIS compatibility); for CURVE transports it is the Z85 public key.
#ifndef SCALEOUT_SDK_TRANSPORT_H_
#define SCALEOUT_SDK_TRANSPORT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/bytes.h"
#include "scaleout/sdk/status.h"

namespace scaleout::sdk {

struct PeerIdentity {
  std::string scheme;           // "x509", "curve", or "" for an anonymous peer
  std::string id;               // SHA-256 thumbprint (hex, upper) or CURVE public key (Z85)
  std::string sha1_thumbprint;  // x509 only, hex upper
  std::string display_name;     // certificate subject CN, or ""
  bool anonymous() const noexcept { return id.empty(); }
};

// Decides whether a peer may complete its handshake. Called on transport
// threads, possibly concurrently: must be thread-safe and fast (no I/O).
class PeerAuthenticator {
 public:
  virtual ~PeerAuthenticator() = default;
  // Returns OK to admit; otherwise the reason, which the transport logs.
  virtual Status Admit(const PeerIdentity& peer) const noexcept = 0;
};

// One request as received. Every view is valid only during OnRequest().
struct Request {
  std::string_view method;         // "POST", "GET", ...
  std::string_view target;         // "/v1/worker/tasks", "/api/v1/executions?status=7"
  std::string_view content_type;   // "application/msgpack", "application/json"
  std::string_view authorization;  // the Authorization header ("Bearer ..."), or ""
  ByteView body;
  const PeerIdentity* peer = nullptr;  // never null; anonymous() when no credential
  std::string_view remote_address;     // "127.0.0.1:53122"
};

struct Response {
  int status = 200;  // HTTP-style status code; transports without one carry it in their framing
  std::string content_type = "application/msgpack";
  Bytes body;
};

// Sends the answer to one request, exactly once, from any thread. A Responder
// destroyed without Send() answers 503 so that no client waits forever.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void Send(Response response) noexcept = 0;
};

// Core's side of a server. OnRequest runs on a transport I/O thread and must
// not block: hand slow work elsewhere and answer later through `responder`.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual void OnRequest(const Request& request, std::unique_ptr<Responder> responder) noexcept = 0;
};

struct ServerOptions {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;  // 0 picks a free port; see Server::port()
  std::string cert_file;   // PEM certificate (x509) or public key file (curve)
  std::string key_file;    // PEM private key (x509) or secret key file (curve)
  // When false, peers without a credential are admitted as anonymous (the
  // management API then requires a token). Peers that present a credential
  // are always checked by the PeerAuthenticator.
  bool require_client_credential = true;
  std::size_t max_body_bytes = 8u << 20;
  std::size_t max_header_bytes = 16u << 10;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{120'000};
  std::size_t max_connections = 1024;
};

class Server {
 public:
  virtual ~Server() = default;
  // The bound port (useful when ServerOptions::port was 0).
  virtual std::uint16_t port() const noexcept = 0;
  // Stops accepting, closes connections, answers nothing further. Idempotent.
  virtual void Stop() noexcept = 0;
};

struct ClientOptions {
  std::string endpoint;   // "https://host:port" or "tcp://host:port"
  std::string cert_file;  // our credential (see ServerOptions)
  std::string key_file;
  // Accept the server only if its id (SHA-256 thumbprint, or a SHA-1 one for
  // SSIS compatibility; or CURVE key) is one of these. Empty admits nobody.
  std::vector<std::string> pinned_server_ids;
  std::chrono::milliseconds connect_timeout{5'000};
  std::size_t max_response_bytes = 64u << 20;
};

struct ClientRequest {
  std::string method = "POST";
  std::string target;
  std::string content_type = "application/msgpack";
  std::string authorization;
  ByteView body;
  std::chrono::milliseconds timeout{30'000};  // whole call, including a long-poll wait
};

// A connection to one server. Not thread-safe: one call at a time. Keeps the
// connection alive between calls and reconnects when it was lost.
class Client {
 public:
  virtual ~Client() = default;
  // Errors: kUnavailable (cannot connect), kUnauthenticated (the server's
  // identity is not pinned; the message names the id seen and the ids
  // expected), kDeadlineExceeded, kResourceExhausted (response too large).
  virtual Result<Response> Call(const ClientRequest& request) = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  virtual Status Start() = 0;
  // Stops every server and client I/O thread. Servers must be stopped and
  // clients destroyed before the transport is destroyed.
  virtual void Stop() noexcept = 0;

  // "https", "tcp": the endpoint scheme this transport serves.
  virtual std::string_view Scheme() const noexcept = 0;

  // Starts serving. `handler` and `authenticator` must outlive the server.
  virtual Result<std::unique_ptr<Server>> Listen(const ServerOptions& options,
                                                 RequestHandler& handler,
                                                 const PeerAuthenticator& authenticator) = 0;

  virtual Result<std::unique_ptr<Client>> Connect(const ClientOptions& options) = 0;

 protected:
  Transport() = default;
};

}  // namespace scaleout::sdk

#endif  // SCALEOUT_SDK_TRANSPORT_H_
