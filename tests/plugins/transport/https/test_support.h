// Helpers for the transport/https tests: real certificates in a temporary
// directory, the real plugin loaded with dlopen, a capturing logger, and a
// raw OpenSSL client for the cases a well-behaved client cannot produce.
#ifndef SCALEOUT_TESTS_PLUGINS_TRANSPORT_HTTPS_TEST_SUPPORT_H_
#define SCALEOUT_TESTS_PLUGINS_TRANSPORT_HTTPS_TEST_SUPPORT_H_

#include <openssl/ssl.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/config.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/plugin.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::plugins::https::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  std::string File(const std::string& name) const;

 private:
  std::string path_;
};

struct TestCert {
  std::string cert_file;
  std::string key_file;
  std::string sha256;
  std::string sha1;
  std::string cn;
};

// Creates a self-signed EC certificate for 127.0.0.1 / localhost with core/security.
TestCert MakeCert(const TempDir& dir, const std::string& name);

// Keeps every line; thread-safe. WaitFor blocks until a line contains `text`.
class CapturingLogger final : public sdk::Logger {
 public:
  void Log(sdk::LogLevel level, std::string_view message) noexcept override;
  bool Enabled(sdk::LogLevel) const noexcept override { return true; }
  bool Contains(std::string_view text) const;
  void WaitFor(std::string_view text) const;
  std::string All() const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<std::string> lines_;
};

// Admits the thumbprints in `trusted`; counts calls (one per handshake).
class SetAuthenticator final : public sdk::PeerAuthenticator {
 public:
  explicit SetAuthenticator(std::set<std::string> trusted) : trusted_(std::move(trusted)) {}
  void Trust(const std::string& id);
  sdk::Status Admit(const sdk::PeerIdentity& peer) const noexcept override;
  int calls() const;

 private:
  std::set<std::string> trusted_;
  mutable std::mutex mutex_;
  mutable int calls_ = 0;
};

// Runs a function per request; counts requests.
class FunctionHandler final : public sdk::RequestHandler {
 public:
  using Function = std::function<void(const sdk::Request&, std::unique_ptr<sdk::Responder>)>;
  explicit FunctionHandler(Function function) : function_(std::move(function)) {}
  void OnRequest(const sdk::Request& request,
                 std::unique_ptr<sdk::Responder> responder) noexcept override;
  int calls() const;

 private:
  Function function_;
  mutable std::mutex mutex_;
  int calls_ = 0;
};

// The built plugin, loaded with dlopen, and one Transport made by it.
class LoadedTransport {
 public:
  // Loads and creates; `config` is the plugin's section.
  static sdk::Result<std::unique_ptr<LoadedTransport>> Load(
      const std::map<std::string, std::string, std::less<>>& config, sdk::Logger& logger);
  ~LoadedTransport();
  sdk::Transport& operator*() const { return *transport_; }
  sdk::Transport* operator->() const { return transport_; }

 private:
  void* library_ = nullptr;
  const sdk::PluginDescriptor* descriptor_ = nullptr;
  sdk::Transport* transport_ = nullptr;
};

// A blocking TLS client over a plain socket, OpenSSL only.
class RawTlsClient {
 public:
  struct Options {
    std::string cert_file;
    std::string key_file;
    int min_version = TLS1_2_VERSION;
    int max_version = TLS1_3_VERSION;
    std::string tls12_ciphers;  // "" = OpenSSL default
    int security_level = -1;    // -1 = OpenSSL default
  };
  explicit RawTlsClient(Options options);
  RawTlsClient() : RawTlsClient(Options{}) {}
  ~RawTlsClient();

  // TCP connect only. Returns false with `error` set.
  bool ConnectTcp(std::uint16_t port, std::string* error);
  // TCP connect plus TLS handshake.
  bool Connect(std::uint16_t port, std::string* error);
  bool Write(std::string_view data);
  // Reads one HTTP response (header plus Content-Length body); "" on close.
  std::string ReadResponse();
  // Reads until the peer closes; true when it did (false only if the safety
  // receive timeout of the socket expired first).
  bool WaitClosed();
  // The OpenSSL error text of the last failure.
  const std::string& last_error() const { return last_error_; }
  unsigned long last_error_code() const { return last_error_code_; }

 private:
  Options options_;
  SSL_CTX* context_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  std::string pending_;
  std::string last_error_;
  unsigned long last_error_code_ = 0;
};

}  // namespace scaleout::plugins::https::testing

#endif  // SCALEOUT_TESTS_PLUGINS_TRANSPORT_HTTPS_TEST_SUPPORT_H_
