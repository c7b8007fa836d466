#include "core/common/process_stats.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace scaleout::core {
namespace {

// A real line of /proc/<pid>/stat (a process named "a (b) c", to check the
// parse reads the fields after the last parenthesis), fields 1 to 52.
constexpr std::string_view kLine =
    "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 1200 0 3 0 250 130 0 0 20 0 7 0 "
    "123456 1048576000 51200 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0";

TEST(ProcessStatsTest, ParsesTheFieldsOfAStatLine) {
  const auto stats = ParseProcStat(kLine, 100, 4096, 1'700'000'000.0);
  ASSERT_TRUE(stats.has_value());
  EXPECT_DOUBLE_EQ(stats->cpu_seconds, 3.8);  // (250 + 130) ticks at 100/s
  EXPECT_EQ(stats->threads, 7u);
  EXPECT_DOUBLE_EQ(stats->start_time_seconds, 1'700'000'000.0 + 1234.56);
  EXPECT_EQ(stats->virtual_bytes, 1048576000u);
  EXPECT_EQ(stats->resident_bytes, 51200u * 4096u);
}

TEST(ProcessStatsTest, RefusesWhatIsNotAStatLine) {
  EXPECT_FALSE(ParseProcStat("", 100, 4096, 0).has_value());
  EXPECT_FALSE(ParseProcStat("4242 (x) S 1 2 3", 100, 4096, 0).has_value());
  EXPECT_FALSE(
      ParseProcStat("4242 x S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21", 100, 4096, 0)
          .has_value());
  EXPECT_FALSE(ParseProcStat(kLine, 0, 4096, 0).has_value());
}

TEST(ProcessStatsTest, ThisProcessFiguresAreItsOwn) {
  // Burn a little CPU, so the figure must be above zero.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(60);
  volatile std::uint64_t spin = 0;
  while (std::chrono::steady_clock::now() < until) spin = spin + 1;
  std::thread helper([] { std::this_thread::sleep_for(std::chrono::milliseconds(200)); });
  const auto stats = ReadProcessStats();
  ASSERT_TRUE(stats.has_value());
  helper.join();
  EXPECT_GT(stats->cpu_seconds, 0.0);
  EXPECT_GT(stats->resident_bytes, 1u << 20);
  EXPECT_GE(stats->virtual_bytes, stats->resident_bytes);
  EXPECT_GE(stats->threads, 2u);
  EXPECT_GE(stats->open_fds, 3u);  // at least the standard three
  EXPECT_GE(stats->max_fds, stats->open_fds);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(stats->start_time_seconds, now + 1);
  EXPECT_GT(stats->start_time_seconds, now - 3600);  // this test started within the hour
}

}  // namespace
}  // namespace scaleout::core
