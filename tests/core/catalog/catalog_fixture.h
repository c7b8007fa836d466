// The catalog test fixture: a real catalog database opened through a storage
// plugin that the host's PluginLoader loads from the build's plugin folder.
//
// Parameterized by storage backend, so another driver (odbc + postgresql,
// odbc + sqlite) runs the same suite by adding a StorageParam. Time comes from
// a ManualClock.
#ifndef SCALEOUT_TESTS_CORE_CATALOG_CATALOG_FIXTURE_H_
#define SCALEOUT_TESTS_CORE_CATALOG_CATALOG_FIXTURE_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/catalog/procedures.h"
#include "core/catalog/roles.h"
#include "core/catalog/scheduler.h"
#include "core/catalog/schema.h"
#include "core/catalog/sensitive_values.h"
#include "core/catalog/transaction.h"
#include "core/common/clock.h"
#include "host/plugin_loader.h"
#include "scaleout/sdk/logger.h"
#include "tests/support/test_util.h"

namespace scaleout::core::catalog::testing {

struct StorageParam {
  std::string label;   // test-name suffix
  std::string plugin;  // "storage/sqlite"
  // Config; "{dir}" in a value becomes the test's temp folder.
  std::map<std::string, std::string> config;
};

// Every backend the suites run on (sqlite; with ODBC also PostgreSQL and SQLite through it).
std::vector<StorageParam> Backends();

class CatalogTest : public ::testing::TestWithParam<StorageParam> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Creates the storage (not opened as a catalog); used by schema tests.
  sdk::Storage& RawStorage() { return *storage_; }
  sdk::Connection& conn() { return *connection_; }
  const sdk::Dialect& dialect() { return storage_->GetDialect(); }
  ManualClock& clock() { return clock_; }
  std::int64_t now() { return clock_.NowUnixMillis(); }
  void Advance(std::int64_t ms) { clock_.Advance(Millis(ms)); }

  // Runs `fn` in a write transaction at the clock's time.
  sdk::Status Tx(const std::function<sdk::Status(Txn&)>& fn);
  template <typename T>
  sdk::Result<T> TxR(const std::function<sdk::Result<T>(Txn&)>& fn) {
    return RunInTransactionWithResult<T>(conn(), sdk::TransactionMode::kWrite,
                                         [&](sdk::Connection& c) -> sdk::Result<T> {
                                           Txn txn{c, dialect(), now(), txn_key_};
                                           return fn(txn);
                                         });
  }

  // Every row of every catalog table but `skip`, for "nothing changed"
  // comparisons.
  std::string Snapshot(const std::set<std::string>& skip = {});

  // ---- scenario helpers (each ASSERTs success) ----
  Caller admin_ = Caller::Admin("alice");
  Caller executor_{"eve", {std::string(kRoleClusterExecutor)}};
  Caller reader_{"rita", {std::string(kRoleReader)}};
  Caller worker_caller_{"worker", {std::string(kRoleWorker)}};

  // Folder "F", project "P" with packages "Main.dtsx" (entry point) and
  // "Child.dtsx" (not), a project parameter "Conn" (String, default "db")
  // and a required package parameter "Rows" (Int32) on Main.dtsx.
  void DeployBasic();
  // A later version of F/P: only the entry point "Main.dtsx" (with
  // `content`), declaring `parameters`.
  static ProjectDeployment NextVersion(std::vector<ParameterSpec> parameters,
                                       std::string content = "<main/>");
  // Trusts a worker with the given thumbprint seed, registers it and enables it.
  std::string AddWorker(char seed, bool enable = true, std::int64_t max_tasks = 10);
  std::string Thumb(char seed) { return std::string(64, seed); }
  void EnableScaleOut();
  // create_execution + Rows=5 + start_execution; returns execution id.
  std::int64_t StartedExecution(std::int64_t retry_count = 0, bool useanyworker = true,
                                const std::vector<std::string>& workers = {});
  std::int64_t CreatedExecution(bool useanyworker = true);
  Execution Exec(std::int64_t id);
  std::vector<Task> Tasks(std::int64_t id);
  std::vector<ClaimedTask> Claim(const std::string& worker, std::int64_t max = 10,
                                 std::int64_t lease_ms = 60000);
  // The worker's `worker_task_counts.claimed_task_count` and, counted from the tasks, how many
  // attempts it runs; the two must agree after every operation.
  std::int64_t ClaimedCount(const std::string& worker);
  std::int64_t RunningCount(const std::string& worker);
  // The ids ListExecutions lists for `status`, and those a plain scan of
  // executions finds, newest first.
  std::vector<std::int64_t> ListedIds(ExecutionStatus status);
  std::vector<std::int64_t> ScannedIds(ExecutionStatus status);

  scaleout::test::TempDir dir_;
  // The catalog key the transactions of Tx and TxR carry (the master's
  // role); tests set txn_key_ to nullptr to run without one.
  CatalogKey key_ = CatalogKey::Generate().value();
  const CatalogKey* txn_key_ = &key_;

 private:
  sdk::NullLogger logger_;
  ManualClock clock_;
  std::unique_ptr<host::PluginLoader> loader_;
  host::PluginPtr<sdk::Storage> storage_;
  std::unique_ptr<sdk::Connection> connection_;

 protected:
  // Opens a second storage on the same config (for schema tests). Returns nullptr on failure.
  host::PluginPtr<sdk::Storage> MakeStorage();
  // A storage like MakeStorage() but on another, empty database named `name`
  // (a file next to the catalog, or a database on the test server).
  host::PluginPtr<sdk::Storage> MakeStorageOnOtherDatabase(const std::string& name);
  // Makes `connection` the one conn() and the helpers use; returns the previous one.
  std::unique_ptr<sdk::Connection> SwapConnection(std::unique_ptr<sdk::Connection> connection) {
    connection_.swap(connection);
    return connection;
  }
  sdk::ConfigView::Map config_;
};

// The status-code shorthand used by the tests.
inline sdk::StatusCode Code(const sdk::Status& s) { return s.code(); }
template <typename T>
sdk::StatusCode Code(const sdk::Result<T>& r) {
  return r.status().code();
}

// Expects `expr` (a Status) to be `want_code` with `text` in its message,
// and the catalog to be exactly as before (a refused call changes nothing).
#define EXPECT_REFUSED_UNCHANGED(expr, want_code, text)                     \
  do {                                                                      \
    const std::string before_ = Snapshot();                                 \
    const sdk::Status status_ = (expr);                                     \
    EXPECT_EQ(status_.code(), want_code) << status_.ToString();             \
    EXPECT_THAT(status_.message(), ::testing::HasSubstr(text));             \
    EXPECT_EQ(Snapshot(), before_) << "a refused call changed the catalog"; \
  } while (false)

}  // namespace scaleout::core::catalog::testing

#endif  // SCALEOUT_TESTS_CORE_CATALOG_CATALOG_FIXTURE_H_
