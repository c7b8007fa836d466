#include "core/master/worker_ops.h"

#include <utility>
#include <vector>

#include "core/catalog/project_files.h"

namespace scaleout::core::master {
namespace {

using protocol::LeaseStatus;

catalog::TaskResult ToCatalog(protocol::TaskOutcome outcome) {
  switch (outcome) {
    case protocol::TaskOutcome::kSucceeded: return catalog::TaskResult::kSucceeded;
    case protocol::TaskOutcome::kCanceled: return catalog::TaskResult::kCanceled;
    default: return catalog::TaskResult::kFailed;
  }
}

LeaseStatus ToLeaseStatus(const catalog::LeaseRenewal& renewal) {
  if (renewal.status.ok()) {
    return renewal.stop_requested ? LeaseStatus::kStopRequested : LeaseStatus::kRenewed;
  }
  if (renewal.status.code() == sdk::StatusCode::kAborted) return LeaseStatus::kStale;
  return LeaseStatus::kUnknown;
}

int LoggingLevelOf(const std::vector<catalog::ParameterValue>& parameters) {
  for (const auto& p : parameters) {
    if (p.object_type == protocol::kObjectTypeExecution && p.parameter_name == "LOGGING_LEVEL" &&
        p.value) {
      try {
        return std::stoi(*p.value);
      } catch (...) {
        return 1;
      }
    }
  }
  return 1;
}

}  // namespace

protocol::TaskAssignment ToAssignment(catalog::ClaimedTask t, std::int64_t lease_interval_ms,
                                      std::string executor) {
  protocol::TaskAssignment a;
  a.task_id = std::move(t.task_id);
  a.execution_id = t.execution_id;
  a.attempt = static_cast<std::int32_t>(t.attempt);
  a.lease_epoch = t.lease_epoch;
  a.lease_expires_at_ms = t.lease_expires_at;
  a.lease_interval_ms = lease_interval_ms;
  a.folder = std::move(t.folder_name);
  a.project = std::move(t.project_name);
  a.project_id = t.project_id;
  a.project_version = t.project_lsn;
  a.executor = std::move(executor);
  a.package_name = std::move(t.package_name);
  a.logging_level = LoggingLevelOf(t.parameters);
  a.parameters.reserve(t.parameters.size());
  for (auto& p : t.parameters) {
    a.parameters.push_back({p.object_type, std::move(p.parameter_name), p.value.value_or(""),
                            std::move(p.data_type), p.sensitive});
  }
  return a;
}

sdk::Status RenewLeasesOp(catalog::Txn& txn, std::string_view agent_id,
                          const protocol::TaskHeartbeatRequest& request,
                          std::int64_t lease_interval_ms, protocol::TaskHeartbeatReply* reply) {
  std::vector<catalog::LeaseRef> leases;
  leases.reserve(request.tasks.size());
  for (const auto& t : request.tasks) leases.push_back({t.task_id, t.lease_epoch});
  SCALEOUT_ASSIGN_OR_RETURN(std::vector<catalog::LeaseRenewal> renewals,
                            catalog::RenewLeases(txn, agent_id, leases, lease_interval_ms));
  reply->tasks.clear();
  reply->tasks.reserve(renewals.size());
  for (const auto& r : renewals) {
    reply->tasks.push_back({r.task_id, ToLeaseStatus(r), r.lease_expires_at});
  }
  return sdk::Status::Ok();
}

sdk::Status InsertEventsOp(catalog::Txn& txn, const protocol::ReportEventsRequest& request) {
  std::vector<catalog::EventMessage> batch;
  batch.reserve(request.events.size());
  for (const auto& e : request.events) {
    catalog::EventMessage m;
    m.operation_id = e.execution_id;
    m.message_time = e.message_time_ms;
    m.message_type = e.message_type;
    m.message_source_type = e.message_source_type;
    m.message_source = e.message_source;
    m.message = e.message;
    m.event_message_guid = e.event_message_guid;
    batch.push_back(std::move(m));
  }
  return catalog::InsertEvents(txn, batch).status();
}

sdk::Status CompleteTasksOp(catalog::Txn& txn, std::string_view agent_id,
                            const std::vector<protocol::TaskResult>& results,
                            std::vector<protocol::ResultAck>* acks) {
  acks->clear();
  acks->reserve(results.size());
  for (const auto& r : results) {
    auto outcome = catalog::CompleteTask(txn, agent_id, r.task_id, r.lease_epoch,
                                         ToCatalog(r.result), r.exit_code, r.message);
    const sdk::Status& s = outcome.status();
    // A refusal changes nothing and is reported per result; a storage
    // failure mid-write must roll the whole op back.
    if (!outcome.ok() &&
        (s.code() == sdk::StatusCode::kUnavailable || s.code() == sdk::StatusCode::kInternal)) {
      return s;
    }
    acks->push_back({r.task_id, s.code(), s.message()});
  }
  return sdk::Status::Ok();
}

sdk::Status GetProjectOp(catalog::Txn& txn, const protocol::GetProjectRequest& request,
                         protocol::GetProjectReply* reply) {
  SCALEOUT_ASSIGN_OR_RETURN(
      std::vector<catalog::ProjectFileContent> files,
      catalog::ReadProjectFiles(txn, request.project_id, request.project_version));
  reply->files.clear();
  for (auto& f : files) {
    reply->files.push_back({std::move(f.name), std::move(f.content), std::move(f.sha256)});
  }
  return sdk::Status::Ok();
}

}  // namespace scaleout::core::master
