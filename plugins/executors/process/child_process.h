// ChildProcess: one package process, started directly (clone + execve, no
// shell) in a process group of its own, with stdout and stderr on pipes.
//
// The group is what cancellation kills: the package and everything it
// starts (unless a descendant moves itself to another group or session).
//
// While the child is unreaped this object also holds the pipes' write ends
// (when the kernel has pidfds): the package's exit then wakes a poller once,
// on the pidfd, not once per pipe its exit closes and again for the exit.
// Reap() lets them go, so the pipes reach EOF once no one else holds them.
//
// Thread-safety: one thread. The destructor SIGKILLs the group of a child
// still unreaped and reaps it, so no process is leaked on an early return.
#ifndef SCALEOUT_PLUGINS_EXECUTORS_PROCESS_CHILD_PROCESS_H_
#define SCALEOUT_PLUGINS_EXECUTORS_PROCESS_CHILD_PROCESS_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "plugins/executors/process/sandbox.h"
#include "scaleout/sdk/status.h"

namespace scaleout::plugins::process {

class ChildProcess {
 public:
  // Starts `program` with `args` (args[0] included) and `envp` ("K=V"
  // entries, null-terminated, as execve() takes it) in `work_dir`, stdin
  // from /dev/null, under `sandbox`'s limits and account, in the cgroup
  // whose cgroup.procs is open as `cgroup_procs_fd` (-1: none). Errors name the
  // program and the reason (kNotFound, kPermissionDenied, kFailedPrecondition
  // for a file the kernel cannot execute, kUnavailable otherwise) and, for a
  // package run as another account, what that account needs.
  static sdk::Result<ChildProcess> Spawn(const std::string& program,
                                         const std::vector<std::string>& args, char* const* envp,
                                         const std::string& work_dir, const Sandbox& sandbox,
                                         int cgroup_procs_fd);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  int stdout_fd() const { return out_fd_; }  // non-blocking; -1 once closed
  int stderr_fd() const { return err_fd_; }
  int pid_fd() const { return pid_fd_; }  // readable once the child exits; -1 if unsupported
  void CloseStdout();
  void CloseStderr();

  // Signals the whole process group. A no-op once reaped (the id may be reused).
  void SignalGroup(int signo);
  // SIGKILLs the group, reaps the child, and waits (up to `limit_ms`) until
  // no live process of the group is left, so nothing of the package
  // outlives Run(). Returns the child's wait status; `*survivors` is set
  // when something was still alive at the limit.
  int KillGroupAndReap(int limit_ms, bool* survivors);
  // True once the child has exited; does not reap it (so the group id stays ours).
  bool HasExited();
  // Reaps the child (blocks until it exits); returns the wait status.
  int Reap();

 private:
  ChildProcess() = default;

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int pid_fd_ = -1;
  int out_write_fd_ = -1;  // held until reaped (see above); -1 without a pidfd
  int err_write_fd_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

// The signals whose disposition is not SIG_DFL (bit n-1 for signal n),
// read from the "SigIgn:" and "SigCgt:" lines of a /proc/<pid>/status text
// of `size` bytes; all bits set when either line is missing or malformed
// (the caller then resets every signal). Safe in a vfork child: no
// allocation, no library call, not instrumented.
std::uint64_t NonDefaultSignalsFromStatus(const char* text, std::size_t size);

}  // namespace scaleout::plugins::process

#endif  // SCALEOUT_PLUGINS_EXECUTORS_PROCESS_CHILD_PROCESS_H_
