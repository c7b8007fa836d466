#include "tests/plugins/transport/https/test_support.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <openssl/err.h>

#include "core/security/certificates.h"

namespace scaleout::plugins::https::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "scaleout-https-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::string TempDir::File(const std::string& name) const {
  return (fs::path(path_) / name).string();
}

TestCert MakeCert(const TempDir& dir, const std::string& name) {
  core::security::CertificateRequest request;
  request.common_name = name;
  request.dns_names = {"localhost"};
  request.ip_addresses = {"127.0.0.1"};
  request.days = 30;
  request.cert_file = dir.File(name + ".crt");
  request.key_file = dir.File(name + ".key");
  auto info = core::security::CreateSelfSignedCertificate(request);
  if (!info.ok()) throw std::runtime_error(info.status().ToString());
  return TestCert{request.cert_file, request.key_file, info->sha256_thumbprint,
                  info->sha1_thumbprint, name};
}

// ---- logger -----------------------------------------------------------------------

void CapturingLogger::Log(sdk::LogLevel, std::string_view message) noexcept {
  try {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(message);
  } catch (...) {
  }
  changed_.notify_all();
}

bool CapturingLogger::Contains(std::string_view text) const {
  std::lock_guard lock(mutex_);
  for (const std::string& line : lines_) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

void CapturingLogger::WaitFor(std::string_view text) const {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] {
    for (const std::string& line : lines_) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  });
}

std::string CapturingLogger::All() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const std::string& line : lines_) out += line + "\n";
  return out;
}

// ---- authenticator and handler --------------------------------------------------------

sdk::Status SetAuthenticator::Admit(const sdk::PeerIdentity& peer) const noexcept {
  std::lock_guard lock(mutex_);
  ++calls_;
  if (trusted_.count(peer.id) != 0) return sdk::Status::Ok();
  return sdk::Status::Unauthenticated("thumbprint is not in the trusted set");
}

void SetAuthenticator::Trust(const std::string& id) {
  std::lock_guard lock(mutex_);
  trusted_.insert(id);
}

int SetAuthenticator::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

void FunctionHandler::OnRequest(const sdk::Request& request,
                                std::unique_ptr<sdk::Responder> responder) noexcept {
  {
    std::lock_guard lock(mutex_);
    ++calls_;
  }
  function_(request, std::move(responder));
}

int FunctionHandler::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

// ---- plugin -----------------------------------------------------------------------------

sdk::Result<std::unique_ptr<LoadedTransport>> LoadedTransport::Load(
    const std::map<std::string, std::string, std::less<>>& config, sdk::Logger& logger) {
  const std::string path =
      std::string(SCALEOUT_TEST_PLUGIN_DIR) + "/libscaleout_transport_https.so";
  auto loaded = std::make_unique<LoadedTransport>();
  loaded->library_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (loaded->library_ == nullptr) return sdk::Status::NotFound(::dlerror());
  auto entry =
      reinterpret_cast<sdk::PluginEntryPoint>(::dlsym(loaded->library_, sdk::kEntryPointName));
  if (entry == nullptr) return sdk::Status::InvalidArgument("no entry point");
  loaded->descriptor_ = entry();
  sdk::ConfigView view(config, "transport.https");
  sdk::PluginContext context{&view, &logger};
  char error[512] = {};
  void* instance = loaded->descriptor_->create(&context, error, sizeof(error));
  if (instance == nullptr) return sdk::Status::InvalidArgument(error);
  loaded->transport_ = static_cast<sdk::Transport*>(instance);
  return loaded;
}

LoadedTransport::~LoadedTransport() {
  if (transport_ != nullptr) descriptor_->destroy(transport_);
  if (library_ != nullptr) ::dlclose(library_);
}

// ---- raw client ----------------------------------------------------------------------------

namespace {

std::string DrainErrors(unsigned long* first) {
  std::string out;
  *first = 0;
  while (unsigned long code = ERR_get_error()) {
    if (*first == 0) *first = code;
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!out.empty()) out += "; ";
    out += buffer;
  }
  return out;
}

}  // namespace

