// ProcessStats: this process's resource use from /proc/self, the figures
// Prometheus client libraries export as process_* (the master's /metrics).
//
// Thread-safety: ReadProcessStats() reads files only; any thread.
#ifndef SCALEOUT_CORE_COMMON_PROCESS_STATS_H_
#define SCALEOUT_CORE_COMMON_PROCESS_STATS_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace scaleout::core {

struct ProcessStats {
  double cpu_seconds = 0;  // user + system, every thread
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t threads = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;      // the soft RLIMIT_NOFILE
  double start_time_seconds = 0;  // Unix time the process started
};

// Reads /proc/self (stat, fd) and /proc/stat's boot time. nullopt when
// /proc is not there (not Linux, or not mounted).
std::optional<ProcessStats> ReadProcessStats();

// The fields of a /proc/<pid>/stat line that ProcessStats uses, given the
// clock ticks per second, the page size and the boot time (Unix seconds).
// nullopt when the line is not one.
std::optional<ProcessStats> ParseProcStat(std::string_view line, long ticks_per_second,
                                          long page_size, double boot_time_seconds);

}  // namespace scaleout::core

#endif  // SCALEOUT_CORE_COMMON_PROCESS_STATS_H_
