// The loader's rules: every refusal (one deliberately broken fixture plugin
// per case), the ABI and fingerprint checks, duplicates, loading once, and
// create() failing or throwing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "host/plugin_loader.h"
#include "tests/support/test_util.h"

namespace scaleout {
namespace {

namespace fs = std::filesystem;

fs::path FixtureDir(std::string_view name) {
  return fs::path(SCALEOUT_TEST_FIXTURE_PLUGIN_DIR) / name;
}

fs::path FixtureFile(std::string_view name, std::string_view file) {
  return FixtureDir(name) / file;
}

struct RefusalCase {
  const char* folder;
  const char* file;
  sdk::StatusCode code;
  const char* cause;  // words the one-line reason must contain
};

void PrintTo(const RefusalCase& c, std::ostream* os) { *os << c.folder; }

class LoaderRefusalTest : public ::testing::TestWithParam<RefusalCase> {
 protected:
  test::CapturingLogger logger_;
  host::PluginLoader loader_{logger_};
};

TEST_P(LoaderRefusalTest, RefusesWithAOneLineReasonNamingTheFileAndTheCause) {
  const RefusalCase& c = GetParam();
  const fs::path file = FixtureFile(c.folder, c.file);
  ASSERT_TRUE(fs::exists(file)) << file;

  sdk::Status status = loader_.LoadFile(file);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), c.code) << status.ToString();
  EXPECT_NE(status.message().find(file.string()), std::string::npos) << status.message();
  EXPECT_NE(status.message().find(c.cause), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find('\n'), std::string::npos) << "not one line";
  EXPECT_TRUE(loader_.LoadedNames().empty());
  EXPECT_TRUE(logger_.Contains(c.file)) << "the refusal is logged";
}

TEST_P(LoaderRefusalTest, DiscoveryReportsTheSameReasonWithoutCreating) {
  const RefusalCase& c = GetParam();
  const auto found = loader_.Discover(FixtureDir(c.folder));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_FALSE(found[0].loadable);
  EXPECT_EQ(found[0].file.filename(), c.file);
  EXPECT_NE(found[0].reason.find(c.cause), std::string::npos) << found[0].reason;
}

TEST_P(LoaderRefusalTest, LoadDirectoryReturnsTheRefusal) {
  const RefusalCase& c = GetParam();
  const auto refused = loader_.LoadDirectory(FixtureDir(c.folder));
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].file.filename(), c.file);
  EXPECT_NE(refused[0].reason.find(c.cause), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    EveryBrokenPlugin, LoaderRefusalTest,
    ::testing::Values(RefusalCase{"not_a_plugin", "libscaleout_executor_text.so",
                                  sdk::StatusCode::kInvalidArgument, "not an ELF shared library"},
                      RefusalCase{"no_entry_point", "libscaleout_executor_fixture_no_entry.so",
                                  sdk::StatusCode::kInvalidArgument,
                                  "does not export scaleout_plugin_descriptor"},
                      RefusalCase{"unresolved_symbol", "libscaleout_executor_fixture_unresolved.so",
                                  sdk::StatusCode::kInvalidArgument,
                                  "undefined symbol: scaleout_fixture_symbol_nobody_defines"},
                      RefusalCase{"null_descriptor",
                                  "libscaleout_executor_fixture_null_descriptor.so",
                                  sdk::StatusCode::kInvalidArgument, "returned no descriptor"},
                      RefusalCase{"wrong_abi_major", "libscaleout_executor_fixture_abi_major.so",
                                  sdk::StatusCode::kFailedPrecondition, "major differs"},
                      RefusalCase{"newer_abi_minor", "libscaleout_executor_fixture_abi_minor.so",
                                  sdk::StatusCode::kFailedPrecondition, "newer than this host's"},
                      RefusalCase{"short_descriptor", "libscaleout_executor_fixture_short.so",
                                  sdk::StatusCode::kFailedPrecondition, "descriptor of 16 bytes"},
                      RefusalCase{"fingerprint_mismatch",
                                  "libscaleout_executor_fixture_fingerprint.so",
                                  sdk::StatusCode::kFailedPrecondition, "fingerprint mismatch"},
                      RefusalCase{"unknown_kind", "libscaleout_executor_fixture_unknown_kind.so",
                                  sdk::StatusCode::kInvalidArgument, "unknown plugin kind 9"}),
    [](const ::testing::TestParamInfo<RefusalCase>& param) {
      return std::string(param.param.folder);
    });

