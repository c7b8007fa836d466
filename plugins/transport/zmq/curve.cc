#include "curve.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <zmq.h>

namespace scaleout::plugins::zmq {
namespace {

using sdk::Result;
using sdk::Status;

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
constexpr std::size_t kMaxKeyFileBytes = 64u << 10;

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// The keys found in one file; empty when absent.
struct KeyFile {
  std::string public_key;
  std::string secret_key;
};

Result<KeyFile> ReadKeyFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read the " + std::string(what) + " '" + path + "'");
  std::string text(kMaxKeyFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxKeyFileBytes) {
    return Status::InvalidArgument("the " + std::string(what) + " '" + path +
                                   "' is too large to be a CURVE key file");
  }
  KeyFile keys;
  std::istringstream lines(text);
  std::string raw;
  int number = 0;
  while (std::getline(lines, raw)) {
    ++number;
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') continue;
    std::string* target = nullptr;
    if (line.rfind("public-key", 0) == 0) {
      target = &keys.public_key;
      line.remove_prefix(10);
    } else if (line.rfind("secret-key", 0) == 0) {
      target = &keys.secret_key;
      line.remove_prefix(10);
    } else if (IsZ85Key(line) && keys.public_key.empty()) {
      keys.public_key = std::string(line);  // a one-line public key file
      continue;
    } else {
      continue;  // other zcert lines ("curve", "metadata", names)
    }
    line = Trim(line);
    if (line.empty() || line.front() != '=') {
      return Status::InvalidArgument(path + ":" + std::to_string(number) + ": expected '='");
    }
    line = Trim(line.substr(1));
    if (line.size() >= 2 && line.front() == '"' && line.back() == '"') {
      line = line.substr(1, line.size() - 2);
    }
    if (!IsZ85Key(line)) {
      return Status::InvalidArgument(path + ":" + std::to_string(number) +
                                     ": a CURVE key is 40 Z85 characters");
    }
    *target = std::string(line);
  }
  return keys;
}

Status CheckSecretFileMode(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return Status::PermissionDenied("CURVE secret key file '" + path + "' has mode " + mode +
                                    "; it must not be readable by group or others (chmod 600)");
  }
  return Status::Ok();
}

std::string PublicOf(const std::string& secret) {
  char out[41] = {};
  if (zmq_curve_public(out, secret.c_str()) != 0) return {};
  return std::string(out, 40);
}

}  // namespace

bool IsZ85Key(std::string_view key) {
  if (key.size() != 40) return false;
  for (char c : key) {
    if (kZ85Alphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

Result<CurveKeyPair> LoadKeyPair(const std::string& cert_file, const std::string& key_file,
                                 std::string_view role) {
  const std::string who(role);
  if (key_file.empty()) {
    return Status::InvalidArgument("the " + who +
                                   " needs a CURVE secret key file (key_file); create one with "
                                   "'scaleout cert curve create'");
  }
  SCALEOUT_ASSIGN_OR_RETURN(KeyFile secret, ReadKeyFile(key_file, who + " secret key file"));
  if (secret.secret_key.empty()) {
    return Status::InvalidArgument("'" + key_file + "' holds no secret-key line; the " + who +
                                   " needs its CURVE secret key file");
  }
  SCALEOUT_RETURN_IF_ERROR(CheckSecretFileMode(key_file));
  CurveKeyPair pair;
  pair.secret_key = secret.secret_key;
  pair.public_key = PublicOf(pair.secret_key);
  if (pair.public_key.empty()) {
    return Status::InvalidArgument("'" + key_file + "' holds an invalid CURVE secret key");
  }
  if (!secret.public_key.empty() && secret.public_key != pair.public_key) {
    return Status::InvalidArgument("'" + key_file + "': public-key " + secret.public_key +
                                   " does not belong to its secret-key (public " + pair.public_key +
                                   ")");
  }
  if (!cert_file.empty() && cert_file != key_file) {
    SCALEOUT_ASSIGN_OR_RETURN(KeyFile pub, ReadKeyFile(cert_file, who + " public key file"));
    if (pub.public_key.empty()) {
      return Status::InvalidArgument("'" + cert_file + "' holds no CURVE public key");
    }
    if (pub.public_key != pair.public_key) {
      return Status::InvalidArgument("the " + who + " public key file '" + cert_file + "' holds " +
                                     pub.public_key + ", but the secret key in '" + key_file +
                                     "' belongs to " + pair.public_key);
    }
  }
  return pair;
}

const CurveKeyPair& AnonymousKeyPair() {
  // The secret key of 32 zero bytes, published on purpose (Z85 of zeros).
  static const CurveKeyPair pair = [] {
    CurveKeyPair p;
    p.secret_key = std::string(40, '0');
    p.public_key = PublicOf(p.secret_key);
    return p;
  }();
  return pair;
}

}  // namespace scaleout::plugins::zmq
