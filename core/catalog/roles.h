// Callers and roles: who may call which catalog procedure.
//
// SSIS grants by database role (reference 2.7); scaleout keeps the role names.
// Every procedure takes the Caller and checks it before touching anything; a
// denied call returns kPermissionDenied naming the role it needs.
//
//   ssis_admin             everything
//   ssis_cluster_executor  create/start/stop scale-out executions, read workers
//   ssis_reader            read every view (scaleout's read-only role)
//   ssis_cluster_worker    a worker: scheduler operations only (not procedures)
//   (any caller)           read master_properties (SSIS: public)
#ifndef SCALEOUT_CORE_CATALOG_ROLES_H_
#define SCALEOUT_CORE_CATALOG_ROLES_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/status.h"

namespace scaleout::core::catalog {

inline constexpr std::string_view kRoleAdmin = "ssis_admin";
inline constexpr std::string_view kRoleClusterExecutor = "ssis_cluster_executor";
inline constexpr std::string_view kRoleReader = "ssis_reader";
inline constexpr std::string_view kRoleWorker = "ssis_cluster_worker";

// Who may call what, for RequireRole: ssis_admin alone; those who may run
// executions; those who may read the catalog.
inline constexpr std::initializer_list<std::string_view> kAdminRoles = {kRoleAdmin};
inline constexpr std::initializer_list<std::string_view> kRunnerRoles = {kRoleAdmin,
                                                                         kRoleClusterExecutor};
inline constexpr std::initializer_list<std::string_view> kReaderRoles = {
    kRoleAdmin, kRoleClusterExecutor, kRoleReader};

// An authenticated principal. Value type.
struct Caller {
  std::string name;                // principal name, recorded as caller_name
  std::vector<std::string> roles;  // role names as above

  bool HasRole(std::string_view role) const;
  bool HasAnyRole(std::initializer_list<std::string_view> roles) const;

  static Caller Admin(std::string name = "admin") {
    return {std::move(name), {std::string(kRoleAdmin)}};
  }
};

// OK when `caller` has one of `allowed`; otherwise kPermissionDenied:
// "'bob' may not enable_worker_agent; it needs the role ssis_admin".
sdk::Status RequireRole(const Caller& caller, std::string_view action,
                        std::initializer_list<std::string_view> allowed);

}  // namespace scaleout::core::catalog

#endif  // SCALEOUT_CORE_CATALOG_ROLES_H_
