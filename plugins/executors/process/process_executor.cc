#include "plugins/executors/process/process_executor.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plugins/executors/process/child_process.h"
#include "plugins/executors/process/line_splitter.h"
#include "plugins/executors/process/package.h"

namespace scaleout::plugins::process {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kTickMs = 50;                  // how often the token and deadlines are checked
constexpr milliseconds kDrainLimit{1000};    // output still arriving after exit (an escaped holder)
constexpr int kGroupDeathLimitMs = 2000;     // SIGKILLed processes die in far less
constexpr std::size_t kMinMaskedLength = 4;  // same rule as the task host's SecretMasker
constexpr const char* kSource = "executor/process";

// Replaces each sensitive value (longest first) by "***".
class Masker {
 public:
  explicit Masker(const std::vector<sdk::ExecutionParameter>& parameters) {
    for (const auto& p : parameters) {
      if (p.sensitive && p.value.size() >= kMinMaskedLength) secrets_.push_back(p.value);
    }
    std::sort(secrets_.begin(), secrets_.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  }
  std::string Mask(std::string text) const {
    for (const std::string& secret : secrets_) {
      for (auto pos = text.find(secret); pos != std::string::npos;
           pos = text.find(secret, pos + 3)) {
        text.replace(pos, secret.size(), "***");
      }
    }
    return text;
  }

 private:
  std::vector<std::string> secrets_;
};

// One output stream of the package: its pipe, its lines, its event type.
struct Stream {
  int fd;
  LineSplitter lines;
  sdk::MessageType type;
  const char* source;
};

class OutputPump {
 public:
  OutputPump(ChildProcess& child, std::size_t max_line_bytes, sdk::EventSink& events,
             const Masker& masker)
      : child_(child),
        events_(events),
        masker_(masker),
        out_{child.stdout_fd(), LineSplitter(max_line_bytes), sdk::MessageType::kInformation,
             "stdout"},
        err_{child.stderr_fd(), LineSplitter(max_line_bytes), sdk::MessageType::kWarning,
             "stderr"} {}

  bool open() const { return out_.fd >= 0 || err_.fd >= 0; }

  // Waits up to `timeout_ms` for output or the child's exit, and forwards
  // complete lines.
  void PollOnce(int timeout_ms) {
    pollfd fds[3] = {{out_.fd, POLLIN, 0}, {err_.fd, POLLIN, 0}, {child_.pid_fd(), POLLIN, 0}};
    if (::poll(fds, 3, timeout_ms) <= 0) return;
    if (fds[0].revents != 0) Read(out_);
    if (fds[1].revents != 0) Read(err_);
  }

  void Finish() {
    for (Stream* stream : {&out_, &err_}) {
      std::vector<std::string> lines;
      stream->lines.Finish(&lines);
      Emit(*stream, lines);
    }
  }

 private:
  void Read(Stream& stream) {
    char buffer[65536];
    for (;;) {
      const ssize_t n = ::read(stream.fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) {  // EOF or error: the stream is over
        if (&stream == &out_)
          child_.CloseStdout();
        else
          child_.CloseStderr();
        stream.fd = -1;
        return;
      }
      std::vector<std::string> lines;
      stream.lines.Feed(std::string_view(buffer, static_cast<std::size_t>(n)), &lines);
      Emit(stream, lines);
    }
  }

  void Emit(const Stream& stream, const std::vector<std::string>& lines) {
    for (const std::string& line : lines) {
      events_.Emit({stream.type, stream.source, masker_.Mask(line)});
    }
  }

