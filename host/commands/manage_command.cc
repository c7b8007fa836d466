// `scaleout manage`: every Scale Out Manager action and catalog procedure as
// a command. Each command is a small function from parsed arguments to one or
// a few calls of the master's JSON API, printing a table (or --json).
#include "host/commands/manage_command.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/common/peer_id.h"
#include "core/management/operations.h"
#include "core/management/project_source.h"
#include "core/security/certificates.h"
#include "host/commands/command_util.h"
#include "host/commands/manage_args.h"
#include "host/commands/manage_client.h"
#include "host/commands/manage_format.h"

namespace scaleout::host {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

// Options every command accepts.
const std::set<std::string> kConnectionOptions = {
    "master", "master-thumbprint", "cert", "key", "token", "token-file", "config", "plugin-dir"};
const std::set<std::string> kCommonFlags = {"json", "help"};

struct Context {
  ManageClient& client;
  const ParsedArgs& args;
  bool json_output = false;
  std::ostream& out = std::cout;
  std::ostream& err = std::cerr;
};

// A command failed in a way the user can act on: the message is printed as is.
struct CommandError {
  int exit_code;
  std::string message;
};

[[noreturn]] void Usage(const std::string& message) { throw CommandError{kExitUsage, message}; }
[[noreturn]] void Failed(const std::string& message) { throw CommandError{kExitFailed, message}; }

json Call(Context& ctx, std::string_view operation, const json& args = json::object()) {
  auto result = ctx.client.Call(operation, args);
  if (!result.ok()) Failed(result.status().message());
  return std::move(result).value();
}

void PrintJson(Context& ctx, const json& value) { ctx.out << value.dump(2) << "\n"; }

const std::string& Positional(const Context& ctx, std::size_t index, const char* what) {
  if (ctx.args.positionals.size() <= index) Usage(std::string("missing ") + what);
  return ctx.args.positionals[index];
}

std::int64_t ParseInt(const std::string& text, const char* what) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  Usage(std::string(what) + " must be an integer, got '" + text + "'");
}

std::string Required(const Context& ctx, const std::string& option) {
  std::string v = ctx.args.Get(option);
  if (v.empty()) Usage("--" + option + " is required");
  return v;
}

// --param NAME=VALUE; "$Project::X", "$Package::X" and "$ServerOption::X" (as
// dtexec) choose the object type, otherwise the master finds it.
json ParameterList(const Context& ctx) {
  json list = json::array();
  for (const std::string& p : ctx.args.All("param")) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) Usage("--param takes NAME=VALUE, got '" + p + "'");
    std::string name = p.substr(0, eq);
    json entry{{"value", p.substr(eq + 1)}};
    const std::pair<std::string_view, int> prefixes[] = {
        {"$Project::", 20}, {"$Package::", 30}, {"$ServerOption::", 50}};
    for (const auto& [prefix, type] : prefixes) {
      if (name.rfind(prefix, 0) == 0) {
        name = name.substr(prefix.size());
        entry["object_type"] = type;
      }
    }
    entry["name"] = name;
    list.push_back(entry);
  }
  return list;
}

void AddMode(const Context& ctx, json& args) {
  if (ctx.args.Has("server") && ctx.args.Has("scaleout"))
    Usage("--server and --scaleout exclude each other");
  if (ctx.args.Has("server")) args["runinscaleout"] = false;
  if (ctx.args.Has("scaleout")) args["runinscaleout"] = true;
}

// --env-ref ID: the environment reference an execution (or schedule) runs with.
void AddReference(const Context& ctx, json& args) {
  if (ctx.args.values.contains("env-ref"))
    args["reference_id"] = ParseInt(ctx.args.Get("env-ref"), "--env-ref");
}

// --folder F --project P, both required.
json ProjectArgs(const Context& ctx) {
  return json{{"folder_name", Required(ctx, "folder")}, {"project_name", Required(ctx, "project")}};
}

json PackageArgs(const Context& ctx) {
  json args = ProjectArgs(ctx);
  args["package_name"] = Required(ctx, "package");
  return args;
}

// ---- dashboard and catalog ---------------------------------------------------------------

int Status(Context& ctx) {
  const json s = Call(ctx, "status");
  if (ctx.json_output) return PrintJson(ctx, s), kExitOk;
  const json& m = s["master_properties"];
  const json& w = s["workers"];
  std::string executions;
  for (const auto& [name, count] : s["executions_by_status"].items()) {
    if (count.get<std::int64_t>() == 0) continue;
    executions += (executions.empty() ? "" : ", ") + name + " " + count.dump();
  }
  PrintFields(ctx.out, {{"Master", Cell(m, "MASTER_ADDRESS")},
                        {"Machine", Cell(m, "MACHINE_NAME")},
                        {"Last online", Cell(m, "LAST_ONLINE_TIME")},
                        {"Certificate", Cell(m, "SSLCERT_THUMBPRINT")},
                        {"Scale Out", s["scaleout_enabled"].get<bool>()
                                          ? "enabled"
                                          : "disabled (run 'scaleout manage enable-scaleout')"},
                        {"Default mode", Cell(s["default_execution_mode"])},
                        {"Workers", w["total"].dump() + " total, " + w["online"].dump() +
                                        " online, " + w["enabled"].dump() + " enabled, " +
                                        w["online_and_enabled"].dump() + " online and enabled"},
                        {"Executions", executions.empty() ? "none" : executions}});
  return kExitOk;
}

int EnableScaleout(Context& ctx) {
  Call(ctx, "enable_scaleout");
  ctx.out << "Scale Out is enabled (IS_SCALEOUT_ENABLED = True).\n";
  return kExitOk;
}

int CatalogGet(Context& ctx) {
  if (!ctx.args.positionals.empty()) {
    const json p = Call(ctx, "get_catalog_property", {{"property_name", ctx.args.positionals[0]}});
    if (ctx.json_output) return PrintJson(ctx, p), kExitOk;
    ctx.out << Cell(p, "property_value") << "\n";
    return kExitOk;
  }
  const json all = Call(ctx, "list_catalog_properties");
  if (ctx.json_output) return PrintJson(ctx, all), kExitOk;
  Table t({"PROPERTY", "VALUE"});
  for (const auto& [name, value] : all.items()) t.Row({name, Cell(value)});
  t.Print(ctx.out);
  return kExitOk;
}

int CatalogSet(Context& ctx) {
  const json r = Call(ctx, "configure_catalog",
                      {{"property_name", Positional(ctx, 0, "NAME")},
                       {"property_value", Positional(ctx, 1, "VALUE")}});
  ctx.out << Cell(r, "property_name") << " = " << Cell(r, "property_value") << "\n";
  return kExitOk;
}

// ---- workers ------------------------------------------------------------------------------

void PrintWorkers(Context& ctx, const json& workers) {
  Table t({"WORKER ID", "ENABLED", "ONLINE", "DISPLAY NAME", "MACHINE", "LAST ONLINE", "TASKS"});
  for (const json& w : workers) {
    t.Row({Cell(w, "worker_agent_id"), Cell(w, "is_enabled"), Cell(w, "is_online"),
           Cell(w, "display_name"), Cell(w, "machine_name"), Cell(w, "last_online_time"),
           Cell(w, "running_tasks") + "/" + Cell(w, "max_task_count")});
  }
  t.Print(ctx.out);
}

void PrintWorker(Context& ctx, const json& w) {
  PrintFields(ctx.out,
              {{"Worker ID", Cell(w, "worker_agent_id")},
               {"Enabled", Cell(w, "is_enabled")},
               {"Online", Cell(w, "is_online")},
               {"Display name", Cell(w, "display_name")},
               {"Description", Cell(w, "description")},
               {"Machine", Cell(w, "machine_name")},
               {"Account", Cell(w, "user_account")},
               {"Tags", Cell(w, "tags")},
               {"Last online", Cell(w, "last_online_time")},
               {"Certificate", Cell(w, "cert_sha256")},
               {"Running tasks", Cell(w, "running_tasks") + " of " + Cell(w, "max_task_count")},
               {"CPU %", Cell(w, "cpu_percent")},
               {"Free memory MB", Cell(w, "free_memory_mb")}});
}

int WorkerList(Context& ctx) {
  const json workers = Call(ctx, "list_worker_agents");
  if (ctx.json_output) return PrintJson(ctx, workers), kExitOk;
  PrintWorkers(ctx, workers);
  return kExitOk;
}

int WorkerShow(Context& ctx) {
  const json w = Call(ctx, "get_worker_agent", {{"worker_agent_id", Positional(ctx, 0, "ID")}});
  if (ctx.json_output) return PrintJson(ctx, w), kExitOk;
  PrintWorker(ctx, w);
  return kExitOk;
}

