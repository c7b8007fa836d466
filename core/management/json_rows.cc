#include "core/management/json_rows.h"

#include "core/common/clock.h"

namespace scaleout::core::management {

using nlohmann::json;

json TimeJson(std::optional<std::int64_t> unix_millis) {
  if (!unix_millis) return nullptr;
  return FormatUtc(*unix_millis);
}

namespace {

json OptText(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  return *text;
}

json OptInt(const std::optional<std::int64_t>& value) {
  if (!value) return nullptr;
  return *value;
}

void AddStatus(json& out, catalog::ExecutionStatus status) {
  out["status"] = static_cast<int>(status);
  out["status_name"] = std::string(catalog::StatusName(status));
}

}  // namespace

json ToJson(const catalog::WorkerAgent& w) {
  return json{{"worker_agent_id", w.worker_agent_id},
              {"is_enabled", w.is_enabled},
              {"is_online", w.is_online},
              {"display_name", w.display_name},
              {"description", w.description},
              {"machine_name", w.machine_name},
              {"tags", w.tags},
              {"user_account", w.user_account},
              {"last_online_time", TimeJson(w.last_online_time)},
              {"cert_sha256", w.cert_sha256},
              {"cert_sha1", w.cert_sha1},
              {"max_task_count", w.max_task_count},
              {"running_tasks", w.running_tasks},
              {"cpu_percent", w.cpu_percent},
              {"free_memory_mb", w.free_memory_mb}};
}

json ToJson(const catalog::Execution& e) {
  json out{{"execution_id", e.execution_id},       {"folder_name", e.folder_name},
           {"project_name", e.project_name},       {"package_name", e.package_name},
           {"project_lsn", e.project_lsn},         {"executed_as_name", e.executed_as_name},
           {"caller_name", e.caller_name},         {"created_time", TimeJson(e.created_time)},
           {"start_time", TimeJson(e.start_time)}, {"end_time", TimeJson(e.end_time)},
           {"use32bitruntime", e.use32bitruntime}, {"runinscaleout", e.runinscaleout},
           {"useanyworker", e.useanyworker},       {"retry_count", e.retry_count},
           {"executed_count", e.executed_count},   {"worker_agent_id", OptText(e.worker_agent_id)},
           {"stop_requested", e.stop_requested},   {"stopped_by_name", OptText(e.stopped_by_name)}};
  out["reference_id"] = OptInt(e.reference_id);  // the environment reference it ran with
  AddStatus(out, e.status);
  return out;
}

json ToJson(const catalog::Task& t) {
  json out{{"task_id", t.task_id},
           {"attempt", t.attempt},
           {"worker_agent_id", OptText(t.worker_agent_id)},
           {"created_time", TimeJson(t.created_time)},
           {"start_time", TimeJson(t.start_time)},
           {"end_time", TimeJson(t.end_time)},
           {"last_heartbeat", TimeJson(t.last_heartbeat)},
           {"exit_code", OptInt(t.exit_code)},
           {"result_message", t.result_message},
           {"server_only", t.server_only}};
  AddStatus(out, t.status);
  return out;
}

json ToJson(const catalog::ParameterValue& p) {
  return json{
      {"object_type", p.object_type}, {"parameter_name", p.parameter_name},
      {"data_type", p.data_type},     {"value", p.sensitive ? json(nullptr) : OptText(p.value)},
      {"sensitive", p.sensitive},     {"required", p.required},
      {"value_set", p.value_set}};
}

json ToJson(const catalog::Operation& o) {
  json out{{"operation_id", o.operation_id},
           {"operation_type", o.operation_type},
           {"created_time", TimeJson(o.created_time)},
           {"object_type", o.object_type},
           {"object_id", OptInt(o.object_id)},
           {"object_name", o.object_name},
           {"start_time", TimeJson(o.start_time)},
           {"end_time", TimeJson(o.end_time)},
           {"caller_name", o.caller_name},
           {"stopped_by_name", OptText(o.stopped_by_name)}};
  AddStatus(out, o.status);
  return out;
}

json ToJson(const catalog::EventMessage& m) {
  return json{{"event_message_id", m.event_message_id},   {"operation_id", m.operation_id},
              {"message_time", TimeJson(m.message_time)}, {"message_type", m.message_type},
              {"message_source", m.message_source},       {"message", m.message},
              {"package_name", m.package_name},           {"event_name", m.event_name}};
}

json ToJson(const catalog::Schedule& s) {
  json parameters = json::array();
  for (const auto& p : s.parameters) {
    parameters.push_back({{"object_type", p.object_type}, {"name", p.name}, {"value", p.value}});
  }
  return json{{"schedule_id", s.schedule_id},
              {"name", s.name},
              {"cron", s.cron_expression},
              {"folder_name", s.folder_name},
              {"project_name", s.project_name},
              {"package_name", s.package_name},
              {"parameters", parameters},
              {"runinscaleout", s.runinscaleout ? json(*s.runinscaleout) : json(nullptr)},
              {"reference_id", OptInt(s.reference_id)},
              {"useanyworker", s.useanyworker},
              {"retry_count", s.retry_count},
              {"enabled", s.enabled},
              {"last_fired_at", TimeJson(s.last_fired_at)},
              {"next_due_at", TimeJson(s.next_due_at)},
              {"created_time", TimeJson(s.created_time)}};
}

json ToJson(const catalog::Principal& p) {
  json out{{"name", p.name},
           {"credential_kind", p.credential_kind},
           {"roles", p.roles},
           {"created_time", TimeJson(p.created_time)}};
  if (p.credential_kind == catalog::kCredentialCertificate) out["cert_sha256"] = p.credential;
  return out;
}

json ToJson(const catalog::ProjectVersion& v) {
  return json{{"object_version_lsn", v.object_version_lsn},
              {"project_id", v.project_id},
              {"object_name", v.object_name},
              {"description", v.description},
              {"created_by", v.created_by},
              {"created_time", TimeJson(v.created_time)},
              {"restored_by", v.restored_by ? json(*v.restored_by) : json(nullptr)},
              {"last_restored_time", TimeJson(v.last_restored_time)},
              {"current", v.current},
              {"package_count", v.package_count}};
}

json ToJson(const FolderRow& f) {
  return json{{"folder_id", f.folder_id},
              {"name", f.name},
              {"description", f.description},
              {"created_by", f.created_by},
              {"created_time", TimeJson(f.created_time)}};
}

json ToJson(const ProjectRow& p) {
  return json{
      {"folder_name", p.folder_name},    {"project_name", p.project_name},
      {"project_id", p.project_id},      {"version", p.version},
      {"deployed_by", p.deployed_by},    {"last_deployed_time", TimeJson(p.last_deployed_time)},
      {"package_count", p.package_count}};
}

json ToJson(const PackageRow& p) {
  return json{{"folder_name", p.folder_name},   {"project_name", p.project_name},
              {"package_name", p.package_name}, {"version", p.version},
              {"entry_point", p.entry_point},   {"sha256", p.sha256},
              {"size_bytes", p.size_bytes}};
}

json ToJson(const catalog::Environment& e) {
  json variables = json::array();
  for (const catalog::EnvironmentVariable& v : e.variables) {
    variables.push_back(json{{"name", v.name},
                             {"data_type", v.data_type},
                             {"value", OptText(v.value)},
                             {"sensitive", v.sensitive},
                             {"description", v.description}});
  }
  return json{{"environment_id", e.environment_id},
              {"folder_name", e.folder_name},
              {"environment_name", e.name},
              {"description", e.description},
              {"created_time", TimeJson(e.created_time)},
              {"variables", std::move(variables)}};
}

json ToJson(const catalog::EnvironmentReference& r) {
  return json{{"reference_id", r.reference_id},
              {"folder_name", r.folder_name},
              {"project_name", r.project_name},
              {"reference_type", r.reference_type},
              {"environment_folder_name", OptText(r.environment_folder_name)},
              {"environment_name", r.environment_name}};
}

json ToJson(const catalog::ObjectParameter& p) {
  return json{{"object_type", p.object_type},
              {"object_name", p.object_name},
              {"parameter_name", p.parameter_name},
              {"data_type", p.data_type},
              {"required", p.required},
              {"sensitive", p.sensitive},
              {"design_default_value", OptText(p.design_default_value)},
              {"value_set", p.value_set},
              {"value_type", p.value_type},
              {"default_value", OptText(p.default_value)},
              {"referenced_variable_name", OptText(p.referenced_variable_name)}};
}

}  // namespace scaleout::core::management
