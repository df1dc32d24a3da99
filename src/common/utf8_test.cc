#include "common/text.h"
#include "common/utf8.h"

#include <gtest/gtest.h>

namespace tide {
namespace {

TEST(Utf8OffsetTest, AgreesWithIsValidUtf8AndFindsTheFirstBadByte) {
  EXPECT_EQ(invalidUtf8Offset(""), std::string_view::npos);
  EXPECT_EQ(invalidUtf8Offset("caf\xc3\xa9 \xf0\x9f\x98\x80"), std::string_view::npos);
  EXPECT_EQ(invalidUtf8Offset("caf\xe9"), 3u);
  EXPECT_EQ(invalidUtf8Offset("ab\xc0\xaf"), 2u);        // overlong
  EXPECT_EQ(invalidUtf8Offset("\xed\xa0\x80"), 0u);      // a surrogate
  EXPECT_EQ(invalidUtf8Offset("x\xf4\x90\x80\x80"), 1u); // past U+10FFFF
  for (std::string_view s : {"a\x80", "\xe2\x82", "ok", "\xf4\x8f\xbf\xbf"}) {
    EXPECT_EQ(isValidUtf8(s), invalidUtf8Offset(s) == std::string_view::npos) << s;
  }
}

TEST(Utf8OffsetTest, EscapeKeepsUtf8AndWritesOutTheRest) {
  EXPECT_EQ(escapeInvalidUtf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(escapeInvalidUtf8("caf\xe9!"), "caf\\xe9!");
  EXPECT_EQ(escapeInvalidUtf8("\xff\xfe"), "\\xff\\xfe");
  EXPECT_TRUE(isValidUtf8(escapeInvalidUtf8("\xc3\x28\xa0\xa1\xe2\x28\xa1")));
}

TEST(Utf8OffsetTest, PositionsCountLinesAndCharacters) {
  std::string_view s = "ab\nc\xc3\xa9"
                       "d\xff";
  EXPECT_EQ(textPosition(s, 0).line, 1u);
  EXPECT_EQ(textPosition(s, 0).column, 1u);
  TextPosition p = textPosition(s, invalidUtf8Offset(s));
  EXPECT_EQ(p.line, 2u);
  EXPECT_EQ(p.column, 4u); // c, é, d, then the bad byte
}

} // namespace
} // namespace tide