int WorkerSimple(Context& ctx, std::string_view operation, std::string_view done) {
  const std::string id = Positional(ctx, 0, "ID");
  const json r = Call(ctx, operation, {{"worker_agent_id", id}});
  if (ctx.json_output) return PrintJson(ctx, r), kExitOk;
  ctx.out << "Worker " << id << " " << done << ".\n";
  if (operation == "enable_worker_agent" && r.is_object() && !r.value("is_online", false)) {
    ctx.out << "It is offline now: it takes work once its agent connects.\n";
  }
  return kExitOk;
}

int WorkerSet(Context& ctx) {
  const std::string id = Positional(ctx, 0, "ID");
  const std::pair<const char*, const char*> properties[] = {
      {"display-name", "DisplayName"}, {"description", "Description"}, {"tags", "Tags"}};
  json last;
  bool any = false;
  for (const auto& [option, property] : properties) {
    if (!ctx.args.values.contains(option)) continue;
    any = true;
    last = Call(ctx, "set_worker_agent_property",
                {{"worker_agent_id", id},
                 {"property_name", property},
                 {"property_value", ctx.args.Get(option)}});
  }
  if (!any) Usage("give --display-name, --description or --tags");
  if (ctx.json_output) return PrintJson(ctx, last), kExitOk;
  PrintWorker(ctx, last);
  return kExitOk;
}

// What `worker add` learned about the worker before doing anything.
struct WorkerPlan {
  std::string sha256;  // the trusted identity: a SHA-256 thumbprint or a CURVE public key
  bool curve = false;  // sha256 holds a CURVE public key (Z85) from --curve-key
  std::string sha1;
  std::string common_name;
  std::string worker_agent_id;
  std::string settings_file;  // "" when not given
  bool settings_writable = false;
};

std::string ResolveNear(const std::string& file, const std::string& base_file) {
  if (file.empty() || fs::path(file).is_absolute()) return file;
  return (fs::path(base_file).parent_path() / file).string();
}

WorkerPlan PlanWorkerAdd(Context& ctx) {
  WorkerPlan plan;
  std::string cert_file = ctx.args.Get("cert-file");
  std::string thumbprint = ctx.args.Get("thumbprint");
  const std::string curve_key = ctx.args.Get("curve-key");
  plan.settings_file = ctx.args.Get("settings");
  const int sources = !cert_file.empty() + !thumbprint.empty() + !plan.settings_file.empty();
  if (sources == 0 && curve_key.empty()) {
    Usage("give the worker's --cert file, --thumbprint, --settings file or --curve-key");
  }
  if (!curve_key.empty()) {
    // A worker on a CURVE transport is known by its public key, which the
    // trust list keys exactly as the transport reports it.
    if (!cert_file.empty() || !thumbprint.empty()) {
      Usage("--curve-key replaces --cert and --thumbprint; give one of them");
    }
    if (!core::IsCurvePublicKey(curve_key)) {
      Usage(
          "--curve-key needs the worker's CURVE public key: 40 Z85 characters (as written by "
          "zmq_curve_keypair), got '" +
          curve_key.substr(0, 80) + "'");
    }
    plan.sha256 = curve_key;
    plan.curve = true;
  }
  if (!plan.settings_file.empty()) {
    std::ifstream in(plan.settings_file);
    if (!in) Failed("cannot read the worker settings file " + plan.settings_file);
    std::stringstream text;
    text << in.rdbuf();
    json settings = json::parse(text.str(), nullptr, false);
    if (settings.is_discarded() || !settings.is_object()) {
      Failed(plan.settings_file + " is not a JSON worker settings file");
    }
    if (cert_file.empty() && settings.contains("WorkerCertFile")) {
      cert_file = ResolveNear(settings.value("WorkerCertFile", ""), plan.settings_file);
    }
    if (thumbprint.empty() && !plan.curve) {
      thumbprint = settings.value("WorkerHttpsCertThumbprint", "");
    }
    plan.worker_agent_id = settings.value("AgentId", "");
    std::error_code ec;
    const auto perms = fs::status(plan.settings_file, ec).permissions();
    plan.settings_writable =
        !ec && access(plan.settings_file.c_str(), W_OK) == 0 && perms != fs::perms::unknown;
  }
  if (plan.curve) {
    // Known already; a certificate named by the settings file is not used.
  } else if (!cert_file.empty()) {
    auto info = core::security::ReadCertificateThumbprints(cert_file);
    if (!info.ok()) Failed("cannot use the worker certificate: " + info.status().message());
    plan.sha256 = info->sha256_thumbprint;
    plan.sha1 = info->sha1_thumbprint;
    plan.common_name = info->common_name;
    if (!thumbprint.empty() &&
        core::security::MatchPin(thumbprint, *info) == core::security::PinMatch::kNone) {
      Failed("thumbprint " + thumbprint + " does not match " + cert_file + " (SHA-256 " +
             plan.sha256 + ")");
    }
  } else {
    auto pin = core::security::NormalizePin(thumbprint);
    if (!pin.ok()) Usage(pin.status().message());
    if (pin->size() != 64) {
      Usage(
          "a SHA-1 thumbprint alone cannot be trusted; give the worker's certificate file "
          "(--cert-file) or its SHA-256 thumbprint");
    }
    plan.sha256 = *pin;
  }
  if (ctx.args.values.contains("id")) plan.worker_agent_id = ctx.args.Get("id");
  for (const json& w : Call(ctx, "list_worker_agents")) {
    if (w.value("cert_sha256", "") == plan.sha256) {
      Failed(std::string(plan.curve ? "CURVE key " : "certificate ") + plan.sha256 +
             " is already trusted as worker " + w.value("worker_agent_id", "") + "; nothing to do");
    }
  }
  return plan;
}

void PrintWorkerPlan(Context& ctx, const WorkerPlan& plan) {
  ctx.out << "Scale Out Manager will:\n";
  ctx.out << "  1. trust the worker " << (plan.curve ? "CURVE public key " : "certificate ")
          << plan.sha256 << (plan.common_name.empty() ? "" : " (CN=" + plan.common_name + ")")
          << " as a new worker" << (plan.worker_agent_id.empty() ? "" : " " + plan.worker_agent_id)
          << " (disabled until you enable it)\n";
  if (plan.settings_file.empty()) {
    ctx.out << "  2. (no worker settings file given: set MasterEndpoint="
            << ctx.client.settings().master
            << " and MasterHttpsCertThumbprint=" << ctx.client.settings().master_thumbprint
            << " in the worker's settings by hand)\n";
  } else if (!plan.settings_writable) {
    ctx.out << "  2. (" << plan.settings_file
            << " cannot be written from here: set MasterEndpoint and MasterHttpsCertThumbprint "
               "by hand)\n";
  } else {
    ctx.out << "  2. write MasterEndpoint=" << ctx.client.settings().master
            << " and MasterHttpsCertThumbprint=" << ctx.client.settings().master_thumbprint
            << " into " << plan.settings_file << "\n";
  }
  ctx.out << "  3. remind you to restart the worker and enable it\n";
}

bool Confirm(Context& ctx) {
  if (ctx.args.Has("yes")) return true;
  ctx.out << "Proceed? [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

void WriteWorkerSettings(Context& ctx, const std::string& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  ordered_json settings = ordered_json::parse(text.str(), nullptr, false);
  if (settings.is_discarded()) Failed(file + " is no longer valid JSON; not changed");
  settings["MasterEndpoint"] = ctx.client.settings().master;
  settings["MasterHttpsCertThumbprint"] = ctx.client.settings().master_thumbprint;
  const std::string temp = file + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << settings.dump(2) << "\n";
    if (!out) Failed("cannot write " + temp);
  }
  std::error_code ec;
  fs::rename(temp, file, ec);
  if (ec) Failed("cannot replace " + file + ": " + ec.message());
}

int WorkerAdd(Context& ctx) {
  const WorkerPlan plan = PlanWorkerAdd(ctx);
  if (!ctx.json_output) PrintWorkerPlan(ctx, plan);
  if (!Confirm(ctx)) {
    ctx.err << "scaleout manage: not confirmed; nothing was changed (add --yes to skip the "
               "question)\n";
    return kExitFailed;
  }
  json args{{"cert_sha256", plan.sha256}, {"cert_sha1", plan.sha1}};
  if (!plan.worker_agent_id.empty()) args["worker_agent_id"] = plan.worker_agent_id;
  if (ctx.args.values.contains("display-name")) args["display_name"] = ctx.args.Get("display-name");
  if (ctx.args.values.contains("description")) args["description"] = ctx.args.Get("description");
  if (!plan.common_name.empty()) args["machine_name"] = plan.common_name;
  const json worker = Call(ctx, "add_worker_agent", args);
  const std::string id = worker.value("worker_agent_id", "");
  bool wrote = false;
  if (!plan.settings_file.empty() && plan.settings_writable) {
    WriteWorkerSettings(ctx, plan.settings_file);
    wrote = true;
  }
  if (ctx.json_output) {
    json out = worker;
    out["settings_updated"] = wrote;
    return PrintJson(ctx, out), kExitOk;
  }
  ctx.out << "Trusted worker " << id << ".\n";
  if (wrote) ctx.out << "Updated " << plan.settings_file << ".\n";
  ctx.out << "Restart the worker ('scaleout worker --config <its settings>'), then enable it:\n"
          << "  scaleout manage worker enable " << id << "\n";
  return kExitOk;
}

