#include "core/worker/settings.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/common/ascii.h"
#include "core/common/ids.h"
#include "core/worker/fs_util.h"

namespace scaleout::core::worker {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sdk::Result;
using sdk::Status;

constexpr std::string_view kAgentIdFile = "agent-id";

const std::vector<std::string> kKnownKeys = {
    "DisplayName",
    "Description",
    "MasterEndpoint",
    "MasterEndpoints",
    "MasterHttpsCertThumbprint",
    "WorkerHttpsCertThumbprint",
    "StoreLocation",
    "StoreName",
    "WorkerCertFile",
    "WorkerKeyFile",
    "AgentHeartbeatInterval",
    "TaskHeartbeatInterval",
    "HeartbeatErrorTolerance",
    "HeartbeatErrorTollerance",
    "TaskRequestMaxCPU",
    "TaskRequestMinMemory",
    "MaxTaskCount",
    "LeaseInterval",
    "LeaseInternval",
    "TasksRootFolder",
    "TaskLogLevel",
    "TaskLogSegment",
    "TaskLogEnabled",
    "TaskFolderRetention",
    "ProjectCacheRetention",
    "ExecutionLogCacheFolder",
    "ExecutionLogMaxBufferLogCount",
    "ExecutionLogMaxInMemoryBufferCount",
    "ExecutionLogRetryCount",
    "ExecutionLogRetryTimeout",
    "AgentId",
    "Plugins",
    "PluginSettings",
};

const std::vector<std::string> kPluginKeys = {"Directory", "Transport", "Executor"};

std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string Trim(std::string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string item = Trim(text.substr(start, comma - start));
    if (!item.empty()) out.push_back(std::move(item));
    start = comma + 1;
  }
  return out;
}

bool IsPluginName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Reads typed values out of the settings object and names the key in every
// error ("'TaskRequestMaxCPU' in worker.json must be a number ...").
class Reader {
 public:
  Reader(const json& root, std::string_view source) : root_(root), source_(source) {}

  std::string Where(std::string_view key) const {
    return "'" + std::string(key) + "' in " + std::string(source_);
  }

  const json* Find(std::string_view key) const {
    auto it = root_.find(std::string(key));
    return it == root_.end() ? nullptr : &*it;
  }

  Status String(std::string_view key, std::string* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_string()) return Status::InvalidArgument(Where(key) + " must be a string");
    *out = v->get<std::string>();
    return Status::Ok();
  }

  Status Double(std::string_view key, double min, double max, double* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::Ok();
    double value = 0;
    if (v->is_number()) {
      value = v->get<double>();
    } else if (v->is_string()) {
      const std::string text = Trim(v->get<std::string>());
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return Status::InvalidArgument(Where(key) + " must be a number, got '" +
                                       v->get<std::string>() + "'");
      }
    } else {
      return Status::InvalidArgument(Where(key) + " must be a number");
    }
    if (!std::isfinite(value) || value < min || value > max) {
      return Status::InvalidArgument(Where(key) + " must be between " + Num(min) + " and " +
                                     Num(max) + ", got " + Num(value));
    }
    *out = value;
    return Status::Ok();
  }

  Status Int(std::string_view key, int min, int max, int* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::Ok();
    long long value = 0;
    if (v->is_number_integer()) {
      value = v->get<long long>();
    } else if (v->is_string()) {
      const std::string text = Trim(v->get<std::string>());
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return Status::InvalidArgument(Where(key) + " must be a whole number, got '" +
                                       v->get<std::string>() + "'");
      }
    } else {
      return Status::InvalidArgument(Where(key) + " must be a whole number");
    }
    if (value < min || value > max) {
      return Status::InvalidArgument(Where(key) + " must be between " + std::to_string(min) +
                                     " and " + std::to_string(max) + ", got " +
                                     std::to_string(value));
    }
    *out = static_cast<int>(value);
    return Status::Ok();
  }

  Status Bool(std::string_view key, bool* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::Ok();
    if (v->is_boolean()) {
      *out = v->get<bool>();
      return Status::Ok();
    }
    if (v->is_string()) {
      const std::string text = AsciiLower(Trim(v->get<std::string>()));
      if (text == "true") return (*out = true), Status::Ok();
      if (text == "false") return (*out = false), Status::Ok();
    }
    return Status::InvalidArgument(Where(key) + " must be true or false, got " + v->dump());
  }

  // Accepts `key` or its older SSIS spelling `old_key`, but not both.
  Status TimeSpan(std::string_view key, std::string_view old_key, Millis min, Millis* out) const {
    const json* v = Find(key);
    std::string_view used = key;
    if (!old_key.empty()) {
      const json* old = Find(old_key);
      if (v != nullptr && old != nullptr) {
        return Status::InvalidArgument("both " + Where(key) + " and its older spelling '" +
                                       std::string(old_key) + "' are set; keep only '" +
                                       std::string(key) + "'");
      }
      if (v == nullptr) {
        v = old;
        used = old_key;
      }
    }
    if (v == nullptr) return Status::Ok();
    if (!v->is_string()) {
      return Status::InvalidArgument(Where(used) +
                                     " must be a TimeSpan string such as \"00:01:00\"");
    }
    auto parsed = ParseTimeSpan(v->get<std::string>());
    if (!parsed.ok())
      return Status::InvalidArgument(Where(used) + ": " + parsed.status().message());
    if (*parsed < min) {
      return Status::InvalidArgument(Where(used) + " must be at least " + FormatTimeSpan(min) +
                                     ", got " + v->get<std::string>());
    }
    *out = *parsed;
    return Status::Ok();
  }

 private:
  static std::string Num(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  }

  const json& root_;
  std::string_view source_;
};

