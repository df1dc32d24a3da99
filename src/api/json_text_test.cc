#include "api/json_text.h"

#include "common/text.h"
#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace tide::api {
namespace {

std::string nested(size_t depth, const std::string& inner = "1") {
  return std::string(depth, '[') + inner + std::string(depth, ']');
}

std::string errorOf(std::string_view text, const JsonTextLimits& limits = {}) {
  Result<Json> r = parseJsonText(text, limits);
  EXPECT_FALSE(r.isOk()) << text.substr(0, 80);
  if (r.isOk()) {
    return "";
  }
  EXPECT_EQ(r.status().code(), "SerializationException");
  EXPECT_TRUE(isValidUtf8(r.status().message())) << r.status().message();
  return r.status().message();
}

TEST(JsonTextTest, ReadsWhatNlohmannReads) {
  for (const char* text :
       {"{}", "[]", "1", "-2.5e3", "\"caf\xc3\xa9\"", "null", "true",
        R"({"a": [1, {"b": null}], "c": "d", "e": 18446744073709551615})", " \n{\"x\":\t[ ]}\n "}) {
    Result<Json> r = parseJsonText(text);
    ASSERT_TRUE(r.isOk()) << text << ": " << r.status().toString();
    EXPECT_EQ(*r, Json::parse(text)) << text;
  }
}

TEST(JsonTextTest, NestingUpToTheLimitIsRead) {
  Result<Json> r = parseJsonText(nested(64));
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->dump(), nested(64));
  EXPECT_TRUE(parseJsonText(nested(10), {10}).isOk());
}

TEST(JsonTextTest, NestingPastTheLimitIsRefusedNamingWhere) {
  std::string m = errorOf(nested(65));
  EXPECT_NE(m.find("deeper than 64 levels"), std::string::npos) << m;
  // "at" names the array or object the refused one would open in.
  m = errorOf(R"({"Resources": {"Web": {"Properties": [[[1]]]}}})", {5});
  EXPECT_NE(m.find("deeper than 5 levels, at Resources.Web.Properties[0]"), std::string::npos) << m;
  m = errorOf(R"({"Resources": {"Web": {"Properties": [[[1]]]}}})", {3});
  EXPECT_NE(m.find("deeper than 3 levels, at Resources.Web"), std::string::npos) << m;
}

// The 100,000-deep documents that crashed the server (200 KB): refused at the limit, without
// reading further, and without recursion.
TEST(JsonTextTest, HundredThousandDeepIsRefused) {
  std::string arrays = nested(100'000);
  std::string m = errorOf(arrays);
  EXPECT_NE(m.find("deeper than 64 levels"), std::string::npos);
  EXPECT_LT(m.size(), 400u) << "a long path is shortened";
  std::string objects;
  for (int i = 0; i < 100'000; ++i) {
    objects += R"({"a":)";
  }
  objects += "1" + std::string(100'000, '}');
  errorOf(objects, {512});
  std::string joins;
  for (int i = 0; i < 30'000; ++i) {
    joins += R"({"Fn::Join": ["", [)";
  }
  joins += "\"x\"" + std::string(30'000 * 3, ' ');
  errorOf(joins, {128});
}

TEST(JsonTextTest, RepeatedKeysAreRefusedNamingTheKeyAndObject) {
  std::string m = errorOf(R"({"a": 1, "a": 2})");
  EXPECT_EQ(m, "the key 'a' appears twice in the top-level object");
  m = errorOf(R"({"Resources": {"G": {"Properties": {"MinSize": 1, "MinSize": 2}}}})");
  EXPECT_EQ(m, "the key 'MinSize' appears twice in the object at Resources.G.Properties");
  m = errorOf(R"([{"x": [{}, {"k": 1, "k": 1}]}])");
  EXPECT_EQ(m, "the key 'k' appears twice in the object at [0].x[1]");
  // The same key in different objects is fine.
  EXPECT_TRUE(parseJsonText(R"({"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]})").isOk());
}

TEST(JsonTextTest, InvalidUtf8IsRefusedWithAUtf8Message) {
  for (std::string text : {std::string("{\"a\": \"\xff\"}"), std::string("{\"\xc0\xaf\": 1}"),
                           std::string("[\"\xed\xa0\x80\"]"), std::string("\xfe")}) {
    std::string m = errorOf(text);
    EXPECT_NE(m.find("line 1, column"), std::string::npos) << m;
  }
}

TEST(JsonTextTest, MalformedTextIsRefusedWithWhere) {
  std::string m = errorOf("{\"a\": 1,\n \"b\" 2}");
  EXPECT_EQ(m.find("[json.exception"), std::string::npos) << m;
  EXPECT_NE(m.find("line 2, column"), std::string::npos) << m;
  errorOf("");
  errorOf("{} {}");
  errorOf("[1, 2");
  errorOf("1e999"); // not a finite number
  errorOf("{\"a\": tru}");
}

} // namespace
} // namespace tide::api
