// MasterSettings: the master's configuration file.
//
// SSIS keeps these in MasterSettings.config (XML); ours is JSON with the same
// key names and defaults (reference table 2.1), plus the keys SSIS needs no
// file for (certificate files instead of the Windows store, the plugin set,
// each plugin's section). Unknown keys are refused so that a typo is an
// error, not a silently ignored setting.
//
//   {
//     "PortNumber": 8391,
//     "SSLCertFile": "master.crt", "SSLKeyFile": "master.key",
//     "Plugins": {"Transport": "https", "Storage": "sqlite"},
//     "PluginSettings": {"storage.sqlite": {"path": "catalog.db"}}
//   }
#ifndef SCALEOUT_CORE_MASTER_SETTINGS_H_
#define SCALEOUT_CORE_MASTER_SETTINGS_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/config.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::master {

struct MasterSettings {
  // --- SSIS MasterSettings.config keys (table 2.1), with SSIS defaults ---
  int port_number = 8391;           // PortNumber
  std::string ssl_cert_thumbprint;  // SSLCertThumbprint (checked against the file)
  std::string sql_server_name;      // SqlServerName (informational; storage plugins connect)
  std::int64_t cleanup_completed_jobs_interval_ms = 43'200'000;  // CleanupCompletedJobsIntervalInMs
  std::int64_t deal_with_expired_tasks_interval_ms = 300'000;    // DealWithExpiredTasksIntervalInMs
  std::int64_t master_heartbeat_interval_ms = 30'000;            // MasterHeartbeatIntervalInMs
  int sql_connection_timeout_secs = 15;                          // SqlConnectionTimeoutInSecs

  // --- scaleout keys ---
  std::string bind_address = "0.0.0.0";  // BindAddress
  std::string ssl_cert_file;             // SSLCertFile: PEM certificate of the master
  std::string ssl_key_file;              // SSLKeyFile: PEM private key (mode 0600)
  std::string master_address;            // MasterAddress: how workers reach us (master_properties)
  // A worker whose last heartbeat is older than this is offline (SSIS does
  // not document the rule; 3 agent heartbeats of 1 min is the inference).
  std::int64_t worker_offline_timeout_ms = 180'000;  // WorkerOfflineTimeoutInMs
  // After a restart, leases are not expired for this long, so workers that
  // were running tasks can reconnect and renew instead of all expiring at once.
  std::int64_t restart_grace_period_ms = 60'000;  // RestartGracePeriodInMs
  // Longest a request for work may wait on the master (long-poll).
  std::int64_t max_long_poll_ms = 30'000;  // MaxLongPollInMs
  // The lease a worker holds on a task; renewed by task heartbeats. Workers
  // are told this value and kill a package they cannot renew in time.
  std::int64_t lease_interval_ms = 60'000;   // LeaseIntervalInMs
  std::int64_t max_request_bytes = 8 << 20;  // MaxRequestBytes
  int max_connections = 1024;                // MaxConnections
  int group_commit_max_batch = 512;          // GroupCommitMaxBatch
  // Server mode: how many executions with runinscaleout = 0 the master runs
  // at once on its own task host (SSIS MaxTaskCount, for the master); 0
  // turns server mode off (such executions then wait).
  int server_max_task_count = 4;   // ServerMaxTaskCount
  std::string log_folder;          // LogFolder (default <data dir>/Master)
  std::string log_level = "info";  // LogLevel
  std::string data_dir;            // DataDir (default: the config file's folder)
  // The key that seals the catalog's sensitive values (made on first start;
  // back it up with the catalog). Default <data dir>/catalog-encryption.key.
  std::string catalog_encryption_key_file;  // CatalogEncryptionKeyFile

  // --- plugins ---
  std::string plugin_dir;            // Plugins.Directory (default: the host's plugin folder)
  std::string transport = "https";   // Plugins.Transport
  std::string storage = "sqlite";    // Plugins.Storage
  std::string executor = "process";  // Plugins.Executor (server-mode executions on the master)
  // "transport.https" → its key/value section.
  std::map<std::string, sdk::ConfigView::Map, std::less<>> plugin_sections;

  // The section for kind/name ("storage", "sqlite"); empty when absent.
  const sdk::ConfigView::Map& SectionFor(std::string_view kind, std::string_view name) const;
};

// Parses JSON text, then applies "Key=Value" overrides (command-line --set)
// with the same checks. Nested keys use dots: "Plugins.Storage=sqlite",
// "PluginSettings.storage.sqlite.path=/x.db". `base_dir` resolves relative
// file paths and is the default DataDir.
// Errors: kInvalidArgument naming the key ("'PortNumber' must be 0..65535, got -1").
sdk::Result<MasterSettings> ParseMasterSettings(std::string_view json_text,
                                                const std::filesystem::path& base_dir,
                                                const std::vector<std::string>& overrides = {});

// Reads and parses a file; kNotFound when it does not exist.
sdk::Result<MasterSettings> LoadMasterSettings(const std::filesystem::path& file,
                                               const std::vector<std::string>& overrides = {});

// A settings file with every key at its default, for --print-defaults.
std::string DefaultMasterSettingsJson();

// The plugin settings of `settings` that look like secrets, by full name
// ("PluginSettings.storage.odbc.connection_string"): a value with Pwd= or
// Password= in it, or a key naming a password, secret or token.
std::vector<std::string> SecretLookingSettings(const MasterSettings& settings);

// What the master logs when its settings file `file` can be read by every
// account and holds settings that look like secrets (a package run as
// another account could read them); nullopt otherwise, also when the file
// does not read or parse (the master's start says why then).
std::optional<std::string> ReadableSecretsWarning(const std::filesystem::path& file);

}  // namespace scaleout::core::master

#endif  // SCALEOUT_CORE_MASTER_SETTINGS_H_
