#include "plugins/storage/sqlite/connection.h"

#include <sqlite3.h>

#include <climits>
#include <cstdint>
#include <filesystem>
#include <system_error>
#include <utility>

namespace scaleout::plugins::sqlite {

using sdk::Result;
using sdk::Status;

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Shorten(std::string_view sql) {
  constexpr std::size_t kMax = 200;
  if (sql.size() <= kMax) return std::string(sql);
  return std::string(sql.substr(0, kMax)) + "...";
}

bool OnlySeparators(const char* begin, const char* end) {
  for (const char* p = begin; p < end; ++p) {
    if (*p != ';' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') return false;
  }
  return true;
}

}  // namespace

void SqliteConnection::StmtFinalizer::operator()(sqlite3_stmt* stmt) const noexcept {
  sqlite3_finalize(stmt);
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const Options& options) {
  const ErrorContext context{options.path, options.read_only};
  // Without SQLITE_OPEN_CREATE SQLite only says "unable to open database
  // file"; checking first lets the message say what is missing and what to do.
  std::error_code ec;
  if ((!options.create || options.read_only) &&
      !std::filesystem::exists(std::filesystem::path(options.path), ec)) {
    return Status::NotFound("database file '" + options.path + "' does not exist" +
                            (options.read_only
                                 ? std::string("; fix 'path' (read_only=true never creates it)")
                                 : std::string("; fix 'path', or set create=true to make a new "
                                               "catalog there")));
  }
  int flags = SQLITE_OPEN_NOMUTEX;
#ifdef SQLITE_OPEN_EXRESCODE
  flags |= SQLITE_OPEN_EXRESCODE;
#endif
  if (options.read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE;
    if (options.create) flags |= SQLITE_OPEN_CREATE;
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    // sqlite3_open_v2 hands back a handle even on failure (for the message).
    Status status = MapError(rc, db, context, "opening the database");
    sqlite3_close_v2(db);
    return status;
  }
  // A larger lookaside pool (1000 slots of 1200 bytes, about 1.2 MiB per
  // connection; SQLite's default is 100): the cursors and values of every
  // statement step come from it instead of malloc/free, about 3 % of the
  // writer's CPU. Only a hint, so a refusal (SQLITE_BUSY once the pool is in
  // use, which it is not right after open) is not an error.
  (void)sqlite3_db_config(db, SQLITE_DBCONFIG_LOOKASIDE, nullptr, 1200, 1000);
  std::unique_ptr<SqliteConnection> connection(new SqliteConnection(db, options));
  SCALEOUT_RETURN_IF_ERROR(connection->Configure());
  return connection;
}

SqliteConnection::SqliteConnection(sqlite3* db, const Options& options)
    : db_(db), options_(options), context_{options_.path, options_.read_only} {}

SqliteConnection::~SqliteConnection() {
  // Every statement must be finalized before the handle is closed; close_v2
  // still defers the close if a caller leaked a Prepare()d statement.
  for (FrontEntry& entry : front_) entry = FrontEntry{};
  cache_.clear();
  begin_write_.reset();
  begin_read_.reset();
  commit_.reset();
  rollback_.reset();
  sqlite3_close_v2(db_);
}

Status SqliteConnection::Configure() {
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options_.busy_timeout_ms);

  // SQLITE_OPEN_READWRITE quietly falls back to read-only when the OS refuses
  // write access; a catalog that cannot write must fail now, not at the first
  // commit.
  if (!options_.read_only && sqlite3_db_readonly(db_, "main") == 1) {
    return Status::PermissionDenied(
        "database file '" + options_.path +
        "' is read-only for this user; make the file and its directory writable, or set "
        "read_only=true to only read it");
  }
  // Opening is lazy: reading the schema forces SQLite to read and check the
  // header and the schema page, so a file that is not a database (or whose
  // first page is damaged) fails here and not at the first query.
  SCALEOUT_RETURN_IF_ERROR(QueryPragma("SELECT count(*) FROM sqlite_schema").status());

  SCALEOUT_ASSIGN_OR_RETURN(std::string fk, QueryPragma("PRAGMA foreign_keys=ON"));
  SCALEOUT_ASSIGN_OR_RETURN(fk, QueryPragma("PRAGMA foreign_keys"));
  if (fk != "1") {
    return Status::Unimplemented("this SQLite library cannot enforce foreign keys (" +
                                 std::string(sqlite3_libversion()) +
                                 "); use a build without SQLITE_OMIT_FOREIGN_KEY");
  }
  // The journal mode is a property of the file; a read-only connection can
  // neither change it nor needs to.
  if (!options_.read_only) {
    const std::string wanted = Lower(JournalModeName(options_.journal_mode));
    SCALEOUT_ASSIGN_OR_RETURN(std::string mode, QueryPragma("PRAGMA journal_mode=" + wanted));
    if (Lower(mode) != wanted) {
      return Status::FailedPrecondition("could not set journal_mode=" + wanted +
                                        " on database file '" + options_.path + "' (it stays '" +
                                        mode +
                                        "'); WAL needs a local file system with shared memory; "
                                        "use a local disk or set journal_mode=DELETE");
    }
  }
  SCALEOUT_RETURN_IF_ERROR(
      QueryPragma("PRAGMA synchronous=" + std::string(SynchronousName(options_.synchronous)))
          .status());
  // A negative cache_size is in KiB.
  SCALEOUT_RETURN_IF_ERROR(
      QueryPragma("PRAGMA cache_size=-" + std::to_string(options_.cache_size_mib * 1024)).status());

