// Sweeper: the master's periodic jobs, on one thread, timed by the injected
// Clock (so tests run hours of sweeps in milliseconds).
//
// Jobs (SSIS MasterSettings names): expired tasks every
// DealWithExpiredTasksIntervalInMs (not during the restart grace period),
// completed-job cleanup every CleanupCompletedJobsIntervalInMs, the master
// heartbeat every MasterHeartbeatIntervalInMs, offline-worker marking, and a
// trust-list reload. A failing job logs and runs again at its next interval.
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