// ---- deploy, projects, packages -------------------------------------------------------------

int Deploy(Context& ctx) {
  const std::string path = Positional(ctx, 0, "PATH (a project directory or .ispac/.zip file)");
  const std::string folder = Required(ctx, "folder");
  const std::string project = Required(ctx, "project");
  auto files = core::management::ReadProjectFiles(path);
  if (!files.ok()) Failed(files.status().message());
  auto args = core::management::BuildDeployArguments(*files, folder, project);
  if (!args.ok()) Failed(args.status().message());
  (*args)["create_folder"] = true;
  if (ctx.args.values.contains("description")) (*args)["description"] = ctx.args.Get("description");
  const json r = Call(ctx, "deploy_project", *args);
  if (ctx.json_output) return PrintJson(ctx, r), kExitOk;
  if (r.value("folder_created", false)) ctx.out << "Created folder '" << folder << "'.\n";
  ctx.out << "Deployed project '" << project << "' to folder '" << folder << "': version "
          << Cell(r, "version") << " (" << Cell(r, "packages") << " packages).\n";
  return kExitOk;
}

// Writes `files` under `dir`, which must be missing or empty (nothing is
// overwritten). Names are relative paths (deploy refused any other).
void WriteProjectFiles(const std::filesystem::path& dir,
                       const std::vector<core::management::ProjectFile>& files,
                       const std::set<std::string>& executables) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec))) {
    Failed("'" + dir.string() + "' exists and is not an empty directory; give a new one");
  }
  for (const core::management::ProjectFile& f : files) {
    const fs::path relative(f.name);
    if (relative.is_absolute() || f.name.find("..") != std::string::npos) {
      Failed("the project has a file named '" + f.name + "', which is not a relative path");
    }
    const fs::path target = dir / relative;
    fs::create_directories(target.parent_path(), ec);
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out.write(f.content.data(), static_cast<std::streamsize>(f.content.size()));
    if (!out.flush()) Failed("cannot write '" + target.string() + "'");
    out.close();
    fs::permissions(target, executables.contains(f.name) ? fs::perms(0755) : fs::perms(0644), ec);
  }
}

// project export: catalog.get_project written as a project directory that
// `deploy` takes back.
int ProjectExport(Context& ctx) {
  json args = ProjectArgs(ctx);
  if (ctx.args.values.contains("version")) {
    args["object_version_lsn"] = ParseInt(ctx.args.Get("version"), "--version");
  }
  const std::string dir = Positional(ctx, 0, "DIR");
  const json exported = Call(ctx, "get_project", args);
  auto files = core::management::ProjectFilesFromExport(exported);
  if (!files.ok()) Failed(files.status().message());
  std::set<std::string> entry_points;
  for (const json& p : exported.at("packages")) {
    if (p.value("entry_point", false)) entry_points.insert(p.at("name").get<std::string>());
  }
  WriteProjectFiles(dir, *files, entry_points);
  if (ctx.json_output) {
    return PrintJson(ctx, json{{"directory", dir},
                               {"object_version_lsn", exported.at("object_version_lsn")},
                               {"files", files->size()}}),
           kExitOk;
  }
  ctx.out << "Wrote version " << Cell(exported, "object_version_lsn") << " of project "
          << Cell(args, "project_name") << " to " << dir << " (" << files->size() - 1
          << " packages and project.json; sensitive defaults are not exported).\n";
  return kExitOk;
}

int ProjectList(Context& ctx) {
  json args = json::object();
  if (ctx.args.values.contains("folder")) args["folder_name"] = ctx.args.Get("folder");
  const json rows = Call(ctx, "list_projects", args);
  if (ctx.json_output) return PrintJson(ctx, rows), kExitOk;
  Table t({"FOLDER", "PROJECT", "VERSION", "PACKAGES", "DEPLOYED BY", "DEPLOYED"});
  for (const json& p : rows) {
    t.Row({Cell(p, "folder_name"), Cell(p, "project_name"), Cell(p, "version"),
           Cell(p, "package_count"), Cell(p, "deployed_by"), Cell(p, "last_deployed_time")});
  }
  t.Print(ctx.out);
  return kExitOk;
}

int PackageList(Context& ctx) {
  json args = json::object();
  if (ctx.args.values.contains("folder")) args["folder_name"] = ctx.args.Get("folder");
  if (ctx.args.values.contains("project")) args["project_name"] = ctx.args.Get("project");
  const json rows = Call(ctx, "list_packages", args);
  if (ctx.json_output) return PrintJson(ctx, rows), kExitOk;
  Table t({"FOLDER", "PROJECT", "PACKAGE", "VERSION", "ENTRY POINT", "BYTES"});
  for (const json& p : rows) {
    t.Row({Cell(p, "folder_name"), Cell(p, "project_name"), Cell(p, "package_name"),
           Cell(p, "version"), Cell(p, "entry_point"), Cell(p, "size_bytes")});
  }
  t.Print(ctx.out);
  return kExitOk;
}

// ---- environments and configured parameter values ------------------------------------------

// NAME=VALUE, split; `what` names it in the usage error.
std::pair<std::string, std::string> Assignment(const std::string& text, const char* what) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    Usage(std::string(what) + " takes NAME=VALUE, got '" + text + "'");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

json EnvironmentArgs(const Context& ctx) {
  return json{{"folder_name", Required(ctx, "folder")},
              {"environment_name", Positional(ctx, 0, "ENVIRONMENT")}};
}

int EnvList(Context& ctx) {
  json args = json::object();
  if (ctx.args.values.contains("folder")) args["folder_name"] = ctx.args.Get("folder");
  const json rows = Call(ctx, "list_environments", args);
  if (ctx.json_output) return PrintJson(ctx, rows), kExitOk;
  Table t({"FOLDER", "ENVIRONMENT", "VARIABLE", "TYPE", "VALUE"});
  for (const json& e : rows) {
    if (e["variables"].empty())
      t.Row({Cell(e, "folder_name"), Cell(e, "environment_name"), "-", "", ""});
    for (const json& v : e["variables"]) {
      t.Row({Cell(e, "folder_name"), Cell(e, "environment_name"), Cell(v, "name"),
             Cell(v, "data_type"), v.value("sensitive", false) ? "(sensitive)" : Cell(v, "value")});
    }
  }
  t.Print(ctx.out);
  return kExitOk;
}

int EnvCreate(Context& ctx) {
  json args = EnvironmentArgs(ctx);
  if (ctx.args.values.contains("description"))
    args["environment_description"] = ctx.args.Get("description");
  const json r = Call(ctx, "create_environment", args);
  if (ctx.json_output) return PrintJson(ctx, r), kExitOk;
  ctx.out << "Created environment " << Cell(args, "environment_name") << " in folder "
          << Cell(args, "folder_name") << ".\n";
  return kExitOk;
}

int EnvDelete(Context& ctx) {
  Call(ctx, "delete_environment", EnvironmentArgs(ctx));
  if (!ctx.json_output) ctx.out << "Deleted environment " << ctx.args.positionals[0] << ".\n";
  return kExitOk;
}

// env var ENVIRONMENT NAME=VALUE: creates the variable (--type, --sensitive,
// --description) or, with --update, changes its value.
int EnvVar(Context& ctx) {
  json args = EnvironmentArgs(ctx);
  const auto [name, value] = Assignment(Positional(ctx, 1, "NAME=VALUE"), "the variable");
  args["variable_name"] = name;
  args["value"] = value;
  const bool update = ctx.args.Has("update");
  if (!update) {
    args["data_type"] = ctx.args.values.contains("type") ? ctx.args.Get("type") : "String";
    args["sensitive"] = ctx.args.Has("sensitive");
    if (ctx.args.values.contains("description")) args["description"] = ctx.args.Get("description");
  }
  Call(ctx, update ? "set_environment_variable_value" : "create_environment_variable", args);
  if (!ctx.json_output)
    ctx.out << (update ? "Set " : "Created ") << name << " in environment "
            << Cell(args, "environment_name") << ".\n";
  return kExitOk;
}

// --description D, which may be empty (it clears the description).
std::string Described(const Context& ctx) {
  if (!ctx.args.values.contains("description")) Usage("--description is required");
  return ctx.args.Get("description");
}

