// `scaleout task-host`: runs one task in a child process started by the
// worker (TaskHostLauncher), like SSIS's ISServerExec. Hidden from --help.
// With --serve it is one of the worker's pooled task hosts (TaskHostPool):
// it runs the tasks the worker sends on stdin one after another, loading each
// executor plugin once.
//
// stdout carries framed records (core/taskhost/records.h), so anything a
// plugin prints to stdout is diverted to stderr first. Every failure after
// that point is reported as a failed outcome record, so the worker can say
// exactly why the task did not run.
#include "host/commands/task_host_command.h"

#include <fcntl.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <string>

#include <spdlog/spdlog.h>
#include <boost/program_options.hpp>

#include "core/common/logging.h"
#include "core/taskhost/spec_file.h"
#include "core/taskhost/task_host.h"
#include "host/commands/command_util.h"
#include "host/plugin_loader.h"

namespace scaleout::host {
namespace {

namespace po = boost::program_options;
namespace taskhost = core::taskhost;

constexpr const char* kTaskHostUsage =
    "Usage: scaleout task-host --spec FILE --plugin-dir DIR --executor NAME\n"
    "       scaleout task-host --serve --plugin-dir DIR [--parent-pid PID]\n"
    "                          [--parent-death-signal N] [--control-fd FD]\n"
    "Runs one task and writes framed records (events, then the outcome) to\n"
    "stdout. Started by the worker; the spec file is deleted once read.\n"
    "--serve: runs the tasks the worker sends on stdin, one after another.\n";

struct TaskHostArgs {
  std::string spec;
  std::string plugin_dir;
  std::string executor;
  bool serve = false;
  int parent_pid = 0;
  int parent_death_signal = 0;
  int control_fd = -1;
};

std::string ShortName(const std::string& name) { return taskhost::ExecutorShortName(name); }

// Loads just the executor's library when it has the conventional file name,
// else everything in the folder (the loader then finds it by descriptor).
sdk::Status LoadExecutorPlugin(PluginLoader& loader, const std::string& dir,
                               const std::string& name) {
  const std::filesystem::path file =
      std::filesystem::path(dir) / ("libscaleout_executor_" + name + ".so");
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) return loader.LoadFile(file);
  (void)loader.LoadDirectory(dir);  // refusals are logged; CreateExecutor says what is missing
  return sdk::Status::Ok();
}

int RunTask(const TaskHostArgs& args, int records_fd) {
  taskhost::TaskHostOptions options;
  auto spec = taskhost::ReadSpecFile(args.spec, /*remove=*/true);
  if (!spec.ok()) {
    return taskhost::ReportTaskHostFailure(records_fd, "task host: " + spec.status().ToString(),
                                           options);
  }
  options.log_file = spec->log_file;
  options.log_level = spec->log_level;
  options.parent_death_signal = spec->parent_death_signal;
  options.parent_pid = spec->parent_pid;
  const std::string name = ShortName(args.executor);
  options.executor_name = "executor/" + name;

  core::SpdlogBridge logger(spdlog::default_logger(), "[executor/" + name + "] ");
  PluginLoader loader(logger);
  sdk::Status loaded = LoadExecutorPlugin(loader, args.plugin_dir, name);
  if (!loaded.ok()) {
    return taskhost::ReportTaskHostFailure(
        records_fd, "task host: cannot load executor/" + name + ": " + loaded.ToString(), options);
  }
  // ConfigView keeps a view of the section name: the string must outlive it.
  const std::string section = "executor." + name;
  sdk::ConfigView config(spec->executor_config, section);
  auto executor = loader.CreateExecutor(name, config);
  if (!executor.ok()) {
    // The loader's message names the plugin, the file and the reason.
    return taskhost::ReportTaskHostFailure(records_fd, "task host: " + executor.status().ToString(),
                                           options);
  }
  return taskhost::RunTaskHost(**executor, spec->task, records_fd, options);
}

// The executors of a pooled task host: each plugin is loaded once, each
// (executor, configuration) pair created and started once, and all of them
// stopped when the host ends.
class ExecutorCache {
 public:
  ExecutorCache(std::string plugin_dir, core::SpdlogBridge& logger)
      : plugin_dir_(std::move(plugin_dir)), loader_(logger) {}
  ~ExecutorCache() {
    for (auto& entry : entries_) entry->executor->Stop();
  }
  ExecutorCache(const ExecutorCache&) = delete;
  ExecutorCache& operator=(const ExecutorCache&) = delete;

