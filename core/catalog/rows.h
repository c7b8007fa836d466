// Internal: row-level helpers shared by the procedures and the scheduler
// operations (validation, id counters, properties, loading and updating
// executions, queueing attempts). Not part of the public API.
//
// All functions run inside the caller's transaction; none begins or commits.
#ifndef SCALEOUT_CORE_CATALOG_ROWS_H_
#define SCALEOUT_CORE_CATALOG_ROWS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog/sql.h"
#include "core/catalog/types.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::core::catalog::internal {

// Characters (code points) in UTF-8 text.
std::size_t CharCount(std::string_view text);

// A name: non-empty, at most `max_chars`, no control characters.
sdk::Status CheckName(std::string_view field, std::string_view value, std::size_t max_chars);
// Free text: may be empty, at most `max_chars`, no NUL.
sdk::Status CheckText(std::string_view field, std::string_view value, std::size_t max_chars);
// The canonical GUID, or kInvalidArgument naming `field`.
sdk::Result<std::string> ParseGuid(std::string_view field, std::string_view value);

// Uppercase hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

// The next value of a counter in id_counters ("folder", "operation", ...).
sdk::Result<std::int64_t> NextId(sdk::Connection& connection, std::string_view counter);
// The next value of a hot counter ("operation": one per execution), taken
// from a block of ids reserved once per 64 calls per connection; a call
// between reservations is one SELECT. Ids stay unique and increasing per
// connection; a block abandoned (restart, rollback) leaves a gap.
// Thread-safe; `connection` must be inside a write transaction.
sdk::Result<std::int64_t> NextBlockId(sdk::Connection& connection, std::string_view counter);

sdk::Result<std::optional<std::string>> GetCatalogProperty(sdk::Connection& connection,
                                                           std::string_view name);
sdk::Status SetCatalogProperty(sdk::Connection& connection, std::string_view name,
                               std::string_view value);
sdk::Status SetMasterProperty(sdk::Connection& connection, std::string_view name,
                              std::string_view value);
// IS_SCALEOUT_ENABLED is "True" (any case).
sdk::Result<bool> IsScaleoutEnabled(sdk::Connection& connection);
// The same test on a value already read (absent: false).
bool ScaleoutEnabledValue(std::optional<std::string_view> value);

// `columns` (a kXxxColumns list) with each name qualified by `alias`
// ("e." gives "e.execution_id, e.folder_name, ..."), for joins.
std::string Prefixed(std::string_view alias, std::string_view columns);

// The executions columns in the order ReadExecution expects.
inline constexpr std::string_view kExecutionColumns =
    "execution_id, folder_name, project_name, package_name, reference_id, project_id, "
    "project_lsn, executed_as_name, caller_name, status, created_time, start_time, end_time, "
    "use32bitruntime, runinscaleout, useanyworker, retry_count, executed_count, worker_agent_id, "
    "stop_requested, stopped_by_name, lease_epoch";
Execution ReadExecution(const Query& q);
// Reads kExecutionColumns starting at column `first` (a joined row).
Execution ReadExecutionAt(const Query& q, int first);
// kNotFound "execution 42 does not exist" when absent.
sdk::Result<Execution> LoadExecution(sdk::Connection& connection, std::int64_t execution_id);
std::string ExecutionLabel(std::int64_t execution_id);

inline constexpr std::string_view kTaskColumns =
    "task_id, execution_id, attempt, status, worker_agent_id, lease_epoch, lease_expires_at, "
    "last_heartbeat, created_time, start_time, end_time, exit_code, result_message, server_only";
Task ReadTask(const Query& q);
// Reads kTaskColumns starting at column `first` (a joined row).
Task ReadTaskAt(const Query& q, int first);
sdk::Result<std::optional<Task>> LoadTask(sdk::Connection& connection, std::string_view task_id);

