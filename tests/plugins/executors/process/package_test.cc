// Package resolution, manifests, environment names and line splitting.
#include "plugins/executors/process/package.h"

#include <unistd.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plugins/executors/process/line_splitter.h"
#include "tests/plugins/executors/process/test_util.h"

namespace scaleout::plugins::process {
namespace {

using scaleout::testing::TempDir;
using scaleout::testing::WriteFile;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

sdk::ExecutionParameter Param(sdk::ParameterObjectType type, std::string name, std::string value) {
  return {type, std::move(name), std::move(value), "String", false};
}

// The package's full environment, in "NAME=value" form, as
// PackageEnvironment(base).ForTask() gives it to execve().
sdk::Result<std::vector<std::string>> BuildEnvironment(const sdk::TaskSpec& task,
                                                       const EnvMap& base,
                                                       const EnvMap& manifest_env) {
  const PackageEnvironment prepared(base);
  std::vector<std::string> own;
  SCALEOUT_ASSIGN_OR_RETURN(const std::vector<char*> pointers,
                            prepared.ForTask(task, manifest_env, &own));
  std::vector<std::string> out;
  out.reserve(pointers.size() - 1);
  for (const char* entry : pointers) {
    if (entry != nullptr) out.emplace_back(entry);
  }
  return out;
}

// A manifest is parsed again once its file changes; a command that went
// away since is still found missing, cached or not.
TEST(PackageResolverTest, ReadsAChangedManifestAgainAndChecksTheCommandEachTime) {
  TempDir dir;
  sdk::TaskSpec task;
  task.project_dir = dir.path();
  task.package_name = "run.cmd.json";
  const std::string manifest = dir.path() + "/run.cmd.json";
  const std::string tool = dir.path() + "/tool.sh";
  WriteFile(tool, "#!/bin/sh\n", 0755);
  WriteFile(manifest, R"({"command": ["/bin/true"]})");
  PackageResolver resolver;
  auto first = resolver.Resolve(task, "/usr/bin:/bin");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->program, "/bin/true");
  auto again = resolver.Resolve(task, "/usr/bin:/bin");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->args, first->args);

  WriteFile(manifest, R"({"command": ["./tool.sh", "with", "args"]})");
  auto changed = resolver.Resolve(task, "/usr/bin:/bin");
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_THAT(changed->args, ElementsAre(::testing::EndsWith("tool.sh"), "with", "args"));

  ASSERT_EQ(::unlink(tool.c_str()), 0);
  auto gone = resolver.Resolve(task, "/usr/bin:/bin");
  EXPECT_EQ(gone.status().code(), sdk::StatusCode::kNotFound) << gone.status().ToString();

  ASSERT_EQ(::unlink(manifest.c_str()), 0);
  auto no_manifest = resolver.Resolve(task, "/usr/bin:/bin");
  EXPECT_EQ(no_manifest.status().code(), sdk::StatusCode::kNotFound);
}

TEST(EnvVarNameTest, UpperCasesAndReplacesEverythingElse) {
  EXPECT_EQ(EnvVarName("SCALEOUT_PARAM_", "Server.Name"), "SCALEOUT_PARAM_SERVER_NAME");
  EXPECT_EQ(EnvVarName("SCALEOUT_PARAM_", "rows2"), "SCALEOUT_PARAM_ROWS2");
  EXPECT_EQ(EnvVarName("SCALEOUT_SYS_", "caller info-é"), "SCALEOUT_SYS_CALLER_INFO___");
}

TEST(BuildEnvironmentTest, PackageParameterWinsOverProjectParameterInEitherOrder) {
  sdk::TaskSpec task;
  task.parameters = {Param(sdk::ParameterObjectType::kPackage, "Mode", "package"),
                     Param(sdk::ParameterObjectType::kProject, "mode", "project")};
  auto env = BuildEnvironment(task, {}, {});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_THAT(*env, Contains("SCALEOUT_PARAM_MODE=package"));
  EXPECT_THAT(*env, Not(Contains("SCALEOUT_PARAM_MODE=project")));

  std::swap(task.parameters[0], task.parameters[1]);
  env = BuildEnvironment(task, {}, {});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_THAT(*env, Contains("SCALEOUT_PARAM_MODE=package"));
}