  ChildProcess& child_;
  sdk::EventSink& events_;
  const Masker& masker_;
  Stream out_;
  Stream err_;
};

std::string DescribeExit(int status) {
  if (WIFSIGNALED(status)) {
    const int signo = WTERMSIG(status);
    const char* name = ::sigabbrev_np(signo);
    return "killed by signal " + std::to_string(signo) +
           (name != nullptr ? std::string(" (SIG") + name + ")" : std::string());
  }
  return "exited with code " + std::to_string(WEXITSTATUS(status));
}

int ExitCodeOf(int status) {
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

enum class StopReason { kNone, kCancelled, kTimedOut };

// Milliseconds from now until `when`, clamped to [0, kTickMs].
int TickUntil(SteadyClock::time_point when) {
  const auto left = std::chrono::duration_cast<milliseconds>(when - SteadyClock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, kTickMs));
}

// The inherited (or minimal) environment, with the account's HOME, USER,
// LOGNAME and SHELL when packages run as another account.
EnvMap PackageBase(const Options& options, const Sandbox& sandbox) {
  EnvMap base = BaseEnvironment(options.inherit_environment);
  if (sandbox.account) SetAccountVariables(*sandbox.account, &base);
  return base;
}

}  // namespace

ProcessExecutor::ProcessExecutor(Options options, sdk::Logger& logger, Sandbox sandbox)
    : options_(std::move(options)),
      logger_(logger),
      sandbox_(std::move(sandbox)),
      environment_(PackageBase(options_, sandbox_)) {}

sdk::Result<std::unique_ptr<ProcessExecutor>> ProcessExecutor::Create(
    const sdk::PluginContext& context) {
  SCALEOUT_ASSIGN_OR_RETURN(Options options, ParseOptions(*context.config));
  return Make(std::move(options), *context.logger);
}

sdk::Result<std::unique_ptr<ProcessExecutor>> ProcessExecutor::Make(Options options,
                                                                    sdk::Logger& logger) {
  SCALEOUT_ASSIGN_OR_RETURN(Sandbox sandbox, MakeSandbox(options));
  return std::make_unique<ProcessExecutor>(std::move(options), logger, std::move(sandbox));
}

int ProcessExecutor::CgroupProcsFd() {
  if (cgroup_ != nullptr) return cgroup_->procs_fd();
  if (!sandbox_.cgroup_place || cgroup_failed_) return -1;
  auto made = PackageCgroup::Make(*sandbox_.cgroup_place);
  if (!made.ok()) {
    cgroup_failed_ = true;  // cgroup = auto: run without one, and say so once
    logger_.Warn("executor/process: packages run without a cgroup: " + made.status().message());
    return -1;
  }
  cgroup_ = std::move(*made);
  return cgroup_->procs_fd();
}

void ProcessExecutor::KillLeftovers(const sdk::TaskSpec& task, sdk::EventSink& events) {
  if (cgroup_ == nullptr || cgroup_->Empty()) return;
  const bool gone = cgroup_->KillAll(kGroupDeathLimitMs);
  events.Emit({sdk::MessageType::kWarning, kSource,
               "the package left processes outside its process group; they were killed"});
  if (!gone) {
    logger_.Warn("executor/process: task " + task.task_id +
                 ": processes in the packages' cgroup survived cgroup.kill");
  }
}

sdk::Status ProcessExecutor::HandOverWorkDir(const std::string& work_dir) const {
  if (!sandbox_.account) return sdk::Status::Ok();
  // The folder is new and the task host's alone (mode 0700): the package's
  // account gets it whole, and only that account (and root) can read it.
  if (::chown(work_dir.c_str(), sandbox_.account->uid, sandbox_.account->gid) != 0) {
    return sdk::Status::PermissionDenied("cannot give the work dir '" + work_dir +
                                         "' to account '" + sandbox_.account->name +
                                         "' (run_as_user): " + std::strerror(errno));
  }
  return sdk::Status::Ok();
}

sdk::Result<sdk::TaskOutcome> ProcessExecutor::Run(const sdk::TaskSpec& task,
                                                   sdk::EventSink& events,
                                                   const sdk::CancellationToken& cancel) {
  if (task.work_dir.empty()) return sdk::Status::InvalidArgument("the task has no work dir");
  const EnvMap& base = environment_.base();
  const auto path = base.find("PATH");
  SCALEOUT_ASSIGN_OR_RETURN(Command command,
                            packages_.Resolve(task, path == base.end() ? "" : path->second));
  std::vector<std::string> task_env;  // what envp's task entries point into
  SCALEOUT_ASSIGN_OR_RETURN(const std::vector<char*> envp,
                            environment_.ForTask(task, command.env, &task_env));
  if (cancel.IsCancelled())
    return sdk::TaskOutcome{sdk::TaskResult::kCancelled, 0, "cancelled before start"};
  SCALEOUT_RETURN_IF_ERROR(HandOverWorkDir(task.work_dir));
  SCALEOUT_ASSIGN_OR_RETURN(ChildProcess child,
                            ChildProcess::Spawn(command.program, command.args, envp.data(),
                                                task.work_dir, sandbox_, CgroupProcsFd()));
  const Masker masker(task.parameters);
  events.Emit({sdk::MessageType::kDiagnostic, kSource,
               "started '" + command.program + "' (pid " + std::to_string(child.pid()) + ")"});
  if (logger_.Enabled(sdk::LogLevel::kDebug)) {  // not built per task for nothing
    logger_.Debug("executor/process: task " + task.task_id + " started pid " +
                  std::to_string(child.pid()));
  }

  OutputPump pump(child, options_.max_line_bytes, events, masker);
  std::optional<SteadyClock::time_point> deadline;
  if (command.timeout_s > 0)
    deadline = SteadyClock::now() + std::chrono::seconds(command.timeout_s);
  StopReason stop = StopReason::kNone;
  SteadyClock::time_point kill_at{};
  bool killed = false;
  while (!child.HasExited()) {
    const auto now = SteadyClock::now();
    if (stop == StopReason::kNone) {
      if (cancel.IsCancelled()) stop = StopReason::kCancelled;
      if (deadline && now >= *deadline) stop = StopReason::kTimedOut;
      if (stop != StopReason::kNone) {
        child.SignalGroup(SIGTERM);
        kill_at = now + milliseconds(options_.kill_grace_ms);
      }
    }
    if (stop != StopReason::kNone && !killed && now >= kill_at) {
      child.SignalGroup(SIGKILL);
      killed = true;
    }
    int wait_ms = kTickMs;
    if (stop == StopReason::kNone && deadline) wait_ms = TickUntil(*deadline);
    if (stop != StopReason::kNone && !killed) wait_ms = TickUntil(kill_at);
    pump.PollOnce(wait_ms);
  }
  // The package has exited: what is left of its group goes too, then we
  // collect the output still in the pipes.
  bool survivors = false;
  const int status = child.KillGroupAndReap(kGroupDeathLimitMs, &survivors);
  if (survivors) {
    logger_.Warn("executor/process: task " + task.task_id +
                 ": processes of the package's group survived SIGKILL");
  }
  KillLeftovers(task, events);
  const auto drain_until = SteadyClock::now() + kDrainLimit;
  while (pump.open() && SteadyClock::now() < drain_until) pump.PollOnce(TickUntil(drain_until));
  pump.Finish();

  sdk::TaskOutcome outcome;
  outcome.exit_code = ExitCodeOf(status);
  const std::string how = DescribeExit(status);
  switch (stop) {
    case StopReason::kCancelled:
      outcome.result = sdk::TaskResult::kCancelled;
      outcome.message = "cancelled: package " + how;
      break;
    case StopReason::kTimedOut:
      outcome.result = sdk::TaskResult::kFailed;
      outcome.message =
          "timed out after " + std::to_string(command.timeout_s) + " s: package " + how;
      break;
    case StopReason::kNone:
      outcome.result = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? sdk::TaskResult::kSucceeded
                                                                     : sdk::TaskResult::kFailed;
      outcome.message = how;
      break;
  }
  return outcome;
}

}  // namespace scaleout::plugins::process
