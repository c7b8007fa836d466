// TaskHostPool with the real `scaleout task-host --serve` running
// executor/process: hosts are reused from task to task, a crash or a kill
// fails only the task that was running and the next task gets a new host,
// cancel stops the package's process group inside a reused host.
#include "core/taskhost/host_pool.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/taskhost/process_tree.h"
#include "tests/plugins/executors/process/test_util.h"

namespace scaleout::core::taskhost {
namespace {

using scaleout::testing::ReadFile;
using scaleout::testing::RecordingSink;
using scaleout::testing::TempDir;
using scaleout::testing::WriteFile;
using ::testing::HasSubstr;

// Where the cgroup v2 hierarchy is mounted ("" when it is not).
std::string CgroupMount() {
  std::istringstream mounts(ReadFile("/proc/self/mountinfo"));
  for (std::string line; std::getline(mounts, line);) {
    if (line.find(" - cgroup2 ") == std::string::npos) continue;
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    fields >> id >> parent >> device >> root >> mount_point;
    return mount_point;
  }
  return "";
}

class HostPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string plugin =
        std::string(SCALEOUT_TEST_PLUGIN_DIR) + "/libscaleout_executor_process.so";
    if (::access(SCALEOUT_TEST_HOST_BINARY, X_OK) != 0 || ::access(plugin.c_str(), R_OK) != 0) {
      GTEST_SKIP() << "needs the scaleout binary and executor/process built";
    }
    std::filesystem::create_directories(root_ / "project");
  }

  TaskHostPoolOptions Options() const {
    TaskHostPoolOptions options;
    options.host_binary = SCALEOUT_TEST_HOST_BINARY;
    options.plugin_dir = SCALEOUT_TEST_PLUGIN_DIR;
    options.max_idle_hosts = 4;
    return options;
  }

  // A task running package `name` (a shell script with `body`) in its own work dir.
  PooledTaskRequest Task(const std::string& name, const std::string& body) {
    WriteFile(root_ / ("project/" + name), "#!/bin/sh\n" + body + "\n", 0755);
    PooledTaskRequest request;
    request.executor = "process";
    request.spec.execution_id = 5;
    request.spec.task_id = "task-" + std::to_string(++tasks_);
    request.spec.project_dir = root_ / "project";
    request.spec.package_name = name;
    request.spec.work_dir = root_ / request.spec.task_id;  // the host creates it
    request.log_file = request.spec.work_dir + "/task.log";
    return request;
  }

  TaskHostCallbacks Callbacks(RecordingSink& sink) {
    return {[&sink](const sdk::Event& e) { sink.Emit(e); }, nullptr};
  }

  sdk::TaskOutcome RunToEnd(TaskHostPool& pool, const PooledTaskRequest& request,
                            pid_t* host_pid = nullptr) {
    RecordingSink sink;
    auto task = pool.Launch(request, Callbacks(sink));
    EXPECT_TRUE(task.ok()) << task.status().ToString();
    if (!task.ok()) return {};
    if (host_pid != nullptr) *host_pid = (*task)->host_pid();
    return (*task)->Wait();
  }

  TempDir root_;
  int tasks_ = 0;
};

TEST_F(HostPoolTest, TasksOneAfterAnotherReuseOneHost) {
  TaskHostPool pool(Options(), SystemClock::Instance());
  pid_t first = 0;
  for (int i = 0; i < 3; ++i) {
    RecordingSink sink;
    const PooledTaskRequest request =
        Task("echo.sh", "echo run\nexit " + std::to_string(i == 1 ? 4 : 0));
    auto task = pool.Launch(request, Callbacks(sink));
    ASSERT_TRUE(task.ok()) << task.status().ToString();
    if (i == 0) first = (*task)->host_pid();
    EXPECT_EQ((*task)->host_pid(), first);
    const sdk::TaskOutcome outcome = (*task)->Wait();
    EXPECT_EQ(outcome.result, i == 1 ? sdk::TaskResult::kFailed : sdk::TaskResult::kSucceeded)
        << outcome.message;
    EXPECT_EQ(outcome.exit_code, i == 1 ? 4 : 0);
    EXPECT_FALSE(sink.Messages("stdout").empty());
    EXPECT_THAT(ReadFile(request.log_file),
                HasSubstr("task " + request.spec.task_id + " attempt "));
  }
  EXPECT_EQ(pool.hosts_started(), 1u);
  EXPECT_EQ(pool.idle_hosts(), 1u);
}

