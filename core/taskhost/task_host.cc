#include "core/taskhost/task_host.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/common/thread_name.h"
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

// Wakes the thread polling the read end of a self-pipe.
void Wake(const Pipe& pipe) {
  const char byte = 1;
  [[maybe_unused]] ssize_t ignored = ::write(pipe.write_fd, &byte, 1);
}

// Forwards the executor's events: masked, to the task log (which applies
// TaskLogLevel) and to the launcher, which gets only what the execution's
// LOGGING_LEVEL records in the catalog: an event the catalog would drop
// does not cross the record pipe (the worker filters again, for the host's
// own stderr lines). Emit is called from executor threads; RecordWriter and
// TaskLog lock. `on_sent`, when set, is called (on the emitting thread)
// after each event that went to the launcher.
class ForwardingSink final : public sdk::EventSink {
 public:
  ForwardingSink(RecordWriter& writer, TaskLog& log, const SecretMasker& masker,
                 CancellationSource& cancel, int logging_level,
                 std::function<void()> on_sent = nullptr)
      : writer_(writer),
        log_(log),
        masker_(masker),
        cancel_(cancel),
        logging_level_(logging_level),
        on_sent_(std::move(on_sent)) {}

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
      if (on_sent_) on_sent_();
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
  const std::function<void()> on_sent_;
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
      Wake(done);
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

// The task a pooled host is running: its log, masker and token. `on_sent`
// goes to the sink (ForwardingSink).
struct ServedTask {
  ServedTask(TaskHostSpec s, RecordWriter& writer, Clock& clock, std::function<void()> on_sent)
      : spec(std::move(s)),
        log(clock),
        masker(spec.task.parameters),
        sink(writer, log, masker, cancel, spec.task.logging_level, std::move(on_sent)) {}
  TaskHostSpec spec;
  TaskLog log;
  SecretMasker masker;
  CancellationSource cancel;
  ForwardingSink sink;
};

// Reaps every child that has exited; true when no child at all is left.
bool ReapExitedChildren() {
  int status = 0;
  while (::waitpid(-1, &status, WNOHANG) > 0) {
  }
  siginfo_t info{};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0;  // ECHILD
}

// How long a finished task's leftovers may take to die of SIGKILL (they die
// in far less, unless the machine is very busy), and how long a child may
// linger once no live process of ours is left in the session (an orphan
// whose reparenting to us is under way).
constexpr std::int64_t kLeftoverDeathLimitMs = 2000;
constexpr int kOrphanReapPasses = 3;

// Kills what a finished task left in this session (a background job of its
// package outside the package's group) and reaps every child that exited.
// Returns false when a live descendant is still there (it left the session
// with setsid(), out of our reach) or the session's leftovers outlived
// kLeftoverDeathLimitMs of `clock`: the host must then be replaced.
bool CleanUpAfterTask(Clock& clock) {
  siginfo_t info{};
  // ECHILD: no child at all, the usual case; one syscall.
  if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return true;
  if (ReapExitedChildren()) return true;
  const pid_t self = ::getpid();
  const std::int64_t deadline = clock.SteadyMillis() + kLeftoverDeathLimitMs;
  int passes_without_live_members = 0;
  for (;;) {
    bool live_members = false;
    for (pid_t pid : SessionMembers(::getsid(0))) {
      if (pid == self) continue;
      ::kill(pid, SIGKILL);
      live_members = true;
    }
    if (ReapExitedChildren()) return true;
    // A child is left: a dying member, an orphan on its way to us, or an
    // escaped descendant, which no number of passes brings back.
    if (!live_members && ++passes_without_live_members >= kOrphanReapPasses) return false;
    if (clock.SteadyMillis() >= deadline) return false;
    ::usleep(1000);
  }
}

// A pooled host (task_host.h). The serving thread reads task requests and
// runs each task itself, so a task costs no hand-over between threads; a
// watcher thread sleeps through it unless something comes that must reach
// the running task: a cancel request (on the control socket, not the
// request stream the serving thread is not reading meanwhile), a stop
// signal, the worker going away, or the end of the task's hold time
// (RecordWriter::Hold), which a timerfd marks: the serving thread arms it
// for the log's hold when a task starts, and the task's first event brings
// it forward to the events' hold (ServeOptions).
class PooledServer {
 public:
  PooledServer(const ExecutorProvider& executors, int input_fd, int output_fd,
               const ServeOptions& options)
      : executors_(executors),
        input_fd_(input_fd),
        control_fd_(options.control_fd),
        output_fd_(output_fd),
        clock_(options.clock != nullptr ? *options.clock : SystemClock::Instance()),
        writer_(output_fd),
        options_(options) {}
  PooledServer(const PooledServer&) = delete;
  PooledServer& operator=(const PooledServer&) = delete;
  ~PooledServer() {
    if (hold_timer_fd_ >= 0) ::close(hold_timer_fd_);
  }

