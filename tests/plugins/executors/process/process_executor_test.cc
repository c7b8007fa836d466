// executor/process with real /bin/sh packages in temporary project dirs.
#include "plugins/executors/process/process_executor.h"

#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/taskhost/cancellation.h"
#include "core/taskhost/process_tree.h"
#include "tests/plugins/executors/process/executor_fixture.h"
#include "tests/plugins/executors/process/test_util.h"

namespace scaleout::plugins::process {
namespace {

using core::taskhost::CancellationSource;
using core::taskhost::IsProcessGone;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReadFile;
using testing::RecordingSink;
using testing::WriteFile;

class ProcessExecutorTest : public ExecutorFixture {};

TEST_F(ProcessExecutorTest, ExitZeroSucceedsAndLinesBecomeEvents) {
  Script("load.sh", "echo hello\necho oops >&2\necho world\nprintf 'no newline'");
  auto outcome = Run();
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kSucceeded);
  EXPECT_EQ(outcome->exit_code, 0);
  EXPECT_EQ(outcome->message, "exited with code 0");
  EXPECT_THAT(sink_.Messages("stdout"), ElementsAre("hello", "world", "no newline"));
  EXPECT_THAT(sink_.Messages("stderr"), ElementsAre("oops"));
  for (const auto& event : sink_.events()) {
    if (event.message_source == "stdout") {
      EXPECT_EQ(event.message_type, sdk::MessageType::kInformation);
    } else if (event.message_source == "stderr") {
      EXPECT_EQ(event.message_type, sdk::MessageType::kWarning);
    }
  }
}

TEST_F(ProcessExecutorTest, NonZeroExitFailsWithTheCode) {
  Script("fail.sh", "echo failing >&2\nexit 3");
  auto outcome = Run();
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kFailed);
  EXPECT_EQ(outcome->exit_code, 3);
  EXPECT_EQ(outcome->message, "exited with code 3");
}

TEST_F(ProcessExecutorTest, DeathBySignalFailsNamingTheSignal) {
  Script("crash.sh", "kill -SEGV $$");
  auto outcome = Run();
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kFailed);
  EXPECT_EQ(outcome->exit_code, 128 + SIGSEGV);
  EXPECT_EQ(outcome->message, "killed by signal 11 (SIGSEGV)");
}

TEST_F(ProcessExecutorTest, ParametersAndTaskFactsArriveAsEnvironmentVariables) {
  const std::string canary = "canary-5f0b7c1e9a2d4e83b6c1";
  spec_.parameters = {
      {sdk::ParameterObjectType::kProject, "Server.Name", "db1", "String", false},
      {sdk::ParameterObjectType::kPackage, "rows", "42", "Int32", false},
      {sdk::ParameterObjectType::kPackage, "Password", canary, "String", true},
      {sdk::ParameterObjectType::kSystem, "CALLER_INFO", "nightly", "String", false},
  };
  Script("env.sh",
         "env > env.txt\n"
         "pwd > pwd.txt\n"
         "tr '\\0' ' ' < /proc/$$/cmdline > cmdline.txt\n"
         "echo \"password is $SCALEOUT_PARAM_PASSWORD\"\n"
         "echo \"$SCALEOUT_PARAM_PASSWORD\" >&2\n");
  auto outcome = Run();
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ASSERT_EQ(outcome->result, sdk::TaskResult::kSucceeded) << outcome->message;

  const std::string env = ReadFile(Work("env.txt"));
  EXPECT_THAT(env, HasSubstr("SCALEOUT_PARAM_SERVER_NAME=db1\n"));
  EXPECT_THAT(env, HasSubstr("SCALEOUT_PARAM_ROWS=42\n"));
  EXPECT_THAT(env, HasSubstr("SCALEOUT_PARAM_PASSWORD=" + canary + "\n"));
  EXPECT_THAT(env, HasSubstr("SCALEOUT_SYS_CALLER_INFO=nightly\n"));
  EXPECT_THAT(env, HasSubstr("SCALEOUT_EXECUTION_ID=42\n"));
  EXPECT_THAT(env, HasSubstr("SCALEOUT_TASK_ID=" + spec_.task_id + "\n"));
  EXPECT_THAT(env, HasSubstr("SCALEOUT_ATTEMPT=2\n"));
  EXPECT_THAT(env, HasSubstr("SCALEOUT_WORK_DIR=" + spec_.work_dir + "\n"));
  EXPECT_THAT(env, HasSubstr("SCALEOUT_PROJECT_DIR=" + spec_.project_dir + "\n"));
  EXPECT_THAT(env, HasSubstr("SCALEOUT_PACKAGE=env.sh\n"));
  EXPECT_THAT(env, HasSubstr("SCALEOUT_LOGGING_LEVEL=1\n"));
  EXPECT_EQ(ReadFile(Work("pwd.txt")), spec_.work_dir + "\n");

  // The secret is never on a command line and never in an event.
  const std::string cmdline = ReadFile(Work("cmdline.txt"));
  EXPECT_THAT(cmdline, HasSubstr("env.sh"));
  EXPECT_THAT(cmdline, Not(HasSubstr(canary)));
  EXPECT_FALSE(sink_.AnyContains(canary));
  EXPECT_THAT(sink_.Messages("stdout"), Contains("password is ***"));
  EXPECT_THAT(sink_.Messages("stderr"), Contains("***"));
}

