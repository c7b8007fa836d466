#include "core/catalog/sensitive_values.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "core/catalog/rows.h"
#include "core/catalog/sql.h"
#include "core/common/base64.h"
#include "core/common/ids.h"

namespace scaleout::core::catalog {

using internal::Execute;
using internal::OneOff;
using internal::Query;
using sdk::Result;
using sdk::Status;

namespace {

constexpr std::string_view kFileMagic = "scaleout-catalog-key 1 ";
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::string_view kAlgorithms[] = {"AES_128", "AES_192", "AES_256"};

int Nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// HKDF-Expand (RFC 5869) of one block with the catalog key as the
// pseudorandom key: a key of its own for each use, so the id reveals nothing
// and AES_128 and AES_256 never share key bytes.
std::array<unsigned char, 32> Derive(const std::array<unsigned char, CatalogKey::kBytes>& key,
                                     std::string_view info) {
  std::string message(info);
  message += '\x01';
  std::array<unsigned char, 32> out{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &size);
  return out;
}

// The index of `algorithm` in kAlgorithms (AES_256 for any other name).
std::size_t AlgorithmIndex(std::string_view algorithm) {
  for (std::size_t i = 0; i < std::size(kAlgorithms); ++i) {
    if (algorithm == kAlgorithms[i]) return i;
  }
  return std::size(kAlgorithms) - 1;
}

const EVP_CIPHER* CipherFor(std::size_t algorithm) {
  if (algorithm == 0) return EVP_aes_128_gcm();
  if (algorithm == 1) return EVP_aes_192_gcm();
  return EVP_aes_256_gcm();
}

std::string_view AsText(const unsigned char* bytes, std::size_t n) {
  return {reinterpret_cast<const char*>(bytes), n};
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

Status OpenSslError(std::string_view what) {
  return Status::Internal("sealing a sensitive value failed in OpenSSL (" + std::string(what) +
                          ")");
}

Status NotSealed(std::string_view why) {
  return Status::DataLoss("a sensitive value in the catalog cannot be opened: " + std::string(why) +
                          "; restore the catalog (or the key file) from the same backup");
}

}  // namespace

CatalogKey::CatalogKey(const std::array<unsigned char, kBytes>& bytes) : bytes_(bytes) {
  const std::array<unsigned char, 32> id = Derive(bytes_, "scaleout catalog key id");
  id_ = HexLower(AsText(id.data(), 8));
  for (std::size_t i = 0; i < std::size(kAlgorithms); ++i) {
    algorithm_keys_[i] = Derive(bytes_, "scaleout catalog " + std::string(kAlgorithms[i]));
  }
}

Result<CatalogKey> CatalogKey::Generate() {
  std::array<unsigned char, kBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return Status::Internal("the random number generator failed to make a catalog key");
  }
  return CatalogKey(bytes);
}

Result<CatalogKey> CatalogKey::Parse(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (!text.starts_with(kFileMagic)) {
    return Status::InvalidArgument("not a scaleout catalog key file (it starts with \"" +
                                   std::string(kFileMagic) + "\")");
  }
  text.remove_prefix(kFileMagic.size());
  if (text.size() != 2 * kBytes) {
    return Status::InvalidArgument("the key must be " + std::to_string(2 * kBytes) +
                                   " hex digits; found " + std::to_string(text.size()) +
                                   " characters");
  }
  std::array<unsigned char, kBytes> bytes{};
  for (std::size_t i = 0; i < kBytes; ++i) {
    const int hi = Nibble(text[2 * i]);
    const int lo = Nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("the key has a character that is not hex");
    bytes[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return CatalogKey(bytes);
}

std::string CatalogKey::ToFileText() const {
  return std::string(kFileMagic) + HexLower(AsText(bytes_.data(), bytes_.size())) + "\n";
}

std::string_view EffectiveAlgorithm(std::string_view property) {
  return kAlgorithms[AlgorithmIndex(property)];
}

Result<std::string> CatalogKey::Seal(std::string_view algorithm, std::string_view plaintext) const {
  const std::size_t index = AlgorithmIndex(algorithm);
  const EVP_CIPHER* cipher = CipherFor(index);
  const std::array<unsigned char, 32>& key = algorithm_keys_[index];
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(nonce, static_cast<int>(kNonceBytes)) != 1) return OpenSslError("nonce");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, key.data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nonce + kNonceBytes, &n,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), nonce + kNonceBytes + n, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          nonce + kNonceBytes + plaintext.size()) != 1) {
    return OpenSslError("encrypt");
  }
  return std::string(kAlgorithms[index]) + ":" + id_ + ":" + EncodeBase64(out);
}

