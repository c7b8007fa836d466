#include "core/worker/lease_keeper.h"

#include <algorithm>

namespace scaleout::core::worker {

LeaseKeeper::LeaseKeeper(std::int64_t heartbeat_error_tolerance_ms)
    : tolerance_ms_(heartbeat_error_tolerance_ms) {}

void LeaseKeeper::Add(const std::string& task_id, std::int64_t lease_epoch,
                      std::int64_t lease_interval_ms, std::int64_t granted_send_ms) {
  Lease lease;
  lease.epoch = lease_epoch;
  lease.interval_ms = lease_interval_ms;
  lease.last_success_ms = granted_send_ms;
  lease.deadline_ms = granted_send_ms + lease_interval_ms - Margin(lease_interval_ms);
  leases_[task_id] = lease;
}

void LeaseKeeper::Remove(const std::string& task_id) { leases_.erase(task_id); }

std::vector<protocol::TaskLease> LeaseKeeper::LeasesToRenew() const {
  std::vector<protocol::TaskLease> out;
  for (const auto& [id, lease] : leases_) {
    if (!lease.given_up) out.push_back({id, lease.epoch});
  }
  return out;
}

LeaseAction LeaseKeeper::GiveUp(const std::string& task_id, Lease& lease, LeaseAction::Kind kind,
                                bool report_result, std::string reason) {
  lease.given_up = true;
  return LeaseAction{task_id, kind, report_result, std::move(reason)};
}

void LeaseKeeper::OnRenewalSent(std::int64_t sent_ms) {
  for (auto& [id, lease] : leases_) {
    if (!lease.given_up) lease.last_sent_ms = std::max(lease.last_sent_ms, sent_ms);
  }
}

std::vector<LeaseAction> LeaseKeeper::OnHeartbeatReply(std::int64_t sent_ms,
                                                       const protocol::TaskHeartbeatReply& reply) {
  std::vector<LeaseAction> actions;
  for (const auto& status : reply.tasks) {
    auto it = leases_.find(status.task_id);
    if (it == leases_.end() || it->second.given_up) continue;
    Lease& lease = it->second;
    switch (status.status) {
      case protocol::LeaseStatus::kRenewed:
      case protocol::LeaseStatus::kStopRequested:
        // Never move a deadline back: answers to an older heartbeat may
        // arrive after a newer one was acknowledged.
        lease.last_success_ms = std::max(lease.last_success_ms, sent_ms);
        lease.deadline_ms =
            std::max(lease.deadline_ms, sent_ms + lease.interval_ms - Margin(lease.interval_ms));
        if (status.status == protocol::LeaseStatus::kStopRequested && !lease.cancel_sent) {
          lease.cancel_sent = true;
          actions.push_back({it->first, LeaseAction::Kind::kCancel, true,
                             "stop requested by the master (stop_operation)"});
        }
        break;
      case protocol::LeaseStatus::kStale:
        actions.push_back(GiveUp(it->first, lease, LeaseAction::Kind::kKill, false,
                                 "the master says lease epoch " + std::to_string(lease.epoch) +
                                     " is stale: another attempt owns the task"));
        break;
      case protocol::LeaseStatus::kUnknown:
        actions.push_back(GiveUp(it->first, lease, LeaseAction::Kind::kKill, false,
                                 "the master does not know this task for this worker"));
        break;
    }
  }
  return actions;
}

std::vector<LeaseAction> LeaseKeeper::OnHeartbeatFailure(std::int64_t sent_ms, std::int64_t now_ms,
                                                         const sdk::Status& error) {
  (void)sent_ms;
  std::vector<LeaseAction> actions;
  for (auto& [id, lease] : leases_) {
    if (lease.given_up) continue;
    if (now_ms - lease.last_success_ms >= tolerance_ms_) {
      actions.push_back(GiveUp(id, lease, LeaseAction::Kind::kKill, true,
                               "task heartbeat failed (" + error.ToString() +
                                   ") and the last successful one is " +
                                   std::to_string((now_ms - lease.last_success_ms) / 1000) +
                                   " s old (HeartbeatErrorTolerance)"));
    }
  }
  auto due = CheckDeadlines(now_ms);
  actions.insert(actions.end(), due.begin(), due.end());
  return actions;
}

std::vector<LeaseAction> LeaseKeeper::CheckDeadlines(std::int64_t now_ms) {
  std::vector<LeaseAction> actions;
  for (auto& [id, lease] : leases_) {
    if (lease.given_up || now_ms < lease.deadline_ms) continue;
    actions.push_back(GiveUp(id, lease, LeaseAction::Kind::kKill, true,
                             "lease (epoch " + std::to_string(lease.epoch) +
                                 ") could not be renewed for " +
                                 std::to_string((now_ms - lease.last_success_ms) / 1000) +
                                 " s; killed before the master may hand the task on"));
  }
  return actions;
}

std::optional<std::int64_t> LeaseKeeper::NextRenewalDue(std::int64_t renew_every_ms) const {
  std::optional<std::int64_t> next;
  for (const auto& [id, lease] : leases_) {
    if (lease.given_up) continue;
    const std::int64_t due = std::max(lease.last_success_ms, lease.last_sent_ms) + renew_every_ms;
    if (!next || due < *next) next = due;
  }
  return next;
}

std::optional<std::int64_t> LeaseKeeper::NextDeadline() const {
  std::optional<std::int64_t> next;
  for (const auto& [id, lease] : leases_) {
    if (lease.given_up) continue;
    if (!next || lease.deadline_ms < *next) next = lease.deadline_ms;
  }
  return next;
}

std::optional<std::int64_t> LeaseKeeper::DeadlineOf(const std::string& task_id) const {
  auto it = leases_.find(task_id);
  if (it == leases_.end()) return std::nullopt;
  return it->second.deadline_ms;
}

}  // namespace scaleout::core::worker
