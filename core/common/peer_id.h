// Peer identities as the trust list keys them: the uppercase hex SHA-256
// thumbprint of an X.509 certificate (https), or the Z85 text of a CURVE
// public key (ZeroMQ). Header-only; every function is pure and thread-safe.
#ifndef SCALEOUT_CORE_COMMON_PEER_ID_H_
#define SCALEOUT_CORE_COMMON_PEER_ID_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/ids.h"

namespace scaleout::core {

// Length of the Z85 text of a 32-byte CURVE public key (ZeroMQ RFC 32).
inline constexpr std::size_t kCurveKeyChars = 40;

// True when `text` is the Z85 encoding of a 32-byte key: 40 characters of
// the Z85 alphabet whose every 5-character group encodes a value < 2^32.
// Forty hex digits are refused: that is a SHA-1 thumbprint (a random key is
// all hex with odds of about 1e-29).
inline bool IsCurvePublicKey(std::string_view text) {
  if (NormalizeThumbprint(text, kCurveKeyChars).has_value()) return false;
  static constexpr std::string_view kAlphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  if (text.size() != kCurveKeyChars) return false;
  for (std::size_t group = 0; group < text.size(); group += 5) {
    std::uint64_t value = 0;
    for (std::size_t i = group; i < group + 5; ++i) {
      const std::size_t digit = kAlphabet.find(text[i]);
      if (digit == std::string_view::npos) return false;
      value = value * 85 + digit;
    }
    if (value > 0xFFFFFFFFull) return false;
  }
  return true;
}

// The trust-list key for `text`: a SHA-256 thumbprint in uppercase hex
// without separators, or a CURVE key unchanged (Z85 is case-sensitive), or
// nullopt when it is neither.
inline std::optional<std::string> NormalizePeerId(std::string_view text) {
  if (IsCurvePublicKey(text)) return std::string(text);
  return NormalizeThumbprint(text, 64);
}

}  // namespace scaleout::core

#endif  // SCALEOUT_CORE_COMMON_PEER_ID_H_
