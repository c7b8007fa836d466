#include "core/taskhost/task_host.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/protocol/messages.h"
#include "core/taskhost/cancellation.h"
#include "core/taskhost/child_io.h"
#include "core/taskhost/process_tree.h"
#include "core/taskhost/records.h"
#include "core/taskhost/spec_file.h"
#include "core/taskhost/task_log.h"
#include "core/taskhost/work_dir.h"

namespace scaleout::core::taskhost {
namespace {

// The write end of the self-pipe the signal handler reports to; -1 when no
// RunTaskHost is active. A plain write() is all a handler may safely do.
std::atomic<int> g_signal_fd{-1};

extern "C" void OnStopSignal(int signo) {
  const int saved_errno = errno;
  const int fd = g_signal_fd.load();
  if (fd >= 0) {
    const auto byte = static_cast<unsigned char>(signo);
    [[maybe_unused]] ssize_t ignored = ::write(fd, &byte, 1);
  }
  errno = saved_errno;
}

constexpr std::array<int, 3> kStopSignals = {SIGTERM, SIGINT, SIGHUP};

// Installs the handlers for the lifetime of the object, then restores.
class SignalScope {
 public:
  explicit SignalScope(int write_fd) {
    g_signal_fd.store(write_fd);
    struct sigaction action {};
    action.sa_handler = OnStopSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (std::size_t i = 0; i < kStopSignals.size(); ++i) {
      ::sigaction(kStopSignals[i], &action, &saved_[i]);
    }
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGPIPE, &ignore, &saved_pipe_);
  }
  ~SignalScope() {
    for (std::size_t i = 0; i < kStopSignals.size(); ++i) {
      ::sigaction(kStopSignals[i], &saved_[i], nullptr);
    }
    ::sigaction(SIGPIPE, &saved_pipe_, nullptr);
    g_signal_fd.store(-1);
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;

 private:
  std::array<struct sigaction, kStopSignals.size()> saved_{};
  struct sigaction saved_pipe_ {};
};

class Pipe {
 public:
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
      read_fd = fds[0];
      write_fd = fds[1];
    }
  }
  ~Pipe() {
    if (read_fd >= 0) ::close(read_fd);
    if (write_fd >= 0) ::close(write_fd);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  bool ok() const { return read_fd >= 0; }
  int read_fd = -1;
  int write_fd = -1;
};

// Forwards the executor's events: masked, to the task log (which applies
// TaskLogLevel) and to the launcher, which gets only what the execution's
// LOGGING_LEVEL records in the catalog: an event the catalog would drop
// does not cross the record pipe (the worker filters again, for the host's
// own stderr lines). Emit is called from executor threads; RecordWriter and
// TaskLog lock.
class ForwardingSink final : public sdk::EventSink {
 public:
  ForwardingSink(RecordWriter& writer, TaskLog& log, const SecretMasker& masker,
                 CancellationSource& cancel, int logging_level)
      : writer_(writer),
        log_(log),
        masker_(masker),
        cancel_(cancel),
        logging_level_(logging_level) {}

  void Emit(const sdk::Event& event) noexcept override {
    try {
      sdk::Event masked = event;
      masked.message = masker_.Mask(event.message);
      masked.message_source = masker_.Mask(event.message_source);
      log_.WriteEvent(masked);
      if (!protocol::EventRecordedAtLoggingLevel(logging_level_,
                                                 static_cast<int>(event.message_type))) {
        return;
      }
      if (!writer_.Write(EncodeEvent(masked)).ok()) cancel_.Cancel();  // the launcher has gone
    } catch (...) {
      // Out of memory while copying: drop the event rather than the task.
    }
  }

