// PackageCgroup: the cgroup (v2) an executor's packages run in, so that
// nothing a package starts outlives it, not even a process that left its
// process group and session (a daemon: setsid and fork again).
//
// One per executor instance, which runs one package at a time (SDK rule), so
// the cgroup is made once, in Start(), not per task: a package's child moves
// itself in before execve (writing "0" to cgroup.procs through a descriptor
// this object keeps open), and after the package's group is killed and
// reaped, KillAll() kills whatever is left in the cgroup (cgroup.kill) and
// waits until it is empty (cgroup.events). Per task that is one write in the
// child and one read here, unless something was left.
//
// The cgroup is <our own cgroup>/scaleout-packages-<pid>; no controller is
// enabled in it (limits are rlimits, sandbox.h), so it needs no delegation
// beyond write access to our own cgroup's folder (root, or a delegated
// subtree: Delegate=yes). The package's account cannot move itself out:
// the cgroup's files are the task host's.
//
// Thread-safety: one thread (the executor's Run), but for procs_fd(), read
// by the child the same thread starts.
#ifndef SCALEOUT_PLUGINS_EXECUTORS_PROCESS_PACKAGE_CGROUP_H_
#define SCALEOUT_PLUGINS_EXECUTORS_PROCESS_PACKAGE_CGROUP_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "scaleout/sdk/status.h"

namespace scaleout::plugins::process {

// Where packages' cgroups can be made: the folder of our own cgroup in the
// cgroup v2 hierarchy, if there is one and we may write to it.
struct CgroupPlace {
  std::string folder;  // e.g. /sys/fs/cgroup/system.slice/scaleout-worker.service
};

// Finds our cgroup v2 folder from /proc/self/mountinfo and /proc/self/cgroup
// (the texts are parameters, for tests). nullopt with `*why` set when there
// is none or it is not writable.
std::optional<CgroupPlace> FindCgroupPlace(std::string* why);
std::optional<std::string> CgroupFolderFrom(std::string_view mountinfo,
                                            std::string_view proc_cgroup);

class PackageCgroup {
 public:
  // Makes <place>/scaleout-packages-<pid> (removing the leftovers of task
  // hosts that died without removing theirs) and opens its control files.
  static sdk::Result<std::unique_ptr<PackageCgroup>> Make(const CgroupPlace& place);
  // Kills what is left in it and removes it.
  ~PackageCgroup();
  PackageCgroup(const PackageCgroup&) = delete;
  PackageCgroup& operator=(const PackageCgroup&) = delete;

  const std::string& folder() const { return folder_; }
  // cgroup.procs, open for writing (close-on-exec): the package's child
  // writes "0" to it to move itself in.
  int procs_fd() const { return procs_fd_; }
  // True when no process is in the cgroup.
  bool Empty() const;
  // Kills every process in the cgroup and waits up to `limit_ms` until it is
  // empty; true when it is (at once, in the usual case, without a kill).
  bool KillAll(int limit_ms);

 private:
  PackageCgroup() = default;

  std::string folder_;
  int procs_fd_ = -1;
  int events_fd_ = -1;
  int kill_fd_ = -1;
};

}  // namespace scaleout::plugins::process

#endif  // SCALEOUT_PLUGINS_EXECUTORS_PROCESS_PACKAGE_CGROUP_H_
