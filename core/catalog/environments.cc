#include "core/catalog/environments.h"

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "core/catalog/limits.h"
#include "core/catalog/rows.h"
#include "core/catalog/sensitive_values.h"
#include "core/catalog/sql.h"
#include "core/catalog/values.h"

namespace scaleout::core::catalog {

using internal::Cached;
using internal::CheckName;
using internal::CheckText;
using internal::Execute;
using internal::FindFolder;
using internal::ObjectTypeName;
using internal::ProjectRow;
using internal::Query;
using internal::Quoted;
using internal::RequireProject;
using sdk::Result;
using sdk::Status;

namespace {

std::string EnvironmentLabel(std::string_view folder_name, std::string_view environment_name) {
  return "environment " + Quoted(environment_name) + " in folder " + Quoted(folder_name);
}

// The id of the environment named so in folder `folder_id`, if any.
Result<std::optional<std::int64_t>> EnvironmentIn(sdk::Connection& c, std::int64_t folder_id,
                                                  std::string_view environment_name) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q,
      Cached(c, "SELECT environment_id FROM environments WHERE folder_id = ? AND name = ?"));
  q.Int(folder_id).Text(environment_name);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(q.I(0));
}

// The environment's id; kNotFound (saying to create it) when there is none.
Result<std::int64_t> FindEnvironment(sdk::Connection& c, std::string_view folder_name,
                                     std::string_view environment_name) {
  SCALEOUT_RETURN_IF_ERROR(CheckName("folder_name", folder_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(CheckName("environment_name", environment_name, kMaxNameChars));
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t folder_id, FindFolder(c, folder_name));
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<std::int64_t> id,
                            EnvironmentIn(c, folder_id, environment_name));
  if (!id) {
    return Status::NotFound(EnvironmentLabel(folder_name, environment_name) +
                            " does not exist; create it first (create_environment)");
  }
  return *id;
}

// A variable as stored: its value sealed when sensitive.
struct StoredVariable {
  std::int64_t environment_id = 0;
  std::string data_type;
  bool sensitive = false;
  std::optional<std::string> value;
};

// The environment's variable so named, if it has one.
Result<std::optional<StoredVariable>> FindVariable(sdk::Connection& c, std::int64_t environment_id,
                                                   std::string_view variable_name) {
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                            "SELECT data_type, sensitive, value FROM "
                                            "environment_variables WHERE environment_id = ? AND "
                                            "name = ?"));
  q.Int(environment_id).Text(variable_name);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) return std::optional<StoredVariable>();
  return std::optional<StoredVariable>(
      StoredVariable{environment_id, q.T(0), q.I(1) != 0, q.OptT(2)});
}

// `value` as stored: sealed when `sensitive` (sensitive_values.h).
Result<std::string> StoredValue(Txn& txn, bool sensitive, std::string_view value) {
  if (!sensitive) return std::string(value);
  return internal::SealSensitive(txn, value);
}

Status RequireKnownDataType(std::string_view data_type) {
  if (internal::IsKnownDataType(data_type)) return Status::Ok();
  return Status::InvalidArgument("data_type " + Quoted(data_type) +
                                 " is not known; use one of a parameter's: Boolean, Byte, "
                                 "DateTime, Decimal, Double, Int16, Int32, Int64, SByte, "
                                 "Single, String, UInt32, UInt64");
}

Status VariableNotFound(std::string_view folder_name, std::string_view environment_name,
                        std::string_view variable_name) {
  return Status::NotFound(EnvironmentLabel(folder_name, environment_name) + " has no variable " +
                          Quoted(variable_name) + "; list_environments shows its variables");
}

// Sets `column` ("name = ?" parts) of variable `v`; `bind_value` binds those.
Status UpdateVariable(sdk::Connection& c, std::string_view column, const StoredVariable& v,
                      std::string_view variable_name,
                      const std::function<void(Query&)>& bind_value) {
  const std::string sql = "UPDATE environment_variables SET " + std::string(column) +
                          " WHERE environment_id = ? AND name = ?";
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c, sql));
  bind_value(q);
  q.Int(v.environment_id).Text(variable_name);
  return q.Exec().status();
}

// The variable; kNotFound saying where to look when there is none so named.
Result<StoredVariable> RequireVariable(sdk::Connection& c, std::string_view folder_name,
                                       std::string_view environment_name,
                                       std::string_view variable_name) {
  SCALEOUT_RETURN_IF_ERROR(CheckName("variable_name", variable_name, kMaxNameChars));
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t env, FindEnvironment(c, folder_name, environment_name));
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<StoredVariable> v, FindVariable(c, env, variable_name));
  if (!v) return VariableNotFound(folder_name, environment_name, variable_name);
  return std::move(*v);
}

// The parameter's object name as object_parameters keeps it: the project's
// name for a project parameter, the package's (required) for a package's.
Result<std::string> ParameterObjectName(int object_type, std::string_view project_name,
                                        const std::optional<std::string>& object_name) {
  if (object_type == kObjectProject) return std::string(project_name);
  if (object_type != kObjectPackage) {
    return Status::InvalidArgument("object_type " + std::to_string(object_type) +
                                   " is not valid; use 20 (project parameter) or 30 (package "
                                   "parameter)");
  }
  if (!object_name || object_name->empty()) {
    return Status::InvalidArgument(
        "object_name (the package's name) is required for a package parameter (object_type 30)");
  }
  SCALEOUT_RETURN_IF_ERROR(CheckName("object_name", *object_name, kMaxPackageNameChars));
  return *object_name;
}