// The worker's watchdog reaps what on_exit wakes it for: the task must read
// as done by then, or the wake-up is lost until the watchdog's next tick.
TEST_F(HostPoolTest, OnExitRunsOnceTheTaskReadsAsDone) {
  TaskHostPool pool(Options(), SystemClock::Instance());
  std::atomic<PooledTask*> launched{nullptr};
  std::atomic<int> exits{0};
  std::atomic<int> done_at_exit{0};
  TaskHostCallbacks callbacks{nullptr, [&](const sdk::TaskOutcome&) {
                                exits.fetch_add(1);
                                PooledTask* task = launched.load();
                                if (task != nullptr && task->Done()) done_at_exit.fetch_add(1);
                              }};
  // The package waits until the test has published its handle.
  const std::string go = root_ / "go";
  auto task =
      pool.Launch(Task("wait.sh", "while [ ! -e '" + go + "' ]; do sleep 0.01; done"), callbacks);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  launched.store(task->get());
  WriteFile(go, "");
  EXPECT_EQ((*task)->Wait().result, sdk::TaskResult::kSucceeded);
  EXPECT_EQ(exits.load(), 1);
  EXPECT_EQ(done_at_exit.load(), 1);
}

// A host holds a task's events and log lines back for a few milliseconds,
// to send a short task's with its outcome; a longer task's still arrive
// while it runs. The package waits for the test, which waits for its event.
TEST_F(HostPoolTest, ALongerTasksEventsAndLogLinesArriveWhileItRuns) {
  TaskHostPool pool(Options(), SystemClock::Instance());
  const std::string go = root_ / "go";
  std::atomic<bool> started{false};
  TaskHostCallbacks callbacks{[&](const sdk::Event& e) {
                                if (e.message == "started") started.store(true);
                              },
                              nullptr};
  const PooledTaskRequest request =
      Task("wait.sh", "echo started\nfor i in $(seq 1 1000); do\n  [ -f " + go +
                          " ] && exit 0\n  sleep 0.01\ndone\nexit 3");
  auto task = pool.Launch(request, callbacks);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  auto eventually = [](const std::function<bool()>& condition) {
    for (int i = 0; i < 1000 && !condition(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return condition();
  };
  EXPECT_TRUE(eventually([&] { return started.load(); }));
  EXPECT_TRUE(eventually(
      [&] { return ReadFile(request.log_file).find("stdout: started") != std::string::npos; }));
  EXPECT_FALSE((*task)->Done());
  WriteFile(go, "");
  const sdk::TaskOutcome outcome = (*task)->Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kSucceeded) << outcome.message;
}

TEST_F(HostPoolTest, ACrashedHostFailsOnlyItsTaskAndIsReplaced) {
  TaskHostPool pool(Options(), SystemClock::Instance());
  RecordingSink sink;
  auto task = pool.Launch(Task("long.sh", "echo ready\nsleep 1000"), Callbacks(sink));
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  sink.WaitForMessage("ready");
  const pid_t crashed = (*task)->host_pid();
  ::kill(crashed, SIGABRT);  // as if the executor had crashed the host
  const sdk::TaskOutcome outcome = (*task)->Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kFailed);
  EXPECT_EQ(outcome.message, "task host exited unexpectedly (signal 6 SIGABRT)");
  EXPECT_TRUE(SessionMembers(crashed).empty());  // its package went with it

  pid_t replacement = 0;
  const sdk::TaskOutcome next = RunToEnd(pool, Task("ok.sh", "exit 0"), &replacement);
  EXPECT_EQ(next.result, sdk::TaskResult::kSucceeded) << next.message;
  EXPECT_NE(replacement, crashed);
  EXPECT_EQ(pool.hosts_started(), 2u);
}