// env alter: a variable's protection (SSIS's set_environment_variable_protection),
// data type and description, each given one a call of its own.
int EnvAlter(Context& ctx) {
  json args = EnvironmentArgs(ctx);
  args["variable_name"] = Positional(ctx, 1, "NAME");
  const bool sensitive = ctx.args.Has("sensitive");
  const bool plain = ctx.args.Has("plain");
  if (sensitive && plain) Usage("give --sensitive or --plain, not both");
  std::vector<std::pair<std::string, json>> calls;
  if (sensitive || plain) {
    json a = args;
    a["sensitive"] = sensitive;
    calls.emplace_back("set_environment_variable_protection", a);
  }
  if (ctx.args.values.contains("type")) {
    json a = args;
    a["data_type"] = ctx.args.Get("type");
    calls.emplace_back("set_environment_variable_type", a);
  }
  if (ctx.args.values.contains("description")) {
    json a = args;
    a["property_name"] = "Description";
    a["property_value"] = ctx.args.Get("description");
    calls.emplace_back("set_environment_variable_property", a);
  }
  if (calls.empty()) Usage("nothing to change: give --sensitive, --plain, --type or --description");
  for (const auto& [operation, call_args] : calls) Call(ctx, operation, call_args);
  if (!ctx.json_output) ctx.out << "Changed " << Cell(args, "variable_name") << ".\n";
  return kExitOk;
}

// env set: an environment's description (set_environment_property).
int EnvSet(Context& ctx) {
  json args = EnvironmentArgs(ctx);
  args["property_name"] = "Description";
  args["property_value"] = Described(ctx);
  Call(ctx, "set_environment_property", args);
  if (!ctx.json_output) ctx.out << "Changed " << Cell(args, "environment_name") << ".\n";
  return kExitOk;
}

int EnvUnset(Context& ctx) {
  json args = EnvironmentArgs(ctx);
  args["variable_name"] = Positional(ctx, 1, "NAME");
  Call(ctx, "delete_environment_variable", args);
  if (!ctx.json_output) ctx.out << "Deleted " << Cell(args, "variable_name") << ".\n";
  return kExitOk;
}

int EnvRefs(Context& ctx) {
  json args = json::object();  // every project's, unless one is named
  if (ctx.args.values.contains("folder") || ctx.args.values.contains("project")) {
    args = ProjectArgs(ctx);
  }
  const json rows = Call(ctx, "list_environment_references", args);
  if (ctx.json_output) return PrintJson(ctx, rows), kExitOk;
  Table t({"REFERENCE", "PROJECT", "TYPE", "ENVIRONMENT FOLDER", "ENVIRONMENT"});
  for (const json& r : rows) {
    t.Row({Cell(r, "reference_id"), Cell(r, "folder_name") + "/" + Cell(r, "project_name"),
           Cell(r, "reference_type"),
           r["environment_folder_name"].is_null() ? Cell(r, "folder_name")
                                                  : Cell(r, "environment_folder_name"),
           Cell(r, "environment_name")});
  }
  t.Print(ctx.out);
  return kExitOk;
}

int EnvRef(Context& ctx) {
  json args = ProjectArgs(ctx);
  args["environment_name"] = Positional(ctx, 0, "ENVIRONMENT");
  if (ctx.args.values.contains("env-folder")) {
    args["reference_type"] = "A";
    args["environment_folder_name"] = ctx.args.Get("env-folder");
  }
  const json r = Call(ctx, "create_environment_reference", args);
  if (ctx.json_output) return PrintJson(ctx, r), kExitOk;
  ctx.out << Cell(r, "reference_id") << "\n";
  return kExitOk;
}

int EnvUnref(Context& ctx) {
  const std::int64_t id = ParseInt(Positional(ctx, 0, "REFERENCE"), "REFERENCE");
  Call(ctx, "delete_environment_reference", {{"reference_id", id}});
  if (!ctx.json_output) ctx.out << "Deleted environment reference " << id << ".\n";
  return kExitOk;
}

// The parameter a project command names: a project's, or --package's.
json ObjectParameterArgs(const Context& ctx, const std::string& name) {
  json args = ProjectArgs(ctx);
  args["parameter_name"] = name;
  args["object_type"] = 20;
  if (ctx.args.values.contains("package")) {
    args["object_type"] = 30;
    args["object_name"] = ctx.args.Get("package");
  }
  return args;
}

int ProjectParams(Context& ctx) {
  const json rows = Call(ctx, "list_object_parameters", ProjectArgs(ctx));
  if (ctx.json_output) return PrintJson(ctx, rows), kExitOk;
  Table t({"TYPE", "OBJECT", "PARAMETER", "DATA TYPE", "REQUIRED", "VALUE"});
  for (const json& p : rows) {
    std::string value = p["value_type"] == "R"        ? "-> " + Cell(p, "referenced_variable_name")
                        : p.value("sensitive", false) ? "(sensitive)"
                                                      : Cell(p, "default_value");
    if (p["value_type"] == "V" && p.value("value_set", false)) value += " (set)";
    t.Row({Cell(p, "object_type"), Cell(p, "object_name"), Cell(p, "parameter_name"),
           Cell(p, "data_type"), Cell(p, "required"), value});
  }
  t.Print(ctx.out);
  return kExitOk;
}

// project param NAME=VALUE, or NAME --env-var VARIABLE (bound to a variable).
int ProjectParam(Context& ctx) {
  const std::string& target = Positional(ctx, 0, "NAME=VALUE or NAME --env-var VARIABLE");
  json args;
  if (ctx.args.values.contains("env-var")) {
    args = ObjectParameterArgs(ctx, target);
    args["parameter_value"] = ctx.args.Get("env-var");
    args["value_type"] = "R";
  } else {
    const auto [name, value] = Assignment(target, "the parameter");
    args = ObjectParameterArgs(ctx, name);
    args["parameter_value"] = value;
    args["value_type"] = "V";
  }
  Call(ctx, "set_object_parameter_value", args);
  if (!ctx.json_output) ctx.out << "Set " << Cell(args, "parameter_name") << ".\n";
  return kExitOk;
}

int ProjectUnparam(Context& ctx) {
  const json args = ObjectParameterArgs(ctx, Positional(ctx, 0, "NAME"));
  Call(ctx, "clear_object_parameter_value", args);
  if (!ctx.json_output) ctx.out << "Cleared " << Cell(args, "parameter_name") << ".\n";
  return kExitOk;
}

int FolderList(Context& ctx) {
  const json rows = Call(ctx, "list_folders", json::object());
  if (ctx.json_output) return PrintJson(ctx, rows), kExitOk;
  Table t({"FOLDER", "DESCRIPTION", "CREATED BY", "CREATED"});
  for (const json& f : rows) {
    t.Row(
        {Cell(f, "name"), Cell(f, "description"), Cell(f, "created_by"), Cell(f, "created_time")});
  }
  t.Print(ctx.out);
  return kExitOk;
}

int FolderRename(Context& ctx) {
  const std::string name = Positional(ctx, 0, "FOLDER");
  const std::string new_name = Positional(ctx, 1, "NEW_NAME");
  Call(ctx, "rename_folder", {{"old_name", name}, {"new_name", new_name}});
  if (!ctx.json_output) ctx.out << "Renamed folder " << name << " to " << new_name << ".\n";
  return kExitOk;
}

int ProjectMove(Context& ctx) {
  const json project = ProjectArgs(ctx);
  const std::string destination = Required(ctx, "to");
  Call(ctx, "move_project",
       {{"source_folder", project["folder_name"]},
        {"project_name", project["project_name"]},
        {"destination_folder", destination}});
  if (!ctx.json_output) {
    ctx.out << "Moved project " << Cell(project, "project_name") << " to folder " << destination
            << ".\n";
  }
  return kExitOk;
}

int EnvRename(Context& ctx) {
  json args = EnvironmentArgs(ctx);
  args["new_environment_name"] = Positional(ctx, 1, "NEW_NAME");
  Call(ctx, "rename_environment", args);
  if (!ctx.json_output) {
    ctx.out << "Renamed environment " << Cell(args, "environment_name") << " to "
            << Cell(args, "new_environment_name") << ".\n";
  }
  return kExitOk;
}

int FolderSet(Context& ctx) {
  const std::string name = Positional(ctx, 0, "FOLDER");
  Call(ctx, "set_folder_description",
       {{"folder_name", name}, {"folder_description", Described(ctx)}});
  if (!ctx.json_output) ctx.out << "Changed folder " << name << ".\n";
  return kExitOk;
}

int FolderDelete(Context& ctx) {
  const std::string name = Positional(ctx, 0, "FOLDER");
  Call(ctx, "delete_folder", {{"folder_name", name}});
  if (!ctx.json_output) ctx.out << "Deleted folder " << name << ".\n";
  return kExitOk;
}

