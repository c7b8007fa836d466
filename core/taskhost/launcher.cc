#include "core/taskhost/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <vector>

#include "core/common/thread_name.h"
#include "core/taskhost/child_io.h"
#include "core/taskhost/process_tree.h"
#include "core/taskhost/records.h"
#include "core/taskhost/spec_file.h"
#include "core/taskhost/work_dir.h"

extern char** environ;

namespace scaleout::core::taskhost {
namespace {

constexpr int kFallbackPollMs = 50;  // only without pidfd (Linux < 5.3)

sdk::Status ValidateRequest(const TaskHostRequest& r) {
  if (r.host_binary.empty())
    return sdk::Status::InvalidArgument("task host request lacks host_binary");
  if (::access(r.host_binary.c_str(), X_OK) != 0) {
    return sdk::Status::InvalidArgument(
        Errno("task host binary '" + r.host_binary + "' is not executable"));
  }
  if (r.plugin_dir.empty())
    return sdk::Status::InvalidArgument("task host request lacks plugin_dir");
  if (r.executor.empty()) return sdk::Status::InvalidArgument("task host request lacks executor");
  if (r.spec.task_id.empty())
    return sdk::Status::InvalidArgument("task host request lacks spec.task_id");
  if (r.spec.work_dir.empty())
    return sdk::Status::InvalidArgument("task host request lacks spec.work_dir");
  if (r.kill_grace.count() < 0)
    return sdk::Status::InvalidArgument("kill_grace must not be negative");
  return sdk::Status::Ok();
}

}  // namespace

TaskHostLauncher::TaskHostLauncher(TaskHostCallbacks callbacks, Clock& clock)
    : callbacks_(std::move(callbacks)), clock_(clock) {}

TaskHostLauncher::~TaskHostLauncher() {
  bool started;
  {
    std::lock_guard lock(mutex_);
    started = started_;
  }
  if (started) {
    Kill();
    (void)Wait();
  }
}

sdk::Status TaskHostLauncher::Start(const TaskHostRequest& request) {
  std::lock_guard lock(mutex_);
  if (started_) return sdk::Status::FailedPrecondition("task host launcher already started");
  SCALEOUT_RETURN_IF_ERROR(ValidateRequest(request));
  SCALEOUT_RETURN_IF_ERROR(EnsureWorkDir(request.spec.work_dir));

  TaskHostSpec spec;
  spec.task = request.spec;
  spec.executor_config = request.executor_config;
  spec.log_file = request.log_file;
  spec.log_level = request.log_level;
  spec.parent_death_signal = request.parent_death_signal;
  spec.parent_pid = ::getpid();
  spec_path_ = (std::filesystem::path(request.spec.work_dir) / kSpecFileName).string();
  SCALEOUT_RETURN_IF_ERROR(WriteSpecFile(spec_path_, spec));

  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    const std::string message = Errno("cannot create the task host pipes");
    for (int* fd : {&out[0], &out[1], &err[0], &err[1]}) CloseFd(fd);
    ::unlink(spec_path_.c_str());
    return sdk::Status::Unavailable(message);
  }

  SpawnSetup setup;
  ::posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&setup.actions, out[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&setup.actions, err[1], STDERR_FILENO);
  // A new session makes the task's boundary (process_tree.h); the child
  // starts with no blocked signals and default dispositions, whatever the
  // worker did to its own.
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setflags(&setup.attr,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  ::posix_spawnattr_setsigmask(&setup.attr, &none);
  ::posix_spawnattr_setsigdefault(&setup.attr, &all);

  std::vector<std::string> args = {request.host_binary, "task-host",     "--spec",
                                   spec_path_,          "--plugin-dir",  request.plugin_dir,
                                   "--executor",        request.executor};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, request.host_binary.c_str(), &setup.actions, &setup.attr,
                               argv.data(), environ);
  CloseFd(&out[1]);
  CloseFd(&err[1]);
  if (rc != 0) {
    CloseFd(&out[0]);
    CloseFd(&err[0]);
    ::unlink(spec_path_.c_str());
    return sdk::Status::Unavailable("cannot start task host '" + request.host_binary +
                                    "': " + std::strerror(rc));
  }
  out_fd_ = out[0];
  err_fd_ = err[0];
  ::fcntl(out_fd_, F_SETFL, O_NONBLOCK);
  ::fcntl(err_fd_, F_SETFL, O_NONBLOCK);
#if defined(SYS_pidfd_open)
  pid_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#endif
  pid_ = pid;
  started_ = true;
  kill_grace_ = request.kill_grace;
  reader_ = NamedThread("host-records", [this] { ReaderLoop(); });
  return sdk::Status::Ok();
}

