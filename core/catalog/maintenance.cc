#include "core/catalog/maintenance.h"

#include <set>
#include <string>
#include <vector>

#include "core/catalog/rows.h"
#include "core/catalog/sql.h"

namespace scaleout::core::catalog {

using internal::Cached;
using internal::Execute;
using internal::Query;
using sdk::Result;

namespace {

constexpr std::int64_t kDayMillis = 86'400'000;

Result<std::string> CatalogPropertyOr(sdk::Connection& c, std::string_view name,
                                      std::string_view fallback) {
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<std::string> value,
                            internal::GetCatalogProperty(c, name));
  return value.value_or(std::string(fallback));
}

Result<std::int64_t> IntProperty(sdk::Connection& c, std::string_view name, std::int64_t fallback) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string text, CatalogPropertyOr(c, name, ""));
  try {
    return text.empty() ? fallback : std::stoll(text);
  } catch (const std::exception&) {
    return fallback;  // configure_catalog refuses such a value; keep the default
  }
}

// The executions that ended before `cutoff`, oldest first, at most `batch`:
// the same set for each statement below, since those rows stay until the
// last one (executions_ended is the index).
constexpr char kEndedBefore[] =
    "SELECT execution_id FROM executions WHERE end_time < ? AND status IN (3, 4, 6, 7, 9) "
    "ORDER BY end_time, execution_id LIMIT ?";

Result<std::int64_t> DeleteEndedExecutions(sdk::Connection& c, std::int64_t cutoff,
                                           std::int64_t batch) {
  // Everything that refers to an execution first (its operation row has its
  // id and no foreign key from it), the executions last: until then the set
  // stays the same for each statement.
  static constexpr const char* kBelongings[] = {
      "DELETE FROM event_messages WHERE operation_id IN (",
      "DELETE FROM execution_parameter_values WHERE execution_id IN (",
      "DELETE FROM execution_workers WHERE execution_id IN (",
      "DELETE FROM tasks WHERE execution_id IN (",
      "DELETE FROM operations WHERE operation_id IN (",
      "DELETE FROM executions WHERE execution_id IN (",
  };
  std::int64_t deleted = 0;
  for (const char* prefix : kBelongings) {
    SCALEOUT_ASSIGN_OR_RETURN(deleted, Execute(c, std::string(prefix) + kEndedBefore + ")",
                                               [&](Query& q) { q.Int(cutoff).Int(batch); }));
  }
  return deleted;  // the executions' statement's count
}

// Operations that are not executions (deploy, configure, validate), with
// their messages.
Result<std::int64_t> DeleteOtherOperations(sdk::Connection& c, std::int64_t cutoff) {
  SCALEOUT_RETURN_IF_ERROR(Execute(c,
                                   "DELETE FROM event_messages WHERE operation_id IN (SELECT "
                                   "operation_id FROM operations WHERE operation_type <> 200 AND "
                                   "created_time < ?)",
                                   [&](Query& q) { q.Int(cutoff); })
                               .status());
  return Execute(c, "DELETE FROM operations WHERE operation_type <> 200 AND created_time < ?",
                 [&](Query& q) { q.Int(cutoff); });
}

// The versions pending or running executions use, found through their
// attempts (the tasks' partial indexes; executions have no status index).
Result<std::set<std::int64_t>> VersionsInUse(sdk::Connection& c) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(c,
                      "SELECT e.project_lsn FROM tasks t JOIN executions e ON e.execution_id = "
                      "t.execution_id WHERE t.status = 5 UNION SELECT e.project_lsn FROM tasks t "
                      "JOIN executions e ON e.execution_id = t.execution_id WHERE t.status = 2"));
  SCALEOUT_ASSIGN_OR_RETURN(std::vector<std::int64_t> versions, internal::FirstColumnInts(q));
  return std::set<std::int64_t>(versions.begin(), versions.end());
}

