// ServiceWatchdog against a real datagram socket standing in for systemd's:
// pings while healthy, none while not (saying why once), and none at all
// without WatchdogSec.
#include "core/common/service_watchdog.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/common/ids.h"
#include "tests/support/test_util.h"

namespace scaleout::core {
namespace {

using test::FakeServiceManager;

// A notifier for `manager`'s socket with WATCHDOG_USEC = `usec`.
ServiceNotifier NotifierFor(const std::string& socket, const char* usec) {
  ::setenv("NOTIFY_SOCKET", socket.c_str(), 1);
  ::setenv("WATCHDOG_USEC", usec, 1);
  ::unsetenv("WATCHDOG_PID");
  return ServiceNotifier::FromEnvironment();
}

TEST(ServiceWatchdogTest, PingsWhileHealthyAndSaysOnceWhyItStopped) {
  const std::string socket = "@scaleout-test-" + NewGuid();
  FakeServiceManager manager(socket);
  ASSERT_TRUE(manager.bound());
  const ServiceNotifier notifier = NotifierFor(socket, "30000000");
  ManualClock clock;
  std::string problem;
  std::vector<std::string> warnings;
  ServiceWatchdog watchdog(
      notifier, [&problem] { return problem; }, clock,
      [&warnings](const std::string& w) { warnings.push_back(w); });
  EXPECT_EQ(watchdog.period(), std::chrono::seconds(15));

  EXPECT_TRUE(watchdog.PingOnce());
  EXPECT_EQ(manager.Receive(), "WATCHDOG=1");
  problem = "the catalog writer hangs";
  EXPECT_FALSE(watchdog.PingOnce());
  EXPECT_FALSE(watchdog.PingOnce());
  EXPECT_EQ(manager.Receive(std::chrono::milliseconds(200)), "") << "pinged while unhealthy";
  ASSERT_EQ(warnings.size(), 1u) << "said it more than once";
  EXPECT_NE(warnings[0].find("the catalog writer hangs"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("restarts"), std::string::npos) << warnings[0];
  problem.clear();
  EXPECT_TRUE(watchdog.PingOnce());
  EXPECT_EQ(manager.Receive(), "WATCHDOG=1");
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[1].find("resume"), std::string::npos) << warnings[1];
}

TEST(ServiceWatchdogTest, ItsThreadPingsEveryHalfInterval) {
  const std::string socket = "@scaleout-test-" + NewGuid();
  FakeServiceManager manager(socket);
  ASSERT_TRUE(manager.bound());
  const ServiceNotifier notifier = NotifierFor(socket, "100000");  // 100 ms: a ping each 50 ms
  int checks = 0;
  ServiceWatchdog watchdog(
      notifier, [&checks] { return ++checks, std::string(); }, SystemClock::Instance(),
      [](const std::string&) {});
  watchdog.Start();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(manager.Receive(std::chrono::seconds(5)), "WATCHDOG=1");
  watchdog.Stop();
  watchdog.Stop();  // idempotent
  EXPECT_GE(checks, 3);
}

TEST(ServiceWatchdogTest, WithoutWatchdogSecNoThreadNoPing) {
  const std::string socket = "@scaleout-test-" + NewGuid();
  FakeServiceManager manager(socket);
  ASSERT_TRUE(manager.bound());
  ::setenv("NOTIFY_SOCKET", socket.c_str(), 1);
  ::unsetenv("WATCHDOG_USEC");
  const ServiceNotifier notifier = ServiceNotifier::FromEnvironment();
  bool checked = false;
  ServiceWatchdog watchdog(
      notifier, [&checked] { return checked = true, std::string(); }, SystemClock::Instance(),
      [](const std::string&) {});
  watchdog.Start();
  EXPECT_EQ(manager.Receive(std::chrono::milliseconds(300)), "");
  watchdog.Stop();
  EXPECT_FALSE(checked);
}

}  // namespace
}  // namespace scaleout::core
