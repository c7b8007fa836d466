// Agent: the Scale Out Worker service.
//
// It registers with the master (a new worker starts disabled, as in SSIS),
// heartbeats every AgentHeartbeatInterval, asks for work while it has free
// slots and the machine is not busy, runs each task in a task-host child
// process, renews every running task's lease every TaskHeartbeatInterval,
// kills a package whose lease it cannot renew before the master may hand the
// task on, ships the packages' events through a crash-safe spool and reports
// each result with its lease epoch until the master acknowledges it.
//
// A disabled worker still asks for work; the master answers with no task
// (so a worker that is enabled gets work at the next long-poll, without
// waiting for an agent heartbeat).
//
// Threads (each loop body is a public *Once() step so tests can drive the
// agent deterministically without Start()):
//   control    register, then AgentHeartbeatOnce() every AgentHeartbeatInterval
//   poll       PollOnce(): reap ended tasks, long-poll RequestTasks (carrying
//              their results), start the tasks it gets
//   heartbeat  TaskHeartbeatStep(): renews the leases once one of them has
//              gone TaskHeartbeatInterval without a renewal (a claim counts
//              as one)
//   watchdog   WatchdogOnce(): fence deadlines, and reaping while the poll
//              thread waits in a long-poll; never does I/O with the master,
//              so a hanging call cannot delay a kill
//   janitor    SweepTaskFoldersOnce() and SweepProjectCacheOnce() every
//              SweepInterval() of the shorter retention (not started when
//              TaskFolderRetention and ProjectCacheRetention are both 0)
//   shipper    ShipOnce(): results first, then event batches; while results
//              keep it busy, event rounds (a spool seal and a request) are at
//              most one per 50 ms. A result normally rides on the poll
//              thread's next RequestTasks (recorded in the claim's own
//              transaction, so its slot is reused without another round
//              trip); the shipper reports it alone while the poll thread
//              waits in a long-poll, while draining, or once it has waited
//              kResultPiggybackWait
// Each network thread has its own MasterClient (a long-poll must not hold up
// heartbeats). Every wait reads the injected Clock.
//
// Stop(): stops asking for work, lets running tasks finish for up to
// `drain_timeout` while still renewing their leases, then kills what is left
// without reporting it (the master re-queues those when their lease lapses),
// ships the remaining results and events for up to a few seconds, and joins
// every thread. Spooled events not shipped stay on disk for the next start.
//
// Thread-safety: Start() and Stop() from one thread; the *Once() steps are
// safe to call from any thread but tests should not mix them with Start().
#ifndef SCALEOUT_CORE_WORKER_AGENT_H_
#define SCALEOUT_CORE_WORKER_AGENT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/common/clock.h"
#include "core/common/dir_lock.h"
#include "core/protocol/messages.h"
#include "core/worker/event_spool.h"
#include "core/worker/lease_keeper.h"
#include "core/worker/master_client.h"
#include "core/worker/resources.h"
#include "core/worker/settings.h"
#include "core/worker/task_folders.h"
#include "core/worker/task_launcher.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::worker {

// Which agent thread a MasterClient is for (so a factory can, say, give the
// heartbeat client a short call timeout).
enum class MasterChannel { kControl, kPoll, kHeartbeat, kShipper };

using MasterClientFactory = std::function<std::unique_ptr<MasterClient>(MasterChannel)>;

struct AgentDependencies {
  Clock* clock = nullptr;              // required; outlives the agent
  MasterClientFactory master_clients;  // required
  TaskLauncher* launcher = nullptr;    // required; outlives the agent
  ResourceProbe* resources = nullptr;  // required; outlives the agent
};

// What the agent has done, for logs, `scaleout worker` status and tests.
struct AgentStats {
  bool registered = false;
  bool enabled = false;
  int running_tasks = 0;
  std::uint64_t tasks_started = 0;
  std::uint64_t tasks_killed_for_lease = 0;
  std::uint64_t results_reported = 0;
  std::uint64_t results_dropped = 0;
  std::uint64_t event_batches_shipped = 0;
  std::size_t event_batches_waiting = 0;
  std::size_t results_waiting = 0;
  std::uint64_t task_folders_removed = 0;
};