Result<std::string> CatalogKey::Open(std::string_view sealed) const {
  const std::size_t first = sealed.find(':');
  const std::size_t second = first == std::string_view::npos ? first : sealed.find(':', first + 1);
  if (second == std::string_view::npos) return NotSealed("it is not in the sealed form");
  const std::string_view algorithm = sealed.substr(0, first);
  const std::string_view key_id = sealed.substr(first + 1, second - first - 1);
  if (EffectiveAlgorithm(algorithm) != algorithm) {
    return NotSealed("it names an unknown algorithm");
  }
  if (key_id != id_) {
    return NotSealed("it was sealed with catalog key " + std::string(key_id.substr(0, 16)) +
                     ", and this master has key " + id_);
  }
  std::optional<std::string> bytes = DecodeBase64(sealed.substr(second + 1));
  if (!bytes || bytes->size() < kNonceBytes + kTagBytes) return NotSealed("it is damaged");
  const std::size_t index = AlgorithmIndex(algorithm);
  const std::array<unsigned char, 32>& key = algorithm_keys_[index];
  const auto* nonce = reinterpret_cast<const unsigned char*>(bytes->data());
  const std::size_t size = bytes->size() - kNonceBytes - kTagBytes;
  std::string out(size, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  auto* tag = const_cast<unsigned char*>(nonce + kNonceBytes + size);  // OpenSSL's signature
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), CipherFor(index), nullptr, key.data(), nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n,
                        nonce + kNonceBytes, static_cast<int>(size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag) != 1) {
    return OpenSslError("decrypt");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n, &n) != 1) {
    return NotSealed("it is damaged (its authentication tag does not match)");
  }
  return out;
}

