// Settings of transport/zmq (section [transport.zmq]), shared by its server
// and client sides.
#ifndef SCALEOUT_PLUGINS_TRANSPORT_ZMQ_SETTINGS_H_
#define SCALEOUT_PLUGINS_TRANSPORT_ZMQ_SETTINGS_H_

#include <chrono>
#include <string>

namespace scaleout::plugins::zmq {

struct TransportSettings {
  // ZMQ_HANDSHAKE_IVL on both sides: a peer that has not finished the ZMTP and
  // CURVE handshake within this time is disconnected.
  std::chrono::milliseconds handshake_timeout{10'000};
  // Development only: no CURVE, no encryption, every peer anonymous.
  bool insecure_plain = false;
  // ZMQ_ZAP_DOMAIN of server sockets.
  std::string zap_domain = "scaleout";
  // libzmq I/O threads per server context.
  int io_threads = 1;
};

}  // namespace scaleout::plugins::zmq

#endif  // SCALEOUT_PLUGINS_TRANSPORT_ZMQ_SETTINGS_H_
