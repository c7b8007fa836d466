// TrustStore: which peers may complete a handshake with the master.
//
// Adding a worker in SSIS means trusting its certificate; here the catalog's
// worker_agents rows (and principals with certificates) are the trust list.
// Transports call Admit() on their I/O threads during every handshake, so the
// list is an immutable snapshot swapped atomically: Admit never takes a lock
// or touches the database. The master reloads the snapshot from the catalog
// at start, after every change it makes, and periodically (another master on
// the same catalog may have changed it).
#ifndef SCALEOUT_CORE_MASTER_TRUST_STORE_H_
#define SCALEOUT_CORE_MASTER_TRUST_STORE_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::core::master {

// Who a trusted credential belongs to.
struct TrustedPeer {
  enum class Kind { kWorker, kPrincipal };
  Kind kind = Kind::kWorker;
  std::string name;  // worker agent id, or principal name
};

class TrustStore final : public sdk::PeerAuthenticator {
 public:
  // id (SHA-256 thumbprint, or CURVE public key) → peer.
  using Map = std::unordered_map<std::string, TrustedPeer>;

  // `logger` must outlive the store; it logs every refusal with the id seen.
  explicit TrustStore(sdk::Logger& logger);

  // Replaces the whole trust list. Thread-safe.
  void Replace(Map peers);

  // Admits a peer whose id is trusted; anonymous peers are admitted too (the
  // management API then requires a token; worker routes refuse them).
  sdk::Status Admit(const sdk::PeerIdentity& peer) const noexcept override;

  // The trusted peer for `id`, if any. Thread-safe.
  std::optional<TrustedPeer> Find(std::string_view id) const;

  std::size_t size() const;

 private:
  sdk::Logger& logger_;
  std::atomic<std::shared_ptr<const Map>> peers_;
};

}  // namespace scaleout::core::master

#endif  // SCALEOUT_CORE_MASTER_TRUST_STORE_H_
