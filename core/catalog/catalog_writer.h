// CatalogWriter: the master's single catalog writer, committing in groups.
//
// Every state change of the catalog is a transaction (DESIGN §4), and the
// master is the bottleneck to design for (§9). A durable commit costs one
// fsync, which is far more than the statements it protects, so the writer
// runs many callers' operations in one transaction and pays one fsync for all
// of them ("group commit").
//
// How it works: one writer thread owns one sdk::Connection. Callers on any
// thread submit operations (ops). The writer takes everything queued (up to
// `max_batch_size`), runs BEGIN IMMEDIATE, runs each op inside its own
// SAVEPOINT (an op that fails is rolled back alone and the rest of the batch
// still commits), COMMITs, and only then acknowledges every op of the batch.
// Ops made only of catalog operations (Request::CatalogOpsOnly) skip the
// savepoint: those refuse before their first write, so a refused one leaves
// nothing behind, and one that fails after writing fails its whole batch.
// If BEGIN or COMMIT fails, every op of the batch gets that error and nothing
// of the batch is in the catalog. A busy database (kUnavailable) is retried
// with bounded exponential backoff before the batch fails.
//
// Ops: `sdk::Status(sdk::Connection&)`. An op runs on the writer thread inside
// the writer's transaction; it may read and write, and must not Begin(),
// Commit() or Rollback() (the catalog's in-transaction functions such as
// ClaimTasks are exactly this shape). It should Reset() the statements it
// steps. An op must not block on other ops (it would stall every caller).
//
// Acknowledgements run on the writer thread after the commit (or with the
// error), in submission order. They should be quick; they may Submit() more
// work but must not wait for it (Execute() from the writer thread fails with
// kFailedPrecondition rather than deadlocking).
//
// Three ways to submit, from leanest to most convenient:
//   * Submit(Request&): an intrusive, caller-owned request; no allocation at
//     all. The hot path of the master (claims, heartbeats, results) uses it.
//   * Execute(op): blocks until the op is committed and returns what the op
//     returned (Status or sdk::Result<T>), or the commit error. No allocation.
//   * Submit(Op, OnDone): two std::functions, one heap node per op.
//
// Shutdown: Stop() refuses new ops (kUnavailable), lets every op submitted
// before it commit and be acknowledged, then joins the writer thread.
//
// Thread-safety: Submit, Execute, stats() and Stop are safe from any thread.
// The Connection is touched only by the writer thread.
#ifndef SCALEOUT_CORE_CATALOG_CATALOG_WRITER_H_
#define SCALEOUT_CORE_CATALOG_CATALOG_WRITER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "core/common/clock.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::core::catalog {

struct CatalogWriterOptions {
  // Most ops in one transaction. Larger batches amortise the fsync further
  // but make every caller of the batch wait for the slowest op in it.
  std::size_t max_batch_size = 512;
  // How often BEGIN or COMMIT is retried when the database is busy
  // (kUnavailable) before the batch fails; the wait doubles each time.
  int max_busy_retries = 10;
  std::chrono::milliseconds initial_backoff{1};
  std::chrono::milliseconds max_backoff{250};
  // Called on the writer thread after every committed batch, before its ops
  // are acknowledged, with the number of ops in the batch (failed ops
  // included). The master uses it to wake long-polls. Must be quick.
  std::function<void(std::size_t ops)> after_commit;
  // Time source for the backoff sleeps; nullptr means SystemClock. Must
  // outlive the writer.
  Clock* clock = nullptr;
};

// Counters for metrics. A snapshot; each field is read atomically.
struct CatalogWriterStats {
  std::uint64_t batches = 0;         // committed transactions
  std::uint64_t ops = 0;             // ops in committed transactions (incl. failed ops)
  std::uint64_t failed_ops = 0;      // ops that returned an error and were rolled back alone
  std::uint64_t failed_batches = 0;  // batches whose BEGIN or COMMIT failed
  std::uint64_t busy_retries = 0;    // BEGIN/COMMIT retries after kUnavailable
  double average_batch_size() const {
    return batches == 0 ? 0.0 : static_cast<double>(ops) / static_cast<double>(batches);
  }
};

class CatalogWriter {
 public:
  using Op = std::function<sdk::Status(sdk::Connection&)>;
  using OnDone = std::function<void(sdk::Status)>;

