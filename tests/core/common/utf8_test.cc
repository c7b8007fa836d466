// Strict UTF-8 validation: what is text, and each way bytes are not.
#include "core/common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace scaleout::core {
namespace {

TEST(Utf8Test, AcceptsTextOfEveryLength) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ASCII, with \x01 control and \x7f"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9"));          // é, 2 bytes
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));      // €, 3 bytes
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));  // 😀, 4 bytes
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF, the last
  EXPECT_TRUE(IsValidUtf8(std::string("nul\0inside", 10)));
}

TEST(Utf8Test, RefusesEveryKindOfBadSequence) {
  EXPECT_FALSE(IsValidUtf8("\x80"));              // a stray continuation byte
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated at the end
  EXPECT_FALSE(IsValidUtf8("\xe2\x82x"));         // truncated before ASCII
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\x80"));      // overlong NUL
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a surrogate (U+D800)
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xf5\x80\x80\x80"));  // a lead byte that never occurs
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

// ASCII is read eight bytes at a time: a bad byte is found wherever it sits
// in a long text, and a valid sequence across an eight-byte boundary is kept.
TEST(Utf8Test, FindsABadByteAtEveryOffsetOfALongText) {
  for (std::size_t at = 0; at < 40; ++at) {
    std::string text(40, 'a');
    text[at] = '\x80';
    EXPECT_FALSE(IsValidUtf8(text)) << at;
    std::string good(40, 'a');
    good.replace(at, 2, "\xc3\xa9");
    good.resize(40);
    EXPECT_EQ(IsValidUtf8(good), at < 39) << at;  // at 39 the second byte is cut off
  }
}

}  // namespace
}  // namespace scaleout::core
