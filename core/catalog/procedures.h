// The SSIS catalog procedures and views, as core operations.
//
// Each function keeps the SSIS name (catalog.create_execution ->
// CreateExecution), parameters, defaults and errors (reference 2.5-2.7). Each
// takes a Txn (see transaction.h: the caller owns the transaction; a refused
// call changes nothing) and the Caller, whose roles are checked first.
//
// Text is stored verbatim through bound parameters only (never built into
// SQL); lengths are limited per limits.h; GUIDs are normalized to uppercase.
//
// Thread-safety: as the Txn's connection (one thread at a time).
#ifndef SCALEOUT_CORE_CATALOG_PROCEDURES_H_
#define SCALEOUT_CORE_CATALOG_PROCEDURES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog/roles.h"
#include "core/catalog/transaction.h"
#include "core/catalog/types.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::catalog {

// ---- folders and projects (ssis_admin) ---------------------------------------------

// catalog.create_folder. Returns the folder id. Errors: kAlreadyExists.
sdk::Result<std::int64_t> CreateFolder(Txn& txn, const Caller& caller, std::string_view name,
                                       std::string_view description = {});
// catalog.set_folder_description. Errors: kNotFound, kInvalidArgument.
sdk::Status SetFolderDescription(Txn& txn, const Caller& caller, std::string_view folder_name,
                                 std::string_view description);
// catalog.rename_folder. Schedules and absolute environment references
// that name the folder follow it; executions keep the name they ran under.
// Errors: kNotFound, kAlreadyExists (the new name), kInvalidArgument.
sdk::Status RenameFolder(Txn& txn, const Caller& caller, std::string_view old_name,
                         std::string_view new_name);
// catalog.delete_folder: only an empty folder (no project, no environment,
// and no deleted project whose history the maintenance has not removed yet).
sdk::Status DeleteFolder(Txn& txn, const Caller& caller, std::string_view name);

// catalog.deploy_project: the folder must exist; every deploy makes a new
// project version (object_version_lsn) with its packages (content + SHA-256)
// and declared parameters. Errors: kNotFound (folder), kInvalidArgument
// (no packages, duplicate names, bad parameter declarations, sizes).
sdk::Result<DeployResult> DeployProject(Txn& txn, const Caller& caller,
                                        const ProjectDeployment& deployment);

// catalog.move_project: to `destination_folder`, which must exist and have
// no project of that name. Its versions, configured values, environment
// references (a relative one now names an environment of the destination)
// and schedules go with it; executions keep the folder they ran under.
sdk::Status MoveProject(Txn& txn, const Caller& caller, std::string_view source_folder,
                        std::string_view project_name, std::string_view destination_folder);

// catalog.delete_project: its environment references and configured
// parameter values are deleted; its versions and executions stay as history
// (the retention cleanup removes them) and its name is free for a new deploy.
// Refused while an execution of it is pending or running, or a schedule runs
// one of its packages. Created executions of it can no longer start.
sdk::Status DeleteProject(Txn& txn, const Caller& caller, std::string_view folder_name,
                          std::string_view project_name);

// catalog.object_versions for one project (readers): its versions still
// in the catalog, newest first; `current` marks the one executions get.
sdk::Result<std::vector<ProjectVersion>> ListProjectVersions(Txn& txn, const Caller& caller,
                                                             std::string_view folder_name,
                                                             std::string_view project_name);

// catalog.get_project (readers): version `object_version_lsn` (nullopt: the
// current one) of the project, its packages and declared parameters, as a
// deploy would take them back. Errors: kNotFound (project or version).
sdk::Result<ProjectExport> GetProject(Txn& txn, const Caller& caller, std::string_view folder_name,
                                      std::string_view project_name,
                                      std::optional<std::int64_t> object_version_lsn);

// catalog.restore_project: makes `object_version_lsn`, a version of the
// project still in the catalog, its current version again: executions
// created from now on run its packages with its parameters (the project's
// configured values and environment references carry over, as after a
// deploy), and executions created for the version it replaces can no longer
// start. Records who restored it and when, and an operation (106); returns
// the operation id. Errors: kNotFound (project, or a version that is not
// one of its own or was removed).
sdk::Result<std::int64_t> RestoreProject(Txn& txn, const Caller& caller,
                                         std::string_view folder_name,
                                         std::string_view project_name,
                                         std::int64_t object_version_lsn);

// ---- executions (ssis_admin; ssis_cluster_executor for scale-out executions) ----------

// catalog.create_execution. Only entry-point packages; runinscaleout nullopt
// means DEFAULT_EXECUTION_MODE. Creates the execution (status created 1),
// its operation (type 200, same id) and its parameter values from the
// declared defaults plus the system parameters. Returns execution_id.
sdk::Result<std::int64_t> CreateExecution(Txn& txn, const Caller& caller,
                                          const CreateExecutionRequest& request);

// catalog.set_execution_parameter_value: only while created (1). object_type
// 20 (project), 30 (package: a parameter of the execution's package) or 50
// (system: LOGGING_LEVEL, CUSTOMIZED_LOGGING_LEVEL, SYNCHRONIZED, DUMP_ON_ERROR,
// DUMP_ON_EVENT, DUMP_EVENT_CODE, CALLER_INFO). The value is text and must
// parse as the parameter's data type.
sdk::Status SetExecutionParameterValue(Txn& txn, const Caller& caller, std::int64_t execution_id,
                                       int object_type, std::string_view parameter_name,
                                       std::string_view parameter_value);

