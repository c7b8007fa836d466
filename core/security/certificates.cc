#include "core/security/certificates.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <utility>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/common/ascii.h"
#include "core/common/ids.h"

namespace scaleout::core::security {
namespace {

using sdk::Result;
using sdk::Status;

// RAII owners for the OpenSSL objects used here.
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesFree>;

constexpr int kMaxDays = 36500;
constexpr std::size_t kMaxCommonName = 64;  // ub-common-name (RFC 5280)
constexpr std::size_t kMaxFileBytes = 1u << 20;

// Drains OpenSSL's thread-local error queue into one line ("" when empty).
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!out.empty()) out += "; ";
    out += buffer;
  }
  return out;
}

Status OpenSslFailure(std::string_view what) {
  std::string errors = OpenSslErrors();
  std::string message(what);
  if (!errors.empty()) message += ": " + errors;
  return Status::Internal(std::move(message));
}

std::string DirectoryOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Maps an errno from opening `path` to a Status that names the file and the fix.
Status FileError(int error, std::string_view action, const std::string& path) {
  std::string message =
      "cannot " + std::string(action) + " '" + path + "': " + std::strerror(error);
  switch (error) {
    case ENOENT:
    case ENOTDIR: return Status::NotFound(std::move(message));
    case EACCES:
    case EPERM:
    case EROFS: return Status::PermissionDenied(std::move(message));
    case EEXIST: return Status::AlreadyExists(std::move(message));
    default: return Status::Unavailable(std::move(message));
  }
}

Result<std::string> ReadSmallFile(const std::string& path, std::string_view what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FileError(errno, "read " + std::string(what), path);
  std::string data;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      int error = errno;
      ::close(fd);
      return FileError(error, "read " + std::string(what), path);
    }
    if (n == 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
    if (data.size() > kMaxFileBytes) {
      ::close(fd);
      return Status::InvalidArgument("'" + path + "' is larger than 1 MiB: not a " +
                                     std::string(what));
    }
  }
  ::close(fd);
  return data;
}

// ---- validation ------------------------------------------------------------

Status ValidateCommonName(std::string_view cn) {
  if (cn.empty()) return Status::InvalidArgument("a common name (--cn) is required");
  if (cn.size() > kMaxCommonName) {
    return Status::InvalidArgument("common name '" + std::string(cn) + "' is longer than 64 " +
                                   "characters");
  }
  for (unsigned char c : cn) {
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("common name contains a control character");
    }
  }
  return Status::Ok();
}

// Host names as RFC 1123 allows them, plus a leading "*." wildcard label.
Status ValidateDnsName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("DNS name '" + std::string(name) +
                                   "' is invalid: " + std::string(why));
  };
  if (name.empty()) return bad("it is empty");
  if (name.size() > 253) return bad("it is longer than 253 characters");
  std::string_view rest = name;
  if (rest.substr(0, 2) == "*.") rest.remove_prefix(2);
  std::size_t start = 0;
  while (start <= rest.size()) {
    std::size_t dot = rest.find('.', start);
    if (dot == std::string_view::npos) dot = rest.size();
    std::string_view label = rest.substr(start, dot - start);
    if (label.empty() || label.size() > 63) return bad("each label must be 1 to 63 characters");
    if (label.front() == '-' || label.back() == '-') return bad("a label starts or ends with '-'");
    for (unsigned char c : label) {
      if (!std::isalnum(c) && c != '-') return bad("only letters, digits, '-' and '.' are allowed");
    }
    start = dot + 1;
  }
  return Status::Ok();
}

// Parses an IPv4 or IPv6 address into its 4 or 16 network-order bytes.
std::optional<std::string> ParseIp(const std::string& text) {
  unsigned char bytes[16];
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
    return std::string(reinterpret_cast<char*>(bytes), 4);
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
    return std::string(reinterpret_cast<char*>(bytes), 16);
  }
  return std::nullopt;
}

