// CatalogWriter against a real SQLite file through the real storage plugin.
//
// Batches are made deterministic with a "gate": an op that holds the writer
// inside its transaction until the test opens it. Everything submitted while
// the gate is closed is queued, so it all lands in the next batch.
#include "core/catalog/catalog_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/catalog/sql.h"
#include "core/common/clock.h"
#include "core/common/thread_name.h"
#include "host/plugin_loader.h"
#include "scaleout/sdk/config.h"
#include "scaleout/sdk/logger.h"
#include "tests/support/test_util.h"

namespace scaleout::core::catalog {
namespace {

using sdk::Connection;
using sdk::Result;
using sdk::Status;
using sdk::StatusCode;

// Runs `sql` with `value` bound to its only parameter.
Status ExecWithInt(Connection& c, const char* sql, std::int64_t value) {
  SCALEOUT_ASSIGN_OR_RETURN(sdk::Statement * s, c.PrepareCached(sql));
  SCALEOUT_RETURN_IF_ERROR(s->BindInt64(1, value));
  auto stepped = s->Step();
  Status reset = s->Reset();
  if (!stepped.ok()) return stepped.status();
  return reset;
}

Status InsertItem(Connection& c, std::int64_t id) {
  return ExecWithInt(c, "INSERT INTO item(id) VALUES (?)", id);
}

Result<std::int64_t> QueryInt(Connection& c, const std::string& sql) {
  SCALEOUT_ASSIGN_OR_RETURN(auto s, c.Prepare(sql));
  SCALEOUT_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return Status::NotFound("no row for " + sql);
  return s->ColumnInt64(0);
}

// Holds the writer thread inside its transaction until Open().
class Gate {
 public:
  CatalogWriter::Op op() {
    return [this](Connection&) {
      entered_.set_value();
      open_.get_future().wait();
      return Status::Ok();
    };
  }
  void WaitEntered() { entered_.get_future().wait(); }
  void Open() { open_.set_value(); }

 private:
  std::promise<void> entered_;
  std::promise<void> open_;
};

CatalogWriterOptions WithBatchSize(std::size_t n) {
  CatalogWriterOptions options;
  options.max_batch_size = n;
  return options;
}

CatalogWriterOptions WithBusyRetries(int retries, Clock& clock) {
  CatalogWriterOptions options;
  options.max_busy_retries = retries;
  options.clock = &clock;
  return options;
}

// Moves a ManualClock forward in a loop until destroyed, so backoff sleeps end
// without the test waiting on real time.
class ClockAdvancer {
 public:
  explicit ClockAdvancer(ManualClock& clock)
      : thread_([this, &clock] {
          while (!stop_.load()) {
            clock.Advance(std::chrono::seconds(1));
            std::this_thread::yield();
          }
        }) {}
  ~ClockAdvancer() {
    stop_.store(true);
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Collects the outcomes of Submit(op, done) calls; thread-safe.
class Outcomes {
 public:
  CatalogWriter::OnDone Callback(int key) {
    return [this, key](Status s) {
      std::lock_guard<std::mutex> lock(mutex_);
      statuses_.emplace(key, std::move(s));
      cv_.notify_all();
    };
  }
  void WaitFor(std::size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return statuses_.size() >= count; });
  }
  Status Get(int key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = statuses_.find(key);
    return it == statuses_.end() ? Status::NotFound("no outcome") : it->second;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<int, Status> statuses_;
};

// A request that declares CatalogOpsOnly(): it writes through the catalog's
// counted Query (as the procedures do), so the writer runs it without a
// savepoint. Writes item `id` unless `write` is false, then returns `result`.
class CatalogOpRequest final : public CatalogWriter::Request {
 public:
  CatalogOpRequest(std::int64_t id, bool write, Status result)
      : id_(id), write_(write), result_(std::move(result)) {}
  Status Run(Connection& c) override {
    ++runs;
    if (write_) {
      SCALEOUT_ASSIGN_OR_RETURN(internal::Query q,
                                internal::Cached(c, "INSERT INTO item(id) VALUES (?)"));
      q.Int(id_);
      SCALEOUT_RETURN_IF_ERROR(q.Exec().status());
    }
    return result_;
  }
  bool CatalogOpsOnly() const override { return true; }
  void Done(Status status) override {
    std::lock_guard<std::mutex> lock(mutex_);
    outcome_ = std::move(status);
    done_ = true;
    cv_.notify_all();
  }
  Status Wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [this] { return done_; });
    return outcome_;
  }
  int runs = 0;  // written on the writer thread, read after Wait()

