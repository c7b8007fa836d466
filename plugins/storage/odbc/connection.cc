#include "plugins/storage/odbc/connection.h"

#include <sqlext.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "plugins/storage/odbc/sql_text.h"

namespace scaleout::plugins::odbc {

using sdk::Result;
using sdk::Status;

namespace {

// ODBC takes an integer attribute's value in its SQLPOINTER argument.
SQLPOINTER IntegerAttribute(std::uintptr_t value) {
  return reinterpret_cast<SQLPOINTER>(value);  // NOLINT(performance-no-int-to-ptr): the ODBC API
}

}  // namespace

// ---- Environment ----

Result<std::shared_ptr<Environment>> Environment::Create() {
  SQLHENV handle = SQL_NULL_HENV;
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &handle))) {
    return Status::Internal(
        "the ODBC driver manager could not allocate an environment; check that unixODBC "
        "(libodbc) is installed and working");
  }
  if (!SQL_SUCCEEDED(
          SQLSetEnvAttr(handle, SQL_ATTR_ODBC_VERSION, IntegerAttribute(SQL_OV_ODBC3), 0))) {
    SQLFreeHandle(SQL_HANDLE_ENV, handle);
    return Status::Internal("the ODBC driver manager refused ODBC 3 behaviour");
  }
  return std::shared_ptr<Environment>(new Environment(handle));
}

Environment::~Environment() { SQLFreeHandle(SQL_HANDLE_ENV, handle_); }

// ---- Link ----

Result<std::unique_ptr<Link>> Link::Connect(const Environment& environment, const Options& options,
                                            const ErrorContext& context) {
  SQLHDBC handle = SQL_NULL_HDBC;
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_DBC, environment.handle(), &handle))) {
    return MapDiagnostics(ReadDiagnostics(SQL_HANDLE_ENV, environment.handle()), context,
                          "allocating a connection handle");
  }
  if (options.login_timeout_s > 0) {
    SQLSetConnectAttr(handle, SQL_ATTR_LOGIN_TIMEOUT,
                      IntegerAttribute(static_cast<std::uintptr_t>(options.login_timeout_s)), 0);
  }
  std::string text = options.connection.Format();
  SQLCHAR completed[1024];
  SQLSMALLINT completed_length = 0;
  const SQLRETURN rc = SQLDriverConnect(handle, nullptr, reinterpret_cast<SQLCHAR*>(text.data()),
                                        static_cast<SQLSMALLINT>(text.size()), completed,
                                        sizeof completed, &completed_length, SQL_DRIVER_NOPROMPT);
  // The string holds the password: do not keep copies around.
  std::fill(text.begin(), text.end(), '\0');
  if (!SQL_SUCCEEDED(rc)) {
    Status status = MapDiagnostics(ReadDiagnostics(SQL_HANDLE_DBC, handle), context, "connecting");
    SQLFreeHandle(SQL_HANDLE_DBC, handle);
    return status;
  }
  return std::unique_ptr<Link>(new Link(handle));
}

Link::~Link() {
  SQLDisconnect(handle_);
  SQLFreeHandle(SQL_HANDLE_DBC, handle_);
}

std::string Link::Info(SQLUSMALLINT what) const {
  char buffer[256] = {};
  SQLSMALLINT length = 0;
  if (!SQL_SUCCEEDED(SQLGetInfo(handle_, what, buffer, sizeof buffer, &length))) return {};
  return buffer;
}

// ---- OdbcConnection ----

Result<std::unique_ptr<OdbcConnection>> OdbcConnection::Open(
    std::shared_ptr<const ConnectionSettings> settings) {
  std::unique_ptr<OdbcConnection> connection(new OdbcConnection(std::move(settings)));
  const ConnectionSettings& s = *connection->settings_;
  SCALEOUT_ASSIGN_OR_RETURN(connection->link_, Link::Connect(*s.environment, s.options, s.context));
  SCALEOUT_RETURN_IF_ERROR(connection->Configure());
  return connection;
}

OdbcConnection::OdbcConnection(std::shared_ptr<const ConnectionSettings> settings)
    : settings_(std::move(settings)) {}

OdbcConnection::~OdbcConnection() {
  // Statement handles must go before the connection handle; cached ones are
  // ours, and any leaked Prepare()d ones are freed too (they stay inert).
  cache_.clear();
  for (OdbcStatement* statement : statements_) statement->Invalidate();
  if (in_transaction_ && !broken_ && link_ != nullptr && !IsSqlite()) {
    // Dropping a connection mid-transaction rolls back, as SQLite does.
    SQLEndTran(SQL_HANDLE_DBC, link_->handle(), SQL_ROLLBACK);
  }
  link_.reset();
}

Status OdbcConnection::Configure() {
  if (IsSqlite()) {
    // The SQLite driver leaves foreign keys off unless asked per connection.
    SCALEOUT_RETURN_IF_ERROR(RunDirect("PRAGMA foreign_keys = ON", "enabling foreign keys"));
  }
  return Status::Ok();
}

