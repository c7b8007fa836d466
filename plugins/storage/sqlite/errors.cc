#include "plugins/storage/sqlite/errors.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

namespace scaleout::plugins::sqlite {
namespace {

using sdk::Status;

std::string Quoted(std::string_view path) { return "'" + std::string(path) + "'"; }

// The directory that holds `path` ("." for a bare file name).
std::string ParentOf(std::string_view path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

Status CantOpen(int os_errno, const ErrorContext& context, const std::string& detail) {
  const std::string file = Quoted(context.path);
  std::error_code ec;
  const std::string dir = ParentOf(context.path);
  if (os_errno == EACCES || os_errno == EPERM || os_errno == EROFS) {
    return Status::PermissionDenied(
        "cannot open database file " + file + ": " + std::strerror(os_errno) + " (" + detail +
        "); give this user read and write access to the file and to "
        "its directory '" +
        dir + "' (SQLite creates -wal and -shm files there), or fix 'path'");
  }
  if (os_errno == EISDIR ||
      std::filesystem::is_directory(std::filesystem::path(context.path), ec)) {
    return Status::InvalidArgument("database path " + file +
                                   " is a directory; set 'path' to a file inside it, e.g. " +
                                   (std::filesystem::path(context.path) / "catalog.db").string());
  }
  if (!std::filesystem::is_directory(std::filesystem::path(dir), ec)) {
    return Status::NotFound("cannot open database file " + file + ": its directory '" + dir +
                            "' does not exist; create it or fix 'path'");
  }
  if (!std::filesystem::exists(std::filesystem::path(context.path), ec)) {
    // Open() checks for a missing file when create=false, so here SQLite
    // tried to create the file and could not. Its last errno is often the
    // ENOENT of its read-only retry, so ask the directory directly.
    if (access(dir.c_str(), W_OK | X_OK) != 0) {
      return Status::PermissionDenied("cannot create database file " + file + ": its directory '" +
                                      dir +
                                      "' is not writable by this user; make it writable or "
                                      "point 'path' at a writable directory");
    }
    return Status::NotFound("database file " + file + " does not exist and could not be created (" +
                            detail + "); fix 'path'");
  }
  return Status::PermissionDenied("cannot open database file " + file + " (" + detail +
                                  "); check that this user may read and write it and its "
                                  "directory '" +
                                  dir + "'");
}

}  // namespace

Status MapError(int rc, sqlite3* db, const ErrorContext& context, std::string_view action) {
  // sqlite3_errmsg describes the most recent failure on `db`, which is `rc`
  // as long as the caller maps it right away (connections are single-threaded).
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  detail = "sqlite: " + detail;
  const int os_errno = db != nullptr ? sqlite3_system_errno(db) : 0;
  const std::string file = Quoted(context.path);
  const std::string what = std::string(action) + " on " + file;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(
          "database file " + file + " is locked by another process or connection (" + detail +
          ", while " + std::string(action) + "); stop the other master or raise busy_timeout_ms");
    case SQLITE_READONLY:
      if (context.read_only) {
        return Status::PermissionDenied("database file " + file +
                                        " was opened with read_only=true, so writing is refused (" +
                                        detail + "); set read_only=false to write");
      }
      return Status::PermissionDenied(
          "database file " + file + " is read-only (" + detail +
          "); make the file and its directory writable by this user, or set read_only=true to "
          "only read it");
    case SQLITE_PERM:
    case SQLITE_AUTH: return Status::PermissionDenied(what + " was refused (" + detail + ")");
    case SQLITE_NOTADB:
      return Status::InvalidArgument(file + " is not an SQLite database (" + detail +
                                     "); point 'path' at the catalog file, or move this file "
                                     "away so a new catalog is created");
    case SQLITE_CORRUPT:
      return Status::DataLoss(file + " is corrupt (" + detail + ", while " + std::string(action) +
                              "); restore the catalog from backup");
    case SQLITE_CONSTRAINT:
      return Status::Aborted("constraint failed while " + std::string(action) + " (" + detail +
                             ")");
    case SQLITE_ABORT: return Status::Aborted(what + " was aborted (" + detail + ")");
    case SQLITE_CANTOPEN: return CantOpen(os_errno, context, detail);
    case SQLITE_ERROR:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE: return Status::InvalidArgument(std::string(action) + " failed: " + detail);
    case SQLITE_MISUSE:
      return Status::FailedPrecondition(std::string(action) + " was used incorrectly (" + detail +
                                        "); Reset() a statement before binding or running it "
                                        "again");
    case SQLITE_FULL:
      return Status::ResourceExhausted("the disk holding " + file + " is full (" + detail +
                                       "); free space and retry");
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return Status::ResourceExhausted(what + " ran out of memory or hit a size limit (" + detail +
                                       ")");
    case SQLITE_IOERR:
      return Status::Unavailable("I/O error on database file " + file + " while " +
                                 std::string(action) + " (" + detail +
                                 "); check the disk and the file system");
    case SQLITE_INTERRUPT: return Status::Cancelled(what + " was interrupted (" + detail + ")");
    default:
      return Status::Internal(what + " failed (" + detail + ", code " + std::to_string(rc) + ")");
  }
}

}  // namespace scaleout::plugins::sqlite
