#include "core/management/environment_operations.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/catalog/roles.h"
#include "core/management/json_rows.h"

namespace scaleout::core::management {

using nlohmann::json;
using sdk::Result;
using sdk::Status;

namespace {

// folder_name and environment_name, which most of these calls take.
struct EnvironmentArgs {
  std::string folder_name;
  std::string environment_name;
};

Result<EnvironmentArgs> ParseEnvironment(const json& args) {
  EnvironmentArgs out;
  SCALEOUT_ASSIGN_OR_RETURN(out.folder_name, ArgString(args, "folder_name"));
  SCALEOUT_ASSIGN_OR_RETURN(out.environment_name, ArgString(args, "environment_name"));
  return out;
}

Result<json> CreateEnvironment(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(EnvironmentArgs env, ParseEnvironment(ctx.args));
  SCALEOUT_ASSIGN_OR_RETURN(
      std::int64_t id,
      catalog::CreateEnvironment(ctx.txn, ctx.caller, env.folder_name, env.environment_name,
                                 ArgOptString(ctx.args, "environment_description").value_or("")));
  return json{{"environment_id", id},
              {"folder_name", env.folder_name},
              {"environment_name", env.environment_name}};
}

Result<json> RenameEnvironment(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(EnvironmentArgs env, ParseEnvironment(ctx.args));
  SCALEOUT_ASSIGN_OR_RETURN(std::string new_name, ArgString(ctx.args, "new_environment_name"));
  SCALEOUT_RETURN_IF_ERROR(catalog::RenameEnvironment(ctx.txn, ctx.caller, env.folder_name,
                                                      env.environment_name, new_name));
  return json::object();
}

Result<json> DeleteEnvironment(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(EnvironmentArgs env, ParseEnvironment(ctx.args));
  SCALEOUT_RETURN_IF_ERROR(
      catalog::DeleteEnvironment(ctx.txn, ctx.caller, env.folder_name, env.environment_name));
  return json::object();
}

Result<json> CreateVariable(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(EnvironmentArgs env, ParseEnvironment(ctx.args));
  SCALEOUT_ASSIGN_OR_RETURN(std::string name, ArgString(ctx.args, "variable_name"));
  SCALEOUT_ASSIGN_OR_RETURN(std::string value, ArgString(ctx.args, "value"));
  SCALEOUT_ASSIGN_OR_RETURN(auto sensitive, ArgOptBool(ctx.args, "sensitive"));
  SCALEOUT_RETURN_IF_ERROR(catalog::CreateEnvironmentVariable(
      ctx.txn, ctx.caller, env.folder_name, env.environment_name, name,
      ArgOptString(ctx.args, "data_type").value_or("String"), sensitive.value_or(false), value,
      ArgOptString(ctx.args, "description").value_or("")));
  return json::object();
}

// The variable named by folder_name, environment_name and variable_name.
struct VariableArgs {
  EnvironmentArgs env;
  std::string name;
};

Result<VariableArgs> ParseVariable(const json& args) {
  VariableArgs out;
  SCALEOUT_ASSIGN_OR_RETURN(out.env, ParseEnvironment(args));
  SCALEOUT_ASSIGN_OR_RETURN(out.name, ArgString(args, "variable_name"));
  return out;
}

Result<json> SetVariableValue(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(VariableArgs v, ParseVariable(ctx.args));
  SCALEOUT_ASSIGN_OR_RETURN(std::string value, ArgString(ctx.args, "value"));
  SCALEOUT_RETURN_IF_ERROR(catalog::SetEnvironmentVariableValue(
      ctx.txn, ctx.caller, v.env.folder_name, v.env.environment_name, v.name, value));
  return json::object();
}

Result<json> SetVariableProtection(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(VariableArgs v, ParseVariable(ctx.args));
  SCALEOUT_ASSIGN_OR_RETURN(auto sensitive, ArgOptBool(ctx.args, "sensitive"));
  if (!sensitive)
    return Status::InvalidArgument("argument 'sensitive' (true or false) is required");
  SCALEOUT_RETURN_IF_ERROR(catalog::SetEnvironmentVariableProtection(
      ctx.txn, ctx.caller, v.env.folder_name, v.env.environment_name, v.name, *sensitive));
  return json::object();
}

Result<json> SetVariableType(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(VariableArgs v, ParseVariable(ctx.args));
  SCALEOUT_ASSIGN_OR_RETURN(std::string type, ArgString(ctx.args, "data_type"));
  SCALEOUT_RETURN_IF_ERROR(catalog::SetEnvironmentVariableType(
      ctx.txn, ctx.caller, v.env.folder_name, v.env.environment_name, v.name, type));
  return json::object();
}

Result<json> SetVariableProperty(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(VariableArgs v, ParseVariable(ctx.args));
  SCALEOUT_ASSIGN_OR_RETURN(std::string property, ArgString(ctx.args, "property_name"));
  SCALEOUT_ASSIGN_OR_RETURN(std::string value, ArgString(ctx.args, "property_value"));
  SCALEOUT_RETURN_IF_ERROR(catalog::SetEnvironmentVariableProperty(
      ctx.txn, ctx.caller, v.env.folder_name, v.env.environment_name, v.name, property, value));
  return json::object();
}

Result<json> SetEnvironmentProperty(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(EnvironmentArgs env, ParseEnvironment(ctx.args));
  SCALEOUT_ASSIGN_OR_RETURN(std::string property, ArgString(ctx.args, "property_name"));
  SCALEOUT_ASSIGN_OR_RETURN(std::string value, ArgString(ctx.args, "property_value"));
  SCALEOUT_RETURN_IF_ERROR(catalog::SetEnvironmentProperty(ctx.txn, ctx.caller, env.folder_name,
                                                           env.environment_name, property, value));
  return json::object();
}

Result<json> DeleteVariable(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(VariableArgs v, ParseVariable(ctx.args));
  SCALEOUT_RETURN_IF_ERROR(catalog::DeleteEnvironmentVariable(
      ctx.txn, ctx.caller, v.env.folder_name, v.env.environment_name, v.name));
  return json::object();
}

Result<json> CreateReference(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(ProjectArg names, ArgProject(ctx.args));
  SCALEOUT_ASSIGN_OR_RETURN(std::string env, ArgString(ctx.args, "environment_name"));
  // SSIS takes reference_type R or A; A needs the environment's folder.
  const std::string type = ArgOptString(ctx.args, "reference_type").value_or("R");
  std::optional<std::string> env_folder = ArgOptString(ctx.args, "environment_folder_name");
  if (type != "R" && type != "A") {
    return Status::InvalidArgument("reference_type '" + type +
                                   "' is not valid; use R (the project's folder) or A (absolute, "
                                   "with environment_folder_name)");
  }
  if (type == "A" && !env_folder) {
    return Status::InvalidArgument(
        "an absolute reference (reference_type A) needs environment_folder_name");
  }
  if (type == "R") env_folder.reset();
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id,
                            catalog::CreateEnvironmentReference(ctx.txn, ctx.caller, names.folder,
                                                                names.project, env, env_folder));
  return json{{"reference_id", id}};
}

Result<json> DeleteReference(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id, ArgInt(ctx.args, "reference_id"));
  SCALEOUT_RETURN_IF_ERROR(catalog::DeleteEnvironmentReference(ctx.txn, ctx.caller, id));
  return json::object();
}

