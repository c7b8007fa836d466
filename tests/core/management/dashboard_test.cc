#include "core/management/dashboard.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace scaleout::core::management {
namespace {

const std::vector<StaticAsset> kAssets = {
    {"index.html", "<!doctype html>"},
    {"app.mjs", "export {};"},
    {"app.css", "body{}"},
};

sdk::Request Get(std::string_view target, std::string_view method = "GET") {
  sdk::Request request;
  request.method = method;
  request.target = target;
  return request;
}

TEST(DashboardSiteTest, RootAndIndexServeTheIndexAsHtml) {
  DashboardSite site(kAssets);
  for (std::string_view target : {"/", "/index.html", "/?token=x"}) {
    auto answer = site.Serve(Get(target));
    ASSERT_TRUE(answer.has_value()) << target;
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->content_type, "text/html; charset=utf-8");
    EXPECT_EQ(answer->body, "<!doctype html>");
  }
}

TEST(DashboardSiteTest, EachFileWithTheTypeABrowserNeeds) {
  DashboardSite site(kAssets);
  auto script = site.Serve(Get("/app.mjs"));
  ASSERT_TRUE(script.has_value());
  EXPECT_EQ(script->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(script->body, "export {};");
  auto style = site.Serve(Get("/app.css"));
  ASSERT_TRUE(style.has_value());
  EXPECT_EQ(style->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("x.json"), "application/json");
  EXPECT_EQ(ContentTypeFor("x.bin"), "application/octet-stream");
}

TEST(DashboardSiteTest, AnythingElseIsLeftToTheCaller) {
  DashboardSite site(kAssets);
  for (std::string_view target : {"/nothing", "/app.mjs/", "/../app.mjs", "//app.mjs", "/APP.MJS",
                                  "", "app.mjs", "/api/v1/status"}) {
    EXPECT_FALSE(site.Serve(Get(target)).has_value()) << target;
  }
}

TEST(DashboardSiteTest, OtherMethodsAre405) {
  DashboardSite site(kAssets);
  for (std::string_view method : {"POST", "PUT", "DELETE", "HEAD"}) {
    auto answer = site.Serve(Get("/", method));
    ASSERT_TRUE(answer.has_value()) << method;
    EXPECT_EQ(answer->status, 405) << method;
    EXPECT_NE(answer->body.find("GET"), std::string::npos);
  }
}

}  // namespace
}  // namespace scaleout::core::management
