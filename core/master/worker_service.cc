#include "core/master/worker_service.h"

#include <algorithm>
#include <utility>

#include "core/catalog/procedures.h"
#include "core/catalog/roles.h"
#include "core/catalog/scheduler.h"
#include "core/catalog/transaction.h"
#include "core/common/thread_name.h"
#include "core/master/responses.h"
#include "core/master/worker_ops.h"
#include "core/protocol/codec.h"
#include "core/protocol/routes.h"

namespace scaleout::core::master {
namespace {

// A responder shared between the op and its completion (std::function needs copies).
using SharedResponder = std::shared_ptr<std::unique_ptr<sdk::Responder>>;

SharedResponder Share(std::unique_ptr<sdk::Responder> responder) {
  return std::make_shared<std::unique_ptr<sdk::Responder>>(std::move(responder));
}

void Send(const SharedResponder& responder, sdk::Response response) {
  if (*responder) {
    (*responder)->Send(std::move(response));
    responder->reset();
  }
}

// A worker call on the catalog writer: `run` inside the writer's
// transaction, `done` after the commit (or with the error). One allocation
// per call (no std::function pair), and no savepoint: each hot worker op
// writes only through catalog operations, which refuse before they write
// (a lease refused per task is an answer, not a failed op).
template <typename RunFn, typename DoneFn>
class CatalogCall final : public catalog::CatalogWriter::Request {
 public:
  CatalogCall(RunFn run, DoneFn done) : run_(std::move(run)), done_(std::move(done)) {}
  sdk::Status Run(sdk::Connection& connection) override { return run_(connection); }
  bool CatalogOpsOnly() const override { return true; }
  void Done(sdk::Status status) override {
    std::unique_ptr<CatalogCall> self(this);  // freed even if done_ throws
    done_(std::move(status));
  }

 private:
  RunFn run_;
  DoneFn done_;
};

template <typename RunFn, typename DoneFn>
catalog::CatalogWriter::Request* NewCatalogCall(RunFn run, DoneFn done) {
  return new CatalogCall<RunFn, DoneFn>(std::move(run), std::move(done));
}

template <typename RunFn, typename DoneFn>
void SubmitCatalogCall(catalog::CatalogWriter& writer, RunFn run, DoneFn done) {
  writer.Submit(*NewCatalogCall(std::move(run), std::move(done)));
}

}  // namespace

// One parked (or in-flight) request for work.
struct WorkerService::Waiter {
  std::string agent_id;
  std::int32_t slots = 0;
  std::int64_t deadline = 0;  // steady ms
  std::unique_ptr<sdk::Responder> responder;
  // Results that came with the request: recorded by the first claim op (and
  // then cleared), acknowledged in whichever reply answers the request.
  // Written on the writer thread before the waiter is parked or answered.
  std::vector<protocol::TaskResult> results;
  std::vector<protocol::ResultAck> acks;
};

sdk::Response WorkerService::NoTaskReply(const Waiter& waiter) {
  protocol::RequestTasksReply reply;
  reply.result_acks = waiter.acks;
  return ReplyResponse(reply);
}

WorkerService::WorkerService(catalog::CatalogWriter& writer, const sdk::Dialect& dialect,
                             Clock& clock, const TrustStore& trust, sdk::Logger& logger,
                             WorkerServiceOptions options)
    : writer_(writer),
      dialect_(dialect),
      clock_(clock),
      trust_(trust),
      logger_(logger),
      options_(std::move(options)) {}

WorkerService::~WorkerService() { Stop(); }

void WorkerService::Start() {
  std::lock_guard lock(mutex_);
  if (deadline_thread_.joinable()) return;
  stopping_ = false;
  deadline_thread_ = NamedThread("poll-deadlines", [this] { DeadlineLoop(); });
}

void WorkerService::Stop() {
  std::vector<std::shared_ptr<Waiter>> waiters;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    waiters.swap(waiters_);
  }
  for (auto& w : waiters) AnswerWaiter(*w, NoTaskReply(*w));
  wake_deadline_thread_ = true;
  clock_.WakeAll();
  if (deadline_thread_.joinable()) deadline_thread_.join();
  wake_deadline_thread_ = false;
}

std::size_t WorkerService::parked() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

