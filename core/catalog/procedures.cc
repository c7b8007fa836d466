#include "core/catalog/procedures.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "core/catalog/environments.h"
#include "core/catalog/limits.h"
#include "core/catalog/rows.h"
#include "core/catalog/sensitive_values.h"
#include "core/catalog/sql.h"
#include "core/catalog/state_machine.h"
#include "core/catalog/values.h"
#include "core/common/ids.h"
#include "core/common/peer_id.h"

namespace scaleout::core::catalog {

using internal::Cached;
using internal::CheckName;
using internal::CheckText;
using internal::Execute;
using internal::FindFolder;
using internal::FindProject;
using internal::ObjectTypeName;
using internal::OneOff;
using internal::ProjectRow;
using internal::Query;
using internal::Quoted;
using internal::RequireProject;
using sdk::Result;
using sdk::Status;

namespace {

Result<std::string> RequireWorkerId(sdk::Connection& c, std::string_view worker_agent_id) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string id, internal::ParseGuid("WorkerAgentId", worker_agent_id));
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<WorkerAgent> worker, internal::LoadWorker(c, id));
  if (!worker) {
    return Status::NotFound("worker agent " + id +
                            " is not in the catalog; add (trust) it first, then enable it");
  }
  return id;
}

// ---- deploy validation ----------------------------------------------------------------

Status ValidateDeployment(const ProjectDeployment& d) {
  SCALEOUT_RETURN_IF_ERROR(CheckName("folder_name", d.folder_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(CheckName("project_name", d.project_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(CheckText("description", d.description, kMaxDescriptionChars));
  if (d.packages.empty()) {
    return Status::InvalidArgument("project " + Quoted(d.project_name) +
                                   " has no packages; a deployment needs at least one");
  }
  if (d.packages.size() > kMaxPackagesPerProject) {
    return Status::InvalidArgument("a project may have at most " +
                                   std::to_string(kMaxPackagesPerProject) + " packages");
  }
  std::set<std::string> names;
  for (const PackageSpec& p : d.packages) {
    SCALEOUT_RETURN_IF_ERROR(CheckName("package_name", p.name, kMaxPackageNameChars));
    if (p.content.size() > kMaxPackageBytes) {
      return Status::InvalidArgument("package " + Quoted(p.name) + " is " +
                                     std::to_string(p.content.size()) + " bytes; the limit is " +
                                     std::to_string(kMaxPackageBytes));
    }
    if (!names.insert(p.name).second) {
      return Status::InvalidArgument("package " + Quoted(p.name) + " appears twice");
    }
  }
  if (d.parameters.size() > kMaxParametersPerProject) {
    return Status::InvalidArgument("a project may declare at most " +
                                   std::to_string(kMaxParametersPerProject) + " parameters");
  }
  std::set<std::tuple<int, std::string, std::string>> seen;
  for (const ParameterSpec& p : d.parameters) {
    SCALEOUT_RETURN_IF_ERROR(CheckName("parameter name", p.name, kMaxNameChars));
    if (p.object_type != kObjectProject && p.object_type != kObjectPackage) {
      return Status::InvalidArgument("parameter " + Quoted(p.name) + " has object_type " +
                                     std::to_string(p.object_type) +
                                     "; use 20 (project) or 30 (package)");
    }
    std::string object = p.object_type == kObjectProject ? d.project_name : p.object_name;
    if (p.object_type == kObjectPackage && names.count(p.object_name) == 0) {
      return Status::InvalidArgument("package parameter " + Quoted(p.name) + " names package " +
                                     Quoted(p.object_name) + ", which is not in the deployment");
    }
    if (!internal::IsKnownDataType(p.data_type)) {
      return Status::InvalidArgument("parameter " + Quoted(p.name) + " has data type " +
                                     Quoted(p.data_type.substr(0, 40)) + "; use one of " +
                                     internal::KnownDataTypes());
    }
    if (p.default_value) {
      SCALEOUT_RETURN_IF_ERROR(
          CheckText("default value of " + p.name, *p.default_value, kMaxParameterValueChars));
      SCALEOUT_RETURN_IF_ERROR(
          internal::CheckValue("parameter " + Quoted(p.name), p.data_type, *p.default_value));
    }
    if (!seen.emplace(p.object_type, object, p.name).second) {
      return Status::InvalidArgument(std::string(ObjectTypeName(p.object_type)) + " parameter " +
                                     Quoted(p.name) + " is declared twice");
    }
  }
  return Status::Ok();
}

// The design defaults as stored: a sensitive parameter's sealed. Made before
// the deploy writes anything, so a catalog without its key refuses cleanly.
Result<std::vector<std::optional<std::string>>> StoredDefaults(Txn& txn,
                                                               const ProjectDeployment& d) {
  std::vector<std::optional<std::string>> out;
  out.reserve(d.parameters.size());
  for (const ParameterSpec& p : d.parameters) {
    if (p.sensitive && p.default_value) {
      SCALEOUT_ASSIGN_OR_RETURN(std::string sealed, internal::SealSensitive(txn, *p.default_value));
      out.emplace_back(std::move(sealed));
    } else {
      out.push_back(p.default_value);
    }
  }
  return out;
}

Status InsertPackages(sdk::Connection& c, std::int64_t project_id, std::int64_t lsn,
                      const ProjectDeployment& d,
                      const std::vector<std::optional<std::string>>& defaults) {
  for (const PackageSpec& p : d.packages) {
    SCALEOUT_ASSIGN_OR_RETURN(std::int64_t package_id, internal::NextId(c, "package"));
    SCALEOUT_RETURN_IF_ERROR(
        Execute(c,
                "INSERT INTO packages (package_id, project_id, project_version_lsn, name, "
                "content, content_sha256, entry_point) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [&](Query& q) {
                  q.Int(package_id)
                      .Int(project_id)
                      .Int(lsn)
                      .Text(p.name)
                      .Blob(p.content)
                      .Text(internal::Sha256Hex(p.content))
                      .Bool(p.entry_point);
                })
            .status());
  }
  for (std::size_t i = 0; i < d.parameters.size(); ++i) {
    const ParameterSpec& p = d.parameters[i];
    SCALEOUT_ASSIGN_OR_RETURN(std::int64_t parameter_id, internal::NextId(c, "parameter"));
    const std::string object = p.object_type == kObjectProject ? d.project_name : p.object_name;
    SCALEOUT_RETURN_IF_ERROR(
        Execute(c,
                "INSERT INTO object_parameters (parameter_id, project_id, project_version_lsn, "
                "object_type, object_name, parameter_name, data_type, default_value, required, "
                "sensitive) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [&](Query& q) {
                  q.Int(parameter_id)
                      .Int(project_id)
                      .Int(lsn)
                      .Int(p.object_type)
                      .Text(object)
                      .Text(p.name)
                      .Text(p.data_type)
                      .OptText(defaults[i])
                      .Bool(p.required)
                      .Bool(p.sensitive);
                })
            .status());
  }
  return Status::Ok();
}

// ---- execution helpers -----------------------------------------------------------------

Result<bool> ResolveRunInScaleOut(sdk::Connection& c, const CreateExecutionRequest& r) {
  if (r.runinscaleout) return *r.runinscaleout;
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<std::string> mode,
                            internal::GetCatalogProperty(c, "DEFAULT_EXECUTION_MODE"));
  return mode && *mode == "1";
}

struct PackageRow {
  bool entry_point = false;
};

Result<PackageRow> RequirePackage(sdk::Connection& c, std::int64_t lsn,
                                  const CreateExecutionRequest& r) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q,
      Cached(c, "SELECT entry_point FROM packages WHERE project_version_lsn = ? AND name = ?"));
  q.Int(lsn).Text(r.package_name);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) {
    return Status::NotFound("package " + Quoted(r.package_name) + " is not in project " +
                            Quoted(r.project_name) + " (folder " + Quoted(r.folder_name) + ")");
  }
  return PackageRow{q.I(0) != 0};
}

