#include "core/catalog/rows.h"

#include <openssl/evp.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/catalog/limits.h"
#include "core/catalog/state_machine.h"
#include "core/catalog/values.h"
#include "core/common/ids.h"

namespace scaleout::core::catalog::internal {

std::size_t CharCount(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return count;
}

namespace {

std::string Quote(std::string_view value) {
  constexpr std::size_t kShown = 40;
  if (value.size() <= kShown) return "'" + std::string(value) + "'";
  return "'" + std::string(value.substr(0, kShown)) + "...'";
}

sdk::Status CheckLength(std::string_view field, std::string_view value, std::size_t max_chars) {
  const std::size_t chars = CharCount(value);
  if (chars <= max_chars) return sdk::Status::Ok();
  return sdk::Status::InvalidArgument(std::string(field) + " is " + std::to_string(chars) +
                                      " characters long; the limit is " +
                                      std::to_string(max_chars) + "; use a shorter value");
}

}  // namespace

sdk::Status CheckName(std::string_view field, std::string_view value, std::size_t max_chars) {
  if (value.empty()) {
    return sdk::Status::InvalidArgument(std::string(field) + " must not be empty");
  }
  SCALEOUT_RETURN_IF_ERROR(CheckLength(field, value, max_chars));
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      return sdk::Status::InvalidArgument(std::string(field) + " " + Quote(value) +
                                          " contains a control character; names must be "
                                          "printable text");
    }
  }
  return sdk::Status::Ok();
}

sdk::Status CheckText(std::string_view field, std::string_view value, std::size_t max_chars) {
  SCALEOUT_RETURN_IF_ERROR(CheckLength(field, value, max_chars));
  if (value.find('\0') != std::string_view::npos) {
    return sdk::Status::InvalidArgument(std::string(field) + " contains a NUL character");
  }
  return sdk::Status::Ok();
}

sdk::Result<std::string> ParseGuid(std::string_view field, std::string_view value) {
  std::optional<std::string> guid = NormalizeGuid(value);
  if (!guid) {
    return sdk::Status::InvalidArgument(
        std::string(field) + " " + Quote(value) +
        " is not a GUID; expected the form 8D3F1A0C-4B7E-4F2A-9C61-0E5B2D7A9F13");
  }
  return *guid;
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr);
  return HexUpper(std::string_view(reinterpret_cast<const char*>(digest), size));
}

namespace {

sdk::Status CounterMissing(std::string_view counter) {
  return sdk::Status::Internal("id counter '" + std::string(counter) + "' is missing");
}

// The counter's next_value as the caller's transaction sees it.
sdk::Result<std::int64_t> ReadNextValue(sdk::Connection& connection, std::string_view counter) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(connection, "SELECT next_value FROM id_counters WHERE name = ?"));
  q.Text(counter);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) return CounterMissing(counter);
  return q.I(0);
}

}  // namespace

sdk::Result<std::int64_t> NextId(sdk::Connection& connection, std::string_view counter) {
  // UPDATE first so that PostgreSQL takes the row lock before the read.
  SCALEOUT_ASSIGN_OR_RETURN(
      std::int64_t updated,
      Execute(connection, "UPDATE id_counters SET next_value = next_value + 1 WHERE name = ?",
              [&](Query& q) { q.Text(counter); }));
  if (updated != 1) return CounterMissing(counter);
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t next, ReadNextValue(connection, counter));
  return next - 1;
}

namespace {

// A block of ids reserved by one UPDATE of the counter row, tagged with the
// random `reservation` the UPDATE wrote to that row.
struct IdBlock {
  std::int64_t next = 0;
  std::int64_t end = 0;  // exclusive
  std::int64_t reservation = 0;
};

constexpr std::int64_t kIdBlockSize = 64;
constexpr std::size_t kMaxCachedBlocks = 256;

// Blocks by (connection, counter). Guarded by BlockMutex().
std::map<std::pair<const void*, std::string>, IdBlock>& Blocks() {
  static auto* blocks = new std::map<std::pair<const void*, std::string>, IdBlock>();
  return *blocks;
}
std::mutex& BlockMutex() {
  static auto* mutex = new std::mutex();
  return *mutex;
}

// A random positive 63-bit value (0 means "no reservation" in the catalog).
std::int64_t NewReservation() {
  static std::mutex mutex;
  static std::mt19937_64 random{std::random_device{}()};
  std::lock_guard lock(mutex);
  std::int64_t value = 0;
  while (value == 0) value = static_cast<std::int64_t>(random() >> 1);
  return value;
}

// Reserves the next kIdBlockSize ids of `counter` in the caller's transaction.
sdk::Result<IdBlock> ReserveBlock(sdk::Connection& connection, std::string_view counter) {
  IdBlock block;
  block.reservation = NewReservation();
  SCALEOUT_ASSIGN_OR_RETURN(
      std::int64_t updated,
      Execute(connection,
              "UPDATE id_counters SET next_value = next_value + ?, "
              "reservation = ? WHERE name = ?",
              [&](Query& q) { q.Int(kIdBlockSize).Int(block.reservation).Text(counter); }));
  if (updated != 1) return CounterMissing(counter);
  SCALEOUT_ASSIGN_OR_RETURN(block.end, ReadNextValue(connection, counter));
  block.next = block.end - kIdBlockSize;
  return block;
}

}  // namespace