 private:
  std::int64_t id_;
  bool write_;
  Status result_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  Status outcome_;
};

class CatalogWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::LoadInTreePlugin(loader_, "storage/sqlite").ok());
    storage_ = MakeStorage({});
    ASSERT_NE(storage_, nullptr);
    auto setup = storage_->Open();
    ASSERT_TRUE(setup.ok()) << setup.status().ToString();
    ASSERT_TRUE(
        (*setup)
            ->ExecuteScript("CREATE TABLE item(id INTEGER PRIMARY KEY);"
                            "CREATE TABLE seq(rowid_ INTEGER PRIMARY KEY AUTOINCREMENT, "
                            "  thread INTEGER NOT NULL, n INTEGER NOT NULL);"
                            "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
                            "CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL "
                            "  REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);")
            .ok());
  }

  void TearDown() override {
    if (storage_ != nullptr) storage_->Stop();
  }

  // Swaps in a storage on the same file with extra settings.
  void ReplaceStorage(const sdk::ConfigView::Map& extra) {
    storage_->Stop();
    storage_ = MakeStorage(extra);
    ASSERT_NE(storage_, nullptr);
  }

  host::PluginPtr<sdk::Storage> MakeStorage(const sdk::ConfigView::Map& extra) {
    sdk::ConfigView::Map values{{"path", (dir_ / "catalog.db").string()},
                                {"synchronous", "NORMAL"}};
    for (const auto& [k, v] : extra) values[k] = v;
    auto storage = loader_.CreateStorage("sqlite", sdk::ConfigView(values, "storage.sqlite"));
    EXPECT_TRUE(storage.ok()) << storage.status().ToString();
    if (!storage.ok()) return nullptr;
    EXPECT_TRUE((*storage)->Start().ok());
    return std::move(storage).value();
  }

  std::unique_ptr<CatalogWriter> MakeWriter(CatalogWriterOptions options = {}) {
    auto writer = CatalogWriter::Open(*storage_, std::move(options));
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    return writer.ok() ? std::move(writer).value() : nullptr;
  }

  std::unique_ptr<Connection> Reader() {
    auto c = storage_->Open();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  std::int64_t Count(const std::string& table) {
    auto reader = Reader();
    auto n = QueryInt(*reader, "SELECT count(*) FROM " + table);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  bool ItemExists(Connection& c, std::int64_t id) {
    auto n = QueryInt(c, "SELECT count(*) FROM item WHERE id = " + std::to_string(id));
    return n.ok() && *n == 1;
  }

  test::TempDir dir_;
  sdk::NullLogger logger_;
  host::PluginLoader loader_{logger_};
  host::PluginPtr<sdk::Storage> storage_;
};

TEST_F(CatalogWriterTest, ManyThreadsAllOpsCommitted) {
  auto writer = MakeWriter();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 400;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::int64_t id = t * kPerThread + i;
        Status s = writer->Execute([id](Connection& c) { return InsertItem(c, id); });
        if (!s.ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  writer->Stop();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count("item"), kThreads * kPerThread);
  const CatalogWriterStats stats = writer->stats();
  EXPECT_EQ(stats.ops, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_GE(stats.batches, 1u);
  EXPECT_LE(stats.batches, stats.ops);
  EXPECT_EQ(stats.failed_ops, 0u);
  EXPECT_EQ(stats.failed_batches, 0u);
}

TEST_F(CatalogWriterTest, AcknowledgesOnlyAfterCommitVisibleToOtherConnections) {
  // Acks run on the writer thread, one at a time, so this reader is only
  // ever used by one thread.
  std::unique_ptr<Connection> reader = Reader();
  std::atomic<int> invisible{0};
  std::atomic<int> acked{0};
  auto writer = MakeWriter();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 250;
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::int64_t id = t * kPerThread + i;
        writer->Submit([id](Connection& c) { return InsertItem(c, id); },
                       [&, id](const Status& s) {
                         if (!s.ok() || !ItemExists(*reader, id)) invisible.fetch_add(1);
                         acked.fetch_add(1);
                       });
      }
    });
  }
  for (auto& t : threads) t.join();
  writer->Stop();
  EXPECT_EQ(acked.load(), kThreads * kPerThread);
  EXPECT_EQ(invisible.load(), 0);
}

