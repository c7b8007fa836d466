#include "host/commands/manage_client.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/security/certificates.h"
#include "core/security/curve_keys.h"

namespace scaleout::host {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sdk::Status;

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

sdk::Result<std::string> ReadTokenFile(const std::string& file) {
  std::ifstream in(file);
  if (!in) return Status::InvalidArgument("cannot read the token file " + file);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) return Status::InvalidArgument("the token file " + file + " is empty");
  return token;
}

// Settings from a connection file; relative paths are relative to the file.
sdk::Result<FlagValues> ReadConnectionFile(const std::string& file) {
  std::ifstream in(file);
  if (!in) return Status::InvalidArgument("cannot read the connection file " + file);
  std::stringstream text;
  text << in.rdbuf();
  json doc = json::parse(text.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::InvalidArgument("the connection file " + file + " is not a JSON object");
  }
  static const std::map<std::string, std::string> kKeys = {
      {"Master", "master"},       {"MasterThumbprint", "master-thumbprint"},
      {"CertFile", "cert"},       {"KeyFile", "key"},
      {"Token", "token"},         {"TokenFile", "token-file"},
      {"PluginDir", "plugin-dir"}};
  auto unknown_key = [&file](const std::string& key) {
    return Status::InvalidArgument("the connection file " + file + " has an unknown key '" + key +
                                   "' (known: Master, MasterThumbprint, CertFile, KeyFile, "
                                   "Token, TokenFile, PluginDir)");
  };
  auto not_a_string = [&file](const std::string& key) {
    return Status::InvalidArgument("'" + key + "' in " + file + " must be a string");
  };
  FlagValues out;
  const fs::path base = fs::path(file).parent_path();
  for (const auto& [key, value] : doc.items()) {
    auto it = kKeys.find(key);
    if (it == kKeys.end()) return unknown_key(key);
    if (!value.is_string()) return not_a_string(key);
    std::string v = value.get<std::string>();
    const bool is_path =
        key == "CertFile" || key == "KeyFile" || key == "TokenFile" || key == "PluginDir";
    if (is_path && !v.empty() && fs::path(v).is_relative()) v = (base / v).string();
    out[it->second] = v;
  }
  return out;
}

std::string Pick(const FlagValues& flags, const FlagValues& file, const std::string& flag,
                 const char* env) {
  if (auto it = flags.find(flag); it != flags.end() && !it->second.empty()) return it->second;
  if (std::string v = Env(env); !v.empty()) return v;
  if (auto it = file.find(flag); it != file.end()) return it->second;
  return {};
}

sdk::StatusCode CodeFromName(std::string_view name) {
  for (int i = 0; i <= 14; ++i) {
    const auto code = static_cast<sdk::StatusCode>(i);
    if (sdk::StatusCodeName(code) == name) return code;
  }
  return sdk::StatusCode::kInternal;
}

// The transport's own words, plus what to do about it (SSIS troubleshooting 2.8).
Status Explain(const Status& status, const ConnectionSettings& settings) {
  switch (status.code()) {
    case sdk::StatusCode::kUnavailable:
    case sdk::StatusCode::kDeadlineExceeded:
      return Status(status.code(), "cannot reach the master at " + settings.master + ": " +
                                       status.message() +
                                       "\n  Is 'scaleout master' running there? Check --master / "
                                       "SCALEOUT_MASTER (host and PortNumber) and the firewall.");
    case sdk::StatusCode::kUnauthenticated:
      return Status(status.code(),
                    "TLS trust failure with " + settings.master + ": " + status.message() +
                        "\n  The pin (--master-thumbprint / SCALEOUT_MASTER_THUMBPRINT) must be "
                        "the SHA-256 or SHA-1 thumbprint of the master's SSLCertFile: 'scaleout "
                        "cert thumbprint master.crt' prints it.");
    default: return status;
  }
}

}  // namespace

sdk::Result<ConnectionSettings> ResolveConnection(const FlagValues& flags) {
  FlagValues file;
  std::string config =
      flags.contains("config") ? flags.at("config") : Env("SCALEOUT_MANAGE_CONFIG");
  if (!config.empty()) {
    SCALEOUT_ASSIGN_OR_RETURN(file, ReadConnectionFile(config));
  }
  ConnectionSettings s;
  s.master = Pick(flags, file, "master", "SCALEOUT_MASTER");
  s.master_thumbprint = Pick(flags, file, "master-thumbprint", "SCALEOUT_MASTER_THUMBPRINT");
  s.cert_file = Pick(flags, file, "cert", "SCALEOUT_CERT_FILE");
  s.key_file = Pick(flags, file, "key", "SCALEOUT_KEY_FILE");
  s.token = Pick(flags, file, "token", "SCALEOUT_TOKEN");
  s.plugin_dir = Pick(flags, file, "plugin-dir", "SCALEOUT_PLUGIN_DIR");
  if (s.token.empty()) {
    const std::string token_file = Pick(flags, file, "token-file", "SCALEOUT_TOKEN_FILE");
    if (!token_file.empty()) {
      SCALEOUT_ASSIGN_OR_RETURN(s.token, ReadTokenFile(token_file));
    }
  }
  if (s.cert_file.empty() != s.key_file.empty()) {
    return Status::InvalidArgument(
        "--cert and --key go together: give the certificate and its key");
  }
  return s;
}

