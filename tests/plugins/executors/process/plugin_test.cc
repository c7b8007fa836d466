// The built libscaleout_executor_process.so: its entry point, its create()
// refusing a bad config, and one package run through a loaded instance.
#include <dlfcn.h>

#include <memory>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/taskhost/cancellation.h"
#include "scaleout/sdk/executor.h"
#include "scaleout/sdk/plugin.h"
#include "tests/plugins/executors/process/test_util.h"

namespace scaleout::plugins::process {
namespace {

using ::testing::HasSubstr;

class PluginModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path =
        std::string(SCALEOUT_TEST_PLUGIN_DIR) + "/libscaleout_executor_process.so";
    handle_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << ::dlerror();
    auto entry = reinterpret_cast<sdk::PluginEntryPoint>(::dlsym(handle_, sdk::kEntryPointName));
    ASSERT_NE(entry, nullptr);
    descriptor_ = entry();
  }
  void TearDown() override {
    if (handle_ != nullptr) ::dlclose(handle_);
  }

  void* handle_ = nullptr;
  const sdk::PluginDescriptor* descriptor_ = nullptr;
  sdk::NullLogger logger_;
};

TEST_F(PluginModuleTest, DescribesItselfAsExecutorProcess) {
  EXPECT_EQ(descriptor_->kind, static_cast<std::uint32_t>(sdk::PluginKind::kExecutor));
  EXPECT_STREQ(descriptor_->name, "process");
  EXPECT_STREQ(descriptor_->fingerprint, SCALEOUT_BUILD_FINGERPRINT);
}

TEST_F(PluginModuleTest, CreateRefusesAnUnknownKey) {
  sdk::ConfigView::Map values = {{"kill_grace_msec", "1"}};
  sdk::ConfigView view(values, "executor.process");
  sdk::PluginContext context{&view, &logger_};
  char error[256] = {};
  void* instance = descriptor_->create(&context, error, sizeof error);
  EXPECT_EQ(instance, nullptr);
  EXPECT_THAT(error, HasSubstr("unknown setting 'executor.process.kill_grace_msec'"));
}

TEST_F(PluginModuleTest, LoadedInstanceRunsAPackage) {
  testing::TempDir root;
  testing::WriteFile(root / "hello.sh", "#!/bin/sh\necho hello from the module\n", 0755);
  sdk::ConfigView::Map values;
  sdk::ConfigView view(values, "executor.process");
  sdk::PluginContext context{&view, &logger_};
  char error[256] = {};
  auto* executor = static_cast<sdk::Executor*>(descriptor_->create(&context, error, sizeof error));
  ASSERT_NE(executor, nullptr) << error;
  std::unique_ptr<sdk::Executor, void (*)(sdk::Executor*)> owned(
      executor, +[](sdk::Executor*) {});
  sdk::TaskSpec spec;
  spec.task_id = "t";
  spec.project_dir = root.path();
  spec.work_dir = root.path();
  spec.package_name = "hello.sh";
  testing::RecordingSink sink;
  core::taskhost::CancellationSource cancel;
  ASSERT_TRUE(executor->Start().ok());
  auto outcome = executor->Run(spec, sink, cancel);
  executor->Stop();
  descriptor_->destroy(owned.release());
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->result, sdk::TaskResult::kSucceeded);
  EXPECT_THAT(sink.Messages("stdout"), ::testing::ElementsAre("hello from the module"));
}

}  // namespace
}  // namespace scaleout::plugins::process