Status CheckKnownKeys(const json& root, std::string_view source) {
  for (const auto& [key, value] : root.items()) {
    if (std::find(kKnownKeys.begin(), kKnownKeys.end(), key) == kKnownKeys.end()) {
      return Status::InvalidArgument("unknown setting '" + key + "' in " + std::string(source) +
                                     "; known settings: " + JoinList(kKnownKeys));
    }
  }
  return Status::Ok();
}

Status ParseEndpoints(const Reader& r, const json& root, WorkerSettings& s) {
  std::string single;
  SCALEOUT_RETURN_IF_ERROR(r.String("MasterEndpoint", &single));
  s.master_endpoints.clear();
  // SSIS has one URL here; scaleout also takes a comma-separated list, so a
  // worker can name every master of a shared catalog in the SSIS key.
  for (auto& e : SplitList(single)) s.master_endpoints.push_back(e);
  if (const json* list = r.Find("MasterEndpoints")) {
    if (list->is_string()) {
      for (auto& e : SplitList(list->get<std::string>())) s.master_endpoints.push_back(e);
    } else if (list->is_array()) {
      for (const auto& e : *list) {
        if (!e.is_string() || Trim(e.get<std::string>()).empty()) {
          return Status::InvalidArgument(r.Where("MasterEndpoints") +
                                         " must be a list of non-empty URL strings");
        }
        s.master_endpoints.push_back(Trim(e.get<std::string>()));
      }
    } else {
      return Status::InvalidArgument(r.Where("MasterEndpoints") + " must be a list of URLs");
    }
  }
  for (const auto& e : s.master_endpoints) {
    if (e.find("://") == std::string::npos) {
      return Status::InvalidArgument(r.Where("MasterEndpoint") + ": endpoint '" + e +
                                     "' needs a scheme, e.g. https://master:8391");
    }
  }
  // Remove duplicates but keep the order: the first entry is tried first.
  std::vector<std::string> unique;
  for (auto& e : s.master_endpoints) {
    if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(e);
  }
  s.master_endpoints = std::move(unique);
  (void)root;
  return Status::Ok();
}

