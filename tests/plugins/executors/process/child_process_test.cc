// executor/process's reading of /proc/<pid>/status in the package's child:
// which signals it puts back to SIG_DFL before execve(). The package-level
// effect (SIGPIPE default in the package) is in process_executor_test.cc.
#include "plugins/executors/process/child_process.h"

#include <signal.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace scaleout::plugins::process {
namespace {

constexpr std::uint64_t kEvery = ~std::uint64_t{0};

std::uint64_t FromText(const std::string& text) {
  return NonDefaultSignalsFromStatus(text.data(), text.size());
}

std::uint64_t Bit(int signo) { return std::uint64_t{1} << (signo - 1); }

void CatchUsr1(int /*signo*/) {}

TEST(NonDefaultSignalsTest, AreTheIgnoredAndTheCaughtOnes) {
  EXPECT_EQ(FromText("Name:\tx\nSigBlk:\tffffffffffffffff\nSigIgn:\t0000000000001000\n"
                     "SigCgt:\t0000000180004002\nCapInh:\t0000000000000000\n"),
            0x0000000180005002U);
  EXPECT_EQ(FromText("SigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\n"), 0U);
}

TEST(NonDefaultSignalsTest, AnUnreadableStatusMeansEverySignal) {
  EXPECT_EQ(FromText(""), kEvery);
  EXPECT_EQ(FromText("Name:\tx\nSigIgn:\t0000000000001000\n"), kEvery);                 // no SigCgt
  EXPECT_EQ(FromText("SigIgn:\t00000000000010\nSigCgt:\t0000000000000000\n"), kEvery);  // short
  EXPECT_EQ(FromText("SigIgn:\t000000000000100x\nSigCgt:\t0000000000000000\n"), kEvery);
  // Cut off in the middle of a field, as a read too short for the file would.
  EXPECT_EQ(FromText("SigIgn:\t0000000000001000\nSigCgt:\t00000001"), kEvery);
  // 128 signals (more digits): the first 16 would be the wrong half.
  EXPECT_EQ(FromText("SigIgn:\t00000000000000000000000000001000\nSigCgt:\t0000000000000000\n"),
            kEvery);
  // A label only counts at the start of a line.
  EXPECT_EQ(FromText("XSigIgn:\t0000000000001000\nSigCgt:\t0000000000000000\n"), kEvery);
}

// This process's own status, with one signal ignored and one caught: both
// are among those the child resets, and a default one is not.
TEST(NonDefaultSignalsTest, ReadsThisProcessesDispositions) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  struct sigaction catcher {};
  catcher.sa_handler = CatchUsr1;
  sigemptyset(&catcher.sa_mask);
  struct sigaction saved_pipe {};
  struct sigaction saved_usr1 {};
  struct sigaction saved_usr2 {};
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &saved_pipe), 0);
  ASSERT_EQ(::sigaction(SIGUSR1, &catcher, &saved_usr1), 0);
  struct sigaction by_default {};
  by_default.sa_handler = SIG_DFL;
  sigemptyset(&by_default.sa_mask);
  ASSERT_EQ(::sigaction(SIGUSR2, &by_default, &saved_usr2), 0);
  std::ifstream file("/proc/self/status");
  std::stringstream text;
  text << file.rdbuf();
  ::sigaction(SIGPIPE, &saved_pipe, nullptr);
  ::sigaction(SIGUSR1, &saved_usr1, nullptr);
  ::sigaction(SIGUSR2, &saved_usr2, nullptr);
  const std::uint64_t signals = FromText(text.str());
  ASSERT_NE(signals, kEvery) << text.str();
  EXPECT_NE(signals & Bit(SIGPIPE), 0U);
  EXPECT_NE(signals & Bit(SIGUSR1), 0U);
  EXPECT_EQ(signals & Bit(SIGUSR2), 0U);
}

}  // namespace
}  // namespace scaleout::plugins::process
