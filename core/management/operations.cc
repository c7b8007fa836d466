#include "core/management/operations.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "core/catalog/principals.h"
#include "core/catalog/procedures.h"
#include "core/catalog/schedules.h"
#include "core/catalog/sql.h"
#include "core/common/ascii.h"
#include "core/management/auth.h"
#include "core/management/catalog_queries.h"
#include "core/management/cron.h"
#include "core/management/environment_operations.h"
#include "core/management/execution_counts.h"
#include "core/management/json_rows.h"
#include "core/management/project_source.h"

namespace scaleout::core::management {
namespace {

using catalog::kRoleAdmin;
using catalog::kRoleClusterExecutor;
using catalog::kRoleReader;
using nlohmann::json;
using sdk::Result;
using sdk::Status;

const std::vector<std::string_view> kAnyPrincipal = {};

Status Missing(std::string_view name) {
  return Status::InvalidArgument("missing argument '" + std::string(name) + "'");
}

const json* Find(const json& args, std::string_view name) {
  if (!args.is_object()) return nullptr;
  auto it = args.find(std::string(name));
  if (it == args.end() || it->is_null()) return nullptr;
  return &*it;
}

// Runs `fn` (returning Status) and answers {} on success.
json Done() { return json::object(); }

// ---- configuration and dashboard ------------------------------------------------------

Result<json> PropertiesJson(const std::vector<catalog::Property>& properties) {
  json out = json::object();
  for (const auto& p : properties) out[p.name] = p.value;
  return out;
}

Result<json> Whoami(OperationContext& ctx) {
  return json{{"name", ctx.caller.name}, {"roles", ctx.caller.roles}};
}

// `status` without the counts of executions: the properties and the workers,
// read in the transaction (small tables).
Result<json> StatusWithoutCounts(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(auto master, catalog::ListMasterProperties(ctx.txn, ctx.caller));
  SCALEOUT_ASSIGN_OR_RETURN(auto properties, catalog::ListCatalogProperties(ctx.txn, ctx.caller));
  SCALEOUT_ASSIGN_OR_RETURN(auto workers, catalog::ListWorkerAgents(ctx.txn, ctx.caller));
  json out;
  SCALEOUT_ASSIGN_OR_RETURN(out["master_properties"], PropertiesJson(master));
  SCALEOUT_ASSIGN_OR_RETURN(out["catalog_properties"], PropertiesJson(properties));
  bool enabled = false;
  std::string mode = "0";
  for (const auto& p : properties) {
    if (p.name == "IS_SCALEOUT_ENABLED") {
      enabled = AsciiLower(p.value) == "true";
    }
    if (p.name == "DEFAULT_EXECUTION_MODE") mode = p.value;
  }
  out["scaleout_enabled"] = enabled;
  out["default_execution_mode"] = mode == "1" ? "ScaleOut" : "Server";
  std::int64_t online = 0, enabled_workers = 0, ready = 0;
  for (const auto& w : workers) {
    online += w.is_online ? 1 : 0;
    enabled_workers += w.is_enabled ? 1 : 0;
    ready += (w.is_online && w.is_enabled) ? 1 : 0;
  }
  out["workers"] = json{{"total", workers.size()},
                        {"online", online},
                        {"enabled", enabled_workers},
                        {"online_and_enabled", ready}};
  return out;
}

// Every status by name, 0 for those with no execution.
json ByStatusJson(const std::map<int, std::int64_t>& counts) {
  json by_status = json::object();
  for (int code = 1; code <= 9; ++code) {
    auto status = catalog::StatusFromCode(code);
    auto it = counts.find(code);
    by_status[std::string(catalog::StatusName(*status))] = it == counts.end() ? 0 : it->second;
  }
  return by_status;
}

// Adds `executions_by_status` to `out`: after the commit, off the writer's
// thread, when the service counts them (execution_counts.h: a scan of the
// whole table); in the transaction otherwise.
Result<json> WithExecutionCounts(OperationContext& ctx, json out) {
  if (ctx.execution_counts != nullptr) {
    ctx.deferred_result = [out = std::move(out), counts = ctx.execution_counts]() mutable {
      auto counted = counts->Get();
      if (!counted.ok()) {
        throw std::runtime_error("cannot count the executions: " + counted.status().message());
      }
      out["executions_by_status"] = ByStatusJson(*counted);
      return out;
    };
    return json();  // replaced by the deferred result
  }
  SCALEOUT_ASSIGN_OR_RETURN(auto counts, CountExecutionsByStatus(ctx.txn, ctx.caller));
  out["executions_by_status"] = ByStatusJson(counts);
  return out;
}

Result<json> DashboardStatus(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(json out, StatusWithoutCounts(ctx));
  return WithExecutionCounts(ctx, std::move(out));
}

Result<json> GetCatalogProperty(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string name, ArgString(ctx.args, "property_name"));
  SCALEOUT_ASSIGN_OR_RETURN(auto properties, catalog::ListCatalogProperties(ctx.txn, ctx.caller));
  for (const auto& p : properties) {
    if (p.name == name) return json{{"property_name", p.name}, {"property_value", p.value}};
  }
  return Status::NotFound("catalog property '" + name +
                          "' does not exist; 'scaleout manage catalog get' lists them");
}

Result<json> ConfigureCatalog(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string name, ArgString(ctx.args, "property_name"));
  SCALEOUT_ASSIGN_OR_RETURN(std::string value, ArgString(ctx.args, "property_value"));
  // Friendly names for the execution mode, as SSMS shows them.
  if (name == "DEFAULT_EXECUTION_MODE") {
    const std::string lower = AsciiLower(value);
    if (lower == "server") value = "0";
    if (lower == "scaleout" || lower == "scale-out" || lower == "scale out") value = "1";
  }
  SCALEOUT_RETURN_IF_ERROR(catalog::ConfigureCatalog(ctx.txn, ctx.caller, name, value));
  ctx.note_work_may_be_available();
  return json{{"property_name", name}, {"property_value", value}};
}

Result<json> EnableScaleout(OperationContext& ctx) {
  SCALEOUT_RETURN_IF_ERROR(catalog::EnableScaleout(ctx.txn, ctx.caller));
  ctx.note_work_may_be_available();
  return Done();
}

Result<json> UpdateMasterAddress(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string address, ArgString(ctx.args, "master_address"));
  SCALEOUT_RETURN_IF_ERROR(catalog::UpdateMasterAddress(ctx.txn, ctx.caller, address));
  return Done();
}

