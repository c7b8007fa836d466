#include "core/security/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

#include <openssl/evp.h>

namespace scaleout::core::security {
namespace {

using sdk::Result;
using sdk::Status;

constexpr std::string_view kZ85 =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
constexpr std::size_t kMaxKeyFileBytes = 64u << 10;

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

struct KeyFileContent {
  std::string public_key;
  std::string secret_key;
};

Result<KeyFileContent> ParseKeyFile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::NotFound("cannot read the CURVE key file '" + file + "'");
  std::string text(kMaxKeyFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxKeyFileBytes) {
    return Status::InvalidArgument("'" + file + "' is too large to be a CURVE key file");
  }
  KeyFileContent content;
  std::istringstream lines(text);
  std::string raw;
  int number = 0;
  while (std::getline(lines, raw)) {
    ++number;
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') continue;
    std::string* target = nullptr;
    if (line.rfind("public-key", 0) == 0) {
      target = &content.public_key;
    } else if (line.rfind("secret-key", 0) == 0) {
      target = &content.secret_key;
    } else {
      if (Z85DecodeKey(line) && content.public_key.empty()) content.public_key = line;
      continue;
    }
    line = Trim(line.substr(10));
    if (line.empty() || line.front() != '=') {
      return Status::InvalidArgument(file + ":" + std::to_string(number) + ": expected '='");
    }
    line = Trim(line.substr(1));
    if (line.size() >= 2 && line.front() == '"' && line.back() == '"') {
      line = line.substr(1, line.size() - 2);
    }
    if (!Z85DecodeKey(line)) {
      return Status::InvalidArgument(file + ":" + std::to_string(number) +
                                     ": a CURVE key is 40 Z85 characters");
    }
    *target = std::string(line);
  }
  return content;
}

// Creates `path` with `mode` (exclusive unless `overwrite`) and writes `text`.
Status WriteKeyFile(const std::string& path, const std::string& text, mode_t mode, bool overwrite) {
  if (overwrite) ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Status::AlreadyExists("'" + path + "' exists; use --force to replace it");
    }
    return Status::PermissionDenied("cannot create '" + path + "': " + std::strerror(errno));
  }
  auto write_failed = [&path, fd](int error) {
    ::close(fd);
    return Status::Internal("cannot write '" + path + "': " + std::strerror(error));
  };
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return write_failed(errno);
    }
    written += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return Status::Internal("cannot flush '" + path + "'");
  return Status::Ok();
}

std::string Header(const std::string& name, bool secret) {
  char when[32] = {};
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string("#   ****  Generated on ") + when + " by scaleout  ****\n" +
         "#   ZeroMQ CURVE " + (secret ? "**Secret** " : "Public ") + "Certificate" +
         (name.empty() ? "" : " for " + name) + "\n" +
         (secret ? "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n"
                 : "#   Exchange securely, or use a secure mechanism to verify the contents\n"
                   "#   of this file after exchange.\n") +
         "\ncurve\n";
}

}  // namespace

std::string Z85EncodeKey(const CurveKeyBytes& key) {
  std::string out;
  out.reserve(40);
  for (std::size_t i = 0; i < key.size(); i += 4) {
    std::uint32_t value = (std::uint32_t{key[i]} << 24) | (std::uint32_t{key[i + 1]} << 16) |
                          (std::uint32_t{key[i + 2]} << 8) | std::uint32_t{key[i + 3]};
    char chunk[5];
    for (int j = 4; j >= 0; --j) {
      chunk[j] = kZ85[value % 85];
      value /= 85;
    }
    out.append(chunk, 5);
  }
  return out;
}

std::optional<CurveKeyBytes> Z85DecodeKey(std::string_view text) {
  if (text.size() != 40) return std::nullopt;
  CurveKeyBytes key{};
  for (std::size_t i = 0; i < 8; ++i) {
    std::uint64_t value = 0;
    for (std::size_t j = 0; j < 5; ++j) {
      const auto digit = kZ85.find(text[i * 5 + j]);
      if (digit == std::string_view::npos) return std::nullopt;
      value = value * 85 + digit;
    }
    if (value > 0xFFFFFFFFull) return std::nullopt;
    for (std::size_t j = 0; j < 4; ++j) {
      key[i * 4 + j] = static_cast<std::uint8_t>(value >> (24 - 8 * j));
    }
  }
  return key;
}

