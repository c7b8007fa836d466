// executor/process's sandbox: limits, no new privileges and packages run
// under an account of their own, with real /bin/sh packages. The account
// tests switch to "nobody" and need root (or the capabilities); elsewhere
// they skip, saying why.
#include "plugins/executors/process/sandbox.h"

#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/taskhost/process_tree.h"
#include "plugins/executors/process/process_executor.h"
#include "tests/plugins/executors/process/executor_fixture.h"
#include "tests/plugins/executors/process/test_util.h"

namespace scaleout::plugins::process {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// One line of /proc/<pid>/limits: soft and hard values as printed.
struct PrintedLimit {
  std::string soft;
  std::string hard;
};

// Parses the lines of /proc/<pid>/limits the package printed, by name
// ("Max open files"). Columns are separated by two or more spaces.
std::map<std::string, PrintedLimit> ParseLimits(const std::vector<std::string>& lines) {
  std::map<std::string, PrintedLimit> limits;
  for (const std::string& line : lines) {
    if (line.rfind("Max ", 0) != 0) continue;
    std::vector<std::string> columns;
    std::size_t at = 0;
    while (at < line.size()) {
      const std::size_t gap = line.find("  ", at);
      const std::string column = line.substr(at, gap == std::string::npos ? gap : gap - at);
      if (!column.empty()) columns.push_back(column);
      if (gap == std::string::npos) break;
      at = line.find_first_not_of(' ', gap);
      if (at == std::string::npos) break;
    }
    if (columns.size() >= 3) limits[columns[0]] = {columns[1], columns[2]};
  }
  return limits;
}

// The one line of `lines` that starts with `prefix`, without it.
std::string LineAfter(const std::vector<std::string>& lines, const std::string& prefix) {
  for (const std::string& line : lines) {
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  }
  return "(no line starting with '" + prefix + "')";
}

bool CanSwitchAccounts() {
  std::ifstream in("/proc/self/status");
  std::ostringstream text;
  text << in.rdbuf();
  return MissingSwitchCapabilities(text.str()).empty();
}

class SandboxTest : public ExecutorFixture {
 protected:
  void Script(const std::string& body, mode_t mode = 0755) {
    ExecutorFixture::Script("run.sh", body, mode);
  }

