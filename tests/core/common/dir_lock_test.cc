// DirectoryLock: one holder at a time, the refusal names the holder's pid,
// the lock goes with its holder, and child processes never hold it.
#include "core/common/dir_lock.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace scaleout::core {
namespace {

using ::testing::HasSubstr;

// Whether another process can take the lock now (util-linux flock(1)).
bool FreeForAnotherProcess(const test::TempDir& dir) {
  return test::RunProcess("/usr/bin/flock",
                          {"--nonblock", (dir / ".scaleout.lock").string(), "true"})
             .exit_code == 0;
}

TEST(DirectoryLockTest, ASecondHolderIsRefusedWithTheFirstOnesPid) {
  test::TempDir dir;
  auto first = DirectoryLock::Acquire(dir.path().string(), "scaleout worker");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->dir(), dir.path().string());
  EXPECT_FALSE(FreeForAnotherProcess(dir));

  auto second = DirectoryLock::Acquire(dir.path().string(), "scaleout worker");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), sdk::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(),
              HasSubstr("another scaleout worker (pid " + std::to_string(::getpid()) + ")"));
  EXPECT_THAT(second.status().message(), HasSubstr(dir.path().string()));

  // Moved, still held; destroyed, free.
  DirectoryLock moved = std::move(*first);
  EXPECT_FALSE(DirectoryLock::Acquire(dir.path().string(), "scaleout worker").ok());
  { DirectoryLock gone = std::move(moved); }
  EXPECT_TRUE(FreeForAnotherProcess(dir));
  EXPECT_TRUE(DirectoryLock::Acquire(dir.path().string(), "scaleout worker").ok());
}

TEST(DirectoryLockTest, AChildProcessDoesNotKeepTheLock) {
  test::TempDir dir;
  auto lock = DirectoryLock::Acquire(dir.path().string(), "scaleout worker");
  ASSERT_TRUE(lock.ok());
  // A child started while the lock is held (as task hosts are: spawned, so
  // it has run its exec, which closes the lock's descriptor, by the time the
  // call returns; a plain fork would still share the lock until its exec) ...
  pid_t child = -1;
  char arg0[] = "sleep";
  char arg1[] = "5";
  char* child_argv[] = {arg0, arg1, nullptr};
  ASSERT_EQ(::posix_spawn(&child, "/bin/sleep", nullptr, nullptr, child_argv, environ), 0);
  // ... does not hold it once this process lets go.
  { DirectoryLock released = std::move(*lock); }
  EXPECT_TRUE(FreeForAnotherProcess(dir));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
}

TEST(DirectoryLockTest, AMissingFolderIsUnavailableWithTheReason) {
  test::TempDir dir;
  auto lock = DirectoryLock::Acquire((dir / "missing").string(), "scaleout worker");
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), sdk::StatusCode::kUnavailable);
  EXPECT_THAT(lock.status().message(), HasSubstr("No such file or directory"));
}

}  // namespace
}  // namespace scaleout::core
