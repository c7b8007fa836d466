// Options: the settings of the storage/odbc plugin, parsed and checked.
//
// Every key of the plugin's config section is validated here, before any
// driver is loaded, so a typo or a bad value fails at start-up naming the key.
// The connection string is parsed too (see connection_string.h) and, for
// psqlODBC, completed with the driver options the catalog relies on.
//
// Thread-safety: a value type; a const Options may be read from any thread.
#ifndef SCALEOUT_PLUGINS_STORAGE_ODBC_OPTIONS_H_
#define SCALEOUT_PLUGINS_STORAGE_ODBC_OPTIONS_H_

#include <cstdint>
#include <string_view>

#include "plugins/storage/odbc/connection_string.h"
#include "scaleout/sdk/config.h"
#include "scaleout/sdk/status.h"

namespace scaleout::plugins::odbc {

// Which SQL dialect to speak. kAuto asks the driver (SQLGetInfo SQL_DBMS_NAME).
enum class DialectChoice : std::uint8_t { kAuto, kPostgresql, kSqlite };

std::string_view DialectChoiceName(DialectChoice choice) noexcept;  // "auto"

struct Options {
  // What the driver manager receives: the configured string plus our
  // defaults for psqlODBC. Holds the password: log only Redacted().
  ConnectionString connection;
  DialectChoice dialect = DialectChoice::kAuto;
  int login_timeout_s = 15;        // SQL_ATTR_LOGIN_TIMEOUT; 0 waits as long as the driver does
  int statement_cache_size = 256;  // per connection; at least 1
  int reconnect_attempts = 3;      // per broken link; 0 never reconnects
};

// Reads and checks every key of `config`. Errors are kInvalidArgument and
// name the key, the bad value and the accepted values.
sdk::Result<Options> ParseOptions(const sdk::ConfigView& config);

// Adds the psqlODBC options the driver needs to behave like a catalog driver
// (see the definition for why each one), unless the user set them.
void AddPostgresqlDefaults(ConnectionString& connection);

}  // namespace scaleout::plugins::odbc

#endif  // SCALEOUT_PLUGINS_STORAGE_ODBC_OPTIONS_H_