TEST_F(ProcessExecutorTest, InheritedScaleoutVariablesAreNotPassedOn) {
  ::setenv("SCALEOUT_PARAM_STALE", "from-the-worker", 1);
  Script("env.sh", "env > env.txt");
  auto outcome = Run();
  ::unsetenv("SCALEOUT_PARAM_STALE");
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_THAT(ReadFile(Work("env.txt")), Not(HasSubstr("SCALEOUT_PARAM_STALE")));
}

TEST_F(ProcessExecutorTest, WithoutInheritanceOnlyPathAndScaleoutVariablesAreSet) {
  ::setenv("SOME_WORKER_SETTING", "x", 1);
  Script("env.sh", "env > env.txt");
  Options options;
  options.inherit_environment = false;
  auto outcome = Run(options);
  ::unsetenv("SOME_WORKER_SETTING");
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  const std::string env = ReadFile(Work("env.txt"));
  EXPECT_THAT(env, Not(HasSubstr("SOME_WORKER_SETTING")));
  EXPECT_THAT(env, HasSubstr("PATH=/usr/local/bin:/usr/bin:/bin\n"));
  EXPECT_THAT(env, HasSubstr("SCALEOUT_TASK_ID="));
}

TEST_F(ProcessExecutorTest, ManifestRunsItsCommandWithItsEnvironment) {
  Manifest("greet.cmd.json",
           R"({"command": ["/bin/sh", "-c", "echo \"$GREETING from $0\"; exit 4", "manifest"],
               "env": {"GREETING": "hi"}})");
  auto outcome = Run();
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kFailed);
  EXPECT_EQ(outcome->exit_code, 4);
  EXPECT_THAT(sink_.Messages("stdout"), ElementsAre("hi from manifest"));
}

TEST_F(ProcessExecutorTest, ManifestCommandIsLookedUpInPath) {
  Manifest("true.cmd.json", R"({"command": ["true"]})");
  auto outcome = Run();
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kSucceeded);
}

TEST_F(ProcessExecutorTest, ManifestTimeoutStopsThePackageAndFails) {
  Manifest("slow.cmd.json", R"({"command": ["/bin/sh", "-c", "sleep 1000"], "timeout_s": 1})");
  auto outcome = Run();
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kFailed);
  EXPECT_EQ(outcome->message, "timed out after 1 s: package killed by signal 15 (SIGTERM)");
}

// Runs the executor on a thread, cancels once `ready` has been printed.
sdk::Result<sdk::TaskOutcome> RunAndCancelWhenReady(ProcessExecutor& executor,
                                                    const sdk::TaskSpec& spec, RecordingSink& sink,
                                                    CancellationSource& cancel) {
  std::optional<sdk::Result<sdk::TaskOutcome>> result;
  std::thread runner([&] { result.emplace(executor.Run(spec, sink, cancel)); });
  sink.WaitForMessage("ready");
  cancel.Cancel();
  runner.join();
  return *result;
}

