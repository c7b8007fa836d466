#include "core/master/settings.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace scaleout::core::master {
namespace {

namespace fs = std::filesystem;

TEST(MasterSettingsTest, EmptyObjectGivesSsisDefaults) {
  auto s = ParseMasterSettings("{}", "/etc/scaleout");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->port_number, 8391);
  EXPECT_EQ(s->cleanup_completed_jobs_interval_ms, 43'200'000);
  EXPECT_EQ(s->deal_with_expired_tasks_interval_ms, 300'000);
  EXPECT_EQ(s->master_heartbeat_interval_ms, 30'000);
  EXPECT_EQ(s->sql_connection_timeout_secs, 15);
  EXPECT_EQ(s->transport, "https");
  EXPECT_EQ(s->storage, "sqlite");
  EXPECT_EQ(s->data_dir, "/etc/scaleout");
  EXPECT_EQ(s->log_folder, "/etc/scaleout/Master");
}

TEST(MasterSettingsTest, ReadsEveryKindOfKeyAndResolvesPaths) {
  auto s = ParseMasterSettings(R"({
    "PortNumber": 9000, "SSLCertFile": "certs/m.crt", "SSLKeyFile": "/abs/m.key",
    "DealWithExpiredTasksIntervalInMs": "1000",
    "Plugins": {"Transport": "zmq", "Storage": "odbc"},
    "PluginSettings": {"storage.sqlite": {"path": "cat.db", "busy_timeout_ms": 100, "x": true}}
  })",
                               "/srv/m");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->port_number, 9000);
  EXPECT_EQ(s->ssl_cert_file, "/srv/m/certs/m.crt");
  EXPECT_EQ(s->ssl_key_file, "/abs/m.key");
  EXPECT_EQ(s->deal_with_expired_tasks_interval_ms, 1000);
  EXPECT_EQ(s->transport, "zmq");
  const auto& section = s->SectionFor("storage", "sqlite");
  EXPECT_EQ(section.at("path"), "/srv/m/cat.db");
  EXPECT_EQ(section.at("busy_timeout_ms"), "100");
  EXPECT_EQ(section.at("x"), "true");
  EXPECT_TRUE(s->SectionFor("transport", "https").empty());
}

TEST(MasterSettingsTest, OverridesApplyWithTheSameChecks) {
  auto s = ParseMasterSettings(R"({"PortNumber": 9000})", "/d",
                               {"PortNumber=0", "Plugins.Storage=odbc",
                                "PluginSettings.storage.sqlite.path=/x.db", "LogLevel=debug"});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->port_number, 0);
  EXPECT_EQ(s->storage, "odbc");
  EXPECT_EQ(s->SectionFor("storage", "sqlite").at("path"), "/x.db");
  EXPECT_EQ(s->log_level, "debug");

  auto bad = ParseMasterSettings("{}", "/d", {"PortNumber=70000"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'PortNumber' must be 0..65535, got 70000"),
            std::string::npos);
  EXPECT_FALSE(ParseMasterSettings("{}", "/d", {"NoEquals"}).ok());
}

TEST(MasterSettingsTest, BadInputNamesTheKey) {
  struct Case {
    const char* json;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"PortNumbr": 1})", "unknown setting 'PortNumbr'"},
      {R"({"PortNumber": "abc"})", "'PortNumber' must be an integer"},
      {R"({"PortNumber": -1})", "'PortNumber' must be 0..65535"},
      {R"({"MasterHeartbeatIntervalInMs": 0})", "'MasterHeartbeatIntervalInMs' must be 1.."},
      {R"({"SSLCertFile": 5})", "'SSLCertFile' must be a string"},
      {R"({"Plugins": {"Storag": "x"}})", "'Plugins.Storag' is not a known setting"},
      {R"({"PluginSettings": {"sqlite": {}}})", "must be named kind.name"},
      {R"({"PluginSettings": {"storage.sqlite": {"path": [1]}}})",
       "'PluginSettings.storage.sqlite.path'"},
      {R"({"LogLevel": "loud"})", "'LogLevel' must be one of"},
      {R"({"PortNumber": 1,})", "not valid JSON"},
      {R"([1, 2])", "must be a JSON object"},
  };
  for (const Case& c : cases) {
    auto s = ParseMasterSettings(c.json, "/d");
    ASSERT_FALSE(s.ok()) << c.json;
    EXPECT_EQ(s.status().code(), sdk::StatusCode::kInvalidArgument) << c.json;
    EXPECT_NE(s.status().message().find(c.expected), std::string::npos)
        << c.json << " → " << s.status().message();
  }
}

