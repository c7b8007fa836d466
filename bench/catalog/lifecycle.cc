#include "bench/catalog/lifecycle.h"

#include <string>
#include <utility>
#include <vector>

#include "core/catalog/procedures.h"
#include "core/catalog/roles.h"
#include "core/catalog/scheduler.h"
#include "core/catalog/schema.h"
#include "core/catalog/transaction.h"
#include "core/common/clock.h"
#include "core/common/ids.h"

namespace scaleout::bench {
namespace {

using core::catalog::Txn;
using sdk::Connection;
using sdk::Status;

std::int64_t Now() { return core::SystemClock::Instance().NowUnixMillis(); }

Status StepAndReset(sdk::Statement* s) {
  auto stepped = s->Step();
  Status reset = s->Reset();
  if (!stepped.ok()) return stepped.status();
  return reset;
}

// ---- "catalog": the real procedures ------------------------------------------------------

constexpr std::int64_t kLeaseMillis = 3'600'000;  // nothing expires during a run
constexpr std::size_t kCatalogWorkers = 16;       // spreads MaxTaskCount (10000 each)

class CatalogWorkload final : public Workload {
 public:
  explicit CatalogWorkload(const WorkloadOptions& options) : options_(options) {}
  std::string_view name() const override { return "catalog"; }
  std::string_view description() const override {
    return "the catalog's procedures: CreateExecution, StartExecution, ClaimTasks(max 1), "
           "CompleteTask(succeeded)";
  }
  std::size_t workers() const override { return workers_.size(); }
  bool CatalogOpsOnly() const override { return true; }

  Status Setup(Connection& connection, const sdk::Dialect& dialect) override {
    SCALEOUT_RETURN_IF_ERROR(core::catalog::Migrate(connection, dialect, Now()));
    return core::catalog::RunInTransaction(connection, sdk::TransactionMode::kWrite,
                                           [&](Connection& c) -> Status {
                                             Txn txn{c, dialect, Now()};
                                             return Fixtures(txn);
                                           });
  }

  Status Step(Connection& connection, const sdk::Dialect& dialect, Lifecycle& lc) const override {
    Txn txn{connection, dialect, Now()};
    switch (lc.step) {
      case 0: {
        SCALEOUT_ASSIGN_OR_RETURN(lc.execution_id,
                                  core::catalog::CreateExecution(txn, admin_, request_));
        return Status::Ok();
      }
      case 1: return core::catalog::StartExecution(txn, admin_, lc.execution_id, 0);
      case 2: {
        SCALEOUT_ASSIGN_OR_RETURN(
            auto claimed, core::catalog::ClaimTasks(txn, workers_[lc.worker], 1, kLeaseMillis));
        lc.claimed = !claimed.empty();
        if (lc.claimed) {
          lc.task_id = std::move(claimed.front().task_id);
          lc.lease_epoch = claimed.front().lease_epoch;
        }
        return Status::Ok();
      }
      case 3:
        if (options_.events > 0) SCALEOUT_RETURN_IF_ERROR(InsertEvents(txn, lc));
        return core::catalog::CompleteTask(txn, workers_[lc.worker], lc.task_id, lc.lease_epoch,
                                           core::catalog::TaskResult::kSucceeded, 0, "")
            .status();
      default: return Status::Internal("no such life-cycle step");
    }
  }

 private:
  // The task's events, like executor/noop's one message.
  Status InsertEvents(Txn& txn, const Lifecycle& lc) const {
    std::vector<core::catalog::EventMessage> batch(static_cast<std::size_t>(options_.events));
    for (core::catalog::EventMessage& m : batch) {
      m.operation_id = lc.execution_id;
      m.message_time = txn.now;
      m.message_type = 70;  // information
      m.message_source = "noop";
      m.message = "noop: package 'Main.dtsx' attempt 1 succeeded";
      m.event_message_guid =
          options_.random_event_guids ? core::NewGuid() : core::NewTimeOrderedGuid(txn.now);
    }
    return core::catalog::InsertEvents(txn, batch).status();
  }