TEST_F(ProcessExecutorTest, CancelKillsTheWholeProcessGroupIncludingGrandchildren) {
  Script("tree.sh",
         "sleep 1000 & echo $! > bg.pid\n"
         "sh -c 'sleep 1000 & sleep 1000' & echo $! > sub.pid\n"
         "echo $$ > sh.pid\n"
         "echo ready\n"
         "wait");
  ProcessExecutor executor(Options{}, logger_);
  auto outcome = RunAndCancelWhenReady(executor, spec_, sink_, cancel_);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kCancelled);
  EXPECT_THAT(outcome->message, HasSubstr("cancelled: package killed by signal 15"));
  for (const char* file : {"bg.pid", "sub.pid", "sh.pid"}) {
    const pid_t pid = std::stoi(ReadFile(Work(file)));
    EXPECT_TRUE(IsProcessGone(pid)) << file << " " << pid;
  }
  // The grandchildren of `sh -c` have no pid file; no live process of the
  // package's process group may be left.
  const pid_t group = std::stoi(ReadFile(Work("sh.pid")));
  for (pid_t pid : core::taskhost::SessionMembers(::getsid(0))) {
    EXPECT_NE(::getpgid(pid), group) << "left over: " << pid;
  }
}

// A warm task host runs task after task with one executor instance.
TEST_F(ProcessExecutorTest, OneInstanceRunsTasksOneAfterAnother) {
  ProcessExecutor executor(Options{}, logger_);
  for (int i = 0; i < 3; ++i) {
    spec_.task_id = "task-" + std::to_string(i);
    spec_.work_dir = root_ / spec_.task_id;
    std::filesystem::create_directory(spec_.work_dir);
    Script("run.sh", "echo \"$SCALEOUT_TASK_ID in $(pwd)\"\nexit " + std::to_string(i));
    RecordingSink sink;
    CancellationSource cancel;
    auto outcome = executor.Run(spec_, sink, cancel);
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    EXPECT_EQ(outcome->exit_code, i);
    EXPECT_EQ(outcome->result, i == 0 ? sdk::TaskResult::kSucceeded : sdk::TaskResult::kFailed);
    EXPECT_THAT(sink.Messages("stdout"), ElementsAre(spec_.task_id + " in " + spec_.work_dir));
  }
}

TEST_F(ProcessExecutorTest, CancelEscalatesToSigkillAfterTheGracePeriod) {
  // The shell and its children ignore SIGTERM; only SIGKILL ends them.
  Script("stubborn.sh", "trap '' TERM\nsleep 1000 & echo $! > bg.pid\necho ready\nwait");
  Options options;
  options.kill_grace_ms = 100;
  ProcessExecutor executor(options, logger_);
  auto outcome = RunAndCancelWhenReady(executor, spec_, sink_, cancel_);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kCancelled);
  EXPECT_EQ(outcome->message, "cancelled: package killed by signal 9 (SIGKILL)");
  EXPECT_TRUE(IsProcessGone(std::stoi(ReadFile(Work("bg.pid")))));
}

TEST_F(ProcessExecutorTest, BackgroundJobsDoNotOutliveThePackage) {
  Script("leaky.sh", "sleep 1000 & echo $! > bg.pid\nexit 0");
  auto outcome = Run();
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kSucceeded);
  EXPECT_TRUE(IsProcessGone(std::stoi(ReadFile(Work("bg.pid")))));
}

