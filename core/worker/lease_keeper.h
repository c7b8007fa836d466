// LeaseKeeper: when a running task must be cancelled or killed, decided from
// task-heartbeat answers and the clock. Pure logic: no I/O, no threads.
//
// The rule (reference/reliability.md, R3): the master may hand a task to
// another worker once `lease_interval` has passed since it last *received* a
// renewal. The worker cannot know that receive time, but it knows when it
// *sent* the renewal the master acknowledged, which is earlier. So the worker
// kills the package at
//     fence deadline = send time of the last acknowledged renewal
//                      + lease_interval - safety margin
// with margin = lease_interval / 3 (20 s of the default 1 min lease). The
// package is dead (SIGKILL of its whole session) before the master may
// re-queue the task, so two attempts never overlap. The first "renewal" is
// the RequestTasks call that granted the lease (its send time).
//
// SSIS's HeartbeatErrorTolerance is honoured as well: a heartbeat that fails
// once the last successful one is older than the tolerance kills the task.
// With the defaults the fence deadline always comes first.
//
// Heartbeat answers:
//   renewed         -> deadline moves on
//   stop_requested  -> Cancel() (the package stops; its result is reported);
//                      the lease is renewed meanwhile
//   stale, unknown  -> Kill(); another attempt owns the task, so no result
//                      is reported
//
// Times are steady (monotonic) milliseconds from the injected Clock.
// Thread-safety: none; the agent guards it with its own mutex.
#ifndef SCALEOUT_CORE_WORKER_LEASE_KEEPER_H_
#define SCALEOUT_CORE_WORKER_LEASE_KEEPER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/protocol/messages.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::worker {

struct LeaseAction {
  enum class Kind { kCancel, kKill };
  std::string task_id;
  Kind kind = Kind::kKill;
  bool report_result = true;  // false when another attempt owns the task now
  std::string reason;         // for the log and the reported result's message
};

class LeaseKeeper {
 public:
  // `heartbeat_error_tolerance_ms` is SSIS HeartbeatErrorTolerance.
  explicit LeaseKeeper(std::int64_t heartbeat_error_tolerance_ms);

  // A new lease, granted by a RequestTasks call sent at `granted_send_ms`.
  void Add(const std::string& task_id, std::int64_t lease_epoch, std::int64_t lease_interval_ms,
           std::int64_t granted_send_ms);
  void Remove(const std::string& task_id);
  bool Has(const std::string& task_id) const { return leases_.count(task_id) != 0; }
  std::size_t size() const { return leases_.size(); }

  // What the next task heartbeat should carry: every task not yet given up.
  std::vector<protocol::TaskLease> LeasesToRenew() const;

  // A heartbeat carrying every lease LeasesToRenew() returned is sent at
  // `sent_ms` (its answer, or its failure, follows).
  void OnRenewalSent(std::int64_t sent_ms);
  // A heartbeat sent at `sent_ms` was answered with `reply`.
  std::vector<LeaseAction> OnHeartbeatReply(std::int64_t sent_ms,
                                            const protocol::TaskHeartbeatReply& reply);
  // A heartbeat sent at `sent_ms` failed at `now_ms` (unreachable master or
  // an error answer).
  std::vector<LeaseAction> OnHeartbeatFailure(std::int64_t sent_ms, std::int64_t now_ms,
                                              const sdk::Status& error);
  // Tasks whose fence deadline has come; each is reported once.
  std::vector<LeaseAction> CheckDeadlines(std::int64_t now_ms);

  // When the next task heartbeat is due: the earliest time a lease not yet
  // given up has gone `renew_every_ms` since its last acknowledged renewal
  // (or since the claim that granted it) and since the last heartbeat sent
  // for it (a failed one is retried `renew_every_ms` later), if any. A lease
  // granted by the
  // claim is fresh, so a task that ends within `renew_every_ms` of its
  // claim needs no renewal at all; with renew_every_ms at most a third of the
  // lease, each renewal is still sent at least a third of the lease before
  // the fence deadline, as with a renewal at once after the claim.
  std::optional<std::int64_t> NextRenewalDue(std::int64_t renew_every_ms) const;
  // The earliest fence deadline of a task not yet given up, if any.
  std::optional<std::int64_t> NextDeadline() const;
  // The fence deadline of one task (tests, logs).
  std::optional<std::int64_t> DeadlineOf(const std::string& task_id) const;

 private:
  struct Lease {
    std::int64_t epoch = 0;
    std::int64_t interval_ms = 0;
    std::int64_t deadline_ms = 0;      // fence deadline (steady)
    std::int64_t last_success_ms = 0;  // send time of the last acknowledged renewal
    std::int64_t last_sent_ms = 0;     // send time of the last renewal, answered or not
    bool given_up = false;             // a kill or cancel for good was issued
    bool cancel_sent = false;
  };
  static std::int64_t Margin(std::int64_t interval_ms) { return interval_ms / 3; }
  LeaseAction GiveUp(const std::string& task_id, Lease& lease, LeaseAction::Kind kind,
                     bool report_result, std::string reason);

  std::int64_t tolerance_ms_;
  std::map<std::string, Lease> leases_;
};

}  // namespace scaleout::core::worker

#endif  // SCALEOUT_CORE_WORKER_LEASE_KEEPER_H_
