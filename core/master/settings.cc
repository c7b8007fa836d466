#include "core/master/settings.h"

#include <sys/stat.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/common/ascii.h"

namespace scaleout::core::master {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

sdk::Status Bad(std::string_view key, std::string_view what) {
  return sdk::Status::InvalidArgument("setting '" + std::string(key) + "' " + std::string(what));
}

sdk::Status ReadInt(const json& value, std::string_view key, std::int64_t min, std::int64_t max,
                    std::int64_t* out) {
  std::int64_t v = 0;
  if (value.is_number_integer()) {
    v = value.get<std::int64_t>();
  } else if (value.is_string()) {
    const std::string text = value.get<std::string>();
    std::size_t used = 0;
    try {
      v = std::stoll(text, &used);
    } catch (...) {
      used = 0;
    }
    if (used == 0 || used != text.size()) return Bad(key, "must be an integer, got '" + text + "'");
  } else {
    return Bad(key, "must be an integer, got " + value.dump());
  }
  if (v < min || v > max) {
    return Bad(key, "must be " + std::to_string(min) + ".." + std::to_string(max) + ", got " +
                        std::to_string(v));
  }
  *out = v;
  return sdk::Status::Ok();
}

sdk::Status ReadString(const json& value, std::string_view key, std::string* out) {
  if (!value.is_string()) return Bad(key, "must be a string, got " + value.dump());
  *out = value.get<std::string>();
  return sdk::Status::Ok();
}

std::string ResolvePath(const std::string& path, const fs::path& base_dir) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (base_dir / path).lexically_normal().string();
}

// A plugin section: an object whose values are scalars, kept as strings.
sdk::Status ReadSection(const json& value, std::string_view key, sdk::ConfigView::Map* out) {
  if (!value.is_object()) return Bad(key, "must be an object of settings");
  for (const auto& [k, v] : value.items()) {
    if (v.is_string()) {
      (*out)[k] = v.get<std::string>();
    } else if (v.is_number() || v.is_boolean()) {
      (*out)[k] = v.dump();
    } else {
      return Bad(std::string(key) + "." + k, "must be a string, number or boolean");
    }
  }
  return sdk::Status::Ok();
}

using Handler = std::function<sdk::Status(const json&, MasterSettings*)>;

Handler Int(std::int64_t MasterSettings::*field, const std::string& key, std::int64_t min,
            std::int64_t max) {
  return [=](const json& v, MasterSettings* s) { return ReadInt(v, key, min, max, &(s->*field)); };
}

Handler SmallInt(int MasterSettings::*field, const std::string& key, int min, int max) {
  return [=](const json& v, MasterSettings* s) {
    std::int64_t out = 0;
    SCALEOUT_RETURN_IF_ERROR(ReadInt(v, key, min, max, &out));
    s->*field = static_cast<int>(out);
    return sdk::Status::Ok();
  };
}

Handler Str(std::string MasterSettings::*field, const std::string& key) {
  return [=](const json& v, MasterSettings* s) { return ReadString(v, key, &(s->*field)); };
}

