// The management operations: one table that maps an operation name to the
// roles it needs and a handler running catalog functions in a transaction.
//
// The same table serves the JSON API (POST /api/v1/<name>, GET for reads)
// and the msgpack ManageRequest route, so both check the same roles and give
// the same answers. Names are the SSIS procedure and view names where one
// exists (create_execution, enable_worker_agent, list_worker_agents...).
//
// A handler runs inside one catalog transaction (on the CatalogWriter's
// thread): every check happens before its first write, so a refused call
// changes nothing. Work that must follow the commit (reloading the trust
// list or the principals) is requested through Effects.
//
// Thread-safety: the table is immutable; handlers are reentrant.
#ifndef SCALEOUT_CORE_MANAGEMENT_OPERATIONS_H_
#define SCALEOUT_CORE_MANAGEMENT_OPERATIONS_H_

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/catalog/roles.h"
#include "core/catalog/transaction.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::management {

class ExecutionCounts;

// What must happen after a handler's transaction committed.
struct Effects {
  bool reload_trust = false;       // a worker or a certificate principal was added or removed
  bool reload_principals = false;  // a principal was added or removed
};

struct OperationContext {
  catalog::Txn& txn;
  const catalog::Caller& caller;
  const nlohmann::json& args;  // a JSON object
  Effects& effects;
  // Wakes parked worker long-polls; called inside ops that may make a task claimable.
  const std::function<void()>& note_work_may_be_available;
  // When a handler sets it, the call's result is what it returns, computed
  // after the commit off the writer thread (the handler's own return value
  // is then ignored): building a large JSON document costs the single
  // writer thread nothing.
  std::function<nlohmann::json()>& deferred_result;
  // Counts executions by status off the writer's thread (in a deferred
  // result); null: count in the transaction.
  ExecutionCounts* execution_counts = nullptr;
};

// The role sets of the operation table: catalog/roles.h's, as Operation
// holds them.
inline const std::vector<std::string_view> kAdmin(catalog::kAdminRoles);
inline const std::vector<std::string_view> kRunners(catalog::kRunnerRoles);
inline const std::vector<std::string_view> kReaders(catalog::kReaderRoles);

using OperationHandler = std::function<sdk::Result<nlohmann::json>(OperationContext&)>;

struct Operation {
  std::string_view name;
  std::string_view summary;
  // Roles that may call it; empty means any authenticated principal.
  std::vector<std::string_view> roles;
  bool writes = false;  // false: a read, also served by GET
  OperationHandler handler;
  // True when the handler writes only through catalog operations and every
  // refusal comes before its first write (CatalogWriter::Request::
  // CatalogOpsOnly): the writer then runs it without a savepoint.
  bool catalog_ops_only = false;
  // Each call is logged at info ("'x' called y"), except the calls every
  // execution makes (thousands a second under load, which would rotate the
  // log away in seconds): those go at debug, and the execution's row already
  // records who created and started it.
  bool log_at_debug = false;
};

// The most executions one run_executions call may start (one transaction;
// a client splits a larger batch).
inline constexpr std::int64_t kMaxExecutionsPerCall = 1'000;

// Every operation, in documentation order.
std::span<const Operation> Operations();
// The operation named `name`, or nullptr.
const Operation* FindOperation(std::string_view name);

// OK when `caller` holds one of the operation's roles; kPermissionDenied
// naming the operation and the roles it needs otherwise.
sdk::Status CheckOperationRole(const Operation& operation, const catalog::Caller& caller);

// Lenient argument readers shared by the handlers: numbers and booleans may
// arrive as JSON values or as text (the msgpack route and GET query strings
// carry text). Errors: kInvalidArgument naming the argument.
sdk::Result<std::string> ArgString(const nlohmann::json& args, std::string_view name);
std::optional<std::string> ArgOptString(const nlohmann::json& args, std::string_view name);
sdk::Result<std::int64_t> ArgInt(const nlohmann::json& args, std::string_view name);
sdk::Result<std::optional<std::int64_t>> ArgOptInt(const nlohmann::json& args,
                                                   std::string_view name);
sdk::Result<std::optional<bool>> ArgOptBool(const nlohmann::json& args, std::string_view name);
// `folder_name` and `project_name`, both required.
struct ProjectArg {
  std::string folder;
  std::string project;
};
sdk::Result<ProjectArg> ArgProject(const nlohmann::json& args);

}  // namespace scaleout::core::management

#endif  // SCALEOUT_CORE_MANAGEMENT_OPERATIONS_H_
