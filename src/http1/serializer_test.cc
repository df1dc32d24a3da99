// Writing heads, and the one reason-phrase table.
#include "http1/serializer.h"

#include "http1/parser.h"
#include "http1/reason.h"

#include <gtest/gtest.h>

#include <string>

namespace tide::http1 {
namespace {

TEST(SerializerTest, StatusLineWithTheTablesReason) {
  std::string out;
  appendStatusLine(out, 200);
  appendStatusLine(out, 503);
  appendStatusLine(out, 418);
  appendStatusLine(out, 299, "Custom");
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nHTTP/1.1 503 Service Temporarily Unavailable\r\n"
                 "HTTP/1.1 418 Client Error\r\nHTTP/1.1 299 Custom\r\n");
}

TEST(SerializerTest, ReasonPhrases) {
  EXPECT_EQ(reasonPhrase(100), "Continue");
  EXPECT_EQ(reasonPhrase(404), "Not Found");
  EXPECT_EQ(reasonPhrase(504), "Gateway Time-out");
  EXPECT_EQ(reasonPhrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reasonPhrase(250), "OK");
  EXPECT_EQ(reasonPhrase(399), "Redirection");
  EXPECT_EQ(reasonPhrase(599), "Server Error");
}

TEST(SerializerTest, ResponseHeadParsesBack) {
  std::string out;
  appendStatusLine(out, 201);
  appendField(out, "Content-Type", "application/json");
  appendField(out, "Content-Length", uint64_t(12345));
  appendHeadEnd(out);
  EXPECT_EQ(out, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                 "Content-Length: 12345\r\n\r\n");
  MessageHead h;
  ASSERT_EQ(parseResponseHead(out.data(), out.size(), 4096, false, h), ParseStatus::Complete);
  EXPECT_EQ(h.status, 201);
  EXPECT_EQ(h.framing, BodyFraming::ContentLength);
  EXPECT_EQ(h.contentLength, 12345u);
}

TEST(SerializerTest, RequestHeadParsesBack) {
  std::string out;
  appendRequestLine(out, "POST", "/a?b=c");
  appendField(out, "Host", "x");
  appendField(out, "Transfer-Encoding", "chunked");
  appendHeadEnd(out);
  EXPECT_EQ(out, "POST /a?b=c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  MessageHead h;
  HeadError e;
  ASSERT_EQ(parseRequestHeadStrict(out.data(), out.size(), 4096, h, &e), ParseStatus::Complete);
  EXPECT_EQ(h.method, "POST");
  EXPECT_EQ(h.target, "/a?b=c");
  EXPECT_EQ(h.framing, BodyFraming::Chunked);
  out.clear();
  appendRequestLine(out, "GET", "/", 0);
  EXPECT_EQ(out, "GET / HTTP/1.0\r\n");
}

TEST(SerializerTest, WhatMayBeSent) {
  EXPECT_TRUE(isFieldName("X-Amz-Target"));
  EXPECT_FALSE(isFieldName("Bad Name"));
  EXPECT_FALSE(isFieldName(""));
  EXPECT_TRUE(isFieldValue("a b\tc"));
  EXPECT_FALSE(isFieldValue("a\r\nInjected: 1"));
  EXPECT_FALSE(isFieldValue(std::string("a\0b", 3)));
  EXPECT_TRUE(isMethod("PATCH"));
  EXPECT_FALSE(isMethod("GE T"));
  EXPECT_TRUE(isRequestTarget("/x?y=%20"));
  EXPECT_FALSE(isRequestTarget("/x y"));
  EXPECT_FALSE(isRequestTarget(""));
}

TEST(SerializerTest, StatusLineAlone) {
  int minor = 0, status = 0;
  size_t length = 0;
  std::string s = "HTTP/1.0 302 Found\r\nLocation: /\r\n";
  ASSERT_EQ(parseStatusLine(s.data(), s.size(), 1024, &minor, &status, &length),
            ParseStatus::Complete);
  EXPECT_EQ(minor, 0);
  EXPECT_EQ(status, 302);
  EXPECT_EQ(length, 20u);
  EXPECT_EQ(parseStatusLine(s.data(), 10, 1024, &minor, &status, &length), ParseStatus::Incomplete);
  EXPECT_EQ(parseStatusLine(s.data(), 10, 10, &minor, &status, &length), ParseStatus::TooLarge);
  for (const char* bad : {"HTTP/2 200 OK\r\n", "HTTP/1.1 2000 OK\r\n", "HTTP/1.1 099 x\r\n",
                          "HTTP/1.1 200 OK\n", "SSH-2.0-OpenSSH_9\r\n"}) {
    std::string b = bad;
    EXPECT_EQ(parseStatusLine(b.data(), b.size(), 1024, &minor, &status, &length),
              ParseStatus::Invalid)
        << bad;
  }
}

TEST(SerializerTest, FormatsHttpDates) {
  char date[kHttpDateChars];
  formatHttpDate(784111777, date); // RFC 9110's example
  EXPECT_EQ(std::string(date, sizeof date), "Sun, 06 Nov 1994 08:49:37 GMT");
  formatHttpDate(1796530350, date);
  EXPECT_EQ(std::string(date, sizeof date), "Sun, 06 Dec 2026 04:12:30 GMT");
}

} // namespace
} // namespace tide::http1
