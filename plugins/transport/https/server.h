// The HTTPS server side of transport/https.
#ifndef SCALEOUT_PLUGINS_TRANSPORT_HTTPS_SERVER_H_
#define SCALEOUT_PLUGINS_TRANSPORT_HTTPS_SERVER_H_

#include <memory>

#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/transport.h"
#include "tls.h"

namespace scaleout::plugins::https {

// Lets the transport stop a server it handed out (Transport::Stop stops
// every server still running). Stop() is idempotent and thread-safe, but
// must not be called from one of the server's own I/O threads.
class ServerControl {
 public:
  virtual ~ServerControl() = default;
  virtual void Stop() noexcept = 0;
};

// Binds, starts `settings.threads` I/O threads and serves until Stop().
// `handler`, `authenticator` and `logger` must outlive the server.
// On success `*control` refers to the same server (the transport keeps a
// weak reference). Errors: kInvalidArgument (bad address or options),
// kNotFound / kPermissionDenied / kFailedPrecondition (credential files),
// kUnavailable (cannot bind).
sdk::Result<std::unique_ptr<sdk::Server>> StartHttpsServer(
    const sdk::ServerOptions& options, sdk::RequestHandler& handler,
    const sdk::PeerAuthenticator& authenticator, sdk::Logger& logger,
    const TransportSettings& settings, std::shared_ptr<ServerControl>* control);

}  // namespace scaleout::plugins::https

#endif  // SCALEOUT_PLUGINS_TRANSPORT_HTTPS_SERVER_H_