// Each variable once: the base's, unless the manifest, the task's own
// SCALEOUT_ variables or a parameter set it.
TEST(BuildEnvironmentTest, EachVariableOnceWithTheTasksValueOverTheBase) {
  sdk::TaskSpec task;
  task.task_id = "t1";
  task.parameters = {Param(sdk::ParameterObjectType::kPackage, "Rows", "7")};
  const EnvMap base = {{"PATH", "/bin"},
                       {"HOME", "/h"},
                       {"SCALEOUT_TASK_ID", "stale"},
                       {"SCALEOUT_PARAM_ROWS", "old"}};
  auto env = BuildEnvironment(task, base, {{"HOME", "/m"}, {"EXTRA", "e"}});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_THAT(*env, Contains("PATH=/bin"));
  EXPECT_THAT(*env, Contains("HOME=/m"));
  EXPECT_THAT(*env, Contains("EXTRA=e"));
  EXPECT_THAT(*env, Contains("SCALEOUT_TASK_ID=t1"));
  EXPECT_THAT(*env, Contains("SCALEOUT_PARAM_ROWS=7"));
  std::set<std::string> keys;
  for (const std::string& entry : *env) {
    EXPECT_TRUE(keys.insert(entry.substr(0, entry.find('='))).second) << "twice: " << entry;
  }
}

// The base's entries are joined once and shared by every task's envp; a
// name the task sets replaces the base's entry rather than doubling it.
TEST(PackageEnvironmentTest, TasksShareTheBaseEntriesAndOverrideByName) {
  const PackageEnvironment prepared({{"HOME", "/h"}, {"PATH", "/bin"}, {"ZED", "z"}});
  auto entries = [](const std::vector<char*>& envp) {
    std::vector<std::string> out;
    EXPECT_FALSE(envp.empty());
    EXPECT_EQ(envp.back(), nullptr);
    for (const char* entry : envp) {
      if (entry != nullptr) out.emplace_back(entry);
    }
    return out;
  };
  auto find = [](const std::vector<char*>& envp, std::string_view text) -> const char* {
    for (const char* entry : envp) {
      if (entry != nullptr && text == entry) return entry;
    }
    return nullptr;
  };
  sdk::TaskSpec first;
  first.task_id = "t1";
  std::vector<std::string> first_own;
  auto first_envp = prepared.ForTask(first, {}, &first_own);
  ASSERT_TRUE(first_envp.ok()) << first_envp.status().ToString();
  sdk::TaskSpec second;
  second.task_id = "t2";
  std::vector<std::string> second_own;
  auto second_envp = prepared.ForTask(second, {{"HOME", "/m"}}, &second_own);
  ASSERT_TRUE(second_envp.ok()) << second_envp.status().ToString();

  const char* path_in_first = find(*first_envp, "PATH=/bin");
  ASSERT_NE(path_in_first, nullptr);
  EXPECT_EQ(path_in_first, find(*second_envp, "PATH=/bin"));  // one string for both
  EXPECT_THAT(entries(*first_envp), Contains("HOME=/h"));
  EXPECT_THAT(entries(*first_envp), Contains("SCALEOUT_TASK_ID=t1"));
  EXPECT_THAT(entries(*second_envp), Contains("HOME=/m"));
  EXPECT_THAT(entries(*second_envp), Not(Contains("HOME=/h")));
  EXPECT_THAT(entries(*second_envp), Contains("ZED=z"));
  EXPECT_THAT(entries(*second_envp), Contains("SCALEOUT_TASK_ID=t2"));
  EXPECT_EQ(entries(*second_envp).size(), entries(*first_envp).size());
}

TEST(BuildEnvironmentTest, SameTypeCollisionIsRefusedNamingBoth) {
  sdk::TaskSpec task;
  task.parameters = {Param(sdk::ParameterObjectType::kPackage, "a.b", "1"),
                     Param(sdk::ParameterObjectType::kPackage, "A_B", "2")};
  auto env = BuildEnvironment(task, {}, {});
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().code(), sdk::StatusCode::kInvalidArgument);
  EXPECT_THAT(env.status().message(), HasSubstr("'a.b' and 'A_B' both map to SCALEOUT_PARAM_A_B"));
}

TEST(BuildEnvironmentTest, SystemParametersHaveTheirOwnPrefix) {
  sdk::TaskSpec task;
  task.parameters = {Param(sdk::ParameterObjectType::kSystem, "LOGGING_LEVEL", "3"),
                     Param(sdk::ParameterObjectType::kPackage, "LOGGING_LEVEL", "x")};
  auto env = BuildEnvironment(task, {{"HOME", "/h"}}, {{"EXTRA", "e"}});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_THAT(*env, Contains("SCALEOUT_SYS_LOGGING_LEVEL=3"));
  EXPECT_THAT(*env, Contains("SCALEOUT_PARAM_LOGGING_LEVEL=x"));
  EXPECT_THAT(*env, Contains("HOME=/h"));
  EXPECT_THAT(*env, Contains("EXTRA=e"));
}