class LoaderTest : public ::testing::Test {
 protected:
  test::CapturingLogger logger_;
  host::PluginLoader loader_{logger_};
  sdk::ConfigView::Map values_;
  sdk::ConfigView config_{values_, "executor.test"};
};

TEST_F(LoaderTest, TheFingerprintRuleComparesWithTheHostsOwn) {
  EXPECT_STREQ(host::HostBuildFingerprint(), SCALEOUT_BUILD_FINGERPRINT);
  const auto found = loader_.Discover(FixtureDir("fingerprint_mismatch"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].fingerprint, "sdk=999,otherstdlib,ptr=4");
  EXPECT_FALSE(found[0].fingerprint_matches);
  EXPECT_NE(found[0].reason.find(host::HostBuildFingerprint()), std::string::npos);
}

TEST_F(LoaderTest, ANewerMinorIsReportedWithItsVersion) {
  const auto found = loader_.Discover(FixtureDir("newer_abi_minor"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].abi,
            std::to_string(sdk::kAbiMajor) + "." + std::to_string(sdk::kAbiMinor + 1));
}

TEST_F(LoaderTest, DiscoveryOfEverythingNeverCallsCreate) {
  // The tripwire fixture aborts the process if its create() is ever called.
  const auto found = loader_.Discover(FixtureDir("all"));
  int loadable = 0;
  for (const auto& info : found) {
    if (info.loadable) ++loadable;
    EXPECT_EQ(info.loadable, info.reason.empty()) << info.file;
  }
  // create_fails, create_throws, dup_a, tripwire and unloadable are well-formed.
  EXPECT_EQ(loadable, 5);
  EXPECT_EQ(found.size(), 15u);
  EXPECT_TRUE(std::is_sorted(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.file.filename() < b.file.filename();
  }));
}

TEST_F(LoaderTest, ADuplicateKindAndNameIsRefusedNamingBothFiles) {
  const auto refused = loader_.LoadDirectory(FixtureDir("duplicate"));
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].file.filename(), "libscaleout_executor_fixture_dup_b.so");
  EXPECT_NE(refused[0].reason.find("duplicate kind/name"), std::string::npos);
  EXPECT_NE(refused[0].reason.find("libscaleout_executor_fixture_dup_a.so"), std::string::npos);
  EXPECT_EQ(loader_.LoadedNames(), std::vector<std::string>{"executor/fixture_dup"});

  sdk::Status again =
      loader_.LoadFile(FixtureFile("duplicate", "libscaleout_executor_fixture_dup_b.so"));
  EXPECT_EQ(again.code(), sdk::StatusCode::kAlreadyExists);
}

TEST_F(LoaderTest, LoadsAFileOnlyOnce) {
  const fs::path noop = test::InTreePluginFile("executor/noop");
  ASSERT_TRUE(loader_.LoadFile(noop).ok());
  ASSERT_TRUE(loader_.LoadFile(noop).ok());
  ASSERT_TRUE(loader_.LoadFile(noop.parent_path() / "." / noop.filename()).ok());
  EXPECT_EQ(loader_.LoadedNames(), std::vector<std::string>{"executor/noop"});
  const auto plugins = loader_.LoadedPlugins();
  ASSERT_EQ(plugins.size(), 1u);
  EXPECT_EQ(plugins[0].version, "0.1.0");
  EXPECT_TRUE(plugins[0].fingerprint_matches);
}

TEST_F(LoaderTest, TheGoodInTreePluginsLoadAndCreate) {
  for (const char* name : {"executor/noop", "transport/inproc", "storage/null"}) {
    ASSERT_TRUE(test::LoadInTreePlugin(loader_, name).ok()) << name;
  }
  auto executor = loader_.CreateExecutor("noop", config_);
  EXPECT_TRUE(executor.ok()) << executor.status().ToString();
  auto transport = loader_.CreateTransport("transport/inproc", config_);
  EXPECT_TRUE(transport.ok()) << transport.status().ToString();
  auto storage = loader_.CreateStorage("null", config_);
  EXPECT_TRUE(storage.ok()) << storage.status().ToString();
}