sdk::Result<std::int64_t> NextBlockId(sdk::Connection& connection, std::string_view counter) {
  // The block is usable only while the counter row still carries its
  // reservation as this transaction sees it: then the reserving UPDATE has
  // committed, or is this transaction's own and its ids share its fate. A
  // rolled-back reservation, or a newer one by anyone, shows another value,
  // and a new block is reserved.
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(connection, "SELECT reservation FROM id_counters WHERE name = ?"));
  q.Text(counter);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) return CounterMissing(counter);
  const std::int64_t current = q.I(0);
  const std::pair<const void*, std::string> key{&connection, std::string(counter)};
  {
    std::lock_guard lock(BlockMutex());
    auto it = Blocks().find(key);
    if (it != Blocks().end() && it->second.reservation == current &&
        it->second.next < it->second.end) {
      return it->second.next++;
    }
  }
  SCALEOUT_ASSIGN_OR_RETURN(IdBlock block, ReserveBlock(connection, counter));
  const std::int64_t id = block.next++;
  std::lock_guard lock(BlockMutex());
  if (Blocks().size() >= kMaxCachedBlocks) Blocks().clear();  // connections come and go
  Blocks()[key] = block;
  return id;
}

sdk::Result<std::optional<std::string>> GetCatalogProperty(sdk::Connection& connection,
                                                           std::string_view name) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q,
      Cached(connection, "SELECT property_value FROM catalog_properties WHERE property_name = ?"));
  q.Text(name);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(q.T(0));
}

namespace {

// UPDATE, then INSERT when there was no row: portable upsert inside one transaction.
sdk::Status Upsert(sdk::Connection& connection, std::string_view update_sql,
                   std::string_view insert_sql, std::string_view name, std::string_view value) {
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t updated, Execute(connection, update_sql, [&](Query& q) {
                              q.Text(value).Text(name);
                            }));
  if (updated > 0) return sdk::Status::Ok();
  return Execute(connection, insert_sql, [&](Query& q) { q.Text(name).Text(value); }).status();
}

}  // namespace

sdk::Status SetCatalogProperty(sdk::Connection& connection, std::string_view name,
                               std::string_view value) {
  return Upsert(
      connection, "UPDATE catalog_properties SET property_value = ? WHERE property_name = ?",
      "INSERT INTO catalog_properties (property_name, property_value) VALUES (?, ?)", name, value);
}

sdk::Status SetMasterProperty(sdk::Connection& connection, std::string_view name,
                              std::string_view value) {
  return Upsert(
      connection, "UPDATE master_properties SET property_value = ? WHERE property_name = ?",
      "INSERT INTO master_properties (property_name, property_value) VALUES (?, ?)", name, value);
}

bool ScaleoutEnabledValue(std::optional<std::string_view> value) {
  if (!value) return false;
  std::string lower;
  for (char c : *value) lower += static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  return lower == "true" || lower == "1";
}

sdk::Result<bool> IsScaleoutEnabled(sdk::Connection& connection) {
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<std::string> value,
                            GetCatalogProperty(connection, "IS_SCALEOUT_ENABLED"));
  return ScaleoutEnabledValue(value);
}

Execution ReadExecution(const Query& q) { return ReadExecutionAt(q, 0); }

