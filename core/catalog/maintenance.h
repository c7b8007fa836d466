// The catalog's maintenance: what SSIS's "SSIS Server Maintenance Job" does
// with the catalog properties that govern it.
//
// - OPERATION_CLEANUP_ENABLED (TRUE): executions that ended more than
//   RETENTION_WINDOW days ago are deleted with their parameter values,
//   allow-lists, attempts, event messages and operation row, and so are
//   other operations (deploy, configure, validate) created before then.
// - VERSION_CLEANUP_ENABLED (TRUE): a project keeps its newest
//   MAX_PROJECT_VERSIONS versions; older ones go with their packages and
//   declared parameters.
// - A deleted project's versions go whatever the settings, and its row once
//   no execution refers to it any more.
// A version a pending or running execution uses is always kept (its package
// is read when the execution is claimed).
//
// Work comes in passes of at most `batch` executions and versions, each in
// the caller's transaction, so the catalog writer is never held for long:
// call again while `more` is set. Idempotent, so two masters on one catalog
// may both run it.
#ifndef SCALEOUT_CORE_CATALOG_MAINTENANCE_H_
#define SCALEOUT_CORE_CATALOG_MAINTENANCE_H_

#include <cstdint>

#include "core/catalog/transaction.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::catalog {

struct MaintenanceResult {
  std::int64_t executions = 0;  // deleted, with what belongs to them
  std::int64_t operations = 0;  // other operations deleted
  std::int64_t versions = 0;    // project versions deleted
  std::int64_t projects = 0;    // deleted projects whose row went
  bool more = false;            // a batch was full: run another pass

  bool any() const { return executions + operations + versions + projects > 0; }
};

// One pass as of `txn.now`. No caller: the master runs it.
sdk::Result<MaintenanceResult> RunCatalogMaintenance(Txn& txn, std::int64_t batch = 1000);

}  // namespace scaleout::core::catalog

#endif  // SCALEOUT_CORE_CATALOG_MAINTENANCE_H_
