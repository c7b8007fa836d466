// WorkerService long-polls on a ManualClock: a real SQLite catalog through
// the storage/sqlite plugin and the group-commit CatalogWriter; requests go
// in through Handle() as the transport would hand them over.
#include "core/master/worker_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "core/catalog/procedures.h"
#include "core/catalog/scheduler.h"
#include "core/catalog/schema.h"
#include "core/catalog/transaction.h"
#include "core/catalog/types.h"
#include "core/protocol/codec.h"
#include "core/protocol/messages.h"
#include "core/protocol/routes.h"
#include "host/plugin_loader.h"
#include "tests/support/test_util.h"

namespace scaleout::core::master {
namespace {

using catalog::Txn;

constexpr char kThumbprint[] = "AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12";

// Hands the one answer to a future.
class PromiseResponder final : public sdk::Responder {
 public:
  explicit PromiseResponder(std::promise<sdk::Response>* promise) : promise_(promise) {}
  void Send(sdk::Response response) noexcept override { promise_->set_value(std::move(response)); }

 private:
  std::promise<sdk::Response>* promise_;
};

class WorkerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loader_ = std::make_unique<host::PluginLoader>(logger_);
    sdk::Status loaded = test::LoadInTreePlugin(*loader_, "storage/sqlite");
    ASSERT_TRUE(loaded.ok()) << loaded.ToString();
    sdk::ConfigView::Map values{{"path", (dir_ / "catalog.db").string()},
                                {"synchronous", "NORMAL"}};
    auto storage = loader_->CreateStorage("sqlite", sdk::ConfigView(values, "storage.sqlite"));
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    storage_ = std::move(storage).value();
    ASSERT_TRUE(storage_->Start().ok());
    {
      auto opened = catalog::OpenCatalog(*storage_, clock_);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    }
    catalog::CatalogWriterOptions options;
    options.after_commit = [this](std::size_t) {
      if (service_) service_->OnCommit();
    };
    auto writer = catalog::CatalogWriter::Open(*storage_, std::move(options));
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    writer_ = std::move(writer).value();

    // A trusted (disabled, so never eligible) worker: its claims find nothing.
    catalog::AddWorkerRequest add;
    add.cert_sha256 = kThumbprint;
    auto id = writer_->Execute([&](sdk::Connection& c) {
      Txn txn{c, storage_->GetDialect(), clock_.NowUnixMillis()};
      return catalog::AddWorkerAgent(txn, admin_, add);
    });
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    agent_id_ = *id;
    trust_.Replace({{kThumbprint, TrustedPeer{TrustedPeer::Kind::kWorker, agent_id_}}});
    peer_.scheme = "x509";
    peer_.id = kThumbprint;

    WorkerServiceOptions service_options;
    service_options.max_long_poll_ms = 30'000;
    service_options.fallback_poll_ms = 1'000;
    service_ = std::make_unique<WorkerService>(*writer_, storage_->GetDialect(), clock_, trust_,
                                               logger_, service_options);
    service_->Start();
  }

  void TearDown() override {
    if (service_) service_->Stop();
    if (writer_) writer_->Stop();
    service_.reset();
    if (storage_) storage_->Stop();
  }

  // Sends request_tasks; the answer arrives in `promise`.
  void RequestTasks(std::int64_t wait_ms, std::promise<sdk::Response>* promise,
                    std::int32_t free_slots = 1, std::vector<protocol::TaskResult> results = {}) {
    protocol::RequestTasksRequest message;
    message.agent_id = agent_id_;
    message.free_slots = free_slots;
    message.wait_ms = wait_ms;
    message.results = std::move(results);
    const std::string body = protocol::Encode(message);
    sdk::Request request;
    request.method = "POST";
    request.target = protocol::kRouteRequestTasks;
    request.content_type = "application/msgpack";
    request.body = body;
    request.peer = &peer_;
    std::unique_ptr<sdk::Responder> responder = std::make_unique<PromiseResponder>(promise);
    ASSERT_TRUE(service_->Handle(request, responder));
  }

  // Blocks until the request's claim found nothing and it is parked.
  // One reading decides: a commit re-runs the parked claims, so the count
  // dips for a moment while they are taken out and parked again.
  void WaitUntilParked(std::size_t count) {
    std::size_t parked = service_->parked();
    for (int i = 0; i < 10'000 && parked < count; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      parked = service_->parked();
    }
    ASSERT_EQ(parked, count);
  }

  // The empty RequestTasksReply a long-poll ends with.
  static void ExpectEmptyReply(std::future<sdk::Response>& answer) {
    ASSERT_EQ(answer.wait_for(std::chrono::seconds(30)), std::future_status::ready)
        << "the long-poll was not answered at its deadline";
    sdk::Response response = answer.get();
    EXPECT_EQ(response.status, 200);
    protocol::RequestTasksReply reply;
    ASSERT_TRUE(protocol::Decode(response.body, &reply).ok());
    EXPECT_TRUE(reply.tasks.empty());
  }

