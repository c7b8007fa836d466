// JsonWriter's strings: the same text nlohmann's DOM writes for any bytes.
#include "core/common/json_writer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace scaleout::core {
namespace {

TEST(JsonWriterTest, StringsAreWhatTheDomWrites) {
  std::mt19937 random(612);
  for (int i = 0; i < 5000; ++i) {
    const std::string text = test::RandomJsonText(random);
    std::string ours = "prefix";
    AppendJsonString(ours, text);
    EXPECT_EQ(ours, "prefix" + nlohmann::json(text).dump(-1, ' ', false,
                                                         nlohmann::json::error_handler_t::replace))
        << text;
  }
}

TEST(JsonWriterTest, EscapesAtTheEdgesOfAString) {
  std::string out;
  AppendJsonString(out, "\"a\\\n");
  EXPECT_EQ(out, R"("\"a\\\n")");
  out.clear();
  AppendJsonString(out, std::string("\x01", 1));
  EXPECT_EQ(out, R"("\u0001")");
}

}  // namespace
}  // namespace scaleout::core
