#include "core/catalog/schema.h"

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog/sql.h"
#include "core/catalog/transaction.h"

namespace scaleout::core::catalog {
namespace {

using internal::OneOff;
using internal::Query;

// Migration 1: the whole schema. Times are UTC ms (int64); booleans are 0/1;
// GUIDs and thumbprints are uppercase text. Each statement is run on its own
// so no driver has to support multi-statement scripts with parameters.
constexpr std::string_view kMigration1[] = {
    R"(CREATE TABLE id_counters (
  name {TEXT} PRIMARY KEY,
  next_value {INT64} NOT NULL))",

    R"(CREATE TABLE folders (
  folder_id {INT64} PRIMARY KEY,
  name {TEXT} NOT NULL UNIQUE,
  description {TEXT} NOT NULL,
  created_by_name {TEXT} NOT NULL,
  created_time {INT64} NOT NULL))",

    R"(CREATE TABLE projects (
  project_id {INT64} PRIMARY KEY,
  folder_id {INT64} NOT NULL REFERENCES folders(folder_id),
  name {TEXT} NOT NULL,
  description {TEXT} NOT NULL,
  object_version_lsn {INT64} NOT NULL,
  deployed_by_name {TEXT} NOT NULL,
  created_time {INT64} NOT NULL,
  last_deployed_time {INT64} NOT NULL,
  UNIQUE (folder_id, name)))",

    // One row per deploy: object_version_lsn is the project version.
    R"(CREATE TABLE object_versions (
  object_version_lsn {INT64} PRIMARY KEY,
  project_id {INT64} NOT NULL REFERENCES projects(project_id),
  created_by_name {TEXT} NOT NULL,
  created_time {INT64} NOT NULL,
  description {TEXT} NOT NULL))",

    R"(CREATE TABLE packages (
  package_id {INT64} PRIMARY KEY,
  project_id {INT64} NOT NULL REFERENCES projects(project_id),
  project_version_lsn {INT64} NOT NULL REFERENCES object_versions(object_version_lsn),
  name {TEXT} NOT NULL,
  content {BLOB} NOT NULL,
  content_sha256 {TEXT} NOT NULL,
  entry_point {INT64} NOT NULL,
  UNIQUE (project_version_lsn, name)))",

    // Declared parameters; object_type 20 (project) or 30 (package, object_name = package).
    R"(CREATE TABLE object_parameters (
  parameter_id {INT64} PRIMARY KEY,
  project_id {INT64} NOT NULL REFERENCES projects(project_id),
  project_version_lsn {INT64} NOT NULL REFERENCES object_versions(object_version_lsn),
  object_type {INT64} NOT NULL,
  object_name {TEXT} NOT NULL,
  parameter_name {TEXT} NOT NULL,
  data_type {TEXT} NOT NULL,
  default_value {TEXT},
  required {INT64} NOT NULL,
  sensitive {INT64} NOT NULL,
  UNIQUE (project_version_lsn, object_type, object_name, parameter_name)))",

    R"(CREATE TABLE environments (
  environment_id {INT64} PRIMARY KEY,
  folder_id {INT64} NOT NULL REFERENCES folders(folder_id),
  name {TEXT} NOT NULL,
  description {TEXT} NOT NULL,
  created_time {INT64} NOT NULL,
  UNIQUE (folder_id, name)))",

    R"(CREATE TABLE environment_variables (
  variable_id {INT64} PRIMARY KEY,
  environment_id {INT64} NOT NULL REFERENCES environments(environment_id),
  name {TEXT} NOT NULL,
  data_type {TEXT} NOT NULL,
  value {TEXT},
  sensitive {INT64} NOT NULL,
  UNIQUE (environment_id, name)))",

    // reference_type 'R' (relative: the project's folder) or 'A' (absolute).
    R"(CREATE TABLE environment_references (
  reference_id {INT64} PRIMARY KEY,
  project_id {INT64} NOT NULL REFERENCES projects(project_id),
  reference_type {TEXT} NOT NULL,
  environment_folder_name {TEXT},
  environment_name {TEXT} NOT NULL))",

    // execution_id is also the operation_id (as in SSIS).
    R"(CREATE TABLE executions (
  execution_id {INT64} PRIMARY KEY,
  folder_name {TEXT} NOT NULL,
  project_name {TEXT} NOT NULL,
  package_name {TEXT} NOT NULL,
  reference_id {INT64},
  project_id {INT64} NOT NULL REFERENCES projects(project_id),
  project_lsn {INT64} NOT NULL,
  executed_as_name {TEXT} NOT NULL,
  caller_name {TEXT} NOT NULL,
  status {INT64} NOT NULL,
  created_time {INT64} NOT NULL,
  start_time {INT64},
  end_time {INT64},
  use32bitruntime {INT64} NOT NULL,
  runinscaleout {INT64} NOT NULL,
  useanyworker {INT64} NOT NULL,
  retry_count {INT64} NOT NULL,
  executed_count {INT64} NOT NULL,
  worker_agent_id {TEXT},
  stop_requested {INT64} NOT NULL,
  stopped_by_name {TEXT},
  lease_epoch {INT64} NOT NULL))",
    "CREATE INDEX executions_by_status ON executions (status, execution_id)",
    "CREATE INDEX executions_by_end ON executions (end_time)",

    R"(CREATE TABLE execution_parameter_values (
  execution_id {INT64} NOT NULL REFERENCES executions(execution_id),
  object_type {INT64} NOT NULL,
  parameter_name {TEXT} NOT NULL,
  data_type {TEXT} NOT NULL,
  parameter_value {TEXT},
  sensitive {INT64} NOT NULL,
  required {INT64} NOT NULL,
  value_set {INT64} NOT NULL,
  PRIMARY KEY (execution_id, object_type, parameter_name)))",

    // The allow-list of add_execution_worker.
    R"(CREATE TABLE execution_workers (
  execution_id {INT64} NOT NULL REFERENCES executions(execution_id),
  worker_agent_id {TEXT} NOT NULL,
  PRIMARY KEY (execution_id, worker_agent_id)))",

    // One row per attempt. lease_epoch is the execution's epoch when claimed.
    R"(CREATE TABLE tasks (
  task_id {TEXT} PRIMARY KEY,
  execution_id {INT64} NOT NULL REFERENCES executions(execution_id),
  attempt {INT64} NOT NULL,
  status {INT64} NOT NULL,
  server_only {INT64} NOT NULL,
  worker_agent_id {TEXT},
  lease_epoch {INT64} NOT NULL,
  lease_expires_at {INT64},
  last_heartbeat {INT64},
  created_time {INT64} NOT NULL,
  start_time {INT64},
  end_time {INT64},
  exit_code {INT64},
  result_message {TEXT} NOT NULL,
  UNIQUE (execution_id, attempt)))",
    // The claim query: pending tasks in created order.
    "CREATE INDEX tasks_claim ON tasks (status, server_only, created_time, task_id)",
    // Capacity: running tasks by worker.
    "CREATE INDEX tasks_by_worker ON tasks (worker_agent_id, status)",
    // The expiry sweep: running leases by expiry.
    "CREATE INDEX tasks_by_lease ON tasks (status, lease_expires_at)",

    R"(CREATE TABLE worker_agents (
  worker_agent_id {TEXT} PRIMARY KEY,
  is_enabled {INT64} NOT NULL,
  display_name {TEXT} NOT NULL,
  description {TEXT} NOT NULL,
  machine_name {TEXT} NOT NULL,
  tags {TEXT} NOT NULL,
  user_account {TEXT} NOT NULL,
  last_online_time {INT64},
  is_online {INT64} NOT NULL,
  cert_sha256 {TEXT} NOT NULL UNIQUE,
  cert_sha1 {TEXT} NOT NULL,
  max_task_count {INT64} NOT NULL,
  cpu_percent {DOUBLE} NOT NULL,
  free_memory_mb {DOUBLE} NOT NULL,
  running_tasks {INT64} NOT NULL,
  added_time {INT64} NOT NULL))",

    R"(CREATE TABLE master_properties (
  property_name {TEXT} PRIMARY KEY,
  property_value {TEXT} NOT NULL))",

    R"(CREATE TABLE catalog_properties (
  property_name {TEXT} PRIMARY KEY,
  property_value {TEXT} NOT NULL))",

    R"(CREATE TABLE operations (
  operation_id {INT64} PRIMARY KEY,
  operation_type {INT64} NOT NULL,
  created_time {INT64} NOT NULL,
  object_type {INT64} NOT NULL,
  object_id {INT64},
  object_name {TEXT} NOT NULL,
  status {INT64} NOT NULL,
  start_time {INT64},
  end_time {INT64},
  caller_name {TEXT} NOT NULL,
  stopped_by_name {TEXT}))",

    R"(CREATE TABLE event_messages (
  event_message_id {ID_PK},
  operation_id {INT64} NOT NULL REFERENCES operations(operation_id),
  message_time {INT64} NOT NULL,
  message_type {INT64} NOT NULL,
  message_source_type {INT64} NOT NULL,
  message_source {TEXT} NOT NULL,
  message {TEXT} NOT NULL,
  package_name {TEXT} NOT NULL,
  event_name {TEXT} NOT NULL,
  event_message_guid {TEXT} NOT NULL UNIQUE))",
    "CREATE INDEX event_messages_by_operation ON event_messages (operation_id, event_message_id)",

    // credential_kind 'certificate' (SHA-256 thumbprint) or 'token' (SHA-256 of the token).
    R"(CREATE TABLE principals (
  principal_name {TEXT} PRIMARY KEY,
  credential_kind {TEXT} NOT NULL,
  credential {TEXT} NOT NULL UNIQUE,
  created_time {INT64} NOT NULL))",
    R"(CREATE TABLE principal_roles (
  principal_name {TEXT} NOT NULL REFERENCES principals(principal_name),
  role_name {TEXT} NOT NULL,
  PRIMARY KEY (principal_name, role_name)))",

    // The SQL Server Agent job equivalent. parameters: one "type|name=value" per line.
    R"(CREATE TABLE schedules (
  schedule_id {INT64} PRIMARY KEY,
  name {TEXT} NOT NULL UNIQUE,
  cron_expression {TEXT} NOT NULL,
  folder_name {TEXT} NOT NULL,
  project_name {TEXT} NOT NULL,
  package_name {TEXT} NOT NULL,
  parameters {TEXT} NOT NULL,
  runinscaleout {INT64},
  useanyworker {INT64} NOT NULL,
  retry_count {INT64} NOT NULL,
  enabled {INT64} NOT NULL,
  last_fired_at {INT64},
  next_due_at {INT64},
  created_time {INT64} NOT NULL))",
    "CREATE INDEX schedules_due ON schedules (enabled, next_due_at)",
};

