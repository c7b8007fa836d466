// Read-only catalog queries the management API needs beyond the SSIS views:
// projects and packages as deployed, and the dashboard's counts.
//
// In-transaction functions of a Txn; each checks the caller's role first.
// Thread-safety: as the Txn's connection.
#ifndef SCALEOUT_CORE_MANAGEMENT_CATALOG_QUERIES_H_
#define SCALEOUT_CORE_MANAGEMENT_CATALOG_QUERIES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/catalog/roles.h"
#include "core/catalog/transaction.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::management {

struct ProjectRow {
  std::string folder_name;
  std::string project_name;
  std::int64_t project_id = 0;
  std::int64_t version = 0;  // object_version_lsn of the current version
  std::string deployed_by;
  std::int64_t last_deployed_time = 0;
  std::int64_t package_count = 0;
};

struct PackageRow {
  std::string folder_name;
  std::string project_name;
  std::string package_name;
  std::int64_t version = 0;
  bool entry_point = true;
  std::string sha256;
  std::int64_t size_bytes = 0;
};

// Projects (current versions), by folder and name; `folder` filters (readers).
sdk::Result<std::vector<ProjectRow>> ListProjects(catalog::Txn& txn, const catalog::Caller& caller,
                                                  const std::optional<std::string>& folder);
// Packages of the current version of each project, filtered (readers).
sdk::Result<std::vector<PackageRow>> ListPackages(catalog::Txn& txn, const catalog::Caller& caller,
                                                  const std::optional<std::string>& folder,
                                                  const std::optional<std::string>& project);
// catalog.folders, by name (readers).
struct FolderRow {
  std::int64_t folder_id = 0;
  std::string name;
  std::string description;
  std::string created_by;
  std::int64_t created_time = 0;
};
sdk::Result<std::vector<FolderRow>> ListFolders(catalog::Txn& txn, const catalog::Caller& caller);
// status code → number of executions, on any connection, without a role
// check: a full scan of the executions table (see ExecutionCounts).
sdk::Result<std::map<int, std::int64_t>> CountExecutionsByStatus(sdk::Connection& connection);
// status code → number of executions (readers).
sdk::Result<std::map<int, std::int64_t>> CountExecutionsByStatus(catalog::Txn& txn,
                                                                 const catalog::Caller& caller);

}  // namespace scaleout::core::management

#endif  // SCALEOUT_CORE_MANAGEMENT_CATALOG_QUERIES_H_
