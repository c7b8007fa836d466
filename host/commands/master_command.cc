#include "host/commands/master_command.h"

#include <signal.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/program_options.hpp>

#include "core/common/clock.h"
#include "core/common/dir_lock.h"
#include "core/common/logging.h"
#include "core/common/service_notify.h"
#include "core/common/service_watchdog.h"
#include "core/management/dashboard.h"
#include "core/management/service.h"
#include "core/master/master.h"
#include "core/master/responses.h"
#include "core/master/settings.h"
#include "core/master/writer_probe.h"
#include "core/security/certificates.h"
#include "core/security/curve_keys.h"
#include "core/worker/task_launcher.h"
#include "host/commands/command_util.h"
#include "host/commands/manage_init.h"
#include "host/plugin_loader.h"
#include "web/dashboard_files.h"

namespace scaleout::host {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;

// The web dashboard's files as compiled into the host (web/).
std::vector<core::management::StaticAsset> DashboardAssets() {
  std::vector<core::management::StaticAsset> assets;
  for (const web::EmbeddedFile& file : web::DashboardFiles()) {
    assets.push_back({file.name, {reinterpret_cast<const char*>(file.data), file.size}});
  }
  return assets;
}

constexpr const char* kMasterUsage =
    "Usage: scaleout master --config FILE [--set Key=Value]... [--port-file FILE]\n"
    "       scaleout master --print-defaults\n"
    "       scaleout master init --config FILE        (the catalog and its first admin)\n"
    "       scaleout master rotate-key --config FILE  (a new catalog key; master stopped)\n"
    "\n"
    "Runs the Scale Out Master: the catalog, the scheduler that hands tasks to\n"
    "workers, the sweeps (expired tasks, cleanup, heartbeat) and the API.\n"
    "Over HTTPS it also serves the web dashboard at https://HOST:PORT/ (sign in\n"
    "with a principal's token) and Prometheus figures at /metrics (a reader's\n"
    "token); see docs/operations.md.\n"
    "Settings keep the SSIS MasterSettings.config names (PortNumber,\n"
    "DealWithExpiredTasksIntervalInMs, ...); see docs/master.md.\n"
    "Stops cleanly on SIGINT or SIGTERM.\n";

// Blocks SIGINT/SIGTERM in every thread started after this call, so the
// main thread can wait for them with sigwait().
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// The configured certificate must exist, match its key, keep its key
// private, and match SSLCertThumbprint when that is set.
// Fills SSLCertThumbprint (shown in master_properties) from the file when unset.
sdk::Status CheckMasterCertificate(core::master::MasterSettings& settings) {
  if (settings.ssl_cert_file.empty() || settings.ssl_key_file.empty()) {
    return sdk::Status::InvalidArgument(
        "SSLCertFile and SSLKeyFile must name the master's certificate and key; create them "
        "with 'scaleout cert create --cn <master host name>'");
  }
  auto info = core::security::ReadCertificateThumbprints(settings.ssl_cert_file);
  if (!info.ok()) return info.status();
  SCALEOUT_RETURN_IF_ERROR(
      core::security::CheckKeyMatchesCertificate(settings.ssl_cert_file, settings.ssl_key_file));
  if (!settings.ssl_cert_thumbprint.empty() &&
      core::security::MatchPin(settings.ssl_cert_thumbprint, *info) ==
          core::security::PinMatch::kNone) {
    return sdk::Status::InvalidArgument("SSLCertThumbprint " + settings.ssl_cert_thumbprint +
                                        " does not match " + settings.ssl_cert_file + " (SHA-256 " +
                                        info->sha256_thumbprint + ", SHA-1 " +
                                        info->sha1_thumbprint + ")");
  }
  if (settings.ssl_cert_thumbprint.empty()) settings.ssl_cert_thumbprint = info->sha256_thumbprint;
  return sdk::Status::Ok();
}

int FailMaster(const std::string& message) {
  std::cerr << "scaleout master: " << message << "\n";
  return kExitFailed;
}

int RunMaster(const fs::path& config, const std::vector<std::string>& overrides,
              const std::string& port_file) {
  // First, while this is the only thread: see service_notify.h.
  const core::ServiceNotifier service = core::ServiceNotifier::FromEnvironment();
  auto loaded = core::master::LoadMasterSettings(config, overrides);
  if (!loaded.ok()) return FailMaster(loaded.status().message());
  core::master::MasterSettings settings = std::move(loaded).value();

  std::error_code ec;
  fs::create_directories(settings.data_dir, ec);
  // Before the log file and the catalog: a second master on the same
  // DataDir would write the same log and server-mode spool.
  auto data_dir_lock = core::DirectoryLock::Acquire(settings.data_dir, "scaleout master");
  if (!data_dir_lock.ok()) {
    return FailMaster(data_dir_lock.status().message() + " (DataDir, or --set DataDir=...)");
  }
  fs::create_directories(settings.log_folder, ec);
  core::LoggingOptions logging;
  logging.name = "master";
  logging.file = (fs::path(settings.log_folder) / "scaleout-master.log").string();
  logging.level = settings.log_level;
  std::string error;
  if (!core::InitLogging(logging, &error)) return FailMaster(error);
  core::SpdlogBridge log(spdlog::default_logger());
  if (auto warning = core::master::ReadableSecretsWarning(config)) log.Warn(*warning);
  // A connection is a descriptor: warn when MaxConnections cannot be reached
  // (accepts beyond the limit fail), after raising the soft limit to the hard.
  const std::uint64_t open_files = RaiseOpenFileLimit();
  const std::uint64_t wanted = static_cast<std::uint64_t>(settings.max_connections) +
                               WorkerOpenFilesNeeded(settings.server_max_task_count);
  if (open_files < wanted) {
    log.Warn("'MaxConnections' " + std::to_string(settings.max_connections) +
             " and the server-mode task hosts need about " + std::to_string(wanted) +
             " open files, but this process may open only " + std::to_string(open_files) +
             " (ulimit -Hn); raise the limit (LimitNOFILE= in the systemd unit) or lower "
             "MaxConnections");
  }

  if (settings.transport == "https") {
    if (sdk::Status s = CheckMasterCertificate(settings); !s.ok()) return FailMaster(s.message());
  } else if (settings.transport == "zmq" && !settings.ssl_key_file.empty()) {
    // CURVE keys: SSLCertFile/SSLKeyFile name the public/secret key files.
    auto key = core::security::CheckCurveKeyFiles(settings.ssl_cert_file, settings.ssl_key_file);
    if (!key.ok()) return FailMaster(key.status().WithContext("SSLKeyFile").message());
    if (settings.ssl_cert_thumbprint.empty()) settings.ssl_cert_thumbprint = *key;
  }

  PluginLoader loader(log);
  const fs::path plugin_dir =
      settings.plugin_dir.empty() ? DefaultPluginDir() : fs::path(settings.plugin_dir);
  for (const PluginInfo& refused : loader.LoadDirectory(plugin_dir)) {
    log.Warn("plugin refused: " + refused.reason);
  }
  // Every plugin section is validated (by create) before anything starts.
  const auto& storage_section = settings.SectionFor("storage", settings.storage);
  auto storage = loader.CreateStorage(
      settings.storage, sdk::ConfigView(storage_section, "storage." + settings.storage));
  if (!storage.ok()) return FailMaster(storage.status().message());
  const auto& transport_section = settings.SectionFor("transport", settings.transport);
  auto transport = loader.CreateTransport(
      settings.transport, sdk::ConfigView(transport_section, "transport." + settings.transport));
  if (!transport.ok()) return FailMaster(transport.status().message());

  if (sdk::Status s = (*storage)->Start(); !s.ok()) return FailMaster(s.message());
  if (sdk::Status s = (*transport)->Start(); !s.ok()) return FailMaster(s.message());

  const sigset_t stop_signals = BlockStopSignals();
  int exit_code = kExitOk;
  // Server mode: runinscaleout = 0 executions run in task-host children of
  // the master, exactly as a worker runs its tasks: on warm task hosts, one
  // per server task slot (ServerMaxTaskCount), reused from task to task.
  // Declared before the master, so it outlives the server task agent that
  // launches on it; destroying it kills the hosts still running.
  auto server_launcher = core::worker::MakeTaskHostPoolLauncher(
      {SelfExecutable(), plugin_dir.string()},
      static_cast<std::size_t>(std::max(settings.server_max_task_count, 0)),
      core::SystemClock::Instance());
  {
    const core::management::DashboardSite dashboard(DashboardAssets());
    core::master::Master master(settings, **storage, **transport, core::SystemClock::Instance(),
                                log);
    master.EnableServerTasks(*server_launcher);
    // The web dashboard's files; its figures come from the API below.
    master.AddRoute(
        "/", [&dashboard](const sdk::Request& request, std::unique_ptr<sdk::Responder> responder) {
          auto answer = dashboard.Serve(request);
          responder->Send(answer ? std::move(*answer)
                                 : core::master::UnknownEndpointResponse(request.target));
        });
    // The management API (routes now; pool, first admin and schedules after Start).
    core::management::ManagementService management(
        master, log, {.notice = [](const std::string& text) { std::cout << text << std::flush; }});
    sdk::Status started = master.Start();
    if (started.ok()) started = management.Start();
    if (!started.ok()) {
      exit_code = FailMaster(started.message());
    } else {
      std::cout << "scaleout master: listening on " << settings.bind_address << ":" << master.port()
                << std::endl;
      if (!port_file.empty()) {
        std::ofstream(port_file) << master.port() << "\n";
      }
      (void)service.Notify("READY=1\nSTATUS=listening on " + settings.bind_address + ":" +
                           std::to_string(master.port()));
      // With WatchdogSec= in the unit: pings while the catalog writer commits.
      core::master::WriterProbe probe(master.writer(), core::SystemClock::Instance());
      core::ServiceWatchdog watchdog(
          service, [&probe] { return probe.Check(); }, core::SystemClock::Instance(),
          [&log](const std::string& message) { log.Warn(message); });
      watchdog.Start();
      int signal_number = 0;
      sigwait(&stop_signals, &signal_number);
      log.Info("stopping on signal " + std::to_string(signal_number));
      (void)service.Notify("STOPPING=1\nSTATUS=stopping");
      management.Stop();
      master.Stop();
      watchdog.Stop();
    }
  }
  (*transport)->Stop();
  (*storage)->Stop();
  spdlog::default_logger()->flush();
  return exit_code;
}

}  // namespace

