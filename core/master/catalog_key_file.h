// The catalog key's file: where the master keeps the key that seals the
// catalog's sensitive values (catalog/sensitive_values.h).
//
// The key is not in the catalog: a copy of the database alone opens no
// sensitive value, and a master needs both to run. Back the file up with the
// catalog; a catalog whose key is lost keeps its sensitive values sealed
// for good (they must be set again), as SSISDB without its master key.
#ifndef SCALEOUT_CORE_MASTER_CATALOG_KEY_FILE_H_
#define SCALEOUT_CORE_MASTER_CATALOG_KEY_FILE_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "core/catalog/sensitive_values.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::master {

struct LoadedCatalogKey {
  catalog::CatalogKey key;
  bool created = false;  // the file did not exist and was made now
};

// Reads the key from `path`. When the file does not exist and `may_create`,
// makes a new key there (mode 0600, written whole or not at all). Refused
// with a message saying what to do: a file others can read or write (its
// mode must be 0600 or 0400), one that is not a key file, or a missing file
// when the catalog already has sealed values (`may_create` false).
sdk::Result<LoadedCatalogKey> LoadCatalogKey(const std::filesystem::path& path, bool may_create);

// Writes `key` to `path`, which must not exist (mode 0600, whole or not at all).
sdk::Status WriteCatalogKeyFile(const std::filesystem::path& path, const catalog::CatalogKey& key);

// `scaleout master rotate-key`: seals the catalog's sensitive values again
// with a new key. The new key is written to `<path>.next` first; once the
// catalog has it (one transaction), the old file becomes
// `<path>.retired-<old id>` and `<path>.next` takes its place. Run again
// after an interruption, it finishes what was left.
struct KeyRotation {
  std::string old_id;
  std::string new_id;
  std::int64_t resealed = 0;
  std::filesystem::path retired;  // where the old key now is
};
using SealAgain = std::function<sdk::Result<std::int64_t>(const catalog::CatalogKey& current,
                                                          const catalog::CatalogKey& next)>;
// `seal_again` runs catalog::RotateCatalogKey in a transaction;
// `recorded_id` is the catalog's ENCRYPTION_KEY_ID.
sdk::Result<KeyRotation> RotateCatalogKeyFile(const std::filesystem::path& path,
                                              const std::string& recorded_id,
                                              const SealAgain& seal_again);

}  // namespace scaleout::core::master

#endif  // SCALEOUT_CORE_MASTER_CATALOG_KEY_FILE_H_