Execution ReadExecutionAt(const Query& q, int first) {
  Execution e;
  e.execution_id = q.I(first);
  e.folder_name = q.T(first + 1);
  e.project_name = q.T(first + 2);
  e.package_name = q.T(first + 3);
  e.reference_id = q.OptI(first + 4);
  e.project_id = q.I(first + 5);
  e.project_lsn = q.I(first + 6);
  e.executed_as_name = q.T(first + 7);
  e.caller_name = q.T(first + 8);
  e.status = StatusFromCode(q.I(first + 9)).value_or(ExecutionStatus::kCreated);
  e.created_time = q.I(first + 10);
  e.start_time = q.OptI(first + 11);
  e.end_time = q.OptI(first + 12);
  e.use32bitruntime = q.I(first + 13) != 0;
  e.runinscaleout = q.I(first + 14) != 0;
  e.useanyworker = q.I(first + 15) != 0;
  e.retry_count = q.I(first + 16);
  e.executed_count = q.I(first + 17);
  e.worker_agent_id = q.OptT(first + 18);
  e.stop_requested = q.I(first + 19) != 0;
  e.stopped_by_name = q.OptT(first + 20);
  e.lease_epoch = q.I(first + 21);
  return e;
}

std::string Prefixed(std::string_view alias, std::string_view columns) {
  std::string out;
  out.reserve(columns.size() * 2);
  out += alias;
  for (char c : columns) {
    out += c;
    if (c == ' ') out += alias;  // every name follows ", "
  }
  return out;
}

std::string ExecutionLabel(std::int64_t execution_id) {
  return "execution " + std::to_string(execution_id);
}

sdk::Status ExecutionNotFound(std::int64_t execution_id) {
  return sdk::Status::NotFound(ExecutionLabel(execution_id) +
                               " does not exist; list executions to find its id");
}

sdk::Result<Execution> LoadExecution(sdk::Connection& connection, std::int64_t execution_id) {
  static const std::string sql =
      "SELECT " + std::string(kExecutionColumns) + " FROM executions WHERE execution_id = ?";
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(connection, sql));
  q.Int(execution_id);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) return ExecutionNotFound(execution_id);
  return ReadExecution(q);
}

Task ReadTask(const Query& q) { return ReadTaskAt(q, 0); }

Task ReadTaskAt(const Query& q, int first) {
  Task t;
  t.task_id = q.T(first);
  t.execution_id = q.I(first + 1);
  t.attempt = q.I(first + 2);
  t.status = StatusFromCode(q.I(first + 3)).value_or(ExecutionStatus::kPending);
  t.worker_agent_id = q.OptT(first + 4);
  t.lease_epoch = q.I(first + 5);
  t.lease_expires_at = q.OptI(first + 6);
  t.last_heartbeat = q.OptI(first + 7);
  t.created_time = q.I(first + 8);
  t.start_time = q.OptI(first + 9);
  t.end_time = q.OptI(first + 10);
  t.exit_code = q.OptI(first + 11);
  t.result_message = q.T(first + 12);
  t.server_only = q.I(first + 13) != 0;
  return t;
}

sdk::Result<std::optional<Task>> LoadTask(sdk::Connection& connection, std::string_view task_id) {
  static const std::string sql =
      "SELECT " + std::string(kTaskColumns) + " FROM tasks WHERE task_id = ?";
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(connection, sql));
  q.Text(task_id);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) return std::optional<Task>();
  return std::optional<Task>(ReadTask(q));
}

sdk::Result<std::optional<TaskWithExecution>> LoadTaskWithExecution(sdk::Connection& connection,
                                                                    std::string_view task_id) {
  static constexpr int kExecutionFirst = 14;  // kTaskColumns has 14 columns
  // Only the execution's state columns (see TaskWithExecution): the names,
  // caller and times are not needed to end an attempt and cost a copy each.
  static const std::string sql = "SELECT " + Prefixed("t.", kTaskColumns) +
                                 ", e.execution_id, e.status, e.retry_count, e.executed_count, "
                                 "e.stop_requested, e.lease_epoch FROM tasks t LEFT JOIN "
                                 "executions e ON e.execution_id = t.execution_id WHERE "
                                 "t.task_id = ?";
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(connection, sql));
  q.Text(task_id);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) return std::optional<TaskWithExecution>();
  TaskWithExecution out{ReadTask(q), std::nullopt};
  if (!q.IsNull(kExecutionFirst)) {
    Execution& e = out.execution.emplace();
    e.execution_id = q.I(kExecutionFirst);
    e.status = StatusFromCode(q.I(kExecutionFirst + 1)).value_or(ExecutionStatus::kCreated);
    e.retry_count = q.I(kExecutionFirst + 2);
    e.executed_count = q.I(kExecutionFirst + 3);
    e.stop_requested = q.I(kExecutionFirst + 4) != 0;
    e.lease_epoch = q.I(kExecutionFirst + 5);
  }
  return std::optional<TaskWithExecution>(std::move(out));
}

