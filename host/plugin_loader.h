// PluginLoader: finds plugin libraries, checks them, and creates instances.
//
// Discovery reads each library's descriptor without calling create(), so
// `scaleout plugins list` can show broken plugins next to good ones. Loading
// follows the SDK's ABI rules (scaleout/sdk/plugin.h) and refuses a library
// with a one-line reason that names the file.
//
// Lifetime: each library is opened once (RTLD_NOW | RTLD_LOCAL) and kept in a
// shared_ptr. Every instance returned by Create() holds that shared_ptr in
// its deleter, so a library stays loaded for as long as any object it made is
// alive, even after the PluginLoader itself is gone.
//
// Thread-safety: load and create from one thread at start-up (as the design
// says); the instances themselves follow their interface's rules.
#ifndef SCALEOUT_HOST_PLUGIN_LOADER_H_
#define SCALEOUT_HOST_PLUGIN_LOADER_H_

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "scaleout/sdk/config.h"
#include "scaleout/sdk/executor.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/plugin.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/storage.h"
#include "scaleout/sdk/transport.h"

namespace scaleout::host {

class LoadedLibrary;  // an open library plus its checked descriptor

// Destroys an instance through its plugin's destroy() and keeps the library
// loaded until then. It lets go of the library right after destroy(), so
// `ptr.reset()` can unload it; a PluginPtr therefore holds one instance for
// its whole life (never reset() it to another raw pointer).
class PluginDeleter {
 public:
  PluginDeleter() = default;
  explicit PluginDeleter(std::shared_ptr<const LoadedLibrary> library);
  void operator()(void* instance) const noexcept;

 private:
  // mutable: unique_ptr calls a const deleter, which drops the reference.
  mutable std::shared_ptr<const LoadedLibrary> library_;
};

template <typename T>
using PluginPtr = std::unique_ptr<T, PluginDeleter>;

// What discovery found about one file.
struct PluginInfo {
  std::filesystem::path file;
  std::string kind;     // "transport", "storage", "executor" ("" if unreadable)
  std::string name;     // "sqlite"
  std::string version;  // the plugin's version
  std::string description;
  std::string abi;                   // "1.0"
  std::string fingerprint;           // the plugin's build fingerprint ("" if unreadable)
  bool fingerprint_matches = false;  // equals HostBuildFingerprint()
  bool loadable = false;             // passes every check that does not need create()
  std::string reason;                // why not loadable: one line naming the file
  std::string full_name() const { return kind + "/" + name; }
};

class PluginLoader {
 public:
  // `logger` is handed to every plugin instance at create(); it must outlive
  // the loader and every instance the loader creates.
  explicit PluginLoader(sdk::Logger& logger);
  ~PluginLoader();
  PluginLoader(const PluginLoader&) = delete;
  PluginLoader& operator=(const PluginLoader&) = delete;

  // Reads every libscaleout_*.so in `dir` (sorted by file name) without
  // calling create(). Never fails as a whole; each entry says if it is usable.
  std::vector<PluginInfo> Discover(const std::filesystem::path& dir);

  // Loads every loadable plugin in `dir` and remembers it by kind/name.
  // Returns the refusals (also logged); a duplicate kind/name is refused.
  std::vector<PluginInfo> LoadDirectory(const std::filesystem::path& dir);

  // Loads one file. Errors: kNotFound, kInvalidArgument (not a plugin, missing
  // entry point), kFailedPrecondition (ABI or fingerprint mismatch),
  // kAlreadyExists (duplicate kind/name). The message names the file.
  sdk::Status LoadFile(const std::filesystem::path& file);

  // Creates an instance of a loaded plugin; `name` is "noop" or
  // "executor/noop". The instance keeps its library loaded. Errors: kNotFound (no such
  // kind/name; the message lists what is loaded), kInvalidArgument or the
  // plugin's own code when create() fails, kInternal when it threw.
  sdk::Result<PluginPtr<sdk::Transport>> CreateTransport(const std::string& name,
                                                         const sdk::ConfigView& config);
  sdk::Result<PluginPtr<sdk::Storage>> CreateStorage(const std::string& name,
                                                     const sdk::ConfigView& config);
  sdk::Result<PluginPtr<sdk::Executor>> CreateExecutor(const std::string& name,
                                                       const sdk::ConfigView& config);

  // "transport/https" ... for everything loaded, sorted.
  std::vector<std::string> LoadedNames() const;

  // What LoadFile/LoadDirectory accepted, by kind/name (loadable == true).
  std::vector<PluginInfo> LoadedPlugins() const;

 private:
  sdk::Result<void*> CreateRaw(sdk::PluginKind kind, const std::string& name,
                               const sdk::ConfigView& config,
                               std::shared_ptr<const LoadedLibrary>* library);

  sdk::Logger& logger_;
  std::map<std::string, std::shared_ptr<const LoadedLibrary>> loaded_;  // by kind/name
};

// The host's own fingerprint, to compare with each plugin's.
const char* HostBuildFingerprint();

// The default plugin folder: $SCALEOUT_PLUGIN_DIR, else <exe dir>/../lib/scaleout/plugins.
std::filesystem::path DefaultPluginDir();

}  // namespace scaleout::host

#endif  // SCALEOUT_HOST_PLUGIN_LOADER_H_