sdk::Status CheckConnection(const ConnectionSettings& s) {
  if (s.master.empty()) {
    return Status::InvalidArgument(
        "no master given: use --master https://HOST:PORT, SCALEOUT_MASTER, or 'Master' in a "
        "--config file");
  }
  if (s.master_thumbprint.empty()) {
    return Status::InvalidArgument(
        "no master thumbprint given: use --master-thumbprint, SCALEOUT_MASTER_THUMBPRINT or "
        "'MasterThumbprint' (the SHA-256 of the master certificate: 'scaleout cert thumbprint "
        "master.crt', also printed by 'scaleout master init')");
  }
  if (s.master.rfind("tcp://", 0) == 0) {
    // transport/zmq: the pin is the master's CURVE public key.
    if (!core::security::Z85DecodeKey(s.master_thumbprint)) {
      return Status::InvalidArgument(
          "for a tcp:// (zmq) master, --master-thumbprint is the master's CURVE public key (40 "
          "Z85 characters): 'scaleout cert curve public' prints it");
    }
  } else if (auto pin = core::security::NormalizePin(s.master_thumbprint); !pin.ok()) {
    return pin.status();
  }
  if (s.token.empty() && s.cert_file.empty()) {
    return Status::InvalidArgument(
        "no credential given: use --token (or SCALEOUT_TOKEN / --token-file), or a principal's "
        "--cert and --key");
  }
  return Status::Ok();
}

ManageClient::~ManageClient() {
  client_.reset();
  if (transport_) transport_->Stop();
}

sdk::Result<std::unique_ptr<ManageClient>> ManageClient::Create(
    const ConnectionSettings& settings) {
  std::unique_ptr<ManageClient> c(new ManageClient());
  c->settings_ = settings;
  c->logger_ = std::make_unique<sdk::NullLogger>();
  c->loader_ = std::make_unique<PluginLoader>(*c->logger_);
  const fs::path dir =
      settings.plugin_dir.empty() ? DefaultPluginDir() : fs::path(settings.plugin_dir);
  (void)c->loader_->LoadDirectory(dir);
  const std::string scheme = settings.master.substr(0, settings.master.find("://"));
  const std::string name = scheme == "tcp" ? "zmq" : scheme;
  static const sdk::ConfigView::Map kEmpty;
  auto transport = c->loader_->CreateTransport(name, sdk::ConfigView(kEmpty, "transport." + name));
  if (!transport.ok()) {
    return transport.status().WithContext("loading the transport for " + settings.master +
                                          " from " + dir.string());
  }
  c->transport_ = std::move(transport).value();
  SCALEOUT_RETURN_IF_ERROR(c->transport_->Start());
  sdk::ClientOptions options;
  options.endpoint = settings.master;
  options.cert_file = settings.cert_file;
  options.key_file = settings.key_file;
  options.pinned_server_ids = {settings.master_thumbprint};
  auto client = c->transport_->Connect(options);
  if (!client.ok()) return Explain(client.status(), settings);
  c->client_ = std::move(client).value();
  return c;
}

sdk::Result<json> ManageClient::Call(std::string_view operation, const json& args) {
  const std::string body = args.dump();
  sdk::ClientRequest request;
  request.method = "POST";
  request.target = "/api/v1/" + std::string(operation);
  request.content_type = "application/json";
  if (!settings_.token.empty()) request.authorization = "Bearer " + settings_.token;
  request.body = body;
  request.timeout = std::chrono::milliseconds(120'000);
  auto response = client_->Call(request);
  if (!response.ok()) return Explain(response.status(), settings_);
  json doc = json::parse(response->body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::Internal("the master answered " + std::to_string(response->status) +
                            " with a body that is not JSON; is " + settings_.master +
                            " a scaleout master?");
  }
  if (doc.contains("error")) {
    const json& error = doc["error"];
    return Status(CodeFromName(error.value("code", "internal")), error.value("message", ""));
  }
  if (!doc.contains("result")) return Status::Internal("the master's answer has no result");
  return doc["result"];
}

}  // namespace scaleout::host
