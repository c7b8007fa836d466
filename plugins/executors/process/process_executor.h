// ProcessExecutor: executor/process, runs a package as an OS process.
//
// Run() starts the package (package.h) in the task's work dir, in a process
// group of its own, and turns each line of its stdout into an Information
// (70) event and each line of its stderr into a Warning (110) event, with
// sensitive parameter values masked. Exit code 0 succeeds; anything else
// fails ("exited with code N", "killed by signal S (SIGxxx)").
//
// Stopping: when the token is cancelled (or the manifest's timeout_s passes)
// the group gets SIGTERM, then SIGKILL after kill_grace_ms. When the package
// process itself has exited, whatever is left of its group is SIGKILLed: a
// task's background jobs do not outlive it.
//
// Sandbox (sandbox.h): with run_as_user the package runs as that account,
// which then owns the task's work folder; limits and no_new_privileges
// apply to every package.
//
// Thread-safety: Run may be called from one thread at a time (SDK rule);
// separate instances are independent.
#ifndef SCALEOUT_PLUGINS_EXECUTORS_PROCESS_PROCESS_EXECUTOR_H_
#define SCALEOUT_PLUGINS_EXECUTORS_PROCESS_PROCESS_EXECUTOR_H_

#include <memory>

#include "plugins/executors/process/options.h"
#include "plugins/executors/process/package.h"
#include "plugins/executors/process/sandbox.h"
#include "scaleout/sdk/executor.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/plugin.h"

namespace scaleout::plugins::process {

class ProcessExecutor final : public sdk::Executor {
 public:
  // `logger` must outlive the executor (the host guarantees it for plugins).
  // The inherited environment is read once, here: a warm task host runs
  // many tasks with one executor, and its own environment does not change.
  // `sandbox` is MakeSandbox(options) (Make below does both).
  ProcessExecutor(Options options, sdk::Logger& logger, Sandbox sandbox = {});

  // The plugin entry point: validates the config section.
  static sdk::Result<std::unique_ptr<ProcessExecutor>> Create(const sdk::PluginContext& context);
  // An executor with `options`' sandbox; errors as MakeSandbox.
  static sdk::Result<std::unique_ptr<ProcessExecutor>> Make(Options options, sdk::Logger& logger);

  sdk::Status Start() override { return sdk::Status::Ok(); }
  // Kills what is left in the packages' cgroup and removes it.
  void Stop() noexcept override { cgroup_.reset(); }
  sdk::Result<sdk::TaskOutcome> Run(const sdk::TaskSpec& task, sdk::EventSink& events,
                                    const sdk::CancellationToken& cancel) override;

 private:
  // Gives the task's work folder to the sandbox's account (no-op without one).
  sdk::Status HandOverWorkDir(const std::string& work_dir) const;
  // cgroup.procs of the packages' cgroup, made on first use; -1 without one
  // (cgroup off, or auto and it could not be made: said once in the log).
  int CgroupProcsFd();
  // Kills what the package left in the cgroup (outside its group) and says so.
  void KillLeftovers(const sdk::TaskSpec& task, sdk::EventSink& events);

  Options options_;
  sdk::Logger& logger_;
  const Sandbox sandbox_;
  const PackageEnvironment environment_;  // over BaseEnvironment(options_.inherit_environment)
  PackageResolver packages_;
  std::unique_ptr<PackageCgroup> cgroup_;  // Run's thread only
  bool cgroup_failed_ = false;             // Run's thread only
};

}  // namespace scaleout::plugins::process

#endif  // SCALEOUT_PLUGINS_EXECUTORS_PROCESS_PROCESS_EXECUTOR_H_