Result<json> UpdateLogdbInfo(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string server, ArgString(ctx.args, "server_name"));
  SCALEOUT_ASSIGN_OR_RETURN(std::string connection, ArgString(ctx.args, "connection_string"));
  SCALEOUT_RETURN_IF_ERROR(catalog::UpdateLogdbInfo(ctx.txn, ctx.caller, server, connection));
  return Done();
}

// ---- workers ------------------------------------------------------------------------------

Result<json> GetWorker(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string id, ArgString(ctx.args, "worker_agent_id"));
  SCALEOUT_ASSIGN_OR_RETURN(auto worker, catalog::GetWorkerAgent(ctx.txn, ctx.caller, id));
  return ToJson(worker);
}

// A certificate trusted as a principal cannot also be a worker's: the master
// would not know which one a connection is.
Status RefusePrincipalCertificate(catalog::Txn& txn, std::string_view sha256) {
  std::string upper;
  for (char c : sha256) {
    if (c == ':' || c == ' ') continue;
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  SCALEOUT_ASSIGN_OR_RETURN(auto principals, catalog::LoadAllPrincipals(txn));
  for (const auto& p : principals) {
    if (p.credential_kind == catalog::kCredentialCertificate && p.credential == upper) {
      return Status::AlreadyExists("certificate " + upper + " belongs to principal '" + p.name +
                                   "'; a worker needs a certificate of its own");
    }
  }
  return Status::Ok();
}

Result<json> AddWorker(OperationContext& ctx) {
  catalog::AddWorkerRequest r;
  SCALEOUT_ASSIGN_OR_RETURN(r.cert_sha256, ArgString(ctx.args, "cert_sha256"));
  r.cert_sha1 = ArgOptString(ctx.args, "cert_sha1").value_or("");
  r.worker_agent_id = ArgOptString(ctx.args, "worker_agent_id");
  r.display_name = ArgOptString(ctx.args, "display_name").value_or("");
  r.description = ArgOptString(ctx.args, "description").value_or("");
  r.machine_name = ArgOptString(ctx.args, "machine_name").value_or("");
  SCALEOUT_RETURN_IF_ERROR(catalog::RequireRole(ctx.caller, "add a worker agent", {kRoleAdmin}));
  SCALEOUT_RETURN_IF_ERROR(RefusePrincipalCertificate(ctx.txn, r.cert_sha256));
  SCALEOUT_ASSIGN_OR_RETURN(std::string id, catalog::AddWorkerAgent(ctx.txn, ctx.caller, r));
  ctx.effects.reload_trust = true;
  SCALEOUT_ASSIGN_OR_RETURN(auto worker, catalog::GetWorkerAgent(ctx.txn, ctx.caller, id));
  return ToJson(worker);
}

Result<json> RemoveWorker(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string id, ArgString(ctx.args, "worker_agent_id"));
  SCALEOUT_RETURN_IF_ERROR(catalog::RemoveWorkerAgent(ctx.txn, ctx.caller, id));
  ctx.effects.reload_trust = true;
  return Done();
}

Result<json> EnableWorker(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string id, ArgString(ctx.args, "worker_agent_id"));
  SCALEOUT_RETURN_IF_ERROR(catalog::EnableWorkerAgent(ctx.txn, ctx.caller, id));
  ctx.note_work_may_be_available();
  SCALEOUT_ASSIGN_OR_RETURN(auto worker, catalog::GetWorkerAgent(ctx.txn, ctx.caller, id));
  return ToJson(worker);
}

Result<json> DisableWorker(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string id, ArgString(ctx.args, "worker_agent_id"));
  SCALEOUT_RETURN_IF_ERROR(catalog::DisableWorkerAgent(ctx.txn, ctx.caller, id));
  SCALEOUT_ASSIGN_OR_RETURN(auto worker, catalog::GetWorkerAgent(ctx.txn, ctx.caller, id));
  return ToJson(worker);
}

Result<json> SetWorkerProperty(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string id, ArgString(ctx.args, "worker_agent_id"));
  SCALEOUT_ASSIGN_OR_RETURN(std::string name, ArgString(ctx.args, "property_name"));
  const json* value = Find(ctx.args, "property_value");
  if (value == nullptr || !value->is_string()) return Missing("property_value");
  SCALEOUT_RETURN_IF_ERROR(
      catalog::SetWorkerAgentProperty(ctx.txn, ctx.caller, id, name, value->get<std::string>()));
  SCALEOUT_ASSIGN_OR_RETURN(auto worker, catalog::GetWorkerAgent(ctx.txn, ctx.caller, id));
  return ToJson(worker);
}

// ---- folders, projects, packages -------------------------------------------------------------

Result<json> CreateFolder(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string name, ArgString(ctx.args, "folder_name"));
  const std::string description = ArgOptString(ctx.args, "description").value_or("");
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id,
                            catalog::CreateFolder(ctx.txn, ctx.caller, name, description));
  return json{{"folder_id", id}, {"folder_name", name}};
}

Result<catalog::PackageSpec> ParsePackage(const json& p) {
  catalog::PackageSpec spec;
  SCALEOUT_ASSIGN_OR_RETURN(spec.name, ArgString(p, "name"));
  SCALEOUT_ASSIGN_OR_RETURN(std::string content, ArgString(p, "content_base64"));
  SCALEOUT_ASSIGN_OR_RETURN(spec.content,
                            DecodeBase64Argument("content_base64 of " + spec.name, content));
  SCALEOUT_ASSIGN_OR_RETURN(auto entry, ArgOptBool(p, "entry_point"));
  spec.entry_point = entry.value_or(true);
  return spec;
}

Result<catalog::ParameterSpec> ParseParameterSpec(const json& p) {
  catalog::ParameterSpec spec;
  SCALEOUT_ASSIGN_OR_RETURN(spec.name, ArgString(p, "name"));
  SCALEOUT_ASSIGN_OR_RETURN(auto type, ArgOptInt(p, "object_type"));
  spec.object_type = static_cast<int>(type.value_or(catalog::kObjectProject));
  spec.object_name = ArgOptString(p, "object_name").value_or("");
  spec.data_type = ArgOptString(p, "data_type").value_or("String");
  spec.default_value = ArgOptString(p, "default_value");
  SCALEOUT_ASSIGN_OR_RETURN(auto required, ArgOptBool(p, "required"));
  SCALEOUT_ASSIGN_OR_RETURN(auto sensitive, ArgOptBool(p, "sensitive"));
  spec.required = required.value_or(false);
  spec.sensitive = sensitive.value_or(false);
  return spec;
}

