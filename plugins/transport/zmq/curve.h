// CURVE key files and key checks for transport/zmq.
//
// File format (compatible with the ZeroMQ "zcert" text files): lines of
// `public-key = "<Z85>"` and `secret-key = "<Z85>"`; lines starting with '#'
// and blank lines are ignored; a file holding only one 40-character Z85 key
// on a line is a public key file. The secret key file must not be readable by
// group or others (mode 0600). The same format is written by
// `scaleout cert curve create` (core/security/curve_keys.h).
//
// Thread-safety: free functions over their arguments.
#ifndef SCALEOUT_PLUGINS_TRANSPORT_ZMQ_CURVE_H_
#define SCALEOUT_PLUGINS_TRANSPORT_ZMQ_CURVE_H_

#include <string>
#include <string_view>

#include "scaleout/sdk/status.h"

namespace scaleout::plugins::zmq {

// Both keys in Z85 (40 characters each).
struct CurveKeyPair {
  std::string public_key;
  std::string secret_key;
};

// True when `key` is 40 characters of the Z85 alphabet.
bool IsZ85Key(std::string_view key);

// Loads the secret key from `key_file` (mode 0600 required), derives its
// public key, and when `cert_file` is given checks it holds that public key.
// `role` ("server", "client") names the credential in errors.
// Errors: kNotFound, kPermissionDenied, kInvalidArgument (bad content or a
// public key that does not match the secret key).
sdk::Result<CurveKeyPair> LoadKeyPair(const std::string& cert_file, const std::string& key_file,
                                      std::string_view role);

// The published key pair that stands for "no credential": a client without
// key files uses it, and a server that does not require client credentials
// admits it as an anonymous peer. CURVE still encrypts the session and
// authenticates the server; only the client stays unidentified, as a TLS
// client without a certificate does.
const CurveKeyPair& AnonymousKeyPair();

}  // namespace scaleout::plugins::zmq

#endif  // SCALEOUT_PLUGINS_TRANSPORT_ZMQ_CURVE_H_
