// ExecutionCounts: how many executions the catalog holds in each status,
// for the Dashboard (`status`) and /metrics (`metrics`), counted off the
// catalog writer's thread.
//
// Counting scans the whole executions table: about 0.26 s per million rows
// on SQLite on the development machine, and a catalog keeps its executions
// for RETENTION_WINDOW (365 days by default). On the writer's thread every
// claim, result and API call would wait that long at each refresh of an open
// dashboard; here the count runs on a read connection of its own (SQLite's
// WAL lets it read while the writer writes; PostgreSQL is another session)
// on the calling thread, a management pool thread.
//
// Callers share counts: one count runs at a time, and a caller that waited
// while one ran gets the first count that started after it asked (so every
// answer reflects every commit before the request); a count younger than
// `reuse` is also answered again, so dashboards and scrapers polling in
// step cost one scan per `reuse` at most, with figures at most that old.
//
// Thread-safety: Get() and Close() from any thread.
#ifndef SCALEOUT_CORE_MANAGEMENT_EXECUTION_COUNTS_H_
#define SCALEOUT_CORE_MANAGEMENT_EXECUTION_COUNTS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "core/common/clock.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::core::management {

class ExecutionCounts {
 public:
  static constexpr std::chrono::milliseconds kDefaultReuse{1'000};

  // `storage` (started) and `clock` must outlive it, or Close() must come
  // before the storage stops.
  ExecutionCounts(sdk::Storage& storage, Clock& clock,
                  std::chrono::milliseconds reuse = kDefaultReuse)
      : storage_(storage), clock_(clock), reuse_(reuse) {}

  // Status code -> executions. The connection is opened on first use and
  // opened again after an error.
  sdk::Result<std::map<int, std::int64_t>> Get();

  // Closes the read connection; a later Get() opens another.
  void Close();

  // How many times the table was scanned (tests).
  std::int64_t scans() const;

 private:
  sdk::Result<std::map<int, std::int64_t>> CountLocked();

  sdk::Storage& storage_;
  Clock& clock_;
  const std::chrono::milliseconds reuse_;
  mutable std::mutex mutex_;                     // held through a count: one at a time
  std::unique_ptr<sdk::Connection> connection_;  // guarded by mutex_
  std::map<int, std::int64_t> counts_;           // guarded by mutex_
  std::int64_t counted_at_ = -1;                 // guarded by mutex_: steady ms, -1 never
  std::int64_t scans_ = 0;                       // guarded by mutex_
  std::atomic<std::uint64_t> requests_{0};       // tickets: one per Get()
  std::uint64_t counted_from_ = 0;  // guarded by mutex_: the last ticket before the count began
};

}  // namespace scaleout::core::management

#endif  // SCALEOUT_CORE_MANAGEMENT_EXECUTION_COUNTS_H_
