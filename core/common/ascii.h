// ASCII case folding, for the names, keywords and settings that compare
// without regard to case (SSIS property names, booleans, connection-string
// keys, certificate names).
//
// Thread-safety: pure function.
#ifndef SCALEOUT_CORE_COMMON_ASCII_H_
#define SCALEOUT_CORE_COMMON_ASCII_H_

#include <cctype>
#include <string>
#include <string_view>

namespace scaleout::core {

// `text` with each byte put through std::tolower (the process keeps the C
// locale, so only A-Z change).
inline std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

}  // namespace scaleout::core

#endif  // SCALEOUT_CORE_COMMON_ASCII_H_