struct ProjectAndPackage {
  ProjectRow project;
  PackageRow package;
};

// The project (current version) and package of a create_execution request:
// one joined query when all three exist, else the step-by-step lookups that
// say which one is missing.
Result<ProjectAndPackage> FindProjectAndPackage(sdk::Connection& c,
                                                const CreateExecutionRequest& r) {
  {
    SCALEOUT_ASSIGN_OR_RETURN(
        Query q, Cached(c,
                        "SELECT p.project_id, p.object_version_lsn, k.entry_point FROM folders f "
                        "JOIN projects p ON p.folder_id = f.folder_id JOIN packages k ON "
                        "k.project_version_lsn = p.object_version_lsn AND k.name = ? WHERE "
                        "f.name = ? AND p.name = ?"));
    q.Text(r.package_name).Text(r.folder_name).Text(r.project_name);
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (row) return ProjectAndPackage{ProjectRow{q.I(0), q.I(1)}, PackageRow{q.I(2) != 0}};
  }
  SCALEOUT_ASSIGN_OR_RETURN(ProjectRow project, RequireProject(c, r.folder_name, r.project_name));
  SCALEOUT_ASSIGN_OR_RETURN(PackageRow package, RequirePackage(c, project.lsn, r));
  return ProjectAndPackage{project, package};
}

// The execution's parameters: the project's and the entry package's
// declared ones with their defaults. Its system parameters get no rows (see
// AddSystemParameterDefaults), except LOGGING_LEVEL when the catalog's
// SERVER_LOGGING_LEVEL, which it starts at, is not the built-in 1.
Status InsertExecutionParameters(sdk::Connection& c, std::int64_t execution_id, std::int64_t lsn,
                                 std::string_view package_name) {
  SCALEOUT_RETURN_IF_ERROR(
      Execute(c,
              "INSERT INTO execution_parameter_values (execution_id, object_type, "
              "parameter_name, data_type, parameter_value, sensitive, required, value_set) "
              "SELECT ?, object_type, parameter_name, data_type, default_value, sensitive, "
              "required, 0 FROM object_parameters WHERE project_version_lsn = ? AND "
              "(object_type = 20 OR (object_type = 30 AND object_name = ?))",
              [&](Query& q) { q.Int(execution_id).Int(lsn).Text(package_name); })
          .status());
  return Execute(c,
                 "INSERT INTO execution_parameter_values (execution_id, object_type, "
                 "parameter_name, data_type, parameter_value, sensitive, required, value_set) "
                 "SELECT ?, 50, 'LOGGING_LEVEL', 'Int32', property_value, 0, 0, 0 FROM "
                 "catalog_properties WHERE property_name = 'SERVER_LOGGING_LEVEL' AND "
                 "property_value <> '1'",
                 [&](Query& q) { q.Int(execution_id); })
      .status();
}

// What start_execution checks, read in one statement. Of the execution only
// execution_id, status, project_lsn, project_name and runinscaleout are read;
// the other fields keep their defaults.
struct ExecutionToStart {
  Execution execution;
  std::int64_t current_lsn = -1;      // the project's current version; -1 when it is gone
  std::int64_t missing_required = 0;  // required parameters without a value
};

Result<ExecutionToStart> LoadExecutionToStart(sdk::Connection& c, std::int64_t execution_id) {
  static constexpr char kSql[] =
      "SELECT e.status, e.project_lsn, e.project_name, e.runinscaleout, CASE WHEN "
      "p.deleted_time IS NULL THEN p.object_version_lsn END, "
      "(SELECT COUNT(*) FROM execution_parameter_values v WHERE v.execution_id = e.execution_id "
      "AND v.required = 1 AND v.parameter_value IS NULL) FROM executions e LEFT JOIN projects p "
      "ON p.project_id = e.project_id WHERE e.execution_id = ?";
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c, kSql));
  q.Int(execution_id);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) return internal::ExecutionNotFound(execution_id);
  ExecutionToStart out;
  Execution& e = out.execution;
  e.execution_id = execution_id;
  e.status = StatusFromCode(q.I(0)).value_or(ExecutionStatus::kCreated);
  e.project_lsn = q.I(1);
  e.project_name = q.T(2);
  e.runinscaleout = q.I(3) != 0;
  out.current_lsn = q.OptI(4).value_or(-1);
  out.missing_required = q.I(5);
  return out;
}

Status RequireCreated(const Execution& e, std::string_view what) {
  if (e.status == ExecutionStatus::kCreated) return Status::Ok();
  return Status::FailedPrecondition(internal::ExecutionLabel(e.execution_id) + " is " +
                                    StatusLabel(e.status) + "; " + std::string(what) +
                                    " only while it is created (1)");
}

Result<std::vector<std::string>> MissingRequiredParameters(sdk::Connection& c,
                                                           std::int64_t execution_id) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(c,
                      "SELECT parameter_name FROM execution_parameter_values WHERE execution_id = "
                      "? AND required = 1 AND parameter_value IS NULL ORDER BY parameter_name"));
  q.Int(execution_id);
  return internal::FirstColumnTexts(q);
}

// ---- configure_catalog ----------------------------------------------------------------------

Result<std::int64_t> ParseInt(std::string_view value) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size()) {
    return Status::InvalidArgument("not an integer");
  }
  return v;
}

std::string Upper(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Returns the value to store (normalized), or why it is refused.
Result<std::string> ValidateCatalogProperty(std::string_view name, std::string_view value) {
  auto int_in = [&](std::int64_t lo, std::int64_t hi,
                    const std::string& what) -> Result<std::string> {
    Result<std::int64_t> v = ParseInt(value);
    if (!v.ok() || *v < lo || *v > hi) {
      return Status::InvalidArgument(std::string(name) + " must be " + what + ", got " +
                                     Quoted(value.substr(0, 40)));
    }
    return std::to_string(*v);
  };
  auto one_of = [&](std::initializer_list<std::string_view> allowed) -> Result<std::string> {
    const std::string upper = Upper(value);
    std::string list;
    for (std::string_view a : allowed) {
      if (upper == a) return upper;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    return Status::InvalidArgument(std::string(name) + " must be one of " + list + ", got " +
                                   Quoted(value.substr(0, 40)));
  };
  if (name == "DEFAULT_EXECUTION_MODE") return int_in(0, 1, "0 (Server) or 1 (Scale Out)");
  if (name == "RETENTION_WINDOW") return int_in(1, 3650, "a number of days from 1 to 3650");
  if (name == "MAX_PROJECT_VERSIONS") return int_in(1, 9999, "an integer from 1 to 9999");
  if (name == "SERVER_OPERATION_ENCRYPTION_LEVEL") {
    return int_in(1, 2, "1 (per execution) or 2 (per project)");
  }
  if (name == "OPERATION_CLEANUP_ENABLED" || name == "VERSION_CLEANUP_ENABLED") {
    return one_of({"TRUE", "FALSE"});
  }
  if (name == "SERVER_LOGGING_LEVEL") {
    SCALEOUT_RETURN_IF_ERROR(
        internal::CheckSystemValue("LOGGING_LEVEL", value).WithContext("SERVER_LOGGING_LEVEL"));
    return std::string(value);
  }
  if (name == "SERVER_CUSTOMIZED_LOGGING_LEVEL") return std::string(value);
  if (name == "ENCRYPTION_ALGORITHM") {
    // SSIS also lists DES, TRIPLE_DES, TRIPLE_DES_3KEY and DESX, which SQL
    // Server deprecates; sealing with them would protect nothing.
    const std::string upper = Upper(value);
    if (upper.find("DES") != std::string::npos) {
      return Status::InvalidArgument(
          "ENCRYPTION_ALGORITHM " + Quoted(value.substr(0, 64)) +
          " is a DES algorithm, which scaleout does not seal with (SQL Server deprecates them); "
          "use AES_128, AES_192 or AES_256");
    }
    return one_of({"AES_128", "AES_192", "AES_256"});
  }
  if (name == "IS_SCALEOUT_ENABLED") {
    return Status::InvalidArgument(
        "IS_SCALEOUT_ENABLED is not set by configure_catalog; call enable_scaleout");
  }
  return Status::InvalidArgument(
      "unknown catalog property " + Quoted(name.substr(0, 64)) +
      "; use DEFAULT_EXECUTION_MODE, RETENTION_WINDOW, OPERATION_CLEANUP_ENABLED, "
      "VERSION_CLEANUP_ENABLED, MAX_PROJECT_VERSIONS, SERVER_LOGGING_LEVEL, "
      "SERVER_CUSTOMIZED_LOGGING_LEVEL, ENCRYPTION_ALGORITHM or SERVER_OPERATION_ENCRYPTION_LEVEL");
}

Result<std::int64_t> CountActiveExecutions(sdk::Connection& c) {
  SCALEOUT_ASSIGN_OR_RETURN(Query q,
                            Cached(c, "SELECT COUNT(*) FROM executions WHERE status IN (2, 5, 8)"));
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  return row ? q.I(0) : 0;
}

Status SetWorkerEnabled(Txn& txn, const Caller& caller, std::string_view worker_agent_id,
                        bool enabled) {
  SCALEOUT_RETURN_IF_ERROR(
      RequireRole(caller, enabled ? "enable_worker_agent" : "disable_worker_agent", kAdminRoles));
  SCALEOUT_ASSIGN_OR_RETURN(std::string id, RequireWorkerId(txn.connection, worker_agent_id));
  return Execute(txn.connection,
                 "UPDATE worker_agents SET is_enabled = ? WHERE worker_agent_id = ?",
                 [&](Query& q) { q.Bool(enabled).Text(id); })
      .status();
}

template <typename T, typename Reader>
Result<std::vector<T>> ReadAll(Query& q, Reader read) {
  std::vector<T> rows;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    rows.push_back(read(q));
  }
  return rows;
}

Status CheckLimit(std::int64_t limit) {
  if (limit >= 1 && limit <= kMaxListLimit) return Status::Ok();
  return Status::InvalidArgument("limit must be from 1 to " + std::to_string(kMaxListLimit) +
                                 ", got " + std::to_string(limit));
}

}  // namespace