// The arguments naming one parameter of a project.
struct ParameterArgs {
  int object_type = catalog::kObjectProject;
  std::string folder_name;
  std::string project_name;
  std::string parameter_name;
  std::optional<std::string> object_name;
};

Result<ParameterArgs> ParseParameter(const json& args) {
  ParameterArgs out;
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t type, ArgInt(args, "object_type"));
  out.object_type = static_cast<int>(type);
  SCALEOUT_ASSIGN_OR_RETURN(out.folder_name, ArgString(args, "folder_name"));
  SCALEOUT_ASSIGN_OR_RETURN(out.project_name, ArgString(args, "project_name"));
  SCALEOUT_ASSIGN_OR_RETURN(out.parameter_name, ArgString(args, "parameter_name"));
  out.object_name = ArgOptString(args, "object_name");
  return out;
}

Result<json> SetObjectParameter(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(ParameterArgs p, ParseParameter(ctx.args));
  SCALEOUT_ASSIGN_OR_RETURN(std::string value, ArgString(ctx.args, "parameter_value"));
  SCALEOUT_RETURN_IF_ERROR(catalog::SetObjectParameterValue(
      ctx.txn, ctx.caller, p.object_type, p.folder_name, p.project_name, p.parameter_name, value,
      p.object_name, ArgOptString(ctx.args, "value_type").value_or("V")));
  return json::object();
}

Result<json> ClearObjectParameter(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(ParameterArgs p, ParseParameter(ctx.args));
  SCALEOUT_RETURN_IF_ERROR(catalog::ClearObjectParameterValue(ctx.txn, ctx.caller, p.object_type,
                                                              p.folder_name, p.project_name,
                                                              p.parameter_name, p.object_name));
  return json::object();
}