// SSIS defaults for catalog.catalog_properties.
constexpr std::pair<std::string_view, std::string_view> kDefaultCatalogProperties[] = {
    {"DEFAULT_EXECUTION_MODE", "0"},       {"ENCRYPTION_ALGORITHM", "AES_256"},
    {"IS_SCALEOUT_ENABLED", "False"},      {"MAX_PROJECT_VERSIONS", "10"},
    {"OPERATION_CLEANUP_ENABLED", "TRUE"}, {"RETENTION_WINDOW", "365"},
    {"SCHEMA_BUILD", "scaleout"},          {"SERVER_CUSTOMIZED_LOGGING_LEVEL", ""},
    {"SERVER_LOGGING_LEVEL", "1"},         {"SERVER_OPERATION_ENCRYPTION_LEVEL", "2"},
    {"VERSION_CLEANUP_ENABLED", "TRUE"},
};

constexpr std::string_view kCounters[] = {"folder",    "project",     "object_version", "package",
                                          "parameter", "environment", "variable",       "reference",
                                          "operation", "schedule"};

// Lists the database's tables, the one place that needs the dialect's own catalog.
sdk::Result<std::vector<std::string>> ListTables(sdk::Connection& connection,
                                                 const sdk::Dialect& dialect) {
  std::string_view sql =
      dialect.name == "sqlite"
          ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
          : "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema()";
  SCALEOUT_ASSIGN_OR_RETURN(Query q, OneOff(connection, sql));
  return internal::FirstColumnTexts(q);
}

