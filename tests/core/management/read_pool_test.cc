// ReadPool on a real SQLite file, through the forwarding storage for fault
// injection: jobs read in a transaction of their own while a writer holds
// the write lock (no waiting, no uncommitted rows), every job is answered
// (run's error, a failed open), a connection that failed to begin or end a
// transaction is replaced, and Stop() runs what was queued.
#include "core/management/read_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <string>

#include "host/plugin_loader.h"
#include "tests/support/forwarding_plugins.h"
#include "tests/support/test_util.h"

namespace scaleout::core::management {
namespace {

class ReadPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loader_ = std::make_unique<host::PluginLoader>(logger_);
    auto storage = test::StartSqliteStorage(*loader_, dir_ / "catalog.db");
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    storage_ = std::make_unique<test::ForwardingStorage>(
        std::shared_ptr<sdk::Storage>(std::move(storage).value()), faults_);
    auto writer = storage_->Open();
    ASSERT_TRUE(writer.ok());
    writer_ = std::move(writer).value();
    ASSERT_TRUE(
        writer_->ExecuteScript("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1);").ok());
  }

  void TearDown() override {
    writer_.reset();
    if (storage_) storage_->Stop();
  }

  // Runs a job that reads COUNT(*) FROM t; returns (status, count).
  std::pair<sdk::Status, std::int64_t> CountRows(ReadPool& pool) {
    auto count = std::make_shared<std::int64_t>(-1);
    std::promise<sdk::Status> done;
    const bool posted =
        pool.Post({.run = [count](sdk::Connection& c) -> sdk::Status {
                     SCALEOUT_ASSIGN_OR_RETURN(auto statement, c.Prepare("SELECT COUNT(*) FROM t"));
                     SCALEOUT_ASSIGN_OR_RETURN(bool row, statement->Step());
                     if (row) *count = statement->ColumnInt64(0);
                     return sdk::Status::Ok();
                   },
                   .done = [&done](const sdk::Status& s) { done.set_value(s); }});
    EXPECT_TRUE(posted);
    sdk::Status status = done.get_future().get();
    return {status, *count};
  }

  test::TempDir dir_;
  test::CapturingLogger logger_;
  std::unique_ptr<host::PluginLoader> loader_;
  test::FaultInjectorPtr faults_ = std::make_shared<test::FaultInjector>();
  std::unique_ptr<test::ForwardingStorage> storage_;
  std::unique_ptr<sdk::Connection> writer_;
};

TEST_F(ReadPoolTest, ReadsWhileTheWriterHoldsTheWriteLock) {
  ReadPool pool(*storage_, 1);
  ASSERT_TRUE(writer_->Begin(sdk::TransactionMode::kWrite).ok());
  ASSERT_TRUE(writer_->ExecuteScript("INSERT INTO t VALUES (2);").ok());
  const auto [during, seen] = CountRows(pool);  // would wait for the lock in the writer's place
  ASSERT_TRUE(during.ok()) << during.ToString();
  EXPECT_EQ(seen, 1) << "saw a row not committed";
  ASSERT_TRUE(writer_->Commit().ok());
  EXPECT_EQ(CountRows(pool).second, 2);
  EXPECT_EQ(faults_->CallCount("Storage::Open"), 1 + 1) << "the thread keeps its connection";
}

TEST_F(ReadPoolTest, RunsErrorAndAFailedOpenAreAnsweredAndTheNextJobRuns) {
  ReadPool pool(*storage_, 1);
  std::promise<sdk::Status> done;
  ASSERT_TRUE(pool.Post({.run = [](sdk::Connection&) { return sdk::Status::NotFound("no row"); },
                         .done = [&done](const sdk::Status& s) { done.set_value(s); }}));
  EXPECT_EQ(done.get_future().get().code(), sdk::StatusCode::kNotFound);
  EXPECT_EQ(CountRows(pool).second, 1) << "a failed read keeps its connection";
  EXPECT_EQ(faults_->CallCount("Storage::Open"), 2);  // the writer's and the pool's
  faults_->FailNth("Connection::Begin", 1, sdk::Status::Unavailable("server gone"));
  const auto [failed, unused] = CountRows(pool);
  EXPECT_EQ(failed.code(), sdk::StatusCode::kUnavailable) << failed.ToString();
  EXPECT_EQ(CountRows(pool).second, 1);
  EXPECT_EQ(faults_->CallCount("Storage::Open"), 3)
      << "a connection that failed to begin is replaced";
  // (One injected fault at a time: FailNth replaces the hook.)
  faults_->FailNth("Connection::Commit", 1, sdk::Status::Internal("lost"));
  EXPECT_EQ(CountRows(pool).first.code(), sdk::StatusCode::kInternal);
  faults_->FailNth("Storage::Open", 1, sdk::Status::Unavailable("cannot connect"));
  EXPECT_EQ(CountRows(pool).first.code(), sdk::StatusCode::kUnavailable)
      << "a connection that failed to commit is replaced, and here the reopen fails";
  EXPECT_TRUE(CountRows(pool).first.ok());
}

TEST_F(ReadPoolTest, StopRunsWhatWasQueuedThenRefuses) {
  ReadPool pool(*storage_, 1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> answered{0};
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(pool.Post({.run =
                               [released](sdk::Connection&) {
                                 released.wait();
                                 return sdk::Status::Ok();
                               },
                           .done = [&answered](const sdk::Status&) { ++answered; }}));
  }
  std::thread stopper([&pool] { pool.Stop(); });
  release.set_value();
  stopper.join();
  EXPECT_EQ(answered.load(), 5);
  EXPECT_FALSE(pool.Post({.run = [](sdk::Connection&) { return sdk::Status::Ok(); },
                          .done = [](const sdk::Status&) {}}));
  pool.Stop();  // idempotent
}

}  // namespace
}  // namespace scaleout::core::management