void TaskHostLauncher::ReaderLoop() {
  RecordDecoder decoder;
  sdk::Status corrupt;
  std::optional<sdk::TaskOutcome> reported;
  std::string out_bytes;
  std::string err_bytes;
  std::deque<std::string> err_tail;

  // Dispatches everything complete in the buffers; callbacks run unlocked.
  auto dispatch = [&](bool flush_partial_stderr) {
    if (!out_bytes.empty() && corrupt.ok()) {
      std::vector<Record> records;
      corrupt = decoder.Feed(out_bytes, &records);
      for (Record& record : records) {
        if (record.kind == Record::Kind::kOutcome) {
          if (!reported) reported = record.outcome;
        } else if (record.kind == Record::Kind::kEvent && callbacks_.on_event) {
          callbacks_.on_event(record.event);
        }
      }
      if (!corrupt.ok()) {
        // Nothing it says can be trusted any more: stop it.
        std::lock_guard lock(mutex_);
        KillLocked();
      }
    }
    out_bytes.clear();
    for (std::string& line : TakeStderrLines(&err_bytes, flush_partial_stderr)) {
      err_tail.push_back(line);
      if (err_tail.size() > kStderrTailLines) err_tail.pop_front();
      if (callbacks_.on_event)
        callbacks_.on_event({sdk::MessageType::kDiagnostic, "task-host", std::move(line)});
    }
  };

  bool out_open = true;
  bool err_open = true;
  bool exited = false;
  while (!exited) {
    pollfd fds[3] = {{out_open ? out_fd_ : -1, POLLIN, 0},
                     {err_open ? err_fd_ : -1, POLLIN, 0},
                     {pid_fd_, POLLIN, 0}};
    const bool can_block = pid_fd_ >= 0 || out_open || err_open;
    if (can_block) {
      const int n = ::poll(fds, 3, pid_fd_ >= 0 ? -1 : kFallbackPollMs);
      if (n < 0 && errno != EINTR) break;  // cannot happen with valid fds; reap below
    }
    if (out_open && fds[0].revents != 0) out_open = ReadAvailable(out_fd_, &out_bytes);
    if (err_open && fds[1].revents != 0) err_open = ReadAvailable(err_fd_, &err_bytes);
    dispatch(false);
    // Observe the exit without reaping: while the child is an unreaped
    // zombie its pid, and so its session id, cannot be reused.
    siginfo_t info{};
    const int flags = WEXITED | WNOWAIT | (can_block ? WNOHANG : 0);
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, flags) == 0 && info.si_pid == pid_) {
      exited = true;
    }
  }
  // Everything the child wrote before it exited is in the pipes now.
  if (out_open) ReadAvailable(out_fd_, &out_bytes);
  if (err_open) ReadAvailable(err_fd_, &err_bytes);
  dispatch(true);

  int status = 0;
  {
    std::lock_guard lock(mutex_);
    KillSession(pid_);  // leftovers of the task (background jobs, grandchildren)
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exited_ = true;
  }
  ::unlink(spec_path_.c_str());  // in case the child died before reading it
  CloseFd(&out_fd_);
  CloseFd(&err_fd_);
  CloseFd(&pid_fd_);

  sdk::TaskOutcome outcome;
  bool cancel_requested;
  bool kill_requested;
  {
    std::lock_guard lock(mutex_);
    cancel_requested = cancel_requested_;
    kill_requested = kill_requested_;
  }
  if (!corrupt.ok()) {
    outcome = {sdk::TaskResult::kFailed, ExitCodeOf(status),
               "task host sent a corrupt record stream (" + corrupt.message() + "); it was killed"};
  } else if (reported) {
    outcome = *reported;
  } else if (kill_requested || cancel_requested) {
    outcome = {sdk::TaskResult::kCancelled, ExitCodeOf(status),
               std::string(kill_requested ? "killed" : "cancelled") +
                   " before the task host reported an outcome (" + ExitDescription(status) + ")"};
  } else {
    std::string message = "task host exited unexpectedly (" + ExitDescription(status) + ")";
    if (!err_tail.empty()) message += ": " + err_tail.back();
    outcome = {sdk::TaskResult::kFailed, ExitCodeOf(status), message};
  }
  Finish(outcome);
}

void TaskHostLauncher::Finish(const sdk::TaskOutcome& outcome) {
  // Done() is true before on_exit runs (see TaskHostCallbacks); Wait() still
  // returns only after on_exit, because it joins this (the reader) thread.
  {
    std::lock_guard lock(mutex_);
    outcome_ = outcome;
    done_ = true;
  }
  if (callbacks_.on_exit) callbacks_.on_exit(outcome);
  grace_wake_.store(true);
  clock_.Wake(grace_wake_);
  done_cv_.notify_all();
}

void TaskHostLauncher::Cancel() {
  std::lock_guard lock(mutex_);
  if (!started_ || exited_ || cancel_requested_) return;
  cancel_requested_ = true;
  ::kill(pid_, SIGTERM);  // the task host cancels its executor, which stops the package
  grace_ = NamedThread("host-grace", [this] { GraceLoop(); });
}

void TaskHostLauncher::GraceLoop() {
  if (clock_.SleepFor(kill_grace_, grace_wake_)) return;  // finished in time
  std::lock_guard lock(mutex_);
  KillLocked();
}

void TaskHostLauncher::Kill() {
  std::lock_guard lock(mutex_);
  if (!started_ || exited_) return;
  kill_requested_ = true;
  KillLocked();
}

void TaskHostLauncher::KillLocked() {
  if (!started_ || exited_) return;  // after reaping, the pid may belong to someone else
  ::kill(-pid_, SIGKILL);
  KillSession(pid_);
}

sdk::TaskOutcome TaskHostLauncher::Wait() {
  {
    std::unique_lock lock(mutex_);
    if (!started_) return {sdk::TaskResult::kFailed, 0, "task host was not started"};
    done_cv_.wait(lock, [&] { return done_; });
  }
  if (reader_.joinable()) reader_.join();
  if (grace_.joinable()) grace_.join();
  std::lock_guard lock(mutex_);
  return *outcome_;
}

bool TaskHostLauncher::Done() const {
  std::lock_guard lock(mutex_);
  return done_;
}

pid_t TaskHostLauncher::pid() const {
  std::lock_guard lock(mutex_);
  return pid_;
}

}  // namespace scaleout::core::taskhost