TEST_F(CatalogWriterTest, FailingOpIsRolledBackAloneOthersCommit) {
  auto writer = MakeWriter();
  Gate gate;
  Outcomes outcomes;
  writer->Submit(gate.op(), outcomes.Callback(0));
  gate.WaitEntered();
  // All of these land in the batch after the gate's.
  writer->Submit([](Connection& c) { return InsertItem(c, 1); }, outcomes.Callback(1));
  writer->Submit(
      [](Connection& c) {
        // Writes, then fails: the write must vanish with it.
        SCALEOUT_RETURN_IF_ERROR(InsertItem(c, 2));
        return Status::FailedPrecondition("refused after writing");
      },
      outcomes.Callback(2));
  writer->Submit([](Connection& c) { return InsertItem(c, 3); }, outcomes.Callback(3));
  writer->Submit([](Connection& c) { return InsertItem(c, 1); },  // duplicate key
                 outcomes.Callback(4));
  writer->Submit([](Connection&) -> Status { throw std::runtime_error("boom"); },
                 outcomes.Callback(5));
  writer->Submit([](Connection& c) { return InsertItem(c, 6); }, outcomes.Callback(6));
  const CatalogWriterStats before = writer->stats();
  gate.Open();
  outcomes.WaitFor(7);
  writer->Stop();

  EXPECT_TRUE(outcomes.Get(1).ok()) << outcomes.Get(1).ToString();
  EXPECT_EQ(outcomes.Get(2).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(outcomes.Get(3).ok()) << outcomes.Get(3).ToString();
  EXPECT_EQ(outcomes.Get(4).code(), StatusCode::kAborted) << outcomes.Get(4).ToString();
  EXPECT_EQ(outcomes.Get(5).code(), StatusCode::kInternal);
  EXPECT_TRUE(outcomes.Get(6).ok());
  auto reader = Reader();
  EXPECT_TRUE(ItemExists(*reader, 1));
  EXPECT_FALSE(ItemExists(*reader, 2));
  EXPECT_TRUE(ItemExists(*reader, 3));
  EXPECT_TRUE(ItemExists(*reader, 6));
  EXPECT_EQ(Count("item"), 3);
  const CatalogWriterStats after = writer->stats();
  // The gate's batch, then one transaction for all six ops.
  EXPECT_EQ(after.batches - before.batches, 2u) << "the six ops must share one transaction";
  EXPECT_EQ(after.failed_ops, 3u);
  EXPECT_EQ(after.failed_batches, 0u);
}

TEST_F(CatalogWriterTest, CatalogOpRefusedBeforeWritingFailsAloneWithoutSavepoint) {
  auto writer = MakeWriter();
  Gate gate;
  Outcomes outcomes;
  writer->Submit(gate.op(), outcomes.Callback(0));
  gate.WaitEntered();
  CatalogOpRequest first(1, true, Status::Ok());
  CatalogOpRequest refused(2, false, Status::FailedPrecondition("refused before writing"));
  CatalogOpRequest duplicate(1, true, Status::Ok());  // its only INSERT fails: a write counted
  CatalogOpRequest last(3, true, Status::Ok());
  writer->Submit(first);
  writer->Submit(refused);
  writer->Submit(last);
  const CatalogWriterStats before = writer->stats();
  gate.Open();
  EXPECT_TRUE(first.Wait().ok());
  EXPECT_EQ(refused.Wait().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(last.Wait().ok());
  const CatalogWriterStats after = writer->stats();
  EXPECT_EQ(after.batches - before.batches, 2u) << "the three ops must share one transaction";
  EXPECT_EQ(after.failed_ops - before.failed_ops, 1u);
  EXPECT_EQ(after.failed_batches, 0u);
  auto reader = Reader();
  EXPECT_TRUE(ItemExists(*reader, 1));
  EXPECT_TRUE(ItemExists(*reader, 3));
  EXPECT_EQ(Count("item"), 2);

  // A catalog op whose write fails counts as having written: with no
  // savepoint to undo it alone, its batch is rolled back and every op of it
  // fails, so nothing of the batch is stored.
  Gate gate2;
  writer->Submit(gate2.op(), outcomes.Callback(1));
  gate2.WaitEntered();
  CatalogOpRequest before_it(10, true, Status::Ok());
  CatalogOpRequest after_it(11, true, Status::Ok());
  writer->Submit(before_it);
  writer->Submit(duplicate);
  writer->Submit(after_it);
  gate2.Open();
  const Status s1 = before_it.Wait();
  const Status s2 = duplicate.Wait();
  const Status s3 = after_it.Wait();
  for (const Status& s : {s1, s2, s3}) {
    EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
    EXPECT_NE(s.message().find("whole batch was rolled back"), std::string::npos) << s.ToString();
  }
  EXPECT_EQ(after_it.runs, 0) << "ops after the failure must not run";
  EXPECT_EQ(Count("item"), 2) << "items 10 and 11 must be rolled back with the batch";
  EXPECT_EQ(writer->stats().failed_batches, 1u);

  // The writer recovers: the next batch commits.
  CatalogOpRequest again(12, true, Status::Ok());
  writer->Submit(again);
  EXPECT_TRUE(again.Wait().ok());
  EXPECT_EQ(Count("item"), 3);
  writer->Stop();
}

TEST_F(CatalogWriterTest, CatalogOpFailingAfterAnEarlierWriteRollsBackItsBatch) {
  auto writer = MakeWriter();
  Gate gate;
  Outcomes outcomes;
  writer->Submit(gate.op(), outcomes.Callback(0));
  gate.WaitEntered();
  // Writes successfully, then fails (a storage failure in the middle of an
  // operation looks like this): its write must not be committed.
  CatalogOpRequest writes_then_fails(5, true, Status::Internal("disk went away"));
  CatalogOpRequest plain(6, true, Status::Ok());
  writer->Submit(plain);
  writer->Submit(writes_then_fails);
  gate.Open();
  EXPECT_EQ(plain.Wait().code(), StatusCode::kAborted);
  const Status failed = writes_then_fails.Wait();
  EXPECT_EQ(failed.code(), StatusCode::kAborted) << failed.ToString();
  EXPECT_NE(failed.message().find("disk went away"), std::string::npos) << failed.ToString();
  EXPECT_EQ(Count("item"), 0);
  writer->Stop();
}

TEST_F(CatalogWriterTest, CommitFailureFailsEveryOpOfTheBatch) {
  auto writer = MakeWriter();
  Gate gate;
  Outcomes outcomes;
  writer->Submit(gate.op(), outcomes.Callback(0));
  gate.WaitEntered();
  writer->Submit([](Connection& c) { return InsertItem(c, 1); }, outcomes.Callback(1));
  // A dangling reference to a deferred foreign key: the op succeeds, and the
  // real COMMIT of the batch fails in SQLite.
  writer->Submit(
      [](Connection& c) {
        return ExecWithInt(c,
                           "INSERT INTO child(id, parent_id) "
                           "VALUES (1, ?)",
                           42);
      },
      outcomes.Callback(2));
  writer->Submit([](Connection& c) { return InsertItem(c, 3); }, outcomes.Callback(3));
  gate.Open();
  outcomes.WaitFor(4);

  EXPECT_TRUE(outcomes.Get(0).ok());
  for (int key : {1, 2, 3}) {
    EXPECT_FALSE(outcomes.Get(key).ok()) << key;
    EXPECT_NE(outcomes.Get(key).message().find("commit"), std::string::npos)
        << outcomes.Get(key).ToString();
  }
  EXPECT_EQ(Count("item"), 0);
  EXPECT_EQ(Count("child"), 0);
  EXPECT_EQ(writer->stats().failed_batches, 1u);

  // The writer recovers: the next batch commits.
  EXPECT_TRUE(writer->Execute([](Connection& c) { return InsertItem(c, 7); }).ok());
  EXPECT_EQ(Count("item"), 1);
}

TEST_F(CatalogWriterTest, OpsOfOneThreadRunAndAreAcknowledgedInOrder) {
  auto writer = MakeWriter(WithBatchSize(16));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::vector<std::vector<int>> acks(kThreads);  // each written only by the writer thread
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        writer->Submit(
            [t, i](Connection& c) -> Status {
              SCALEOUT_ASSIGN_OR_RETURN(
                  auto* s, c.PrepareCached("INSERT INTO seq(thread, n) VALUES (?, ?)"));
              SCALEOUT_RETURN_IF_ERROR(s->BindInt64(1, t));
              SCALEOUT_RETURN_IF_ERROR(s->BindInt64(2, i));
              auto stepped = s->Step();
              SCALEOUT_RETURN_IF_ERROR(s->Reset());
              return stepped.status();
            },
            [&acks, t, i](const Status& s) {
              if (s.ok()) acks[t].push_back(i);
            });
      }
    });
  }
  for (auto& t : threads) t.join();
  writer->Stop();

  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(acks[t].size(), static_cast<std::size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) EXPECT_EQ(acks[t][i], i) << "thread " << t;
  }
  // The autoincrement key records the order the writer ran the ops in.
  auto reader = Reader();
  auto s = reader->Prepare("SELECT thread, n FROM seq ORDER BY rowid_");
  ASSERT_TRUE(s.ok());
  std::vector<int> next(kThreads, 0);
  int rows = 0;
  while (true) {
    auto row = (*s)->Step();
    ASSERT_TRUE(row.ok());
    if (!*row) break;
    const auto t = static_cast<int>((*s)->ColumnInt64(0));
    EXPECT_EQ((*s)->ColumnInt64(1), next[t]) << "thread " << t;
    next[t] = static_cast<int>((*s)->ColumnInt64(1)) + 1;
    ++rows;
  }
  EXPECT_EQ(rows, kThreads * kPerThread);
}

