#include "tls.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

namespace scaleout::plugins::https {
namespace {

using sdk::Result;
using sdk::Status;

// TLS 1.2: forward-secret ECDHE with AEAD only (Mozilla "intermediate" minus
// DHE). TLS 1.3 keeps OpenSSL's three default suites, all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:P-256:P-384";

std::string HexUpper(const unsigned char* bytes, unsigned int length) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(std::size_t{length} * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xF];
  }
  return out;
}

std::string Digest(X509* certificate, const EVP_MD* md) {
  unsigned char bytes[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(certificate, md, bytes, &length) != 1) return "";
  return HexUpper(bytes, length);
}

std::string CommonNameOf(X509* certificate) {
  X509_NAME* subject = X509_get_subject_name(certificate);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return "";
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  // The CN goes into log lines: keep them one line, printable.
  for (char& c : cn) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return cn;
}

std::string FormatTime(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return "?";
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string FileProblem(const std::string& path, std::string_view what) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    return "cannot read " + std::string(what) + " '" + path + "': " + std::strerror(errno);
  }
  return "";
}

}  // namespace

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

sdk::PeerIdentity IdentityOf(X509* certificate) {
  sdk::PeerIdentity peer;
  peer.scheme = "x509";
  peer.id = Digest(certificate, EVP_sha256());
  peer.sha1_thumbprint = Digest(certificate, EVP_sha1());
  peer.display_name = CommonNameOf(certificate);
  return peer;
}

std::string DescribeIdentity(const sdk::PeerIdentity& peer) {
  if (peer.anonymous()) return "no certificate";
  return "SHA-256 " + peer.id + " (SHA-1 " + peer.sha1_thumbprint + ", CN '" + peer.display_name +
         "')";
}

Result<std::string> NormalizePin(std::string_view pin) {
  std::string out;
  for (char c : pin) {
    if (c == ':' || c == ' ') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      out.clear();
      break;
    }
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (out.size() == 64 || out.size() == 40) return out;
  return Status::InvalidArgument("pinned server id '" + std::string(pin) +
                                 "' is not a certificate thumbprint: expected 64 (SHA-256) or 40 "
                                 "(SHA-1) hex digits");
}

std::string ValidityProblem(X509* certificate) {
  const ASN1_TIME* not_before = X509_get0_notBefore(certificate);
  const ASN1_TIME* not_after = X509_get0_notAfter(certificate);
  if (X509_cmp_current_time(not_before) >= 0) {
    return "it is not valid before " + FormatTime(not_before);
  }
  if (X509_cmp_current_time(not_after) <= 0) return "it expired on " + FormatTime(not_after);
  return "";
}

Status ApplyTlsPolicy(SSL_CTX* context) {
  SSL_CTX_set_security_level(context, 2);
  if (SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(context, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(context, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(context, kTls13Suites) != 1 ||
      SSL_CTX_set1_groups_list(context, kGroups) != 1) {
    return Status::Internal("applying the TLS policy failed: " + OpenSslErrors());
  }
  SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                   SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  // No resumption: a resumed session would skip the thumbprint check, so a
  // certificate removed from the trusted set could keep its access.
  SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(context, 0);
  return Status::Ok();
}

Status LoadCredential(SSL_CTX* context, const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty() || key_file.empty()) {
    return Status::InvalidArgument("a certificate file and a key file are both required");
  }
  if (std::string problem = FileProblem(cert_file, "certificate"); !problem.empty()) {
    return Status::NotFound(problem);
  }
  if (std::string problem = FileProblem(key_file, "private key"); !problem.empty()) {
    return Status::NotFound(problem);
  }
  struct stat info;
  if (::stat(key_file.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return Status::PermissionDenied("private key file '" + key_file + "' has mode " + mode +
                                    ": group and others must not access it; run 'chmod 600 " +
                                    key_file + "'");
  }
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(context, cert_file.c_str()) != 1) {
    return Status::InvalidArgument("'" + cert_file +
                                   "' is not a PEM certificate: " + OpenSslErrors());
  }
  if (SSL_CTX_use_PrivateKey_file(context, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    std::string errors = OpenSslErrors();
    if (errors.find("key values mismatch") != std::string::npos) {
      return Status::FailedPrecondition("the private key in '" + key_file +
                                        "' does not belong to the certificate in '" + cert_file +
                                        "'");
    }
    return Status::InvalidArgument("'" + key_file + "' is not a PEM private key: " + errors);
  }
  if (SSL_CTX_check_private_key(context) != 1) {
    OpenSslErrors();
    return Status::FailedPrecondition("the private key in '" + key_file +
                                      "' does not belong to the certificate in '" + cert_file +
                                      "'");
  }
  return Status::Ok();
}

namespace {
int RemoteAddressIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}
}  // namespace

void SetRemoteAddress(SSL* ssl, const std::string* address) {
  SSL_set_ex_data(ssl, RemoteAddressIndex(), const_cast<std::string*>(address));
}

std::string RemoteAddressOf(X509_STORE_CTX* store) {
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr) return "";
  const auto* address = static_cast<const std::string*>(SSL_get_ex_data(ssl, RemoteAddressIndex()));
  return address == nullptr ? "" : *address;
}