TEST_F(HostPoolTest, CancelStopsThePackageGroupInAReusedHostWhichStaysInThePool) {
  TaskHostPool pool(Options(), SystemClock::Instance());
  pid_t warm = 0;
  ASSERT_EQ(RunToEnd(pool, Task("ok.sh", "exit 0"), &warm).result, sdk::TaskResult::kSucceeded);

  RecordingSink sink;
  const PooledTaskRequest request =
      Task("long.sh", "sleep 1000 & echo $! > bg.pid\necho ready\nwait");
  auto task = pool.Launch(request, Callbacks(sink));
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ((*task)->host_pid(), warm);
  sink.WaitForMessage("ready");
  (*task)->Cancel();
  const sdk::TaskOutcome outcome = (*task)->Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kCancelled) << outcome.message;
  EXPECT_THAT(outcome.message, HasSubstr("cancelled: package killed by signal 15"));
  EXPECT_TRUE(IsProcessGone(std::stoi(ReadFile(request.spec.work_dir + "/bg.pid"))));
  EXPECT_THAT(ReadFile(request.log_file), HasSubstr("cancellation requested by the worker"));

  pid_t after = 0;
  EXPECT_EQ(RunToEnd(pool, Task("ok.sh", "exit 0"), &after).result, sdk::TaskResult::kSucceeded);
  EXPECT_EQ(after, warm);
  EXPECT_EQ(pool.hosts_started(), 1u);
}

