#include "core/catalog/state_machine.h"

#include <array>
#include <string>

namespace scaleout::core::catalog {
namespace {

using S = ExecutionStatus;
using E = Event;

// The only place that says which status changes are legal.
constexpr std::array kRules = {
    // executions
    TransitionRule{Entity::kExecution, E::kStart, S::kCreated, S::kPending},
    TransitionRule{Entity::kExecution, E::kClaim, S::kPending, S::kRunning},
    TransitionRule{Entity::kExecution, E::kSucceed, S::kRunning, S::kSucceeded},
    // A package that finished before it saw the stop request: record the truth.
    TransitionRule{Entity::kExecution, E::kSucceed, S::kStopping, S::kSucceeded},
    TransitionRule{Entity::kExecution, E::kFail, S::kRunning, S::kFailed},
    TransitionRule{Entity::kExecution, E::kRetry, S::kRunning, S::kPending},
    TransitionRule{Entity::kExecution, E::kEndUnexpectedly, S::kRunning, S::kEndedUnexpectedly},
    TransitionRule{Entity::kExecution, E::kRequestStop, S::kRunning, S::kStopping},
    TransitionRule{Entity::kExecution, E::kRequestStop, S::kPending, S::kCanceled},
    TransitionRule{Entity::kExecution, E::kCancel, S::kStopping, S::kCanceled},
    // task attempts
    TransitionRule{Entity::kTask, E::kClaim, S::kPending, S::kRunning},
    TransitionRule{Entity::kTask, E::kSucceed, S::kRunning, S::kSucceeded},
    TransitionRule{Entity::kTask, E::kFail, S::kRunning, S::kFailed},
    TransitionRule{Entity::kTask, E::kEndUnexpectedly, S::kRunning, S::kEndedUnexpectedly},
    TransitionRule{Entity::kTask, E::kCancel, S::kRunning, S::kCanceled},
    TransitionRule{Entity::kTask, E::kCancel, S::kPending, S::kCanceled},
};

}  // namespace

std::string_view StatusName(ExecutionStatus status) {
  switch (status) {
    case S::kCreated: return "created";
    case S::kRunning: return "running";
    case S::kCanceled: return "canceled";
    case S::kFailed: return "failed";
    case S::kPending: return "pending";
    case S::kEndedUnexpectedly: return "ended unexpectedly";
    case S::kSucceeded: return "succeeded";
    case S::kStopping: return "stopping";
    case S::kCompleted: return "completed";
  }
  return "unknown";
}

std::string StatusLabel(ExecutionStatus status) {
  return std::string(StatusName(status)) + " (" + std::to_string(static_cast<int>(status)) + ")";
}

std::optional<ExecutionStatus> StatusFromCode(std::int64_t code) {
  if (code < 1 || code > 9) return std::nullopt;
  return static_cast<ExecutionStatus>(code);
}

bool IsTerminal(ExecutionStatus status) {
  switch (status) {
    case S::kCanceled:
    case S::kFailed:
    case S::kEndedUnexpectedly:
    case S::kSucceeded:
    case S::kCompleted: return true;
    default: return false;
  }
}

std::span<const TransitionRule> TransitionTable() { return kRules; }

std::string_view EventVerb(Event event) {
  switch (event) {
    case E::kStart: return "started";
    case E::kClaim: return "claimed";
    case E::kSucceed: return "completed as succeeded";
    case E::kFail: return "completed as failed";
    case E::kRetry: return "retried";
    case E::kEndUnexpectedly: return "ended unexpectedly";
    case E::kRequestStop: return "stopped";
    case E::kCancel: return "canceled";
  }
  return "changed";
}

sdk::Result<ExecutionStatus> Transition(Entity entity, Event event, ExecutionStatus from,
                                        std::string_view label) {
  std::string allowed;
  std::size_t count = 0;
  for (const TransitionRule& rule : kRules) {
    if (rule.entity != entity || rule.event != event) continue;
    if (rule.from == from) return rule.to;
    ++count;
    if (!allowed.empty()) allowed += " or ";
    allowed += StatusLabel(rule.from);
  }
  const char* noun = entity == Entity::kExecution ? "executions" : "tasks";
  std::string message = std::string(label) + " is " + StatusLabel(from) + "; ";
  if (count == 0) {
    message += std::string(noun) + " cannot be " + std::string(EventVerb(event));
  } else {
    message += "only " + allowed + " " + noun + " can be " + std::string(EventVerb(event));
  }
  return sdk::Status::FailedPrecondition(std::move(message));
}

}  // namespace scaleout::core::catalog