Status ParseThumbprints(const Reader& r, WorkerSettings& s) {
  std::string master;
  SCALEOUT_RETURN_IF_ERROR(r.String("MasterHttpsCertThumbprint", &master));
  s.master_https_cert_thumbprints.clear();
  for (const auto& pin : SplitList(master)) {
    auto hex = NormalizeThumbprint(pin, 64);
    if (!hex) hex = NormalizeThumbprint(pin, 40);
    // Not hex: a CURVE public key (ZeroMQ), kept as written; CheckReadyToRun
    // refuses it for an https master.
    s.master_https_cert_thumbprints.push_back(hex ? *hex : pin);
  }
  std::string worker;
  SCALEOUT_RETURN_IF_ERROR(r.String("WorkerHttpsCertThumbprint", &worker));
  worker = Trim(worker);
  if (!worker.empty()) {
    auto hex = NormalizeThumbprint(worker, 64);
    if (!hex) hex = NormalizeThumbprint(worker, 40);
    if (!hex) {
      return Status::InvalidArgument(r.Where("WorkerHttpsCertThumbprint") +
                                     " must be a SHA-256 (64 hex digits) or SHA-1 (40) "
                                     "thumbprint; print it with 'scaleout cert thumbprint'");
    }
    s.worker_https_cert_thumbprint = *hex;
  }
  return Status::Ok();
}

Status PluginValueNotAString(const std::string& section, const std::string& key,
                             std::string_view source) {
  return Status::InvalidArgument("'PluginSettings." + section + "." + key + "' in " +
                                 std::string(source) + " must be a string");
}

Status ParsePlugins(const Reader& r, std::string_view source, WorkerSettings& s) {
  if (const json* p = r.Find("Plugins")) {
    if (!p->is_object()) return Status::InvalidArgument(r.Where("Plugins") + " must be an object");
    for (const auto& [key, value] : p->items()) {
      if (std::find(kPluginKeys.begin(), kPluginKeys.end(), key) == kPluginKeys.end()) {
        return Status::InvalidArgument("unknown setting 'Plugins." + key + "' in " +
                                       std::string(source) +
                                       "; known settings: " + JoinList(kPluginKeys));
      }
      if (!value.is_string()) {
        return Status::InvalidArgument("'Plugins." + key + "' in " + std::string(source) +
                                       " must be a string");
      }
    }
    Reader pr(*p, source);
    SCALEOUT_RETURN_IF_ERROR(pr.String("Directory", &s.plugins.directory));
    SCALEOUT_RETURN_IF_ERROR(pr.String("Transport", &s.plugins.transport));
    SCALEOUT_RETURN_IF_ERROR(pr.String("Executor", &s.plugins.executor));
    for (auto [key, name] :
         {std::pair<const char*, std::string*>{"Transport", &s.plugins.transport},
          {"Executor", &s.plugins.executor}}) {
      if (!IsPluginName(*name)) {
        return Status::InvalidArgument(
            "'Plugins." + std::string(key) + "' in " + std::string(source) +
            " must be a plugin name such as " +
            (std::string(key) == "Transport" ? "\"https\"" : "\"process\"") +
            " (lowercase letters, digits, '-', '_'), got '" + *name + "'");
      }
    }
  }
  if (const json* ps = r.Find("PluginSettings")) {
    if (!ps->is_object()) {
      return Status::InvalidArgument(r.Where("PluginSettings") +
                                     " must be an object of sections such as "
                                     "{\"transport.https\": {...}}");
    }
    for (const auto& [section, values] : ps->items()) {
      const auto dot = section.find('.');
      if (dot == std::string::npos || !IsPluginName(section.substr(0, dot)) ||
          !IsPluginName(section.substr(dot + 1))) {
        return Status::InvalidArgument("'PluginSettings." + section + "' in " +
                                       std::string(source) +
                                       ": a section is named <kind>.<name>, e.g. transport.https");
      }
      if (!values.is_object()) {
        return Status::InvalidArgument("'PluginSettings." + section + "' in " +
                                       std::string(source) + " must be an object of strings");
      }
      auto& map = s.plugin_settings[section];
      for (const auto& [key, value] : values.items()) {
        if (value.is_string()) {
          map[key] = value.get<std::string>();
        } else if (value.is_number() || value.is_boolean()) {
          map[key] = value.dump();  // plugins parse their values from text
        } else {
          return PluginValueNotAString(section, key, source);
        }
      }
    }
  }
  return Status::Ok();
}