// What the before-commit hook adds runs last in the batch's transaction and
// is acknowledged with it.
TEST_F(CatalogWriterTest, BeforeCommitHookAddsRequestsToTheSameTransaction) {
  auto writer = MakeWriter();
  std::atomic<int> hook_calls{0};
  std::vector<std::unique_ptr<CatalogWriter::Request>> added;  // the hook's, owned here
  class Insert final : public CatalogWriter::Request {
   public:
    Insert(std::int64_t id, std::atomic<int>* acks) : id_(id), acks_(acks) {}
    Status Run(Connection& c) override { return InsertItem(c, id_); }
    void Done(Status status) override {
      if (status.ok()) acks_->fetch_add(1);
    }

   private:
    std::int64_t id_;
    std::atomic<int>* acks_;
  };
  std::atomic<int> added_acks{0};
  writer->SetBeforeCommit([&](std::vector<CatalogWriter::Request*>& more) {
    const int call = hook_calls.fetch_add(1);
    added.push_back(std::make_unique<Insert>(1000 + call, &added_acks));
    more.push_back(added.back().get());
  });
  ASSERT_TRUE(writer->Execute([](Connection& c) { return InsertItem(c, 1); }).ok());
  EXPECT_EQ(hook_calls.load(), 1);
  EXPECT_EQ(writer->stats().batches, 1u);  // one transaction for both
  EXPECT_EQ(writer->stats().ops, 2u);
  // Acknowledged after the Execute()'s op (in order), so only certainly
  // once the writer has stopped: Execute() may return before.
  writer->Stop();
  EXPECT_EQ(added_acks.load(), 1);
  auto reader = Reader();
  auto rows = QueryInt(*reader, "SELECT COUNT(*) FROM item WHERE id >= 1000");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(*rows, hook_calls.load());
  EXPECT_EQ(added_acks.load(), hook_calls.load());
}

