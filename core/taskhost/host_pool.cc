#include "core/taskhost/host_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <optional>
#include <thread>

#include "core/common/thread_name.h"
#include "core/taskhost/child_io.h"
#include "core/taskhost/process_tree.h"
#include "core/taskhost/records.h"
#include "core/taskhost/spec_file.h"

extern char** environ;

namespace scaleout::core::taskhost {

namespace {

// Where a host finds its control socket (`task-host --control-fd`).
constexpr int kControlFd = 3;

// Moves *fd to a descriptor above `floor` (close-on-exec); false if it cannot.
bool MoveAbove(int* fd, int floor) {
  if (*fd > floor) return true;
  const int moved = ::fcntl(*fd, F_DUPFD_CLOEXEC, floor + 1);
  if (moved < 0) return false;
  ::close(*fd);
  *fd = moved;
  return true;
}
constexpr int kStartAttempts = 3;  // hosts that die between tasks are replaced

// Writes a whole frame to the host's request socket; false if it has gone.
bool SendAll(int fd, std::string_view frame) {
  while (!frame.empty()) {
    const ssize_t n = ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    frame.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

// What a PooledTask handle and the host running it share.
struct PooledTaskState {
  PooledTaskState(std::string id, TaskHostCallbacks c, Clock& clk, std::chrono::milliseconds grace)
      : task_id(std::move(id)), callbacks(std::move(c)), clock(clk), kill_grace(grace) {}
  ~PooledTaskState() {
    grace_wake.store(true);
    clock.Wake(grace_wake);
    if (grace.joinable()) grace.join();
  }

  // Called once, by the host's reader thread.
  // Done() is true before on_exit runs, so whoever on_exit wakes finds the
  // task ended (the agent's watchdog would otherwise sleep until its next tick).
  void Finish(const sdk::TaskOutcome& outcome) {
    {
      std::lock_guard lock(mutex);
      this->outcome = outcome;
      done = true;
    }
    if (callbacks.on_exit) callbacks.on_exit(outcome);
    grace_wake.store(true);
    clock.Wake(grace_wake);
    done_cv.notify_all();
  }

  const std::string task_id;
  const TaskHostCallbacks callbacks;
  Clock& clock;
  const std::chrono::milliseconds kill_grace;
  std::shared_ptr<PooledHost> host;  // set before the task is handed over, then constant

  mutable std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;                        // guarded by mutex
  std::optional<sdk::TaskOutcome> outcome;  // guarded by mutex
  bool cancel_requested = false;            // guarded by the host's mutex
  bool kill_requested = false;              // guarded by the host's mutex
  std::atomic<bool> grace_wake{false};
  std::thread grace;  // started by the first Cancel() (under the host's mutex)
};

// One `scaleout task-host --serve` child and its reader thread.
class PooledHost : public std::enable_shared_from_this<PooledHost> {
 public:
  explicit PooledHost(TaskHostPool& pool) : pool_(pool) {}
  ~PooledHost() {
    if (reader_.joinable()) reader_.join();
    CloseFd(&request_fd_);
    CloseFd(&control_fd_);
  }
  PooledHost(const PooledHost&) = delete;
  PooledHost& operator=(const PooledHost&) = delete;

  sdk::Status Spawn(const TaskHostPoolOptions& options);

  // Hands `task` to this host if it is idle. False when it is not, or when
  // it has gone (then it is being killed and the caller tries another).
  bool Assign(const std::shared_ptr<PooledTaskState>& task, std::string_view frame);
  void CancelTask(PooledTaskState* task);
  // `requested`: Kill() (the outcome says "killed"), not the end of Cancel()'s grace.
  void KillTask(const PooledTaskState* task, bool requested = true);
  // Ends an idle host: it exits once it reads EOF.
  void Retire() { ::shutdown(request_fd_, SHUT_WR); }
  void KillNow();
  void Join() {
    if (reader_.joinable()) reader_.join();
  }
  bool dead() const {
    std::lock_guard lock(mutex_);
    return state_ == State::kDead;
  }
  pid_t pid() const { return pid_; }  // constant after Spawn()

 private:
  enum class State { kIdle, kBusy, kRetiring, kDead };

  void ReaderLoop();
  void KillLocked();  // REQUIRES: mutex_ held
  std::shared_ptr<PooledTaskState> Current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void Dispatch(std::string* out_bytes, std::string* err_bytes, bool flush_stderr);
  void OnOutcome(const sdk::TaskOutcome& outcome);
  void OnExit();

  TaskHostPool& pool_;
  pid_t pid_ = 0;
  int request_fd_ = -1;  // our end of the host's stdin socket (task requests)
  int control_fd_ = -1;  // our end of the host's control socket (cancel requests)
  int out_fd_ = -1;      // reader thread only
  int err_fd_ = -1;      // reader thread only
  int pid_fd_ = -1;      // reader thread only

  mutable std::mutex mutex_;
  State state_ = State::kIdle;                // guarded by mutex_
  bool exited_ = false;                       // guarded by mutex_; reaped: the pid may be reused
  std::shared_ptr<PooledTaskState> current_;  // guarded by mutex_

  // Reader thread only.
  RecordDecoder decoder_;
  sdk::Status corrupt_;
  bool retiring_ = false;
  std::deque<std::string> err_tail_;
  std::thread reader_;
};

sdk::Status PooledHost::Spawn(const TaskHostPoolOptions& options) {
  int request[2] = {-1, -1};
  int control[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  // The control socket's child end lands on kControlFd, so it must not be
  // there already (dup2 onto itself would leave it close-on-exec).
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, request) != 0 ||
      ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, control) != 0 ||
      !MoveAbove(&control[1], kControlFd) || ::pipe2(out, O_CLOEXEC) != 0 ||
      ::pipe2(err, O_CLOEXEC) != 0) {
    const std::string message = Errno("cannot create the task host pipes");
    for (int* fd :
         {&request[0], &request[1], &control[0], &control[1], &out[0], &out[1], &err[0], &err[1]}) {
      CloseFd(fd);
    }
    return sdk::Status::Unavailable(message);
  }
  SpawnSetup setup;
  ::posix_spawn_file_actions_adddup2(&setup.actions, request[1], STDIN_FILENO);
  ::posix_spawn_file_actions_adddup2(&setup.actions, out[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&setup.actions, err[1], STDERR_FILENO);
  ::posix_spawn_file_actions_adddup2(&setup.actions, control[1], kControlFd);
  // A session of its own is the boundary of its tasks (process_tree.h).
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setflags(&setup.attr,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  ::posix_spawnattr_setsigmask(&setup.attr, &none);
  ::posix_spawnattr_setsigdefault(&setup.attr, &all);

  std::vector<std::string> args = {options.host_binary,
                                   "task-host",
                                   "--serve",
                                   "--plugin-dir",
                                   options.plugin_dir,
                                   "--parent-pid",
                                   std::to_string(::getpid()),
                                   "--parent-death-signal",
                                   std::to_string(options.parent_death_signal),
                                   "--control-fd",
                                   std::to_string(kControlFd)};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, options.host_binary.c_str(), &setup.actions, &setup.attr,
                               argv.data(), environ);
  CloseFd(&request[1]);
  CloseFd(&control[1]);
  CloseFd(&out[1]);
  CloseFd(&err[1]);
  if (rc != 0) {
    for (int* fd : {&request[0], &control[0], &out[0], &err[0]}) CloseFd(fd);
    return sdk::Status::Unavailable("cannot start task host '" + options.host_binary +
                                    "': " + std::strerror(rc));
  }
  pid_ = pid;
  request_fd_ = request[0];
  control_fd_ = control[0];
  out_fd_ = out[0];
  err_fd_ = err[0];
  ::fcntl(out_fd_, F_SETFL, O_NONBLOCK);
  ::fcntl(err_fd_, F_SETFL, O_NONBLOCK);
#if defined(SYS_pidfd_open)
  pid_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pid_fd_ >= 0) ::fcntl(pid_fd_, F_SETFD, FD_CLOEXEC);
#endif
  reader_ = NamedThread("host-records", [this] { ReaderLoop(); });
  return sdk::Status::Ok();
}

bool PooledHost::Assign(const std::shared_ptr<PooledTaskState>& task, std::string_view frame) {
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::kIdle) return false;
    state_ = State::kBusy;
    current_ = task;
    err_tail_.clear();
  }
  if (SendAll(request_fd_, frame)) return true;
  // It died between tasks: nobody else will use it; the reader reaps it.
  std::lock_guard lock(mutex_);
  current_.reset();
  KillLocked();
  return false;
}