Result<json> ListEnvironments(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(
      auto rows,
      catalog::ListEnvironments(ctx.txn, ctx.caller, ArgOptString(ctx.args, "folder_name")));
  return JsonArray(rows);
}

Result<json> ListReferences(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(
      auto rows,
      catalog::ListEnvironmentReferences(ctx.txn, ctx.caller, ArgOptString(ctx.args, "folder_name"),
                                         ArgOptString(ctx.args, "project_name")));
  return JsonArray(rows);
}

Result<json> ListObjectParameters(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(ProjectArg names, ArgProject(ctx.args));
  SCALEOUT_ASSIGN_OR_RETURN(
      auto rows, catalog::ListObjectParameters(ctx.txn, ctx.caller, names.folder, names.project));
  return JsonArray(rows);
}

// validate_project, or validate_package when `one_package`.
Result<json> Validate(OperationContext& ctx, bool one_package) {
  SCALEOUT_ASSIGN_OR_RETURN(ProjectArg names, ArgProject(ctx.args));
  std::optional<std::string> package;
  if (one_package) {
    SCALEOUT_ASSIGN_OR_RETURN(package, ArgString(ctx.args, "package_name"));
  }
  SCALEOUT_ASSIGN_OR_RETURN(auto reference_id, ArgOptInt(ctx.args, "reference_id"));
  // SSIS's default scope is every reference; a reference given means that one.
  const std::string scope =
      ArgOptString(ctx.args, "environment_scope").value_or(reference_id ? "S" : "A");
  SCALEOUT_ASSIGN_OR_RETURN(catalog::ValidationResult result,
                            catalog::ValidateProject(ctx.txn, ctx.caller, names.folder,
                                                     names.project, package, scope, reference_id));
  json messages = json::array();
  for (const catalog::ValidationMessage& m : result.messages) {
    messages.push_back({{"package_name", m.package_name},
                        {"reference_id", m.reference_id ? json(*m.reference_id) : json(nullptr)},
                        {"message", m.message}});
  }
  return json{{"operation_id", result.operation_id},
              {"status_name", result.succeeded ? "succeeded" : "failed"},
              {"checks", result.checks},
              {"messages", std::move(messages)}};
}

}  // namespace

std::vector<Operation> EnvironmentOperations() {
  return {
      {"list_environments", "catalog.environments with their variables", kReaders, false,
       ListEnvironments},
      {"create_environment", "catalog.create_environment", kAdmin, true, CreateEnvironment},
      {"delete_environment", "catalog.delete_environment", kAdmin, true, DeleteEnvironment},
      {"rename_environment", "catalog.rename_environment (its references follow)", kAdmin, true,
       RenameEnvironment},
      {"create_environment_variable", "catalog.create_environment_variable", kAdmin, true,
       CreateVariable},
      {"set_environment_variable_value", "catalog.set_environment_variable_value", kAdmin, true,
       SetVariableValue},
      {"set_environment_variable_protection",
       "catalog.set_environment_variable_protection (seals or opens the value)", kAdmin, true,
       SetVariableProtection},
      {"set_environment_variable_type", "catalog.set_environment_variable_type", kAdmin, true,
       SetVariableType},
      {"set_environment_variable_property",
       "catalog.set_environment_variable_property (Description)", kAdmin, true,
       SetVariableProperty},
      {"set_environment_property", "catalog.set_environment_property (Description)", kAdmin, true,
       SetEnvironmentProperty},
      {"delete_environment_variable", "catalog.delete_environment_variable", kAdmin, true,
       DeleteVariable},
      {"list_environment_references", "catalog.environment_references (of a project, or all)",
       kReaders, false, ListReferences},
      {"create_environment_reference", "catalog.create_environment_reference", kAdmin, true,
       CreateReference},
      {"delete_environment_reference", "catalog.delete_environment_reference", kAdmin, true,
       DeleteReference},
      {"list_object_parameters", "catalog.object_parameters of a project", kReaders, false,
       ListObjectParameters},
      {"set_object_parameter_value", "catalog.set_object_parameter_value", kAdmin, true,
       SetObjectParameter},
      {"clear_object_parameter_value", "catalog.clear_object_parameter_value", kAdmin, true,
       ClearObjectParameter},
      {"validate_project", "catalog.validate_project", kRunners, true,
       [](OperationContext& ctx) { return Validate(ctx, false); }},
      {"validate_package", "catalog.validate_package", kRunners, true,
       [](OperationContext& ctx) { return Validate(ctx, true); }},
  };
}

}  // namespace scaleout::core::management
