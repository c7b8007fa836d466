#include "plugins/storage/odbc/errors.h"

#include <sqlext.h>

#include <string>

namespace scaleout::plugins::odbc {
namespace {

using sdk::Status;

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool ContainsLower(std::string message, std::string_view needle) {
  for (char& c : message) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return message.find(needle) != std::string::npos;
}

// The record that describes the failure: warnings (01xxx) come first with
// some drivers and only explain the error that follows.
const Diagnostic* Primary(const std::vector<Diagnostic>& diagnostics) {
  for (const Diagnostic& d : diagnostics) {
    if (!StartsWith(d.sqlstate, "01")) return &d;
  }
  return diagnostics.empty() ? nullptr : &diagnostics.front();
}

std::string Detail(const Diagnostic& d) { return d.message + " [SQLSTATE " + d.sqlstate + "]"; }

// SQLite's primary result codes, as the SQLite ODBC driver reports them.
Status MapSqliteCode(const Diagnostic& d, const ErrorContext& context, const std::string& action) {
  const std::string detail = Detail(d);
  switch (d.native & 0xff) {
    case 5:  // SQLITE_BUSY
    case 6:  // SQLITE_LOCKED
      return Status::Unavailable("the database " + context.target +
                                 " is locked by another connection (" + detail + ", while " +
                                 action + "); retry, or raise Timeout in connection_string");
    case 19:  // SQLITE_CONSTRAINT
      return Status::Aborted("constraint failed while " + action + " (" + detail + ")");
    case 4:  // SQLITE_ABORT
      return Status::Aborted(action + " was aborted (" + detail + ")");
    case 8:   // SQLITE_READONLY
    case 3:   // SQLITE_PERM
    case 23:  // SQLITE_AUTH
      return Status::PermissionDenied(action + " was refused: the database " + context.target +
                                      " is read-only for this user (" + detail + ")");
    case 11:  // SQLITE_CORRUPT
    case 26:  // SQLITE_NOTADB
      return Status::DataLoss("the database " + context.target + " is corrupt or not an SQLite " +
                              "database (" + detail + "); restore the catalog from backup");
    case 13:  // SQLITE_FULL
      return Status::ResourceExhausted("the disk holding " + context.target + " is full (" +
                                       detail + "); free space and retry");
    case 14:  // SQLITE_CANTOPEN
      return Status::NotFound("cannot open the database " + context.target + " (" + detail +
                              "); check Database= in connection_string and the directory's "
                              "permissions");
    case 10:  // SQLITE_IOERR
      return Status::Unavailable("I/O error on " + context.target + " while " + action + " (" +
                                 detail + "); check the disk");
    case 1:   // SQLITE_ERROR
    case 20:  // SQLITE_MISMATCH
    case 25:  // SQLITE_RANGE
      return Status::InvalidArgument(action + " failed: " + detail);
    default: return Status::Internal(action + " failed on " + context.target + " (" + detail + ")");
  }
}

}  // namespace

std::vector<Diagnostic> ReadDiagnostics(SQLSMALLINT handle_type, SQLHANDLE handle) {
  std::vector<Diagnostic> out;
  if (handle == SQL_NULL_HANDLE) return out;
  for (SQLSMALLINT record = 1; record <= 16; ++record) {
    SQLCHAR state[6] = {};
    SQLINTEGER native = 0;
    SQLCHAR message[2048] = {};
    SQLSMALLINT length = 0;
    const SQLRETURN rc = SQLGetDiagRec(handle_type, handle, record, state, &native, message,
                                       static_cast<SQLSMALLINT>(sizeof message), &length);
    if (!SQL_SUCCEEDED(rc)) break;
    Diagnostic d;
    d.sqlstate = reinterpret_cast<const char*>(state);
    d.native = native;
    d.message = reinterpret_cast<const char*>(message);
    while (!d.message.empty() &&
           (d.message.back() == '\n' || d.message.back() == ';' || d.message.back() == ' ')) {
      d.message.pop_back();
    }
    out.push_back(std::move(d));
  }
  return out;
}

bool IsLinkLost(std::string_view sqlstate) noexcept {
  // 08001 (cannot connect) and 08004 (server refused) happen before there is
  // a link; they are not a broken one, but a reconnect is still the answer.
  return StartsWith(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

Status MapDiagnostics(const std::vector<Diagnostic>& diagnostics, const ErrorContext& context,
                      std::string_view action_view) {
  const std::string action(action_view);
  const Diagnostic* d = Primary(diagnostics);
  if (d == nullptr) {
    return Status::Internal(action + " failed on " + context.target +
                            " and the ODBC driver gave no diagnostic record");
  }
  const std::string detail = Detail(*d);
  const std::string& s = d->sqlstate;
  const std::string user = context.user.empty() ? std::string("(none given)") : context.user;

  if (StartsWith(s, "28") || ContainsLower(d->message, "password authentication failed") ||
      ContainsLower(d->message, "authentication failed for user")) {
    return Status::Unauthenticated("login failed for user '" + user + "' on " + context.target +
                                   " (" + detail + "); check Uid/Pwd in connection_string");
  }
  // unixODBC reports a Driver= name it cannot find in odbcinst.ini as a
  // library path it failed to open, with only a warning state.
  const bool cannot_open_lib = d->message.find("Can't open lib") != std::string::npos;
  if (s == "IM002" || (cannot_open_lib && d->message.find("file not found") != std::string::npos)) {
    if (!context.driver.empty()) {
      return Status::NotFound("ODBC driver '" + context.driver + "' is not installed (" + detail +
                              "); install it (odbc-postgresql for PostgreSQL, libsqliteodbc for "
                              "SQLite) and check the names odbcinst -q -d lists");
    }
    return Status::NotFound("the ODBC data source of " + context.target + " is not defined (" +
                            detail +
                            "); add it to odbc.ini (odbcinst -q -s lists them) or use "
                            "Driver=... in connection_string");
  }
  if (s == "IM003" || cannot_open_lib) {
    return Status::NotFound("ODBC driver '" + context.driver +
                            "' is registered but its library "
                            "could not be loaded (" +
                            detail +
                            "); reinstall the driver package "
                            "or fix the Driver= path in odbcinst.ini");
  }
  if (s == "IM001" || s == "HYC00") {
    return Status::Unimplemented(action + " is not supported by the ODBC driver of " +
                                 context.target + " (" + detail + ")");
  }
  if (StartsWith(s, "IM")) {
    return Status::InvalidArgument(action +
                                   " failed: the driver manager refused the connection "
                                   "string (" +
                                   detail + "); fix connection_string");
  }
  if (s == "08001" || s == "08004") {
    return Status::Unavailable("cannot connect to " + context.target + " (" + detail +
                               "); check that the server is running and that Server/Port in "
                               "connection_string are right");
  }
  if (IsLinkLost(s)) {
    return Status::Unavailable("lost the connection to " + context.target + " while " + action +
                               " (" + detail + ")");
  }
  if (StartsWith(s, "23")) {
    return Status::Aborted("constraint failed while " + action + " (" + detail + ")");
  }
  if (StartsWith(s, "40")) {
    return Status::Aborted(action + " conflicted with another transaction and was rolled back (" +
                           detail + "); retry the whole transaction");
  }
  if (s == "25P02") {
    return Status::Aborted(action +
                           " was refused because an earlier statement of this "
                           "transaction failed (" +
                           detail + "); roll back and retry");
  }
  if (StartsWith(s, "42") || StartsWith(s, "22") || StartsWith(s, "07") || s == "HY004" ||
      s == "HY009" || s == "HY090" || s == "HY104") {
    return Status::InvalidArgument(action + " failed: " + detail);
  }
  if (StartsWith(s, "53")) {
    return Status::ResourceExhausted(action + " ran out of a server resource on " + context.target +
                                     " (" + detail + ")");
  }
  if (s == "HYT00" || s == "HYT01") {
    return Status::DeadlineExceeded(action + " timed out on " + context.target + " (" + detail +
                                    ")");
  }
  if (s == "HY010" || StartsWith(s, "25")) {
    return Status::FailedPrecondition(action + " was called in the wrong state (" + detail + ")");
  }
  if (s == "HY000" && StartsWith(d->message, "[SQLite]")) return MapSqliteCode(*d, context, action);
  return Status::Internal(action + " failed on " + context.target + " (" + detail + ")");
}

}  // namespace scaleout::plugins::odbc