  // The account tests' package must reach its folders as "nobody": the
  // temp root is traversable (not listable) by others, as TasksRootFolder
  // and the project cache must be for run_as_user.
  void LetOthersThrough() { ASSERT_EQ(::chmod(root_.path().c_str(), 0711), 0); }
};

TEST_F(SandboxTest, LimitsApplyToThePackageAndWhatItStarts) {
  Script("cat /proc/self/limits");
  Options options;
  options.max_open_files = 64;
  options.max_file_size_mb = 3;
  options.max_virtual_memory_mb = 4096;
  options.max_processes = 500;
  options.max_cpu_seconds = 600;
  auto outcome = Run(options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ASSERT_EQ(outcome->result, sdk::TaskResult::kSucceeded) << outcome->message;
  auto limits = ParseLimits(sink_.Messages("stdout"));
  EXPECT_EQ(limits["Max open files"].soft, "64");
  EXPECT_EQ(limits["Max open files"].hard, "64");
  EXPECT_EQ(limits["Max file size"].soft, std::to_string(3 << 20));
  EXPECT_EQ(limits["Max address space"].hard, std::to_string(std::uint64_t{4096} << 20));
  EXPECT_EQ(limits["Max processes"].soft, "500");
  EXPECT_EQ(limits["Max cpu time"].soft, "600");
  EXPECT_EQ(limits["Max cpu time"].hard, "601");  // SIGXCPU first, SIGKILL a second later
  EXPECT_EQ(limits["Max core file size"].soft, "0");
}

TEST_F(SandboxTest, ByDefaultNoCoreFilesAndNoNewPrivileges) {
  Script("cat /proc/self/limits; grep NoNewPrivs /proc/self/status");
  auto outcome = Run(Options{});
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  const auto lines = sink_.Messages("stdout");
  EXPECT_EQ(ParseLimits(lines)["Max core file size"].hard, "0");
  EXPECT_EQ(LineAfter(lines, "NoNewPrivs:\t"), "1");
  // The limits not asked for are the task host's own.
  rlimit own{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &own), 0);
  EXPECT_EQ(ParseLimits(lines)["Max open files"].soft, std::to_string(own.rlim_cur));
}

TEST_F(SandboxTest, CoreFilesAndNewPrivilegesCanBeAllowed) {
  Script("cat /proc/self/limits; grep NoNewPrivs /proc/self/status");
  Options options;
  options.core_dumps = true;
  options.no_new_privileges = false;
  auto outcome = Run(options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  const auto lines = sink_.Messages("stdout");
  rlimit own{};
  ASSERT_EQ(::getrlimit(RLIMIT_CORE, &own), 0);
  const std::string own_core =
      own.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(own.rlim_cur);
  EXPECT_EQ(ParseLimits(lines)["Max core file size"].soft, own_core);
  EXPECT_EQ(LineAfter(lines, "NoNewPrivs:\t"), "0");
}

TEST_F(SandboxTest, AFileSizeLimitStopsAPackageThatWritesMore) {
  Script("exec head -c 3145728 /dev/zero > big");
  Options options;
  options.max_file_size_mb = 1;
  auto outcome = Run(options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kFailed);
  EXPECT_THAT(outcome->message, HasSubstr("SIGXFSZ"));
  EXPECT_EQ(std::filesystem::file_size(spec_.work_dir + "/big"), std::uintmax_t{1} << 20);
}

TEST_F(SandboxTest, ACpuLimitStopsABusyPackage) {
  Script("while :; do :; done");
  Options options;
  options.max_cpu_seconds = 1;
  auto outcome = Run(options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kFailed);
  EXPECT_THAT(outcome->message, HasSubstr("SIGXCPU"));
}

TEST_F(SandboxTest, ALimitAboveTheWorkersOwnHardLimitIsRefusedAtStart) {
  rlimit own{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &own), 0);
  if (own.rlim_max == RLIM_INFINITY || own.rlim_max >= (1u << 30)) {
    GTEST_SKIP() << "this process's open-files hard limit is too high to exceed";
  }
  Options options;
  options.max_open_files = static_cast<std::int64_t>(own.rlim_max) + 1;
  auto sandbox = MakeSandbox(options);
  ASSERT_FALSE(sandbox.ok());
  EXPECT_EQ(sandbox.status().code(), sdk::StatusCode::kFailedPrecondition);
  EXPECT_THAT(sandbox.status().message(), HasSubstr("max_open_files"));
  EXPECT_THAT(sandbox.status().message(), HasSubstr("hard limit (" + std::to_string(own.rlim_max)));
}

// A daemon (setsid, then its own process group and session) escapes the
// package's group kill and the task host's session sweep; the packages'
// cgroup catches it: it is dead when Run returns, and an event says so.
TEST_F(SandboxTest, ADaemonThePackageLeftBehindIsKilledThroughTheCgroup) {
  std::string why;
  if (!FindCgroupPlace(&why)) GTEST_SKIP() << "no packages' cgroup here: " << why;
  Script(
      "setsid sh -c 'echo $$ > daemon.tmp; mv daemon.tmp daemon.pid; exec sleep 30' &\n"
      "while [ ! -e daemon.pid ]; do sleep 0.01; done\n"
      "grep '^0::' /proc/$(cat daemon.pid)/cgroup");
  Options options;
  options.cgroup = Options::Cgroup::kOn;
  auto executor = ProcessExecutor::Make(options, logger_);
  ASSERT_TRUE(executor.ok()) << executor.status().ToString();
  auto outcome = (*executor)->Run(spec_, sink_, cancel_);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kSucceeded) << outcome->message;
  const pid_t daemon = std::stoi(scaleout::testing::ReadFile(Work("daemon.pid")));
  EXPECT_TRUE(core::taskhost::IsProcessGone(daemon)) << "the daemon outlived its package";
  ::kill(daemon, SIGKILL);
  EXPECT_THAT(sink_.Messages("stdout"),
              ElementsAre(::testing::MatchesRegex("0::.*/scaleout-packages-[0-9]+")));
  EXPECT_THAT(sink_.Messages("executor/process"),
              ::testing::Contains(HasSubstr("left processes outside its process group")));
  // The cgroup goes with the executor.
  const std::string folder = sink_.Messages("stdout").at(0).substr(3);
  (*executor)->Stop();
  executor->reset();
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(FindCgroupPlace(&why)->folder) /
                                       std::filesystem::path(folder).filename()));
}

