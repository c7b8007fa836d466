// Environments and a project's configured parameter values: the SSISDB
// procedures catalog.create_environment, delete_environment,
// create_environment_variable, set_environment_variable_value,
// delete_environment_variable, create_environment_reference,
// delete_environment_reference, set_object_parameter_value and
// clear_object_parameter_value, and the views catalog.environments,
// environment_variables, environment_references and object_parameters.
//
// An environment is a named set of variables in a folder. A project refers
// to environments (a reference: 'R' relative, the project's own folder; 'A'
// absolute, a folder named in it). A project or package parameter is given a
// value of its own (value_type 'V') or bound to an environment variable by
// name ('R'); an execution created with a reference_id takes each bound
// parameter's value from that variable of the referenced environment
// (ApplyConfiguredParameterValues). Changes need ssis_admin; the views need
// a reader role. Sensitive values are never shown (NULL, as in SSIS).
//
// Conventions and thread-safety: as procedures.h.
#ifndef SCALEOUT_CORE_CATALOG_ENVIRONMENTS_H_
#define SCALEOUT_CORE_CATALOG_ENVIRONMENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog/roles.h"
#include "core/catalog/transaction.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::catalog {

struct EnvironmentVariable {
  std::string name;
  std::string data_type;
  std::string description;
  std::optional<std::string> value;  // nullopt when sensitive (never shown)
  bool sensitive = false;
};

struct Environment {
  std::int64_t environment_id = 0;
  std::string folder_name;
  std::string name;
  std::string description;
  std::int64_t created_time = 0;               // unix ms
  std::vector<EnvironmentVariable> variables;  // by name
};

struct EnvironmentReference {
  std::int64_t reference_id = 0;
  std::string folder_name;  // the project's
  std::string project_name;
  std::string reference_type;                          // "R" or "A"
  std::optional<std::string> environment_folder_name;  // "A" only
  std::string environment_name;
};

// A parameter the project's current version declares, with what the
// catalog sets it to (catalog.object_parameters).
struct ObjectParameter {
  int object_type = 20;     // 20 project, 30 package
  std::string object_name;  // the project's or the package's name
  std::string parameter_name;
  std::string data_type;
  bool required = false;
  bool sensitive = false;
  std::optional<std::string> design_default_value;  // as deployed (nullopt: none, or sensitive)
  bool value_set = false;  // a value or a variable was set (set_object_parameter_value)
  std::string value_type = "V";
  // 'V': the configured value, else the design default (nullopt when
  // sensitive or none); 'R': nullopt.
  std::optional<std::string> default_value;
  std::optional<std::string> referenced_variable_name;  // 'R' only
};

// catalog.create_environment. Errors: kNotFound (folder), kAlreadyExists.
sdk::Result<std::int64_t> CreateEnvironment(Txn& txn, const Caller& caller,
                                            std::string_view folder_name,
                                            std::string_view environment_name,
                                            std::string_view description = {});
// catalog.rename_environment. The references to it (relative ones of the
// folder's projects, absolute ones naming the folder) follow it. Errors:
// kNotFound, kAlreadyExists (the new name), kInvalidArgument.
sdk::Status RenameEnvironment(Txn& txn, const Caller& caller, std::string_view folder_name,
                              std::string_view environment_name, std::string_view new_name);

// catalog.delete_environment, with its variables. Refused (kFailedPrecondition)
// while a project refers to it: delete those references first.
sdk::Status DeleteEnvironment(Txn& txn, const Caller& caller, std::string_view folder_name,
                              std::string_view environment_name);

// catalog.create_environment_variable. `data_type` as a parameter's
// (values.h); `value` must parse as it. Errors: kNotFound, kAlreadyExists,
// kInvalidArgument.
sdk::Status CreateEnvironmentVariable(Txn& txn, const Caller& caller, std::string_view folder_name,
                                      std::string_view environment_name,
                                      std::string_view variable_name, std::string_view data_type,
                                      bool sensitive, std::string_view value,
                                      std::string_view description = {});
// catalog.set_environment_variable_value.
sdk::Status SetEnvironmentVariableValue(Txn& txn, const Caller& caller,
                                        std::string_view folder_name,
                                        std::string_view environment_name,
                                        std::string_view variable_name, std::string_view value);
// catalog.set_environment_variable_protection: `sensitive` seals the value
// (sensitive_values.h), plain opens it again; the same setting is a no-op.
// Parameters bound to it keep their binding (an execution refuses a
// sensitive variable for a plain parameter, as always).
sdk::Status SetEnvironmentVariableProtection(Txn& txn, const Caller& caller,
                                             std::string_view folder_name,
                                             std::string_view environment_name,
                                             std::string_view variable_name, bool sensitive);
// catalog.set_environment_variable_type: the value must parse as `data_type`.
sdk::Status SetEnvironmentVariableType(Txn& txn, const Caller& caller, std::string_view folder_name,
                                       std::string_view environment_name,
                                       std::string_view variable_name, std::string_view data_type);
// catalog.set_environment_variable_property: `property_name` Description.
sdk::Status SetEnvironmentVariableProperty(Txn& txn, const Caller& caller,
                                           std::string_view folder_name,
                                           std::string_view environment_name,
                                           std::string_view variable_name,
                                           std::string_view property_name,
                                           std::string_view property_value);