Status ValidateRequest(const CertificateRequest& request) {
  SCALEOUT_RETURN_IF_ERROR(ValidateCommonName(request.common_name));
  for (const std::string& name : request.dns_names) SCALEOUT_RETURN_IF_ERROR(ValidateDnsName(name));
  for (const std::string& ip : request.ip_addresses) {
    if (!ParseIp(ip)) {
      return Status::InvalidArgument("'" + ip + "' is not an IPv4 or IPv6 address");
    }
  }
  if (request.days < 1 || request.days > kMaxDays) {
    return Status::InvalidArgument("validity must be between 1 and 36500 days, got " +
                                   std::to_string(request.days));
  }
  if (request.cert_file.empty()) return Status::InvalidArgument("no certificate file given");
  if (request.key_file.empty()) return Status::InvalidArgument("no key file given");
  if (request.cert_file == request.key_file) {
    return Status::InvalidArgument("certificate and key must go to different files, both are '" +
                                   request.cert_file + "'");
  }
  return Status::Ok();
}

// ---- generation ------------------------------------------------------------

Result<PkeyPtr> GenerateKey(KeyType type) {
  EVP_PKEY* key = nullptr;
  if (type == KeyType::kRsa3072) {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(3072));
  } else {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  }
  if (key == nullptr) return OpenSslFailure("generating the key pair failed");
  return PkeyPtr(key);
}

Status AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return OpenSslFailure("building a certificate extension failed");
  int added = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (added != 1) return OpenSslFailure("adding a certificate extension failed");
  return Status::Ok();
}

// Builds the subjectAltName from typed GENERAL_NAMEs rather than a config
// string, so no name can smuggle in an extra entry with a comma.
Status AddSubjectAltName(X509* cert, const CertificateRequest& request) {
  if (request.dns_names.empty() && request.ip_addresses.empty()) return Status::Ok();
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return OpenSslFailure("allocating subjectAltName failed");
  auto push = [&](int type, const std::string& bytes) -> Status {
    ASN1_STRING* value = (type == GEN_DNS) ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new();
    GENERAL_NAME* name = GENERAL_NAME_new();
    if (value == nullptr || name == nullptr ||
        ASN1_STRING_set(value, bytes.data(), static_cast<int>(bytes.size())) != 1) {
      ASN1_STRING_free(value);
      GENERAL_NAME_free(name);
      return OpenSslFailure("building subjectAltName failed");
    }
    GENERAL_NAME_set0_value(name, type, value);  // `name` owns `value` now
    if (sk_GENERAL_NAME_push(names.get(), name) == 0) {
      GENERAL_NAME_free(name);
      return OpenSslFailure("building subjectAltName failed");
    }
    return Status::Ok();
  };
  for (const std::string& dns : request.dns_names) SCALEOUT_RETURN_IF_ERROR(push(GEN_DNS, dns));
  for (const std::string& ip : request.ip_addresses) {
    SCALEOUT_RETURN_IF_ERROR(push(GEN_IPADD, *ParseIp(ip)));
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslFailure("adding subjectAltName failed");
  }
  return Status::Ok();
}

