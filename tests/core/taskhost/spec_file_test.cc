// The spec file: round trip, mode 0600, deletion, bad input.
#include "core/taskhost/spec_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/plugins/executors/process/test_util.h"
#include "tests/support/test_util.h"

namespace scaleout::core::taskhost {
namespace {

using scaleout::testing::TempDir;
using scaleout::testing::WriteFile;
using ::testing::HasSubstr;

TaskHostSpec SampleSpec() {
  TaskHostSpec spec;
  spec.task.execution_id = 9;
  spec.task.task_id = "task-1";
  spec.task.attempt = 3;
  spec.task.project_dir = "/p";
  spec.task.package_name = "load.sh";
  spec.task.work_dir = "/w";
  spec.task.logging_level = 3;
  spec.task.parameters = {{sdk::ParameterObjectType::kProject, "a", "1", "Int32", false},
                          {sdk::ParameterObjectType::kPackage, "pw", "s3cret!", "String", true}};
  spec.executor_config = {{"kill_grace_ms", "100"}};
  spec.log_file = "/w/task.log";
  spec.log_level = 0x0E;
  spec.parent_death_signal = 15;
  spec.parent_pid = 1234;
  return spec;
}

TEST(SpecFileTest, RoundTripsThroughAFileWithMode0600AndIsDeletedOnRead) {
  TempDir dir;
  const std::string path = dir / "spec.json";
  ASSERT_TRUE(WriteSpecFile(path, SampleSpec()).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto read = ReadSpecFile(path, /*remove=*/true);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(path));
  const TaskHostSpec expected = SampleSpec();
  EXPECT_EQ(read->task.execution_id, 9);
  EXPECT_EQ(read->task.task_id, "task-1");
  EXPECT_EQ(read->task.attempt, 3);
  EXPECT_EQ(read->task.package_name, "load.sh");
  EXPECT_EQ(read->task.logging_level, 3);
  ASSERT_EQ(read->task.parameters.size(), 2u);
  EXPECT_EQ(read->task.parameters[1].object_type, sdk::ParameterObjectType::kPackage);
  EXPECT_EQ(read->task.parameters[1].value, "s3cret!");
  EXPECT_TRUE(read->task.parameters[1].sensitive);
  EXPECT_EQ(read->executor_config, expected.executor_config);
  EXPECT_EQ(read->log_file, "/w/task.log");
  EXPECT_EQ(read->log_level, 0x0Eu);
  EXPECT_EQ(read->parent_death_signal, 15);
  EXPECT_EQ(read->parent_pid, 1234);
}

// What SpecToJson wrote before it wrote JSON by hand: a nlohmann DOM,
// dumped with invalid UTF-8 replaced.
std::string SpecThroughDom(const TaskHostSpec& spec) {
  using nlohmann::json;
  json parameters = json::array();
  for (const sdk::ExecutionParameter& p : spec.task.parameters) {
    parameters.push_back({{"object_type", static_cast<int>(p.object_type)},
                          {"name", p.name},
                          {"value", p.value},
                          {"data_type", p.data_type},
                          {"sensitive", p.sensitive}});
  }
  json config = json::object();
  for (const auto& [key, value] : spec.executor_config) config[key] = value;
  json root = {{"task",
                {{"execution_id", spec.task.execution_id},
                 {"task_id", spec.task.task_id},
                 {"attempt", spec.task.attempt},
                 {"project_dir", spec.task.project_dir},
                 {"package_name", spec.task.package_name},
                 {"work_dir", spec.task.work_dir},
                 {"logging_level", spec.task.logging_level},
                 {"parameters", std::move(parameters)}}},
               {"executor_config", std::move(config)},
               {"log_file", spec.log_file},
               {"log_level", spec.log_level},
               {"parent_death_signal", spec.parent_death_signal},
               {"parent_pid", spec.parent_pid}};
  return root.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The hand-written JSON means the same as the DOM's for any bytes in any
// string: quotes, backslashes, every control character, multi-byte UTF-8,
// and invalid UTF-8 (overlong forms, surrogates, truncated sequences, stray
// continuation bytes), which both turn into U+FFFD.
TEST(SpecFileTest, HandWrittenJsonMeansWhatTheDomWrote) {
  std::mt19937 random(20261206);
  auto random_text = [&] { return test::RandomJsonText(random); };
  for (int round = 0; round < 2000; ++round) {
    TaskHostSpec spec = SampleSpec();
    spec.task.task_id = random_text();
    spec.task.project_dir = random_text();
    spec.task.package_name = random_text();
    spec.task.work_dir = random_text();
    spec.task.parameters = {{sdk::ParameterObjectType::kProject, random_text(), random_text(),
                             "String", round % 2 == 0}};
    spec.executor_config = {{random_text(), random_text()}, {"x" + random_text(), ""}};
    spec.log_file = random_text();
    const std::string written = SpecToJson(spec);
    const auto parsed = nlohmann::json::parse(written, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << written;
    ASSERT_EQ(parsed, nlohmann::json::parse(SpecThroughDom(spec))) << written;
    // And it reads back: every valid string exactly.
    auto back = SpecFromJson(written);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->task.parameters.size(), 1u);
  }
}

TEST(SpecFileTest, ReplacesAStaleFileAndNeverFollowsASymlink) {
  TempDir dir;
  const std::string path = dir / "spec.json";
  const std::string target = dir / "elsewhere";
  WriteFile(target, "keep me");
  std::filesystem::create_symlink(target, path);
  ASSERT_TRUE(WriteSpecFile(path, SampleSpec()).ok());
  EXPECT_EQ(scaleout::testing::ReadFile(target), "keep me");
  EXPECT_FALSE(std::filesystem::is_symlink(path));
}

TEST(SpecFileTest, MissingFileIsNotFound) {
  auto read = ReadSpecFile("/nonexistent/spec.json", true);
  EXPECT_EQ(read.status().code(), sdk::StatusCode::kNotFound);
}

TEST(SpecFileTest, UnparsableFileIsRefusedAndStillDeleted) {
  TempDir dir;
  const std::string path = dir / "spec.json";
  WriteFile(path, "{ not json");
  auto read = ReadSpecFile(path, true);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), sdk::StatusCode::kInvalidArgument);
  EXPECT_THAT(read.status().message(), HasSubstr("not valid JSON"));
  EXPECT_FALSE(std::filesystem::exists(path));
}

struct BadSpec {
  std::string text;
  std::string error;
};

class BadSpecTest : public ::testing::TestWithParam<BadSpec> {};

TEST_P(BadSpecTest, NamesTheField) {
  auto spec = SpecFromJson(GetParam().text);
  ASSERT_FALSE(spec.ok()) << GetParam().text;
  EXPECT_THAT(spec.status().message(), HasSubstr(GetParam().error));
}

const std::string kTask =
    R"("execution_id":1,"task_id":"t","attempt":1,"project_dir":"/p","package_name":"x","work_dir":"/w")";

INSTANTIATE_TEST_SUITE_P(
    Specs, BadSpecTest,
    ::testing::Values(
        BadSpec{"[]", "not a JSON object"}, BadSpec{"{}", "lacks the 'task' object"},
        BadSpec{R"({"task":{"execution_id":1}})", "lacks 'task.task_id'"},
        BadSpec{R"({"task":{"execution_id":"1"}})", "'task.execution_id' has the wrong type"},
        BadSpec{"{\"task\":{" + kTask + R"(,"parameters":{}}})",
                "'task.parameters' is not an array"},
        BadSpec{
            "{\"task\":{" + kTask + R"(,"parameters":[{"object_type":40,"name":"a","value":""}]}})",
            "must be 20, 30 or 50"},
        BadSpec{"{\"task\":{" + kTask + R"(,"parameters":[{"object_type":20,"value":""}]}})",
                "lacks 'parameters[0].name'"},
        BadSpec{"{\"task\":{" + kTask + R"(},"executor_config":{"a":1}})",
                "'executor_config.a' is not a string"},
        BadSpec{"{\"task\":{" + kTask + R"(},"log_level":"all"})",
                "'log_level' has the wrong type"}));

}  // namespace
}  // namespace scaleout::core::taskhost