sdk::Status ApplyMigration1(sdk::Connection& connection, const sdk::Dialect& dialect) {
  for (std::string_view ddl : kMigration1) {
    SCALEOUT_RETURN_IF_ERROR(connection.ExecuteScript(SubstituteDialect(ddl, dialect))
                                 .WithContext("creating the catalog schema"));
  }
  for (std::string_view name : kCounters) {
    SCALEOUT_ASSIGN_OR_RETURN(Query q, OneOff(connection,
                                              "INSERT INTO id_counters (name, next_value) "
                                              "VALUES (?, 1)"));
    q.Text(name);
    SCALEOUT_RETURN_IF_ERROR(q.Exec().status());
  }
  for (const auto& [name, value] : kDefaultCatalogProperties) {
    SCALEOUT_ASSIGN_OR_RETURN(Query q, OneOff(connection,
                                              "INSERT INTO catalog_properties (property_name, "
                                              "property_value) VALUES (?, ?)"));
    q.Text(name).Text(value);
    SCALEOUT_RETURN_IF_ERROR(q.Exec().status());
  }
  return sdk::Status::Ok();
}

// Migration 2: the indexes keyed on a status hold only the rows the queries
// look for (partial indexes), so a finished task or execution leaves them and
// a status change touches fewer B-trees. Every query that used the old
// indexes names the indexed status as a literal, which is what lets SQLite and
// PostgreSQL use a partial index:
//  - the claim: tasks with status = 5, by server_only, in created order;
//  - the capacity count and remove_worker_agent: status = 2 by worker (the
//    status stays a key column so the count reads the index alone);
//  - the lease expiry sweep: status = 2 by lease_expires_at;
//  - the completed-job cleanup: end_time < ?, which implies end_time IS NOT NULL.
constexpr std::string_view kMigration2DropIndexes[] = {
    "DROP INDEX tasks_claim",
    "DROP INDEX tasks_by_worker",
    "DROP INDEX tasks_by_lease",
    "DROP INDEX executions_by_end",
};
constexpr std::string_view kMigration2CreateIndexes[] = {
    "CREATE INDEX tasks_pending ON tasks (server_only, created_time, task_id) WHERE status = 5",
    "CREATE INDEX tasks_running_by_worker ON tasks (worker_agent_id, status) WHERE status = 2",
    "CREATE INDEX tasks_running_by_lease ON tasks (lease_expires_at, task_id) WHERE status = 2",
    "CREATE INDEX executions_ended ON executions (end_time) WHERE end_time IS NOT NULL",
};

