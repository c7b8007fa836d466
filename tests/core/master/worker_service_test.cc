// WorkerService long-polls on a ManualClock: a real SQLite catalog through
// the storage/sqlite plugin and the group-commit CatalogWriter; requests go
// in through Handle() as the transport would hand them over.
#include "core/master/worker_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "core/catalog/procedures.h"
#include "core/catalog/schema.h"
#include "core/catalog/transaction.h"
#include "core/catalog/types.h"
#include "core/master/routes.h"
#include "core/protocol/codec.h"
#include "core/protocol/messages.h"
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
  void RequestTasks(std::int64_t wait_ms, std::promise<sdk::Response>* promise) {
    protocol::RequestTasksRequest message;
    message.agent_id = agent_id_;
    message.free_slots = 1;
    message.wait_ms = wait_ms;
    const std::string body = protocol::Encode(message);
    sdk::Request request;
    request.method = "POST";
    request.target = kRouteRequestTasks;
    request.content_type = "application/msgpack";
    request.body = body;
    request.peer = &peer_;
    std::unique_ptr<sdk::Responder> responder = std::make_unique<PromiseResponder>(promise);
    ASSERT_TRUE(service_->Handle(request, responder));
  }

  // Blocks until the request's claim found nothing and it is parked.
  void WaitUntilParked(std::size_t count) {
    for (int i = 0; i < 10'000 && service_->parked() < count; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(service_->parked(), count);
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

}  // namespace
}  // namespace scaleout::core::master
