// ScheduleRunner: fires due schedules inside the master (the SQL Server Agent
// of scaleout).
//
// Each pass reads the enabled schedules whose next_due_at has come and, for
// each, runs one catalog transaction that creates the execution (in the
// schedule's mode, or DEFAULT_EXECUTION_MODE), sets its parameters, starts
// it and moves next_due_at to the first tick after *now*. So a schedule whose
// ticks were missed while the master was down fires once on start, not once
// per missed tick. A tick that cannot run (the project was removed, a
// parameter no longer exists) is logged and skipped; the schedule moves on.
//
// Time comes from the injected Clock: tests drive passes with a ManualClock.
// Thread-safety: RunOnce may be called from any thread (not the writer's);
// Start/Stop from one controlling thread.
#ifndef SCALEOUT_CORE_MANAGEMENT_SCHEDULE_RUNNER_H_
#define SCALEOUT_CORE_MANAGEMENT_SCHEDULE_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>

#include "core/catalog/catalog_writer.h"
#include "core/catalog/schedules.h"
#include "core/catalog/sensitive_values.h"
#include "core/common/clock.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::core::management {

struct SchedulePassResult {
  int fired = 0;   // executions created and started
  int failed = 0;  // ticks skipped because the execution could not be started
};

class ScheduleRunner {
 public:
  // Everything borrowed must outlive the runner. `note_work` wakes parked
  // worker long-polls (may be empty).
  ScheduleRunner(catalog::CatalogWriter& writer, const sdk::Dialect& dialect, Clock& clock,
                 sdk::Logger& logger, std::function<void()> note_work,
                 const catalog::CatalogKey* catalog_key = nullptr);
  ~ScheduleRunner();
  ScheduleRunner(const ScheduleRunner&) = delete;
  ScheduleRunner& operator=(const ScheduleRunner&) = delete;

  // Fires every schedule due now, once. Errors: the catalog's.
  sdk::Result<SchedulePassResult> RunOnce();

  // A thread that runs a pass at each due time (checking at least every
  // `max_sleep_ms`, so schedules made by another master are seen).
  void Start(std::int64_t max_sleep_ms = 1000);
  // Makes the thread look again now (a schedule was added or enabled).
  void Poke();
  void Stop();  // idempotent

 private:
  sdk::Status FireOne(const catalog::Schedule& schedule, std::int64_t now);
  void Loop(std::int64_t max_sleep_ms);

  catalog::CatalogWriter& writer_;
  const sdk::Dialect& dialect_;
  const catalog::CatalogKey* catalog_key_;  // borrowed; seals sensitive values set per run
  Clock& clock_;
  sdk::Logger& logger_;
  std::function<void()> note_work_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> poke_{false};
  std::thread thread_;
};

}  // namespace scaleout::core::management

#endif  // SCALEOUT_CORE_MANAGEMENT_SCHEDULE_RUNNER_H_
