// Machine resources (CPU, memory) and the rule for asking the master for work.
//
// SSIS asks for tasks only while the worker holds fewer than MaxTaskCount,
// the CPU is below TaskRequestMaxCPU percent and more than
// TaskRequestMinMemory MB are free. CPU is the whole machine's busy share
// since the previous sample (/proc/stat); free memory is MemAvailable
// (/proc/meminfo), which counts reclaimable cache, unlike MemFree.
#ifndef SCALEOUT_CORE_WORKER_RESOURCES_H_
#define SCALEOUT_CORE_WORKER_RESOURCES_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/clock.h"

namespace scaleout::core::worker {

struct ResourceSample {
  double cpu_percent = 0;     // 0..100, whole machine
  double free_memory_mb = 0;  // MemAvailable
  std::int64_t total_memory_mb = 0;
  int cpu_count = 0;
};

// Thread-safety: Sample() may be called from any thread.
class ResourceProbe {
 public:
  virtual ~ResourceProbe() = default;
  virtual ResourceSample Sample() = 0;
};

// Reads /proc (the root is injectable so tests can feed their own files).
class ProcResourceProbe final : public ResourceProbe {
 public:
  explicit ProcResourceProbe(std::string proc_root = "/proc");
  ResourceSample Sample() override;

 private:
  std::string root_;
  std::mutex mutex_;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> last_cpu_;  // (busy, total) jiffies
};

// Samples `inner` at most once per `max_age` of `clock` time and answers
// with the last sample in between, so a worker asking for work many times a
// second does not read /proc each time (and its CPU figure covers a window
// long enough to mean something). Both must outlive it.
class CachingResourceProbe final : public ResourceProbe {
 public:
  CachingResourceProbe(ResourceProbe& inner, Clock& clock, std::chrono::milliseconds max_age)
      : inner_(inner), clock_(clock), max_age_(max_age) {}
  ResourceSample Sample() override;

 private:
  ResourceProbe& inner_;
  Clock& clock_;
  const std::chrono::milliseconds max_age_;
  std::mutex mutex_;
  std::optional<std::int64_t> sampled_at_ms_;  // guarded by mutex_; steady clock
  ResourceSample last_;                        // guarded by mutex_
};

// The "cpu " line of /proc/stat as (busy, total) jiffies; nullopt if absent.
std::optional<std::pair<std::uint64_t, std::uint64_t>> ParseProcStatCpu(std::string_view text);
// Busy percent between two (busy, total) samples; 0 when no time passed.
double CpuPercentBetween(std::pair<std::uint64_t, std::uint64_t> before,
                         std::pair<std::uint64_t, std::uint64_t> after);
// A field of /proc/meminfo ("MemAvailable") in MB; nullopt if absent.
std::optional<double> ParseMemInfoMb(std::string_view text, std::string_view field);

struct WorkLimits {
  int max_task_count = 10;            // MaxTaskCount
  double max_cpu_percent = 70.0;      // TaskRequestMaxCPU
  double min_free_memory_mb = 100.0;  // TaskRequestMinMemory
};

struct WorkDecision {
  bool ask = false;    // request work now
  int free_slots = 0;  // how many tasks to ask for
  std::string reason;  // why not, for the log
};

WorkDecision DecideWorkRequest(const WorkLimits& limits, int running_tasks,
                               const ResourceSample& sample);

// One round of the poll loop as it ended, for PauseAfterWorkRequest.
struct WorkRequestRound {
  bool failed = false;                // the request failed (master away, error)
  int started = 0;                    // tasks the answer started
  bool full = false;                  // no free slot left (MaxTaskCount reached)
  std::chrono::milliseconds wait{0};  // the long-poll wait asked for
  std::chrono::milliseconds took{0};  // from sending to the answer (0: not sent)
  bool carried_results = false;       // it reported results, so it was answered at once
  std::chrono::milliseconds retry_backoff{5'000};
};

// How long the poll loop sleeps before its next request (a poke ends the
// sleep early): the retry backoff after a failure; up to 1 s when full (a
// task that ends pokes it); nothing after tasks came, after a request that
// reported results (answered at once, so the long-poll is still to come), or
// after the master held an empty request for (about) the whole wait, since a
// nap then would only delay the next task; 500 ms otherwise (the request was
// not sent, the machine being busy, or came back empty at once), so the loop
// cannot spin.
std::chrono::milliseconds PauseAfterWorkRequest(const WorkRequestRound& round);

}  // namespace scaleout::core::worker

#endif  // SCALEOUT_CORE_WORKER_RESOURCES_H_
