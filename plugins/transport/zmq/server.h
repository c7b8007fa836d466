// The server side of transport/zmq: a ROUTER socket, one I/O thread that owns
// it, and a ZAP handler thread that asks the PeerAuthenticator about every
// client key.
#ifndef SCALEOUT_PLUGINS_TRANSPORT_ZMQ_SERVER_H_
#define SCALEOUT_PLUGINS_TRANSPORT_ZMQ_SERVER_H_

#include <memory>

#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/transport.h"
#include "settings.h"

namespace scaleout::plugins::zmq {

// Lets the transport stop a server it handed out. Idempotent, thread-safe;
// not from inside RequestHandler::OnRequest.
class ServerControl {
 public:
  virtual ~ServerControl() = default;
  virtual void Stop() noexcept = 0;
};

// Binds and serves until Stop(). `handler`, `authenticator` and `logger` must
// outlive the server. On success `*control` refers to the same server.
// Errors: kInvalidArgument (options, address, plain mode not allowed),
// kNotFound / kPermissionDenied (key files), kUnavailable (cannot bind).
sdk::Result<std::unique_ptr<sdk::Server>> StartZmqServer(
    const sdk::ServerOptions& options, sdk::RequestHandler& handler,
    const sdk::PeerAuthenticator& authenticator, sdk::Logger& logger,
    const TransportSettings& settings, std::shared_ptr<ServerControl>* control);

}  // namespace scaleout::plugins::zmq

#endif  // SCALEOUT_PLUGINS_TRANSPORT_ZMQ_SERVER_H_