// ---- server ------------------------------------------------------------------

void ServerVerifier::Install(SSL_CTX* context, bool require_client_certificate) {
  int mode = SSL_VERIFY_PEER;
  if (require_client_certificate) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(context, mode, nullptr);
  SSL_CTX_set_cert_verify_callback(context, &ServerVerifier::Callback, this);
}

int ServerVerifier::Callback(X509_STORE_CTX* store, void* self) {
  return static_cast<ServerVerifier*>(self)->Verify(store);
}

int ServerVerifier::Verify(X509_STORE_CTX* store) {
  X509* certificate = X509_STORE_CTX_get0_cert(store);
  if (certificate == nullptr) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
    return 0;
  }
  // Chain errors are expected (self-signed certificates) and ignored: the
  // thumbprint alone decides, as in SSIS. Validity dates still count.
  sdk::PeerIdentity peer = IdentityOf(certificate);
  std::string why = ValidityProblem(certificate);
  int error = X509_V_OK;
  if (!why.empty()) {
    error = why.find("expired") != std::string::npos ? X509_V_ERR_CERT_HAS_EXPIRED
                                                     : X509_V_ERR_CERT_NOT_YET_VALID;
  } else {
    Status admitted = authenticator_.Admit(peer);
    if (!admitted.ok()) {
      why = admitted.message().empty() ? std::string(sdk::StatusCodeName(admitted.code()))
                                       : admitted.message();
      error = X509_V_ERR_CERT_REJECTED;
    }
  }
  if (error != X509_V_OK) {
    std::string remote = RemoteAddressOf(store);
    logger_.Warn("refused TLS client " + (remote.empty() ? std::string("?") : remote) +
                 ": certificate " + DescribeIdentity(peer) + " is not trusted: " + why +
                 ". To trust it, add the worker with 'scaleout manage worker add --cert FILE'");
    X509_STORE_CTX_set_error(store, error);
    return 0;
  }
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

// ---- client ------------------------------------------------------------------

void ClientVerifier::Install(SSL_CTX* context) {
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(context, &ClientVerifier::Callback, this);
}

int ClientVerifier::Callback(X509_STORE_CTX* store, void* self) {
  return static_cast<ClientVerifier*>(self)->Verify(store);
}

int ClientVerifier::Verify(X509_STORE_CTX* store) {
  X509* certificate = X509_STORE_CTX_get0_cert(store);
  if (certificate == nullptr) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
    return 0;
  }
  sdk::PeerIdentity peer = IdentityOf(certificate);
  bool pinned = false;
  for (const std::string& pin : pins_) {
    pinned = pinned || pin == peer.id || pin == peer.sha1_thumbprint;
  }
  if (!pinned) {
    std::string expected;
    for (const std::string& pin : pins_) expected += (expected.empty() ? "" : ", ") + pin;
    refused_ = true;
    refusal_ = "the server presented certificate " + DescribeIdentity(peer) +
               ", which is not pinned; expected " +
               (expected.empty() ? std::string("(no pinned thumbprints configured)")
                                 : "one of: " + expected) +
               ". Check the master certificate thumbprint this worker pins";
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  if (std::string why = ValidityProblem(certificate); !why.empty()) {
    refused_ = true;
    refusal_ = "the server presented certificate " + DescribeIdentity(peer) + " but " + why;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_HAS_EXPIRED);
    return 0;
  }
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

}  // namespace scaleout::plugins::https
