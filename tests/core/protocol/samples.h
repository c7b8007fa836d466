// Valid sample messages for the protocol tests, the fuzz loop and the bench.
#ifndef SCALEOUT_TESTS_CORE_PROTOCOL_SAMPLES_H_
#define SCALEOUT_TESTS_CORE_PROTOCOL_SAMPLES_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/protocol/codec.h"
#include "core/protocol/messages.h"

namespace scaleout::core::protocol::testing {

inline constexpr char kAgent[] = "8D3F1A0C-4B7E-4F2A-9C61-0E5B2D7A9F13";
inline constexpr char kTask[] = "1B4E28BA-2FA1-4D3B-A3F5-EF19B5A7633B";
inline constexpr char kTask2[] = "6F9619FF-8B86-4011-B42D-00C04FC964FF";
inline constexpr char kBatch[] = "C56A4180-65AA-42EC-A945-5FD21DEC0538";
inline constexpr char kEvent[] = "0F8FAD5B-D9CB-469F-A165-70867728950E";
// Text with multi-byte UTF-8 and an embedded NUL.
inline const std::string kUnicode = std::string("Grüße, 世界 🚀 a") + '\0' + "b";
inline constexpr char kBinaryBytes[] = "\0\x01\xff\xfe PK\x03\x04 \0";
inline const std::string kBinary(kBinaryBytes, sizeof(kBinaryBytes) - 1);
inline const std::string kSha = std::string(64, 'A');

inline RegisterRequest SampleRegisterRequest() {
  RegisterRequest m;
  m.agent_id = kAgent;
  m.machine_name = "worker-01";
  m.display_name = kUnicode;
  m.description = "rack 4, " + kUnicode;
  m.tags = {"linux", "gpu", kUnicode};
  m.max_task_count = 16;
  m.cpu_count = 64;
  m.total_memory_mb = 262144;
  m.version = "0.1.0";
  return m;
}

inline RegisterReply SampleRegisterReply() {
  RegisterReply m;
  m.agent_id = kAgent;
  m.enabled = true;
  m.lease_interval_ms = 60000;
  m.task_heartbeat_interval_ms = 10000;
  m.agent_heartbeat_interval_ms = 60000;
  m.master_time_ms = 1'700'000'000'123;
  return m;
}

inline AgentHeartbeatRequest SampleAgentHeartbeatRequest() {
  AgentHeartbeatRequest m;
  m.agent_id = kAgent;
  m.running_tasks = 3;
  m.cpu_percent = 42.5;
  m.free_memory_mb = 1024;
  return m;
}

inline AgentHeartbeatReply SampleAgentHeartbeatReply() {
  AgentHeartbeatReply m;
  m.enabled = true;
  return m;
}

inline RequestTasksRequest SampleRequestTasksRequest() {
  RequestTasksRequest m;
  m.agent_id = kAgent;
  m.free_slots = 4;
  m.wait_ms = 25000;
  m.results = {
      {kTask2, 3, TaskOutcome::kSucceeded, 0, "done", 1'700'000'000'000, 1'700'000'000'250},
      {kTask, 1, TaskOutcome::kCanceled, -9, kUnicode, 0, 0}};
  return m;
}

inline TaskAssignment SampleTaskAssignment() {
  TaskAssignment t;
  t.task_id = kTask;
  t.execution_id = 4711;
  t.attempt = 2;
  t.lease_epoch = std::numeric_limits<std::int64_t>::max();
  t.lease_expires_at_ms = 1'700'000'060'000;
  t.lease_interval_ms = 60000;
  t.folder = "Finance";
  t.project = "Nightly ETL";
  t.project_id = 12;
  t.project_version = 345;
  t.package_name = "Load.dtsx";
  t.logging_level = 3;
  t.executor = "process";
  t.parameters = {{kObjectTypeProject, "Server", "db01", "String", false},
                  {kObjectTypePackage, "Password", kUnicode, "String", true},
                  {kObjectTypeExecution, "LOGGING_LEVEL", "3", "Int32", false}};
  return t;
}

inline RequestTasksReply SampleRequestTasksReply() {
  RequestTasksReply m;
  m.tasks = {SampleTaskAssignment(), SampleTaskAssignment()};
  m.tasks[1].task_id = kTask2;
  m.tasks[1].parameters.clear();
  m.result_acks = {{kTask2, sdk::StatusCode::kOk, ""},
                   {kTask, sdk::StatusCode::kAborted, "stale lease epoch 1, current 2"}};
  return m;
}

inline GetProjectRequest SampleGetProjectRequest() {
  GetProjectRequest m;
  m.agent_id = kAgent;
  m.project_id = 12;
  m.project_version = 345;
  return m;
}

inline GetProjectReply SampleGetProjectReply() {
  GetProjectReply m;
  m.files = {{"Load.dtsx", kBinary, kSha}, {"sub dir/Ünïcode.conmgr", "", std::string(64, '0')}};
  return m;
}

inline TaskHeartbeatRequest SampleTaskHeartbeatRequest() {
  TaskHeartbeatRequest m;
  m.agent_id = kAgent;
  m.tasks = {{kTask, 7}, {kTask2, 1}};
  return m;
}

inline TaskHeartbeatReply SampleTaskHeartbeatReply() {
  TaskHeartbeatReply m;
  m.tasks = {{kTask, LeaseStatus::kRenewed, 1'700'000'060'000},
             {kTask2, LeaseStatus::kStopRequested, 0}};
  return m;
}

inline ReportEventsRequest SampleReportEventsRequest() {
  ReportEventsRequest m;
  m.agent_id = kAgent;
  m.batch_id = kBatch;
  EventMessage e;
  e.execution_id = 4711;
  e.task_id = kTask;
  e.event_message_guid = kEvent;
  e.message_time_ms = 1'700'000'000'500;
  e.message_type = 120;
  e.message_source_type = 40;
  e.message_source = "Data Flow Task";
  e.message = kUnicode;
  m.events = {e};
  return m;
}

inline ReportEventsReply SampleReportEventsReply() {
  ReportEventsReply m;
  m.accepted = true;
  return m;
}

inline ReportResultsRequest SampleReportResultsRequest() {
  ReportResultsRequest m;
  m.agent_id = kAgent;
  m.results = {{kTask, 7, TaskOutcome::kFailed, std::numeric_limits<std::int32_t>::min(), kUnicode,
                1'700'000'000'000, 1'700'000'009'999},
               {kTask2, 1, TaskOutcome::kSucceeded, 0, "", 0, 0}};
  return m;
}

inline ReportResultsReply SampleReportResultsReply() {
  ReportResultsReply m;
  m.results = {{kTask, sdk::StatusCode::kOk, ""},
               {kTask2, sdk::StatusCode::kAborted, "stale lease epoch 1, current 2"}};
  return m;
}

inline ErrorReply SampleErrorReply() {
  ErrorReply m;
  m.code = sdk::StatusCode::kPermissionDenied;
  m.message = "worker is disabled: " + kUnicode;
  return m;
}

inline ManageRequest SampleManageRequest() {
  ManageRequest m;
  m.operation = "worker.enable";
  m.args = {{"agent_id", kAgent}, {"note", kUnicode}, {"", ""}};
  return m;
}

inline ManageReply SampleManageReply() {
  ManageReply m;
  m.code = sdk::StatusCode::kOk;
  m.message = "enabled";
  m.json = R"({"enabled":true,"name":"Grüße"})";
  return m;
}

// One encoded sample of every message type.
inline std::vector<std::string> AllEncodedSamples() {
  return {Encode(SampleErrorReply()),          Encode(SampleRegisterRequest()),
          Encode(SampleRegisterReply()),       Encode(SampleAgentHeartbeatRequest()),
          Encode(SampleAgentHeartbeatReply()), Encode(SampleRequestTasksRequest()),
          Encode(SampleRequestTasksReply()),   Encode(SampleGetProjectRequest()),
          Encode(SampleGetProjectReply()),     Encode(SampleTaskHeartbeatRequest()),
          Encode(SampleTaskHeartbeatReply()),  Encode(SampleReportEventsRequest()),
          Encode(SampleReportEventsReply()),   Encode(SampleReportResultsRequest()),
          Encode(SampleReportResultsReply()),  Encode(SampleManageRequest()),
          Encode(SampleManageReply())};
}

// Decodes `bytes` as whatever type its envelope names, then checks that
// re-encoding the value decodes to an equal value. Returns the decode status;
// sets *stable = false when a decoded value did not survive a round trip.
template <typename T>
sdk::Status DecodeAndCheck(const Message& message, bool* stable) {
  T value;
  sdk::Status status = DecodeBody(message, &value);
  if (status.ok()) {
    T again;
    if (!Decode(Encode(value), &again, DecodeLimits::ForProjectTransfer()).ok() ||
        !(again == value)) {
      *stable = false;
    }
  }
  return status;
}

inline sdk::Status DecodeAny(sdk::ByteView bytes, const DecodeLimits& limits, bool* stable) {
  sdk::Result<Message> message = Message::Parse(bytes, limits);
  if (!message.ok()) return message.status();
  switch (message->type()) {
    case MessageType::kErrorReply: return DecodeAndCheck<ErrorReply>(*message, stable);
    case MessageType::kRegisterRequest: return DecodeAndCheck<RegisterRequest>(*message, stable);
    case MessageType::kRegisterReply: return DecodeAndCheck<RegisterReply>(*message, stable);
    case MessageType::kAgentHeartbeatRequest:
      return DecodeAndCheck<AgentHeartbeatRequest>(*message, stable);
    case MessageType::kAgentHeartbeatReply:
      return DecodeAndCheck<AgentHeartbeatReply>(*message, stable);
    case MessageType::kRequestTasksRequest:
      return DecodeAndCheck<RequestTasksRequest>(*message, stable);
    case MessageType::kRequestTasksReply:
      return DecodeAndCheck<RequestTasksReply>(*message, stable);
    case MessageType::kGetProjectRequest:
      return DecodeAndCheck<GetProjectRequest>(*message, stable);
    case MessageType::kGetProjectReply: return DecodeAndCheck<GetProjectReply>(*message, stable);
    case MessageType::kTaskHeartbeatRequest:
      return DecodeAndCheck<TaskHeartbeatRequest>(*message, stable);
    case MessageType::kTaskHeartbeatReply:
      return DecodeAndCheck<TaskHeartbeatReply>(*message, stable);
    case MessageType::kReportEventsRequest:
      return DecodeAndCheck<ReportEventsRequest>(*message, stable);
    case MessageType::kReportEventsReply:
      return DecodeAndCheck<ReportEventsReply>(*message, stable);
    case MessageType::kReportResultsRequest:
      return DecodeAndCheck<ReportResultsRequest>(*message, stable);
    case MessageType::kReportResultsReply:
      return DecodeAndCheck<ReportResultsReply>(*message, stable);
    case MessageType::kManageRequest: return DecodeAndCheck<ManageRequest>(*message, stable);
    case MessageType::kManageReply: return DecodeAndCheck<ManageReply>(*message, stable);
  }
  *stable = false;  // Parse() let an unknown type through
  return sdk::Status::Internal("unknown type passed Message::Parse");
}

}  // namespace scaleout::core::protocol::testing

#endif  // SCALEOUT_TESTS_CORE_PROTOCOL_SAMPLES_H_