void PooledHost::CancelTask(PooledTaskState* task) {
  std::lock_guard lock(mutex_);
  if (current_.get() != task || exited_ || task->cancel_requested) return;
  task->cancel_requested = true;
  if (!SendAll(control_fd_, EncodeCancelRequest(task->task_id))) {
    KillLocked();  // it has stopped reading: it cannot stop the task either
    return;
  }
  task->grace = std::thread([task, host = shared_from_this()] {
    if (task->clock.SleepFor(task->kill_grace, task->grace_wake)) return;  // ended in time
    host->KillTask(task, /*requested=*/false);
  });
}

void PooledHost::KillTask(const PooledTaskState* task, bool requested) {
  std::lock_guard lock(mutex_);
  if (current_.get() != task || exited_) return;
  if (requested) current_->kill_requested = true;
  KillLocked();
}

void PooledHost::KillLocked() {
  if (exited_ || pid_ <= 0) return;  // after reaping, the pid may belong to someone else
  ::kill(-pid_, SIGKILL);
  KillSession(pid_);
}

void PooledHost::KillNow() {
  std::lock_guard lock(mutex_);
  if (current_) current_->kill_requested = true;
  KillLocked();
}

void PooledHost::Dispatch(std::string* out_bytes, std::string* err_bytes, bool flush_stderr) {
  if (!out_bytes->empty() && corrupt_.ok()) {
    std::vector<Record> records;
    corrupt_ = decoder_.Feed(*out_bytes, &records);
    for (Record& record : records) {
      switch (record.kind) {
        case Record::Kind::kEvent:
          if (auto task = Current(); task && task->callbacks.on_event) {
            task->callbacks.on_event(record.event);
          }
          break;
        case Record::Kind::kOutcome: OnOutcome(record.outcome); break;
        case Record::Kind::kRetiring: retiring_ = true; break;
        default: break;  // requests never come this way
      }
    }
    if (!corrupt_.ok()) {
      std::lock_guard lock(mutex_);  // nothing it says can be trusted any more
      KillLocked();
    }
  }
  out_bytes->clear();
  for (std::string& line : TakeStderrLines(err_bytes, flush_stderr)) {
    err_tail_.push_back(line);
    if (err_tail_.size() > kStderrTailLines) err_tail_.pop_front();
    if (auto task = Current(); task && task->callbacks.on_event) {
      task->callbacks.on_event({sdk::MessageType::kDiagnostic, "task-host", std::move(line)});
    }
  }
}

