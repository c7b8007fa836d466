#include "plugins/storage/odbc/statement.h"

#include <sqlext.h>

#include <charconv>
#include <cstdlib>
#include <limits>
#include <utility>

#include "plugins/storage/odbc/connection.h"
#include "plugins/storage/odbc/sql_text.h"

namespace scaleout::plugins::odbc {

using sdk::Result;
using sdk::Status;
using sdk::ValueType;

namespace {

// Bound in place of a buffer for NULL and empty values: drivers refuse a
// null data pointer even when the indicator says there is nothing to read.
char kEmptyBuffer[1] = {0};

constexpr std::size_t kFirstChunk = 4096;

bool ParseInt(std::string_view text, std::int64_t& out) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, out);
  return ec == std::errc() && ptr == end;
}

bool ParseDouble(std::string_view text, double& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec == std::errc() && ptr == text.data() + text.size()) return true;
  // PostgreSQL spells the special values in words.
  if (text == "NaN")
    out = std::numeric_limits<double>::quiet_NaN();
  else if (text == "Infinity")
    out = std::numeric_limits<double>::infinity();
  else if (text == "-Infinity")
    out = -std::numeric_limits<double>::infinity();
  else
    return false;
  return true;
}

}  // namespace

Result<std::unique_ptr<OdbcStatement>> OdbcStatement::Create(OdbcConnection* connection,
                                                             std::string_view sql) {
  const std::vector<std::string_view> parts = SplitStatements(sql);
  if (parts.empty()) {
    return Status::InvalidArgument("the SQL text is empty (only blanks or comments): '" +
                                   Shorten(sql) + "'");
  }
  if (parts.size() > 1) {
    return Status::InvalidArgument(
        "Prepare() takes one statement, but the SQL continues after the first one: '" +
        Shorten(sql) + "'; use ExecuteScript() for several statements");
  }
  // The driver gets the statement without leading comments or a trailing ';'
  // (the SQLite driver would take either for a second statement).
  std::unique_ptr<OdbcStatement> statement(new OdbcStatement(connection, std::string(parts[0])));
  SCALEOUT_RETURN_IF_ERROR(statement->EnsurePrepared());
  return statement;
}

OdbcStatement::OdbcStatement(OdbcConnection* connection, std::string sql)
    : connection_(connection), sql_(std::move(sql)), only_reads_(OnlyReads(sql_)) {
  connection_->Register(this);
}

OdbcStatement::~OdbcStatement() {
  Invalidate();
  connection_->Unregister(this);
}

void OdbcStatement::Invalidate() noexcept {
  if (handle_ != SQL_NULL_HSTMT) SQLFreeHandle(SQL_HANDLE_STMT, handle_);
  handle_ = SQL_NULL_HSTMT;
  state_ = State::kIdle;
  has_row_ = false;
  for (Param& p : params_) p.dirty = true;
}

Status OdbcStatement::Failure(std::string_view action) {
  return connection_->Failure(SQL_HANDLE_STMT, handle_,
                              std::string(action) + " '" + Shorten(sql_) + "'");
}

Status OdbcStatement::EnsurePrepared() {
  SCALEOUT_RETURN_IF_ERROR(connection_->EnsureUsable());
  if (handle_ != SQL_NULL_HSTMT && prepared_generation_ == connection_->generation()) {
    return Status::Ok();
  }
  Invalidate();
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, connection_->dbc(), &handle_))) {
    Status status = connection_->Failure(SQL_HANDLE_DBC, connection_->dbc(),
                                         "allocating a statement for '" + Shorten(sql_) + "'");
    handle_ = SQL_NULL_HSTMT;
    return status;
  }
  auto fail = [&](std::string_view action) {
    Status status = Failure(action);
    Invalidate();
    return status;
  };
  if (!SQL_SUCCEEDED(SQLPrepare(handle_, reinterpret_cast<SQLCHAR*>(const_cast<char*>(sql_.data())),
                                static_cast<SQLINTEGER>(sql_.size())))) {
    return fail("preparing SQL");
  }
  SQLSMALLINT params = 0;
  if (!SQL_SUCCEEDED(SQLNumParams(handle_, &params))) return fail("counting the parameters of");
  if (prepared_generation_ == 0) {
    param_count_ = params;
    params_.resize(static_cast<std::size_t>(params));
  } else if (params != param_count_) {
    Invalidate();
    return Status::Internal("after reconnecting, the driver counts " + std::to_string(params) +
                            " parameters instead of " + std::to_string(param_count_) + " in '" +
                            Shorten(sql_) + "'");
  }
  // Asking for the result columns makes drivers that prepare lazily
  // (psqlODBC) send the SQL to the server now, so bad SQL fails here.
  SQLSMALLINT columns = 0;
  if (!SQL_SUCCEEDED(SQLNumResultCols(handle_, &columns))) return fail("preparing SQL");
  if (Status described = Describe(columns); !described.ok()) {
    Invalidate();
    return described;
  }
  prepared_generation_ = connection_->generation();
  return Status::Ok();
}

