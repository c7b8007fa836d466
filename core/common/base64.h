// Standard base64 (RFC 4648 section 4, with padding): package content in the
// management API, sealed catalog values, API tokens.
//
// Pure functions; thread-safe.
#ifndef SCALEOUT_CORE_COMMON_BASE64_H_
#define SCALEOUT_CORE_COMMON_BASE64_H_

#include <optional>
#include <string>
#include <string_view>

namespace scaleout::core {

std::string EncodeBase64(std::string_view bytes);

// The bytes `text` encodes (ASCII whitespace is skipped); nullopt when it is
// not base64.
std::optional<std::string> DecodeBase64(std::string_view text);

}  // namespace scaleout::core

#endif  // SCALEOUT_CORE_COMMON_BASE64_H_
