// The spec file: everything the task host needs, handed over on disk.
//
// The launcher writes it into the task's work dir with mode 0600 (created
// exclusively, never following a symlink) because parameter values may be
// sensitive; the task host reads it and deletes it before the executor runs.
// So sensitive values never appear on a command line or in the environment
// of the task host itself.
//
// Thread-safety: pure functions on values.
#ifndef SCALEOUT_CORE_TASKHOST_SPEC_FILE_H_
#define SCALEOUT_CORE_TASKHOST_SPEC_FILE_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "scaleout/sdk/executor.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::taskhost {

// Largest spec file the task host reads.
inline constexpr std::size_t kMaxSpecFileBytes = 16u << 20;

struct TaskHostSpec {
  sdk::TaskSpec task;
  std::map<std::string, std::string, std::less<>> executor_config;
  std::string log_file;         // empty: no task log
  std::uint32_t log_level = 0;  // TaskLogLevel bitmask
  int parent_death_signal = 0;  // 0: none
  pid_t parent_pid = 0;         // the launcher's pid, to detect a parent already gone
};

// A JSON object's text; it reads back with SpecFromJson, or spliced as a
// value into a larger document, with SpecFromJsonValue.
std::string SpecToJson(const TaskHostSpec& spec);
// kInvalidArgument naming the first missing or mistyped field.
sdk::Result<TaskHostSpec> SpecFromJson(std::string_view text);
sdk::Result<TaskHostSpec> SpecFromJsonValue(const nlohmann::json& root);

// Replaces any stale file at `path` and writes a new one with mode 0600.
sdk::Status WriteSpecFile(const std::string& path, const TaskHostSpec& spec);
// Reads and parses; deletes the file afterwards when `remove` (even when it
// does not parse, so a secret is never left behind). kNotFound, kInvalidArgument.
sdk::Result<TaskHostSpec> ReadSpecFile(const std::string& path, bool remove);

}  // namespace scaleout::core::taskhost

#endif  // SCALEOUT_CORE_TASKHOST_SPEC_FILE_H_