Result<json> DeleteFolder(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string name, ArgString(ctx.args, "folder_name"));
  SCALEOUT_RETURN_IF_ERROR(catalog::DeleteFolder(ctx.txn, ctx.caller, name));
  return json::object();
}

Result<json> RenameFolder(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string name, ArgString(ctx.args, "old_name"));
  SCALEOUT_ASSIGN_OR_RETURN(std::string new_name, ArgString(ctx.args, "new_name"));
  SCALEOUT_RETURN_IF_ERROR(catalog::RenameFolder(ctx.txn, ctx.caller, name, new_name));
  return json::object();
}

Result<json> MoveProject(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string source, ArgString(ctx.args, "source_folder"));
  SCALEOUT_ASSIGN_OR_RETURN(std::string project, ArgString(ctx.args, "project_name"));
  SCALEOUT_ASSIGN_OR_RETURN(std::string destination, ArgString(ctx.args, "destination_folder"));
  SCALEOUT_RETURN_IF_ERROR(catalog::MoveProject(ctx.txn, ctx.caller, source, project, destination));
  return json::object();
}

Result<json> SetFolderDescription(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string name, ArgString(ctx.args, "folder_name"));
  SCALEOUT_ASSIGN_OR_RETURN(std::string description, ArgString(ctx.args, "folder_description"));
  SCALEOUT_RETURN_IF_ERROR(catalog::SetFolderDescription(ctx.txn, ctx.caller, name, description));
  return json::object();
}

Result<json> DeleteProject(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(ProjectArg names, ArgProject(ctx.args));
  SCALEOUT_RETURN_IF_ERROR(
      catalog::DeleteProject(ctx.txn, ctx.caller, names.folder, names.project));
  return json::object();
}

Result<json> ListProjectVersionsOp(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(ProjectArg names, ArgProject(ctx.args));
  SCALEOUT_ASSIGN_OR_RETURN(
      auto rows, catalog::ListProjectVersions(ctx.txn, ctx.caller, names.folder, names.project));
  return JsonArray(rows);
}

Result<json> GetProjectOp(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(ProjectArg names, ArgProject(ctx.args));
  SCALEOUT_ASSIGN_OR_RETURN(auto lsn, ArgOptInt(ctx.args, "object_version_lsn"));
  SCALEOUT_ASSIGN_OR_RETURN(
      catalog::ProjectExport e,
      catalog::GetProject(ctx.txn, ctx.caller, names.folder, names.project, lsn));
  json packages = json::array();
  for (const catalog::PackageSpec& p : e.project.packages) {
    packages.push_back({{"name", p.name},
                        {"entry_point", p.entry_point},
                        {"content_base64", EncodeBase64(p.content)}});
  }
  json parameters = json::array();
  for (const catalog::ParameterSpec& p : e.project.parameters) {
    parameters.push_back(
        {{"name", p.name},
         {"object_type", p.object_type},
         {"object_name", p.object_name},
         {"data_type", p.data_type},
         {"default_value", p.default_value ? json(*p.default_value) : json(nullptr)},
         {"required", p.required},
         {"sensitive", p.sensitive}});
  }
  return json{{"folder_name", e.project.folder_name},
              {"project_name", e.project.project_name},
              {"object_version_lsn", e.object_version_lsn},
              {"description", e.project.description},
              {"packages", std::move(packages)},
              {"parameters", std::move(parameters)}};
}

Result<json> RestoreProject(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(ProjectArg names, ArgProject(ctx.args));
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t lsn, ArgInt(ctx.args, "object_version_lsn"));
  SCALEOUT_ASSIGN_OR_RETURN(
      std::int64_t operation,
      catalog::RestoreProject(ctx.txn, ctx.caller, names.folder, names.project, lsn));
  return json{{"operation_id", operation}, {"object_version_lsn", lsn}};
}

Result<json> DeployProject(OperationContext& ctx) {
  catalog::ProjectDeployment d;
  SCALEOUT_ASSIGN_OR_RETURN(d.folder_name, ArgString(ctx.args, "folder_name"));
  SCALEOUT_ASSIGN_OR_RETURN(d.project_name, ArgString(ctx.args, "project_name"));
  d.description = ArgOptString(ctx.args, "description").value_or("");
  SCALEOUT_RETURN_IF_ERROR(catalog::RequireRole(ctx.caller, "deploy_project", {kRoleAdmin}));
  const json* packages = Find(ctx.args, "packages");
  if (packages == nullptr || !packages->is_array()) {
    return Status::InvalidArgument("'packages' must be an array of {name, content_base64}");
  }
  for (const json& p : *packages) {
    SCALEOUT_ASSIGN_OR_RETURN(auto spec, ParsePackage(p));
    d.packages.push_back(std::move(spec));
  }
  if (const json* parameters = Find(ctx.args, "parameters")) {
    if (!parameters->is_array()) return Status::InvalidArgument("'parameters' must be an array");
    for (const json& p : *parameters) {
      SCALEOUT_ASSIGN_OR_RETURN(auto spec, ParseParameterSpec(p));
      d.parameters.push_back(std::move(spec));
    }
  }
  SCALEOUT_ASSIGN_OR_RETURN(auto create_folder, ArgOptBool(ctx.args, "create_folder"));
  bool folder_created = false;
  if (create_folder.value_or(false)) {
    auto folders = ListFolders(ctx.txn, ctx.caller);
    if (!folders.ok()) return folders.status();
    const bool exists = std::any_of(folders->begin(), folders->end(),
                                    [&](const FolderRow& f) { return f.name == d.folder_name; });
    if (!exists) {
      // The deploy below validates everything else before writing, but the
      // folder is written first: validate the deployment's own checks by
      // letting DeployProject fail inside the same op (the writer rolls the
      // whole op back on error, folder included).
      SCALEOUT_RETURN_IF_ERROR(catalog::CreateFolder(ctx.txn, ctx.caller, d.folder_name).status());
      folder_created = true;
    }
  }
  SCALEOUT_ASSIGN_OR_RETURN(auto result, catalog::DeployProject(ctx.txn, ctx.caller, d));
  return json{{"folder_name", d.folder_name},        {"project_name", d.project_name},
              {"project_id", result.project_id},     {"version", result.object_version_lsn},
              {"operation_id", result.operation_id}, {"packages", d.packages.size()},
              {"folder_created", folder_created}};
}