Result<X509Ptr> BuildCertificate(const CertificateRequest& request, EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  if (!cert) return OpenSslFailure("allocating the certificate failed");
  if (X509_set_version(cert.get(), 2) != 1) return OpenSslFailure("setting version failed");

  // A random positive 159-bit serial, as RFC 5280 asks (at most 20 octets).
  BnPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return OpenSslFailure("making a serial number failed");
  }

  const long offset = static_cast<long>(request.not_before_offset.count());
  if (X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, offset, nullptr) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), request.days, offset, nullptr) == nullptr) {
    return OpenSslFailure("setting the validity period failed");
  }

  X509_NAME* subject = X509_get_subject_name(cert.get());
  const auto* cn = reinterpret_cast<const unsigned char*>(request.common_name.c_str());
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), subject) != 1) {
    return OpenSslFailure("setting the subject name failed");
  }
  if (X509_set_pubkey(cert.get(), key) != 1) return OpenSslFailure("setting the public key failed");

  SCALEOUT_RETURN_IF_ERROR(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  const char* usage = request.key_type == KeyType::kRsa3072
                          ? "critical,digitalSignature,keyEncipherment"
                          : "critical,digitalSignature";
  SCALEOUT_RETURN_IF_ERROR(AddExtension(cert.get(), NID_key_usage, usage));
  // Both: the same certificate may serve (master) and be presented (worker).
  SCALEOUT_RETURN_IF_ERROR(AddExtension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth"));
  SCALEOUT_RETURN_IF_ERROR(AddExtension(cert.get(), NID_subject_key_identifier, "hash"));
  SCALEOUT_RETURN_IF_ERROR(AddSubjectAltName(cert.get(), request));

  if (X509_sign(cert.get(), key, EVP_sha256()) == 0) {
    return OpenSslFailure("signing the certificate failed");
  }
  return cert;
}

Result<std::string> BioContents(BIO* bio) {
  BUF_MEM* memory = nullptr;
  BIO_get_mem_ptr(bio, &memory);
  if (memory == nullptr) return OpenSslFailure("reading PEM output failed");
  return std::string(memory->data, memory->length);
}

Result<std::string> CertificatePem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslFailure("encoding the certificate failed");
  }
  return BioContents(bio.get());
}

Result<std::string> PrivateKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslFailure("encoding the private key failed");
  }
  Result<std::string> pem = BioContents(bio.get());
  // The memory BIO's buffer held the key; wipe it before it is freed.
  BUF_MEM* memory = nullptr;
  BIO_get_mem_ptr(bio.get(), &memory);
  if (memory != nullptr && memory->data != nullptr) OPENSSL_cleanse(memory->data, memory->length);
  return pem;
}

// ---- files ------------------------------------------------------------------

bool PathExists(const std::string& path) {
  struct stat info;
  return ::lstat(path.c_str(), &info) == 0;
}

// Writes `data` to a fresh temporary file beside `path`, created with `mode`
// (O_EXCL, so it is never a file someone else prepared), flushed to disk.
// Returns the temporary file's name.
Result<std::string> WriteTemporary(const std::string& path, std::string_view data, mode_t mode) {
  unsigned char random[8];
  if (RAND_bytes(random, sizeof(random)) != 1) return OpenSslFailure("RAND_bytes failed");
  std::string temp =
      path + ".tmp-" + HexUpper(std::string_view(reinterpret_cast<char*>(random), sizeof(random)));
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    int error = errno;
    return FileError(error, "write to directory", DirectoryOf(path)).WithContext(path);
  }
  std::size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = n < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(temp.c_str());
      return FileError(error, "write", path);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int error = errno;
    ::unlink(temp.c_str());
    return FileError(error, "write", path);
  }
  return temp;
}

// Moves `temp` to `path`. Without `overwrite`, link() makes the final name
// appear only if it does not exist yet (no check-then-rename race).
Status CommitTemporary(const std::string& temp, const std::string& path, bool overwrite) {
  if (overwrite) {
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      int error = errno;
      ::unlink(temp.c_str());
      return FileError(error, "write", path);
    }
    return Status::Ok();
  }
  if (::link(temp.c_str(), path.c_str()) != 0) {
    int error = errno;
    ::unlink(temp.c_str());
    if (error == EEXIST) {
      return Status::AlreadyExists("'" + path + "' already exists; use --force to replace it");
    }
    return FileError(error, "write", path);
  }
  ::unlink(temp.c_str());
  return Status::Ok();
}

// ---- reading ----------------------------------------------------------------

std::string FormatTime(const ASN1_TIME* time, std::chrono::system_clock::time_point* out) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return "";
  if (out != nullptr) *out = std::chrono::system_clock::from_time_t(timegm(&tm));
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string CommonNameOf(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return "";
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return cn;
}

