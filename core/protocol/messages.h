// The worker <-> master wire messages: plain C++ structs, no msgpack types.
//
// Every message travels in a versioned envelope (see codec.h and
// docs/protocol.md). The structs hold only standard types so the master,
// the worker and tests can build and inspect them freely; codec.h turns them
// into bytes and back, validating every field on the way in.
//
// Conventions:
//  * Times are UTC milliseconds since the Unix epoch (0 = unknown); durations
//    are milliseconds.
//  * GUIDs (agent, task, batch and event ids) are text in canonical uppercase
//    form; decoders accept any case and braces and store the canonical form.
//  * execution_id, project_id and project_version (the project LSN) are the
//    catalog's bigint keys.
//  * A field missing on the wire keeps the default written here; decoders
//    then validate the result, so a missing required field is refused.
//
// Thread-safety: plain values.
#ifndef SCALEOUT_CORE_PROTOCOL_MESSAGES_H_
#define SCALEOUT_CORE_PROTOCOL_MESSAGES_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/status.h"

namespace scaleout::core::protocol {

// The major version this build speaks. Adding optional fields does not change
// it (peers ignore unknown fields); removing or re-typing one does.
inline constexpr std::uint32_t kProtocolVersion = 1;

// The "t" of the envelope. Values are part of the wire format: append only.
enum class MessageType : std::uint16_t {
  kErrorReply = 1,
  kRegisterRequest = 10,
  kRegisterReply = 11,
  kAgentHeartbeatRequest = 12,
  kAgentHeartbeatReply = 13,
  kRequestTasksRequest = 14,
  kRequestTasksReply = 15,
  kGetProjectRequest = 16,
  kGetProjectReply = 17,
  kTaskHeartbeatRequest = 18,
  kTaskHeartbeatReply = 19,
  kReportEventsRequest = 20,
  kReportEventsReply = 21,
  kReportResultsRequest = 22,
  kReportResultsReply = 23,
  kManageRequest = 40,
  kManageReply = 41,
};

// "RegisterRequest" for logs and error messages; "unknown" for other values.
std::string_view MessageTypeName(MessageType type) noexcept;
// True when `type` is one of the enumerators above.
bool IsKnownMessageType(MessageType type) noexcept;

// Size and count limits applied by every decoder. The msgpack-c defaults are
// "unlimited" (2^32-1), so none is left at a library default. Exceeding one
// is kResourceExhausted.
struct DecodeLimits {
  std::size_t max_bytes = 8u << 20;           // whole encoded message
  std::size_t max_depth = 8;                  // nested arrays/maps, the envelope map included
  std::size_t max_array = 100'000;            // elements in any one array
  std::size_t max_map = 1024;                 // pairs in any one map
  std::size_t max_str = 1u << 20;             // bytes in any one string
  std::size_t max_bin = 64u << 20;            // bytes in any one binary (project file contents)
  std::size_t max_items = 2'000'000;          // array elements + map keys and values in one message
  std::size_t max_events_per_batch = 10'000;  // ReportEventsRequest.events
  std::size_t max_tasks_per_reply = 1000;     // tasks/results lists of one message

  // Limits for GetProjectReply: the same, but the whole message may be as
  // large as one binary (projects are bigger than any other message).
  static DecodeLimits ForProjectTransfer() {
    DecodeLimits limits;
    limits.max_bytes = limits.max_bin + (1u << 20);
    return limits;
  }
};

// Field ranges the decoders enforce (inclusive).
inline constexpr std::int32_t kMaxSlots = 10'000;                // task counts and slots
inline constexpr std::int64_t kMaxWaitMs = 300'000;              // long-poll wait
inline constexpr std::int64_t kMaxIntervalMs = 86'400'000;       // lease and heartbeat intervals
inline constexpr std::int64_t kMaxTimeMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z
inline constexpr std::size_t kMaxNameBytes = 1024;               // names, paths, tags (UTF-8 bytes)
inline constexpr std::size_t kMaxTags = 256;

// ---- Failures ---------------------------------------------------------------

// The body of any failed call: the master answers a request it refuses with
// this instead of the normal reply. `code` is never kOk. Codes this build does
// not know (from a newer peer) are kept as their number.
struct ErrorReply {
  static constexpr MessageType kType = MessageType::kErrorReply;
  sdk::StatusCode code = sdk::StatusCode::kInternal;
  std::string message;

