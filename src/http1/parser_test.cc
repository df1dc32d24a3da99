#include "http1/parser.h"

#include "http1/chunked.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace tide::http1 {
namespace {

using ChunkedScanner = ChunkedDecoder; // the balancer's name for it

ParseStatus parseRequest(const std::string& s, MessageHead& h, size_t limit = 16384) {
  return parseRequestHead(s.data(), s.size(), limit, h);
}
ParseStatus parseResponse(const std::string& s, MessageHead& h, bool head = false) {
  return parseResponseHead(s.data(), s.size(), 16384, head, h);
}

TEST(HttpParserTest, ParsesSimpleRequest) {
  MessageHead h;
  std::string s = "GET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\nrest";
  ASSERT_EQ(parseRequest(s, h), ParseStatus::Complete);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/a?b=c");
  EXPECT_EQ(h.versionMinor, 1);
  EXPECT_EQ(h.length, s.size() - 4);
  EXPECT_EQ(h.fieldCount, 2u);
  EXPECT_EQ(h.fields[1].name, "Accept");
  EXPECT_EQ(h.fields[1].value, "*/*");
  EXPECT_TRUE(h.keepAlive);
  EXPECT_FALSE(h.anyHopByHop);
  EXPECT_EQ(h.framing, BodyFraming::None);
}

TEST(HttpParserTest, IncompleteUntilBlankLine) {
  MessageHead h;
  std::string s = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (size_t n = 0; n <= s.size(); ++n) {
    EXPECT_EQ(parseRequestHead(s.data(), n, 16384, h), ParseStatus::Incomplete) << n;
  }
}

// The worker parses every head into one reused MessageHead: what an earlier message left in it
// (fields, flags, framing) must not show through.
TEST(HttpParserTest, ReusedHeadEqualsFreshHead) {
  std::string first = "POST /x HTTP/1.1\r\nHost: x\r\nConnection: close, X-A\r\nX-A: 1\r\n"
                      "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string second = "GET /y HTTP/1.0\r\nAccept: */*\r\n\r\n";
  MessageHead reused;
  ASSERT_EQ(parseRequest(first, reused), ParseStatus::Complete);
  ASSERT_EQ(parseRequest(second, reused), ParseStatus::Complete);
  MessageHead fresh;
  ASSERT_EQ(parseRequest(second, fresh), ParseStatus::Complete);
  EXPECT_EQ(reused.method, fresh.method);
  EXPECT_EQ(reused.target, fresh.target);
  EXPECT_EQ(reused.versionMinor, 0);
  EXPECT_EQ(reused.length, fresh.length);
  EXPECT_EQ(reused.fieldsBegin, fresh.fieldsBegin);
  EXPECT_EQ(reused.fieldsEnd, fresh.fieldsEnd);
  EXPECT_EQ(reused.fieldCount, 1u);
  EXPECT_EQ(reused.fields[0].name, "Accept");
  EXPECT_FALSE(reused.fields[0].hopByHop);
  EXPECT_FALSE(reused.keepAlive);
  EXPECT_FALSE(reused.anyHopByHop);
  EXPECT_FALSE(reused.expectContinue);
  EXPECT_EQ(reused.framing, BodyFraming::None);
  EXPECT_EQ(reused.contentLength, 0u);
  EXPECT_EQ(reused.status, 0);

  std::string response = "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n";
  ASSERT_EQ(parseResponse(response, reused), ParseStatus::Complete);
  ASSERT_EQ(parseResponse(response, fresh), ParseStatus::Complete);
  EXPECT_EQ(reused.status, 204);
  EXPECT_TRUE(reused.method.empty());
  EXPECT_TRUE(reused.target.empty());
  EXPECT_EQ(reused.requestLineBegin, 0u);
  EXPECT_EQ(reused.fieldCount, fresh.fieldCount);
  EXPECT_EQ(reused.anyHopByHop, fresh.anyHopByHop);
  EXPECT_EQ(reused.keepAlive, fresh.keepAlive);
  EXPECT_EQ(reused.framing, fresh.framing);
}

// The head ends at the first CRLFCRLF, however CRs and LFs are arranged before it.
TEST(HttpParserTest, FindsTheHeadEndAmongOtherLineBreaks) {
  MessageHead h;
  // Empty lines before the request line are skipped, not taken for the end of the head.
  std::string s = "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET";
  ASSERT_EQ(parseRequest(s, h), ParseStatus::Complete);
  EXPECT_EQ(h.requestLineBegin, 4u);
  EXPECT_EQ(h.length, s.size() - 3);
  // "\r\n\r" then "\n" one byte later in the buffer only: complete exactly at the last byte.
  std::string t = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  for (size_t n = 0; n < t.size(); ++n) {
    EXPECT_EQ(parseRequestHead(t.data(), n, 16384, h), ParseStatus::Incomplete) << n;
  }
  EXPECT_EQ(parseRequestHead(t.data(), t.size(), 16384, h), ParseStatus::Complete);
  EXPECT_EQ(h.length, t.size());
  // LF LF or CR CR are not a blank line: still incomplete (the bare LF is rejected once whole).
  std::string u = "GET / HTTP/1.1\r\nHost: x\n\n\r\r";
  EXPECT_EQ(parseRequest(u, h), ParseStatus::Incomplete);
  // A response head with a body that contains CRLFCRLF too: the first one ends the head.
  std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n\r\n\r\n";
  ASSERT_EQ(parseResponse(r, h), ParseStatus::Complete);
  EXPECT_EQ(h.length, r.size() - 4);
}

TEST(HttpParserTest, RejectsMalformedRequests) {
  MessageHead h;
  // What tide cannot read one way only is Invalid (400 and close in every desync mode).
  const char* bad[] = {
      "GET / HTTP/2.0\r\nHost: x\r\n\r\n",            // version
      "GET / HTTP/1.1\r\nHost: x\nA: b\r\n\r\n",      // bare LF
      "GET / HTTP/1.1\r\nA: b\rc\r\nHost: x\r\n\r\n", // bare CR
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", // two Hosts
      "GET\r\nHost: x\r\n\r\n",                       // no target
  };
  for (const char* s : bad) {
    EXPECT_EQ(parseRequest(s, h), ParseStatus::Invalid) << s;
  }
}

// The http-desync-guardian corpus calls these Acceptable, Ambiguous or Severe but readable one
// way, and the parser classifies them so; RFC 9112 says to reject each of them, so they are also
// malformed: Invalid, refused in every desync mitigation mode (docs/security.md).
TEST(HttpParserTest, ClassifiesNonCompliantRequests) {
  MessageHead h;
  struct Case {
    const char* request;
    DesyncTier tier;
    DesyncReason reason;
  } cases[] = {
      {"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", DesyncTier::Acceptable, DesyncReason::SpaceInUri},
      {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", DesyncTier::Acceptable,
       DesyncReason::NonCompliantHeader},
      {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", DesyncTier::Ambiguous,
       DesyncReason::MultilineHeader},
      {"GET / HTTP/1.1\r\nBad\x01Name: x\r\nHost: x\r\n\r\n", DesyncTier::Acceptable,
       DesyncReason::NonCompliantHeader},
      {"GET / HTTP/1.1\r\nA: \x7f\r\nHost: x\r\n\r\n", DesyncTier::Acceptable,
       DesyncReason::NonCompliantHeader},
      {"GET / HTTP/1.1\r\n\r\n", DesyncTier::Compliant, DesyncReason::Compliant}, // no Host
      {"GET  HTTP/1.1\r\nHost: x\r\n\r\n", DesyncTier::Compliant,
       DesyncReason::Compliant}, // an empty target (the corpus's "Empty URI")
      {"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", DesyncTier::Severe, DesyncReason::BadMethod},
  };
  for (const Case& c : cases) {
    ASSERT_EQ(parseRequest(c.request, h), ParseStatus::Invalid) << c.request;
    EXPECT_TRUE(h.desync.malformed) << c.request;
    EXPECT_FALSE(h.desync.unframeable) << c.request;
    EXPECT_EQ(h.desync.tier, c.tier) << c.request;
    EXPECT_EQ(h.desync.reason, c.reason) << c.request;
  }
  // The folded field would not be forwarded either.
  ASSERT_EQ(parseRequest("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", h), ParseStatus::Invalid);
  EXPECT_TRUE(h.fields[0].hopByHop);
}

TEST(HttpParserTest, ContentLengthRules) {
  MessageHead h;
  ASSERT_EQ(parseRequest("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", h),
            ParseStatus::Complete);
  EXPECT_EQ(h.framing, BodyFraming::ContentLength);
  EXPECT_EQ(h.contentLength, 5u);
  ASSERT_EQ(parseRequest("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                         "Content-Length: 5\r\n\r\n",
                         h),
            ParseStatus::Complete);
  EXPECT_EQ(h.desync.reason, DesyncReason::DuplicateContentLength);
  EXPECT_TRUE(h.fields[2].hopByHop); // the duplicate is not forwarded
  // A list is not a number (the corpus: "Content-Length: 1000,1000" is Severe).
  EXPECT_EQ(parseRequest("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n", h),
            ParseStatus::Invalid);
  EXPECT_EQ(parseRequest("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                         "Content-Length: 6\r\n\r\n",
                         h),
            ParseStatus::Invalid);
  EXPECT_EQ(parseRequest("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", h),
            ParseStatus::Invalid);
  EXPECT_EQ(parseRequest("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", h),
            ParseStatus::Invalid);
  EXPECT_EQ(parseRequest("POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", h),
            ParseStatus::Invalid);
  ASSERT_EQ(parseRequest("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", h),
            ParseStatus::Complete);
  EXPECT_EQ(h.framing, BodyFraming::None);
}

TEST(HttpParserTest, AGetBodyBehindAZeroLookAlikeLengthIsNotNormalized) {
  // Found by fuzz_request_head: the look-alike's 0 came first, the exact 5 is what frames.
  MessageHead h;
  parseRequest("GET / HTTP/1.1\r\nHost: a\r\nCont\x7f"
               "ent-Length: 0\r\nContent-Length: 5\r\n\r\n",
               h);
  EXPECT_GE(h.desync.tier, DesyncTier::Ambiguous);
  EXPECT_TRUE(h.desync.notNormalized); // defensive mode blocks it
  // The other way round the exact length is 0: no body, Acceptable.
  ASSERT_EQ(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", h),
            ParseStatus::Complete);
  EXPECT_EQ(h.desync.reason, DesyncReason::GetHeadZeroContentLength);
  EXPECT_FALSE(h.desync.notNormalized);
}

TEST(HttpParserTest, TransferEncodingRules) {
  MessageHead h;
  ASSERT_EQ(parseRequest("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", h),
            ParseStatus::Complete);
  EXPECT_EQ(h.framing, BodyFraming::Chunked);
  // Both CL and TE: Ambiguous (the corpus); chunked wins and Content-Length is not forwarded.
  ASSERT_EQ(parseRequest("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n",
                         h),
            ParseStatus::Complete);
  EXPECT_EQ(h.desync.reason, DesyncReason::BothTeClPresent);
  EXPECT_EQ(h.framing, BodyFraming::Chunked);
  EXPECT_TRUE(h.fields[1].hopByHop);
  // chunked not final, or twice.
  EXPECT_EQ(
      parseRequest("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", h),
      ParseStatus::Invalid);
  EXPECT_EQ(parseRequest("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n",
                         h),
            ParseStatus::Invalid);
  EXPECT_EQ(parseRequest("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", h),
            ParseStatus::Invalid);
  // Codings before chunked are the target's business (the corpus: Compliant): forwarded.
  ASSERT_EQ(
      parseRequest("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", h),
      ParseStatus::Complete);
  EXPECT_EQ(h.framing, BodyFraming::Chunked);
  EXPECT_EQ(
      parseRequest("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: zip, chunked\r\n\r\n", h),
      ParseStatus::Invalid);
  EXPECT_EQ(parseRequest("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", h),
            ParseStatus::Invalid);
}

TEST(HttpParserTest, ConnectionRulesAndHopByHop) {
  MessageHead h;
  ASSERT_EQ(parseRequest("GET / HTTP/1.0\r\n\r\n", h), ParseStatus::Complete);
  EXPECT_FALSE(h.keepAlive);
  ASSERT_EQ(parseRequest("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", h),
            ParseStatus::Complete);
  EXPECT_TRUE(h.keepAlive);
  ASSERT_EQ(parseRequest("GET / HTTP/1.1\r\nHost: x\r\nConnection: close, X-Private\r\n"
                         "X-Private: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\nX-Other: 2\r\n\r\n",
                         h),
            ParseStatus::Complete);
  EXPECT_FALSE(h.keepAlive);
  EXPECT_TRUE(h.anyHopByHop);
  EXPECT_FALSE(h.fields[0].hopByHop); // Host
  EXPECT_TRUE(h.fields[1].hopByHop);  // Connection
  EXPECT_TRUE(h.fields[2].hopByHop);  // X-Private, named by Connection
  EXPECT_TRUE(h.fields[3].hopByHop);  // Keep-Alive
  EXPECT_TRUE(h.fields[4].hopByHop);  // TE
  EXPECT_FALSE(h.fields[5].hopByHop); // X-Other
}

TEST(HttpParserTest, Limits) {
  MessageHead h;
  std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(2000, 'a') + "\r\n\r\n";
  EXPECT_EQ(parseRequest(big, h, 1024), ParseStatus::TooLarge);
  EXPECT_EQ(parseRequest(big.substr(0, 1500), h, 1024), ParseStatus::TooLarge); // no end yet
  std::string many = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 120; ++i) {
    many += "X" + std::to_string(i) + ": y\r\n";
  }
  many += "\r\n";
  EXPECT_EQ(parseRequest(many, h), ParseStatus::TooLarge);
}

TEST(HttpParserTest, ResponseFraming) {
  MessageHead h;
  ASSERT_EQ(parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", h),
            ParseStatus::Complete);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.framing, BodyFraming::ContentLength);
  ASSERT_EQ(parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", h, /*head=*/true),
            ParseStatus::Complete);
  EXPECT_EQ(h.framing, BodyFraming::None);
  ASSERT_EQ(parseResponse("HTTP/1.1 204 No Content\r\n\r\n", h), ParseStatus::Complete);
  EXPECT_EQ(h.framing, BodyFraming::None);
  ASSERT_EQ(parseResponse("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", h),
            ParseStatus::Complete);
  EXPECT_EQ(h.framing, BodyFraming::None);
  ASSERT_EQ(parseResponse("HTTP/1.1 200 OK\r\n\r\n", h), ParseStatus::Complete);
  EXPECT_EQ(h.framing, BodyFraming::UntilClose);
  EXPECT_FALSE(h.keepAlive);
  ASSERT_EQ(parseResponse("HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n", h),
            ParseStatus::Complete);
  EXPECT_EQ(h.framing, BodyFraming::Chunked);
  ASSERT_EQ(parseResponse("HTTP/1.1 100 Continue\r\n\r\n", h), ParseStatus::Complete);
  EXPECT_EQ(h.status, 100);
  ASSERT_EQ(parseResponse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", h),
            ParseStatus::Complete);
  EXPECT_FALSE(h.keepAlive);
  EXPECT_EQ(parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n",
                          h),
            ParseStatus::Invalid);
  EXPECT_EQ(parseResponse("HTTP/1.1 2x0 OK\r\n\r\n", h), ParseStatus::Invalid);
  EXPECT_EQ(parseResponse("HTTX/1.1 200 OK\r\n\r\n", h), ParseStatus::Invalid);
}

