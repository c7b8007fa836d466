// Schedules: the SQL Server Agent job equivalent. A schedule names a package
// and a cron expression; on each tick the master creates and starts an
// execution of it (in the default execution mode unless the schedule says).
//
// The catalog stores the schedule and when it is next due (`next_due_at`);
// the cron arithmetic and the firing live in core/management (the schedule
// runner), which passes the computed times in. A tick missed while the
// master was down is fired once, not once per missed tick: after firing, the
// runner sets next_due_at to the first tick after *now*.
//
// In-transaction functions of a Txn; refusals happen before the first write.
// Thread-safety: as the Txn's connection.
#ifndef SCALEOUT_CORE_CATALOG_SCHEDULES_H_
#define SCALEOUT_CORE_CATALOG_SCHEDULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog/roles.h"
#include "core/catalog/transaction.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::catalog {

// One set_execution_parameter_value call made for every run.
struct ScheduleParameter {
  int object_type = 20;  // 20 project, 30 package, 50 system
  std::string name;
  std::string value;
};

struct Schedule {
  std::int64_t schedule_id = 0;  // assigned by CreateSchedule
  std::string name;
  std::string cron_expression;
  std::string folder_name;
  std::string project_name;
  std::string package_name;
  std::vector<ScheduleParameter> parameters;
  std::optional<bool> runinscaleout;         // nullopt: DEFAULT_EXECUTION_MODE at each tick
  std::optional<std::int64_t> reference_id;  // the environment reference its executions use
  bool useanyworker = true;
  std::int64_t retry_count = 0;
  bool enabled = true;
  std::optional<std::int64_t> last_fired_at;
  std::optional<std::int64_t> next_due_at;  // nullopt while disabled
  std::int64_t created_time = 0;
};

// Creates a schedule (ssis_admin). The caller validated the cron expression
// and computed `schedule.next_due_at`. Returns the schedule id. Errors:
// kInvalidArgument, kAlreadyExists (name), kNotFound (folder, project or
// package does not exist now).
sdk::Result<std::int64_t> CreateSchedule(Txn& txn, const Caller& caller, const Schedule& schedule);

// Every schedule, by id (readers).
sdk::Result<std::vector<Schedule>> ListSchedules(Txn& txn, const Caller& caller);

// One schedule by name; kNotFound naming it.
sdk::Result<Schedule> GetSchedule(Txn& txn, const Caller& caller, std::string_view name);

// Enables (with the next due time the caller computed) or disables a schedule
// (ssis_admin). kNotFound for an unknown name.
sdk::Status SetScheduleEnabled(Txn& txn, const Caller& caller, std::string_view name, bool enabled,
                               std::optional<std::int64_t> next_due_at);

// Removes a schedule (ssis_admin); its past executions stay. kNotFound.
sdk::Status RemoveSchedule(Txn& txn, const Caller& caller, std::string_view name);

// The master's runner: enabled schedules due at or before `now`, oldest due first.
sdk::Result<std::vector<Schedule>> ListDueSchedules(Txn& txn, std::int64_t now,
                                                    std::int64_t limit = 100);
// The earliest next_due_at of any enabled schedule, or nullopt.
sdk::Result<std::optional<std::int64_t>> NextScheduleDue(Txn& txn);
// Records a tick: last_fired_at and the next due time.
sdk::Status MarkScheduleFired(Txn& txn, std::int64_t schedule_id, std::int64_t fired_at,
                              std::optional<std::int64_t> next_due_at);

}  // namespace scaleout::core::catalog

#endif  // SCALEOUT_CORE_CATALOG_SCHEDULES_H_
