// Sticky session cookie values: round trip, authentication against the target's id, tampering,
// expiry, and finding cookies in parsed heads.
#include "balancer/sticky_cookie.h"
#include "http1/serializer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace tide::balancer {
namespace {

using http1::parseRequestHead;
using http1::parseResponseHead;
using http1::ParseStatus;

constexpr CookieKey kKey{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

std::string encode(const StickyBinding& b, std::string_view id, const CookieKey& key = kKey) {
  char out[kStickyValueChars];
  encodeStickyValue(key, b, id, out);
  return std::string(out, sizeof out);
}

// Whether value checks out for the target id under kKey, and what it binds.
bool check(const std::string& value, std::string_view id, StickyBinding* b) {
  uint64_t tag = 0;
  return decodeStickyValue(kKey, value, b, &tag) && stickyValueAuthentic(kKey, *b, id, tag);
}

TEST(StickyCookieTest, SipHashMatchesTheReferenceVectors) {
  // SipHash-2-4 paper, appendix A: key 00..0f, messages 00, 00 01, ... (first and 15 bytes).
  unsigned char msg[64];
  for (int i = 0; i < 64; ++i) {
    msg[i] = static_cast<unsigned char>(i);
  }
  EXPECT_EQ(sipHash24(kKey, msg, 0), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(sipHash24(kKey, msg, 1), 0x74f839c593dc67fdULL);
  EXPECT_EQ(sipHash24(kKey, msg, 15), 0xa129ca6149be45e5ULL);
  EXPECT_EQ(sipHash24(kKey, msg, 8), 0x93f5f5799a932462ULL);
}

TEST(StickyCookieTest, RoundTripsAndIsOpaque) {
  StickyBinding b{7, 42, 123456};
  std::string v = encode(b, "i-0123456789abcdef0");
  ASSERT_EQ(v.size(), kStickyValueChars);
  EXPECT_EQ(v.find_first_not_of("0123456789abcdef"), std::string::npos);
  StickyBinding got;
  ASSERT_TRUE(check(v, "i-0123456789abcdef0", &got));
  EXPECT_EQ(got.groupSlot, 7u);
  EXPECT_EQ(got.targetSlot, 42u);
  EXPECT_EQ(got.expirySec, 123456u);
  // The slots are not readable in the value: bindings differing only in the slot differ all over.
  std::string w = encode({7, 43, 123456}, "i-0123456789abcdef0");
  int same = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    same += v[i] == w[i];
  }
  EXPECT_LT(same, 15);
}

TEST(StickyCookieTest, RejectsAnotherTargetAnotherKeyAndEveryTamperedCharacter) {
  StickyBinding b{1, 2, 1000};
  std::string v = encode(b, "i-aaa");
  StickyBinding got;
  EXPECT_FALSE(check(v, "i-bbb", &got)); // the slot now holds another target
  EXPECT_FALSE(check(encode(b, "i-aaa", CookieKey{1, 2}), "i-aaa", &got));
  for (size_t i = 0; i < v.size(); ++i) {
    std::string t = v;
    t[i] = t[i] == '0' ? '1' : '0';
    EXPECT_FALSE(check(t, "i-aaa", &got)) << "changed character " << i;
  }
  EXPECT_FALSE(check(v.substr(1), "i-aaa", &got));
  EXPECT_FALSE(check(v + "0", "i-aaa", &got));
  std::string upper = v;
  for (char& c : upper) {
    c = char(toupper(c));
  }
  EXPECT_FALSE(check(upper == v ? "" : upper, "i-aaa", &got));
  EXPECT_FALSE(check(std::string(40, 'z'), "i-aaa", &got));
  EXPECT_FALSE(check("", "i-aaa", &got));
}

TEST(StickyCookieTest, BindingHoldsForItsGroupUntilItsExpiry) {
  StickyBinding b{3, 9, 500};
  EXPECT_TRUE(stickyBindingCurrent(b, 3, 499'999));
  EXPECT_FALSE(stickyBindingCurrent(b, 3, 500'000)); // expired
  EXPECT_FALSE(stickyBindingCurrent(b, 4, 1'000));   // another group's cookie
}

MessageHead parseRequest(const std::string& text) {
  MessageHead h;
  EXPECT_EQ(parseRequestHead(text.data(), text.size(), 16384, h), ParseStatus::Complete);
  return h;
}

TEST(StickyCookieTest, FindsCookiesInRequestHeads) {
  std::string text = "GET / HTTP/1.1\r\nHost: x\r\ncookie: a=1; AWSALB=abc ;b=\"q\"\r\n"
                     "Cookie: AWSALBAPP-0=zz\r\n\r\n";
  MessageHead h = parseRequest(text);
  EXPECT_EQ(findRequestCookie(h, "AWSALB"), "abc");
  EXPECT_EQ(findRequestCookie(h, "a"), "1");
  EXPECT_EQ(findRequestCookie(h, "b"), "q");
  EXPECT_EQ(findRequestCookie(h, "AWSALBAPP-0"), "zz");
  EXPECT_EQ(findRequestCookie(h, "AWSAL"), "");
  EXPECT_EQ(findRequestCookie(h, "AWSALBCORS"), "");
  MessageHead none = parseRequest("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(findRequestCookie(none, "AWSALB"), "");
}

TEST(StickyCookieTest, SeesTheApplicationSettingItsCookie) {
  std::string text = "HTTP/1.1 200 OK\r\nset-cookie: other=1\r\nSet-Cookie: SESSION=xyz; Path=/\r\n"
                     "Content-Length: 0\r\n\r\n";
  MessageHead h;
  ASSERT_EQ(parseResponseHead(text.data(), text.size(), 16384, false, h), ParseStatus::Complete);
  EXPECT_TRUE(responseSetsCookie(h, "SESSION"));
  EXPECT_TRUE(responseSetsCookie(h, "other"));
  EXPECT_FALSE(responseSetsCookie(h, "SESS"));
}

TEST(StickyCookieTest, FormatsSetCookieLinesAsAlbDoes) {
  char date[http1::kHttpDateChars];
  http1::formatHttpDate(784111777, date);
  char out[kSetCookieMaxChars];
  std::string value(kStickyValueChars, 'a');
  size_t n = formatStickySetCookie(Stickiness::Type::LbCookie, value, {date, sizeof date}, out);
  EXPECT_EQ(std::string(out, n),
            "Set-Cookie: AWSALB=" + value + "; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Path=/\r\n" +
                "Set-Cookie: AWSALBCORS=" + value +
                "; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Path=/; SameSite=None; Secure\r\n");
  n = formatStickySetCookie(Stickiness::Type::AppCookie, value, {date, sizeof date}, out);
  EXPECT_EQ(std::string(out, n), "Set-Cookie: AWSALBAPP-0=" + value +
                                     "; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Path=/\r\n");
  EXPECT_EQ(formatStickySetCookie(Stickiness::Type::None, value, {date, sizeof date}, out), 0u);
}

} // namespace
} // namespace tide::balancer