struct DeclaredParameter {
  ProjectRow project;
  std::string object_name;
  std::string data_type;
  bool sensitive = false;
};

// The parameter as the project's current version declares it; kNotFound
// (naming where to look) when it does not.
Result<DeclaredParameter> FindDeclaredParameter(sdk::Connection& c, int object_type,
                                                std::string_view folder_name,
                                                std::string_view project_name,
                                                std::string_view parameter_name,
                                                const std::optional<std::string>& object_name) {
  SCALEOUT_RETURN_IF_ERROR(CheckName("folder_name", folder_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(CheckName("project_name", project_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(CheckName("parameter_name", parameter_name, kMaxNameChars));
  SCALEOUT_ASSIGN_OR_RETURN(std::string object,
                            ParameterObjectName(object_type, project_name, object_name));
  SCALEOUT_ASSIGN_OR_RETURN(ProjectRow project, RequireProject(c, folder_name, project_name));
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                            "SELECT data_type, sensitive FROM object_parameters "
                                            "WHERE project_version_lsn = ? AND object_type = ? "
                                            "AND object_name = ? AND parameter_name = ?"));
  q.Int(project.lsn).Int(object_type).Text(object).Text(parameter_name);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) {
    const std::string owner =
        object_type == kObjectProject
            ? "project " + Quoted(project_name)
            : "package " + Quoted(object) + " of project " + Quoted(project_name);
    return Status::NotFound(owner + " declares no " + std::string(ObjectTypeName(object_type)) +
                            " parameter " + Quoted(parameter_name) +
                            " in its current version; list_object_parameters shows them");
  }
  return DeclaredParameter{project, std::move(object), q.T(0), q.I(1) != 0};
}

// Removes what the project set for the parameter `p` (nothing set: no-op).
Status DeleteConfiguredValue(sdk::Connection& c, const DeclaredParameter& p, int object_type,
                             std::string_view parameter_name) {
  return Execute(c,
                 "DELETE FROM object_parameter_values WHERE project_id = ? AND object_type = ? "
                 "AND object_name = ? AND parameter_name = ?",
                 [&](Query& b) {
                   b.Int(p.project.project_id)
                       .Int(object_type)
                       .Text(p.object_name)
                       .Text(parameter_name);
                 })
      .status();
}

}  // namespace

// ---- environments and their variables ---------------------------------------------------------

Result<std::int64_t> CreateEnvironment(Txn& txn, const Caller& caller, std::string_view folder_name,
                                       std::string_view environment_name,
                                       std::string_view description) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "create_environment", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckName("folder_name", folder_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(CheckName("environment_name", environment_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(CheckText("description", description, kMaxDescriptionChars));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t folder_id, FindFolder(c, folder_name));
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<std::int64_t> existing,
                            EnvironmentIn(c, folder_id, environment_name));
  if (existing) {
    return Status::AlreadyExists(EnvironmentLabel(folder_name, environment_name) +
                                 " already exists");
  }
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id, internal::NextId(c, "environment"));
  SCALEOUT_RETURN_IF_ERROR(
      Execute(c,
              "INSERT INTO environments (environment_id, folder_id, name, "
              "description, created_time) VALUES (?, ?, ?, ?, ?)",
              [&](Query& b) {
                b.Int(id).Int(folder_id).Text(environment_name).Text(description).Int(txn.now);
              })
          .status());
  return id;
}

Status DeleteEnvironment(Txn& txn, const Caller& caller, std::string_view folder_name,
                         std::string_view environment_name) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "delete_environment", kAdminRoles));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id, FindEnvironment(c, folder_name, environment_name));
  // A reference names its environment's folder ('A') or takes its project's ('R').
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(c,
                      "SELECT r.reference_id, p.name FROM environment_references r JOIN projects "
                      "p ON p.project_id = r.project_id JOIN folders f ON f.folder_id = "
                      "p.folder_id WHERE r.environment_name = ? AND COALESCE("
                      "r.environment_folder_name, f.name) = ? ORDER BY r.reference_id"));
  q.Text(environment_name).Text(folder_name);
  SCALEOUT_ASSIGN_OR_RETURN(bool referenced, q.Next());
  if (referenced) {
    return Status::FailedPrecondition(
        EnvironmentLabel(folder_name, environment_name) + " is referenced by project " +
        Quoted(q.T(1)) + " (reference " + std::to_string(q.I(0)) +
        "); delete its references first (delete_environment_reference)");
  }
  SCALEOUT_RETURN_IF_ERROR(
      Execute(c, "DELETE FROM environment_variables WHERE environment_id = ?", [&](Query& b) {
        b.Int(id);
      }).status());
  return Execute(c, "DELETE FROM environments WHERE environment_id = ?",
                 [&](Query& b) { b.Int(id); })
      .status();
}

