// transport/https: the plugin entry point and the Transport object.
//
// Settings ([transport.https]):
//   threads               I/O threads per server (default 2, 1..64)
//   handshake_timeout_ms  TLS handshake limit, both sides (default 10000)
// Everything else (address, certificates, limits, pins) arrives in
// ServerOptions / ClientOptions.
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client.h"
#include "scaleout/sdk/plugin.h"
#include "scaleout/sdk/transport.h"
#include "server.h"
#include "tls.h"

namespace scaleout::plugins::https {
namespace {

using sdk::Result;
using sdk::Status;

// Thread-safety: Listen, Connect and Stop may be called from any thread.
class HttpsTransport final : public sdk::Transport {
 public:
  static Result<std::unique_ptr<HttpsTransport>> Create(const sdk::PluginContext& context) {
    const sdk::ConfigView& config = *context.config;
    SCALEOUT_RETURN_IF_ERROR(config.CheckKnownKeys({"threads", "handshake_timeout_ms"}));
    TransportSettings settings;
    SCALEOUT_ASSIGN_OR_RETURN(std::int64_t threads, config.GetInt("threads", 2, 1, 64));
    SCALEOUT_ASSIGN_OR_RETURN(std::int64_t handshake_ms,
                              config.GetInt("handshake_timeout_ms", 10'000, 100, 600'000));
    settings.threads = static_cast<int>(threads);
    settings.handshake_timeout = std::chrono::milliseconds(handshake_ms);
    return std::make_unique<HttpsTransport>(settings, *context.logger);
  }

  HttpsTransport(const TransportSettings& settings, sdk::Logger& logger)
      : settings_(settings), logger_(logger) {}

  ~HttpsTransport() override { Stop(); }

  Status Start() override {
    std::lock_guard lock(mutex_);
    started_ = true;
    return Status::Ok();
  }

  void Stop() noexcept override {
    std::vector<std::weak_ptr<ServerControl>> servers;
    {
      std::lock_guard lock(mutex_);
      started_ = false;
      servers.swap(servers_);
    }
    for (auto& weak : servers) {
      if (auto server = weak.lock()) server->Stop();
    }
  }

  std::string_view Scheme() const noexcept override { return "https"; }

  Result<std::unique_ptr<sdk::Server>> Listen(
      const sdk::ServerOptions& options, sdk::RequestHandler& handler,
      const sdk::PeerAuthenticator& authenticator) override {
    SCALEOUT_RETURN_IF_ERROR(CheckStarted());
    std::shared_ptr<ServerControl> control;
    SCALEOUT_ASSIGN_OR_RETURN(
        std::unique_ptr<sdk::Server> server,
        StartHttpsServer(options, handler, authenticator, logger_, settings_, &control));
    try {
      std::lock_guard lock(mutex_);
      // Forget servers that are gone, so a long-lived transport does not grow.
      std::erase_if(servers_, [](const auto& weak) { return weak.expired(); });
      servers_.push_back(control);
    } catch (const std::exception& e) {
      return Status::Internal(std::string("registering the server failed: ") + e.what());
    }
    return server;
  }

  Result<std::unique_ptr<sdk::Client>> Connect(const sdk::ClientOptions& options) override {
    SCALEOUT_RETURN_IF_ERROR(CheckStarted());
    return ConnectHttpsClient(options, logger_, settings_);
  }

 private:
  Status CheckStarted() {
    std::lock_guard lock(mutex_);
    if (!started_) return Status::FailedPrecondition("transport/https is not started");
    return Status::Ok();
  }

  const TransportSettings settings_;
  sdk::Logger& logger_;
  std::mutex mutex_;
  bool started_ = false;
  std::vector<std::weak_ptr<ServerControl>> servers_;
};

}  // namespace
}  // namespace scaleout::plugins::https

SCALEOUT_PLUGIN(kTransport, "https", "1.0.0", "HTTPS with mutual TLS (Boost.Beast, OpenSSL)",
                scaleout::plugins::https::HttpsTransport)
