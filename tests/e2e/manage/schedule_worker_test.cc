// Schedules on a real cluster: a master and a worker as child processes
// (HTTPS with mutual TLS, a SQLite catalog, task-host children), driven with
// `scaleout manage`. A one-second schedule fires and its executions run on
// the worker to success; a master that was down while ticks passed fires the
// schedule once when it comes back, not once per missed tick.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "core/common/clock.h"
#include "tests/e2e/scaleout/cluster.h"

namespace scaleout::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr int kSucceeded = 7;

// A cluster with one enabled worker and project F/P holding tick.sh, run in
// Scale Out by default (the cluster sets DEFAULT_EXECUTION_MODE=ScaleOut).
class ScheduleOnWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.StartMaster();
    ASSERT_FALSE(HasFatalFailure());
    agent_id_ = cluster_.AddWorker("w1");
    ASSERT_FALSE(HasFatalFailure());
    WriteFile(cluster_.dir() / "project" / "tick.sh", "#!/bin/sh\necho tick\nexit 0\n");
    cluster_.Deploy("F", "P", cluster_.dir() / "project");
    ASSERT_FALSE(HasFatalFailure());
  }

  void AddSchedule(const std::string& name) {
    const ProcessResult added =
        cluster_.Manage({"schedule", "add", name, "--cron", "@every 1s", "--folder", "F",
                         "--project", "P", "--package", "tick.sh"});
    ASSERT_EQ(added.exit_code, 0) << added.out << added.err;
  }

  json Executions() { return cluster_.ManageJson({"exec", "list", "--package", "tick.sh"}); }

  // Waits (bounded) until at least `count` executions with ids not in
  // `before` exist and all of them ended; returns them.
  std::vector<json> WaitForNewEnded(const std::set<std::int64_t>& before, std::size_t count) {
    std::vector<json> fresh;
    Cluster::WaitUntil(
        [&] {
          fresh.clear();
          bool all_ended = true;
          for (const json& e : Executions()) {
            if (before.count(e["execution_id"].get<std::int64_t>()) != 0) continue;
            fresh.push_back(e);
            all_ended = all_ended && IsTerminalStatus(e["status"].get<int>());
          }
          return fresh.size() >= count && all_ended;
        },
        std::chrono::seconds(180));
    return fresh;
  }

  Cluster cluster_;
  std::string agent_id_;
};

TEST_F(ScheduleOnWorkerTest, AOneSecondScheduleFiresAndItsExecutionsSucceedOnTheWorker) {
  AddSchedule("tick");
  const std::vector<json> ended = WaitForNewEnded({}, 2);
  ASSERT_GE(ended.size(), 2u) << ReadFile(cluster_.master_log());
  // Stop the schedule so the checks below look at a settled set.
  ASSERT_EQ(cluster_.Manage({"schedule", "disable", "tick"}).exit_code, 0);
  for (const json& e : ended) {
    EXPECT_EQ(e["status"], kSucceeded) << e.dump(2);
    EXPECT_EQ(e["status_name"], "succeeded");
    EXPECT_EQ(e["caller_name"], "schedule 'tick'");
    EXPECT_EQ(e["runinscaleout"], true);  // the default execution mode of this catalog
    const json shown = cluster_.Show(e["execution_id"].get<std::int64_t>());
    ASSERT_FALSE(shown["attempts"].empty()) << shown.dump(2);
    EXPECT_EQ(shown["attempts"][0]["worker_agent_id"], agent_id_) << shown.dump(2);
    EXPECT_EQ(shown["attempts"][0]["exit_code"], 0) << shown.dump(2);
  }
  // Every tick is recorded on the schedule.
  const json schedules = cluster_.ManageJson({"schedule", "list"});
  ASSERT_EQ(schedules.size(), 1u);
  EXPECT_FALSE(schedules[0]["last_fired_at"].is_null());
  EXPECT_EQ(schedules[0]["enabled"], false);
}

TEST_F(ScheduleOnWorkerTest, TicksMissedWhileTheMasterWasDownRunOnceWhenItRestarts) {
  AddSchedule("catch-up");
  // At least one tick runs before the master goes down.
  ASSERT_GE(WaitForNewEnded({}, 1).size(), 1u);
  cluster_.StopMaster(SIGTERM);
  std::this_thread::sleep_for(seconds(4));  // about four ticks pass while it is down
  // Executions created later than this (same machine, same clock) come from
  // the restarted master; the ISO texts compare in time order.
  const std::string restarted_at = core::FormatUtc(core::SystemClock::Instance().NowUnixMillis());
  cluster_.StartMaster();
  ASSERT_FALSE(HasFatalFailure());
  std::set<std::int64_t> before;
  for (const json& e : Executions()) {
    if (e["created_time"].get<std::string>() < restarted_at) {
      before.insert(e["execution_id"].get<std::int64_t>());
    }
  }
  const std::vector<json> after = WaitForNewEnded(before, 3);
  ASSERT_GE(after.size(), 3u) << ReadFile(cluster_.master_log());
  ASSERT_EQ(cluster_.Manage({"schedule", "disable", "catch-up"}).exit_code, 0);
  // The rule: a pass fires a schedule once whatever number of ticks it
  // missed, so no two executions share a creation second (the catch-up pass
  // would have created about four at once otherwise).
  std::map<std::string, int> per_second;
  const json all = Executions();
  for (const json& e : all) ++per_second[e["created_time"].get<std::string>().substr(0, 19)];
  for (const auto& [second, count] : per_second) {
    EXPECT_EQ(count, 1) << "executions created in " << second << ":\n" << all.dump(2);
  }
  // And the executions of the restarted master run to success on the worker.
  for (const json& e : after) {
    if (e["created_time"].get<std::string>() < restarted_at) continue;
    EXPECT_EQ(e["status"], kSucceeded) << e.dump(2);
    EXPECT_EQ(e["caller_name"], "schedule 'catch-up'");
  }
}

}  // namespace
}  // namespace scaleout::test