 private:
  RecordWriter& writer_;
  TaskLog& log_;
  const SecretMasker& masker_;
  CancellationSource& cancel_;
  const int logging_level_;
};

int ExitCodeFor(const sdk::TaskOutcome& outcome) {
  switch (outcome.result) {
    case sdk::TaskResult::kSucceeded: return kTaskHostExitSucceeded;
    case sdk::TaskResult::kCancelled: return kTaskHostExitCancelled;
    case sdk::TaskResult::kFailed: break;
  }
  return kTaskHostExitFailed;
}

std::string ResultName(sdk::TaskResult result) {
  switch (result) {
    case sdk::TaskResult::kSucceeded: return "succeeded";
    case sdk::TaskResult::kCancelled: return "cancelled";
    case sdk::TaskResult::kFailed: break;
  }
  return "failed";
}

Clock& ClockOf(const TaskHostOptions& options) {
  return options.clock != nullptr ? *options.clock : SystemClock::Instance();
}

void OpenLog(TaskLog& log, const TaskHostOptions& options, RecordWriter& writer) {
  if (options.log_file.empty()) return;
  sdk::Status status = log.Open(options.log_file, options.log_level);
  if (!status.ok()) {
    // The task still runs; say so once in its events.
    (void)writer.Write(EncodeEvent({sdk::MessageType::kWarning, "task-host", status.message()}));
  }
}

// Maps what Run() returned (or threw) to the outcome we report.
sdk::TaskOutcome OutcomeOf(const std::optional<sdk::Result<sdk::TaskOutcome>>& result,
                           const std::string& thrown) {
  if (!thrown.empty()) return {sdk::TaskResult::kFailed, 0, "executor threw: " + thrown};
  if (!result.has_value()) return {sdk::TaskResult::kFailed, 0, "executor did not return"};
  if (result->ok()) return result->value();
  const sdk::Status status = result->status();
  const auto kind = status.code() == sdk::StatusCode::kCancelled ? sdk::TaskResult::kCancelled
                                                                 : sdk::TaskResult::kFailed;
  return {kind, 0, status.ToString()};
}

// Runs the executor on the calling thread; whatever it returns or throws
// becomes the (unmasked) outcome.
sdk::TaskOutcome RunExecutor(sdk::Executor& executor, const sdk::TaskSpec& spec,
                             sdk::EventSink& sink, const sdk::CancellationToken& cancel) {
  std::optional<sdk::Result<sdk::TaskOutcome>> result;
  std::string thrown;
  try {
    result.emplace(executor.Run(spec, sink, cancel));
  } catch (const std::exception& e) {
    thrown = e.what();
  } catch (...) {
    thrown = "a non-standard exception";
  }
  return OutcomeOf(result, thrown);
}

void WriteHeader(TaskLog& log, const sdk::TaskSpec& spec, const std::string& executor_name) {
  log.WriteLine("task " + spec.task_id + " attempt " + std::to_string(spec.attempt) +
                " of execution " + std::to_string(spec.execution_id) + ": package '" +
                spec.package_name + "' with executor '" + executor_name + "'");
}

void WriteOutcomeLine(TaskLog& log, const sdk::TaskOutcome& outcome) {
  log.WriteLine("outcome: " + ResultName(outcome.result) + " (exit code " +
                std::to_string(outcome.exit_code) + "): " + outcome.message);
}

void DrainSignals(int signal_fd, unsigned char* last) {
  unsigned char signo = 0;
  while (::read(signal_fd, &signo, 1) == 1) *last = signo;
}

// Waits for the runner to finish, turning stop signals and a broken record
// pipe into cancellation. Returns when `done_fd` is readable.
void Supervise(int signal_fd, int done_fd, int output_fd, CancellationSource& cancel,
               TaskLog& log) {
  pollfd fds[3] = {{signal_fd, POLLIN, 0}, {done_fd, POLLIN, 0}, {output_fd, 0, 0}};
  for (;;) {
    const int n = ::poll(fds, 3, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;  // cannot happen with valid fds; the runner is joined by the caller
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) != 0) {
      unsigned char signo = 0;
      DrainSignals(signal_fd, &signo);
      if (!cancel.IsCancelled()) {
        log.WriteLine("cancellation requested (signal " + std::to_string(signo) + ")");
      }
      cancel.Cancel();
    }
    if ((fds[2].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
      log.WriteLine("the worker closed the record pipe; cancelling the task");
      cancel.Cancel();
      fds[2].fd = -1;  // stop watching it
    }
  }
}

}  // namespace

sdk::Result<int> TakeOverStdout() {
  const int records = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (records < 0) {
    return sdk::Status::Internal(std::string("cannot duplicate stdout: ") + std::strerror(errno));
  }
  if (::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    ::close(records);
    return sdk::Status::Internal(std::string("cannot redirect stdout: ") + std::strerror(errno));
  }
  return records;
}