Status OdbcStatement::Describe(SQLSMALLINT count) {
  columns_.assign(static_cast<std::size_t>(count), ColumnKind::kText);
  row_.resize(static_cast<std::size_t>(count));
  for (SQLSMALLINT i = 0; i < count; ++i) {
    SQLSMALLINT type = 0;
    SQLULEN size = 0;
    SQLSMALLINT digits = 0;
    SQLSMALLINT nullable = 0;
    SQLSMALLINT name_length = 0;
    SQLCHAR name[1];
    if (!SQL_SUCCEEDED(SQLDescribeCol(handle_, static_cast<SQLUSMALLINT>(i + 1), name, sizeof name,
                                      &name_length, &type, &size, &digits, &nullable))) {
      return Failure("describing the columns of");
    }
    ColumnKind kind = ColumnKind::kText;
    switch (type) {
      case SQL_BIGINT:
      case SQL_INTEGER:
      case SQL_SMALLINT:
      case SQL_TINYINT:
      case SQL_BIT: kind = ColumnKind::kInteger; break;
      case SQL_DOUBLE:
      case SQL_FLOAT:
      case SQL_REAL: kind = ColumnKind::kDouble; break;
      case SQL_NUMERIC:
      case SQL_DECIMAL: kind = ColumnKind::kNumeric; break;
      case SQL_BINARY:
      case SQL_VARBINARY:
      case SQL_LONGVARBINARY: kind = ColumnKind::kBinary; break;
      default: kind = ColumnKind::kText; break;
    }
    columns_[static_cast<std::size_t>(i)] = kind;
  }
  return Status::Ok();
}

Status OdbcStatement::CheckBindable(int index) const {
  if (index < 1 || index > param_count_) {
    return Status::InvalidArgument(
        "bind index " + std::to_string(index) + " is out of range: the statement has " +
        std::to_string(param_count_) + " parameters (1-based): " + Shorten(sql_));
  }
  if (state_ != State::kIdle) {
    return Status::FailedPrecondition("cannot bind parameter " + std::to_string(index) +
                                      " after Step(); call Reset() first: " + Shorten(sql_));
  }
  return Status::Ok();
}

Status OdbcStatement::BindNull(int index) {
  SCALEOUT_RETURN_IF_ERROR(CheckBindable(index));
  Param& p = ParamAt(index);
  p.type = ValueType::kNull;
  p.dirty = true;
  return Status::Ok();
}

Status OdbcStatement::BindInt64(int index, std::int64_t value) {
  SCALEOUT_RETURN_IF_ERROR(CheckBindable(index));
  Param& p = ParamAt(index);
  p.type = ValueType::kInt64;
  p.int_value = value;
  p.dirty = true;
  return Status::Ok();
}

Status OdbcStatement::BindDouble(int index, double value) {
  SCALEOUT_RETURN_IF_ERROR(CheckBindable(index));
  Param& p = ParamAt(index);
  p.type = ValueType::kDouble;
  p.double_value = value;
  p.dirty = true;
  return Status::Ok();
}

Status OdbcStatement::BindText(int index, std::string_view value) {
  SCALEOUT_RETURN_IF_ERROR(CheckBindable(index));
  Param& p = ParamAt(index);
  p.type = ValueType::kText;
  p.bytes.assign(value.data() != nullptr ? value.data() : "", value.size());
  p.dirty = true;
  return Status::Ok();
}

Status OdbcStatement::BindBlob(int index, sdk::ByteView value) {
  SCALEOUT_RETURN_IF_ERROR(CheckBindable(index));
  Param& p = ParamAt(index);
  p.type = ValueType::kBlob;
  p.bytes.assign(value.data() != nullptr ? value.data() : "", value.size());
  p.dirty = true;
  return Status::Ok();
}

