#include "core/worker/agent.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "core/common/ids.h"
#include "core/common/thread_name.h"
#include "core/worker/fs_util.h"
#include "core/worker/project_cache.h"

#ifndef SCALEOUT_WORKER_VERSION
#define SCALEOUT_WORKER_VERSION "0.0.0"
#endif

namespace scaleout::core::worker {
namespace {

namespace fs = std::filesystem;
using sdk::Result;
using sdk::Status;
using sdk::StatusCode;
using std::chrono::milliseconds;

constexpr milliseconds kMaxLongPollWait{15'000};
constexpr milliseconds kRetryBackoff{5'000};
constexpr milliseconds kShipInterval{2'000};
// Event rounds are at most this often while results keep the shipper busy:
// each round seals the spool (two fsyncs) and costs a request and a commit at
// the master, so coalescing them saves that per handful of tasks. Results are
// never held back: they free the worker's slots in the catalog.
constexpr milliseconds kEventShipGap{50};
// How long a result may wait for the poll thread to carry it on a request for
// work before the shipper reports it alone.
constexpr milliseconds kResultPiggybackWait{100};
constexpr milliseconds kWatchdogTick{1'000};
// How long the watchdog thread may go without a pass before FenceHealth()
// says the agent is stuck: many ticks, so a busy machine is not mistaken
// for a hung one.
constexpr milliseconds kFenceStallLimit{10 * kWatchdogTick};
constexpr milliseconds kFinalShipBudget{5'000};
// The janitor thread's nice value (Linux nice is per thread).
constexpr int kJanitorNice = 10;

// Logs what a sweep did: how many `what`s it removed from `where`, and how
// many it could not remove.
void LogSweep(const RemovalReport& report, std::string_view what, const std::string& condition,
              const std::string& where, milliseconds next_sweep) {
  if (report.removed > 0) {
    spdlog::info("removed {} {}{} {} from {}", report.removed, what, report.removed == 1 ? "" : "s",
                 condition, where);
  }
  if (report.failed > 0) {
    spdlog::warn(
        "could not remove {} {}{} in {} (first: {}); fix their permissions, the next sweep "
        "retries in {}",
        report.failed, what, report.failed == 1 ? "" : "s", where, report.first_error,
        FormatTimeSpan(next_sweep));
  }
}

std::string HostName() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) return "unknown";
  return host;
}

protocol::TaskOutcome ToWire(sdk::TaskResult result) {
  switch (result) {
    case sdk::TaskResult::kSucceeded: return protocol::TaskOutcome::kSucceeded;
    case sdk::TaskResult::kFailed: return protocol::TaskOutcome::kFailed;
    case sdk::TaskResult::kCancelled: return protocol::TaskOutcome::kCanceled;
  }
  return protocol::TaskOutcome::kFailed;
}

// A project file path from the master must stay inside the cache folder.
bool IsSafeRelativePath(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string::npos ||
      path.find('\0') != std::string::npos) {
    return false;
  }
  for (const auto& part : fs::path(path)) {
    const std::string s = part.string();
    if (s.empty() || s == "." || s == "..") return false;
  }
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string StripKind(const std::string& name, std::string_view kind) {
  const std::string prefix = std::string(kind) + "/";
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

}  // namespace

Agent::Agent(WorkerSettings settings, AgentDependencies deps)
    : settings_(std::move(settings)),
      deps_(std::move(deps)),
      leases_(settings_.heartbeat_error_tolerance.count()) {
  if (deps_.clock != nullptr && settings_.task_folder_retention.count() > 0) {
    janitor_ = std::make_unique<TaskFolderJanitor>(settings_.tasks_root_folder,
                                                   settings_.task_folder_retention, *deps_.clock);
  }
}

Agent::~Agent() { Stop(); }

MasterClient& Agent::Client(MasterChannel channel) {
  std::lock_guard lock(clients_mutex_);
  auto& client = clients_[channel];
  if (!client) client = deps_.master_clients(channel);
  return *client;
}

milliseconds Agent::TaskHeartbeatInterval() const {
  std::lock_guard lock(mutex_);
  milliseconds interval = settings_.task_heartbeat_interval;
  if (master_task_heartbeat_ms_ > 0)
    interval = std::min(interval, milliseconds(master_task_heartbeat_ms_));
  return interval;
}

milliseconds Agent::AgentHeartbeatInterval() const {
  std::lock_guard lock(mutex_);
  milliseconds interval = settings_.agent_heartbeat_interval;
  if (master_agent_heartbeat_ms_ > 0) {
    interval = std::min(interval, milliseconds(master_agent_heartbeat_ms_));
  }
  return interval;
}

milliseconds Agent::LongPollWait() const {
  // Short enough that the first renewal of a lease granted at the end of a
  // long wait still comes well before the fence deadline.
  return std::min(kMaxLongPollWait, settings_.lease_interval / 4);
}

void Agent::Nap(std::atomic<bool>& poke, milliseconds duration) {
  if (stopping_.load()) return;
  if (duration.count() > 0) deps_.clock->SleepFor(duration, poke);
  poke.store(false);
}

void Agent::NapUntil(std::atomic<bool>& poke, std::int64_t steady_deadline) {
  if (stopping_.load()) return;
  deps_.clock->SleepUntil(steady_deadline, poke);
  poke.store(false);
}

void Agent::Poke(std::atomic<bool>& poke) {
  poke.store(true);
  deps_.clock->Wake(poke);
}

void Agent::PokeAll() {
  for (auto* p : {&control_poke_, &poll_poke_, &heartbeat_poke_, &watchdog_poke_, &shipper_poke_,
                  &janitor_poke_}) {
    p->store(true);
  }
  deps_.clock->WakeAll();
}

// ---- Lifecycle ----------------------------------------------------------------

Status Agent::OpenSpool() {
  if (spool_) return Status::Ok();
  EventSpoolOptions options;
  options.folder = settings_.execution_log_cache_folder;
  options.max_events_per_batch =
      static_cast<std::size_t>(settings_.execution_log_max_buffer_log_count);
  options.max_in_memory_batches =
      static_cast<std::size_t>(settings_.execution_log_max_in_memory_buffer_count);
  options.retry_count = settings_.execution_log_retry_count;
  options.retry_timeout = settings_.execution_log_retry_timeout;
  SCALEOUT_ASSIGN_OR_RETURN(spool_, EventSpool::Open(options, *deps_.clock));
  return Status::Ok();
}

Status Agent::LockFolders() {
  std::set<std::string> folders;
  for (const std::string& folder :
       {settings_.data_dir, settings_.tasks_root_folder, settings_.execution_log_cache_folder}) {
    if (!folder.empty()) folders.insert(fs::path(folder).lexically_normal().string());
  }
  for (const std::string& folder : folders) {
    auto lock = DirectoryLock::Acquire(folder, "scaleout process");
    if (!lock.ok()) {
      folder_locks_.clear();
      started_.store(false);
      if (lock.status().code() != sdk::StatusCode::kFailedPrecondition) return lock.status();
      // The agent runs in a worker and, for server mode, in a master.
      return Status::FailedPrecondition(
          lock.status().message() +
          " (a worker's are --data-dir, TasksRootFolder and ExecutionLogCacheFolder; a "
          "master's, DataDir)");
    }
    folder_locks_.push_back(std::move(*lock));
  }
  return Status::Ok();
}

Status Agent::Start() {
  if (!deps_.clock || !deps_.master_clients || !deps_.launcher || !deps_.resources) {
    return Status::InvalidArgument(
        "Agent: clock, master_clients, launcher and resources are required");
  }
  if (started_.exchange(true)) return Status::FailedPrecondition("the agent is already running");
  SCALEOUT_RETURN_IF_ERROR(LockFolders());
  SCALEOUT_RETURN_IF_ERROR(OpenSpool());
  spdlog::info(
      "worker agent {} starting: masters [{}], MaxTaskCount {}, LeaseInterval {}",
      settings_.agent_id,
      [&] {
        std::string s;
        for (const auto& e : settings_.master_endpoints) s += (s.empty() ? "" : ", ") + e;
        return s;
      }(),
      settings_.max_task_count, FormatTimeSpan(settings_.lease_interval));
  fence_pass_at_.store(deps_.clock->SteadyMillis());
  threads_.push_back(NamedThread("control", [this] { ControlLoop(); }));
  threads_.push_back(NamedThread("poll", [this] { PollLoop(); }));
  threads_.push_back(NamedThread("heartbeat", [this] { HeartbeatLoop(); }));
  threads_.push_back(NamedThread("task-watchdog", [this] { WatchdogLoop(); }));
  threads_.push_back(NamedThread("shipper", [this] { ShipperLoop(); }));
  if (janitor_ || settings_.project_cache_retention.count() > 0) {
    threads_.push_back(NamedThread("janitor", [this] { JanitorLoop(); }));
  }
  return Status::Ok();
}

void Agent::Stop(milliseconds drain_timeout) {
  if (draining_.exchange(true)) {
    // A second Stop() (or the destructor after Stop()) only has to join.
  } else {
    PokeAll();
    const bool threaded = started_.load();
    // 1. Drain: running tasks go on (their leases renewed) until they end.
    if (threaded && drain_timeout.count() > 0) {
      const std::int64_t until = deps_.clock->SteadyMillis() + drain_timeout.count();
      while (stats().running_tasks > 0 && deps_.clock->SteadyMillis() < until &&
             !drain_cancelled_.load()) {
        deps_.clock->SleepFor(milliseconds(200), drain_cancelled_);
      }
    }
    // 2. Kill what is left, without a result: the master re-queues those
    //    tasks when their lease lapses (a worker stop is not a package failure).
    std::vector<Task> left;
    {
      std::lock_guard lock(mutex_);
      for (auto& [id, task] : tasks_) {
        spdlog::warn(
            "worker stopping: killing task {} (execution {}); the master re-queues it "
            "when its lease lapses",
            id, task.assignment.execution_id);
        task.report_result = false;
        if (task.process) task.process->Kill();
        leases_.Remove(id);
        left.push_back(std::move(task));
      }
      tasks_.clear();
      stats_.running_tasks = 0;
    }
    for (auto& task : left) {
      if (task.process) (void)task.process->Wait();
    }
    // 3. Ship what can be shipped quickly; the rest stays spooled.
    if (threaded) {
      const std::int64_t until = deps_.clock->SteadyMillis() + kFinalShipBudget.count();
      while (deps_.clock->SteadyMillis() < until) {
        if (!ShipOnce().ok()) break;
        auto s = stats();
        if (s.results_waiting == 0 && s.event_batches_waiting == 0) break;
      }
    }
  }
  stopping_.store(true);
  PokeAll();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  if (spool_) (void)spool_->Seal();
}

void Agent::CancelDrain() {
  drain_cancelled_.store(true);
  deps_.clock->WakeAll();
}

// ---- Thread loops -------------------------------------------------------------

void Agent::ControlLoop() {
  milliseconds backoff{1'000};
  while (!stopping_.load()) {
    if (!stats().registered) {
      Status s = RegisterOnce();
      if (!s.ok()) {
        spdlog::warn("cannot register with the master: {}; retrying in {} s", s.ToString(),
                     backoff.count() / 1000);
        Nap(control_poke_, backoff);
        backoff = std::min(backoff * 2, std::min(AgentHeartbeatInterval(), milliseconds(60'000)));
        continue;
      }
      backoff = milliseconds(1'000);
      Poke(poll_poke_);
    }
    Nap(control_poke_, AgentHeartbeatInterval());
    if (stopping_.load()) break;
    Status s = AgentHeartbeatOnce();
    if (!s.ok()) spdlog::warn("agent heartbeat failed: {}", s.ToString());
  }
}

void Agent::PollLoop() {
  while (!stopping_.load()) {
    if (draining_.load() || !stats().registered) {
      Nap(poll_poke_, milliseconds(1'000));
      continue;
    }
    WorkRequestRound round;
    round.wait = LongPollWait();
    round.retry_backoff = kRetryBackoff;
    const std::int64_t asked_at = deps_.clock->SteadyMillis();
    auto started = PollOnce(round.wait);
    round.took = milliseconds(deps_.clock->SteadyMillis() - asked_at);
    round.carried_results = poll_carried_results_;
    if (!started.ok()) {
      if (!IsUnreachable(started.status()) || stats().registered) {
        spdlog::warn("asking for work failed: {}", started.status().ToString());
      }
      round.failed = true;
    } else {
      round.started = *started;
      round.full = stats().running_tasks >= settings_.max_task_count;
    }
    Nap(poll_poke_, PauseAfterWorkRequest(round));
  }
}

void Agent::HeartbeatLoop() {
  while (!stopping_.load()) Nap(heartbeat_poke_, TaskHeartbeatStep());
}

std::string Agent::FenceHealth() const {
  const std::int64_t last = fence_pass_at_.load();
  if (last == 0 || stopping_.load()) return "";
  const std::int64_t quiet = deps_.clock->SteadyMillis() - last;
  if (quiet <= kFenceStallLimit.count()) return "";
  return "the worker's lease fence (the thread that stops packages whose lease lapsed) has "
         "not run for " +
         std::to_string(quiet) + " ms";
}

void Agent::WatchdogLoop() {
  while (!stopping_.load()) {
    WatchdogOnce();
    fence_pass_at_.store(deps_.clock->SteadyMillis());
    // A deadline, not a duration: time that passes between this reading and
    // the nap is not slept again (as in the shipper). At least 1 ms ahead,
    // so that a deadline already passed (a kill under way) does not spin.
    const std::int64_t now = deps_.clock->SteadyMillis();
    std::int64_t wake_at = now + kWatchdogTick.count();
    {
      std::lock_guard lock(mutex_);
      if (auto next = leases_.NextDeadline()) {
        wake_at = std::min(wake_at, std::max<std::int64_t>(*next, now + 1));
      }
    }
    NapUntil(watchdog_poke_, wake_at);
  }
}

void Agent::JanitorLoop() {
  // Removing folders costs about as much CPU as making them (some 50 us
  // each on ext4): below the threads that dispatch tasks, so a sweep through
  // a backlog uses idle time rather than slowing the tasks down.
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kJanitorNice);
  // The shorter of the two sweeps' intervals (a retention of 0 is off).
  milliseconds interval{3'600'000};
  for (const milliseconds retention :
       {settings_.task_folder_retention, settings_.project_cache_retention}) {
    if (retention.count() > 0) interval = std::min(interval, SweepInterval(retention));
  }
  while (!stopping_.load()) {
    const std::size_t removed = SweepTaskFoldersOnce();
    (void)SweepProjectCacheOnce();
    // A full sweep means more are waiting (a backlog after a long stop):
    // go on after a short pause instead of a whole interval.
    const bool backlog = janitor_ && removed >= janitor_->max_per_sweep();
    Nap(janitor_poke_, backlog ? milliseconds(1'000) : interval);
  }
}

void Agent::ShipperLoop() {
  std::int64_t events_shipped_at = deps_.clock->SteadyMillis() - kEventShipGap.count();
  while (!stopping_.load()) {
    const std::int64_t now = deps_.clock->SteadyMillis();
    const std::int64_t events_due_at = events_shipped_at + kEventShipGap.count();
    const bool events_due = now >= events_due_at;
    if (events_due) events_round_wanted_.store(false);  // this round takes them
    Status s = Ship(ResultsToShip::kNotForThePoll, events_due);
    if (events_due) events_shipped_at = now;
    if (!s.ok()) spdlog::debug("shipping to the master: {}", s.ToString());
    // Results went alone: come back for the events when their round is due
    // (a deadline, so that time passing meanwhile is not slept again).
    if (!events_due && s.ok()) {
      NapUntil(shipper_poke_, events_due_at);
    } else {
      Nap(shipper_poke_, s.ok() ? kShipInterval : kRetryBackoff);
    }
  }
}

// ---- Steps --------------------------------------------------------------------

Status Agent::RegisterOnce() {
  ResourceSample sample = deps_.resources->Sample();
  protocol::RegisterRequest request;
  request.agent_id = settings_.agent_id;
  request.machine_name = HostName();
  request.display_name = settings_.display_name;
  request.description = settings_.description;
  request.max_task_count = settings_.max_task_count;
  request.cpu_count = sample.cpu_count;
  request.total_memory_mb = sample.total_memory_mb;
  request.version = SCALEOUT_WORKER_VERSION;
  SCALEOUT_ASSIGN_OR_RETURN(protocol::RegisterReply reply,
                            Client(MasterChannel::kControl).Register(request));
  {
    std::lock_guard lock(mutex_);
    stats_.registered = true;
    stats_.enabled = reply.enabled;
    master_task_heartbeat_ms_ = reply.task_heartbeat_interval_ms;
    master_agent_heartbeat_ms_ = reply.agent_heartbeat_interval_ms;
  }
  master_takes_results_.store(true);  // perhaps a newer master: try again
  if (reply.enabled) {
    spdlog::info("registered with the master as worker {} (enabled)", settings_.agent_id);
  } else {
    spdlog::warn(
        "registered with the master as worker {}, which is disabled: it gets no work "
        "until enabled ('scaleout manage worker enable {}')",
        settings_.agent_id, settings_.agent_id);
  }
  return Status::Ok();
}

Status Agent::AgentHeartbeatOnce() {
  ResourceSample sample = deps_.resources->Sample();
  protocol::AgentHeartbeatRequest request;
  request.agent_id = settings_.agent_id;
  request.running_tasks = stats().running_tasks;
  request.cpu_percent = std::clamp(sample.cpu_percent, 0.0, 100.0);
  request.free_memory_mb = static_cast<std::int64_t>(sample.free_memory_mb);
  auto reply = Client(MasterChannel::kControl).AgentHeartbeat(request);
  if (!reply.ok()) {
    if (reply.status().code() == StatusCode::kNotFound) {
      std::lock_guard lock(mutex_);
      stats_.registered = false;  // the master lost us: register again
    }
    return reply.status();
  }
  std::lock_guard lock(mutex_);
  if (reply->enabled != stats_.enabled) {
    spdlog::info("worker {} is now {}", settings_.agent_id,
                 reply->enabled ? "enabled" : "disabled");
  }
  stats_.enabled = reply->enabled;
  return Status::Ok();
}

Result<int> Agent::PollOnce(milliseconds wait) {
  poll_carried_results_ = false;
  if (draining_.load()) return 0;
  ReapEndedTasks();  // OnTaskExit() woke us for it, not the watchdog
  const ResourceSample sample = deps_.resources->Sample();
  const WorkLimits limits{settings_.max_task_count, settings_.task_request_max_cpu,
                          settings_.task_request_min_memory_mb};
  const WorkDecision decision = DecideWorkRequest(limits, stats().running_tasks, sample);
  protocol::RequestTasksRequest request;
  request.agent_id = settings_.agent_id;
  if (master_takes_results_.load()) {
    std::lock_guard lock(mutex_);
    request.results = TakeResults(false);
  }
  if (!decision.ask) {
    spdlog::debug("not asking for work: {}", decision.reason);
    if (request.results.empty()) return 0;
    // Still report what ended: a request for no task is answered at once.
  } else {
    request.free_slots = decision.free_slots;
  }
  // A request that carries results is answered at once (the master records
  // them first): the next request, without them, is the long-poll.
  request.wait_ms = request.results.empty() ? wait.count() : 0;
  poll_carried_results_ = !request.results.empty();
  const std::int64_t sent = deps_.clock->SteadyMillis();
  if (request.results.empty()) {
    long_poll_out_.store(true);
    // A result queued after TakeResults() above, by a watchdog that saw no
    // long-poll yet and so left the shipper asleep, is the shipper's now;
    // a task that ended since ReapEndedTasks() above woke only this thread,
    // which is about to wait: the watchdog reaps it instead.
    bool results_waiting = false;
    {
      std::lock_guard lock(mutex_);
      results_waiting = !pending_results_.empty();
    }
    if (results_waiting) Poke(shipper_poke_);
    if (AnyTaskEnded()) Poke(watchdog_poke_);
  }
  auto reply = Client(MasterChannel::kPoll).RequestTasks(request);
  long_poll_out_.store(false);
  if (!request.results.empty()) {
    std::lock_guard lock(mutex_);
    ApplyResultAcks(request.results,
                    reply.ok() ? reply->result_acks : std::vector<protocol::ResultAck>{});
  }
  if (reply.ok() && !request.results.empty() && reply->result_acks.empty()) {
    // A master that predates results on requests for work: report alone.
    spdlog::info("the master does not take results with requests for work; reporting them alone");
    master_takes_results_.store(false);
  }
  if (!reply.ok()) {
    if (reply.status().code() == StatusCode::kNotFound) {
      std::lock_guard lock(mutex_);
      stats_.registered = false;
    }
    return reply.status();
  }
  int started = 0;
  for (const auto& assignment : reply->tasks) {
    if (draining_.load()) {
      spdlog::warn(
          "got task {} while stopping; not started (the master re-queues it when its "
          "lease lapses)",
          assignment.task_id);
      continue;
    }
    Status s = StartTask(assignment, sent);
    if (s.ok()) {
      ++started;
      continue;
    }
    spdlog::error("cannot start task {} (execution {}): {}", assignment.task_id,
                  assignment.execution_id, s.ToString());
    if (s.code() == StatusCode::kAlreadyExists) continue;
    // Report the failure now rather than let the lease lapse.
    Task failed;
    failed.assignment = assignment;
    failed.start_time_ms = deps_.clock->NowUnixMillis();
    std::lock_guard lock(mutex_);
    QueueResult(failed, sdk::TaskOutcome{sdk::TaskResult::kFailed, -1,
                                         "the worker could not start the task: " + s.message()});
  }
  if (started > 0) {
    // The claim granted the new leases, so they need no renewal yet; the
    // heartbeat thread only recomputes when the next one is due (at once if
    // a long-poll held the claim back for a whole heartbeat interval).
    Poke(heartbeat_poke_);
  }
  return started;
}

Result<std::string> Agent::EnsureProject(const protocol::TaskAssignment& a) {
  std::error_code ec;
  const fs::path cache(settings_.project_cache_folder);
  if (a.project_id <= 0) {
    const fs::path none = cache / "none";
    if (cached_projects_.count({0, 0}) == 0) {
      fs::create_directories(none, ec);
      if (!ec) cached_projects_.insert({0, 0});
    }
    return none.string();
  }
  const fs::path dir = cache / std::to_string(a.project_id) / std::to_string(a.project_version);
  const auto version = std::make_pair(a.project_id, a.project_version);
  projects_used_.insert(version);
  if (cached_projects_.count(version) != 0) return dir.string();
  if (fs::exists(dir / kProjectCompleteMarker, ec)) {
    cached_projects_.insert(version);
    return dir.string();
  }

  protocol::GetProjectRequest request;
  request.agent_id = settings_.agent_id;
  request.project_id = a.project_id;
  request.project_version = a.project_version;
  SCALEOUT_ASSIGN_OR_RETURN(protocol::GetProjectReply reply,
                            Client(MasterChannel::kPoll).GetProject(request));
  // Build it beside the final folder and rename it into place, so a crash
  // never leaves a half-written project that looks complete.
  const fs::path tmp = dir.parent_path() / (".tmp-" + NewGuid());
  fs::create_directories(tmp, ec);
  if (ec) return Status::Unavailable("cannot create " + tmp.string() + ": " + ec.message());
  auto fail = [&](Status s) {
    fs::remove_all(tmp, ec);
    return s;
  };
  for (const auto& file : reply.files) {
    if (!IsSafeRelativePath(file.path)) {
      return fail(Status::InvalidArgument("project file path '" + file.path +
                                          "' leaves the project folder"));
    }
    const std::string digest = Sha256Hex(file.content);
    if (!EqualsIgnoreCase(digest, file.sha256)) {
      return fail(Status::DataLoss("project " + std::to_string(a.project_id) + " version " +
                                   std::to_string(a.project_version) + ": file '" + file.path +
                                   "' has SHA-256 " + digest + ", the master said " + file.sha256));
    }
    const fs::path target = tmp / file.path;
    fs::create_directories(target.parent_path(), ec);
    // The catalog keeps no file modes and packages are programs the
    // executor runs, so project files are executable by their owner.
    Status written = WriteFileAtomically(target, file.content, 0755);
    if (!written.ok()) return fail(written);
  }
  Status marked = WriteFileAtomically(tmp / kProjectCompleteMarker, "");
  if (!marked.ok()) return fail(marked);
  fs::rename(tmp, dir, ec);
  if (ec) {
    // Another copy got there first (or an incomplete one is in the way).
    if (fs::exists(dir / kProjectCompleteMarker)) {
      fs::remove_all(tmp, ec);
      cached_projects_.insert(version);
      return dir.string();
    }
    fs::remove_all(dir, ec);
    fs::rename(tmp, dir, ec);
    if (ec) return fail(Status::Unavailable("cannot move the project into " + dir.string()));
  }
  spdlog::info("cached project {} version {} ({} files)", a.project_id, a.project_version,
               reply.files.size());
  cached_projects_.insert(version);
  return dir.string();
}

Status Agent::StartTask(const protocol::TaskAssignment& a, std::int64_t granted_send_ms) {
  {
    std::lock_guard lock(mutex_);
    if (tasks_.count(a.task_id) != 0) {
      return Status::AlreadyExists("task " + a.task_id + " is already running here");
    }
  }
  // Until the task is launched: the project-cache sweep must not remove
  // the version between here and there.
  std::lock_guard project_lock(project_cache_mutex_);
  SCALEOUT_ASSIGN_OR_RETURN(std::string project_dir, EnsureProject(a));
  const fs::path work_dir = fs::path(settings_.tasks_root_folder) / a.task_id;
  // The task host creates work_dir (core/taskhost/work_dir.h).

  TaskLaunch launch;
  launch.spec.execution_id = a.execution_id;
  launch.spec.task_id = a.task_id;
  launch.spec.attempt = a.attempt;
  launch.spec.project_dir = project_dir;
  launch.spec.package_name = a.package_name;
  launch.spec.work_dir = work_dir.string();
  launch.spec.logging_level = a.logging_level;
  for (const auto& p : a.parameters) {
    launch.spec.parameters.push_back(
        sdk::ExecutionParameter{static_cast<sdk::ParameterObjectType>(p.object_type), p.name,
                                p.value, p.data_type, p.sensitive});
  }
  launch.executor =
      StripKind(a.executor.empty() ? settings_.plugins.executor : a.executor, "executor");
  launch.executor_config = settings_.PluginSection("executor." + launch.executor);
  launch.log_file = settings_.task_log_enabled ? (work_dir / "task.log").string() : "";
  launch.log_level = static_cast<std::uint32_t>(settings_.task_log_level);

  TaskCallbacks callbacks;
  callbacks.on_event = [this, a](const sdk::Event& event) { OnTaskEvent(a, event); };
  callbacks.on_exit = [this] { OnTaskExit(); };

  // The lock is held across Launch() so the lease logic never sees a task
  // without its process; the launcher's callbacks do not take it.
  std::lock_guard lock(mutex_);
  leases_.Add(a.task_id, a.lease_epoch, a.lease_interval_ms, granted_send_ms);
  auto process = deps_.launcher->Launch(launch, std::move(callbacks));
  if (!process.ok()) {
    leases_.Remove(a.task_id);
    return process.status();
  }
  Task task;
  task.assignment = a;
  task.process = std::move(*process);
  task.start_time_ms = deps_.clock->NowUnixMillis();
  tasks_.emplace(a.task_id, std::move(task));
  ++stats_.tasks_started;
  stats_.running_tasks = static_cast<int>(tasks_.size());
  // At debug: the line at the task's end says all of it at info (one line
  // per task in the worker's log, not two, at thousands of tasks a second).
  spdlog::debug("started task {} (execution {}, attempt {}, epoch {}, package '{}', executor {})",
                a.task_id, a.execution_id, a.attempt, a.lease_epoch, a.package_name,
                launch.executor);
  return Status::Ok();
}

void Agent::OnTaskEvent(const protocol::TaskAssignment& a, const sdk::Event& event) {
  if (!spool_) return;
  // The execution's LOGGING_LEVEL decides what reaches the catalog (a
  // package's diagnostic lines still reach its task log, by TaskLogLevel).
  if (!protocol::EventRecordedAtLoggingLevel(a.logging_level,
                                             static_cast<std::int32_t>(event.message_type))) {
    return;
  }
  protocol::EventMessage m;
  m.execution_id = a.execution_id;
  m.task_id = a.task_id;
  m.message_type = static_cast<std::int32_t>(event.message_type);
  m.message_source = event.message_source;
  m.message = event.message;
  Status s = spool_->Append(std::move(m));
  if (!s.ok()) spdlog::error("event of task {} lost: {}", a.task_id, s.ToString());
}

Status Agent::TaskHeartbeatOnce() {
  protocol::TaskHeartbeatRequest request;
  request.agent_id = settings_.agent_id;
  std::int64_t sent = 0;
  {
    std::lock_guard lock(mutex_);
    request.tasks = leases_.LeasesToRenew();
    if (request.tasks.empty()) return Status::Ok();
    sent = deps_.clock->SteadyMillis();
    leases_.OnRenewalSent(sent);
  }
  auto reply = Client(MasterChannel::kHeartbeat).TaskHeartbeat(request);
  std::lock_guard lock(mutex_);
  if (!reply.ok()) {
    ApplyLeaseActions(
        leases_.OnHeartbeatFailure(sent, deps_.clock->SteadyMillis(), reply.status()));
    return reply.status();
  }
  ApplyLeaseActions(leases_.OnHeartbeatReply(sent, *reply));
  return Status::Ok();
}

milliseconds Agent::TaskHeartbeatStep() {
  const milliseconds interval = TaskHeartbeatInterval();
  auto due = [&] {
    std::lock_guard lock(mutex_);
    return leases_.NextRenewalDue(interval.count());
  };
  if (auto next = due(); next && *next <= deps_.clock->SteadyMillis()) {
    Status s = TaskHeartbeatOnce();
    if (!s.ok()) spdlog::warn("task heartbeat failed: {}", s.ToString());
  }
  // Without leases, sleep a whole interval: a task that starts pokes us.
  const auto next = due();
  if (!next) return interval;
  const std::int64_t wait = *next - deps_.clock->SteadyMillis();
  return milliseconds(std::clamp<std::int64_t>(wait, 0, interval.count()));
}

void Agent::ApplyLeaseActions(const std::vector<LeaseAction>& actions) {
  for (const auto& action : actions) {
    auto it = tasks_.find(action.task_id);
    if (it == tasks_.end()) continue;
    Task& task = it->second;
    task.end_reason = action.reason;
    if (!action.report_result) task.report_result = false;
    if (action.kind == LeaseAction::Kind::kCancel) {
      spdlog::info("cancelling task {}: {}", action.task_id, action.reason);
      task.process->Cancel();
    } else {
      spdlog::warn("killing task {}: {}", action.task_id, action.reason);
      if (action.report_result) ++stats_.tasks_killed_for_lease;
      task.process->Kill();
    }
  }
  if (!actions.empty()) Poke(watchdog_poke_);
}

void Agent::WatchdogOnce() {
  {
    std::lock_guard lock(mutex_);
    ApplyLeaseActions(leases_.CheckDeadlines(deps_.clock->SteadyMillis()));
  }
  if (ReapEndedTasks() == 0) return;
  // The slot is free here, but not yet in the catalog, which counts the task
  // as running until its result commits. The poll thread carries the result
  // on its next request for work, which the master records before it
  // claims; the shipper reports it alone if the poll thread cannot (see
  // ResultsToShip). Waking the shipper otherwise would find nothing for it
  // to take: a thread switch per ended task for nothing. (If the poll thread
  // starts a long-poll just after this check, it pokes the shipper itself.)
  Poke(poll_poke_);
  if (ShipperTakesAllResults()) Poke(shipper_poke_);
}

int Agent::ReapEndedTasks() {
  std::vector<Task> ended;
  {
    std::lock_guard lock(mutex_);
    for (auto it = tasks_.begin(); it != tasks_.end();) {
      if (it->second.process->Done()) {
        leases_.Remove(it->first);
        ended.push_back(std::move(it->second));
        it = tasks_.erase(it);
      } else {
        ++it;
      }
    }
    stats_.running_tasks = static_cast<int>(tasks_.size());
  }
  for (auto& task : ended) {
    const sdk::TaskOutcome outcome = task.process->Wait();  // Done(): does not block
    std::lock_guard lock(mutex_);
    QueueResult(task, outcome);
  }
  return static_cast<int>(ended.size());
}

bool Agent::AnyTaskEnded() const {
  std::lock_guard lock(mutex_);
  return std::any_of(tasks_.begin(), tasks_.end(),
                     [](const auto& entry) { return entry.second.process->Done(); });
}

void Agent::OnTaskExit() {
  // The poll thread reaps at the start of its next round, which comes at
  // once when it is not waiting in a long-poll: one thread woken per ended
  // task, and only one that had to wake anyway to report the result. While
  // it waits (or while draining) the watchdog reaps and wakes the shipper.
  if (long_poll_out_.load() || draining_.load()) {
    Poke(watchdog_poke_);
  } else {
    Poke(poll_poke_);
  }
  // The task's events reach the catalog within an event round of its end,
  // even when its result went with a request for work and nothing else
  // wakes the shipper: at most one poke per round, however many tasks end.
  if (!events_round_wanted_.exchange(true)) Poke(shipper_poke_);
}

void Agent::QueueResult(const Task& task, const sdk::TaskOutcome& outcome) {
  const auto& a = task.assignment;
  if (!task.report_result) {
    spdlog::warn("task {} (epoch {}) ended; its result is not reported: {}", a.task_id,
                 a.lease_epoch, task.end_reason);
    ++stats_.results_dropped;
    return;
  }
  protocol::TaskResult result;
  result.task_id = a.task_id;
  result.lease_epoch = a.lease_epoch;
  result.result = ToWire(outcome.result);
  result.exit_code = outcome.exit_code;
  result.message = outcome.message;
  // A lease kill is a failure of the attempt (the master may retry it), not
  // a user cancel: say why.
  if (!task.end_reason.empty() && outcome.result != sdk::TaskResult::kSucceeded &&
      task.end_reason.rfind("stop requested", 0) != 0) {
    result.result = protocol::TaskOutcome::kFailed;
    result.message = "killed by the worker: " + task.end_reason;
  }
  result.start_time_ms = task.start_time_ms;
  result.end_time_ms = std::max(task.start_time_ms, deps_.clock->NowUnixMillis());
  spdlog::info(
      "task {} (execution {}, attempt {}, package '{}') ended after {} ms: {} (exit code {}){}",
      a.task_id, a.execution_id, a.attempt, a.package_name,
      result.end_time_ms - result.start_time_ms, protocol::TaskOutcomeName(result.result),
      result.exit_code, result.message.empty() ? "" : ": " + result.message);
  pending_results_.push_back(PendingResult{std::move(result), deps_.clock->SteadyMillis()});
}

bool Agent::ShipperTakesAllResults() const {
  return draining_.load() || long_poll_out_.load() || !master_takes_results_.load();
}

std::vector<protocol::TaskResult> Agent::TakeResults(bool only_stale) {
  const std::int64_t now = deps_.clock->SteadyMillis();
  const bool shipper_may_take_all = ShipperTakesAllResults();
  std::vector<protocol::TaskResult> taken;
  for (PendingResult& p : pending_results_) {
    if (taken.size() >= 1000) break;  // DecodeLimits::max_tasks_per_reply
    if (p.in_flight) continue;
    if (only_stale && !shipper_may_take_all && now - p.queued_ms < kResultPiggybackWait.count()) {
      continue;
    }
    p.in_flight = true;
    taken.push_back(p.result);
  }
  return taken;
}

Status Agent::ReportResultsOnce(ResultsToShip which) {
  protocol::ReportResultsRequest request;
  request.agent_id = settings_.agent_id;
  {
    std::lock_guard lock(mutex_);
    request.results = TakeResults(which == ResultsToShip::kNotForThePoll);
  }
  if (request.results.empty()) return Status::Ok();
  auto reply = Client(MasterChannel::kShipper).ReportResults(request);
  {
    std::lock_guard lock(mutex_);
    ApplyResultAcks(request.results,
                    reply.ok() ? reply->results : std::vector<protocol::ResultAck>{});
  }
  if (!reply.ok()) return reply.status();
  // The master has recorded these results, so their slots are free in the
  // catalog too: ask for work now.
  Poke(poll_poke_);
  return Status::Ok();
}

void Agent::ApplyResultAcks(const std::vector<protocol::TaskResult>& sent,
                            const std::vector<protocol::ResultAck>& acks) {
  for (const auto& ack : acks) {
    auto it = std::find_if(pending_results_.begin(), pending_results_.end(),
                           [&](const PendingResult& p) { return p.result.task_id == ack.task_id; });
    if (it == pending_results_.end()) continue;
    const protocol::TaskResult& r = it->result;
    switch (ack.code) {
      case StatusCode::kOk:
        ++stats_.results_reported;
        pending_results_.erase(it);
        break;
      case StatusCode::kAborted:
      case StatusCode::kNotFound:
      case StatusCode::kInvalidArgument:
      case StatusCode::kFailedPrecondition:
        // Retrying cannot change the answer: a stale epoch means another
        // attempt owns the task now.
        spdlog::warn("result of task {} (epoch {}) dropped: the master answered {}: {}", r.task_id,
                     r.lease_epoch, sdk::StatusCodeName(ack.code), ack.message);
        ++stats_.results_dropped;
        pending_results_.erase(it);
        break;
      default:
        spdlog::warn("result of task {} not recorded yet ({}: {}); will retry", r.task_id,
                     sdk::StatusCodeName(ack.code), ack.message);
        break;
    }
  }
  // What is left of `sent` (no ack, or one that asks for a retry) may go again.
  for (const auto& r : sent) {
    auto it = std::find_if(pending_results_.begin(), pending_results_.end(),
                           [&](const PendingResult& p) { return p.result.task_id == r.task_id; });
    if (it != pending_results_.end()) it->in_flight = false;
  }
}

Status Agent::ShipEventsOnce() {
  if (!spool_) return Status::Ok();
  SCALEOUT_RETURN_IF_ERROR(spool_->Seal());
  spool_->DropExpired();
  while (true) {
    SCALEOUT_ASSIGN_OR_RETURN(std::optional<EventBatch> batch, spool_->Next());
    if (!batch) return Status::Ok();
    protocol::ReportEventsRequest request;
    request.agent_id = settings_.agent_id;
    request.batch_id = batch->batch_id;
    request.events = std::move(batch->events);
    auto reply = Client(MasterChannel::kShipper).ReportEvents(request);
    if (!reply.ok()) {
      if (IsUnreachable(reply.status())) return reply.status();
      if (!spool_->RecordRefusal(request.batch_id, reply.status().ToString())) {
        return reply.status();
      }
      continue;  // dropped for good: go on with the next batch
    }
    if (!reply->accepted) {
      if (!spool_->RecordRefusal(request.batch_id, "the master did not accept the batch")) {
        return Status::Unavailable("the master did not accept event batch " + request.batch_id);
      }
      continue;
    }
    (void)spool_->Acknowledge(request.batch_id);
    std::lock_guard lock(mutex_);
    ++stats_.event_batches_shipped;
  }
}

Status Agent::ShipOnce() { return Ship(ResultsToShip::kAll, /*events_too=*/true); }

Status Agent::Ship(ResultsToShip which, bool events_too) {
  // Results first: they wait for nothing local, while sealing the open event
  // batch costs two fsyncs. The master records events after the result
  // either way (they were always shipped second).
  Status results = ReportResultsOnce(which);
  if (!events_too) return results;
  // Sealed even while the master is away, so the events are fsynced.
  if (spool_) {
    Status sealed = spool_->Seal();
    if (!sealed.ok()) spdlog::error("event spool: {}", sealed.ToString());
  }
  if (!results.ok() && IsUnreachable(results)) return results;
  Status events = ShipEventsOnce();
  return results.ok() ? events : results;
}

std::size_t Agent::SweepTaskFoldersOnce() {
  if (!janitor_) return 0;
  const std::vector<std::string> expired = janitor_->FindExpired();
  // Checked and moved aside under the task lock, so a task started with one
  // of these ids after the check gets a fresh folder; in chunks, so that
  // StartTask never waits long behind a big sweep.
  constexpr std::size_t kChunk = 64;
  for (std::size_t begin = 0; begin < expired.size(); begin += kChunk) {
    const std::size_t end = std::min(expired.size(), begin + kChunk);
    std::lock_guard lock(mutex_);
    for (std::size_t i = begin; i < end; ++i) {
      if (tasks_.count(expired[i]) == 0) (void)janitor_->Detach(expired[i]);
    }
  }
  const RemovalReport report = janitor_->RemoveDetached();
  LogSweep(report, "task folder",
           "unchanged for " + FormatTimeSpan(settings_.task_folder_retention),
           janitor_->tasks_root(), janitor_->interval());
  std::lock_guard lock(mutex_);
  stats_.task_folders_removed += report.removed;
  return report.removed;
}

std::set<Agent::ProjectVersion> Agent::RunningProjectVersions() const {
  std::set<ProjectVersion> running;
  std::lock_guard lock(mutex_);
  for (const auto& [task_id, task] : tasks_) {
    running.insert({task.assignment.project_id, task.assignment.project_version});
  }
  return running;
}

std::size_t Agent::SweepProjectCacheOnce() {
  const milliseconds retention = settings_.project_cache_retention;
  if (retention.count() <= 0) return 0;
  const fs::path cache(settings_.project_cache_folder);
  // Used since the last sweep, or by a task still running: marked used now,
  // so a version's retention counts from its last use, across restarts too.
  std::set<ProjectVersion> used;
  {
    std::lock_guard project_lock(project_cache_mutex_);
    used.swap(projects_used_);
    used.merge(RunningProjectVersions());
  }
  const std::int64_t now_ms = deps_.clock->NowUnixMillis();
  for (const auto& [id, version] : used) {
    MarkProjectVersionUsed(cache / std::to_string(id) / std::to_string(version), now_ms);
  }
  const std::vector<CachedProjectVersion> stale =
      FindStaleProjectVersions(cache, now_ms - retention.count());
  {
    // Every task started so far is in tasks_: StartTask holds this lock
    // until its task is.
    std::lock_guard project_lock(project_cache_mutex_);
    const std::set<ProjectVersion> running = RunningProjectVersions();
    for (const CachedProjectVersion& s : stale) {
      const auto version = std::make_pair(s.project_id, s.project_version);
      if (running.count(version) != 0 || projects_used_.count(version) != 0) continue;
      if (DetachFolder(s.dir)) cached_projects_.erase(version);
    }
  }
  RemovalReport report;
  std::vector<fs::path> projects;
  ForEachEntry(cache, [&](const fs::directory_entry& project) {
    std::error_code ec;
    if (!project.is_directory(ec) || project.path().filename() == "none") return;
    const RemovalReport here = RemoveDetachedIn(project.path());
    report.removed += here.removed;
    report.failed += here.failed;
    if (report.first_error.empty()) report.first_error = here.first_error;
    projects.push_back(project.path());
  });
  {
    // A project folder left empty goes too; under the lock, so that a fetch
    // never finds its project's folder removed between making it and using it.
    std::lock_guard project_lock(project_cache_mutex_);
    for (const fs::path& project : projects) {
      std::error_code not_empty;
      fs::remove(project, not_empty);
    }
  }
  LogSweep(report, "cached project version", "unused for " + FormatTimeSpan(retention),
           cache.string(), SweepInterval(retention));
  return report.removed;
}

AgentStats Agent::stats() const {
  std::lock_guard lock(mutex_);
  AgentStats s = stats_;
  s.results_waiting = pending_results_.size();
  s.event_batches_waiting = spool_ ? spool_->sealed_batches() : 0;
  return s;
}

std::vector<std::string> Agent::RunningTaskIds() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  for (const auto& [id, task] : tasks_) ids.push_back(id);
  return ids;
}

}  // namespace scaleout::core::worker