  SCALEOUT_ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                            PrepareRaw("BEGIN IMMEDIATE", SQLITE_PREPARE_PERSISTENT));
  begin_write_.reset(stmt);
  SCALEOUT_ASSIGN_OR_RETURN(stmt, PrepareRaw("BEGIN DEFERRED", SQLITE_PREPARE_PERSISTENT));
  begin_read_.reset(stmt);
  SCALEOUT_ASSIGN_OR_RETURN(stmt, PrepareRaw("COMMIT", SQLITE_PREPARE_PERSISTENT));
  commit_.reset(stmt);
  SCALEOUT_ASSIGN_OR_RETURN(stmt, PrepareRaw("ROLLBACK", SQLITE_PREPARE_PERSISTENT));
  rollback_.reset(stmt);
  return Status::Ok();
}

Result<std::string> SqliteConnection::QueryPragma(const std::string& sql) {
  SCALEOUT_ASSIGN_OR_RETURN(sqlite3_stmt * raw, PrepareRaw(sql, 0));
  StmtPtr stmt(raw);
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return std::string();
  if (rc != SQLITE_ROW) return MapError(rc, db_, context_, "running '" + sql + "'");
  const unsigned char* text = sqlite3_column_text(stmt.get(), 0);
  return text != nullptr ? std::string(reinterpret_cast<const char*>(text)) : std::string();
}

Result<sqlite3_stmt*> SqliteConnection::PrepareRaw(std::string_view sql, unsigned int flags) {
  if (sql.size() >= static_cast<std::size_t>(INT_MAX)) {
    return Status::ResourceExhausted("SQL text of " + std::to_string(sql.size()) +
                                     " bytes is too long for SQLite");
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const int rc =
      sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), flags, &stmt, &tail);
  if (rc != SQLITE_OK) {
    return MapError(rc, db_, context_, "preparing SQL '" + Shorten(sql) + "'");
  }
  if (stmt == nullptr) {
    return Status::InvalidArgument("the SQL text is empty (only blanks or comments): '" +
                                   Shorten(sql) + "'");
  }
  if (tail != nullptr && !OnlySeparators(tail, sql.data() + sql.size())) {
    sqlite3_finalize(stmt);
    return Status::InvalidArgument(
        "Prepare() takes one statement, but the SQL continues after the first one: '" +
        Shorten(sql) + "'; use ExecuteScript() for several statements");
  }
  return stmt;
}

Result<std::unique_ptr<sdk::Statement>> SqliteConnection::Prepare(std::string_view sql) {
  SCALEOUT_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, PrepareRaw(sql, 0));
  return std::unique_ptr<sdk::Statement>(std::make_unique<SqliteStatement>(db_, stmt, &context_));
}

std::size_t SqliteConnection::FrontSlot(std::string_view sql) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(sql.data());
  return ((address >> 3) ^ (address >> 11) ^ sql.size()) & (kFrontSize - 1);
}

Result<sdk::Statement*> SqliteConnection::PrepareCached(std::string_view sql) {
  FrontEntry& front = front_[FrontSlot(sql)];
  if (front.data == sql.data() && front.key != nullptr && std::string_view(*front.key) == sql) {
    SCALEOUT_RETURN_IF_ERROR(front.statement->Reset());
    return static_cast<sdk::Statement*>(front.statement);
  }
  if (auto it = cache_.find(sql); it != cache_.end()) {
    SCALEOUT_RETURN_IF_ERROR(it->second->Reset());
    front = FrontEntry{sql.data(), &it->first, it->second.get()};
    return static_cast<sdk::Statement*>(it->second.get());
  }
  if (cache_.size() >= static_cast<std::size_t>(options_.statement_cache_size)) {
    return Status::ResourceExhausted(
        "the statement cache of this connection is full (statement_cache_size=" +
        std::to_string(options_.statement_cache_size) +
        "); raise statement_cache_size, or use Prepare() for SQL whose text varies");
  }
  // PERSISTENT tells SQLite the statement lives long, so it takes its memory
  // from the heap instead of the lookaside pool meant for short-lived ones.
  SCALEOUT_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, PrepareRaw(sql, SQLITE_PREPARE_PERSISTENT));
  auto statement = std::make_unique<SqliteStatement>(db_, stmt, &context_);
  SqliteStatement* result = statement.get();
  auto it = cache_.emplace(std::string(sql), std::move(statement)).first;
  front = FrontEntry{sql.data(), &it->first, result};
  return static_cast<sdk::Statement*>(result);
}

Status SqliteConnection::ExecuteScript(std::string_view sql) {
  const std::string text(sql);  // sqlite3_exec needs a NUL-terminated string
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) return Status::Ok();
  return MapError(rc, db_, context_, "running script '" + Shorten(sql) + "'");
}

Status SqliteConnection::RunControl(sqlite3_stmt* stmt, std::string_view action) {
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::Ok();
  return MapError(rc, db_, context_, action);
}

Status SqliteConnection::Begin(sdk::TransactionMode mode) {
  if (InTransaction()) {
    return Status::FailedPrecondition(
        "a transaction is already open on this connection; Commit() or Rollback() it before "
        "Begin() (nested transactions are not supported)");
  }
  if (mode == sdk::TransactionMode::kWrite) {
    return RunControl(begin_write_.get(), "beginning a write transaction (BEGIN IMMEDIATE)");
  }
  return RunControl(begin_read_.get(), "beginning a read transaction");
}

Status SqliteConnection::Commit() {
  if (!InTransaction()) {
    return Status::FailedPrecondition(
        "Commit() called with no open transaction; call Begin() first (SQLite may have rolled "
        "back by itself after an earlier error)");
  }
  return RunControl(commit_.get(), "committing");
}

Status SqliteConnection::Rollback() {
  if (!InTransaction()) return Status::Ok();
  return RunControl(rollback_.get(), "rolling back");
}

bool SqliteConnection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

}  // namespace scaleout::plugins::sqlite
