#include "core/taskhost/task_host.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>
#include <optional>
#include <thread>

#include "core/taskhost/cancellation.h"
#include "core/taskhost/records.h"
#include "core/taskhost/task_log.h"

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

// Forwards the executor's events: masked, to the task log and the launcher.
// Emit is called from executor threads; RecordWriter and TaskLog lock.
class ForwardingSink final : public sdk::EventSink {
 public:
  ForwardingSink(RecordWriter& writer, TaskLog& log, const SecretMasker& masker,
                 CancellationSource& cancel)
      : writer_(writer), log_(log), masker_(masker), cancel_(cancel) {}

  void Emit(const sdk::Event& event) noexcept override {
    try {
      sdk::Event masked = event;
      masked.message = masker_.Mask(event.message);
      masked.message_source = masker_.Mask(event.message_source);
      log_.WriteEvent(masked);
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
      while (::read(signal_fd, &signo, 1) == 1) {
      }
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
  ForwardingSink sink(writer, log, masker, cancel);
  log.WriteLine("task " + spec.task_id + " attempt " + std::to_string(spec.attempt) +
                " of execution " + std::to_string(spec.execution_id) + ": package '" +
                spec.package_name + "' with executor '" + options.executor_name + "'");

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
    std::optional<sdk::Result<sdk::TaskOutcome>> result;
    std::string thrown;
    std::thread runner([&] {
      try {
        result.emplace(executor.Run(spec, sink, cancel));
      } catch (const std::exception& e) {
        thrown = e.what();
      } catch (...) {
        thrown = "a non-standard exception";
      }
      const char byte = 1;
      [[maybe_unused]] ssize_t ignored = ::write(done.write_fd, &byte, 1);
    });
    Supervise(signals.read_fd, done.read_fd, output_fd, cancel, log);
    runner.join();
    executor.Stop();
    outcome = OutcomeOf(result, thrown);
  }
  outcome.message = masker.Mask(outcome.message);
  log.WriteLine("outcome: " + ResultName(outcome.result) + " (exit code " +
                std::to_string(outcome.exit_code) + "): " + outcome.message);
  (void)writer.Write(EncodeOutcome(outcome));
  return ExitCodeFor(outcome);
}

}  // namespace scaleout::core::taskhost