bool WorkerService::Handle(const sdk::Request& request,
                           std::unique_ptr<sdk::Responder>& responder) {
  using Method = void (WorkerService::*)(const sdk::Request&, std::unique_ptr<sdk::Responder>);
  static const std::pair<std::string_view, Method> kRoutes[] = {
      {protocol::kRouteRequestTasks, &WorkerService::HandleRequestTasks},
      {protocol::kRouteTaskHeartbeat, &WorkerService::HandleTaskHeartbeat},
      {protocol::kRouteReportResults, &WorkerService::HandleReportResults},
      {protocol::kRouteReportEvents, &WorkerService::HandleReportEvents},
      {protocol::kRouteAgentHeartbeat, &WorkerService::HandleAgentHeartbeat},
      {protocol::kRouteRegister, &WorkerService::HandleRegister},
      {protocol::kRouteGetProject, &WorkerService::HandleGetProject},
  };
  for (const auto& [route, method] : kRoutes) {
    if (request.target != route) continue;
    if (request.peer == nullptr || request.peer->anonymous()) {
      responder->Send(ErrorResponse(sdk::Status::Unauthenticated(
          "worker calls need a trusted worker certificate; this connection presented none")));
      responder.reset();
      return true;
    }
    (this->*method)(request, std::move(responder));
    return true;
  }
  return false;
}

sdk::Status WorkerService::CheckAgent(const sdk::Request& request,
                                      const std::string& agent_id) const {
  std::optional<TrustedPeer> peer = trust_.Find(request.peer->id);
  if (!peer || peer->kind != TrustedPeer::Kind::kWorker) {
    return sdk::Status::Unauthenticated("credential " + request.peer->id +
                                        " is not trusted as a worker");
  }
  if (peer->name != agent_id) {
    return sdk::Status::PermissionDenied("credential " + request.peer->id + " belongs to worker " +
                                         peer->name + ", not to worker " + agent_id);
  }
  return sdk::Status::Ok();
}

// ---- the simple calls: decode, check, one op, answer after commit ----------------------

void WorkerService::HandleRegister(const sdk::Request& request,
                                   std::unique_ptr<sdk::Responder> responder) {
  protocol::RegisterRequest message;
  if (sdk::Status s = protocol::Decode(request.body, &message); !s.ok()) {
    responder->Send(ErrorResponse(s));
    return;
  }
  auto reply = std::make_shared<protocol::RegisterReply>();
  auto shared = Share(std::move(responder));
  catalog::WorkerRegistration registration;
  registration.cert_sha256 = request.peer->id;
  registration.worker_agent_id = message.agent_id;
  registration.machine_name = message.machine_name;
  registration.max_task_count = message.max_task_count;
  writer_.Submit(
      [this, registration, reply](sdk::Connection& c) -> sdk::Status {
        catalog::Txn txn{c, dialect_, clock_.NowUnixMillis(), options_.catalog_key};
        SCALEOUT_ASSIGN_OR_RETURN(catalog::WorkerAgent worker,
                                  catalog::RegisterWorker(txn, registration));
        reply->agent_id = worker.worker_agent_id;
        reply->enabled = worker.is_enabled;
        reply->master_time_ms = txn.now;
        NoteWorkMayBeAvailable();  // an online worker may now claim
        return sdk::Status::Ok();
      },
      [this, reply, shared](const sdk::Status& status) {
        if (!status.ok()) {
          logger_.Warn("register refused: " + status.ToString());
          Send(shared, ErrorResponse(status));
          return;
        }
        reply->lease_interval_ms = options_.lease_interval_ms;
        reply->task_heartbeat_interval_ms = options_.task_heartbeat_interval_ms;
        reply->agent_heartbeat_interval_ms = options_.agent_heartbeat_interval_ms;
        Send(shared, ReplyResponse(*reply));
      });
}