TEST_F(CatalogWriterTest, StopDrainsEverythingSubmittedBeforeAndRefusesAfter) {
  auto writer = MakeWriter(WithBatchSize(8));
  Gate gate;
  Outcomes outcomes;
  writer->Submit(gate.op(), outcomes.Callback(-1));
  gate.WaitEntered();
  constexpr int kQueued = 100;
  for (int i = 0; i < kQueued; ++i) {
    writer->Submit([i](Connection& c) { return InsertItem(c, i); }, outcomes.Callback(i));
  }
  std::thread stopper([&] { writer->Stop(); });
  // Probe until Stop() has closed the door; probes accepted before that are
  // queued like any other op and must commit too.
  int accepted_probes = 0;
  for (int probe = 1000;; ++probe) {
    bool refused = false;  // set on this thread when Submit refuses at once
    writer->Submit([probe](Connection& c) { return InsertItem(c, probe); },
                   [&, probe](const Status& s) {
                     if (s.code() == StatusCode::kUnavailable) {
                       refused = true;
                     } else {
                       outcomes.Callback(probe)(s);
                     }
                   });
    if (refused) break;
    ++accepted_probes;
  }
  gate.Open();
  stopper.join();

  outcomes.WaitFor(1 + static_cast<std::size_t>(kQueued) +
                   static_cast<std::size_t>(accepted_probes));
  for (int i = 0; i < kQueued; ++i) EXPECT_TRUE(outcomes.Get(i).ok()) << i;
  EXPECT_EQ(Count("item"), kQueued + accepted_probes);

  // After Stop: refused at once, nothing written.
  Status late = writer->Execute([](Connection& c) { return InsertItem(c, 5000); });
  EXPECT_EQ(late.code(), StatusCode::kUnavailable);
  EXPECT_EQ(Count("item"), kQueued + accepted_probes);
  writer->Stop();  // idempotent
}

