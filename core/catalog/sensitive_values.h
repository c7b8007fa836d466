// Sensitive values at rest: the catalog's encryption key and what it seals.
//
// SSISDB encrypts sensitive parameter values and environment variables with
// keys under the catalog's master key, by the catalog's ENCRYPTION_ALGORITHM.
// scaleout does the same with a CatalogKey the master loads from a file of its
// own (not in the database, so a copy of the database alone reveals nothing):
// every sensitive value is stored sealed with AES-GCM (AES_128, AES_192 or
// AES_256, as ENCRYPTION_ALGORITHM says; the key for each is derived from the
// catalog key), and opened only to hand it to the package that needs it.
//
// Which values are sealed is decided by the rows' own flags, never by
// guessing from the text: object_parameters.default_value and
// execution_parameter_values.parameter_value where sensitive = 1,
// environment_variables.value where sensitive = 1, and
// object_parameter_values.value where sensitive = 1 (value_type V, set for a
// parameter that was sensitive then).
//
// A sealed value is text: "<algorithm>:<key id>:<base64 of nonce, ciphertext
// and tag>", so it names the key it needs and survives every storage backend.
//
// Thread-safety: a CatalogKey is immutable after construction; share it.
#ifndef SCALEOUT_CORE_CATALOG_SENSITIVE_VALUES_H_
#define SCALEOUT_CORE_CATALOG_SENSITIVE_VALUES_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/catalog/transaction.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::catalog {

class CatalogKey {
 public:
  static constexpr std::size_t kBytes = 32;

  // A new random key (OpenSSL's RAND_bytes). kInternal if the RNG fails.
  static sdk::Result<CatalogKey> Generate();
  // From a key file's text (see ToFileText); kInvalidArgument saying what is wrong.
  static sdk::Result<CatalogKey> Parse(std::string_view file_text);

  // "scaleout-catalog-key 1 <64 hex digits>\n".
  std::string ToFileText() const;
  // 16 hex digits naming this key (derived from it; reveals nothing of it).
  const std::string& id() const { return id_; }

  // Seals `plaintext` with `algorithm` (AES_128, AES_192 or AES_256; any
  // other name seals with AES_256, see EffectiveAlgorithm).
  sdk::Result<std::string> Seal(std::string_view algorithm, std::string_view plaintext) const;
  // Opens a value Seal made. kDataLoss when it was sealed with another key,
  // is damaged or is not a sealed value at all.
  sdk::Result<std::string> Open(std::string_view sealed) const;

 private:
  explicit CatalogKey(const std::array<unsigned char, kBytes>& bytes);

  std::array<unsigned char, kBytes> bytes_{};
  std::string id_;
  // The key of each of AES_128, AES_192, AES_256, derived once (the claim
  // path opens values with them).
  std::array<std::array<unsigned char, 32>, 3> algorithm_keys_{};
};

// The AES algorithm a catalog whose ENCRYPTION_ALGORITHM is `property` seals with.
std::string_view EffectiveAlgorithm(std::string_view property);

// What each sealed value in the catalog is sealed with, as a catalog property.
inline constexpr std::string_view kKeyIdProperty = "ENCRYPTION_KEY_ID";

// The id of the key the catalog's sealed values need; nullopt when no
// master has recorded one yet.
sdk::Result<std::optional<std::string>> RecordedKeyId(sdk::Connection& connection);

struct ProtectResult {
  std::int64_t sealed = 0;  // plaintext sensitive values sealed now
  bool first_use = false;   // the catalog had no key before
};

// Run by the master at start, before it serves (no caller). On a catalog
// that has no key yet, seals every sensitive value (a catalog made before
// values were sealed keeps them in plaintext) and records `key`'s id; on one
// that has, checks it is `key` (kFailedPrecondition naming both ids
// otherwise: nothing could be opened).
sdk::Result<ProtectResult> ProtectSensitiveValues(Txn& txn, const CatalogKey& key);

// Seals every sealed value again with `next` instead of `current` (each
// with the algorithm it was sealed with) and records `next`'s id, all or
// none: what `scaleout master rotate-key` runs, no master running. Refused
// (kFailedPrecondition naming the ids) unless the catalog's values are
// sealed with `current`. Returns how many values were sealed again.
sdk::Result<std::int64_t> RotateCatalogKey(Txn& txn, const CatalogKey& current,
                                           const CatalogKey& next);

namespace internal {

// Seals `plaintext` with the transaction's key under the catalog's current
// ENCRYPTION_ALGORITHM; kFailedPrecondition when the transaction has no key.
sdk::Result<std::string> SealSensitive(Txn& txn, std::string_view plaintext);
// Opens a sealed value with the transaction's key.
sdk::Result<std::string> OpenSensitive(const Txn& txn, std::string_view sealed);
// Re-seals every sealed value under `algorithm` (configure_catalog
// ENCRYPTION_ALGORITHM), all or none. Returns how many.
sdk::Result<std::int64_t> ResealSensitiveValues(Txn& txn, std::string_view algorithm);

}  // namespace internal

}  // namespace scaleout::core::catalog

#endif  // SCALEOUT_CORE_CATALOG_SENSITIVE_VALUES_H_
