// RunTaskHost: the child side of the task host (`scaleout task-host`).
//
// Runs one executor on one task and reports over `output_fd` (records.h):
// every event, then exactly one outcome record. Meanwhile it
//   - turns SIGTERM, SIGINT and SIGHUP into cancellation of the executor's
//     token (the launcher's Cancel()), and ignores SIGPIPE;
//   - cancels the task when the launcher has gone (the record pipe broke),
//     because nobody would record its result;
//   - masks sensitive parameter values in events and the outcome;
//   - writes the per-task log when `log_file` is set (TaskLogEnabled).
//
// Preconditions: called once per process, from the main thread, before any
// other thread that could receive the signals above exists (the executor's
// Start()/Run() run after the handlers are installed). Restores the previous
// signal dispositions on return.
#ifndef SCALEOUT_CORE_TASKHOST_TASK_HOST_H_
#define SCALEOUT_CORE_TASKHOST_TASK_HOST_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/clock.h"
#include "core/taskhost/launcher.h"
#include "scaleout/sdk/executor.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::taskhost {

// Exit codes of `scaleout task-host`. The launcher trusts the outcome record,
// not these; they are for people running the command by hand.
inline constexpr int kTaskHostExitSucceeded = 0;
inline constexpr int kTaskHostExitFailed = 1;  // the task failed, or the host could not run it
inline constexpr int kTaskHostExitUsage = 2;   // bad command line
inline constexpr int kTaskHostExitCancelled = 3;

struct TaskHostOptions {
  std::string log_file;  // empty: no task log
  std::uint32_t log_level = kDefaultTaskLogLevel;
  std::string executor_name;  // for the task log header
  Clock* clock = nullptr;     // task log timestamps; SystemClock when null
  bool handle_signals = true;
  int parent_death_signal = 0;  // armed once the handlers are in place; 0 = none
  pid_t parent_pid = 0;         // if getppid() differs once armed, the parent is gone: cancel
};

// Starts, runs and stops `executor`; returns a kTaskHostExit* code.
int RunTaskHost(sdk::Executor& executor, const sdk::TaskSpec& spec, int output_fd,
                const TaskHostOptions& options);

// For failures before an executor exists (unreadable spec, plugin missing):
// writes a kFailed outcome with `message` (and the task log line, if the
// options name one) and returns kTaskHostExitFailed.
int ReportTaskHostFailure(int output_fd, std::string_view message, const TaskHostOptions& options);

// Keeps the record stream clean: returns a close-on-exec duplicate of fd 1
// for records and points fd 1 at fd 2, so a plugin that prints to stdout
// cannot corrupt the stream. Call first thing in the task host.
sdk::Result<int> TakeOverStdout();

}  // namespace scaleout::core::taskhost

#endif  // SCALEOUT_CORE_TASKHOST_TASK_HOST_H_
