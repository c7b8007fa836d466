// Turns SQLite result codes into SDK Status values with messages that name
// the database file and say what to do next.
//
// Thread-safety: stateless functions. `db` must be used by the calling thread
// only (it is read for sqlite3_errmsg and the OS errno of the last failure).
#ifndef SCALEOUT_PLUGINS_STORAGE_SQLITE_ERRORS_H_
#define SCALEOUT_PLUGINS_STORAGE_SQLITE_ERRORS_H_

#include <string_view>

#include "scaleout/sdk/status.h"

struct sqlite3;

namespace scaleout::plugins::sqlite {

// What an error message needs to know about the database it came from.
struct ErrorContext {
  std::string_view path;   // the database file
  bool read_only = false;  // opened with read_only=true
};

// Maps `rc` (a primary or extended SQLite result code, not SQLITE_OK) to a
// Status. `db` may be null (then only sqlite3_errstr(rc) is used). `action`
// says what was being done ("preparing SQL", "committing").
//
// Mapping: BUSY/LOCKED -> kUnavailable, READONLY/PERM/AUTH ->
// kPermissionDenied, NOTADB -> kInvalidArgument, CORRUPT -> kDataLoss,
// CONSTRAINT/ABORT -> kAborted, CANTOPEN -> kNotFound or kPermissionDenied
// by the OS errno, ERROR/MISMATCH/RANGE -> kInvalidArgument, MISUSE ->
// kFailedPrecondition, FULL/NOMEM/TOOBIG -> kResourceExhausted, IOERR ->
// kUnavailable, INTERRUPT -> kCancelled, anything else -> kInternal.
sdk::Status MapError(int rc, sqlite3* db, const ErrorContext& context, std::string_view action);

}  // namespace scaleout::plugins::sqlite

#endif  // SCALEOUT_PLUGINS_STORAGE_SQLITE_ERRORS_H_