// ---- folders and projects -----------------------------------------------------------------

Result<std::int64_t> CreateFolder(Txn& txn, const Caller& caller, std::string_view name,
                                  std::string_view description) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "create_folder", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckName("folder_name", name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(CheckText("description", description, kMaxDescriptionChars));
  Result<std::int64_t> existing = FindFolder(txn.connection, name);
  if (existing.ok()) return Status::AlreadyExists("folder " + Quoted(name) + " already exists");
  if (existing.status().code() != sdk::StatusCode::kNotFound) return existing.status();
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id, internal::NextId(txn.connection, "folder"));
  SCALEOUT_RETURN_IF_ERROR(
      Execute(
          txn.connection,
          "INSERT INTO folders (folder_id, name, description, created_by_name, created_time) "
          "VALUES (?, ?, ?, ?, ?)",
          [&](Query& q) { q.Int(id).Text(name).Text(description).Text(caller.name).Int(txn.now); })
          .status());
  return id;
}

Status SetFolderDescription(Txn& txn, const Caller& caller, std::string_view folder_name,
                            std::string_view description) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "set_folder_description", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckText("folder_description", description, kMaxDescriptionChars));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t folder_id, FindFolder(c, folder_name));
  return Execute(c, "UPDATE folders SET description = ? WHERE folder_id = ?",
                 [&](Query& q) { q.Text(description).Int(folder_id); })
      .status();
}

Status RenameFolder(Txn& txn, const Caller& caller, std::string_view old_name,
                    std::string_view new_name) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "rename_folder", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckName("new_name", new_name, kMaxNameChars));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t folder_id, FindFolder(c, old_name));
  if (old_name == new_name) return Status::Ok();
  if (FindFolder(c, new_name).ok()) {
    return Status::AlreadyExists("folder " + Quoted(new_name) +
                                 " exists already; choose another name");
  }
  auto rename = [&](std::string_view sql) {
    return Execute(c, sql, [&](Query& q) { q.Text(new_name).Text(old_name); }).status();
  };
  SCALEOUT_RETURN_IF_ERROR(
      Execute(c, "UPDATE folders SET name = ? WHERE folder_id = ?", [&](Query& q) {
        q.Text(new_name).Int(folder_id);
      }).status());
  SCALEOUT_RETURN_IF_ERROR(rename("UPDATE schedules SET folder_name = ? WHERE folder_name = ?"));
  return rename(
      "UPDATE environment_references SET environment_folder_name = ? WHERE "
      "environment_folder_name = ?");
}

Status DeleteFolder(Txn& txn, const Caller& caller, std::string_view name) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "delete_folder", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckName("folder_name", name, kMaxNameChars));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id, FindFolder(c, name));
  // As SSIS: only an empty folder. A deleted project's row stays while its
  // history does, and holds the folder until the maintenance removes it.
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(c,
                      "SELECT (SELECT COUNT(*) FROM projects WHERE folder_id = ? AND deleted_time "
                      "IS NULL), (SELECT COUNT(*) FROM environments WHERE folder_id = ?), (SELECT "
                      "COUNT(*) FROM projects WHERE folder_id = ? AND deleted_time IS NOT NULL)"));
  q.Int(id).Int(id).Int(id);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (row && (q.I(0) > 0 || q.I(1) > 0)) {
    return Status::FailedPrecondition("folder " + Quoted(name) + " holds " +
                                      std::to_string(q.I(0)) + " project(s) and " +
                                      std::to_string(q.I(1)) +
                                      " environment(s); delete them first (delete_project, "
                                      "delete_environment)");
  }
  if (row && q.I(2) > 0) {
    return Status::FailedPrecondition(
        "folder " + Quoted(name) + " still holds the history of " + std::to_string(q.I(2)) +
        " deleted project(s); the catalog maintenance removes it once their executions are past "
        "RETENTION_WINDOW");
  }
  return Execute(c, "DELETE FROM folders WHERE folder_id = ?", [&](Query& b) { b.Int(id); })
      .status();
}

Result<DeployResult> DeployProject(Txn& txn, const Caller& caller, const ProjectDeployment& d) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "deploy_project", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(ValidateDeployment(d));
  SCALEOUT_ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> defaults,
                            StoredDefaults(txn, d));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t folder_id, FindFolder(c, d.folder_name));
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<ProjectRow> project,
                            FindProject(c, folder_id, d.project_name));
  DeployResult result;
  SCALEOUT_ASSIGN_OR_RETURN(result.object_version_lsn, internal::NextId(c, "object_version"));
  if (project) {
    result.project_id = project->project_id;
  } else {
    SCALEOUT_ASSIGN_OR_RETURN(result.project_id, internal::NextId(c, "project"));
    SCALEOUT_RETURN_IF_ERROR(
        Execute(c,
                "INSERT INTO projects (project_id, folder_id, name, description, "
                "object_version_lsn, deployed_by_name, created_time, last_deployed_time) "
                "VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
                [&](Query& q) {
                  q.Int(result.project_id)
                      .Int(folder_id)
                      .Text(d.project_name)
                      .Text(d.description)
                      .Text(caller.name)
                      .Int(txn.now)
                      .Int(txn.now);
                })
            .status());
  }
  SCALEOUT_RETURN_IF_ERROR(
      Execute(c,
              "INSERT INTO object_versions (object_version_lsn, project_id, created_by_name, "
              "created_time, description) VALUES (?, ?, ?, ?, ?)",
              [&](Query& q) {
                q.Int(result.object_version_lsn)
                    .Int(result.project_id)
                    .Text(caller.name)
                    .Int(txn.now)
                    .Text(d.description);
              })
          .status());
  SCALEOUT_RETURN_IF_ERROR(
      Execute(c,
              "UPDATE projects SET object_version_lsn = ?, description = ?, deployed_by_name = ?, "
              "last_deployed_time = ? WHERE project_id = ?",
              [&](Query& q) {
                q.Int(result.object_version_lsn)
                    .Text(d.description)
                    .Text(caller.name)
                    .Int(txn.now)
                    .Int(result.project_id);
              })
          .status());
  SCALEOUT_RETURN_IF_ERROR(
      InsertPackages(c, result.project_id, result.object_version_lsn, d, defaults));
  SCALEOUT_ASSIGN_OR_RETURN(
      result.operation_id,
      internal::InsertOperation(c, OperationType::kDeployProject, kObjectProject, result.project_id,
                                d.project_name, ExecutionStatus::kSucceeded, caller.name, txn.now));
  return result;
}

