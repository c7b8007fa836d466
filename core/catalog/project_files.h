// Project files for workers: every file (package) of one deployed project
// version, so a worker can fetch and cache a project before it runs a task.
#ifndef SCALEOUT_CORE_CATALOG_PROJECT_FILES_H_
#define SCALEOUT_CORE_CATALOG_PROJECT_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/catalog/transaction.h"
#include "scaleout/sdk/bytes.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::catalog {

struct ProjectFileContent {
  std::string name;  // path inside the project, "load.sh"
  sdk::Bytes content;
  std::string sha256;  // 64 uppercase hex digits
};

// The files of project `project_id` at version `project_lsn`, ordered by name.
// Errors: kNotFound when that project has no such version. Reads only.
sdk::Result<std::vector<ProjectFileContent>> ReadProjectFiles(Txn& txn, std::int64_t project_id,
                                                              std::int64_t project_lsn);

}  // namespace scaleout::core::catalog

#endif  // SCALEOUT_CORE_CATALOG_PROJECT_FILES_H_