void WorkerService::HandleAgentHeartbeat(const sdk::Request& request,
                                         std::unique_ptr<sdk::Responder> responder) {
  protocol::AgentHeartbeatRequest message;
  sdk::Status check = protocol::Decode(request.body, &message);
  if (check.ok()) check = CheckAgent(request, message.agent_id);
  if (!check.ok()) {
    responder->Send(ErrorResponse(check));
    return;
  }
  auto reply = std::make_shared<protocol::AgentHeartbeatReply>();
  auto shared = Share(std::move(responder));
  writer_.Submit(
      [this, message, reply](sdk::Connection& c) -> sdk::Status {
        catalog::Txn txn{c, dialect_, clock_.NowUnixMillis(), options_.catalog_key};
        catalog::WorkerResources resources;
        resources.cpu_percent = message.cpu_percent;
        resources.free_memory_mb = static_cast<double>(message.free_memory_mb);
        resources.running_tasks = message.running_tasks;
        SCALEOUT_RETURN_IF_ERROR(catalog::WorkerHeartbeat(txn, message.agent_id, resources));
        // The worker may have been offline; now it is online and may claim.
        NoteWorkMayBeAvailable();
        const catalog::Caller self = catalog::Caller::Admin("master");
        SCALEOUT_ASSIGN_OR_RETURN(catalog::WorkerAgent worker,
                                  catalog::GetWorkerAgent(txn, self, message.agent_id));
        reply->enabled = worker.is_enabled;
        return sdk::Status::Ok();
      },
      [reply, shared](const sdk::Status& status) {
        Send(shared, status.ok() ? ReplyResponse(*reply) : ErrorResponse(status));
      });
}

void WorkerService::HandleTaskHeartbeat(const sdk::Request& request,
                                        std::unique_ptr<sdk::Responder> responder) {
  protocol::TaskHeartbeatRequest message;
  sdk::Status check = protocol::Decode(request.body, &message);
  if (check.ok()) check = CheckAgent(request, message.agent_id);
  if (!check.ok()) {
    responder->Send(ErrorResponse(check));
    return;
  }
  auto reply = std::make_shared<protocol::TaskHeartbeatReply>();
  SubmitCatalogCall(
      writer_,
      [this, message = std::move(message), reply](sdk::Connection& c) -> sdk::Status {
        catalog::Txn txn{c, dialect_, clock_.NowUnixMillis(), options_.catalog_key};
        return RenewLeasesOp(txn, message.agent_id, message, options_.lease_interval_ms,
                             reply.get());
      },
      [reply, responder = std::move(responder)](const sdk::Status& status) {
        responder->Send(status.ok() ? ReplyResponse(*reply) : ErrorResponse(status));
      });
}

void WorkerService::HandleReportEvents(const sdk::Request& request,
                                       std::unique_ptr<sdk::Responder> responder) {
  auto message = std::make_shared<protocol::ReportEventsRequest>();
  sdk::Status check = protocol::Decode(request.body, message.get());
  if (check.ok()) check = CheckAgent(request, message->agent_id);
  if (!check.ok()) {
    responder->Send(ErrorResponse(check));
    return;
  }
  SubmitCatalogCall(
      writer_,
      [this, message](sdk::Connection& c) -> sdk::Status {
        catalog::Txn txn{c, dialect_, clock_.NowUnixMillis(), options_.catalog_key};
        return InsertEventsOp(txn, *message);
      },
      [responder = std::move(responder)](const sdk::Status& status) {
        responder->Send(status.ok() ? ReplyResponse(protocol::ReportEventsReply{true})
                                    : ErrorResponse(status));
      });
}

void WorkerService::HandleReportResults(const sdk::Request& request,
                                        std::unique_ptr<sdk::Responder> responder) {
  auto message = std::make_shared<protocol::ReportResultsRequest>();
  sdk::Status check = protocol::Decode(request.body, message.get());
  if (check.ok()) check = CheckAgent(request, message->agent_id);
  if (!check.ok()) {
    responder->Send(ErrorResponse(check));
    return;
  }
  auto reply = std::make_shared<protocol::ReportResultsReply>();
  // All of the request's results in one op (one savepoint-free write set).
  SubmitCatalogCall(
      writer_,
      [this, message, reply](sdk::Connection& c) -> sdk::Status {
        catalog::Txn txn{c, dialect_, clock_.NowUnixMillis(), options_.catalog_key};
        SCALEOUT_RETURN_IF_ERROR(CompleteTasksOp(txn, message->agent_id, *message, reply.get()));
        NoteWorkMayBeAvailable();  // a freed slot or a queued retry
        return sdk::Status::Ok();
      },
      [reply, responder = std::move(responder)](const sdk::Status& status) {
        responder->Send(status.ok() ? ReplyResponse(*reply) : ErrorResponse(status));
      });
}