Status MoveProject(Txn& txn, const Caller& caller, std::string_view source_folder,
                   std::string_view project_name, std::string_view destination_folder) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "move_project", kAdminRoles));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(ProjectRow project, RequireProject(c, source_folder, project_name));
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t destination_id, FindFolder(c, destination_folder));
  if (source_folder == destination_folder) return Status::Ok();
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<ProjectRow> taken,
                            FindProject(c, destination_id, project_name));
  if (taken) {
    return Status::AlreadyExists("folder " + Quoted(destination_folder) + " has a project " +
                                 Quoted(project_name) + " already; delete or move that one first");
  }
  SCALEOUT_RETURN_IF_ERROR(
      Execute(c, "UPDATE projects SET folder_id = ? WHERE project_id = ?", [&](Query& q) {
        q.Int(destination_id).Int(project.project_id);
      }).status());
  return Execute(
             c, "UPDATE schedules SET folder_name = ? WHERE folder_name = ? AND project_name = ?",
             [&](Query& q) { q.Text(destination_folder).Text(source_folder).Text(project_name); })
      .status();
}

Status DeleteProject(Txn& txn, const Caller& caller, std::string_view folder_name,
                     std::string_view project_name) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "delete_project", kAdminRoles));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(ProjectRow project, RequireProject(c, folder_name, project_name));
  {
    SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                              "SELECT COUNT(*) FROM executions WHERE project_id "
                                              "= ? AND status IN (2, 5, 8)"));
    q.Int(project.project_id);
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (row && q.I(0) > 0) {
      return Status::FailedPrecondition(
          "project " + Quoted(project_name) + " has " + std::to_string(q.I(0)) +
          " executions pending or running; wait for them or stop them (stop_operation) first");
    }
  }
  {
    SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                              "SELECT name FROM schedules WHERE folder_name = ? "
                                              "AND project_name = ? ORDER BY name"));
    q.Text(folder_name).Text(project_name);
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (row) {
      return Status::FailedPrecondition("schedule " + Quoted(q.T(0)) + " runs a package of " +
                                        Quoted(project_name) +
                                        "; remove the schedule first (remove_schedule)");
    }
  }
  // As SSIS: its environment references and configured values go with it;
  // its versions and its executions stay (their history) until the
  // retention cleanup. The row keeps them company under a name no caller can
  // give (CheckName refuses control characters), so the name is free again.
  SCALEOUT_RETURN_IF_ERROR(
      Execute(c, "DELETE FROM environment_references WHERE project_id = ?", [&](Query& b) {
        b.Int(project.project_id);
      }).status());
  SCALEOUT_RETURN_IF_ERROR(
      Execute(c, "DELETE FROM object_parameter_values WHERE project_id = ?", [&](Query& b) {
        b.Int(project.project_id);
      }).status());
  const std::string retired =
      std::string(project_name) + '\x1f' + std::to_string(project.project_id);
  return Execute(c, "UPDATE projects SET name = ?, deleted_time = ? WHERE project_id = ?",
                 [&](Query& b) { b.Text(retired).Int(txn.now).Int(project.project_id); })
      .status();
}

Result<std::vector<ProjectVersion>> ListProjectVersions(Txn& txn, const Caller& caller,
                                                        std::string_view folder_name,
                                                        std::string_view project_name) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "list project versions", kReaderRoles));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(ProjectRow project, RequireProject(c, folder_name, project_name));
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(c,
                      "SELECT v.object_version_lsn, v.description, v.created_by_name, "
                      "v.created_time, v.restored_by_name, v.last_restored_time, (SELECT COUNT(*) "
                      "FROM packages k WHERE k.project_version_lsn = v.object_version_lsn) FROM "
                      "object_versions v WHERE v.project_id = ? ORDER BY v.object_version_lsn "
                      "DESC"));
  q.Int(project.project_id);
  std::vector<ProjectVersion> out;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    ProjectVersion v;
    v.object_version_lsn = q.I(0);
    v.project_id = project.project_id;
    v.object_name = std::string(project_name);
    v.description = q.T(1);
    v.created_by = q.T(2);
    v.created_time = q.I(3);
    v.restored_by = q.OptT(4);
    v.last_restored_time = q.OptI(5);
    v.current = v.object_version_lsn == project.lsn;
    v.package_count = q.I(6);
    out.push_back(std::move(v));
  }
  return out;
}

namespace {

// The version's description; kNotFound when `lsn` is not one of the project's.
Result<std::string> RequireVersion(sdk::Connection& c, const ProjectRow& project,
                                   std::string_view project_name, std::int64_t lsn) {
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                            "SELECT description FROM object_versions WHERE "
                                            "object_version_lsn = ? AND project_id = ?"));
  q.Int(lsn).Int(project.project_id);
  SCALEOUT_ASSIGN_OR_RETURN(bool found, q.Next());
  if (!found) {
    return Status::NotFound("project " + Quoted(project_name) + " has no version " +
                            std::to_string(lsn) +
                            "; list_project_versions shows the versions the catalog keeps "
                            "(MAX_PROJECT_VERSIONS)");
  }
  return q.T(0);
}

}  // namespace

Result<ProjectExport> GetProject(Txn& txn, const Caller& caller, std::string_view folder_name,
                                 std::string_view project_name,
                                 std::optional<std::int64_t> object_version_lsn) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "get_project", kReaderRoles));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(ProjectRow project, RequireProject(c, folder_name, project_name));
  ProjectExport out;
  out.object_version_lsn = object_version_lsn.value_or(project.lsn);
  ProjectDeployment& d = out.project;
  d.folder_name = std::string(folder_name);
  d.project_name = std::string(project_name);
  SCALEOUT_ASSIGN_OR_RETURN(d.description,
                            RequireVersion(c, project, project_name, out.object_version_lsn));
  {
    SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                              "SELECT name, content, entry_point FROM packages "
                                              "WHERE project_version_lsn = ? ORDER BY name"));
    q.Int(out.object_version_lsn);
    for (;;) {
      SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
      if (!row) break;
      d.packages.push_back({q.T(0), q.B(1), q.I(2) != 0});
    }
  }
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(c,
                      "SELECT object_type, object_name, parameter_name, data_type, default_value, "
                      "required, sensitive FROM object_parameters WHERE project_version_lsn = ? "
                      "ORDER BY object_type, object_name, parameter_name"));
  q.Int(out.object_version_lsn);
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    ParameterSpec p;
    p.object_type = static_cast<int>(q.I(0));
    p.object_name = p.object_type == kObjectPackage ? q.T(1) : std::string();
    p.name = q.T(2);
    p.data_type = q.T(3);
    p.required = q.I(5) != 0;
    p.sensitive = q.I(6) != 0;
    if (!p.sensitive) p.default_value = q.OptT(4);
    d.parameters.push_back(std::move(p));
  }
  return out;
}

