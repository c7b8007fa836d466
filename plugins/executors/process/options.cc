#include "plugins/executors/process/options.h"

namespace scaleout::plugins::process {

sdk::Result<Options> ParseOptions(const sdk::ConfigView& config) {
  SCALEOUT_RETURN_IF_ERROR(config.CheckKnownKeys(
      {"kill_grace_ms", "max_line_bytes", "inherit_environment", "run_as_user", "max_open_files",
       "max_file_size_mb", "max_virtual_memory_mb", "max_processes", "max_cpu_seconds",
       "core_dumps", "no_new_privileges", "cgroup"}));
  Options options;
  SCALEOUT_ASSIGN_OR_RETURN(options.kill_grace_ms,
                            config.GetInt("kill_grace_ms", options.kill_grace_ms, 0, 3'600'000));
  SCALEOUT_ASSIGN_OR_RETURN(auto line_bytes, config.GetInt("max_line_bytes", 8192, 64, 1 << 20));
  options.max_line_bytes = static_cast<std::size_t>(line_bytes);
  SCALEOUT_ASSIGN_OR_RETURN(options.inherit_environment,
                            config.GetBool("inherit_environment", options.inherit_environment));
  options.run_as_user = config.GetString("run_as_user");
  // Upper bounds keep every value within the kernel's 64-bit limits once
  // converted to bytes; a package needs at least a few descriptors.
  SCALEOUT_ASSIGN_OR_RETURN(options.max_open_files, config.GetInt("max_open_files", 0, 0, 1 << 30));
  SCALEOUT_ASSIGN_OR_RETURN(options.max_file_size_mb,
                            config.GetInt("max_file_size_mb", 0, 0, std::int64_t{1} << 40));
  SCALEOUT_ASSIGN_OR_RETURN(options.max_virtual_memory_mb,
                            config.GetInt("max_virtual_memory_mb", 0, 0, std::int64_t{1} << 40));
  SCALEOUT_ASSIGN_OR_RETURN(options.max_processes, config.GetInt("max_processes", 0, 0, 1 << 30));
  SCALEOUT_ASSIGN_OR_RETURN(options.max_cpu_seconds,
                            config.GetInt("max_cpu_seconds", 0, 0, std::int64_t{1} << 40));
  SCALEOUT_ASSIGN_OR_RETURN(options.core_dumps, config.GetBool("core_dumps", options.core_dumps));
  SCALEOUT_ASSIGN_OR_RETURN(options.no_new_privileges,
                            config.GetBool("no_new_privileges", options.no_new_privileges));
  const std::string cgroup = config.GetString("cgroup", "off");
  if (cgroup == "auto") {
    options.cgroup = Options::Cgroup::kAuto;
  } else if (cgroup == "on") {
    options.cgroup = Options::Cgroup::kOn;
  } else if (cgroup == "off") {
    options.cgroup = Options::Cgroup::kOff;
  } else {
    return sdk::Status::InvalidArgument("executor.process.cgroup must be auto, on or off, got '" +
                                        cgroup + "'");
  }
  return options;
}

}  // namespace scaleout::plugins::process