TEST(SandboxCgroupTest, OurFolderIsFoundFromMountinfoAndProcCgroup) {
  const std::string mountinfo =
      "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  EXPECT_EQ(CgroupFolderFrom(mountinfo, "1:cpu:/\n0::/\n"), "/sys/fs/cgroup/unified");
  EXPECT_EQ(CgroupFolderFrom(mountinfo, "0::/system.slice/w.service\n"),
            "/sys/fs/cgroup/unified/system.slice/w.service");
  // A cgroup namespace's mount shows its root; a space is written \040.
  EXPECT_EQ(
      CgroupFolderFrom("7 1 0:30 /ns /sys/fs/my\\040cg rw - cgroup2 cgroup2 rw\n", "0::/ns/job\n"),
      "/sys/fs/my cg/job");
  EXPECT_EQ(CgroupFolderFrom(mountinfo, "1:cpu:/\n"), std::nullopt);  // cgroup v1 only
  EXPECT_EQ(CgroupFolderFrom("25 1 8:1 / / rw - ext4 /dev/sda1 rw\n", "0::/\n"), std::nullopt);
}

TEST(SandboxOptionsTest, BadValuesAreRefusedNamingTheKey) {
  sdk::NullLogger logger;
  auto create = [&](const sdk::ConfigView::Map& values) {
    sdk::ConfigView view(values, "executor.process");
    sdk::PluginContext context{&view, &logger};
    return ProcessExecutor::Create(context);
  };
  for (const auto& [key, value] :
       std::map<std::string, std::string>{{"max_open_files", "-1"},
                                          {"max_file_size_mb", "lots"},
                                          {"max_virtual_memory_mb", "1e3"},
                                          {"max_processes", "-5"},
                                          {"max_cpu_seconds", "99999999999999"},
                                          {"core_dumps", "sometimes"},
                                          {"no_new_privileges", "2"},
                                          {"cgroup", "maybe"}}) {
    auto made = create({{key, value}});
    ASSERT_FALSE(made.ok()) << key << "=" << value;
    EXPECT_EQ(made.status().code(), sdk::StatusCode::kInvalidArgument);
    EXPECT_THAT(made.status().message(), HasSubstr(key));
  }
  auto unknown = create({{"run_as_user", "no-such-account-for-scaleout"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), sdk::StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr("no such account"));
  EXPECT_THAT(unknown.status().message(), HasSubstr("useradd"));
}

TEST(SandboxAccountTest, AnAccountIsFoundByNameOrNumber) {
  auto by_name = LookUpAccount("nobody");
  if (!by_name.ok()) GTEST_SKIP() << "this machine has no account 'nobody'";
  EXPECT_EQ(by_name->name, "nobody");
  EXPECT_THAT(by_name->groups, ::testing::Contains(by_name->gid));
  auto by_number = LookUpAccount(std::to_string(by_name->uid));
  ASSERT_TRUE(by_number.ok()) << by_number.status().ToString();
  EXPECT_EQ(by_number->name, "nobody");
  EXPECT_EQ(by_number->home, by_name->home);
  auto root = LookUpAccount("0");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->name, "root");
}

TEST(SandboxAccountTest, MissingCapabilitiesAreNamed) {
  EXPECT_THAT(MissingSwitchCapabilities("Name:\tx\nCapEff:\t000001ffffffffff\n"), IsEmpty());
  EXPECT_THAT(MissingSwitchCapabilities("Name:\tx\nCapEff:\t0000000000000000\n"),
              ElementsAre("CAP_CHOWN", "CAP_KILL", "CAP_SETGID", "CAP_SETUID"));
  EXPECT_THAT(MissingSwitchCapabilities("Name:\tx\nCapEff:\t00000000000000c0\n"),
              ElementsAre("CAP_CHOWN", "CAP_KILL"));
  EXPECT_THAT(MissingSwitchCapabilities("Name:\tx\n"),
              ElementsAre("CAP_CHOWN", "CAP_KILL", "CAP_SETGID", "CAP_SETUID"));
}

