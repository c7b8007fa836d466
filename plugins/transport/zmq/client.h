// The client side of transport/zmq: a DEALER socket in its own context.
#ifndef SCALEOUT_PLUGINS_TRANSPORT_ZMQ_CLIENT_H_
#define SCALEOUT_PLUGINS_TRANSPORT_ZMQ_CLIENT_H_

#include <memory>

#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/transport.h"
#include "settings.h"

namespace scaleout::plugins::zmq {

// Validates `options` (endpoint "tcp://host:port", CURVE pins, key files) and
// returns a client that connects on its first call. `logger` must outlive it.
sdk::Result<std::unique_ptr<sdk::Client>> ConnectZmqClient(const sdk::ClientOptions& options,
                                                           sdk::Logger& logger,
                                                           const TransportSettings& settings);

}  // namespace scaleout::plugins::zmq

#endif  // SCALEOUT_PLUGINS_TRANSPORT_ZMQ_CLIENT_H_