Status OdbcConnection::RunDirect(std::string_view sql, std::string_view action) {
  if (link_ == nullptr) return Status::Unavailable("no connection to " + settings_->context.target);
  SQLHSTMT handle = SQL_NULL_HSTMT;
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, link_->handle(), &handle))) {
    return Failure(SQL_HANDLE_DBC, link_->handle(), action);
  }
  const SQLRETURN rc =
      SQLExecDirect(handle, reinterpret_cast<SQLCHAR*>(const_cast<char*>(sql.data())),
                    static_cast<SQLINTEGER>(sql.size()));
  Status status;
  if (!SQL_SUCCEEDED(rc) && rc != SQL_NO_DATA) {
    status = Failure(SQL_HANDLE_STMT, handle, std::string(action) + " ('" + Shorten(sql) + "')");
  }
  SQLFreeHandle(SQL_HANDLE_STMT, handle);
  return status;
}

Status OdbcConnection::SetAutocommit(bool on) {
  const SQLRETURN rc =
      SQLSetConnectAttr(link_->handle(), SQL_ATTR_AUTOCOMMIT,
                        IntegerAttribute(on ? SQL_AUTOCOMMIT_ON : SQL_AUTOCOMMIT_OFF), 0);
  if (SQL_SUCCEEDED(rc)) return Status::Ok();
  return Failure(SQL_HANDLE_DBC, link_->handle(),
                 on ? "leaving manual-commit mode" : "entering manual-commit mode");
}

bool OdbcConnection::LinkDead() const {
  if (link_ == nullptr) return true;
  SQLUINTEGER dead = SQL_CD_FALSE;
  const SQLRETURN rc =
      SQLGetConnectAttr(link_->handle(), SQL_ATTR_CONNECTION_DEAD, &dead, 0, nullptr);
  return SQL_SUCCEEDED(rc) && dead == SQL_CD_TRUE;
}

void OdbcConnection::MarkBroken() {
  broken_ = true;
  if (in_transaction_) transaction_lost_ = true;
}

Status OdbcConnection::Failure(SQLSMALLINT handle_type, SQLHANDLE handle, std::string_view action) {
  const std::vector<Diagnostic> diagnostics = ReadDiagnostics(handle_type, handle);
  Status status = MapDiagnostics(diagnostics, settings_->context, action);
  bool lost = false;
  for (const Diagnostic& d : diagnostics) lost = lost || IsLinkLost(d.sqlstate);
  if (!lost && !IsSqlite()) lost = LinkDead();
  if (!lost) return status;
  const bool had_transaction = in_transaction_;
  MarkBroken();
  if (settings_->logger->Enabled(sdk::LogLevel::kWarn)) {
    settings_->logger->Warn("storage/odbc: " + status.message());
  }
  std::string message = "lost the connection to " + settings_->context.target + " while " +
                        std::string(action) + " (" + status.message() + "); ";
  message += had_transaction
                 ? "the server rolled the open transaction back: call Rollback() and run the "
                   "whole transaction again"
                 : "this call may or may not have taken effect; the next call reconnects";
  return Status::Unavailable(std::move(message));
}

Status OdbcConnection::EnsureUsable() {
  if (transaction_lost_) {
    return Status::Unavailable("the connection to " + settings_->context.target +
                               " was lost inside the open transaction; call Rollback() and run "
                               "the whole transaction again");
  }
  if (!broken_) return Status::Ok();
  return Reconnect();
}

Status OdbcConnection::Reconnect() {
  const ConnectionSettings& s = *settings_;
  if (s.options.reconnect_attempts == 0) {
    return Status::Unavailable("the connection to " + s.context.target +
                               " is broken and reconnect_attempts=0; open a new connection");
  }
  // Statement handles belong to the old link: free them first.
  for (OdbcStatement* statement : statements_) statement->Invalidate();
  link_.reset();
  Status last;
  for (int attempt = 1; attempt <= s.options.reconnect_attempts; ++attempt) {
    Result<std::unique_ptr<Link>> link = Link::Connect(*s.environment, s.options, s.context);
    if (link.ok()) {
      link_ = std::move(link).value();
      broken_ = false;
      ++generation_;
      if (Status configured = Configure(); !configured.ok()) {
        broken_ = true;
        return configured;
      }
      if (s.logger->Enabled(sdk::LogLevel::kInfo)) {
        s.logger->Info("storage/odbc: reconnected to " + s.context.target + " (attempt " +
                       std::to_string(attempt) + ")");
      }
      return Status::Ok();
    }
    last = link.status();
    // Unauthenticated or a missing driver will not heal by retrying.
    if (last.code() != sdk::StatusCode::kUnavailable) break;
    if (attempt < s.options.reconnect_attempts) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
    }
  }
  return Status::Unavailable("the connection to " + s.context.target +
                             " was lost and reconnecting failed (" + last.message() +
                             "); the next call tries again");
}

Result<std::unique_ptr<sdk::Statement>> OdbcConnection::Prepare(std::string_view sql) {
  SCALEOUT_ASSIGN_OR_RETURN(std::unique_ptr<OdbcStatement> statement,
                            OdbcStatement::Create(this, sql));
  return std::unique_ptr<sdk::Statement>(std::move(statement));
}