namespace {

// Where sealed values live: one column of one table, the rows whose value
// is sealed, and how to find a row again.
struct SealedColumn {
  std::string_view select;  // the key columns (ints first, then texts), then the value
  std::string_view update;  // SET value = ? WHERE the key columns, in the same order
  int int_keys;
  int text_keys;
};

constexpr SealedColumn kSealedColumns[] = {
    {"SELECT parameter_id, default_value FROM object_parameters WHERE sensitive = 1 AND "
     "default_value IS NOT NULL",
     "UPDATE object_parameters SET default_value = ? WHERE parameter_id = ?", 1, 0},
    {"SELECT execution_id, object_type, parameter_name, parameter_value FROM "
     "execution_parameter_values WHERE sensitive = 1 AND parameter_value IS NOT NULL",
     "UPDATE execution_parameter_values SET parameter_value = ? WHERE execution_id = ? AND "
     "object_type = ? AND parameter_name = ?",
     2, 1},
    {"SELECT variable_id, value FROM environment_variables WHERE sensitive = 1 AND value IS NOT "
     "NULL",
     "UPDATE environment_variables SET value = ? WHERE variable_id = ?", 1, 0},
    {"SELECT project_id, object_type, object_name, parameter_name, value FROM "
     "object_parameter_values WHERE sensitive = 1",
     "UPDATE object_parameter_values SET value = ? WHERE project_id = ? AND object_type = ? AND "
     "object_name = ? AND parameter_name = ?",
     2, 2},
};

struct SealedRow {
  std::vector<std::int64_t> ints;
  std::vector<std::string> texts;
  std::string value;
};

Result<std::vector<SealedRow>> ReadSealedRows(sdk::Connection& c, const SealedColumn& column) {
  SCALEOUT_ASSIGN_OR_RETURN(Query q, OneOff(c, column.select));
  std::vector<SealedRow> rows;
  for (;;) {
    SCALEOUT_ASSIGN_OR_RETURN(bool row, q.Next());
    if (!row) break;
    SealedRow r;
    int i = 0;
    for (; i < column.int_keys; ++i) r.ints.push_back(q.I(i));
    for (; i < column.int_keys + column.text_keys; ++i) r.texts.push_back(q.T(i));
    r.value = q.T(i);
    rows.push_back(std::move(r));
  }
  return rows;
}

// Replaces each row's value by what `transform` makes of it; returns how
// many changed. Every value is read and transformed before the first write,
// so a value that cannot be transformed (one that does not open) refuses the
// whole call with nothing written, and no update moves a cursor still
// reading its table.
template <typename Transform>
Result<std::int64_t> RewriteSealedValues(sdk::Connection& c, Transform transform) {
  std::vector<std::vector<SealedRow>> tables;
  std::int64_t count = 0;
  for (const SealedColumn& column : kSealedColumns) {
    SCALEOUT_ASSIGN_OR_RETURN(std::vector<SealedRow> rows, ReadSealedRows(c, column));
    std::vector<SealedRow> changed;
    for (SealedRow& r : rows) {
      SCALEOUT_ASSIGN_OR_RETURN(std::string value, transform(r.value));
      if (value == r.value) continue;
      r.value = std::move(value);
      changed.push_back(std::move(r));
    }
    count += static_cast<std::int64_t>(changed.size());
    tables.push_back(std::move(changed));
  }
  for (std::size_t t = 0; t < tables.size(); ++t) {
    for (const SealedRow& r : tables[t]) {
      SCALEOUT_RETURN_IF_ERROR(Execute(c, kSealedColumns[t].update, [&](Query& q) {
                                 q.Text(r.value);
                                 for (std::int64_t v : r.ints) q.Int(v);
                                 for (const std::string& v : r.texts) q.Text(v);
                               }).status());
    }
  }
  return count;
}

// The id of the key `value` names when it has the sealed form
// ("AES_256:<16 hex digits>:..."), else nullopt.
std::optional<std::string_view> SealedKeyId(std::string_view value) {
  const std::size_t first = value.find(':');
  if (first == std::string_view::npos ||
      EffectiveAlgorithm(value.substr(0, first)) != value.substr(0, first)) {
    return std::nullopt;
  }
  const std::string_view id = value.substr(first + 1, 16);
  if (id.size() != 16 || value.size() <= first + 17 || value[first + 17] != ':')
    return std::nullopt;
  for (char ch : id) {
    if (Nibble(ch) < 0) return std::nullopt;
  }
  return id;
}

Result<std::string> CurrentAlgorithm(sdk::Connection& c) {
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<std::string> property,
                            internal::GetCatalogProperty(c, "ENCRYPTION_ALGORITHM"));
  return std::string(EffectiveAlgorithm(property.value_or("AES_256")));
}

// A configured value (V) set before values were sealed carries no flag: it
// is sensitive when its parameter is in the project's current version.
Status FlagSensitiveConfiguredValues(sdk::Connection& c) {
  return Execute(c,
                 "UPDATE object_parameter_values SET sensitive = 1 WHERE value_type = 'V' AND "
                 "EXISTS (SELECT 1 FROM object_parameters p JOIN projects j ON "
                 "j.object_version_lsn = p.project_version_lsn WHERE j.project_id = "
                 "object_parameter_values.project_id AND p.object_type = "
                 "object_parameter_values.object_type AND p.object_name = "
                 "object_parameter_values.object_name AND p.parameter_name = "
                 "object_parameter_values.parameter_name AND p.sensitive = 1)",
                 [](Query&) {})
      .status();
}

}  // namespace

Result<std::optional<std::string>> RecordedKeyId(sdk::Connection& connection) {
  return internal::GetCatalogProperty(connection, kKeyIdProperty);
}

