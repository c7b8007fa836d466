// Small helpers shared by the two sides of the task host (launcher, pool and
// the host itself): exit statuses in words, posix_spawn set-up, reading what
// a non-blocking fd has. Internal to core/taskhost.
//
// Thread-safety: stateless functions; a SpawnSetup belongs to one thread.
#ifndef SCALEOUT_CORE_TASKHOST_CHILD_IO_H_
#define SCALEOUT_CORE_TASKHOST_CHILD_IO_H_

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace scaleout::core::taskhost {

// How many of a host's last stderr lines are kept to explain its failure.
inline constexpr std::size_t kStderrTailLines = 3;

inline std::string Errno(std::string_view what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// "signal 6 SIGABRT" or "exit code 3".
inline std::string ExitDescription(int status) {
  if (WIFSIGNALED(status)) {
    const int signo = WTERMSIG(status);
    const char* name = ::sigabbrev_np(signo);
    return "signal " + std::to_string(signo) + (name != nullptr ? std::string(" SIG") + name : "");
  }
  return "exit code " + std::to_string(WEXITSTATUS(status));
}

// The shell's convention: 128 + signal for a killed process.
inline int ExitCodeOf(int status) {
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

inline void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

// Appends what is available on a non-blocking fd. False at EOF or on error.
// A read shorter than the buffer drained the pipe: no second read just to
// hear EAGAIN (EOF shows up at the next poll()).
inline bool ReadAvailable(int fd, std::string* into) {
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      into->append(buffer, static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < sizeof buffer) return true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

// Longest stderr line of a task host kept whole.
inline constexpr std::size_t kMaxStderrLineBytes = 4096;

// Moves the complete lines of a task host's stderr out of `bytes` (all of
// it when `flush`), dropping empty ones and cutting long ones; a runaway
// line with no end in sight is dropped.
inline std::vector<std::string> TakeStderrLines(std::string* bytes, bool flush) {
  std::vector<std::string> lines;
  std::size_t newline;
  while ((newline = bytes->find('\n')) != std::string::npos || (flush && !bytes->empty())) {
    const std::size_t end = newline == std::string::npos ? bytes->size() : newline;
    std::string line = bytes->substr(0, std::min(end, kMaxStderrLineBytes));
    bytes->erase(0, newline == std::string::npos ? end : end + 1);
    if (!line.empty()) lines.push_back(std::move(line));
  }
  if (bytes->size() > kMaxStderrLineBytes) bytes->clear();
  return lines;
}

// posix_spawn attributes and file actions, released on scope exit.
class SpawnSetup {
 public:
  SpawnSetup() {
    ::posix_spawnattr_init(&attr);
    ::posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    ::posix_spawnattr_destroy(&attr);
    ::posix_spawn_file_actions_destroy(&actions);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
};

}  // namespace scaleout::core::taskhost

#endif  // SCALEOUT_CORE_TASKHOST_CHILD_IO_H_
