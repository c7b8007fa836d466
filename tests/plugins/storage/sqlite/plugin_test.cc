// Loads the built libscaleout_storage_sqlite.so the way the host does
// (dlopen, the one exported descriptor, create/destroy) and uses it.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "scaleout/sdk/config.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/plugin.h"
#include "scaleout/sdk/storage.h"
#include "test_util.h"

namespace scaleout::plugins::sqlite {
namespace {

class SqlitePluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string file =
        std::string(SCALEOUT_TEST_PLUGIN_DIR) + "/libscaleout_storage_sqlite.so";
    handle_ = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << dlerror();
    auto entry = reinterpret_cast<sdk::PluginEntryPoint>(dlsym(handle_, sdk::kEntryPointName));
    ASSERT_NE(entry, nullptr) << dlerror();
    descriptor_ = entry();
    ASSERT_NE(descriptor_, nullptr);
  }
  void TearDown() override {
    if (handle_ != nullptr) dlclose(handle_);
  }

  void* handle_ = nullptr;
  const sdk::PluginDescriptor* descriptor_ = nullptr;
};

TEST_F(SqlitePluginTest, DescriptorMatchesThisBuild) {
  EXPECT_EQ(descriptor_->abi_major, sdk::kAbiMajor);
  EXPECT_LE(descriptor_->abi_minor, sdk::kAbiMinor);
  EXPECT_EQ(descriptor_->struct_size, sizeof(sdk::PluginDescriptor));
  EXPECT_EQ(descriptor_->kind, static_cast<std::uint32_t>(sdk::PluginKind::kStorage));
  EXPECT_STREQ(descriptor_->name, "sqlite");
  EXPECT_STREQ(descriptor_->fingerprint, SCALEOUT_BUILD_FINGERPRINT);
  // Hidden visibility: only the entry point is exported.
  EXPECT_EQ(dlsym(handle_, "_ZN8scaleout7plugins6sqlite12ParseOptionsERKNS_3sdk10ConfigViewE"),
            nullptr);
}

TEST_F(SqlitePluginTest, CreateRefusesBadConfigWithTheReason) {
  sdk::ConfigView::Map values = {{"path", "x.db"}, {"synchronus", "FULL"}};
  sdk::ConfigView view(values, "storage.sqlite");
  sdk::NullLogger logger;
  sdk::PluginContext context{&view, &logger};
  char error[256] = {};
  void* instance = descriptor_->create(&context, error, sizeof error);
  EXPECT_EQ(instance, nullptr);
  EXPECT_NE(std::string(error).find("storage.sqlite.synchronus"), std::string::npos) << error;
}

TEST_F(SqlitePluginTest, CreateStartUseAndDestroyThroughTheDescriptor) {
  testing::TempDir dir;
  const std::string path = dir.File("catalog.db");
  sdk::ConfigView::Map values = {{"path", path}};
  sdk::ConfigView view(values, "storage.sqlite");
  sdk::NullLogger logger;
  sdk::PluginContext context{&view, &logger};
  char error[256] = {};
  void* instance = descriptor_->create(&context, error, sizeof error);
  ASSERT_NE(instance, nullptr) << error;
  auto* storage = static_cast<sdk::Storage*>(instance);
  {
    ASSERT_TRUE(storage->Start().ok());
    EXPECT_EQ(storage->GetDialect().name, "sqlite");
    EXPECT_EQ(storage->Describe(), "sqlite file " + path);
    auto connection = storage->Open();
    ASSERT_TRUE(connection.ok()) << connection.status().ToString();
    ASSERT_TRUE(
        (*connection)->ExecuteScript("CREATE TABLE t(x TEXT); INSERT INTO t VALUES ('ok');").ok());
    EXPECT_EQ(testing::QueryText(**connection, "SELECT x FROM t"), "ok");
  }
  storage->Stop();
  descriptor_->destroy(instance);
  descriptor_->destroy(nullptr);  // accepted, per the SDK
  EXPECT_TRUE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace scaleout::plugins::sqlite
