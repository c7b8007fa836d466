#include "core/protocol/messages.h"

namespace scaleout::core::protocol {

std::string_view MessageTypeName(MessageType type) noexcept {
  switch (type) {
    case MessageType::kErrorReply: return "ErrorReply";
    case MessageType::kRegisterRequest: return "RegisterRequest";
    case MessageType::kRegisterReply: return "RegisterReply";
    case MessageType::kAgentHeartbeatRequest: return "AgentHeartbeatRequest";
    case MessageType::kAgentHeartbeatReply: return "AgentHeartbeatReply";
    case MessageType::kRequestTasksRequest: return "RequestTasksRequest";
    case MessageType::kRequestTasksReply: return "RequestTasksReply";
    case MessageType::kGetProjectRequest: return "GetProjectRequest";
    case MessageType::kGetProjectReply: return "GetProjectReply";
    case MessageType::kTaskHeartbeatRequest: return "TaskHeartbeatRequest";
    case MessageType::kTaskHeartbeatReply: return "TaskHeartbeatReply";
    case MessageType::kReportEventsRequest: return "ReportEventsRequest";
    case MessageType::kReportEventsReply: return "ReportEventsReply";
    case MessageType::kReportResultsRequest: return "ReportResultsRequest";
    case MessageType::kReportResultsReply: return "ReportResultsReply";
    case MessageType::kManageRequest: return "ManageRequest";
    case MessageType::kManageReply: return "ManageReply";
  }
  return "unknown";
}

bool IsKnownMessageType(MessageType type) noexcept { return MessageTypeName(type) != "unknown"; }

std::string_view LeaseStatusName(LeaseStatus status) noexcept {
  switch (status) {
    case LeaseStatus::kRenewed: return "renewed";
    case LeaseStatus::kStale: return "stale";
    case LeaseStatus::kStopRequested: return "stop_requested";
    case LeaseStatus::kUnknown: return "unknown";
  }
  return "invalid";
}

std::string_view TaskOutcomeName(TaskOutcome outcome) noexcept {
  switch (outcome) {
    case TaskOutcome::kUnspecified: return "unspecified";
    case TaskOutcome::kSucceeded: return "succeeded";
    case TaskOutcome::kFailed: return "failed";
    case TaskOutcome::kCanceled: return "canceled";
  }
  return "invalid";
}

bool EventRecordedAtLoggingLevel(std::int32_t logging_level, std::int32_t message_type) noexcept {
  constexpr std::int32_t kDiagnostic = 90;
  constexpr std::int32_t kDiagnosticEx = 140;
  constexpr std::int32_t kCustom = 200;
  constexpr std::int32_t kWarning = 110;
  constexpr std::int32_t kError = 120;
  constexpr std::int32_t kTaskFailed = 130;
  switch (logging_level) {
    case 0: return false;
    case 1:
    case 4:
      return message_type != kDiagnostic && message_type != kDiagnosticEx &&
             message_type != kCustom;
    case 2:
      return message_type == kWarning || message_type == kError || message_type == kTaskFailed;
    default: return true;  // 3 (Verbose), 100 (Custom), and anything newer
  }
}

}  // namespace scaleout::core::protocol
