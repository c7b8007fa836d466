// The state machine of executions and task attempts, written once.
//
// Every status change in the catalog goes through Transition(): the table of
// allowed (event, from) -> to moves lives in state_machine.cc and nowhere
// else. An event that is not allowed from the current status is refused
// with kFailedPrecondition, e.g.
//   "execution 42 is succeeded (7); only created (1) executions can be started".
//
// Thread-safety: pure functions over constant data.
#ifndef SCALEOUT_CORE_CATALOG_STATE_MACHINE_H_
#define SCALEOUT_CORE_CATALOG_STATE_MACHINE_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "core/catalog/types.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::catalog {

// What happens to an execution or a task.
enum class Event : int {
  kStart,            // start_execution: created -> pending (execution)
  kClaim,            // a worker claims it: pending -> running
  kSucceed,          // result succeeded
  kFail,             // result failed, no retry left
  kRetry,            // failure or lost lease with retries left: running -> pending (execution)
  kEndUnexpectedly,  // lease lapsed, no retry left (or the attempt itself)
  kRequestStop,      // stop_operation: running -> stopping, pending -> canceled
  kCancel,  // stopped: stopping -> canceled (execution), running/pending -> canceled (task)
};

enum class Entity : int { kExecution, kTask };

struct TransitionRule {
  Entity entity;
  Event event;
  ExecutionStatus from;
  ExecutionStatus to;
};

// The whole table, for tests and docs.
std::span<const TransitionRule> TransitionTable();

// "started", "claimed", ... as used in refusal messages.
std::string_view EventVerb(Event event);

// The status `entity` moves to on `event` from `from`, or kFailedPrecondition
// naming the entity ("execution 42" / "task <id>" via `label`) and the states
// the event is allowed from.
sdk::Result<ExecutionStatus> Transition(Entity entity, Event event, ExecutionStatus from,
                                        std::string_view label);

}  // namespace scaleout::core::catalog

#endif  // SCALEOUT_CORE_CATALOG_STATE_MACHINE_H_