// A task and its execution's state, read in one statement: what ending an
// attempt needs. Of the execution only execution_id, status, retry_count,
// executed_count, stop_requested and lease_epoch are read; the other fields
// keep their defaults. `execution` is empty only when the execution row is
// missing (the caller decides when that is an error: ExecutionNotFound gives
// LoadExecution's status).
struct TaskWithExecution {
  Task task;
  std::optional<Execution> execution;
};
sdk::Result<std::optional<TaskWithExecution>> LoadTaskWithExecution(sdk::Connection& connection,
                                                                    std::string_view task_id);
sdk::Status ExecutionNotFound(std::int64_t execution_id);

inline constexpr std::string_view kWorkerColumns =
    "worker_agent_id, is_enabled, display_name, description, machine_name, tags, user_account, "
    "last_online_time, is_online, cert_sha256, cert_sha1, max_task_count, cpu_percent, "
    "free_memory_mb, running_tasks";
WorkerAgent ReadWorker(const Query& q);
sdk::Result<std::optional<WorkerAgent>> LoadWorker(sdk::Connection& connection,
                                                   std::string_view worker_agent_id);

// Sets the execution's status (and end_time when terminal). Its operation
// row is not written: ListOperations reads an execution's status, times and
// stopped_by_name from executions.
sdk::Status WriteExecutionStatus(sdk::Connection& connection, std::int64_t execution_id,
                                 ExecutionStatus status, std::int64_t now);
// What WriteExecutionStatus writes to executions.end_time (as COALESCE(?,
// end_time)): `now` for a terminal status, nothing otherwise.
std::optional<std::int64_t> EndTimeFor(ExecutionStatus status, std::int64_t now);

// Inserts a pending attempt; returns its task id.
sdk::Result<std::string> QueueTask(sdk::Connection& connection, std::int64_t execution_id,
                                   std::int64_t attempt, bool server_only, std::int64_t now);

// An execution's system parameters (object_type 50) are stored only once
// set (set_execution_parameter_value) or when their default differs from the
// built-in one (LOGGING_LEVEL under a SERVER_LOGGING_LEVEL other than 1): an
// execution's life cycle then writes and reads no row for them. Readers call
// this on the rows they read, ordered by (object_type, parameter_name); it
// adds each system parameter that has no row with its built-in default
// (value_set false) and keeps that order.
void AddSystemParameterDefaults(std::vector<ParameterValue>& values);

// Every parameter value of the execution, system defaults included, ordered
// by (object_type, parameter_name); sensitive values included (the caller
// decides who may see them).
sdk::Result<std::vector<ParameterValue>> LoadParameterValues(sdk::Connection& connection,
                                                             std::int64_t execution_id);

// Inserts an operation row; returns its id (a new one unless `operation_id` is given).
// An execution's row (type 200) is not updated afterwards: its status, times
// and stopped_by_name are read from the execution (ListOperations).
sdk::Result<std::int64_t> InsertOperation(sdk::Connection& connection, OperationType type,
                                          int object_type, std::optional<std::int64_t> object_id,
                                          std::string_view object_name, ExecutionStatus status,
                                          std::string_view caller_name, std::int64_t now,
                                          std::optional<std::int64_t> operation_id = std::nullopt);

// 'text', for messages.
std::string Quoted(std::string_view s);
// "project", "package" or "execution" for object types 20, 30 and 50.
std::string_view ObjectTypeName(int object_type);

// The folder's id; kNotFound (saying to create it) when there is none.
sdk::Result<std::int64_t> FindFolder(sdk::Connection& connection, std::string_view folder_name);

struct ProjectRow {
  std::int64_t project_id = 0;
  std::int64_t lsn = 0;  // the current version (object_version_lsn)
};
sdk::Result<std::optional<ProjectRow>> FindProject(sdk::Connection& connection,
                                                   std::int64_t folder_id,
                                                   std::string_view project_name);
// The project; kInvalidArgument for a name that cannot be one (empty, too
// long), kNotFound (saying to deploy it) when it or its folder is missing.
sdk::Result<ProjectRow> RequireProject(sdk::Connection& connection, std::string_view folder_name,
                                       std::string_view project_name);

}  // namespace scaleout::core::catalog::internal

#endif  // SCALEOUT_CORE_CATALOG_ROWS_H_
