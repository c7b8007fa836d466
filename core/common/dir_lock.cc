#include "core/common/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

namespace scaleout::core {

namespace {

constexpr const char* kLockFileName = ".scaleout.lock";

// The pid the holder wrote, or "" when the file says nothing readable.
std::string HolderPid(int fd) {
  char buffer[32] = {};
  const ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0) return "";
  std::string pid(buffer, static_cast<std::size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid;
}

}  // namespace

sdk::Result<DirectoryLock> DirectoryLock::Acquire(const std::string& dir, std::string_view what) {
  const std::string file = (std::filesystem::path(dir) / kLockFileName).string();
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return sdk::Status::Unavailable("cannot open the lock file " + file + ": " +
                                    std::strerror(errno) + "; check the folder's permissions");
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string pid = HolderPid(fd);
    ::close(fd);
    if (error != EWOULDBLOCK) {
      return sdk::Status::Unavailable("cannot lock " + file + ": " + std::strerror(error));
    }
    return sdk::Status::FailedPrecondition(
        "another " + std::string(what) + (pid.empty() ? "" : " (pid " + pid + ")") + " is using " +
        dir + "; stop it first, or give this one folders of its own");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock holds without the pid; only a second process's message misses it.
  }
  return DirectoryLock(dir, fd);
}

DirectoryLock::DirectoryLock(DirectoryLock&& other) noexcept
    : dir_(std::move(other.dir_)), fd_(std::exchange(other.fd_, -1)) {}

DirectoryLock& DirectoryLock::operator=(DirectoryLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    dir_ = std::move(other.dir_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor drops the flock
}

}  // namespace scaleout::core