int ProjectDelete(Context& ctx) {
  const json args = ProjectArgs(ctx);
  Call(ctx, "delete_project", args);
  if (!ctx.json_output) {
    ctx.out << "Deleted project " << Cell(args, "project_name") << " from folder "
            << Cell(args, "folder_name") << "; its executions stay in the history.\n";
  }
  return kExitOk;
}

// project versions: catalog.object_versions, newest first.
int ProjectVersions(Context& ctx) {
  const json rows = Call(ctx, "list_project_versions", ProjectArgs(ctx));
  if (ctx.json_output) return PrintJson(ctx, rows), kExitOk;
  Table t({"VERSION", "CURRENT", "PACKAGES", "DEPLOYED BY", "DEPLOYED", "RESTORED BY", "RESTORED",
           "DESCRIPTION"});
  for (const json& v : rows) {
    t.Row({Cell(v, "object_version_lsn"), v.value("current", false) ? "yes" : "",
           Cell(v, "package_count"), Cell(v, "created_by"), Cell(v, "created_time"),
           Cell(v, "restored_by"), Cell(v, "last_restored_time"), Cell(v, "description")});
  }
  t.Print(ctx.out);
  return kExitOk;
}

// project restore: catalog.restore_project.
int ProjectRestore(Context& ctx) {
  json args = ProjectArgs(ctx);
  args["object_version_lsn"] = ParseInt(Positional(ctx, 0, "VERSION"), "VERSION");
  const json r = Call(ctx, "restore_project", args);
  if (ctx.json_output) return PrintJson(ctx, r), kExitOk;
  ctx.out << "Project " << Cell(args, "project_name") << " runs version "
          << Cell(r, "object_version_lsn")
          << " again; executions created before for another version must be created anew.\n";
  return kExitOk;
}

// project validate: catalog.validate_project (or validate_package with
// --package) against every reference of the project, or --env-ref's only.
int ProjectValidate(Context& ctx) {
  json args = ProjectArgs(ctx);
  const bool one_package = ctx.args.values.contains("package");
  if (one_package) args["package_name"] = ctx.args.Get("package");
  AddReference(ctx, args);
  const json r = Call(ctx, one_package ? "validate_package" : "validate_project", args);
  const bool ok = r.at("messages").empty();
  if (ctx.json_output) return PrintJson(ctx, r), ok ? kExitOk : kExitFailed;
  if (ok) {
    ctx.out << "Valid: " << Cell(r, "checks") << " package and environment combinations checked"
            << " (operation " << Cell(r, "operation_id") << ").\n";
    return kExitOk;
  }
  Table t({"PACKAGE", "ENVIRONMENT", "PROBLEM"});
  for (const json& m : r["messages"]) {
    t.Row({Cell(m, "package_name"),
           m["reference_id"].is_null() ? "-" : "reference " + Cell(m, "reference_id"),
           Cell(m, "message")});
  }
  t.Print(ctx.out);
  return kExitFailed;
}

// ---- executions ------------------------------------------------------------------------------

bool IsTerminal(const std::string& status) {
  return status == "canceled" || status == "failed" || status == "ended unexpectedly" ||
         status == "succeeded" || status == "completed";
}

void PrintExecutions(Context& ctx, const json& rows) {
  Table t({"ID", "STATUS", "FOLDER", "PROJECT", "PACKAGE", "MODE", "WORKER", "RUNS", "CREATED",
           "ENDED"});
  for (const json& e : rows) {
    t.Row({Cell(e, "execution_id"), Cell(e, "status_name"), Cell(e, "folder_name"),
           Cell(e, "project_name"), Cell(e, "package_name"),
           e.value("runinscaleout", true) ? "scaleout" : "server", Cell(e, "worker_agent_id"),
           Cell(e, "executed_count"), Cell(e, "created_time"), Cell(e, "end_time")});
  }
  t.Print(ctx.out);
}

int ExecCreate(Context& ctx) {
  json args = PackageArgs(ctx);
  AddMode(ctx, args);
  AddReference(ctx, args);
  if (ctx.args.Has("no-any-worker")) args["useanyworker"] = false;
  const json r = Call(ctx, "create_execution", args);
  if (ctx.json_output) return PrintJson(ctx, r), kExitOk;
  ctx.out << Cell(r, "execution_id") << "\n";
  return kExitOk;
}

int ExecParam(Context& ctx) {
  const std::int64_t id = ParseInt(Positional(ctx, 0, "ID"), "ID");
  const std::string assignment = Positional(ctx, 1, "NAME=VALUE");
  ParsedArgs fake;
  fake.values["param"] = {assignment};
  Context inner{ctx.client, fake};
  const json list = ParameterList(inner);
  json args{{"execution_id", id},
            {"parameter_name", list[0]["name"]},
            {"parameter_value", list[0]["value"]}};
  if (list[0].contains("object_type")) args["object_type"] = list[0]["object_type"];
  if (ctx.args.values.contains("type"))
    args["object_type"] = ParseInt(ctx.args.Get("type"), "--type");
  Call(ctx, "set_execution_parameter_value", args);
  if (!ctx.json_output)
    ctx.out << "Set " << Cell(list[0], "name") << " on execution " << id << ".\n";
  else
    PrintJson(ctx, json::object());
  return kExitOk;
}

int ExecAddWorker(Context& ctx) {
  const std::int64_t id = ParseInt(Positional(ctx, 0, "ID"), "ID");
  const std::string worker = Positional(ctx, 1, "WORKER_ID");
  Call(ctx, "add_execution_worker", {{"execution_id", id}, {"worker_agent_id", worker}});
  if (!ctx.json_output)
    ctx.out << "Execution " << id << " may run on worker " << worker << ".\n";
  else
    PrintJson(ctx, json::object());
  return kExitOk;
}

int ExecStart(Context& ctx) {
  const std::int64_t id = ParseInt(Positional(ctx, 0, "ID"), "ID");
  json args{{"execution_id", id}};
  if (ctx.args.values.contains("retry"))
    args["retry_count"] = ParseInt(ctx.args.Get("retry"), "--retry");
  const json e = Call(ctx, "start_execution", args);
  if (ctx.json_output) return PrintJson(ctx, e), kExitOk;
  ctx.out << "Execution " << id << " is " << Cell(e, "status_name") << ".\n";
  return kExitOk;
}

int Wait(Context& ctx, const std::vector<std::int64_t>& ids, std::int64_t timeout_s);

// exec run --count N: N copies through run_executions, a call per
// kMaxExecutionsPerCall of them (each call all or nothing).
int ExecRunMany(Context& ctx, json args) {
  const std::int64_t count = ParseInt(ctx.args.Get("count"), "--count");
  if (count < 1) Usage("--count must be at least 1, got " + std::to_string(count));
  std::vector<std::int64_t> ids;
  ids.reserve(static_cast<std::size_t>(count));
  while (static_cast<std::int64_t>(ids.size()) < count) {
    args["count"] = std::min(count - static_cast<std::int64_t>(ids.size()),
                             core::management::kMaxExecutionsPerCall);
    const json reply = Call(ctx, "run_executions", args);
    for (const json& id : reply.at("execution_ids")) ids.push_back(id.get<std::int64_t>());
    if (count > core::management::kMaxExecutionsPerCall && !ctx.json_output) {
      ctx.err << "started " << ids.size() << " of " << count << " executions\n";
    }
  }
  if (ctx.args.Has("wait")) {
    if (!ctx.json_output)
      ctx.out << "Started executions " << ids.front() << " to " << ids.back() << ".\n";
    return Wait(
        ctx, ids,
        ctx.args.values.contains("timeout") ? ParseInt(ctx.args.Get("timeout"), "--timeout") : 0);
  }
  if (ctx.json_output) return PrintJson(ctx, json{{"execution_ids", ids}}), kExitOk;
  ctx.out << "Started " << ids.size() << " executions (" << ids.front() << " to " << ids.back()
          << ").\n";
  return kExitOk;
}

int ExecRun(Context& ctx) {
  json args = PackageArgs(ctx);
  AddMode(ctx, args);
  AddReference(ctx, args);
  args["parameters"] = ParameterList(ctx);
  args["workers"] = ctx.args.All("worker");
  if (ctx.args.values.contains("retry"))
    args["retry_count"] = ParseInt(ctx.args.Get("retry"), "--retry");
  if (ctx.args.values.contains("count")) return ExecRunMany(ctx, args);
  const json e = Call(ctx, "run_execution", args);
  const std::int64_t id = e.value("execution_id", std::int64_t{0});
  if (ctx.args.Has("wait")) {
    if (!ctx.json_output) ctx.out << "Started execution " << id << ".\n";
    return Wait(
        ctx, {id},
        ctx.args.values.contains("timeout") ? ParseInt(ctx.args.Get("timeout"), "--timeout") : 0);
  }
  if (ctx.json_output) return PrintJson(ctx, e), kExitOk;
  ctx.out << "Started execution " << id << " (" << Cell(e, "status_name") << ").\n";
  return kExitOk;
}

