// TaskFolderJanitor: keeps TasksRootFolder from growing without bound.
//
// Every task leaves a folder `TasksRootFolder/<task id>/` with its task log
// (and whatever its package wrote there). SSIS documents no cleanup of them; a worker
// running thousands of tasks an hour would fill its disk and its file
// system's inode table. Like Nomad's allocation garbage collection, the
// worker removes the folder of an ended task once it has not changed for
// `TaskFolderRetention` (a scaleout key; 00:00:00 keeps every folder).
//
// A sweep is three steps so that the caller can make the middle one atomic
// with starting tasks (the agent holds its task lock there):
//   1. FindExpired(): folders named as a task id (a GUID) whose folder and
//      task.log are both older than the retention, at most `max_per_sweep`;
//   2. Detach(): renames one to `.removing-<name>`, so a task started with
//      that id afterwards gets a fresh folder;
//   3. RemoveDetached(): deletes every `.removing-*` entry, also those a
//      crash left behind.
// Only real folders with GUID names are touched: symbolic links, files and
// anything else an operator put in TasksRootFolder stay.
//
// Thread-safety: one sweep at a time (the agent's janitor thread).
#ifndef SCALEOUT_CORE_WORKER_TASK_FOLDERS_H_
#define SCALEOUT_CORE_WORKER_TASK_FOLDERS_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/common/clock.h"

namespace scaleout::core::worker {

// What RemoveDetached() did.
struct RemovalReport {
  std::size_t removed = 0;  // folders deleted
  std::size_t failed = 0;   // folders that could not be deleted (left for the next sweep)
  std::string first_error;  // the first failure, for the log
};

// Renames `folder` to `.removing-<its name>` beside it (with a unique
// suffix when that name is taken), so that nothing finds it under its own
// name any more; false when it does not exist or cannot be renamed.
bool DetachFolder(const std::filesystem::path& folder);
// Deletes every `.removing-*` entry of `dir` (what DetachFolder left there,
// also before a crash).
RemovalReport RemoveDetachedIn(const std::filesystem::path& dir);
// How often a sweep for `retention` runs: a quarter of it, between 1 s and 1 h.
Millis SweepInterval(Millis retention);

class TaskFolderJanitor {
 public:
  // `clock` must outlive the janitor. `retention` > 0.
  TaskFolderJanitor(std::string tasks_root, Millis retention, const Clock& clock,
                    std::size_t max_per_sweep = 10'000);

  // Task ids (folder names) whose folders have not changed for the
  // retention, oldest scan order first; at most max_per_sweep of them.
  std::vector<std::string> FindExpired() const;
  // Moves the task's folder out of the way; false when it is gone already.
  bool Detach(const std::string& task_id) const;
  // Deletes every detached folder.
  RemovalReport RemoveDetached() const;

  // How often the agent sweeps: a quarter of the retention, between 1 s and 1 h.
  Millis interval() const;
  const std::string& tasks_root() const { return root_; }
  std::size_t max_per_sweep() const { return max_per_sweep_; }

 private:
  const std::string root_;
  const Millis retention_;
  const Clock& clock_;
  const std::size_t max_per_sweep_;
};

}  // namespace scaleout::core::worker

#endif  // SCALEOUT_CORE_WORKER_TASK_FOLDERS_H_
