#include "core/worker/resources.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace scaleout::core::worker {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

std::optional<std::pair<std::uint64_t, std::uint64_t>> ParseProcStatCpu(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cpu ", 0) != 0) continue;
    std::istringstream fields(line.substr(4));
    std::vector<std::uint64_t> values;
    std::uint64_t v = 0;
    while (fields >> v) values.push_back(v);
    if (values.size() < 4) return std::nullopt;
    // user nice system idle iowait irq softirq steal [guest guest_nice]:
    // guest time is already counted in user, so only the first 8 add up.
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < values.size() && i < 8; ++i) total += values[i];
    std::uint64_t idle = values[3] + (values.size() > 4 ? values[4] : 0);
    return std::make_pair(total - idle, total);
  }
  return std::nullopt;
}

double CpuPercentBetween(std::pair<std::uint64_t, std::uint64_t> before,
                         std::pair<std::uint64_t, std::uint64_t> after) {
  if (after.second <= before.second || after.first < before.first) return 0.0;
  const double busy = static_cast<double>(after.first - before.first);
  const double total = static_cast<double>(after.second - before.second);
  double percent = 100.0 * busy / total;
  return percent > 100.0 ? 100.0 : percent;
}

std::optional<double> ParseMemInfoMb(std::string_view text, std::string_view field) {
  std::istringstream in{std::string(text)};
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    std::istringstream rest(line.substr(prefix.size()));
    double kb = 0;
    if (!(rest >> kb)) return std::nullopt;
    return kb / 1024.0;
  }
  return std::nullopt;
}

ProcResourceProbe::ProcResourceProbe(std::string proc_root) : root_(std::move(proc_root)) {}

ResourceSample ProcResourceProbe::Sample() {
  ResourceSample sample;
  const std::string meminfo = ReadText(root_ + "/meminfo");
  sample.free_memory_mb = ParseMemInfoMb(meminfo, "MemAvailable").value_or(0.0);
  sample.total_memory_mb =
      static_cast<std::int64_t>(ParseMemInfoMb(meminfo, "MemTotal").value_or(0.0));
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  sample.cpu_count = cpus > 0 ? static_cast<int>(cpus) : 0;
  auto cpu = ParseProcStatCpu(ReadText(root_ + "/stat"));
  std::lock_guard lock(mutex_);
  if (cpu && last_cpu_) sample.cpu_percent = CpuPercentBetween(*last_cpu_, *cpu);
  if (cpu) last_cpu_ = cpu;
  return sample;
}

WorkDecision DecideWorkRequest(const WorkLimits& limits, int running_tasks,
                               const ResourceSample& sample) {
  WorkDecision d;
  d.free_slots = limits.max_task_count - running_tasks;
  if (d.free_slots <= 0) {
    d.free_slots = 0;
    d.reason = "running " + std::to_string(running_tasks) + " tasks, MaxTaskCount is " +
               std::to_string(limits.max_task_count);
    return d;
  }
  // 100 % is no limit: a saturated machine reads exactly 100.
  if (limits.max_cpu_percent < 100.0 && sample.cpu_percent >= limits.max_cpu_percent) {
    d.reason = "CPU at " + std::to_string(static_cast<int>(sample.cpu_percent)) +
               "%, TaskRequestMaxCPU is " +
               std::to_string(static_cast<int>(limits.max_cpu_percent)) + "%";
    return d;
  }
  if (sample.free_memory_mb <= limits.min_free_memory_mb) {
    d.reason = std::to_string(static_cast<long long>(sample.free_memory_mb)) +
               " MB free, TaskRequestMinMemory is " +
               std::to_string(static_cast<long long>(limits.min_free_memory_mb)) + " MB";
    return d;
  }
  d.ask = true;
  return d;
}

ResourceSample CachingResourceProbe::Sample() {
  std::lock_guard lock(mutex_);
  const std::int64_t now = clock_.SteadyMillis();
  if (!sampled_at_ms_ || now - *sampled_at_ms_ >= max_age_.count()) {
    last_ = inner_.Sample();
    sampled_at_ms_ = now;
  }
  return last_;
}

std::chrono::milliseconds PauseAfterWorkRequest(const WorkRequestRound& round) {
  using std::chrono::milliseconds;
  if (round.failed) return round.retry_backoff;
  if (round.started > 0) return milliseconds(0);
  if (round.full) return milliseconds(1'000);
  // Answered at once for its results: the next request is the long-poll.
  if (round.carried_results) return milliseconds(0);
  const bool held_for_the_wait = round.wait.count() > 0 && round.took * 10 >= round.wait * 9;
  return held_for_the_wait ? milliseconds(0) : milliseconds(500);
}

}  // namespace scaleout::core::worker
