#include "plugins/storage/odbc/connection_string.h"

#include <utility>

namespace scaleout::plugins::odbc {
namespace {

using sdk::Result;
using sdk::Status;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (KeyEquals(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

bool IsPasswordKey(std::string_view key) {
  return KeyEquals(key, "PWD") || KeyEquals(key, "PASSWORD");
}

// A value needs braces when a plain one would be cut or trimmed by a parser.
bool NeedsBraces(std::string_view value) {
  if (value.empty()) return false;
  if (value.front() == ' ' || value.back() == ' ' || value.front() == '{') return true;
  return value.find_first_of(";}") != std::string_view::npos;
}

constexpr std::string_view kHint =
    "; write it as key=value pairs separated by ';', e.g. "
    "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=5432;Database=scaleout;Uid=scaleout;Pwd=...";

}  // namespace

bool KeyEquals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

Result<ConnectionString> ConnectionString::Parse(std::string_view text) {
  ConnectionString out;
  if (Trim(text).empty()) {
    return Status::InvalidArgument("the connection string is empty" + std::string(kHint));
  }
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t eq = text.find('=', at);
    const std::size_t semi = text.find(';', at);
    if (eq == std::string_view::npos || (semi != std::string_view::npos && semi < eq)) {
      std::string_view part =
          Trim(text.substr(at, semi == std::string_view::npos ? text.npos : semi - at));
      if (part.empty() && semi != std::string_view::npos) {  // ";;" or a trailing ';'
        at = semi + 1;
        continue;
      }
      if (part.empty()) break;
      return Status::InvalidArgument("connection string part '" + std::string(part) +
                                     "' has no '='" + std::string(kHint));
    }
    ConnectionAttribute attribute;
    attribute.key = std::string(Trim(text.substr(at, eq - at)));
    if (attribute.key.empty()) {
      return Status::InvalidArgument("connection string has an empty key before '=' at offset " +
                                     std::to_string(eq) + std::string(kHint));
    }
    std::size_t pos = eq + 1;
    while (pos < text.size() && text[pos] == ' ') ++pos;
    if (pos < text.size() && text[pos] == '{') {
      // A braced value runs to the first '}' not doubled; it may hold ';'.
      ++pos;
      bool closed = false;
      while (pos < text.size()) {
        if (text[pos] == '}') {
          if (pos + 1 < text.size() && text[pos + 1] == '}') {
            attribute.value += '}';
            pos += 2;
            continue;
          }
          closed = true;
          ++pos;
          break;
        }
        attribute.value += text[pos++];
      }
      if (!closed) {
        return Status::InvalidArgument("the value of '" + attribute.key +
                                       "' in the connection string opens '{' but never closes "
                                       "it; add the closing '}'");
      }
      const std::size_t end = text.find(';', pos);
      std::string_view rest = Trim(text.substr(pos, end == text.npos ? text.npos : end - pos));
      if (!rest.empty()) {
        return Status::InvalidArgument("unexpected text '" + std::string(rest) +
                                       "' after '}' in '" + attribute.key +
                                       "' of the connection string; end the value with '};'");
      }
      at = end == text.npos ? text.size() : end + 1;
    } else {
      const std::size_t end = text.find(';', pos);
      attribute.value =
          std::string(Trim(text.substr(pos, end == text.npos ? text.npos : end - pos)));
      at = end == text.npos ? text.size() : end + 1;
    }
    if (out.Find(attribute.key) != nullptr) {
      return Status::InvalidArgument("the connection string sets '" + attribute.key +
                                     "' twice; keep one");
    }
    out.attributes_.push_back(std::move(attribute));
  }
  if (out.Find("DRIVER") == nullptr && out.Find("DSN") == nullptr &&
      out.Find("FILEDSN") == nullptr) {
    return Status::InvalidArgument(
        "the connection string names no Driver, DSN or FILEDSN, so ODBC cannot tell which driver "
        "to load; add e.g. Driver={PostgreSQL Unicode} or Driver=SQLite3 (see odbcinst -q -d)");
  }
  return out;
}

const std::string* ConnectionString::Find(std::string_view key) const {
  for (const ConnectionAttribute& a : attributes_) {
    if (KeyEquals(a.key, key)) return &a.value;
  }
  return nullptr;
}

void ConnectionString::AddDefault(std::string_view key, std::string_view value) {
  if (Find(key) == nullptr) attributes_.push_back({std::string(key), std::string(value)});
}

std::string ConnectionString::FormatImpl(bool redact) const {
  std::string out;
  for (const ConnectionAttribute& a : attributes_) {
    if (!out.empty()) out += ';';
    out += a.key;
    out += '=';
    if (redact && IsPasswordKey(a.key)) {
      out += "***";
    } else if (NeedsBraces(a.value)) {
      out += '{';
      for (char c : a.value) {
        out += c;
        if (c == '}') out += '}';
      }
      out += '}';
    } else {
      out += a.value;
    }
  }
  return out;
}

std::string ConnectionString::Format() const { return FormatImpl(false); }
std::string ConnectionString::Redacted() const { return FormatImpl(true); }

std::string ConnectionString::Driver() const {
  const std::string* driver = Find("DRIVER");
  return driver != nullptr ? *driver : std::string();
}

std::string ConnectionString::User() const {
  for (std::string_view key : {"UID", "USER", "USERNAME"}) {
    if (const std::string* user = Find(key)) return *user;
  }
  return {};
}

bool ConnectionString::NamesPostgresqlDriver() const {
  const std::string driver = Driver();
  return Contains(driver, "postgres") || Contains(driver, "psqlodbc");
}

}  // namespace scaleout::plugins::odbc