void PooledHost::OnOutcome(const sdk::TaskOutcome& outcome) {
  std::shared_ptr<PooledTaskState> task;
  {
    std::lock_guard lock(mutex_);
    task = std::move(current_);
    current_.reset();
    if (state_ == State::kBusy) state_ = retiring_ ? State::kRetiring : State::kIdle;
    if (!task) return;  // an outcome nobody asked for: ignore it
  }
  // Idle again before the task is final, so the worker's next task finds
  // this host rather than starting another.
  if (!retiring_) pool_.Release(shared_from_this());
  task->Finish(outcome);
}

void PooledHost::ReaderLoop() {
  std::string out_bytes;
  std::string err_bytes;
  bool out_open = true;
  bool err_open = true;
  for (;;) {
    pollfd fds[3] = {{out_open ? out_fd_ : -1, POLLIN, 0},
                     {err_open ? err_fd_ : -1, POLLIN, 0},
                     {pid_fd_, POLLIN, 0}};
    const int n = ::poll(fds, 3, pid_fd_ >= 0 ? -1 : 50);
    if (n < 0 && errno != EINTR) break;
    if (out_open && fds[0].revents != 0) out_open = ReadAvailable(out_fd_, &out_bytes);
    if (err_open && fds[1].revents != 0) err_open = ReadAvailable(err_fd_, &err_bytes);
    Dispatch(&out_bytes, &err_bytes, false);
    // Only when the exit may have happened: the pidfd says so, or the host
    // closed its stdout (without a pidfd, at every tick).
    if (pid_fd_ >= 0 && fds[2].revents == 0 && out_open) continue;
    // Observe the exit without reaping, so the session id stays ours.
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT | WNOHANG) == 0 &&
        info.si_pid == pid_) {
      break;
    }
  }
  if (out_open) ReadAvailable(out_fd_, &out_bytes);
  if (err_open) ReadAvailable(err_fd_, &err_bytes);
  Dispatch(&out_bytes, &err_bytes, true);
  OnExit();
}