void ReadSubjectAltNames(X509* cert, CertificateInfo* info) {
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_STRING* s = name->d.dNSName;
      info->dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                   static_cast<std::size_t>(ASN1_STRING_length(s)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_STRING* s = name->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      int family = ASN1_STRING_length(s) == 4 ? AF_INET : AF_INET6;
      if (ASN1_STRING_length(s) == 4 || ASN1_STRING_length(s) == 16) {
        inet_ntop(family, ASN1_STRING_get0_data(s), text, sizeof(text));
        info->ip_addresses.emplace_back(text);
      }
    }
  }
}

Result<std::string> Digest(X509* cert, const EVP_MD* md) {
  unsigned char bytes[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert, md, bytes, &length) != 1) return OpenSslFailure("X509_digest failed");
  return HexUpper(std::string_view(reinterpret_cast<char*>(bytes), length));
}

Result<CertificateInfo> Describe(X509* cert) {
  CertificateInfo info;
  SCALEOUT_ASSIGN_OR_RETURN(info.sha256_thumbprint, Digest(cert, EVP_sha256()));
  SCALEOUT_ASSIGN_OR_RETURN(info.sha1_thumbprint, Digest(cert, EVP_sha1()));
  info.common_name = CommonNameOf(cert);
  info.not_before = FormatTime(X509_get0_notBefore(cert), nullptr);
  info.not_after = FormatTime(X509_get0_notAfter(cert), &info.not_after_time);
  ReadSubjectAltNames(cert, &info);
  return info;
}

// Parses PEM (the first CERTIFICATE block) or, failing that, DER.
Result<X509Ptr> ParseCertificate(const std::string& data, const std::string& path) {
  X509Ptr cert;
  if (data.find("-----BEGIN") != std::string::npos) {
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    if (bio) cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      ERR_clear_error();
      return Status::InvalidArgument("'" + path + "' has no PEM CERTIFICATE block (is it a key?)");
    }
    return cert;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  cert.reset(d2i_X509(nullptr, &p, static_cast<long>(data.size())));
  if (!cert) {
    ERR_clear_error();
    return Status::InvalidArgument("'" + path + "' is not a certificate (neither PEM nor DER)");
  }
  return cert;
}

Result<X509Ptr> LoadCertificate(const std::string& path) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string data, ReadSmallFile(path, "certificate"));
  return ParseCertificate(data, path);
}

Result<PkeyPtr> LoadPrivateKey(const std::string& path) {
  SCALEOUT_ASSIGN_OR_RETURN(std::string data, ReadSmallFile(path, "private key"));
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  PkeyPtr key;
  if (bio) key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  OPENSSL_cleanse(data.data(), data.size());
  if (!key) {
    ERR_clear_error();
    return Status::InvalidArgument("'" + path + "' is not a PEM private key (or it is encrypted)");
  }
  return key;
}

}  // namespace

Result<KeyType> ParseKeyType(std::string_view text) {
  std::string lower = AsciiLower(text);
  if (lower == "ec" || lower == "ec-p256" || lower == "p256" || lower == "p-256") {
    return KeyType::kEcP256;
  }
  if (lower == "rsa" || lower == "rsa3072" || lower == "rsa-3072") return KeyType::kRsa3072;
  return Status::InvalidArgument("unknown key type '" + std::string(text) +
                                 "'; use 'ec' (P-256) or 'rsa' (3072 bits)");
}