WorkerAgent ReadWorker(const Query& q) {
  WorkerAgent w;
  w.worker_agent_id = q.T(0);
  w.is_enabled = q.I(1) != 0;
  w.display_name = q.T(2);
  w.description = q.T(3);
  w.machine_name = q.T(4);
  w.tags = q.T(5);
  w.user_account = q.T(6);
  w.last_online_time = q.OptI(7);
  w.is_online = q.I(8) != 0;
  w.cert_sha256 = q.T(9);
  w.cert_sha1 = q.T(10);
  w.max_task_count = q.I(11);
  w.cpu_percent = q.D(12);
  w.free_memory_mb = q.D(13);
  w.running_tasks = q.I(14);
  return w;
}

sdk::Result<std::optional<WorkerAgent>> LoadWorker(sdk::Connection& connection,
                                                   std::string_view worker_agent_id) {
  static const std::string sql =
      "SELECT " + std::string(kWorkerColumns) + " FROM worker_agents WHERE worker_agent_id = ?";
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(connection, sql));
  q.Text(worker_agent_id);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) return std::optional<WorkerAgent>();
  return std::optional<WorkerAgent>(ReadWorker(q));
}

std::optional<std::int64_t> EndTimeFor(ExecutionStatus status, std::int64_t now) {
  if (IsTerminal(status)) return now;
  return std::nullopt;
}

sdk::Status WriteExecutionStatus(sdk::Connection& connection, std::int64_t execution_id,
                                 ExecutionStatus status, std::int64_t now) {
  const std::optional<std::int64_t> end = EndTimeFor(status, now);
  return Execute(connection,
                 "UPDATE executions SET status = ?, end_time = COALESCE(?, end_time) "
                 "WHERE execution_id = ?",
                 [&](Query& q) { q.Int(static_cast<int>(status)).OptInt(end).Int(execution_id); })
      .status();
}

namespace {

bool ByName(const ParameterValue& a, const ParameterValue& b) {
  return a.parameter_name < b.parameter_name;
}

// The system parameters in name order (computed once).
const std::vector<const SystemParameter*>& SystemParametersByName() {
  static const auto* sorted = [] {
    auto* out = new std::vector<const SystemParameter*>();
    for (const SystemParameter& p : SystemParameters()) out->push_back(&p);
    std::sort(out->begin(), out->end(),
              [](const SystemParameter* a, const SystemParameter* b) { return a->name < b->name; });
    return out;
  }();
  return *sorted;
}

}  // namespace

void AddSystemParameterDefaults(std::vector<ParameterValue>& values) {
  const auto first_system = std::find_if(values.begin(), values.end(), [](const ParameterValue& v) {
    return v.object_type == kObjectExecution;
  });
  // The stored ones come in name order from SQL, unless a server's collation
  // orders names otherwise; then they are sorted here.
  if (!std::is_sorted(first_system, values.end(), ByName)) {
    std::sort(first_system, values.end(), ByName);
  }
  std::vector<ParameterValue> stored(std::make_move_iterator(first_system),
                                     std::make_move_iterator(values.end()));
  values.erase(first_system, values.end());
  values.reserve(values.size() + stored.size() + SystemParametersByName().size());
  // Object type 50 sorts after 20 and 30: merge the stored values with the
  // defaults of the others, by name.
  auto next = stored.begin();
  for (const SystemParameter* p : SystemParametersByName()) {
    while (next != stored.end() && next->parameter_name < p->name)
      values.push_back(std::move(*next++));
    if (next != stored.end() && next->parameter_name == p->name) {
      values.push_back(std::move(*next++));
      continue;
    }
    ParameterValue v;
    v.object_type = kObjectExecution;
    v.parameter_name = std::string(p->name);
    v.data_type = std::string(p->data_type);
    if (p->default_value) v.value = std::string(*p->default_value);
    values.push_back(std::move(v));
  }
  values.insert(values.end(), std::make_move_iterator(next), std::make_move_iterator(stored.end()));
}