Status ParseTimes(const Reader& r, WorkerSettings& s) {
  SCALEOUT_RETURN_IF_ERROR(
      r.TimeSpan("AgentHeartbeatInterval", "", Millis(1), &s.agent_heartbeat_interval));
  SCALEOUT_RETURN_IF_ERROR(
      r.TimeSpan("TaskHeartbeatInterval", "", Millis(1), &s.task_heartbeat_interval));
  SCALEOUT_RETURN_IF_ERROR(r.TimeSpan("HeartbeatErrorTolerance", "HeartbeatErrorTollerance",
                                      Millis(1), &s.heartbeat_error_tolerance));
  SCALEOUT_RETURN_IF_ERROR(
      r.TimeSpan("LeaseInterval", "LeaseInternval", Millis(3), &s.lease_interval));
  SCALEOUT_RETURN_IF_ERROR(r.TimeSpan("TaskLogSegment", "", Millis(0), &s.task_log_segment));
  SCALEOUT_RETURN_IF_ERROR(
      r.TimeSpan("TaskFolderRetention", "", Millis(0), &s.task_folder_retention));
  SCALEOUT_RETURN_IF_ERROR(
      r.TimeSpan("ProjectCacheRetention", "", Millis(0), &s.project_cache_retention));
  SCALEOUT_RETURN_IF_ERROR(
      r.TimeSpan("ExecutionLogRetryTimeout", "", Millis(1), &s.execution_log_retry_timeout));
  // Self-fencing needs at least two renewal attempts before the worker-side
  // deadline (LeaseInterval minus a third of it), so one lost heartbeat does
  // not kill a healthy task.
  const Millis fence_window = s.lease_interval - s.lease_safety_margin();
  if (s.task_heartbeat_interval * 2 > fence_window) {
    return Status::InvalidArgument(
        r.Where("TaskHeartbeatInterval") + " (" + FormatTimeSpan(s.task_heartbeat_interval) +
        ") is too long for 'LeaseInterval' (" + FormatTimeSpan(s.lease_interval) +
        "): the worker must renew at least twice within two thirds of the lease; "
        "set TaskHeartbeatInterval to at most a third of LeaseInterval");
  }
  return Status::Ok();
}

Status ParseNumbers(const Reader& r, WorkerSettings& s) {
  SCALEOUT_RETURN_IF_ERROR(r.Double("TaskRequestMaxCPU", 0.0, 100.0, &s.task_request_max_cpu));
  if (s.task_request_max_cpu <= 0.0) {
    return Status::InvalidArgument(r.Where("TaskRequestMaxCPU") +
                                   " must be above 0 (a percentage up to 100)");
  }
  SCALEOUT_RETURN_IF_ERROR(
      r.Double("TaskRequestMinMemory", 0.0, 1e9, &s.task_request_min_memory_mb));
  SCALEOUT_RETURN_IF_ERROR(r.Int("MaxTaskCount", 1, 1000, &s.max_task_count));
  SCALEOUT_RETURN_IF_ERROR(r.Int("TaskLogLevel", 0, 127, &s.task_log_level));
  SCALEOUT_RETURN_IF_ERROR(r.Bool("TaskLogEnabled", &s.task_log_enabled));
  SCALEOUT_RETURN_IF_ERROR(
      r.Int("ExecutionLogMaxBufferLogCount", 1, 10'000, &s.execution_log_max_buffer_log_count));
  SCALEOUT_RETURN_IF_ERROR(r.Int("ExecutionLogMaxInMemoryBufferCount", 1, 10'000,
                                 &s.execution_log_max_in_memory_buffer_count));
  SCALEOUT_RETURN_IF_ERROR(
      r.Int("ExecutionLogRetryCount", 0, 1'000'000, &s.execution_log_retry_count));
  return Status::Ok();
}

Status ParseStrings(const Reader& r, WorkerSettings& s) {
  SCALEOUT_RETURN_IF_ERROR(r.String("DisplayName", &s.display_name));
  SCALEOUT_RETURN_IF_ERROR(r.String("Description", &s.description));
  SCALEOUT_RETURN_IF_ERROR(r.String("StoreLocation", &s.store_location));
  SCALEOUT_RETURN_IF_ERROR(r.String("StoreName", &s.store_name));
  SCALEOUT_RETURN_IF_ERROR(r.String("WorkerCertFile", &s.worker_cert_file));
  SCALEOUT_RETURN_IF_ERROR(r.String("WorkerKeyFile", &s.worker_key_file));
  SCALEOUT_RETURN_IF_ERROR(r.String("TasksRootFolder", &s.tasks_root_folder));
  SCALEOUT_RETURN_IF_ERROR(r.String("ExecutionLogCacheFolder", &s.execution_log_cache_folder));
  std::string agent_id;
  SCALEOUT_RETURN_IF_ERROR(r.String("AgentId", &agent_id));
  if (!Trim(agent_id).empty()) {
    auto guid = NormalizeGuid(Trim(agent_id));
    if (!guid) {
      return Status::InvalidArgument(r.Where("AgentId") +
                                     " must be a GUID such as "
                                     "\"8D3F1A0C-4B7E-4F2A-9C61-0E5B2D7A9F13\", got '" +
                                     agent_id + "'; remove it to have one generated");
    }
    s.agent_id = *guid;
  }
  if (s.display_name.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) == 0) s.display_name = host;
  }
  return Status::Ok();
}

