// `scaleout worker`: the Scale Out Worker service.
//
// Loads the settings (WorkerSettings, JSON with the SSIS key names), checks
// the worker certificate, loads the plugins and validates every plugin
// section by creating the plugin, then runs the agent until SIGINT/SIGTERM.
//
// Stopping: the first signal stops asking for work and lets running tasks
// finish for up to --drain-timeout (their leases are still renewed); tasks
// still running then are killed without a result, so the master re-queues
// them when their lease lapses. A second signal ends the drain at once.
#include "host/commands/worker_command.h"

#include <signal.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/program_options.hpp>

#include "core/common/clock.h"
#include "core/common/logging.h"
#include "core/common/service_notify.h"
#include "core/common/service_watchdog.h"
#include "core/security/certificates.h"
#include "core/security/curve_keys.h"
#include "core/worker/agent.h"
#include "core/worker/master_client.h"
#include "core/worker/resources.h"
#include "core/worker/settings.h"
#include "core/worker/task_launcher.h"
#include "host/commands/command_util.h"
#include "host/plugin_loader.h"

namespace scaleout::host {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
namespace worker = core::worker;

constexpr const char* kWorkerUsage =
    "Usage: scaleout worker --config FILE [--set Key=Value]... [--data-dir DIR]\n"
    "                       [--drain-timeout SECONDS] [--log-level LEVEL]\n"
    "       scaleout worker --print-defaults\n"
    "\n"
    "Runs a Scale Out Worker: registers with the master (a new worker starts\n"
    "disabled), asks for work, runs each task in a task-host child process and\n"
    "renews its lease. Settings keep the SSIS WorkerSettings.config names\n"
    "(MasterEndpoint, MaxTaskCount, LeaseInterval, ...) in a JSON file; see\n"
    "docs/worker.md. Folders (Agent/, Tasks/, Agent/ELogCache/) live under the\n"
    "data dir, by default the settings file's folder.\n"
    "\n"
    "SIGINT/SIGTERM: stop asking for work, let running tasks finish for up to\n"
    "--drain-timeout seconds, then kill the rest (the master re-queues them).\n"
    "A second signal kills at once. Exit codes: 0 stopped cleanly, 1 failed,\n"
    "2 bad options.\n";

struct WorkerArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string data_dir;
  double drain_seconds = 30;
  std::string log_level = "info";
  bool print_defaults = false;
};

int FailWorker(const std::string& message) {
  std::cerr << "scaleout worker: " << message << "\n";
  return kExitFailed;
}

int WorkerUsageError(const std::string& message) {
  std::cerr << "scaleout worker: " << message << "\n\n" << kWorkerUsage;
  return kExitUsage;
}

// The worker certificate must exist, match its key, keep its key private,
// and match WorkerHttpsCertThumbprint when that is set.
sdk::Status CheckWorkerCertificate(const worker::WorkerSettings& s) {
  if (s.worker_cert_file.empty() && s.worker_key_file.empty()) return sdk::Status::Ok();
  if (s.plugins.transport == "zmq") {
    // CURVE key files (scaleout cert curve create) instead of a certificate.
    auto key = core::security::CheckCurveKeyFiles(s.worker_cert_file, s.worker_key_file);
    return key.ok() ? sdk::Status::Ok() : key.status().WithContext("'WorkerKeyFile'");
  }
  auto info = core::security::ReadCertificateThumbprints(s.worker_cert_file);
  if (!info.ok()) return info.status().WithContext("'WorkerCertFile'");
  SCALEOUT_RETURN_IF_ERROR(
      core::security::CheckKeyMatchesCertificate(s.worker_cert_file, s.worker_key_file)
          .WithContext("'WorkerKeyFile'"));
  SCALEOUT_RETURN_IF_ERROR(
      core::security::CheckPrivateKeyPermissions(s.worker_key_file).WithContext("'WorkerKeyFile'"));
  if (!s.worker_https_cert_thumbprint.empty() &&
      core::security::MatchPin(s.worker_https_cert_thumbprint, *info) ==
          core::security::PinMatch::kNone) {
    return sdk::Status::InvalidArgument(
        "'WorkerHttpsCertThumbprint' " + s.worker_https_cert_thumbprint + " does not match " +
        s.worker_cert_file + " (SHA-256 " + info->sha256_thumbprint + ")");
  }
  return sdk::Status::Ok();
}

