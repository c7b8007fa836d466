#include "plugins/storage/odbc/options.h"

#include <utility>

namespace scaleout::plugins::odbc {
namespace {

using sdk::Result;
using sdk::Status;

std::string Key(const sdk::ConfigView& config, std::string_view key) {
  std::string out = "'";
  out += config.section();
  if (!config.section().empty()) out += ".";
  out += key;
  out += "'";
  return out;
}

}  // namespace

std::string_view DialectChoiceName(DialectChoice choice) noexcept {
  switch (choice) {
    case DialectChoice::kAuto: return "auto";
    case DialectChoice::kPostgresql: return "postgresql";
    case DialectChoice::kSqlite: return "sqlite";
  }
  return "?";
}

void AddPostgresqlDefaults(ConnectionString& connection) {
  // Prepare on the server once per statement, so cached statements skip parsing.
  connection.AddDefault("UseServerSidePrepare", "1");
  // Blobs are BYTEA columns; without this SQL_LONGVARBINARY means large objects.
  connection.AddDefault("ByteaAsLongVarBinary", "1");
  // Booleans (e.g. `a = b` in a select list) read as 0/1 integers, not "t"/"f".
  connection.AddDefault("BoolsAsChar", "0");
  // Rollback level 0: the driver never rolls back by itself after an error,
  // so the catalog's own savepoints decide what is undone.
  connection.AddDefault("Protocol", "7.4-0");
  // Text comes back verbatim (no LF -> CR/LF), and untyped results are long text.
  connection.AddDefault("LFConversion", "0");
  connection.AddDefault("UnknownsAsLongVarchar", "1");
  // Debian's odbcinst.ini turns communication logging on; it writes a file per
  // connection and costs more than the queries.
  connection.AddDefault("CommLog", "0");
  connection.AddDefault("Debug", "0");
}

Result<Options> ParseOptions(const sdk::ConfigView& config) {
  SCALEOUT_RETURN_IF_ERROR(config.CheckKnownKeys({"connection_string", "dialect", "login_timeout_s",
                                                  "statement_cache_size", "reconnect_attempts"}));
  Options options;
  if (!config.Has("connection_string") || config.GetString("connection_string").empty()) {
    return Status::InvalidArgument(
        Key(config, "connection_string") +
        " is required: set it to an ODBC connection string, e.g. "
        "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=5432;Database=scaleout;Uid=scaleout;"
        "Pwd=... or Driver=SQLite3;Database=/var/lib/scaleout/catalog.db");
  }
  Result<ConnectionString> parsed = ConnectionString::Parse(config.GetString("connection_string"));
  if (!parsed.ok()) return parsed.status().WithContext(Key(config, "connection_string"));
  options.connection = std::move(parsed).value();
  if (options.connection.NamesPostgresqlDriver()) AddPostgresqlDefaults(options.connection);

  const std::string dialect = config.GetString("dialect", "auto");
  bool known = false;
  for (DialectChoice choice :
       {DialectChoice::kAuto, DialectChoice::kPostgresql, DialectChoice::kSqlite}) {
    if (KeyEquals(dialect, DialectChoiceName(choice))) {
      options.dialect = choice;
      known = true;
    }
  }
  if (!known) {
    return Status::InvalidArgument(
        Key(config, "dialect") + " must be one of auto, postgresql, sqlite, got '" + dialect + "'");
  }
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t login, config.GetInt("login_timeout_s", 15, 0, 3600));
  options.login_timeout_s = static_cast<int>(login);
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t cache,
                            config.GetInt("statement_cache_size", 256, 1, 100'000));
  options.statement_cache_size = static_cast<int>(cache);
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t attempts, config.GetInt("reconnect_attempts", 3, 0, 100));
  options.reconnect_attempts = static_cast<int>(attempts);
  return options;
}

}  // namespace scaleout::plugins::odbc