Result<std::int64_t> RestoreProject(Txn& txn, const Caller& caller, std::string_view folder_name,
                                    std::string_view project_name,
                                    std::int64_t object_version_lsn) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "restore_project", kAdminRoles));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(ProjectRow project, RequireProject(c, folder_name, project_name));
  SCALEOUT_RETURN_IF_ERROR(RequireVersion(c, project, project_name, object_version_lsn).status());
  SCALEOUT_RETURN_IF_ERROR(
      Execute(c, "UPDATE projects SET object_version_lsn = ? WHERE project_id = ?", [&](Query& q) {
        q.Int(object_version_lsn).Int(project.project_id);
      }).status());
  SCALEOUT_RETURN_IF_ERROR(
      Execute(c,
              "UPDATE object_versions SET restored_by_name = ?, "
              "last_restored_time = ? WHERE object_version_lsn = ?",
              [&](Query& q) { q.Text(caller.name).Int(txn.now).Int(object_version_lsn); })
          .status());
  return internal::InsertOperation(c, OperationType::kRestoreProject, kObjectProject,
                                   project.project_id, project_name, ExecutionStatus::kSucceeded,
                                   caller.name, txn.now);
}

// ---- executions ------------------------------------------------------------------------------

Result<std::int64_t> CreateExecution(Txn& txn, const Caller& caller,
                                     const CreateExecutionRequest& r) {
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(bool scaleout, ResolveRunInScaleOut(c, r));
  // SSIS: ssis_cluster_executor may create only scale-out executions.
  SCALEOUT_RETURN_IF_ERROR(RequireRole(
      caller, scaleout ? "create_execution" : "create_execution in server mode (runinscaleout=0)",
      scaleout ? kRunnerRoles : kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckName("folder_name", r.folder_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(CheckName("project_name", r.project_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(CheckName("package_name", r.package_name, kMaxPackageNameChars));
  SCALEOUT_ASSIGN_OR_RETURN(ProjectAndPackage found, FindProjectAndPackage(c, r));
  const ProjectRow& project = found.project;
  const PackageRow& package = found.package;
  if (!package.entry_point) {
    return Status::FailedPrecondition("package " + Quoted(r.package_name) +
                                      " is not an entry-point package; only entry-point packages "
                                      "can be executed");
  }
  if (r.reference_id)
    SCALEOUT_RETURN_IF_ERROR(internal::RequireReference(c, project.project_id, *r.reference_id));
  SCALEOUT_ASSIGN_OR_RETURN(
      std::vector<internal::ParameterAssignment> configured,
      internal::ResolveConfiguredParameterValues(txn, project.project_id, project.lsn,
                                                 r.package_name, r.reference_id));

  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id, internal::NextBlockId(c, "operation"));
  SCALEOUT_RETURN_IF_ERROR(
      internal::InsertOperation(c, OperationType::kExecution, kObjectProject, project.project_id,
                                r.project_name, ExecutionStatus::kCreated, caller.name, txn.now, id)
          .status());
  SCALEOUT_RETURN_IF_ERROR(
      Execute(c,
              "INSERT INTO executions (execution_id, folder_name, project_name, package_name, "
              "reference_id, project_id, project_lsn, executed_as_name, caller_name, status, "
              "created_time, use32bitruntime, runinscaleout, useanyworker, retry_count, "
              "executed_count, stop_requested, lease_epoch) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, 0, 0, 0, 0)",
              [&](Query& q) {
                q.Int(id)
                    .Text(r.folder_name)
                    .Text(r.project_name)
                    .Text(r.package_name)
                    .OptInt(r.reference_id)
                    .Int(project.project_id)
                    .Int(project.lsn)
                    .Text(caller.name)
                    .Text(caller.name)
                    .Int(txn.now)
                    .Bool(r.use32bitruntime)
                    .Bool(scaleout)
                    .Bool(r.useanyworker);
              })
          .status());
  SCALEOUT_RETURN_IF_ERROR(InsertExecutionParameters(c, id, project.lsn, r.package_name));
  SCALEOUT_RETURN_IF_ERROR(internal::WriteParameterAssignments(c, id, configured));
  return id;
}

Status SetExecutionParameterValue(Txn& txn, const Caller& caller, std::int64_t execution_id,
                                  int object_type, std::string_view parameter_name,
                                  std::string_view parameter_value) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "set_execution_parameter_value", kRunnerRoles));
  if (object_type != kObjectProject && object_type != kObjectPackage &&
      object_type != kObjectExecution) {
    return Status::InvalidArgument("object_type " + std::to_string(object_type) +
                                   " is not valid; use 20 (project parameter), 30 (package "
                                   "parameter) or 50 (execution parameter)");
  }
  SCALEOUT_RETURN_IF_ERROR(CheckName("parameter_name", parameter_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(CheckText("parameter_value", parameter_value, kMaxParameterValueChars));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(Execution e, internal::LoadExecution(c, execution_id));
  SCALEOUT_RETURN_IF_ERROR(RequireCreated(e, "parameter values can be set"));
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                            "SELECT data_type, sensitive FROM "
                                            "execution_parameter_values WHERE execution_id = ? "
                                            "AND object_type = ? AND parameter_name = ?"));
  q.Int(execution_id).Int(object_type).Text(parameter_name);
  SCALEOUT_ASSIGN_OR_RETURN(bool stored, q.Next());
  // A system parameter still at its default has no row yet.
  const internal::SystemParameter* system = nullptr;
  if (!stored && object_type == kObjectExecution) {
    for (const internal::SystemParameter& p : internal::SystemParameters()) {
      if (p.name == parameter_name) system = &p;
    }
  }
  if (!stored && system == nullptr) {
    return Status::NotFound(internal::ExecutionLabel(execution_id) + " has no " +
                            std::string(ObjectTypeName(object_type)) + " parameter " +
                            Quoted(parameter_name) +
                            "; list its parameters (execution_parameter_values) for the names");
  }
  const std::string data_type = stored ? q.T(0) : std::string(system->data_type);
  const bool sensitive = stored && q.I(1) != 0;
  const std::string label =
      std::string(ObjectTypeName(object_type)) + " parameter " + Quoted(parameter_name);
  SCALEOUT_RETURN_IF_ERROR(internal::CheckValue(label, data_type, parameter_value));
  if (object_type == kObjectExecution) {
    SCALEOUT_RETURN_IF_ERROR(internal::CheckSystemValue(parameter_name, parameter_value));
  }
  std::string sealed;
  if (sensitive) {
    SCALEOUT_ASSIGN_OR_RETURN(sealed, internal::SealSensitive(txn, parameter_value));
    parameter_value = sealed;
  }
  if (!stored) {
    return Execute(c,
                   "INSERT INTO execution_parameter_values (execution_id, object_type, "
                   "parameter_name, data_type, parameter_value, sensitive, required, value_set) "
                   "VALUES (?, 50, ?, ?, ?, 0, 0, 1)",
                   [&](Query& b) {
                     b.Int(execution_id).Text(system->name).Text(data_type).Text(parameter_value);
                   })
        .status();
  }
  return Execute(c,
                 "UPDATE execution_parameter_values SET parameter_value = ?, value_set = 1 WHERE "
                 "execution_id = ? AND object_type = ? AND parameter_name = ?",
                 [&](Query& b) {
                   b.Text(parameter_value).Int(execution_id).Int(object_type).Text(parameter_name);
                 })
      .status();
}

Status AddExecutionWorker(Txn& txn, const Caller& caller, std::int64_t execution_id,
                          std::string_view worker_agent_id) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "add_execution_worker", kRunnerRoles));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(std::string id, internal::ParseGuid("workeragent_id", worker_agent_id));
  SCALEOUT_ASSIGN_OR_RETURN(Execution e, internal::LoadExecution(c, execution_id));
  if (!e.runinscaleout) {
    return Status::FailedPrecondition(internal::ExecutionLabel(execution_id) +
                                      " does not run in Scale Out (runinscaleout = 0); workers "
                                      "can be added only to scale-out executions");
  }
  SCALEOUT_RETURN_IF_ERROR(RequireCreated(e, "workers can be added"));
  SCALEOUT_RETURN_IF_ERROR(RequireWorkerId(c, id).status());
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                            "SELECT 1 FROM execution_workers WHERE execution_id "
                                            "= ? AND worker_agent_id = ?"));
  q.Int(execution_id).Text(id);
  SCALEOUT_ASSIGN_OR_RETURN(bool present, q.Next());
  if (present) return Status::Ok();  // adding twice is harmless, as in SSIS
  return Execute(c, "INSERT INTO execution_workers (execution_id, worker_agent_id) VALUES (?, ?)",
                 [&](Query& b) { b.Int(execution_id).Text(id); })
      .status();
}

