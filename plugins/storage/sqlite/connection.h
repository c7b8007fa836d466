// SqliteConnection: an sdk::Connection over one sqlite3 handle.
//
// Each connection has its own handle, opened with SQLITE_OPEN_NOMUTEX: the
// SDK promises that a connection is used by one thread at a time, so SQLite's
// per-connection mutex would only cost time. Open() applies the configured
// PRAGMAs and forces a read of the file header, so a file that is not a
// database or cannot be opened fails here with a clear message.
//
// Ownership: owns the handle, the transaction statements and the statement
// cache. Statements from Prepare() borrow the handle: the connection must
// outlive them (as the SDK requires). Thread-safety: none; one thread at a time.
#ifndef SCALEOUT_PLUGINS_STORAGE_SQLITE_CONNECTION_H_
#define SCALEOUT_PLUGINS_STORAGE_SQLITE_CONNECTION_H_

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "plugins/storage/sqlite/errors.h"
#include "plugins/storage/sqlite/options.h"
#include "plugins/storage/sqlite/statement.h"
#include "scaleout/sdk/storage.h"

struct sqlite3;
struct sqlite3_stmt;

namespace scaleout::plugins::sqlite {

class SqliteConnection final : public sdk::Connection {
 public:
  // Opens `options.path` and applies every setting. Safe to call from any
  // thread at the same time (each call makes its own handle).
  static sdk::Result<std::unique_ptr<SqliteConnection>> Open(const Options& options);

  ~SqliteConnection() override;

  sdk::Result<std::unique_ptr<sdk::Statement>> Prepare(std::string_view sql) override;
  // Bounded, not LRU: the SDK promises a cached statement stays valid until
  // the connection is destroyed, so none is ever evicted. When the cache is
  // full this fails with kResourceExhausted (use Prepare() for dynamic SQL).
  sdk::Result<sdk::Statement*> PrepareCached(std::string_view sql) override;
  sdk::Status ExecuteScript(std::string_view sql) override;

  sdk::Status Begin(sdk::TransactionMode mode) override;
  sdk::Status Commit() override;
  // Rolls back the open transaction; OK when none is open (SQLite rolls back
  // by itself after some errors, and cleanup paths should not have to know).
  sdk::Status Rollback() override;
  // Asks SQLite, so it is right even after SQLite rolled back on its own.
  bool InTransaction() const override;

  // The number of statements in the PrepareCached() cache (for tests).
  std::size_t cached_statements() const noexcept { return cache_.size(); }

 private:
  SqliteConnection(sqlite3* db, const Options& options);

  // Applies busy timeout, PRAGMAs and the header check; prepares BEGIN/COMMIT.
  sdk::Status Configure();
  // Runs one PRAGMA and returns its first result column as text ("" if none).
  sdk::Result<std::string> QueryPragma(const std::string& sql);
  // Prepares one statement with `flags` (SQLITE_PREPARE_*).
  sdk::Result<sqlite3_stmt*> PrepareRaw(std::string_view sql, unsigned int flags);
  // Runs a prepared BEGIN/COMMIT/ROLLBACK statement to completion.
  sdk::Status RunControl(sqlite3_stmt* stmt, std::string_view action);

  struct StmtFinalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept;
  };
  using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

  // Lets the cache be searched with a string_view, without a copy per call.
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const noexcept {
      return std::hash<std::string_view>{}(sql);
    }
  };

  sqlite3* db_;  // owned; closed in the destructor after every statement
  const Options options_;
  const ErrorContext context_;  // points into options_.path; statements borrow it
  // Transaction control, prepared once (they run for every catalog write).
  StmtPtr begin_write_;
  StmtPtr begin_read_;
  StmtPtr commit_;
  StmtPtr rollback_;
  std::unordered_map<std::string, std::unique_ptr<SqliteStatement>, SqlHash, std::equal_to<>>
      cache_;

  // In front of cache_: the hot statements are fixed SQL whose text sits at
  // a fixed address (a literal or a static string), so a small table keyed by
  // that address finds them without hashing the whole text. A hit is checked
  // against the cached text (size and bytes), so a different text that comes
  // to live at a remembered address is never mistaken for it.
  struct FrontEntry {
    const char* data = nullptr;        // the caller's text address when cached
    const std::string* key = nullptr;  // the text itself (cache_'s key; nodes are stable)
    SqliteStatement* statement = nullptr;
  };
  static constexpr std::size_t kFrontSize = 128;  // a power of two
  static std::size_t FrontSlot(std::string_view sql) noexcept;
  FrontEntry front_[kFrontSize];
};

}  // namespace scaleout::plugins::sqlite

#endif  // SCALEOUT_PLUGINS_STORAGE_SQLITE_CONNECTION_H_