class Agent {
 public:
  // `settings` must have been resolved by LoadWorkerSettings (folders,
  // AgentId). The spool is opened by Start() (or by OpenSpool() in tests).
  Agent(WorkerSettings settings, AgentDependencies deps);
  ~Agent();  // calls Stop() with no drain
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Locks the folders this worker owns (its data dir, TasksRootFolder and
  // ExecutionLogCacheFolder; see dir_lock.h), opens the event spool (loading
  // batches left by a crash) and starts the threads. kFailedPrecondition when
  // called twice, or when another process holds one of the folders.
  sdk::Status Start();
  // See the file comment. Idempotent.
  void Stop(std::chrono::milliseconds drain_timeout = std::chrono::milliseconds(0));
  // Ends a Stop() drain now (a second SIGTERM). Safe from any thread.
  void CancelDrain();

  // ---- single steps (what the threads loop over) ----
  sdk::Status OpenSpool();
  sdk::Status RegisterOnce();
  sdk::Status AgentHeartbeatOnce();
  // Asks for work if the limits allow (waiting up to `wait` for it) and
  // starts every task it gets. Returns the number of tasks started.
  sdk::Result<int> PollOnce(std::chrono::milliseconds wait);
  // Renews every running task's lease now (one batched call).
  sdk::Status TaskHeartbeatOnce();
  // What the heartbeat thread does each time it wakes: TaskHeartbeatOnce()
  // if a lease is due (LeaseKeeper::NextRenewalDue with the task heartbeat
  // interval), then returns how long to sleep before the next step. A lease
  // the claim has just granted is not renewed at once: a short task ends
  // without any renewal.
  std::chrono::milliseconds TaskHeartbeatStep();
  // Enforces fence deadlines and reaps tasks that have ended.
  void WatchdogOnce();
  // Reports waiting results, then ships sealed event batches (sealing the
  // open one first). Stops at the first unreachable-master failure.
  sdk::Status ShipOnce();
  // Removes the folders of ended tasks older than TaskFolderRetention (see
  // task_folders.h); a folder whose task runs here is kept however old.
  // Returns how many it removed; 0 when the retention is 00:00:00.
  std::size_t SweepTaskFoldersOnce();
  // Removes cached project versions (Projects/<id>/<version>/) that no task
  // has used for ProjectCacheRetention and no running task uses (see
  // project_cache.h); returns how many. 0 when the retention is 00:00:00.
  std::size_t SweepProjectCacheOnce();

  AgentStats stats() const;
  // For the service watchdog (core/common/service_watchdog.h): "" while the
  // watchdog thread, which enforces the lease fence, has made a pass within
  // kFenceStallLimit (or the agent is not running), else why not. A stall
  // there means packages could outlive their lease: the process should be
  // replaced.
  std::string FenceHealth() const;
  const WorkerSettings& settings() const { return settings_; }
  // Task ids currently running (tests, logs).
  std::vector<std::string> RunningTaskIds() const;

 private:
  // (project id, project version): a folder of the project cache.
  using ProjectVersion = std::pair<std::int64_t, std::int64_t>;

  struct Task {
    protocol::TaskAssignment assignment;
    std::unique_ptr<TaskProcess> process;
    std::int64_t start_time_ms = 0;  // wall clock, for the result
    bool report_result = true;       // false once another attempt owns it
    std::string end_reason;          // why we cancelled or killed it
  };

  // Thread loops.
  void ControlLoop();
  void PollLoop();
  void HeartbeatLoop();
  void WatchdogLoop();
  void ShipperLoop();
  void JanitorLoop();

  MasterClient& Client(MasterChannel channel);
  // Start(): takes a DirectoryLock on each folder this worker owns.
  sdk::Status LockFolders();
  // Sleeps up to `duration` of clock time; returns early when poked or stopping.
  void Nap(std::atomic<bool>& poke, std::chrono::milliseconds duration);
  // As Nap(), until the clock's SteadyMillis() reaches `steady_deadline`.
  void NapUntil(std::atomic<bool>& poke, std::int64_t steady_deadline);
  // Sets `poke` and wakes the thread that naps on it (only that one).
  void Poke(std::atomic<bool>& poke);
  void PokeAll();

  sdk::Status StartTask(const protocol::TaskAssignment& assignment, std::int64_t granted_send_ms);
  sdk::Result<std::string> EnsureProject(const protocol::TaskAssignment& assignment);
  // The project versions of the tasks in tasks_. Takes mutex_.
  std::set<ProjectVersion> RunningProjectVersions() const;
  void OnTaskEvent(const protocol::TaskAssignment& a, const sdk::Event& event);
  void ApplyLeaseActions(const std::vector<LeaseAction>& actions);
  void QueueResult(const Task& task, const sdk::TaskOutcome& outcome);
  // Moves each ended task's result to pending_results_ (QueueResult) and
  // frees its slot; returns how many ended. Poll and watchdog threads.
  int ReapEndedTasks();
  bool AnyTaskEnded() const;
  // A task host reported its task's end (the launcher's reader thread): wakes
  // the one thread that reaps it (see ReapEndedTasks). Takes no lock.
  void OnTaskExit();
  // Which waiting results a report takes: all of them, or (the shipper
  // thread's own rounds) only those the poll thread will not carry soon:
  // while it waits in a long-poll, while draining, or once they have waited
  // kResultPiggybackWait.
  enum class ResultsToShip { kAll, kNotForThePoll };
  sdk::Status ReportResultsOnce(ResultsToShip which = ResultsToShip::kAll);
  // ShipOnce() with a choice of results, and events only when `events_too`.
  sdk::Status Ship(ResultsToShip which, bool events_too);
  // Marks up to a request's worth of waiting results as in flight and returns
  // them (`only_stale`: those the shipper may take, see ResultsToShip).
  // Requires mutex_.
  std::vector<protocol::TaskResult> TakeResults(bool only_stale);
  // Whether the shipper takes every waiting result now, not only the stale
  // ones: while the poll thread waits in a long-poll, while draining, or
  // when the master does not take results on requests for work.
  bool ShipperTakesAllResults() const;
  // Drops from pending_results_ each result the master recorded or refused
  // for good; the others (no ack, or "try again") wait for the next report.
  // Ends the flight of every result in `sent`. Requires mutex_.
  void ApplyResultAcks(const std::vector<protocol::TaskResult>& sent,
                       const std::vector<protocol::ResultAck>& acks);
  sdk::Status ShipEventsOnce();
  std::chrono::milliseconds TaskHeartbeatInterval() const;
  std::chrono::milliseconds AgentHeartbeatInterval() const;
  std::chrono::milliseconds LongPollWait() const;

  const WorkerSettings settings_;
  AgentDependencies deps_;

  std::mutex clients_mutex_;
  std::map<MasterChannel, std::unique_ptr<MasterClient>> clients_;  // guarded by clients_mutex_

  std::vector<DirectoryLock> folder_locks_;  // held from Start() to destruction
  std::unique_ptr<EventSpool> spool_;
  std::unique_ptr<TaskFolderJanitor> janitor_;  // null when TaskFolderRetention is 0

  mutable std::mutex mutex_;  // guards everything below
  std::map<std::string, Task> tasks_;
  LeaseKeeper leases_;
  // A result waiting for the master's ack. `in_flight` while a request that
  // carries it is out (so the poll and shipper threads never send it twice
  // at once); `queued_ms` is steady clock time.
  struct PendingResult {
    protocol::TaskResult result;
    std::int64_t queued_ms = 0;
    bool in_flight = false;
  };
  std::vector<PendingResult> pending_results_;
  AgentStats stats_;
  std::int64_t master_task_heartbeat_ms_ = 0;   // from RegisterReply, 0 = unknown
  std::int64_t master_agent_heartbeat_ms_ = 0;  // from RegisterReply, 0 = unknown

  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};           // no new work; threads wind down
  std::atomic<std::int64_t> fence_pass_at_{0};  // steady ms of the watchdog thread's last pass
  std::atomic<bool> draining_{false};           // stop asking for work, keep renewing
  std::atomic<bool> drain_cancelled_{false};    // CancelDrain()
  std::atomic<bool> control_poke_{false};
  std::atomic<bool> poll_poke_{false};
  std::atomic<bool> heartbeat_poke_{false};
  std::atomic<bool> watchdog_poke_{false};
  std::atomic<bool> shipper_poke_{false};
  std::atomic<bool> janitor_poke_{false};
  std::atomic<bool> long_poll_out_{false};  // a RequestTasks without results is waiting
  // A task ended since the shipper's last event round: the next round is due
  // within kEventShipGap, not at the shipper's idle interval. Set by
  // OnTaskExit() (which pokes the shipper when it sets it), cleared by the
  // round.
  std::atomic<bool> events_round_wanted_{false};
  // False once the master answered results on a request for work without
  // acks (it predates them); true again after each registration.
  std::atomic<bool> master_takes_results_{true};
  bool poll_carried_results_ = false;  // the last PollOnce reported results (poll thread only)
  // Held by StartTask from finding the task's project version in the cache
  // to launching the task, and by the project-cache sweep while it moves
  // versions aside: a version is never removed under a task being started.
  // Taken before mutex_, never after it.
  std::mutex project_cache_mutex_;
  // Project versions found complete in the cache (guarded by
  // project_cache_mutex_): a cached version never changes, so each is
  // checked on disk once, not once per task. The sweep forgets those it
  // removes. (A cache folder deleted by hand under a running worker is not
  // noticed; its tasks fail with a missing package until the worker restarts.)
  std::set<ProjectVersion> cached_projects_;
  // Versions tasks used since the last project-cache sweep (guarded by
  // project_cache_mutex_): the sweep touches their markers and keeps them.
  std::set<ProjectVersion> projects_used_;
  std::vector<std::thread> threads_;
};

}  // namespace scaleout::core::worker

#endif  // SCALEOUT_CORE_WORKER_AGENT_H_