// Creates every plugin a section is given for (and the executor in use), so
// a bad setting stops the worker before it registers. Executors run in the
// task host; the instances made here are only for validation.
sdk::Status ValidatePluginSections(PluginLoader& loader, const worker::WorkerSettings& s) {
  std::vector<std::string> executors = {s.plugins.executor};
  for (const auto& [section, values] : s.plugin_settings) {
    const auto dot = section.find('.');
    const std::string kind = section.substr(0, dot);
    const std::string name = section.substr(dot + 1);
    if (kind == "executor") {
      if (name != s.plugins.executor) executors.push_back(name);
    } else if (kind == "transport") {
      if (name != s.plugins.transport) {
        auto t = loader.CreateTransport(name, sdk::ConfigView(values, section));
        if (!t.ok()) return t.status().WithContext("'PluginSettings." + section + "'");
      }
    } else {
      return sdk::Status::InvalidArgument("'PluginSettings." + section +
                                          "': a worker uses only transport and executor "
                                          "plugins; move this section to the master's settings");
    }
  }
  for (const auto& name : executors) {
    const std::string section = "executor." + name;
    auto e = loader.CreateExecutor(name, sdk::ConfigView(s.PluginSection(section), section));
    if (!e.ok()) return e.status().WithContext("'PluginSettings." + section + "'");
  }
  return sdk::Status::Ok();
}

int RunWorker(const WorkerArgs& args) {
  // First, while this is the only thread: see service_notify.h.
  const core::ServiceNotifier service = core::ServiceNotifier::FromEnvironment();
  worker::LoadOptions load;
  load.settings_file = args.config;
  load.overrides = args.overrides;
  load.data_dir = args.data_dir;
  auto loaded = worker::LoadWorkerSettings(load);
  if (!loaded.ok()) return FailWorker(loaded.status().message());
  const worker::WorkerSettings settings = std::move(loaded).value();
  // Before anything else: with too few, task launches would fail with EMFILE
  // once enough slots are busy, long after the worker started.
  const std::uint64_t open_files = RaiseOpenFileLimit();
  const std::uint64_t needed = WorkerOpenFilesNeeded(settings.max_task_count);
  if (open_files < needed) {
    return FailWorker(
        "'MaxTaskCount' " + std::to_string(settings.max_task_count) + " needs about " +
        std::to_string(needed) + " open files, but this process may open only " +
        std::to_string(open_files) +
        " (its hard limit, ulimit -Hn); raise it (LimitNOFILE= in the systemd unit, or "
        "ulimit -n as root) or lower MaxTaskCount");
  }
  if (sdk::Status s = worker::CheckReadyToRun(settings); !s.ok()) return FailWorker(s.message());
  if (sdk::Status s = CheckWorkerCertificate(settings); !s.ok()) return FailWorker(s.message());

  core::LoggingOptions logging;
  logging.name = "worker";
  logging.file = (fs::path(settings.agent_log_folder) / "scaleout-worker.log").string();
  logging.level = args.log_level;
  std::string error;
  if (!core::InitLogging(logging, &error)) return FailWorker(error);
  core::SpdlogBridge log(spdlog::default_logger());

  PluginLoader loader(log);
  const fs::path plugin_dir = settings.plugins.directory.empty()
                                  ? DefaultPluginDir()
                                  : fs::path(settings.plugins.directory);
  for (const PluginInfo& refused : loader.LoadDirectory(plugin_dir)) {
    log.Warn("plugin refused: " + refused.reason);
  }
  const std::string transport_section = "transport." + settings.plugins.transport;
  auto transport = loader.CreateTransport(
      settings.plugins.transport,
      sdk::ConfigView(settings.PluginSection(transport_section), transport_section));
  if (!transport.ok()) {
    return FailWorker(transport.status().WithContext("'Plugins.Transport'").message());
  }
  if (sdk::Status s = ValidatePluginSections(loader, settings); !s.ok())
    return FailWorker(s.message());
  if (sdk::Status s = (*transport)->Start(); !s.ok()) return FailWorker(s.message());

  core::Clock& clock = core::SystemClock::Instance();
  worker::ProcResourceProbe proc_probe;
  // Read /proc at most once a second, not on every request for work.
  worker::CachingResourceProbe probe(proc_probe, clock, std::chrono::milliseconds(1000));
  // Warm task hosts, one per task slot, reused from task to task.
  auto launcher =
      worker::MakeTaskHostPoolLauncher({SelfExecutable(), plugin_dir.string()},
                                       static_cast<std::size_t>(settings.max_task_count), clock);

  worker::MasterClientOptions client_options;
  client_options.endpoints = settings.master_endpoints;
  client_options.cert_file = settings.worker_cert_file;
  client_options.key_file = settings.worker_key_file;
  client_options.pinned_server_ids = settings.master_https_cert_thumbprints;
  sdk::Transport& transport_ref = **transport;
  worker::AgentDependencies deps;
  deps.clock = &clock;
  deps.launcher = launcher.get();
  deps.resources = &probe;
  deps.master_clients = [&transport_ref, client_options, &settings](worker::MasterChannel channel) {
    worker::MasterClientOptions options = client_options;
    // A renewal that takes longer than the heartbeat interval is as good as lost.
    if (channel == worker::MasterChannel::kHeartbeat) {
      options.call_timeout = settings.task_heartbeat_interval;
    }
    return std::make_unique<worker::TransportMasterClient>(transport_ref, options);
  };

  // Block the stop signals before any thread starts, so only sigwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  int exit_code = kExitOk;
  {
    worker::Agent agent(settings, deps);
    if (sdk::Status s = agent.Start(); !s.ok()) {
      exit_code = FailWorker(s.message());
    } else {
      std::cout << "scaleout worker: agent " << settings.agent_id << " running; masters:";
      for (const auto& e : settings.master_endpoints) std::cout << " " << e;
      std::cout << std::endl;
      (void)service.Notify("READY=1\nSTATUS=agent " + settings.agent_id + " running, up to " +
                           std::to_string(settings.max_task_count) + " tasks");
      // With WatchdogSec= in the unit: pings while the lease fence runs,
      // through the drain too.
      core::ServiceWatchdog watchdog(
          service, [&agent] { return agent.FenceHealth(); }, core::SystemClock::Instance(),
          [&log](const std::string& message) { log.Warn(message); });
      watchdog.Start();
      int signal_number = 0;
      sigwait(&stop_signals, &signal_number);
      log.Info("stopping on signal " + std::to_string(signal_number));
      (void)service.Notify("STOPPING=1\nSTATUS=draining running tasks");
      std::atomic<bool> stopped{false};
      std::thread stopper([&] {
        agent.Stop(std::chrono::milliseconds(static_cast<std::int64_t>(args.drain_seconds * 1000)));
        stopped = true;
      });
      // A second signal ends the drain.
      const timespec poll{0, 200'000'000};
      while (!stopped.load()) {
        if (sigtimedwait(&stop_signals, nullptr, &poll) > 0) {
          log.Warn("second stop signal: killing running tasks now");
          agent.CancelDrain();
        }
      }
      stopper.join();
    }
  }
  (*transport)->Stop();
  spdlog::default_logger()->flush();
  return exit_code;
}

}  // namespace