// catalog.set_environment_property: `property_name` Description.
sdk::Status SetEnvironmentProperty(Txn& txn, const Caller& caller, std::string_view folder_name,
                                   std::string_view environment_name,
                                   std::string_view property_name, std::string_view property_value);

// catalog.delete_environment_variable.
sdk::Status DeleteEnvironmentVariable(Txn& txn, const Caller& caller, std::string_view folder_name,
                                      std::string_view environment_name,
                                      std::string_view variable_name);

// catalog.create_environment_reference: relative ('R', the environment in
// the project's folder) when `environment_folder_name` is nullopt, else
// absolute ('A'). Returns the reference_id create_execution takes.
sdk::Result<std::int64_t> CreateEnvironmentReference(
    Txn& txn, const Caller& caller, std::string_view folder_name, std::string_view project_name,
    std::string_view environment_name, std::optional<std::string> environment_folder_name);
// catalog.delete_environment_reference. Executions created with it keep
// their values (they were copied when created).
sdk::Status DeleteEnvironmentReference(Txn& txn, const Caller& caller, std::int64_t reference_id);

// catalog.set_object_parameter_value. object_type 20 (project parameter) or
// 30 (package parameter of `object_name`, required then); the parameter must
// be declared by the project's current version. value_type "V": `value` is
// the parameter's value (checked against its data type); "R": `value` is the
// name of an environment variable, resolved when an execution is created.
sdk::Status SetObjectParameterValue(Txn& txn, const Caller& caller, int object_type,
                                    std::string_view folder_name, std::string_view project_name,
                                    std::string_view parameter_name, std::string_view value,
                                    const std::optional<std::string>& object_name,
                                    std::string_view value_type = "V");
// catalog.clear_object_parameter_value: back to the design default.
sdk::Status ClearObjectParameterValue(Txn& txn, const Caller& caller, int object_type,
                                      std::string_view folder_name, std::string_view project_name,
                                      std::string_view parameter_name,
                                      const std::optional<std::string>& object_name);

// catalog.environments with their variables, of one folder or all.
sdk::Result<std::vector<Environment>> ListEnvironments(Txn& txn, const Caller& caller,
                                                       std::optional<std::string> folder_name);
// catalog.environment_references: of one project (folder and project
// given), or of every project (neither), by reference_id.
sdk::Result<std::vector<EnvironmentReference>> ListEnvironmentReferences(
    Txn& txn, const Caller& caller, const std::optional<std::string>& folder_name,
    const std::optional<std::string>& project_name);
// catalog.object_parameters of the project's current version.
sdk::Result<std::vector<ObjectParameter>> ListObjectParameters(Txn& txn, const Caller& caller,
                                                               std::string_view folder_name,
                                                               std::string_view project_name);

// One problem validate_project/validate_package found.
struct ValidationMessage {
  std::string package_name;
  std::optional<std::int64_t> reference_id;  // the environment it was checked with; none: without
  std::string message;                       // what is wrong and what to do
};

struct ValidationResult {
  std::int64_t operation_id = 0;  // the validation's operation (type 300 or 301)
  bool succeeded = true;          // no message
  std::vector<ValidationMessage> messages;
  std::int64_t checks = 0;  // package × environment combinations checked
};

// catalog.validate_project / validate_package: whether each entry package of
// the project's current version (`package_name`: that one only) could be
// executed with each environment reference in scope, without creating
// anything: every bound parameter resolvable (as create_execution resolves
// it) and every required parameter with a value. `environment_scope` as
// SSIS: "A" every reference of the project (and none when it has none), "S"
// only `reference_id`, "D" none. Records an operation (300 or 301),
// succeeded or failed, and returns what it found. Admin or cluster executor.
sdk::Result<ValidationResult> ValidateProject(Txn& txn, const Caller& caller,
                                              std::string_view folder_name,
                                              std::string_view project_name,
                                              const std::optional<std::string>& package_name,
                                              std::string_view environment_scope,
                                              std::optional<std::int64_t> reference_id);

namespace internal {

// OK when `reference_id` is an environment reference of the project;
// kNotFound saying how to make one otherwise.
sdk::Status RequireReference(sdk::Connection& connection, std::int64_t project_id,
                             std::int64_t reference_id);

// A value an execution's parameter gets from the project's configuration.
struct ParameterAssignment {
  int object_type = 20;
  std::string parameter_name;
  std::string value;
};

// For create_execution, before it writes anything (it refuses without a
// savepoint): the value of each parameter of version `lsn` (the project's
// and the package's) the project set a value for, or the value of the
// variable it is bound to in the environment `reference_id` names (which
// must be the project's). A bound parameter with no reference_id, a variable
// the environment lacks, of another data type, or sensitive for a parameter
// that is not, is refused (kFailedPrecondition, saying which and what to
// do), so no execution runs on a value nobody chose.
sdk::Result<std::vector<ParameterAssignment>> ResolveConfiguredParameterValues(
    Txn& txn, std::int64_t project_id, std::int64_t lsn, std::string_view package_name,
    std::optional<std::int64_t> reference_id);
// Writes them over the execution's parameter rows (made from the defaults).
sdk::Status WriteParameterAssignments(sdk::Connection& connection, std::int64_t execution_id,
                                      const std::vector<ParameterAssignment>& assignments);

}  // namespace internal

}  // namespace scaleout::core::catalog

#endif  // SCALEOUT_CORE_CATALOG_ENVIRONMENTS_H_