  bool operator==(const ErrorReply&) const = default;
};

// ---- Registration -----------------------------------------------------------

// Worker -> master on start-up and after a master restart. New workers are
// recorded disabled, as in SSIS.
struct RegisterRequest {
  static constexpr MessageType kType = MessageType::kRegisterRequest;
  std::string agent_id;  // GUID, required
  std::string machine_name;
  std::string display_name;
  std::string description;
  std::vector<std::string> tags;
  std::int32_t max_task_count = 10;  // MaxTaskCount, 0..kMaxSlots
  std::int32_t cpu_count = 0;        // 0..65536
  std::int64_t total_memory_mb = 0;  // >= 0
  std::string version;               // the worker's scaleout version, "0.1.0"

  bool operator==(const RegisterRequest&) const = default;
};

// The settings the master wants the worker to follow (SSIS names in brackets).
struct RegisterReply {
  static constexpr MessageType kType = MessageType::kRegisterReply;
  std::string agent_id;  // GUID, required; echoes the request
  bool enabled = false;
  std::int64_t lease_interval_ms = 60'000;            // [LeaseInterval], 1..kMaxIntervalMs
  std::int64_t task_heartbeat_interval_ms = 10'000;   // [TaskHeartbeatInterval]
  std::int64_t agent_heartbeat_interval_ms = 60'000;  // [AgentHeartbeatInterval]
  std::int64_t master_time_ms = 0;                    // master's clock, to estimate skew

  bool operator==(const RegisterReply&) const = default;
};

// ---- Agent heartbeat --------------------------------------------------------

struct AgentHeartbeatRequest {
  static constexpr MessageType kType = MessageType::kAgentHeartbeatRequest;
  std::string agent_id;             // GUID, required
  std::int32_t running_tasks = 0;   // 0..kMaxSlots
  double cpu_percent = 0;           // whole machine, 0..100
  std::int64_t free_memory_mb = 0;  // >= 0

  bool operator==(const AgentHeartbeatRequest&) const = default;
};

struct AgentHeartbeatReply {
  static constexpr MessageType kType = MessageType::kAgentHeartbeatReply;
  bool enabled = false;

  bool operator==(const AgentHeartbeatReply&) const = default;
};

// ---- Task results (reported alone or with a request for work) ---------------

// Wire values are fixed: append only.
enum class TaskOutcome : std::uint8_t {
  kUnspecified = 0,  // never valid on the wire; the default of a missing field
  kSucceeded = 1,
  kFailed = 2,
  kCanceled = 3,
};
std::string_view TaskOutcomeName(TaskOutcome outcome) noexcept;

struct TaskResult {
  std::string task_id;                             // GUID, required
  std::int64_t lease_epoch = 0;                    // >= 1
  TaskOutcome result = TaskOutcome::kUnspecified;  // required
  std::int32_t exit_code = 0;
  std::string message;
  std::int64_t start_time_ms = 0;
  std::int64_t end_time_ms = 0;  // >= start_time_ms when both are set

  bool operator==(const TaskResult&) const = default;
};

// Per result: kOk (recorded, or already recorded: replays are idempotent),
// kAborted (stale epoch: changed nothing), kNotFound, ...
struct ResultAck {
  std::string task_id;  // GUID, required
  sdk::StatusCode code = sdk::StatusCode::kOk;
  std::string message;

  bool operator==(const ResultAck&) const = default;
};

// ---- Asking for work --------------------------------------------------------

// A long-poll: the master answers as soon as a task is eligible, or with an
// empty list after `wait_ms`.
struct RequestTasksRequest {
  static constexpr MessageType kType = MessageType::kRequestTasksRequest;
  std::string agent_id;         // GUID, required
  std::int32_t free_slots = 0;  // 0..kMaxSlots
  std::int64_t wait_ms = 0;     // 0..kMaxWaitMs; 0 answers at once
  // Results of ended tasks, recorded in the same transaction as the claim
  // (so their slots count as free for it); acknowledged in the reply's
  // result_acks as ReportResults acknowledges them. At most
  // max_tasks_per_reply. A request with free_slots 0 only reports results.
  std::vector<TaskResult> results;