Result<ProtectResult> ProtectSensitiveValues(Txn& txn, const CatalogKey& key) {
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<std::string> recorded, RecordedKeyId(c));
  ProtectResult out;
  if (recorded) {
    if (*recorded == key.id()) return out;
    return Status::FailedPrecondition(
        "the catalog's sensitive values are sealed with catalog key " + *recorded +
        ", but CatalogEncryptionKeyFile holds key " + key.id() +
        "; point it at the key file this catalog was used with (restore it from your backup)");
  }
  out.first_use = true;
  SCALEOUT_RETURN_IF_ERROR(FlagSensitiveConfiguredValues(c));
  SCALEOUT_ASSIGN_OR_RETURN(std::string algorithm, CurrentAlgorithm(c));
  // A value this key sealed already (written through a keyed transaction
  // before any master recorded the key) stays as it is: a plaintext cannot
  // pass as one, as it would need the key's authentication tag. One sealed
  // with another key means the record of the key was lost: sealing it again
  // would bury it, so the start is refused.
  SCALEOUT_ASSIGN_OR_RETURN(
      out.sealed, RewriteSealedValues(c, [&](const std::string& value) -> Result<std::string> {
        if (key.Open(value).ok()) return value;
        if (std::optional<std::string_view> other = SealedKeyId(value)) {
          return Status::FailedPrecondition(
              "the catalog holds sensitive values sealed with catalog key " + std::string(*other) +
              " but no record of its key (catalog property " + std::string(kKeyIdProperty) +
              "); start the master with that key's file (CatalogEncryptionKeyFile)");
        }
        return key.Seal(algorithm, value);
      }));
  SCALEOUT_RETURN_IF_ERROR(internal::SetCatalogProperty(c, kKeyIdProperty, key.id()));
  return out;
}

Result<std::int64_t> RotateCatalogKey(Txn& txn, const CatalogKey& current, const CatalogKey& next) {
  sdk::Connection& c = txn.connection;
  SCALEOUT_ASSIGN_OR_RETURN(std::optional<std::string> recorded, RecordedKeyId(c));
  if (recorded != current.id()) {
    return Status::FailedPrecondition(
        "the catalog's sensitive values are sealed with catalog key " +
        recorded.value_or("(none yet: start the master once first)") + ", not with key " +
        current.id() + " of CatalogEncryptionKeyFile; nothing was changed");
  }
  SCALEOUT_ASSIGN_OR_RETURN(
      std::int64_t count,
      RewriteSealedValues(c, [&](const std::string& sealed) -> Result<std::string> {
        SCALEOUT_ASSIGN_OR_RETURN(std::string plaintext, current.Open(sealed));
        return next.Seal(sealed.substr(0, sealed.find(':')), plaintext);
      }));
  SCALEOUT_RETURN_IF_ERROR(internal::SetCatalogProperty(c, kKeyIdProperty, next.id()));
  return count;
}

namespace internal {

namespace {

Result<const CatalogKey*> RequireKey(const Txn& txn) {
  if (txn.key != nullptr) return txn.key;
  return Status::FailedPrecondition(
      "sensitive values need the catalog key, and this catalog connection has none; run this "
      "through the master (it loads CatalogEncryptionKeyFile)");
}

}  // namespace

Result<std::string> SealSensitive(Txn& txn, std::string_view plaintext) {
  SCALEOUT_ASSIGN_OR_RETURN(const CatalogKey* key, RequireKey(txn));
  SCALEOUT_ASSIGN_OR_RETURN(std::string algorithm, CurrentAlgorithm(txn.connection));
  return key->Seal(algorithm, plaintext);
}

Result<std::string> OpenSensitive(const Txn& txn, std::string_view sealed) {
  SCALEOUT_ASSIGN_OR_RETURN(const CatalogKey* key, RequireKey(txn));
  return key->Open(sealed);
}

Result<std::int64_t> ResealSensitiveValues(Txn& txn, std::string_view algorithm) {
  return RewriteSealedValues(txn.connection, [&](const std::string& sealed) -> Result<std::string> {
    SCALEOUT_ASSIGN_OR_RETURN(const CatalogKey* key, RequireKey(txn));  // only when there are any
    SCALEOUT_ASSIGN_OR_RETURN(std::string plaintext, key->Open(sealed));
    return key->Seal(algorithm, plaintext);
  });
}

}  // namespace internal

}  // namespace scaleout::core::catalog
