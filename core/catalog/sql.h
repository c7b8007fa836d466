// Internal: a thin helper over sdk::Statement for the catalog's queries.
//
// Query binds parameters in order (collecting the first bind failure so call
// sites stay readable), steps, and reads columns. It resets the statement when
// destroyed, so a cached statement never holds a cursor past its use.
//
// Not part of the catalog's public API. Not thread-safe (as the statement).
#ifndef SCALEOUT_CORE_CATALOG_SQL_H_
#define SCALEOUT_CORE_CATALOG_SQL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/status.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::core::catalog::internal {

class Query {
 public:
  // Borrows `statement` (a cached one) or owns it (`owned`).
  explicit Query(sdk::Statement* statement) : statement_(statement) {}
  explicit Query(std::unique_ptr<sdk::Statement> owned)
      : owned_(std::move(owned)), statement_(owned_.get()) {}
  Query(Query&& other) noexcept;
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query();

  Query& Int(std::int64_t value);
  Query& Double(double value);
  Query& Text(std::string_view value);
  Query& Blob(std::string_view value);
  Query& Null();
  Query& Bool(bool value) { return Int(value ? 1 : 0); }
  Query& OptInt(const std::optional<std::int64_t>& value);
  Query& OptText(const std::optional<std::string>& value);

  // Runs a statement that returns no rows; returns rows affected.
  sdk::Result<std::int64_t> Exec();
  // Advances to the next row: true when there is one.
  sdk::Result<bool> Next();

  std::int64_t I(int column) const { return statement_->ColumnInt64(column); }
  double D(int column) const { return statement_->ColumnDouble(column); }
  std::string T(int column) const { return std::string(statement_->ColumnText(column)); }
  std::string B(int column) const { return std::string(statement_->ColumnBlob(column)); }
  bool IsNull(int column) const { return statement_->ColumnType(column) == sdk::ValueType::kNull; }
  std::optional<std::int64_t> OptI(int column) const;
  std::optional<std::string> OptT(int column) const;

 private:
  void Record(sdk::Status status);

  std::unique_ptr<sdk::Statement> owned_;
  sdk::Statement* statement_;
  int next_index_ = 1;
  sdk::Status bind_status_;
};

// Writes run through Query on the calling thread: Exec() counts one, and so
// does CountWrite() (for a write read through Next(), UPDATE ... RETURNING).
// Counted before the statement runs, so a write that fails counts too. The
// CatalogWriter compares the count around a catalog op to know whether a
// failed op wrote anything (see CatalogWriter::Request::CatalogOpsOnly).
std::uint64_t WriteCount() noexcept;
void CountWrite() noexcept;

// A cached statement for fixed SQL (hot and repeated statements).
sdk::Result<Query> Cached(sdk::Connection& connection, std::string_view sql);
// A one-off statement for SQL assembled from fixed fragments (filters).
sdk::Result<Query> OneOff(sdk::Connection& connection, std::string_view sql);

// Steps `q` (bound) to its end: the first column of each row, as text.
sdk::Result<std::vector<std::string>> FirstColumnTexts(Query& q);
// ... and as integers.
sdk::Result<std::vector<std::int64_t>> FirstColumnInts(Query& q);

// Runs fixed SQL with the given binder and returns rows affected.
template <typename Binder>
sdk::Result<std::int64_t> Execute(sdk::Connection& connection, std::string_view sql,
                                  Binder&& bind) {
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(connection, sql));
  bind(q);
  return q.Exec();
}

}  // namespace scaleout::core::catalog::internal

#endif  // SCALEOUT_CORE_CATALOG_SQL_H_
