#include "scaleout/sdk/config.h"

#include <gtest/gtest.h>

namespace scaleout::sdk {
namespace {

TEST(ConfigViewTest, TypedGettersParseAndDefault) {
  ConfigView::Map map{{"port", "8391"}, {"wal", "Yes"}, {"path", "/tmp/x.db"}};
  ConfigView config(map, "storage.sqlite");
  EXPECT_EQ(*config.GetInt("port", 1), 8391);
  EXPECT_EQ(*config.GetInt("missing", 5), 5);
  EXPECT_TRUE(*config.GetBool("wal", false));
  EXPECT_EQ(config.GetString("path"), "/tmp/x.db");
  EXPECT_EQ(config.GetString("nothing", "d"), "d");
}

TEST(ConfigViewTest, BadValuesNameTheKey) {
  ConfigView::Map map{{"port", "83x"}, {"big", "70000"}, {"flag", "maybe"}};
  ConfigView config(map, "transport.https");
  auto port = config.GetInt("port", 0);
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.status().message().find("'transport.https.port' must be an integer"),
            std::string::npos);
  auto big = config.GetInt("big", 0, 0, 65535);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("between 0 and 65535"), std::string::npos);
  EXPECT_FALSE(config.GetBool("flag", false).ok());
}

TEST(ConfigViewTest, UnknownKeysAreRefused) {
  ConfigView::Map map{{"path", "x"}, {"synchronus", "FULL"}};
  ConfigView config(map, "storage.sqlite");
  EXPECT_TRUE(ConfigView(map, "s").CheckKnownKeys({"path", "synchronus"}).ok());
  Status s = config.CheckKnownKeys({"path", "synchronous"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'storage.sqlite.synchronus'"), std::string::npos);
  EXPECT_NE(s.message().find("synchronous"), std::string::npos);
}

}  // namespace
}  // namespace scaleout::sdk
