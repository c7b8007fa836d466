// Storage: a SQL driver for the catalog.
//
// Core owns the schema and every query; a storage plugin only connects,
// prepares, binds, steps and manages transactions. SQL text uses `?`
// parameter markers (SQLite and ODBC both accept them). Types that differ
// between databases are described by the Dialect, which core substitutes
// into its DDL and chooses queries by (SKIP LOCKED, RETURNING).
//
// Object graph and ownership:
//   Storage (one per process, created by the host)
//     └─ Connection (many; each used by one thread at a time)
//          └─ Statement (owned by the caller via unique_ptr, or by the
//             connection when obtained from PrepareCached)
// A Connection must outlive its Statements; the Storage must outlive its
// Connections. The host keeps the plugin library loaded until all are gone.
#ifndef SCALEOUT_SDK_STORAGE_H_
#define SCALEOUT_SDK_STORAGE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "scaleout/sdk/bytes.h"
#include "scaleout/sdk/status.h"

namespace scaleout::sdk {

// How a database spells what differs. Core writes portable SQL with these.
struct Dialect {
  std::string name;         // "sqlite", "postgresql"
  std::string int64_type;   // "INTEGER" / "BIGINT"
  std::string double_type;  // "REAL" / "DOUBLE PRECISION"
  std::string text_type;    // "TEXT"
  std::string blob_type;    // "BLOB" / "BYTEA"
  std::string
      identity_primary_key;         // "INTEGER PRIMARY KEY AUTOINCREMENT" / "BIGSERIAL PRIMARY KEY"
  bool supports_returning = false;  // INSERT ... RETURNING
  bool supports_skip_locked = false;  // SELECT ... FOR UPDATE SKIP LOCKED
  int max_bind_parameters = 999;      // per statement
};

enum class ValueType : std::uint8_t { kNull = 0, kInt64, kDouble, kText, kBlob };

enum class TransactionMode : std::uint8_t {
  kRead,   // a consistent read
  kWrite,  // takes the write lock at once (SQLite BEGIN IMMEDIATE), so it cannot fail to upgrade
};

// A prepared statement. Not thread-safe: one thread at a time, and only
// while its Connection is used by that same thread.
class Statement {
 public:
  virtual ~Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds the `index`-th `?` (1-based). Text and blob values are copied.
  virtual Status BindNull(int index) = 0;
  virtual Status BindInt64(int index, std::int64_t value) = 0;
  virtual Status BindDouble(int index, double value) = 0;
  virtual Status BindText(int index, std::string_view value) = 0;
  virtual Status BindBlob(int index, ByteView value) = 0;

  // Runs the statement or advances to its next row. Returns true when a row
  // is available, false when the statement has finished.
  // Errors: kAborted for a constraint/serialization conflict, kUnavailable
  // when the database is busy or the connection was lost, kInternal otherwise.
  virtual Result<bool> Step() = 0;

  // Column access, 0-based, valid only after Step() returned true. Views stay
  // valid until the next Step() or Reset(). A NULL reads as 0 / "" here.
  virtual int ColumnCount() const = 0;
  virtual ValueType ColumnType(int column) const = 0;
  virtual std::int64_t ColumnInt64(int column) const = 0;
  virtual double ColumnDouble(int column) const = 0;
  virtual std::string_view ColumnText(int column) const = 0;
  virtual ByteView ColumnBlob(int column) const = 0;

  // Rows inserted, updated or deleted by the last finished Step().
  virtual std::int64_t RowsAffected() const = 0;

  // Makes the statement ready to run again and clears every binding.
  virtual Status Reset() = 0;

 protected:
  Statement() = default;
};

// One connection to the database. Not thread-safe: use from one thread at a time.
class Connection {
 public:
  virtual ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Prepares `sql`; the caller owns the result. Errors: kInvalidArgument for
  // SQL the database rejects (the message includes the database's words).
  virtual Result<std::unique_ptr<Statement>> Prepare(std::string_view sql) = 0;

  // Like Prepare, but the connection keeps and reuses the statement, keyed by
  // the exact SQL text. The statement comes back reset with no bindings; it is
  // owned by the connection and valid until the connection is destroyed.
  // REQUIRES: the caller is done with a previous statement for the same SQL.
  virtual Result<Statement*> PrepareCached(std::string_view sql) = 0;

  // Runs one or more `;`-separated statements without parameters or rows (DDL, PRAGMA).
  virtual Status ExecuteScript(std::string_view sql) = 0;

  // Transactions. Nesting is not supported: Begin() inside a transaction is
  // kFailedPrecondition. Commit() returns OK only once the transaction is
  // durable to the degree the plugin's configuration promises.
  virtual Status Begin(TransactionMode mode) = 0;
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;
  virtual bool InTransaction() const = 0;

 protected:
  Connection() = default;
};

// The storage plugin object. Thread-safe: Open() may be called from any thread.
class Storage {
 public:
  virtual ~Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // Checks that the database is reachable and usable (file opens, server
  // answers). Called once by the host before any Open(). Errors name the
  // database and say what to fix.
  virtual Status Start() = 0;
  // Called before destruction; every Connection must be gone by then.
  virtual void Stop() noexcept = 0;

  virtual const Dialect& GetDialect() const = 0;

  // Opens a new connection with the plugin's configured settings.
  virtual Result<std::unique_ptr<Connection>> Open() = 0;

  // "sqlite file /var/lib/scaleout/catalog.db": for logs and error messages.
  virtual std::string Describe() const = 0;

 protected:
  Storage() = default;
};

}  // namespace scaleout::sdk

#endif  // SCALEOUT_SDK_STORAGE_H_
