// ReadPool: threads that run the management API's reads (every operation
// that does not write: status, lists, an execution's details and log) each
// on a read connection of its own, never on the catalog writer's thread.
//
// A read can scan much of a table (All Executions filtered by a rare status
// walks the executions back to the first match); on the writer's thread
// every claim, heartbeat and result would wait for it. Here it runs in a read
// transaction of its own: a consistent snapshot of everything committed when
// it began (SQLite's WAL lets it read while the writer writes; PostgreSQL
// gives it its own session), so a client that saw its write acknowledged
// reads it back.
//
// Thread-safety: Post() and Stop() from any thread.
#ifndef SCALEOUT_CORE_MANAGEMENT_READ_POOL_H_
#define SCALEOUT_CORE_MANAGEMENT_READ_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "scaleout/sdk/status.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::core::management {

class ReadPool {
 public:
  struct Job {
    // Runs inside a read transaction on the thread's connection.
    std::function<sdk::Status(sdk::Connection&)> run;
    // Gets run's status, or the error of opening the connection, beginning
    // or ending the transaction; called once, on the pool thread, after the
    // transaction ended.
    std::function<void(const sdk::Status&)> done;
  };

  // `storage` (started) must outlive the pool; each of `threads` threads
  // opens its connection on its first job and again after an error.
  ReadPool(sdk::Storage& storage, std::size_t threads);
  ~ReadPool();
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;

  // Queues `job`; false (and `job` dropped) once stopping.
  bool Post(Job job);

  // Runs every job queued, then joins the threads and closes the
  // connections. Idempotent.
  void Stop();

 private:
  void Loop();
  static sdk::Status RunInTransaction(sdk::Connection& connection, const Job& job,
                                      bool* connection_failed);

  sdk::Storage& storage_;
  std::mutex mutex_;
  std::condition_variable cv_;  // jobs_ or open_ changed
  std::deque<Job> jobs_;        // guarded by mutex_
  bool open_ = true;            // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace scaleout::core::management

#endif  // SCALEOUT_CORE_MANAGEMENT_READ_POOL_H_
