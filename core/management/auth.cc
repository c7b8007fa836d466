#include "core/management/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>

#include "core/common/base64.h"
#include "core/common/ids.h"

namespace scaleout::core::management {
namespace {

constexpr std::string_view kBearer = "Bearer ";

catalog::Caller CallerOf(const catalog::Principal& p) { return {p.name, p.roles}; }

}  // namespace

std::string HashToken(std::string_view token) {
  // Every API call hashes its token. SHA256() fetches the algorithm from the
  // provider store each time (a lock shared by all threads); fetch it once.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int length = 0;
  if (kSha256 == nullptr ||
      EVP_Digest(token.data(), token.size(), digest, &length, kSha256, nullptr) != 1 ||
      length != sizeof(digest)) {
    SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  }
  return HexUpper(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

sdk::Result<std::string> GenerateToken() {
  unsigned char random[32];
  if (RAND_bytes(random, sizeof(random)) != 1) {
    return sdk::Status::Internal("the system random source failed; no token was made");
  }
  std::string text =
      EncodeBase64(std::string_view(reinterpret_cast<const char*>(random), sizeof(random)));
  // base64url without padding: safe in headers, shells and URLs.
  text.erase(std::remove(text.begin(), text.end(), '='), text.end());
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  return "sot_" + text;
}

PrincipalDirectory::PrincipalDirectory() : principals_(std::make_shared<const List>()) {}

void PrincipalDirectory::Replace(std::vector<catalog::Principal> principals) {
  principals_.store(std::make_shared<const List>(std::move(principals)));
}

std::optional<catalog::Caller> PrincipalDirectory::FindByToken(std::string_view token) const {
  const std::string digest = HashToken(token);
  const std::shared_ptr<const List> list = principals_.load();
  const catalog::Principal* match = nullptr;
  for (const catalog::Principal& p : *list) {
    if (p.credential_kind != catalog::kCredentialToken || p.credential.size() != digest.size()) {
      continue;
    }
    // No early exit: every digest is compared.
    if (CRYPTO_memcmp(p.credential.data(), digest.data(), digest.size()) == 0) match = &p;
  }
  if (match == nullptr) return std::nullopt;
  return CallerOf(*match);
}

std::optional<catalog::Caller> PrincipalDirectory::FindByName(std::string_view name) const {
  const std::shared_ptr<const List> list = principals_.load();
  for (const catalog::Principal& p : *list) {
    if (p.name == name) return CallerOf(p);
  }
  return std::nullopt;
}

sdk::Result<Identity> Authenticate(const sdk::Request& request, const master::TrustStore& trust,
                                   const PrincipalDirectory& principals) {
  Identity identity;
  if (!request.authorization.empty()) {
    if (!request.authorization.starts_with(kBearer)) {
      return sdk::Status::Unauthenticated(
          "the Authorization header must be 'Bearer <token>'; make a token with 'scaleout manage "
          "user add NAME --role ROLE --token'");
    }
    auto caller = principals.FindByToken(request.authorization.substr(kBearer.size()));
    if (!caller) {
      return sdk::Status::Unauthenticated(
          "the API token is not valid (mistyped, or its principal was removed); ask an "
          "ssis_admin for a new one");
    }
    identity.kind = Identity::Kind::kPrincipal;
    identity.caller = std::move(*caller);
    identity.how = "token";
    return identity;
  }
  if (request.peer != nullptr && !request.peer->anonymous()) {
    const std::string& id = request.peer->id;
    auto peer = trust.Find(id);
    if (!peer) {
      return sdk::Status::Unauthenticated("certificate " + id +
                                          " is not trusted by this master (not a principal nor a "
                                          "worker)");
    }
    if (peer->kind == master::TrustedPeer::Kind::kWorker) {
      identity.kind = Identity::Kind::kWorker;
      identity.caller = {"worker " + peer->name, {std::string(catalog::kRoleWorker)}};
      identity.how = "worker certificate " + id;
      return identity;
    }
    auto caller = principals.FindByName(peer->name);
    if (!caller) {
      return sdk::Status::Unauthenticated("certificate " + id + " belonged to principal '" +
                                          peer->name + "', which no longer exists");
    }
    identity.kind = Identity::Kind::kPrincipal;
    identity.caller = std::move(*caller);
    identity.how = "certificate " + id;
    return identity;
  }
  identity.how = "anonymous";
  return identity;
}

}  // namespace scaleout::core::management
