// Package: what the process executor runs for a TaskSpec, and with what
// environment.
//
// A package is either an executable file of the project (`load.sh`), run
// directly with no arguments and no shell, or a manifest `<name>.cmd.json`:
//   {"command": ["/bin/sh", "-c", "..."], "env": {"K": "V"}, "timeout_s": 0}
// command[0] is an absolute path, a path relative to the project dir when it
// contains '/', or a name looked up in the package environment's PATH.
// Unknown manifest keys are refused, so a typo is an error.
//
// Parameters reach the package as environment variables (docs/executors.md):
//   SCALEOUT_PARAM_<NAME>  project (20) and package (30) parameters
//   SCALEOUT_SYS_<NAME>    system (50) parameters
// <NAME> is the parameter name upper-cased with every byte outside [A-Za-z0-9]
// replaced by '_'. A package parameter wins over a project parameter with the
// same variable name; two parameters of the same object type that map to the
// same name are refused (kInvalidArgument naming both).
//
// Thread-safety: pure functions, but for PackageResolver (below).
#ifndef SCALEOUT_PLUGINS_EXECUTORS_PROCESS_PACKAGE_H_
#define SCALEOUT_PLUGINS_EXECUTORS_PROCESS_PACKAGE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/executor.h"
#include "scaleout/sdk/status.h"

namespace scaleout::plugins::process {

inline constexpr std::string_view kManifestSuffix = ".cmd.json";
inline constexpr std::size_t kMaxManifestBytes = 1u << 20;

using EnvMap = std::map<std::string, std::string>;

struct Command {
  std::string program;            // absolute or project-relative path, resolved
  std::vector<std::string> args;  // argv, args[0] included
  EnvMap env;                     // manifest "env" (not yet merged)
  std::int64_t timeout_s = 0;     // 0: none
};

// "SCALEOUT_PARAM_" + "my.param" -> "SCALEOUT_PARAM_MY_PARAM".
std::string EnvVarName(std::string_view prefix, std::string_view parameter_name);

// Checks the package path and, for a manifest, parses it. `path_env` is the
// PATH to search for a bare command name. Errors: kInvalidArgument (a name
// that escapes the project, a bad manifest), kNotFound (no such file or
// command), kFailedPrecondition (not executable, not a regular file).
sdk::Result<Command> ResolvePackage(const sdk::TaskSpec& task, std::string_view path_env);

// ResolvePackage, remembering parsed manifests: a manifest whose file is the
// same (device, inode, size, change and modification times) is not read and
// parsed again; its command's program is still checked each time. Bounded
// (kMaxCachedManifests; full, it starts over). Thread-safety: one thread at
// a time, as the executor's Run.
class PackageResolver {
 public:
  static constexpr std::size_t kMaxCachedManifests = 256;
  sdk::Result<Command> Resolve(const sdk::TaskSpec& task, std::string_view path_env);

 private:
  // What stat() says of a file that changes when its content does.
  struct FileIdentity {
    std::uint64_t device = 0, inode = 0;
    std::int64_t size = 0, changed_ns = 0, modified_ns = 0;
    bool operator==(const FileIdentity&) const = default;
  };
  struct Cached {
    FileIdentity file;
    std::string path_env;
    Command command;
  };
  std::map<std::string, Cached> manifests_;  // by manifest path
};

// Parses manifest text; `project_dir` and `path_env` resolve command[0].
sdk::Result<Command> ParseManifest(std::string_view text, const std::string& project_dir,
                                   std::string_view path_env);

// The environments of many packages over one base: the base's entries are
// joined ("NAME=value") once, not for every task (a warm task host runs
// thousands with one executor, and an inherited environment has tens of
// variables). Thread-safety: immutable after construction.
class PackageEnvironment {
 public:
  // `base` is the inherited environment (or the minimal one).
  explicit PackageEnvironment(EnvMap base);
  const EnvMap& base() const { return base_; }
  // The task's environment for execve(), null-terminated: the base's entries
  // the task does not set, then what the task sets (the manifest's "env",
  // SCALEOUT_* task variables, parameters), each name once. `*own` receives
  // the task's strings; the pointers are valid while this object and `*own`
  // are. Errors: kInvalidArgument for a bad parameter (collision, empty
  // name, NUL byte, unknown object type).
  sdk::Result<std::vector<char*>> ForTask(const sdk::TaskSpec& task, const EnvMap& manifest_env,
                                          std::vector<std::string>* own) const;

 private:
  EnvMap base_;
  std::vector<std::string> joined_;  // base_'s entries, in its order
};

// Our own process environment minus every SCALEOUT_* name that we set, so a
// package never sees a stale parameter; or the minimal one when !inherit.
EnvMap BaseEnvironment(bool inherit);

}  // namespace scaleout::plugins::process

#endif  // SCALEOUT_PLUGINS_EXECUTORS_PROCESS_PACKAGE_H_
