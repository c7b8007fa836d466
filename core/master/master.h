// Master: the Scale Out Master service, wired from its parts.
//
//   transport server ──► Dispatcher ──► WorkerService (worker protocol)
//                                   └─► route handlers (management API, ...)
//   WorkerService / management ──► CatalogWriter (group commit) ──► Storage
//   Sweeper: expired tasks, cleanup, master heartbeat, offline workers, trust reload
//
// The master holds no state the catalog does not: a restarted master (or a
// second one on the same catalog) picks up where the first left off, after a
// grace period that lets workers renew their leases.
//
// Ownership: the Master borrows the storage, transport, clock and logger
// (the host owns the plugins) and owns everything it builds on them.
// Thread-safety: Start/Stop from one controlling thread; the accessors are
// safe once Start() returned OK.
#ifndef SCALEOUT_CORE_MASTER_MASTER_H_
#define SCALEOUT_CORE_MASTER_MASTER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/catalog/catalog_writer.h"
#include "core/catalog/sensitive_values.h"
#include "core/common/clock.h"
#include "core/master/server_task_host.h"
#include "core/master/settings.h"
#include "core/master/sweeper.h"
#include "core/master/trust_store.h"
#include "core/master/worker_service.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/storage.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::core::master {

// Handles requests whose target starts with a registered prefix. Same
// contract as sdk::RequestHandler::OnRequest (I/O thread, must not block).
using RouteHandler =
    std::function<void(const sdk::Request& request, std::unique_ptr<sdk::Responder> responder)>;

class Master {
 public:
  Master(MasterSettings settings, sdk::Storage& storage, sdk::Transport& transport, Clock& clock,
         sdk::Logger& logger);
  ~Master();
  Master(const Master&) = delete;
  Master& operator=(const Master&) = delete;

  // Adds a handler for targets starting with `prefix` ("/api/v1/"); of
  // several matching prefixes the longest wins. REQUIRES: before Start().
  void AddRoute(std::string prefix, RouteHandler handler);

  // Runs server-mode executions (runinscaleout = 0) with `launcher` (which
  // must outlive the master), up to ServerMaxTaskCount at once. Without it,
  // or with ServerMaxTaskCount = 0, such executions wait for a master that
  // runs them. REQUIRES: before Start().
  void EnableServerTasks(worker::TaskLauncher& launcher) { server_launcher_ = &launcher; }

  // Opens (and migrates) the catalog, starts the writer, loads the trust
  // list, listens, and starts the sweeps. Errors say which step failed.
  sdk::Status Start();
  // Stops accepting, answers parked long-polls, stops sweeps, drains the
  // writer. Idempotent.
  void Stop();

  std::uint16_t port() const;
  const MasterSettings& settings() const { return settings_; }
  catalog::CatalogWriter& writer() { return *writer_; }
  const sdk::Dialect& dialect() const { return storage_.GetDialect(); }
  // The catalog's storage, for readers that must not wait for the writer.
  sdk::Storage& storage() { return storage_; }
  Clock& clock() { return clock_; }
  WorkerService& workers() { return *workers_; }
  TrustStore& trust() { return trust_; }
  Sweeper& sweeper() { return *sweeper_; }
  // Seals and opens the catalog's sensitive values (set once Start() passed
  // the catalog's opening; then immutable).
  const catalog::CatalogKey* catalog_key() const { return catalog_key_ ? &*catalog_key_ : nullptr; }
  // The master's own task host; nullptr when server mode is off.
  ServerTaskHost* server_tasks() { return server_tasks_.get(); }

  // Re-reads the trust list from the catalog (after adding or removing a
  // worker or principal). Blocks until done.
  sdk::Status ReloadTrust();

  // Runs one expired-task sweep now, ignoring the grace period (tests, admin).
  sdk::Status SweepExpiredTasks();
  // SSIS's maintenance job (catalog/maintenance.h): hourly, first a minute
  // after start; at most kMaxMaintenancePasses passes per run.
  sdk::Status SweepCatalogMaintenance();
  static constexpr std::int64_t kCatalogMaintenanceIntervalMs = 3'600'000;
  static constexpr std::int64_t kCatalogMaintenanceFirstDelayMs = 60'000;
  static constexpr int kMaxMaintenancePasses = 100;

 private:
  class Dispatcher;

  void AddSweeps();
  sdk::Status StartServerTasks();
  // Loads (or on a catalog that never had one, makes) the catalog key and
  // checks it is the one the catalog's sealed values need; seals what an
  // older catalog kept in plaintext.
  sdk::Status PrepareCatalogKey(sdk::Connection& connection);

  MasterSettings settings_;
  sdk::Storage& storage_;
  sdk::Transport& transport_;
  Clock& clock_;
  sdk::Logger& logger_;
  TrustStore trust_;
  std::optional<catalog::CatalogKey> catalog_key_;
  std::vector<std::pair<std::string, RouteHandler>> routes_;
  std::unique_ptr<catalog::CatalogWriter> writer_;
  std::unique_ptr<WorkerService> workers_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<sdk::Server> server_;
  std::unique_ptr<Sweeper> sweeper_;
  worker::TaskLauncher* server_launcher_ = nullptr;
  std::unique_ptr<ServerTaskHost> server_tasks_;
  // What the writer thread's after-commit hook reads (set once started).
  std::atomic<ServerTaskHost*> server_tasks_to_wake_{nullptr};
  bool started_ = false;
};

}  // namespace scaleout::core::master

#endif  // SCALEOUT_CORE_MASTER_MASTER_H_
