#include "core/taskhost/process_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string>

namespace scaleout::core::taskhost {
namespace {

struct ProcStat {
  char state = '?';
  pid_t session = -1;
};

// Parses /proc/<pid>/stat. The command name (field 2) may contain spaces and
// parentheses, so the fields after it are read from the last ')'.
bool ReadStat(pid_t pid, ProcStat* out) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[1024];
  ssize_t n;
  do {
    n = ::read(fd, buffer, sizeof buffer - 1);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n <= 0) return false;
  buffer[n] = '\0';
  const std::string text(buffer, static_cast<std::size_t>(n));
  const std::size_t paren = text.rfind(')');
  if (paren == std::string::npos || paren + 2 >= text.size()) return false;
  // After ") ": state ppid pgrp session ...
  const char* p = text.c_str() + paren + 2;
  out->state = *p;
  char* end = nullptr;
  std::strtol(p + 1, &end, 10);  // ppid
  std::strtol(end, &end, 10);    // pgrp
  out->session = static_cast<pid_t>(std::strtol(end, &end, 10));
  return true;
}

}  // namespace

std::vector<pid_t> SessionMembers(pid_t sid) {
  std::vector<pid_t> members;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return members;
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid <= 0) continue;
    ProcStat stat;
    if (!ReadStat(static_cast<pid_t>(pid), &stat)) continue;
    if (stat.session == sid && stat.state != 'Z' && stat.state != 'X') {
      members.push_back(static_cast<pid_t>(pid));
    }
  }
  ::closedir(dir);
  return members;
}

int KillSession(pid_t sid) {
  if (sid <= 1) return 0;
  int signalled = 0;
  // Each pass kills what it sees; a child forked meanwhile is caught by the
  // next pass. SIGKILL cannot be blocked, so this ends quickly; the bound
  // only guards against a /proc that never settles.
  for (int pass = 0; pass < 1000; ++pass) {
    const std::vector<pid_t> members = SessionMembers(sid);
    if (members.empty()) break;
    for (pid_t pid : members) {
      if (::kill(pid, SIGKILL) == 0) ++signalled;
    }
    if (pass > 0) ::usleep(1000);  // let the killed ones die before rescanning
  }
  return signalled;
}

bool IsProcessGone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  ProcStat stat;
  if (!ReadStat(pid, &stat)) return true;
  return stat.state == 'Z' || stat.state == 'X';
}

}  // namespace scaleout::core::taskhost