Status RenameEnvironment(Txn& txn, const Caller& caller, std::string_view folder_name,
                         std::string_view environment_name, std::string_view new_name) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "rename_environment", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckName("new_name", new_name, kMaxNameChars));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t folder_id, FindFolder(c, folder_name));
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t env, FindEnvironment(c, folder_name, environment_name));
  if (environment_name == new_name) return Status::Ok();
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<std::int64_t> taken,
                            EnvironmentIn(c, folder_id, new_name));
  if (taken) {
    return Status::AlreadyExists(EnvironmentLabel(folder_name, new_name) +
                                 " exists already; choose another name");
  }
  SCALEOUT_RETURN_IF_ERROR(
      Execute(c, "UPDATE environments SET name = ? WHERE environment_id = ?", [&](Query& q) {
        q.Text(new_name).Int(env);
      }).status());
  return Execute(c,
                 "UPDATE environment_references SET environment_name = ? WHERE "
                 "environment_name = ? AND ((reference_type = 'A' AND environment_folder_name = "
                 "?) OR (reference_type = 'R' AND project_id IN (SELECT project_id FROM projects "
                 "WHERE folder_id = ?)))",
                 [&](Query& q) {
                   q.Text(new_name).Text(environment_name).Text(folder_name).Int(folder_id);
                 })
      .status();
}

Status CreateEnvironmentVariable(Txn& txn, const Caller& caller, std::string_view folder_name,
                                 std::string_view environment_name, std::string_view variable_name,
                                 std::string_view data_type, bool sensitive, std::string_view value,
                                 std::string_view description) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "create_environment_variable", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckName("variable_name", variable_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(CheckText("value", value, kMaxParameterValueChars));
  SCALEOUT_RETURN_IF_ERROR(CheckText("description", description, kMaxDescriptionChars));
  SCALEOUT_RETURN_IF_ERROR(RequireKnownDataType(data_type));
  SCALEOUT_RETURN_IF_ERROR(
      internal::CheckValue("variable " + Quoted(variable_name), data_type, value));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t env, FindEnvironment(c, folder_name, environment_name));
  SCALEOUT_ASSIGN_OR_RETURN(auto existing, FindVariable(c, env, variable_name));
  if (existing) {
    return Status::AlreadyExists(EnvironmentLabel(folder_name, environment_name) +
                                 " already has a variable " + Quoted(variable_name) +
                                 "; change its value with set_environment_variable_value");
  }
  SCALEOUT_ASSIGN_OR_RETURN(std::string stored, StoredValue(txn, sensitive, value));
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id, internal::NextId(c, "variable"));
  return Execute(c,
                 "INSERT INTO environment_variables (variable_id, environment_id, name, "
                 "data_type, value, sensitive, description) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 [&](Query& b) {
                   b.Int(id)
                       .Int(env)
                       .Text(variable_name)
                       .Text(data_type)
                       .Text(stored)
                       .Bool(sensitive)
                       .Text(description);
                 })
      .status();
}

Status SetEnvironmentVariableValue(Txn& txn, const Caller& caller, std::string_view folder_name,
                                   std::string_view environment_name,
                                   std::string_view variable_name, std::string_view value) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "set_environment_variable_value", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckText("value", value, kMaxParameterValueChars));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(StoredVariable variable,
                            RequireVariable(c, folder_name, environment_name, variable_name));
  SCALEOUT_RETURN_IF_ERROR(
      internal::CheckValue("variable " + Quoted(variable_name), variable.data_type, value));
  SCALEOUT_ASSIGN_OR_RETURN(std::string stored, StoredValue(txn, variable.sensitive, value));
  return UpdateVariable(c, "value = ?", variable, variable_name, [&](Query& q) { q.Text(stored); });
}

namespace {

// The plaintext of a stored variable's value.
Result<std::optional<std::string>> PlainValue(const Txn& txn, const StoredVariable& v) {
  if (!v.sensitive || !v.value) return v.value;
  SCALEOUT_ASSIGN_OR_RETURN(std::string plain, internal::OpenSensitive(txn, *v.value));
  return std::optional<std::string>(std::move(plain));
}

Status RequireDescriptionProperty(std::string_view property_name, std::string_view value) {
  if (property_name != "Description") {
    return Status::InvalidArgument("property_name " + Quoted(property_name.substr(0, 64)) +
                                   " cannot be set; use Description");
  }
  return CheckText("property_value", value, kMaxDescriptionChars);
}

}  // namespace

Status SetEnvironmentVariableProtection(Txn& txn, const Caller& caller,
                                        std::string_view folder_name,
                                        std::string_view environment_name,
                                        std::string_view variable_name, bool sensitive) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "set_environment_variable_protection", kAdminRoles));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(StoredVariable v,
                            RequireVariable(c, folder_name, environment_name, variable_name));
  if (v.sensitive == sensitive) return Status::Ok();
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<std::string> value, PlainValue(txn, v));
  if (value && sensitive) {
    SCALEOUT_ASSIGN_OR_RETURN(value, internal::SealSensitive(txn, *value));
  }
  return UpdateVariable(c, "value = ?, sensitive = ?", v, variable_name,
                        [&](Query& q) { q.OptText(value).Bool(sensitive); });
}