  int Run();

 private:
  void ServeLoop();
  // Reads what the request stream has; false once it has ended.
  bool ReadRequests();
  void RunTask(Record& request);
  void FinishTask(ServedTask& task, sdk::TaskOutcome outcome);
  void FailNow(ServedTask* task, const std::string& message);
  void WatchLoop();
  void ReadControl();
  // Makes the hold timer fire `after` from now (it replaces any deadline).
  void ArmHoldTimer(std::chrono::milliseconds after);
  void DisarmHoldTimer();
  // The running task sent an event: the first one starts the events' hold.
  // Any thread.
  void OnEventSent();
  void ReleaseHeld();
  // Cancels the running task (only if its id is `*only_task`, when given).
  void CancelActive(const std::string& why, const std::string* only_task = nullptr);
  // No task after this one: the serving thread returns once it is idle.
  void Stop();
  bool stopping() {
    std::lock_guard lock(state_mutex_);
    return stopping_;
  }

  const ExecutorProvider& executors_;
  const int input_fd_;
  int control_fd_;  // watcher only (-1 when the stream has ended)
  const int output_fd_;
  Clock& clock_;
  RecordWriter writer_;
  const ServeOptions& options_;
  Pipe signals_;
  Pipe serve_wake_;  // wakes the serving thread (Stop)
  Pipe watch_wake_;  // wakes the watcher (to return)
  int hold_timer_fd_ = -1;
  // Set when the running task's events no longer wait for their hold to be
  // started: its first event started it, or what was held has gone.
  std::atomic<bool> event_hold_set_{false};
  RecordDecoder requests_{kMaxRequestBytes};  // serving thread only
  RecordDecoder control_{kMaxRequestBytes};   // watcher only
  std::atomic<int> exit_code_{kTaskHostExitSucceeded};

