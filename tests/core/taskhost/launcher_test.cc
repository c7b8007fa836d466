// TaskHostLauncher with real child processes: stand-in host programs written
// as shell scripts (a crash, garbage on the pipe, a host that ignores
// SIGTERM), and the real `scaleout task-host` running executor/process.
#include "core/taskhost/launcher.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/taskhost/process_tree.h"
#include "core/taskhost/records.h"
#include "tests/plugins/executors/process/test_util.h"

namespace scaleout::core::taskhost {
namespace {

using scaleout::testing::ReadFile;
using scaleout::testing::TempDir;
using scaleout::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::Not;

// Collects what the launcher reports; lets a test wait for one message.
class Collector {
 public:
  TaskHostCallbacks Callbacks() {
    return {[this](const sdk::Event& e) { sink_.Emit(e); },
            [this](const sdk::TaskOutcome& o) {
              std::lock_guard lock(mutex_);
              exits_.push_back(o);
            }};
  }
  scaleout::testing::RecordingSink& sink() { return sink_; }
  std::vector<sdk::TaskOutcome> exits() {
    std::lock_guard lock(mutex_);
    return exits_;
  }

 private:
  scaleout::testing::RecordingSink sink_;
  std::mutex mutex_;
  std::vector<sdk::TaskOutcome> exits_;
};

class LauncherTest : public ::testing::Test {
 protected:
  LauncherTest() {
    std::filesystem::create_directories(root_ / "project");
    request_.plugin_dir = SCALEOUT_TEST_PLUGIN_DIR;
    request_.executor = "process";
    request_.spec.execution_id = 5;
    request_.spec.task_id = "3a0c9a52-1111-4222-8333-444455556666";
    request_.spec.project_dir = root_ / "project";
    request_.spec.work_dir = root_ / "tasks/3a0c9a52";  // created by Start()
    request_.kill_grace = std::chrono::milliseconds(10000);
  }

  // A stand-in for `scaleout`: a shell script that gets the same arguments
  // ("task-host --spec FILE ..."; $3 is the spec file).
  void FakeHost(const std::string& body) {
    request_.host_binary = root_ / "fake-host.sh";
    WriteFile(request_.host_binary, "#!/bin/sh\nwork=$(dirname \"$3\")\n" + body + "\n", 0755);
  }
  std::string Work(const std::string& file) const { return request_.spec.work_dir + "/" + file; }

