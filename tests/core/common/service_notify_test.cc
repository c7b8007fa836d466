// ServiceNotifier against a real unix datagram socket standing in for
// systemd's: what it sends, that it takes NOTIFY_SOCKET out of the
// environment, and that without one it does nothing.
#include "core/common/service_notify.h"

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

}  // namespace
}  // namespace scaleout::core
