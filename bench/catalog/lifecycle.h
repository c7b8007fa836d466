// The unit of work the catalog benchmark counts: one execution's life cycle,
// create -> start -> claim -> complete, as four separate catalog operations
// (four requests reach a real master for it: two from the caller, one claim
// and one result from the worker).
//
// Two workloads implement it:
//   "catalog": the catalog's real procedures (CreateExecution,
//              StartExecution, ClaimTasks, CompleteTask) on a migrated catalog.
//   "shape":   the same shape as four small statements on the benchmark's own
//              tables; a floor for what the writer itself costs.
//
// Thread-safety: a Workload is immutable after Setup(); Step() may run on any
// thread, but each call uses the connection it is given (one thread at a time).
#ifndef SCALEOUT_BENCH_CATALOG_LIFECYCLE_H_
#define SCALEOUT_BENCH_CATALOG_LIFECYCLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/status.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::bench {

// The state of one life cycle between its operations.
struct Lifecycle {
  int step = 0;  // the next operation: 0 create, 1 start, 2 claim, 3 (events and) complete
  std::int64_t execution_id = 0;
  std::string task_id;           // what the claim returned
  std::int64_t lease_epoch = 0;  // what the claim returned
  std::size_t worker = 0;        // which of the workload's workers claims
  bool claimed = false;          // the claim step found a task
};

inline constexpr int kStepsPerLifecycle = 4;

class Workload {
 public:
  virtual ~Workload() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view description() const = 0;
  // Prepares a fresh database (schema, fixtures) in transactions of its own.
  // REQUIRES: `connection` is not in a transaction.
  virtual sdk::Status Setup(sdk::Connection& connection, const sdk::Dialect& dialect) = 0;
  // True when Step() writes only through the catalog's operations (see
  // CatalogWriter::Request::CatalogOpsOnly): the writer needs no savepoint.
  virtual bool CatalogOpsOnly() const { return false; }
  // How many workers claim; Lifecycle::worker is below this.
  virtual std::size_t workers() const = 0;
  // Runs operation `lifecycle.step` inside the caller's transaction. A claim
  // that finds nothing eligible is OK with lifecycle.claimed == false (the
  // caller claims again); otherwise the caller moves to the next step.
  virtual sdk::Status Step(sdk::Connection& connection, const sdk::Dialect& dialect,
                           Lifecycle& lifecycle) const = 0;
};

// How the catalog workload's life cycle looks beyond its four steps.
struct WorkloadOptions {
  // The size of the catalog workload's one package (0: a ten-byte stub);
  // the claim and create_execution read the package's row, so its size
  // must not matter.
  std::size_t package_bytes = 0;
  // Event messages the complete step stores first, as a worker's task
  // reports them (InsertEvents; a noop task reports one).
  int events = 0;
  // The events' GUIDs: time-ordered, as a worker makes them, or random
  // (version 4), to measure what a random key costs the catalog.
  bool random_event_guids = false;
};

// "catalog" or "shape"; nullptr for an unknown name.
std::unique_ptr<Workload> MakeWorkload(std::string_view name, const WorkloadOptions& options = {});

}  // namespace scaleout::bench

#endif  // SCALEOUT_BENCH_CATALOG_LIFECYCLE_H_