TEST(MasterSettingsTest, DefaultsFileParsesBack) {
  auto s = ParseMasterSettings(DefaultMasterSettingsJson(), "/d");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->port_number, 8391);
  EXPECT_EQ(s->SectionFor("storage", "sqlite").at("synchronous"), "FULL");
}

TEST(MasterSettingsTest, MissingFileSaysHowToMakeOne) {
  auto s = LoadMasterSettings(fs::temp_directory_path() / "no-such-dir-xyz" / "master.json");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), sdk::StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("--print-defaults"), std::string::npos);
}

// docs/master.md documents every key (those --print-defaults writes, and
// the two it leaves out because their defaults depend on the file's folder).
TEST(MasterSettingsTest, TheReferencePageDocumentsEveryKey) {
  std::ifstream in(fs::path(SCALEOUT_TEST_SOURCE_DIR) / "docs" / "master.md");
  std::stringstream page;
  page << in.rdbuf();
  ASSERT_FALSE(page.str().empty());
  const auto defaults = nlohmann::json::parse(DefaultMasterSettingsJson());
  std::vector<std::string> keys = {"DataDir", "LogFolder"};
  for (const auto& [key, value] : defaults.items()) keys.push_back(key);
  for (const std::string& key : keys) {
    EXPECT_NE(page.str().find("`" + key + "`"), std::string::npos) << key << " is not in master.md";
  }
}

// A settings file every account may read, holding the catalog's password,
// is said at start (packages run as another account could read it); one
// readable by its owner and group only, or holding no secret, is not.
TEST(MasterSettingsTest, AReadableFileWithAPasswordIsWarnedAbout) {
  std::string pattern = (fs::temp_directory_path() / "scaleout-settings-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const fs::path dir = pattern;
  const std::unique_ptr<const fs::path, void (*)(const fs::path*)> removed(
      &dir, [](const fs::path* p) { fs::remove_all(*p); });
  const fs::path file = dir / "master.json";
  std::ofstream(file) << R"({"Plugins": {"Storage": "odbc"},
      "PluginSettings": {"storage.odbc": {"connection_string":
          "Driver={PostgreSQL Unicode};Server=db;Uid=scaleout;Pwd=s3cret"}}})";
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::others_read);
  const std::optional<std::string> warning = ReadableSecretsWarning(file);
  ASSERT_TRUE(warning.has_value());
  EXPECT_NE(warning->find("PluginSettings.storage.odbc.connection_string"), std::string::npos)
      << *warning;
  EXPECT_NE(warning->find("chmod o-r " + file.string()), std::string::npos) << *warning;
  EXPECT_EQ(warning->find("s3cret"), std::string::npos) << "the warning must not show the value";

  fs::permissions(file, fs::perms::others_read, fs::perm_options::remove);
  EXPECT_FALSE(ReadableSecretsWarning(file).has_value());

  std::ofstream(file) << R"({"PluginSettings": {"storage.sqlite": {"path": "catalog.db"}}})";
  fs::permissions(file, fs::perms::others_read, fs::perm_options::add);
  EXPECT_FALSE(ReadableSecretsWarning(file).has_value());
}

TEST(MasterSettingsTest, SettingsNamedOrShapedLikeSecretsAreFound) {
  MasterSettings settings;
  settings.plugin_sections["storage.odbc"]["connection_string"] = "DSN=x;PASSWORD=y";
  settings.plugin_sections["transport.zmq"]["secret_key_file"] = "/etc/k";  // a path
  settings.plugin_sections["executor.mine"]["api_token"] = "t";
  settings.plugin_sections["executor.mine"]["db_password"] = "p";
  settings.plugin_sections["storage.sqlite"]["path"] = "catalog.db";
  EXPECT_EQ(SecretLookingSettings(settings),
            (std::vector<std::string>{"PluginSettings.executor.mine.api_token",
                                      "PluginSettings.executor.mine.db_password",
                                      "PluginSettings.storage.odbc.connection_string"}));
}

}  // namespace
}  // namespace scaleout::core::master
