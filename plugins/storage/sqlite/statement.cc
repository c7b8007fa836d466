#include "plugins/storage/sqlite/statement.h"

#include <sqlite3.h>

#include <string>

namespace scaleout::plugins::sqlite {

using sdk::Result;
using sdk::Status;
using sdk::ValueType;

namespace {

// The SQL of `stmt`, shortened for error messages.
std::string SqlOf(sqlite3_stmt* stmt) {
  const char* sql = sqlite3_sql(stmt);
  std::string text = sql != nullptr ? sql : "";
  constexpr std::size_t kMax = 200;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

}  // namespace

SqliteStatement::SqliteStatement(sqlite3* db, sqlite3_stmt* stmt,
                                 const ErrorContext* context) noexcept
    : db_(db), stmt_(stmt), context_(context) {}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

Status SqliteStatement::CheckBind(int rc, int index) {
  bound_ = true;
  if (rc == SQLITE_OK) return Status::Ok();
  if (rc == SQLITE_RANGE) {
    return Status::InvalidArgument("bind index " + std::to_string(index) +
                                   " is out of range: the statement has " +
                                   std::to_string(sqlite3_bind_parameter_count(stmt_)) +
                                   " parameters (1-based): " + SqlOf(stmt_));
  }
  if (rc == SQLITE_MISUSE) {
    return Status::FailedPrecondition(
        "cannot bind parameter " + std::to_string(index) +
        " while the statement is running; call Reset() first: " + SqlOf(stmt_));
  }
  return MapError(rc, db_, *context_, "binding parameter " + std::to_string(index));
}

Status SqliteStatement::BindNull(int index) {
  return CheckBind(sqlite3_bind_null(stmt_, index), index);
}

Status SqliteStatement::BindInt64(int index, std::int64_t value) {
  return CheckBind(sqlite3_bind_int64(stmt_, index, value), index);
}

Status SqliteStatement::BindDouble(int index, double value) {
  return CheckBind(sqlite3_bind_double(stmt_, index, value), index);
}

Status SqliteStatement::BindText(int index, std::string_view value) {
  // A null data pointer would bind SQL NULL; an empty string must stay ''.
  const char* data = value.data() != nullptr ? value.data() : "";
  return CheckBind(
      sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
}

Status SqliteStatement::BindBlob(int index, sdk::ByteView value) {
  // sqlite3_bind_blob with a null pointer binds NULL, so an empty view (whose
  // data() may be null) is bound as a zero-length blob explicitly.
  if (value.empty()) return CheckBind(sqlite3_bind_zeroblob(stmt_, index, 0), index);
  return CheckBind(sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT),
                   index);
}

Result<bool> SqliteStatement::Step() {
  stepped_ = true;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    has_row_ = true;
    return true;
  }
  has_row_ = false;
  if (rc == SQLITE_DONE) {
    // sqlite3_changes64 reports the last INSERT/UPDATE/DELETE on the whole
    // connection, so a read-only statement must not inherit that number.
    rows_affected_ = sqlite3_stmt_readonly(stmt_) ? 0 : sqlite3_changes64(db_);
    return false;
  }
  Status status = MapError(rc, db_, *context_, "running SQL '" + SqlOf(stmt_) + "'");
  // Leave the statement runnable again (bindings are kept); its return value
  // repeats the error we already have.
  sqlite3_reset(stmt_);
  return status;
}

bool SqliteStatement::ColumnReadable(int column) const {
  return has_row_ && column >= 0 && column < sqlite3_column_count(stmt_);
}

int SqliteStatement::ColumnCount() const { return sqlite3_column_count(stmt_); }

ValueType SqliteStatement::ColumnType(int column) const {
  if (!ColumnReadable(column)) return ValueType::kNull;
  switch (sqlite3_column_type(stmt_, column)) {
    case SQLITE_INTEGER: return ValueType::kInt64;
    case SQLITE_FLOAT: return ValueType::kDouble;
    case SQLITE_TEXT: return ValueType::kText;
    case SQLITE_BLOB: return ValueType::kBlob;
    default: return ValueType::kNull;
  }
}

std::int64_t SqliteStatement::ColumnInt64(int column) const {
  return ColumnReadable(column) ? sqlite3_column_int64(stmt_, column) : 0;
}

double SqliteStatement::ColumnDouble(int column) const {
  return ColumnReadable(column) ? sqlite3_column_double(stmt_, column) : 0.0;
}

std::string_view SqliteStatement::ColumnText(int column) const {
  if (!ColumnReadable(column)) return {};
  // Fetch the pointer first, then the size: that order is what SQLite
  // documents as safe when a type conversion happens.
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text),
          static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

sdk::ByteView SqliteStatement::ColumnBlob(int column) const {
  if (!ColumnReadable(column)) return {};
  const void* blob = sqlite3_column_blob(stmt_, column);
  if (blob == nullptr) return {};
  return {static_cast<const char*>(blob),
          static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::int64_t SqliteStatement::RowsAffected() const { return rows_affected_; }

Status SqliteStatement::Reset() {
  // rows_affected_ is kept: it describes the last finished Step(), which a
  // caller may read after resetting.
  has_row_ = false;
  // sqlite3_reset returns the error of the last failed step, which Step()
  // already reported; resetting itself cannot fail.
  if (stepped_) sqlite3_reset(stmt_);
  if (bound_) sqlite3_clear_bindings(stmt_);
  stepped_ = false;
  bound_ = false;
  return Status::Ok();
}

}  // namespace scaleout::plugins::sqlite
