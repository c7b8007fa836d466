// WorkerSettings: the worker's configuration (SSIS WorkerSettings.config).
//
// SSIS keeps these settings in XML; scaleout reads a JSON object with the same
// key names and defaults (reference table 2.2), plus a few keys of its own:
// `MasterEndpoints` (failover list), `WorkerCertFile`/`WorkerKeyFile` (PEM
// files instead of the Windows certificate store), `Plugins` and
// `PluginSettings`. Time values are .NET TimeSpans ("hh:mm:ss",
// "d.hh:mm:ss", optional ".fffffff"). Every unknown key or bad value is an
// error that names the key.
//
// Identity: `AgentId` is generated on first start and kept in the state file
// `<data dir>/agent-id` (written atomically); an `AgentId` in the settings
// file wins over it.
//
// Thread-safety: plain values; the functions touch only their arguments and
// the files they name.
#ifndef SCALEOUT_CORE_WORKER_SETTINGS_H_
#define SCALEOUT_CORE_WORKER_SETTINGS_H_

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/config.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::worker {

using Millis = std::chrono::milliseconds;

// Which plugins the worker loads and uses (settings key `Plugins`).
struct PluginSelection {
  std::string directory;             // "" means the host's default plugin folder
  std::string transport = "https";   // transport/<name> used to reach the master
  std::string executor = "process";  // executor/<name> when a task names none
};

struct WorkerSettings {
  // --- SSIS keys (table 2.2), with their SSIS defaults ---
  std::string display_name;  // default: the machine's host name
  std::string description;
  // `MasterEndpoint` (one URL, or a comma-separated list) first, then every
  // `MasterEndpoints` entry; duplicates dropped; tried in order (failover).
  std::vector<std::string> master_endpoints;
  // Pins for the master (normalized uppercase hex for certificates); a
  // comma-separated `MasterHttpsCertThumbprint` gives several (rotation).
  std::vector<std::string> master_https_cert_thumbprints;
  std::string worker_https_cert_thumbprint;
  std::string store_location = "LocalMachine";  // accepted for SSIS compatibility; unused
  std::string store_name = "My";                // accepted for SSIS compatibility; unused
  Millis agent_heartbeat_interval{60'000};
  Millis task_heartbeat_interval{10'000};
  Millis heartbeat_error_tolerance{600'000};
  double task_request_max_cpu = 70.0;         // percent
  double task_request_min_memory_mb = 100.0;  // MB of available memory
  int max_task_count = 10;
  Millis lease_interval{60'000};
  std::string tasks_root_folder;  // "" until resolved: <data dir>/Tasks
  int task_log_level = 126;
  Millis task_log_segment{0};
  bool task_log_enabled = true;
  std::string execution_log_cache_folder;  // "" until resolved: <data dir>/Agent/ELogCache
  int execution_log_max_buffer_log_count = 10'000;
  int execution_log_max_in_memory_buffer_count = 10;
  int execution_log_retry_count = 3;
  Millis execution_log_retry_timeout{7LL * 24 * 3600 * 1000};
  std::string agent_id;  // canonical uppercase GUID once resolved

  // --- scaleout keys ---
  std::string worker_cert_file;  // PEM certificate presented to the master
  std::string worker_key_file;   // PEM private key (mode 0600)
  // `TaskFolderRetention`: an ended task's folder in TasksRootFolder is
  // removed once it has not changed for this long; 0 keeps them all.
  Millis task_folder_retention{7LL * 24 * 3600 * 1000};
  // `ProjectCacheRetention`: a cached project version (Projects/) no task
  // has used for this long is removed; 0 keeps them all.
  Millis project_cache_retention{7LL * 24 * 3600 * 1000};
  PluginSelection plugins;
  // `PluginSettings`: one string map per plugin section ("transport.https").
  std::map<std::string, sdk::ConfigView::Map, std::less<>> plugin_settings;

  // --- resolved by LoadWorkerSettings (not keys) ---
  std::string settings_file;         // absolute path of the file read, "" when none
  std::string data_dir;              // --data-dir, default the settings file's folder
  std::string agent_log_folder;      // <data dir>/Agent
  std::string project_cache_folder;  // <data dir>/Projects

  // The worker kills a task this long before its lease would expire on the
  // master when it could not renew it: a third of LeaseInterval.
  Millis lease_safety_margin() const { return lease_interval / 3; }

  // The section for `section` ("transport.https"); an empty map when absent.
  const sdk::ConfigView::Map& PluginSection(std::string_view section) const;
};

// Parses a .NET TimeSpan in its invariant form: [d.]hh:mm:ss[.f{1,7}], with
// hh 0-23 and mm, ss 0-59. Negative values are refused. Fractions below a
// millisecond are truncated.
sdk::Result<Millis> ParseTimeSpan(std::string_view text);

// Formats as "hh:mm:ss", "d.hh:mm:ss" or with ".fff" when there are ms.
std::string FormatTimeSpan(Millis value);

// Parses the settings JSON `text` and applies `overrides` ("Key=Value",
// "Plugins.Transport=zmq", "PluginSettings.transport.https.Key=Value") on top.
// `source` names the text in errors (a file name). Folders are left
// unresolved and AgentId is not generated: see LoadWorkerSettings.
sdk::Result<WorkerSettings> ParseWorkerSettings(std::string_view text, std::string_view source,
                                                const std::vector<std::string>& overrides = {});

struct LoadOptions {
  std::string settings_file;           // required
  std::vector<std::string> overrides;  // --set Key=Value, applied in order
  std::string data_dir;                // "" means the settings file's folder
  bool create_folders = true;          // create data dir, Agent/, Tasks/, ELogCache/
};

// Reads and parses the settings file, resolves every folder (relative paths
// are relative to the settings file's folder), creates the folders, and
// resolves the AgentId (settings key, else <data dir>/agent-id, else a new
// GUID written there atomically so the worker keeps its identity).
sdk::Result<WorkerSettings> LoadWorkerSettings(const LoadOptions& options);

// Checks what only matters when the agent is about to run: an endpoint to
// reach, a pin for an https master, and so on. Each error names the key.
sdk::Status CheckReadyToRun(const WorkerSettings& settings);

// A settings file with every key at its default value (`--print-defaults`).
std::string DefaultSettingsJson();

// Every top-level key the settings file may hold, both spellings included.
const std::vector<std::string>& KnownSettingKeys();

}  // namespace scaleout::core::worker

#endif  // SCALEOUT_CORE_WORKER_SETTINGS_H_