void PooledHost::OnExit() {
  int status = 0;
  std::shared_ptr<PooledTaskState> task;
  bool cancel_requested = false;
  bool kill_requested = false;
  {
    std::lock_guard lock(mutex_);
    KillSession(pid_);  // leftovers of its tasks (background jobs, grandchildren)
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exited_ = true;
    state_ = State::kDead;
    task = std::move(current_);
    current_.reset();
    if (task) {
      cancel_requested = task->cancel_requested;
      kill_requested = task->kill_requested;
    }
  }
  CloseFd(&out_fd_);
  CloseFd(&err_fd_);
  CloseFd(&pid_fd_);
  pool_.Forget(this);
  if (!task) return;
  sdk::TaskOutcome outcome;
  if (!corrupt_.ok()) {
    outcome = {
        sdk::TaskResult::kFailed, ExitCodeOf(status),
        "task host sent a corrupt record stream (" + corrupt_.message() + "); it was killed"};
  } else if (kill_requested || cancel_requested) {
    outcome = {sdk::TaskResult::kCancelled, ExitCodeOf(status),
               std::string(kill_requested ? "killed" : "cancelled") +
                   " before the task host reported an outcome (" + ExitDescription(status) + ")"};
  } else {
    std::string message = "task host exited unexpectedly (" + ExitDescription(status) + ")";
    if (!err_tail_.empty()) message += ": " + err_tail_.back();
    outcome = {sdk::TaskResult::kFailed, ExitCodeOf(status), message};
  }
  task->Finish(outcome);
}

// ---- PooledTask ----------------------------------------------------------------

PooledTask::PooledTask(std::shared_ptr<PooledTaskState> state) : state_(std::move(state)) {}

PooledTask::~PooledTask() {
  if (!Done()) Kill();
  (void)Wait();
}

void PooledTask::Cancel() { state_->host->CancelTask(state_.get()); }
void PooledTask::Kill() { state_->host->KillTask(state_.get()); }

bool PooledTask::Done() const {
  std::lock_guard lock(state_->mutex);
  return state_->done;
}

sdk::TaskOutcome PooledTask::Wait() {
  {
    std::unique_lock lock(state_->mutex);
    state_->done_cv.wait(lock, [&] { return state_->done; });
  }
  if (state_->grace.joinable()) state_->grace.join();
  std::lock_guard lock(state_->mutex);
  return *state_->outcome;
}

pid_t PooledTask::host_pid() const { return state_->host->pid(); }

namespace {

// How long the pool's end waits for retired idle hosts to exit: they need a
// few milliseconds; a host that does not exit by then is killed.
constexpr int kIdleExitPolls = 250;
constexpr useconds_t kIdleExitPollMicros = 2000;

void WaitUntilDead(const std::vector<std::shared_ptr<PooledHost>>& hosts) {
  for (int poll = 0; poll < kIdleExitPolls; ++poll) {
    bool all_dead = true;
    for (const auto& host : hosts) all_dead = all_dead && host->dead();
    if (all_dead) return;
    ::usleep(kIdleExitPollMicros);
  }
}

}  // namespace