int ExecStop(Context& ctx) {
  const std::int64_t id = ParseInt(Positional(ctx, 0, "ID"), "ID");
  const json e = Call(ctx, "stop_operation", {{"operation_id", id}});
  if (ctx.json_output) return PrintJson(ctx, e), kExitOk;
  ctx.out << "Execution " << id << " is " << Cell(e, "status_name") << ".\n";
  return kExitOk;
}

int ExecList(Context& ctx) {
  json args = json::object();
  const std::pair<const char*, const char*> filters[] = {
      {"status", "status"},        {"folder", "folder_name"},     {"project", "project_name"},
      {"package", "package_name"}, {"worker", "worker_agent_id"}, {"limit", "limit"}};
  for (const auto& [option, arg] : filters) {
    if (ctx.args.values.contains(option)) args[arg] = ctx.args.Get(option);
  }
  const json rows = Call(ctx, "list_executions", args);
  if (ctx.json_output) return PrintJson(ctx, rows), kExitOk;
  PrintExecutions(ctx, rows);
  return kExitOk;
}

int ExecShow(Context& ctx) {
  const std::int64_t id = ParseInt(Positional(ctx, 0, "ID"), "ID");
  const json e = Call(ctx, "get_execution", {{"execution_id", id}});
  if (ctx.json_output) return PrintJson(ctx, e), kExitOk;
  PrintFields(ctx.out, {{"Execution", Cell(e, "execution_id")},
                        {"Status", Cell(e, "status_name") + " (" + Cell(e, "status") + ")"},
                        {"Package", Cell(e, "folder_name") + "/" + Cell(e, "project_name") + "/" +
                                        Cell(e, "package_name")},
                        {"Project version", Cell(e, "project_lsn")},
                        {"Mode", e.value("runinscaleout", true) ? "Scale Out" : "Server"},
                        {"Any worker", Cell(e, "useanyworker")},
                        {"Environment", e.value("reference_id", json()).is_null()
                                            ? "none"
                                            : "reference " + Cell(e, "reference_id")},
                        {"Retry count", Cell(e, "retry_count")},
                        {"Executed count", Cell(e, "executed_count")},
                        {"Worker", Cell(e, "worker_agent_id")},
                        {"Caller", Cell(e, "caller_name")},
                        {"Created", Cell(e, "created_time")},
                        {"Started", Cell(e, "start_time")},
                        {"Ended", Cell(e, "end_time")}});
  ctx.out << "\nAttempts:\n";
  Table attempts({"ATTEMPT", "STATUS", "WORKER", "STARTED", "ENDED", "EXIT", "MESSAGE"});
  for (const json& t : e["attempts"]) {
    attempts.Row({Cell(t, "attempt"), Cell(t, "status_name"), Cell(t, "worker_agent_id"),
                  Cell(t, "start_time"), Cell(t, "end_time"), Cell(t, "exit_code"),
                  Cell(t, "result_message")});
  }
  attempts.Print(ctx.out);
  ctx.out << "\nParameters:\n";
  Table parameters({"TYPE", "NAME", "DATA TYPE", "VALUE", "SET"});
  for (const json& p : e["parameters"]) {
    parameters.Row({Cell(p, "object_type"), Cell(p, "parameter_name"), Cell(p, "data_type"),
                    p.value("sensitive", false) ? "(sensitive)" : Cell(p, "value"),
                    Cell(p, "value_set")});
  }
  parameters.Print(ctx.out);
  return kExitOk;
}