const std::map<std::string, Handler, std::less<>>& TopLevelHandlers() {
  static const auto* handlers = new std::map<std::string, Handler, std::less<>>{
      {"PortNumber", SmallInt(&MasterSettings::port_number, "PortNumber", 0, 65535)},
      {"SSLCertThumbprint", Str(&MasterSettings::ssl_cert_thumbprint, "SSLCertThumbprint")},
      {"SqlServerName", Str(&MasterSettings::sql_server_name, "SqlServerName")},
      {"CleanupCompletedJobsIntervalInMs",
       Int(&MasterSettings::cleanup_completed_jobs_interval_ms, "CleanupCompletedJobsIntervalInMs",
           1, INT64_C(31'536'000'000))},
      {"DealWithExpiredTasksIntervalInMs",
       Int(&MasterSettings::deal_with_expired_tasks_interval_ms, "DealWithExpiredTasksIntervalInMs",
           1, INT64_C(86'400'000))},
      {"MasterHeartbeatIntervalInMs", Int(&MasterSettings::master_heartbeat_interval_ms,
                                          "MasterHeartbeatIntervalInMs", 1, INT64_C(86'400'000))},
      {"SqlConnectionTimeoutInSecs", SmallInt(&MasterSettings::sql_connection_timeout_secs,
                                              "SqlConnectionTimeoutInSecs", 1, 3600)},
      {"BindAddress", Str(&MasterSettings::bind_address, "BindAddress")},
      {"SSLCertFile", Str(&MasterSettings::ssl_cert_file, "SSLCertFile")},
      {"SSLKeyFile", Str(&MasterSettings::ssl_key_file, "SSLKeyFile")},
      {"MasterAddress", Str(&MasterSettings::master_address, "MasterAddress")},
      {"WorkerOfflineTimeoutInMs", Int(&MasterSettings::worker_offline_timeout_ms,
                                       "WorkerOfflineTimeoutInMs", 1, INT64_C(86'400'000))},
      {"RestartGracePeriodInMs", Int(&MasterSettings::restart_grace_period_ms,
                                     "RestartGracePeriodInMs", 0, INT64_C(86'400'000))},
      {"MaxLongPollInMs",
       Int(&MasterSettings::max_long_poll_ms, "MaxLongPollInMs", 0, INT64_C(600'000))},
      {"LeaseIntervalInMs",
       Int(&MasterSettings::lease_interval_ms, "LeaseIntervalInMs", 100, INT64_C(86'400'000))},
      {"MaxRequestBytes",
       Int(&MasterSettings::max_request_bytes, "MaxRequestBytes", 1024, INT64_C(1) << 30)},
      {"MaxConnections",
       SmallInt(&MasterSettings::max_connections, "MaxConnections", 1, 1'000'000)},
      {"GroupCommitMaxBatch",
       SmallInt(&MasterSettings::group_commit_max_batch, "GroupCommitMaxBatch", 1, 100'000)},
      {"ServerMaxTaskCount",
       SmallInt(&MasterSettings::server_max_task_count, "ServerMaxTaskCount", 0, 1'000)},
      {"LogFolder", Str(&MasterSettings::log_folder, "LogFolder")},
      {"LogLevel", Str(&MasterSettings::log_level, "LogLevel")},
      {"DataDir", Str(&MasterSettings::data_dir, "DataDir")},
      {"CatalogEncryptionKeyFile",
       Str(&MasterSettings::catalog_encryption_key_file, "CatalogEncryptionKeyFile")},
      {"Plugins",
       [](const json& v, MasterSettings* s) -> sdk::Status {
         if (!v.is_object()) return Bad("Plugins", "must be an object");
         for (const auto& [k, item] : v.items()) {
           std::string* target = nullptr;
           if (k == "Directory") target = &s->plugin_dir;
           if (k == "Transport") target = &s->transport;
           if (k == "Storage") target = &s->storage;
           if (k == "Executor") target = &s->executor;
           if (target == nullptr) {
             return Bad("Plugins." + k,
                        "is not a known setting (known: Directory, Transport, "
                        "Storage, Executor)");
           }
           SCALEOUT_RETURN_IF_ERROR(ReadString(item, "Plugins." + k, target));
         }
         return sdk::Status::Ok();
       }},
      {"PluginSettings",
       [](const json& v, MasterSettings* s) -> sdk::Status {
         if (!v.is_object()) return Bad("PluginSettings", "must be an object");
         for (const auto& [k, section] : v.items()) {
           if (k.find('.') == std::string::npos) {
             return Bad("PluginSettings." + k, "must be named kind.name, e.g. storage.sqlite");
           }
           SCALEOUT_RETURN_IF_ERROR(
               ReadSection(section, "PluginSettings." + k, &s->plugin_sections[k]));
         }
         return sdk::Status::Ok();
       }},
  };
  return *handlers;
}

std::string KnownKeys() {
  std::string out;
  for (const auto& [k, h] : TopLevelHandlers()) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

// Sets `path` ("Plugins.Storage", "PluginSettings.storage.sqlite.path") in
// `doc`. Plugin section names contain a dot themselves, so the section name
// is the two components after "PluginSettings".
sdk::Status ApplyOverride(const std::string& assignment, json* doc) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    return sdk::Status::InvalidArgument("override '" + assignment +
                                        "' must look like Key=Value (e.g. PortNumber=8391)");
  }
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  std::vector<std::string> parts;
  std::stringstream stream(path);
  for (std::string part; std::getline(stream, part, '.');) parts.push_back(part);
  if (parts.size() >= 3 && parts[0] == "PluginSettings") {
    std::string section = parts[1] + "." + parts[2];
    std::string key;
    for (std::size_t i = 3; i < parts.size(); ++i) key += (key.empty() ? "" : ".") + parts[i];
    if (key.empty()) return Bad(path, "needs a key: PluginSettings.kind.name.key=value");
    (*doc)["PluginSettings"][section][key] = text;
    return sdk::Status::Ok();
  }
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || value.is_object() || value.is_array()) value = text;
  json* node = doc;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) node = &(*node)[parts[i]];
  (*node)[parts.back()] = value;
  return sdk::Status::Ok();
}

}  // namespace

const sdk::ConfigView::Map& MasterSettings::SectionFor(std::string_view kind,
                                                       std::string_view name) const {
  static const sdk::ConfigView::Map kEmpty;
  auto it = plugin_sections.find(std::string(kind) + "." + std::string(name));
  return it == plugin_sections.end() ? kEmpty : it->second;
}

sdk::Result<MasterSettings> ParseMasterSettings(std::string_view json_text,
                                                const fs::path& base_dir,
                                                const std::vector<std::string>& overrides) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (doc.is_discarded()) {
    return sdk::Status::InvalidArgument(
        "the master settings are not valid JSON; check for a missing comma or quote "
        "(see 'scaleout master --print-defaults' for a correct file)");
  }
  if (!doc.is_object())
    return sdk::Status::InvalidArgument("the master settings must be a JSON object");
  for (const std::string& assignment : overrides) {
    SCALEOUT_RETURN_IF_ERROR(ApplyOverride(assignment, &doc));
  }
  MasterSettings settings;
  for (const auto& [key, value] : doc.items()) {
    auto it = TopLevelHandlers().find(key);
    if (it == TopLevelHandlers().end()) {
      return sdk::Status::InvalidArgument("unknown setting '" + key +
                                          "'; known settings: " + KnownKeys());
    }
    SCALEOUT_RETURN_IF_ERROR(it->second(value, &settings));
  }
  if (settings.data_dir.empty()) settings.data_dir = base_dir.string();
  settings.data_dir = ResolvePath(settings.data_dir, base_dir);
  if (settings.log_folder.empty())
    settings.log_folder = (fs::path(settings.data_dir) / "Master").string();
  settings.log_folder = ResolvePath(settings.log_folder, base_dir);
  if (settings.catalog_encryption_key_file.empty()) {
    settings.catalog_encryption_key_file =
        (fs::path(settings.data_dir) / "catalog-encryption.key").string();
  }
  settings.catalog_encryption_key_file =
      ResolvePath(settings.catalog_encryption_key_file, base_dir);
  settings.ssl_cert_file = ResolvePath(settings.ssl_cert_file, base_dir);
  settings.ssl_key_file = ResolvePath(settings.ssl_key_file, base_dir);
  settings.plugin_dir = ResolvePath(settings.plugin_dir, base_dir);
  // Storage paths in plugin sections are relative to the config file too.
  for (auto& [section, values] : settings.plugin_sections) {
    auto path = values.find("path");
    if (section.rfind("storage.", 0) == 0 && path != values.end()) {
      path->second = ResolvePath(path->second, base_dir);
    }
  }
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  bool level_ok = false;
  for (const char* l : kLevels) level_ok = level_ok || settings.log_level == l;
  if (!level_ok) {
    return Bad("LogLevel", "must be one of trace, debug, info, warn, error, critical, off; got '" +
                               settings.log_level + "'");
  }
  return settings;
}

sdk::Result<MasterSettings> LoadMasterSettings(const fs::path& file,
                                               const std::vector<std::string>& overrides) {
  std::ifstream in(file);
  if (!in) {
    return sdk::Status::NotFound("cannot read master settings file '" + file.string() +
                                 "'; create one with 'scaleout master --print-defaults > " +
                                 file.string() + "'");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto settings = ParseMasterSettings(buffer.str(), fs::absolute(file).parent_path(), overrides);
  if (!settings.ok()) return settings.status().WithContext(file.string());
  return settings;
}

namespace {

// A setting naming a file (a key file's path) is not itself a secret.
bool LooksSecret(std::string_view key, std::string_view value) {
  const std::string k = AsciiLower(key);
  const std::string v = AsciiLower(value);
  const bool names_a_file = k.ends_with("file") || k.ends_with("path") || k.ends_with("dir");
  const bool secret_key = k.find("password") != std::string::npos ||
                          k.find("secret") != std::string::npos ||
                          k.find("token") != std::string::npos;
  return (secret_key && !names_a_file) || v.find("pwd=") != std::string::npos ||
         v.find("password=") != std::string::npos;
}

}  // namespace

std::vector<std::string> SecretLookingSettings(const MasterSettings& settings) {
  std::vector<std::string> names;
  for (const auto& [section, values] : settings.plugin_sections) {
    for (const auto& [key, value] : values) {
      if (!LooksSecret(key, value)) continue;
      std::string name = "PluginSettings.";
      name.append(section).append(".").append(key);
      names.push_back(std::move(name));
    }
  }
  return names;
}

std::optional<std::string> ReadableSecretsWarning(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || (st.st_mode & S_IROTH) == 0) return std::nullopt;
  auto settings = LoadMasterSettings(file);
  if (!settings.ok()) return std::nullopt;
  const std::vector<std::string> names = SecretLookingSettings(*settings);
  if (names.empty()) return std::nullopt;
  std::string listed;
  for (const std::string& name : names) listed += (listed.empty() ? "" : ", ") + name;
  return "the settings file '" + file.string() +
         "' can be read by every account on this machine and holds what looks like a secret (" +
         listed +
         "); packages run as another account (run_as_user) could read it: run 'chmod o-r " +
         file.string() + "'";
}

std::string DefaultMasterSettingsJson() {
  MasterSettings d;
  json doc = {
      {"PortNumber", d.port_number},
      {"SSLCertThumbprint", ""},
      {"SSLCertFile", "master.crt"},
      {"SSLKeyFile", "master.key"},
      {"SqlServerName", ""},
      {"CleanupCompletedJobsIntervalInMs", d.cleanup_completed_jobs_interval_ms},
      {"DealWithExpiredTasksIntervalInMs", d.deal_with_expired_tasks_interval_ms},
      {"MasterHeartbeatIntervalInMs", d.master_heartbeat_interval_ms},
      {"SqlConnectionTimeoutInSecs", d.sql_connection_timeout_secs},
      {"BindAddress", d.bind_address},
      {"MasterAddress", ""},
      {"WorkerOfflineTimeoutInMs", d.worker_offline_timeout_ms},
      {"RestartGracePeriodInMs", d.restart_grace_period_ms},
      {"MaxLongPollInMs", d.max_long_poll_ms},
      {"LeaseIntervalInMs", d.lease_interval_ms},
      {"MaxRequestBytes", d.max_request_bytes},
      {"MaxConnections", d.max_connections},
      {"GroupCommitMaxBatch", d.group_commit_max_batch},
      {"ServerMaxTaskCount", d.server_max_task_count},
      {"LogLevel", d.log_level},
      {"Plugins", {{"Transport", d.transport}, {"Storage", d.storage}, {"Executor", d.executor}}},
      {"PluginSettings",
       {{"storage.sqlite", {{"path", "catalog.db"}, {"synchronous", "FULL"}}},
        {"transport.https", {{"threads", "2"}}}}},
  };
  return doc.dump(2) + "\n";
}

}  // namespace scaleout::core::master