// On SQLite, execution_parameter_values becomes a WITHOUT ROWID table: its
// rows live in the primary key's B-tree, so each of the parameter rows an
// execution gets is one B-tree insert instead of two (table and key), and the
// reads by execution read the key alone. PostgreSQL has no such table kind
// (its table and key are separate structures either way). The table is
// copied, dropped and renamed. (tasks is not rebuilt so: its key is a random
// GUID and its indexes would carry it instead of a rowid, which measured
// slower.)
constexpr std::string_view kMigration2Sqlite[] = {
    R"(CREATE TABLE execution_parameter_values_v2 (
  execution_id {INT64} NOT NULL REFERENCES executions(execution_id),
  object_type {INT64} NOT NULL,
  parameter_name {TEXT} NOT NULL,
  data_type {TEXT} NOT NULL,
  parameter_value {TEXT},
  sensitive {INT64} NOT NULL,
  required {INT64} NOT NULL,
  value_set {INT64} NOT NULL,
  PRIMARY KEY (execution_id, object_type, parameter_name)) WITHOUT ROWID)",
    "INSERT INTO execution_parameter_values_v2 (execution_id, object_type, parameter_name, "
    "data_type, parameter_value, sensitive, required, value_set) SELECT execution_id, "
    "object_type, parameter_name, data_type, parameter_value, sensitive, required, value_set "
    "FROM execution_parameter_values",
    "DROP TABLE execution_parameter_values",
    "ALTER TABLE execution_parameter_values_v2 RENAME TO execution_parameter_values",
};

sdk::Status RunDdl(sdk::Connection& connection, const sdk::Dialect& dialect,
                   std::span<const std::string_view> statements, std::string_view what) {
  for (std::string_view ddl : statements) {
    SCALEOUT_RETURN_IF_ERROR(
        connection.ExecuteScript(SubstituteDialect(ddl, dialect)).WithContext(what));
  }
  return sdk::Status::Ok();
}

