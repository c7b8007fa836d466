// UTF-8 validation, shared by the wire decoders and the task host's spec.
//
// Thread-safety: pure function.
#ifndef SCALEOUT_CORE_COMMON_UTF8_H_
#define SCALEOUT_CORE_COMMON_UTF8_H_

#include <string_view>

namespace scaleout::core {

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
// U+10FFFF. Strings end up in the catalog and in JSON, which both need valid
// text.
bool IsValidUtf8(std::string_view s);

}  // namespace scaleout::core

#endif  // SCALEOUT_CORE_COMMON_UTF8_H_
