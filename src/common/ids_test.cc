#include "common/ids.h"

#include <gtest/gtest.h>
#include <set>
#include <string>

namespace tide {
namespace {

TEST(IdsTest, NewIdHasPrefixAnd17LowercaseHexDigits) {
  std::string id = newId("ami");
  ASSERT_EQ(id.size(), 3u + 1 + 17);
  EXPECT_EQ(id.substr(0, 4), "ami-");
  for (char c : id.substr(4)) {
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
  }
  EXPECT_TRUE(isIdOf(id, "ami"));
  EXPECT_TRUE(isIdOf(newId("i"), "i"));
}

TEST(IdsTest, NewIdsDiffer) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    ids.insert(newId("i"));
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(IdsTest, IsIdOfRejectsOtherShapes) {
  EXPECT_TRUE(isIdOf("i-0123456789abcdef0", "i"));
  EXPECT_FALSE(isIdOf("i-0123456789abcdef0", "ami")); // wrong prefix
  EXPECT_FALSE(isIdOf("ami-0123456789abcdef0", "i")); // wrong prefix
  EXPECT_FALSE(isIdOf("i-0123456789ABCDEF0", "i"));   // uppercase
  EXPECT_FALSE(isIdOf("i-0123456789abcdef", "i"));    // 16 digits
  EXPECT_FALSE(isIdOf("i-0123456789abcdef01", "i"));  // 18 digits
  EXPECT_FALSE(isIdOf("i_0123456789abcdef0", "i"));   // no dash
  EXPECT_FALSE(isIdOf("i-0123456789abcdefg", "i"));   // not hex
  EXPECT_FALSE(isIdOf("i-1a2b3c4d", "i"));            // short form
  EXPECT_FALSE(isIdOf("", "i"));
}

TEST(IdsTest, ShortOrLong) {
  EXPECT_TRUE(isShortOrLongIdOf("sg-1a2b3c4d", "sg"));
  EXPECT_TRUE(isShortOrLongIdOf("sg-0123456789abcdef0", "sg"));
  EXPECT_FALSE(isShortOrLongIdOf("sg-1a2b3c4", "sg"));   // 7 digits
  EXPECT_FALSE(isShortOrLongIdOf("sg-1a2b3c4d5", "sg")); // 9 digits
  EXPECT_FALSE(isShortOrLongIdOf("sg-", "sg"));
  EXPECT_FALSE(isShortOrLongIdOf("sg-1A2B3C4D", "sg"));
  EXPECT_FALSE(isShortOrLongIdOf("subnet-1a2b3c4d", "sg"));
}

} // namespace
} // namespace tide
