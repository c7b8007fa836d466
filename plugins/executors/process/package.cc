#include "plugins/executors/process/package.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include <nlohmann/json.hpp>

extern char** environ;

namespace scaleout::plugins::process {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view kReservedPrefix = "SCALEOUT_";
constexpr const char* kMinimalPath = "/usr/local/bin:/usr/bin:/bin";

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// A relative name with no "..", "." or empty component: it cannot leave the project.
sdk::Status CheckPackageName(std::string_view name) {
  if (name.empty()) return sdk::Status::InvalidArgument("the task names no package");
  if (name.front() == '/') {
    return sdk::Status::InvalidArgument("package name '" + std::string(name) +
                                        "' must be relative to the project dir");
  }
  for (const auto& part : fs::path(name)) {
    if (part == ".." || part == "." || part.empty()) {
      return sdk::Status::InvalidArgument("package name '" + std::string(name) +
                                          "' must not contain '.', '..' or empty components");
    }
  }
  return sdk::Status::Ok();
}

// The file must exist, be a regular file and (unless a manifest) executable.
sdk::Status CheckFile(const std::string& path, std::string_view what, bool executable) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return sdk::Status::NotFound(std::string(what) + " '" + path +
                                 "' not found: " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return sdk::Status::FailedPrecondition(std::string(what) + " '" + path +
                                           "' is not a regular file");
  }
  if (executable && ::access(path.c_str(), X_OK) != 0) {
    return sdk::Status::FailedPrecondition(std::string(what) + " '" + path +
                                           "' is not executable (chmod +x it)");
  }
  return sdk::Status::Ok();
}

// `left`, `separator`, `right` in one allocation.
std::string Joined(std::string_view left, char separator, std::string_view right) {
  std::string out;
  out.reserve(left.size() + 1 + right.size());
  out.append(left);
  out += separator;
  out.append(right);
  return out;
}

sdk::Result<std::string> FindInPath(const std::string& name, std::string_view path_env) {
  std::size_t start = 0;
  while (start <= path_env.size()) {
    std::size_t end = path_env.find(':', start);
    if (end == std::string_view::npos) end = path_env.size();
    std::string dir(path_env.substr(start, end - start));
    if (dir.empty()) dir = ".";
    const std::string candidate = Joined(dir, '/', name);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return sdk::Status::NotFound("command '" + name + "' not found in PATH '" +
                               std::string(path_env) + "'");
}

sdk::Result<std::string> ReadSmallFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sdk::Status::NotFound("cannot open '" + path + "': " + std::strerror(errno));
  std::string text;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxManifestBytes) {
      ::close(fd);
      return sdk::Status::InvalidArgument("manifest '" + path + "' is larger than " +
                                          std::to_string(kMaxManifestBytes) + " bytes");
    }
  }
  ::close(fd);
  return text;
}

bool ValidEnvName(std::string_view name) {
  return !name.empty() && name.find('=') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

sdk::Status ParseEnv(const json& env, EnvMap* out) {
  if (!env.is_object()) return sdk::Status::InvalidArgument("manifest 'env' must be an object");
  for (const auto& [key, value] : env.items()) {
    if (!ValidEnvName(key)) {
      return sdk::Status::InvalidArgument("manifest env name '" + key + "' is not a valid name");
    }
    if (key.compare(0, kReservedPrefix.size(), kReservedPrefix) == 0) {
      return sdk::Status::InvalidArgument("manifest env name '" + key +
                                          "' is reserved (SCALEOUT_* is set by the executor)");
    }
    if (!value.is_string()) {
      return sdk::Status::InvalidArgument("manifest env value of '" + key + "' must be a string");
    }
    (*out)[key] = value.get<std::string>();
  }
  return sdk::Status::Ok();
}

}  // namespace

std::string EnvVarName(std::string_view prefix, std::string_view parameter_name) {
  std::string name(prefix);
  for (char c : parameter_name) {
    if (c >= 'a' && c <= 'z') {
      name += static_cast<char>(c - 'a' + 'A');
    } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      name += c;
    } else {
      name += '_';
    }
  }
  return name;
}