// Applies one "--set Key=Value" to the JSON object before it is parsed, so
// overrides get the same checks as the file.
Status ApplyOverride(json& root, std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Status::InvalidArgument("--set '" + std::string(text) +
                                   "' must look like Key=Value, e.g. MaxTaskCount=4");
  }
  const std::string key = Trim(text.substr(0, eq));
  const std::string value(text.substr(eq + 1));
  if (key.rfind("Plugins.", 0) == 0) {
    if (!root.contains("Plugins") || !root["Plugins"].is_object()) root["Plugins"] = json::object();
    root["Plugins"][key.substr(8)] = value;
    return Status::Ok();
  }
  if (key.rfind("PluginSettings.", 0) == 0) {
    const std::string rest = key.substr(15);
    const auto last_dot = rest.rfind('.');
    if (last_dot == std::string::npos || rest.find('.') == last_dot) {
      return Status::InvalidArgument("--set '" + key +
                                     "' must look like PluginSettings.<kind>.<name>.<Key>=Value");
    }
    if (!root.contains("PluginSettings") || !root["PluginSettings"].is_object()) {
      root["PluginSettings"] = json::object();
    }
    json& section = root["PluginSettings"][rest.substr(0, last_dot)];
    if (!section.is_object()) section = json::object();
    section[rest.substr(last_dot + 1)] = value;
    return Status::Ok();
  }
  if (key == "MasterEndpoints") {
    root[key] = SplitList(value);
    return Status::Ok();
  }
  if (std::find(kKnownKeys.begin(), kKnownKeys.end(), key) == kKnownKeys.end()) {
    return Status::InvalidArgument("unknown setting '" + key +
                                   "' in --set; known settings: " + JoinList(kKnownKeys));
  }
  root[key] = value;
  return Status::Ok();
}

std::string ResolvePath(const std::string& path, const fs::path& base) {
  if (path.empty()) return path;
  fs::path p(path);
  if (p.is_relative()) p = base / p;
  return p.lexically_normal().string();
}

