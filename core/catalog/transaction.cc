#include "core/catalog/transaction.h"

namespace scaleout::core::catalog {

sdk::Status RunInTransaction(sdk::Connection& connection, sdk::TransactionMode mode,
                             const std::function<sdk::Status(sdk::Connection&)>& fn) {
  SCALEOUT_RETURN_IF_ERROR(connection.Begin(mode));
  sdk::Status status = fn(connection);
  if (status.ok()) {
    status = connection.Commit();
    if (status.ok()) return status;
  }
  // Rolling back after a failed commit may itself fail (nothing to roll
  // back); the first failure is the one worth reporting.
  if (connection.InTransaction()) (void)connection.Rollback();
  return status;
}

}  // namespace scaleout::core::catalog