sdk::Result<Command> ParseManifest(std::string_view text, const std::string& project_dir,
                                   std::string_view path_env) {
  const json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return sdk::Status::InvalidArgument("manifest is not valid JSON");
  if (!root.is_object()) return sdk::Status::InvalidArgument("manifest must be a JSON object");
  Command command;
  for (const auto& [key, value] : root.items()) {
    if (key == "command") {
      if (!value.is_array() || value.empty()) {
        return sdk::Status::InvalidArgument(
            "manifest 'command' must be a non-empty array of strings");
      }
      for (const json& arg : value) {
        if (!arg.is_string()) {
          return sdk::Status::InvalidArgument("manifest 'command' must contain only strings");
        }
        command.args.push_back(arg.get<std::string>());
      }
    } else if (key == "env") {
      SCALEOUT_RETURN_IF_ERROR(ParseEnv(value, &command.env));
    } else if (key == "timeout_s") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 0) {
        return sdk::Status::InvalidArgument("manifest 'timeout_s' must be a non-negative integer");
      }
      command.timeout_s = value.get<std::int64_t>();
    } else {
      return sdk::Status::InvalidArgument("manifest key '" + key +
                                          "' is unknown; known keys: command, env, timeout_s");
    }
  }
  if (command.args.empty()) return sdk::Status::InvalidArgument("manifest lacks 'command'");
  const std::string& program = command.args.front();
  if (program.empty()) return sdk::Status::InvalidArgument("manifest command[0] is empty");
  if (program.front() == '/') {
    command.program = program;
  } else if (program.find('/') != std::string::npos) {
    command.program = (fs::path(project_dir) / program).string();
  } else {
    SCALEOUT_ASSIGN_OR_RETURN(command.program, FindInPath(program, path_env));
  }
  SCALEOUT_RETURN_IF_ERROR(CheckFile(command.program, "command", /*executable=*/true));
  return command;
}

sdk::Result<Command> ResolvePackage(const sdk::TaskSpec& task, std::string_view path_env) {
  SCALEOUT_RETURN_IF_ERROR(CheckPackageName(task.package_name));
  const std::string path = (fs::path(task.project_dir) / task.package_name).string();
  if (EndsWith(task.package_name, kManifestSuffix)) {
    SCALEOUT_RETURN_IF_ERROR(CheckFile(path, "manifest", /*executable=*/false));
    SCALEOUT_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
    auto command = ParseManifest(text, task.project_dir, path_env);
    if (!command.ok()) return command.status().WithContext("package '" + task.package_name + "'");
    return command;
  }
  SCALEOUT_RETURN_IF_ERROR(CheckFile(path, "package", /*executable=*/true));
  Command command;
  command.program = path;
  command.args = {path};
  return command;
}

sdk::Result<Command> PackageResolver::Resolve(const sdk::TaskSpec& task,
                                              std::string_view path_env) {
  if (!EndsWith(task.package_name, kManifestSuffix)) return ResolvePackage(task, path_env);
  SCALEOUT_RETURN_IF_ERROR(CheckPackageName(task.package_name));
  const std::string path = Joined(task.project_dir, '/', task.package_name);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ResolvePackage(task, path_env);  // its error
  auto nanos = [](const timespec& t) {
    return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
  };
  const FileIdentity file{
      static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
      static_cast<std::int64_t>(st.st_size), nanos(st.st_ctim), nanos(st.st_mtim)};
  auto it = manifests_.find(path);
  if (it != manifests_.end() && it->second.file == file && it->second.path_env == path_env) {
    SCALEOUT_RETURN_IF_ERROR(CheckFile(it->second.command.program, "command", /*executable=*/true));
    return it->second.command;
  }
  SCALEOUT_ASSIGN_OR_RETURN(Command command, ResolvePackage(task, path_env));
  if (manifests_.size() >= kMaxCachedManifests) manifests_.clear();
  manifests_[path] = Cached{file, std::string(path_env), command};
  return command;
}

