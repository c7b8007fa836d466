#include "core/catalog/sql.h"

#include <utility>

namespace scaleout::core::catalog::internal {

namespace {
thread_local std::uint64_t writes_on_this_thread = 0;
}  // namespace

std::uint64_t WriteCount() noexcept { return writes_on_this_thread; }
void CountWrite() noexcept { ++writes_on_this_thread; }

Query::Query(Query&& other) noexcept
    : owned_(std::move(other.owned_)),
      statement_(std::exchange(other.statement_, nullptr)),
      next_index_(other.next_index_),
      bind_status_(std::move(other.bind_status_)) {}

Query::~Query() {
  // A failed reset leaves nothing to clean up: the next PrepareCached resets again.
  if (statement_ != nullptr) (void)statement_->Reset();
}

void Query::Record(sdk::Status status) {
  if (bind_status_.ok() && !status.ok()) bind_status_ = std::move(status);
  ++next_index_;
}

Query& Query::Int(std::int64_t value) {
  Record(statement_->BindInt64(next_index_, value));
  return *this;
}
Query& Query::Double(double value) {
  Record(statement_->BindDouble(next_index_, value));
  return *this;
}
Query& Query::Text(std::string_view value) {
  Record(statement_->BindText(next_index_, value));
  return *this;
}
Query& Query::Blob(std::string_view value) {
  Record(statement_->BindBlob(next_index_, value));
  return *this;
}
Query& Query::Null() {
  Record(statement_->BindNull(next_index_));
  return *this;
}
Query& Query::OptInt(const std::optional<std::int64_t>& value) {
  return value ? Int(*value) : Null();
}
Query& Query::OptText(const std::optional<std::string>& value) {
  return value ? Text(*value) : Null();
}

sdk::Result<std::int64_t> Query::Exec() {
  SCALEOUT_RETURN_IF_ERROR(bind_status_);
  CountWrite();
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, statement_->Step());
    if (!row) break;
  }
  return statement_->RowsAffected();
}

sdk::Result<bool> Query::Next() {
  SCALEOUT_RETURN_IF_ERROR(bind_status_);
  return statement_->Step();
}

std::optional<std::int64_t> Query::OptI(int column) const {
  if (IsNull(column)) return std::nullopt;
  return I(column);
}

std::optional<std::string> Query::OptT(int column) const {
  if (IsNull(column)) return std::nullopt;
  return T(column);
}

sdk::Result<Query> Cached(sdk::Connection& connection, std::string_view sql) {
  SCALEOUT_ASSIGN_OR_RETURN(sdk::Statement * statement, connection.PrepareCached(sql));
  return Query(statement);
}

sdk::Result<Query> OneOff(sdk::Connection& connection, std::string_view sql) {
  SCALEOUT_ASSIGN_OR_RETURN(std::unique_ptr<sdk::Statement> statement, connection.Prepare(sql));
  return Query(std::move(statement));
}

sdk::Result<std::vector<std::string>> FirstColumnTexts(Query& q) {
  std::vector<std::string> out;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    out.push_back(q.T(0));
  }
  return out;
}

sdk::Result<std::vector<std::int64_t>> FirstColumnInts(Query& q) {
  std::vector<std::int64_t> out;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    out.push_back(q.I(0));
  }
  return out;
}

}  // namespace scaleout::core::catalog::internal
