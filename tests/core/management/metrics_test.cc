#include "core/management/metrics.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace scaleout::core::management {
namespace {

using nlohmann::json;

// The shape the `metrics` operation returns (operations.cc).
json SampleMetrics() {
  return json::parse(R"({
    "scaleout_enabled": true,
    "default_execution_mode": "ScaleOut",
    "master_properties": {"LAST_ONLINE_TIME": "2026-12-07T06:28:04.250Z"},
    "workers": {"total": 2, "online": 1, "enabled": 2, "online_and_enabled": 1},
    "executions_by_status": {"succeeded": 7, "failed": 2, "ended unexpectedly": 0},
    "worker_agents": [
      {"worker_agent_id": "1BA45FA9-DE41-416E-B73B-39B65C943F4C", "display_name": "w\"1\\\n",
       "machine_name": "vm", "is_online": true, "is_enabled": true, "running_tasks": 3,
       "max_task_count": 4, "cpu_percent": 11.5, "free_memory_mb": 2.0,
       "last_online_time": "2026-12-07T06:28:04.270Z"},
      {"worker_agent_id": "F59A4C24-5732-40F9-B884-53AA060D2BFA", "display_name": "w2",
       "machine_name": "vm", "is_online": false, "is_enabled": true, "running_tasks": 0,
       "max_task_count": 8, "cpu_percent": null, "free_memory_mb": null,
       "last_online_time": null}
    ]
  })");
}

// Every line is a comment or `name{labels} value` as the text format
// defines them; each sample's family was declared before it.
void ExpectWellFormed(const std::string& page) {
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? )"
      R"((-?[0-9.e+-]+|NaN)$)");
  static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)$)");
  std::set<std::string> declared;
  std::istringstream lines(page);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kType)) {
      EXPECT_TRUE(declared.insert(m[1]).second) << "declared twice: " << line;
    } else if (line.starts_with("# HELP ")) {
      continue;
    } else {
      ASSERT_TRUE(std::regex_match(line, m, kSample)) << "not a sample: " << line;
      EXPECT_TRUE(declared.contains(m[1])) << "no TYPE before " << line;
    }
  }
  EXPECT_TRUE(page.ends_with("\n"));
}

TEST(MetricsTest, EveryFigureOfTheOperationBecomesASample) {
  const std::string page = PrometheusText(SampleMetrics());
  ExpectWellFormed(page);
  for (
      const char* expected : {
          "scaleout_up 1\n",
          "scaleout_scaleout_enabled 1\n",
          "scaleout_default_execution_mode{mode=\"ScaleOut\"} 1\n",
          "scaleout_master_last_online_timestamp_seconds 1796624884.25\n",
          "scaleout_workers{state=\"total\"} 2\n",
          "scaleout_workers{state=\"online_and_enabled\"} 1\n",
          "scaleout_executions{status=\"succeeded\"} 7\n",
          "scaleout_executions{status=\"failed\"} 2\n",
          "scaleout_executions{status=\"ended unexpectedly\"} 0\n",
          "scaleout_worker_running_tasks{worker_agent_id=\"1BA45FA9-DE41-416E-B73B-39B65C943F4C\","
          "display_name=\"w\\\"1\\\\\\n\",machine_name=\"vm\"} 3\n",
          "scaleout_worker_online{worker_agent_id=\"F59A4C24-5732-40F9-B884-53AA060D2BFA\","
          "display_name=\"w2\",machine_name=\"vm\"} 0\n",
          "scaleout_worker_max_task_count{worker_agent_id=\"F59A4C24-5732-40F9-B884-53AA060D2BFA\","
          "display_name=\"w2\",machine_name=\"vm\"} 8\n",
          "scaleout_worker_cpu_percent{worker_agent_id=\"1BA45FA9-DE41-416E-B73B-39B65C943F4C\","
          "display_name=\"w\\\"1\\\\\\n\",machine_name=\"vm\"} 11.5\n",
          "scaleout_worker_free_memory_bytes{worker_agent_id=\"1BA45FA9-DE41-416E-B73B-"
          "39B65C943F4C\","
          "display_name=\"w\\\"1\\\\\\n\",machine_name=\"vm\"} 2097152\n",
          "scaleout_worker_last_online_timestamp_seconds{worker_agent_id=\"1BA45FA9-DE41-416E-B73B-"
          "39B65C943F4C\",display_name=\"w\\\"1\\\\\\n\",machine_name=\"vm\"} 1796624884.27\n",
      }) {
    EXPECT_NE(page.find(expected), std::string::npos) << "missing " << expected << "in\n" << page;
  }
}