Status OdbcStatement::BindDirty() {
  for (int i = 1; i <= param_count_; ++i) {
    Param& p = ParamAt(i);
    if (!p.dirty) continue;
    SQLSMALLINT c_type = SQL_C_CHAR;
    // Text and NULL go as VARCHAR: psqlODBC sends them untyped, so the server
    // infers the type from the context (a BIGINT column, a COALESCE) as it
    // does for a literal.
    SQLSMALLINT sql_type = SQL_VARCHAR;
    SQLULEN size = 1;
    SQLPOINTER data = kEmptyBuffer;
    SQLLEN length = 0;
    switch (p.type) {
      case ValueType::kNull: p.indicator = SQL_NULL_DATA; break;
      case ValueType::kInt64:
        c_type = SQL_C_SBIGINT;
        sql_type = SQL_BIGINT;
        data = &p.int_value;
        p.indicator = 0;
        break;
      case ValueType::kDouble:
        c_type = SQL_C_DOUBLE;
        sql_type = SQL_DOUBLE;
        data = &p.double_value;
        p.indicator = 0;
        break;
      case ValueType::kText:
      case ValueType::kBlob:
        if (p.type == ValueType::kBlob) {
          c_type = SQL_C_BINARY;
          sql_type = SQL_VARBINARY;  // BYTEA for psqlODBC, BLOB for SQLite
        }
        size = p.bytes.empty() ? 1 : p.bytes.size();
        data = p.bytes.empty() ? kEmptyBuffer : p.bytes.data();
        length = static_cast<SQLLEN>(p.bytes.size());
        p.indicator = length;
        break;
    }
    if (!SQL_SUCCEEDED(SQLBindParameter(handle_, static_cast<SQLUSMALLINT>(i), SQL_PARAM_INPUT,
                                        c_type, sql_type, size, 0, data, length, &p.indicator))) {
      return Failure("binding parameter " + std::to_string(i) + " of");
    }
    p.dirty = false;
  }
  return Status::Ok();
}

Result<bool> OdbcStatement::Step() {
  switch (state_) {
    case State::kDone: return false;
    case State::kIdle: return Execute();
    case State::kFetching: return FetchRow();
  }
  return false;
}

Result<bool> OdbcStatement::Execute() {
  SCALEOUT_RETURN_IF_ERROR(EnsurePrepared());
  SCALEOUT_RETURN_IF_ERROR(BindDirty());
  const SQLRETURN rc = SQLExecute(handle_);
  // SQL_NO_DATA: an UPDATE or DELETE that matched no row.
  if (!SQL_SUCCEEDED(rc) && rc != SQL_NO_DATA) {
    Status status = Failure("running SQL");
    CloseCursor();
    return status;
  }
  SQLLEN count = 0;
  executed_row_count_ =
      (rc != SQL_NO_DATA && SQL_SUCCEEDED(SQLRowCount(handle_, &count)) && count > 0) ? count : 0;
  SQLSMALLINT columns = 0;
  if (rc != SQL_NO_DATA && !SQL_SUCCEEDED(SQLNumResultCols(handle_, &columns))) {
    Status status = Failure("reading the result of");
    CloseCursor();
    return status;
  }
  if (columns == 0) {
    rows_affected_ = only_reads_ ? 0 : executed_row_count_;
    CloseCursor();
    state_ = State::kDone;
    return false;
  }
  if (static_cast<std::size_t>(columns) != columns_.size()) {
    SCALEOUT_RETURN_IF_ERROR(Describe(columns));
  }
  state_ = State::kFetching;
  return FetchRow();
}

Result<bool> OdbcStatement::FetchRow() {
  has_row_ = false;
  const SQLRETURN rc = SQLFetch(handle_);
  if (rc == SQL_NO_DATA) {
    rows_affected_ = only_reads_ ? 0 : executed_row_count_;
    CloseCursor();
    state_ = State::kDone;
    return false;
  }
  if (!SQL_SUCCEEDED(rc)) {
    Status status = Failure("fetching a row of");
    CloseCursor();
    state_ = State::kDone;
    return status;
  }
  for (int c = 0; c < static_cast<int>(columns_.size()); ++c) {
    if (Status read = ReadColumn(c); !read.ok()) {
      CloseCursor();
      state_ = State::kDone;
      return read;
    }
  }
  has_row_ = true;
  return true;
}

