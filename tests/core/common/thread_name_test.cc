// NameThisThread: the name the kernel shows for the thread, cut to its limit.
#include "core/common/thread_name.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace scaleout::core {
namespace {

// What /proc shows as the calling thread's name (what `top -H` prints).
std::string KernelNameOfThisThread() {
  std::ifstream comm("/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

TEST(ThreadNameTest, TheKernelShowsTheName) {
  std::string seen;
  std::string read_back;
  std::thread named([&] {
    NameThisThread("catalog-writer");
    seen = KernelNameOfThisThread();
    read_back = ThisThreadName();
  });
  named.join();
  EXPECT_EQ(seen, "catalog-writer");
  EXPECT_EQ(read_back, "catalog-writer");
}

TEST(ThreadNameTest, ALongNameIsCutToFifteenBytes) {
  std::string seen;
  std::thread named([&] {
    NameThisThread("a-name-longer-than-fifteen-bytes");
    seen = ThisThreadName();
  });
  named.join();
  EXPECT_EQ(seen, "a-name-longer-t");
  EXPECT_EQ(seen.size(), kMaxThreadNameBytes);
}

}  // namespace
}  // namespace scaleout::core
