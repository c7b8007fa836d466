// ODBC connection strings: parsed, checked, completed and redacted.
//
// A connection string is `key=value;key=value`; a value may be wrapped in
// braces (`Driver={PostgreSQL Unicode}`, `Pwd={a;b}`), and `}}` inside braces
// is one `}`. Keys are case-insensitive. We parse it ourselves, before any
// driver sees it, so a malformed string fails at start-up with a message that
// says where, and so the password never reaches a log line or an error.
//
// Thread-safety: values and stateless functions.
#ifndef SCALEOUT_PLUGINS_STORAGE_ODBC_CONNECTION_STRING_H_
#define SCALEOUT_PLUGINS_STORAGE_ODBC_CONNECTION_STRING_H_

#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/status.h"

namespace scaleout::plugins::odbc {

struct ConnectionAttribute {
  std::string key;    // as written ("Driver")
  std::string value;  // braces removed, `}}` unescaped
};

class ConnectionString {
 public:
  // Parses `text`. Errors (kInvalidArgument) name the offending part: an empty
  // string, a part without '=', an empty key, an unterminated '{', text after
  // a closing '}', a key given twice, or no DRIVER, DSN or FILEDSN at all.
  static sdk::Result<ConnectionString> Parse(std::string_view text);

  // The value of `key` (case-insensitive), or nullptr.
  const std::string* Find(std::string_view key) const;
  // Adds `key=value` unless the key is already present (the user's word wins).
  void AddDefault(std::string_view key, std::string_view value);

  // "Driver={PostgreSQL Unicode};Server=..." with braces where needed.
  std::string Format() const;
  // Format() with the values of PWD and PASSWORD replaced by "***".
  std::string Redacted() const;

  // The driver name (DRIVER), or "" when the string names a DSN.
  std::string Driver() const;
  // The login name (UID, USER, USERNAME), or "" when absent.
  std::string User() const;

  // True when DRIVER names psqlODBC ("PostgreSQL Unicode", "psqlodbcw.so").
  bool NamesPostgresqlDriver() const;

  const std::vector<ConnectionAttribute>& attributes() const noexcept { return attributes_; }

 private:
  std::string FormatImpl(bool redact) const;

  std::vector<ConnectionAttribute> attributes_;
};

// Case-insensitive ASCII comparison of keys.
bool KeyEquals(std::string_view a, std::string_view b) noexcept;

}  // namespace scaleout::plugins::odbc

#endif  // SCALEOUT_PLUGINS_STORAGE_ODBC_CONNECTION_STRING_H_