Status SetEnvironmentVariableType(Txn& txn, const Caller& caller, std::string_view folder_name,
                                  std::string_view environment_name, std::string_view variable_name,
                                  std::string_view data_type) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "set_environment_variable_type", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(RequireKnownDataType(data_type));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(StoredVariable v,
                            RequireVariable(c, folder_name, environment_name, variable_name));
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<std::string> value, PlainValue(txn, v));
  if (value) {
    SCALEOUT_RETURN_IF_ERROR(
        internal::CheckValue("variable " + Quoted(variable_name), data_type, *value)
            .WithContext("set its value first (set_environment_variable_value)"));
  }
  return UpdateVariable(c, "data_type = ?", v, variable_name, [&](Query& q) { q.Text(data_type); });
}

Status SetEnvironmentVariableProperty(Txn& txn, const Caller& caller, std::string_view folder_name,
                                      std::string_view environment_name,
                                      std::string_view variable_name,
                                      std::string_view property_name,
                                      std::string_view property_value) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "set_environment_variable_property", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(RequireDescriptionProperty(property_name, property_value));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(StoredVariable v,
                            RequireVariable(c, folder_name, environment_name, variable_name));
  return UpdateVariable(c, "description = ?", v, variable_name,
                        [&](Query& q) { q.Text(property_value); });
}

Status SetEnvironmentProperty(Txn& txn, const Caller& caller, std::string_view folder_name,
                              std::string_view environment_name, std::string_view property_name,
                              std::string_view property_value) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "set_environment_property", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(RequireDescriptionProperty(property_name, property_value));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t env, FindEnvironment(c, folder_name, environment_name));
  return Execute(c, "UPDATE environments SET description = ? WHERE environment_id = ?",
                 [&](Query& q) { q.Text(property_value).Int(env); })
      .status();
}

Status DeleteEnvironmentVariable(Txn& txn, const Caller& caller, std::string_view folder_name,
                                 std::string_view environment_name,
                                 std::string_view variable_name) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "delete_environment_variable", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckName("variable_name", variable_name, kMaxNameChars));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t env, FindEnvironment(c, folder_name, environment_name));
  SCALEOUT_ASSIGN_OR_RETURN(
      std::int64_t deleted,
      Execute(c, "DELETE FROM environment_variables WHERE environment_id = ? AND name = ?",
              [&](Query& b) { b.Int(env).Text(variable_name); }));
  if (deleted == 0) return VariableNotFound(folder_name, environment_name, variable_name);
  return Status::Ok();
}

// ---- references -------------------------------------------------------------------------------

Result<std::int64_t> CreateEnvironmentReference(
    Txn& txn, const Caller& caller, std::string_view folder_name, std::string_view project_name,
    std::string_view environment_name, std::optional<std::string> environment_folder_name) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "create_environment_reference", kAdminRoles));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(ProjectRow project, RequireProject(c, folder_name, project_name));
  const std::string env_folder = environment_folder_name.value_or(std::string(folder_name));
  SCALEOUT_RETURN_IF_ERROR(FindEnvironment(c, env_folder, environment_name).status());
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id, internal::NextId(c, "reference"));
  SCALEOUT_RETURN_IF_ERROR(
      Execute(c,
              "INSERT INTO environment_references (reference_id, project_id, reference_type, "
              "environment_folder_name, environment_name) VALUES (?, ?, ?, ?, ?)",
              [&](Query& b) {
                b.Int(id)
                    .Int(project.project_id)
                    .Text(environment_folder_name ? "A" : "R")
                    .OptText(environment_folder_name)
                    .Text(environment_name);
              })
          .status());
  return id;
}

Status DeleteEnvironmentReference(Txn& txn, const Caller& caller, std::int64_t reference_id) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "delete_environment_reference", kAdminRoles));
  {
    SCALEOUT_ASSIGN_OR_RETURN(
        Query q,
        Cached(txn.connection, "SELECT name FROM schedules WHERE reference_id = ? ORDER BY name"));
    q.Int(reference_id);
    SCALEOUT_ASSIGN_OR_RETURN(bool used, q.Next());
    if (used) {
      return Status::FailedPrecondition("environment reference " + std::to_string(reference_id) +
                                        " is used by schedule " + Quoted(q.T(0)) +
                                        "; remove the schedule first (remove_schedule)");
    }
  }
  SCALEOUT_ASSIGN_OR_RETURN(
      std::int64_t deleted,
      Execute(txn.connection, "DELETE FROM environment_references WHERE reference_id = ?",
              [&](Query& b) { b.Int(reference_id); }));
  if (deleted == 0) {
    return Status::NotFound("environment reference " + std::to_string(reference_id) +
                            " does not exist; list_environment_references shows a project's");
  }
  return Status::Ok();
}

// ---- a project's parameter values -------------------------------------------------------------