Result<json> ListProjectsOp(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(
      auto rows, ListProjects(ctx.txn, ctx.caller, ArgOptString(ctx.args, "folder_name")));
  return JsonArray(rows);
}

Result<json> ListPackagesOp(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(auto rows,
                            ListPackages(ctx.txn, ctx.caller, ArgOptString(ctx.args, "folder_name"),
                                         ArgOptString(ctx.args, "project_name")));
  return JsonArray(rows);
}

Result<json> ListFoldersOp(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(auto rows, ListFolders(ctx.txn, ctx.caller));
  return JsonArray(rows);
}

// ---- executions --------------------------------------------------------------------------------

Result<catalog::CreateExecutionRequest> ParseCreate(const json& args) {
  catalog::CreateExecutionRequest r;
  SCALEOUT_ASSIGN_OR_RETURN(r.folder_name, ArgString(args, "folder_name"));
  SCALEOUT_ASSIGN_OR_RETURN(r.project_name, ArgString(args, "project_name"));
  SCALEOUT_ASSIGN_OR_RETURN(r.package_name, ArgString(args, "package_name"));
  SCALEOUT_ASSIGN_OR_RETURN(r.reference_id, ArgOptInt(args, "reference_id"));
  SCALEOUT_ASSIGN_OR_RETURN(auto use32, ArgOptBool(args, "use32bitruntime"));
  r.use32bitruntime = use32.value_or(false);
  SCALEOUT_ASSIGN_OR_RETURN(r.runinscaleout, ArgOptBool(args, "runinscaleout"));
  SCALEOUT_ASSIGN_OR_RETURN(auto any, ArgOptBool(args, "useanyworker"));
  r.useanyworker = any.value_or(true);
  return r;
}

Result<json> CreateExecution(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(auto request, ParseCreate(ctx.args));
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id,
                            catalog::CreateExecution(ctx.txn, ctx.caller, request));
  return json{{"execution_id", id}};
}

// Sets one parameter. Without an object_type, the name is tried as a project
// (20), then package (30), then system (50) parameter: a refused call changes
// nothing, so trying is safe.
Status SetParameter(OperationContext& ctx, std::int64_t execution_id,
                    std::optional<std::int64_t> object_type, const std::string& name,
                    const std::string& value) {
  if (object_type) {
    return catalog::SetExecutionParameterValue(ctx.txn, ctx.caller, execution_id,
                                               static_cast<int>(*object_type), name, value);
  }
  SCALEOUT_RETURN_IF_ERROR(catalog::GetExecution(ctx.txn, ctx.caller, execution_id).status());
  for (int type : {catalog::kObjectProject, catalog::kObjectPackage, catalog::kObjectExecution}) {
    Status s =
        catalog::SetExecutionParameterValue(ctx.txn, ctx.caller, execution_id, type, name, value);
    if (s.code() != sdk::StatusCode::kNotFound) return s;
  }
  return Status::NotFound("execution " + std::to_string(execution_id) +
                          " has no project, package or system parameter named '" + name +
                          "'; 'scaleout manage exec show " + std::to_string(execution_id) +
                          "' lists its parameters");
}

Result<json> SetParameterValue(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id, ArgInt(ctx.args, "execution_id"));
  SCALEOUT_ASSIGN_OR_RETURN(auto type, ArgOptInt(ctx.args, "object_type"));
  SCALEOUT_ASSIGN_OR_RETURN(std::string name, ArgString(ctx.args, "parameter_name"));
  const json* value = Find(ctx.args, "parameter_value");
  if (value == nullptr) return Missing("parameter_value");
  const std::string text = value->is_string() ? value->get<std::string>() : value->dump();
  SCALEOUT_RETURN_IF_ERROR(SetParameter(ctx, id, type, name, text));
  return Done();
}

Result<json> AddExecutionWorker(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id, ArgInt(ctx.args, "execution_id"));
  SCALEOUT_ASSIGN_OR_RETURN(std::string worker, ArgString(ctx.args, "worker_agent_id"));
  SCALEOUT_RETURN_IF_ERROR(catalog::AddExecutionWorker(ctx.txn, ctx.caller, id, worker));
  return Done();
}

// The answer of a call that returns one execution: the row read in the
// transaction, turned into JSON after the commit.
Result<json> ExecutionResult(OperationContext& ctx, catalog::Execution e) {
  ctx.deferred_result = [e = std::move(e)] { return ToJson(e); };
  return json();
}

Result<json> StartExecution(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id, ArgInt(ctx.args, "execution_id"));
  SCALEOUT_ASSIGN_OR_RETURN(auto retry, ArgOptInt(ctx.args, "retry_count"));
  SCALEOUT_RETURN_IF_ERROR(catalog::StartExecution(ctx.txn, ctx.caller, id, retry.value_or(0)));
  ctx.note_work_may_be_available();
  SCALEOUT_ASSIGN_OR_RETURN(auto e, catalog::GetExecution(ctx.txn, ctx.caller, id));
  return ExecutionResult(ctx, std::move(e));
}

// create_execution + set_execution_parameter_value + add_execution_worker +
// start_execution of the execution `args` describes, inside the caller's
// transaction. Returns the new execution's id.
Result<std::int64_t> CreateAndStart(OperationContext& ctx, const json& args) {
  SCALEOUT_ASSIGN_OR_RETURN(auto request, ParseCreate(args));
  std::vector<std::string> workers;
  if (const json* list = Find(args, "workers")) {
    if (!list->is_array()) return Status::InvalidArgument("'workers' must be an array of ids");
    for (const json& w : *list) {
      if (!w.is_string()) return Status::InvalidArgument("'workers' must be an array of ids");
      workers.push_back(w.get<std::string>());
    }
  }
  if (!workers.empty() && Find(args, "useanyworker") == nullptr) request.useanyworker = false;
  SCALEOUT_ASSIGN_OR_RETURN(auto retry, ArgOptInt(args, "retry_count"));
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id,
                            catalog::CreateExecution(ctx.txn, ctx.caller, request));
  if (const json* parameters = Find(args, "parameters")) {
    if (!parameters->is_array()) {
      return Status::InvalidArgument("'parameters' must be an array of {name, value}");
    }
    for (const json& p : *parameters) {
      SCALEOUT_ASSIGN_OR_RETURN(std::string name, ArgString(p, "name"));
      SCALEOUT_ASSIGN_OR_RETURN(std::string value, ArgString(p, "value"));
      SCALEOUT_ASSIGN_OR_RETURN(auto type, ArgOptInt(p, "object_type"));
      SCALEOUT_RETURN_IF_ERROR(SetParameter(ctx, id, type, name, value));
    }
  }
  for (const std::string& w : workers) {
    SCALEOUT_RETURN_IF_ERROR(catalog::AddExecutionWorker(ctx.txn, ctx.caller, id, w));
  }
  SCALEOUT_RETURN_IF_ERROR(catalog::StartExecution(ctx.txn, ctx.caller, id, retry.value_or(0)));
  return id;
}

