#include "core/catalog/schedules.h"

#include <sstream>

#include "core/catalog/environments.h"
#include "core/catalog/limits.h"
#include "core/catalog/rows.h"
#include "core/catalog/sql.h"

namespace scaleout::core::catalog {
namespace {

using internal::Cached;
using internal::Query;
using sdk::Status;

constexpr std::size_t kMaxCronChars = 256;

constexpr std::string_view kScheduleColumns =
    "schedule_id, name, cron_expression, folder_name, project_name, package_name, parameters, "
    "runinscaleout, useanyworker, retry_count, enabled, last_fired_at, next_due_at, created_time, "
    "reference_id";

// parameters column: one "object_type|name=value" per line. Names cannot hold
// '=' or a newline (CheckName refuses control characters); values may hold
// '=' but not a newline.
std::string EncodeParameters(const std::vector<ScheduleParameter>& parameters) {
  std::string out;
  for (const ScheduleParameter& p : parameters) {
    out += std::to_string(p.object_type) + "|" + p.name + "=" + p.value + "\n";
  }
  return out;
}

std::vector<ScheduleParameter> DecodeParameters(const std::string& text) {
  std::vector<ScheduleParameter> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto bar = line.find('|');
    const auto eq = line.find('=', bar == std::string::npos ? 0 : bar);
    if (bar == std::string::npos || eq == std::string::npos) continue;
    ScheduleParameter p;
    p.object_type = std::atoi(line.substr(0, bar).c_str());
    p.name = line.substr(bar + 1, eq - bar - 1);
    p.value = line.substr(eq + 1);
    out.push_back(std::move(p));
  }
  return out;
}

Schedule ReadSchedule(const Query& q) {
  Schedule s;
  s.schedule_id = q.I(0);
  s.name = q.T(1);
  s.cron_expression = q.T(2);
  s.folder_name = q.T(3);
  s.project_name = q.T(4);
  s.package_name = q.T(5);
  s.parameters = DecodeParameters(q.T(6));
  if (!q.IsNull(7)) s.runinscaleout = q.I(7) != 0;
  s.useanyworker = q.I(8) != 0;
  s.retry_count = q.I(9);
  s.enabled = q.I(10) != 0;
  s.last_fired_at = q.OptI(11);
  s.next_due_at = q.OptI(12);
  s.created_time = q.I(13);
  s.reference_id = q.OptI(14);
  return s;
}

Status CheckSchedule(const Schedule& s) {
  SCALEOUT_RETURN_IF_ERROR(internal::CheckName("schedule name", s.name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(
      internal::CheckName("cron expression", s.cron_expression, kMaxCronChars));
  SCALEOUT_RETURN_IF_ERROR(internal::CheckName("folder_name", s.folder_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(internal::CheckName("project_name", s.project_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(
      internal::CheckName("package_name", s.package_name, kMaxPackageNameChars));
  if (s.retry_count < 0 || s.retry_count > kMaxRetryCount) {
    return Status::InvalidArgument("retry_count must be from 0 to " +
                                   std::to_string(kMaxRetryCount));
  }
  for (const ScheduleParameter& p : s.parameters) {
    SCALEOUT_RETURN_IF_ERROR(internal::CheckName("parameter name", p.name, kMaxNameChars));
    if (p.name.find('=') != std::string::npos) {
      return Status::InvalidArgument("parameter name '" + p.name + "' may not contain '='");
    }
    if (p.value.find('\n') != std::string::npos || p.value.find('\r') != std::string::npos) {
      return Status::InvalidArgument("the value of parameter '" + p.name +
                                     "' may not contain a line break in a schedule");
    }
    SCALEOUT_RETURN_IF_ERROR(
        internal::CheckText("parameter value", p.value, kMaxParameterValueChars));
    if (p.object_type != 20 && p.object_type != 30 && p.object_type != 50) {
      return Status::InvalidArgument("parameter '" + p.name +
                                     "': object_type must be 20 (project), 30 (package) or 50 "
                                     "(system)");
    }
  }
  return Status::Ok();
}

// The package must exist now (as an entry point of the current version), and
// the environment reference, if any, be the project's, so a typo is refused
// when the schedule is made rather than at every tick.
Status RequirePackageExists(sdk::Connection& c, const Schedule& s) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(c,
                      "SELECT p.entry_point, r.project_id FROM folders f JOIN projects r ON "
                      "r.folder_id = "
                      "f.folder_id JOIN packages p ON p.project_version_lsn = r.object_version_lsn "
                      "WHERE f.name = ? AND r.name = ? AND p.name = ?"));
  q.Text(s.folder_name).Text(s.project_name).Text(s.package_name);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) {
    return Status::NotFound("package '" + s.package_name + "' of project '" + s.project_name +
                            "' in folder '" + s.folder_name +
                            "' does not exist; deploy it first ('scaleout manage package list' "
                            "shows what is deployed)");
  }
  if (q.I(0) == 0) {
    return Status::InvalidArgument("package '" + s.package_name +
                                   "' is not an entry-point package; only entry points can run");
  }
  if (s.reference_id) return internal::RequireReference(c, q.I(1), *s.reference_id);
  return Status::Ok();
}

sdk::Result<Schedule> LoadByName(sdk::Connection& c, std::string_view name) {
  SCALEOUT_ASSIGN_OR_RETURN(Query q, internal::OneOff(c, "SELECT " + std::string(kScheduleColumns) +
                                                             " FROM schedules WHERE name = ?"));
  q.Text(name);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) {
    return Status::NotFound("schedule '" + std::string(name) +
                            "' does not exist; 'scaleout manage schedule list' shows them");
  }
  return ReadSchedule(q);
}

}  // namespace

sdk::Result<std::int64_t> CreateSchedule(Txn& txn, const Caller& caller, const Schedule& schedule) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "create a schedule", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckSchedule(schedule));
  sdk::Connection& c = txn.connection;
  {
    SCALEOUT_ASSIGN_OR_RETURN(Query q,
                              Cached(c, "SELECT schedule_id FROM schedules WHERE name = ?"));
    q.Text(schedule.name);
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (row) return Status::AlreadyExists("schedule '" + schedule.name + "' already exists");
  }
  SCALEOUT_RETURN_IF_ERROR(RequirePackageExists(c, schedule));
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id, internal::NextId(c, "schedule"));
  const std::optional<std::int64_t> runinscaleout =
      schedule.runinscaleout ? std::optional<std::int64_t>(*schedule.runinscaleout ? 1 : 0)
                             : std::nullopt;
  SCALEOUT_RETURN_IF_ERROR(
      internal::Execute(c,
                        "INSERT INTO schedules (schedule_id, name, cron_expression, folder_name, "
                        "project_name, package_name, parameters, runinscaleout, useanyworker, "
                        "retry_count, enabled, last_fired_at, next_due_at, created_time, "
                        "reference_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
                        [&](Query& b) {
                          b.Int(id)
                              .Text(schedule.name)
                              .Text(schedule.cron_expression)
                              .Text(schedule.folder_name)
                              .Text(schedule.project_name)
                              .Text(schedule.package_name)
                              .Text(EncodeParameters(schedule.parameters))
                              .OptInt(runinscaleout)
                              .Bool(schedule.useanyworker)
                              .Int(schedule.retry_count)
                              .Bool(schedule.enabled)
                              .OptInt(schedule.enabled ? schedule.next_due_at : std::nullopt)
                              .Int(txn.now)
                              .OptInt(schedule.reference_id);
                        })
          .status());
  return id;
}