sdk::Status ApplyMigration2(sdk::Connection& connection, const sdk::Dialect& dialect) {
  SCALEOUT_RETURN_IF_ERROR(
      RunDdl(connection, dialect, kMigration2DropIndexes, "dropping the status indexes"));
  if (dialect.name == "sqlite") {
    SCALEOUT_RETURN_IF_ERROR(RunDdl(connection, dialect, kMigration2Sqlite,
                                    "rebuilding execution_parameter_values WITHOUT ROWID"));
  }
  return RunDdl(connection, dialect, kMigration2CreateIndexes, "creating the status indexes");
}

// Migration 3: a worker's running tasks are counted in a narrow table of
// their own (`worker_task_counts.claimed_task_count`, moved by the claim and
// by the end of an attempt, in the same transaction) instead of by a COUNT
// over a running-by-worker index on every claim. The count costs two narrow
// row updates per attempt where the index cost an insert and a delete plus a
// scan of the worker's running tasks on every claim; the backfill makes it
// exact for a catalog in use.
// On SQLite the table keeps its rows in its key (WITHOUT ROWID): one B-tree
// seek per count instead of the key's index and then the table.
constexpr std::string_view kMigration3CreateCounts =
    R"(CREATE TABLE worker_task_counts (
  worker_agent_id {TEXT} PRIMARY KEY REFERENCES worker_agents(worker_agent_id),
  claimed_task_count {INT64} NOT NULL))";
constexpr std::string_view kMigration3[] = {
    "INSERT INTO worker_task_counts (worker_agent_id, claimed_task_count) SELECT "
    "w.worker_agent_id, (SELECT COUNT(*) FROM tasks t WHERE t.worker_agent_id = "
    "w.worker_agent_id AND t.status = 2) FROM worker_agents w",
    "DROP INDEX tasks_running_by_worker",
    // The operation ids are reserved in blocks (internal::NextBlockId): the
    // counter row carries the random tag of its latest reservation, so a
    // connection can tell that its block still stands with one SELECT.
    "ALTER TABLE id_counters ADD COLUMN reservation {INT64} NOT NULL DEFAULT 0",
};

sdk::Status ApplyMigration3(sdk::Connection& connection, const sdk::Dialect& dialect) {
  const std::string create =
      std::string(kMigration3CreateCounts) + (dialect.name == "sqlite" ? " WITHOUT ROWID" : "");
  const std::string_view create_view = create;
  SCALEOUT_RETURN_IF_ERROR(
      RunDdl(connection, dialect, std::span(&create_view, 1), "creating the running-task counts"));
  return RunDdl(connection, dialect, kMigration3, "counting running tasks per worker");
}

// Migration 4: executions lose their index by status. It moved an entry on
// each of an execution's four status writes (created, pending, running,
// ended): about 9 % of the catalog writer's time per life cycle. A listing
// of the executions in flight finds them through their current attempt and
// the tasks' partial indexes instead (ListExecutions); other status filters
// walk execution ids backwards and stop at their limit, and
// CountActiveExecutions (before an encryption setting changes) is rare. A
// partial index of only the executions in flight measured no better than
// half the gain: its entries still move twice.
constexpr std::string_view kMigration4[] = {
    "DROP INDEX executions_by_status",
};

// Also migration 4, on SQLite: a package's content becomes the last column of
// its row. SQLite stores a row's columns in order and a large value's tail on
// a chain of overflow pages, so reading a column stored after the content
// (content_sha256 on every claim, entry_point on every create_execution)
// walked the whole chain: about 370 µs per read for a 1 MiB package, 5 µs
// with the content last. PostgreSQL keeps large values out of line (TOAST)
// whatever their place, so it needs no rebuild.
constexpr std::string_view kMigration4Sqlite[] = {
    R"(CREATE TABLE packages_v4 (
  package_id {INT64} PRIMARY KEY,
  project_id {INT64} NOT NULL REFERENCES projects(project_id),
  project_version_lsn {INT64} NOT NULL REFERENCES object_versions(object_version_lsn),
  name {TEXT} NOT NULL,
  content_sha256 {TEXT} NOT NULL,
  entry_point {INT64} NOT NULL,
  content {BLOB} NOT NULL,
  UNIQUE (project_version_lsn, name)))",
    "INSERT INTO packages_v4 (package_id, project_id, project_version_lsn, name, content_sha256, "
    "entry_point, content) SELECT package_id, project_id, project_version_lsn, name, "
    "content_sha256, entry_point, content FROM packages",
    "DROP TABLE packages",
    "ALTER TABLE packages_v4 RENAME TO packages",
};

