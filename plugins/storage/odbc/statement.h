// OdbcStatement: an sdk::Statement over one ODBC statement handle.
//
// The SQL is prepared once (SQLPrepare) and run with SQLExecute on the first
// Step(); later Steps fetch rows (SQLFetch) and read every column with
// SQLGetData into buffers owned here, in chunks, so values of any length and
// NULLs come through. Bound values are copied into owned buffers and bound
// with SQLBindParameter just before the next execute.
//
// A statement survives a reconnect of its connection: the connection frees
// the handle (Invalidate) before dropping the link, and the next use
// prepares the same SQL again on the new link and rebinds the kept values.
//
// Ownership: owns its handle and buffers; borrows its OdbcConnection, which
// must outlive it (as the SDK requires). Thread-safety: none; one thread at a
// time, the thread that uses the connection.
#ifndef SCALEOUT_PLUGINS_STORAGE_ODBC_STATEMENT_H_
#define SCALEOUT_PLUGINS_STORAGE_ODBC_STATEMENT_H_

#include <sql.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/storage.h"

namespace scaleout::plugins::odbc {

class OdbcConnection;

class OdbcStatement final : public sdk::Statement {
 public:
  // Prepares `sql` on `connection`. Errors: kInvalidArgument for SQL the
  // database rejects, kUnavailable when the link is down.
  static sdk::Result<std::unique_ptr<OdbcStatement>> Create(OdbcConnection* connection,
                                                            std::string_view sql);
  ~OdbcStatement() override;

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

  // Frees the handle; the next use prepares again. Called by the connection
  // before it drops a broken link.
  void Invalidate() noexcept;

  const std::string& sql() const noexcept { return sql_; }

 private:
  // How a column is read: integers and numbers come as text and are parsed
  // here (exact for BIGINT and NUMERIC alike), binary as bytes.
  enum class ColumnKind : std::uint8_t { kInteger, kDouble, kNumeric, kText, kBinary };
  enum class State : std::uint8_t { kIdle, kFetching, kDone };

  struct Param {
    sdk::ValueType type = sdk::ValueType::kNull;
    std::int64_t int_value = 0;
    double double_value = 0;
    std::string bytes;      // text or blob
    SQLLEN indicator = -1;  // SQL_NULL_DATA
    bool dirty = true;      // changed since last bound to the handle
  };
  struct Value {
    sdk::ValueType type = sdk::ValueType::kNull;
    std::string bytes;  // the text (also of numbers) or the blob
    std::int64_t int_value = 0;
    double double_value = 0;
  };

  OdbcStatement(OdbcConnection* connection, std::string sql);

  // Prepares on the connection's current link unless already done.
  sdk::Status EnsurePrepared();
  sdk::Status Describe(SQLSMALLINT count);
  sdk::Status BindDirty();
  sdk::Result<bool> Execute();
  sdk::Result<bool> FetchRow();
  sdk::Status ReadColumn(int column);
  void CloseCursor() noexcept;
  // Checks that `index` is a parameter and that the statement is idle.
  sdk::Status CheckBindable(int index) const;
  Param& ParamAt(int index) { return params_[static_cast<std::size_t>(index - 1)]; }
  const Value* Readable(int column) const;
  sdk::Status Failure(std::string_view action);

  OdbcConnection* const connection_;  // borrowed; outlives this object
  const std::string sql_;
  const bool only_reads_;
  SQLHSTMT handle_ = SQL_NULL_HSTMT;  // owned; null when invalidated
  std::uint64_t prepared_generation_ = 0;
  int param_count_ = 0;
  std::vector<Param> params_;  // sized once at the first prepare; never reallocated after
  std::vector<ColumnKind> columns_;
  std::vector<Value> row_;
  State state_ = State::kIdle;
  bool has_row_ = false;
  std::int64_t rows_affected_ = 0;
  std::int64_t executed_row_count_ = 0;  // SQLRowCount right after the execute
};

}  // namespace scaleout::plugins::odbc

#endif  // SCALEOUT_PLUGINS_STORAGE_ODBC_STATEMENT_H_
