#include "core/common/ids.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <set>
#include <string>

namespace scaleout::core {
namespace {

TEST(GuidTest, NewGuidsAreCanonicalAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewGuid();
    ASSERT_EQ(NormalizeGuid(id), id);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(GuidTest, TimeOrderedGuidsIncreaseAndCarryTheirMillisecondAndVersion) {
  // Later than any clock this process reads, so earlier ids do not interfere;
  // each run of the test (--gtest_repeat) a thousand seconds past the last,
  // since the generator stays ahead of every millisecond it has used.
  static std::int64_t next_millis = 0x0F0123456789;
  const std::int64_t base = next_millis;
  next_millis += 1'000'000;
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%08llX-%04llX", static_cast<unsigned long long>(base >> 16),
                static_cast<unsigned long long>(base & 0xFFFF));
  std::string previous = NewTimeOrderedGuid(base);
  EXPECT_EQ(previous.substr(0, 13), prefix);
  EXPECT_EQ(previous[14], '7');                                          // version 7
  EXPECT_NE(std::string("89AB").find(previous[19]), std::string::npos);  // RFC variant
  // Many in one millisecond (more than the 12-bit sequence holds) and a clock
  // that steps back: each is canonical and greater than the one before.
  for (int i = 0; i < 5000; ++i) {
    const std::int64_t millis = (i == 2500) ? base - 1000 : base;
    std::string id = NewTimeOrderedGuid(millis);
    ASSERT_EQ(NormalizeGuid(id), id);
    ASSERT_GT(id, previous) << "at " << i;
    previous = std::move(id);
  }
  // A later millisecond sorts after all of them.
  EXPECT_GT(NewTimeOrderedGuid(base + 10), previous);
}

TEST(GuidTest, NormalizesBracesAndCase) {
  EXPECT_EQ(NormalizeGuid("{8d3f1a0c-4b7e-4f2a-9c61-0e5b2d7a9f13}"),
            "8D3F1A0C-4B7E-4F2A-9C61-0E5B2D7A9F13");
}

TEST(GuidTest, RefusesMalformed) {
  EXPECT_FALSE(NormalizeGuid(""));
  EXPECT_FALSE(NormalizeGuid("8d3f1a0c-4b7e-4f2a-9c61-0e5b2d7a9f1"));
  EXPECT_FALSE(NormalizeGuid("8d3f1a0c-4b7e-4f2a-9c61-0e5b2d7a9f1g"));
  EXPECT_FALSE(NormalizeGuid("8d3f1a0c04b7e-4f2a-9c61-0e5b2d7a9f13"));
  EXPECT_FALSE(NormalizeGuid("'; DROP TABLE workers; --"));
  // Every character just outside the hex ranges, and a dash where a digit goes.
  for (char bad : {'/', ':', '@', 'G', '`', 'g', '-', '\xe9'}) {
    std::string id = "8d3f1a0c-4b7e-4f2a-9c61-0e5b2d7a9f13";
    id[3] = bad;
    EXPECT_FALSE(NormalizeGuid(id)) << id;
  }
}

TEST(ThumbprintTest, AcceptsColonsAndCase) {
  EXPECT_EQ(NormalizeThumbprint("ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01", 40),
            "ABCDEF0123456789ABCDEF0123456789ABCDEF01");
  EXPECT_FALSE(NormalizeThumbprint("abcd", 40));
  EXPECT_FALSE(NormalizeThumbprint(std::string(64, 'z'), 64));
}

TEST(HexTest, Upper) { EXPECT_EQ(HexUpper(std::string("\x01\xab", 2)), "01AB"); }

}  // namespace
}  // namespace scaleout::core