TEST_F(HostPoolTest, CancelKillsTheHostWhenTheTaskOutlastsTheGrace) {
  ManualClock clock;
  TaskHostPool pool(Options(), clock);
  RecordingSink sink;
  PooledTaskRequest request =
      Task("stubborn.sh", "trap '' TERM\nsleep 1000 & echo $! > bg.pid\necho ready\nwait");
  request.executor_config["kill_grace_ms"] = "3600000";  // the executor would wait an hour
  auto task = pool.Launch(request, Callbacks(sink));
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  sink.WaitForMessage("ready");
  const pid_t host = (*task)->host_pid();
  (*task)->Cancel();
  // The pool's grace (10 s on the manual clock) runs out; advance until the
  // grace thread has seen it.
  while (!(*task)->Done()) {
    clock.Advance(std::chrono::milliseconds(10'001));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const sdk::TaskOutcome outcome = (*task)->Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kCancelled) << outcome.message;
  EXPECT_THAT(outcome.message, HasSubstr("cancelled before the task host reported an outcome"));
  EXPECT_TRUE(IsProcessGone(std::stoi(ReadFile(request.spec.work_dir + "/bg.pid"))));
  EXPECT_TRUE(SessionMembers(host).empty());
}

TEST_F(HostPoolTest, KillEndsTheHostsSessionAndTheNextTaskGetsANewHost) {
  TaskHostPool pool(Options(), SystemClock::Instance());
  RecordingSink sink;
  const PooledTaskRequest request =
      Task("long.sh", "sh -c 'sleep 1000 & sleep 1000' & echo $! > sub.pid\necho ready\nwait");
  auto task = pool.Launch(request, Callbacks(sink));
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  sink.WaitForMessage("ready");
  const pid_t killed = (*task)->host_pid();
  (*task)->Kill();
  const sdk::TaskOutcome outcome = (*task)->Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kCancelled);
  EXPECT_THAT(outcome.message, HasSubstr("killed before the task host reported an outcome"));
  EXPECT_TRUE(IsProcessGone(std::stoi(ReadFile(request.spec.work_dir + "/sub.pid"))));
  EXPECT_TRUE(SessionMembers(killed).empty());

  pid_t next = 0;
  EXPECT_EQ(RunToEnd(pool, Task("ok.sh", "exit 0"), &next).result, sdk::TaskResult::kSucceeded);
  EXPECT_NE(next, killed);
}

TEST_F(HostPoolTest, WhatATaskLeavesInTheSessionIsKilledBeforeTheNextTask) {
  TaskHostPool pool(Options(), SystemClock::Instance());
  // `set -m`: the background job gets a process group of its own, so the
  // executor's kill of the package's group does not reach it.
  const PooledTaskRequest request = Task("leave.sh", "set -m\nsleep 1000 &\necho $! > bg.pid");
  pid_t host = 0;
  const sdk::TaskOutcome outcome = RunToEnd(pool, request, &host);
  EXPECT_EQ(outcome.result, sdk::TaskResult::kSucceeded) << outcome.message;
  EXPECT_TRUE(IsProcessGone(std::stoi(ReadFile(request.spec.work_dir + "/bg.pid"))));
  pid_t next = 0;
  EXPECT_EQ(RunToEnd(pool, Task("ok.sh", "exit 0"), &next).result, sdk::TaskResult::kSucceeded);
  EXPECT_EQ(next, host);
}

// A descendant that left the host's session (setsid) cannot be reached by
// the host: it reports the task's outcome, says it retires, and exits; the
// next task gets a new host.
// Without the packages' cgroup (executor.process.cgroup = off, the
// default), a process that left the session is out of the host's reach: the
// host retires.
TEST_F(HostPoolTest, AHostWhoseTaskEscapedItsSessionReportsTheOutcomeAndRetires) {
  TaskHostPool pool(Options(), SystemClock::Instance());
  PooledTaskRequest request = Task("escape.sh",
                                   "setsid sh -c 'echo $$ > escaped.pid; exec sleep 1000' &\n"
                                   "while [ ! -s escaped.pid ]; do sleep 0.01; done\nexit 3");
  request.executor_config["cgroup"] = "off";
  pid_t host = 0;
  const sdk::TaskOutcome outcome = RunToEnd(pool, request, &host);
  const pid_t escaped = std::stoi(ReadFile(request.spec.work_dir + "/escaped.pid"));
  EXPECT_EQ(outcome.result, sdk::TaskResult::kFailed) << outcome.message;
  EXPECT_EQ(outcome.exit_code, 3);
  pid_t next = 0;
  EXPECT_EQ(RunToEnd(pool, Task("ok.sh", "exit 0"), &next).result, sdk::TaskResult::kSucceeded);
  EXPECT_NE(next, host);
  EXPECT_EQ(pool.hosts_started(), 2u);
  ::kill(escaped, SIGKILL);
}

// With it (the default where the host may make one), the escaped process
// is killed with the task, and the host stays.
TEST_F(HostPoolTest, ADaemonATaskLeftIsKilledThroughItsCgroupAndTheHostStays) {
  TaskHostPool pool(Options(), SystemClock::Instance());
  PooledTaskRequest request =
      Task("daemon.sh",
           "grep '^0::' /proc/self/cgroup > cgroup.txt\n"
           "setsid sh -c 'echo $$ > daemon.tmp; mv daemon.tmp daemon.pid; exec sleep 1000' &\n"
           "while [ ! -e daemon.pid ]; do sleep 0.01; done\nexit 0");
  request.executor_config["cgroup"] = "auto";
  pid_t host = 0;
  EXPECT_EQ(RunToEnd(pool, request, &host).result, sdk::TaskResult::kSucceeded);
  const pid_t daemon = std::stoi(ReadFile(request.spec.work_dir + "/daemon.pid"));
  if (ReadFile(request.spec.work_dir + "/cgroup.txt").find("/scaleout-packages-") ==
      std::string::npos) {
    ::kill(daemon, SIGKILL);
    GTEST_SKIP() << "the host could not make a cgroup for its packages here";
  }
  EXPECT_TRUE(IsProcessGone(daemon)) << "the daemon outlived its task";
  pid_t next = 0;
  EXPECT_EQ(RunToEnd(pool, Task("ok.sh", "exit 0"), &next).result, sdk::TaskResult::kSucceeded);
  EXPECT_EQ(next, host);
  EXPECT_EQ(pool.hosts_started(), 1u);
  ::kill(daemon, SIGKILL);
}

// The pool's end lets its idle hosts exit (not SIGKILL): their executors
// stop, and the packages' cgroup goes with them.
TEST_F(HostPoolTest, AnIdleHostEndsWithThePoolAndTakesItsPackagesCgroup) {
  std::filesystem::path cgroup_folder;
  {
    TaskHostPool pool(Options(), SystemClock::Instance());
    PooledTaskRequest request = Task("where.sh", "grep '^0::' /proc/self/cgroup > cgroup.txt");
    request.executor_config["cgroup"] = "auto";
    EXPECT_EQ(RunToEnd(pool, request).result, sdk::TaskResult::kSucceeded);
    const std::string line = ReadFile(request.spec.work_dir + "/cgroup.txt");
    if (line.find("/scaleout-packages-") == std::string::npos) {
      GTEST_SKIP() << "the host could not make a cgroup for its packages here";
    }
    cgroup_folder = CgroupMount() + line.substr(3, line.find_last_not_of('\n') - 2);
    EXPECT_TRUE(std::filesystem::is_directory(cgroup_folder)) << cgroup_folder;
  }
  EXPECT_FALSE(std::filesystem::exists(cgroup_folder)) << cgroup_folder;
}

TEST_F(HostPoolTest, AnUnknownExecutorFailsTheTaskAndTheHostStays) {
  TaskHostPool pool(Options(), SystemClock::Instance());
  PooledTaskRequest request = Task("ok.sh", "exit 0");
  request.executor = "executor/nosuch";
  pid_t host = 0;
  const sdk::TaskOutcome outcome = RunToEnd(pool, request, &host);
  EXPECT_EQ(outcome.result, sdk::TaskResult::kFailed);
  EXPECT_THAT(outcome.message, HasSubstr("nosuch"));
  pid_t next = 0;
  EXPECT_EQ(RunToEnd(pool, Task("ok.sh", "exit 0"), &next).result, sdk::TaskResult::kSucceeded);
  EXPECT_EQ(next, host);
}

TEST_F(HostPoolTest, TheHostCreatesTheTasksPrivateFolder) {
  TaskHostPool pool(Options(), SystemClock::Instance());
  PooledTaskRequest request = Task("pwd.sh", "pwd > here");
  ASSERT_FALSE(std::filesystem::exists(request.spec.work_dir));
  EXPECT_EQ(RunToEnd(pool, request).result, sdk::TaskResult::kSucceeded);
  ASSERT_TRUE(std::filesystem::is_directory(request.spec.work_dir));
  EXPECT_EQ(std::filesystem::status(request.spec.work_dir).permissions(),
            std::filesystem::perms::owner_all);
  EXPECT_THAT(ReadFile(request.spec.work_dir + "/here"), HasSubstr(request.spec.task_id));
  EXPECT_THAT(ReadFile(request.log_file), HasSubstr("succeeded"));
}

TEST_F(HostPoolTest, AFolderThatCannotBeMadeFailsTheTaskNamingTheSettingAndTheHostStays) {
  TaskHostPool pool(Options(), SystemClock::Instance());
  WriteFile(root_ / "a-file", "not a folder", 0644);
  PooledTaskRequest request = Task("ok.sh", "exit 0");
  request.spec.work_dir = (std::filesystem::path(root_ / "a-file") / request.spec.task_id).string();
  request.log_file = request.spec.work_dir + "/task.log";
  pid_t host = 0;
  const sdk::TaskOutcome outcome = RunToEnd(pool, request, &host);
  EXPECT_EQ(outcome.result, sdk::TaskResult::kFailed);
  EXPECT_THAT(outcome.message, HasSubstr("cannot create the task folder"));
  EXPECT_THAT(outcome.message, HasSubstr("TasksRootFolder"));
  pid_t next = 0;
  EXPECT_EQ(RunToEnd(pool, Task("ok.sh", "exit 0"), &next).result, sdk::TaskResult::kSucceeded);
  EXPECT_EQ(next, host);
}

}  // namespace
}  // namespace scaleout::core::taskhost