int RunWorkerCommand(int argc, char** argv) {
  WorkerArgs args;
  po::options_description options("Options");
  options.add_options()("help,h", "show this help")("version", "print the version")(
      "config", po::value(&args.config), "the settings file (JSON)")(
      "set", po::value(&args.overrides)->composing(), "override a setting: Key=Value")(
      "data-dir", po::value(&args.data_dir), "folder for Agent/, Tasks/, agent-id")(
      "drain-timeout", po::value(&args.drain_seconds)->default_value(30),
      "seconds running tasks get to finish on stop")(
      "log-level", po::value(&args.log_level)->default_value("info"),
      "trace, debug, info, warn, error")("print-defaults", po::bool_switch(&args.print_defaults),
                                         "print a settings file with every default");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return WorkerUsageError(e.what());
  }
  if (vm.count("help")) {
    std::cout << kWorkerUsage << "\n" << options;
    return kExitOk;
  }
  if (vm.count("version")) {
    std::cout << VersionText() << "\n";
    return kExitOk;
  }
  if (args.print_defaults) {
    std::cout << worker::DefaultSettingsJson();
    return kExitOk;
  }
  if (args.config.empty()) return WorkerUsageError("--config FILE is required");
  if (args.drain_seconds < 0) return WorkerUsageError("--drain-timeout must be 0 or more seconds");
  return RunWorker(args);
}

}  // namespace scaleout::host