sdk::Result<std::vector<ParameterValue>> LoadParameterValues(sdk::Connection& connection,
                                                             std::int64_t execution_id) {
  SCALEOUT_ASSIGN_OR_RETURN(
      Query q, Cached(connection,
                      "SELECT object_type, parameter_name, data_type, parameter_value, sensitive, "
                      "required, value_set FROM execution_parameter_values WHERE execution_id = ? "
                      "ORDER BY object_type, parameter_name"));
  q.Int(execution_id);
  std::vector<ParameterValue> values;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    ParameterValue v;
    v.object_type = static_cast<int>(q.I(0));
    v.parameter_name = q.T(1);
    v.data_type = q.T(2);
    v.value = q.OptT(3);
    v.sensitive = q.I(4) != 0;
    v.required = q.I(5) != 0;
    v.value_set = q.I(6) != 0;
    values.push_back(std::move(v));
  }
  AddSystemParameterDefaults(values);
  return values;
}

sdk::Result<std::string> QueueTask(sdk::Connection& connection, std::int64_t execution_id,
                                   std::int64_t attempt, bool server_only, std::int64_t now) {
  std::string task_id = NewTimeOrderedGuid(now);
  SCALEOUT_RETURN_IF_ERROR(
      Execute(connection,
              "INSERT INTO tasks (task_id, execution_id, attempt, status, server_only, "
              "lease_epoch, created_time, result_message) VALUES (?, ?, ?, ?, ?, 0, ?, '')",
              [&](Query& q) {
                q.Text(task_id)
                    .Int(execution_id)
                    .Int(attempt)
                    .Int(static_cast<int>(ExecutionStatus::kPending))
                    .Bool(server_only)
                    .Int(now);
              })
          .status());
  return task_id;
}

sdk::Result<std::int64_t> InsertOperation(sdk::Connection& connection, OperationType type,
                                          int object_type, std::optional<std::int64_t> object_id,
                                          std::string_view object_name, ExecutionStatus status,
                                          std::string_view caller_name, std::int64_t now,
                                          std::optional<std::int64_t> operation_id) {
  std::int64_t id = 0;
  if (operation_id) {
    id = *operation_id;
  } else {
    SCALEOUT_ASSIGN_OR_RETURN(id, NextBlockId(connection, "operation"));
  }
  const bool terminal = IsTerminal(status);
  SCALEOUT_RETURN_IF_ERROR(
      Execute(connection,
              "INSERT INTO operations (operation_id, operation_type, created_time, object_type, "
              "object_id, object_name, status, start_time, end_time, caller_name) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              [&](Query& q) {
                q.Int(id)
                    .Int(static_cast<int>(type))
                    .Int(now)
                    .Int(object_type)
                    .OptInt(object_id)
                    .Text(object_name)
                    .Int(static_cast<int>(status));
                if (terminal) {
                  q.Int(now).Int(now);
                } else {
                  q.Null().Null();
                }
                q.Text(caller_name);
              })
          .status());
  return id;
}

// ---- folders and projects ----------------------------------------------------------

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string_view ObjectTypeName(int object_type) {
  switch (object_type) {
    case kObjectProject: return "project";
    case kObjectPackage: return "package";
    case kObjectExecution: return "execution";
    default: return "unknown";
  }
}

sdk::Result<std::int64_t> FindFolder(sdk::Connection& c, std::string_view folder_name) {
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c, "SELECT folder_id FROM folders WHERE name = ?"));
  q.Text(folder_name);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) {
    return sdk::Status::NotFound("folder " + Quoted(folder_name) +
                                 " does not exist; create it first (create_folder)");
  }
  return q.I(0);
}

sdk::Result<std::optional<ProjectRow>> FindProject(sdk::Connection& c, std::int64_t folder_id,
                                                   std::string_view project_name) {
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                            "SELECT project_id, object_version_lsn FROM projects "
                                            "WHERE folder_id = ? AND name = ?"));
  q.Int(folder_id).Text(project_name);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  if (!row) return std::optional<ProjectRow>();
  return std::optional<ProjectRow>(ProjectRow{q.I(0), q.I(1)});
}

sdk::Result<ProjectRow> RequireProject(sdk::Connection& c, std::string_view folder_name,
                                       std::string_view project_name) {
  SCALEOUT_RETURN_IF_ERROR(CheckName("folder_name", folder_name, kMaxNameChars));
  SCALEOUT_RETURN_IF_ERROR(CheckName("project_name", project_name, kMaxNameChars));
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t folder_id, FindFolder(c, folder_name));
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<ProjectRow> project,
                            FindProject(c, folder_id, project_name));
  if (!project) {
    return sdk::Status::NotFound("project " + Quoted(project_name) + " does not exist in folder " +
                                 Quoted(folder_name) + "; deploy it first (deploy_project)");
  }
  return *project;
}

}  // namespace scaleout::core::catalog::internal
