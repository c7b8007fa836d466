// The agent against a master double at the MasterClient seam: registration,
// enabling, work requests, leases, results with their epoch, event batches.
// Time is a ManualClock and the agent is driven step by step (no Start()),
// so nothing depends on how fast the machine is; one test runs the threads,
// still on the ManualClock, to show a wake-up between them.
#include "core/worker/agent.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "core/common/ids.h"
#include "core/worker/fs_util.h"

namespace scaleout::core::worker {
namespace {

namespace fs = std::filesystem;
using sdk::Result;
using sdk::Status;
using std::chrono::milliseconds;

// ---- A master double --------------------------------------------------------

class FakeMaster {
 public:
  enum class HeartbeatMode { kRenew, kUnreachable, kStale, kStop };

  std::mutex mutex;
  bool reachable = true;
  bool enabled = false;
  HeartbeatMode heartbeat_mode = HeartbeatMode::kRenew;
  sdk::StatusCode result_code = sdk::StatusCode::kOk;
  std::vector<protocol::TaskAssignment> queue;  // handed out to an enabled worker
  std::map<std::int64_t, protocol::GetProjectReply> projects;

  std::function<void()> on_request_tasks;  // runs inside RequestTasks (a long-poll's wait)
  // Whether RequestTasks records the results it carries (a master that
  // predates them ignores them and sends no acks).
  bool results_on_requests = true;
  int report_results_calls = 0;

  int registrations = 0;
  std::vector<protocol::RequestTasksRequest> task_requests;
  std::vector<protocol::TaskHeartbeatRequest> task_heartbeats;
  std::vector<protocol::TaskResult> results;   // recorded (acked kOk)
  std::set<std::string> batches;               // recorded batch ids
  std::vector<protocol::EventMessage> events;  // recorded events, no duplicates
  int replayed_batches = 0;

  Status Down() const { return Status::Unavailable("connection refused (test master is down)"); }
  // Acks `sent` with result_code, recording them when it is kOk. Requires mutex.
  std::vector<protocol::ResultAck> Record(const std::vector<protocol::TaskResult>& sent) {
    std::vector<protocol::ResultAck> acks;
    for (const auto& result : sent) {
      acks.push_back({result.task_id, result_code, ""});
      if (result_code == sdk::StatusCode::kOk) results.push_back(result);
    }
    return acks;
  }
};

class FakeMasterClient final : public MasterClient {
 public:
  explicit FakeMasterClient(FakeMaster& m) : m_(m) {}

  Result<protocol::RegisterReply> Register(const protocol::RegisterRequest& r) override {
    std::lock_guard lock(m_.mutex);
    if (!m_.reachable) return m_.Down();
    ++m_.registrations;
    protocol::RegisterReply reply;
    reply.agent_id = r.agent_id;
    reply.enabled = m_.enabled;
    return reply;
  }
  Result<protocol::AgentHeartbeatReply> AgentHeartbeat(
      const protocol::AgentHeartbeatRequest&) override {
    std::lock_guard lock(m_.mutex);
    if (!m_.reachable) return m_.Down();
    return protocol::AgentHeartbeatReply{m_.enabled};
  }
  Result<protocol::RequestTasksReply> RequestTasks(
      const protocol::RequestTasksRequest& r) override {
    std::lock_guard lock(m_.mutex);
    if (!m_.reachable) return m_.Down();
    m_.task_requests.push_back(r);
    if (m_.on_request_tasks) m_.on_request_tasks();
    protocol::RequestTasksReply reply;
    if (m_.results_on_requests) reply.result_acks = m_.Record(r.results);
    while (m_.enabled && !m_.queue.empty() && static_cast<int>(reply.tasks.size()) < r.free_slots) {
      reply.tasks.push_back(m_.queue.front());
      m_.queue.erase(m_.queue.begin());
    }
    return reply;
  }
  Result<protocol::GetProjectReply> GetProject(const protocol::GetProjectRequest& r) override {
    std::lock_guard lock(m_.mutex);
    if (!m_.reachable) return m_.Down();
    auto it = m_.projects.find(r.project_id);
    if (it == m_.projects.end()) return Status::NotFound("peer: no project");
    return it->second;
  }
  Result<protocol::TaskHeartbeatReply> TaskHeartbeat(
      const protocol::TaskHeartbeatRequest& r) override {
    std::lock_guard lock(m_.mutex);
    if (!m_.reachable || m_.heartbeat_mode == FakeMaster::HeartbeatMode::kUnreachable) {
      return m_.Down();
    }
    m_.task_heartbeats.push_back(r);
    protocol::TaskHeartbeatReply reply;
    for (const auto& lease : r.tasks) {
      protocol::LeaseStatus status = protocol::LeaseStatus::kRenewed;
      if (m_.heartbeat_mode == FakeMaster::HeartbeatMode::kStale) {
        status = protocol::LeaseStatus::kStale;
      }
      if (m_.heartbeat_mode == FakeMaster::HeartbeatMode::kStop) {
        status = protocol::LeaseStatus::kStopRequested;
      }
      reply.tasks.push_back({lease.task_id, status, 0});
    }
    return reply;
  }
  Result<protocol::ReportEventsReply> ReportEvents(
      const protocol::ReportEventsRequest& r) override {
    std::lock_guard lock(m_.mutex);
    if (!m_.reachable) return m_.Down();
    if (!m_.batches.insert(r.batch_id).second) {
      ++m_.replayed_batches;  // recorded once; a replay changes nothing
      return protocol::ReportEventsReply{true};
    }
    m_.events.insert(m_.events.end(), r.events.begin(), r.events.end());
    return protocol::ReportEventsReply{true};
  }
  Result<protocol::ReportResultsReply> ReportResults(
      const protocol::ReportResultsRequest& r) override {
    std::lock_guard lock(m_.mutex);
    if (!m_.reachable) return m_.Down();
    ++m_.report_results_calls;
    protocol::ReportResultsReply reply;
    reply.results = m_.Record(r.results);
    return reply;
  }