Status StartExecution(Txn& txn, const Caller& caller, std::int64_t execution_id,
                      std::int64_t retry_count) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "start_execution", kRunnerRoles));
  if (retry_count < 0 || retry_count > kMaxRetryCount) {
    return Status::InvalidArgument("retry_count must be from 0 to " +
                                   std::to_string(kMaxRetryCount) + ", got " +
                                   std::to_string(retry_count));
  }
  sdk::Connection& c = txn.connection;
  // The execution, its project's current version and its count of missing
  // required values in one read; the names are read only when some are missing.
  SCALEOUT_ASSIGN_OR_RETURN(ExecutionToStart loaded, LoadExecutionToStart(c, execution_id));
  const Execution& e = loaded.execution;
  if (!e.runinscaleout)
    SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "start_execution in server mode", kAdminRoles));
  SCALEOUT_ASSIGN_OR_RETURN(ExecutionStatus to,
                            Transition(Entity::kExecution, Event::kStart, e.status,
                                       internal::ExecutionLabel(execution_id)));
  const std::int64_t current_lsn = loaded.current_lsn;
  if (current_lsn < 0) {
    return Status::FailedPrecondition(internal::ExecutionLabel(execution_id) + " is of project " +
                                      Quoted(e.project_name) +
                                      ", which was deleted; deploy it again and create a new "
                                      "execution");
  }
  if (current_lsn != e.project_lsn) {
    return Status::FailedPrecondition(internal::ExecutionLabel(execution_id) +
                                      " was created for version " + std::to_string(e.project_lsn) +
                                      " of project " + Quoted(e.project_name) +
                                      ", which has since been redeployed or restored to "
                                      "another version (version " +
                                      std::to_string(current_lsn) + "); create a new execution");
  }
  std::vector<std::string> missing;
  if (loaded.missing_required > 0) {
    SCALEOUT_ASSIGN_OR_RETURN(missing, MissingRequiredParameters(c, execution_id));
  }
  if (!missing.empty()) {
    std::string names;
    for (const std::string& n : missing) names += (names.empty() ? "" : ", ") + Quoted(n);
    return Status::FailedPrecondition(internal::ExecutionLabel(execution_id) +
                                      " cannot start: required parameters have no value: " + names +
                                      "; set them with set_execution_parameter_value");
  }
  // One UPDATE: retry count and start time together with what
  // WriteExecutionStatus would write.
  const std::optional<std::int64_t> end = internal::EndTimeFor(to, txn.now);
  SCALEOUT_RETURN_IF_ERROR(
      Execute(
          c,
          "UPDATE executions SET retry_count = ?, start_time = ?, "
          "status = ?, end_time = COALESCE(?, end_time) WHERE "
          "execution_id = ?",
          [&](Query& b) {
            b.Int(retry_count).Int(txn.now).Int(static_cast<int>(to)).OptInt(end).Int(execution_id);
          })
          .status());
  return internal::QueueTask(c, execution_id, 1, !e.runinscaleout, txn.now).status();
}

Status StopOperation(Txn& txn, const Caller& caller, std::int64_t operation_id) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "stop_operation", kRunnerRoles));
  sdk::Connection& c = txn.connection;
  Result<Execution> loaded = internal::LoadExecution(c, operation_id);
  if (!loaded.ok() && loaded.status().code() == sdk::StatusCode::kNotFound) {
    SCALEOUT_ASSIGN_OR_RETURN(
        Query q, Cached(c, "SELECT operation_type FROM operations WHERE operation_id = ?"));
    q.Int(operation_id);
    SCALEOUT_ASSIGN_OR_RETURN(bool found, q.Next());
    if (found) {
      return Status::FailedPrecondition("operation " + std::to_string(operation_id) + " (type " +
                                        std::to_string(q.I(0)) +
                                        ") has finished; only executions can be stopped");
    }
    return Status::NotFound("operation " + std::to_string(operation_id) +
                            " does not exist; list operations to find its id");
  }
  if (!loaded.ok()) return loaded.status();
  const Execution& e = *loaded;
  SCALEOUT_ASSIGN_OR_RETURN(ExecutionStatus to,
                            Transition(Entity::kExecution, Event::kRequestStop, e.status,
                                       internal::ExecutionLabel(operation_id)));
  SCALEOUT_RETURN_IF_ERROR(Execute(c,
                                   "UPDATE executions SET stop_requested = 1, stopped_by_name = ? "
                                   "WHERE execution_id = ?",
                                   [&](Query& b) { b.Text(caller.name).Int(operation_id); })
                               .status());
  if (to == ExecutionStatus::kCanceled) {
    // Pending: no worker holds it, so its queued attempt is canceled at once.
    SCALEOUT_RETURN_IF_ERROR(Execute(c,
                                     "UPDATE tasks SET status = 3, end_time = ? WHERE execution_id "
                                     "= ? AND status = 5",
                                     [&](Query& b) { b.Int(txn.now).Int(operation_id); })
                                 .status());
  }
  SCALEOUT_RETURN_IF_ERROR(internal::WriteExecutionStatus(c, operation_id, to, txn.now));
  return internal::InsertOperation(c, OperationType::kStopOperation, kObjectExecution, operation_id,
                                   e.package_name, ExecutionStatus::kSucceeded, caller.name,
                                   txn.now)
      .status();
}

// ---- workers and configuration
// -------------------------------------------------------------------

Result<std::string> AddWorkerAgent(Txn& txn, const Caller& caller, const AddWorkerRequest& r) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "add a worker agent", kAdminRoles));
  std::optional<std::string> sha256 = NormalizePeerId(r.cert_sha256);  // or a CURVE key
  if (!sha256) {
    return Status::InvalidArgument("certificate thumbprint '" + r.cert_sha256.substr(0, 80) +
                                   "' is not a SHA-256 thumbprint (64 hex digits) nor a CURVE "
                                   "public key (40 Z85 characters); print it with "
                                   "'scaleout cert thumbprint'");
  }
  std::string sha1;
  if (!r.cert_sha1.empty()) {
    std::optional<std::string> s = NormalizeThumbprint(r.cert_sha1, 40);
    if (!s) {
      return Status::InvalidArgument("SHA-1 thumbprint '" + r.cert_sha1.substr(0, 80) +
                                     "' is not 40 hex digits");
    }
    sha1 = *s;
  }
  std::string id;
  if (r.worker_agent_id) {
    SCALEOUT_ASSIGN_OR_RETURN(id, internal::ParseGuid("WorkerAgentId", *r.worker_agent_id));
    if (id == kMasterTaskHostId) {
      return Status::InvalidArgument("WorkerAgentId " + id +
                                     " is reserved for the master's task host");
    }
  } else {
    id = NewGuid();
  }
  SCALEOUT_RETURN_IF_ERROR(CheckText("DisplayName", r.display_name, kMaxWorkerTextChars));
  SCALEOUT_RETURN_IF_ERROR(CheckText("Description", r.description, kMaxWorkerTextChars));
  SCALEOUT_RETURN_IF_ERROR(CheckText("MachineName", r.machine_name, kMaxWorkerTextChars));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                            "SELECT worker_agent_id FROM worker_agents WHERE "
                                            "cert_sha256 = ? OR worker_agent_id = ?"));
  q.Text(*sha256).Text(id);
  SCALEOUT_ASSIGN_OR_RETURN(bool exists, q.Next());
  if (exists) {
    return Status::AlreadyExists("worker agent " + q.T(0) +
                                 " already has this certificate or id; remove it first to "
                                 "re-add it");
  }
  const std::string display = r.display_name.empty() ? r.machine_name : r.display_name;
  SCALEOUT_RETURN_IF_ERROR(
      Execute(c,
              "INSERT INTO worker_agents (worker_agent_id, is_enabled, display_name, description, "
              "machine_name, tags, user_account, is_online, cert_sha256, cert_sha1, "
              "max_task_count, cpu_percent, free_memory_mb, running_tasks, added_time) "
              "VALUES (?, 0, ?, ?, ?, '', '', 0, ?, ?, 10, 0, 0, 0, ?)",
              [&](Query& b) {
                b.Text(id)
                    .Text(display)
                    .Text(r.description)
                    .Text(r.machine_name)
                    .Text(*sha256)
                    .Text(sha1)
                    .Int(txn.now);
              })
          .status());
  SCALEOUT_RETURN_IF_ERROR(Execute(c,
                                   "INSERT INTO worker_task_counts (worker_agent_id, "
                                   "claimed_task_count) VALUES (?, 0)",
                                   [&](Query& b) { b.Text(id); })
                               .status());
  return id;
}

