// The master's Prometheus page (GET /metrics): the `metrics` operation's
// result (the status figures and every worker's row, read in one catalog
// transaction) in the Prometheus text exposition format, version 0.0.4.
//
// From the catalog, gauges of what it says at the scrape: counts of
// executions by status, workers online and enabled, each worker's running
// tasks, capacity and last resources, the master's last heartbeat. From the
// master process itself (MasterRuntime): the catalog writer's counters, the
// workers' task requests waiting now, and the usual process_* figures.
//
// Thread-safety: pure functions on values.
#ifndef SCALEOUT_CORE_MANAGEMENT_METRICS_H_
#define SCALEOUT_CORE_MANAGEMENT_METRICS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/catalog/catalog_writer.h"
#include "core/common/process_stats.h"

namespace scaleout::core::management {

inline constexpr std::string_view kMetricsRoute = "/metrics";
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// What the master process knows of itself at the scrape; a figure left
// unset is left out of the page.
struct MasterRuntime {
  std::optional<catalog::CatalogWriterStats> writer;
  std::optional<std::size_t> parked_task_requests;  // long-polls waiting for work
  std::optional<ProcessStats> process;
};

// The page for `metrics` (the operation's result) and `runtime`. Fields it
// does not find are left out rather than guessed.
std::string PrometheusText(const nlohmann::json& metrics, const MasterRuntime& runtime = {});

// "2026-01-31T12:00:00.250Z" as Unix seconds (1769860800.25); nullopt for
// anything else, null included.
std::optional<double> UtcTextToUnixSeconds(std::string_view text);

// A label value as the text format wants it: backslash, double quote and
// line feed escaped.
std::string EscapeLabelValue(std::string_view value);

}  // namespace scaleout::core::management

#endif  // SCALEOUT_CORE_MANAGEMENT_METRICS_H_
