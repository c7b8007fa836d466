// transport/inproc: an in-process loopback transport for tests.
//
// Listen() registers the server as inproc://<bind_address>:<n> in a registry
// that is global to the process (this library is loaded once, so every
// transport/inproc instance shares it). A Client::Call() to that endpoint
// runs the server's handler on the caller's thread and waits for the
// Responder, so master and worker logic can be tested together without TLS
// or sockets.
//
// Identities: a peer's id is the text in its cert_file (whitespace trimmed),
// e.g. a file containing "worker-1". Servers are checked against the client's
// pinned_server_ids and clients against the server's PeerAuthenticator, at
// every call, with the same rules as the real transports (an empty pin list
// admits nobody; an anonymous client is refused while
// require_client_credential is set).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "scaleout/sdk/plugin.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::plugins::inproc {
namespace {

using sdk::Result;
using sdk::Status;

constexpr std::string_view kScheme = "inproc";
constexpr std::string_view kPrefix = "inproc://";

// The answer to one call, filled in by a Responder from any thread.
class CallState {
 public:
  void Answer(sdk::Response response) {
    {
      std::lock_guard lock(mutex_);
      if (answered_ || closed_) return;  // exactly once
      response_ = std::move(response);
      answered_ = true;
    }
    cv_.notify_all();
  }
  // The server stopped before answering.
  void Close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    cv_.notify_all();
  }
  // nullopt on timeout or when closed (`*closed` says which).
  std::optional<sdk::Response> Wait(std::chrono::milliseconds timeout, bool* closed) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [this] { return answered_ || closed_; });
    *closed = closed_ && !answered_;
    if (!answered_) return std::nullopt;
    return std::move(response_);
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool answered_ = false;
  bool closed_ = false;
  sdk::Response response_;
};

class InprocResponder final : public sdk::Responder {
 public:
  explicit InprocResponder(std::shared_ptr<CallState> call) : call_(std::move(call)) {}
  ~InprocResponder() override {
    if (!sent_) call_->Answer({503, "text/plain", "the server dropped the request unanswered"});
  }
  void Send(sdk::Response response) noexcept override {
    sent_ = true;
    call_->Answer(std::move(response));
  }

 private:
  std::shared_ptr<CallState> call_;
  bool sent_ = false;
};

// One listening server: what a client needs to reach it, and the gate that
// lets Stop() wait until no call is inside the handler any more.
class Endpoint {
 public:
  Endpoint(std::string address, std::string identity, const sdk::ServerOptions& options,
           sdk::RequestHandler& handler, const sdk::PeerAuthenticator& authenticator)
      : address_(std::move(address)),
        identity_(std::move(identity)),
        options_(options),
        handler_(handler),
        authenticator_(authenticator) {}

  const std::string& address() const { return address_; }
  const std::string& identity() const { return identity_; }
  const sdk::ServerOptions& options() const { return options_; }
  const sdk::PeerAuthenticator& authenticator() const { return authenticator_; }

  // Runs the handler unless the server has stopped. Returns false if stopped.
  bool Dispatch(const sdk::Request& request, const std::shared_ptr<CallState>& call) {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return false;
      ++active_;
      std::erase_if(pending_, [](const auto& weak) { return weak.expired(); });
      pending_.push_back(call);
    }
    handler_.OnRequest(request, std::make_unique<InprocResponder>(call));
    {
      std::lock_guard lock(mutex_);
      --active_;
    }
    idle_.notify_all();
    return true;
  }

  // Refuses new calls, wakes callers still waiting for an answer, and waits
  // until no thread is inside the handler. Idempotent. Must not be called
  // from inside the handler.
  void Stop() {
    std::vector<std::weak_ptr<CallState>> pending;
    {
      std::unique_lock lock(mutex_);
      stopped_ = true;
      idle_.wait(lock, [this] { return active_ == 0; });
      pending.swap(pending_);
    }
    for (auto& weak : pending) {
      if (auto call = weak.lock()) call->Close();
    }
  }

 private:
  const std::string address_;   // "127.0.0.1:1"
  const std::string identity_;  // from the server's cert_file, or ""
  const sdk::ServerOptions options_;
  sdk::RequestHandler& handler_;
  const sdk::PeerAuthenticator& authenticator_;
  std::mutex mutex_;
  std::condition_variable idle_;
  bool stopped_ = false;
  int active_ = 0;
  std::vector<std::weak_ptr<CallState>> pending_;  // calls that may still wait
};

// inproc://<address> -> server, for the whole process. Thread-safe.
class Registry {
 public:
  static Registry& Instance() {
    static Registry* registry = new Registry();  // never destroyed: outlives every user
    return *registry;
  }

