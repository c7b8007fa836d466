#include "core/master/trust_store.h"

namespace scaleout::core::master {

TrustStore::TrustStore(sdk::Logger& logger)
    : logger_(logger), peers_(std::make_shared<const Map>()) {}

void TrustStore::Replace(Map peers) { peers_.store(std::make_shared<const Map>(std::move(peers))); }

sdk::Status TrustStore::Admit(const sdk::PeerIdentity& peer) const noexcept {
  try {
    if (peer.anonymous()) return sdk::Status::Ok();
    std::shared_ptr<const Map> peers = peers_.load();
    if (peers->count(peer.id) != 0) return sdk::Status::Ok();
    std::string message = "refused " + (peer.scheme.empty() ? std::string("peer") : peer.scheme) +
                          " credential " + peer.id;
    if (!peer.display_name.empty()) message += " (CN=" + peer.display_name + ")";
    message +=
        ": not trusted by this master; add the worker with 'scaleout manage worker add --cert "
        "FILE' (or the principal with 'scaleout manage user add')";
    logger_.Warn(message);
    return sdk::Status::Unauthenticated(std::move(message));
  } catch (...) {
    return sdk::Status::Internal("trust check failed");
  }
}

std::optional<TrustedPeer> TrustStore::Find(std::string_view id) const {
  std::shared_ptr<const Map> peers = peers_.load();
  auto it = peers->find(std::string(id));
  if (it == peers->end()) return std::nullopt;
  return it->second;
}

std::size_t TrustStore::size() const { return peers_.load()->size(); }

}  // namespace scaleout::core::master