// All four steps in one transaction: all of it happens, or none.
Result<json> RunExecution(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id, CreateAndStart(ctx, ctx.args));
  ctx.note_work_may_be_available();
  SCALEOUT_ASSIGN_OR_RETURN(auto e, catalog::GetExecution(ctx.txn, ctx.caller, id));
  return ExecutionResult(ctx, std::move(e));
}

// The arguments every execution of a run_executions call shares: the
// call's own, less `executions` and `count`.
json SharedBatchArgs(const json& args) {
  json shared = json::object();
  for (const auto& [key, value] : args.items()) {
    if (key != "executions" && key != "count") shared[key] = value;
  }
  return shared;
}

// The i-th execution's arguments: `shared`, overridden key by key by its
// element of `executions` (nullptr in the `count` form).
json BatchElementArgs(const json& shared, const json* element) {
  if (element == nullptr) return shared;
  json merged = shared;
  for (const auto& [key, value] : element->items()) merged[key] = value;
  return merged;
}

// run_execution many times in one transaction (one commit, one call): either
// `count` copies of the execution the arguments describe (a job array), or
// one per element of `executions`, each element's keys overriding the
// call's. All start, or none: the first refusal names the element.
Result<json> RunExecutions(OperationContext& ctx) {
  const json* list = Find(ctx.args, "executions");
  SCALEOUT_ASSIGN_OR_RETURN(auto count, ArgOptInt(ctx.args, "count"));
  if ((list == nullptr) == !count) {
    return Status::InvalidArgument("run_executions needs either 'count' or 'executions'");
  }
  if (list != nullptr && (!list->is_array() || list->empty())) {
    return Status::InvalidArgument("'executions' must be a non-empty array of objects");
  }
  const std::int64_t n = list != nullptr ? static_cast<std::int64_t>(list->size()) : *count;
  if (n < 1 || n > kMaxExecutionsPerCall) {
    return Status::InvalidArgument(
        "run_executions starts 1 to " + std::to_string(kMaxExecutionsPerCall) +
        " executions per call, not " + std::to_string(n) + "; split the batch");
  }
  // Copied once, not with the whole list for every element.
  const json shared = SharedBatchArgs(ctx.args);
  json ids = json::array();
  for (std::int64_t i = 0; i < n; ++i) {
    const json* element = list != nullptr ? &(*list)[static_cast<std::size_t>(i)] : nullptr;
    if (element != nullptr && !element->is_object()) {
      return Status::InvalidArgument("executions[" + std::to_string(i) + "] is not an object");
    }
    auto id = CreateAndStart(ctx, BatchElementArgs(shared, element));
    if (!id.ok()) {
      return Status(id.status().code(),
                    "executions[" + std::to_string(i) + "]: " + id.status().message());
    }
    ids.push_back(*id);
  }
  ctx.note_work_may_be_available();
  return json{{"execution_ids", std::move(ids)}};
}

Result<json> StopOperation(OperationContext& ctx) {
  auto id = ArgInt(ctx.args, "operation_id");
  if (!id.ok()) id = ArgInt(ctx.args, "execution_id");
  if (!id.ok()) return Missing("operation_id");
  SCALEOUT_RETURN_IF_ERROR(catalog::StopOperation(ctx.txn, ctx.caller, *id));
  SCALEOUT_ASSIGN_OR_RETURN(auto e, catalog::GetExecution(ctx.txn, ctx.caller, *id));
  return ToJson(e);
}

Result<json> ListExecutions(OperationContext& ctx) {
  catalog::ExecutionFilter filter;
  std::optional<std::int64_t> status;
  if (auto given = ArgOptInt(ctx.args, "status"); given.ok()) {
    status = *given;
  } else {
    // Also accept a status name ("succeeded", "ended unexpectedly").
    if (auto name = ArgOptString(ctx.args, "status")) {
      for (int code = 1; code <= 9; ++code) {
        if (catalog::StatusName(*catalog::StatusFromCode(code)) == *name) status = code;
      }
      if (!status) {
        return Status::InvalidArgument(
            "unknown status '" + *name +
            "'; use a code 1-9 or created, running, canceled, failed, "
            "pending, ended unexpectedly, succeeded, stopping, completed");
      }
    }
  }
  if (status) {
    filter.status = catalog::StatusFromCode(*status);
    if (!filter.status) return Status::InvalidArgument("status must be a code from 1 to 9");
  }
  filter.folder_name = ArgOptString(ctx.args, "folder_name");
  filter.project_name = ArgOptString(ctx.args, "project_name");
  filter.package_name = ArgOptString(ctx.args, "package_name");
  filter.worker_agent_id = ArgOptString(ctx.args, "worker_agent_id");
  SCALEOUT_ASSIGN_OR_RETURN(auto limit, ArgOptInt(ctx.args, "limit"));
  filter.limit = limit.value_or(1000);
  SCALEOUT_ASSIGN_OR_RETURN(auto rows, catalog::ListExecutions(ctx.txn, ctx.caller, filter));
  return JsonArray(rows);
}

Result<json> GetExecution(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t id, ArgInt(ctx.args, "execution_id"));
  SCALEOUT_ASSIGN_OR_RETURN(auto e, catalog::GetExecution(ctx.txn, ctx.caller, id));
  SCALEOUT_ASSIGN_OR_RETURN(auto tasks, catalog::ListExecutionTasks(ctx.txn, ctx.caller, id));
  SCALEOUT_ASSIGN_OR_RETURN(auto parameters,
                            catalog::ListExecutionParameterValues(ctx.txn, ctx.caller, id));
  json out = ToJson(e);
  out["attempts"] = JsonArray(tasks);
  out["parameters"] = JsonArray(parameters);
  return out;
}

