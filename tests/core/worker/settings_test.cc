#include "core/worker/settings.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/common/ids.h"

namespace scaleout::core::worker {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr const char* kPin =
    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:"
    "89";

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("scaleout-worker-settings-" + NewGuid());
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return path_ / name;
  }

 private:
  fs::path path_;
};

sdk::Status ParseError(const std::string& json, const std::vector<std::string>& overrides = {}) {
  auto r = ParseWorkerSettings(json, "worker.json", overrides);
  return r.ok() ? sdk::Status::Ok() : r.status();
}

TEST(TimeSpanTest, AcceptsDotNetForms) {
  EXPECT_EQ(*ParseTimeSpan("00:01:00"), milliseconds(60'000));
  EXPECT_EQ(*ParseTimeSpan("00:00:10"), milliseconds(10'000));
  EXPECT_EQ(*ParseTimeSpan("7.00:00:00"), milliseconds(7LL * 86'400'000));
  EXPECT_EQ(*ParseTimeSpan("1.02:03:04.5"), milliseconds(((26 * 60 + 3) * 60 + 4) * 1000LL + 500));
  EXPECT_EQ(*ParseTimeSpan("00:00:00.1234567"), milliseconds(123));
  EXPECT_EQ(*ParseTimeSpan("5:00:00"), milliseconds(5 * 3'600'000));
  EXPECT_EQ(*ParseTimeSpan("00:00:00"), milliseconds(0));
}

TEST(TimeSpanTest, RefusesMalformedValues) {
  for (const char* bad :
       {"", "60", "1:00", "00:60:00", "00:00:60", "24:00:00", "-00:00:01", "00:00:01.12345678",
        "a0:00:00", "00:00:00:00", "00:0:00", "1.2.00:00:00", " 00:00:01", "00:00:01s"}) {
    EXPECT_FALSE(ParseTimeSpan(bad).ok()) << bad;
  }
}

TEST(TimeSpanTest, FormatsBack) {
  EXPECT_EQ(FormatTimeSpan(milliseconds(60'000)), "00:01:00");
  EXPECT_EQ(FormatTimeSpan(milliseconds(7LL * 86'400'000)), "7.00:00:00");
  EXPECT_EQ(FormatTimeSpan(milliseconds(1500)), "00:00:01.500");
  for (const char* text : {"00:01:00", "7.00:00:00", "1.02:03:04.500", "23:59:59"}) {
    EXPECT_EQ(FormatTimeSpan(*ParseTimeSpan(text)), text);
  }
}

TEST(WorkerSettingsTest, EmptyObjectGivesSsisDefaults) {
  auto s = ParseWorkerSettings("{}", "worker.json");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->agent_heartbeat_interval, milliseconds(60'000));
  EXPECT_EQ(s->task_heartbeat_interval, milliseconds(10'000));
  EXPECT_EQ(s->heartbeat_error_tolerance, milliseconds(600'000));
  EXPECT_DOUBLE_EQ(s->task_request_max_cpu, 70.0);
  EXPECT_DOUBLE_EQ(s->task_request_min_memory_mb, 100.0);
  EXPECT_EQ(s->max_task_count, 10);
  EXPECT_EQ(s->lease_interval, milliseconds(60'000));
  EXPECT_EQ(s->lease_safety_margin(), milliseconds(20'000));
  EXPECT_EQ(s->task_log_level, 126);
  EXPECT_EQ(s->task_log_segment, milliseconds(0));
  EXPECT_TRUE(s->task_log_enabled);
  EXPECT_EQ(s->execution_log_max_buffer_log_count, 10'000);
  EXPECT_EQ(s->execution_log_max_in_memory_buffer_count, 10);
  EXPECT_EQ(s->execution_log_retry_count, 3);
  EXPECT_EQ(s->execution_log_retry_timeout, milliseconds(7LL * 86'400'000));
  EXPECT_EQ(s->task_folder_retention, milliseconds(7LL * 86'400'000));    // a scaleout key
  EXPECT_EQ(s->project_cache_retention, milliseconds(7LL * 86'400'000));  // a scaleout key
  EXPECT_EQ(s->store_location, "LocalMachine");
  EXPECT_EQ(s->store_name, "My");
  EXPECT_EQ(s->plugins.transport, "https");
  EXPECT_EQ(s->plugins.executor, "process");
  EXPECT_TRUE(s->master_endpoints.empty());
  EXPECT_TRUE(s->agent_id.empty());
  EXPECT_FALSE(s->display_name.empty());  // the machine name
}

TEST(WorkerSettingsTest, ReadsEveryKey) {
  const std::string json = std::string(R"({
    "DisplayName": "w1", "Description": "rack 4",
    "MasterEndpoint": "https://m1:8391", "MasterEndpoints": ["https://m2:8391", "https://m1:8391"],
    "MasterHttpsCertThumbprint": ")") +
                           kPin + R"(",
    "WorkerHttpsCertThumbprint": "0123456789abcdef0123456789abcdef01234567",
    "StoreLocation": "CurrentUser", "StoreName": "Root",
    "WorkerCertFile": "worker.crt", "WorkerKeyFile": "worker.key",
    "AgentHeartbeatInterval": "00:00:30", "TaskHeartbeatInterval": "00:00:05",
    "HeartbeatErrorTolerance": "00:05:00", "TaskRequestMaxCPU": 90.5,
    "TaskRequestMinMemory": "256", "MaxTaskCount": 4, "LeaseInterval": "00:02:00",
    "TasksRootFolder": "/var/tasks", "TaskLogLevel": 127, "TaskLogSegment": "01:00:00",
    "TaskLogEnabled": false, "TaskFolderRetention": "12:00:00", "ProjectCacheRetention": "2.00:00:00",
    "ExecutionLogCacheFolder": "cache",
    "ExecutionLogMaxBufferLogCount": 500, "ExecutionLogMaxInMemoryBufferCount": 2,
    "ExecutionLogRetryCount": 5, "ExecutionLogRetryTimeout": "1.00:00:00",
    "AgentId": "{8d3f1a0c-4b7e-4f2a-9c61-0e5b2d7a9f13}",
    "Plugins": {"Directory": "plugins", "Transport": "zmq", "Executor": "noop"},
    "PluginSettings": {"transport.zmq": {"HighWaterMark": 100, "Curve": true, "Name": "x"}}
  })";
  auto s = ParseWorkerSettings(json, "worker.json");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->display_name, "w1");
  EXPECT_EQ(s->description, "rack 4");
  EXPECT_THAT(s->master_endpoints, ::testing::ElementsAre("https://m1:8391", "https://m2:8391"));
  ASSERT_EQ(s->master_https_cert_thumbprints.size(), 1u);
  EXPECT_EQ(s->master_https_cert_thumbprints[0],
            "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789");
  EXPECT_EQ(s->worker_https_cert_thumbprint, "0123456789ABCDEF0123456789ABCDEF01234567");
  EXPECT_EQ(s->store_location, "CurrentUser");
  EXPECT_EQ(s->store_name, "Root");
  EXPECT_EQ(s->worker_cert_file, "worker.crt");
  EXPECT_EQ(s->agent_heartbeat_interval, milliseconds(30'000));
  EXPECT_EQ(s->task_heartbeat_interval, milliseconds(5'000));
  EXPECT_EQ(s->heartbeat_error_tolerance, milliseconds(300'000));
  EXPECT_DOUBLE_EQ(s->task_request_max_cpu, 90.5);
  EXPECT_DOUBLE_EQ(s->task_request_min_memory_mb, 256.0);
  EXPECT_EQ(s->max_task_count, 4);
  EXPECT_EQ(s->lease_interval, milliseconds(120'000));
  EXPECT_EQ(s->tasks_root_folder, "/var/tasks");
  EXPECT_EQ(s->task_log_level, 127);
  EXPECT_EQ(s->task_log_segment, milliseconds(3'600'000));
  EXPECT_FALSE(s->task_log_enabled);
  EXPECT_EQ(s->task_folder_retention, milliseconds(12 * 3'600'000));
  EXPECT_EQ(s->project_cache_retention, milliseconds(48 * 3'600'000));
  EXPECT_EQ(s->execution_log_cache_folder, "cache");
  EXPECT_EQ(s->execution_log_max_buffer_log_count, 500);
  EXPECT_EQ(s->execution_log_max_in_memory_buffer_count, 2);
  EXPECT_EQ(s->execution_log_retry_count, 5);
  EXPECT_EQ(s->execution_log_retry_timeout, milliseconds(86'400'000));
  EXPECT_EQ(s->agent_id, "8D3F1A0C-4B7E-4F2A-9C61-0E5B2D7A9F13");
  EXPECT_EQ(s->plugins.directory, "plugins");
  EXPECT_EQ(s->plugins.transport, "zmq");
  EXPECT_EQ(s->plugins.executor, "noop");
  const auto& zmq = s->PluginSection("transport.zmq");
  EXPECT_EQ(zmq.at("HighWaterMark"), "100");
  EXPECT_EQ(zmq.at("Curve"), "true");
  EXPECT_EQ(zmq.at("Name"), "x");
  EXPECT_TRUE(s->PluginSection("executor.process").empty());
}

TEST(WorkerSettingsTest, AcceptsBothSpellingsOfTheOldKeys) {
  auto old = ParseWorkerSettings(
      R"({"HeartbeatErrorTollerance": "00:03:00", "LeaseInternval": "00:03:00"})", "w.json");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->heartbeat_error_tolerance, milliseconds(180'000));
  EXPECT_EQ(old->lease_interval, milliseconds(180'000));
  auto both = ParseError(R"({"LeaseInterval": "00:03:00", "LeaseInternval": "00:03:00"})");
  EXPECT_THAT(both.message(), HasSubstr("LeaseInterval"));
  EXPECT_THAT(both.message(), HasSubstr("LeaseInternval"));
}

TEST(WorkerSettingsTest, RefusesUnknownKeysAndListsTheKnownOnes) {
  auto s = ParseError(R"({"MaxTaskCnt": 3})");
  EXPECT_EQ(s.code(), sdk::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("'MaxTaskCnt'"));
  EXPECT_THAT(s.message(), HasSubstr("known settings: DisplayName"));
  EXPECT_THAT(s.message(), HasSubstr("MaxTaskCount"));
  EXPECT_THAT(ParseError(R"({"Plugins": {"Transprt": "https"}})").message(),
              HasSubstr("'Plugins.Transprt'"));
  EXPECT_THAT(ParseError("{}", {"Bogus=1"}).message(), HasSubstr("'Bogus'"));
}

TEST(WorkerSettingsTest, RefusesBadValuesNamingTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"MaxTaskCount": 0})", "MaxTaskCount"},
      {R"({"MaxTaskCount": "ten"})", "MaxTaskCount"},
      {R"({"MaxTaskCount": 2.5})", "MaxTaskCount"},
      {R"({"TaskRequestMaxCPU": 101})", "TaskRequestMaxCPU"},
      {R"({"TaskRequestMaxCPU": 0})", "TaskRequestMaxCPU"},
      {R"({"TaskRequestMinMemory": -1})", "TaskRequestMinMemory"},
      {R"({"TaskLogLevel": 128})", "TaskLogLevel"},
      {R"({"TaskLogEnabled": "maybe"})", "TaskLogEnabled"},
      {R"({"AgentHeartbeatInterval": "60"})", "AgentHeartbeatInterval"},
      {R"({"AgentHeartbeatInterval": 60})", "AgentHeartbeatInterval"},
      {R"({"AgentHeartbeatInterval": "00:00:00"})", "AgentHeartbeatInterval"},
      {R"({"LeaseInterval": "00:00:15"})", "TaskHeartbeatInterval"},
      {R"({"ExecutionLogRetryTimeout": "8:00"})", "ExecutionLogRetryTimeout"},
      {R"({"TaskFolderRetention": "-1.00:00:00"})", "TaskFolderRetention"},
      {R"({"TaskFolderRetention": 7})", "TaskFolderRetention"},
      {R"({"ProjectCacheRetention": "1 day"})", "ProjectCacheRetention"},
      {R"({"ExecutionLogMaxBufferLogCount": 20000})", "ExecutionLogMaxBufferLogCount"},
      {R"({"AgentId": "not-a-guid"})", "AgentId"},
      {R"({"MasterEndpoint": "master:8391"})", "MasterEndpoint"},
      {R"({"MasterEndpoints": [1]})", "MasterEndpoints"},
      {R"({"WorkerHttpsCertThumbprint": "xyz"})", "WorkerHttpsCertThumbprint"},
      {R"({"DisplayName": 5})", "DisplayName"},
      {R"({"Plugins": {"Transport": "HTTPS!"}})", "Plugins.Transport"},
      {R"({"PluginSettings": {"https": {}}})", "PluginSettings.https"},
      {R"({"PluginSettings": {"transport.https": {"a": {"b": 1}}}})",
       "PluginSettings.transport.https.a"},
  };
  for (const auto& [json, key] : cases) {
    auto s = ParseError(json);
    EXPECT_EQ(s.code(), sdk::StatusCode::kInvalidArgument) << json;
    EXPECT_THAT(s.message(), HasSubstr(key)) << json;
  }
  EXPECT_THAT(ParseError("[1]").message(), HasSubstr("JSON object"));
  EXPECT_THAT(ParseError("{").message(), HasSubstr("not valid JSON"));
}

TEST(WorkerSettingsTest, MasterEndpointTakesACommaSeparatedFailoverList) {
  // Two masters on one catalog: both in the SSIS key, then MasterEndpoints;
  // duplicates dropped, order kept (the first is tried first).
  auto s = ParseWorkerSettings(
      R"({"MasterEndpoint": " https://a:8391 ,https://b:8391,, https://a:8391",
          "MasterEndpoints": "https://c:8391, https://b:8391"})",
      "w.json");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_THAT(s->master_endpoints,
              ::testing::ElementsAre("https://a:8391", "https://b:8391", "https://c:8391"));
  auto over = ParseWorkerSettings("{}", "w.json", {"MasterEndpoint=tcp://a:5555,tcp://b:5555"});
  ASSERT_TRUE(over.ok()) << over.status().ToString();
  EXPECT_THAT(over->master_endpoints, ::testing::ElementsAre("tcp://a:5555", "tcp://b:5555"));
  // Every entry is checked, not just the first.
  auto bad = ParseError(R"({"MasterEndpoint": "https://a:8391,b:8391"})");
  EXPECT_EQ(bad.code(), sdk::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("'b:8391' needs a scheme"));
}

TEST(WorkerSettingsTest, OverridesApplyOnTopAndAreChecked) {
  auto s = ParseWorkerSettings(
      R"({"MaxTaskCount": 2})", "w.json",
      {"MaxTaskCount=6", "LeaseInterval=00:03:00", "MasterEndpoints=https://a:1, https://b:2",
       "Plugins.Transport=zmq", "TaskLogEnabled=false", "PluginSettings.transport.zmq.Curve=on"});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->max_task_count, 6);
  EXPECT_EQ(s->lease_interval, milliseconds(180'000));
  EXPECT_THAT(s->master_endpoints, ::testing::ElementsAre("https://a:1", "https://b:2"));
  EXPECT_EQ(s->plugins.transport, "zmq");
  EXPECT_FALSE(s->task_log_enabled);
  EXPECT_EQ(s->PluginSection("transport.zmq").at("Curve"), "on");
  EXPECT_THAT(ParseError("{}", {"MaxTaskCount=lots"}).message(), HasSubstr("MaxTaskCount"));
  EXPECT_THAT(ParseError("{}", {"MaxTaskCount"}).message(), HasSubstr("Key=Value"));
}

TEST(WorkerSettingsTest, DefaultsFileParsesBackToTheDefaults) {
  const std::string text = DefaultSettingsJson();
  auto json = nlohmann::json::parse(text);
  for (const auto& key : KnownSettingKeys()) {
    if (key == "HeartbeatErrorTollerance" || key == "LeaseInternval") continue;
    EXPECT_TRUE(json.contains(key)) << key;
  }
  auto s = ParseWorkerSettings(text, "defaults");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->lease_interval, milliseconds(60'000));
  EXPECT_EQ(s->execution_log_retry_timeout, milliseconds(7LL * 86'400'000));
}

// docs/worker.md documents every key the worker accepts.
TEST(WorkerSettingsTest, TheReferencePageDocumentsEveryKey) {
  std::ifstream in(fs::path(SCALEOUT_TEST_SOURCE_DIR) / "docs" / "worker.md");
  std::stringstream page;
  page << in.rdbuf();
  ASSERT_FALSE(page.str().empty());
  for (const std::string& key : KnownSettingKeys()) {
    EXPECT_NE(page.str().find("`" + key + "`"), std::string::npos) << key << " is not in worker.md";
  }
}

TEST(WorkerSettingsTest, LoadResolvesFoldersAndKeepsTheGeneratedAgentId) {
  TempDir dir;
  const auto file = dir.Write("worker.json", R"({"MasterEndpoint": "https://m:8391"})");
  LoadOptions options;
  options.settings_file = file.string();
  auto first = LoadWorkerSettings(options);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(NormalizeGuid(first->agent_id).has_value());
  EXPECT_EQ(first->data_dir, dir.path().string());
  EXPECT_EQ(first->tasks_root_folder, (dir.path() / "Tasks").string());
  EXPECT_EQ(first->execution_log_cache_folder, (dir.path() / "Agent" / "ELogCache").string());
  EXPECT_EQ(first->agent_log_folder, (dir.path() / "Agent").string());
  EXPECT_TRUE(fs::is_directory(first->tasks_root_folder));
  EXPECT_TRUE(fs::is_directory(first->execution_log_cache_folder));
  EXPECT_TRUE(fs::exists(dir.path() / "agent-id"));

  // A restart keeps the identity.
  auto second = LoadWorkerSettings(options);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->agent_id, first->agent_id);

  // A key in the file wins over the state file.
  dir.Write("worker.json", R"({"AgentId": "11111111-2222-3333-4444-555555555555"})");
  auto third = LoadWorkerSettings(options);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->agent_id, "11111111-2222-3333-4444-555555555555");
}

// Two first starts at the same moment (a service and a manual run) keep one
// identity: the agent-id file is created exclusively, and the one that lost
// the race reads the winner's id instead of writing its own over it.
TEST(WorkerSettingsTest, ConcurrentFirstStartsKeepOneAgentId) {
  for (int round = 0; round < 20; ++round) {
    TempDir dir;
    const auto file = dir.Write("worker.json", R"({"MasterEndpoint": "https://m:8391"})");
    LoadOptions options;
    options.settings_file = file.string();
    std::string ids[2];
    std::thread other([&] {
      auto loaded = LoadWorkerSettings(options);
      if (loaded.ok()) ids[1] = loaded->agent_id;
    });
    auto loaded = LoadWorkerSettings(options);
    other.join();
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    ids[0] = loaded->agent_id;
    EXPECT_EQ(ids[0], ids[1]) << "round " << round;
    std::ifstream in(dir.path() / "agent-id");
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, ids[0]) << "round " << round;
  }
}

TEST(WorkerSettingsTest, LoadHonoursDataDirAndRelativePaths) {
  TempDir dir;
  const auto file = dir.Write("worker.json", R"({"ExecutionLogCacheFolder": "elog",
      "WorkerCertFile": "certs/w.crt", "Plugins": {"Directory": "p"}})");
  LoadOptions options;
  options.settings_file = file.string();
  options.data_dir = (dir.path() / "data").string();
  auto s = LoadWorkerSettings(options);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->tasks_root_folder, (dir.path() / "data" / "Tasks").string());
  EXPECT_EQ(s->execution_log_cache_folder, (dir.path() / "elog").string());
  EXPECT_EQ(s->worker_cert_file, (dir.path() / "certs" / "w.crt").string());
  EXPECT_EQ(s->plugins.directory, (dir.path() / "p").string());
  EXPECT_TRUE(fs::exists(dir.path() / "data" / "agent-id"));
}

TEST(WorkerSettingsTest, LoadExplainsAMissingFileAndACorruptAgentIdFile) {
  LoadOptions options;
  options.settings_file = "/nonexistent/worker.json";
  auto missing = LoadWorkerSettings(options);
  EXPECT_EQ(missing.status().code(), sdk::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("--print-defaults"));

  TempDir dir;
  options.settings_file = dir.Write("worker.json", "{}").string();
  dir.Write("agent-id", "garbage\n");
  auto corrupt = LoadWorkerSettings(options);
  EXPECT_EQ(corrupt.status().code(), sdk::StatusCode::kDataLoss);
  EXPECT_THAT(corrupt.status().message(), HasSubstr("AgentId"));
}

TEST(WorkerSettingsTest, ReadyToRunNeedsEndpointPinAndCertificate) {
  auto s = *ParseWorkerSettings("{}", "w.json");
  s.agent_id = NewGuid();
  EXPECT_THAT(CheckReadyToRun(s).message(), HasSubstr("'MasterEndpoint'"));
  s.master_endpoints = {"https://m:8391"};
  EXPECT_THAT(CheckReadyToRun(s).message(), HasSubstr("'MasterHttpsCertThumbprint'"));
  s.master_https_cert_thumbprints = {"not-hex"};
  EXPECT_THAT(CheckReadyToRun(s).message(), HasSubstr("not a SHA-256"));
  s.master_https_cert_thumbprints = {std::string(64, 'A')};
  EXPECT_THAT(CheckReadyToRun(s).message(), HasSubstr("'WorkerCertFile'"));
  s.worker_cert_file = "w.crt";
  s.worker_key_file = "w.key";
  EXPECT_TRUE(CheckReadyToRun(s).ok());
  s.master_endpoints = {"inproc://master"};
  s.master_https_cert_thumbprints.clear();
  EXPECT_TRUE(CheckReadyToRun(s).ok());
}

}  // namespace
}  // namespace scaleout::core::worker