  TempDir root_;
  TaskHostRequest request_;
  Collector collector_;
};

TEST_F(LauncherTest, RecordsFromTheChildBecomeEventsAndTheOutcome) {
  // Frames made by the real encoder, replayed by the child over the real pipe.
  const std::string frames = EncodeEvent({sdk::MessageType::kInformation, "stdout", "row 1"}) +
                             EncodeEvent({sdk::MessageType::kWarning, "stderr", "slow disk"}) +
                             EncodeOutcome({sdk::TaskResult::kSucceeded, 0, "exited with code 0"});
  WriteFile(root_ / "frames.bin", frames);
  FakeHost("cat '" + (root_ / "frames.bin") + "'");
  TaskHostLauncher launcher(collector_.Callbacks());
  ASSERT_TRUE(launcher.Start(request_).ok());
  EXPECT_GT(launcher.pid(), 0);
  const sdk::TaskOutcome outcome = launcher.Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kSucceeded);
  EXPECT_EQ(outcome.message, "exited with code 0");
  EXPECT_TRUE(launcher.Done());
  EXPECT_THAT(collector_.sink().Messages("stdout"), ::testing::ElementsAre("row 1"));
  EXPECT_THAT(collector_.sink().Messages("stderr"), ::testing::ElementsAre("slow disk"));
  ASSERT_EQ(collector_.exits().size(), 1u);
  EXPECT_EQ(collector_.exits()[0].message, outcome.message);
}

TEST_F(LauncherTest, OnExitRunsOnceTheTaskReadsAsDone) {
  const std::string frames = EncodeOutcome({sdk::TaskResult::kSucceeded, 0, "exited with code 0"});
  WriteFile(root_ / "frames.bin", frames);
  // The child waits until the test has published the launcher.
  const std::string go = root_ / "go";
  FakeHost("while [ ! -e '" + go + "' ]; do sleep 0.01; done; cat '" + (root_ / "frames.bin") +
           "'");
  std::atomic<TaskHostLauncher*> launched{nullptr};
  std::atomic<int> exits{0};
  std::atomic<int> done_at_exit{0};
  TaskHostLauncher launcher(TaskHostCallbacks{nullptr, [&](const sdk::TaskOutcome&) {
                                                exits.fetch_add(1);
                                                TaskHostLauncher* l = launched.load();
                                                if (l != nullptr && l->Done()) {
                                                  done_at_exit.fetch_add(1);
                                                }
                                              }});
  ASSERT_TRUE(launcher.Start(request_).ok());
  launched.store(&launcher);
  WriteFile(go, "");
  EXPECT_EQ(launcher.Wait().result, sdk::TaskResult::kSucceeded);
  EXPECT_EQ(exits.load(), 1);
  EXPECT_EQ(done_at_exit.load(), 1);
}

TEST_F(LauncherTest, SpecFileIsPrivateAndSecretsStayOffTheCommandLine) {
  request_.spec.parameters = {
      {sdk::ParameterObjectType::kPackage, "Password", "canary-0b1c2d3e4f", "String", true}};
  FakeHost(
      "stat -c %a \"$3\" > \"$work/mode.txt\"\n"
      "cp \"$3\" \"$work/spec-copy.json\"\n"
      "tr '\\0' ' ' < /proc/$$/cmdline > \"$work/cmdline.txt\"");
  TaskHostLauncher launcher(collector_.Callbacks());
  ASSERT_TRUE(launcher.Start(request_).ok());
  launcher.Wait();
  EXPECT_EQ(ReadFile(Work("mode.txt")), "600\n");
  EXPECT_THAT(ReadFile(Work("spec-copy.json")), HasSubstr("canary-0b1c2d3e4f"));
  const std::string cmdline = ReadFile(Work("cmdline.txt"));
  EXPECT_THAT(cmdline, HasSubstr("task-host --spec " + Work(kSpecFileName) + " --plugin-dir"));
  EXPECT_THAT(cmdline, Not(HasSubstr("canary-0b1c2d3e4f")));
  EXPECT_FALSE(std::filesystem::exists(Work(kSpecFileName)));  // removed after the child exited
}

TEST_F(LauncherTest, ACrashingHostFailsTheTaskWithItsSignalAndLastWords) {
  FakeHost("echo 'about to crash' >&2\nkill -SEGV $$");
  TaskHostLauncher launcher(collector_.Callbacks());
  ASSERT_TRUE(launcher.Start(request_).ok());
  const sdk::TaskOutcome outcome = launcher.Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kFailed);
  EXPECT_EQ(outcome.exit_code, 128 + SIGSEGV);
  EXPECT_EQ(outcome.message, "task host exited unexpectedly (signal 11 SIGSEGV): about to crash");
  EXPECT_THAT(collector_.sink().Messages("task-host"), ::testing::ElementsAre("about to crash"));
}

TEST_F(LauncherTest, AHostThatExitsWithoutAnOutcomeFails) {
  FakeHost("exit 0");
  TaskHostLauncher launcher(collector_.Callbacks());
  ASSERT_TRUE(launcher.Start(request_).ok());
  EXPECT_EQ(launcher.Wait().message, "task host exited unexpectedly (exit code 0)");
}

TEST_F(LauncherTest, GarbageOnThePipeFailsTheTaskAndKillsTheHost) {
  // Garbage, then the host would linger: the launcher must not wait for it.
  // (The pid file is written first: the launcher kills as soon as it reads.)
  FakeHost(
      "sleep 1000 & echo $! > \"$work/bg.pid\"\n"
      "printf 'Segmentation fault (core dumped)\\n'\nwait");
  TaskHostLauncher launcher(collector_.Callbacks());
  ASSERT_TRUE(launcher.Start(request_).ok());
  const sdk::TaskOutcome outcome = launcher.Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kFailed);
  EXPECT_THAT(outcome.message, HasSubstr("task host sent a corrupt record stream (record length"));
  EXPECT_TRUE(IsProcessGone(std::stoi(ReadFile(Work("bg.pid")))));
}

TEST_F(LauncherTest, LeftoversOfTheSessionAreKilledWhenTheHostExits) {
  FakeHost(
      "sleep 1000 & echo $! > \"$work/bg.pid\"\n"
      "setsid_free() { sleep 1000 & echo $! > \"$work/bg2.pid\"; }\nsetsid_free\nexit 0");
  TaskHostLauncher launcher(collector_.Callbacks());
  ASSERT_TRUE(launcher.Start(request_).ok());
  launcher.Wait();
  EXPECT_TRUE(IsProcessGone(std::stoi(ReadFile(Work("bg.pid")))));
  EXPECT_TRUE(IsProcessGone(std::stoi(ReadFile(Work("bg2.pid")))));
  EXPECT_TRUE(SessionMembers(launcher.pid()).empty());
}

