#include "core/worker/resources.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/common/ids.h"

namespace scaleout::core::worker {
namespace {

TEST(ResourcesTest, ParsesProcStat) {
  auto cpu = ParseProcStatCpu(
      "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\nintr 1 2 3\n");
  ASSERT_TRUE(cpu.has_value());
  EXPECT_EQ(cpu->first, 150u);    // busy: user + system
  EXPECT_EQ(cpu->second, 1000u);  // total
  EXPECT_FALSE(ParseProcStatCpu("intr 1 2\n").has_value());
  EXPECT_DOUBLE_EQ(CpuPercentBetween({150, 1000}, {250, 1200}), 50.0);
  EXPECT_DOUBLE_EQ(CpuPercentBetween({150, 1000}, {150, 1000}), 0.0);
}

TEST(ResourcesTest, ParsesMemInfo) {
  const char* text =
      "MemTotal:       16384000 kB\nMemFree:  1024 kB\nMemAvailable:    2048000 kB\n";
  EXPECT_DOUBLE_EQ(*ParseMemInfoMb(text, "MemAvailable"), 2000.0);
  EXPECT_DOUBLE_EQ(*ParseMemInfoMb(text, "MemTotal"), 16000.0);
  EXPECT_FALSE(ParseMemInfoMb(text, "SwapTotal").has_value());
}

TEST(ResourcesTest, ProcProbeReadsItsRoot) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("scaleout-proc-" + NewGuid());
  fs::create_directories(root);
  std::ofstream(root / "meminfo") << "MemTotal: 4096000 kB\nMemAvailable: 1024000 kB\n";
  std::ofstream(root / "stat") << "cpu  100 0 0 900 0 0 0 0\n";
  ProcResourceProbe probe(root.string());
  auto first = probe.Sample();
  EXPECT_DOUBLE_EQ(first.free_memory_mb, 1000.0);
  EXPECT_EQ(first.total_memory_mb, 4000);
  EXPECT_DOUBLE_EQ(first.cpu_percent, 0.0);  // no previous sample yet
  std::ofstream(root / "stat") << "cpu  190 0 0 910 0 0 0 0\n";
  EXPECT_DOUBLE_EQ(probe.Sample().cpu_percent, 90.0);
  fs::remove_all(root);
  // The real /proc gives sane numbers.
  ProcResourceProbe real;
  auto sample = real.Sample();
  EXPECT_GT(sample.free_memory_mb, 0.0);
  EXPECT_GT(sample.cpu_count, 0);
}

TEST(ResourcesTest, AsksForWorkOnlyWithinEveryLimit) {
  const WorkLimits limits{10, 70.0, 100.0};
  ResourceSample idle{10.0, 4000.0, 8000, 4};
  auto d = DecideWorkRequest(limits, 3, idle);
  EXPECT_TRUE(d.ask);
  EXPECT_EQ(d.free_slots, 7);

  auto full = DecideWorkRequest(limits, 10, idle);
  EXPECT_FALSE(full.ask);
  EXPECT_NE(full.reason.find("MaxTaskCount"), std::string::npos);

  auto busy = DecideWorkRequest(limits, 0, ResourceSample{70.0, 4000.0, 8000, 4});
  EXPECT_FALSE(busy.ask);
  EXPECT_NE(busy.reason.find("TaskRequestMaxCPU"), std::string::npos);

  WorkLimits no_cpu_limit = limits;
  no_cpu_limit.max_cpu_percent = 100.0;
  EXPECT_TRUE(DecideWorkRequest(no_cpu_limit, 0, ResourceSample{100.0, 4000.0, 8000, 4}).ask);

  auto low = DecideWorkRequest(limits, 0, ResourceSample{5.0, 100.0, 8000, 4});
  EXPECT_FALSE(low.ask);
  EXPECT_NE(low.reason.find("TaskRequestMinMemory"), std::string::npos);
}

class CountingProbe final : public ResourceProbe {
 public:
  ResourceSample Sample() override {
    ++calls;
    return ResourceSample{static_cast<double>(calls), 1000.0, 8000, 4};
  }
  int calls = 0;
};

TEST(ResourcesTest, CachingProbeSamplesAtMostOncePerInterval) {
  CountingProbe inner;
  ManualClock clock;
  CachingResourceProbe probe(inner, clock, std::chrono::milliseconds(1000));
  EXPECT_EQ(probe.Sample().cpu_percent, 1.0);
  EXPECT_EQ(probe.Sample().cpu_percent, 1.0);  // the same sample, /proc not read again
  clock.Advance(std::chrono::milliseconds(999));
  EXPECT_EQ(probe.Sample().cpu_percent, 1.0);
  EXPECT_EQ(inner.calls, 1);
  clock.Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(probe.Sample().cpu_percent, 2.0);
  EXPECT_EQ(inner.calls, 2);
}

}  // namespace
TEST(ResourcesTest, PauseAfterWorkRequestNeverDelaysWorkThatMayBeWaiting) {
  using std::chrono::milliseconds;
  WorkRequestRound round;
  round.wait = milliseconds(15'000);
  round.retry_backoff = milliseconds(5'000);
  // Tasks came: ask again at once (more may be queued).
  round.started = 2;
  round.took = milliseconds(3);
  EXPECT_EQ(PauseAfterWorkRequest(round), milliseconds(0));
  // The master held an empty request for the whole wait: no nap, so a task
  // started right then is not left waiting for one.
  round.started = 0;
  round.took = milliseconds(15'000);
  EXPECT_EQ(PauseAfterWorkRequest(round), milliseconds(0));
  round.took = milliseconds(13'600);  // about the whole wait (clock steps)
  EXPECT_EQ(PauseAfterWorkRequest(round), milliseconds(0));
  // Empty at once (or not sent: a busy machine): a short nap, no spinning.
  round.took = milliseconds(2);
  EXPECT_EQ(PauseAfterWorkRequest(round), milliseconds(500));
  round.took = milliseconds(0);
  EXPECT_EQ(PauseAfterWorkRequest(round), milliseconds(500));
  round.wait = milliseconds(0);
  EXPECT_EQ(PauseAfterWorkRequest(round), milliseconds(500));
  // Empty at once because it reported results: the long-poll comes next, now.
  round.carried_results = true;
  EXPECT_EQ(PauseAfterWorkRequest(round), milliseconds(0));
  // Full: until an ended task pokes it.
  round.full = true;
  EXPECT_EQ(PauseAfterWorkRequest(round), milliseconds(1'000));
  // Failed: the retry backoff, whatever else.
  round.failed = true;
  round.started = 1;
  EXPECT_EQ(PauseAfterWorkRequest(round), milliseconds(5'000));
}

}  // namespace scaleout::core::worker