TEST_F(LoaderTest, CreateFailingReturnsThePluginsOwnCodeAndReason) {
  const fs::path file = FixtureFile("create_fails", "libscaleout_executor_fixture_create_fails.so");
  ASSERT_TRUE(loader_.LoadFile(file).ok());
  auto made = loader_.CreateExecutor("fixture_create_fails", config_);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), sdk::StatusCode::kFailedPrecondition);
  EXPECT_NE(made.status().message().find("refuses to start"), std::string::npos);
  EXPECT_NE(made.status().message().find(file.string()), std::string::npos);
}

TEST_F(LoaderTest, CreateThrowingIsCaughtAtTheBoundary) {
  const fs::path file =
      FixtureFile("create_throws", "libscaleout_executor_fixture_create_throws.so");
  ASSERT_TRUE(loader_.LoadFile(file).ok());
  auto made = loader_.CreateExecutor("executor/fixture_create_throws", config_);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), sdk::StatusCode::kInternal);
  EXPECT_NE(made.status().message().find("threw"), std::string::npos);
  EXPECT_NE(made.status().message().find("deliberate"), std::string::npos);
  EXPECT_NE(made.status().message().find(file.filename().string()), std::string::npos);
}

TEST_F(LoaderTest, AnUnknownNameListsWhatIsLoaded) {
  ASSERT_TRUE(test::LoadInTreePlugin(loader_, "executor/noop").ok());
  auto made = loader_.CreateExecutor("process", config_);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), sdk::StatusCode::kNotFound);
  EXPECT_NE(made.status().message().find("executor/process"), std::string::npos);
  EXPECT_NE(made.status().message().find("executor/noop"), std::string::npos);

  auto wrong_kind = loader_.CreateTransport("noop", config_);
  ASSERT_FALSE(wrong_kind.ok());
  EXPECT_NE(wrong_kind.status().message().find("(none)"), std::string::npos);
}

TEST_F(LoaderTest, AMissingFileOrFolderIsNotFound) {
  sdk::Status status = loader_.LoadFile(FixtureDir("nowhere") / "libscaleout_executor_x.so");
  EXPECT_EQ(status.code(), sdk::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("libscaleout_executor_x.so"), std::string::npos);

  const auto refused = loader_.LoadDirectory(FixtureDir("nowhere"));
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0].reason.find("does not exist"), std::string::npos);
  EXPECT_TRUE(loader_.Discover(FixtureDir("nowhere")).empty());
}

TEST_F(LoaderTest, DiscoveryIgnoresFilesThatAreNotNamedLikePlugins) {
  test::TempDir dir;
  test::WriteFile(dir / "README.txt", "not a plugin");
  test::WriteFile(dir / "libother.so", "not ours");
  fs::copy_file(test::InTreePluginFile("executor/noop"), dir / "libscaleout_executor_noop.so");
  const auto found = loader_.Discover(dir.path());
  ASSERT_EQ(found.size(), 1u);
  EXPECT_TRUE(found[0].loadable);
  EXPECT_EQ(found[0].full_name(), "executor/noop");
}

TEST(DefaultPluginDirTest, HonoursTheEnvironmentVariable) {
  const char* previous = std::getenv("SCALEOUT_PLUGIN_DIR");
  const std::string saved = previous != nullptr ? previous : "";
  ::setenv("SCALEOUT_PLUGIN_DIR", "/opt/plugins", 1);
  EXPECT_EQ(host::DefaultPluginDir(), fs::path("/opt/plugins"));
  ::unsetenv("SCALEOUT_PLUGIN_DIR");
  // Without it: <exe dir>/../lib/scaleout/plugins, here the test binary's.
  EXPECT_EQ(host::DefaultPluginDir().filename(), "plugins");
  if (previous != nullptr) ::setenv("SCALEOUT_PLUGIN_DIR", saved.c_str(), 1);
}

}  // namespace
}  // namespace scaleout
