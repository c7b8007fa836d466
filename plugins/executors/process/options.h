// Options: the settings of the executor/process plugin ([executor.process]).
//
// Thread-safety: a value type.
#ifndef SCALEOUT_PLUGINS_EXECUTORS_PROCESS_OPTIONS_H_
#define SCALEOUT_PLUGINS_EXECUTORS_PROCESS_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "scaleout/sdk/config.h"
#include "scaleout/sdk/status.h"

namespace scaleout::plugins::process {

struct Options {
  // Between SIGTERM and SIGKILL of the package's process group on cancel or timeout.
  std::int64_t kill_grace_ms = 5000;
  // Longer stdout/stderr lines are cut to this many bytes (and say so).
  std::size_t max_line_bytes = 8192;
  // Start packages with the task host's environment (minus SCALEOUT_* names);
  // false gives them only PATH=/usr/local/bin:/usr/bin:/bin and SCALEOUT_* names.
  bool inherit_environment = true;

  // The account packages run as (a name, or a number); empty: the task
  // host's own, as SSIS does (sandbox.h).
  std::string run_as_user;
  // Limits of each package, soft and hard (setrlimit); 0: the task host's own.
  std::int64_t max_open_files = 0;         // RLIMIT_NOFILE
  std::int64_t max_file_size_mb = 0;       // RLIMIT_FSIZE
  std::int64_t max_virtual_memory_mb = 0;  // RLIMIT_AS
  std::int64_t max_processes = 0;          // RLIMIT_NPROC, per account
  std::int64_t max_cpu_seconds = 0;        // RLIMIT_CPU
  // False: RLIMIT_CORE 0, a crashing package leaves no core file (which
  // would hold its parameters, sensitive ones too) in its task folder.
  bool core_dumps = false;
  // PR_SET_NO_NEW_PRIVS: a package cannot gain privileges through a
  // set-user-ID program (sudo, su) or file capabilities.
  bool no_new_privileges = true;
  // A cgroup for the packages (package_cgroup.h), so nothing a package
  // starts outlives it: kAuto uses one when this process may make it, kOn
  // refuses to start without one, kOff never makes one. Off by default:
  // moving each package into it costs about 100 us of CPU per package on a
  // virtual machine (docs/executors.md), a sixth of a small package's start.
  enum class Cgroup { kAuto, kOn, kOff };
  Cgroup cgroup = Cgroup::kOff;
};

// Reads and checks every key; kInvalidArgument naming the key otherwise.
sdk::Result<Options> ParseOptions(const sdk::ConfigView& config);

}  // namespace scaleout::plugins::process

#endif  // SCALEOUT_PLUGINS_EXECUTORS_PROCESS_OPTIONS_H_