Status SetObjectParameterValue(Txn& txn, const Caller& caller, int object_type,
                               std::string_view folder_name, std::string_view project_name,
                               std::string_view parameter_name, std::string_view value,
                               const std::optional<std::string>& object_name,
                               std::string_view value_type) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "set_object_parameter_value", kAdminRoles));
  if (value_type != "V" && value_type != "R") {
    return Status::InvalidArgument("value_type " + Quoted(value_type) +
                                   " is not valid; use V (a value) or R (the name of an "
                                   "environment variable)");
  }
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(DeclaredParameter p,
                            FindDeclaredParameter(c, object_type, folder_name, project_name,
                                                  parameter_name, object_name));
  const std::string label =
      std::string(ObjectTypeName(object_type)) + " parameter " + Quoted(parameter_name);
  const bool sealed = value_type == "V" && p.sensitive;
  if (value_type == "V") {
    SCALEOUT_RETURN_IF_ERROR(CheckText("parameter_value", value, kMaxParameterValueChars));
    SCALEOUT_RETURN_IF_ERROR(internal::CheckValue(label, p.data_type, value));
  } else {
    SCALEOUT_RETURN_IF_ERROR(
        CheckName("parameter_value (the environment variable's name)", value, kMaxNameChars));
  }
  SCALEOUT_ASSIGN_OR_RETURN(std::string stored, StoredValue(txn, sealed, value));
  SCALEOUT_RETURN_IF_ERROR(DeleteConfiguredValue(c, p, object_type, parameter_name));
  return Execute(c,
                 "INSERT INTO object_parameter_values (project_id, object_type, object_name, "
                 "parameter_name, value_type, value, sensitive) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 [&](Query& b) {
                   b.Int(p.project.project_id)
                       .Int(object_type)
                       .Text(p.object_name)
                       .Text(parameter_name)
                       .Text(value_type)
                       .Text(stored)
                       .Bool(sealed);
                 })
      .status();
}

Status ClearObjectParameterValue(Txn& txn, const Caller& caller, int object_type,
                                 std::string_view folder_name, std::string_view project_name,
                                 std::string_view parameter_name,
                                 const std::optional<std::string>& object_name) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "clear_object_parameter_value", kAdminRoles));
  SCALEOUT_ASSIGN_OR_RETURN(DeclaredParameter p,
                            FindDeclaredParameter(txn.connection, object_type, folder_name,
                                                  project_name, parameter_name, object_name));
  return DeleteConfiguredValue(txn.connection, p, object_type, parameter_name);
}

// ---- views ------------------------------------------------------------------------------------

Result<std::vector<Environment>> ListEnvironments(Txn& txn, const Caller& caller,
                                                  std::optional<std::string> folder_name) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "list environments", kReaderRoles));
  sdk::Connection& c = txn.connection;
  if (folder_name) SCALEOUT_RETURN_IF_ERROR(FindFolder(c, *folder_name).status());
  // One pass: an environment's rows, then each of its variables' (if any).
  const std::string sql =
      std::string(
          "SELECT e.environment_id, f.name, e.name, e.description, e.created_time, "
          "v.name, v.data_type, v.description, v.value, v.sensitive FROM environments e "
          "JOIN folders f ON f.folder_id = e.folder_id LEFT JOIN environment_variables v "
          "ON v.environment_id = e.environment_id") +
      (folder_name ? " WHERE f.name = ?" : "") + " ORDER BY f.name, e.name, v.name";
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c, sql));
  if (folder_name) q.Text(*folder_name);
  std::vector<Environment> out;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    if (out.empty() || out.back().environment_id != q.I(0)) {
      out.push_back(Environment{q.I(0), q.T(1), q.T(2), q.T(3), q.I(4), {}});
    }
    if (q.IsNull(5)) continue;  // no variables
    EnvironmentVariable v{q.T(5), q.T(6), q.T(7), q.OptT(8), q.I(9) != 0};
    if (v.sensitive) v.value.reset();
    out.back().variables.push_back(std::move(v));
  }
  return out;
}

Result<std::vector<EnvironmentReference>> ListEnvironmentReferences(
    Txn& txn, const Caller& caller, const std::optional<std::string>& folder_name,
    const std::optional<std::string>& project_name) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "list environment references", kReaderRoles));
  if (folder_name.has_value() != project_name.has_value()) {
    return Status::InvalidArgument(
        "give both folder_name and project_name (one project's references) or neither (all)");
  }
  sdk::Connection& c = txn.connection;
  std::string sql =
      "SELECT r.reference_id, f.name, p.name, r.reference_type, r.environment_folder_name, "
      "r.environment_name FROM environment_references r JOIN projects p ON p.project_id = "
      "r.project_id JOIN folders f ON f.folder_id = p.folder_id";
  if (project_name) {
    SCALEOUT_RETURN_IF_ERROR(RequireProject(c, *folder_name, *project_name).status());
    sql += " WHERE f.name = ? AND p.name = ?";
  }
  sql += " ORDER BY r.reference_id";
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c, sql));
  if (project_name) q.Text(*folder_name).Text(*project_name);
  std::vector<EnvironmentReference> out;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    out.push_back(EnvironmentReference{q.I(0), q.T(1), q.T(2), q.T(3), q.OptT(4), q.T(5)});
  }
  return out;
}