  // Registers a server on bind_address:port; port 0 picks the lowest free one.
  Result<std::uint16_t> Add(const std::string& bind_address, std::uint16_t port,
                            const std::function<std::shared_ptr<Endpoint>(std::string)>& make) {
    std::lock_guard lock(mutex_);
    if (port == 0) {
      for (std::uint32_t candidate = 1; candidate <= 65535 && port == 0; ++candidate) {
        if (!endpoints_.contains(Key(bind_address, candidate))) {
          port = static_cast<std::uint16_t>(candidate);
        }
      }
      if (port == 0) {
        return Status::ResourceExhausted("every inproc port on " + bind_address + " is in use");
      }
    }
    const std::string key = Key(bind_address, port);
    if (endpoints_.contains(key)) {
      return Status::AlreadyExists(std::string(kPrefix) + key +
                                   " is already in use by another server; stop it or listen on "
                                   "port 0 to pick a free one");
    }
    endpoints_.emplace(key, make(key));
    return port;
  }

  // Removes `endpoint` if it is still the one registered under its address
  // (a stopped server's address may already serve a newer one).
  void Remove(const std::shared_ptr<Endpoint>& endpoint) {
    std::lock_guard lock(mutex_);
    auto it = endpoints_.find(endpoint->address());
    if (it != endpoints_.end() && it->second == endpoint) endpoints_.erase(it);
  }

  std::shared_ptr<Endpoint> Find(const std::string& key) const {
    std::lock_guard lock(mutex_);
    auto it = endpoints_.find(key);
    return it == endpoints_.end() ? nullptr : it->second;
  }

 private:
  static std::string Key(const std::string& host, std::uint32_t port) {
    return host + ":" + std::to_string(port);
  }
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Endpoint>> endpoints_;
};

std::string Trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return std::string(text.substr(first, text.find_last_not_of(kSpace) - first + 1));
}

// A peer's identity is the text of its cert_file; no file means anonymous.
Result<std::string> ReadIdentity(const std::string& cert_file, std::string_view who) {
  if (cert_file.empty()) return std::string();
  std::ifstream in(cert_file, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("cannot read the " + std::string(who) + " identity file '" +
                                   cert_file +
                                   "'; inproc peers identify by the text in their cert_file");
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string identity = Trim(text.str());
  if (identity.empty()) {
    return Status::InvalidArgument("the " + std::string(who) + " identity file '" + cert_file +
                                   "' is empty; write the peer's id into it");
  }
  return identity;
}

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + ("'" + id + "'");
  return out.empty() ? "(none pinned)" : out;
}

class InprocServer final : public sdk::Server {
 public:
  InprocServer(std::shared_ptr<Endpoint> endpoint, std::uint16_t port)
      : endpoint_(std::move(endpoint)), port_(port) {}
  ~InprocServer() override { Stop(); }
  std::uint16_t port() const noexcept override { return port_; }
  void Stop() noexcept override {
    Registry::Instance().Remove(endpoint_);
    endpoint_->Stop();
  }

 private:
  std::shared_ptr<Endpoint> endpoint_;
  std::uint16_t port_;
};

class InprocClient final : public sdk::Client {
 public:
  InprocClient(sdk::ClientOptions options, std::string address, std::string identity)
      : options_(std::move(options)), address_(std::move(address)), identity_(std::move(identity)) {
    peer_.scheme = identity_.empty() ? "" : std::string(kScheme);
    peer_.id = identity_;
    peer_.display_name = identity_;
  }

  Result<sdk::Response> Call(const sdk::ClientRequest& request) override {
    std::shared_ptr<Endpoint> endpoint = Registry::Instance().Find(address_);
    if (endpoint == nullptr) {
      return Status::Unavailable("nothing listens on " + Url() +
                                 "; start the server first or check the endpoint");
    }
    SCALEOUT_RETURN_IF_ERROR(CheckServerPinned(*endpoint));
    SCALEOUT_RETURN_IF_ERROR(CheckAdmitted(*endpoint));
    if (request.body.size() > endpoint->options().max_body_bytes) {
      return sdk::Response{413, "text/plain",
                           "request body of " + std::to_string(request.body.size()) +
                               " bytes exceeds the server's limit of " +
                               std::to_string(endpoint->options().max_body_bytes)};
    }
    auto call = std::make_shared<CallState>();
    const std::string remote =
        "inproc-client:" + std::to_string(reinterpret_cast<std::uintptr_t>(this));
    sdk::Request server_request{
        request.method, request.target, request.content_type, request.authorization, request.body,
        &peer_,         remote};
    if (!endpoint->Dispatch(server_request, call)) {
      return Status::Unavailable("the server on " + Url() + " has stopped");
    }
    bool closed = false;
    std::optional<sdk::Response> response = call->Wait(request.timeout, &closed);
    if (closed) return Status::Unavailable("the server on " + Url() + " stopped before answering");
    if (!response) {
      return Status::DeadlineExceeded("no answer from " + Url() + " within " +
                                      std::to_string(request.timeout.count()) + " ms");
    }
    if (response->body.size() > options_.max_response_bytes) {
      return Status::ResourceExhausted("response of " + std::to_string(response->body.size()) +
                                       " bytes from " + Url() + " exceeds max_response_bytes " +
                                       std::to_string(options_.max_response_bytes));
    }
    return std::move(*response);
  }

 private:
  std::string Url() const { return std::string(kPrefix) + address_; }

