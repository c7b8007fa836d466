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

// Creates the test's tables if they are missing. Idempotent; safe to run in
// every child before it starts writing.
sdk::Status PrepareDatabase(sdk::Storage& storage);

// One op: inserts item `id` and bumps the item counter, two writes that must
// commit together.
sdk::Status Insert(sdk::Connection& connection, std::int64_t id);

// What the parent learned from one child's stdout.
struct Acknowledged {
  std::vector<std::int64_t> inserted;  // "i <id>"
  bool ready = false;                  // "ready" was printed
  std::string partial_line;            // an unterminated last line (never acknowledged)
};
Acknowledged ParseLines(std::string_view output);

// Reopens `storage` and checks: PRAGMA integrity_check is "ok", every
// acknowledged id is present, and the counter equals the number of items
// (no half-applied op). Returns a description of the first problem.
sdk::Status Verify(sdk::Storage& storage, const std::vector<std::int64_t>& acknowledged);

}  // namespace scaleout::core::catalog::crash

#endif  // SCALEOUT_TESTS_CORE_CATALOG_CRASH_CRASH_WORKLOAD_H_
