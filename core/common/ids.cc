#include "core/common/ids.h"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <cctype>
#include <mutex>

namespace scaleout::core {

namespace {

// A random (version 4) UUID. The generator is seeded from the OS once
// (boost's default random_generator makes a system call for every id, and
// these ids are identifiers, not secrets); it is not thread-safe, so guard it.
boost::uuids::uuid RandomUuid() {
  static std::mutex mutex;
  static boost::uuids::random_generator_mt19937 generator;
  std::lock_guard lock(mutex);
  return generator();
}

// The canonical uppercase text of `id`.
std::string UpperText(const boost::uuids::uuid& id) {
  std::string text = boost::uuids::to_string(id);
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// The last (millisecond, sequence) handed out, so the next is greater.
struct TimeOrderState {
  std::uint64_t millis = 0;
  std::uint64_t sequence = 0;
};

}  // namespace

std::string NewGuid() { return UpperText(RandomUuid()); }

std::string NewTimeOrderedGuid(std::int64_t unix_millis) {
  static std::mutex mutex;  // guards `last`
  static TimeOrderState last;
  constexpr std::uint64_t kMaxSequence = 0xFFF;  // the 12 bits of rand_a
  boost::uuids::uuid id = RandomUuid();          // bytes 8-15 keep their random bits
  std::uint64_t millis = unix_millis < 0 ? 0 : static_cast<std::uint64_t>(unix_millis);
  std::uint64_t sequence = 0;
  {
    std::lock_guard lock(mutex);
    if (millis <= last.millis) {
      // Same millisecond (or the clock went back): count on from the last id.
      millis = last.millis;
      sequence = last.sequence + 1;
      if (sequence > kMaxSequence) {
        ++millis;
        sequence = 0;
      }
    }
    last = TimeOrderState{millis, sequence};
  }
  for (int i = 0; i < 6; ++i) {
    id.data[i] = static_cast<std::uint8_t>(millis >> (8 * (5 - i)));
  }
  id.data[6] = static_cast<std::uint8_t>(0x70 | (sequence >> 8));  // version 7
  id.data[7] = static_cast<std::uint8_t>(sequence & 0xFF);
  id.data[8] = static_cast<std::uint8_t>(0x80 | (id.data[8] & 0x3F));  // RFC variant
  return UpperText(id);
}

std::optional<std::string> NormalizeGuid(std::string_view text) {
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, 36);
  }
  if (text.size() != 36) return std::nullopt;
  // ASCII only, without the locale-aware <cctype> calls: every catalog op
  // normalizes one or two GUIDs, and those calls were 1 % of the writer.
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bool dash_position = (i == 8 || i == 13 || i == 18 || i == 23);
    char& c = out[i];
    if (dash_position) {
      if (c != '-') return std::nullopt;
    } else if (c >= 'a' && c <= 'f') {
      c = static_cast<char>(c - 'a' + 'A');
    } else if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
      return std::nullopt;
    }
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

namespace {

std::string Hex(std::string_view bytes, const char (&digits)[17]) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 0xF];
  }
  return out;
}

}  // namespace

std::string HexUpper(std::string_view bytes) { return Hex(bytes, "0123456789ABCDEF"); }

std::string HexLower(std::string_view bytes) { return Hex(bytes, "0123456789abcdef"); }

}  // namespace scaleout::core