Status OdbcStatement::ReadColumn(int column) {
  const ColumnKind kind = columns_[static_cast<std::size_t>(column)];
  Value& value = row_[static_cast<std::size_t>(column)];
  const bool binary = kind == ColumnKind::kBinary;
  const SQLSMALLINT c_type = binary ? SQL_C_BINARY : SQL_C_CHAR;
  const std::size_t terminator = binary ? 0 : 1;  // SQL_C_CHAR always writes a NUL
  std::string& out = value.bytes;
  out.clear();
  std::size_t chunk = kFirstChunk;
  for (;;) {
    const std::size_t old = out.size();
    out.resize(old + chunk + terminator);
    SQLLEN indicator = 0;
    const SQLRETURN rc =
        SQLGetData(handle_, static_cast<SQLUSMALLINT>(column + 1), c_type, out.data() + old,
                   static_cast<SQLLEN>(chunk + terminator), &indicator);
    if (rc == SQL_NO_DATA) {  // the previous call returned the last piece
      out.resize(old);
      break;
    }
    if (!SQL_SUCCEEDED(rc)) {
      out.clear();
      return Failure("reading column " + std::to_string(column) + " of");
    }
    if (indicator == SQL_NULL_DATA) {
      out.clear();
      value.type = ValueType::kNull;
      return Status::Ok();
    }
    // A piece was cut when the driver says there is more than fitted.
    const bool truncated =
        rc == SQL_SUCCESS_WITH_INFO &&
        (indicator == SQL_NO_TOTAL || static_cast<std::size_t>(indicator) > chunk);
    if (!truncated) {
      out.resize(old + static_cast<std::size_t>(indicator));
      break;
    }
    out.resize(old + chunk);
    chunk = indicator == SQL_NO_TOTAL ? chunk * 2 : static_cast<std::size_t>(indicator) - chunk;
  }
  switch (kind) {
    case ColumnKind::kBinary: value.type = ValueType::kBlob; break;
    case ColumnKind::kText: value.type = ValueType::kText; break;
    case ColumnKind::kInteger:
    case ColumnKind::kNumeric:
      if (ParseInt(out, value.int_value)) {
        value.type = ValueType::kInt64;
        value.double_value = static_cast<double>(value.int_value);
      } else if (ParseDouble(out, value.double_value)) {
        value.type = ValueType::kDouble;
        value.int_value = static_cast<std::int64_t>(value.double_value);
      } else {
        value.type = ValueType::kText;  // what SQLite's dynamic typing allows
      }
      break;
    case ColumnKind::kDouble:
      if (ParseDouble(out, value.double_value)) {
        value.type = ValueType::kDouble;
        value.int_value = static_cast<std::int64_t>(value.double_value);
      } else {
        value.type = ValueType::kText;
      }
      break;
  }
  return Status::Ok();
}

void OdbcStatement::CloseCursor() noexcept {
  if (handle_ != SQL_NULL_HSTMT) SQLFreeStmt(handle_, SQL_CLOSE);
}

const OdbcStatement::Value* OdbcStatement::Readable(int column) const {
  if (!has_row_ || column < 0 || column >= static_cast<int>(row_.size())) return nullptr;
  return &row_[static_cast<std::size_t>(column)];
}

int OdbcStatement::ColumnCount() const { return static_cast<int>(columns_.size()); }

ValueType OdbcStatement::ColumnType(int column) const {
  const Value* v = Readable(column);
  return v != nullptr ? v->type : ValueType::kNull;
}

std::int64_t OdbcStatement::ColumnInt64(int column) const {
  const Value* v = Readable(column);
  if (v == nullptr) return 0;
  switch (v->type) {
    case ValueType::kInt64:
    case ValueType::kDouble: return v->int_value;
    case ValueType::kText: return std::strtoll(v->bytes.c_str(), nullptr, 10);  // as SQLite does
    default: return 0;
  }
}

double OdbcStatement::ColumnDouble(int column) const {
  const Value* v = Readable(column);
  if (v == nullptr) return 0;
  switch (v->type) {
    case ValueType::kInt64:
    case ValueType::kDouble: return v->double_value;
    case ValueType::kText: {
      double d = 0;
      return ParseDouble(v->bytes, d) ? d : 0.0;
    }
    default: return 0;
  }
}

std::string_view OdbcStatement::ColumnText(int column) const {
  const Value* v = Readable(column);
  return v != nullptr ? std::string_view(v->bytes) : std::string_view();
}

sdk::ByteView OdbcStatement::ColumnBlob(int column) const { return ColumnText(column); }

std::int64_t OdbcStatement::RowsAffected() const { return rows_affected_; }

Status OdbcStatement::Reset() {
  // rows_affected_ is kept: it describes the last finished Step(), which a
  // caller may read after resetting.
  if (state_ == State::kFetching) CloseCursor();
  state_ = State::kIdle;
  has_row_ = false;
  for (Param& p : params_) {
    if (p.type != ValueType::kNull) {
      p.type = ValueType::kNull;
      p.bytes.clear();
      p.dirty = true;
    }
  }
  return Status::Ok();
}

}  // namespace scaleout::plugins::odbc
