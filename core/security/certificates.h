// X.509 certificates for mutual TLS: create self-signed ones, read their
// thumbprints, compare pins.
//
// Scale Out authenticates both ends by certificate thumbprint: the master
// trusts a worker whose thumbprint is in the catalog, a worker pins its
// master's. Thumbprints are the SHA-256 digest of the DER certificate (hex,
// upper case); the SHA-1 digest SSIS shows is accepted as a pin too.
//
// Everything here uses the OpenSSL API directly (no `openssl` child process).
// Thread-safety: every function is reentrant; none keeps state.
#ifndef SCALEOUT_CORE_SECURITY_CERTIFICATES_H_
#define SCALEOUT_CORE_SECURITY_CERTIFICATES_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/status.h"

namespace scaleout::core::security {

enum class KeyType {
  kEcP256,   // default: small, fast, forward-secret ECDHE-ECDSA suites
  kRsa3072,  // for peers that cannot do ECDSA
};

// Parses "ec" / "ec-p256" / "p256" or "rsa" / "rsa3072" (any case).
sdk::Result<KeyType> ParseKeyType(std::string_view text);

struct CertificateRequest {
  std::string common_name;                // subject CN; required, at most 64 characters
  std::vector<std::string> dns_names;     // subjectAltName DNS entries ("worker1.example.com")
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries ("10.0.0.5", "::1")
  int days = 3650;                        // validity, from now; 1 .. 36500
  KeyType key_type = KeyType::kEcP256;
  std::string cert_file;   // where the PEM certificate goes (mode 0644)
  std::string key_file;    // where the PEM private key goes (created with mode 0600)
  bool overwrite = false;  // replace existing files; otherwise an existing file is an error
  // Shifts the start of validity (negative = in the past). Tests use it to
  // make expired or not-yet-valid certificates; operators leave it at zero.
  std::chrono::seconds not_before_offset{0};
};

// What a certificate says about itself, in the forms operators paste into
// configuration and the catalog.
struct CertificateInfo {
  std::string sha256_thumbprint;  // 64 hex digits, upper case: the primary id
  std::string sha1_thumbprint;    // 40 hex digits, upper case: SSIS's thumbprint
  std::string common_name;        // subject CN, or "" when it has none
  std::string not_before;         // UTC, "2025-01-31T12:00:00Z"
  std::string not_after;          // UTC, "2035-01-29T12:00:00Z"
  std::chrono::system_clock::time_point not_after_time;
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries, printed
};

// Generates a key pair and a self-signed certificate (SHA-256 signature,
// SAN from the request, extendedKeyUsage serverAuth + clientAuth) and writes
// both files. The key file is created with mode 0600 from the start (never
// chmod-ed later) and both files are written to a temporary name and renamed
// into place, so a failure leaves no partial file and existing files are
// untouched unless `overwrite` is set.
// Errors: kInvalidArgument (bad name, address, days, or empty paths),
// kAlreadyExists (a target exists and overwrite is false), kPermissionDenied
// / kNotFound / kUnavailable (the directory cannot be written), kInternal.
sdk::Result<CertificateInfo> CreateSelfSignedCertificate(const CertificateRequest& request);

// Reads the first certificate of `cert_file` (PEM; a DER ".cer" as SSIS
// exports is accepted too) and returns its thumbprints, CN, validity and SAN.
// Errors: kNotFound (no such file), kPermissionDenied, kInvalidArgument (not a
// certificate).
sdk::Result<CertificateInfo> ReadCertificateThumbprints(const std::string& cert_file);

// The same for a DER-encoded certificate held in memory.
sdk::Result<CertificateInfo> DescribeDerCertificate(std::string_view der);

// Checks that `key_file` holds the private key of `cert_file`'s certificate.
// Errors: as ReadCertificateThumbprints for either file, kFailedPrecondition
// when the key does not belong to the certificate.
sdk::Status CheckKeyMatchesCertificate(const std::string& cert_file, const std::string& key_file);

// Refuses a private key file that group or others may read or write: a key
// that leaked to another local account is no longer a credential.
// Errors: kNotFound, kPermissionDenied (the mode is too open; the message
// says how to fix it).
sdk::Status CheckPrivateKeyPermissions(const std::string& key_file);

// Which thumbprint of a certificate a pin matched.
enum class PinMatch { kNone, kSha256, kSha1 };

// Normalizes an operator-supplied pin: SHA-256 (64 hex digits) or SHA-1 (40),
// any case, ':' and spaces ignored. Returns the upper-case digits or
// kInvalidArgument naming the bad pin.
sdk::Result<std::string> NormalizePin(std::string_view pin);

// Compares one pin with a certificate's thumbprints. A malformed pin never
// matches.
PinMatch MatchPin(std::string_view pin, const CertificateInfo& certificate);

// The first match of any pin in `pins` (SHA-256 matches win over SHA-1).
PinMatch MatchAnyPin(const std::vector<std::string>& pins, const CertificateInfo& certificate);

}  // namespace scaleout::core::security

#endif  // SCALEOUT_CORE_SECURITY_CERTIFICATES_H_