RawTlsClient::RawTlsClient(Options options) : options_(std::move(options)) {
  context_ = SSL_CTX_new(TLS_client_method());
  if (options_.security_level >= 0) SSL_CTX_set_security_level(context_, options_.security_level);
  SSL_CTX_set_min_proto_version(context_, options_.min_version);
  SSL_CTX_set_max_proto_version(context_, options_.max_version);
  if (!options_.tls12_ciphers.empty()) {
    SSL_CTX_set_cipher_list(context_, options_.tls12_ciphers.c_str());
  }
  if (!options_.cert_file.empty()) {
    SSL_CTX_use_certificate_file(context_, options_.cert_file.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(context_, options_.key_file.c_str(), SSL_FILETYPE_PEM);
  }
  SSL_CTX_set_verify(context_, SSL_VERIFY_NONE, nullptr);  // the tests attack the server
}

RawTlsClient::~RawTlsClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (fd_ >= 0) ::close(fd_);
  SSL_CTX_free(context_);
}

bool RawTlsClient::ConnectTcp(std::uint16_t port, std::string* error) {
  // OpenSSL writes through its socket BIO with plain write(): an alert it
  // answers to a server that already closed (TLS 1.3 after the server's
  // close_notify) would kill the test binary with SIGPIPE instead of
  // failing the write. The transport itself sends with MSG_NOSIGNAL.
  ::signal(SIGPIPE, SIG_IGN);
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  // A safety net so a broken server fails the test instead of hanging it.
  timeval timeout{60, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    *error = std::strerror(errno);
    return false;
  }
  return true;
}

bool RawTlsClient::Connect(std::uint16_t port, std::string* error) {
  if (!ConnectTcp(port, error)) return false;
  ERR_clear_error();
  ssl_ = SSL_new(context_);
  SSL_set_fd(ssl_, fd_);
  if (SSL_connect(ssl_) != 1) {
    last_error_ = DrainErrors(&last_error_code_);
    *error = last_error_.empty() ? "handshake failed (connection closed)" : last_error_;
    return false;
  }
  return true;
}

bool RawTlsClient::Write(std::string_view data) {
  ERR_clear_error();
  int n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
  if (n <= 0) {
    last_error_ = DrainErrors(&last_error_code_);
    return false;
  }
  return static_cast<std::size_t>(n) == data.size();
}

std::string RawTlsClient::ReadResponse() {
  auto fill = [&]() -> bool {
    char buffer[4096];
    ERR_clear_error();
    int n = SSL_read(ssl_, buffer, sizeof(buffer));
    if (n <= 0) {
      last_error_ = DrainErrors(&last_error_code_);
      return false;
    }
    pending_.append(buffer, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t end;
  while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return "";
  }
  std::size_t length = 0;
  std::string header = pending_.substr(0, end);
  for (const char* name : {"Content-Length: ", "content-length: "}) {
    auto at = header.find(name);
    if (at != std::string::npos) length = std::stoul(header.substr(at + std::strlen(name)));
  }
  while (pending_.size() < end + 4 + length) {
    if (!fill()) break;
  }
  std::string response = pending_.substr(0, std::min(pending_.size(), end + 4 + length));
  pending_.erase(0, response.size());
  return response;
}

bool RawTlsClient::WaitClosed() {
  char buffer[4096];
  for (;;) {
    ssize_t n = 0;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      n = SSL_read(ssl_, buffer, sizeof(buffer));
      const int saved_errno = errno;
      if (n <= 0) {
        int error = SSL_get_error(ssl_, static_cast<int>(n));
        ERR_clear_error();
        // A receive timeout shows up as a syscall error with EAGAIN.
        return !(error == SSL_ERROR_SYSCALL &&
                 (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK));
      }
    } else {
      n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n == 0) return true;
      if (n < 0) return !(errno == EAGAIN || errno == EWOULDBLOCK);
    }
  }
}

}  // namespace scaleout::plugins::https::testing
