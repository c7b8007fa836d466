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

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
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

// ---- The pooled task host (`scaleout task-host --serve`) ----
//
// A long-lived child of the worker that runs one task after another: it
// reads task requests (records.h) from `input_fd` and cancel requests from
// `options.control_fd`, and writes each
// task's events and then its outcome to `output_fd`, exactly as RunTaskHost
// does for a single task. Executors are created (and started) once per
// executor and configuration by `executors`, and reused, so an executor that
// runs in-process costs no process per task.
//
// Isolation stays as with one host per task: the package runs in a child of
// this process; a cancel request cancels the current task's token (its
// executor stops the package's process group); the worker kills this whole
// session when a task cannot be stopped or its lease lapses, and a crash
// fails only the task that was running. Between tasks the host is a child
// subreaper with no children: a task that leaves processes behind has them
// killed before its outcome is sent, and if any descendant escaped the
// session the host exits after the outcome so the worker replaces it.
//
// Stops (returning kTaskHostExitSucceeded) once `input_fd` reaches EOF (the
// worker closed it or died), on SIGTERM, SIGINT or SIGHUP, or when the
// record pipe breaks; a running task is cancelled first and its outcome
// still sent. A request stream that does not decode ends it with
// kTaskHostExitFailed. Same preconditions as RunTaskHost.
struct ServeOptions {
  Clock* clock = nullptr;  // task log timestamps; SystemClock when null
  // Where cancel requests for the running task come from (a socket of its
  // own: the request stream is not read while a task runs); -1 = none, then
  // only a signal can stop a running task.
  int control_fd = -1;
  bool handle_signals = true;
  int parent_death_signal = 0;  // armed once the handlers are in place; 0 = none
  pid_t parent_pid = 0;         // if getppid() differs once armed, the parent is gone: stop
  // How long a task's output is held back, so that a task ending sooner
  // sends it with its outcome in one write and wakes no thread for it.
  // Events for the worker go out at most `event_hold` after the task's
  // first one: shorter than the worker's event rounds (50 ms), so holding
  // them delays no event's arrival at the master by a round. A task that
  // sends no event (a quiet package) holds only its log lines, whose
  // reader is a person, for up to `log_hold`: under load a task lasts far
  // longer than 20 ms, and a timer firing for every one of them to write a
  // header line costs the host a wake-up and a write per task.
  std::chrono::milliseconds event_hold{20};
  std::chrono::milliseconds log_hold{1000};
};

using ExecutorConfig = std::map<std::string, std::string, std::less<>>;
// Returns the started executor `name` ("process") for `config`; the pointer
// stays valid until ServeTaskHost returns. Called on the serving thread.
using ExecutorProvider =
    std::function<sdk::Result<sdk::Executor*>(const std::string& name, const ExecutorConfig&)>;

int ServeTaskHost(const ExecutorProvider& executors, int input_fd, int output_fd,
                  const ServeOptions& options);

// "executor/process" and "process" both name executor/process.
std::string ExecutorShortName(std::string_view name);

// Keeps the record stream clean: returns a close-on-exec duplicate of fd 1
// for records and points fd 1 at fd 2, so a plugin that prints to stdout
// cannot corrupt the stream. Call first thing in the task host.
sdk::Result<int> TakeOverStdout();

}  // namespace scaleout::core::taskhost

#endif  // SCALEOUT_CORE_TASKHOST_TASK_HOST_H_