TEST(SandboxAccountTest, AnUnprivilegedWorkerIsRefusedAtStart) {
  auto nobody = LookUpAccount("nobody");
  if (!nobody.ok()) GTEST_SKIP() << "this machine has no account 'nobody'";
  if (!CanSwitchAccounts()) GTEST_SKIP() << "this test drops privileges it does not have";
  // In a child that has become "nobody", as a worker run by that account is.
  EXPECT_EXIT(
      {
        if (::setresgid(nobody->gid, nobody->gid, nobody->gid) != 0 ||
            ::setresuid(nobody->uid, nobody->uid, nobody->uid) != 0) {
          std::_Exit(2);
        }
        Options options;
        options.run_as_user = "nobody";
        auto sandbox = MakeSandbox(options);
        std::cerr << sandbox.status().message() << std::endl;
        std::_Exit(sandbox.status().code() == sdk::StatusCode::kPermissionDenied ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "lacks CAP_CHOWN, CAP_KILL, CAP_SETGID, CAP_SETUID");
}

TEST(SandboxCgroupTest, CgroupOnIsRefusedAtStartWhereNoCgroupCanBeMade) {
  auto nobody = LookUpAccount("nobody");
  if (!nobody.ok()) GTEST_SKIP() << "this machine has no account 'nobody'";
  if (!CanSwitchAccounts()) GTEST_SKIP() << "this test drops privileges it does not have";
  // In a child that has become "nobody", which may not make cgroups.
  auto as_nobody = [&] {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(nobody->gid, nobody->gid, nobody->gid) != 0 ||
        ::setresuid(nobody->uid, nobody->uid, nobody->uid) != 0) {
      std::_Exit(2);
    }
    Options options;
    options.cgroup = Options::Cgroup::kOn;
    auto sandbox = MakeSandbox(options);
    std::cerr << sandbox.status().message() << std::endl;
    options.cgroup = Options::Cgroup::kAuto;  // runs without one instead
    const bool auto_ok = MakeSandbox(options).ok() && !MakeSandbox(options)->cgroup_place;
    std::_Exit(sandbox.status().code() == sdk::StatusCode::kFailedPrecondition && auto_ok ? 0 : 1);
  };
  EXPECT_EXIT(as_nobody(), ::testing::ExitedWithCode(0), "cgroup = on: .*; or set cgroup = auto");
}

TEST_F(SandboxTest, APackageRunsAsItsAccountAndCannotReadTheWorkersFiles) {
  auto nobody = LookUpAccount("nobody");
  if (!nobody.ok()) GTEST_SKIP() << "this machine has no account 'nobody'";
  if (!CanSwitchAccounts()) GTEST_SKIP() << "switching accounts needs root or CAP_SETUID etc.";
  LetOthersThrough();
  ASSERT_EQ(::chmod(spec_.work_dir.c_str(), 0700), 0);  // as the task host makes it
  scaleout::testing::WriteFile(root_ / "worker.key", "the worker's private key\n", 0600);
  Script(
      "id -u; id -g; echo \"home=$HOME user=$USER logname=$LOGNAME\"\n"
      "pwd; echo x > mine; stat -c 'mine=%u:%g' mine; stat -c 'work=%u:%g %a' .\n"
      "cat ../worker.key || echo 'key: refused'\n"
      "kill -0 " +
      std::to_string(::getpid()) + " 2>/dev/null || echo 'signal: refused'");
  Options options;
  options.run_as_user = "nobody";
  auto outcome = Run(options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ASSERT_EQ(outcome->result, sdk::TaskResult::kSucceeded) << outcome->message;
  const std::string uid = std::to_string(nobody->uid);
  const std::string gid = std::to_string(nobody->gid);
  EXPECT_THAT(sink_.Messages("stdout"),
              ElementsAre(uid, gid, "home=" + nobody->home + " user=nobody logname=nobody",
                          spec_.work_dir, "mine=" + uid + ":" + gid,
                          "work=" + uid + ":" + gid + " 700", "key: refused", "signal: refused"));
  EXPECT_THAT(sink_.Messages("stderr"), ElementsAre(HasSubstr("Permission denied")));
}

// A worker run by an account of its own with the capabilities granted
// (systemd's AmbientCapabilities=CAP_CHOWN CAP_KILL CAP_SETGID CAP_SETUID)
// may run packages as their account, and a package gets none of them: a
// non-root process keeps its capabilities across setresuid, and ambient
// ones would pass through execve.
TEST_F(SandboxTest, AWorkerWithGrantedCapabilitiesPassesNoneToThePackage) {
  auto nobody = LookUpAccount("nobody");
  auto worker = LookUpAccount("daemon");
  if (!nobody.ok() || !worker.ok()) GTEST_SKIP() << "this machine lacks 'nobody' or 'daemon'";
  if (!CanSwitchAccounts()) GTEST_SKIP() << "this test grants capabilities it does not have";
  LetOthersThrough();
  Script("grep '^Cap[IPEA]' /proc/self/status; id -u");
  // In a child, which becomes the worker account with the capabilities.
  auto as_granted_worker = [&] {
    auto quit = [](int code, const std::string& why) {
      std::cerr << why << std::endl;
      std::_Exit(code);
    };
    constexpr int kGranted[] = {CAP_CHOWN, CAP_KILL, CAP_SETGID, CAP_SETUID};
    std::uint32_t mask = 0;
    for (int cap : kGranted) mask |= 1u << cap;
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = {{mask, mask, mask}, {0, 0, 0}};
    if (::prctl(PR_SET_KEEPCAPS, 1) != 0 || ::setgroups(0, nullptr) != 0 ||
        ::setresgid(worker->gid, worker->gid, worker->gid) != 0 ||
        ::setresuid(worker->uid, worker->uid, worker->uid) != 0 ||
        ::syscall(SYS_capset, &header, caps) != 0) {
      quit(3, std::string("cannot become the worker account: ") + std::strerror(errno));
    }
    for (int cap : kGranted) {
      if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
        quit(3, "cannot raise an ambient capability");
      }
    }
    Options options;
    options.run_as_user = "nobody";
    options.cgroup = Options::Cgroup::kOff;
    auto outcome = Run(options);
    if (!outcome.ok()) quit(4, outcome.status().ToString());
    const auto lines = sink_.Messages("stdout");
    for (const char* set : {"CapInh:\t", "CapPrm:\t", "CapEff:\t", "CapAmb:\t"}) {
      if (LineAfter(lines, set) != "0000000000000000") {
        quit(5, std::string(set) + LineAfter(lines, set));
      }
    }
    if (lines.empty() || lines.back() != std::to_string(nobody->uid)) quit(6, "not nobody");
    quit(0, "the package had no capabilities");
  };
  EXPECT_EXIT(as_granted_worker(), ::testing::ExitedWithCode(0), "the package had no capabilities");
}

TEST_F(SandboxTest, AnAccountThatCannotReachTheWorkFolderGetsAClearError) {
  if (!LookUpAccount("nobody").ok()) GTEST_SKIP() << "this machine has no account 'nobody'";
  if (!CanSwitchAccounts()) GTEST_SKIP() << "switching accounts needs root or CAP_SETUID etc.";
  // The temp root stays 0700: "nobody" cannot pass through it.
  Script("echo never");
  Options options;
  options.run_as_user = "nobody";
  auto outcome = Run(options);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), sdk::StatusCode::kNotFound);
  EXPECT_THAT(outcome.status().message(), HasSubstr("Permission denied"));
  EXPECT_THAT(outcome.status().message(), HasSubstr("account 'nobody' (run_as_user)"));
  EXPECT_THAT(outcome.status().message(), HasSubstr("chmod o+x"));
  EXPECT_THAT(sink_.Messages("stdout"), IsEmpty());
}

TEST_F(SandboxTest, APackageItsAccountMayNotRunGetsAClearError) {
  if (!LookUpAccount("nobody").ok()) GTEST_SKIP() << "this machine has no account 'nobody'";
  if (!CanSwitchAccounts()) GTEST_SKIP() << "switching accounts needs root or CAP_SETUID etc.";
  LetOthersThrough();
  Script("echo never", 0700);  // the worker's own
  Options options;
  options.run_as_user = "nobody";
  auto outcome = Run(options);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), sdk::StatusCode::kPermissionDenied);
  EXPECT_THAT(outcome.status().message(), HasSubstr("run.sh"));
  EXPECT_THAT(outcome.status().message(), HasSubstr("needs read and execute permission"));
}

}  // namespace
}  // namespace scaleout::plugins::process
