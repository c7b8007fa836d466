#include "plugins/executors/process/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

namespace scaleout::plugins::process {
namespace {

void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

sdk::Status SpawnError(const std::string& program, int error) {
  const std::string message = "cannot run '" + program + "': " + std::strerror(error);
  switch (error) {
    case ENOENT: return sdk::Status::NotFound(message);
    case EACCES:
    case EPERM: return sdk::Status::PermissionDenied(message);
    case ENOEXEC:
      return sdk::Status::FailedPrecondition(message + " (a script needs a '#!' first line)");
    default: return sdk::Status::Unavailable(message);
  }
}

// posix_spawn attributes and file actions, released on scope exit.
struct SpawnSetup {
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

// True when some live (not zombie) process has process group `pgid`.
// Reads /proc/<pid>/stat; the fields after the last ')' are
// "state ppid pgrp ...". A zombie is dead already: an orphan reparented to
// an init that does not reap stays one, and must not make us wait.
bool GroupHasLiveMembers(pid_t pgid) {
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return false;
  bool found = false;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    const std::string path = std::string("/proc/") + entry->d_name + "/stat";
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char buffer[512];
    const ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
    ::close(fd);
    if (n <= 0) continue;
    buffer[n] = '\0';
    const char* paren = std::strrchr(buffer, ')');
    if (paren == nullptr || paren[1] == '\0' || paren[2] == '\0') continue;
    const char state = paren[2];
    char* end = nullptr;
    std::strtol(paren + 3, &end, 10);  // ppid
    const long group = std::strtol(end, &end, 10);
    if (group == pgid && state != 'Z' && state != 'X') {
      found = true;
      break;
    }
  }
  ::closedir(dir);
  return found;
}

}  // namespace

sdk::Result<ChildProcess> ChildProcess::Spawn(const std::string& program,
                                              const std::vector<std::string>& args,
                                              const std::vector<std::string>& env,
                                              const std::string& work_dir) {
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    const int error = errno;
    for (int* fd : {&out[0], &out[1], &err[0], &err[1]}) CloseFd(fd);
    return sdk::Status::Unavailable(std::string("cannot create pipes: ") + std::strerror(error));
  }
  SpawnSetup setup;
  ::posix_spawn_file_actions_addchdir_np(&setup.actions, work_dir.c_str());
  ::posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&setup.actions, out[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&setup.actions, err[1], STDERR_FILENO);
  // Own process group (pgid = pid), no blocked signals, default dispositions:
  // the task host ignores SIGPIPE and handles SIGTERM; the package must not.
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setflags(
      &setup.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  ::posix_spawnattr_setpgroup(&setup.attr, 0);
  ::posix_spawnattr_setsigmask(&setup.attr, &none);
  ::posix_spawnattr_setsigdefault(&setup.attr, &all);

  std::vector<std::string> arg_copy = args;
  std::vector<char*> argv;
  for (std::string& arg : arg_copy) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_copy = env;
  std::vector<char*> envp;
  for (std::string& entry : env_copy) envp.push_back(entry.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int rc =
      ::posix_spawn(&pid, program.c_str(), &setup.actions, &setup.attr, argv.data(), envp.data());
  CloseFd(&out[1]);
  CloseFd(&err[1]);
  if (rc != 0) {
    CloseFd(&out[0]);
    CloseFd(&err[0]);
    // A missing work dir also shows up as ENOENT from the chdir action.
    if (rc == ENOENT && ::access(work_dir.c_str(), X_OK) != 0) {
      return sdk::Status::NotFound("work dir '" + work_dir +
                                   "' is not usable: " + std::strerror(errno));
    }
    return SpawnError(program, rc);
  }
  ChildProcess child;
  child.pid_ = pid;
  child.out_fd_ = out[0];
  child.err_fd_ = err[0];
  ::fcntl(child.out_fd_, F_SETFL, O_NONBLOCK);
  ::fcntl(child.err_fd_, F_SETFL, O_NONBLOCK);
#if defined(SYS_pidfd_open)
  child.pid_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (child.pid_fd_ >= 0) ::fcntl(child.pid_fd_, F_SETFD, FD_CLOEXEC);
#endif
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_),
      out_fd_(other.out_fd_),
      err_fd_(other.err_fd_),
      pid_fd_(other.pid_fd_),
      reaped_(other.reaped_),
      status_(other.status_) {
  other.pid_ = -1;
  other.out_fd_ = other.err_fd_ = other.pid_fd_ = -1;
  other.reaped_ = true;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) {
    bool survivors = false;
    (void)KillGroupAndReap(2000, &survivors);
  }
  CloseFd(&out_fd_);
  CloseFd(&err_fd_);
  CloseFd(&pid_fd_);
}

void ChildProcess::CloseStdout() { CloseFd(&out_fd_); }
void ChildProcess::CloseStderr() { CloseFd(&err_fd_); }

void ChildProcess::SignalGroup(int signo) {
  if (pid_ > 0 && !reaped_) ::kill(-pid_, signo);
}

int ChildProcess::KillGroupAndReap(int limit_ms, bool* survivors) {
  *survivors = false;
  if (pid_ <= 0 || reaped_) return status_;
  // While the leader is unreaped its pid, and so the group id, cannot be
  // reused: this SIGKILL reaches only the package's processes. A member
  // killed in the middle of fork() cannot leave a new child behind.
  ::kill(-pid_, SIGKILL);
  const pid_t group = pid_;
  const int status = Reap();
  // Fast path: no member left at all (zombies included).
  if (::kill(-group, 0) != 0 && errno == ESRCH) return status;
  // Slow path (scans /proc): wait for the killed members to die. Only
  // looks, never signals, so a reused id could not come to harm.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms);
  while (GroupHasLiveMembers(group)) {
    if (std::chrono::steady_clock::now() >= until) {
      *survivors = true;
      break;
    }
    ::usleep(1000);
  }
  return status;
}

bool ChildProcess::HasExited() {
  if (reaped_) return true;
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid_;
}

int ChildProcess::Reap() {
  if (reaped_) return status_;
  while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  CloseFd(&pid_fd_);
  return status_;
}

}  // namespace scaleout::plugins::process