 private:
  FakeMaster& m_;
};

// ---- A launcher double (for the lease logic) ---------------------------------

class FakeProcess final : public TaskProcess {
 public:
  explicit FakeProcess(TaskCallbacks callbacks) : callbacks_(std::move(callbacks)) {}
  void Cancel() override { End(sdk::TaskResult::kCancelled, "cancelled", &cancelled); }
  void Kill() override { End(sdk::TaskResult::kCancelled, "killed", &killed); }
  bool Done() const override { return done.load(); }
  sdk::TaskOutcome Wait() override { return outcome; }
  void Finish(sdk::TaskResult result, int exit_code) {
    outcome = {result, exit_code, "finished"};
    done = true;
    if (callbacks_.on_exit) callbacks_.on_exit();
  }
  void Emit(const std::string& message, sdk::MessageType type = sdk::MessageType::kInformation) {
    callbacks_.on_event(sdk::Event{type, "stdout", message});
  }

  std::atomic<bool> done{false};
  std::atomic<bool> cancelled{false};
  std::atomic<bool> killed{false};
  sdk::TaskOutcome outcome;

 private:
  void End(sdk::TaskResult result, const char* message, std::atomic<bool>* flag) {
    *flag = true;
    if (done) return;
    outcome = {result, -1, message};
    done = true;
  }
  TaskCallbacks callbacks_;
};

// What the agent owns: a handle on a FakeProcess the launcher keeps, so a
// test can still read the flags of a task the agent has already reaped.
class FakeProcessHandle final : public TaskProcess {
 public:
  explicit FakeProcessHandle(std::shared_ptr<FakeProcess> process) : process_(std::move(process)) {}
  void Cancel() override { process_->Cancel(); }
  void Kill() override { process_->Kill(); }
  bool Done() const override { return process_->Done(); }
  sdk::TaskOutcome Wait() override { return process_->Wait(); }

 private:
  std::shared_ptr<FakeProcess> process_;
};

class FakeLauncher final : public TaskLauncher {
 public:
  Result<std::unique_ptr<TaskProcess>> Launch(const TaskLaunch& launch,
                                              TaskCallbacks callbacks) override {
    launches.push_back(launch);
    auto process = std::make_shared<FakeProcess>(std::move(callbacks));
    processes.push_back(process.get());
    kept_.push_back(process);
    return std::unique_ptr<TaskProcess>(std::make_unique<FakeProcessHandle>(std::move(process)));
  }
  std::vector<TaskLaunch> launches;
  std::vector<FakeProcess*> processes;  // kept alive by the launcher

 private:
  std::vector<std::shared_ptr<FakeProcess>> kept_;
};

class FixedProbe final : public ResourceProbe {
 public:
  ResourceSample Sample() override { return sample; }
  ResourceSample sample{5.0, 8000.0, 16000, 4};
};

// ---- Fixture ------------------------------------------------------------------

class AgentTest : public ::testing::Test {
 protected:
  AgentTest() {
    dir_ = fs::temp_directory_path() / ("scaleout-agent-" + NewGuid());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "worker.json") << R"({"MasterEndpoint": "inproc://master"})";
  }

