// DirectoryLock: one process at a time in a folder it owns.
//
// A worker's data dir holds its identity (agent-id) and its event spool; a
// second `scaleout worker` started on the same folder (a service and a
// manual run, say) would register as the same worker and write the same
// spool files, losing or repeating events. Each process that owns a folder
// takes this lock on it at start and keeps it for its life; a second one is
// refused at once with the first one's pid.
//
// The lock is flock(2) on `<dir>/.scaleout.lock` (which holds the owner's
// pid, for the message): the kernel drops it when the process ends however
// it ends, so a crash leaves no stale lock. The descriptor is close-on-exec,
// so child processes (task hosts, packages) never hold it.
//
// Thread-safety: a DirectoryLock is not shared between threads.
#ifndef SCALEOUT_CORE_COMMON_DIR_LOCK_H_
#define SCALEOUT_CORE_COMMON_DIR_LOCK_H_

#include <string>
#include <string_view>

#include "scaleout/sdk/status.h"

namespace scaleout::core {

class DirectoryLock {
 public:
  // Locks `dir` (which must exist) for this process. kFailedPrecondition
  // when another holds it, naming its pid and `what` ("scaleout worker");
  // kUnavailable when the lock file cannot be made.
  static sdk::Result<DirectoryLock> Acquire(const std::string& dir, std::string_view what);

  DirectoryLock(DirectoryLock&& other) noexcept;
  DirectoryLock& operator=(DirectoryLock&& other) noexcept;
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock();  // releases the lock

  const std::string& dir() const { return dir_; }

 private:
  DirectoryLock(std::string dir, int fd) : dir_(std::move(dir)), fd_(fd) {}

  std::string dir_;
  int fd_ = -1;
};

}  // namespace scaleout::core

#endif  // SCALEOUT_CORE_COMMON_DIR_LOCK_H_