void WorkerService::HandleGetProject(const sdk::Request& request,
                                     std::unique_ptr<sdk::Responder> responder) {
  protocol::GetProjectRequest message;
  sdk::Status check = protocol::Decode(request.body, &message);
  if (check.ok()) check = CheckAgent(request, message.agent_id);
  if (!check.ok()) {
    responder->Send(ErrorResponse(check));
    return;
  }
  auto reply = std::make_shared<protocol::GetProjectReply>();
  auto shared = Share(std::move(responder));
  // A read, but through the writer so it sees every committed deploy; it is rare.
  writer_.Submit(
      [this, message, reply](sdk::Connection& c) -> sdk::Status {
        catalog::Txn txn{c, dialect_, clock_.NowUnixMillis(), options_.catalog_key};
        return GetProjectOp(txn, message, reply.get());
      },
      [reply, shared](const sdk::Status& status) {
        Send(shared, status.ok() ? ReplyResponse(*reply) : ErrorResponse(status));
      });
}

// ---- the long-poll for work ---------------------------------------------------------------

void WorkerService::HandleRequestTasks(const sdk::Request& request,
                                       std::unique_ptr<sdk::Responder> responder) {
  protocol::RequestTasksRequest message;
  sdk::Status check = protocol::Decode(request.body, &message);
  if (check.ok()) check = CheckAgent(request, message.agent_id);
  if (!check.ok()) {
    responder->Send(ErrorResponse(check));
    return;
  }
  auto waiter = std::make_shared<Waiter>();
  waiter->agent_id = std::move(message.agent_id);
  waiter->slots = message.free_slots;
  waiter->deadline =
      clock_.SteadyMillis() + std::min<std::int64_t>(message.wait_ms, options_.max_long_poll_ms);
  waiter->responder = std::move(responder);
  waiter->results = std::move(message.results);
  if (waiter->slots <= 0 && waiter->results.empty()) {
    AnswerWaiter(*waiter, NoTaskReply(*waiter));
    return;
  }
  SubmitClaim(waiter);
}

std::string WorkerService::ExecutorFor(const std::string& package_name) const {
  for (const auto& [extension, executor] : options_.executor_by_extension) {
    if (package_name.size() >= extension.size() &&
        package_name.compare(package_name.size() - extension.size(), extension.size(), extension) ==
            0) {
      return executor;
    }
  }
  return options_.default_executor;
}

void WorkerService::SubmitClaim(const std::shared_ptr<Waiter>& waiter) {
  writer_.Submit(*NewClaim(waiter));
}

catalog::CatalogWriter::Request* WorkerService::NewClaim(const std::shared_ptr<Waiter>& waiter) {
  struct ClaimState {
    std::uint64_t generation = 0;
    protocol::RequestTasksReply reply;
  };
  auto state = std::make_shared<ClaimState>();
  return NewCatalogCall(
      [this, waiter, state](sdk::Connection& c) -> sdk::Status {
        {
          std::lock_guard lock(mutex_);
          state->generation = generation_;
        }
        catalog::Txn txn{c, dialect_, clock_.NowUnixMillis(), options_.catalog_key};
        // The results first, in the same transaction: the slots they free
        // count for this claim, and the worker saves a round trip.
        if (!waiter->results.empty()) {
          SCALEOUT_RETURN_IF_ERROR(
              CompleteTasksOp(txn, waiter->agent_id, waiter->results, &waiter->acks));
          waiter->results.clear();
          NoteWorkMayBeAvailable();  // a freed slot or a queued retry
        }
        state->reply.tasks.clear();
        if (waiter->slots <= 0) return sdk::Status::Ok();
        SCALEOUT_ASSIGN_OR_RETURN(
            std::vector<catalog::ClaimedTask> claimed,
            catalog::ClaimTasks(txn, waiter->agent_id, waiter->slots, options_.lease_interval_ms));
        state->reply.tasks.reserve(claimed.size());
        for (auto& t : claimed) {
          std::string executor = ExecutorFor(t.package_name);
          state->reply.tasks.push_back(
              ToAssignment(std::move(t), options_.lease_interval_ms, std::move(executor)));
        }
        return sdk::Status::Ok();
      },
      [this, waiter, state](const sdk::Status& status) {
        if (!status.ok()) {
          AnswerWaiter(*waiter, ErrorResponse(status));
        } else if (!state->reply.tasks.empty() || waiter->slots <= 0 ||
                   clock_.SteadyMillis() >= waiter->deadline) {
          state->reply.result_acks = waiter->acks;
          AnswerWaiter(*waiter, ReplyResponse(state->reply));
        } else {
          ParkOrRetry(waiter, state->generation);
        }
      });
}

