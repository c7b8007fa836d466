#include "core/common/clock.h"

#include <gtest/gtest.h>

#include <thread>

namespace scaleout::core {
namespace {

TEST(ManualClockTest, MovesOnlyWhenAdvanced) {
  ManualClock clock(1000);
  EXPECT_EQ(clock.NowUnixMillis(), 1000);
  EXPECT_EQ(clock.SteadyMillis(), 0);
  clock.Advance(Millis(250));
  EXPECT_EQ(clock.NowUnixMillis(), 1250);
  EXPECT_EQ(clock.SteadyMillis(), 250);
}

TEST(ManualClockTest, SleeperWakesWhenTimeReachesDeadline) {
  ManualClock clock;
  std::atomic<bool> wake{false};
  std::atomic<bool> done{false};
  std::thread sleeper([&] {
    EXPECT_FALSE(clock.SleepFor(Millis(3'600'000), wake));  // an hour of clock time
    done = true;
  });
  clock.WaitForSleepers(1);
  clock.Advance(Millis(1'800'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(done.load());
  clock.Advance(Millis(1'800'000));
  sleeper.join();
  EXPECT_TRUE(done.load());
}

TEST(ManualClockTest, WakeFlagEndsSleepEarly) {
  ManualClock clock;
  std::atomic<bool> wake{false};
  std::thread sleeper([&] { EXPECT_TRUE(clock.SleepFor(Millis(1'000'000), wake)); });
  wake = true;
  clock.WakeAll();
  sleeper.join();
}

TEST(FormatUtcTest, Iso8601WithMillis) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUtc(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
}

}  // namespace
}  // namespace scaleout::core
