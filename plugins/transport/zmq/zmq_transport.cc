// transport/zmq: the plugin entry point and the Transport object.
//
// Settings ([transport.zmq]):
//   handshake_timeout_ms  ZMQ_HANDSHAKE_IVL, both sides (default 10000)
//   insecure_plain        true runs without CURVE: no encryption, anonymous
//                         peers; development only (default false)
//   zap_domain            ZMQ_ZAP_DOMAIN of servers (default "scaleout")
//   io_threads            libzmq I/O threads per server (default 1, 1..16)
// Keys, limits and pins arrive in ServerOptions / ClientOptions.
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client.h"
#include "scaleout/sdk/plugin.h"
#include "scaleout/sdk/transport.h"
#include "server.h"
#include "settings.h"

namespace scaleout::plugins::zmq {
namespace {

using sdk::Result;
using sdk::Status;

// Thread-safety: Listen, Connect and Stop may be called from any thread.
class ZmqTransport final : public sdk::Transport {
 public:
  static Result<std::unique_ptr<ZmqTransport>> Create(const sdk::PluginContext& context) {
    const sdk::ConfigView& config = *context.config;
    SCALEOUT_RETURN_IF_ERROR(config.CheckKnownKeys(
        {"handshake_timeout_ms", "insecure_plain", "zap_domain", "io_threads"}));
    TransportSettings settings;
    SCALEOUT_ASSIGN_OR_RETURN(std::int64_t handshake_ms,
                              config.GetInt("handshake_timeout_ms", 10'000, 100, 600'000));
    SCALEOUT_ASSIGN_OR_RETURN(settings.insecure_plain, config.GetBool("insecure_plain", false));
    SCALEOUT_ASSIGN_OR_RETURN(std::int64_t io_threads, config.GetInt("io_threads", 1, 1, 16));
    settings.zap_domain = config.GetString("zap_domain", "scaleout");
    if (settings.zap_domain.empty() || settings.zap_domain.size() > 254) {
      return Status::InvalidArgument("[transport.zmq] zap_domain must be 1..254 characters");
    }
    settings.handshake_timeout = std::chrono::milliseconds(handshake_ms);
    settings.io_threads = static_cast<int>(io_threads);
    return std::make_unique<ZmqTransport>(settings, *context.logger);
  }

  ZmqTransport(const TransportSettings& settings, sdk::Logger& logger)
      : settings_(settings), logger_(logger) {}
  ~ZmqTransport() override { Stop(); }

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

  std::string_view Scheme() const noexcept override { return "tcp"; }

  Result<std::unique_ptr<sdk::Server>> Listen(
      const sdk::ServerOptions& options, sdk::RequestHandler& handler,
      const sdk::PeerAuthenticator& authenticator) override {
    SCALEOUT_RETURN_IF_ERROR(CheckStarted());
    std::shared_ptr<ServerControl> control;
    SCALEOUT_ASSIGN_OR_RETURN(
        std::unique_ptr<sdk::Server> server,
        StartZmqServer(options, handler, authenticator, logger_, settings_, &control));
    try {
      std::lock_guard lock(mutex_);
      std::erase_if(servers_, [](const auto& weak) { return weak.expired(); });
      servers_.push_back(control);
    } catch (const std::exception& e) {
      return Status::Internal(std::string("registering the server failed: ") + e.what());
    }
    return server;
  }

  Result<std::unique_ptr<sdk::Client>> Connect(const sdk::ClientOptions& options) override {
    SCALEOUT_RETURN_IF_ERROR(CheckStarted());
    return ConnectZmqClient(options, logger_, settings_);
  }

 private:
  Status CheckStarted() {
    std::lock_guard lock(mutex_);
    if (!started_) return Status::FailedPrecondition("transport/zmq is not started");
    return Status::Ok();
  }

  const TransportSettings settings_;
  sdk::Logger& logger_;
  std::mutex mutex_;
  bool started_ = false;
  std::vector<std::weak_ptr<ServerControl>> servers_;
};

}  // namespace
}  // namespace scaleout::plugins::zmq

SCALEOUT_PLUGIN(kTransport, "zmq", "1.0.0", "ZeroMQ with CURVE security and a ZAP handler (cppzmq)",
                scaleout::plugins::zmq::ZmqTransport)
