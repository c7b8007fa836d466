// SqliteStatement: an sdk::Statement over one sqlite3_stmt.
//
// Ownership: owns its sqlite3_stmt (finalized in the destructor); borrows the
// sqlite3 handle and the ErrorContext of its SqliteConnection, which must
// outlive it. Thread-safety: none; one thread at a time, the same thread that
// uses the connection.
#ifndef SCALEOUT_PLUGINS_STORAGE_SQLITE_STATEMENT_H_
#define SCALEOUT_PLUGINS_STORAGE_SQLITE_STATEMENT_H_

#include <cstdint>
#include <string_view>

#include "plugins/storage/sqlite/errors.h"
#include "scaleout/sdk/storage.h"

struct sqlite3;
struct sqlite3_stmt;

namespace scaleout::plugins::sqlite {

class SqliteStatement final : public sdk::Statement {
 public:
  // Takes ownership of `stmt` (not null). `context` must outlive this object.
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt, const ErrorContext* context) noexcept;
  ~SqliteStatement() override;

  sdk::Status BindNull(int index) override;
  sdk::Status BindInt64(int index, std::int64_t value) override;
  sdk::Status BindDouble(int index, double value) override;
  sdk::Status BindText(int index, std::string_view value) override;
  sdk::Status BindBlob(int index, sdk::ByteView value) override;

  sdk::Result<bool> Step() override;

  int ColumnCount() const override;
  sdk::ValueType ColumnType(int column) const override;
  std::int64_t ColumnInt64(int column) const override;
  double ColumnDouble(int column) const override;
  std::string_view ColumnText(int column) const override;
  sdk::ByteView ColumnBlob(int column) const override;

  std::int64_t RowsAffected() const override;

  sdk::Status Reset() override;

 private:
  // Turns a bind result code into a Status that names the parameter.
  sdk::Status CheckBind(int rc, int index);
  // True when a row is current and `column` is one of its columns; SQLite's
  // column functions are undefined otherwise.
  bool ColumnReadable(int column) const;

  sqlite3* db_;                  // borrowed from the connection
  sqlite3_stmt* stmt_;           // owned
  const ErrorContext* context_;  // borrowed from the connection
  bool has_row_ = false;
  // What Reset() has to undo: a Step() since the last reset, a binding since
  // the last clear. A cached statement is reset when fetched and when its
  // user is done with it; the second reset of the pair then costs nothing.
  bool stepped_ = false;
  bool bound_ = false;
  std::int64_t rows_affected_ = 0;
};

}  // namespace scaleout::plugins::sqlite

#endif  // SCALEOUT_PLUGINS_STORAGE_SQLITE_STATEMENT_H_
