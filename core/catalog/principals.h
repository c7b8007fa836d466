// Principals: the people and programs that call the management API.
//
// A principal has a name, one credential and one or more roles (roles.h).
// The credential is either a client certificate (credential_kind
// "certificate", the SHA-256 thumbprint, trusted at the TLS handshake like a
// worker's) or an API token (credential_kind "token", the SHA-256 digest of
// the token: the token itself is never stored, so a copy of the catalog does
// not hand out working tokens).
//
// In-transaction functions of a Txn (transaction.h); every refusal happens
// before the first write. Thread-safety: as the Txn's connection.
#ifndef SCALEOUT_CORE_CATALOG_PRINCIPALS_H_
#define SCALEOUT_CORE_CATALOG_PRINCIPALS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog/roles.h"
#include "core/catalog/transaction.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::catalog {

inline constexpr std::string_view kCredentialCertificate = "certificate";
inline constexpr std::string_view kCredentialToken = "token";

struct Principal {
  std::string name;
  std::string credential_kind;  // kCredentialCertificate or kCredentialToken
  std::string credential;       // SHA-256 thumbprint, or SHA-256 of the token (hex, upper)
  std::vector<std::string> roles;
  std::int64_t created_time = 0;
};

// True for ssis_admin, ssis_cluster_executor and ssis_reader: the roles a
// principal may hold (ssis_cluster_worker belongs to worker certificates).
bool IsPrincipalRole(std::string_view role);

// Creates a principal (ssis_admin). Errors: kInvalidArgument (bad name, kind,
// credential or role), kAlreadyExists (the name, or the credential, is taken;
// a certificate that is trusted as a worker is refused too).
sdk::Status CreatePrincipal(Txn& txn, const Caller& caller, const Principal& principal);

// Removes a principal (ssis_admin). Refuses to remove the last ssis_admin, so
// the catalog can always be managed. Errors: kNotFound, kFailedPrecondition.
sdk::Status RemovePrincipal(Txn& txn, const Caller& caller, std::string_view name);

// Every principal, by name (ssis_admin).
sdk::Result<std::vector<Principal>> ListPrincipals(Txn& txn, const Caller& caller);

// Every principal, without a role check: for the master's authentication
// snapshot, which is not a call on behalf of anyone.
sdk::Result<std::vector<Principal>> LoadAllPrincipals(Txn& txn);

// The number of principals (0 on a fresh catalog: the first start creates an admin).
sdk::Result<std::int64_t> CountPrincipals(Txn& txn);

}  // namespace scaleout::core::catalog

#endif  // SCALEOUT_CORE_CATALOG_PRINCIPALS_H_