// ---- TaskHostPool ----------------------------------------------------------------

TaskHostPool::TaskHostPool(TaskHostPoolOptions options, Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

TaskHostPool::~TaskHostPool() {
  std::vector<std::shared_ptr<PooledHost>> hosts;
  std::vector<std::shared_ptr<PooledHost>> idle;
  {
    std::lock_guard lock(mutex_);
    hosts = all_;
    idle.swap(idle_);
  }
  // An idle host ends on its own once its request stream ends, stopping its
  // executors (a process executor removes its packages' cgroup, which a
  // killed host would leave behind). What has not ended by then is killed.
  for (auto& host : idle) host->Retire();
  WaitUntilDead(idle);
  for (auto& host : hosts) host->KillNow();
  for (auto& host : hosts) host->Join();
  std::lock_guard lock(mutex_);
  all_.clear();
}

void TaskHostPool::Release(const std::shared_ptr<PooledHost>& host) {
  std::lock_guard lock(mutex_);
  if (idle_.size() >= options_.max_idle_hosts) {
    host->Retire();
    return;
  }
  idle_.push_back(host);
}

void TaskHostPool::Forget(const PooledHost* host) {
  std::lock_guard lock(mutex_);
  std::erase_if(idle_, [&](const auto& h) { return h.get() == host; });
}

void TaskHostPool::JoinDeadHosts() {
  std::vector<std::shared_ptr<PooledHost>> dead;
  {
    std::lock_guard lock(mutex_);
    for (auto it = all_.begin(); it != all_.end();) {
      if ((*it)->dead()) {
        dead.push_back(std::move(*it));
        it = all_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& host : dead) host->Join();
}

sdk::Result<std::shared_ptr<PooledHost>> TaskHostPool::TakeOrStartHost() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto host = std::move(idle_.back());
      idle_.pop_back();
      return host;
    }
  }
  auto host = std::make_shared<PooledHost>(*this);
  SCALEOUT_RETURN_IF_ERROR(host->Spawn(options_));
  std::lock_guard lock(mutex_);
  all_.push_back(host);
  ++hosts_started_;
  return host;
}

sdk::Result<std::unique_ptr<PooledTask>> TaskHostPool::Launch(const PooledTaskRequest& request,
                                                              TaskHostCallbacks callbacks) {
  if (options_.host_binary.empty() || options_.plugin_dir.empty()) {
    return sdk::Status::InvalidArgument("the task host pool lacks host_binary or plugin_dir");
  }
  if (request.executor.empty()) return sdk::Status::InvalidArgument("the task names no executor");
  if (request.spec.task_id.empty() || request.spec.work_dir.empty()) {
    return sdk::Status::InvalidArgument("the task lacks task_id or work_dir");
  }
  JoinDeadHosts();
  TaskHostSpec spec;
  spec.task = request.spec;
  spec.executor_config = request.executor_config;
  spec.log_file = request.log_file;
  spec.log_level = request.log_level;
  const std::string frame = EncodeTaskRequest(request.executor, SpecToJson(spec));
  auto task = std::make_shared<PooledTaskState>(request.spec.task_id, std::move(callbacks), clock_,
                                                options_.kill_grace);
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    SCALEOUT_ASSIGN_OR_RETURN(std::shared_ptr<PooledHost> host, TakeOrStartHost());
    task->host = host;
    if (host->Assign(task, frame)) return std::make_unique<PooledTask>(std::move(task));
  }
  return sdk::Status::Unavailable("task hosts died before they could take the task " +
                                  request.spec.task_id);
}

std::uint64_t TaskHostPool::hosts_started() const {
  std::lock_guard lock(mutex_);
  return hosts_started_;
}

std::size_t TaskHostPool::idle_hosts() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

}  // namespace scaleout::core::taskhost