TEST_F(CatalogWriterTest, ExecuteReturnsTheOpsValue) {
  auto writer = MakeWriter();
  Result<std::int64_t> id = writer->Execute([](Connection& c) -> Result<std::int64_t> {
    SCALEOUT_RETURN_IF_ERROR(InsertItem(c, 41));
    return QueryInt(c, "SELECT max(id) + 1 FROM item");
  });
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, 42);

  Result<std::int64_t> failed =
      writer->Execute([](Connection&) -> Result<std::int64_t> { return Status::NotFound("x"); });
  EXPECT_EQ(failed.status().code(), StatusCode::kNotFound);
}

// Ops run on a thread named for `top -H` and profilers.
TEST_F(CatalogWriterTest, OpsRunOnTheThreadNamedCatalogWriter) {
  auto writer = MakeWriter();
  std::string name;
  ASSERT_TRUE(writer
                  ->Execute([&name](Connection&) {
                    name = scaleout::core::ThisThreadName();
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(name, "catalog-writer");
}

TEST_F(CatalogWriterTest, ExecuteOnTheWriterThreadFailsInsteadOfDeadlocking) {
  auto writer = MakeWriter();
  std::promise<Status> inner;
  writer->Submit([](Connection& c) { return InsertItem(c, 1); },
                 [&](const Status&) {
                   inner.set_value(writer->Execute([](Connection&) { return Status::Ok(); }));
                 });
  EXPECT_EQ(inner.get_future().get().code(), StatusCode::kFailedPrecondition);
}

TEST_F(CatalogWriterTest, AfterCommitHookRunsBeforeAcknowledgements) {
  std::atomic<int> hooks{0};
  std::atomic<std::size_t> hooked_ops{0};
  auto writer = MakeWriter(CatalogWriterOptions{.after_commit = [&](std::size_t ops) {
    hooks.fetch_add(1);
    hooked_ops.fetch_add(ops);
  }});
  int hooks_seen_by_ack = -1;
  Status s = writer->Execute([](Connection& c) { return InsertItem(c, 1); });
  ASSERT_TRUE(s.ok());
  writer->Submit([](Connection& c) { return InsertItem(c, 2); },
                 [&](const Status&) { hooks_seen_by_ack = hooks.load(); });
  writer->Stop();
  EXPECT_EQ(hooks_seen_by_ack, 2);
  EXPECT_EQ(hooked_ops.load(), 2u);
  EXPECT_EQ(writer->stats().batches, 2u);
}

TEST_F(CatalogWriterTest, BusyDatabaseIsRetriedWithBackoffThenSucceeds) {
  // No busy wait inside SQLite: a locked database reports kUnavailable at once.
  ReplaceStorage({{"busy_timeout_ms", "0"}});
  ManualClock clock;
  auto writer = MakeWriter(WithBusyRetries(50, clock));
  auto blocker = Reader();
  ASSERT_TRUE(blocker->Begin(sdk::TransactionMode::kWrite).ok());

  Outcomes outcomes;
  writer->Submit([](Connection& c) { return InsertItem(c, 1); }, outcomes.Callback(1));
  clock.WaitForSleepers(1);  // the writer's BEGIN was busy; it is backing off
  ASSERT_TRUE(blocker->Rollback().ok());
  ClockAdvancer advancer(clock);
  outcomes.WaitFor(1);
  EXPECT_TRUE(outcomes.Get(1).ok()) << outcomes.Get(1).ToString();
  EXPECT_GE(writer->stats().busy_retries, 1u);
  EXPECT_EQ(Count("item"), 1);
}

TEST_F(CatalogWriterTest, BusyDatabaseFailsTheBatchAfterBoundedRetries) {
  ReplaceStorage({{"busy_timeout_ms", "0"}});
  ManualClock clock;
  auto writer = MakeWriter(WithBusyRetries(3, clock));
  auto blocker = Reader();
  ASSERT_TRUE(blocker->Begin(sdk::TransactionMode::kWrite).ok());

  Outcomes outcomes;
  {
    ClockAdvancer advancer(clock);
    writer->Submit([](Connection& c) { return InsertItem(c, 1); }, outcomes.Callback(1));
    outcomes.WaitFor(1);
  }
  EXPECT_EQ(outcomes.Get(1).code(), StatusCode::kUnavailable) << outcomes.Get(1).ToString();
  EXPECT_EQ(writer->stats().busy_retries, 3u);
  EXPECT_EQ(writer->stats().failed_batches, 1u);
  ASSERT_TRUE(blocker->Rollback().ok());
  EXPECT_EQ(Count("item"), 0);
}

}  // namespace
}  // namespace scaleout::core::catalog
