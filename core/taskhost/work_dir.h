// The task's own folder, TasksRootFolder/<task id>: created by whichever
// process starts the task's executor (the task host serving it, or the
// launcher of a one-task host), so the worker's poll thread, which starts
// tasks one after another, never waits on the file system for it.
#ifndef SCALEOUT_CORE_TASKHOST_WORK_DIR_H_
#define SCALEOUT_CORE_TASKHOST_WORK_DIR_H_

#include <string>

#include "scaleout/sdk/status.h"

namespace scaleout::core::taskhost {

// Creates `dir` (mode 0700: the folder is private to the task) and any
// missing parent. OK when it already exists as a folder. kUnavailable naming
// the folder and the setting to check otherwise. Thread-safe.
sdk::Status EnsureWorkDir(const std::string& dir);

}  // namespace scaleout::core::taskhost

#endif  // SCALEOUT_CORE_TASKHOST_WORK_DIR_H_
