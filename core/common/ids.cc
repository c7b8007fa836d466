#include "core/common/ids.h"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <cctype>
#include <mutex>

namespace scaleout::core {

std::string NewGuid() {
  // random_generator seeds from the OS once; it is not thread-safe, so guard it.
  static std::mutex mutex;
  static boost::uuids::random_generator generator;
  boost::uuids::uuid id;
  {
    std::lock_guard lock(mutex);
    id = generator();
  }
  std::string text = boost::uuids::to_string(id);
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::optional<std::string> NormalizeGuid(std::string_view text) {
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, 36);
  }
  if (text.size() != 36) return std::nullopt;
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bool dash_position = (i == 8 || i == 13 || i == 18 || i == 23);
    if (dash_position) {
      if (out[i] != '-') return std::nullopt;
      continue;
    }
    if (!std::isxdigit(static_cast<unsigned char>(out[i]))) return std::nullopt;
    out[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[i])));
  }
  return out;
}

std::optional<std::string> NormalizeThumbprint(std::string_view text, std::size_t digits) {
  std::string out;
  out.reserve(digits);
  for (char c : text) {
    if (c == ':' || c == ' ') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (out.size() != digits) return std::nullopt;
  return out;
}

std::string HexUpper(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  return out;
}

}  // namespace scaleout::core
