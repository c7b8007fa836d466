// Executor: runs one package with parameters, streams events, honours cancellation.
//
// An executor runs inside the task host, a child process the worker starts
// for each task (as SSIS's ISServerExec). A crash or hang in an executor takes
// down only that process. Run() blocks until the package has ended.
#ifndef SCALEOUT_SDK_EXECUTOR_H_
#define SCALEOUT_SDK_EXECUTOR_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "scaleout/sdk/status.h"

namespace scaleout::sdk {

// SSIS object types for parameter values.
enum class ParameterObjectType : int { kProject = 20, kPackage = 30, kSystem = 50 };

struct ExecutionParameter {
  ParameterObjectType object_type = ParameterObjectType::kPackage;
  std::string name;
  std::string value;       // text form of the value
  std::string data_type;   // "String", "Int32", "Boolean", ... as declared
  bool sensitive = false;  // never logged, never put on a command line
};

// What to run. Paths are absolute and exist when Run() is called.
struct TaskSpec {
  std::int64_t execution_id = 0;
  std::string task_id;       // GUID of this attempt
  std::int64_t attempt = 1;  // 1 for the first run, 2 for the first retry, ...
  std::string project_dir;   // the deployed project's files (read-only)
  std::string package_name;  // relative to project_dir, e.g. "load.sh"
  std::string work_dir;      // TasksRootFolder/<task id>/, writable, owned by this task
  std::vector<ExecutionParameter> parameters;
  int logging_level =
      1;  // SSIS LOGGING_LEVEL: 0 none, 1 basic, 2 performance, 3 verbose, 4 runtime lineage
};

// SSIS event_messages.message_type values used by executors.
enum class MessageType : int {
  kDiagnostic = 90,
  kInformation = 70,
  kWarning = 110,
  kError = 120,
  kTaskFailed = 130,
  kCustom = 200,
};

struct Event {
  MessageType message_type = MessageType::kInformation;
  std::string message_source;  // e.g. "stdout", "stderr", or a component name
  std::string message;
};

// Receives events while a package runs. Thread-safe; Emit never blocks for long.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Emit(const Event& event) noexcept = 0;
};

// Observed by the executor; the task host sets it when a stop is requested
// or the lease cannot be renewed. Thread-safe.
class CancellationToken {
 public:
  virtual ~CancellationToken() = default;
  virtual bool IsCancelled() const noexcept = 0;
  // Waits up to `timeout`; returns true as soon as cancellation is requested.
  virtual bool WaitFor(std::chrono::milliseconds timeout) const noexcept = 0;
};

enum class TaskResult : int { kSucceeded = 0, kFailed = 1, kCancelled = 2 };

struct TaskOutcome {
  TaskResult result = TaskResult::kFailed;
  int exit_code = 0;
  std::string message;  // one line: why it failed, or a summary
};

class Executor {
 public:
  virtual ~Executor() = default;
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  virtual Status Start() = 0;
  virtual void Stop() noexcept = 0;

  // Runs the package to its end. A package that fails is an OK Result with
  // TaskResult::kFailed; a non-OK Result means the executor itself could not
  // run it (missing file, bad parameter type) and also fails the attempt.
  // Must return promptly (seconds) once `cancel` is set, with kCancelled.
  // Thread-safety: Run may be called from one thread at a time.
  virtual Result<TaskOutcome> Run(const TaskSpec& task, EventSink& events,
                                  const CancellationToken& cancel) = 0;

 protected:
  Executor() = default;
};

}  // namespace scaleout::sdk

#endif  // SCALEOUT_SDK_EXECUTOR_H_
