// `scaleout manage exec ...` against executions that really run: a master and
// a worker as child processes (the e2e cluster harness), packages run by the
// process executor in task-host children.
//
// - `exec wait` shows live progress on stderr when that is a terminal (run
//   here on a pseudo-terminal) while the result table goes to stdout, and
//   exits 0 when every execution succeeded, 1 otherwise;
// - `exec log --follow` prints the package's lines as they come and returns
//   once the execution ended.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tests/e2e/scaleout/cluster.h"

namespace scaleout::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct TerminalRun {
  int exit_code = -1;
  std::string terminal;  // what the program wrote to its stderr (the terminal)
  std::string out;       // its stdout (a file)
};

// Runs `program args` with stderr on a new pseudo-terminal and stdout in a
// file, the environment extended by `env`; reads the terminal until the
// program closed it.
TerminalRun RunWithStderrOnTerminal(const fs::path& program, const std::vector<std::string>& args,
                                    const std::vector<std::string>& env, const fs::path& out_file) {
  TerminalRun run;
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    ADD_FAILURE() << "no pseudo-terminal: " << std::strerror(errno);
    return run;
  }
  const std::string slave_name = ptsname(master);
  const pid_t pid = fork();
  if (pid == 0) {
    setsid();
    const int slave = open(slave_name.c_str(), O_RDWR);
    const int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int in = open("/dev/null", O_RDONLY);
    if (slave < 0 || out < 0 || in < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(slave, 2);
    close(master);
    for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<std::string> argv_text = {program.string()};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    argv.reserve(argv_text.size() + 1);
    for (std::string& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(master, buffer, sizeof(buffer));
    if (n > 0) {
      run.terminal.append(buffer, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EIO once the program (and so every holder of the terminal) ended
    }
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = ReadFile(out_file);
  return run;
}

class ExecOnWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.StartMaster();
    ASSERT_FALSE(HasFatalFailure());
    agent_id_ = cluster_.AddWorker("w1");
    ASSERT_FALSE(HasFatalFailure());
    const fs::path project = cluster_.dir() / "project";
    WriteFile(project / "slow.sh", "#!/bin/sh\necho started\nsleep 2\necho finished\n");
    WriteFile(project / "lines.sh", "#!/bin/sh\nfor i in 1 2 3; do echo line-$i; sleep 1; done\n");
    WriteFile(project / "fail.sh", "#!/bin/sh\necho broken >&2\nexit 3\n");
    cluster_.Deploy("F", "P", project);
    ASSERT_FALSE(HasFatalFailure());
    // A principal of this test's own, whose token the terminal run uses.
    const json user =
        cluster_.ManageJson({"user", "add", "operator", "--role", "admin", "--token"});
    ASSERT_TRUE(user.contains("token")) << user.dump(2);
    token_ = user["token"].get<std::string>();
  }

  std::vector<std::string> Environment() const {
    return {"SCALEOUT_MASTER=" + cluster_.master_url(),
            "SCALEOUT_MASTER_THUMBPRINT=" + cluster_.master_thumbprint(),
            "SCALEOUT_TOKEN=" + token_, "SCALEOUT_PLUGIN_DIR=" + InTreePluginDir().string()};
  }

  Cluster cluster_;
  std::string agent_id_;
  std::string token_;
};

TEST_F(ExecOnWorkerTest, WaitShowsLiveProgressOnATerminalAndTheResultOnStdout) {
  const std::int64_t id = cluster_.Run("F", "P", "slow.sh", {"--worker", agent_id_});
  ASSERT_GT(id, 0);
  const std::string ids = std::to_string(id);
  const TerminalRun run =
      RunWithStderrOnTerminal(HostBinary(), {"manage", "exec", "wait", ids, "--timeout", "300"},
                              Environment(), cluster_.dir() / "wait.out");
  EXPECT_EQ(run.exit_code, 0) << run.terminal << run.out;
  // Progress: the line is redrawn in place ("\r" + erase line) with the status.
  EXPECT_TRUE(Contains(run.terminal, "\r\033[K" + ids + ": ")) << run.terminal;
  EXPECT_TRUE(Contains(run.terminal, ids + ": succeeded")) << run.terminal;
  // The result table is on stdout, free of terminal control sequences.
  EXPECT_TRUE(Contains(run.out, "succeeded")) << run.out;
  EXPECT_TRUE(Contains(run.out, "slow.sh")) << run.out;
  EXPECT_FALSE(Contains(run.out, "\033[")) << run.out;

  // Not on a terminal: no progress at all, the same result.
  const ProcessResult plain = cluster_.Manage({"exec", "wait", ids});
  EXPECT_EQ(plain.exit_code, 0);
  EXPECT_FALSE(Contains(plain.err, "\033[")) << plain.err;
  EXPECT_TRUE(Contains(plain.out, "succeeded")) << plain.out;
  // --json: the executions as a JSON array, matching the table.
  const json waited = cluster_.ManageJson({"exec", "wait", ids});
  ASSERT_EQ(waited.size(), 1u);
  EXPECT_EQ(waited[0]["execution_id"], id);
  EXPECT_EQ(waited[0]["status_name"], "succeeded");
  EXPECT_EQ(waited[0]["worker_agent_id"], agent_id_);
}

TEST_F(ExecOnWorkerTest, WaitExitsOneWhenAnExecutionFailed) {
  const std::int64_t ok = cluster_.Run("F", "P", "slow.sh");
  const std::int64_t bad = cluster_.Run("F", "P", "fail.sh");
  ASSERT_GT(ok, 0);
  ASSERT_GT(bad, 0);
  const ProcessResult waited =
      cluster_.Manage({"exec", "wait", std::to_string(ok), std::to_string(bad)});
  EXPECT_EQ(waited.exit_code, 1) << waited.out << waited.err;
  EXPECT_TRUE(Contains(waited.out, "succeeded")) << waited.out;
  EXPECT_TRUE(Contains(waited.out, "failed")) << waited.out;
  // The failed attempt keeps the package's exit code and the worker that ran it.
  const json shown = cluster_.Show(bad);
  ASSERT_FALSE(shown["attempts"].empty()) << shown.dump(2);
  EXPECT_EQ(shown["attempts"][0]["exit_code"], 3) << shown.dump(2);
  EXPECT_EQ(shown["attempts"][0]["worker_agent_id"], agent_id_);
}

TEST_F(ExecOnWorkerTest, LogFollowPrintsTheLinesAsTheyComeUntilTheEnd) {
  const std::int64_t id = cluster_.Run("F", "P", "lines.sh");
  ASSERT_GT(id, 0);
  const std::string ids = std::to_string(id);
  // Started while the package runs; returns only once the execution ended.
  const ProcessResult followed = cluster_.Manage({"exec", "log", ids, "--follow"});
  ASSERT_EQ(followed.exit_code, 0) << followed.err;
  const std::size_t one = followed.out.find("line-1");
  const std::size_t two = followed.out.find("line-2");
  const std::size_t three = followed.out.find("line-3");
  ASSERT_NE(one, std::string::npos) << followed.out;
  ASSERT_NE(two, std::string::npos) << followed.out;
  ASSERT_NE(three, std::string::npos) << followed.out;
  EXPECT_LT(one, two);
  EXPECT_LT(two, three);
  EXPECT_TRUE(Contains(followed.out, "stdout")) << followed.out;  // the message source
  EXPECT_EQ(cluster_.Show(id)["status_name"], "succeeded");
  // Each line once, even though --follow polled many times.
  EXPECT_EQ(followed.out.find("line-2", two + 1), std::string::npos) << followed.out;
  // --json: the same messages as an array.
  const json messages = cluster_.ManageJson({"exec", "log", ids});
  int lines = 0;
  for (const json& m : messages) {
    if (Contains(m.value("message", ""), "line-")) ++lines;
  }
  EXPECT_EQ(lines, 3) << messages.dump(2);
}

}  // namespace
}  // namespace scaleout::test