  bool operator==(const RequestTasksRequest&) const = default;
};

// [catalog].[execution_parameter_values].object_type
inline constexpr std::int32_t kObjectTypeProject = 20;
inline constexpr std::int32_t kObjectTypePackage = 30;
inline constexpr std::int32_t kObjectTypeExecution = 50;

struct TaskParameter {
  std::int32_t object_type = kObjectTypeExecution;  // 20, 30 or 50
  std::string name;                                 // required, <= kMaxNameBytes
  std::string value;                                // the value as text
  std::string data_type;                            // "String", "Int32", ...
  bool sensitive = false;

  bool operator==(const TaskParameter&) const = default;
};

// One leased attempt of one execution.
struct TaskAssignment {
  std::string task_id;                      // GUID, required
  std::int64_t execution_id = 0;            // >= 1
  std::int32_t attempt = 1;                 // >= 1
  std::int64_t lease_epoch = 0;             // >= 1; the fencing token, sent back on every call
  std::int64_t lease_expires_at_ms = 0;     // master's clock
  std::int64_t lease_interval_ms = 60'000;  // 1..kMaxIntervalMs
  std::string folder;
  std::string project;
  std::int64_t project_id = 0;       // >= 0
  std::int64_t project_version = 0;  // the project LSN, >= 0
  std::string package_name;
  std::int32_t logging_level = 1;  // LOGGING_LEVEL: 0..4 or 100 (custom)
  std::string executor;            // executor plugin name, "process"; required
  std::vector<TaskParameter> parameters;

  bool operator==(const TaskAssignment&) const = default;
};

struct RequestTasksReply {
  static constexpr MessageType kType = MessageType::kRequestTasksReply;
  std::vector<TaskAssignment> tasks;   // at most DecodeLimits::max_tasks_per_reply
  std::vector<ResultAck> result_acks;  // one per result of the request

  bool operator==(const RequestTasksReply&) const = default;
};

// ---- Project files ----------------------------------------------------------

// Workers fetch a deployed project once per (project_id, project_version)
// and cache it.
struct GetProjectRequest {
  static constexpr MessageType kType = MessageType::kGetProjectRequest;
  std::string agent_id;              // GUID, required (lets the master check the caller)
  std::int64_t project_id = 0;       // >= 1
  std::int64_t project_version = 0;  // >= 0

  bool operator==(const GetProjectRequest&) const = default;
};

struct ProjectFile {
  // Relative, '/'-separated, no empty, "." or ".." segment, no '\\' or NUL:
  // a hostile master cannot make a worker write outside its cache.
  std::string path;
  std::string content;  // raw bytes (msgpack bin)
  std::string sha256;   // 64 hex digits, uppercase after decoding; the worker verifies it

  bool operator==(const ProjectFile&) const = default;
};

struct GetProjectReply {
  static constexpr MessageType kType = MessageType::kGetProjectReply;
  std::vector<ProjectFile> files;

  bool operator==(const GetProjectReply&) const = default;
};

// ---- Task heartbeat ---------------------------------------------------------

struct TaskLease {
  std::string task_id;           // GUID, required
  std::int64_t lease_epoch = 0;  // >= 1

  bool operator==(const TaskLease&) const = default;
};

struct TaskHeartbeatRequest {
  static constexpr MessageType kType = MessageType::kTaskHeartbeatRequest;
  std::string agent_id;          // GUID, required
  std::vector<TaskLease> tasks;  // at most max_tasks_per_reply

