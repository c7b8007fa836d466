// Worker operations: what one worker call does to the catalog, shared by the
// network WorkerService and the master's own task host (ServerTaskHost), so
// a server-mode task is claimed, renewed, logged and completed by exactly the
// same code as a task on a remote worker.
//
// Each function runs inside a transaction the caller owns (a CatalogWriter
// op), fills the reply and returns the op's status: a refusal of one task is
// reported in the reply; a storage failure fails the whole op (rollback).
//
// Thread-safety: as the Txn's connection (the writer thread).
#ifndef SCALEOUT_CORE_MASTER_WORKER_OPS_H_
#define SCALEOUT_CORE_MASTER_WORKER_OPS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/catalog/scheduler.h"
#include "core/catalog/transaction.h"
#include "core/protocol/messages.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::master {

// What a worker is told about one claimed attempt.
protocol::TaskAssignment ToAssignment(catalog::ClaimedTask task, std::int64_t lease_interval_ms,
                                      std::string executor);

// Renews `request.tasks` for `agent_id`; one TaskLeaseStatus per task.
sdk::Status RenewLeasesOp(catalog::Txn& txn, std::string_view agent_id,
                          const protocol::TaskHeartbeatRequest& request,
                          std::int64_t lease_interval_ms, protocol::TaskHeartbeatReply* reply);

// Stores a batch of execution events (a resent batch is not duplicated).
sdk::Status InsertEventsOp(catalog::Txn& txn, const protocol::ReportEventsRequest& request);

// Records each result once, with its lease epoch; one ResultAck per result,
// in order. A refusal (stale epoch, unknown task) is only acknowledged as
// such; a storage failure fails the whole op.
sdk::Status CompleteTasksOp(catalog::Txn& txn, std::string_view agent_id,
                            const std::vector<protocol::TaskResult>& results,
                            std::vector<protocol::ResultAck>* acks);
inline sdk::Status CompleteTasksOp(catalog::Txn& txn, std::string_view agent_id,
                                   const protocol::ReportResultsRequest& request,
                                   protocol::ReportResultsReply* reply) {
  return CompleteTasksOp(txn, agent_id, request.results, &reply->results);
}

// The files of a project version.
sdk::Status GetProjectOp(catalog::Txn& txn, const protocol::GetProjectRequest& request,
                         protocol::GetProjectReply* reply);

}  // namespace scaleout::core::master

#endif  // SCALEOUT_CORE_MASTER_WORKER_OPS_H_