// Versions beyond a project's newest `keep` (none when `keep` is 0: version
// cleanup is off), and every version of a deleted project.
Result<std::int64_t> DeleteOldVersions(sdk::Connection& c, std::int64_t keep, std::int64_t batch) {
  SCALEOUT_ASSIGN_OR_RETURN(std::set<std::int64_t> in_use, VersionsInUse(c));
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(c,
                      "SELECT v.object_version_lsn FROM object_versions v JOIN projects p ON "
                      "p.project_id = v.project_id WHERE p.deleted_time IS NOT NULL OR (? > 0 AND "
                      "v.object_version_lsn <> p.object_version_lsn AND (SELECT COUNT(*) FROM "
                      "object_versions w WHERE w.project_id = v.project_id AND "
                      "w.object_version_lsn > v.object_version_lsn) >= ?) ORDER BY "
                      "v.object_version_lsn"));
  q.Int(keep).Int(keep);
  std::vector<std::int64_t> versions;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row || static_cast<std::int64_t>(versions.size()) >= batch) break;
    if (!in_use.contains(q.I(0))) versions.push_back(q.I(0));
  }
  for (std::int64_t lsn : versions) {
    for (const char* sql : {"DELETE FROM packages WHERE project_version_lsn = ?",
                            "DELETE FROM object_parameters WHERE project_version_lsn = ?",
                            "DELETE FROM object_versions WHERE object_version_lsn = ?"}) {
      SCALEOUT_RETURN_IF_ERROR(Execute(c, sql, [&](Query& b) { b.Int(lsn); }).status());
    }
  }
  return static_cast<std::int64_t>(versions.size());
}

// Deleted projects with no version and no execution left. There are few or
// none, so the scan of executions for each is rare.
Result<std::int64_t> PurgeDeletedProjects(sdk::Connection& c) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(c,
                      "SELECT p.project_id FROM projects p WHERE p.deleted_time IS NOT NULL AND "
                      "NOT EXISTS (SELECT 1 FROM object_versions v WHERE v.project_id = "
                      "p.project_id) AND NOT EXISTS (SELECT 1 FROM executions e WHERE "
                      "e.project_id = p.project_id)"));
  SCALEOUT_ASSIGN_OR_RETURN(std::vector<std::int64_t> ids, internal::FirstColumnInts(q));
  for (std::int64_t id : ids) {
    SCALEOUT_RETURN_IF_ERROR(Execute(c, "DELETE FROM projects WHERE project_id = ?", [&](Query& b) {
                               b.Int(id);
                             }).status());
  }
  return static_cast<std::int64_t>(ids.size());
}

}  // namespace

Result<MaintenanceResult> RunCatalogMaintenance(Txn& txn, std::int64_t batch) {
  sdk::Connection& c = txn.connection;
  MaintenanceResult result;
  SCALEOUT_ASSIGN_OR_RETURN(std::string operations_on,
                            CatalogPropertyOr(c, "OPERATION_CLEANUP_ENABLED", "TRUE"));
  if (operations_on == "TRUE") {
    SCALEOUT_ASSIGN_OR_RETURN(std::int64_t days, IntProperty(c, "RETENTION_WINDOW", 365));
    const std::int64_t cutoff = txn.now - days * kDayMillis;
    SCALEOUT_ASSIGN_OR_RETURN(result.executions, DeleteEndedExecutions(c, cutoff, batch));
    SCALEOUT_ASSIGN_OR_RETURN(result.operations, DeleteOtherOperations(c, cutoff));
  }
  SCALEOUT_ASSIGN_OR_RETURN(std::string versions_on,
                            CatalogPropertyOr(c, "VERSION_CLEANUP_ENABLED", "TRUE"));
  std::int64_t keep = 0;
  if (versions_on == "TRUE") {
    SCALEOUT_ASSIGN_OR_RETURN(keep, IntProperty(c, "MAX_PROJECT_VERSIONS", 10));
  }
  SCALEOUT_ASSIGN_OR_RETURN(result.versions, DeleteOldVersions(c, keep, batch));
  SCALEOUT_ASSIGN_OR_RETURN(result.projects, PurgeDeletedProjects(c));
  result.more = result.executions >= batch || result.versions >= batch;
  return result;
}

}  // namespace scaleout::core::catalog
