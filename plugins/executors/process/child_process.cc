#include "plugins/executors/process/child_process.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "plugins/executors/process/close_fd.h"

namespace scaleout::plugins::process {
namespace {

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

// The kernel's struct rlimit64 for prlimit64.
struct KernelRlimit {
  std::uint64_t soft;
  std::uint64_t hard;
};

// What the child needs, all prepared by the parent: the child shares the
// parent's memory until execve() (CLONE_VM | CLONE_VFORK) and may only make
// system calls. It reports a failed step through `error` and `step` (and
// `failed_limit`, the index of a limit it could not set).
struct ChildPlan {
  const char* program;
  char* const* argv;
  char* const* envp;
  const char* work_dir;
  int stdin_fd;
  int stdout_fd;
  int stderr_fd;
  int cgroup_procs_fd = -1;               // cgroup.procs of the packages' cgroup, or -1
  const ResourceLimit* limits = nullptr;  // the sandbox's, read-only
  std::size_t limit_count = 0;
  bool switch_account = false;
  uid_t uid = 0;
  gid_t gid = 0;
  const gid_t* groups = nullptr;
  std::size_t group_count = 0;
  bool no_new_privileges = false;
  int error = 0;  // errno of the step that failed; written by the child
  std::size_t failed_limit = 0;
  enum Step { kNone, kSetup, kCgroup, kLimits, kAccount, kWorkDir, kExec } step = kNone;
};

// The kernel's struct sigaction for rt_sigaction (8-byte signal set).
struct KernelSigaction {
  __sighandler_t handler;
  unsigned long flags;
  void* restorer;
  unsigned long mask;
};

// Drops every capability of the calling process, ambient ones included.
// Root loses its capabilities when it switches to another user id, but a
// worker run by another account with capabilities granted (systemd's
// AmbientCapabilities=) keeps them across setresuid, and ambient ones would
// even pass to the package through execve. Raw system calls (see below).
__attribute__((no_sanitize("address", "undefined"))) bool DropCapabilities() {
  // EINVAL: a kernel before 4.3 has no ambient set to clear.
  if (::syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
      errno != EINVAL) {
    return false;
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {};
  return ::syscall(SYS_capset, &header, none) == 0;
}

// Every signal's bit: what the child resets when it cannot tell which need it.
constexpr std::uint64_t kEverySignal = ~std::uint64_t{0};

// The value of the 16-hex-digit field that follows `label` at the start of
// a line of `text`; `*ok` is false when no line starts with `label` or the
// field is not exactly 16 lowercase hex digits to the end of its line. Plain loops: see
// NonDefaultSignalsFromStatus.
__attribute__((no_sanitize("address", "undefined"))) std::uint64_t HexFieldAfter(
    const char* text, std::size_t size, const char* label, std::size_t label_size, bool* ok) {
  *ok = false;
  for (std::size_t line = 0; line < size;) {
    std::size_t i = 0;
    while (i < label_size && line + i < size && text[line + i] == label[i]) ++i;
    if (i == label_size) {
      std::uint64_t value = 0;
      std::size_t digits = 0;
      for (std::size_t at = line + i; at < size && digits < 16; ++at, ++digits) {
        const char c = text[at];
        int nibble = -1;
        if (c >= '0' && c <= '9') nibble = c - '0';
        if (c >= 'a' && c <= 'f') nibble = c - 'a' + 10;
        if (nibble < 0) break;
        value = (value << 4) | static_cast<std::uint64_t>(nibble);
      }
      // Exactly 16: a kernel with more than 64 signals prints more digits,
      // and their first 16 would be the wrong ones.
      const std::size_t next = line + i + digits;
      *ok = digits == 16 && (next >= size || text[next] == '\n');
      return value;
    }
    while (line < size && text[line] != '\n') ++line;
    ++line;  // past the newline
  }
  return 0;
}

// Which signals the child has to put back to SIG_DFL, from its own
// /proc/self/status (it has its own copy of the parent's dispositions): one
// open and one read instead of a system call per signal, which cost about
// 60 us per package here. Every signal when the file cannot be read.
__attribute__((no_sanitize("address", "undefined"))) std::uint64_t ChildNonDefaultSignals() {
  char text[4096];
  const long fd = ::syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return kEverySignal;
  const long got = ::syscall(SYS_read, fd, text, sizeof text);
  ::syscall(SYS_close, fd);
  if (got <= 0) return kEverySignal;
  return NonDefaultSignalsFromStatus(text, static_cast<std::size_t>(got));
}

// Runs in the child on the parent's memory, with every signal blocked:
// raw system calls only (no allocation, no sanitizer interceptors, no
// glibc locks). Every handled or ignored signal goes back to its default
// before the mask is cleared, so no handler of the parent can run here and
// the package sees SIGPIPE as a normal program does.
__attribute__((no_sanitize("address", "undefined"))) int StartPackage(void* arg) {
  auto* plan = static_cast<ChildPlan*>(arg);
  auto fail = [plan](ChildPlan::Step step) {
    plan->error = errno;
    plan->step = step;
    ::syscall(SYS_exit, 127);
    return 127;
  };
  KernelSigaction default_action{SIG_DFL, 0, nullptr, 0};
  const std::uint64_t non_default = ChildNonDefaultSignals();
  for (int signo = 1; signo < 65; ++signo) {
    if (signo == SIGKILL || signo == SIGSTOP) continue;
    if (((non_default >> (signo - 1)) & 1U) == 0) continue;
    ::syscall(SYS_rt_sigaction, signo, &default_action, nullptr, sizeof(unsigned long));
  }
  // Into the packages' cgroup before anything else, so that whatever the
  // package starts is in it too.
  if (plan->cgroup_procs_fd >= 0 &&
      ::syscall(SYS_pwrite64, plan->cgroup_procs_fd, "0", 1, 0) != 1) {
    return fail(ChildPlan::kCgroup);
  }
  if (::syscall(SYS_setpgid, 0, 0) != 0) return fail(ChildPlan::kSetup);
  // Limits first, while the process may still lower any of them; then the
  // account (groups before ids: setgroups needs the privilege setresuid
  // gives up); then no new privileges; then the folder, as the account.
  for (std::size_t i = 0; i < plan->limit_count; ++i) {
    const KernelRlimit value{plan->limits[i].soft, plan->limits[i].hard};
    if (::syscall(SYS_prlimit64, 0, plan->limits[i].resource, &value, nullptr) != 0) {
      plan->failed_limit = i;
      return fail(ChildPlan::kLimits);
    }
  }
  if (plan->switch_account &&
      (::syscall(SYS_setgroups, plan->group_count, plan->groups) != 0 ||
       ::syscall(SYS_setresgid, plan->gid, plan->gid, plan->gid) != 0 ||
       ::syscall(SYS_setresuid, plan->uid, plan->uid, plan->uid) != 0 || !DropCapabilities())) {
    return fail(ChildPlan::kAccount);
  }
  if (plan->no_new_privileges && ::syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return fail(ChildPlan::kSetup);
  }
  if (::syscall(SYS_chdir, plan->work_dir) != 0) return fail(ChildPlan::kWorkDir);
  if (::syscall(SYS_dup2, plan->stdin_fd, STDIN_FILENO) < 0 ||
      ::syscall(SYS_dup2, plan->stdout_fd, STDOUT_FILENO) < 0 ||
      ::syscall(SYS_dup2, plan->stderr_fd, STDERR_FILENO) < 0) {
    return fail(ChildPlan::kSetup);
  }
  const unsigned long no_signals = 0;
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &no_signals, nullptr, sizeof no_signals);
  ::syscall(SYS_execve, plan->program, plan->argv, plan->envp);
  return fail(ChildPlan::kExec);
}

// /dev/null for the packages' stdin, opened once for the process (close-on-exec).
int DevNull() {
  static const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  return fd;
}

// Pointers into `strings` plus the terminating null, as execve() wants.
std::vector<char*> PointersTo(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const std::string& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

// Starts the child as vfork() does, on a stack in this frame: the parent
// is suspended until the child has called execve() or exited, so the
// region is free, and no stack is mapped and unmapped per package (the
// unmap costs a TLB shootdown across the host's threads). Every signal is
// blocked meanwhile. Returns the child's pid (or -1 with errno set) and its
// pidfd in `*pid_fd` (-1 when the kernel has no CLONE_PIDFD).
pid_t CloneForExec(ChildPlan& plan, int* pid_fd) {
  constexpr std::size_t kChildStackBytes = std::size_t{32} * 1024;
  alignas(64) char stack[kChildStackBytes];
  sigset_t all;
  sigset_t saved;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved);
  constexpr int kFlags = CLONE_VM | CLONE_VFORK | SIGCHLD;
  *pid_fd = -1;
  pid_t pid = ::clone(StartPackage, stack + sizeof stack, kFlags | CLONE_PIDFD, &plan, pid_fd);
  if (pid < 0 && errno == EINVAL) {  // a kernel before 5.2
    *pid_fd = -1;
    pid = ::clone(StartPackage, stack + sizeof stack, kFlags, &plan);
  }
  const int clone_error = errno;
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  errno = clone_error;
  return pid;
}

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

// Says why the child did not reach its package: which step failed and, when
// it runs as another account, what that account must be allowed.
sdk::Status StartError(const std::string& program, const std::string& work_dir,
                       const Sandbox& sandbox, const ChildPlan& plan) {
  const std::string as_account =
      sandbox.account ? "account '" + sandbox.account->name + "' (run_as_user)" : "";
  const bool denied = plan.error == EACCES || plan.error == EPERM;
  switch (plan.step) {
    case ChildPlan::kWorkDir: {
      std::string message =
          "work dir '" + work_dir + "' is not usable: " + std::strerror(plan.error);
      if (denied && sandbox.account) {
        message += "; " + as_account +
                   " must be able to reach it: give TasksRootFolder and every folder above it "
                   "execute permission for that account (chmod o+x)";
      }
      return sdk::Status::NotFound(message);
    }
    case ChildPlan::kLimits:
      return sdk::Status::Unavailable("cannot set " + sandbox.limits[plan.failed_limit].key +
                                      " for '" + program + "': " + std::strerror(plan.error));
    case ChildPlan::kAccount:
      return sdk::Status::PermissionDenied("cannot run '" + program + "' as " + as_account +
                                           " (uid " + std::to_string(sandbox.account->uid) +
                                           ", gid " + std::to_string(sandbox.account->gid) +
                                           "): " + std::strerror(plan.error));
    case ChildPlan::kSetup:
      return sdk::Status::Unavailable("cannot prepare the process for '" + program +
                                      "': " + std::strerror(plan.error));
    case ChildPlan::kCgroup:
      return sdk::Status::Unavailable("cannot move the process for '" + program +
                                      "' into the packages' cgroup: " + std::strerror(plan.error) +
                                      "; set executor.process.cgroup = off to run without one");
    case ChildPlan::kExec:
    case ChildPlan::kNone: break;
  }
  sdk::Status status = SpawnError(program, plan.error);
  if (denied && sandbox.account) {
    return sdk::Status::PermissionDenied(
        status.message() + "; " + as_account +
        " needs read and execute permission on it and execute permission on every folder above "
        "it (the worker's project cache)");
  }
  return status;
}

}  // namespace

__attribute__((no_sanitize("address", "undefined"))) std::uint64_t NonDefaultSignalsFromStatus(
    const char* text, std::size_t size) {
  bool ignored_ok = false;
  bool caught_ok = false;
  const std::uint64_t ignored = HexFieldAfter(text, size, "SigIgn:\t", 8, &ignored_ok);
  const std::uint64_t caught = HexFieldAfter(text, size, "SigCgt:\t", 8, &caught_ok);
  return ignored_ok && caught_ok ? ignored | caught : kEverySignal;
}

sdk::Result<ChildProcess> ChildProcess::Spawn(const std::string& program,
                                              const std::vector<std::string>& args,
                                              char* const* envp, const std::string& work_dir,
                                              const Sandbox& sandbox, int cgroup_procs_fd) {
  if (DevNull() < 0) {
    return sdk::Status::Unavailable(std::string("cannot open /dev/null: ") + std::strerror(errno));
  }
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    const int error = errno;
    for (int* fd : {&out[0], &out[1], &err[0], &err[1]}) CloseFd(fd);
    return sdk::Status::Unavailable(std::string("cannot create pipes: ") + std::strerror(error));
  }
  const std::vector<char*> argv = PointersTo(args);
  ChildPlan plan{program.c_str(), argv.data(), envp, work_dir.c_str(), DevNull(), out[1], err[1]};
  plan.limits = sandbox.limits.data();
  plan.limit_count = sandbox.limits.size();
  if (sandbox.account) {
    plan.switch_account = true;
    plan.uid = sandbox.account->uid;
    plan.gid = sandbox.account->gid;
    plan.groups = sandbox.account->groups.data();
    plan.group_count = sandbox.account->groups.size();
  }
  plan.no_new_privileges = sandbox.no_new_privileges;
  plan.cgroup_procs_fd = cgroup_procs_fd;
  int pid_fd = -1;
  const pid_t pid = CloneForExec(plan, &pid_fd);
  const int clone_error = errno;
  if (pid < 0 || plan.step != ChildPlan::kNone) {
    CloseFd(&out[1]);
    CloseFd(&err[1]);
    CloseFd(&out[0]);
    CloseFd(&err[0]);
    CloseFd(&pid_fd);
    if (pid < 0) {
      return sdk::Status::Unavailable("cannot start a process for '" + program +
                                      "': " + std::strerror(clone_error));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return StartError(program, work_dir, sandbox, plan);
  }
  ChildProcess child;
  child.pid_ = pid;
  child.out_fd_ = out[0];
  child.err_fd_ = err[0];
  ::fcntl(child.out_fd_, F_SETFL, O_NONBLOCK);
  ::fcntl(child.err_fd_, F_SETFL, O_NONBLOCK);
  child.pid_fd_ = pid_fd >= 0 ? pid_fd : static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pid_fd < 0 && child.pid_fd_ >= 0) ::fcntl(child.pid_fd_, F_SETFD, FD_CLOEXEC);
  if (child.pid_fd_ >= 0) {
    child.out_write_fd_ = out[1];
    child.err_write_fd_ = err[1];
  } else {  // the pipes' end is then the first sign of the exit
    CloseFd(&out[1]);
    CloseFd(&err[1]);
  }
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_),
      out_fd_(other.out_fd_),
      err_fd_(other.err_fd_),
      pid_fd_(other.pid_fd_),
      out_write_fd_(other.out_write_fd_),
      err_write_fd_(other.err_write_fd_),
      reaped_(other.reaped_),
      status_(other.status_) {
  other.pid_ = -1;
  other.out_fd_ = other.err_fd_ = other.pid_fd_ = -1;
  other.out_write_fd_ = other.err_write_fd_ = -1;
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
  CloseFd(&out_write_fd_);
  CloseFd(&err_write_fd_);
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
  CloseFd(&out_write_fd_);
  CloseFd(&err_write_fd_);
  return status_;
}

}  // namespace scaleout::plugins::process
