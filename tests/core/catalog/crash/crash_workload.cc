#include "tests/core/catalog/crash/crash_workload.h"

#include <charconv>
#include <filesystem>

#include "core/catalog/procedures.h"
#include "core/catalog/roles.h"
#include "core/catalog/scheduler.h"
#include "core/catalog/schema.h"
#include "core/catalog/transaction.h"
#include "core/common/clock.h"
#include "scaleout/sdk/config.h"

namespace scaleout::core::catalog::crash {

using sdk::Connection;
using sdk::Result;
using sdk::Status;

namespace {

constexpr std::int64_t kLeaseMillis = 3'600'000;  // no lease expires during the test
const std::string kThumbprint(64, 'C');

const Caller& Admin() {
  static const Caller admin = Caller::Admin("crash");
  return admin;
}

Txn MakeTxn(Connection& c, const sdk::Dialect& dialect) {
  return Txn{c, dialect, SystemClock::Instance().NowUnixMillis()};
}

Status Fixtures(Txn& txn) {
  auto folder = CreateFolder(txn, Admin(), "crash");
  if (folder.status().code() == sdk::StatusCode::kAlreadyExists) return Status::Ok();
  SCALEOUT_RETURN_IF_ERROR(folder.status());
  ProjectDeployment deployment;
  deployment.folder_name = "crash";
  deployment.project_name = "stream";
  const std::string content = "<package/>";
  deployment.packages.push_back({"Main.dtsx", sdk::Bytes(content.begin(), content.end()), true});
  SCALEOUT_RETURN_IF_ERROR(DeployProject(txn, Admin(), deployment).status());
  SCALEOUT_RETURN_IF_ERROR(EnableScaleout(txn, Admin()));
  AddWorkerRequest add;
  add.cert_sha256 = kThumbprint;
  add.worker_agent_id = std::string(kCrashWorkerId);
  add.machine_name = "crash-worker";
  SCALEOUT_RETURN_IF_ERROR(AddWorkerAgent(txn, Admin(), add).status());
  WorkerRegistration registration;
  registration.cert_sha256 = kThumbprint;
  registration.machine_name = add.machine_name;
  registration.user_account = "crash";
  registration.max_task_count = 10000;
  SCALEOUT_RETURN_IF_ERROR(RegisterWorker(txn, registration).status());
  return EnableWorkerAgent(txn, Admin(), kCrashWorkerId);
}

}  // namespace

Result<host::PluginPtr<sdk::Storage>> OpenStorage(host::PluginLoader& loader,
                                                  const std::string& plugin_dir,
                                                  const std::string& database) {
  const std::filesystem::path file =
      std::filesystem::path(plugin_dir) / "libscaleout_storage_sqlite.so";
  if (loader.LoadedNames().empty()) SCALEOUT_RETURN_IF_ERROR(loader.LoadFile(file));
  const sdk::ConfigView::Map values{
      {"path", database}, {"synchronous", "FULL"}, {"journal_mode", "WAL"}};
  SCALEOUT_ASSIGN_OR_RETURN(
      auto storage, loader.CreateStorage("sqlite", sdk::ConfigView(values, "storage.sqlite")));
  SCALEOUT_RETURN_IF_ERROR(storage->Start());
  return storage;
}

Status PrepareDatabase(sdk::Storage& storage) {
  SCALEOUT_ASSIGN_OR_RETURN(auto connection, OpenCatalog(storage, SystemClock::Instance()));
  return RunInTransaction(*connection, sdk::TransactionMode::kWrite, [&](Connection& c) {
    Txn txn{c, storage.GetDialect(), SystemClock::Instance().NowUnixMillis()};
    return Fixtures(txn);
  });
}

Result<std::int64_t> Create(Connection& connection, const sdk::Dialect& dialect) {
  Txn txn = MakeTxn(connection, dialect);
  CreateExecutionRequest request;
  request.folder_name = "crash";
  request.project_name = "stream";
  request.package_name = "Main.dtsx";
  request.runinscaleout = true;
  return CreateExecution(txn, Admin(), request);
}

Status Start(Connection& connection, const sdk::Dialect& dialect, std::int64_t execution_id) {
  Txn txn = MakeTxn(connection, dialect);
  return StartExecution(txn, Admin(), execution_id, 0);
}

Result<Claim> ClaimOne(Connection& connection, const sdk::Dialect& dialect) {
  Txn txn = MakeTxn(connection, dialect);
  SCALEOUT_ASSIGN_OR_RETURN(auto claimed, ClaimTasks(txn, kCrashWorkerId, 1, kLeaseMillis));
  Claim claim;
  if (!claimed.empty()) {
    claim.execution_id = claimed.front().execution_id;
    claim.task_id = claimed.front().task_id;
    claim.lease_epoch = claimed.front().lease_epoch;
  }
  return claim;
}

Status Complete(Connection& connection, const sdk::Dialect& dialect, const Claim& claim) {
  Txn txn = MakeTxn(connection, dialect);
  return CompleteTask(txn, kCrashWorkerId, claim.task_id, claim.lease_epoch, TaskResult::kSucceeded,
                      0, "")
      .status();
}

Acknowledged ParseLines(std::string_view output) {
  Acknowledged parsed;
  while (!output.empty()) {
    const std::size_t end = output.find('\n');
    if (end == std::string_view::npos) {
      parsed.partial_line = std::string(output);
      break;
    }
    const std::string_view line = output.substr(0, end);
    output.remove_prefix(end + 1);
    if (line == "ready") {
      parsed.ready = true;
    } else if (line.size() > 2 && line[1] == ' ') {
      Ack ack;
      ack.op = line[0];
      std::from_chars(line.data() + 2, line.data() + line.size(), ack.execution_id);
      parsed.acks.push_back(ack);
    }
  }
  return parsed;
}

Status Verify(sdk::Storage& storage, const std::vector<Ack>& acknowledged) {
  SCALEOUT_ASSIGN_OR_RETURN(auto c, storage.Open());
  {
    SCALEOUT_ASSIGN_OR_RETURN(auto check, c->Prepare("PRAGMA integrity_check"));
    SCALEOUT_ASSIGN_OR_RETURN(bool row, check->Step());
    if (!row || check->ColumnText(0) != "ok") {
      return Status::DataLoss("integrity_check: " +
                              (row ? std::string(check->ColumnText(0)) : std::string("no row")));
    }
  }
  return RunInTransaction(*c, sdk::TransactionMode::kRead, [&](Connection& conn) -> Status {
    Txn txn{conn, storage.GetDialect(), SystemClock::Instance().NowUnixMillis()};
    for (const Ack& ack : acknowledged) {
      auto execution = GetExecution(txn, Admin(), ack.execution_id);
      const std::string what = std::string("acknowledged '") + ack.op + "' of execution " +
                               std::to_string(ack.execution_id);
      if (!execution.ok())
        return Status::DataLoss(what + " is lost: " + execution.status().ToString());
      const ExecutionStatus s = execution->status;
      bool ok = true;
      switch (ack.op) {
        case 'c': ok = true; break;
        case 's':
          ok = s == ExecutionStatus::kPending || s == ExecutionStatus::kRunning ||
               s == ExecutionStatus::kSucceeded;
          break;
        case 'k': ok = s == ExecutionStatus::kRunning || s == ExecutionStatus::kSucceeded; break;
        case 'd': ok = s == ExecutionStatus::kSucceeded; break;
        default: return Status::Internal(what + ": unknown op");
      }
      if (!ok) return Status::DataLoss(what + " is lost: it is " + StatusLabel(s));
    }
    return Status::Ok();
  });
}

}  // namespace scaleout::core::catalog::crash