sdk::Result<std::vector<Schedule>> ListSchedules(Txn& txn, const Caller& caller) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "read schedules", kReaderRoles));
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, internal::OneOff(txn.connection, "SELECT " + std::string(kScheduleColumns) +
                                                    " FROM schedules ORDER BY schedule_id"));
  std::vector<Schedule> out;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    out.push_back(ReadSchedule(q));
  }
  return out;
}

sdk::Result<Schedule> GetSchedule(Txn& txn, const Caller& caller, std::string_view name) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "read schedules", kReaderRoles));
  return LoadByName(txn.connection, name);
}

sdk::Status SetScheduleEnabled(Txn& txn, const Caller& caller, std::string_view name, bool enabled,
                               std::optional<std::int64_t> next_due_at) {
  SCALEOUT_RETURN_IF_ERROR(
      RequireRole(caller, enabled ? "enable a schedule" : "disable a schedule", kAdminRoles));
  SCALEOUT_ASSIGN_OR_RETURN(Schedule s, LoadByName(txn.connection, name));
  return internal::Execute(
             txn.connection,
             "UPDATE schedules SET enabled = ?, next_due_at = ? WHERE schedule_id = ?",
             [&](Query& b) {
               b.Bool(enabled).OptInt(enabled ? next_due_at : std::nullopt).Int(s.schedule_id);
             })
      .status();
}

sdk::Status RemoveSchedule(Txn& txn, const Caller& caller, std::string_view name) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "remove a schedule", kAdminRoles));
  SCALEOUT_ASSIGN_OR_RETURN(Schedule s, LoadByName(txn.connection, name));
  return internal::Execute(txn.connection, "DELETE FROM schedules WHERE schedule_id = ?",
                           [&](Query& b) { b.Int(s.schedule_id); })
      .status();
}

sdk::Result<std::vector<Schedule>> ListDueSchedules(Txn& txn, std::int64_t now,
                                                    std::int64_t limit) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, internal::OneOff(txn.connection,
                                "SELECT " + std::string(kScheduleColumns) +
                                    " FROM schedules WHERE enabled = 1 AND next_due_at IS NOT NULL "
                                    "AND next_due_at <= ? ORDER BY next_due_at, schedule_id"));
  q.Int(now);
  std::vector<Schedule> out;
  while (static_cast<std::int64_t>(out.size()) < limit) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    out.push_back(ReadSchedule(q));
  }
  return out;
}

sdk::Result<std::optional<std::int64_t>> NextScheduleDue(Txn& txn) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(txn.connection,
                      "SELECT MIN(next_due_at) FROM schedules WHERE enabled = 1 AND next_due_at IS "
                      "NOT NULL"));
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row || q.IsNull(0)) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(q.I(0));
}

sdk::Status MarkScheduleFired(Txn& txn, std::int64_t schedule_id, std::int64_t fired_at,
                              std::optional<std::int64_t> next_due_at) {
  return internal::Execute(
             txn.connection,
             "UPDATE schedules SET last_fired_at = ?, next_due_at = ? WHERE schedule_id = ?",
             [&](Query& b) { b.Int(fired_at).OptInt(next_due_at).Int(schedule_id); })
      .status();
}

}  // namespace scaleout::core::catalog