// Reads or creates <data dir>/agent-id. The file holds one GUID line.
Status ResolveAgentId(WorkerSettings& s) {
  if (!s.agent_id.empty()) return Status::Ok();
  const fs::path file = fs::path(s.data_dir) / kAgentIdFile;
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    // Exclusively: two first starts at once must not keep two identities.
    const std::string id = NewGuid();
    Status written = WriteFileExclusively(file, id + "\n");
    if (written.ok()) {
      s.agent_id = id;
      return Status::Ok();
    }
    if (written.code() != sdk::StatusCode::kAlreadyExists) return written;
  }
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  auto guid = NormalizeGuid(Trim(line));
  if (!guid) {
    return Status::DataLoss("the agent id file " + file.string() + " does not hold a GUID ('" +
                            line + "'); restore it, or set 'AgentId' in the settings file");
  }
  s.agent_id = *guid;
  return Status::Ok();
}

}  // namespace

const sdk::ConfigView::Map& WorkerSettings::PluginSection(std::string_view section) const {
  static const sdk::ConfigView::Map kEmpty;
  auto it = plugin_settings.find(section);
  return it == plugin_settings.end() ? kEmpty : it->second;
}

Result<Millis> ParseTimeSpan(std::string_view text) {
  const std::string original(text);
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(
        "'" + original + "' is not a TimeSpan ([d.]hh:mm:ss[.fffffff]): " + std::string(why));
  };
  auto digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (text.empty()) return bad("empty");
  if (text.front() == '-') return bad("negative values are not allowed");
  const auto first_colon = text.find(':');
  if (first_colon == std::string_view::npos) return bad("missing ':'");
  // Days: "d." before the hours.
  std::int64_t days = 0;
  std::string_view rest = text;
  const auto day_dot = text.substr(0, first_colon).find('.');
  if (day_dot != std::string_view::npos) {
    std::string_view d = text.substr(0, day_dot);
    if (!digits(d) || d.size() > 8) return bad("days must be digits");
    std::from_chars(d.data(), d.data() + d.size(), days);
    rest = text.substr(day_dot + 1);
  }
  // hh:mm:ss[.fraction]
  const auto c1 = rest.find(':');
  const auto c2 = rest.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return bad("expected hh:mm:ss");
  if (rest.find(':', c2 + 1) != std::string_view::npos) return bad("too many ':'");
  std::string_view hh = rest.substr(0, c1);
  std::string_view mm = rest.substr(c1 + 1, c2 - c1 - 1);
  std::string_view ss = rest.substr(c2 + 1);
  std::string_view frac;
  if (auto dot = ss.find('.'); dot != std::string_view::npos) {
    frac = ss.substr(dot + 1);
    ss = ss.substr(0, dot);
    if (!digits(frac) || frac.size() > 7) return bad("the fraction must be 1 to 7 digits");
  }
  if (!digits(hh) || hh.size() > 2 || !digits(mm) || mm.size() != 2 || !digits(ss) ||
      ss.size() != 2) {
    return bad("expected two-digit fields");
  }
  int h = 0, m = 0, sec = 0;
  std::from_chars(hh.data(), hh.data() + hh.size(), h);
  std::from_chars(mm.data(), mm.data() + mm.size(), m);
  std::from_chars(ss.data(), ss.data() + ss.size(), sec);
  if (h > 23) return bad("hours must be 0-23 (use d.hh:mm:ss for days)");
  if (m > 59 || sec > 59) return bad("minutes and seconds must be 0-59");
  std::int64_t ms = 0;
  if (!frac.empty()) {
    std::string f(frac.substr(0, std::min<std::size_t>(3, frac.size())));
    while (f.size() < 3) f += '0';
    std::from_chars(f.data(), f.data() + f.size(), ms);
  }
  return Millis(((days * 24 + h) * 60 + m) * 60'000LL + sec * 1000LL + ms);
}

