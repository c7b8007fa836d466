#include "core/common/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

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

// A deadline counts time that passed before the sleep began: advancing past
// it first makes the sleep return at once, and advancing up to it ends it.
TEST(ManualClockTest, SleepUntilIsADeadlineNotADuration) {
  ManualClock clock;
  std::atomic<bool> wake{false};
  const std::int64_t deadline = clock.SteadyMillis() + 50;
  clock.Advance(Millis(60));  // passes while the caller is between its read and its sleep
  EXPECT_FALSE(clock.SleepUntil(deadline, wake));

  std::thread sleeper([&] { EXPECT_FALSE(clock.SleepUntil(clock.SteadyMillis() + 100, wake)); });
  clock.WaitForSleepers(1);
  clock.Advance(Millis(100));
  sleeper.join();

  SystemClock& system = SystemClock::Instance();
  EXPECT_FALSE(system.SleepUntil(system.SteadyMillis() - 1, wake));
  std::atomic<bool> already{true};
  EXPECT_TRUE(system.SleepUntil(system.SteadyMillis() + 60'000, already));
}

TEST(ManualClockTest, WakeFlagEndsSleepEarly) {
  ManualClock clock;
  std::atomic<bool> wake{false};
  std::thread sleeper([&] { EXPECT_TRUE(clock.SleepFor(Millis(1'000'000), wake)); });
  wake = true;
  clock.WakeAll();
  sleeper.join();
}

// Wake(flag) ends the sleep on that flag; the sleeps on other flags go on
// until their own flag is set (whatever wake-ups a shared bucket costs them).
// A flag set before the sleep ends it at once. A lost wake-up would leave a
// sleeper for its whole minute and fail below.
TEST(SystemClockTest, WakeEndsOnlyTheSleepOnThatFlag) {
  SystemClock& clock = SystemClock::Instance();
  std::atomic<bool> flags[8] = {};  // neighbours in memory, like an object's members
  std::atomic<int> woken{0};
  std::vector<std::thread> sleepers;
  std::vector<int> results(8, -1);
  sleepers.reserve(8);
  for (int i = 0; i < 8; ++i) {
    sleepers.emplace_back([&, i] {
      results[i] = clock.SleepFor(Millis(60'000), flags[i]) ? 1 : 0;
      woken.fetch_add(1);
    });
  }
  for (int i = 0; i < 8; ++i) {
    // Each sleeper in turn; the ones not yet woken must still be asleep.
    flags[i].store(true);
    clock.Wake(flags[i]);
    while (woken.load() < i + 1) std::this_thread::yield();
    EXPECT_EQ(woken.load(), i + 1) << "a sleep ended before its flag was set";
  }
  for (std::thread& t : sleepers) t.join();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(results[i], 1) << "sleeper " << i;
  std::atomic<bool> already{true};
  EXPECT_TRUE(clock.SleepFor(Millis(60'000), already));
}

TEST(FormatUtcTest, Iso8601WithMillis) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUtc(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
}

}  // namespace
}  // namespace scaleout::core