  Status Fixtures(Txn& txn) {
    SCALEOUT_RETURN_IF_ERROR(core::catalog::CreateFolder(txn, admin_, "bench").status());
    core::catalog::ProjectDeployment deployment;
    deployment.folder_name = "bench";
    deployment.project_name = "lifecycle";
    sdk::Bytes content;
    if (options_.package_bytes == 0) {
      const std::string stub = "<package/>";
      content.assign(stub.begin(), stub.end());
    } else {
      content.resize(options_.package_bytes);
      for (std::size_t i = 0; i < content.size(); ++i) {
        content[i] = static_cast<char>(i * 2654435761u >> 24);  // not all one byte
      }
    }
    deployment.packages.push_back({"Main.dtsx", std::move(content), true});
    SCALEOUT_RETURN_IF_ERROR(core::catalog::DeployProject(txn, admin_, deployment).status());
    SCALEOUT_RETURN_IF_ERROR(core::catalog::EnableScaleout(txn, admin_));
    for (std::size_t w = 0; w < kCatalogWorkers; ++w) {
      const std::string thumbprint(64, "0123456789ABCDEF"[w]);
      core::catalog::AddWorkerRequest add;
      add.cert_sha256 = thumbprint;
      add.machine_name = "bench-worker-" + std::to_string(w);
      SCALEOUT_ASSIGN_OR_RETURN(std::string id, core::catalog::AddWorkerAgent(txn, admin_, add));
      core::catalog::WorkerRegistration registration;
      registration.cert_sha256 = thumbprint;
      registration.machine_name = add.machine_name;
      registration.user_account = "bench";
      registration.max_task_count = 10000;
      SCALEOUT_RETURN_IF_ERROR(core::catalog::RegisterWorker(txn, registration).status());
      SCALEOUT_RETURN_IF_ERROR(core::catalog::EnableWorkerAgent(txn, admin_, id));
      workers_.push_back(std::move(id));
    }
    request_.folder_name = "bench";
    request_.project_name = "lifecycle";
    request_.package_name = "Main.dtsx";
    request_.runinscaleout = true;
    request_.useanyworker = true;
    return Status::Ok();
  }

  core::catalog::Caller admin_ = core::catalog::Caller::Admin("bench");
  core::catalog::CreateExecutionRequest request_;
  std::vector<std::string> workers_;
  const WorkloadOptions options_;
};

// ---- "shape": the same four steps as plain statements --------------------------------------

class ShapeWorkload final : public Workload {
 public:
  std::string_view name() const override { return "shape"; }
  std::string_view description() const override {
    return "four steps of 1-3 statements on the benchmark's own tables (not the catalog's "
           "procedures): the writer's floor";
  }
  std::size_t workers() const override { return 16; }

  Status Setup(Connection& connection, const sdk::Dialect&) override {
    return connection.ExecuteScript(
        "CREATE TABLE bench_execution(execution_id INTEGER PRIMARY KEY, status INTEGER NOT NULL,"
        "  created INTEGER NOT NULL, started INTEGER, ended INTEGER, worker INTEGER);"
        "CREATE TABLE bench_task(task_id INTEGER PRIMARY KEY, execution_id INTEGER NOT NULL,"
        "  status INTEGER NOT NULL, worker INTEGER, lease_epoch INTEGER NOT NULL DEFAULT 0,"
        "  lease_expires INTEGER);"
        "CREATE INDEX bench_task_pending ON bench_task(status, task_id);");
  }