Result<CurveKeyPair> GenerateCurveKeyPair() {
  EVP_PKEY* raw = nullptr;
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr), &EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return Status::Internal("generating an X25519 key failed");
  }
  Pkey key(raw);
  CurveKeyBytes secret{};
  CurveKeyBytes pub{};
  std::size_t secret_size = secret.size();
  std::size_t pub_size = pub.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), secret.data(), &secret_size) != 1 ||
      EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &pub_size) != 1 || secret_size != 32 ||
      pub_size != 32) {
    return Status::Internal("reading the X25519 key failed");
  }
  CurveKeyPair pair{Z85EncodeKey(pub), Z85EncodeKey(secret)};
  OPENSSL_cleanse(secret.data(), secret.size());
  return pair;
}

Result<std::string> CurvePublicKeyOf(std::string_view secret_key) {
  std::optional<CurveKeyBytes> secret = Z85DecodeKey(secret_key);
  if (!secret) return Status::InvalidArgument("a CURVE secret key is 40 Z85 characters");
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, secret->data(), secret->size()));
  OPENSSL_cleanse(secret->data(), secret->size());
  CurveKeyBytes pub{};
  std::size_t size = pub.size();
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &size) != 1 || size != 32) {
    return Status::InvalidArgument("invalid CURVE secret key");
  }
  return Z85EncodeKey(pub);
}

Result<CurveKeyPair> CreateCurveKeyFiles(const CurveKeyRequest& request) {
  if (request.public_file.empty() || request.secret_file.empty() ||
      request.public_file == request.secret_file) {
    return Status::InvalidArgument("the public and secret key files need two different names");
  }
  SCALEOUT_ASSIGN_OR_RETURN(CurveKeyPair pair, GenerateCurveKeyPair());
  const std::string public_line = "    public-key = \"" + pair.public_key + "\"\n";
  SCALEOUT_RETURN_IF_ERROR(WriteKeyFile(
      request.secret_file,
      Header(request.name, true) + public_line + "    secret-key = \"" + pair.secret_key + "\"\n",
      0600, request.overwrite));
  SCALEOUT_RETURN_IF_ERROR(WriteKeyFile(
      request.public_file, Header(request.name, false) + public_line, 0644, request.overwrite));
  return pair;
}

Result<std::string> ReadCurvePublicKey(const std::string& file) {
  SCALEOUT_ASSIGN_OR_RETURN(KeyFileContent content, ParseKeyFile(file));
  if (!content.secret_key.empty()) {
    SCALEOUT_ASSIGN_OR_RETURN(std::string derived, CurvePublicKeyOf(content.secret_key));
    if (!content.public_key.empty() && content.public_key != derived) {
      return Status::InvalidArgument("'" + file + "': public-key " + content.public_key +
                                     " does not belong to its secret-key (public " + derived + ")");
    }
    return derived;
  }
  if (content.public_key.empty()) {
    return Status::InvalidArgument("'" + file + "' holds no CURVE public key");
  }
  return content.public_key;
}

Result<std::string> CheckCurveKeyFiles(const std::string& public_file,
                                       const std::string& secret_file) {
  if (secret_file.empty()) return Status::InvalidArgument("no CURVE secret key file given");
  SCALEOUT_ASSIGN_OR_RETURN(KeyFileContent content, ParseKeyFile(secret_file));
  if (content.secret_key.empty()) {
    return Status::InvalidArgument("'" + secret_file + "' holds no secret-key line");
  }
  struct stat info {};
  if (::stat(secret_file.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return Status::PermissionDenied("CURVE secret key file '" + secret_file + "' has mode " + mode +
                                    "; it must not be readable by group or others "
                                    "(chmod 600)");
  }
  SCALEOUT_ASSIGN_OR_RETURN(std::string pub, ReadCurvePublicKey(secret_file));
  if (!public_file.empty() && public_file != secret_file) {
    SCALEOUT_ASSIGN_OR_RETURN(std::string other, ReadCurvePublicKey(public_file));
    if (other != pub) {
      return Status::InvalidArgument("'" + public_file + "' holds " + other + ", but the secret " +
                                     "key in '" + secret_file + "' belongs to " + pub);
    }
  }
  return pub;
}

}  // namespace scaleout::core::security
