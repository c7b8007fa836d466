// `scaleout task-host`: runs one task in a child process started by the
// worker (TaskHostLauncher), like SSIS's ISServerExec. Hidden from --help.
//
// stdout carries framed records (core/taskhost/records.h), so anything a
// plugin prints to stdout is diverted to stderr first. Every failure after
// that point is reported as a failed outcome record, so the worker can say
// exactly why the task did not run.
#include "host/commands/task_host_command.h"

#include <filesystem>
#include <iostream>
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

constexpr const char* kUsage =
    "Usage: scaleout task-host --spec FILE --plugin-dir DIR --executor NAME\n"
    "Runs one task and writes framed records (events, then the outcome) to\n"
    "stdout. Started by the worker; the spec file is deleted once read.\n";

struct Args {
  std::string spec;
  std::string plugin_dir;
  std::string executor;
};

// "executor/process" and "process" both name executor/process.
std::string ShortName(const std::string& name) {
  constexpr std::string_view kPrefix = "executor/";
  return name.rfind(kPrefix, 0) == 0 ? name.substr(kPrefix.size()) : name;
}

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

int RunTask(const Args& args, int records_fd) {
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

}  // namespace

int RunTaskHostCommand(int argc, char** argv) {
  po::options_description described("Options");
  Args args;
  described.add_options()("help,h", "show this help")("version", "show the version")(
      "spec", po::value(&args.spec), "the task's spec file (written by the worker, mode 0600)")(
      "plugin-dir", po::value(&args.plugin_dir), "where to load the executor plugin from")(
      "executor", po::value(&args.executor), "the executor, e.g. process or executor/process");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, described), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "scaleout task-host: " << e.what() << "\n" << kUsage;
    return taskhost::kTaskHostExitUsage;
  }
  if (vm.count("help") != 0) {
    std::cout << kUsage << "\n" << described;
    return kExitOk;
  }
  if (vm.count("version") != 0) {
    std::cout << VersionText() << "\n";
    return kExitOk;
  }
  for (const auto& [value, flag] :
       {std::pair{&args.spec, "--spec"}, std::pair{&args.plugin_dir, "--plugin-dir"},
        std::pair{&args.executor, "--executor"}}) {
    if (value->empty()) {
      std::cerr << "scaleout task-host: " << flag << " is required\n" << kUsage;
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
  return RunTask(args, *records_fd);
}

}  // namespace scaleout::host
