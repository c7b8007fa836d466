// The HTTPS client side of transport/https.
#ifndef SCALEOUT_PLUGINS_TRANSPORT_HTTPS_CLIENT_H_
#define SCALEOUT_PLUGINS_TRANSPORT_HTTPS_CLIENT_H_

#include <memory>

#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/transport.h"
#include "tls.h"

namespace scaleout::plugins::https {

// Validates `options` (endpoint "https://host:port", pins, credential files)
// and returns a client that connects on its first call. The client runs its
// own io_context on the calling thread inside Call(): no background thread.
// `logger` must outlive the client.
sdk::Result<std::unique_ptr<sdk::Client>> ConnectHttpsClient(const sdk::ClientOptions& options,
                                                             sdk::Logger& logger,
                                                             const TransportSettings& settings);

}  // namespace scaleout::plugins::https

#endif  // SCALEOUT_PLUGINS_TRANSPORT_HTTPS_CLIENT_H_
