// ServiceNotifier against a real unix datagram socket standing in for
// systemd's: what it sends, that it takes NOTIFY_SOCKET out of the
// environment, and that without one it does nothing.
#include "core/common/service_notify.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "core/common/ids.h"
#include "tests/support/test_util.h"

namespace scaleout::core {
namespace {

using test::FakeServiceManager;

TEST(ServiceNotifierTest, SendsToThePathSocketAndTakesTheVariableAway) {
  test::TempDir dir;
  const std::string path = (dir / "notify").string();
  FakeServiceManager manager(path);
  ASSERT_TRUE(manager.bound());
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  const ServiceNotifier notifier = ServiceNotifier::FromEnvironment();
  EXPECT_EQ(std::getenv("NOTIFY_SOCKET"), nullptr) << "children would inherit it";
  EXPECT_TRUE(notifier.enabled());
  EXPECT_TRUE(notifier.Notify("READY=1\nSTATUS=listening"));
  EXPECT_EQ(manager.Receive(), "READY=1\nSTATUS=listening");
  EXPECT_TRUE(notifier.Notify("STOPPING=1"));
  EXPECT_EQ(manager.Receive(), "STOPPING=1");
}

TEST(ServiceNotifierTest, SendsToAnAbstractSocket) {
  const std::string name = "@scaleout-test-" + NewGuid();
  FakeServiceManager manager(name);
  ASSERT_TRUE(manager.bound());
  ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  const ServiceNotifier notifier = ServiceNotifier::FromEnvironment();
  EXPECT_TRUE(notifier.Notify("READY=1"));
  EXPECT_EQ(manager.Receive(), "READY=1");
}

TEST(ServiceNotifierTest, WithoutAServiceManagerDoesNothing) {
  ::unsetenv("NOTIFY_SOCKET");
  const ServiceNotifier notifier = ServiceNotifier::FromEnvironment();
  EXPECT_FALSE(notifier.enabled());
  EXPECT_TRUE(notifier.Notify("READY=1"));
  // A socket nobody listens on: the send fails, and says so.
  ::setenv("NOTIFY_SOCKET", "@scaleout-nobody-listens", 1);
  EXPECT_FALSE(ServiceNotifier::FromEnvironment().Notify("READY=1"));
}

TEST(ServiceNotifierTest, ReadsTheWatchdogIntervalAndTakesItsVariablesAway) {
  const std::string name = "@scaleout-test-" + NewGuid();
  ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  ::setenv("WATCHDOG_USEC", "30000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  const ServiceNotifier notifier = ServiceNotifier::FromEnvironment();
  EXPECT_EQ(notifier.watchdog_interval(), std::chrono::seconds(30));
  EXPECT_EQ(std::getenv("WATCHDOG_USEC"), nullptr) << "children would inherit it";
  EXPECT_EQ(std::getenv("WATCHDOG_PID"), nullptr);
}

TEST(ServiceNotifierTest, NoWatchdogWhenMeantForAnotherProcessOrMalformed) {
  struct Case {
    const char* usec;
    const char* pid;  // nullptr: unset
    bool socket;
  };
  const std::string other_pid = std::to_string(::getpid() + 1);
  const Case cases[] = {{"30000000", other_pid.c_str(), true},  // another process's
                        {"abc", nullptr, true},                 // not a number
                        {"-5", nullptr, true},
                        {"30000000", nullptr, false},  // no socket to ping
                        {"", nullptr, true}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.usec) + " pid " + (c.pid != nullptr ? c.pid : "unset"));
    if (c.socket) {
      ::setenv("NOTIFY_SOCKET", "@scaleout-test-watchdog", 1);
    } else {
      ::unsetenv("NOTIFY_SOCKET");
    }
    ::setenv("WATCHDOG_USEC", c.usec, 1);
    if (c.pid != nullptr) {
      ::setenv("WATCHDOG_PID", c.pid, 1);
    } else {
      ::unsetenv("WATCHDOG_PID");
    }
    EXPECT_EQ(ServiceNotifier::FromEnvironment().watchdog_interval().count(), 0);
  }
  // Without WATCHDOG_PID the interval is ours.
  ::setenv("NOTIFY_SOCKET", "@scaleout-test-watchdog", 1);
  ::setenv("WATCHDOG_USEC", "250000", 1);
  EXPECT_EQ(ServiceNotifier::FromEnvironment().watchdog_interval(), std::chrono::milliseconds(250));
}

}  // namespace
}  // namespace scaleout::core