TEST(BuildEnvironmentTest, BadParametersAreRefused) {
  sdk::TaskSpec task;
  task.parameters = {Param(sdk::ParameterObjectType::kPackage, "", "1")};
  EXPECT_EQ(BuildEnvironment(task, {}, {}).status().code(), sdk::StatusCode::kInvalidArgument);
  task.parameters = {Param(sdk::ParameterObjectType::kPackage, "nul", std::string("a\0b", 3))};
  auto env = BuildEnvironment(task, {}, {});
  ASSERT_FALSE(env.ok());
  EXPECT_THAT(env.status().message(), HasSubstr("NUL"));
  task.parameters = {Param(static_cast<sdk::ParameterObjectType>(40), "x", "1")};
  env = BuildEnvironment(task, {}, {});
  ASSERT_FALSE(env.ok());
  EXPECT_THAT(env.status().message(), HasSubstr("unknown object type 40"));
}

TEST(BaseEnvironmentTest, DropsScaleoutNamesAndKeepsOthers) {
  ::setenv("SCALEOUT_SYS_STALE", "1", 1);
  ::setenv("SCALEOUT_TEST_KEEP_ME_NOT", "1", 1);
  const EnvMap env = BaseEnvironment(true);
  ::unsetenv("SCALEOUT_SYS_STALE");
  ::unsetenv("SCALEOUT_TEST_KEEP_ME_NOT");
  EXPECT_EQ(env.count("SCALEOUT_SYS_STALE"), 0u);
  EXPECT_EQ(env.count("SCALEOUT_TEST_KEEP_ME_NOT"), 0u);
  EXPECT_EQ(env.count("PATH"), 1u);
  EXPECT_EQ(BaseEnvironment(false), (EnvMap{{"PATH", "/usr/local/bin:/usr/bin:/bin"}}));
}

struct BadManifest {
  const char* text;
  const char* error;
};

class ManifestErrorTest : public ::testing::TestWithParam<BadManifest> {};

TEST_P(ManifestErrorTest, IsRefusedWithAClearReason) {
  auto command = ParseManifest(GetParam().text, "/nonexistent-project", "/usr/bin:/bin");
  ASSERT_FALSE(command.ok()) << GetParam().text;
  EXPECT_THAT(command.status().message(), HasSubstr(GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(
    Manifests, ManifestErrorTest,
    ::testing::Values(
        BadManifest{"not json", "not valid JSON"}, BadManifest{"[1]", "must be a JSON object"},
        BadManifest{"{}", "lacks 'command'"}, BadManifest{R"({"command": []})", "non-empty array"},
        BadManifest{R"({"command": "/bin/true"})", "non-empty array"},
        BadManifest{R"({"command": ["/bin/true", 1]})", "only strings"},
        BadManifest{R"({"command": [""]})", "command[0] is empty"},
        BadManifest{R"({"command": ["/bin/true"], "env": []})", "'env' must be an object"},
        BadManifest{R"({"command": ["/bin/true"], "env": {"A": 1}})", "must be a string"},
        BadManifest{R"({"command": ["/bin/true"], "env": {"A=B": "x"}})", "not a valid name"},
        BadManifest{R"({"command": ["/bin/true"], "env": {"SCALEOUT_X": "x"}})", "reserved"},
        BadManifest{R"({"command": ["/bin/true"], "timeout_s": -1})", "non-negative integer"},
        BadManifest{R"({"command": ["/bin/true"], "timeout_s": "5"})", "non-negative integer"},
        BadManifest{R"({"command": ["/bin/true"], "args": []})", "'args' is unknown"},
        BadManifest{R"({"command": ["no-such-command-xyz"]})", "not found in PATH"},
        BadManifest{R"({"command": ["bin/run.sh"]})", "/nonexistent-project/bin/run.sh"}));

TEST(ManifestTest, ResolvesBareNamesThroughPath) {
  auto command = ParseManifest(R"({"command": ["sh", "-c", "true"], "timeout_s": 9})", "/p",
                               "/nonexistent:/bin:/usr/bin");
  ASSERT_TRUE(command.ok()) << command.status().ToString();
  EXPECT_THAT(command->program, ::testing::AnyOf("/bin/sh", "/usr/bin/sh"));
  EXPECT_THAT(command->args, ElementsAre("sh", "-c", "true"));
  EXPECT_EQ(command->timeout_s, 9);
}

TEST(LineSplitterTest, SplitsAcrossChunksAndDropsCarriageReturns) {
  LineSplitter splitter(64);
  std::vector<std::string> lines;
  splitter.Feed("fir", &lines);
  splitter.Feed("st\r\nsec", &lines);
  splitter.Feed("ond\n\nthird", &lines);
  splitter.Finish(&lines);
  EXPECT_THAT(lines, ElementsAre("first", "second", "", "third"));
}

TEST(LineSplitterTest, TruncatesAndCountsWhatWasDropped) {
  LineSplitter splitter(4);
  std::vector<std::string> lines;
  splitter.Feed("abcdefg", &lines);
  splitter.Feed("hij\nok\n", &lines);
  EXPECT_THAT(lines, ElementsAre("abcd [truncated 6 bytes]", "ok"));
}

}  // namespace
}  // namespace scaleout::plugins::process
