// OdbcConnection: an sdk::Connection over one ODBC connection handle.
//
// Transactions: PostgreSQL uses ODBC's manual-commit mode (autocommit off
// between Begin and Commit/Rollback, SQLEndTran), so statements outside a
// transaction commit at once. SQLite keeps the driver in autocommit mode and
// runs BEGIN IMMEDIATE / BEGIN DEFERRED / COMMIT / ROLLBACK itself, because
// its driver can only BEGIN DEFERRED, and a write transaction must take the
// write lock up front.
//
// Reconnect: a failure that shows the link is gone (SQLSTATE 08xxx, 57P01..3,
// or the driver saying the connection is dead) marks the connection broken
// and is reported as kUnavailable. Nothing is retried behind the caller's
// back: the next call reopens the link (up to reconnect_attempts tries) and
// prepares statements again on it. A link lost inside a transaction leaves
// the transaction failed: every call but Rollback() is refused until the
// caller rolls back, so no statement of a half-lost transaction can run on
// the new link in autocommit mode.
//
// Ownership: owns the link, the statement cache, and the registry of live
// statements (to free their handles before a link is dropped). Statements
// from Prepare() borrow the connection, which must outlive them.
// Thread-safety: none; one thread at a time.
#ifndef SCALEOUT_PLUGINS_STORAGE_ODBC_CONNECTION_H_
#define SCALEOUT_PLUGINS_STORAGE_ODBC_CONNECTION_H_

#include <sql.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "plugins/storage/odbc/errors.h"
#include "plugins/storage/odbc/options.h"
#include "plugins/storage/odbc/statement.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::plugins::odbc {

// An ODBC environment handle (ODBC 3 behaviour). Shared by the storage and
// every connection, freed after the last of them. Thread-safe (the driver
// manager locks it).
class Environment {
 public:
  static sdk::Result<std::shared_ptr<Environment>> Create();
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  SQLHENV handle() const noexcept { return handle_; }

 private:
  explicit Environment(SQLHENV handle) : handle_(handle) {}
  SQLHENV handle_;
};

// Everything a connection needs, fixed at Start(). Immutable, shared.
struct ConnectionSettings {
  std::shared_ptr<Environment> environment;
  Options options;
  ErrorContext context;
  sdk::Dialect dialect;
  sdk::Logger* logger = nullptr;  // the host's; outlives the storage
};

// One connected ODBC connection handle; disconnects and frees it on destruction.
class Link {
 public:
  // Connects with the configured string and login timeout.
  static sdk::Result<std::unique_ptr<Link>> Connect(const Environment& environment,
                                                    const Options& options,
                                                    const ErrorContext& context);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  SQLHDBC handle() const noexcept { return handle_; }
  // A string from SQLGetInfo (SQL_DBMS_NAME, SQL_DBMS_VER, SQL_DRIVER_NAME).
  std::string Info(SQLUSMALLINT what) const;

 private:
  explicit Link(SQLHDBC handle) : handle_(handle) {}
  SQLHDBC handle_;
};

class OdbcConnection final : public sdk::Connection {
 public:
  // Connects and configures a new link. Safe to call from any thread at the
  // same time (each call makes its own handle).
  static sdk::Result<std::unique_ptr<OdbcConnection>> Open(
      std::shared_ptr<const ConnectionSettings> settings);

  ~OdbcConnection() override;

  sdk::Result<std::unique_ptr<sdk::Statement>> Prepare(std::string_view sql) override;
  // Bounded, not LRU: the SDK promises a cached statement stays valid until
  // the connection is destroyed, so none is ever evicted. When the cache is
  // full this fails with kResourceExhausted (use Prepare() for dynamic SQL).
  sdk::Result<sdk::Statement*> PrepareCached(std::string_view sql) override;
  // Splits the script at ';' (see SplitStatements) and runs each statement.
  sdk::Status ExecuteScript(std::string_view sql) override;

  sdk::Status Begin(sdk::TransactionMode mode) override;
  sdk::Status Commit() override;
  // OK when no transaction is open, and when the link was lost (the server
  // rolled the transaction back when it lost the connection).
  sdk::Status Rollback() override;
  bool InTransaction() const override { return in_transaction_; }

  // ---- for OdbcStatement ----
  // Reopens a broken link; refuses while a lost transaction is not rolled back.
  sdk::Status EnsureUsable();
  SQLHDBC dbc() const noexcept { return link_ != nullptr ? link_->handle() : SQL_NULL_HDBC; }
  // Grows by one with every reconnect; statements prepared on an older one prepare again.
  std::uint64_t generation() const noexcept { return generation_; }
  // Maps the diagnostics of `handle` to a Status; when they show the link is
  // gone, marks the connection broken and says what happens next.
  sdk::Status Failure(SQLSMALLINT handle_type, SQLHANDLE handle, std::string_view action);
  void Register(OdbcStatement* statement) { statements_.insert(statement); }
  void Unregister(OdbcStatement* statement) { statements_.erase(statement); }

  // For tests: statements in the cache, and reconnects done so far.
  std::size_t cached_statements() const noexcept { return cache_.size(); }
  std::uint64_t reconnects() const noexcept { return generation_ - 1; }

 private:
  explicit OdbcConnection(std::shared_ptr<const ConnectionSettings> settings);

  bool IsSqlite() const { return settings_->dialect.name == "sqlite"; }
  // Per-link settings: autocommit on, SQLite's foreign keys.
  sdk::Status Configure();
  sdk::Status Reconnect();
  // Runs one statement without parameters, discarding any rows.
  sdk::Status RunDirect(std::string_view sql, std::string_view action);
  sdk::Status SetAutocommit(bool on);
  // True when the driver reports the link dead (SQL_ATTR_CONNECTION_DEAD).
  bool LinkDead() const;
  void MarkBroken();

  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const noexcept {
      return std::hash<std::string_view>{}(sql);
    }
  };

  const std::shared_ptr<const ConnectionSettings> settings_;
  std::unique_ptr<Link> link_;  // null only after a failed reconnect
  std::uint64_t generation_ = 1;
  bool broken_ = false;                            // the link is gone; the next call reconnects
  bool in_transaction_ = false;                    // between Begin and Commit/Rollback
  bool transaction_lost_ = false;                  // the link broke inside the open transaction
  std::unordered_set<OdbcStatement*> statements_;  // every live statement, cached or not
  std::unordered_map<std::string, std::unique_ptr<OdbcStatement>, SqlHash, std::equal_to<>> cache_;
};

}  // namespace scaleout::plugins::odbc

#endif  // SCALEOUT_PLUGINS_STORAGE_ODBC_CONNECTION_H_
