#include "core/catalog/project_files.h"

#include "core/catalog/sql.h"

namespace scaleout::core::catalog {

sdk::Result<std::vector<ProjectFileContent>> ReadProjectFiles(Txn& txn, std::int64_t project_id,
                                                              std::int64_t project_lsn) {
  SCALEOUT_ASSIGN_OR_RETURN(
      internal::Query query,
      internal::Cached(txn.connection,
                       "SELECT name, content, content_sha256 FROM packages "
                       "WHERE project_id = ? AND project_version_lsn = ? ORDER BY name"));
  query.Int(project_id).Int(project_lsn);
  std::vector<ProjectFileContent> files;
  while (true) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, query.Next());
    if (!row) break;
    files.push_back({query.T(0), query.B(1), query.T(2)});
  }
  if (files.empty()) {
    return sdk::Status::NotFound("project " + std::to_string(project_id) + " has no version " +
                                 std::to_string(project_lsn) + " in the catalog");
  }
  return files;
}

}  // namespace scaleout::core::catalog
