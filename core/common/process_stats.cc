#include "core/common/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace scaleout::core {
namespace {

std::optional<std::string> ReadWhole(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// /proc/stat's "btime N" line: when the machine booted, Unix seconds.
std::optional<double> BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double seconds = 0;
      if (in >> seconds) return seconds;
      return std::nullopt;
    }
    in.ignore(1 << 20, '\n');
  }
  return std::nullopt;
}

std::uint64_t CountOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  std::uint64_t count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count > 0 ? count - 1 : 0;  // not the descriptor of this listing
}

}  // namespace

std::optional<ProcessStats> ParseProcStat(std::string_view line, long ticks_per_second,
                                          long page_size, double boot_time_seconds) {
  // The command name (field 2) may hold spaces and parentheses: the fields
  // after it start after the last ')'.
  const std::size_t paren = line.rfind(')');
  if (paren == std::string_view::npos || ticks_per_second <= 0 || page_size <= 0) {
    return std::nullopt;
  }
  std::istringstream in{std::string(line.substr(paren + 1))};
  std::string state;  // field 3
  in >> state;
  // field[i] is field i + 4 of proc(5): utime 14, stime 15, num_threads 20,
  // starttime 22, vsize 23, rss 24.
  std::vector<long long> field;
  long long value = 0;
  while (field.size() < 21 && in >> value) field.push_back(value);
  if (field.size() < 21) return std::nullopt;
  auto at = [&field](int number) { return static_cast<double>(std::max(field[number - 4], 0LL)); };
  const auto ticks = static_cast<double>(ticks_per_second);
  ProcessStats stats;
  stats.cpu_seconds = (at(14) + at(15)) / ticks;
  stats.threads = static_cast<std::uint64_t>(at(20));
  stats.start_time_seconds = boot_time_seconds + at(22) / ticks;
  stats.virtual_bytes = static_cast<std::uint64_t>(at(23));
  stats.resident_bytes = static_cast<std::uint64_t>(at(24)) * static_cast<std::uint64_t>(page_size);
  return stats;
}

std::optional<ProcessStats> ReadProcessStats() {
  const std::optional<std::string> line = ReadWhole("/proc/self/stat");
  const std::optional<double> boot = BootTimeSeconds();
  if (!line || !boot) return std::nullopt;
  std::optional<ProcessStats> stats =
      ParseProcStat(*line, ::sysconf(_SC_CLK_TCK), ::sysconf(_SC_PAGESIZE), *boot);
  if (!stats) return std::nullopt;
  stats->open_fds = CountOpenFds();
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) stats->max_fds = limit.rlim_cur;
  return stats;
}

}  // namespace scaleout::core