void WorkerService::ParkOrRetry(const std::shared_ptr<Waiter>& waiter,
                                std::uint64_t generation_seen) {
  bool stopping = false;
  bool parked = false;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    stopping = stopping_;
    if (!stopping && generation_ == generation_seen) {
      // The deadline thread needs waking only when this deadline comes before
      // the time it already means to wake up at; a long-poll usually ends
      // long after that.
      wake = waiter->deadline < deadline_thread_wakes_at_;
      if (wake) wake_deadline_thread_ = true;
      waiters_.push_back(waiter);
      parked = true;
    }
  }
  if (parked) {
    // The deadline thread recomputes its next deadline.
    if (wake) clock_.Wake(wake_deadline_thread_);
  } else if (stopping) {
    AnswerWaiter(*waiter, NoTaskReply(*waiter));
  } else {
    // Something that may make work claimable committed after our claim
    // looked: look again instead of sleeping through it.
    SubmitClaim(waiter);
  }
}

void WorkerService::ClaimInBatch(std::vector<catalog::CatalogWriter::Request*>& more) {
  // The flag stays set: OnCommit() still runs after the commit, for the
  // waiters parked meanwhile and the master's own task host.
  if (!work_may_be_available_.load(std::memory_order_relaxed)) return;
  std::vector<std::shared_ptr<Waiter>> waiters;
  {
    std::lock_guard lock(mutex_);
    if (waiters_.empty()) return;
    ++generation_;
    waiters.swap(waiters_);
  }
  more.reserve(more.size() + waiters.size());
  for (auto& w : waiters) more.push_back(NewClaim(w));
}

void WorkerService::OnCommit() {
  if (!work_may_be_available_.exchange(false, std::memory_order_relaxed)) return;
  std::vector<std::shared_ptr<Waiter>> waiters;
  {
    std::lock_guard lock(mutex_);
    ++generation_;
    waiters.swap(waiters_);
  }
  for (auto& w : waiters) SubmitClaim(w);
  if (options_.on_work_may_be_available) options_.on_work_may_be_available();
}

void WorkerService::AnswerWaiter(Waiter& waiter, sdk::Response response) {
  if (waiter.responder) {
    waiter.responder->Send(std::move(response));
    waiter.responder.reset();
  }
}

void WorkerService::DeadlineLoop() {
  std::int64_t last_fallback_poll = clock_.SteadyMillis();
  while (true) {
    std::vector<std::shared_ptr<Waiter>> expired;
    std::int64_t next_deadline = INT64_MAX;
    std::int64_t wake_at = 0;  // steady ms
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      const std::int64_t now = clock_.SteadyMillis();
      auto keep = std::partition(waiters_.begin(), waiters_.end(),
                                 [now](const auto& w) { return w->deadline > now; });
      expired.assign(std::make_move_iterator(keep), std::make_move_iterator(waiters_.end()));
      waiters_.erase(keep, waiters_.end());
      for (const auto& w : waiters_) next_deadline = std::min(next_deadline, w->deadline);
      const std::int64_t wait =
          next_deadline == INT64_MAX ? 1000 : std::max<std::int64_t>(next_deadline - now, 1);
      wake_at = now + std::min<std::int64_t>(wait, options_.fallback_poll_ms);
      deadline_thread_wakes_at_ = wake_at;
      wake_deadline_thread_ = false;
    }
    for (auto& w : expired) AnswerWaiter(*w, NoTaskReply(*w));
    const std::int64_t now = clock_.SteadyMillis();
    // Another master on the same catalog can make work claimable without our
    // writer committing anything: look again once per fallback interval.
    if (next_deadline != INT64_MAX && now - last_fallback_poll >= options_.fallback_poll_ms) {
      last_fallback_poll = now;
      NoteWorkMayBeAvailable();
      writer_.Submit([](sdk::Connection&) { return sdk::Status::Ok(); }, nullptr);
    }
    clock_.SleepFor(Millis(std::max<std::int64_t>(wake_at - now, 1)), wake_deadline_thread_);
  }
}

}  // namespace scaleout::core::master
