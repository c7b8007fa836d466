#include "core/management/catalog_queries.h"

#include "core/catalog/sql.h"

namespace scaleout::core::management {
namespace {

using catalog::internal::OneOff;
using catalog::internal::Query;

}  // namespace

sdk::Result<std::vector<ProjectRow>> ListProjects(catalog::Txn& txn, const catalog::Caller& caller,
                                                  const std::optional<std::string>& folder) {
  SCALEOUT_RETURN_IF_ERROR(catalog::RequireRole(caller, "read projects", catalog::kReaderRoles));
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, OneOff(txn.connection,
                      "SELECT f.name, r.name, r.project_id, r.object_version_lsn, "
                      "r.deployed_by_name, r.last_deployed_time, (SELECT COUNT(*) FROM packages p "
                      "WHERE p.project_version_lsn = r.object_version_lsn) FROM projects r JOIN "
                      "folders f ON f.folder_id = r.folder_id WHERE r.deleted_time IS NULL AND (? "
                      "IS NULL OR f.name = ?) ORDER BY f.name, r.name"));
  q.OptText(folder).OptText(folder);
  std::vector<ProjectRow> out;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    out.push_back({q.T(0), q.T(1), q.I(2), q.I(3), q.T(4), q.I(5), q.I(6)});
  }
  return out;
}

sdk::Result<std::vector<PackageRow>> ListPackages(catalog::Txn& txn, const catalog::Caller& caller,
                                                  const std::optional<std::string>& folder,
                                                  const std::optional<std::string>& project) {
  SCALEOUT_RETURN_IF_ERROR(catalog::RequireRole(caller, "read packages", catalog::kReaderRoles));
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q,
      OneOff(
          txn.connection,
          "SELECT f.name, r.name, p.name, r.object_version_lsn, p.entry_point, p.content_sha256, "
          "LENGTH(p.content) FROM packages p JOIN projects r ON p.project_version_lsn = "
          "r.object_version_lsn JOIN folders f ON f.folder_id = r.folder_id WHERE r.deleted_time "
          "IS NULL AND (? IS NULL OR f.name = ?) AND (? IS NULL OR r.name = ?) ORDER BY f.name, "
          "r.name, p.name"));
  q.OptText(folder).OptText(folder).OptText(project).OptText(project);
  std::vector<PackageRow> out;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    out.push_back({q.T(0), q.T(1), q.T(2), q.I(3), q.I(4) != 0, q.T(5), q.I(6)});
  }
  return out;
}

sdk::Result<std::vector<FolderRow>> ListFolders(catalog::Txn& txn, const catalog::Caller& caller) {
  SCALEOUT_RETURN_IF_ERROR(catalog::RequireRole(caller, "read folders", catalog::kReaderRoles));
  SCALEOUT_ASSIGN_OR_RETURN(Query q, OneOff(txn.connection,
                                            "SELECT folder_id, name, description, created_by_name, "
                                            "created_time FROM folders ORDER BY name"));
  std::vector<FolderRow> out;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    out.push_back({q.I(0), q.T(1), q.T(2), q.T(3), q.I(4)});
  }
  return out;
}

sdk::Result<std::map<int, std::int64_t>> CountExecutionsByStatus(catalog::Txn& txn,
                                                                 const catalog::Caller& caller) {
  SCALEOUT_RETURN_IF_ERROR(catalog::RequireRole(caller, "read executions", catalog::kReaderRoles));
  return CountExecutionsByStatus(txn.connection);
}

sdk::Result<std::map<int, std::int64_t>> CountExecutionsByStatus(sdk::Connection& connection) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, OneOff(connection, "SELECT status, COUNT(*) FROM executions GROUP BY status"));
  std::map<int, std::int64_t> out;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    out[static_cast<int>(q.I(0))] = q.I(1);
  }
  return out;
}

}  // namespace scaleout::core::management
