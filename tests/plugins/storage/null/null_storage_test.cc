// storage/null, loaded through the real loader from the build's plugin folder.
#include <gtest/gtest.h>

#include "host/plugin_loader.h"
#include "tests/support/test_util.h"

namespace scaleout {
namespace {

TEST(NullStorageTest, StartsButRefusesToOpenWithAClearMessage) {
  test::CapturingLogger logger;
  host::PluginLoader loader(logger);
  ASSERT_TRUE(test::LoadInTreePlugin(loader, "storage/null").ok());
  sdk::ConfigView::Map values;
  auto made = loader.CreateStorage("null", sdk::ConfigView(values, "storage.null"));
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  auto storage = std::move(made).value();
  ASSERT_TRUE(storage->Start().ok());
  EXPECT_EQ(storage->GetDialect().name, "null");
  EXPECT_EQ(storage->Describe(), "null storage (no database)");

  auto connection = storage->Open();
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), sdk::StatusCode::kUnimplemented);
  EXPECT_NE(connection.status().message().find("storage/sqlite"), std::string::npos);
  storage->Stop();
}

TEST(NullStorageTest, RefusesUnknownSettings) {
  test::CapturingLogger logger;
  host::PluginLoader loader(logger);
  ASSERT_TRUE(test::LoadInTreePlugin(loader, "storage/null").ok());
  sdk::ConfigView::Map values{{"path", "/tmp/catalog.db"}};
  auto made = loader.CreateStorage("storage/null", sdk::ConfigView(values, "storage.null"));
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.status().message().find("storage.null.path"), std::string::npos);
}

TEST(NullStorageTest, IsNotCreatableAsAnotherKind) {
  test::CapturingLogger logger;
  host::PluginLoader loader(logger);
  ASSERT_TRUE(test::LoadInTreePlugin(loader, "storage/null").ok());
  sdk::ConfigView::Map values;
  auto made = loader.CreateExecutor("null", sdk::ConfigView(values, "executor.null"));
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), sdk::StatusCode::kNotFound);
  EXPECT_NE(made.status().message().find("executor/null"), std::string::npos);
}

}  // namespace
}  // namespace scaleout