  Status Step(Connection& c, const sdk::Dialect&, Lifecycle& lc) const override {
    const std::int64_t now = Now();
    switch (lc.step) {
      case 0: {
        SCALEOUT_ASSIGN_OR_RETURN(
            sdk::Statement * s,
            c.PrepareCached("INSERT INTO bench_execution(status, created) VALUES (1, ?) "
                            "RETURNING execution_id"));
        SCALEOUT_RETURN_IF_ERROR(s->BindInt64(1, now));
        auto row = s->Step();
        if (row.ok() && *row) lc.execution_id = s->ColumnInt64(0);
        SCALEOUT_RETURN_IF_ERROR(s->Reset());
        return row.status();
      }
      case 1: {
        SCALEOUT_ASSIGN_OR_RETURN(
            sdk::Statement * start,
            c.PrepareCached("UPDATE bench_execution SET status = 5, started = ? "
                            "WHERE execution_id = ? AND status = 1"));
        SCALEOUT_RETURN_IF_ERROR(start->BindInt64(1, now));
        SCALEOUT_RETURN_IF_ERROR(start->BindInt64(2, lc.execution_id));
        SCALEOUT_RETURN_IF_ERROR(StepAndReset(start));
        SCALEOUT_ASSIGN_OR_RETURN(
            sdk::Statement * task,
            c.PrepareCached("INSERT INTO bench_task(execution_id, status) VALUES (?, 5)"));
        SCALEOUT_RETURN_IF_ERROR(task->BindInt64(1, lc.execution_id));
        return StepAndReset(task);
      }
      case 2: {
        SCALEOUT_ASSIGN_OR_RETURN(
            sdk::Statement * find,
            c.PrepareCached("SELECT task_id, execution_id, lease_epoch FROM bench_task "
                            "WHERE status = 5 ORDER BY task_id LIMIT 1"));
        auto row = find->Step();
        lc.claimed = row.ok() && *row;
        std::int64_t task = 0;
        std::int64_t execution = 0;
        if (lc.claimed) {
          task = find->ColumnInt64(0);
          execution = find->ColumnInt64(1);
          lc.lease_epoch = find->ColumnInt64(2) + 1;
        }
        SCALEOUT_RETURN_IF_ERROR(find->Reset());
        SCALEOUT_RETURN_IF_ERROR(row.status());
        if (!lc.claimed) return Status::Ok();
        lc.task_id = std::to_string(task);
        SCALEOUT_ASSIGN_OR_RETURN(
            sdk::Statement * lease,
            c.PrepareCached("UPDATE bench_task SET status = 2, worker = ?, lease_epoch = ?, "
                            "lease_expires = ? WHERE task_id = ?"));
        SCALEOUT_RETURN_IF_ERROR(lease->BindInt64(1, static_cast<std::int64_t>(lc.worker)));
        SCALEOUT_RETURN_IF_ERROR(lease->BindInt64(2, lc.lease_epoch));
        SCALEOUT_RETURN_IF_ERROR(lease->BindInt64(3, now + kLeaseMillis));
        SCALEOUT_RETURN_IF_ERROR(lease->BindInt64(4, task));
        SCALEOUT_RETURN_IF_ERROR(StepAndReset(lease));
        SCALEOUT_ASSIGN_OR_RETURN(
            sdk::Statement * run,
            c.PrepareCached("UPDATE bench_execution SET status = 2, worker = ? "
                            "WHERE execution_id = ?"));
        SCALEOUT_RETURN_IF_ERROR(run->BindInt64(1, static_cast<std::int64_t>(lc.worker)));
        SCALEOUT_RETURN_IF_ERROR(run->BindInt64(2, execution));
        lc.execution_id = execution;
        return StepAndReset(run);
      }
      case 3: {
        SCALEOUT_ASSIGN_OR_RETURN(
            sdk::Statement * task,
            c.PrepareCached("UPDATE bench_task SET status = 7 "
                            "WHERE task_id = ? AND lease_epoch = ? AND status = 2"));
        SCALEOUT_RETURN_IF_ERROR(task->BindInt64(1, std::stoll(lc.task_id)));
        SCALEOUT_RETURN_IF_ERROR(task->BindInt64(2, lc.lease_epoch));
        SCALEOUT_RETURN_IF_ERROR(StepAndReset(task));
        SCALEOUT_ASSIGN_OR_RETURN(
            sdk::Statement * done,
            c.PrepareCached("UPDATE bench_execution SET status = 7, ended = ? "
                            "WHERE execution_id = ?"));
        SCALEOUT_RETURN_IF_ERROR(done->BindInt64(1, now));
        SCALEOUT_RETURN_IF_ERROR(done->BindInt64(2, lc.execution_id));
        return StepAndReset(done);
      }
      default: return Status::Internal("no such life-cycle step");
    }
  }
};

}  // namespace

std::unique_ptr<Workload> MakeWorkload(std::string_view name, const WorkloadOptions& options) {
  if (name == "catalog") return std::make_unique<CatalogWorkload>(options);
  if (name == "shape") return std::make_unique<ShapeWorkload>();
  return nullptr;
}

}  // namespace scaleout::bench
