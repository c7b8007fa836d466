// Turns ODBC diagnostics (SQLSTATE + the driver's message) into SDK Status
// values that say what failed and what to do next.
//
// Mapping by SQLSTATE: 08xxx and 57P01-57P03 (link lost, server shutting
// down) -> kUnavailable; 28xxx and password failures -> kUnauthenticated;
// IM002/IM003 (driver or DSN missing) -> kNotFound; 23xxx, 40xxx, 25P02 ->
// kAborted; 42xxx, 22xxx, 07xxx -> kInvalidArgument; 53xxx ->
// kResourceExhausted; HYT00/HYT01 -> kDeadlineExceeded; HY010 ->
// kFailedPrecondition. The SQLite driver reports everything as HY000 with
// SQLite's result code as the native error, which is mapped like
// storage/sqlite does (BUSY -> kUnavailable, CONSTRAINT -> kAborted, ...).
//
// Thread-safety: stateless functions; ReadDiagnostics reads a handle that
// the calling thread must own.
#ifndef SCALEOUT_PLUGINS_STORAGE_ODBC_ERRORS_H_
#define SCALEOUT_PLUGINS_STORAGE_ODBC_ERRORS_H_

#include <sql.h>

#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/status.h"

namespace scaleout::plugins::odbc {

struct Diagnostic {
  std::string sqlstate;  // five characters, "08S01"
  long native = 0;       // the driver's own code (SQLite's result code for sqliteodbc)
  std::string message;   // as the driver wrote it, trailing newlines removed
};

// What an error message needs to know about the database it came from.
struct ErrorContext {
  std::string target;  // "PostgreSQL Unicode (Server=...;Database=...)", no password
  std::string user;    // the login name, "" when none was given
  std::string driver;  // the DRIVER value, "" for a DSN
};

// Every diagnostic record of `handle` (SQL_HANDLE_ENV/DBC/STMT).
std::vector<Diagnostic> ReadDiagnostics(SQLSMALLINT handle_type, SQLHANDLE handle);

// Maps the first error record of `diagnostics` to a Status; `action` says what
// was being done ("connecting", "running SQL '...'"). An empty list (a driver
// that failed without a record) is kInternal.
sdk::Status MapDiagnostics(const std::vector<Diagnostic>& diagnostics, const ErrorContext& context,
                           std::string_view action);

// True when the SQLSTATE says the connection itself is gone (08xxx, 57P01,
// 57P02, 57P03), so nothing more can be done on it.
bool IsLinkLost(std::string_view sqlstate) noexcept;

}  // namespace scaleout::plugins::odbc

#endif  // SCALEOUT_PLUGINS_STORAGE_ODBC_ERRORS_H_