sdk::Status ApplyMigration4(sdk::Connection& connection, const sdk::Dialect& dialect) {
  SCALEOUT_RETURN_IF_ERROR(
      RunDdl(connection, dialect, kMigration4, "dropping the executions' status index"));
  if (dialect.name != "sqlite") return sdk::Status::Ok();
  return RunDdl(connection, dialect, kMigration4Sqlite,
                "rebuilding packages with their content last");
}

// Migration 5: environments become usable (catalog.create_environment_variable,
// set_object_parameter_value). A project's configured parameter values are
// kept per project, not per version, so they carry over to the versions
// deployed later (as in SSIS) for the parameters those still declare.
// object_name is the package's name (30) or the project's (20), as in
// object_parameters; value_type 'V' holds a literal in `value`, 'R' the name
// of the environment variable whose value an execution gets.
constexpr std::string_view kMigration5[] = {
    R"(CREATE TABLE object_parameter_values (
  project_id {INT64} NOT NULL REFERENCES projects(project_id),
  object_type {INT64} NOT NULL,
  object_name {TEXT} NOT NULL,
  parameter_name {TEXT} NOT NULL,
  value_type {TEXT} NOT NULL,
  value {TEXT} NOT NULL,
  PRIMARY KEY (project_id, object_type, object_name, parameter_name)))",
    "ALTER TABLE environment_variables ADD COLUMN description {TEXT} NOT NULL DEFAULT ''",
    // The environment reference a schedule's executions run with (NULL: none).
    "ALTER TABLE schedules ADD COLUMN reference_id {INT64}",
    // delete_project: when (NULL: the project is in use). A deleted project's
    // row stays, renamed, while its history refers to it.
    "ALTER TABLE projects ADD COLUMN deleted_time {INT64}",
};

sdk::Status ApplyMigration5(sdk::Connection& connection, const sdk::Dialect& dialect) {
  return RunDdl(connection, dialect, kMigration5, "adding environment variables' use");
}

// Migration 6: sensitive values are sealed (sensitive_values.h). Every other
// table that holds one already flags it; a project's configured value gets
// a flag of its own, since its parameter may be sensitive in one version and
// not in another: 1 when `value` is sealed. The master seals the values an
// older catalog kept in plaintext when it first starts with its key.
//
// Also migration 6: catalog.restore_project records who made a version
// current again, and when (SSIS's object_versions.restored_by and
// last_restored_time).
constexpr std::string_view kMigration6[] = {
    "ALTER TABLE object_parameter_values ADD COLUMN sensitive {INT64} NOT NULL DEFAULT 0",
    "ALTER TABLE object_versions ADD COLUMN restored_by_name {TEXT}",
    "ALTER TABLE object_versions ADD COLUMN last_restored_time {INT64}",
};

sdk::Status ApplyMigration6(sdk::Connection& connection, const sdk::Dialect& dialect) {
  return RunDdl(connection, dialect, kMigration6,
                "flagging sealed configured values and restored project versions");
}

using MigrationFn = sdk::Status (*)(sdk::Connection&, const sdk::Dialect&);
// Index i holds migration i + 1. Append only.
constexpr MigrationFn kMigrations[] = {&ApplyMigration1, &ApplyMigration2, &ApplyMigration3,
                                       &ApplyMigration4, &ApplyMigration5, &ApplyMigration6};
static_assert(std::size(kMigrations) == kSchemaVersion);

