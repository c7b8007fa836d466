// TLS policy and peer identities for transport/https (OpenSSL only, no Beast).
//
// The policy is the project's (DESIGN.md section 7): TLS 1.2 and 1.3 only,
// TLS 1.2 limited to ECDHE with AEAD suites, no renegotiation, no
// compression, no session resumption (a resumed session would skip the
// thumbprint check), security level 2.
//
// Trust is decided by certificate thumbprint only, as SSIS does with its
// self-signed certificates: chain errors are ignored, validity dates are not.
//
// Thread-safety: free functions are reentrant. A Verifier is immutable after
// construction except for ClientVerifier's last-seen record, which belongs
// to the one client that owns it.
#ifndef SCALEOUT_PLUGINS_TRANSPORT_HTTPS_TLS_H_
#define SCALEOUT_PLUGINS_TRANSPORT_HTTPS_TLS_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/ssl.h>

#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::plugins::https {

// The plugin's own settings (section [transport.https]).
struct TransportSettings {
  int threads = 2;  // I/O threads per server
  std::chrono::milliseconds handshake_timeout{10'000};
};

// Drains OpenSSL's thread-local error queue into one line ("" when empty).
std::string OpenSslErrors();

// The identity a certificate proves: scheme "x509", SHA-256 and SHA-1
// thumbprints (hex, upper case) and the subject CN.
sdk::PeerIdentity IdentityOf(X509* certificate);

// "SHA-256 AB.. (SHA-1 CD.., CN 'worker1')", for log lines and errors.
std::string DescribeIdentity(const sdk::PeerIdentity& peer);

// Normalizes a pin: 64 (SHA-256) or 40 (SHA-1) hex digits, any case, ':' and
// spaces ignored. kInvalidArgument names a malformed pin.
sdk::Result<std::string> NormalizePin(std::string_view pin);

// Refuses a certificate outside its validity period; "" when it is valid now,
// otherwise the reason ("it expired on 2024-01-01T00:00:00Z").
std::string ValidityProblem(X509* certificate);

// Applies the TLS policy above to a server or client context.
sdk::Status ApplyTlsPolicy(SSL_CTX* context);

// Loads our certificate and private key, with errors that name the file and
// the fix: missing file, key readable by others (must be 0600), not PEM, key
// not matching the certificate.
sdk::Status LoadCredential(SSL_CTX* context, const std::string& cert_file,
                           const std::string& key_file);

// Attaches the remote address text to a connection's SSL object so the
// verifier can name it (Asio drives OpenSSL through a BIO pair, so the SSL
// has no socket to ask). `address` must outlive `ssl`'s handshake.
void SetRemoteAddress(SSL* ssl, const std::string* address);

// The remote address of the connection an X509_STORE_CTX belongs to
// ("127.0.0.1:53122"), or "" when none was attached.
std::string RemoteAddressOf(X509_STORE_CTX* store);

// Server side: admits a client certificate when the PeerAuthenticator does.
// Installed with SSL_CTX_set_cert_verify_callback, so it replaces OpenSSL's
// chain verification and runs once per handshake (on an I/O thread).
class ServerVerifier {
 public:
  ServerVerifier(const sdk::PeerAuthenticator& authenticator, sdk::Logger& logger)
      : authenticator_(authenticator), logger_(logger) {}
  // Sets `mode` (verify peer, plus fail-if-no-certificate when `require`)
  // and the callback on `context`. `this` must outlive the context.
  void Install(SSL_CTX* context, bool require_client_certificate);

 private:
  static int Callback(X509_STORE_CTX* store, void* self);
  int Verify(X509_STORE_CTX* store);

  const sdk::PeerAuthenticator& authenticator_;
  sdk::Logger& logger_;
};

// Client side: accepts the server only if a pin matches its certificate.
// Remembers what the server presented so the caller can say why it refused.
class ClientVerifier {
 public:
  explicit ClientVerifier(std::vector<std::string> normalized_pins)
      : pins_(std::move(normalized_pins)) {}
  // `this` must outlive the context.
  void Install(SSL_CTX* context);

  // Set by the last handshake; cleared by Reset().
  bool refused() const { return refused_; }
  const std::string& refusal() const { return refusal_; }
  void Reset() {
    refused_ = false;
    refusal_.clear();
  }

 private:
  static int Callback(X509_STORE_CTX* store, void* self);
  int Verify(X509_STORE_CTX* store);

  std::vector<std::string> pins_;
  bool refused_ = false;
  std::string refusal_;
};

}  // namespace scaleout::plugins::https

#endif  // SCALEOUT_PLUGINS_TRANSPORT_HTTPS_TLS_H_
