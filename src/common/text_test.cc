#include "common/text.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace tide {
namespace {

TEST(Base64Test, KnownVectors) {
  // RFC 4648 section 10.
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64Decode("Zm9vYmE="), "fooba");
}

TEST(Base64Test, RoundTripAllByteValues) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes += char(i);
  }
  for (size_t len = 0; len <= bytes.size(); len += 37) {
    std::string in = bytes.substr(0, len);
    auto out = base64Decode(base64Encode(in));
    ASSERT_TRUE(out.has_value()) << len;
    EXPECT_EQ(*out, in);
  }
  std::string script = "#!/bin/bash\necho hello > /tmp/user-data\n";
  EXPECT_EQ(base64Decode(base64Encode(script)), script);
}

TEST(Base64Test, RejectsInvalidInput) {
  EXPECT_FALSE(base64Decode("Zm9").has_value());      // not a multiple of 4
  EXPECT_FALSE(base64Decode("Zm9v!A==").has_value()); // bad character
  EXPECT_FALSE(base64Decode("Zg==Zm9v").has_value()); // padding in the middle
  EXPECT_FALSE(base64Decode("Z===").has_value());     // too much padding
  EXPECT_FALSE(base64Decode("Zm=v").has_value());     // data after padding
  EXPECT_FALSE(base64Decode("Zm9v\n").has_value());   // whitespace
  EXPECT_TRUE(base64Decode("").has_value());
}

TEST(HexTest, Encode) {
  EXPECT_EQ(hexEncode(""), "");
  EXPECT_EQ(hexEncode(std::string("\x00\x0f\xab\xff", 4)), "000fabff");
}

TEST(SplitStringTest, Basic) {
  EXPECT_EQ(splitString("a,b,c", ','), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(splitString("abc", ','), (std::vector<std::string>{"abc"}));
}

TEST(SplitStringTest, KeepsEmptyParts) {
  EXPECT_EQ(splitString("", ','), (std::vector<std::string>{""}));
  EXPECT_EQ(splitString(",", ','), (std::vector<std::string>{"", ""}));
  EXPECT_EQ(splitString("a,,b,", ','), (std::vector<std::string>{"a", "", "b", ""}));
}

TEST(TrimTest, Whitespace) {
  EXPECT_EQ(trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(trim("abc"), "abc");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim(" \t\n "), "");
  EXPECT_EQ(trim("\tx"), "x");
}

TEST(ReadFileTest, MissingFile) {
  EXPECT_FALSE(readFile("/nonexistent/tide/file").has_value());
}

} // namespace
TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("plain ascii"));
  EXPECT_TRUE(isValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_TRUE(isValidUtf8("\xf4\x8f\xbf\xbf")); // U+10FFFF
}

TEST(Utf8Test, RefusesMalformedText) {
  EXPECT_FALSE(isValidUtf8("\x80"));             // a continuation byte alone
  EXPECT_FALSE(isValidUtf8("\xc3"));             // truncated
  EXPECT_FALSE(isValidUtf8("\xe2\x82"));         // truncated
  EXPECT_FALSE(isValidUtf8("\xc0\xaf"));         // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xe0\x80\xaf"));     // overlong
  EXPECT_FALSE(isValidUtf8("\xed\xa0\x80"));     // a surrogate
  EXPECT_FALSE(isValidUtf8("\xf4\x90\x80\x80")); // above U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xff"));
  EXPECT_FALSE(isValidUtf8("ok\xc3("));
}

TEST(ArnFieldTest, NamesTheRegionAndAccount) {
  std::string_view arn = "arn:aws:cloudformation:eu-west-1:123456789012:stack/web/1-2";
  EXPECT_EQ(arnField(arn, 3), "eu-west-1");
  EXPECT_EQ(arnField(arn, 4), "123456789012");
  EXPECT_EQ(arnField(arn, 5), "stack/web/1-2");
  EXPECT_EQ(arnField("not-an-arn", 3), "");
}

} // namespace tide