namespace {

// What a task sets over the base environment: the manifest's "env", the
// task's own SCALEOUT_* variables, and its parameters (collision rule in
// package.h).
sdk::Result<EnvMap> TaskVariables(const sdk::TaskSpec& task, const EnvMap& manifest_env) {
  EnvMap env = manifest_env;
  env["SCALEOUT_EXECUTION_ID"] = std::to_string(task.execution_id);
  env["SCALEOUT_TASK_ID"] = task.task_id;
  env["SCALEOUT_ATTEMPT"] = std::to_string(task.attempt);
  env["SCALEOUT_WORK_DIR"] = task.work_dir;
  env["SCALEOUT_PROJECT_DIR"] = task.project_dir;
  env["SCALEOUT_PACKAGE"] = task.package_name;
  env["SCALEOUT_LOGGING_LEVEL"] = std::to_string(task.logging_level);

  // Which parameter set each variable, to apply the collision rule.
  std::map<std::string, const sdk::ExecutionParameter*> owner;
  for (const sdk::ExecutionParameter& p : task.parameters) {
    std::string_view prefix;
    switch (p.object_type) {
      case sdk::ParameterObjectType::kProject:
      case sdk::ParameterObjectType::kPackage: prefix = "SCALEOUT_PARAM_"; break;
      case sdk::ParameterObjectType::kSystem: prefix = "SCALEOUT_SYS_"; break;
      default:
        return sdk::Status::InvalidArgument("parameter '" + p.name + "' has unknown object type " +
                                            std::to_string(static_cast<int>(p.object_type)));
    }
    if (p.name.empty()) return sdk::Status::InvalidArgument("a parameter has an empty name");
    if (p.value.find('\0') != std::string::npos) {
      return sdk::Status::InvalidArgument(
          "parameter '" + p.name +
          "' contains a NUL byte, which an environment variable cannot hold");
    }
    const std::string name = EnvVarName(prefix, p.name);
    auto [it, inserted] = owner.emplace(name, &p);
    if (!inserted) {
      const sdk::ExecutionParameter& other = *it->second;
      if (other.object_type == p.object_type) {
        return sdk::Status::InvalidArgument("parameters '" + other.name + "' and '" + p.name +
                                            "' both map to " + name + "; rename one");
      }
      // Project vs package: the package parameter wins, whatever the order.
      if (p.object_type != sdk::ParameterObjectType::kPackage) continue;
      it->second = &p;
    }
    env[name] = p.value;
  }
  return env;
}

}  // namespace

PackageEnvironment::PackageEnvironment(EnvMap base) : base_(std::move(base)) {
  joined_.reserve(base_.size());
  for (const auto& [key, value] : base_) joined_.push_back(Joined(key, '=', value));
}

sdk::Result<std::vector<char*>> PackageEnvironment::ForTask(const sdk::TaskSpec& task,
                                                            const EnvMap& manifest_env,
                                                            std::vector<std::string>* own) const {
  SCALEOUT_ASSIGN_OR_RETURN(const EnvMap env, TaskVariables(task, manifest_env));
  own->clear();
  own->reserve(env.size());
  for (const auto& [key, value] : env) own->push_back(Joined(key, '=', value));
  std::vector<char*> pointers;
  pointers.reserve(joined_.size() + own->size() + 1);
  // Both maps are sorted by name: one walk finds the base's names the task
  // does not set.
  auto set = env.begin();
  std::size_t i = 0;
  for (const auto& entry : base_) {
    while (set != env.end() && set->first < entry.first) ++set;
    if (set == env.end() || set->first != entry.first) {
      pointers.push_back(const_cast<char*>(joined_[i].c_str()));
    }
    ++i;
  }
  for (std::string& entry : *own) pointers.push_back(entry.data());
  pointers.push_back(nullptr);
  return pointers;
}

EnvMap BaseEnvironment(bool inherit) {
  EnvMap env;
  if (!inherit) {
    env["PATH"] = kMinimalPath;
    return env;
  }
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::size_t eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    const std::string_view key = text.substr(0, eq);
    if (key.substr(0, kReservedPrefix.size()) == kReservedPrefix) continue;
    env.emplace(std::string(key), std::string(text.substr(eq + 1)));
  }
  if (env.find("PATH") == env.end()) env["PATH"] = kMinimalPath;
  return env;
}

}  // namespace scaleout::plugins::process
