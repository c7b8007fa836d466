#include "core/management/read_pool.h"

#include <memory>
#include <utility>

#include "core/common/thread_name.h"

namespace scaleout::core::management {

ReadPool::ReadPool(sdk::Storage& storage, std::size_t threads) : storage_(storage) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i)
    threads_.push_back(NamedThread("catalog-reader", [this] { Loop(); }));
}

ReadPool::~ReadPool() { Stop(); }

bool ReadPool::Post(Job job) {
  {
    std::lock_guard lock(mutex_);
    if (!open_) return false;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void ReadPool::Stop() {
  {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  cv_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

sdk::Status ReadPool::RunInTransaction(sdk::Connection& connection, const Job& job,
                                       bool* connection_failed) {
  if (sdk::Status begun = connection.Begin(sdk::TransactionMode::kRead); !begun.ok()) {
    *connection_failed = true;
    return begun;
  }
  const sdk::Status status = job.run(connection);
  // A read has nothing to keep: end it either way, and report run's status
  // before the end's.
  const sdk::Status ended = status.ok() ? connection.Commit() : connection.Rollback();
  if (!ended.ok()) *connection_failed = true;
  return status.ok() ? ended : status;
}

void ReadPool::Loop() {
  std::unique_ptr<sdk::Connection> connection;  // this thread's alone
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return !jobs_.empty() || !open_; });
      if (jobs_.empty()) return;  // stopping and drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    sdk::Status status;
    if (!connection) {
      auto opened = storage_.Open();
      if (opened.ok()) {
        connection = std::move(opened).value();
      } else {
        status = opened.status();
      }
    }
    if (connection) {
      bool connection_failed = false;
      status = RunInTransaction(*connection, job, &connection_failed);
      // A connection that could not begin or end a transaction may be lost
      // (a database server gone) or stuck in one: the next job opens another.
      if (connection_failed) connection.reset();
    }
    job.done(status);
  }
}

}  // namespace scaleout::core::management
