// What the crash test's child writes and what the parent checks afterwards.
//
// Both processes open the catalog file the same way: the real storage/sqlite
// plugin, synchronous=FULL, WAL. Each acknowledged op is one line of the
// child's stdout; Verify() checks a reopened catalog against those lines.
//
// Thread-safety: free functions over the caller's objects; a Connection is
// used by one thread at a time, as the SDK requires.
#ifndef SCALEOUT_TESTS_CORE_CATALOG_CRASH_CRASH_WORKLOAD_H_
#define SCALEOUT_TESTS_CORE_CATALOG_CRASH_CRASH_WORKLOAD_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "host/plugin_loader.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::core::catalog::crash {

// Loads storage/sqlite from `plugin_dir` and starts it on `database` with
// synchronous=FULL (an acknowledged commit must survive a crash).
sdk::Result<host::PluginPtr<sdk::Storage>> OpenStorage(host::PluginLoader& loader,
                                                       const std::string& plugin_dir,
                                                       const std::string& database);

// Migrates the catalog and adds the fixtures the stream needs (a folder, a
// deployed project, scale-out enabled, one enabled worker), all in one
// transaction. Idempotent; safe to run in every child before it writes.
sdk::Status PrepareDatabase(sdk::Storage& storage);

// The worker every child claims and completes as.
inline constexpr std::string_view kCrashWorkerId = "C0FFEE00-0000-4000-8000-000000000001";

// The four ops of one execution's life cycle, each one CatalogWriter op
// running the catalog's real procedure. Each returns the execution id the
// acknowledgement line names.
sdk::Result<std::int64_t> Create(sdk::Connection& connection, const sdk::Dialect& dialect);
sdk::Status Start(sdk::Connection& connection, const sdk::Dialect& dialect,
                  std::int64_t execution_id);
// The claimed task (empty task_id when nothing was eligible).
struct Claim {
  std::int64_t execution_id = 0;
  std::string task_id;
  std::int64_t lease_epoch = 0;
};
sdk::Result<Claim> ClaimOne(sdk::Connection& connection, const sdk::Dialect& dialect);
sdk::Status Complete(sdk::Connection& connection, const sdk::Dialect& dialect, const Claim& claim);

// What the parent learned from one child's stdout: one line per
// acknowledged op, "<op> <execution id>" with op c(reated), s(tarted),
// k (claimed) or d(one).
struct Ack {
  char op = 0;
  std::int64_t execution_id = 0;
};
struct Acknowledged {
  std::vector<Ack> acks;
  bool ready = false;        // "ready" was printed
  std::string partial_line;  // an unterminated last line (never acknowledged)
};
Acknowledged ParseLines(std::string_view output);

// Checks that PRAGMA integrity_check is "ok" and that every acknowledged op
// is in the catalog: created exists, started is pending or later, claimed is
// running or succeeded, done is succeeded. Returns the first problem.
sdk::Status Verify(sdk::Storage& storage, const std::vector<Ack>& acknowledged);

}  // namespace scaleout::core::catalog::crash

#endif  // SCALEOUT_TESTS_CORE_CATALOG_CRASH_CRASH_WORKLOAD_H_