sdk::Status MigrateInTransaction(sdk::Connection& connection, const sdk::Dialect& dialect,
                                 std::int64_t now, std::int64_t target_version) {
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t version, ReadSchemaVersion(connection, dialect));
  if (version > kSchemaVersion) {
    return sdk::Status::FailedPrecondition("catalog schema version " + std::to_string(version) +
                                           " is newer than this build supports (" +
                                           std::to_string(kSchemaVersion) + "); upgrade scaleout");
  }
  if (version == 0) {
    SCALEOUT_RETURN_IF_ERROR(connection.ExecuteScript(SubstituteDialect(
        "CREATE TABLE schema_version (version {INT64} PRIMARY KEY, applied_time {INT64} NOT NULL)",
        dialect)));
  }
  for (std::int64_t next = version + 1; next <= target_version; ++next) {
    SCALEOUT_RETURN_IF_ERROR(
        kMigrations[next - 1](connection, dialect)
            .WithContext("applying catalog migration " + std::to_string(next)));
    SCALEOUT_ASSIGN_OR_RETURN(
        Query q,
        OneOff(connection, "INSERT INTO schema_version (version, applied_time) VALUES (?, ?)"));
    q.Int(next).Int(now);
    SCALEOUT_RETURN_IF_ERROR(q.Exec().status());
  }
  return sdk::Status::Ok();
}

}  // namespace

std::string SubstituteDialect(std::string_view sql, const sdk::Dialect& dialect) {
  const std::pair<std::string_view, const std::string*> names[] = {
      {"{INT64}", &dialect.int64_type},
      {"{DOUBLE}", &dialect.double_type},
      {"{TEXT}", &dialect.text_type},
      {"{BLOB}", &dialect.blob_type},
      {"{ID_PK}", &dialect.identity_primary_key},
  };
  std::string out;
  out.reserve(sql.size() + 64);
  std::size_t i = 0;
  while (i < sql.size()) {
    bool replaced = false;
    if (sql[i] == '{') {
      for (const auto& [token, value] : names) {
        if (sql.substr(i, token.size()) == token) {
          out += *value;
          i += token.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += sql[i++];
  }
  return out;
}

sdk::Result<std::int64_t> ReadSchemaVersion(sdk::Connection& connection,
                                            const sdk::Dialect& dialect) {
  SCALEOUT_ASSIGN_OR_RETURN(std::vector<std::string> tables, ListTables(connection, dialect));
  bool has_version_table = false;
  for (const std::string& t : tables)
    has_version_table = has_version_table || t == "schema_version";
  if (!has_version_table) {
    if (tables.empty()) return std::int64_t{0};
    return sdk::Status::FailedPrecondition(
        "the database has " + std::to_string(tables.size()) +
        " tables but no schema_version table: it is not a scaleout catalog; point the storage "
        "configuration at an empty database or an existing scaleout catalog");
  }
  SCALEOUT_ASSIGN_OR_RETURN(Query q, OneOff(connection, "SELECT MAX(version) FROM schema_version"));
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row || q.IsNull(0)) {
    return sdk::Status::FailedPrecondition(
        "the schema_version table is empty: this is not a scaleout catalog (or a migration was "
        "interrupted outside a transaction); restore the catalog from a backup");
  }
  return q.I(0);
}

sdk::Status Migrate(sdk::Connection& connection, const sdk::Dialect& dialect, std::int64_t now) {
  return MigrateTo(connection, dialect, now, kSchemaVersion);
}

sdk::Status MigrateTo(sdk::Connection& connection, const sdk::Dialect& dialect, std::int64_t now,
                      std::int64_t target_version) {
  if (target_version < 1 || target_version > kSchemaVersion) {
    return sdk::Status::InvalidArgument("no catalog schema version " +
                                        std::to_string(target_version) + " (1 to " +
                                        std::to_string(kSchemaVersion) + ")");
  }
  return RunInTransaction(connection, sdk::TransactionMode::kWrite, [&](sdk::Connection& c) {
    return MigrateInTransaction(c, dialect, now, target_version);
  });
}

sdk::Result<std::unique_ptr<sdk::Connection>> OpenCatalog(sdk::Storage& storage,
                                                          const Clock& clock) {
  SCALEOUT_ASSIGN_OR_RETURN(std::unique_ptr<sdk::Connection> connection, storage.Open());
  SCALEOUT_RETURN_IF_ERROR(Migrate(*connection, storage.GetDialect(), clock.NowUnixMillis())
                               .WithContext("opening catalog " + storage.Describe()));
  return connection;
}

}  // namespace scaleout::core::catalog
