#include "core/taskhost/spec_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/common/json_writer.h"

namespace scaleout::core::taskhost {
namespace {

using nlohmann::json;

std::string Errno(std::string_view what, const std::string& path) {
  return std::string(what) + " '" + path + "': " + std::strerror(errno);
}

// Reads `object[name]` as T; kInvalidArgument naming `where.name` otherwise.
// Absent optional fields keep *out unchanged.
template <typename T>
sdk::Status Get(const json& object, std::string_view where, const char* name, bool required,
                T* out) {
  auto it = object.find(name);
  const std::string field = std::string(where) + name;
  if (it == object.end()) {
    return required ? sdk::Status::InvalidArgument("spec lacks '" + field + "'")
                    : sdk::Status::Ok();
  }
  bool ok = false;
  if constexpr (std::is_same_v<T, std::string>) {
    ok = it->is_string();
  } else if constexpr (std::is_same_v<T, bool>) {
    ok = it->is_boolean();
  } else {
    ok = it->is_number_integer();
  }
  if (!ok) return sdk::Status::InvalidArgument("spec field '" + field + "' has the wrong type");
  *out = it->get<T>();
  return sdk::Status::Ok();
}

sdk::Result<sdk::ExecutionParameter> ParameterFromJson(const json& p, std::size_t index) {
  const std::string where = "parameters[" + std::to_string(index) + "].";
  if (!p.is_object())
    return sdk::Status::InvalidArgument("spec field '" + where + "' is not an object");
  sdk::ExecutionParameter parameter;
  int type = 0;
  SCALEOUT_RETURN_IF_ERROR(Get(p, where, "object_type", true, &type));
  if (type != 20 && type != 30 && type != 50) {
    return sdk::Status::InvalidArgument("spec field '" + where +
                                        "object_type' must be 20, 30 or 50");
  }
  parameter.object_type = static_cast<sdk::ParameterObjectType>(type);
  SCALEOUT_RETURN_IF_ERROR(Get(p, where, "name", true, &parameter.name));
  SCALEOUT_RETURN_IF_ERROR(Get(p, where, "value", true, &parameter.value));
  SCALEOUT_RETURN_IF_ERROR(Get(p, where, "data_type", false, &parameter.data_type));
  SCALEOUT_RETURN_IF_ERROR(Get(p, where, "sensitive", false, &parameter.sensitive));
  return parameter;
}

sdk::Result<TaskHostSpec> FromJsonObject(const json& root) {
  if (!root.is_object()) return sdk::Status::InvalidArgument("spec is not a JSON object");
  TaskHostSpec spec;
  auto task_it = root.find("task");
  if (task_it == root.end() || !task_it->is_object()) {
    return sdk::Status::InvalidArgument("spec lacks the 'task' object");
  }
  const json& t = *task_it;
  sdk::TaskSpec& task = spec.task;
  SCALEOUT_RETURN_IF_ERROR(Get(t, "task.", "execution_id", true, &task.execution_id));
  SCALEOUT_RETURN_IF_ERROR(Get(t, "task.", "task_id", true, &task.task_id));
  SCALEOUT_RETURN_IF_ERROR(Get(t, "task.", "attempt", true, &task.attempt));
  SCALEOUT_RETURN_IF_ERROR(Get(t, "task.", "project_dir", true, &task.project_dir));
  SCALEOUT_RETURN_IF_ERROR(Get(t, "task.", "package_name", true, &task.package_name));
  SCALEOUT_RETURN_IF_ERROR(Get(t, "task.", "work_dir", true, &task.work_dir));
  SCALEOUT_RETURN_IF_ERROR(Get(t, "task.", "logging_level", false, &task.logging_level));
  if (auto it = t.find("parameters"); it != t.end()) {
    if (!it->is_array())
      return sdk::Status::InvalidArgument("spec field 'task.parameters' is not an array");
    for (std::size_t i = 0; i < it->size(); ++i) {
      SCALEOUT_ASSIGN_OR_RETURN(auto parameter, ParameterFromJson((*it)[i], i));
      task.parameters.push_back(std::move(parameter));
    }
  }
  if (auto it = root.find("executor_config"); it != root.end()) {
    if (!it->is_object())
      return sdk::Status::InvalidArgument("spec field 'executor_config' is not an object");
    for (const auto& [key, value] : it->items()) {
      if (!value.is_string()) {
        return sdk::Status::InvalidArgument("spec field 'executor_config." + key +
                                            "' is not a string");
      }
      spec.executor_config[key] = value.get<std::string>();
    }
  }
  SCALEOUT_RETURN_IF_ERROR(Get(root, "", "log_file", false, &spec.log_file));
  SCALEOUT_RETURN_IF_ERROR(Get(root, "", "log_level", false, &spec.log_level));
  SCALEOUT_RETURN_IF_ERROR(Get(root, "", "parent_death_signal", false, &spec.parent_death_signal));
  SCALEOUT_RETURN_IF_ERROR(Get(root, "", "parent_pid", false, &spec.parent_pid));
  return spec;
}

}  // namespace

// Written directly rather than through a json DOM (one allocation per node):
// the worker builds one per task, and the DOM was a tenth of its CPU.
std::string SpecToJson(const TaskHostSpec& spec) {
  const sdk::TaskSpec& task = spec.task;
  std::string out;
  out.reserve(512);
  JsonWriter w(out);
  w.Begin('{');
  w.Key("task");
  w.Begin('{');
  w.Int("execution_id", task.execution_id);
  w.Text("task_id", task.task_id);
  w.Int("attempt", task.attempt);
  w.Text("project_dir", task.project_dir);
  w.Text("package_name", task.package_name);
  w.Text("work_dir", task.work_dir);
  w.Int("logging_level", task.logging_level);
  w.Key("parameters");
  w.Begin('[');
  for (const sdk::ExecutionParameter& p : task.parameters) {
    w.Begin('{');
    w.Int("object_type", static_cast<int>(p.object_type));
    w.Text("name", p.name);
    w.Text("value", p.value);
    w.Text("data_type", p.data_type);
    w.Bool("sensitive", p.sensitive);
    w.End('}');
  }
  w.End(']');
  w.End('}');
  w.Key("executor_config");
  w.Begin('{');
  for (const auto& [key, value] : spec.executor_config) w.Text(key, value);
  w.End('}');
  w.Text("log_file", spec.log_file);
  w.Int("log_level", spec.log_level);
  w.Int("parent_death_signal", spec.parent_death_signal);
  w.Int("parent_pid", spec.parent_pid);
  w.End('}');
  return out;
}

sdk::Result<TaskHostSpec> SpecFromJson(std::string_view text) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return sdk::Status::InvalidArgument("spec is not valid JSON");
  return FromJsonObject(root);
}

