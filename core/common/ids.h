// Identifiers: GUIDs (workers, tasks, event batches) and hex thumbprints.
#ifndef SCALEOUT_CORE_COMMON_IDS_H_
#define SCALEOUT_CORE_COMMON_IDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scaleout::core {

// A new random (v4) GUID in canonical uppercase form, as SSIS prints agent ids:
// "8D3F1A0C-4B7E-4F2A-9C61-0E5B2D7A9F13". Unique, not a secret (a seeded
// pseudo-random generator, not the OS per id). Thread-safe.
std::string NewGuid();

// A new time-ordered (RFC 9562 version 7) GUID in the same canonical form:
// 48 bits of `unix_millis`, then a 12-bit sequence that keeps the GUIDs of one
// process strictly increasing (also within one millisecond, or when the clock
// steps back), then 62 random bits. Catalog keys use it so that new rows land
// at the right edge of their B-tree instead of dirtying a random page each
// (what a v4 key costs on every insert). Not a secret: it shows when it was
// made. Thread-safe.
std::string NewTimeOrderedGuid(std::int64_t unix_millis);

// Returns the canonical uppercase form of `text` when it is a GUID (with or
// without braces, any case), or nullopt.
std::optional<std::string> NormalizeGuid(std::string_view text);

// Returns `text` as uppercase hex without separators (':' and spaces are
// dropped), or nullopt when it has non-hex characters or the wrong length.
// `digits` is 64 for SHA-256, 40 for SHA-1.
std::optional<std::string> NormalizeThumbprint(std::string_view text, std::size_t digits);

// Uppercase hex of raw bytes.
std::string HexUpper(std::string_view bytes);
// Lowercase hex of raw bytes.
std::string HexLower(std::string_view bytes);

}  // namespace scaleout::core

#endif  // SCALEOUT_CORE_COMMON_IDS_H_