Result<CertificateInfo> CreateSelfSignedCertificate(const CertificateRequest& request) {
  SCALEOUT_RETURN_IF_ERROR(ValidateRequest(request));
  if (!request.overwrite) {
    for (const std::string* path : {&request.cert_file, &request.key_file}) {
      if (PathExists(*path)) {
        return Status::AlreadyExists("'" + *path + "' already exists; use --force to replace it");
      }
    }
  }
  ERR_clear_error();
  SCALEOUT_ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey(request.key_type));
  SCALEOUT_ASSIGN_OR_RETURN(X509Ptr cert, BuildCertificate(request, key.get()));
  SCALEOUT_ASSIGN_OR_RETURN(std::string cert_pem, CertificatePem(cert.get()));
  SCALEOUT_ASSIGN_OR_RETURN(std::string key_pem, PrivateKeyPem(key.get()));
  SCALEOUT_ASSIGN_OR_RETURN(CertificateInfo info, Describe(cert.get()));

  // Write both to temporary names first: a failure leaves nothing behind.
  Result<std::string> key_temp = WriteTemporary(request.key_file, key_pem, 0600);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  if (!key_temp.ok()) return key_temp.status();
  Result<std::string> cert_temp = WriteTemporary(request.cert_file, cert_pem, 0644);
  if (!cert_temp.ok()) {
    ::unlink(key_temp->c_str());
    return cert_temp.status();
  }
  Status status = CommitTemporary(*key_temp, request.key_file, request.overwrite);
  if (!status.ok()) {
    ::unlink(cert_temp->c_str());
    return status;
  }
  status = CommitTemporary(*cert_temp, request.cert_file, request.overwrite);
  if (!status.ok()) {
    // Without its certificate the new key is useless; do not leave it behind.
    if (!request.overwrite) ::unlink(request.key_file.c_str());
    return status;
  }
  return info;
}

Result<CertificateInfo> ReadCertificateThumbprints(const std::string& cert_file) {
  SCALEOUT_ASSIGN_OR_RETURN(X509Ptr cert, LoadCertificate(cert_file));
  return Describe(cert.get());
}

Result<CertificateInfo> DescribeDerCertificate(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) {
    ERR_clear_error();
    return Status::InvalidArgument("not a DER certificate");
  }
  return Describe(cert.get());
}

Status CheckKeyMatchesCertificate(const std::string& cert_file, const std::string& key_file) {
  SCALEOUT_ASSIGN_OR_RETURN(X509Ptr cert, LoadCertificate(cert_file));
  SCALEOUT_ASSIGN_OR_RETURN(PkeyPtr key, LoadPrivateKey(key_file));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return Status::FailedPrecondition("the private key in '" + key_file +
                                      "' does not belong to the certificate in '" + cert_file +
                                      "'");
  }
  return Status::Ok();
}

Status CheckPrivateKeyPermissions(const std::string& key_file) {
  struct stat info;
  if (::stat(key_file.c_str(), &info) != 0) return FileError(errno, "read private key", key_file);
  if ((info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return Status::PermissionDenied("private key file '" + key_file + "' has mode " + mode +
                                    ": group and others must not access it; run 'chmod 600 " +
                                    key_file + "'");
  }
  return Status::Ok();
}

Result<std::string> NormalizePin(std::string_view pin) {
  if (auto sha256 = NormalizeThumbprint(pin, 64)) return *sha256;
  if (auto sha1 = NormalizeThumbprint(pin, 40)) return *sha1;
  return Status::InvalidArgument("'" + std::string(pin) +
                                 "' is not a certificate thumbprint: expected 64 (SHA-256) or 40 "
                                 "(SHA-1) hex digits");
}

PinMatch MatchPin(std::string_view pin, const CertificateInfo& certificate) {
  Result<std::string> normalized = NormalizePin(pin);
  if (!normalized.ok()) return PinMatch::kNone;
  if (*normalized == certificate.sha256_thumbprint) return PinMatch::kSha256;
  if (*normalized == certificate.sha1_thumbprint) return PinMatch::kSha1;
  return PinMatch::kNone;
}

PinMatch MatchAnyPin(const std::vector<std::string>& pins, const CertificateInfo& certificate) {
  PinMatch best = PinMatch::kNone;
  for (const std::string& pin : pins) {
    PinMatch match = MatchPin(pin, certificate);
    if (match == PinMatch::kSha256) return match;
    if (match == PinMatch::kSha1) best = match;
  }
  return best;
}

}  // namespace scaleout::core::security