  // An intrusive, caller-owned unit of work: the allocation-free way in.
  // The caller keeps it alive from Submit() until Done() has been called
  // (exactly once, on the writer thread, or on the submitting thread when
  // refused). Run() is called at most once. A request may be reused after
  // Done() returned.
  class Request {
   public:
    virtual ~Request() = default;
    // Runs inside the writer's transaction, in its own savepoint (unless
    // CatalogOpsOnly()).
    virtual sdk::Status Run(sdk::Connection& connection) = 0;
    // True when Run() writes only through the catalog's own operations
    // (procedures.h, scheduler.h, ...: every write they make is counted, and
    // every refusal comes before their first write). The writer then runs it
    // without a savepoint (two statements fewer per op): a failed op that
    // wrote nothing needs no rollback, and one that failed after writing (a
    // storage failure in the middle of an operation) fails its whole batch,
    // which is rolled back, so nothing of it stays either way. Default false:
    // an arbitrary op gets its savepoint and fails alone.
    virtual bool CatalogOpsOnly() const { return false; }
    // OK when Run() succeeded and its transaction committed; Run()'s error
    // when it failed (its changes rolled back); otherwise the BEGIN/COMMIT
    // error or kUnavailable when refused after Stop().
    virtual void Done(sdk::Status status) = 0;

   private:
    friend class CatalogWriter;
    Request* next_ = nullptr;  // queue link, owned by the writer while queued
    sdk::Status status_;       // Run()'s result, kept until the commit
  };

  // Takes ownership of `connection` (from sdk::Storage::Open(), configured
  // as the caller wants) and starts the writer thread. The connection's
  // Storage must outlive the writer.
  // REQUIRES: connection != nullptr and not in a transaction.
  explicit CatalogWriter(std::unique_ptr<sdk::Connection> connection,
                         CatalogWriterOptions options = {});
  // Stops (draining the queue) if Stop() was not called.
  ~CatalogWriter();
  CatalogWriter(const CatalogWriter&) = delete;
  CatalogWriter& operator=(const CatalogWriter&) = delete;

  // Opens a connection on `storage` and starts a writer on it.
  static sdk::Result<std::unique_ptr<CatalogWriter>> Open(sdk::Storage& storage,
                                                          CatalogWriterOptions options = {});

  // Queues `request`. After Stop(), calls request.Done(kUnavailable) at once.
  void Submit(Request& request);

  // Queues `op`; `done` (may be empty) gets the outcome as Request::Done.
  void Submit(Op op, OnDone done);

  // Runs `op` (returning sdk::Status or sdk::Result<T>) in the next batch and
  // blocks until its transaction committed. Returns what `op` returned, or the
  // BEGIN/COMMIT error, or kUnavailable after Stop(), or kFailedPrecondition
  // when called on the writer thread (it would wait for itself).
  template <typename F>
  auto Execute(F&& op) -> std::invoke_result_t<F&, sdk::Connection&>;

  // Refuses new ops, commits and acknowledges every op submitted before, and
  // joins the writer thread. Idempotent; must not be called from the writer
  // thread (an ack or an op).
  void Stop();

  CatalogWriterStats stats() const;

  // Called on the writer thread once a batch's ops have run, before its
  // COMMIT (not when the batch already failed): may append requests, as
  // Submit() takes them, to run last in the same transaction and be
  // acknowledged with the batch. The master claims there for parked
  // long-polls, so that a task an op of the batch made claimable is handed
  // out by the transaction that made it so, not by the next one. Must be
  // quick and must not wait for the writer. Set it before submitting work
  // that relies on it; a batch already taken runs without it.
  using BeforeCommit = std::function<void(std::vector<Request*>& more)>;
  void SetBeforeCommit(BeforeCommit hook);

 private:
  class FunctionRequest;
  template <typename R, typename F>
  class BlockingRequest;