TEST_F(LauncherTest, KillEndsTheWholeSessionAtOnce) {
  FakeHost("trap '' TERM\nsleep 1000 & echo $! > \"$work/bg.pid\"\necho ready >&2\nwait");
  TaskHostLauncher launcher(collector_.Callbacks());
  ASSERT_TRUE(launcher.Start(request_).ok());
  collector_.sink().WaitForMessage("ready");
  launcher.Kill();
  const sdk::TaskOutcome outcome = launcher.Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kCancelled);
  EXPECT_EQ(outcome.message, "killed before the task host reported an outcome (signal 9 SIGKILL)");
  EXPECT_TRUE(IsProcessGone(std::stoi(ReadFile(Work("bg.pid")))));
}

TEST_F(LauncherTest, CancelKillsAHostThatIgnoresSigtermOnceTheGraceHasPassed) {
  FakeHost("trap '' TERM\nsleep 1000 & echo $! > \"$work/bg.pid\"\necho ready >&2\nwait");
  ManualClock clock;
  TaskHostLauncher launcher(collector_.Callbacks(), clock);
  ASSERT_TRUE(launcher.Start(request_).ok());
  collector_.sink().WaitForMessage("ready");
  launcher.Cancel();
  clock.WaitForSleepers(1);  // the grace timer is waiting on our clock
  EXPECT_FALSE(launcher.Done());
  clock.Advance(request_.kill_grace);
  const sdk::TaskOutcome outcome = launcher.Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kCancelled);
  EXPECT_EQ(outcome.message,
            "cancelled before the task host reported an outcome (signal 9 SIGKILL)");
  EXPECT_TRUE(IsProcessGone(std::stoi(ReadFile(Work("bg.pid")))));
}

TEST_F(LauncherTest, BadRequestsAreRefusedAndNothingStarts) {
  TaskHostLauncher launcher(collector_.Callbacks());
  request_.host_binary = root_ / "no-such-binary";
  sdk::Status status = launcher.Start(request_);
  EXPECT_EQ(status.code(), sdk::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("is not executable"));
  FakeHost("exit 0");
  request_.spec.task_id.clear();
  EXPECT_THAT(launcher.Start(request_).message(), HasSubstr("lacks spec.task_id"));
  EXPECT_EQ(launcher.pid(), 0);
  EXPECT_EQ(launcher.Wait().message, "task host was not started");
  launcher.Cancel();  // no-ops before a start
  launcher.Kill();
}

TEST_F(LauncherTest, StartTwiceIsRefused) {
  FakeHost("exit 0");
  TaskHostLauncher launcher(collector_.Callbacks());
  ASSERT_TRUE(launcher.Start(request_).ok());
  EXPECT_EQ(launcher.Start(request_).code(), sdk::StatusCode::kFailedPrecondition);
  launcher.Wait();
  launcher.Cancel();  // no-ops after the end
  launcher.Kill();
}

// ---- The real task host: `scaleout task-host` with executor/process ----

class RealTaskHostTest : public LauncherTest {
 protected:
  void SetUp() override {
    request_.host_binary = SCALEOUT_TEST_HOST_BINARY;
    const std::string plugin =
        std::string(SCALEOUT_TEST_PLUGIN_DIR) + "/libscaleout_executor_process.so";
    if (::access(request_.host_binary.c_str(), X_OK) != 0 || ::access(plugin.c_str(), R_OK) != 0) {
      GTEST_SKIP() << "needs the scaleout binary and executor/process built";
    }
    request_.log_file = Work("task.log");
  }
  void Package(const std::string& name, const std::string& body) {
    WriteFile(request_.spec.project_dir + "/" + name, "#!/bin/sh\n" + body + "\n", 0755);
    request_.spec.package_name = name;
  }
};

TEST_F(RealTaskHostTest, RunsAPackageAndReportsEventsOutcomeAndTaskLog) {
  const std::string secret = "canary-9e8d7c6b5a";
  request_.spec.parameters = {
      {sdk::ParameterObjectType::kPackage, "Password", secret, "String", true},
      {sdk::ParameterObjectType::kProject, "Rows", "12", "Int32", false}};
  Package("load.sh",
          "echo \"loading $SCALEOUT_PARAM_ROWS rows\"\necho \"pw=$SCALEOUT_PARAM_PASSWORD\" "
          ">&2\nexit 0");
  TaskHostLauncher launcher(collector_.Callbacks());
  ASSERT_TRUE(launcher.Start(request_).ok());
  const sdk::TaskOutcome outcome = launcher.Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kSucceeded) << outcome.message;
  EXPECT_EQ(outcome.message, "exited with code 0");
  EXPECT_THAT(collector_.sink().Messages("stdout"), ::testing::ElementsAre("loading 12 rows"));
  EXPECT_THAT(collector_.sink().Messages("stderr"), ::testing::ElementsAre("pw=***"));
  EXPECT_FALSE(collector_.sink().AnyContains(secret));
  const std::string log = ReadFile(Work("task.log"));
  EXPECT_THAT(log, HasSubstr("information stdout: loading 12 rows"));
  EXPECT_THAT(log, HasSubstr("outcome: succeeded (exit code 0): exited with code 0"));
  EXPECT_THAT(log, Not(HasSubstr(secret)));
  EXPECT_FALSE(std::filesystem::exists(Work(kSpecFileName)));
}

