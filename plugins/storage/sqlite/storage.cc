#include "plugins/storage/sqlite/storage.h"

#include <sqlite3.h>

#include <mutex>
#include <utility>

#include "plugins/storage/sqlite/connection.h"

namespace scaleout::plugins::sqlite {

using sdk::Result;
using sdk::Status;

namespace {

// RETURNING arrived in SQLite 3.35.0; ask the library actually loaded, not
// the header we were compiled against.
constexpr int kFirstVersionWithReturning = 3035000;

sdk::Dialect MakeDialect() {
  sdk::Dialect d;
  d.name = "sqlite";
  d.int64_type = "INTEGER";
  d.double_type = "REAL";
  d.text_type = "TEXT";
  d.blob_type = "BLOB";
  d.identity_primary_key = "INTEGER PRIMARY KEY AUTOINCREMENT";
  d.supports_returning = sqlite3_libversion_number() >= kFirstVersionWithReturning;
  d.supports_skip_locked = false;  // SQLite has one writer; there is nothing to skip
  d.max_bind_parameters = 32766;   // SQLITE_MAX_VARIABLE_NUMBER default since 3.32
  return d;
}

// SQLite keeps process-wide memory statistics by default, taking a global
// mutex on every allocation and free: a tenth of the catalog writer's time.
// Nothing here reads them (sqlite3_memory_used, soft heap limits). The switch
// only takes before SQLite initializes; when the process has already used
// SQLite the call is refused (SQLITE_MISUSE) and the statistics stay on.
void TurnOffMemoryStatistics() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

Result<std::unique_ptr<SqliteStorage>> SqliteStorage::Create(const sdk::PluginContext& context) {
  // Connections are opened with SQLITE_OPEN_NOMUTEX and used from many
  // threads (one at a time each); a single-threaded SQLite build cannot do that.
  if (sqlite3_threadsafe() == 0) {
    return Status::Unimplemented(
        "the SQLite library was built with SQLITE_THREADSAFE=0 and cannot be used by several "
        "threads; install a thread-safe SQLite");
  }
  TurnOffMemoryStatistics();
  SCALEOUT_ASSIGN_OR_RETURN(Options options, ParseOptions(*context.config));
  return std::make_unique<SqliteStorage>(std::move(options), context.logger);
}

SqliteStorage::SqliteStorage(Options options, sdk::Logger* logger)
    : options_(std::move(options)), logger_(logger), dialect_(MakeDialect()) {}

Status SqliteStorage::Start() {
  // One real connection checks everything a later Open() needs: the file
  // opens (or is created), is an SQLite database, and takes every setting.
  SCALEOUT_ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> probe,
                            SqliteConnection::Open(options_));
  probe.reset();
  started_.store(true, std::memory_order_release);
  if (logger_->Enabled(sdk::LogLevel::kInfo)) {
    logger_->Info("storage/sqlite: using " + Describe() + " (SQLite " + sqlite3_libversion() +
                  ", journal_mode=" + std::string(JournalModeName(options_.journal_mode)) +
                  ", synchronous=" + std::string(SynchronousName(options_.synchronous)) +
                  ", busy_timeout_ms=" + std::to_string(options_.busy_timeout_ms) + ")");
  }
  if (options_.synchronous != Synchronous::kFull && !options_.read_only) {
    logger_->Warn(
        "storage/sqlite: synchronous=" + std::string(SynchronousName(options_.synchronous)) +
        ": the last acknowledged commits can be lost on power loss");
  }
  return Status::Ok();
}

void SqliteStorage::Stop() noexcept { started_.store(false, std::memory_order_release); }

Result<std::unique_ptr<sdk::Connection>> SqliteStorage::Open() {
  if (!started_.load(std::memory_order_acquire)) {
    return Status::FailedPrecondition("storage/sqlite: Open() called before Start() succeeded");
  }
  SCALEOUT_ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> connection,
                            SqliteConnection::Open(options_));
  return std::unique_ptr<sdk::Connection>(std::move(connection));
}

std::string SqliteStorage::Describe() const {
  return "sqlite file " + options_.path + (options_.read_only ? " (read-only)" : "");
}

}  // namespace scaleout::plugins::sqlite
