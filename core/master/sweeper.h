// Sweeper: the master's periodic jobs, on one thread, timed by the injected
// Clock (so tests run hours of sweeps in milliseconds).
//
// Jobs (SSIS MasterSettings names): expired tasks every
// DealWithExpiredTasksIntervalInMs (not during the restart grace period),
// completed-job cleanup every CleanupCompletedJobsIntervalInMs, the catalog
// maintenance (RETENTION_WINDOW, MAX_PROJECT_VERSIONS) hourly, the master
// heartbeat every MasterHeartbeatIntervalInMs, offline-worker marking, and a
// trust-list reload. A failing job logs and runs again at its next interval.
//
// Two masters on one catalog (PostgreSQL): each master runs its own sweeper,
// and no lease row serializes them. That is safe because every job is
// idempotent under concurrency, which the catalog guarantees row by row:
// - expired tasks: an attempt is ended by `UPDATE tasks ... WHERE task_id = ?
//   AND lease_epoch = ? AND status = 2`, and its retry is queued only when
//   that update changed the row. Under READ COMMITTED the second master's
//   update waits for the first one's row lock, re-reads the row, finds it
//   ended and changes nothing, so a lost attempt is ended and retried once;
// - completed-job cleanup and offline-worker marking are single DELETE and
//   UPDATE statements whose result does not depend on who runs them;
// - catalog maintenance deletes rows by criteria that only grow (ended
//   before a cutoff, beyond a version count); a row another master deleted
//   first is simply not found;
// - the master heartbeat writes master_properties: the last master to write
//   wins (the catalog shows one of the live masters), nothing else depends
//   on it;
// - the trust reload only reads.
// The masters' clocks must agree to well within LeaseInterval / 3 (NTP),
// since each master compares lease expiry times another may have written.
// A new job must keep this property or take a lease of its own.
#ifndef SCALEOUT_CORE_MASTER_SWEEPER_H_
#define SCALEOUT_CORE_MASTER_SWEEPER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/common/clock.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::master {

class Sweeper {
 public:
  struct Job {
    std::string name;
    std::int64_t interval_ms = 1000;
    std::int64_t first_run_after_ms = 0;  // delay after Start() (the restart grace period)
    std::function<sdk::Status()> run;
  };

  // `clock` and `logger` must outlive the sweeper.
  Sweeper(Clock& clock, sdk::Logger& logger);
  ~Sweeper();
  Sweeper(const Sweeper&) = delete;
  Sweeper& operator=(const Sweeper&) = delete;

  // REQUIRES: before Start().
  void Add(Job job);
  void Start();
  void Stop();  // waits for a running job to finish; idempotent

  // Runs the named job now on the calling thread (tests, admin commands).
  sdk::Status RunNow(const std::string& name);

  // How many times each job has run (tests observe progress without sleeping).
  std::int64_t runs(const std::string& name) const;

 private:
  struct Scheduled {
    Job job;
    std::int64_t next_due = 0;
    std::atomic<std::int64_t> runs{0};
  };
  void Loop();

  Clock& clock_;
  sdk::Logger& logger_;
  std::vector<std::unique_ptr<Scheduled>> jobs_;
  std::mutex run_mutex_;  // one job at a time, also for RunNow
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace scaleout::core::master

#endif  // SCALEOUT_CORE_MASTER_SWEEPER_H_
