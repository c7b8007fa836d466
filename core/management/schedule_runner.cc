#include "core/management/schedule_runner.h"

#include <algorithm>

#include "core/catalog/procedures.h"
#include "core/catalog/transaction.h"
#include "core/common/thread_name.h"
#include "core/management/cron.h"

namespace scaleout::core::management {

ScheduleRunner::ScheduleRunner(catalog::CatalogWriter& writer, const sdk::Dialect& dialect,
                               Clock& clock, sdk::Logger& logger, std::function<void()> note_work,
                               const catalog::CatalogKey* catalog_key)
    : writer_(writer),
      dialect_(dialect),
      catalog_key_(catalog_key),
      clock_(clock),
      logger_(logger),
      note_work_(std::move(note_work)) {}

ScheduleRunner::~ScheduleRunner() { Stop(); }

namespace {

// The next tick after `now`, or nullopt (the schedule then stops firing).
std::optional<std::int64_t> NextDue(const catalog::Schedule& schedule, std::int64_t now) {
  auto cron = CronSchedule::Parse(schedule.cron_expression);
  if (!cron.ok()) return std::nullopt;
  return cron->NextAfter(now);
}

}  // namespace

sdk::Status ScheduleRunner::FireOne(const catalog::Schedule& schedule, std::int64_t now) {
  // The execution is created on behalf of the schedule, recorded as its caller.
  const catalog::Caller caller{"schedule '" + schedule.name + "'",
                               {std::string(catalog::kRoleAdmin)}};
  return writer_.Execute([&](sdk::Connection& c) -> sdk::Status {
    catalog::Txn txn{c, dialect_, now, catalog_key_};
    catalog::CreateExecutionRequest request;
    request.folder_name = schedule.folder_name;
    request.project_name = schedule.project_name;
    request.package_name = schedule.package_name;
    request.runinscaleout = schedule.runinscaleout;
    request.useanyworker = schedule.useanyworker;
    request.reference_id = schedule.reference_id;
    SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id, catalog::CreateExecution(txn, caller, request));
    for (const catalog::ScheduleParameter& p : schedule.parameters) {
      SCALEOUT_RETURN_IF_ERROR(
          catalog::SetExecutionParameterValue(txn, caller, id, p.object_type, p.name, p.value));
    }
    SCALEOUT_RETURN_IF_ERROR(catalog::StartExecution(txn, caller, id, schedule.retry_count));
    if (note_work_) note_work_();
    SCALEOUT_RETURN_IF_ERROR(
        catalog::MarkScheduleFired(txn, schedule.schedule_id, now, NextDue(schedule, now)));
    logger_.Info("schedule '" + schedule.name + "' started execution " + std::to_string(id));
    return sdk::Status::Ok();
  });
}

sdk::Result<SchedulePassResult> ScheduleRunner::RunOnce() {
  const std::int64_t now = clock_.NowUnixMillis();
  auto due = writer_.Execute([&](sdk::Connection& c) {
    catalog::Txn txn{c, dialect_, now, catalog_key_};
    return catalog::ListDueSchedules(txn, now);
  });
  if (!due.ok()) return due.status();
  SchedulePassResult result;
  for (const catalog::Schedule& schedule : *due) {
    sdk::Status fired = FireOne(schedule, now);
    if (fired.ok()) {
      ++result.fired;
      continue;
    }
    // Skip this tick (its execution was rolled back) but keep the schedule moving.
    ++result.failed;
    logger_.Warn("schedule '" + schedule.name +
                 "' could not start its execution: " + fired.message());
    SCALEOUT_RETURN_IF_ERROR(writer_.Execute([&](sdk::Connection& c) {
      catalog::Txn txn{c, dialect_, now, catalog_key_};
      return catalog::MarkScheduleFired(txn, schedule.schedule_id, now, NextDue(schedule, now));
    }));
  }
  return result;
}

void ScheduleRunner::Start(std::int64_t max_sleep_ms) {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = NamedThread("schedules", [this, max_sleep_ms] { Loop(max_sleep_ms); });
}

void ScheduleRunner::Poke() {
  poke_ = true;
  clock_.WakeAll();
}

void ScheduleRunner::Stop() {
  stopping_ = true;
  poke_ = true;
  clock_.WakeAll();
  if (thread_.joinable()) thread_.join();
}

void ScheduleRunner::Loop(std::int64_t max_sleep_ms) {
  while (!stopping_) {
    poke_ = false;
    auto pass = RunOnce();
    if (!pass.ok()) logger_.Warn("schedule pass failed: " + pass.status().message());
    if (stopping_) break;
    std::int64_t sleep_ms = max_sleep_ms;
    auto next = writer_.Execute([&](sdk::Connection& c) {
      catalog::Txn txn{c, dialect_, clock_.NowUnixMillis(), catalog_key_};
      return catalog::NextScheduleDue(txn);
    });
    if (next.ok() && next->has_value()) {
      sleep_ms = std::clamp<std::int64_t>(**next - clock_.NowUnixMillis(), 0, max_sleep_ms);
    }
    if (sleep_ms > 0) clock_.SleepFor(Millis(sleep_ms), poke_);
  }
}

}  // namespace scaleout::core::management
