// Authentication of management callers.
//
// A caller is, in this order:
//   1. the principal whose API token is in `Authorization: Bearer <token>`
//      (tokens are stored as SHA-256 digests; a presented token is hashed
//      and compared with every stored digest in constant time);
//   2. the principal or worker whose client certificate the transport
//      verified against the trust store at the handshake;
//   3. anonymous: may call nothing but the health endpoint.
// A worker identity may call no management operation at all.
//
// PrincipalDirectory is an immutable snapshot of the principals table,
// swapped atomically, so authentication on a transport I/O thread never
// takes a lock or touches the database (like master::TrustStore).
#ifndef SCALEOUT_CORE_MANAGEMENT_AUTH_H_
#define SCALEOUT_CORE_MANAGEMENT_AUTH_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog/principals.h"
#include "core/catalog/roles.h"
#include "core/master/trust_store.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::core::management {

// Uppercase hex SHA-256 of a token: what the catalog stores.
std::string HashToken(std::string_view token);

// A fresh API token: "sot_" + 43 base64url characters (256 random bits).
// Errors: kInternal when the system's random source fails.
sdk::Result<std::string> GenerateToken();

struct Identity {
  enum class Kind { kAnonymous, kWorker, kPrincipal };
  Kind kind = Kind::kAnonymous;
  catalog::Caller caller;  // principals: name and roles; workers: id; anonymous: empty
  std::string how;         // "token", "certificate <thumbprint>", for logs and whoami
};

// Thread-safety: every method is safe from any thread.
class PrincipalDirectory {
 public:
  PrincipalDirectory();
  void Replace(std::vector<catalog::Principal> principals);

  // The principal holding `token`. Compares the token's digest with every
  // token principal's digest with CRYPTO_memcmp and no early exit, so the
  // time taken says nothing about how close a guess was.
  std::optional<catalog::Caller> FindByToken(std::string_view token) const;
  // The principal named `name` (after a certificate matched in the trust store).
  std::optional<catalog::Caller> FindByName(std::string_view name) const;

 private:
  using List = std::vector<catalog::Principal>;
  std::atomic<std::shared_ptr<const List>> principals_;
};

// Who made `request`. Errors: kUnauthenticated when a token was presented
// but matches nobody, or a certificate is not (or no longer) trusted as a
// principal or worker.
sdk::Result<Identity> Authenticate(const sdk::Request& request, const master::TrustStore& trust,
                                   const PrincipalDirectory& principals);

}  // namespace scaleout::core::management

#endif  // SCALEOUT_CORE_MANAGEMENT_AUTH_H_