TEST(MetricsTest, AFigureTheCatalogHasNotIsLeftOutNotGuessed) {
  const std::string page = PrometheusText(SampleMetrics());
  // The offline worker has no resources and no last heartbeat yet.
  for (const char* family : {"scaleout_worker_cpu_percent", "scaleout_worker_free_memory_bytes",
                             "scaleout_worker_last_online_timestamp_seconds"}) {
    const std::string sample = std::string(family) + "{worker_agent_id=\"F59A4C24";
    EXPECT_EQ(page.find(sample), std::string::npos) << sample;
  }
}

TEST(MetricsTest, AnEmptyOrOddResultStillGivesAValidPage) {
  for (const json& odd :
       {json::object(), json::array(), json(nullptr),
        json{{"workers", "x"}, {"worker_agents", 3}, {"executions_by_status", 1}}}) {
    const std::string page = PrometheusText(odd);
    ExpectWellFormed(page);
    EXPECT_NE(page.find("scaleout_up 1\n"), std::string::npos);
  }
}

TEST(MetricsTest, TheMastersOwnFiguresFollowTheCatalogs) {
  MasterRuntime runtime;
  runtime.writer = catalog::CatalogWriterStats{
      .batches = 10, .ops = 250, .failed_ops = 2, .failed_batches = 1, .busy_retries = 3};
  runtime.parked_task_requests = 4;
  runtime.process = ProcessStats{.cpu_seconds = 1.5,
                                 .resident_bytes = 1 << 20,
                                 .virtual_bytes = 1 << 30,
                                 .threads = 9,
                                 .open_fds = 40,
                                 .max_fds = 1024,
                                 .start_time_seconds = 1796624884.25};
  const std::string page = PrometheusText(SampleMetrics(), runtime);
  ExpectWellFormed(page);
  for (const char* expected : {
           "# TYPE scaleout_catalog_transactions_total "
           "counter\nscaleout_catalog_transactions_total 10\n",
           "scaleout_catalog_operations_total 250\n",
           "scaleout_catalog_failed_operations_total 2\n",
           "scaleout_catalog_failed_transactions_total 1\n",
           "scaleout_catalog_busy_retries_total 3\n",
           "# TYPE scaleout_waiting_task_requests gauge\nscaleout_waiting_task_requests 4\n",
           "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1.5\n",
           "process_resident_memory_bytes 1048576\n",
           "process_virtual_memory_bytes 1073741824\n",
           "process_open_fds 40\n",
           "process_max_fds 1024\n",
           "process_threads 9\n",
           "process_start_time_seconds 1796624884.25\n",
       }) {
    EXPECT_NE(page.find(expected), std::string::npos) << "missing " << expected << "in\n" << page;
  }
  // Without them, none of those families.
  const std::string catalog_only = PrometheusText(SampleMetrics());
  EXPECT_EQ(catalog_only.find("process_"), std::string::npos);
  EXPECT_EQ(catalog_only.find("scaleout_catalog_"), std::string::npos);
}

TEST(MetricsTest, UtcTextToUnixSeconds) {
  EXPECT_EQ(UtcTextToUnixSeconds("1970-01-01T00:00:00.000Z"), 0.0);
  EXPECT_EQ(UtcTextToUnixSeconds("2026-01-31T12:00:00.250Z"), 1769860800.25);
  EXPECT_EQ(UtcTextToUnixSeconds("2024-02-29T23:59:59.999Z"), 1709251199.999);
  for (const char* bad :
       {"", "2026-01-31", "2026-01-31T12:00:00Z", "2026-13-31T12:00:00.000Z",
        "2026-01-31T25:00:00.000Z", "2026-01-31T12:00:00.000+", "x026-01-31T12:00:00.000Z"}) {
    EXPECT_FALSE(UtcTextToUnixSeconds(bad).has_value()) << bad;
  }
}

TEST(MetricsTest, EscapeLabelValue) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace scaleout::core::management