  std::mutex state_mutex_;
  ServedTask* active_ = nullptr;  // guarded by state_mutex_; owned by the serving thread
  bool stopping_ = false;         // guarded by state_mutex_
};

int PooledServer::Run() {
  hold_timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (!signals_.ok() || !serve_wake_.ok() || !watch_wake_.ok() || hold_timer_fd_ < 0) {
    return kTaskHostExitFailed;
  }
  std::optional<SignalScope> scope;
  if (options_.handle_signals) scope.emplace(signals_.write_fd);
  // Orphans of a package become our children, so "no child left" between
  // tasks means "nothing of the last task is left".
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (options_.parent_death_signal > 0) ::prctl(PR_SET_PDEATHSIG, options_.parent_death_signal);
  if (options_.parent_death_signal > 0 && options_.parent_pid > 0 &&
      ::getppid() != options_.parent_pid) {
    Stop();
  }
  ::fcntl(input_fd_, F_SETFL, ::fcntl(input_fd_, F_GETFL) | O_NONBLOCK);
  if (control_fd_ >= 0) ::fcntl(control_fd_, F_SETFL, ::fcntl(control_fd_, F_GETFL) | O_NONBLOCK);
  std::thread watcher = NamedThread("host-watcher", [this] { WatchLoop(); });
  ServeLoop();
  Wake(watch_wake_);
  watcher.join();
  return exit_code_;
}

void PooledServer::ServeLoop() {
  while (!stopping()) {
    pollfd fds[2] = {{input_fd_, POLLIN, 0}, {serve_wake_.read_fd, POLLIN, 0}};
    const int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;  // cannot happen with valid fds
    if ((fds[1].revents & POLLIN) != 0) {
      unsigned char byte = 0;
      DrainSignals(serve_wake_.read_fd, &byte);
    }
    if (fds[0].revents != 0 && !ReadRequests()) {
      Stop();
      CancelActive("the worker closed the request pipe; cancelling the task");
      return;
    }
  }
}

bool PooledServer::ReadRequests() {
  std::string bytes;
  const bool open = ReadAvailable(input_fd_, &bytes);
  std::vector<Record> records;
  if (!requests_.Feed(bytes, &records).ok()) {
    exit_code_ = kTaskHostExitFailed;
    return false;
  }
  bool ran_one = false;
  for (Record& record : records) {
    // Cancels come on the control socket; one here finds no task running.
    if (record.kind != Record::Kind::kTask) continue;
    if (ran_one) {  // sent before the first one's outcome: the worker sends one at a time
      exit_code_ = kTaskHostExitFailed;
      return false;
    }
    ran_one = true;
    if (!stopping()) RunTask(record);
  }
  return open;
}

void PooledServer::FailNow(ServedTask* task, const std::string& message) {
  const sdk::TaskOutcome outcome{sdk::TaskResult::kFailed, 0, message};
  if (task != nullptr) task->log.WriteLine("task host failed: " + message);
  if (!writer_.Write(EncodeOutcome(outcome)).ok()) Stop();
}

void PooledServer::RunTask(Record& request) {
  if (!request.spec_error.empty()) return FailNow(nullptr, "task host: " + request.spec_error);
  // The task's folder is made here, not by the worker's poll thread,
  // which starts a reply's tasks one after another (work_dir.h).
  if (sdk::Status dir = EnsureWorkDir(request.spec.task.work_dir); !dir.ok()) {
    return FailNow(nullptr, "task host: " + dir.message());
  }
  const std::string name = ExecutorShortName(request.executor);
  ServedTask task(std::move(request.spec), writer_, clock_, [this] { OnEventSent(); });
  OpenLog(task.log,
          TaskHostOptions{task.spec.log_file, task.spec.log_level, "", &clock_, false, 0, 0},
          writer_);
  auto executor = executors_(name, task.spec.executor_config);
  if (!executor.ok()) {
    WriteHeader(task.log, task.spec.task, "executor/" + name);
    return FailNow(&task, "task host: " + executor.status().ToString());
  }
  // A task that ends within its hold (ServeOptions) sends its events with
  // its outcome, in one write, and its log lines (the header too) in one
  // write; a longer one's are released by the watcher when that time is up.
  task.log.Hold();
  writer_.Hold();
  event_hold_set_.store(false);
  ArmHoldTimer(options_.log_hold);
  WriteHeader(task.log, task.spec.task, "executor/" + name);
  {
    std::lock_guard lock(state_mutex_);
    active_ = &task;
    if (stopping_) task.cancel.Cancel();  // stopped while it was being set up
  }
  FinishTask(task, RunExecutor(**executor, task.spec.task, task.sink, task.cancel));
}

void PooledServer::FinishTask(ServedTask& task, sdk::TaskOutcome outcome) {
  // What is held goes with the outcome below: the watcher need not wake.
  DisarmHoldTimer();
  outcome.message = task.masker.Mask(outcome.message);
  const bool clean = CleanUpAfterTask(clock_);
  WriteOutcomeLine(task.log, outcome);
  bool retiring = false;
  {
    std::lock_guard lock(state_mutex_);
    active_ = nullptr;
    // Not clean: exit after this task; the worker kills what is left of
    // our session and starts another host.
    if (!clean) stopping_ = true;
    retiring = stopping_;
  }
  // Idle (active_ reset, log written) before the worker can read the
  // outcome and send the next task. The outcome goes with whatever of the
  // task's events were held back.
  task.log.Release();
  if (retiring) (void)writer_.Write(EncodeRetiring());
  if (!writer_.Write(EncodeOutcome(outcome)).ok() || !writer_.Release().ok()) Stop();
}

void PooledServer::ArmHoldTimer(std::chrono::milliseconds after) {
  // Zero would disarm the timer: at least a millisecond.
  const std::int64_t ms = std::max<std::int64_t>(after.count(), 1);
  itimerspec due{};
  due.it_value.tv_sec = static_cast<time_t>(ms / 1000);
  due.it_value.tv_nsec = static_cast<long>((ms % 1000) * 1'000'000);
  ::timerfd_settime(hold_timer_fd_, 0, &due, nullptr);
}

void PooledServer::OnEventSent() {
  // Only the first event re-arms: it is the oldest one held. A timer set
  // late in a long log hold fires at most that much later than the log's.
  if (!event_hold_set_.exchange(true)) ArmHoldTimer(options_.event_hold);
}

void PooledServer::DisarmHoldTimer() {
  const itimerspec never{};
  ::timerfd_settime(hold_timer_fd_, 0, &never, nullptr);
}

void PooledServer::ReleaseHeld() {
  // Events now go out as they come: none of them need the timer again.
  event_hold_set_.store(true);
  (void)writer_.Release();  // a broken pipe shows in the watcher's next poll()
  std::lock_guard lock(state_mutex_);
  if (active_ != nullptr) active_->log.Release();
}

void PooledServer::CancelActive(const std::string& why, const std::string* only_task) {
  std::lock_guard lock(state_mutex_);
  if (active_ != nullptr && !active_->cancel.IsCancelled() &&
      (only_task == nullptr || active_->spec.task.task_id == *only_task)) {
    active_->log.WriteLine(why);
    active_->cancel.Cancel();
  }
}

void PooledServer::Stop() {
  {
    std::lock_guard lock(state_mutex_);
    stopping_ = true;
  }
  Wake(serve_wake_);
}

void PooledServer::WatchLoop() {
  // The request stream is watched only for its end (POLLRDHUP): its data is
  // the serving thread's.
  int input_fd = input_fd_;
  int output_fd = output_fd_;
  for (;;) {
    pollfd fds[6] = {{signals_.read_fd, POLLIN, 0}, {control_fd_, POLLIN, 0},
                     {input_fd, POLLRDHUP, 0},      {output_fd, 0, 0},
                     {hold_timer_fd_, POLLIN, 0},   {watch_wake_.read_fd, POLLIN, 0}};
    const int n = ::poll(fds, 6, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[5].revents != 0) return;
    if ((fds[0].revents & POLLIN) != 0) {
      unsigned char signo = 0;
      DrainSignals(signals_.read_fd, &signo);
      Stop();
      CancelActive("cancellation requested (signal " + std::to_string(signo) + ")");
    }
    if (fds[1].revents != 0) ReadControl();
    if (fds[2].revents != 0) {
      input_fd = -1;  // stop watching it
      Stop();
      CancelActive("the worker closed the request pipe; cancelling the task");
    }
    if ((fds[3].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
      output_fd = -1;
      Stop();
      CancelActive("the worker closed the record pipe; cancelling the task");
    }
    if ((fds[4].revents & POLLIN) != 0) {
      std::uint64_t expirations = 0;
      [[maybe_unused]] ssize_t ignored = ::read(hold_timer_fd_, &expirations, sizeof expirations);
      ReleaseHeld();
    }
  }
}

void PooledServer::ReadControl() {
  std::string bytes;
  const bool open = ReadAvailable(control_fd_, &bytes);
  std::vector<Record> records;
  const sdk::Status decoded = control_.Feed(bytes, &records);
  for (const Record& record : records) {
    if (record.kind == Record::Kind::kCancel) {
      CancelActive("cancellation requested by the worker", &record.task_id);
    }
  }
  if (open && decoded.ok()) return;
  control_fd_ = -1;  // stop watching it
  if (!decoded.ok()) exit_code_.store(kTaskHostExitFailed);
  Stop();
  CancelActive(decoded.ok() ? "the worker closed the control socket; cancelling the task"
                            : "a request on the control socket does not read (" +
                                  decoded.message() + "); cancelling the task");
}

}  // namespace

std::string ExecutorShortName(std::string_view name) {
  constexpr std::string_view kPrefix = "executor/";
  return std::string(name.rfind(kPrefix, 0) == 0 ? name.substr(kPrefix.size()) : name);
}

int ServeTaskHost(const ExecutorProvider& executors, int input_fd, int output_fd,
                  const ServeOptions& options) {
  PooledServer server(executors, input_fd, output_fd, options);
  return server.Run();
}

}  // namespace scaleout::core::taskhost