sdk::Result<TaskHostSpec> SpecFromJsonValue(const json& root) { return FromJsonObject(root); }

sdk::Status WriteSpecFile(const std::string& path, const TaskHostSpec& spec) {
  // A stale file (an earlier start of the same task) or a planted symlink
  // goes first; O_EXCL|O_NOFOLLOW then guarantees we write a fresh 0600 file.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return sdk::Status::Internal(Errno("cannot remove stale spec file", path));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return sdk::Status::Internal(Errno("cannot create spec file", path));
  const std::string text = SpecToJson(spec);
  std::string_view rest = text;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string message = Errno("cannot write spec file", path);
      ::close(fd);
      ::unlink(path.c_str());
      return sdk::Status::Internal(message);
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::close(fd) != 0) return sdk::Status::Internal(Errno("cannot close spec file", path));
  return sdk::Status::Ok();
}

sdk::Result<TaskHostSpec> ReadSpecFile(const std::string& path, bool remove) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT ? sdk::Status::NotFound(Errno("cannot open spec file", path))
                           : sdk::Status::InvalidArgument(Errno("cannot open spec file", path));
  }
  std::string text;
  char buffer[65536];
  sdk::Status status;
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = sdk::Status::InvalidArgument(Errno("cannot read spec file", path));
      break;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxSpecFileBytes) {
      status = sdk::Status::InvalidArgument("spec file '" + path + "' is larger than " +
                                            std::to_string(kMaxSpecFileBytes) + " bytes");
      break;
    }
  }
  ::close(fd);
  if (remove) ::unlink(path.c_str());
  if (!status.ok()) return status;
  auto spec = SpecFromJson(text);
  if (!spec.ok()) return spec.status().WithContext("spec file '" + path + "'");
  return spec;
}

}  // namespace scaleout::core::taskhost
