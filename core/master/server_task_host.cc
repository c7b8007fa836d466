#include "core/master/server_task_host.h"

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

#include "core/catalog/scheduler.h"
#include "core/catalog/transaction.h"
#include "core/catalog/types.h"
#include "core/master/worker_ops.h"

namespace scaleout::core::master {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;

// The master limits server tasks by ServerMaxTaskCount alone: the machine's
// load is the master's own, so the worker's CPU and memory thresholds do
// not apply (a busy master must still run the packages it was given).
class NoThresholdProbe final : public worker::ResourceProbe {
 public:
  worker::ResourceSample Sample() override {
    worker::ResourceSample sample;
    sample.cpu_percent = 0;
    sample.free_memory_mb = 1e12;
    return sample;
  }
};

}  // namespace

struct ServerTaskHost::Shared {
  Shared(catalog::CatalogWriter& w, const sdk::Dialect& d, Clock& c, ServerTaskHostOptions o)
      : writer(w), dialect(d), clock(c), options(std::move(o)) {}

  // Runs `op` in one writer transaction as the master's task host.
  template <typename F>
  auto Run(F&& op) {
    return writer.Execute([this, &op](sdk::Connection& c) {
      catalog::Txn txn{c, dialect, clock.NowUnixMillis(), options.catalog_key};
      return op(txn);
    });
  }

  // Called after every commit that may have made work claimable. Only the
  // first call after the claim loop cleared `work` wakes it: while `work` is
  // already set, the loop either has not slept yet (it checks the flag
  // first) or was woken.
  void Wake() {
    if (!work.exchange(true, std::memory_order_relaxed)) clock.Wake(work);
  }

  catalog::CatalogWriter& writer;
  const sdk::Dialect& dialect;
  Clock& clock;
  const ServerTaskHostOptions options;
  std::atomic<bool> work{true};  // a commit may have made a server task claimable
  std::atomic<bool> stopping{false};
};

// The agent's "master": every call is one op on the CatalogWriter, made as
// the reserved worker kMasterTaskHostId. Thread-safe (the writer serializes).
class ServerTaskHost::LocalMasterClient final : public worker::MasterClient {
 public:
  explicit LocalMasterClient(std::shared_ptr<Shared> shared) : s_(std::move(shared)) {}

  sdk::Result<protocol::RegisterReply> Register(const protocol::RegisterRequest& r) override {
    protocol::RegisterReply reply;
    reply.agent_id = r.agent_id;
    reply.enabled = true;  // server mode needs no enabling
    reply.lease_interval_ms = s_->options.lease_interval_ms;
    reply.task_heartbeat_interval_ms = s_->options.task_heartbeat_interval_ms;
    reply.agent_heartbeat_interval_ms = 60'000;
    reply.master_time_ms = s_->clock.NowUnixMillis();
    return reply;
  }

  sdk::Result<protocol::AgentHeartbeatReply> AgentHeartbeat(
      const protocol::AgentHeartbeatRequest&) override {
    return protocol::AgentHeartbeatReply{true};
  }

  // A long-poll: claims at once when something is eligible, else sleeps
  // until a commit may have made a server task claimable or the wait ends.
  sdk::Result<protocol::RequestTasksReply> RequestTasks(
      const protocol::RequestTasksRequest& r) override {
    protocol::RequestTasksReply reply;
    // Results first (as a remote master does), so their slots count for the claim.
    if (!r.results.empty()) {
      SCALEOUT_RETURN_IF_ERROR(s_->Run([&](catalog::Txn& txn) {
        return CompleteTasksOp(txn, catalog::kMasterTaskHostId, r.results, &reply.result_acks);
      }));
      s_->Wake();  // a freed slot, or a retry queued for us
    }
    if (r.free_slots <= 0) return reply;
    const std::int64_t deadline =
        s_->clock.SteadyMillis() + std::min(r.wait_ms, s_->options.max_long_poll_ms);
    while (!s_->stopping.load()) {
      // Cleared before the claim looks, so a commit after it wakes the sleep.
      s_->work.store(false, std::memory_order_relaxed);
      auto claimed = s_->Run([&](catalog::Txn& txn) {
        return catalog::ClaimServerTasks(txn, r.free_slots, s_->options.lease_interval_ms);
      });
      if (!claimed.ok()) return claimed.status();
      if (!claimed->empty()) {
        for (auto& t : *claimed) {
          std::string executor = s_->options.executor_for(t.package_name);
          reply.tasks.push_back(
              ToAssignment(std::move(t), s_->options.lease_interval_ms, std::move(executor)));
        }
        return reply;
      }
      const std::int64_t now = s_->clock.SteadyMillis();
      if (now >= deadline) break;
      s_->clock.SleepFor(Millis(std::min(deadline - now, s_->options.fallback_poll_ms)), s_->work);
    }
    return reply;
  }