// A descendant that left the package's group and session (setsid) still
// holds stdout: the package's end is reported after a bounded wait for the
// output, with the lines written before the exit, and the holder is not
// waited for.
// Without the packages' cgroup (which kills it: sandbox_test.cc).
TEST_F(ProcessExecutorTest, AnEscapedHolderOfStdoutDelaysTheEndOnlyBriefly) {
  // The holder writes its pid only once it has left the group, so the
  // package's group kill cannot catch it on the way out.
  Script("escape.sh",
         "setsid sh -c 'echo $$ > holder.tmp; mv holder.tmp holder.pid; exec sleep 30' &\n"
         "while [ ! -e holder.pid ]; do sleep 0.01; done\necho before exit\nexit 0");
  const auto begin = std::chrono::steady_clock::now();
  Options options;
  options.cgroup = Options::Cgroup::kOff;
  auto outcome = Run(options);
  const auto took = std::chrono::steady_clock::now() - begin;
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kSucceeded);
  EXPECT_THAT(sink_.Messages("stdout"), ElementsAre("before exit"));
  EXPECT_LT(took, std::chrono::seconds(10));
  const pid_t holder = std::stoi(ReadFile(Work("holder.pid")));
  EXPECT_FALSE(IsProcessGone(holder)) << "the holder should have escaped the group kill";
  ::kill(holder, SIGKILL);
}

// A package may close its stdout and go on: it is still running, and its
// end is still seen (by its exit, not by the pipes closing).
TEST_F(ProcessExecutorTest, APackageThatClosesStdoutEarlyStillEndsNormally) {
  Script("closes.sh", "exec 1>&-\nsleep 0.3\necho still here >&2\nexit 3");
  auto outcome = Run();
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kFailed);
  EXPECT_EQ(outcome->exit_code, 3);
  EXPECT_THAT(sink_.Messages("stderr"), ElementsAre("still here"));
}

TEST_F(ProcessExecutorTest, AlreadyCancelledTokenStartsNothing) {
  Script("touch.sh", "touch ran.txt");
  cancel_.Cancel();
  auto outcome = Run();
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kCancelled);
  EXPECT_FALSE(std::filesystem::exists(Work("ran.txt")));
}

TEST_F(ProcessExecutorTest, LongLinesAreTruncatedAtTheLimit) {
  Script("long.sh", "head -c 5000 /dev/zero | tr '\\0' a\necho\necho short");
  Options options;
  options.max_line_bytes = 100;
  auto outcome = Run(options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_THAT(sink_.Messages("stdout"),
              ElementsAre(std::string(100, 'a') + " [truncated 4900 bytes]", "short"));
}

TEST_F(ProcessExecutorTest, ManyLinesArriveInOrder) {
  Script("many.sh", "i=0\nwhile [ $i -lt 5000 ]; do echo line$i; i=$((i+1)); done");
  auto outcome = Run();
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  const auto lines = sink_.Messages("stdout");
  ASSERT_EQ(lines.size(), 5000u);
  for (std::size_t i = 0; i < lines.size(); ++i) ASSERT_EQ(lines[i], "line" + std::to_string(i));
}

// The host ignores SIGPIPE and may have signals blocked in the thread that
// runs the executor; the package must start as any program does: default
// dispositions, nothing blocked, stdin at end of file, in its own group.
TEST_F(ProcessExecutorTest, ThePackageStartsWithDefaultSignalsAnEmptyMaskAndItsOwnGroup) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  struct sigaction saved_pipe {};
  ::sigaction(SIGPIPE, &ignore, &saved_pipe);
  sigset_t usr1;
  sigset_t saved_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &usr1, &saved_mask);
  Script("signals.sh",
         "grep -E '^Sig(Ign|Blk):' /proc/self/status\n"
         "echo pgid=$(ps -o pgid= -p $$ | tr -d ' ') pid=$$\n"
         "cat && echo stdin-empty");
  auto outcome = Run();
  ::pthread_sigmask(SIG_SETMASK, &saved_mask, nullptr);
  ::sigaction(SIGPIPE, &saved_pipe, nullptr);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kSucceeded) << outcome->message;
  const auto lines = sink_.Messages("stdout");
  EXPECT_THAT(lines, Contains("SigIgn:\t0000000000000000"));
  EXPECT_THAT(lines, Contains("SigBlk:\t0000000000000000"));
  EXPECT_THAT(lines, Contains("stdin-empty"));
  bool own_group = false;
  for (const std::string& line : lines) {
    const auto pgid = line.find("pgid=");
    const auto pid = line.find(" pid=");
    if (pgid == 0 && pid != std::string::npos) {
      own_group = line.substr(5, pid - 5) == line.substr(pid + 5);
    }
  }
  EXPECT_TRUE(own_group) << ::testing::PrintToString(lines);
}

