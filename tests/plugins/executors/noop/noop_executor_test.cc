// executor/noop, loaded through the real loader from the build's plugin folder.
#include <gtest/gtest.h>

#include "host/plugin_loader.h"
#include "tests/support/test_util.h"

namespace scaleout {
namespace {

class NoopExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::LoadInTreePlugin(loader_, "executor/noop").ok());
    auto made = loader_.CreateExecutor("noop", config_);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    executor_ = std::move(made).value();
    ASSERT_TRUE(executor_->Start().ok());
  }
  void TearDown() override {
    if (executor_) executor_->Stop();
  }

  sdk::TaskSpec Task(std::vector<sdk::ExecutionParameter> parameters = {}) {
    sdk::TaskSpec task;
    task.execution_id = 7;
    task.task_id = "8D3F1A0C-4B7E-4F2A-9C61-0E5B2D7A9F13";
    task.package_name = "load.dtsx";
    task.parameters = std::move(parameters);
    return task;
  }

  test::CapturingLogger logger_;
  host::PluginLoader loader_{logger_};
  sdk::ConfigView::Map values_;
  sdk::ConfigView config_{values_, "executor.noop"};
  host::PluginPtr<sdk::Executor> executor_;
  test::CollectingEventSink events_;
  test::SettableCancellationToken cancel_;
};

TEST_F(NoopExecutorTest, SucceedsAndEmitsOneInformationEvent) {
  auto outcome = executor_->Run(Task(), events_, cancel_);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kSucceeded);
  EXPECT_EQ(outcome->exit_code, 0);
  const auto events = events_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].message_type, sdk::MessageType::kInformation);
  EXPECT_NE(events[0].message.find("load.dtsx"), std::string::npos);
}

TEST_F(NoopExecutorTest, FailsWhenAskedTo) {
  auto outcome = executor_->Run(
      Task({{sdk::ParameterObjectType::kPackage, "NOOP_RESULT", "fail", "String", false}}), events_,
      cancel_);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->result, sdk::TaskResult::kFailed);
  EXPECT_EQ(outcome->exit_code, 1);
  EXPECT_NE(outcome->message.find("NOOP_RESULT"), std::string::npos);
}

TEST_F(NoopExecutorTest, RejectsAnUnknownResultValue) {
  auto outcome = executor_->Run(
      Task({{sdk::ParameterObjectType::kPackage, "NOOP_RESULT", "maybe", "String", false}}),
      events_, cancel_);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), sdk::StatusCode::kInvalidArgument);
  EXPECT_NE(outcome.status().message().find("'maybe'"), std::string::npos);
  EXPECT_TRUE(events_.events().empty());
}

TEST_F(NoopExecutorTest, RejectsABadSleepValue) {
  auto outcome = executor_->Run(
      Task({{sdk::ParameterObjectType::kPackage, "NOOP_SLEEP_MS", "-5", "Int32", false}}), events_,
      cancel_);
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.status().message().find("NOOP_SLEEP_MS"), std::string::npos);
}

TEST_F(NoopExecutorTest, ReportsCancelledWhenCancelledWhileSleeping) {
  cancel_.Cancel();  // set before Run: the hour-long sleep must end at once
  auto outcome = executor_->Run(
      Task({{sdk::ParameterObjectType::kPackage, "NOOP_SLEEP_MS", "3600000", "Int32", false}}),
      events_, cancel_);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->result, sdk::TaskResult::kCancelled);
}

TEST(NoopExecutorConfigTest, RefusesUnknownSettings) {
  test::CapturingLogger logger;
  host::PluginLoader loader(logger);
  ASSERT_TRUE(test::LoadInTreePlugin(loader, "executor/noop").ok());
  sdk::ConfigView::Map values{{"colour", "blue"}};
  auto made = loader.CreateExecutor("executor/noop", sdk::ConfigView(values, "executor.noop"));
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), sdk::StatusCode::kInvalidArgument);
  EXPECT_NE(made.status().message().find("executor.noop.colour"), std::string::npos);
}

}  // namespace
}  // namespace scaleout