int ReportTaskHostFailure(int output_fd, std::string_view message, const TaskHostOptions& options) {
  TaskLog log(ClockOf(options));
  RecordWriter writer(output_fd);
  OpenLog(log, options, writer);
  const sdk::TaskOutcome outcome{sdk::TaskResult::kFailed, 0, std::string(message)};
  log.WriteLine("task host failed: " + outcome.message);
  (void)writer.Write(EncodeOutcome(outcome));
  return kTaskHostExitFailed;
}

int RunTaskHost(sdk::Executor& executor, const sdk::TaskSpec& spec, int output_fd,
                const TaskHostOptions& options) {
  RecordWriter writer(output_fd);
  TaskLog log(ClockOf(options));
  OpenLog(log, options, writer);
  const SecretMasker masker(spec.parameters);
  CancellationSource cancel;
  ForwardingSink sink(writer, log, masker, cancel, spec.logging_level);
  WriteHeader(log, spec, options.executor_name);

  Pipe signals;
  Pipe done;
  if (!signals.ok() || !done.ok()) {
    return ReportTaskHostFailure(
        output_fd, std::string("cannot create a pipe: ") + std::strerror(errno), options);
  }
  std::optional<SignalScope> scope;
  if (options.handle_signals) scope.emplace(signals.write_fd);
  if (options.parent_death_signal > 0) {
    ::prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
    // The parent may have died before prctl: then we were reparented already.
    if (options.parent_pid > 0 && ::getppid() != options.parent_pid) cancel.Cancel();
  }

  sdk::TaskOutcome outcome;
  sdk::Status started = executor.Start();
  if (!started.ok()) {
    outcome = {sdk::TaskResult::kFailed, 0, "executor did not start: " + started.ToString()};
  } else {
    std::thread runner([&] {
      outcome = RunExecutor(executor, spec, sink, cancel);
      const char byte = 1;
      [[maybe_unused]] ssize_t ignored = ::write(done.write_fd, &byte, 1);
    });
    Supervise(signals.read_fd, done.read_fd, output_fd, cancel, log);
    runner.join();
    executor.Stop();
  }
  outcome.message = masker.Mask(outcome.message);
  WriteOutcomeLine(log, outcome);
  (void)writer.Write(EncodeOutcome(outcome));
  return ExitCodeFor(outcome);
}

// ---- The pooled task host ---------------------------------------------------

namespace {

// How long a pooled host holds back a task's events and log lines (see
// RecordWriter::Hold): shorter than the worker's event rounds (50 ms), so
// holding them delays no event's arrival at the master by a round.
constexpr std::int64_t kHoldMilliseconds = 20;

// One thread that runs the served tasks one after another, so a task costs
// no thread creation. A job finishes its task itself (outcome record
// included), so the main thread is not woken at the end of every task.
class JobRunner {
 public:
  JobRunner() : thread_([this] { Loop(); }) {}
  ~JobRunner() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // REQUIRES: the previous job has reported its task's outcome (the worker
  // sends one task at a time); the runner may still be returning from it.
  void Submit(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      job_ = std::move(job);
    }
    cv_.notify_all();
  }

 private:
  void Loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || job_ != nullptr; });
      if (job_ == nullptr) return;  // stop_ with nothing left to run
      auto job = std::move(job_);
      job_ = nullptr;
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::function<void()> job_;  // guarded by mutex_
  bool stop_ = false;          // guarded by mutex_
  std::thread thread_;         // last: starts after the fields above
};

// The task a pooled host is running: its log, masker and token.
struct ServedTask {
  ServedTask(TaskHostSpec s, RecordWriter& writer, Clock& clock)
      : spec(std::move(s)),
        log(clock),
        masker(spec.task.parameters),
        sink(writer, log, masker, cancel, spec.task.logging_level) {}
  TaskHostSpec spec;
  TaskLog log;
  SecretMasker masker;
  CancellationSource cancel;
  ForwardingSink sink;
};

