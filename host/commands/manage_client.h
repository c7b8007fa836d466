// The connection of `scaleout manage` to a master: where it is, how to trust
// it, how to authenticate, and a client that calls the JSON API.
//
// Connection settings come from, in order of precedence: command-line flags,
// environment variables, then a connection file (--config FILE or
// $SCALEOUT_MANAGE_CONFIG):
//
//   flag                 environment                    file key
//   --master URL         SCALEOUT_MASTER                Master
//   --master-thumbprint  SCALEOUT_MASTER_THUMBPRINT     MasterThumbprint
//   --cert FILE          SCALEOUT_CERT_FILE             CertFile
//   --key FILE           SCALEOUT_KEY_FILE              KeyFile
//   --token TOKEN        SCALEOUT_TOKEN                 Token
//   --token-file FILE    SCALEOUT_TOKEN_FILE            TokenFile
//   --plugin-dir DIR     SCALEOUT_PLUGIN_DIR            PluginDir
//
// Thread-safety: ManageClient is used from one thread.
#ifndef SCALEOUT_HOST_COMMANDS_MANAGE_CLIENT_H_
#define SCALEOUT_HOST_COMMANDS_MANAGE_CLIENT_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/plugin_loader.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::host {

struct ConnectionSettings {
  std::string master;             // "https://host:8391"
  std::string master_thumbprint;  // the master certificate's SHA-256 (or SHA-1) pin
  std::string cert_file;
  std::string key_file;
  std::string token;
  std::string plugin_dir;
};

// Flag values by flag name without dashes ("master", "token").
using FlagValues = std::map<std::string, std::string>;

// Resolves flags > environment > file. Errors: kInvalidArgument (unreadable
// or malformed connection file, unknown key, --cert without --key, a token
// file that cannot be read), each naming its source.
sdk::Result<ConnectionSettings> ResolveConnection(const FlagValues& flags);

// Checks that enough is set to connect (master, pin, a credential).
// Errors: kInvalidArgument saying which setting is missing and where to set it.
sdk::Status CheckConnection(const ConnectionSettings& settings);

class ManageClient {
 public:
  // Loads the transport plugin for the URL's scheme and connects lazily.
  static sdk::Result<std::unique_ptr<ManageClient>> Create(const ConnectionSettings& settings);
  ~ManageClient();

  // Calls one management operation; returns its "result" document.
  // Errors carry the master's code and message, or a transport failure
  // rewritten for a person (master unreachable, certificate mismatch).
  sdk::Result<nlohmann::json> Call(std::string_view operation,
                                   const nlohmann::json& args = nlohmann::json::object());

  const ConnectionSettings& settings() const { return settings_; }

 private:
  ManageClient() = default;

  ConnectionSettings settings_;
  std::unique_ptr<sdk::Logger> logger_;
  std::unique_ptr<PluginLoader> loader_;
  PluginPtr<sdk::Transport> transport_;
  std::unique_ptr<sdk::Client> client_;
};

}  // namespace scaleout::host

#endif  // SCALEOUT_HOST_COMMANDS_MANAGE_CLIENT_H_