int ExecLog(Context& ctx) {
  const std::int64_t id = ParseInt(Positional(ctx, 0, "ID"), "ID");
  const bool follow = ctx.args.Has("follow");
  std::int64_t after = 0;
  json all = json::array();
  // A worker reports a result at once but ships events in batches, so an
  // execution's last messages may arrive just after it ended: once it has
  // ended, --follow reads on until no message has come for this long.
  constexpr std::chrono::milliseconds kTrailingQuiet{1'000};
  std::optional<std::chrono::steady_clock::time_point> quiet_since;
  for (;;) {
    // Read the status first: events written before it ended are then all seen below.
    const std::string status =
        follow ? Call(ctx, "get_execution", {{"execution_id", id}}).value("status_name", "") : "";
    const json rows =
        Call(ctx, "list_event_messages", {{"operation_id", id}, {"after_event_message_id", after}});
    for (const json& m : rows) {
      after = std::max(after, m.value("event_message_id", after));
      if (ctx.json_output) {
        all.push_back(m);
        continue;
      }
      ctx.out << Cell(m, "message_time") << " [" << Cell(m, "event_name") << "] "
              << Cell(m, "message_source") << ": " << Cell(m, "message") << "\n";
    }
    ctx.out << std::flush;
    if (!follow) break;
    if (IsTerminal(status)) {
      const auto now = std::chrono::steady_clock::now();
      if (!rows.empty() || !quiet_since) quiet_since = now;
      if (now - *quiet_since >= kTrailingQuiet) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } else if (rows.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  if (ctx.json_output) PrintJson(ctx, all);
  return kExitOk;
}

int Wait(Context& ctx, const std::vector<std::int64_t>& ids, std::int64_t timeout_s) {
  // Live progress goes to stderr when that is a terminal, so that the result
  // on stdout stays clean when it is redirected or piped.
  const bool live = !ctx.json_output && isatty(STDERR_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  std::map<std::int64_t, json> last;
  for (;;) {
    bool all_done = true;
    std::string line;
    for (std::int64_t id : ids) {
      json e = Call(ctx, "get_execution", {{"execution_id", id}});
      const std::string status = e.value("status_name", "");
      all_done = all_done && IsTerminal(status);
      line += (line.empty() ? "" : "  ") + std::to_string(id) + ": " + status;
      last[id] = std::move(e);
    }
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
    if (live) ctx.err << "\r\033[K" << line << "  (" << elapsed.count() << "s)" << std::flush;
    if (all_done) break;
    if (timeout_s > 0 && elapsed.count() >= timeout_s) {
      if (live) ctx.err << "\n";
      Failed("timed out after " + std::to_string(timeout_s) + " s; still waiting: " + line);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (live) ctx.err << "\n";
  bool all_succeeded = true;
  json out = json::array();
  for (std::int64_t id : ids) {
    const json& e = last[id];
    const std::string status = e.value("status_name", "");
    all_succeeded = all_succeeded && (status == "succeeded" || status == "completed");
    out.push_back(e);
  }
  if (ctx.json_output) {
    PrintJson(ctx, out);
  } else {
    PrintExecutions(ctx, out);
  }
  return all_succeeded ? kExitOk : kExitFailed;
}

int ExecWait(Context& ctx) {
  if (ctx.args.positionals.empty()) Usage("missing ID");
  std::vector<std::int64_t> ids;
  for (const std::string& p : ctx.args.positionals) ids.push_back(ParseInt(p, "ID"));
  return Wait(
      ctx, ids,
      ctx.args.values.contains("timeout") ? ParseInt(ctx.args.Get("timeout"), "--timeout") : 0);
}

// ---- schedules --------------------------------------------------------------------------------

void PrintSchedules(Context& ctx, const json& rows) {
  Table t({"NAME", "ENABLED", "CRON", "PACKAGE", "MODE", "NEXT DUE", "LAST FIRED"});
  for (const json& s : rows) {
    const std::string mode = s["runinscaleout"].is_null()     ? "default"
                             : s["runinscaleout"].get<bool>() ? "scaleout"
                                                              : "server";
    t.Row({Cell(s, "name"), Cell(s, "enabled"), Cell(s, "cron"),
           Cell(s, "folder_name") + "/" + Cell(s, "project_name") + "/" + Cell(s, "package_name"),
           mode, Cell(s, "next_due_at"), Cell(s, "last_fired_at")});
  }
  t.Print(ctx.out);
}

int ScheduleAdd(Context& ctx) {
  json args = PackageArgs(ctx);
  args["name"] = Positional(ctx, 0, "NAME");
  args["cron"] = Required(ctx, "cron");
  AddMode(ctx, args);
  AddReference(ctx, args);
  args["parameters"] = ParameterList(ctx);
  for (const json& p : args["parameters"]) {
    if (!p.contains("object_type")) {
      Usage("schedule parameters need their type: --param '$Project::" +
            p["name"].get<std::string>() + "=...' ($Project::, $Package:: or $ServerOption::)");
    }
  }
  if (ctx.args.values.contains("retry"))
    args["retry_count"] = ParseInt(ctx.args.Get("retry"), "--retry");
  if (ctx.args.Has("disabled")) args["enabled"] = false;
  const json s = Call(ctx, "create_schedule", args);
  if (ctx.json_output) return PrintJson(ctx, s), kExitOk;
  ctx.out << "Schedule '" << Cell(s, "name") << "' created; next run " << Cell(s, "next_due_at")
          << ".\n";
  return kExitOk;
}

int ScheduleList(Context& ctx) {
  const json rows = Call(ctx, "list_schedules");
  if (ctx.json_output) return PrintJson(ctx, rows), kExitOk;
  PrintSchedules(ctx, rows);
  return kExitOk;
}

int ScheduleSimple(Context& ctx, std::string_view operation, std::string_view done) {
  const std::string name = Positional(ctx, 0, "NAME");
  const json r = Call(ctx, operation, {{"name", name}});
  if (ctx.json_output) return PrintJson(ctx, r), kExitOk;
  ctx.out << "Schedule '" << name << "' " << done << ".\n";
  return kExitOk;
}

// ---- users ------------------------------------------------------------------------------------

int UserAdd(Context& ctx) {
  const std::string name = Positional(ctx, 0, "NAME");
  const auto roles = ctx.args.All("role");
  if (roles.empty()) Usage("--role is required (admin, executor or reader)");
  const bool with_token = ctx.args.Has("token-credential");
  const std::string cert = ctx.args.Get("cert-file");
  if (with_token == !cert.empty()) Usage("give exactly one of --cert FILE or --token");
  json args{{"name", name}, {"roles", roles}};
  if (!cert.empty()) {
    auto info = core::security::ReadCertificateThumbprints(cert);
    if (!info.ok()) Failed("cannot use the certificate: " + info.status().message());
    args["cert_sha256"] = info->sha256_thumbprint;
  }
  const json r = Call(ctx, "create_principal", args);
  if (ctx.json_output) return PrintJson(ctx, r), kExitOk;
  ctx.out << "Created principal '" << name << "' with role(s) " << r["roles"].dump() << ".\n";
  if (r.contains("token")) {
    ctx.out << "Its API token is shown only this once; keep it secret:\n\n  "
            << r["token"].get<std::string>() << "\n\n"
            << "Use it with --token, SCALEOUT_TOKEN or 'Token' in a --config file.\n";
  } else {
    ctx.out << "It authenticates with the certificate " << Cell(r, "cert_sha256")
            << " (--cert/--key).\n";
  }
  return kExitOk;
}

int UserList(Context& ctx) {
  const json rows = Call(ctx, "list_principals");
  if (ctx.json_output) return PrintJson(ctx, rows), kExitOk;
  Table t({"NAME", "ROLES", "CREDENTIAL", "CREATED"});
  for (const json& p : rows) {
    std::string roles;
    for (const json& r : p["roles"]) roles += (roles.empty() ? "" : ",") + r.get<std::string>();
    const std::string credential = p.value("credential_kind", "") == "certificate"
                                       ? "certificate " + Cell(p, "cert_sha256")
                                       : "token";
    t.Row({Cell(p, "name"), roles, credential, Cell(p, "created_time")});
  }
  t.Print(ctx.out);
  return kExitOk;
}

int UserRemove(Context& ctx) {
  const std::string name = Positional(ctx, 0, "NAME");
  Call(ctx, "remove_principal", {{"name", name}});
  if (ctx.json_output) return PrintJson(ctx, json::object()), kExitOk;
  ctx.out << "Removed principal '" << name << "'.\n";
  return kExitOk;
}

// `api OPERATION [KEY=VALUE...] [--data JSON]`: any operation, raw JSON out.
int Api(Context& ctx) {
  const std::string operation = Positional(ctx, 0, "OPERATION");
  json args = json::object();
  if (ctx.args.values.contains("data")) {
    args = json::parse(ctx.args.Get("data"), nullptr, false);
    if (args.is_discarded() || !args.is_object()) Usage("--data must be a JSON object");
  }
  for (std::size_t i = 1; i < ctx.args.positionals.size(); ++i) {
    const std::string& kv = ctx.args.positionals[i];
    const auto eq = kv.find('=');
    if (eq == std::string::npos) Usage("arguments are KEY=VALUE, got '" + kv + "'");
    args[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  PrintJson(ctx, Call(ctx, operation, args));
  return kExitOk;
}

// ---- the command table --------------------------------------------------------------------------

struct Command {
  std::vector<std::string> words;
  std::string synopsis;
  std::set<std::string> values;
  std::set<std::string> flags;
  std::function<int(Context&)> run;
};

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {{"status"}, "the dashboard: master, Scale Out, workers, executions", {}, {}, Status},
      {{"enable-scaleout"}, "turn Scale Out on (catalog.enable_scaleout)", {}, {}, EnableScaleout},
      {{"catalog", "get"}, "[NAME]  catalog properties", {}, {}, CatalogGet},
      {{"catalog", "set"},
       "NAME VALUE  (DEFAULT_EXECUTION_MODE Server|ScaleOut, RETENTION_WINDOW, ...)",
       {},
       {},
       CatalogSet},
      {{"worker", "list"}, "the Worker Manager list", {}, {}, WorkerList},
      {{"worker", "show"}, "ID", {}, {}, WorkerShow},
      {{"worker", "add"},
       "(--cert F | --thumbprint SHA256 | --settings WORKER.json | --curve-key Z85KEY) "
       "[--agent-id GUID] [--display-name N] [--description D] [--yes]",
       {"cert-file", "thumbprint", "settings", "curve-key", "id", "display-name", "description"},
       {"yes"},
       WorkerAdd},
      {{"worker", "enable"},
       "ID",
       {},
       {},
       [](Context& c) { return WorkerSimple(c, "enable_worker_agent", "is enabled"); }},
      {{"worker", "disable"},
       "ID",
       {},
       {},
       [](Context& c) { return WorkerSimple(c, "disable_worker_agent", "is disabled"); }},
      {{"worker", "remove"},
       "ID",
       {},
       {},
       [](Context& c) { return WorkerSimple(c, "remove_worker_agent", "was removed"); }},
      {{"worker", "set"},
       "ID [--display-name N] [--description D] [--tags T]",
       {"display-name", "description", "tags"},
       {},
       WorkerSet},
      {{"deploy"},
       "--folder F --project P [--description D] PATH (directory or .ispac/.zip)",
       {"folder", "project", "description"},
       {},
       Deploy},
      {{"project", "list"}, "[--folder F]", {"folder"}, {}, ProjectList},
      {{"package", "list"}, "[--folder F] [--project P]", {"folder", "project"}, {}, PackageList},
      {{"project", "params"},
       "--folder F --project P  (values and bindings)",
       {"folder", "project"},
       {},
       ProjectParams},
      {{"project", "param"},
       "--folder F --project P [--package PKG] (NAME=VALUE | NAME --env-var VARIABLE)",
       {"folder", "project", "package", "env-var"},
       {},
       ProjectParam},
      {{"project", "unparam"},
       "--folder F --project P [--package PKG] NAME  (back to the design default)",
       {"folder", "project", "package"},
       {},
       ProjectUnparam},
      {{"folder", "list"}, "", {}, {}, FolderList},
      {{"folder", "set"}, "FOLDER --description D", {"description"}, {}, FolderSet},
      {{"folder", "rename"}, "FOLDER NEW_NAME  (schedules follow)", {}, {}, FolderRename},
      {{"project", "move"},
       "--folder F --project P --to FOLDER  (its references, values and schedules go with it)",
       {"folder", "project", "to"},
       {},
       ProjectMove},
      {{"env", "rename"},
       "ENVIRONMENT --folder F NEW_NAME  (references follow)",
       {"folder"},
       {},
       EnvRename},
      {{"folder", "delete"}, "FOLDER  (an empty one)", {}, {}, FolderDelete},
      {{"project", "delete"},
       "--folder F --project P  (its executions stay in the history)",
       {"folder", "project"},
       {},
       ProjectDelete},
      {{"project", "versions"},
       "--folder F --project P  (the versions the catalog keeps, newest first)",
       {"folder", "project"},
       {},
       ProjectVersions},
      {{"project", "export"},
       "--folder F --project P [--version N] DIR  (a directory deploy takes back)",
       {"folder", "project", "version"},
       {},
       ProjectExport},
      {{"project", "restore"},
       "--folder F --project P VERSION  (make a kept version current again)",
       {"folder", "project"},
       {},
       ProjectRestore},
      {{"project", "validate"},
       "--folder F --project P [--package PKG] [--env-ref ID]  (exit 1 when a problem is found)",
       {"folder", "project", "package", "env-ref"},
       {},
       ProjectValidate},
      {{"env", "list"}, "[--folder F]  environments and their variables", {"folder"}, {}, EnvList},
      {{"env", "create"},
       "ENVIRONMENT --folder F [--description D]",
       {"folder", "description"},
       {},
       EnvCreate},
      {{"env", "delete"}, "ENVIRONMENT --folder F", {"folder"}, {}, EnvDelete},
      {{"env", "var"},
       "ENVIRONMENT --folder F NAME=VALUE [--type T] [--sensitive] [--description D]  "
       "(--update: a new value for an existing variable)",
       {"folder", "type", "description"},
       {"sensitive", "update"},
       EnvVar},
      {{"env", "alter"},
       "ENVIRONMENT --folder F NAME [--sensitive|--plain] [--type T] [--description D]",
       {"folder", "type", "description"},
       {"sensitive", "plain"},
       EnvAlter},
      {{"env", "set"},
       "ENVIRONMENT --folder F --description D",
       {"folder", "description"},
       {},
       EnvSet},
      {{"env", "unset"}, "ENVIRONMENT --folder F NAME", {"folder"}, {}, EnvUnset},
      {{"env", "ref"},
       "ENVIRONMENT --folder F --project P [--env-folder EF]  (prints the reference id)",
       {"folder", "project", "env-folder"},
       {},
       EnvRef},
      {{"env", "refs"},
       "[--folder F --project P]  (one project's, or all)",
       {"folder", "project"},
       {},
       EnvRefs},
      {{"env", "unref"}, "REFERENCE", {}, {}, EnvUnref},
      {{"exec", "create"},
       "--folder F --project P --package PKG [--env-ref ID] [--server|--scaleout] "
       "[--no-any-worker]",
       {"folder", "project", "package", "env-ref"},
       {"server", "scaleout", "no-any-worker"},
       ExecCreate},
      {{"exec", "param"}, "ID NAME=VALUE [--type 20|30|50]", {"type"}, {}, ExecParam},
      {{"exec", "add-worker"}, "ID WORKER_ID", {}, {}, ExecAddWorker},
      {{"exec", "start"}, "ID [--retry N]", {"retry"}, {}, ExecStart},
      {{"exec", "run"},
       "--folder F --project P --package PKG [--env-ref ID] [--param NAME=VALUE]... "
       "[--worker ID]... [--server|--scaleout] [--retry N] [--count N] [--wait [--timeout S]]",
       {"folder", "project", "package", "env-ref", "param", "worker", "retry", "count", "timeout"},
       {"server", "scaleout", "wait"},
       ExecRun},
      {{"exec", "stop"}, "ID", {}, {}, ExecStop},
      {{"exec", "list"},
       "[--status S] [--folder F] [--project P] [--package PKG] [--worker ID] [--limit N]",
       {"status", "folder", "project", "package", "worker", "limit"},
       {},
       ExecList},
      {{"exec", "show"}, "ID  (with attempts and parameters)", {}, {}, ExecShow},
      {{"exec", "log"}, "ID [--follow]", {}, {"follow"}, ExecLog},
      {{"exec", "wait"}, "ID... [--timeout S]", {"timeout"}, {}, ExecWait},
      {{"schedule", "add"},
       "NAME --cron EXPR --folder F --project P --package PKG [--env-ref ID] "
       "[--param '$Project::N=V']... [--server|--scaleout] [--retry N] [--disabled]",
       {"cron", "folder", "project", "package", "env-ref", "param", "retry"},
       {"server", "scaleout", "disabled"},
       ScheduleAdd},
      {{"schedule", "list"}, "", {}, {}, ScheduleList},
      {{"schedule", "enable"},
       "NAME",
       {},
       {},
       [](Context& c) { return ScheduleSimple(c, "enable_schedule", "is enabled"); }},
      {{"schedule", "disable"},
       "NAME",
       {},
       {},
       [](Context& c) { return ScheduleSimple(c, "disable_schedule", "is disabled"); }},
      {{"schedule", "remove"},
       "NAME",
       {},
       {},
       [](Context& c) { return ScheduleSimple(c, "remove_schedule", "was removed"); }},
      {{"user", "add"}, "NAME --role ROLE... (--cert FILE | --token)", {"role"}, {}, UserAdd},
      {{"user", "list"}, "", {}, {}, UserList},
      {{"user", "remove"}, "NAME", {}, {}, UserRemove},
      {{"api"},
       "OPERATION [KEY=VALUE]... [--data JSON]  (any operation of docs/api.md)",
       {"data"},
       {},
       Api},
  };
  return commands;
}

void PrintUsage(std::ostream& out) {
  out << "Usage: scaleout manage <command> [options]\n\n"
         "Scale Out Manager on the command line. Connection (flags, environment, or a\n"
         "--config file; see docs/operations.md):\n"
         "  --master URL            SCALEOUT_MASTER             https://host:8391\n"
         "  --master-thumbprint T   SCALEOUT_MASTER_THUMBPRINT  the master certificate's SHA-256\n"
         "  --token T               SCALEOUT_TOKEN              an API token (or --token-file F)\n"
         "  --cert F --key F        SCALEOUT_CERT_FILE/KEY_FILE a principal's client certificate\n"
         "  --json                  machine-readable output for every command\n\n"
         "Commands:\n";
  for (const Command& c : Commands()) {
    std::string words;
    for (const auto& w : c.words) words += (words.empty() ? "" : " ") + w;
    out << "  " << words << (c.synopsis.empty() ? "" : " " + c.synopsis) << "\n";
  }
  out << "\nExit status: 0 ok, 1 failed, 2 usage.\n";
}

const Command* Match(const std::vector<std::string>& words, std::size_t* used) {
  const Command* best = nullptr;
  for (const Command& c : Commands()) {
    if (c.words.size() > words.size()) continue;
    if (!std::equal(c.words.begin(), c.words.end(), words.begin())) continue;
    if (best == nullptr || c.words.size() > best->words.size()) best = &c;
  }
  if (best != nullptr) *used = best->words.size();
  return best;
}

}  // namespace

int RunManageCommand(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty() || words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    PrintUsage(words.empty() ? std::cerr : std::cout);
    return words.empty() ? kExitUsage : kExitOk;
  }
  if (words[0] == "--version") {
    std::cout << VersionText() << "\n";
    return kExitOk;
  }
  // `user add` says --token (make a token) and --cert FILE (a certificate
  // principal); those names are also connection options, so they are renamed
  // for that command before parsing.
  std::size_t used = 0;
  const Command* command = Match(words, &used);
  if (command == nullptr) {
    std::cerr << "scaleout manage: unknown command '" << words[0]
              << (words.size() > 1 ? " " + words[1] : "") << "'\n\n";
    PrintUsage(std::cerr);
    return kExitUsage;
  }
  std::vector<std::string> rest(words.begin() + static_cast<std::ptrdiff_t>(used), words.end());
  std::set<std::string> values = kConnectionOptions;
  values.insert(command->values.begin(), command->values.end());
  std::set<std::string> flags = kCommonFlags;
  flags.insert(command->flags.begin(), command->flags.end());
  const bool user_add = command->words == std::vector<std::string>{"user", "add"};
  const bool worker_add = command->words == std::vector<std::string>{"worker", "add"};
  if (user_add || worker_add) {
    // Here --cert names the new principal's or worker's certificate (the
    // caller's own comes from SCALEOUT_CERT_FILE or --config then).
    for (std::string& arg : rest) {
      if (user_add && arg == "--token") arg = "--token-credential";
      if (arg == "--cert") arg = "--cert-file";
      if (arg.rfind("--cert=", 0) == 0) arg = "--cert-file=" + arg.substr(7);
      if (worker_add && arg == "--agent-id") arg = "--id";
      if (worker_add && arg.rfind("--agent-id=", 0) == 0) arg = "--id=" + arg.substr(11);
    }
    values.insert("cert-file");
    if (user_add) flags.insert("token-credential");
  }
  auto parsed = ParseArgs(rest, values, flags);
  if (!parsed.ok()) {
    std::cerr << "scaleout manage: " << parsed.status().message() << "\n\n";
    PrintUsage(std::cerr);
    return kExitUsage;
  }
  if (parsed->Has("help")) {
    PrintUsage(std::cout);
    return kExitOk;
  }
  FlagValues connection_flags;
  for (const std::string& name : kConnectionOptions) {
    if (parsed->values.contains(name)) connection_flags[name] = parsed->Get(name);
  }
  auto settings = ResolveConnection(connection_flags);
  if (!settings.ok()) {
    std::cerr << "scaleout manage: " << settings.status().message() << "\n";
    return kExitUsage;
  }
  if (sdk::Status s = CheckConnection(*settings); !s.ok()) {
    std::cerr << "scaleout manage: " << s.message() << "\n";
    return kExitUsage;
  }
  auto client = ManageClient::Create(*settings);
  if (!client.ok()) {
    std::cerr << "scaleout manage: " << client.status().message() << "\n";
    return kExitFailed;
  }
  Context ctx{**client, *parsed};
  ctx.json_output = parsed->Has("json");
  try {
    return command->run(ctx);
  } catch (const CommandError& e) {
    std::cerr << "scaleout manage: " << e.message << "\n";
    return e.exit_code;
  }
}

}  // namespace scaleout::host