Result<json> ListEventMessages(OperationContext& ctx) {
  auto id = ArgInt(ctx.args, "operation_id");
  if (!id.ok()) id = ArgInt(ctx.args, "execution_id");
  if (!id.ok()) return Missing("operation_id");
  SCALEOUT_ASSIGN_OR_RETURN(auto after, ArgOptInt(ctx.args, "after_event_message_id"));
  SCALEOUT_ASSIGN_OR_RETURN(auto limit, ArgOptInt(ctx.args, "limit"));
  // Say "no such execution" rather than an empty list for a typo.
  SCALEOUT_RETURN_IF_ERROR(catalog::GetExecution(ctx.txn, ctx.caller, *id).status());
  SCALEOUT_ASSIGN_OR_RETURN(auto rows,
                            catalog::ListEventMessages(ctx.txn, ctx.caller, *id, after.value_or(0),
                                                       limit.value_or(1000)));
  return JsonArray(rows);
}

Result<json> ListOperations(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(auto limit, ArgOptInt(ctx.args, "limit"));
  SCALEOUT_ASSIGN_OR_RETURN(auto rows,
                            catalog::ListOperations(ctx.txn, ctx.caller, limit.value_or(1000)));
  return JsonArray(rows);
}

// ---- schedules -----------------------------------------------------------------------------

Result<json> CreateSchedule(OperationContext& ctx) {
  catalog::Schedule s;
  SCALEOUT_ASSIGN_OR_RETURN(s.name, ArgString(ctx.args, "name"));
  SCALEOUT_ASSIGN_OR_RETURN(s.cron_expression, ArgString(ctx.args, "cron"));
  SCALEOUT_ASSIGN_OR_RETURN(s.folder_name, ArgString(ctx.args, "folder_name"));
  SCALEOUT_ASSIGN_OR_RETURN(s.project_name, ArgString(ctx.args, "project_name"));
  SCALEOUT_ASSIGN_OR_RETURN(s.package_name, ArgString(ctx.args, "package_name"));
  SCALEOUT_ASSIGN_OR_RETURN(s.runinscaleout, ArgOptBool(ctx.args, "runinscaleout"));
  SCALEOUT_ASSIGN_OR_RETURN(s.reference_id, ArgOptInt(ctx.args, "reference_id"));
  SCALEOUT_ASSIGN_OR_RETURN(auto any, ArgOptBool(ctx.args, "useanyworker"));
  s.useanyworker = any.value_or(true);
  SCALEOUT_ASSIGN_OR_RETURN(auto retry, ArgOptInt(ctx.args, "retry_count"));
  s.retry_count = retry.value_or(0);
  SCALEOUT_ASSIGN_OR_RETURN(auto enabled, ArgOptBool(ctx.args, "enabled"));
  s.enabled = enabled.value_or(true);
  if (const json* parameters = Find(ctx.args, "parameters")) {
    if (!parameters->is_array()) {
      return Status::InvalidArgument("'parameters' must be an array of {name, value}");
    }
    for (const json& p : *parameters) {
      catalog::ScheduleParameter sp;
      SCALEOUT_ASSIGN_OR_RETURN(sp.name, ArgString(p, "name"));
      SCALEOUT_ASSIGN_OR_RETURN(sp.value, ArgString(p, "value"));
      SCALEOUT_ASSIGN_OR_RETURN(auto type, ArgOptInt(p, "object_type"));
      sp.object_type = static_cast<int>(type.value_or(catalog::kObjectProject));
      s.parameters.push_back(std::move(sp));
    }
  }
  SCALEOUT_RETURN_IF_ERROR(catalog::RequireRole(ctx.caller, "create a schedule", {kRoleAdmin}));
  SCALEOUT_ASSIGN_OR_RETURN(CronSchedule cron, CronSchedule::Parse(s.cron_expression));
  s.next_due_at = cron.NextAfter(ctx.txn.now);
  if (!s.next_due_at) {
    return Status::InvalidArgument("cron expression '" + s.cron_expression +
                                   "' never fires within five years");
  }
  SCALEOUT_ASSIGN_OR_RETURN(s.schedule_id, catalog::CreateSchedule(ctx.txn, ctx.caller, s));
  s.created_time = ctx.txn.now;
  if (!s.enabled) s.next_due_at.reset();
  return ToJson(s);
}

Result<json> ListSchedules(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(auto rows, catalog::ListSchedules(ctx.txn, ctx.caller));
  return JsonArray(rows);
}

Result<json> SetScheduleEnabled(OperationContext& ctx, bool enabled) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string name, ArgString(ctx.args, "name"));
  SCALEOUT_RETURN_IF_ERROR(catalog::RequireRole(
      ctx.caller, enabled ? "enable a schedule" : "disable a schedule", {kRoleAdmin}));
  SCALEOUT_ASSIGN_OR_RETURN(auto s, catalog::GetSchedule(ctx.txn, ctx.caller, name));
  std::optional<std::int64_t> next;
  if (enabled) {
    SCALEOUT_ASSIGN_OR_RETURN(CronSchedule cron, CronSchedule::Parse(s.cron_expression));
    next = cron.NextAfter(ctx.txn.now);
  }
  SCALEOUT_RETURN_IF_ERROR(catalog::SetScheduleEnabled(ctx.txn, ctx.caller, name, enabled, next));
  SCALEOUT_ASSIGN_OR_RETURN(s, catalog::GetSchedule(ctx.txn, ctx.caller, name));
  return ToJson(s);
}

Result<json> RemoveSchedule(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string name, ArgString(ctx.args, "name"));
  SCALEOUT_RETURN_IF_ERROR(catalog::RemoveSchedule(ctx.txn, ctx.caller, name));
  return Done();
}

// ---- principals ----------------------------------------------------------------------------

