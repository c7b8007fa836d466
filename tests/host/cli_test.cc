// The `scaleout` executable, run as a child process: dispatch, --help and
// --version everywhere, exit codes, and `plugins list` over the fixtures.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace scaleout {
namespace {

namespace fs = std::filesystem;

std::string FixturePluginDir(std::string_view name) {
  return (fs::path(SCALEOUT_TEST_FIXTURE_PLUGIN_DIR) / name).string();
}

test::ProcessResult Scaleout(const std::vector<std::string>& args,
                             const std::vector<std::string>& env = {"SCALEOUT_PLUGIN_DIR="}) {
  return test::RunProcess(test::HostBinary(), args, env);
}

TEST(CliTest, HelpListsTheSubCommandsButNotTheHiddenOne) {
  auto result = Scaleout({"--help"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  for (const char* command : {"master", "worker", "manage", "cert", "plugins"}) {
    EXPECT_NE(result.out.find(command), std::string::npos) << command;
  }
  EXPECT_EQ(result.out.find("task-host"), std::string::npos);
}

TEST(CliTest, VersionNamesTheAbiAndFingerprint) {
  auto result = Scaleout({"--version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("scaleout "), std::string::npos);
  EXPECT_NE(result.out.find("plugin ABI 1."), std::string::npos);
  EXPECT_NE(result.out.find(SCALEOUT_BUILD_FINGERPRINT), std::string::npos);
}

TEST(CliTest, NoCommandIsAUsageError) {
  auto result = Scaleout({});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("Usage: scaleout"), std::string::npos);
}

TEST(CliTest, AnUnknownCommandIsAUsageErrorListingTheCommands) {
  auto result = Scaleout({"frobnicate"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_NE(result.err.find("plugins"), std::string::npos);
}

TEST(CliTest, EverySubCommandAnswersHelpAndVersion) {
  for (const char* command : {"master", "worker", "manage", "cert", "plugins", "task-host"}) {
    auto help = Scaleout({command, "--help"});
    EXPECT_EQ(help.exit_code, 0) << command << ": " << help.err;
    EXPECT_NE(help.out.find(command), std::string::npos) << command;
    auto version = Scaleout({command, "--version"});
    EXPECT_EQ(version.exit_code, 0) << command << ": " << version.err;
    EXPECT_NE(version.out.find("scaleout "), std::string::npos) << command;
  }
}

// A pooled task host's control socket is inherited: a number that names no
// open descriptor is a clear error, not a host that cannot be cancelled.
TEST(CliTest, TaskHostRefusesAControlFdThatIsNotOpen) {
  auto result =
      Scaleout({"task-host", "--serve", "--plugin-dir", "/nonexistent", "--control-fd", "987"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("--control-fd 987 is not open"), std::string::npos) << result.err;
}

TEST(CliTest, PluginsListUsesTheDefaultFolderNextToTheBinary) {
  auto result = Scaleout({"plugins", "list"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  for (const char* name : {"executor/noop", "transport/inproc", "storage/null"}) {
    EXPECT_NE(result.out.find(name), std::string::npos) << name << "\n" << result.out;
  }
}

TEST(CliTest, PluginsListHonoursTheEnvironmentVariable) {
  auto result =
      Scaleout({"plugins", "list"}, {"SCALEOUT_PLUGIN_DIR=" + FixturePluginDir("tripwire")});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("executor/fixture_tripwire"), std::string::npos);
  EXPECT_EQ(result.out.find("executor/noop"), std::string::npos);
}

// A master whose settings file every account may read, holding the
// catalog's password, says so first thing (here it then stops for want of
// a certificate): packages run as another account could read the file.
TEST(CliTest, AMasterWarnsOfASettingsFileOthersCanReadWithAPasswordInIt) {
  test::TempDir dir;
  const fs::path file = dir.path() / "master.json";
  std::ofstream(file) << R"({"Plugins": {"Storage": "odbc"}, "PluginSettings": {"storage.odbc":
      {"connection_string": "Driver={PostgreSQL Unicode};Server=127.0.0.1;Uid=u;Pwd=s3cret"}}})";
  fs::permissions(file, fs::perms::others_read, fs::perm_options::add);
  const auto result = Scaleout({"master", "--config", file.string()});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("can be read by every account on this machine and holds what looks "
                            "like a secret (PluginSettings.storage.odbc.connection_string)"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(result.err.find("s3cret"), std::string::npos) << result.err;
}

TEST(CliTest, PluginsListNeverCreates) {
  // The tripwire's create() aborts: a clean exit proves it was not called.
  auto result = Scaleout({"plugins", "list", "--plugin-dir", FixturePluginDir("tripwire")});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("executor/fixture_tripwire"), std::string::npos);
  EXPECT_NE(result.out.find("match"), std::string::npos);
  EXPECT_NE(result.out.find(" ok"), std::string::npos);
}

struct ListCase {
  const char* folder;
  const char* file;
  const char* cause;
};

void PrintTo(const ListCase& c, std::ostream* os) { *os << c.folder; }

class CliPluginsListCaseTest : public ::testing::TestWithParam<ListCase> {};

TEST_P(CliPluginsListCaseTest, ShowsTheRefusalAndItsReason) {
  const ListCase& c = GetParam();
  auto result = Scaleout({"plugins", "list", "--plugin-dir", FixturePluginDir(c.folder)});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find(c.file), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("refused: "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(c.cause), std::string::npos) << result.out;
}

INSTANTIATE_TEST_SUITE_P(
    EveryBrokenPlugin, CliPluginsListCaseTest,
    ::testing::Values(
        ListCase{"not_a_plugin", "libscaleout_executor_text.so", "not an ELF shared library"},
        ListCase{"no_entry_point", "libscaleout_executor_fixture_no_entry.so",
                 "does not export scaleout_plugin_descriptor"},
        ListCase{"unresolved_symbol", "libscaleout_executor_fixture_unresolved.so",
                 "undefined symbol"},
        ListCase{"wrong_abi_major", "libscaleout_executor_fixture_abi_major.so", "major differs"},
        ListCase{"newer_abi_minor", "libscaleout_executor_fixture_abi_minor.so",
                 "newer than this host's"},
        ListCase{"fingerprint_mismatch", "libscaleout_executor_fixture_fingerprint.so", "MISMATCH"},
        ListCase{"duplicate", "libscaleout_executor_fixture_dup_b.so", "duplicate kind/name"}),
    [](const ::testing::TestParamInfo<ListCase>& param) {
      return std::string(param.param.folder);
    });

TEST(CliTest, PluginsListJsonDescribesEveryFile) {
  auto result = Scaleout({"plugins", "list", "--json", "--plugin-dir", FixturePluginDir("all")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["host_fingerprint"], SCALEOUT_BUILD_FINGERPRINT);
  ASSERT_EQ(json["plugins"].size(), 15u);
  int loadable = 0;
  for (const auto& plugin : json["plugins"]) {
    if (plugin["loadable"].get<bool>()) {
      ++loadable;
      EXPECT_TRUE(plugin["fingerprint_matches"].get<bool>());
      EXPECT_EQ(plugin["reason"], "");
    } else {
      EXPECT_NE(plugin["reason"].get<std::string>().find(plugin["file"].get<std::string>()),
                std::string::npos);
    }
  }
  EXPECT_EQ(loadable, 5);
}

TEST(CliTest, PluginsListOfAMissingFolderFailsWithAHint) {
  auto result = Scaleout({"plugins", "list", "--plugin-dir", FixturePluginDir("nowhere")});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("does not exist"), std::string::npos);
  EXPECT_NE(result.err.find("--plugin-dir"), std::string::npos);
  EXPECT_TRUE(result.out.empty());
}

TEST(CliTest, PluginsUsageErrors) {
  EXPECT_EQ(Scaleout({"plugins"}).exit_code, 2);
  auto unknown = Scaleout({"plugins", "install"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown action 'install'"), std::string::npos);
  auto bad_option = Scaleout({"plugins", "list", "--colour"});
  EXPECT_EQ(bad_option.exit_code, 2);
  EXPECT_NE(bad_option.err.find("colour"), std::string::npos);
  EXPECT_EQ(Scaleout({"plugins", "list", "extra"}).exit_code, 2);
  EXPECT_EQ(Scaleout({"plugins", "list", "--plugin-dir"}).exit_code, 2);
}

}  // namespace
}  // namespace scaleout