Result<sdk::Statement*> OdbcConnection::PrepareCached(std::string_view sql) {
  if (auto it = cache_.find(sql); it != cache_.end()) {
    SCALEOUT_RETURN_IF_ERROR(it->second->Reset());
    return static_cast<sdk::Statement*>(it->second.get());
  }
  if (cache_.size() >= static_cast<std::size_t>(settings_->options.statement_cache_size)) {
    return Status::ResourceExhausted(
        "the statement cache of this connection is full (statement_cache_size=" +
        std::to_string(settings_->options.statement_cache_size) +
        "); raise statement_cache_size, or use Prepare() for SQL whose text varies");
  }
  SCALEOUT_ASSIGN_OR_RETURN(std::unique_ptr<OdbcStatement> statement,
                            OdbcStatement::Create(this, sql));
  OdbcStatement* result = statement.get();
  cache_.emplace(std::string(sql), std::move(statement));
  return static_cast<sdk::Statement*>(result);
}

Status OdbcConnection::ExecuteScript(std::string_view sql) {
  const std::vector<std::string_view> statements = SplitStatements(sql);
  for (std::size_t i = 0; i < statements.size(); ++i) {
    SCALEOUT_RETURN_IF_ERROR(EnsureUsable());
    SCALEOUT_RETURN_IF_ERROR(
        RunDirect(statements[i], "running statement " + std::to_string(i + 1) + " of a script"));
  }
  return Status::Ok();
}

Status OdbcConnection::Begin(sdk::TransactionMode mode) {
  if (in_transaction_) {
    return Status::FailedPrecondition(
        "a transaction is already open on this connection; Commit() or Rollback() it before "
        "Begin() (nested transactions are not supported)");
  }
  SCALEOUT_RETURN_IF_ERROR(EnsureUsable());
  if (IsSqlite()) {
    SCALEOUT_RETURN_IF_ERROR(mode == sdk::TransactionMode::kWrite
                                 ? RunDirect("BEGIN IMMEDIATE", "beginning a write transaction")
                                 : RunDirect("BEGIN DEFERRED", "beginning a read transaction"));
  } else {
    // PostgreSQL has no database-wide write lock to take: writers meet at
    // the rows they touch, so kWrite and kRead begin alike (READ COMMITTED).
    SCALEOUT_RETURN_IF_ERROR(SetAutocommit(false));
  }
  in_transaction_ = true;
  return Status::Ok();
}

Status OdbcConnection::Commit() {
  if (!in_transaction_) {
    return Status::FailedPrecondition(
        "Commit() called with no open transaction; call Begin() "
        "first");
  }
  if (transaction_lost_) {
    in_transaction_ = false;
    transaction_lost_ = false;
    return Status::Unavailable("nothing was committed: the connection to " +
                               settings_->context.target +
                               " was lost inside the transaction and the server rolled it back; "
                               "run the whole transaction again");
  }
  if (IsSqlite()) {
    // A failed COMMIT (busy) leaves SQLite's transaction open; the caller's
    // Rollback() ends it.
    SCALEOUT_RETURN_IF_ERROR(RunDirect("COMMIT", "committing"));
    in_transaction_ = false;
    return Status::Ok();
  }
  const SQLRETURN rc = SQLEndTran(SQL_HANDLE_DBC, link_->handle(), SQL_COMMIT);
  Status status;
  if (!SQL_SUCCEEDED(rc)) {
    status = Failure(SQL_HANDLE_DBC, link_->handle(), "committing");
    if (broken_) {
      status =
          Status::Unavailable(status.message() + " (the commit may or may not have been applied)");
    }
  }
  // PostgreSQL ends the transaction on a failed COMMIT as on a good one.
  in_transaction_ = false;
  transaction_lost_ = false;
  if (!broken_) {
    Status autocommit = SetAutocommit(true);
    if (status.ok()) status = autocommit;
  }
  return status;
}

Status OdbcConnection::Rollback() {
  if (!in_transaction_) return Status::Ok();
  in_transaction_ = false;
  if (transaction_lost_ || broken_) {
    transaction_lost_ = false;
    return Status::Ok();  // the server rolled back when the link went
  }
  if (IsSqlite()) {
    Status status = RunDirect("ROLLBACK", "rolling back");
    // SQLite may have rolled back by itself after an error (then there is no
    // transaction to end), which is what the caller wants.
    if (!status.ok() && status.message().find("no transaction is active") != std::string::npos) {
      return Status::Ok();
    }
    return status;
  }
  Status status;
  if (!SQL_SUCCEEDED(SQLEndTran(SQL_HANDLE_DBC, link_->handle(), SQL_ROLLBACK))) {
    status = Failure(SQL_HANDLE_DBC, link_->handle(), "rolling back");
    if (broken_) return Status::Ok();
  }
  if (!broken_) {
    Status autocommit = SetAutocommit(true);
    if (status.ok()) status = autocommit;
  }
  return status;
}

}  // namespace scaleout::plugins::odbc