Result<std::vector<std::string>> ParseRoles(const json& args) {
  const json* roles = Find(args, "roles");
  if (roles == nullptr) roles = Find(args, "role");
  if (roles == nullptr) return Missing("roles");
  std::vector<std::string> out;
  auto add = [&](std::string role) {
    // Short names for the CLI: admin, executor, reader.
    if (role == "admin") role = std::string(kRoleAdmin);
    if (role == "executor" || role == "cluster_executor") role = std::string(kRoleClusterExecutor);
    if (role == "reader" || role == "read-only" || role == "readonly")
      role = std::string(kRoleReader);
    out.push_back(std::move(role));
  };
  if (roles->is_array()) {
    for (const json& r : *roles) {
      if (!r.is_string()) return Status::InvalidArgument("'roles' must be role names");
      add(r.get<std::string>());
    }
  } else if (roles->is_string()) {
    std::string text = roles->get<std::string>();
    std::size_t start = 0;
    while (start <= text.size()) {
      const std::size_t comma = text.find(',', start);
      const std::string part =
          text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!part.empty()) add(part);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else {
    return Status::InvalidArgument("'roles' must be a role name or a list of them");
  }
  return out;
}

Result<json> CreatePrincipal(OperationContext& ctx) {
  catalog::Principal p;
  SCALEOUT_ASSIGN_OR_RETURN(p.name, ArgString(ctx.args, "name"));
  SCALEOUT_ASSIGN_OR_RETURN(p.roles, ParseRoles(ctx.args));
  SCALEOUT_RETURN_IF_ERROR(catalog::RequireRole(ctx.caller, "create a principal", {kRoleAdmin}));
  std::optional<std::string> token;
  if (auto cert = ArgOptString(ctx.args, "cert_sha256")) {
    p.credential_kind = std::string(catalog::kCredentialCertificate);
    for (char c : *cert) {
      if (c == ':' || c == ' ') continue;
      p.credential += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    ctx.effects.reload_trust = true;
  } else {
    SCALEOUT_ASSIGN_OR_RETURN(std::string fresh, GenerateToken());
    token = fresh;
    p.credential_kind = std::string(catalog::kCredentialToken);
    p.credential = HashToken(fresh);
  }
  SCALEOUT_RETURN_IF_ERROR(catalog::CreatePrincipal(ctx.txn, ctx.caller, p));
  ctx.effects.reload_principals = true;
  p.created_time = ctx.txn.now;
  json out = ToJson(p);
  if (token) out["token"] = *token;  // shown once; only its digest is stored
  return out;
}

Result<json> ListPrincipals(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(auto rows, catalog::ListPrincipals(ctx.txn, ctx.caller));
  return JsonArray(rows);
}

Result<json> RemovePrincipal(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string name, ArgString(ctx.args, "name"));
  SCALEOUT_RETURN_IF_ERROR(catalog::RemovePrincipal(ctx.txn, ctx.caller, name));
  ctx.effects.reload_principals = true;
  ctx.effects.reload_trust = true;
  return Done();
}

Result<json> MasterProperties(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(auto rows, catalog::ListMasterProperties(ctx.txn, ctx.caller));
  return PropertiesJson(rows);
}

Result<json> CatalogProperties(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(auto rows, catalog::ListCatalogProperties(ctx.txn, ctx.caller));
  return PropertiesJson(rows);
}

Result<json> ListWorkers(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(auto rows, catalog::ListWorkerAgents(ctx.txn, ctx.caller));
  return JsonArray(rows);
}

// The dashboard's figures and every worker's row, in one transaction: what
// the master's /metrics page shows (metrics.h).
Result<json> Metrics(OperationContext& ctx) {
  SCALEOUT_ASSIGN_OR_RETURN(json out, StatusWithoutCounts(ctx));
  SCALEOUT_ASSIGN_OR_RETURN(auto workers, catalog::ListWorkerAgents(ctx.txn, ctx.caller));
  out["worker_agents"] = JsonArray(workers);
  return WithExecutionCounts(ctx, std::move(out));
}

std::vector<Operation> BuildCoreTable() {
  auto set_enabled = [](bool enabled) {
    return [enabled](OperationContext& ctx) { return SetScheduleEnabled(ctx, enabled); };
  };
  return {
      {"whoami", "the calling principal and its roles", kAnyPrincipal, false, Whoami},
      {"status", "the dashboard: master, scale-out flag, workers, executions by status", kReaders,
       false, DashboardStatus},
      {"metrics", "the status figures and every worker's row (Prometheus: GET /metrics)", kReaders,
       false, Metrics},
      {"list_master_properties", "catalog.master_properties", kAnyPrincipal, false,
       MasterProperties},
      {"list_catalog_properties", "catalog.catalog_properties", kReaders, false, CatalogProperties},
      {"get_catalog_property", "one catalog property", kReaders, false, GetCatalogProperty},
      {"configure_catalog", "catalog.configure_catalog", kAdmin, true, ConfigureCatalog},
      {"enable_scaleout", "catalog.enable_scaleout", kAdmin, true, EnableScaleout},
      {"update_master_address", "catalog.update_master_address", kAdmin, true, UpdateMasterAddress},
      {"update_logdb_info", "catalog.update_logdb_info", kAdmin, true, UpdateLogdbInfo},
      {"list_worker_agents", "catalog.worker_agents", kReaders, false, ListWorkers},
      {"get_worker_agent", "one row of catalog.worker_agents", kReaders, false, GetWorker},
      {"add_worker_agent", "trust a worker certificate (Scale Out Manager '+')", kAdmin, true,
       AddWorker},
      {"remove_worker_agent", "remove a worker (Scale Out Manager '-')", kAdmin, true,
       RemoveWorker},
      {"enable_worker_agent", "catalog.enable_worker_agent", kAdmin, true, EnableWorker},
      {"disable_worker_agent", "catalog.disable_worker_agent", kAdmin, true, DisableWorker},
      {"set_worker_agent_property", "catalog.set_worker_agent_property", kAdmin, true,
       SetWorkerProperty},
      {"list_folders", "catalog.folders", kReaders, false, ListFoldersOp},
      {"create_folder", "catalog.create_folder", kAdmin, true, CreateFolder},
      {"delete_folder", "catalog.delete_folder (an empty folder)", kAdmin, true, DeleteFolder},
      {"set_folder_description", "catalog.set_folder_description", kAdmin, true,
       SetFolderDescription},
      {"rename_folder", "catalog.rename_folder", kAdmin, true, RenameFolder},
      {"move_project", "catalog.move_project", kAdmin, true, MoveProject},
      {"deploy_project", "catalog.deploy_project", kAdmin, true, DeployProject},
      {"delete_project", "catalog.delete_project", kAdmin, true, DeleteProject},
      {"list_project_versions", "catalog.object_versions (one project's, newest first)", kReaders,
       false, ListProjectVersionsOp},
      {"get_project", "catalog.get_project (a version's packages and parameters)", kReaders, false,
       GetProjectOp},
      {"restore_project", "catalog.restore_project (make a kept version current again)", kAdmin,
       true, RestoreProject},
      {"list_projects", "catalog.projects (current versions)", kReaders, false, ListProjectsOp},
      {"list_packages", "catalog.packages (current versions)", kReaders, false, ListPackagesOp},
      // The two calls of every execution skip the writer's savepoint: each
      // refuses before it writes, and only through catalog operations.
      {"create_execution", "catalog.create_execution", kRunners, true, CreateExecution,
       /*catalog_ops_only=*/true, /*log_at_debug=*/true},
      {"set_execution_parameter_value", "catalog.set_execution_parameter_value", kRunners, true,
       SetParameterValue},
      {"add_execution_worker", "catalog.add_execution_worker", kRunners, true, AddExecutionWorker},
      {"start_execution", "catalog.start_execution", kRunners, true, StartExecution,
       /*catalog_ops_only=*/true, /*log_at_debug=*/true},
      {"run_execution", "create, set parameters, add workers and start, in one transaction",
       kRunners, true, RunExecution},
      {"run_executions",
       "run_execution for many executions (count copies, or a list), one transaction", kRunners,
       true, RunExecutions},
      {"stop_operation", "catalog.stop_operation", kRunners, true, StopOperation},
      {"list_executions", "catalog.executions (All Executions report)", kReaders, false,
       ListExecutions},
      {"get_execution", "one execution with its attempts and parameters", kReaders, false,
       GetExecution},
      {"list_event_messages", "catalog.event_messages of one operation", kReaders, false,
       ListEventMessages},
      {"list_operations", "catalog.operations", kReaders, false, ListOperations},
      {"create_schedule", "a schedule (SQL Server Agent job equivalent)", kAdmin, true,
       CreateSchedule},
      {"list_schedules", "schedules", kReaders, false, ListSchedules},
      {"enable_schedule", "enable a schedule", kAdmin, true, set_enabled(true)},
      {"disable_schedule", "disable a schedule", kAdmin, true, set_enabled(false)},
      {"remove_schedule", "remove a schedule", kAdmin, true, RemoveSchedule},
      {"create_principal", "a principal with a role and a token or certificate", kAdmin, true,
       CreatePrincipal},
      {"list_principals", "principals and their roles", kAdmin, false, ListPrincipals},
      {"remove_principal", "remove a principal", kAdmin, true, RemovePrincipal},
  };
}

// The table: the operations above, then those on environments.
std::vector<Operation> BuildTable() {
  std::vector<Operation> table = BuildCoreTable();
  for (Operation& op : EnvironmentOperations()) table.push_back(std::move(op));
  return table;
}

}  // namespace