  sdk::Result<sdk::Executor*> Get(const std::string& name, const taskhost::ExecutorConfig& config) {
    for (auto& entry : entries_) {
      if (entry->name == name && entry->config == config) return entry->executor.get();
    }
    if (loaded_.count(name) == 0) {
      sdk::Status loaded = LoadExecutorPlugin(loader_, plugin_dir_, name);
      if (!loaded.ok()) {
        return sdk::Status::FailedPrecondition("cannot load executor/" + name + ": " +
                                               loaded.ToString());
      }
      loaded_.insert(name);
    }
    auto entry = std::make_unique<Entry>();
    entry->name = name;
    entry->config = config;
    entry->section = "executor." + name;
    // ConfigView keeps views of the map and the section name: the entry owns both.
    sdk::ConfigView view(entry->config, entry->section);
    SCALEOUT_ASSIGN_OR_RETURN(entry->executor, loader_.CreateExecutor(name, view));
    sdk::Status started = entry->executor->Start();
    if (!started.ok()) {
      return sdk::Status::FailedPrecondition("executor did not start: " + started.ToString());
    }
    entries_.push_back(std::move(entry));
    return entries_.back()->executor.get();
  }

 private:
  struct Entry {
    std::string name;
    taskhost::ExecutorConfig config;
    std::string section;
    PluginPtr<sdk::Executor> executor;
  };
  std::string plugin_dir_;
  PluginLoader loader_;
  std::set<std::string> loaded_;
  // Few: one per executor and configuration. Destroyed before loader_.
  std::vector<std::unique_ptr<Entry>> entries_;
};

int Serve(const TaskHostArgs& args, int records_fd) {
  core::SpdlogBridge logger(spdlog::default_logger(), "[task-host] ");
  ExecutorCache cache(args.plugin_dir, logger);
  taskhost::ServeOptions options;
  options.parent_pid = args.parent_pid;
  options.parent_death_signal = args.parent_death_signal;
  if (args.control_fd >= 0) {
    if (::fcntl(args.control_fd, F_SETFD, FD_CLOEXEC) != 0) {  // packages must not inherit it
      spdlog::error("task host: --control-fd {} is not open", args.control_fd);
      return taskhost::kTaskHostExitFailed;
    }
    options.control_fd = args.control_fd;
  }
  return taskhost::ServeTaskHost(
      [&](const std::string& name, const taskhost::ExecutorConfig& config) {
        return cache.Get(name, config);
      },
      STDIN_FILENO, records_fd, options);
}

}  // namespace

int RunTaskHostCommand(int argc, char** argv) {
  po::options_description described("Options");
  TaskHostArgs args;
  described.add_options()("help,h", "show this help")("version", "show the version")(
      "spec", po::value(&args.spec), "the task's spec file (written by the worker, mode 0600)")(
      "plugin-dir", po::value(&args.plugin_dir), "where to load the executor plugin from")(
      "executor", po::value(&args.executor), "the executor, e.g. process or executor/process")(
      "serve", po::bool_switch(&args.serve), "run the tasks sent on stdin, one after another")(
      "parent-pid", po::value(&args.parent_pid), "--serve: the worker's pid")(
      "control-fd", po::value(&args.control_fd),
      "--serve: the inherited socket the worker sends cancel requests on")(
      "parent-death-signal", po::value(&args.parent_death_signal),
      "--serve: the signal received when the worker dies (0: none)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, described), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "scaleout task-host: " << e.what() << "\n" << kTaskHostUsage;
    return taskhost::kTaskHostExitUsage;
  }
  if (vm.count("help") != 0) {
    std::cout << kTaskHostUsage << "\n" << described;
    return kExitOk;
  }
  if (vm.count("version") != 0) {
    std::cout << VersionText() << "\n";
    return kExitOk;
  }
  for (const auto& [value, flag] :
       {std::pair{&args.spec, "--spec"}, std::pair{&args.plugin_dir, "--plugin-dir"},
        std::pair{&args.executor, "--executor"}}) {
    if (value->empty() && (!args.serve || value == &args.plugin_dir)) {
      std::cerr << "scaleout task-host: " << flag << " is required\n" << kTaskHostUsage;
      return taskhost::kTaskHostExitUsage;
    }
  }
  auto records_fd = taskhost::TakeOverStdout();
  if (!records_fd.ok()) {
    std::cerr << "scaleout task-host: " << records_fd.status().ToString() << "\n";
    return taskhost::kTaskHostExitFailed;
  }
  // stderr becomes diagnostic events in the worker: warnings and errors only.
  core::LoggingOptions logging;
  logging.name = "task-host";
  logging.level = "warn";
  std::string error;
  (void)core::InitLogging(logging, &error);
  return args.serve ? Serve(args, *records_fd) : RunTask(args, *records_fd);
}

}  // namespace scaleout::host
