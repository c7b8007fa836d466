#include "core/catalog/principals.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/catalog/limits.h"
#include "core/catalog/rows.h"
#include "core/catalog/sql.h"

namespace scaleout::core::catalog {
namespace {

using internal::Cached;
using internal::Query;
using sdk::Status;

bool IsUpperHex(std::string_view text, std::size_t length) {
  return text.size() == length && std::all_of(text.begin(), text.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'F');
         });
}

Status CheckPrincipal(const Principal& p) {
  SCALEOUT_RETURN_IF_ERROR(internal::CheckName("principal name", p.name, kMaxNameChars));
  if (p.credential_kind != kCredentialCertificate && p.credential_kind != kCredentialToken) {
    return Status::InvalidArgument("credential kind must be 'certificate' or 'token', got '" +
                                   p.credential_kind + "'");
  }
  if (!IsUpperHex(p.credential, 64)) {
    return Status::InvalidArgument(
        "the credential must be a SHA-256 digest (64 uppercase hex digits)");
  }
  if (p.roles.empty()) {
    return Status::InvalidArgument("principal '" + p.name +
                                   "' needs a role: ssis_admin, ssis_cluster_executor or "
                                   "ssis_reader");
  }
  for (const std::string& role : p.roles) {
    if (!IsPrincipalRole(role)) {
      return Status::InvalidArgument("unknown role '" + role +
                                     "'; use ssis_admin, ssis_cluster_executor or ssis_reader");
    }
  }
  return Status::Ok();
}

// Principals keyed by name, roles attached, in name order.
sdk::Result<std::vector<Principal>> ReadAll(sdk::Connection& c) {
  std::map<std::string, Principal> by_name;
  {
    SCALEOUT_ASSIGN_OR_RETURN(
        Query q, Cached(c,
                        "SELECT principal_name, credential_kind, credential, created_time "
                        "FROM principals"));
    for (;;) {
      SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
      if (!row) break;
      Principal p{q.T(0), q.T(1), q.T(2), {}, q.I(3)};
      by_name.emplace(p.name, std::move(p));
    }
  }
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                            "SELECT principal_name, role_name FROM principal_roles "
                                            "ORDER BY principal_name, role_name"));
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    auto it = by_name.find(q.T(0));
    if (it != by_name.end()) it->second.roles.push_back(q.T(1));
  }
  std::vector<Principal> out;
  out.reserve(by_name.size());
  for (auto& [name, p] : by_name) out.push_back(std::move(p));
  return out;
}

sdk::Result<std::int64_t> CountAdmins(sdk::Connection& c) {
  SCALEOUT_ASSIGN_OR_RETURN(Query q,
                            Cached(c, "SELECT COUNT(*) FROM principal_roles WHERE role_name = ?"));
  q.Text(kRoleAdmin);
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  return row ? q.I(0) : 0;
}

}  // namespace

bool IsPrincipalRole(std::string_view role) {
  return role == kRoleAdmin || role == kRoleClusterExecutor || role == kRoleReader;
}

Status CreatePrincipal(Txn& txn, const Caller& caller, const Principal& principal) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "create a principal", kAdminRoles));
  SCALEOUT_RETURN_IF_ERROR(CheckPrincipal(principal));
  sdk::Connection& c = txn.connection;
  {
    SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(c,
                                              "SELECT principal_name, credential FROM principals "
                                              "WHERE principal_name = ? OR credential = ?"));
    q.Text(principal.name).Text(principal.credential);
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (row) {
      if (q.T(0) == principal.name) {
        return Status::AlreadyExists("principal '" + principal.name + "' already exists");
      }
      return Status::AlreadyExists("that credential already belongs to principal '" + q.T(0) + "'");
    }
  }
  if (principal.credential_kind == kCredentialCertificate) {
    SCALEOUT_ASSIGN_OR_RETURN(
        Query q, Cached(c, "SELECT worker_agent_id FROM worker_agents WHERE cert_sha256 = ?"));
    q.Text(principal.credential);
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (row) {
      return Status::AlreadyExists("certificate " + principal.credential +
                                   " is trusted as worker " + q.T(0) +
                                   "; a principal needs a certificate of its own");
    }
  }
  SCALEOUT_RETURN_IF_ERROR(
      internal::Execute(c,
                        "INSERT INTO principals (principal_name, credential_kind, credential, "
                        "created_time) VALUES (?, ?, ?, ?)",
                        [&](Query& b) {
                          b.Text(principal.name)
                              .Text(principal.credential_kind)
                              .Text(principal.credential)
                              .Int(txn.now);
                        })
          .status());
  std::vector<std::string> roles = principal.roles;
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  for (const std::string& role : roles) {
    SCALEOUT_RETURN_IF_ERROR(
        internal::Execute(c,
                          "INSERT INTO principal_roles (principal_name, role_name) VALUES (?, ?)",
                          [&](Query& b) { b.Text(principal.name).Text(role); })
            .status());
  }
  return Status::Ok();
}

Status RemovePrincipal(Txn& txn, const Caller& caller, std::string_view name) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "remove a principal", kAdminRoles));
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(std::vector<Principal> all, ReadAll(c));
  auto it =
      std::find_if(all.begin(), all.end(), [&](const Principal& p) { return p.name == name; });
  if (it == all.end()) {
    return Status::NotFound("principal '" + std::string(name) +
                            "' does not exist; 'scaleout manage user list' shows them");
  }
  const bool is_admin =
      std::find(it->roles.begin(), it->roles.end(), kRoleAdmin) != it->roles.end();
  if (is_admin) {
    SCALEOUT_ASSIGN_OR_RETURN(std::int64_t admins, CountAdmins(c));
    if (admins <= 1) {
      return Status::FailedPrecondition("'" + std::string(name) +
                                        "' is the last ssis_admin; add another admin first, or "
                                        "nobody could manage the catalog");
    }
  }
  SCALEOUT_RETURN_IF_ERROR(
      internal::Execute(c, "DELETE FROM principal_roles WHERE principal_name = ?", [&](Query& b) {
        b.Text(name);
      }).status());
  return internal::Execute(c, "DELETE FROM principals WHERE principal_name = ?",
                           [&](Query& b) { b.Text(name); })
      .status();
}

sdk::Result<std::vector<Principal>> ListPrincipals(Txn& txn, const Caller& caller) {
  SCALEOUT_RETURN_IF_ERROR(RequireRole(caller, "list principals", kAdminRoles));
  return ReadAll(txn.connection);
}

sdk::Result<std::vector<Principal>> LoadAllPrincipals(Txn& txn) { return ReadAll(txn.connection); }

sdk::Result<std::int64_t> CountPrincipals(Txn& txn) {
  SCALEOUT_ASSIGN_OR_RETURN(Query q, Cached(txn.connection, "SELECT COUNT(*) FROM principals"));
  SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
  return row ? q.I(0) : 0;
}

}  // namespace scaleout::core::catalog