std::span<const Operation> Operations() {
  static const std::vector<Operation> table = BuildTable();
  return table;
}

const Operation* FindOperation(std::string_view name) {
  for (const Operation& op : Operations()) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

Status CheckOperationRole(const Operation& operation, const catalog::Caller& caller) {
  if (operation.roles.empty()) return Status::Ok();
  for (std::string_view role : operation.roles) {
    if (caller.HasRole(role)) return Status::Ok();
  }
  std::string needed;
  for (std::size_t i = 0; i < operation.roles.size(); ++i) {
    if (i > 0) needed += (i + 1 == operation.roles.size()) ? " or " : ", ";
    needed += operation.roles[i];
  }
  return Status::PermissionDenied("'" + caller.name + "' may not call " +
                                  std::string(operation.name) + "; it needs the role " + needed);
}

Result<std::string> ArgString(const json& args, std::string_view name) {
  const json* value = Find(args, name);
  if (value == nullptr) return Missing(name);
  if (value->is_string()) return value->get<std::string>();
  if (value->is_number() || value->is_boolean()) return value->dump();
  return Status::InvalidArgument("argument '" + std::string(name) + "' must be text");
}

Result<ProjectArg> ArgProject(const json& args) {
  ProjectArg out;
  SCALEOUT_ASSIGN_OR_RETURN(out.folder, ArgString(args, "folder_name"));
  SCALEOUT_ASSIGN_OR_RETURN(out.project, ArgString(args, "project_name"));
  return out;
}

std::optional<std::string> ArgOptString(const json& args, std::string_view name) {
  auto value = ArgString(args, name);
  if (!value.ok()) return std::nullopt;
  return std::move(value).value();
}

Result<std::int64_t> ArgInt(const json& args, std::string_view name) {
  const json* value = Find(args, name);
  if (value == nullptr) return Missing(name);
  if (value->is_number_integer()) return value->get<std::int64_t>();
  if (value->is_string()) {
    const std::string text = value->get<std::string>();
    try {
      std::size_t used = 0;
      const long long n = std::stoll(text, &used);
      if (used == text.size()) return static_cast<std::int64_t>(n);
    } catch (const std::exception&) {
    }
  }
  return Status::InvalidArgument("argument '" + std::string(name) + "' must be an integer, got " +
                                 value->dump());
}

Result<std::optional<std::int64_t>> ArgOptInt(const json& args, std::string_view name) {
  if (Find(args, name) == nullptr) return std::optional<std::int64_t>();
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t v, ArgInt(args, name));
  return std::optional<std::int64_t>(v);
}

Result<std::optional<bool>> ArgOptBool(const json& args, std::string_view name) {
  const json* value = Find(args, name);
  if (value == nullptr) return std::optional<bool>();
  if (value->is_boolean()) return std::optional<bool>(value->get<bool>());
  if (value->is_number_integer()) return std::optional<bool>(value->get<std::int64_t>() != 0);
  if (value->is_string()) {
    const std::string t = AsciiLower(value->get<std::string>());
    if (t == "true" || t == "1" || t == "yes") return std::optional<bool>(true);
    if (t == "false" || t == "0" || t == "no") return std::optional<bool>(false);
  }
  return Status::InvalidArgument("argument '" + std::string(name) +
                                 "' must be true or false, got " + value->dump());
}

}  // namespace scaleout::core::management