  void WriterLoop();
  // Takes up to max_batch_size requests off the queue; blocks while it is
  // empty. Returns nullptr when stopping and nothing is left. Sets *count.
  Request* TakeBatch(std::size_t* count);
  void RunBatch(Request* batch, std::size_t count);
  // Runs one request inside its savepoint. Returns a non-OK status when the
  // transaction as a whole is lost (the batch must fail), OK otherwise; the
  // request's own outcome goes to request.status_.
  sdk::Status RunInSavepoint(Request& request);
  // Runs a CatalogOpsOnly() request without a savepoint; same contract as
  // RunInSavepoint, and a failure after a write loses the batch.
  sdk::Status RunWithoutSavepoint(Request& request);
  // Runs request.Run(), turning an exception into kInternal.
  sdk::Status RunGuarded(Request& request);
  sdk::Status PrepareSavepointStatements();
  sdk::Status StepOnce(sdk::Statement* statement);
  // Retries `attempt` while it returns kUnavailable and `can_retry` holds,
  // with bounded exponential backoff.
  sdk::Status WithBusyRetry(const std::function<sdk::Status()>& attempt,
                            const std::function<bool()>& can_retry);
  void FailBatch(Request* batch, const sdk::Status& status);
  bool OnWriterThread() const { return std::this_thread::get_id() == writer_id_.load(); }

  template <typename R>
  static sdk::Status StatusOf(const R& value) {
    if constexpr (std::is_same_v<R, sdk::Status>) {
      return value;
    } else {
      return value.status();
    }
  }

  const std::unique_ptr<sdk::Connection> connection_;  // writer thread only
  const CatalogWriterOptions options_;
  Clock& clock_;

  // Statements owned by connection_ (PrepareCached), writer thread only.
  sdk::Statement* savepoint_ = nullptr;
  sdk::Statement* release_ = nullptr;
  sdk::Statement* rollback_to_ = nullptr;
  sdk::Status prepare_status_;  // why the savepoint statements could not be made

  mutable std::mutex mutex_;
  std::condition_variable wake_writer_;
  Request* head_ = nullptr;           // FIFO, guarded by mutex_
  Request* tail_ = nullptr;           // guarded by mutex_
  std::size_t queued_ = 0;            // guarded by mutex_
  BeforeCommit before_commit_;        // guarded by mutex_; TakeBatch copies it for the batch
  BeforeCommit batch_before_commit_;  // writer thread only
  bool stopping_ = false;             // guarded by mutex_
  bool writer_idle_ = false;          // guarded by mutex_: the writer waits on wake_writer_
  std::mutex stop_mutex_;             // serialises Stop()

  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> ops_{0};
  std::atomic<std::uint64_t> failed_ops_{0};
  std::atomic<std::uint64_t> failed_batches_{0};
  std::atomic<std::uint64_t> busy_retries_{0};

  std::atomic<std::thread::id> writer_id_{};
  std::thread thread_;  // last member: started once everything above exists
};

// A request that blocks its caller: lives on the caller's stack, no
// allocation. Waits with a mutex and condition variable so the caller may
// destroy it as soon as Wait() returns.
template <typename R, typename F>
class CatalogWriter::BlockingRequest final : public CatalogWriter::Request {
 public:
  explicit BlockingRequest(F& op) : op_(op) {}

  sdk::Status Run(sdk::Connection& connection) override {
    result_.emplace(op_(connection));
    return StatusOf(*result_);
  }

  void Done(sdk::Status status) override {
    // A committed op keeps its own result; a failed batch (or a refusal)
    // replaces a value the op produced, since that value was never durable.
    if (!result_.has_value() || (!status.ok() && StatusOf(*result_).ok())) {
      result_.emplace(std::move(status));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
    cv_.notify_one();
  }

  R Wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [this] { return finished_; });
    return std::move(*result_);
  }

 private:
  F& op_;
  std::optional<R> result_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool finished_ = false;  // guarded by mutex_
};

template <typename F>
auto CatalogWriter::Execute(F&& op) -> std::invoke_result_t<F&, sdk::Connection&> {
  using R = std::invoke_result_t<F&, sdk::Connection&>;
  static_assert(std::is_constructible_v<R, sdk::Status>,
                "an op returns sdk::Status or sdk::Result<T>");
  if (OnWriterThread()) {
    return R(sdk::Status::FailedPrecondition(
        "CatalogWriter::Execute called on the writer thread; use Submit"));
  }
  BlockingRequest<R, std::remove_reference_t<F>> request(op);
  Submit(request);
  return request.Wait();
}

}  // namespace scaleout::core::catalog

#endif  // SCALEOUT_CORE_CATALOG_CATALOG_WRITER_H_