  // Sends request_tasks and waits for its (immediate) answer.
  protocol::RequestTasksReply RequestTasksNow(std::int32_t free_slots,
                                              std::vector<protocol::TaskResult> results = {}) {
    std::promise<sdk::Response> promise;
    std::future<sdk::Response> answer = promise.get_future();
    RequestTasks(0, &promise, free_slots, std::move(results));
    protocol::RequestTasksReply reply;
    EXPECT_EQ(answer.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    sdk::Response response = answer.get();
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_TRUE(protocol::Decode(response.body, &reply).ok());
    return reply;
  }

  // Makes the worker eligible (registered with MaxTaskCount 1, enabled,
  // scale out on) and starts `executions` executions of a deployed package.
  std::vector<std::int64_t> StartWork(int executions) {
    auto run = [&](auto op) {
      return writer_->Execute([&](sdk::Connection& c) {
        Txn txn{c, storage_->GetDialect(), clock_.NowUnixMillis()};
        return op(txn);
      });
    };
    EXPECT_TRUE(run([&](Txn& t) { return catalog::CreateFolder(t, admin_, "F"); }).ok());
    catalog::ProjectDeployment d;
    d.folder_name = "F";
    d.project_name = "P";
    const std::string content = "noop";
    d.packages.push_back({"Main.noop", sdk::Bytes(content.begin(), content.end()), true});
    EXPECT_TRUE(run([&](Txn& t) { return catalog::DeployProject(t, admin_, d); }).ok());
    EXPECT_TRUE(run([&](Txn& t) { return catalog::EnableScaleout(t, admin_); }).ok());
    catalog::WorkerRegistration r;
    r.cert_sha256 = kThumbprint;
    r.machine_name = "w";
    r.user_account = "u";
    r.max_task_count = 1;
    EXPECT_TRUE(run([&](Txn& t) { return catalog::RegisterWorker(t, r); }).ok());
    EXPECT_TRUE(run([&](Txn& t) { return catalog::EnableWorkerAgent(t, admin_, agent_id_); }).ok());
    std::vector<std::int64_t> ids;
    for (int i = 0; i < executions; ++i) {
      catalog::CreateExecutionRequest create;
      create.folder_name = "F";
      create.project_name = "P";
      create.package_name = "Main.noop";
      create.runinscaleout = true;
      auto id = run([&](Txn& t) { return catalog::CreateExecution(t, admin_, create); });
      EXPECT_TRUE(id.ok()) << id.status().ToString();
      if (!id.ok()) return ids;
      EXPECT_TRUE(run([&](Txn& t) { return catalog::StartExecution(t, admin_, *id, 0); }).ok());
      ids.push_back(*id);
    }
    return ids;
  }

  catalog::ExecutionStatus StatusOf(std::int64_t execution_id) {
    auto e = writer_->Execute([&](sdk::Connection& c) {
      Txn txn{c, storage_->GetDialect(), clock_.NowUnixMillis()};
      return catalog::GetExecution(txn, admin_, execution_id);
    });
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? e->status : catalog::ExecutionStatus::kCreated;
  }

  static protocol::TaskResult Succeeded(const protocol::TaskAssignment& task) {
    protocol::TaskResult r;
    r.task_id = task.task_id;
    r.lease_epoch = task.lease_epoch;
    r.result = protocol::TaskOutcome::kSucceeded;
    r.message = "done";
    return r;
  }

  test::TempDir dir_;
  test::CapturingLogger logger_;
  ManualClock clock_;
  catalog::Caller admin_ = catalog::Caller::Admin("test");
  std::unique_ptr<host::PluginLoader> loader_;
  host::PluginPtr<sdk::Storage> storage_;
  std::unique_ptr<catalog::CatalogWriter> writer_;
  TrustStore trust_{logger_};
  sdk::PeerIdentity peer_;
  std::string agent_id_;
  std::unique_ptr<WorkerService> service_;
};

// The deadline thread sleeps up to fallback_poll_ms (1 s); a long-poll due
// sooner must wake it, or it would be answered only when that sleep ends.
TEST_F(WorkerServiceTest, ShortLongPollIsAnsweredAtItsOwnDeadline) {
  clock_.WaitForSleepers(1);  // the deadline thread, with nothing parked
  std::promise<sdk::Response> promise;
  std::future<sdk::Response> answer = promise.get_future();
  RequestTasks(50, &promise);
  WaitUntilParked(1);
  clock_.WaitForSleepers(1);
  clock_.Advance(Millis(60));  // past the poll's deadline, far before 1 s
  ExpectEmptyReply(answer);
  EXPECT_EQ(service_->parked(), 0u);
}

// A long-poll due after the deadline thread's next wake-up does not wake it;
// it is answered when its own deadline passes.
TEST_F(WorkerServiceTest, LongPollIsAnsweredWhenItsDeadlinePasses) {
  clock_.WaitForSleepers(1);
  std::promise<sdk::Response> promise;
  std::future<sdk::Response> answer = promise.get_future();
  RequestTasks(3'500, &promise);
  WaitUntilParked(1);
  for (int second = 0; second < 3; ++second) {
    clock_.WaitForSleepers(1);
    clock_.Advance(Millis(1'000));
    EXPECT_EQ(answer.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout)
        << "answered before its deadline";
    // The fallback poll re-claims the parked poll, which parks again.
    WaitUntilParked(1);
  }
  clock_.WaitForSleepers(1);
  clock_.Advance(Millis(600));
  ExpectEmptyReply(answer);
}

// A result that rides on the next request for work is recorded in the claim's
// own transaction, so the slot it frees is claimable at once: with
// MaxTaskCount 1 the second execution is handed out by the same request.
TEST_F(WorkerServiceTest, ResultsOnARequestForWorkFreeTheirSlotsForItsClaim) {
  const std::vector<std::int64_t> ids = StartWork(2);
  ASSERT_EQ(ids.size(), 2u);
  protocol::RequestTasksReply first = RequestTasksNow(1);
  ASSERT_EQ(first.tasks.size(), 1u);
  EXPECT_TRUE(first.result_acks.empty());
  // Without the result the worker is full in the catalog: nothing more.
  EXPECT_TRUE(RequestTasksNow(1).tasks.empty());

  protocol::RequestTasksReply second = RequestTasksNow(1, {Succeeded(first.tasks[0])});
  ASSERT_EQ(second.result_acks.size(), 1u);
  EXPECT_EQ(second.result_acks[0].task_id, first.tasks[0].task_id);
  EXPECT_EQ(second.result_acks[0].code, sdk::StatusCode::kOk);
  ASSERT_EQ(second.tasks.size(), 1u);
  EXPECT_NE(second.tasks[0].execution_id, first.tasks[0].execution_id);
  EXPECT_EQ(StatusOf(first.tasks[0].execution_id), catalog::ExecutionStatus::kSucceeded);
  EXPECT_EQ(StatusOf(second.tasks[0].execution_id), catalog::ExecutionStatus::kRunning);

  // A resent result (its ack was lost) is acknowledged again and counts once;
  // with no free slot the request only reports.
  protocol::RequestTasksReply again = RequestTasksNow(0, {Succeeded(first.tasks[0])});
  ASSERT_EQ(again.result_acks.size(), 1u);
  EXPECT_EQ(again.result_acks[0].code, sdk::StatusCode::kOk);
  EXPECT_TRUE(again.tasks.empty());
  // A stale result is refused per result; the request still gets its answer.
  protocol::TaskResult stale = Succeeded(second.tasks[0]);
  stale.lease_epoch += 1;
  protocol::RequestTasksReply refused = RequestTasksNow(0, {stale});
  ASSERT_EQ(refused.result_acks.size(), 1u);
  EXPECT_EQ(refused.result_acks[0].code, sdk::StatusCode::kAborted);
  EXPECT_EQ(StatusOf(second.tasks[0].execution_id), catalog::ExecutionStatus::kRunning);
}

// A request whose claim finds nothing waits as a long-poll; the acks of its
// results come with whatever answers it, here its deadline.
TEST_F(WorkerServiceTest, AParkedRequestAnswersItsResultsAtItsDeadline) {
  clock_.WaitForSleepers(1);
  protocol::TaskResult unknown;
  unknown.task_id = "01A24946-9EBA-7000-A0CB-81158C9048FE";
  unknown.lease_epoch = 1;
  unknown.result = protocol::TaskOutcome::kSucceeded;
  std::promise<sdk::Response> promise;
  std::future<sdk::Response> answer = promise.get_future();
  RequestTasks(50, &promise, 1, {unknown});
  WaitUntilParked(1);
  clock_.WaitForSleepers(1);
  clock_.Advance(Millis(60));
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  sdk::Response response = answer.get();
  protocol::RequestTasksReply reply;
  ASSERT_TRUE(protocol::Decode(response.body, &reply).ok());
  EXPECT_TRUE(reply.tasks.empty());
  ASSERT_EQ(reply.result_acks.size(), 1u);
  EXPECT_EQ(reply.result_acks[0].task_id, unknown.task_id);
  EXPECT_EQ(reply.result_acks[0].code, sdk::StatusCode::kNotFound);
}

}  // namespace
}  // namespace scaleout::core::master