std::string FormatTimeSpan(Millis value) {
  std::int64_t ms = value.count();
  const std::int64_t days = ms / 86'400'000;
  ms %= 86'400'000;
  char buffer[64];
  const int h = static_cast<int>(ms / 3'600'000);
  const int m = static_cast<int>(ms / 60'000 % 60);
  const int s = static_cast<int>(ms / 1000 % 60);
  const int f = static_cast<int>(ms % 1000);
  int n = 0;
  if (days > 0) {
    n = std::snprintf(buffer, sizeof(buffer), "%lld.", static_cast<long long>(days));
  }
  n += std::snprintf(buffer + n, sizeof(buffer) - n, "%02d:%02d:%02d", h, m, s);
  if (f != 0) std::snprintf(buffer + n, sizeof(buffer) - n, ".%03d", f);
  return buffer;
}

Result<WorkerSettings> ParseWorkerSettings(std::string_view text, std::string_view source,
                                           const std::vector<std::string>& overrides) {
  json root;
  try {
    root = text.empty() ? json::object() : json::parse(text);
  } catch (const json::parse_error& e) {
    return Status::InvalidArgument(std::string(source) + " is not valid JSON: " + e.what());
  }
  if (!root.is_object()) {
    return Status::InvalidArgument(std::string(source) +
                                   " must hold a JSON object such as {\"MasterEndpoint\": ...}");
  }
  SCALEOUT_RETURN_IF_ERROR(CheckKnownKeys(root, source));
  for (const auto& o : overrides) SCALEOUT_RETURN_IF_ERROR(ApplyOverride(root, o));

  WorkerSettings s;
  const std::string where = std::string(source) + (overrides.empty() ? "" : " (with --set)");
  Reader r(root, where);
  SCALEOUT_RETURN_IF_ERROR(ParseStrings(r, s));
  SCALEOUT_RETURN_IF_ERROR(ParseEndpoints(r, root, s));
  SCALEOUT_RETURN_IF_ERROR(ParseThumbprints(r, s));
  SCALEOUT_RETURN_IF_ERROR(ParseTimes(r, s));
  SCALEOUT_RETURN_IF_ERROR(ParseNumbers(r, s));
  SCALEOUT_RETURN_IF_ERROR(ParsePlugins(r, where, s));
  return s;
}

Result<WorkerSettings> LoadWorkerSettings(const LoadOptions& options) {
  if (options.settings_file.empty()) {
    return Status::InvalidArgument(
        "no settings file given; pass --config FILE "
        "(write one with 'scaleout worker --print-defaults')");
  }
  std::error_code ec;
  const fs::path file = fs::absolute(options.settings_file, ec).lexically_normal();
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Status::NotFound("cannot read the settings file " + file.string() +
                            "; create one with 'scaleout worker --print-defaults > " +
                            file.filename().string() + "'");
  }
  std::stringstream text;
  text << in.rdbuf();
  SCALEOUT_ASSIGN_OR_RETURN(WorkerSettings s,
                            ParseWorkerSettings(text.str(), file.string(), options.overrides));

  const fs::path base = file.parent_path();
  s.settings_file = file.string();
  s.data_dir =
      options.data_dir.empty() ? base.string() : ResolvePath(options.data_dir, fs::current_path());
  const fs::path data(s.data_dir);
  s.agent_log_folder = (data / "Agent").string();
  s.project_cache_folder = (data / "Projects").string();
  s.tasks_root_folder = s.tasks_root_folder.empty() ? (data / "Tasks").string()
                                                    : ResolvePath(s.tasks_root_folder, base);
  s.execution_log_cache_folder = s.execution_log_cache_folder.empty()
                                     ? (data / "Agent" / "ELogCache").string()
                                     : ResolvePath(s.execution_log_cache_folder, base);
  s.worker_cert_file = ResolvePath(s.worker_cert_file, base);
  s.worker_key_file = ResolvePath(s.worker_key_file, base);
  s.plugins.directory = ResolvePath(s.plugins.directory, base);

  if (options.create_folders) {
    for (const std::string& dir : {s.data_dir, s.agent_log_folder, s.tasks_root_folder,
                                   s.execution_log_cache_folder, s.project_cache_folder}) {
      fs::create_directories(dir, ec);
      if (ec) {
        return Status::FailedPrecondition("cannot create the folder " + dir + ": " + ec.message() +
                                          "; check --data-dir and its permissions");
      }
    }
  }
  SCALEOUT_RETURN_IF_ERROR(ResolveAgentId(s));
  return s;
}