Status RemoveWorkerAgent(Txn& txn, const Caller& caller, std::string_view worker_agent_id) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "remove a worker agent", kAdminRoles));
  SCALEOUT_ASSIGN_OR_RETURN(std::string id, RequireWorkerId(txn.connection, worker_agent_id));
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(txn.connection,
                                            "SELECT COUNT(*) FROM tasks WHERE worker_agent_id = ? "
                                            "AND status = 2"));
  q.Text(id);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (row && q.I(0) > 0) {
    return Status::FailedPrecondition("worker agent " + id + " is running " +
                                      std::to_string(q.I(0)) +
                                      " tasks; disable it and wait for them to finish (or stop "
                                      "them) before removing it");
  }
  SCALEOUT_RETURN_IF_ERROR(Execute(txn.connection,
                                   "DELETE FROM execution_workers WHERE worker_agent_id = ?",
                                   [&](Query& b) { b.Text(id); })
                               .status());
  SCALEOUT_RETURN_IF_ERROR(Execute(txn.connection,
                                   "DELETE FROM worker_task_counts WHERE worker_agent_id = ?",
                                   [&](Query& b) { b.Text(id); })
                               .status());
  return Execute(txn.connection, "DELETE FROM worker_agents WHERE worker_agent_id = ?",
                 [&](Query& b) { b.Text(id); })
      .status();
}

Status EnableWorkerAgent(Txn& txn, const Caller& caller, std::string_view worker_agent_id) {
  return SetWorkerEnabled(txn, caller, worker_agent_id, true);
}

Status DisableWorkerAgent(Txn& txn, const Caller& caller, std::string_view worker_agent_id) {
  return SetWorkerEnabled(txn, caller, worker_agent_id, false);
}

Status SetWorkerAgentProperty(Txn& txn, const Caller& caller, std::string_view worker_agent_id,
                              std::string_view property_name, std::string_view property_value) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "set_worker_agent_property", kAdminRoles));
  std::string_view sql;
  std::size_t limit = kMaxWorkerTextChars;
  const std::string upper = Upper(property_name);
  if (upper == "DISPLAYNAME") {
    sql = "UPDATE worker_agents SET display_name = ? WHERE worker_agent_id = ?";
  } else if (upper == "DESCRIPTION") {
    sql = "UPDATE worker_agents SET description = ? WHERE worker_agent_id = ?";
  } else if (upper == "TAGS") {
    sql = "UPDATE worker_agents SET tags = ? WHERE worker_agent_id = ?";
    limit = kMaxTagsChars;
  } else {
    return Status::InvalidArgument("PropertyName " + Quoted(property_name.substr(0, 64)) +
                                   " cannot be set; use DisplayName, Description or Tags");
  }
  SCALEOUT_RETURN_IF_ERROR(CheckText(property_name, property_value, limit));
  SCALEOUT_ASSIGN_OR_RETURN(std::string id, RequireWorkerId(txn.connection, worker_agent_id));
  return Execute(txn.connection, sql, [&](Query& b) { b.Text(property_value).Text(id); }).status();
}

Status ConfigureCatalog(Txn& txn, const Caller& caller, std::string_view property_name,
                        std::string_view property_value) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "configure_catalog", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckText("property_value", property_value, kMaxPropertyValueChars));
  SCALEOUT_ASSIGN_OR_RETURN(std::string value,
                            ValidateCatalogProperty(property_name, property_value));
  if (property_name == "ENCRYPTION_ALGORITHM" ||
      property_name == "SERVER_OPERATION_ENCRYPTION_LEVEL") {
    SCALEOUT_ASSIGN_OR_RETURN(std::int64_t active, CountActiveExecutions(txn.connection));
    if (active > 0) {
      return Status::FailedPrecondition(std::string(property_name) + " cannot change while " +
                                        std::to_string(active) +
                                        " executions are active; wait for them or stop them");
    }
  }
  if (property_name == "ENCRYPTION_ALGORITHM") {
    // As SSIS: every sealed value is sealed again with the new algorithm, in
    // this transaction (all or none).
    SCALEOUT_RETURN_IF_ERROR(internal::ResealSensitiveValues(txn, value).status());
  }
  SCALEOUT_RETURN_IF_ERROR(internal::SetCatalogProperty(txn.connection, property_name, value));
  return internal::InsertOperation(txn.connection, OperationType::kConfigureCatalog, 0,
                                   std::nullopt, property_name, ExecutionStatus::kSucceeded,
                                   caller.name, txn.now)
      .status();
}

Status EnableScaleout(Txn& txn, const Caller& caller) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "enable_scaleout", kAdminRoles));
  return internal::SetCatalogProperty(txn.connection, "IS_SCALEOUT_ENABLED", "True");
}

Status UpdateMasterAddress(Txn& txn, const Caller& caller, std::string_view master_address) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "update_master_address", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckName("MasterAddress", master_address, kMaxAddressChars));
  const bool scheme =
      master_address.starts_with("https://") || master_address.starts_with("tcp://");
  const std::size_t host_at = master_address.find("://") + 3;
  const bool has_host = scheme && master_address.size() > host_at && master_address[host_at] != '/';
  const bool no_space = master_address.find(' ') == std::string_view::npos;
  if (!scheme || !has_host || !no_space) {
    return Status::InvalidArgument("MasterAddress " + Quoted(master_address.substr(0, 80)) +
                                   " is not an endpoint; use https://<host>:<port> (or "
                                   "tcp://<host>:<port> for ZeroMQ)");
  }
  return internal::SetMasterProperty(txn.connection, "MASTER_ADDRESS", master_address);
}

Status UpdateLogdbInfo(Txn& txn, const Caller& caller, std::string_view server_name,
                       std::string_view connection_string) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "update_logdb_info", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckName("server_name", server_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(CheckText("connection_string", connection_string, kMaxAddressChars));
  SCALEOUT_RETURN_IF_ERROR(
      internal::SetMasterProperty(txn.connection, "CLUSTER_LOGDB_SERVER", server_name));
  // Not a master property: master_properties is readable by every caller and
  // a connection string may hold a password.
  return internal::SetCatalogProperty(txn.connection, "CLUSTER_LOGDB_CONNECTION_STRING",
                                      connection_string);
}

// ---- views
// ----------------------------------------------------------------------------------------

Result<std::vector<WorkerAgent>> ListWorkerAgents(Txn& txn, const Caller& caller) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "read worker_agents", kReaderRoles));
  static const std::string sql = "SELECT " + std::string(internal::kWorkerColumns) +
                                 " FROM worker_agents ORDER BY worker_agent_id";
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(txn.connection, sql));
  return ReadAll<WorkerAgent>(q, internal::ReadWorker);
}