Result<std::vector<ObjectParameter>> ListObjectParameters(Txn& txn, const Caller& caller,
                                                          std::string_view folder_name,
                                                          std::string_view project_name) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "list object parameters", kReaderRoles));
  SCALEOUT_ASSIGN_OR_RETURN(ProjectRow project,
                            RequireProject(txn.connection, folder_name, project_name));
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(txn.connection,
                      "SELECT p.object_type, p.object_name, p.parameter_name, p.data_type, "
                      "p.required, p.sensitive, p.default_value, o.value_type, o.value, "
                      "o.sensitive FROM object_parameters p LEFT JOIN object_parameter_values o ON "
                      "o.project_id = "
                      "p.project_id AND o.object_type = p.object_type AND o.object_name = "
                      "p.object_name AND o.parameter_name = p.parameter_name WHERE "
                      "p.project_version_lsn = ? ORDER BY p.object_type, p.object_name, "
                      "p.parameter_name"));
  q.Int(project.lsn);
  std::vector<ObjectParameter> out;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    ObjectParameter p;
    p.object_type = static_cast<int>(q.I(0));
    p.object_name = q.T(1);
    p.parameter_name = q.T(2);
    p.data_type = q.T(3);
    p.required = q.I(4) != 0;
    p.sensitive = q.I(5) != 0;
    if (!p.sensitive) p.design_default_value = q.OptT(6);
    p.value_set = !q.IsNull(7);
    p.value_type = p.value_set ? q.T(7) : "V";
    if (p.value_type == "R") {
      p.referenced_variable_name = q.T(8);
    } else if (!p.sensitive && !(p.value_set && q.I(9) != 0)) {
      // (A value set while the parameter was sensitive stays hidden.)
      p.default_value = p.value_set ? q.OptT(8) : p.design_default_value;
    }
    out.push_back(std::move(p));
  }
  return out;
}

// ---- validation -------------------------------------------------------------------------------

namespace {

// The entry packages of version `lsn` (or `only`, which must be one).
Result<std::vector<std::string>> EntryPackages(sdk::Connection& c, std::int64_t lsn,
                                               const std::optional<std::string>& only,
                                               std::string_view project_name) {
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                            "SELECT name, entry_point FROM packages WHERE "
                                            "project_version_lsn = ? ORDER BY name"));
  q.Int(lsn);
  std::vector<std::string> out;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    if (only && q.T(0) != *only) continue;
    if (only && q.I(1) == 0) {
      return Status::FailedPrecondition("package " + Quoted(*only) +
                                        " is not an entry-point package; only entry points run");
    }
    if (q.I(1) != 0) out.push_back(q.T(0));
  }
  if (only && out.empty()) {
    return Status::NotFound("package " + Quoted(*only) + " is not in the current version of " +
                            Quoted(project_name) + "; list_packages shows them");
  }
  return out;
}

// The required parameters of `package_name` (and of the project) that have
// no value: no design default and nothing configured.
Result<std::vector<std::string>> RequiredWithoutValue(sdk::Connection& c, std::int64_t project_id,
                                                      std::int64_t lsn,
                                                      std::string_view package_name) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(c,
                      "SELECT p.parameter_name FROM object_parameters p LEFT JOIN "
                      "object_parameter_values o ON o.project_id = ? AND o.object_type = "
                      "p.object_type AND o.object_name = p.object_name AND o.parameter_name = "
                      "p.parameter_name WHERE p.project_version_lsn = ? AND p.required = 1 AND "
                      "p.default_value IS NULL AND o.value_type IS NULL AND (p.object_type = 20 "
                      "OR (p.object_type = 30 AND p.object_name = ?)) ORDER BY p.parameter_name"));
  q.Int(project_id).Int(lsn).Text(package_name);
  return internal::FirstColumnTexts(q);
}

// The references `scope` covers: each a reference id, or nullopt for "none".
Result<std::vector<std::optional<std::int64_t>>> ReferencesInScope(
    sdk::Connection& c, std::int64_t project_id, std::string_view scope,
    std::optional<std::int64_t> reference_id) {
  std::vector<std::optional<std::int64_t>> out;
  if (scope == "D") {
    out.push_back(std::nullopt);
  } else if (scope == "S") {
    if (!reference_id) {
      return Status::InvalidArgument("environment_scope S needs reference_id");
    }
    SCALEOUT_RETURN_IF_ERROR(internal::RequireReference(c, project_id, *reference_id));
    out.push_back(reference_id);
  } else if (scope == "A") {
    SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                              "SELECT reference_id FROM environment_references "
                                              "WHERE project_id = ? ORDER BY reference_id"));
    q.Int(project_id);
    SCALEOUT_ASSIGN_OR_RETURN(std::vector<std::int64_t> ids, internal::FirstColumnInts(q));
    out.assign(ids.begin(), ids.end());
    if (out.empty()) out.push_back(std::nullopt);
  } else {
    return Status::InvalidArgument("environment_scope " + Quoted(scope) +
                                   " is not valid; use A (every reference of the project), S "
                                   "(reference_id only) or D (no environment)");
  }
  return out;
}

}  // namespace

