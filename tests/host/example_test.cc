// examples/executor-hello, built the way a plugin author builds it: install
// the SDK from this build tree, configure and build the example against it
// with find_package(scaleout), then list it with `scaleout plugins list`,
// load it with the loader, create it and run it.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "host/plugin_loader.h"
#include "tests/support/test_util.h"

namespace scaleout {
namespace {

namespace fs = std::filesystem;

test::ProcessResult Cmake(const std::vector<std::string>& args) {
  return test::RunProcess(SCALEOUT_TEST_CMAKE_COMMAND, args);
}

std::string Describe(const test::ProcessResult& result) {
  return "exit " + std::to_string(result.exit_code) + "\nstdout:\n" + result.out + "\nstderr:\n" +
         result.err;
}

// Installs the SDK under `work`/prefix and builds the example against it in
// `work`/build; the plugin lands in `*plugin_dir`.
void BuildExample(const fs::path& work, fs::path* plugin_dir) {
  const fs::path prefix = work / "prefix";
  const fs::path build = work / "build";
  auto install = Cmake(
      {"--install", SCALEOUT_TEST_BINARY_DIR, "--component", "sdk", "--prefix", prefix.string()});
  ASSERT_EQ(install.exit_code, 0) << Describe(install);

  std::vector<std::string> configure = {
      "-S",
      (fs::path(SCALEOUT_TEST_SOURCE_DIR) / "examples" / "executor-hello").string(),
      "-B",
      build.string(),
      "-G",
      SCALEOUT_TEST_CMAKE_GENERATOR,
      "-DCMAKE_PREFIX_PATH=" + prefix.string(),
      std::string("-DCMAKE_CXX_COMPILER=") + SCALEOUT_TEST_CXX_COMPILER,
      "-DCMAKE_BUILD_TYPE=RelWithDebInfo"};
  if (std::string(SCALEOUT_TEST_MAKE_PROGRAM).size() > 0) {
    configure.push_back("-DCMAKE_MAKE_PROGRAM=" SCALEOUT_TEST_MAKE_PROGRAM);
  }
  if (std::string(SCALEOUT_TEST_CXX_COMPILER_LAUNCHER).size() > 0) {
    configure.push_back("-DCMAKE_CXX_COMPILER_LAUNCHER=" SCALEOUT_TEST_CXX_COMPILER_LAUNCHER);
  }
  if (std::string(SCALEOUT_TEST_SANITIZE).size() > 0) {
    // Instrument the example like the host; ScaleoutPlugin.cmake then
    // leaves the sanitizer runtime to the host, as in-tree.
    configure.push_back("-DSCALEOUT_SANITIZE=" SCALEOUT_TEST_SANITIZE);
    configure.push_back("-DCMAKE_CXX_FLAGS=-fsanitize=" SCALEOUT_TEST_SANITIZE
                        " -fno-omit-frame-pointer");
  }
  auto configured = Cmake(configure);
  ASSERT_EQ(configured.exit_code, 0) << Describe(configured);
  auto built = Cmake({"--build", build.string(), "-j", "2"});
  ASSERT_EQ(built.exit_code, 0) << Describe(built);
  *plugin_dir = build / "plugins";
}

void CheckInstalledSdk(const fs::path& prefix) {
  SCOPED_TRACE("the installed SDK");
  bool found_config = false;
  for (const auto& entry : fs::recursive_directory_iterator(prefix)) {
    if (entry.path().filename() == "scaleoutConfig.cmake") found_config = true;
  }
  EXPECT_TRUE(found_config);
  EXPECT_TRUE(fs::exists(prefix / "include" / "scaleout" / "sdk" / "plugin.h"));
  EXPECT_TRUE(fs::exists(prefix / "include" / "scaleout" / "sdk" / "version.h"));
}

void CheckTheHostListsIt(const fs::path& plugin_dir) {
  SCOPED_TRACE("scaleout plugins list");
  auto result = test::RunProcess(test::HostBinary(),
                                 {"plugins", "list", "--plugin-dir", plugin_dir.string()});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_NE(result.out.find("executor/hello"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("1.0.0"), std::string::npos);
  EXPECT_NE(result.out.find("match"), std::string::npos);
  EXPECT_EQ(result.out.find("refused"), std::string::npos) << result.out;
}

void CheckTheLoaderCreatesAndRunsIt(const fs::path& plugin_dir) {
  SCOPED_TRACE("load, create, run");
  test::CapturingLogger logger;
  host::PluginLoader loader(logger);
  const auto refused = loader.LoadDirectory(plugin_dir);
  ASSERT_TRUE(refused.empty()) << refused.front().reason;
  sdk::ConfigView::Map settings{{"greeting", "hello"}};
  auto made = loader.CreateExecutor("hello", sdk::ConfigView(settings, "executor.hello"));
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  auto executor = std::move(made).value();
  ASSERT_TRUE(executor->Start().ok());

  test::TempDir work_dir;
  sdk::TaskSpec task;
  task.package_name = "greet.dtsx";
  task.work_dir = work_dir.path().string();
  task.parameters = {
      {sdk::ParameterObjectType::kPackage, "WHO", "tester", "String", false},
      {sdk::ParameterObjectType::kProject, "ALSO", "plugin author", "String", false}};
  test::CollectingEventSink events;
  test::SettableCancellationToken cancel;
  auto outcome = executor->Run(task, events, cancel);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kSucceeded);
  const auto emitted = events.events();
  ASSERT_EQ(emitted.size(), 2u);
  EXPECT_EQ(emitted[0].message, "hello tester");
  EXPECT_EQ(emitted[1].message, "hello plugin author");
  EXPECT_EQ(test::ReadFile(work_dir / "hello.txt"), "hello tester\nhello plugin author\n");
  executor->Stop();
}

void CheckItRefusesBadInput(const fs::path& plugin_dir, const fs::path& missing_dir) {
  SCOPED_TRACE("bad settings, unwritable work folder");
  test::CapturingLogger logger;
  host::PluginLoader loader(logger);
  ASSERT_TRUE(loader.LoadDirectory(plugin_dir).empty());
  sdk::ConfigView::Map typo{{"greting", "hi"}};
  auto refused = loader.CreateExecutor("hello", sdk::ConfigView(typo, "executor.hello"));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("executor.hello.greting"), std::string::npos);

  sdk::ConfigView::Map none;
  auto executor = std::move(loader.CreateExecutor("hello", {none, "executor.hello"})).value();
  sdk::TaskSpec task;
  task.work_dir = (missing_dir / "no" / "such" / "folder").string();
  test::CollectingEventSink events;
  test::SettableCancellationToken cancel;
  auto outcome = executor->Run(task, events, cancel);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), sdk::StatusCode::kFailedPrecondition);
  EXPECT_NE(outcome.status().message().find("hello.txt"), std::string::npos);
  EXPECT_TRUE(events.events().empty());
}

TEST(ExampleExecutorTest, BuildsAgainstTheInstalledSdkAndRunsInTheHost) {
  test::TempDir work;
  fs::path plugin_dir;
  ASSERT_NO_FATAL_FAILURE(BuildExample(work.path(), &plugin_dir));
  CheckInstalledSdk(work / "prefix");
  CheckTheHostListsIt(plugin_dir);
  CheckTheLoaderCreatesAndRunsIt(plugin_dir);
  CheckItRefusesBadInput(plugin_dir, work.path());
}

}  // namespace
}  // namespace scaleout