  sdk::Result<protocol::GetProjectReply> GetProject(const protocol::GetProjectRequest& r) override {
    protocol::GetProjectReply reply;
    SCALEOUT_RETURN_IF_ERROR(
        s_->Run([&](catalog::Txn& txn) { return GetProjectOp(txn, r, &reply); }));
    return reply;
  }

  sdk::Result<protocol::TaskHeartbeatReply> TaskHeartbeat(
      const protocol::TaskHeartbeatRequest& r) override {
    protocol::TaskHeartbeatReply reply;
    SCALEOUT_RETURN_IF_ERROR(s_->Run([&](catalog::Txn& txn) {
      return RenewLeasesOp(txn, catalog::kMasterTaskHostId, r, s_->options.lease_interval_ms,
                           &reply);
    }));
    return reply;
  }

  sdk::Result<protocol::ReportEventsReply> ReportEvents(
      const protocol::ReportEventsRequest& r) override {
    SCALEOUT_RETURN_IF_ERROR(s_->Run([&](catalog::Txn& txn) { return InsertEventsOp(txn, r); }));
    return protocol::ReportEventsReply{true};
  }

  sdk::Result<protocol::ReportResultsReply> ReportResults(
      const protocol::ReportResultsRequest& r) override {
    protocol::ReportResultsReply reply;
    SCALEOUT_RETURN_IF_ERROR(s_->Run([&](catalog::Txn& txn) {
      return CompleteTasksOp(txn, catalog::kMasterTaskHostId, r, &reply);
    }));
    s_->Wake();  // a freed slot, or a retry queued for us
    return reply;
  }

 private:
  std::shared_ptr<Shared> s_;
};

ServerTaskHost::ServerTaskHost(catalog::CatalogWriter& writer, const sdk::Dialect& dialect,
                               Clock& clock, worker::TaskLauncher& launcher,
                               ServerTaskHostOptions options)
    : shared_(std::make_shared<Shared>(writer, dialect, clock, std::move(options))),
      probe_(std::make_unique<NoThresholdProbe>()) {
  const ServerTaskHostOptions& o = shared_->options;
  const fs::path data(o.data_folder);
  worker::WorkerSettings s;
  s.display_name = "master";
  s.description = "the master's own task host (server mode)";
  s.agent_id = std::string(catalog::kMasterTaskHostId);
  s.master_endpoints = {"in-process"};
  s.max_task_count = o.max_task_count;
  s.lease_interval = Millis(o.lease_interval_ms);
  s.task_heartbeat_interval = Millis(o.task_heartbeat_interval_ms);
  s.task_request_max_cpu = 101.0;
  s.task_request_min_memory_mb = -1.0;
  s.data_dir = data.string();
  s.tasks_root_folder = (data / "Tasks").string();
  s.agent_log_folder = (data / "Agent").string();
  s.execution_log_cache_folder = (data / "Agent" / "ELogCache").string();
  s.project_cache_folder = (data / "Projects").string();
  s.plugins.executor = o.executor;
  s.plugin_settings = o.plugin_sections;

  worker::AgentDependencies deps;
  deps.clock = &clock;
  deps.launcher = &launcher;
  deps.resources = probe_.get();
  deps.master_clients = [shared = shared_](worker::MasterChannel) {
    return std::make_unique<LocalMasterClient>(shared);
  };
  agent_ = std::make_unique<worker::Agent>(std::move(s), std::move(deps));
}

ServerTaskHost::~ServerTaskHost() { Stop(); }

sdk::Status ServerTaskHost::Start() {
  if (started_) return sdk::Status::FailedPrecondition("the server task host is already running");
  if (!shared_->options.executor_for) {
    return sdk::Status::InvalidArgument("ServerTaskHost: executor_for is required");
  }
  if (shared_->options.max_task_count < 1) {
    return sdk::Status::InvalidArgument(
        "ServerMaxTaskCount must be at least 1 to run server tasks");
  }
  const worker::WorkerSettings& s = agent_->settings();
  for (const std::string& folder :
       {s.tasks_root_folder, s.execution_log_cache_folder, s.project_cache_folder}) {
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) {
      return sdk::Status::Unavailable("cannot create " + folder + " for server-mode tasks: " +
                                      ec.message() + "; check 'DataDir'");
    }
  }
  shared_->stopping.store(false);
  SCALEOUT_RETURN_IF_ERROR(agent_->Start());
  started_ = true;
  return sdk::Status::Ok();
}

void ServerTaskHost::Stop() {
  shared_->stopping.store(true);
  shared_->Wake();
  if (agent_) agent_->Stop();
  started_ = false;
}

void ServerTaskHost::WakeForWork() { shared_->Wake(); }

worker::AgentStats ServerTaskHost::stats() const { return agent_->stats(); }

const worker::WorkerSettings& ServerTaskHost::settings() const { return agent_->settings(); }

}  // namespace scaleout::core::master