  bool operator==(const TaskHeartbeatRequest&) const = default;
};

// Wire values are fixed: append only.
enum class LeaseStatus : std::uint8_t {
  kRenewed = 1,        // keep running until lease_expires_at_ms
  kStale = 2,          // the epoch is old: another attempt owns the task; kill it
  kStopRequested = 3,  // stop_operation was called; cancel the package
  kUnknown = 4,        // the master has no such task (or not for this worker); kill it
};
std::string_view LeaseStatusName(LeaseStatus status) noexcept;

struct TaskLeaseStatus {
  std::string task_id;  // GUID, required
  LeaseStatus status = LeaseStatus::kUnknown;
  std::int64_t lease_expires_at_ms = 0;

  bool operator==(const TaskLeaseStatus&) const = default;
};

struct TaskHeartbeatReply {
  static constexpr MessageType kType = MessageType::kTaskHeartbeatReply;
  std::vector<TaskLeaseStatus> tasks;

  bool operator==(const TaskHeartbeatReply&) const = default;
};

// ---- Events -----------------------------------------------------------------

// One row for [catalog].[event_messages].
struct EventMessage {
  std::int64_t execution_id = 0;   // >= 1
  std::string task_id;             // GUID, required
  std::string event_message_guid;  // GUID, required; the master dedups on it
  std::int64_t message_time_ms = 0;
  std::int32_t message_type = 70;  // SSIS message_type (70 information, 110 warning, 120 error...)
  std::int32_t message_source_type = 0;  // SSIS message_source_type (10..60), 0 = unknown
  std::string message_source;            // the source name
  std::string message;

  bool operator==(const EventMessage&) const = default;
};

// Whether an event of SSIS `message_type` belongs in the catalog at the
// execution's SSIS LOGGING_LEVEL: None (0) records none; Basic (1, the
// default) and Runtime lineage (4) all but custom (200) and diagnostic (90,
// 140); Performance (2) only errors, warnings and task failures (120, 110,
// 130); Verbose (3) all. Custom (100, whose CUSTOMIZED_LOGGING_LEVEL picks
// events this catalog does not model) and any other level: all, so that
// nothing is lost. The task log (TaskLogLevel) is separate.
bool EventRecordedAtLoggingLevel(std::int32_t logging_level, std::int32_t message_type) noexcept;

// A batch is idempotent: the master records a batch_id once and answers
// accepted = true to a replay.
struct ReportEventsRequest {
  static constexpr MessageType kType = MessageType::kReportEventsRequest;
  std::string agent_id;              // GUID, required
  std::string batch_id;              // GUID, required
  std::vector<EventMessage> events;  // at most max_events_per_batch

  bool operator==(const ReportEventsRequest&) const = default;
};

struct ReportEventsReply {
  static constexpr MessageType kType = MessageType::kReportEventsReply;
  bool accepted = false;

  bool operator==(const ReportEventsReply&) const = default;
};

// ---- Results ----------------------------------------------------------------

struct ReportResultsRequest {
  static constexpr MessageType kType = MessageType::kReportResultsRequest;
  std::string agent_id;             // GUID, required
  std::vector<TaskResult> results;  // at most max_tasks_per_reply

  bool operator==(const ReportResultsRequest&) const = default;
};

struct ReportResultsReply {
  static constexpr MessageType kType = MessageType::kReportResultsReply;
  std::vector<ResultAck> results;

  bool operator==(const ReportResultsReply&) const = default;
};

// ---- Management (placeholder for the management API) ------------------------

// A generic call: the operation name and its string arguments. The management
// API defines the operations; the protocol only carries them.
struct ManageRequest {
  static constexpr MessageType kType = MessageType::kManageRequest;
  std::string operation;                    // required, <= kMaxNameBytes
  std::map<std::string, std::string> args;  // at most DecodeLimits::max_map

  bool operator==(const ManageRequest&) const = default;
};

struct ManageReply {
  static constexpr MessageType kType = MessageType::kManageReply;
  sdk::StatusCode code = sdk::StatusCode::kOk;
  std::string message;
  std::string json;  // the result document (JSON text), may be empty

  bool operator==(const ManageReply&) const = default;
};

}  // namespace scaleout::core::protocol

#endif  // SCALEOUT_CORE_PROTOCOL_MESSAGES_H_