Result<ValidationResult> ValidateProject(Txn& txn, const Caller& caller,
                                         std::string_view folder_name,
                                         std::string_view project_name,
                                         const std::optional<std::string>& package_name,
                                         std::string_view environment_scope,
                                         std::optional<std::int64_t> reference_id) {
  const bool one_package = package_name.has_value();
  SCALEOUT_RETURN_IF_ERROR(
      RequireRole(caller, one_package ? "validate_package" : "validate_project", kRunnerRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckName("folder_name", folder_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(CheckName("project_name", project_name, kMaxNameChars));
  if (package_name) {
    SCALEOUT_RETURN_IF_ERROR(CheckName("package_name", *package_name, kMaxPackageNameChars));
  }
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(ProjectRow project, RequireProject(c, folder_name, project_name));
  SCALEOUT_ASSIGN_OR_RETURN(
      auto references, ReferencesInScope(c, project.project_id, environment_scope, reference_id));
  SCALEOUT_ASSIGN_OR_RETURN(std::vector<std::string> packages,
                            EntryPackages(c, project.lsn, package_name, project_name));
  ValidationResult result;
  for (const std::string& package : packages) {
    SCALEOUT_ASSIGN_OR_RETURN(std::vector<std::string> missing,
                              RequiredWithoutValue(c, project.project_id, project.lsn, package));
    for (const std::string& name : missing) {
      result.messages.push_back(
          {package, std::nullopt,
           "required parameter " + Quoted(name) +
               " has no value; set one for the project (set_object_parameter_value) or give it "
               "to each execution"});
    }
    for (const std::optional<std::int64_t>& reference : references) {
      ++result.checks;
      auto resolved = internal::ResolveConfiguredParameterValues(txn, project.project_id,
                                                                 project.lsn, package, reference);
      if (resolved.ok()) continue;
      // Only what a configuration can get wrong; a storage failure is the caller's.
      const sdk::StatusCode code = resolved.status().code();
      if (code != sdk::StatusCode::kFailedPrecondition &&
          code != sdk::StatusCode::kInvalidArgument && code != sdk::StatusCode::kNotFound) {
        return resolved.status();
      }
      result.messages.push_back({package, reference, resolved.status().message()});
    }
  }
  result.succeeded = result.messages.empty();
  SCALEOUT_ASSIGN_OR_RETURN(
      result.operation_id,
      internal::InsertOperation(
          c, one_package ? OperationType::kValidatePackage : OperationType::kValidateProject,
          kObjectProject, project.project_id, project_name,
          result.succeeded ? ExecutionStatus::kSucceeded : ExecutionStatus::kFailed, caller.name,
          txn.now));
  return result;
}

// ---- executions -------------------------------------------------------------------------------

namespace internal {
namespace {

struct ReferencedEnvironment {
  std::int64_t reference_id = 0;
  std::string folder_name;
  std::string environment_name;
  std::optional<std::int64_t> environment_id;  // nullopt: deleted since (cannot be, see Delete)
};

Result<ReferencedEnvironment> LoadReferencedEnvironment(sdk::Connection& c,
                                                        std::int64_t reference_id) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(c,
                      "SELECT COALESCE(r.environment_folder_name, f.name), r.environment_name, "
                      "(SELECT e.environment_id FROM environments e JOIN folders ef ON "
                      "ef.folder_id = e.folder_id WHERE ef.name = COALESCE("
                      "r.environment_folder_name, f.name) AND e.name = r.environment_name) FROM "
                      "environment_references r JOIN projects p ON p.project_id = r.project_id "
                      "JOIN folders f ON f.folder_id = p.folder_id WHERE r.reference_id = ?"));
  q.Int(reference_id);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) {
    return Status::NotFound("environment reference " + std::to_string(reference_id) +
                            " does not exist");
  }
  return ReferencedEnvironment{reference_id, q.T(0), q.T(1), q.OptI(2)};
}

struct ConfiguredValue {
  int object_type = kObjectProject;
  std::string parameter_name;
  std::string value_type;
  std::string value;
  std::string data_type;
  bool sensitive = false;     // the parameter, in the version run
  bool value_sealed = false;  // `value` (V: set while the parameter was sensitive)
};

// A value as a table stores it.
struct StoredText {
  std::string text;
  bool sealed = false;
};

Result<std::vector<ConfiguredValue>> LoadConfiguredValues(sdk::Connection& c,
                                                          std::int64_t project_id, std::int64_t lsn,
                                                          std::string_view package_name) {
  // Only values for parameters this version still declares, of the project
  // or of the package run.
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(c,
                      "SELECT o.object_type, o.parameter_name, o.value_type, o.value, "
                      "p.data_type, p.sensitive, o.sensitive FROM object_parameter_values o JOIN "
                      "object_parameters p ON p.project_version_lsn = ? AND p.object_type = "
                      "o.object_type AND p.object_name = o.object_name AND p.parameter_name = "
                      "o.parameter_name WHERE o.project_id = ? AND (o.object_type = 20 OR "
                      "(o.object_type = 30 AND o.object_name = ?))"));
  q.Int(lsn).Int(project_id).Text(package_name);
  std::vector<ConfiguredValue> out;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    out.push_back(ConfiguredValue{static_cast<int>(q.I(0)), q.T(1), q.T(2), q.T(3), q.T(4),
                                  q.I(5) != 0, q.I(6) != 0});
  }
  return out;
}