int RunMasterCommand(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "init")
    return RunMasterInitCommand(argc - 1, argv + 1);
  if (argc > 1 && std::string_view(argv[1]) == "rotate-key")
    return RunMasterRotateKeyCommand(argc - 1, argv + 1);
  po::options_description options("Options");
  options.add_options()("help,h", "show this help")("version", "show the version")(
      "config,c", po::value<std::string>(), "master settings file (JSON)")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a setting, e.g. --set PortNumber=0 (repeatable)")(
      "port-file", po::value<std::string>(), "write the bound port to FILE once listening")(
      "print-defaults", "print a settings file with every key at its default");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "scaleout master: " << e.what() << "\n" << kMasterUsage << "\n" << options;
    return kExitUsage;
  }
  if (vm.count("help") != 0) {
    std::cout << kMasterUsage << "\n" << options;
    return kExitOk;
  }
  if (vm.count("version") != 0) {
    std::cout << VersionText() << "\n";
    return kExitOk;
  }
  if (vm.count("print-defaults") != 0) {
    std::cout << core::master::DefaultMasterSettingsJson();
    return kExitOk;
  }
  if (vm.count("config") == 0) {
    std::cerr << "scaleout master: --config FILE is required (make one with 'scaleout master "
                 "--print-defaults > master.json')\n"
              << kMasterUsage;
    return kExitUsage;
  }
  const auto overrides =
      vm.count("set") != 0 ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
  return RunMaster(vm["config"].as<std::string>(), overrides,
                   vm.count("port-file") != 0 ? vm["port-file"].as<std::string>() : "");
}

}  // namespace scaleout::host