TEST_F(RealTaskHostTest, AFailingPackageFailsTheTask) {
  Package("fail.sh", "exit 5");
  TaskHostLauncher launcher(collector_.Callbacks());
  ASSERT_TRUE(launcher.Start(request_).ok());
  const sdk::TaskOutcome outcome = launcher.Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kFailed);
  EXPECT_EQ(outcome.exit_code, 5);
  EXPECT_EQ(outcome.message, "exited with code 5");
}

TEST_F(RealTaskHostTest, CancelStopsThePackageThroughTheExecutor) {
  Package("long.sh", "sleep 1000 & echo $! > bg.pid\necho ready\nwait");
  TaskHostLauncher launcher(collector_.Callbacks());
  ASSERT_TRUE(launcher.Start(request_).ok());
  collector_.sink().WaitForMessage("ready");
  launcher.Cancel();
  const sdk::TaskOutcome outcome = launcher.Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kCancelled) << outcome.message;
  EXPECT_THAT(outcome.message, HasSubstr("cancelled: package killed by signal 15"));
  EXPECT_TRUE(IsProcessGone(std::stoi(ReadFile(Work("bg.pid")))));
  EXPECT_THAT(ReadFile(Work("task.log")), HasSubstr("cancellation requested (signal 15)"));
}

TEST_F(RealTaskHostTest, KillEndsTheHostAndThePackageGroupsInItsSession) {
  Package("long.sh", "sh -c 'sleep 1000 & sleep 1000' & echo $! > sub.pid\necho ready\nwait");
  TaskHostLauncher launcher(collector_.Callbacks());
  ASSERT_TRUE(launcher.Start(request_).ok());
  collector_.sink().WaitForMessage("ready");
  launcher.Kill();
  const sdk::TaskOutcome outcome = launcher.Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kCancelled);
  EXPECT_TRUE(IsProcessGone(std::stoi(ReadFile(Work("sub.pid")))));
  EXPECT_TRUE(SessionMembers(launcher.pid()).empty());
}

TEST_F(RealTaskHostTest, AHostThatCrashesMidTaskFailsItAndTakesNothingElseDown) {
  Package("long.sh", "sleep 1000 & echo $! > bg.pid\necho ready\nwait");
  TaskHostLauncher launcher(collector_.Callbacks());
  ASSERT_TRUE(launcher.Start(request_).ok());
  collector_.sink().WaitForMessage("ready");
  // As if the executor had crashed the task host (an abort; AddressSanitizer
  // would turn a SIGSEGV into its own report and an abort).
  ::kill(launcher.pid(), SIGABRT);
  const sdk::TaskOutcome outcome = launcher.Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kFailed);
  EXPECT_EQ(outcome.message, "task host exited unexpectedly (signal 6 SIGABRT)");
  // The package ran in its own process group but in the host's session.
  EXPECT_TRUE(IsProcessGone(std::stoi(ReadFile(Work("bg.pid")))));
}

TEST_F(RealTaskHostTest, AnUnknownExecutorIsAClearFailure) {
  Package("ok.sh", "exit 0");
  request_.executor = "no-such-executor";
  TaskHostLauncher launcher(collector_.Callbacks());
  ASSERT_TRUE(launcher.Start(request_).ok());
  const sdk::TaskOutcome outcome = launcher.Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kFailed);
  EXPECT_THAT(outcome.message, HasSubstr("task host: "));
  EXPECT_THAT(outcome.message, HasSubstr("no-such-executor"));
}

TEST_F(RealTaskHostTest, ABadExecutorConfigIsAClearFailure) {
  Package("ok.sh", "exit 0");
  request_.executor_config = {{"kill_grace", "5"}};
  TaskHostLauncher launcher(collector_.Callbacks());
  ASSERT_TRUE(launcher.Start(request_).ok());
  const sdk::TaskOutcome outcome = launcher.Wait();
  EXPECT_EQ(outcome.result, sdk::TaskResult::kFailed);
  EXPECT_THAT(outcome.message, HasSubstr("task host: "));
  EXPECT_THAT(outcome.message, HasSubstr("unknown setting"));
  EXPECT_THAT(outcome.message, HasSubstr("kill_grace'"));
}

}  // namespace
}  // namespace scaleout::core::taskhost
