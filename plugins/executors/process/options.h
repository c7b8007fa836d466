// Options: the settings of the executor/process plugin ([executor.process]).
//
// Thread-safety: a value type.
#ifndef SCALEOUT_PLUGINS_EXECUTORS_PROCESS_OPTIONS_H_
#define SCALEOUT_PLUGINS_EXECUTORS_PROCESS_OPTIONS_H_

#include <cstddef>
#include <cstdint>

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
};

// Reads and checks every key; kInvalidArgument naming the key otherwise.
sdk::Result<Options> ParseOptions(const sdk::ConfigView& config);

}  // namespace scaleout::plugins::process

#endif  // SCALEOUT_PLUGINS_EXECUTORS_PROCESS_OPTIONS_H_
