#include "h2/request_head.h"

#include <gtest/gtest.h>

namespace tide::h2 {
namespace {

TEST(RequestHeadBuilder, OptionsStarAndHostWithoutAuthority) {
  RequestHeadBuilder b;
  b.reset(65536);
  b.addField(":method", "OPTIONS");
  b.addField(":scheme", "https");
  b.addField(":path", "*");
  b.addField("host", "h.test");
  b.addField("te", "trailers");
  std::string out;
  EXPECT_FALSE(b.buildHead(out, true));
  EXPECT_EQ(out, "OPTIONS * HTTP/1.1\r\nHost: h.test\r\n\r\n");
}

TEST(RequestHeadBuilder, AuthorityWinsOverHostAndCookiesAreJoined) {
  RequestHeadBuilder b;
  b.reset(65536);
  b.addField(":method", "GET");
  b.addField(":path", "/");
  b.addField(":authority", "a.test");
  b.addField("host", "other.test");
  b.addField("cookie", "a=1");
  b.addField("cookie", "b=2");
  b.addField("cookie", "c=3");
  std::string out;
  EXPECT_FALSE(b.buildHead(out, true));
  EXPECT_EQ(out, "GET / HTTP/1.1\r\nHost: a.test\r\ncookie: a=1; b=2; c=3\r\n\r\n");
}

TEST(RequestHeadBuilder, SizeIsCountedAsRfc9113Says) {
  RequestHeadBuilder b;
  b.reset(2 * (32 + 7 + 3)); // ":method" "GET" twice fits, once more does not
  b.addField(":method", "GET");
  b.addField(":method", "GET");
  EXPECT_FALSE(b.tooLarge());
  b.addField("a", "");
  EXPECT_TRUE(b.tooLarge());
}

TEST(RequestHeadBuilder, TrailersLeaveFramingFieldsOut) {
  RequestHeadBuilder b;
  b.reset(65536);
  b.addTrailer("content-length", "5");
  b.addTrailer("grpc-status", "0");
  EXPECT_EQ(b.trailers(), "grpc-status: 0\r\n");
}

} // namespace
} // namespace tide::h2