  Status CheckServerPinned(const Endpoint& endpoint) const {
    const auto& pins = options_.pinned_server_ids;
    if (endpoint.identity().empty()) {
      return Status::Unauthenticated(
          "the server on " + Url() +
          " presents no identity (its cert_file is empty); pinned: " + JoinIds(pins));
    }
    if (std::find(pins.begin(), pins.end(), endpoint.identity()) == pins.end()) {
      return Status::Unauthenticated("the server on " + Url() + " presents id '" +
                                     endpoint.identity() +
                                     "', which is not pinned; pinned: " + JoinIds(pins));
    }
    return Status::Ok();
  }

  Status CheckAdmitted(const Endpoint& endpoint) const {
    if (peer_.anonymous()) {
      if (endpoint.options().require_client_credential) {
        return Status::Unauthenticated("the server on " + Url() +
                                       " requires a client credential; set cert_file");
      }
      return Status::Ok();
    }
    Status admitted = endpoint.authenticator().Admit(peer_);
    if (!admitted.ok()) {
      return Status::Unauthenticated("the server on " + Url() + " refused client '" + peer_.id +
                                     "': " + admitted.message());
    }
    return Status::Ok();
  }

  const sdk::ClientOptions options_;
  const std::string address_;
  const std::string identity_;
  sdk::PeerIdentity peer_;
};

}  // namespace

class InprocTransport final : public sdk::Transport {
 public:
  // Takes no settings: any key in its config section is a typo.
  static Result<std::unique_ptr<InprocTransport>> Create(const sdk::PluginContext& context) {
    SCALEOUT_RETURN_IF_ERROR(context.config->CheckKnownKeys({}));
    return std::make_unique<InprocTransport>();
  }

  Status Start() override {
    std::lock_guard lock(mutex_);
    started_ = true;
    return Status::Ok();
  }

  void Stop() noexcept override {
    std::vector<std::weak_ptr<Endpoint>> endpoints;
    {
      std::lock_guard lock(mutex_);
      started_ = false;
      endpoints.swap(endpoints_);
    }
    for (auto& weak : endpoints) {
      if (auto endpoint = weak.lock()) {
        Registry::Instance().Remove(endpoint);
        endpoint->Stop();
      }
    }
  }

  std::string_view Scheme() const noexcept override { return kScheme; }

  Result<std::unique_ptr<sdk::Server>> Listen(
      const sdk::ServerOptions& options, sdk::RequestHandler& handler,
      const sdk::PeerAuthenticator& authenticator) override {
    SCALEOUT_RETURN_IF_ERROR(CheckStarted("Listen"));
    if (options.bind_address.empty() || options.bind_address.find(':') != std::string::npos) {
      return Status::InvalidArgument("inproc bind_address '" + options.bind_address +
                                     "' must be a non-empty name without ':'");
    }
    SCALEOUT_ASSIGN_OR_RETURN(std::string identity, ReadIdentity(options.cert_file, "server"));
    std::shared_ptr<Endpoint> endpoint;
    SCALEOUT_ASSIGN_OR_RETURN(
        std::uint16_t port,
        Registry::Instance().Add(options.bind_address, options.port, [&](std::string address) {
          endpoint = std::make_shared<Endpoint>(std::move(address), identity, options, handler,
                                                authenticator);
          return endpoint;
        }));
    {
      std::lock_guard lock(mutex_);
      endpoints_.push_back(endpoint);
    }
    return std::unique_ptr<sdk::Server>(std::make_unique<InprocServer>(endpoint, port));
  }

  Result<std::unique_ptr<sdk::Client>> Connect(const sdk::ClientOptions& options) override {
    SCALEOUT_RETURN_IF_ERROR(CheckStarted("Connect"));
    const std::string& endpoint = options.endpoint;
    const auto colon = endpoint.rfind(':');
    if (!endpoint.starts_with(kPrefix) || colon == std::string::npos ||
        colon < kPrefix.size() + 1 || colon + 1 == endpoint.size()) {
      return Status::InvalidArgument("endpoint '" + endpoint +
                                     "' is not of the form inproc://<address>:<port>");
    }
    SCALEOUT_ASSIGN_OR_RETURN(std::string identity, ReadIdentity(options.cert_file, "client"));
    return std::unique_ptr<sdk::Client>(std::make_unique<InprocClient>(
        options, endpoint.substr(kPrefix.size()), std::move(identity)));
  }

 private:
  Status CheckStarted(std::string_view call) const {
    std::lock_guard lock(mutex_);
    if (started_) return Status::Ok();
    return Status::FailedPrecondition("transport/inproc: " + std::string(call) +
                                      "() before Start(); call Start() first");
  }

  mutable std::mutex mutex_;
  bool started_ = false;
  std::vector<std::weak_ptr<Endpoint>> endpoints_;  // servers made here, for Stop()
};

}  // namespace scaleout::plugins::inproc

SCALEOUT_PLUGIN(kTransport, "inproc", "0.1.0",
                "In-process loopback transport for tests (identity = cert_file text)",
                scaleout::plugins::inproc::InprocTransport)