// Kills what a finished task left in this session (a background job of its
// package outside the package's group) and reaps every child that exited.
// Returns false when a live descendant is still there (it left the session
// with setsid(), out of our reach): the host must then be replaced.
bool CleanUpAfterTask() {
  siginfo_t info{};
  // ECHILD: no child at all, the usual case; one syscall.
  if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return true;
  const pid_t self = ::getpid();
  int status = 0;
  while (::waitpid(-1, &status, WNOHANG) > 0) {
  }
  info = {};
  if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return true;
  for (int pass = 0; pass < 3; ++pass) {
    for (pid_t pid : SessionMembers(::getsid(0))) {
      if (pid != self) ::kill(pid, SIGKILL);
    }
    ::usleep(1000);
    while (::waitpid(-1, &status, WNOHANG) > 0) {
    }
    info = {};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return true;
  }
  return false;
}

}  // namespace

std::string ExecutorShortName(std::string_view name) {
  constexpr std::string_view kPrefix = "executor/";
  return std::string(name.rfind(kPrefix, 0) == 0 ? name.substr(kPrefix.size()) : name);
}

int ServeTaskHost(const ExecutorProvider& executors, int input_fd, int output_fd,
                  const ServeOptions& options) {
  RecordWriter writer(output_fd);
  Clock& clock = options.clock != nullptr ? *options.clock : SystemClock::Instance();
  Pipe signals;
  Pipe done;
  if (!signals.ok() || !done.ok()) return kTaskHostExitFailed;
  std::optional<SignalScope> scope;
  if (options.handle_signals) scope.emplace(signals.write_fd);
  // Orphans of a package become our children, so "no child left" between
  // tasks means "nothing of the last task is left".
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (options.parent_death_signal > 0) ::prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
  ::fcntl(input_fd, F_SETFL, ::fcntl(input_fd, F_GETFL) | O_NONBLOCK);

  RecordDecoder requests(kMaxRequestBytes);
  int exit_code = kTaskHostExitSucceeded;
  bool input_open = true;
  bool output_open = true;
  // Shared by this thread and the runner's: the task running and whether
  // the host is on its way out.
  std::mutex state_mutex;
  std::unique_ptr<ServedTask> active;  // guarded by state_mutex
  bool stopping = false;               // guarded by state_mutex (its initial value too)
  if (options.parent_death_signal > 0 && options.parent_pid > 0 &&
      ::getppid() != options.parent_pid) {
    stopping = true;
  }
  // Joined (reset) before the lambdas below go out of scope: a job still
  // writing its outcome uses them.
  std::optional<JobRunner> runner;
  runner.emplace();

  // Cancels the running task (only if its id is `*only_task`, when given).
  auto cancel_active = [&](const std::string& why, const std::string* only_task = nullptr) {
    std::lock_guard lock(state_mutex);
    if (active && !active->cancel.IsCancelled() &&
        (only_task == nullptr || active->spec.task.task_id == *only_task)) {
      active->log.WriteLine(why);
      active->cancel.Cancel();
    }
  };
  auto stop = [&] {
    std::lock_guard lock(state_mutex);
    stopping = true;
  };
  // When the running task's held events and log lines are due (steady
  // clock; this thread only), or -1 when nothing is held.
  std::int64_t hold_until = -1;
  auto release_held = [&] {
    (void)writer.Release();  // a broken pipe shows in the next poll()
    std::lock_guard lock(state_mutex);
    if (active) active->log.Release();
  };
  auto fail_now = [&](ServedTask* task, const std::string& message) {
    const sdk::TaskOutcome outcome{sdk::TaskResult::kFailed, 0, message};
    if (task != nullptr) task->log.WriteLine("task host failed: " + message);
    if (!writer.Write(EncodeOutcome(outcome)).ok()) stop();
  };
  // Runs on the runner's thread once the executor returned: the host is
  // idle (active reset) before the worker can read the outcome and send the
  // next task. Wakes this thread only when the host is to exit.
  auto finish_task = [&](ServedTask* task, sdk::TaskOutcome outcome) {
    outcome.message = task->masker.Mask(outcome.message);
    const bool clean = CleanUpAfterTask();
    WriteOutcomeLine(task->log, outcome);
    task->log.Release();
    bool retiring = false;
    {
      std::lock_guard lock(state_mutex);
      active.reset();
      // Not clean: exit after this task; the worker kills what is left of
      // our session and starts another host.
      if (!clean) stopping = true;
      retiring = stopping;
    }
    if (retiring) (void)writer.Write(EncodeRetiring());
    // The outcome goes with whatever the task's events were held back.
    if (!writer.Write(EncodeOutcome(outcome)).ok() || !writer.Release().ok()) {
      stop();
      retiring = true;
    }
    if (retiring) {
      const char byte = 1;
      [[maybe_unused]] ssize_t ignored = ::write(done.write_fd, &byte, 1);
    }
  };
  auto start_task = [&](Record& request) {
    if (!request.spec_error.empty()) return fail_now(nullptr, "task host: " + request.spec_error);
    // The task's folder is made here, not by the worker's poll thread,
    // which starts a reply's tasks one after another (work_dir.h).
    if (sdk::Status dir = EnsureWorkDir(request.spec.task.work_dir); !dir.ok()) {
      return fail_now(nullptr, "task host: " + dir.message());
    }
    const std::string name = ExecutorShortName(request.executor);
    auto task = std::make_unique<ServedTask>(std::move(request.spec), writer, clock);
    OpenLog(task->log,
            TaskHostOptions{task->spec.log_file, task->spec.log_level, "", &clock, false, 0, 0},
            writer);
    WriteHeader(task->log, task->spec.task, "executor/" + name);
    auto executor = executors(name, task->spec.executor_config);
    if (!executor.ok()) return fail_now(task.get(), "task host: " + executor.status().ToString());
    ServedTask* const running = task.get();
    {
      std::lock_guard lock(state_mutex);
      active = std::move(task);
    }
    // A task that ends within kHoldMilliseconds sends its events with its
    // outcome, in one write, and its log lines in one write; a longer one's
    // are released by the loop below when that time is up.
    running->log.Hold();
    writer.Hold();
    hold_until = clock.SteadyMillis() + kHoldMilliseconds;
    runner->Submit([running, executor = *executor, &finish_task] {
      finish_task(running,
                  RunExecutor(*executor, running->spec.task, running->sink, running->cancel));
    });
  };
  // Whether the loop below goes on: not stopping, or a task still running.
  auto serving = [&] {
    std::lock_guard lock(state_mutex);
    return !stopping || active != nullptr;
  };
  auto busy_or_stopping = [&] {
    std::lock_guard lock(state_mutex);
    return stopping || active != nullptr;
  };

  while (serving()) {
    pollfd fds[4] = {{signals.read_fd, POLLIN, 0},
                     {done.read_fd, POLLIN, 0},
                     {input_open ? input_fd : -1, POLLIN, 0},
                     {output_open ? output_fd : -1, 0, 0}};
    const int timeout =
        hold_until < 0
            ? -1
            : static_cast<int>(std::max<std::int64_t>(0, hold_until - clock.SteadyMillis()));
    const int n = ::poll(fds, 4, timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // cannot happen with valid fds
    if (hold_until >= 0 && clock.SteadyMillis() >= hold_until) {
      hold_until = -1;
      release_held();
    }
    if ((fds[0].revents & POLLIN) != 0) {
      unsigned char signo = 0;
      DrainSignals(signals.read_fd, &signo);
      stop();
      cancel_active("cancellation requested (signal " + std::to_string(signo) + ")");
    }
    if ((fds[3].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
      output_open = false;
      stop();
      cancel_active("the worker closed the record pipe; cancelling the task");
    }
    if (fds[2].revents != 0) {
      std::string bytes;
      const bool open = ReadAvailable(input_fd, &bytes);
      std::vector<Record> records;
      if (!requests.Feed(bytes, &records).ok()) {
        exit_code = kTaskHostExitFailed;
        input_open = false;
      }
      for (Record& record : records) {
        if (record.kind == Record::Kind::kCancel) {
          cancel_active("cancellation requested by the worker", &record.task_id);
        } else if (record.kind == Record::Kind::kTask) {
          if (busy_or_stopping()) {
            exit_code = kTaskHostExitFailed;  // the worker sends one task at a time
            input_open = false;
            break;
          }
          start_task(record);
        }
      }
      if (!open) input_open = false;
      if (!input_open) {
        stop();
        cancel_active("the worker closed the request pipe; cancelling the task");
      }
    }
    if ((fds[1].revents & POLLIN) != 0) {  // the runner finished a task and the host is to exit
      unsigned char byte = 0;
      DrainSignals(done.read_fd, &byte);
    }
  }
  runner.reset();  // the last job has written its outcome
  return exit_code;
}

}  // namespace scaleout::core::taskhost