TEST_F(ProcessExecutorTest, AMissingWorkDirIsNamedAndStartsNothing) {
  Script("ok.sh", "touch ran");
  spec_.work_dir = root_ / "no-such-dir";
  auto outcome = Run();
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), sdk::StatusCode::kNotFound);
  EXPECT_THAT(outcome.status().message(), HasSubstr("work dir"));
  EXPECT_THAT(outcome.status().message(), HasSubstr("no-such-dir"));
  EXPECT_FALSE(std::filesystem::exists(spec_.project_dir + "/ran"));
}

TEST_F(ProcessExecutorTest, MissingPackageIsNotFound) {
  spec_.package_name = "missing.sh";
  auto outcome = Run();
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), sdk::StatusCode::kNotFound);
  EXPECT_THAT(outcome.status().message(), HasSubstr("missing.sh"));
}

TEST_F(ProcessExecutorTest, PackageThatIsNotExecutableIsRefused) {
  WriteFile(spec_.project_dir + "/plain.sh", "#!/bin/sh\necho hi\n", 0644);
  spec_.package_name = "plain.sh";
  auto outcome = Run();
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), sdk::StatusCode::kFailedPrecondition);
  EXPECT_THAT(outcome.status().message(), HasSubstr("is not executable"));
}

TEST_F(ProcessExecutorTest, ScriptWithoutInterpreterLineIsRefused) {
  WriteFile(spec_.project_dir + "/noshebang.sh", "echo hi\n", 0755);
  spec_.package_name = "noshebang.sh";
  auto outcome = Run();
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), sdk::StatusCode::kFailedPrecondition);
  EXPECT_THAT(outcome.status().message(), HasSubstr("#!"));
}

TEST_F(ProcessExecutorTest, PackageNameMayNotLeaveTheProject) {
  Script("ok.sh", "exit 0");
  spec_.package_name = "../work/ok.sh";
  auto outcome = Run();
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), sdk::StatusCode::kInvalidArgument);
}

TEST_F(ProcessExecutorTest, BadManifestIsRefusedWithItsReason) {
  Manifest("bad.cmd.json", R"({"command": ["/bin/true"], "timeout": 5})");
  auto outcome = Run();
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), sdk::StatusCode::kInvalidArgument);
  EXPECT_THAT(outcome.status().message(), HasSubstr("manifest key 'timeout' is unknown"));
  EXPECT_THAT(outcome.status().message(), HasSubstr("bad.cmd.json"));
}

TEST(ProcessExecutorCreateTest, UnknownAndBadConfigKeysAreRefused) {
  sdk::NullLogger logger;
  auto create = [&](const sdk::ConfigView::Map& values) {
    sdk::ConfigView view(values, "executor.process");
    sdk::PluginContext context{&view, &logger};
    return ProcessExecutor::Create(context);
  };
  auto typo = create({{"kill_grace", "10"}});
  ASSERT_FALSE(typo.ok());
  EXPECT_THAT(typo.status().message(), HasSubstr("unknown setting 'executor.process.kill_grace'"));
  auto negative = create({{"kill_grace_ms", "-1"}});
  ASSERT_FALSE(negative.ok());
  EXPECT_THAT(negative.status().message(), HasSubstr("kill_grace_ms"));
  auto tiny = create({{"max_line_bytes", "1"}});
  ASSERT_FALSE(tiny.ok());
  auto not_bool = create({{"inherit_environment", "maybe"}});
  ASSERT_FALSE(not_bool.ok());
  auto good =
      create({{"kill_grace_ms", "250"}, {"max_line_bytes", "4096"}, {"inherit_environment", "no"}});
  EXPECT_TRUE(good.ok()) << good.status().ToString();
}

}  // namespace
}  // namespace scaleout::plugins::process