Result<WorkerAgent> GetWorkerAgent(Txn& txn, const Caller& caller,
                                   std::string_view worker_agent_id) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "read worker_agents", kReaderRoles));
  SCALEOUT_ASSIGN_OR_RETURN(std::string id, RequireWorkerId(txn.connection, worker_agent_id));
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<WorkerAgent> w, internal::LoadWorker(txn.connection, id));
  return *w;
}

Result<std::vector<Property>> ListMasterProperties(Txn& txn, const Caller& caller) {
  (void)caller;  // public in SSIS: every authenticated caller may read it
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(txn.connection,
                                            "SELECT property_name, property_value FROM "
                                            "master_properties ORDER BY property_name"));
  return ReadAll<Property>(q, [](const Query& r) { return Property{r.T(0), r.T(1)}; });
}

Result<std::vector<Property>> ListCatalogProperties(Txn& txn, const Caller& caller) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "read catalog_properties", kReaderRoles));
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(txn.connection,
                                            "SELECT property_name, property_value FROM "
                                            "catalog_properties ORDER BY property_name"));
  return ReadAll<Property>(q, [](const Query& r) { return Property{r.T(0), r.T(1)}; });
}

namespace {

// Executions have no index by status (migration 4). Those in flight are
// found through their current attempt instead, which the tasks' partial
// indexes key on: the state machine moves an execution and its attempt in
// one transaction, so a pending execution has a pending task (5) and a
// running or stopping one a running task (2). Empty for other statuses (a
// listing walks execution ids backwards and stops at its limit).
std::string_view InFlightByAttempt(ExecutionStatus status) {
  switch (status) {
    case ExecutionStatus::kPending:
      return " AND execution_id IN (SELECT execution_id FROM tasks WHERE status = 5)";
    case ExecutionStatus::kRunning:
    case ExecutionStatus::kStopping:
      return " AND execution_id IN (SELECT execution_id FROM tasks WHERE status = 2)";
    default: return "";
  }
}

}  // namespace

Result<std::vector<Execution>> ListExecutions(Txn& txn, const Caller& caller,
                                              const ExecutionFilter& f) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "read executions", kReaderRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckLimit(f.limit));
  std::optional<std::string> worker;
  if (f.worker_agent_id) {
    SCALEOUT_ASSIGN_OR_RETURN(worker, internal::ParseGuid("worker_agent_id", *f.worker_agent_id));
  }
  // Only fixed fragments are appended; every value is bound.
  std::string sql =
      "SELECT " + std::string(internal::kExecutionColumns) + " FROM executions WHERE 1 = 1";
  if (f.status) {
    sql += " AND status = ?";
    sql += InFlightByAttempt(*f.status);
  }
  if (f.folder_name) sql += " AND folder_name = ?";
  if (f.project_name) sql += " AND project_name = ?";
  if (f.package_name) sql += " AND package_name = ?";
  if (worker) sql += " AND worker_agent_id = ?";
  sql += " ORDER BY execution_id DESC LIMIT ?";
  SCALEOUT_ASSIGN_OR_RETURN(Query q, OneOff(txn.connection, sql));
  if (f.status) q.Int(static_cast<int>(*f.status));
  if (f.folder_name) q.Text(*f.folder_name);
  if (f.project_name) q.Text(*f.project_name);
  if (f.package_name) q.Text(*f.package_name);
  if (worker) q.Text(*worker);
  q.Int(f.limit);
  return ReadAll<Execution>(q, internal::ReadExecution);
}

Result<Execution> GetExecution(Txn& txn, const Caller& caller, std::int64_t execution_id) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "read executions", kReaderRoles));
  return internal::LoadExecution(txn.connection, execution_id);
}

Result<std::vector<ParameterValue>> ListExecutionParameterValues(Txn& txn, const Caller& caller,
                                                                 std::int64_t execution_id) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "read execution_parameter_values", kReaderRoles));
  SCALEOUT_RETURN_IF_ERROR(internal::LoadExecution(txn.connection, execution_id).status());
  SCALEOUT_ASSIGN_OR_RETURN(std::vector<ParameterValue> values,
                            internal::LoadParameterValues(txn.connection, execution_id));
  for (ParameterValue& v : values) {
    if (v.sensitive) v.value.reset();  // SSIS shows sensitive values as NULL
  }
  return values;
}

Result<std::vector<Task>> ListExecutionTasks(Txn& txn, const Caller& caller,
                                             std::int64_t execution_id) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "read tasks", kReaderRoles));
  SCALEOUT_RETURN_IF_ERROR(internal::LoadExecution(txn.connection, execution_id).status());
  static const std::string sql = "SELECT " + std::string(internal::kTaskColumns) +
                                 " FROM tasks WHERE execution_id = ? ORDER BY attempt";
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(txn.connection, sql));
  q.Int(execution_id);
  return ReadAll<Task>(q, internal::ReadTask);
}

Result<std::vector<Operation>> ListOperations(Txn& txn, const Caller& caller, std::int64_t limit) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "read operations", kReaderRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckLimit(limit));
  // An execution's operation row keeps what it had when created: its status,
  // times and stopped_by_name are the execution's, read from executions here
  // (so the writes of the life cycle update one table, not two).
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q,
      Cached(txn.connection,
             "SELECT o.operation_id, o.operation_type, o.created_time, o.object_type, "
             "o.object_id, o.object_name, COALESCE(e.status, o.status), CASE WHEN e.execution_id "
             "IS NULL THEN o.start_time ELSE e.start_time END, CASE WHEN e.execution_id IS NULL "
             "THEN o.end_time ELSE e.end_time END, o.caller_name, CASE WHEN e.execution_id IS "
             "NULL THEN o.stopped_by_name ELSE e.stopped_by_name END FROM operations o LEFT JOIN "
             "executions e ON o.operation_type = 200 AND e.execution_id = o.operation_id ORDER BY "
             "o.operation_id DESC LIMIT ?"));
  q.Int(limit);
  return ReadAll<Operation>(q, [](const Query& r) {
    Operation o;
    o.operation_id = r.I(0);
    o.operation_type = static_cast<int>(r.I(1));
    o.created_time = r.I(2);
    o.object_type = static_cast<int>(r.I(3));
    o.object_id = r.OptI(4);
    o.object_name = r.T(5);
    o.status = StatusFromCode(r.I(6)).value_or(ExecutionStatus::kCreated);
    o.start_time = r.OptI(7);
    o.end_time = r.OptI(8);
    o.caller_name = r.T(9);
    o.stopped_by_name = r.OptT(10);
    return o;
  });
}

Result<std::vector<EventMessage>> ListEventMessages(Txn& txn, const Caller& caller,
                                                    std::int64_t operation_id,
                                                    std::int64_t after_event_message_id,
                                                    std::int64_t limit) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "read event_messages", kReaderRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckLimit(limit));
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(txn.connection,
                      "SELECT event_message_id, operation_id, message_time, message_type, "
                      "message_source_type, message_source, message, package_name, event_name, "
                      "event_message_guid FROM event_messages WHERE operation_id = ? AND "
                      "event_message_id > ? ORDER BY event_message_id LIMIT ?"));
  q.Int(operation_id).Int(after_event_message_id).Int(limit);
  return ReadAll<EventMessage>(q, [](const Query& r) {
    EventMessage m;
    m.event_message_id = r.I(0);
    m.operation_id = r.I(1);
    m.message_time = r.I(2);
    m.message_type = static_cast<int>(r.I(3));
    m.message_source_type = static_cast<int>(r.I(4));
    m.message_source = r.T(5);
    m.message = r.T(6);
    m.package_name = r.T(7);
    m.event_name = r.T(8);
    m.event_message_guid = r.T(9);
    return m;
  });
}

}  // namespace scaleout::core::catalog
