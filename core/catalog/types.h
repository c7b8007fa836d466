// Catalog value types: SSIS status codes, object types, and the rows the
// catalog views and procedures exchange.
//
// Everything here is a plain value (copyable, no references into the
// database); safe to pass between threads.
#ifndef SCALEOUT_CORE_CATALOG_TYPES_H_
#define SCALEOUT_CORE_CATALOG_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/bytes.h"

namespace scaleout::core::catalog {

// The status of an execution, an operation and a task attempt. The numeric
// values are the SSIS codes (catalog.executions.status) and are stored as is.
enum class ExecutionStatus : int {
  kCreated = 1,
  kRunning = 2,
  kCanceled = 3,
  kFailed = 4,
  kPending = 5,
  kEndedUnexpectedly = 6,
  kSucceeded = 7,
  kStopping = 8,
  kCompleted = 9,
};

// "created", "ended unexpectedly", ...; "unknown" for a code outside 1-9.
std::string_view StatusName(ExecutionStatus status);
// "succeeded (7)".
std::string StatusLabel(ExecutionStatus status);
// The status for a stored code, or nullopt when it is not 1-9.
std::optional<ExecutionStatus> StatusFromCode(std::int64_t code);
// True for canceled, failed, ended unexpectedly, succeeded and completed.
bool IsTerminal(ExecutionStatus status);

// catalog.operations.operation_type values used by scaleout.
enum class OperationType : int {
  kDeployProject = 101,
  kRestoreProject = 106,
  kExecution = 200,  // create_execution / start_execution
  kStopOperation = 202,
  kValidateProject = 300,
  kValidatePackage = 301,
  kConfigureCatalog = 1000,
};

// object_type of parameters and operations (SSIS codes).
inline constexpr int kObjectFolder = 10;
inline constexpr int kObjectProject = 20;
inline constexpr int kObjectPackage = 30;
inline constexpr int kObjectEnvironment = 40;
inline constexpr int kObjectExecution = 50;  // execution (system) parameters

// DEFAULT_EXECUTION_MODE values.
inline constexpr int kExecutionModeServer = 0;
inline constexpr int kExecutionModeScaleOut = 1;

// The worker id that the master's own task host uses to claim server-mode
// (runinscaleout = 0) tasks; no registered worker can have it.
inline constexpr std::string_view kMasterTaskHostId = "00000000-0000-0000-0000-000000000000";

// ---- deploy ----------------------------------------------------------------

struct PackageSpec {
  std::string name;    // "Load.dtsx"; <= kMaxPackageNameChars
  sdk::Bytes content;  // the package file; <= kMaxPackageBytes
  bool entry_point = true;
};

// A declared parameter. Project parameters (object_type 20) ignore
// object_name; package parameters (30) name their package in object_name.
struct ParameterSpec {
  int object_type = kObjectProject;
  std::string object_name;
  std::string name;
  std::string data_type = "String";          // Boolean, Byte, DateTime, Decimal, Double, Int16,
                                             // Int32, Int64, SByte, Single, String, UInt32, UInt64
  std::optional<std::string> default_value;  // nullopt: no default
  bool required = false;
  bool sensitive = false;
};

struct ProjectDeployment {
  std::string folder_name;
  std::string project_name;
  std::string description;
  std::vector<PackageSpec> packages;
  std::vector<ParameterSpec> parameters;
};

struct DeployResult {
  std::int64_t project_id = 0;
  std::int64_t object_version_lsn = 0;  // the new project version
  std::int64_t operation_id = 0;
};

// catalog.get_project: one version of a project as deployed (a sensitive
// parameter's design default stays in the catalog: nullopt here).
struct ProjectExport {
  std::int64_t object_version_lsn = 0;
  ProjectDeployment project;
};

// catalog.object_versions: one version of a project still in the catalog
// (the maintenance removes those beyond MAX_PROJECT_VERSIONS).
struct ProjectVersion {
  std::int64_t object_version_lsn = 0;
  std::int64_t project_id = 0;
  std::string object_name;  // the project's name
  std::string description;
  std::string created_by;
  std::int64_t created_time = 0;
  std::optional<std::string> restored_by;  // restore_project made it current
  std::optional<std::int64_t> last_restored_time;
  bool current = false;  // the version new executions run
  std::int64_t package_count = 0;
};

// ---- executions --------------------------------------------------------------

struct CreateExecutionRequest {
  std::string folder_name;
  std::string project_name;
  std::string package_name;
  std::optional<std::int64_t> reference_id;  // an environment reference of the project
  bool use32bitruntime = false;
  std::optional<bool> runinscaleout;  // nullopt: DEFAULT_EXECUTION_MODE
  bool useanyworker = true;
};

struct Execution {
  std::int64_t execution_id = 0;
  std::string folder_name;
  std::string project_name;
  std::string package_name;
  std::optional<std::int64_t> reference_id;
  std::int64_t project_id = 0;
  std::int64_t project_lsn = 0;
  std::string executed_as_name;
  std::string caller_name;
  ExecutionStatus status = ExecutionStatus::kCreated;
  std::int64_t created_time = 0;
  std::optional<std::int64_t> start_time;
  std::optional<std::int64_t> end_time;
  bool use32bitruntime = false;
  bool runinscaleout = true;
  bool useanyworker = true;
  std::int64_t retry_count = 0;
  std::int64_t executed_count = 0;
  std::optional<std::string> worker_agent_id;  // the last worker that ran it
  bool stop_requested = false;
  std::optional<std::string> stopped_by_name;
  std::int64_t lease_epoch = 0;  // the highest epoch granted for this execution
};

struct ExecutionFilter {
  std::optional<ExecutionStatus> status;
  std::optional<std::string> folder_name;
  std::optional<std::string> project_name;
  std::optional<std::string> package_name;
  std::optional<std::string> worker_agent_id;
  std::int64_t limit = 1000;  // newest first; 1..kMaxListLimit
};

// One value in catalog.execution_parameter_values.
struct ParameterValue {
  int object_type = kObjectProject;
  std::string parameter_name;
  std::string data_type;
  std::optional<std::string> value;  // nullopt: no value (and no default)
  bool sensitive = false;
  bool required = false;
  bool value_set = false;  // set by set_execution_parameter_value (not a default)
};

// One attempt of an execution (internal.tasks).
struct Task {
  std::string task_id;  // GUID
  std::int64_t execution_id = 0;
  std::int64_t attempt = 0;  // 1, 2, ...
  ExecutionStatus status = ExecutionStatus::kPending;
  std::optional<std::string> worker_agent_id;
  std::int64_t lease_epoch = 0;  // 0 until claimed
  std::optional<std::int64_t> lease_expires_at;
  std::optional<std::int64_t> last_heartbeat;
  std::int64_t created_time = 0;
  std::optional<std::int64_t> start_time;
  std::optional<std::int64_t> end_time;
  std::optional<std::int64_t> exit_code;
  std::string result_message;
  bool server_only = false;  // runinscaleout = 0: only the master's task host may claim it
};

// ---- operations and events -------------------------------------------------------

struct Operation {
  std::int64_t operation_id = 0;
  int operation_type = 0;
  std::int64_t created_time = 0;
  int object_type = 0;
  std::optional<std::int64_t> object_id;
  std::string object_name;
  ExecutionStatus status = ExecutionStatus::kCreated;
  std::optional<std::int64_t> start_time;
  std::optional<std::int64_t> end_time;
  std::string caller_name;
  std::optional<std::string> stopped_by_name;
};

// catalog.event_messages message_type values (subset used by scaleout).
inline constexpr int kMessageError = 120;
inline constexpr int kMessageWarning = 110;
inline constexpr int kMessageInformation = 70;

struct EventMessage {
  std::int64_t event_message_id = 0;  // assigned by the catalog; ignored on insert
  std::int64_t operation_id = 0;
  std::int64_t message_time = 0;
  int message_type = kMessageInformation;
  int message_source_type = 0;
  std::string message_source;  // "Load.dtsx", a task name
  std::string message;
  std::string package_name;
  std::string event_name;          // "OnError", "OnInformation"
  std::string event_message_guid;  // unique per message; a resent batch is ignored
};

// ---- workers and properties --------------------------------------------------------

struct WorkerAgent {
  std::string worker_agent_id;  // GUID
  bool is_enabled = false;
  std::string display_name;
  std::string description;
  std::string machine_name;
  std::string tags;
  std::string user_account;
  std::optional<std::int64_t> last_online_time;
  bool is_online = false;
  std::string cert_sha256;  // 64 uppercase hex digits
  std::string cert_sha1;    // 40 uppercase hex digits, or "" when unknown
  std::int64_t max_task_count = 10;
  double cpu_percent = 0;
  double free_memory_mb = 0;
  std::int64_t running_tasks = 0;  // as last reported by the worker
};

// The Scale Out Manager "+" action: trust a worker by its certificate.
struct AddWorkerRequest {
  std::string cert_sha256;                     // required, hex (':' and spaces allowed)
  std::string cert_sha1;                       // optional, hex
  std::optional<std::string> worker_agent_id;  // the worker's AgentId; a new GUID when absent
  std::string display_name;
  std::string description;
  std::string machine_name;
};

struct Property {
  std::string name;
  std::string value;
};

}  // namespace scaleout::core::catalog

#endif  // SCALEOUT_CORE_CATALOG_TYPES_H_