// The value of the variable `v` is bound to, from the referenced environment,
// as stored (sealed when the variable is sensitive).
Result<StoredText> ResolveVariable(sdk::Connection& c, const ConfiguredValue& v,
                                   const std::optional<ReferencedEnvironment>& env) {
  const std::string label = std::string(ObjectTypeName(v.object_type)) + " parameter " +
                            Quoted(v.parameter_name) + " is bound to environment variable " +
                            Quoted(v.value);
  if (!env) {
    return Status::FailedPrecondition(
        label +
        "; give the execution an environment reference (reference_id; "
        "list_environment_references shows the project's) or set the parameter's value "
        "(set_object_parameter_value with value_type V)");
  }
  const std::string where = EnvironmentLabel(env->folder_name, env->environment_name) +
                            " (reference " + std::to_string(env->reference_id) + ")";
  if (!env->environment_id) {
    return Status::FailedPrecondition(label + ", but " + where + " no longer exists");
  }
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                            "SELECT data_type, value, sensitive FROM "
                                            "environment_variables WHERE environment_id = ? AND "
                                            "name = ?"));
  q.Int(*env->environment_id).Text(v.value);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) {
    return Status::FailedPrecondition(label + ", which " + where +
                                      " does not have; create it (create_environment_variable) "
                                      "or bind the parameter to another");
  }
  if (q.T(0) != v.data_type) {
    return Status::FailedPrecondition(label + ", of type " + q.T(0) + " in " + where +
                                      "; the parameter is " + v.data_type +
                                      ": give them one data type");
  }
  if (q.I(2) != 0 && !v.sensitive) {
    return Status::FailedPrecondition(label + ", which is sensitive in " + where +
                                      "; a sensitive value goes only to a sensitive parameter");
  }
  return StoredText{q.T(1), q.I(2) != 0};
}

// `v`'s value as the execution's parameter row stores it: sealed when the
// parameter is sensitive in the version run, plaintext otherwise. A value
// set for another version is checked against this version's data type.
Result<std::string> ExecutionValue(Txn& txn, const ConfiguredValue& v, StoredText value) {
  const bool literal = v.value_type == "V";
  if (value.sealed == v.sensitive && !literal) return std::move(value.text);
  std::string plaintext;
  if (value.sealed) {
    SCALEOUT_ASSIGN_OR_RETURN(plaintext, internal::OpenSensitive(txn, value.text));
  } else {
    plaintext = value.text;
  }
  if (literal) {
    SCALEOUT_RETURN_IF_ERROR(CheckValue(std::string(ObjectTypeName(v.object_type)) + " parameter " +
                                            Quoted(v.parameter_name) +
                                            " (its value set with set_object_parameter_value)",
                                        v.data_type, plaintext));
  }
  if (!v.sensitive) return plaintext;
  if (value.sealed) return std::move(value.text);
  return internal::SealSensitive(txn, plaintext);
}

}  // namespace

Status RequireReference(sdk::Connection& c, std::int64_t project_id, std::int64_t reference_id) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(c,
                      "SELECT reference_id FROM environment_references WHERE reference_id = ? "
                      "AND project_id = ?"));
  q.Int(reference_id).Int(project_id);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (row) return Status::Ok();
  return Status::NotFound("environment reference " + std::to_string(reference_id) +
                          " does not belong to this project; create it with "
                          "create_environment_reference or omit reference_id");
}

Result<std::vector<ParameterAssignment>> ResolveConfiguredParameterValues(
    Txn& txn, std::int64_t project_id, std::int64_t lsn, std::string_view package_name,
    std::optional<std::int64_t> reference_id) {
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(std::vector<ConfiguredValue> values,
                            LoadConfiguredValues(c, project_id, lsn, package_name));
  std::vector<ParameterAssignment> out;
  if (values.empty()) return out;  // the usual case: one indexed read
  std::optional<ReferencedEnvironment> env;
  if (reference_id) {
    SCALEOUT_ASSIGN_OR_RETURN(env, LoadReferencedEnvironment(c, *reference_id));
  }
  out.reserve(values.size());
  for (ConfiguredValue& v : values) {
    StoredText value;
    if (v.value_type == "R") {
      SCALEOUT_ASSIGN_OR_RETURN(value, ResolveVariable(c, v, env));  // v.value names it
    } else {
      value = StoredText{std::move(v.value), v.value_sealed};
    }
    SCALEOUT_ASSIGN_OR_RETURN(std::string stored, ExecutionValue(txn, v, std::move(value)));
    out.push_back(
        ParameterAssignment{v.object_type, std::move(v.parameter_name), std::move(stored)});
  }
  return out;
}

Status WriteParameterAssignments(sdk::Connection& c, std::int64_t execution_id,
                                 const std::vector<ParameterAssignment>& assignments) {
  for (const ParameterAssignment& a : assignments) {
    SCALEOUT_RETURN_IF_ERROR(
        Execute(c,
                "UPDATE execution_parameter_values SET parameter_value = ? "
                "WHERE execution_id = ? AND object_type = ? AND "
                "parameter_name = ?",
                [&](Query& b) {
                  b.Text(a.value).Int(execution_id).Int(a.object_type).Text(a.parameter_name);
                })
            .status());
  }
  return Status::Ok();
}

}  // namespace internal

}  // namespace scaleout::core::catalog