// Feeds the chunked body in every split into two pieces and checks where it ends.
TEST(HttpParserTest, ChunkedScannerAnySplit) {
  std::string body = "5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nT: v\r\n\r\n";
  std::string all = body + "NEXT";
  for (size_t cut = 0; cut <= all.size(); ++cut) {
    ChunkedScanner sc;
    size_t used1 = 0;
    size_t used2 = 0;
    auto r1 = sc.scan(all.data(), cut, &used1);
    ASSERT_NE(r1, ChunkedScanner::Result::Invalid) << cut;
    if (r1 == ChunkedScanner::Result::Done) {
      EXPECT_EQ(used1, body.size());
      continue;
    }
    EXPECT_EQ(used1, cut);
    auto r2 = sc.scan(all.data() + cut, all.size() - cut, &used2);
    ASSERT_EQ(r2, ChunkedScanner::Result::Done) << cut;
    EXPECT_EQ(used1 + used2, body.size()) << cut;
  }
}

TEST(HttpParserTest, ChunkedScannerByteByByte) {
  std::string body = "3\r\nabc\r\n0\r\n\r\n";
  ChunkedScanner sc;
  for (size_t i = 0; i < body.size(); ++i) {
    size_t used = 0;
    auto r = sc.scan(body.data() + i, 1, &used);
    EXPECT_EQ(used, 1u);
    EXPECT_EQ(r, i + 1 == body.size() ? ChunkedScanner::Result::Done
                                      : ChunkedScanner::Result::NeedMore);
  }
}

TEST(HttpParserTest, ChunkedScannerRejectsBadFraming) {
  const char* bad[] = {"x\r\n",        "5\r\nhelloX\r\n",        "\r\n",
                       "5\nhello\r\n", "ffffffffffffffffff\r\n", "3\r\nabc\r\n0\r\n\x01\r\n"};
  for (const char* s : bad) {
    ChunkedScanner sc;
    size_t used = 0;
    EXPECT_EQ(sc.scan(s, std::strlen(s), &used), ChunkedScanner::Result::Invalid) << s;
  }
}

} // namespace
} // namespace tide::http1
