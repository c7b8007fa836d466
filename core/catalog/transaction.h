// Txn and RunInTransaction: how catalog operations get their connection.
//
// Every catalog operation (procedure, view, scheduler operation) is a function
// of a Txn: a connection already inside a transaction owned by the caller, the
// database's dialect, and the time "now" read once from the injected Clock.
// Operations never Begin/Commit/Rollback themselves, so the group-commit
// CatalogWriter can run many of them in one transaction.
//
// Error contract of every operation: every check that can refuse a call
// (permission, bad input, not found, wrong state, stale epoch) runs before the
// first write, so a refused call leaves the database unchanged even inside a
// shared transaction. Only a storage failure in the middle of writing
// (kUnavailable, kInternal, kAborted from Step) can leave partial writes; the
// caller must then roll the whole transaction back (RunInTransaction does).
#ifndef SCALEOUT_CORE_CATALOG_TRANSACTION_H_
#define SCALEOUT_CORE_CATALOG_TRANSACTION_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

#include "scaleout/sdk/status.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::core::catalog {

class CatalogKey;  // sensitive_values.h

// Borrowed references; valid for one transaction. Not thread-safe (nor is the
// connection).
struct Txn {
  sdk::Connection& connection;
  const sdk::Dialect& dialect;
  std::int64_t now = 0;  // UTC ms, from Clock::NowUnixMillis()
  // Seals and opens sensitive values (sensitive_values.h); null where no
  // sensitive value is written or handed out (an operation that needs it
  // then fails with kFailedPrecondition and writes nothing).
  const CatalogKey* key = nullptr;
};

// Begins a transaction in `mode` on `connection`, runs `fn`, commits when it
// returns OK and rolls back otherwise (also when Commit fails). Returns fn's
// status, or the Begin/Commit failure.
// REQUIRES: `connection` is not in a transaction.
sdk::Status RunInTransaction(sdk::Connection& connection, sdk::TransactionMode mode,
                             const std::function<sdk::Status(sdk::Connection&)>& fn);

// Same, for a function that produces a value.
template <typename T>
sdk::Result<T> RunInTransactionWithResult(
    sdk::Connection& connection, sdk::TransactionMode mode,
    const std::function<sdk::Result<T>(sdk::Connection&)>& fn) {
  std::optional<T> out;
  sdk::Status status = RunInTransaction(connection, mode, [&](sdk::Connection& c) -> sdk::Status {
    sdk::Result<T> r = fn(c);
    if (!r.ok()) return r.status();
    out.emplace(std::move(r).value());
    return sdk::Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

}  // namespace scaleout::core::catalog

#endif  // SCALEOUT_CORE_CATALOG_TRANSACTION_H_
