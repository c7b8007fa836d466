// Loads the built libscaleout_storage_odbc.so the way the host does (dlopen,
// the one exported descriptor, create/destroy) and uses it on SQLite.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <string>

#include "scaleout/sdk/config.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/plugin.h"
#include "scaleout/sdk/storage.h"
#include "test_util.h"

namespace scaleout::plugins::odbc {
namespace {

class OdbcPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string file = std::string(SCALEOUT_TEST_PLUGIN_DIR) + "/libscaleout_storage_odbc.so";
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

TEST_F(OdbcPluginTest, DescriptorMatchesThisBuild) {
  EXPECT_EQ(descriptor_->abi_major, sdk::kAbiMajor);
  EXPECT_EQ(descriptor_->kind, static_cast<std::uint32_t>(sdk::PluginKind::kStorage));
  EXPECT_STREQ(descriptor_->name, "odbc");
  EXPECT_STREQ(descriptor_->fingerprint, SCALEOUT_BUILD_FINGERPRINT);
}

TEST_F(OdbcPluginTest, CreateRefusesBadConfigWithTheReason) {
  sdk::ConfigView::Map values = {{"connection_string", "Driver=SQLite3"}, {"dialekt", "x"}};
  sdk::ConfigView view(values, "storage.odbc");
  sdk::NullLogger logger;
  sdk::PluginContext context{&view, &logger};
  char error[256] = {};
  EXPECT_EQ(descriptor_->create(&context, error, sizeof error), nullptr);
  EXPECT_NE(std::string(error).find("storage.odbc.dialekt"), std::string::npos) << error;
}

TEST_F(OdbcPluginTest, CreateStartUseAndDestroyThroughTheDescriptor) {
  scaleout::test::TempDir dir;
  const std::string path = (dir / "catalog.db").string();
  sdk::ConfigView::Map values = {{"connection_string", "Driver=SQLite3;Database=" + path}};
  sdk::ConfigView view(values, "storage.odbc");
  sdk::NullLogger logger;
  sdk::PluginContext context{&view, &logger};
  char error[256] = {};
  void* instance = descriptor_->create(&context, error, sizeof error);
  ASSERT_NE(instance, nullptr) << error;
  auto* storage = static_cast<sdk::Storage*>(instance);
  {
    sdk::Status started = storage->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    EXPECT_EQ(storage->GetDialect().name, "sqlite");
    EXPECT_NE(storage->Describe().find("SQLite"), std::string::npos) << storage->Describe();
    auto connection = storage->Open();
    ASSERT_TRUE(connection.ok()) << connection.status().ToString();
    ASSERT_TRUE(
        (*connection)->ExecuteScript("CREATE TABLE t(x TEXT); INSERT INTO t VALUES ('ok');").ok());
    EXPECT_EQ(testing::QueryText(**connection, "SELECT x FROM t"), "ok");
  }
  storage->Stop();
  descriptor_->destroy(instance);
}

}  // namespace
}  // namespace scaleout::plugins::odbc
