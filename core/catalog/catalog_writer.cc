#include "core/catalog/catalog_writer.h"

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

#include "core/catalog/sql.h"
#include "core/common/thread_name.h"

namespace scaleout::core::catalog {
namespace {

// One savepoint name for every op: savepoints never nest here (each one is
// released before the next op starts).
constexpr std::string_view kSavepointSql = "SAVEPOINT scaleout_writer_op";
constexpr std::string_view kReleaseSql = "RELEASE SAVEPOINT scaleout_writer_op";
constexpr std::string_view kRollbackToSql = "ROLLBACK TO SAVEPOINT scaleout_writer_op";

}  // namespace

// The request behind Submit(Op, OnDone): owns both functions and deletes itself
// once acknowledged.
class CatalogWriter::FunctionRequest final : public CatalogWriter::Request {
 public:
  FunctionRequest(Op op, OnDone done) : op_(std::move(op)), done_(std::move(done)) {}

  sdk::Status Run(sdk::Connection& connection) override {
    if (!op_) return sdk::Status::InvalidArgument("empty CatalogWriter op");
    return op_(connection);
  }

  void Done(sdk::Status status) override {
    // Destroy first, so a done callback that throws does not leak the node.
    std::unique_ptr<FunctionRequest> self(this);
    if (done_) done_(std::move(status));
  }

 private:
  Op op_;
  OnDone done_;
};

CatalogWriter::CatalogWriter(std::unique_ptr<sdk::Connection> connection,
                             CatalogWriterOptions options)
    : connection_(std::move(connection)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Instance()) {
  thread_ = NamedThread("catalog-writer", [this] { WriterLoop(); });
}

CatalogWriter::~CatalogWriter() { Stop(); }

sdk::Result<std::unique_ptr<CatalogWriter>> CatalogWriter::Open(sdk::Storage& storage,
                                                                CatalogWriterOptions options) {
  auto connection = storage.Open();
  if (!connection.ok()) return connection.status().WithContext("opening the catalog writer");
  return std::make_unique<CatalogWriter>(std::move(connection).value(), std::move(options));
}

void CatalogWriter::Submit(Request& request) {
  request.next_ = nullptr;
  request.status_ = sdk::Status::Ok();
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!stopping_) {
      if (tail_ == nullptr) {
        head_ = &request;
      } else {
        tail_->next_ = &request;
      }
      tail_ = &request;
      ++queued_;
      // Wake the writer only when it sleeps; while it works it finds the
      // request in the queue by itself, and a notify would be a wasted syscall.
      const bool wake = writer_idle_;
      writer_idle_ = false;
      lock.unlock();
      if (wake) wake_writer_.notify_one();
      return;
    }
  }
  request.Done(sdk::Status::Unavailable("the catalog writer is stopped"));
}

void CatalogWriter::Submit(Op op, OnDone done) {
  Submit(*new FunctionRequest(std::move(op), std::move(done)));
}

void CatalogWriter::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_writer_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void CatalogWriter::SetBeforeCommit(BeforeCommit hook) {
  std::lock_guard<std::mutex> lock(mutex_);
  before_commit_ = std::move(hook);
}

CatalogWriterStats CatalogWriter::stats() const {
  CatalogWriterStats s;
  s.batches = batches_.load(std::memory_order_relaxed);
  s.ops = ops_.load(std::memory_order_relaxed);
  s.failed_ops = failed_ops_.load(std::memory_order_relaxed);
  s.failed_batches = failed_batches_.load(std::memory_order_relaxed);
  s.busy_retries = busy_retries_.load(std::memory_order_relaxed);
  return s;
}

void CatalogWriter::WriterLoop() {
  writer_id_.store(std::this_thread::get_id());
  prepare_status_ = PrepareSavepointStatements();
  std::size_t count = 0;
  while (Request* batch = TakeBatch(&count)) {
    RunBatch(batch, count);
  }
}

CatalogWriter::Request* CatalogWriter::TakeBatch(std::size_t* count) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (head_ == nullptr && !stopping_) {
    writer_idle_ = true;
    wake_writer_.wait(lock);
  }
  writer_idle_ = false;
  if (head_ == nullptr) return nullptr;  // stopping and drained
  batch_before_commit_ = before_commit_;
  Request* batch = head_;
  Request* last = head_;
  std::size_t n = 1;
  while (n < options_.max_batch_size && last->next_ != nullptr) {
    last = last->next_;
    ++n;
  }
  head_ = last->next_;
  if (head_ == nullptr) tail_ = nullptr;
  last->next_ = nullptr;
  queued_ -= n;
  *count = n;
  return batch;
}

sdk::Status CatalogWriter::PrepareSavepointStatements() {
  auto prepare = [this](std::string_view sql, sdk::Statement** out) -> sdk::Status {
    auto statement = connection_->PrepareCached(sql);
    if (!statement.ok()) return statement.status().WithContext("catalog writer");
    *out = statement.value();
    return sdk::Status::Ok();
  };
  SCALEOUT_RETURN_IF_ERROR(prepare(kSavepointSql, &savepoint_));
  SCALEOUT_RETURN_IF_ERROR(prepare(kReleaseSql, &release_));
  return prepare(kRollbackToSql, &rollback_to_);
}

sdk::Status CatalogWriter::StepOnce(sdk::Statement* statement) {
  auto stepped = statement->Step();
  sdk::Status reset = statement->Reset();
  if (!stepped.ok()) return stepped.status();
  return reset;
}

