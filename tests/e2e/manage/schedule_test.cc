// Schedules on a real master without workers: the command's refusals, the
// schedule life cycle (add, list, disable, enable, remove), and each tick
// creating and starting an execution in the catalog's default mode. That the
// executions then run to success on a worker, and the missed-tick rule across
// a master restart with a worker attached, are in schedule_worker_test.cc.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "tests/e2e/manage/master_process.h"

namespace scaleout::test {
namespace {

using nlohmann::json;

TEST(ManageScheduleTest, AOneSecondScheduleFiresAndItsExecutionsStart) {
  MasterProcess master;
  ASSERT_TRUE(master.started());
  WriteFile(master.dir() / "project" / "tick.sh", "#!/bin/sh\nexit 0\n");
  ASSERT_EQ(master
                .ManageAsAdmin({"deploy", "--folder", "F", "--project", "P",
                                (master.dir() / "project").string()})
                .exit_code,
            0);

  // Refusals first: they change nothing.
  const ProcessResult bad_cron =
      master.ManageAsAdmin({"schedule", "add", "bad", "--cron", "61 * * * *", "--folder", "F",
                            "--project", "P", "--package", "tick.sh"});
  EXPECT_EQ(bad_cron.exit_code, 1);
  EXPECT_TRUE(Contains(bad_cron.err, "minute")) << bad_cron.err;
  const ProcessResult no_package =
      master.ManageAsAdmin({"schedule", "add", "bad", "--cron", "@every 1s", "--folder", "F",
                            "--project", "P", "--package", "missing.sh"});
  EXPECT_EQ(no_package.exit_code, 1);
  EXPECT_TRUE(Contains(no_package.err, "missing.sh")) << no_package.err;
  EXPECT_TRUE(master.Json({"schedule", "list"}).empty());

  const ProcessResult added =
      master.ManageAsAdmin({"schedule", "add", "tick", "--cron", "@every 1s", "--folder", "F",
                            "--project", "P", "--package", "tick.sh"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(master
                .ManageAsAdmin({"schedule", "add", "tick", "--cron", "@every 1s", "--folder", "F",
                                "--project", "P", "--package", "tick.sh"})
                .exit_code,
            1);  // the name is taken

  // Wait (bounded) for two ticks.
  json executions = json::array();
  for (int i = 0; i < 600 && executions.size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    executions = master.Json({"exec", "list", "--package", "tick.sh"});
  }
  ASSERT_GE(executions.size(), 2u) << master.stdout_text();
  for (const json& e : executions) {
    EXPECT_EQ(e["caller_name"], "schedule 'tick'");
    EXPECT_NE(e["status_name"], "created");  // started, not just created
    EXPECT_EQ(e["runinscaleout"], false);    // the default execution mode (Server)
  }
  const json schedules = master.Json({"schedule", "list"});
  ASSERT_EQ(schedules.size(), 1u);
  EXPECT_FALSE(schedules[0]["last_fired_at"].is_null());
  EXPECT_TRUE(Contains(master.ManageAsAdmin({"schedule", "list"}).out, "@every 1s"));

  ASSERT_EQ(master.ManageAsAdmin({"schedule", "disable", "tick"}).exit_code, 0);
  EXPECT_EQ(master.Json({"schedule", "list"})[0]["enabled"], false);
  ASSERT_EQ(master.ManageAsAdmin({"schedule", "enable", "tick"}).exit_code, 0);
  EXPECT_EQ(master.Json({"schedule", "list"})[0]["enabled"], true);
  ASSERT_EQ(master.ManageAsAdmin({"schedule", "remove", "tick"}).exit_code, 0);
  EXPECT_TRUE(master.Json({"schedule", "list"}).empty());
  const ProcessResult gone = master.ManageAsAdmin({"schedule", "remove", "tick"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_TRUE(Contains(gone.err, "does not exist")) << gone.err;
}

TEST(ManageScheduleTest, AMissedTickRunsOnceWhenTheMasterComesBack) {
  MasterProcess master;
  ASSERT_TRUE(master.started());
  WriteFile(master.dir() / "project" / "tick.sh", "#!/bin/sh\nexit 0\n");
  ASSERT_EQ(master
                .ManageAsAdmin({"deploy", "--folder", "F", "--project", "P",
                                (master.dir() / "project").string()})
                .exit_code,
            0);
  // A one-second schedule; the master then stops for three seconds.
  ASSERT_EQ(master
                .ManageAsAdmin({"schedule", "add", "nightly", "--cron", "@every 1s", "--folder",
                                "F", "--project", "P", "--package", "tick.sh"})
                .exit_code,
            0);
  ASSERT_EQ(master.Stop(), 0);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // three ticks pass while it is down
  master.Restart();
  ASSERT_TRUE(master.started());
  // The first pass after the restart fires the schedule once for all missed ticks:
  // every execution has its own second (never two for one pass).
  json executions = json::array();
  for (int i = 0; i < 600 && executions.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    executions = master.Json({"exec", "list"});
  }
  ASSERT_FALSE(executions.empty());
  std::set<std::string> seconds;
  for (const json& e : executions) {
    const std::string created = e["created_time"];
    EXPECT_TRUE(seconds.insert(created.substr(0, 19)).second)
        << "two executions in one second: " << executions.dump(2);
  }
}

}  // namespace
}  // namespace scaleout::test