// catalog.add_execution_worker: adds to the allow-list of a created scale-out execution.
sdk::Status AddExecutionWorker(Txn& txn, const Caller& caller, std::int64_t execution_id,
                               std::string_view worker_agent_id);

// catalog.start_execution: only from created (1); refused when the project was
// redeployed since create_execution or a required parameter has no value.
// Moves to pending (5) and queues attempt 1.
sdk::Status StartExecution(Txn& txn, const Caller& caller, std::int64_t execution_id,
                           std::int64_t retry_count = 0);

// catalog.stop_operation: pending -> canceled (3) at once; running -> stopping
// (8) with the stop flag that the next lease renewal delivers. Errors:
// kNotFound, kFailedPrecondition (created or finished).
sdk::Status StopOperation(Txn& txn, const Caller& caller, std::int64_t operation_id);

// ---- workers and configuration (ssis_admin) ------------------------------------------

// Trusts a worker certificate (Scale Out Manager "+"): the worker row is
// created disabled. Returns the WorkerAgentId. Errors: kAlreadyExists (the
// thumbprint or id is already trusted), kInvalidArgument (bad thumbprint/GUID).
sdk::Result<std::string> AddWorkerAgent(Txn& txn, const Caller& caller,
                                        const AddWorkerRequest& request);
// Scale Out Manager "-": refused while the worker holds running tasks.
sdk::Status RemoveWorkerAgent(Txn& txn, const Caller& caller, std::string_view worker_agent_id);
sdk::Status EnableWorkerAgent(Txn& txn, const Caller& caller, std::string_view worker_agent_id);
sdk::Status DisableWorkerAgent(Txn& txn, const Caller& caller, std::string_view worker_agent_id);
// PropertyName is DisplayName, Description or Tags; anything else is refused.
sdk::Status SetWorkerAgentProperty(Txn& txn, const Caller& caller, std::string_view worker_agent_id,
                                   std::string_view property_name, std::string_view property_value);

// catalog.configure_catalog: DEFAULT_EXECUTION_MODE (0|1), RETENTION_WINDOW
// (days, 1..3650), OPERATION_CLEANUP_ENABLED / VERSION_CLEANUP_ENABLED
// (TRUE|FALSE), MAX_PROJECT_VERSIONS (1..9999), SERVER_LOGGING_LEVEL,
// SERVER_CUSTOMIZED_LOGGING_LEVEL, ENCRYPTION_ALGORITHM,
// SERVER_OPERATION_ENCRYPTION_LEVEL (1|2). IS_SCALEOUT_ENABLED is set by
// EnableScaleout only.
sdk::Status ConfigureCatalog(Txn& txn, const Caller& caller, std::string_view property_name,
                             std::string_view property_value);
// catalog.enable_scaleout: IS_SCALEOUT_ENABLED = True.
sdk::Status EnableScaleout(Txn& txn, const Caller& caller);
// catalog.update_master_address: MASTER_ADDRESS, an https:// or tcp:// URL.
sdk::Status UpdateMasterAddress(Txn& txn, const Caller& caller, std::string_view master_address);
// catalog.update_logdb_info: CLUSTER_LOGDB_SERVER / CLUSTER_LOGDB_CONNECTION_STRING.
sdk::Status UpdateLogdbInfo(Txn& txn, const Caller& caller, std::string_view server_name,
                            std::string_view connection_string);

// ---- views ---------------------------------------------------------------------------

// catalog.worker_agents (ssis_admin, ssis_cluster_executor, ssis_reader).
sdk::Result<std::vector<WorkerAgent>> ListWorkerAgents(Txn& txn, const Caller& caller);
sdk::Result<WorkerAgent> GetWorkerAgent(Txn& txn, const Caller& caller,
                                        std::string_view worker_agent_id);
// catalog.master_properties (any caller, as SSIS public).
sdk::Result<std::vector<Property>> ListMasterProperties(Txn& txn, const Caller& caller);
// catalog.catalog_properties (readers).
sdk::Result<std::vector<Property>> ListCatalogProperties(Txn& txn, const Caller& caller);
// catalog.executions, newest first (readers).
sdk::Result<std::vector<Execution>> ListExecutions(Txn& txn, const Caller& caller,
                                                   const ExecutionFilter& filter = {});
sdk::Result<Execution> GetExecution(Txn& txn, const Caller& caller, std::int64_t execution_id);
// catalog.execution_parameter_values; sensitive values read as nullopt.
sdk::Result<std::vector<ParameterValue>> ListExecutionParameterValues(Txn& txn,
                                                                      const Caller& caller,
                                                                      std::int64_t execution_id);
// The attempts of one execution, oldest first (readers).
sdk::Result<std::vector<Task>> ListExecutionTasks(Txn& txn, const Caller& caller,
                                                  std::int64_t execution_id);
// catalog.operations, newest first (readers).
sdk::Result<std::vector<Operation>> ListOperations(Txn& txn, const Caller& caller,
                                                   std::int64_t limit = 1000);
// catalog.event_messages of one operation, in insertion order, after
// `after_event_message_id` (readers).
sdk::Result<std::vector<EventMessage>> ListEventMessages(Txn& txn, const Caller& caller,
                                                         std::int64_t operation_id,
                                                         std::int64_t after_event_message_id = 0,
                                                         std::int64_t limit = 1000);

}  // namespace scaleout::core::catalog

#endif  // SCALEOUT_CORE_CATALOG_PROCEDURES_H_