sdk::Status CatalogWriter::WithBusyRetry(const std::function<sdk::Status()>& attempt,
                                         const std::function<bool()>& can_retry) {
  static const std::atomic<bool> kNeverWake{false};
  std::chrono::milliseconds backoff = options_.initial_backoff;
  sdk::Status status = attempt();
  for (int retry = 0; retry < options_.max_busy_retries &&
                      status.code() == sdk::StatusCode::kUnavailable && can_retry();
       ++retry) {
    busy_retries_.fetch_add(1, std::memory_order_relaxed);
    clock_.SleepFor(backoff, kNeverWake);
    backoff = std::min(backoff * 2, options_.max_backoff);
    status = attempt();
  }
  return status;
}

void CatalogWriter::FailBatch(Request* batch, const sdk::Status& status) {
  failed_batches_.fetch_add(1, std::memory_order_relaxed);
  while (batch != nullptr) {
    Request* next = batch->next_;  // read before Done(): it may free or reuse the request
    batch->Done(status);
    batch = next;
  }
}

void CatalogWriter::RunBatch(Request* batch, std::size_t count) {
  sdk::Connection& connection = *connection_;
  if (!prepare_status_.ok()) return FailBatch(batch, prepare_status_);

  sdk::Status status =
      WithBusyRetry([&connection] { return connection.Begin(sdk::TransactionMode::kWrite); },
                    [] { return true; });
  if (!status.ok()) return FailBatch(batch, status.WithContext("beginning a catalog transaction"));

  std::uint64_t failed_ops = 0;
  // Runs `r` unless the transaction is lost already (it then fails with the batch).
  auto run = [&](Request& r) {
    if (!status.ok()) return;
    status = r.CatalogOpsOnly() ? RunWithoutSavepoint(r) : RunInSavepoint(r);
    if (!r.status_.ok()) ++failed_ops;
  };
  Request* last = batch;
  for (Request* r = batch; r != nullptr; r = r->next_) {
    run(*r);
    last = r;
  }
  if (status.ok() && batch_before_commit_) {
    std::vector<Request*> more;
    batch_before_commit_(more);
    for (Request* r : more) {  // linked after the batch, so acknowledged (or failed) with it
      r->next_ = nullptr;
      last->next_ = r;
      last = r;
      ++count;
      run(*r);
    }
  }
  if (status.ok()) {
    // A busy COMMIT leaves the transaction open, so it can simply be
    // retried; an I/O error may have rolled it back, and then it cannot.
    status = WithBusyRetry([&connection] { return connection.Commit(); },
                           [&connection] { return connection.InTransaction(); });
    if (!status.ok()) status = status.WithContext("committing a catalog transaction");
  }
  if (!status.ok()) {
    if (connection.InTransaction()) (void)connection.Rollback();
    return FailBatch(batch, status);
  }

  batches_.fetch_add(1, std::memory_order_relaxed);
  ops_.fetch_add(count, std::memory_order_relaxed);
  failed_ops_.fetch_add(failed_ops, std::memory_order_relaxed);
  if (options_.after_commit) options_.after_commit(count);
  while (batch != nullptr) {
    Request* next = batch->next_;  // read before Done(): it may free or reuse the request
    batch->Done(std::move(batch->status_));
    batch = next;
  }
}

sdk::Status CatalogWriter::RunGuarded(Request& request) {
  try {
    return request.Run(*connection_);
  } catch (const std::exception& e) {
    return sdk::Status::Internal(std::string("catalog op threw: ") + e.what());
  } catch (...) {
    return sdk::Status::Internal("catalog op threw a non-standard exception");
  }
}

sdk::Status CatalogWriter::RunWithoutSavepoint(Request& request) {
  // Writes are counted per thread, and ops run on this (the writer) thread.
  const std::uint64_t writes_before = internal::WriteCount();
  sdk::Status op_status = RunGuarded(request);
  if (!connection_->InTransaction()) {
    request.status_ = op_status.ok() ? sdk::Status::Internal("op ended the writer's transaction")
                                     : std::move(op_status);
    return sdk::Status::Aborted("a catalog op ended the transaction: " +
                                request.status_.ToString());
  }
  if (op_status.ok()) return sdk::Status::Ok();
  request.status_ = std::move(op_status);
  // Refused before its first write: nothing of it is in the transaction.
  if (internal::WriteCount() == writes_before) return sdk::Status::Ok();
  // Failed after writing, with no savepoint to undo it alone: the batch goes.
  return sdk::Status::Aborted(
      "a catalog operation failed after it had written (" + request.status_.ToString() +
      "), so its whole batch was rolled back; nothing of the batch was stored, retry it");
}

sdk::Status CatalogWriter::RunInSavepoint(Request& request) {
  SCALEOUT_RETURN_IF_ERROR(StepOnce(savepoint_).WithContext("opening an op's savepoint"));
  sdk::Status op_status = RunGuarded(request);
  // An op that committed, rolled back, or hit an error that made the database
  // roll back the whole transaction leaves nothing to release: the batch is lost.
  if (!connection_->InTransaction()) {
    request.status_ = op_status.ok() ? sdk::Status::Internal("op ended the writer's transaction")
                                     : std::move(op_status);
    return sdk::Status::Aborted("a catalog op ended the transaction: " +
                                request.status_.ToString());
  }
  if (!op_status.ok()) {
    request.status_ = std::move(op_status);
    SCALEOUT_RETURN_IF_ERROR(StepOnce(rollback_to_).WithContext("rolling back a failed op"));
  }
  return StepOnce(release_).WithContext("releasing an op's savepoint");
}

}  // namespace scaleout::core::catalog
