#include "core/worker/lease_keeper.h"

#include <gtest/gtest.h>

namespace scaleout::core::worker {
namespace {

constexpr std::int64_t kLease = 60'000;       // LeaseInterval
constexpr std::int64_t kTolerance = 600'000;  // HeartbeatErrorTolerance
const std::string kTask = "8D3F1A0C-4B7E-4F2A-9C61-0E5B2D7A9F13";

protocol::TaskHeartbeatReply Reply(protocol::LeaseStatus status) {
  protocol::TaskHeartbeatReply reply;
  reply.tasks.push_back({kTask, status, 0});
  return reply;
}

TEST(LeaseKeeperTest, FenceDeadlineComesBeforeTheMastersExpiry) {
  LeaseKeeper keeper(kTolerance);
  keeper.Add(kTask, 3, kLease, /*granted_send_ms=*/1'000);
  // Master-side expiry is at least grant receive time + lease >= 61 000.
  ASSERT_TRUE(keeper.DeadlineOf(kTask).has_value());
  EXPECT_EQ(*keeper.DeadlineOf(kTask), 1'000 + kLease - kLease / 3);
  EXPECT_LT(*keeper.DeadlineOf(kTask), 1'000 + kLease);
  EXPECT_TRUE(keeper.CheckDeadlines(40'999).empty());
  auto actions = keeper.CheckDeadlines(41'000);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, LeaseAction::Kind::kKill);
  EXPECT_TRUE(actions[0].report_result);
  EXPECT_TRUE(keeper.CheckDeadlines(50'000).empty());  // reported once
  EXPECT_TRUE(keeper.LeasesToRenew().empty());
}

TEST(LeaseKeeperTest, RenewalMovesTheDeadlineFromTheSendTime) {
  LeaseKeeper keeper(kTolerance);
  keeper.Add(kTask, 3, kLease, 0);
  // Sent at 10 s, answered much later: the deadline counts from the send.
  EXPECT_TRUE(keeper.OnHeartbeatReply(10'000, Reply(protocol::LeaseStatus::kRenewed)).empty());
  EXPECT_EQ(*keeper.DeadlineOf(kTask), 10'000 + 40'000);
  // A late answer to an older heartbeat never moves the deadline back.
  EXPECT_TRUE(keeper.OnHeartbeatReply(5'000, Reply(protocol::LeaseStatus::kRenewed)).empty());
  EXPECT_EQ(*keeper.DeadlineOf(kTask), 50'000);
  ASSERT_EQ(keeper.LeasesToRenew().size(), 1u);
  EXPECT_EQ(keeper.LeasesToRenew()[0].lease_epoch, 3);
}

TEST(LeaseKeeperTest, FailingRenewalsKillBeforeExpiryNotAtTolerance) {
  LeaseKeeper keeper(kTolerance);
  keeper.Add(kTask, 1, kLease, 0);
  ASSERT_TRUE(keeper.OnHeartbeatReply(0, Reply(protocol::LeaseStatus::kRenewed)).empty());
  const auto unreachable = sdk::Status::Unavailable("connection refused");
  std::int64_t killed_at = -1;
  for (std::int64_t t = 10'000; t <= 120'000 && killed_at < 0; t += 10'000) {
    // A heartbeat every 10 s, each failing at once; the watchdog checks in between.
    if (!keeper.OnHeartbeatFailure(t, t, unreachable).empty()) killed_at = t;
    for (std::int64_t w = t; w < t + 10'000 && killed_at < 0; w += 1'000) {
      if (!keeper.CheckDeadlines(w).empty()) killed_at = w;
    }
  }
  // Killed at the fence deadline (40 s), 20 s before the master may expire
  // the lease (60 s after it last heard from us), long before the tolerance.
  EXPECT_EQ(killed_at, 40'000);
}

TEST(LeaseKeeperTest, HeartbeatErrorToleranceKillsWhenShorterThanTheLease) {
  LeaseKeeper keeper(/*heartbeat_error_tolerance_ms=*/20'000);
  keeper.Add(kTask, 1, kLease, 0);
  EXPECT_TRUE(keeper.OnHeartbeatFailure(10'000, 10'000, sdk::Status::Internal("boom")).empty());
  auto actions = keeper.OnHeartbeatFailure(20'000, 20'000, sdk::Status::Internal("boom"));
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, LeaseAction::Kind::kKill);
  EXPECT_NE(actions[0].reason.find("HeartbeatErrorTolerance"), std::string::npos);
}

TEST(LeaseKeeperTest, StaleAndUnknownKillWithoutAResult) {
  for (auto status : {protocol::LeaseStatus::kStale, protocol::LeaseStatus::kUnknown}) {
    LeaseKeeper keeper(kTolerance);
    keeper.Add(kTask, 1, kLease, 0);
    auto actions = keeper.OnHeartbeatReply(5'000, Reply(status));
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].kind, LeaseAction::Kind::kKill);
    EXPECT_FALSE(actions[0].report_result);
    EXPECT_TRUE(keeper.LeasesToRenew().empty());
    EXPECT_FALSE(keeper.NextDeadline().has_value());
  }
}

TEST(LeaseKeeperTest, StopRequestedCancelsOnceAndKeepsRenewing) {
  LeaseKeeper keeper(kTolerance);
  keeper.Add(kTask, 1, kLease, 0);
  auto actions = keeper.OnHeartbeatReply(5'000, Reply(protocol::LeaseStatus::kStopRequested));
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, LeaseAction::Kind::kCancel);
  EXPECT_TRUE(actions[0].report_result);
  EXPECT_TRUE(
      keeper.OnHeartbeatReply(15'000, Reply(protocol::LeaseStatus::kStopRequested)).empty());
  EXPECT_EQ(keeper.LeasesToRenew().size(), 1u);
  EXPECT_EQ(*keeper.DeadlineOf(kTask), 15'000 + 40'000);
}

TEST(LeaseKeeperTest, TaskMissingFromTheAnswerIsNotRenewed) {
  LeaseKeeper keeper(kTolerance);
  keeper.Add(kTask, 1, kLease, 0);
  protocol::TaskHeartbeatReply empty;
  EXPECT_TRUE(keeper.OnHeartbeatReply(30'000, empty).empty());
  EXPECT_EQ(*keeper.DeadlineOf(kTask), 40'000);
  EXPECT_EQ(keeper.CheckDeadlines(40'000).size(), 1u);
}

TEST(LeaseKeeperTest, AClaimedLeaseIsFirstRenewedOneHeartbeatIntervalAfterTheClaim) {
  constexpr std::int64_t kHeartbeat = kLease / 6;  // 10 s, at most a third of the lease
  LeaseKeeper keeper(kTolerance);
  EXPECT_FALSE(keeper.NextRenewalDue(kHeartbeat).has_value());
  keeper.Add(kTask, 1, kLease, /*granted_send_ms=*/1'000);
  // The claim is the first renewal: nothing is due until 10 s after its send,
  // which still leaves a third of the lease before the fence deadline.
  ASSERT_TRUE(keeper.NextRenewalDue(kHeartbeat).has_value());
  EXPECT_EQ(*keeper.NextRenewalDue(kHeartbeat), 11'000);
  EXPECT_LE(*keeper.NextRenewalDue(kHeartbeat) + kLease / 3, *keeper.DeadlineOf(kTask));

  // Renewed with a heartbeat sent at 11 s: due again at 21 s.
  keeper.OnRenewalSent(11'000);
  ASSERT_TRUE(keeper.OnHeartbeatReply(11'000, Reply(protocol::LeaseStatus::kRenewed)).empty());
  EXPECT_EQ(*keeper.NextRenewalDue(kHeartbeat), 21'000);
  EXPECT_EQ(*keeper.DeadlineOf(kTask), 11'000 + 40'000);
}

TEST(LeaseKeeperTest, AFailedRenewalIsRetriedOneIntervalLaterWithoutMovingTheDeadline) {
  constexpr std::int64_t kHeartbeat = 10'000;
  LeaseKeeper keeper(kTolerance);
  keeper.Add(kTask, 1, kLease, 0);
  keeper.OnRenewalSent(10'000);
  EXPECT_TRUE(
      keeper.OnHeartbeatFailure(10'000, 10'500, sdk::Status::Unavailable("refused")).empty());
  // Not due again at once (no tight retry loop), and the fence deadline
  // still counts from the claim.
  EXPECT_EQ(*keeper.NextRenewalDue(kHeartbeat), 20'000);
  EXPECT_EQ(*keeper.DeadlineOf(kTask), 40'000);
}

TEST(LeaseKeeperTest, ALeaseGivenUpIsNeverDue) {
  LeaseKeeper keeper(kTolerance);
  keeper.Add(kTask, 1, kLease, 0);
  ASSERT_EQ(keeper.OnHeartbeatReply(5'000, Reply(protocol::LeaseStatus::kStale)).size(), 1u);
  EXPECT_FALSE(keeper.NextRenewalDue(10'000).has_value());
}

}  // namespace
}  // namespace scaleout::core::worker
