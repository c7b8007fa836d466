// CURVE (Curve25519) key pairs for the ZeroMQ transport: creation, Z85 text
// and key files. Core does not link libzmq: keys are made with OpenSSL's
// X25519, which is the same function CurveZMQ uses (crypto_box keys), and
// encoded in Z85 (ZeroMQ RFC 32) here.
//
// Key files (the ZeroMQ "zcert" text layout, read by transport/zmq):
//   NAME.curve          # comment lines
//                       curve
//                           public-key = "<40 Z85 characters>"
//   NAME.curve_secret   the same plus `secret-key = "<Z85>"`, mode 0600
// A file holding one bare 40-character Z85 key on a line is accepted as a
// public key file too.
//
// Thread-safety: free functions over their arguments and the files they name.
#ifndef SCALEOUT_CORE_SECURITY_CURVE_KEYS_H_
#define SCALEOUT_CORE_SECURITY_CURVE_KEYS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "scaleout/sdk/status.h"

namespace scaleout::core::security {

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
};

using CurveKeyBytes = std::array<std::uint8_t, 32>;

// Z85 of 32 bytes (40 characters), and back; nullopt for anything else.
std::string Z85EncodeKey(const CurveKeyBytes& key);
std::optional<CurveKeyBytes> Z85DecodeKey(std::string_view text);

// A fresh key pair from the system's random source.
sdk::Result<CurveKeyPair> GenerateCurveKeyPair();

// The public key that belongs to a Z85 secret key.
sdk::Result<std::string> CurvePublicKeyOf(std::string_view secret_key);

struct CurveKeyRequest {
  std::string public_file;  // e.g. "worker1.curve"
  std::string secret_file;  // e.g. "worker1.curve_secret" (created with mode 0600)
  std::string name;         // written as a comment
  bool overwrite = false;
};

// Generates a key pair and writes both files (the secret one 0600 from the
// start). Errors: kAlreadyExists unless `overwrite`, kPermissionDenied /
// kInternal for file errors.
sdk::Result<CurveKeyPair> CreateCurveKeyFiles(const CurveKeyRequest& request);

// The public key held by a public or secret key file (a secret file's public
// key is derived from its secret key and must match a public-key line).
sdk::Result<std::string> ReadCurvePublicKey(const std::string& file);

// Checks a worker's or master's configured pair: the secret file has a
// secret key, mode 0600, and `public_file` (when given) holds its public key.
// Returns the public key.
sdk::Result<std::string> CheckCurveKeyFiles(const std::string& public_file,
                                            const std::string& secret_file);

}  // namespace scaleout::core::security

#endif  // SCALEOUT_CORE_SECURITY_CURVE_KEYS_H_
