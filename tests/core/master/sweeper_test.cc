// Sweeper on a ManualClock: intervals, the first-run delay (restart grace),
// failing jobs, RunNow, Stop. The sweeps' behaviour with two masters on one
// catalog is checked end to end (tests/e2e/scaleout/two_masters_e2e_test.cc).
#include "core/master/sweeper.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "tests/support/test_util.h"

namespace scaleout::core::master {
namespace {

using std::chrono::milliseconds;

// Waits (real time, no deadline of its own: the test's timeout bounds it)
// until `predicate` holds.
template <typename Predicate>
void Await(Predicate predicate) {
  while (!predicate()) std::this_thread::sleep_for(milliseconds(1));
}

class SweeperTest : public ::testing::Test {
 protected:
  // Advances the clock once the sweeper thread sleeps on it (so that the
  // jump is seen by a sleep, not skipped before one starts).
  void Advance(std::int64_t ms) {
    clock_.WaitForSleepers(1);
    clock_.Advance(milliseconds(ms));
  }

  ManualClock clock_;
  test::CapturingLogger logger_;
};

TEST_F(SweeperTest, JobsRunAtTheirIntervalsAfterTheirFirstDelay) {
  Sweeper sweeper(clock_, logger_);
  std::atomic<int> a{0};
  std::atomic<int> b{0};
  sweeper.Add({"a", 100, 0, [&] {
                 ++a;
                 return sdk::Status::Ok();
               }});
  // A job with a first-run delay (the expired-task sweep's restart grace).
  sweeper.Add({"b", 1000, 300, [&] {
                 ++b;
                 return sdk::Status::Ok();
               }});
  sweeper.Start();
  Await([&] { return sweeper.runs("a") == 1; });
  EXPECT_EQ(b.load(), 0);
  Advance(100);
  Await([&] { return sweeper.runs("a") == 2; });
  EXPECT_EQ(sweeper.runs("b"), 0) << "b must wait for its first delay";
  Advance(200);  // t = 300
  Await([&] { return sweeper.runs("b") == 1; });
  EXPECT_EQ(sweeper.runs("a"), 3);
  Advance(999);  // t = 1299: b is due at 1300
  Await([&] { return sweeper.runs("a") == 4; });
  EXPECT_EQ(sweeper.runs("b"), 1);
  Advance(1);
  Await([&] { return sweeper.runs("b") == 2; });
  sweeper.Stop();
  EXPECT_EQ(a.load(), sweeper.runs("a"));
  EXPECT_EQ(b.load(), 2);
  EXPECT_EQ(sweeper.runs("unknown"), -1);
}

TEST_F(SweeperTest, FailingJobIsLoggedAndRunsAgainAtItsNextInterval) {
  Sweeper sweeper(clock_, logger_);
  sweeper.Add({"expired-tasks", 500, 0,
               [] { return sdk::Status::Unavailable("lost the connection to the catalog"); }});
  sweeper.Start();
  Await([&] { return sweeper.runs("expired-tasks") == 1; });
  Advance(500);
  Await([&] { return sweeper.runs("expired-tasks") == 2; });
  sweeper.Stop();
  EXPECT_TRUE(logger_.Contains("sweep 'expired-tasks' failed"));
  EXPECT_TRUE(logger_.Contains("lost the connection to the catalog"));
}

TEST_F(SweeperTest, RunNowRunsTheJobOnTheCallersThreadOneAtATime) {
  Sweeper sweeper(clock_, logger_);
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::thread::id ran_on;
  sweeper.Add({"cleanup", 1'000'000, 1'000'000, [&] {
                 most = std::max(most.load(), ++inside);
                 ran_on = std::this_thread::get_id();
                 std::this_thread::sleep_for(milliseconds(2));
                 --inside;
                 return sdk::Status::Ok();
               }});
  sweeper.Start();
  std::thread other([&] {
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(sweeper.RunNow("cleanup").ok());
  });
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(sweeper.RunNow("cleanup").ok());
  other.join();
  EXPECT_EQ(most.load(), 1) << "two runs of the sweeper's jobs overlapped";
  EXPECT_EQ(sweeper.runs("cleanup"), 40);
  ASSERT_TRUE(sweeper.RunNow("cleanup").ok());
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  const sdk::Status missing = sweeper.RunNow("no-such-job");
  EXPECT_EQ(missing.code(), sdk::StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("no-such-job"), std::string::npos);
}

TEST_F(SweeperTest, StopReturnsWhileTheClockStandsStillAndIsIdempotent) {
  Sweeper sweeper(clock_, logger_);
  sweeper.Add({"heartbeat", 60'000, 0, [] { return sdk::Status::Ok(); }});
  sweeper.Start();
  clock_.WaitForSleepers(1);
  sweeper.Stop();
  sweeper.Stop();
  EXPECT_EQ(sweeper.runs("heartbeat"), 1);
}

}  // namespace
}  // namespace scaleout::core::master