 public:
  ~AgentTest() override {
    agent_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

 protected:
  void MakeAgent(std::vector<std::string> overrides = {}) {
    LoadOptions options;
    options.settings_file = (dir_ / "worker.json").string();
    options.overrides = std::move(overrides);
    auto settings = LoadWorkerSettings(options);
    ASSERT_TRUE(settings.ok()) << settings.status().ToString();
    agent_ = std::make_unique<Agent>(*settings, Deps());
    ASSERT_TRUE(agent_->OpenSpool().ok());
  }

  // The fixture's doubles as an agent's dependencies.
  AgentDependencies Deps() {
    AgentDependencies deps;
    deps.clock = &clock_;
    deps.master_clients = [this](MasterChannel) {
      return std::make_unique<FakeMasterClient>(master_);
    };
    deps.launcher = launcher_override_ ? launcher_override_ : &launcher_;
    deps.resources = &probe_;
    return deps;
  }

  protocol::TaskAssignment Assignment(std::int64_t epoch = 1) {
    protocol::TaskAssignment a;
    a.task_id = NewGuid();
    a.execution_id = 42;
    a.attempt = 1;
    a.lease_epoch = epoch;
    a.lease_interval_ms = 60'000;
    a.package_name = "load.dtsx";
    a.executor = "noop";
    return a;
  }

  // A task of version `version` of project `project_id`.
  protocol::TaskAssignment ProjectAssignment(std::int64_t project_id, std::int64_t version) {
    protocol::TaskAssignment a = Assignment();
    a.project_id = project_id;
    a.project_version = version;
    return a;
  }

  fs::path dir_;
  ManualClock clock_;
  FakeMaster master_;
  FakeLauncher launcher_;
  TaskLauncher* launcher_override_ = nullptr;
  FixedProbe probe_;
  std::unique_ptr<Agent> agent_;
};

TEST_F(AgentTest, NewWorkerIsDisabledGetsNoWorkThenRunsATaskWhenEnabled) {
  MakeAgent();
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  EXPECT_TRUE(agent_->stats().registered);
  EXPECT_FALSE(agent_->stats().enabled);

  master_.queue.push_back(Assignment(/*epoch=*/7));
  // Disabled: asks, gets nothing.
  auto none = agent_->PollOnce(milliseconds(0));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  EXPECT_EQ(master_.task_requests.back().free_slots, 10);

  master_.enabled = true;
  ASSERT_TRUE(agent_->AgentHeartbeatOnce().ok());
  EXPECT_TRUE(agent_->stats().enabled);
  auto one = agent_->PollOnce(milliseconds(0));
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_EQ(*one, 1);
  ASSERT_EQ(launcher_.launches.size(), 1u);
  const TaskLaunch& launch = launcher_.launches[0];
  EXPECT_EQ(launch.executor, "noop");
  EXPECT_EQ(launch.spec.execution_id, 42);
  // The task host makes the folder, not the poll thread (work_dir.h).
  EXPECT_FALSE(fs::exists(launch.spec.work_dir));
  EXPECT_TRUE(fs::is_directory(fs::path(launch.spec.work_dir).parent_path()));  // TasksRootFolder
  EXPECT_EQ(fs::path(launch.spec.work_dir).filename(), launch.spec.task_id);
  EXPECT_EQ(launch.log_file, (fs::path(launch.spec.work_dir) / "task.log").string());

  // The lease is renewed with its epoch.
  ASSERT_TRUE(agent_->TaskHeartbeatOnce().ok());
  ASSERT_EQ(master_.task_heartbeats.size(), 1u);
  EXPECT_EQ(master_.task_heartbeats[0].tasks.at(0).lease_epoch, 7);

  launcher_.processes[0]->Emit("hello");
  launcher_.processes[0]->Finish(sdk::TaskResult::kSucceeded, 0);
  agent_->WatchdogOnce();
  EXPECT_EQ(agent_->stats().running_tasks, 0);
  ASSERT_TRUE(agent_->ShipOnce().ok());
  ASSERT_EQ(master_.results.size(), 1u);
  EXPECT_EQ(master_.results[0].lease_epoch, 7);
  EXPECT_EQ(master_.results[0].result, protocol::TaskOutcome::kSucceeded);
  ASSERT_EQ(master_.events.size(), 1u);
  EXPECT_EQ(master_.events[0].message, "hello");
  EXPECT_EQ(master_.events[0].execution_id, 42);
  EXPECT_FALSE(master_.events[0].event_message_guid.empty());
}

TEST_F(AgentTest, LeaseThatCannotBeRenewedIsKilledBeforeTheMasterMayExpireIt) {
  MakeAgent();
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  master_.queue.push_back(Assignment(3));
  const std::int64_t granted = clock_.SteadyMillis();
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
  FakeProcess* process = launcher_.processes.at(0);

  master_.heartbeat_mode = FakeMaster::HeartbeatMode::kUnreachable;
  // Heartbeat every 10 s (failing), watchdog every second, as the threads do.
  std::int64_t killed_at = -1;
  for (int second = 1; second <= 60 && killed_at < 0; ++second) {
    clock_.Advance(milliseconds(1'000));
    if (second % 10 == 0) {
      EXPECT_FALSE(agent_->TaskHeartbeatOnce().ok());
    }
    agent_->WatchdogOnce();
    if (process->killed) killed_at = clock_.SteadyMillis();
  }
  ASSERT_GE(killed_at, 0) << "the package was never killed";
  // The master may re-queue no earlier than 60 s after it granted the lease.
  EXPECT_LT(killed_at, granted + 60'000);
  EXPECT_EQ(killed_at, granted + 40'000);
  EXPECT_EQ(agent_->stats().tasks_killed_for_lease, 1u);
  EXPECT_EQ(agent_->stats().running_tasks, 0);

  // The master is back and says the epoch is stale: the result is dropped.
  master_.heartbeat_mode = FakeMaster::HeartbeatMode::kRenew;
  master_.result_code = sdk::StatusCode::kAborted;
  ASSERT_TRUE(agent_->ShipOnce().ok());
  EXPECT_TRUE(master_.results.empty());
  EXPECT_EQ(agent_->stats().results_dropped, 1u);
  EXPECT_EQ(agent_->stats().results_waiting, 0u);
}

TEST_F(AgentTest, RenewedLeaseKeepsTheTaskRunning) {
  MakeAgent();
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  master_.queue.push_back(Assignment());
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
  for (int second = 1; second <= 600; ++second) {  // ten minutes of heartbeats
    clock_.Advance(milliseconds(1'000));
    if (second % 10 == 0) {
      ASSERT_TRUE(agent_->TaskHeartbeatOnce().ok());
    }
    agent_->WatchdogOnce();
  }
  EXPECT_FALSE(launcher_.processes[0]->killed);
  EXPECT_EQ(agent_->stats().running_tasks, 1);
  EXPECT_EQ(master_.task_heartbeats.size(), 60u);
}

TEST_F(AgentTest, AShortTaskEndsAndIsReportedWithoutAnyLeaseRenewal) {
  MakeAgent();
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  master_.queue.push_back(Assignment());
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
  // The claim granted the lease: the heartbeat step sends nothing and sleeps
  // until the lease has gone one TaskHeartbeatInterval (10 s) unrenewed.
  EXPECT_EQ(agent_->TaskHeartbeatStep(), milliseconds(10'000));
  clock_.Advance(milliseconds(2'000));
  EXPECT_EQ(agent_->TaskHeartbeatStep(), milliseconds(8'000));
  launcher_.processes.at(0)->Finish(sdk::TaskResult::kSucceeded, 0);
  agent_->WatchdogOnce();
  ASSERT_TRUE(agent_->ShipOnce().ok());
  ASSERT_EQ(master_.results.size(), 1u);
  EXPECT_EQ(master_.results[0].result, protocol::TaskOutcome::kSucceeded);
  // No lease is left, so the step sleeps a whole interval and renews nothing.
  EXPECT_EQ(agent_->TaskHeartbeatStep(), milliseconds(10'000));
  EXPECT_TRUE(master_.task_heartbeats.empty());
}

// TaskFolderRetention: a sweep removes the folder of an ended task that has
// not changed for the retention, and keeps a running task's folder however
// old it is; 00:00:00 keeps every folder.
TEST_F(AgentTest, ASweepRemovesAnEndedTasksOldFolderButNotARunningOnes) {
  MakeAgent({"TaskFolderRetention=1.00:00:00"});
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  master_.queue.push_back(Assignment());
  master_.queue.push_back(Assignment());
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 2);
  // The fake launcher makes no folders: make them as a task host would,
  // last changed two days before the agent's clock.
  const std::int64_t two_days_ago = clock_.NowUnixMillis() - 2 * 86'400'000LL;
  for (const TaskLaunch& launch : launcher_.launches) {
    fs::create_directories(launch.spec.work_dir);
    std::ofstream(launch.log_file) << "started\n";
    ASSERT_TRUE(SetModificationTime(launch.log_file, two_days_ago));
    ASSERT_TRUE(SetModificationTime(launch.spec.work_dir, two_days_ago));
  }
  launcher_.processes.at(0)->Finish(sdk::TaskResult::kSucceeded, 0);
  agent_->WatchdogOnce();
  ASSERT_EQ(agent_->stats().running_tasks, 1);

  EXPECT_EQ(agent_->SweepTaskFoldersOnce(), 1u);
  EXPECT_FALSE(fs::exists(launcher_.launches[0].spec.work_dir));
  EXPECT_TRUE(fs::exists(launcher_.launches[1].log_file));  // still running
  EXPECT_EQ(agent_->stats().task_folders_removed, 1u);
  EXPECT_EQ(agent_->SweepTaskFoldersOnce(), 0u);

  // Once it has ended, the next sweep takes it too.
  launcher_.processes.at(1)->Finish(sdk::TaskResult::kSucceeded, 0);
  agent_->WatchdogOnce();
  EXPECT_EQ(agent_->SweepTaskFoldersOnce(), 1u);
  EXPECT_FALSE(fs::exists(launcher_.launches[1].spec.work_dir));
}

TEST_F(AgentTest, ARetentionOfZeroKeepsEveryTaskFolder) {
  MakeAgent({"TaskFolderRetention=00:00:00"});
  const fs::path folder = fs::path(agent_->settings().tasks_root_folder) / NewGuid();
  fs::create_directories(folder);
  ASSERT_TRUE(SetModificationTime(folder, 1'000'000'000'000));  // 2001
  EXPECT_EQ(agent_->SweepTaskFoldersOnce(), 0u);
  EXPECT_TRUE(fs::exists(folder));
}

// The result of an ended task rides on the next request for work: the master
// records it in the claim's transaction, so the freed slot is filled by the
// same round trip, and nothing is reported alone.
TEST_F(AgentTest, AResultRidesOnTheNextRequestForWork) {
  MakeAgent({"MaxTaskCount=1"});
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  master_.queue = {Assignment(), Assignment()};
  ASSERT_EQ(*agent_->PollOnce(milliseconds(15'000)), 1);
  EXPECT_TRUE(master_.task_requests.back().results.empty());
  EXPECT_EQ(master_.task_requests.back().wait_ms, 15'000);
  launcher_.processes.at(0)->Finish(sdk::TaskResult::kSucceeded, 0);
  agent_->WatchdogOnce();
  EXPECT_EQ(agent_->stats().results_waiting, 1u);

  ASSERT_EQ(*agent_->PollOnce(milliseconds(15'000)), 1);
  const protocol::RequestTasksRequest& carried = master_.task_requests.back();
  ASSERT_EQ(carried.results.size(), 1u);
  EXPECT_EQ(carried.results[0].task_id, launcher_.launches.at(0).spec.task_id);
  EXPECT_EQ(carried.free_slots, 1);
  EXPECT_EQ(carried.wait_ms, 0);  // answered at once; the long-poll comes next
  ASSERT_EQ(master_.results.size(), 1u);
  EXPECT_EQ(agent_->stats().results_waiting, 0u);
  EXPECT_EQ(agent_->stats().results_reported, 1u);
  // Nothing is left for the shipper, and the next request carries nothing.
  ASSERT_TRUE(agent_->ShipOnce().ok());
  EXPECT_EQ(master_.report_results_calls, 0);
  launcher_.processes.at(1)->Finish(sdk::TaskResult::kFailed, 3);
  agent_->WatchdogOnce();
  master_.reachable = false;  // the request that carries it fails: the result waits
  EXPECT_FALSE(agent_->PollOnce(milliseconds(15'000)).ok());
  EXPECT_EQ(agent_->stats().results_waiting, 1u);
  master_.reachable = true;
  ASSERT_EQ(*agent_->PollOnce(milliseconds(15'000)), 0);
  ASSERT_EQ(master_.results.size(), 2u);
  EXPECT_EQ(master_.results[1].exit_code, 3);
  EXPECT_EQ(master_.results[1].result, protocol::TaskOutcome::kFailed);
}

// A machine too busy to ask for work still reports what ended, at once.
TEST_F(AgentTest, ABusyWorkerReportsResultsOnARequestForNoTask) {
  MakeAgent({"MaxTaskCount=2"});
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  master_.queue = {Assignment(), Assignment()};
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 2);
  launcher_.processes.at(0)->Finish(sdk::TaskResult::kSucceeded, 0);
  agent_->WatchdogOnce();
  probe_.sample.cpu_percent = 95.0;  // above TaskRequestMaxCPU (70)
  const std::size_t requests = master_.task_requests.size();
  ASSERT_EQ(*agent_->PollOnce(milliseconds(15'000)), 0);
  ASSERT_EQ(master_.task_requests.size(), requests + 1);
  EXPECT_EQ(master_.task_requests.back().free_slots, 0);
  EXPECT_EQ(master_.task_requests.back().results.size(), 1u);
  EXPECT_EQ(master_.results.size(), 1u);
  // With nothing to report, a busy worker sends nothing.
  ASSERT_EQ(*agent_->PollOnce(milliseconds(15'000)), 0);
  EXPECT_EQ(master_.task_requests.size(), requests + 1);
}

// A master that predates results on requests ignores them: with no ack the
// result stays, and the shipper reports it alone.
TEST_F(AgentTest, ResultsIgnoredByAnOlderMasterAreReportedAlone) {
  MakeAgent();
  master_.enabled = true;
  master_.results_on_requests = false;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  master_.queue = {Assignment()};
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
  launcher_.processes.at(0)->Finish(sdk::TaskResult::kSucceeded, 0);
  agent_->WatchdogOnce();
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 0);
  EXPECT_EQ(master_.task_requests.back().results.size(), 1u);
  EXPECT_TRUE(master_.results.empty());
  EXPECT_EQ(agent_->stats().results_waiting, 1u);
  ASSERT_TRUE(agent_->ShipOnce().ok());
  EXPECT_EQ(master_.report_results_calls, 1);
  ASSERT_EQ(master_.results.size(), 1u);
  EXPECT_EQ(agent_->stats().results_waiting, 0u);
  // Having seen no acks, the worker stops sending results with its requests
  // (they would only go round again); the next registration tries again.
  master_.queue = {Assignment()};
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
  launcher_.processes.at(1)->Finish(sdk::TaskResult::kSucceeded, 0);
  agent_->WatchdogOnce();
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 0);
  EXPECT_TRUE(master_.task_requests.back().results.empty());
  master_.results_on_requests = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 0);
  EXPECT_EQ(master_.task_requests.back().results.size(), 1u);
  EXPECT_EQ(master_.results.size(), 2u);
}

TEST_F(AgentTest, ARunningTaskIsRenewedEveryIntervalFromItsClaim) {
  MakeAgent();
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  master_.queue.push_back(Assignment());
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
  clock_.Advance(milliseconds(10'000));
  // Due: the step renews at once and sleeps a whole interval after that.
  EXPECT_EQ(agent_->TaskHeartbeatStep(), milliseconds(10'000));
  ASSERT_EQ(master_.task_heartbeats.size(), 1u);
  EXPECT_EQ(master_.task_heartbeats[0].tasks.size(), 1u);
  // Step through ten minutes, sleeping as long as each step says, with the
  // watchdog running every second: the lease never lapses.
  std::int64_t wake_at = clock_.SteadyMillis() + 10'000;
  for (int second = 1; second <= 600; ++second) {
    clock_.Advance(milliseconds(1'000));
    if (clock_.SteadyMillis() >= wake_at) {
      wake_at = clock_.SteadyMillis() + agent_->TaskHeartbeatStep().count();
    }
    agent_->WatchdogOnce();
  }
  EXPECT_FALSE(launcher_.processes[0]->killed);
  EXPECT_EQ(master_.task_heartbeats.size(), 61u);  // one every 10 s from the claim
}

TEST_F(AgentTest, ALeaseClaimedAtTheEndOfALongPollIsRenewedAtOnce) {
  MakeAgent();
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  master_.queue.push_back(Assignment());
  // The master held the request 12 s before the claim: the lease counts from
  // the request's send time, so a renewal is already due when the task starts.
  master_.on_request_tasks = [this] { clock_.Advance(milliseconds(12'000)); };
  ASSERT_EQ(*agent_->PollOnce(milliseconds(15'000)), 1);
  EXPECT_EQ(agent_->TaskHeartbeatStep(), milliseconds(10'000));
  ASSERT_EQ(master_.task_heartbeats.size(), 1u);
}

TEST_F(AgentTest, AFailedRenewalIsRetriedAfterAnIntervalAndTheFenceStillHolds) {
  MakeAgent();
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  master_.queue.push_back(Assignment());
  const std::int64_t granted = clock_.SteadyMillis();
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
  master_.reachable = false;
  std::int64_t wake_at = granted + agent_->TaskHeartbeatStep().count();
  std::int64_t killed_at = -1;
  for (int second = 1; second <= 60 && killed_at < 0; ++second) {
    clock_.Advance(milliseconds(1'000));
    if (clock_.SteadyMillis() >= wake_at) {
      const milliseconds nap = agent_->TaskHeartbeatStep();
      EXPECT_GT(nap.count(), 0) << "a failed renewal must not be retried in a tight loop";
      wake_at = clock_.SteadyMillis() + nap.count();
    }
    agent_->WatchdogOnce();
    if (launcher_.processes[0]->killed) killed_at = clock_.SteadyMillis();
  }
  EXPECT_EQ(killed_at, granted + 40'000);
}

TEST_F(AgentTest, StaleAnswerKillsWithoutReportingAndStopCancelsAndReports) {
  MakeAgent();
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  master_.queue.push_back(Assignment());
  master_.queue.push_back(Assignment());
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 2);

  master_.heartbeat_mode = FakeMaster::HeartbeatMode::kStale;
  // Another attempt owns both tasks now.
  {
    std::vector<FakeProcess*> p = launcher_.processes;
    ASSERT_TRUE(agent_->TaskHeartbeatOnce().ok());
    EXPECT_TRUE(p[0]->killed && p[1]->killed);
  }
  agent_->WatchdogOnce();
  ASSERT_TRUE(agent_->ShipOnce().ok());
  EXPECT_TRUE(master_.results.empty());
  EXPECT_EQ(agent_->stats().results_dropped, 2u);

  master_.heartbeat_mode = FakeMaster::HeartbeatMode::kStop;
  master_.queue.push_back(Assignment(9));
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
  ASSERT_TRUE(agent_->TaskHeartbeatOnce().ok());
  EXPECT_TRUE(launcher_.processes[2]->cancelled);
  EXPECT_FALSE(launcher_.processes[2]->killed);
  agent_->WatchdogOnce();
  ASSERT_TRUE(agent_->ShipOnce().ok());
  ASSERT_EQ(master_.results.size(), 1u);
  EXPECT_EQ(master_.results[0].result, protocol::TaskOutcome::kCanceled);
  EXPECT_EQ(master_.results[0].lease_epoch, 9);
}

TEST_F(AgentTest, ResultsAndEventsWaitForAnUnreachableMaster) {
  MakeAgent();
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  master_.queue.push_back(Assignment(5));
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
  launcher_.processes[0]->Emit("one");
  launcher_.processes[0]->Emit("two");
  launcher_.processes[0]->Finish(sdk::TaskResult::kFailed, 3);
  agent_->WatchdogOnce();

  master_.reachable = false;
  EXPECT_FALSE(agent_->ShipOnce().ok());
  EXPECT_FALSE(agent_->ShipOnce().ok());
  EXPECT_EQ(agent_->stats().results_waiting, 1u);
  EXPECT_EQ(agent_->stats().event_batches_waiting, 1u);

  master_.reachable = true;
  ASSERT_TRUE(agent_->ShipOnce().ok());
  ASSERT_EQ(master_.results.size(), 1u);
  EXPECT_EQ(master_.results[0].result, protocol::TaskOutcome::kFailed);
  EXPECT_EQ(master_.results[0].exit_code, 3);
  EXPECT_EQ(master_.events.size(), 2u);
  EXPECT_EQ(agent_->stats().event_batches_waiting, 0u);
}

// The execution's LOGGING_LEVEL decides which events reach the catalog:
// Basic (the default) leaves diagnostic and custom events out, Performance
// keeps only warnings and errors, None keeps nothing, Verbose everything.
TEST_F(AgentTest, TheExecutionsLoggingLevelSelectsTheEventsShipped) {
  MakeAgent();
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  const std::vector<std::pair<int, std::vector<std::string>>> cases = {
      {1, {"information", "warning", "error"}},
      {2, {"warning", "error"}},
      {0, {}},
      {3, {"information", "diagnostic", "warning", "error", "custom"}}};
  std::size_t shipped = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    protocol::TaskAssignment a = Assignment(static_cast<std::int64_t>(i) + 1);
    a.logging_level = cases[i].first;
    master_.queue.push_back(a);
    ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
    FakeProcess& process = *launcher_.processes.back();
    process.Emit("information", sdk::MessageType::kInformation);
    process.Emit("diagnostic", sdk::MessageType::kDiagnostic);
    process.Emit("warning", sdk::MessageType::kWarning);
    process.Emit("error", sdk::MessageType::kError);
    process.Emit("custom", sdk::MessageType::kCustom);
    process.Finish(sdk::TaskResult::kSucceeded, 0);
    agent_->WatchdogOnce();
    ASSERT_TRUE(agent_->ShipOnce().ok());
    std::vector<std::string> messages;
    for (std::size_t e = shipped; e < master_.events.size(); ++e) {
      messages.push_back(master_.events[e].message);
    }
    shipped = master_.events.size();
    EXPECT_EQ(messages, cases[i].second) << "LOGGING_LEVEL " << cases[i].first;
  }
}

// The service watchdog's check: healthy before Start() (nothing to
// check), while the watchdog thread makes its passes however far the clock
// jumps, and while stopping.
TEST_F(AgentTest, FenceHealthIsHealthyWhileTheWatchdogThreadPasses) {
  MakeAgent({});
  EXPECT_EQ(agent_->FenceHealth(), "");
  ASSERT_TRUE(agent_->Start().ok());
  EXPECT_EQ(agent_->FenceHealth(), "");
  // Past the stall limit: the thread wakes on the clock and passes again.
  clock_.Advance(std::chrono::seconds(11));
  const auto real_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!agent_->FenceHealth().empty() && std::chrono::steady_clock::now() < real_deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  EXPECT_EQ(agent_->FenceHealth(), "");
  agent_->Stop(milliseconds(0));
  EXPECT_EQ(agent_->FenceHealth(), "");
}

// With the agent's threads running: a task whose result rides on a request
// for work still has its events shipped within an event round (50 ms) of its
// end, not at the shipper's idle interval (2 s), so an execution's messages
// are in the catalog soon after its status. Time only moves when the test
// advances it, by 60 ms here.
TEST_F(AgentTest, AnEndedTasksEventsAreShippedWithinAnEventRound) {
  MakeAgent({"MaxTaskCount=1"});
  master_.enabled = true;
  master_.queue = {Assignment()};
  ASSERT_TRUE(agent_->Start().ok());
  const auto real_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (agent_->stats().running_tasks == 0 && std::chrono::steady_clock::now() < real_deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  ASSERT_EQ(agent_->stats().running_tasks, 1);  // the launch happened before (agent's lock)
  FakeProcess& process = *launcher_.processes.at(0);
  process.Emit("hello");
  process.Finish(sdk::TaskResult::kSucceeded, 0);
  clock_.Advance(milliseconds(60));
  // The event may be shipped before the agent has reaped the task, so wait
  // for the result too: Stop() would otherwise kill a task that had ended.
  bool shipped = false;
  bool reported = false;
  while (!(shipped && reported) && std::chrono::steady_clock::now() < real_deadline) {
    {
      std::lock_guard lock(master_.mutex);
      shipped = !master_.events.empty();
      reported = !master_.results.empty();
    }
    // Later advances would let the shipper's idle interval run out too.
    std::this_thread::sleep_for(milliseconds(1));
  }
  EXPECT_TRUE(shipped) << "the event waited for the shipper's idle interval";
  EXPECT_TRUE(reported) << "the ended task's result was not reported";
  agent_->Stop();
  std::lock_guard lock(master_.mutex);
  ASSERT_EQ(master_.events.size(), 1u);
  EXPECT_EQ(master_.events[0].message, "hello");
  ASSERT_EQ(master_.results.size(), 1u);
}

TEST_F(AgentTest, SpooledEventsOfACrashedRunAreShippedOnceAfterRestart) {
  MakeAgent();
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  master_.queue.push_back(Assignment());
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
  for (int i = 0; i < 5; ++i) launcher_.processes[0]->Emit("event " + std::to_string(i));
  master_.reachable = false;
  EXPECT_FALSE(agent_->ShipOnce().ok());
  // The worker "crashes": the agent goes away without shipping.
  launcher_.processes[0]->Finish(sdk::TaskResult::kSucceeded, 0);
  agent_.reset();
  launcher_.processes.clear();

  master_.reachable = true;
  MakeAgent();  // same settings file, same ELogCache folder
  EXPECT_EQ(agent_->stats().event_batches_waiting, 1u);
  ASSERT_TRUE(agent_->ShipOnce().ok());
  EXPECT_EQ(master_.events.size(), 5u);
  std::set<std::string> guids;
  for (const auto& e : master_.events) guids.insert(e.event_message_guid);
  EXPECT_EQ(guids.size(), 5u);
  ASSERT_TRUE(agent_->ShipOnce().ok());
  EXPECT_EQ(master_.events.size(), 5u);
}

TEST_F(AgentTest, ResourceGatingAndMaxTaskCountLimitWorkRequests) {
  MakeAgent({"MaxTaskCount=2", "TaskRequestMaxCPU=50", "TaskRequestMinMemory=1000"});
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  for (int i = 0; i < 3; ++i) master_.queue.push_back(Assignment());

  probe_.sample.cpu_percent = 80.0;
  EXPECT_EQ(*agent_->PollOnce(milliseconds(0)), 0);
  probe_.sample.cpu_percent = 10.0;
  probe_.sample.free_memory_mb = 500.0;
  EXPECT_EQ(*agent_->PollOnce(milliseconds(0)), 0);
  EXPECT_TRUE(master_.task_requests.empty());  // the master was not even asked

  probe_.sample.free_memory_mb = 4000.0;
  EXPECT_EQ(*agent_->PollOnce(milliseconds(0)), 2);
  EXPECT_EQ(master_.task_requests.back().free_slots, 2);
  EXPECT_EQ(*agent_->PollOnce(milliseconds(0)), 0);  // full
  EXPECT_EQ(master_.task_requests.size(), 1u);
}

TEST_F(AgentTest, ProjectFilesAreFetchedVerifiedAndCached) {
  MakeAgent();
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  protocol::GetProjectReply project;
  project.files.push_back({"load.sh", "echo hi\n", Sha256Hex("echo hi\n")});
  project.files.push_back({"lib/util.sh", "true\n", Sha256Hex("true\n")});
  master_.projects[11] = project;

  auto a = ProjectAssignment(11, 2);
  master_.queue.push_back(a);
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
  const fs::path dir = launcher_.launches[0].spec.project_dir;
  EXPECT_EQ(ReadWholeFile(dir / "load.sh").value(), "echo hi\n");
  EXPECT_EQ(ReadWholeFile(dir / "lib" / "util.sh").value(), "true\n");

  // Cached: a second task of the same version does not fetch it again.
  master_.projects.clear();
  auto b = ProjectAssignment(11, 2);
  master_.queue.push_back(b);
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
  EXPECT_EQ(launcher_.launches[1].spec.project_dir, dir.string());

  // A corrupted file is refused and the task is reported failed at once.
  project.files[0].sha256 = Sha256Hex("something else");
  master_.projects[12] = project;
  auto c = Assignment(4);
  c.project_id = 12;
  master_.queue.push_back(c);
  EXPECT_EQ(*agent_->PollOnce(milliseconds(0)), 0);
  ASSERT_TRUE(agent_->ShipOnce().ok());
  ASSERT_EQ(master_.results.size(), 1u);
  EXPECT_EQ(master_.results[0].task_id, c.task_id);
  EXPECT_EQ(master_.results[0].result, protocol::TaskOutcome::kFailed);
  EXPECT_NE(master_.results[0].message.find("SHA-256"), std::string::npos);
}

// ProjectCacheRetention: a cached project version that no task has used for
// the retention is removed, unless a running task uses it; a task that needs
// it later fetches it again.
TEST_F(AgentTest, UnusedCachedProjectVersionsAreRemovedAndFetchedAgainWhenNeeded) {
  MakeAgent({"ProjectCacheRetention=1.00:00:00", "TaskFolderRetention=00:00:00"});
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  protocol::GetProjectReply project;
  project.files.push_back({"load.sh", "echo hi\n", Sha256Hex("echo hi\n")});
  master_.projects[11] = project;
  master_.projects[12] = project;
  auto running = ProjectAssignment(11, 1);
  auto ended = ProjectAssignment(12, 1);
  master_.queue = {running, ended};
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 2);
  const fs::path running_dir = launcher_.launches[0].spec.project_dir;
  const fs::path ended_dir = launcher_.launches[1].spec.project_dir;
  launcher_.processes.at(1)->Finish(sdk::TaskResult::kSucceeded, 0);
  agent_->WatchdogOnce();
  // A crash left half a fetch behind, long ago.
  const fs::path leftover = running_dir.parent_path() / ".tmp-crashed";
  fs::create_directories(leftover);
  ASSERT_TRUE(SetModificationTime(leftover, 1'000'000'000'000));  // 2001

  // Both were used since the last sweep: kept, and marked used now.
  EXPECT_EQ(agent_->SweepProjectCacheOnce(), 1u);  // only the leftover
  EXPECT_FALSE(fs::exists(leftover));
  EXPECT_TRUE(fs::exists(ended_dir / "load.sh"));

  clock_.Advance(milliseconds(2 * 86'400'000LL));
  EXPECT_EQ(agent_->SweepProjectCacheOnce(), 1u);
  EXPECT_FALSE(fs::exists(ended_dir));
  EXPECT_FALSE(fs::exists(ended_dir.parent_path()));  // the project's folder, left empty
  EXPECT_TRUE(fs::exists(running_dir / "load.sh"));   // its task still runs

  // Needed again: fetched again.
  auto again = ProjectAssignment(12, 1);
  master_.queue.push_back(again);
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
  EXPECT_EQ(launcher_.launches[2].spec.project_dir, ended_dir.string());
  EXPECT_EQ(ReadWholeFile(ended_dir / "load.sh").value(), "echo hi\n");

  // With its task ended and a retention gone by unused, the other goes too.
  launcher_.processes.at(0)->Finish(sdk::TaskResult::kSucceeded, 0);
  agent_->WatchdogOnce();
  EXPECT_EQ(agent_->SweepProjectCacheOnce(), 0u);  // version 12 was just used
  clock_.Advance(milliseconds(2 * 86'400'000LL));
  launcher_.processes.at(2)->Finish(sdk::TaskResult::kSucceeded, 0);
  agent_->WatchdogOnce();
  EXPECT_EQ(agent_->SweepProjectCacheOnce(), 2u);
  EXPECT_FALSE(fs::exists(running_dir));
  EXPECT_EQ(agent_->stats().running_tasks, 0);
}

TEST_F(AgentTest, AProjectCacheRetentionOfZeroKeepsEveryVersion) {
  MakeAgent({"ProjectCacheRetention=00:00:00"});
  const fs::path version = fs::path(agent_->settings().project_cache_folder) / "11" / "1";
  fs::create_directories(version);
  ASSERT_TRUE(SetModificationTime(version, 1'000'000'000'000));  // 2001
  EXPECT_EQ(agent_->SweepProjectCacheOnce(), 0u);
  EXPECT_TRUE(fs::exists(version));
}

// With the threads running, the janitor sweeps as soon as the agent starts,
// whichever of the two retentions is on.
TEST_F(AgentTest, TheJanitorThreadSweepsAtStartWithEitherRetentionAlone) {
  const std::int64_t two_days_ago = clock_.NowUnixMillis() - 2 * 86'400'000LL;
  for (const bool folders : {true, false}) {
    MakeAgent({folders ? "TaskFolderRetention=1.00:00:00" : "TaskFolderRetention=00:00:00",
               folders ? "ProjectCacheRetention=00:00:00" : "ProjectCacheRetention=1.00:00:00"});
    const WorkerSettings& settings = agent_->settings();
    const fs::path stale = folders ? fs::path(settings.tasks_root_folder) / NewGuid()
                                   : fs::path(settings.project_cache_folder) / "11" / "1";
    fs::create_directories(stale);
    ASSERT_TRUE(SetModificationTime(stale, two_days_ago));
    ASSERT_TRUE(agent_->Start().ok());
    const auto real_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (fs::exists(stale) && std::chrono::steady_clock::now() < real_deadline) {
      std::this_thread::sleep_for(milliseconds(1));
    }
    EXPECT_FALSE(fs::exists(stale)) << (folders ? "task folder" : "project version");
    agent_->Stop();
    agent_.reset();
  }
}

// Two agents on the same folders (a service and a manual run of one worker):
// the second is refused at Start() with the first one's pid, and starts once
// the first has gone.
TEST_F(AgentTest, ASecondAgentOnTheSameFoldersIsRefused) {
  MakeAgent();
  ASSERT_TRUE(agent_->Start().ok());
  Agent second(agent_->settings(), Deps());
  const Status refused = second.Start();
  EXPECT_EQ(refused.code(), sdk::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("another scaleout process (pid " + std::to_string(::getpid())),
            std::string::npos)
      << refused.ToString();
  EXPECT_NE(refused.message().find(dir_.string()), std::string::npos) << refused.ToString();
  agent_->Stop();
  agent_.reset();
  EXPECT_TRUE(second.Start().ok());
  second.Stop();
}

// The real thing: executor/noop in a `scaleout task-host` child process.
TEST_F(AgentTest, RunsARealTaskHostChildAndReportsItsResult) {
  const fs::path host = SCALEOUT_TEST_HOST_BINARY;
  const fs::path plugins = SCALEOUT_TEST_PLUGIN_DIR;
  if (!fs::exists(host) || !fs::exists(plugins / "libscaleout_executor_noop.so")) {
    GTEST_SKIP() << "needs the scaleout binary and executor/noop (build targets scaleout and "
                    "scaleout_executor_noop)";
  }
  SystemClock& real = SystemClock::Instance();
  auto launcher = MakeTaskHostLauncher({host.string(), plugins.string()}, real);
  launcher_override_ = launcher.get();
  MakeAgent();
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  auto a = Assignment(2);
  a.parameters.push_back({protocol::kObjectTypePackage, "NOOP_RESULT", "succeed", "String", false});
  master_.queue.push_back(a);
  ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
  ASSERT_TRUE(agent_->TaskHeartbeatOnce().ok());
  // Wait for the child to end (no time limit asserted: ctest's timeout guards).
  while (agent_->stats().running_tasks > 0) {
    agent_->WatchdogOnce();
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(agent_->ShipOnce().ok());
  ASSERT_EQ(master_.results.size(), 1u);
  EXPECT_EQ(master_.results[0].task_id, a.task_id);
  EXPECT_EQ(master_.results[0].lease_epoch, 2);
  EXPECT_EQ(master_.results[0].result, protocol::TaskOutcome::kSucceeded)
      << master_.results[0].message;
  EXPECT_FALSE(master_.events.empty());  // noop names its package in one event
  EXPECT_TRUE(fs::exists(dir_ / "Tasks" / a.task_id));
  agent_.reset();
}

// The pooled task hosts: tasks one after another reuse one warm host.
TEST_F(AgentTest, RunsTasksOneAfterAnotherInOneWarmPooledTaskHost) {
  const fs::path host = SCALEOUT_TEST_HOST_BINARY;
  const fs::path plugins = SCALEOUT_TEST_PLUGIN_DIR;
  if (!fs::exists(host) || !fs::exists(plugins / "libscaleout_executor_noop.so")) {
    GTEST_SKIP() << "needs the scaleout binary and executor/noop (build targets scaleout and "
                    "scaleout_executor_noop)";
  }
  SystemClock& real = SystemClock::Instance();
  auto launcher = MakeTaskHostPoolLauncher({host.string(), plugins.string()}, 4, real);
  launcher_override_ = launcher.get();
  MakeAgent();
  master_.enabled = true;
  ASSERT_TRUE(agent_->RegisterOnce().ok());
  std::vector<std::string> task_ids;
  for (std::int64_t epoch = 1; epoch <= 3; ++epoch) {
    auto a = Assignment(epoch);
    a.parameters.push_back({protocol::kObjectTypePackage, "NOOP_RESULT",
                            epoch == 2 ? "fail" : "succeed", "String", false});
    task_ids.push_back(a.task_id);
    master_.queue.push_back(a);
    ASSERT_EQ(*agent_->PollOnce(milliseconds(0)), 1);
    while (agent_->stats().running_tasks > 0) {
      agent_->WatchdogOnce();
      std::this_thread::sleep_for(milliseconds(5));
    }
  }
  ASSERT_TRUE(agent_->ShipOnce().ok());
  ASSERT_EQ(master_.results.size(), 3u);
  EXPECT_EQ(master_.results[0].result, protocol::TaskOutcome::kSucceeded)
      << master_.results[0].message;
  EXPECT_EQ(master_.results[1].result, protocol::TaskOutcome::kFailed);
  EXPECT_EQ(master_.results[2].result, protocol::TaskOutcome::kSucceeded)
      << master_.results[2].message;
  for (const auto& id : task_ids) EXPECT_TRUE(fs::exists(dir_ / "Tasks" / id / "task.log")) << id;
  agent_.reset();
}

}  // namespace
}  // namespace scaleout::core::worker