sdk::Status CheckReadyToRun(const WorkerSettings& s) {
  if (s.master_endpoints.empty()) {
    return Status::InvalidArgument(
        "'MasterEndpoint' is not set; set it to the master's URL, e.g. https://master:8391");
  }
  for (const auto& endpoint : s.master_endpoints) {
    if (endpoint.rfind("https://", 0) != 0) continue;
    if (s.master_https_cert_thumbprints.empty()) {
      return Status::InvalidArgument(
          "'MasterHttpsCertThumbprint' is not set, so the worker cannot trust " + endpoint +
          "; set it to the master certificate's thumbprint ('scaleout cert thumbprint "
          "master.crt')");
    }
    for (const auto& pin : s.master_https_cert_thumbprints) {
      if (!NormalizeThumbprint(pin, 64) && !NormalizeThumbprint(pin, 40)) {
        return Status::InvalidArgument("'MasterHttpsCertThumbprint' value '" + pin +
                                       "' is not a SHA-256 (64 hex digits) or SHA-1 (40) "
                                       "thumbprint");
      }
    }
    if (s.worker_cert_file.empty() || s.worker_key_file.empty()) {
      return Status::InvalidArgument(
          "'WorkerCertFile' and 'WorkerKeyFile' must name the worker's PEM certificate and key "
          "for an https master; create them with 'scaleout cert create'");
    }
  }
  if (s.agent_id.empty()) {
    return Status::FailedPrecondition("no AgentId: load the settings with LoadWorkerSettings");
  }
  return Status::Ok();
}

std::string DefaultSettingsJson() {
  const WorkerSettings d;
  json out = json::object();
  // nlohmann::json sorts keys; SSIS order would be nicer but keys are unique
  // and the file is for humans to edit, so sorted is fine.
  out["DisplayName"] = "";
  out["Description"] = "";
  out["MasterEndpoint"] = "";
  out["MasterEndpoints"] = json::array();
  out["MasterHttpsCertThumbprint"] = "";
  out["WorkerHttpsCertThumbprint"] = "";
  out["StoreLocation"] = d.store_location;
  out["StoreName"] = d.store_name;
  out["WorkerCertFile"] = "";
  out["WorkerKeyFile"] = "";
  out["AgentHeartbeatInterval"] = FormatTimeSpan(d.agent_heartbeat_interval);
  out["TaskHeartbeatInterval"] = FormatTimeSpan(d.task_heartbeat_interval);
  out["HeartbeatErrorTolerance"] = FormatTimeSpan(d.heartbeat_error_tolerance);
  out["TaskRequestMaxCPU"] = d.task_request_max_cpu;
  out["TaskRequestMinMemory"] = d.task_request_min_memory_mb;
  out["MaxTaskCount"] = d.max_task_count;
  out["LeaseInterval"] = FormatTimeSpan(d.lease_interval);
  out["TasksRootFolder"] = "";
  out["TaskLogLevel"] = d.task_log_level;
  out["TaskLogSegment"] = FormatTimeSpan(d.task_log_segment);
  out["TaskLogEnabled"] = d.task_log_enabled;
  out["TaskFolderRetention"] = FormatTimeSpan(d.task_folder_retention);
  out["ProjectCacheRetention"] = FormatTimeSpan(d.project_cache_retention);
  out["ExecutionLogCacheFolder"] = "";
  out["ExecutionLogMaxBufferLogCount"] = d.execution_log_max_buffer_log_count;
  out["ExecutionLogMaxInMemoryBufferCount"] = d.execution_log_max_in_memory_buffer_count;
  out["ExecutionLogRetryCount"] = d.execution_log_retry_count;
  out["ExecutionLogRetryTimeout"] = FormatTimeSpan(d.execution_log_retry_timeout);
  out["AgentId"] = "";
  out["Plugins"] = {
      {"Directory", ""}, {"Transport", d.plugins.transport}, {"Executor", d.plugins.executor}};
  out["PluginSettings"] = json::object();
  return out.dump(2) + "\n";
}

const std::vector<std::string>& KnownSettingKeys() { return kKnownKeys; }

}  // namespace scaleout::core::worker
