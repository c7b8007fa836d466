#include "core/management/metrics.h"

#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>

namespace scaleout::core::management {
namespace {

using nlohmann::json;

// Builds the page one metric family at a time: a HELP and TYPE line, then
// its samples.
class Page {
 public:
  void Family(std::string_view name, std::string_view help, std::string_view type = "gauge") {
    text_ += "# HELP ";
    text_ += name;
    text_ += ' ';
    text_ += help;
    text_ += "\n# TYPE ";
    text_ += name;
    text_ += ' ';
    text_ += type;
    text_ += '\n';
  }
  // A family of one sample without labels.
  void Single(std::string_view name, std::string_view help, double value,
              std::string_view type = "gauge") {
    Family(name, help, type);
    Sample(name, "", value);
  }
  void Sample(std::string_view name, std::string_view labels, double value) {
    text_ += name;
    if (!labels.empty()) {
      text_ += '{';
      text_ += labels;
      text_ += '}';
    }
    text_ += ' ';
    text_ += FormatValue(value);
    text_ += '\n';
  }
  std::string Take() { return std::move(text_); }

 private:
  // The shortest text that reads back as the same double ("1796625038.785",
  // not "1796625038.7850001").
  static std::string FormatValue(double value) {
    char buffer[32];
    auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return error == std::errc() ? std::string(buffer, end) : std::string("NaN");
  }
  std::string text_;
};

std::string Label(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + EscapeLabelValue(value) + "\"";
}

std::string StringField(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<double> NumberField(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  if (it->is_boolean()) return it->get<bool>() ? 1.0 : 0.0;
  if (it->is_number()) return it->get<double>();
  return std::nullopt;
}

void AddMasterFigures(const json& metrics, Page& page) {
  if (auto enabled = NumberField(metrics, "scaleout_enabled")) {
    page.Family("scaleout_scaleout_enabled", "1 when Scale Out is enabled in the catalog");
    page.Sample("scaleout_scaleout_enabled", "", *enabled);
  }
  if (auto it = metrics.find("default_execution_mode"); it != metrics.end() && it->is_string()) {
    page.Family("scaleout_default_execution_mode",
                "the catalog's DEFAULT_EXECUTION_MODE: 1 for the mode named");
    page.Sample("scaleout_default_execution_mode", Label("mode", it->get<std::string>()), 1);
  }
  auto master = metrics.find("master_properties");
  if (master != metrics.end() && master->is_object()) {
    if (auto seen = UtcTextToUnixSeconds(StringField(*master, "LAST_ONLINE_TIME"))) {
      page.Family("scaleout_master_last_online_timestamp_seconds",
                  "the master's last heartbeat (master_properties LAST_ONLINE_TIME)");
      page.Sample("scaleout_master_last_online_timestamp_seconds", "", *seen);
    }
  }
  auto workers = metrics.find("workers");
  if (workers != metrics.end() && workers->is_object()) {
    page.Family("scaleout_workers",
                "workers in the catalog, by state (a worker may count in several)");
    for (const char* state : {"total", "online", "enabled", "online_and_enabled"}) {
      if (auto n = NumberField(*workers, state))
        page.Sample("scaleout_workers", Label("state", state), *n);
    }
  }
  auto executions = metrics.find("executions_by_status");
  if (executions != metrics.end() && executions->is_object()) {
    page.Family("scaleout_executions", "executions in the catalog, by status");
    for (const auto& [status, count] : executions->items()) {
      if (count.is_number())
        page.Sample("scaleout_executions", Label("status", status), count.get<double>());
    }
  }
}

// One family per worker figure, a sample per worker.
void AddWorkerFigures(const json& metrics, Page& page) {
  auto rows = metrics.find("worker_agents");
  if (rows == metrics.end() || !rows->is_array() || rows->empty()) return;
  struct Figure {
    const char* name;
    const char* help;
    const char* field;
    double scale;
  };
  static constexpr Figure kFigures[] = {
      {"scaleout_worker_online", "1 when the worker's heartbeats arrive", "is_online", 1},
      {"scaleout_worker_enabled", "1 when the worker is enabled", "is_enabled", 1},
      {"scaleout_worker_running_tasks", "tasks the worker runs now", "running_tasks", 1},
      {"scaleout_worker_max_task_count", "the worker's MaxTaskCount", "max_task_count", 1},
      {"scaleout_worker_cpu_percent", "the worker's CPU use at its last heartbeat", "cpu_percent",
       1},
      {"scaleout_worker_free_memory_bytes", "the worker's free memory at its last heartbeat",
       "free_memory_mb", 1024.0 * 1024.0},
  };
  std::vector<std::string> labels;
  for (const json& row : *rows) {
    labels.push_back(Label("worker_agent_id", StringField(row, "worker_agent_id")) + "," +
                     Label("display_name", StringField(row, "display_name")) + "," +
                     Label("machine_name", StringField(row, "machine_name")));
  }
  for (const Figure& figure : kFigures) {
    page.Family(figure.name, figure.help);
    for (std::size_t i = 0; i < rows->size(); ++i) {
      if (auto value = NumberField((*rows)[i], figure.field)) {
        page.Sample(figure.name, labels[i], *value * figure.scale);
      }
    }
  }
  page.Family("scaleout_worker_last_online_timestamp_seconds", "the worker's last heartbeat");
  for (std::size_t i = 0; i < rows->size(); ++i) {
    if (auto seen = UtcTextToUnixSeconds(StringField((*rows)[i], "last_online_time"))) {
      page.Sample("scaleout_worker_last_online_timestamp_seconds", labels[i], *seen);
    }
  }
}

void AddRuntimeFigures(const MasterRuntime& runtime, Page& page) {
  if (const auto& w = runtime.writer) {
    struct Counter {
      const char* name;
      const char* help;
      std::uint64_t value;
    };
    const Counter counters[] = {
        {"scaleout_catalog_transactions_total", "catalog transactions committed", w->batches},
        {"scaleout_catalog_operations_total",
         "catalog operations in committed transactions (group commit: many per transaction)",
         w->ops},
        {"scaleout_catalog_failed_operations_total",
         "catalog operations that failed and were rolled back alone", w->failed_ops},
        {"scaleout_catalog_failed_transactions_total",
         "catalog transactions whose BEGIN or COMMIT failed", w->failed_batches},
        {"scaleout_catalog_busy_retries_total",
         "BEGIN or COMMIT retried because the database was busy", w->busy_retries},
    };
    for (const Counter& counter : counters) {
      page.Single(counter.name, counter.help, static_cast<double>(counter.value), "counter");
    }
  }
  if (runtime.parked_task_requests) {
    page.Single("scaleout_waiting_task_requests",
                "workers' requests for tasks held open now (idle capacity)",
                static_cast<double>(*runtime.parked_task_requests));
  }
  if (const auto& p = runtime.process) {
    page.Single("process_cpu_seconds_total", "user and system CPU time of the master",
                p->cpu_seconds, "counter");
    page.Single("process_resident_memory_bytes", "resident memory of the master",
                static_cast<double>(p->resident_bytes));
    page.Single("process_virtual_memory_bytes", "virtual memory of the master",
                static_cast<double>(p->virtual_bytes));
    page.Single("process_open_fds", "open file descriptors of the master",
                static_cast<double>(p->open_fds));
    page.Single("process_max_fds", "the master's open file limit", static_cast<double>(p->max_fds));
    page.Single("process_threads", "threads of the master", static_cast<double>(p->threads));
    page.Single("process_start_time_seconds", "when the master started, Unix seconds",
                p->start_time_seconds);
  }
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<double> UtcTextToUnixSeconds(std::string_view text) {
  // Exactly FormatUtc's shape: YYYY-MM-DDTHH:MM:SS.mmmZ.
  if (text.size() != 24 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != '.' || text[23] != 'Z') {
    return std::nullopt;
  }
  auto digits = [text](std::size_t at, std::size_t count, int* out) {
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      value = value * 10 + (text[i] - '0');
    }
    *out = value;
    return true;
  };
  std::tm tm{};
  int year = 0, month = 0, millis = 0;
  if (!digits(0, 4, &year) || !digits(5, 2, &month) || !digits(8, 2, &tm.tm_mday) ||
      !digits(11, 2, &tm.tm_hour) || !digits(14, 2, &tm.tm_min) || !digits(17, 2, &tm.tm_sec) ||
      !digits(20, 3, &millis)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  const std::time_t seconds = ::timegm(&tm);
  return static_cast<double>(seconds) + millis / 1000.0;
}

std::string PrometheusText(const json& metrics, const MasterRuntime& runtime) {
  Page page;
  page.Single("scaleout_up", "1: the master answered and read its catalog", 1);
  if (metrics.is_object()) {
    AddMasterFigures(metrics, page);
    AddWorkerFigures(metrics, page);
  }
  AddRuntimeFigures(runtime, page);
  return page.Take();
}

}  // namespace scaleout::core::management
