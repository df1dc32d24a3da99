// The API server's request reader: strict heads, Content-Length and chunked bodies, pipelining,
// limits, and the same requests whatever the split.
#include "http1/request_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tide::http1 {
namespace {

struct ReadAll {
  std::vector<Request> requests;
  bool failed = false;
  RequestError error;
  std::string left; // bytes not consumed
  bool inBody = false;
};

// Feeds s in pieces of at most `piece` bytes, as a server does: it appends what arrives to its
// buffer and drops what the reader consumed.
ReadAll readInPieces(const std::string& s, size_t piece, RequestReaderLimits limits = {}) {
  RequestReader reader(limits);
  ReadAll out;
  std::string buffer;
  for (size_t at = 0; at < s.size() && !out.failed; at += piece) {
    buffer.append(s, at, piece);
    for (;;) {
      size_t consumed = 0;
      RequestReader::Step step = reader.read(buffer, &consumed);
      EXPECT_LE(consumed, buffer.size());
      buffer.erase(0, consumed);
      if (step == RequestReader::Step::Request) {
        out.requests.push_back(std::move(reader.request()));
        continue;
      }
      if (step == RequestReader::Step::Error) {
        out.failed = true;
        out.error = reader.error();
      }
      break;
    }
  }
  out.left = buffer;
  out.inBody = reader.inBody();
  return out;
}

TEST(RequestReaderTest, ReadsAContentLengthBody) {
  ReadAll r = readInPieces("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 1000);
  ASSERT_FALSE(r.failed) << r.error.message;
  ASSERT_EQ(r.requests.size(), 1u);
  const Request& q = r.requests[0];
  EXPECT_EQ(q.method, "POST");
  EXPECT_EQ(q.target, "/a");
  EXPECT_EQ(q.body, "hello");
  EXPECT_FALSE(q.chunked);
  ASSERT_NE(q.header("host"), nullptr);
  EXPECT_EQ(*q.header("content-length"), "5");
  EXPECT_EQ(r.left, "");
}

TEST(RequestReaderTest, ReadsAChunkedBodyWithTrailers) {
  std::string s = "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\nChecksum: 1\r\n\r\n";
  for (size_t piece = 1; piece <= s.size(); ++piece) {
    ReadAll r = readInPieces(s, piece);
    ASSERT_FALSE(r.failed) << r.error.message;
    ASSERT_EQ(r.requests.size(), 1u) << piece;
    EXPECT_EQ(r.requests[0].body, "Wikipedia");
    EXPECT_TRUE(r.requests[0].chunked);
    EXPECT_EQ(r.requests[0].trailers, "Checksum: 1\r\n");
    EXPECT_EQ(r.left, "");
  }
}

TEST(RequestReaderTest, PipelinedRequestsInOrderWhateverTheSplit) {
  std::string s = "\r\nGET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
                  "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                  "POST /3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "2\r\nde\r\n0\r\n\r\n"
                  "GET /4 HTTP/1.0\r\n\r\n"
                  "GET /5 HTTP/1.1\r\nHost: x\r\n";
  ReadAll whole = readInPieces(s, s.size());
  ASSERT_FALSE(whole.failed) << whole.error.message;
  ASSERT_EQ(whole.requests.size(), 4u);
  EXPECT_EQ(whole.requests[0].target, "/1");
  EXPECT_EQ(whole.requests[1].body, "abc");
  EXPECT_EQ(whole.requests[2].body, "de");
  EXPECT_EQ(whole.requests[3].versionMinor, 0);
  EXPECT_FALSE(whole.requests[3].keepAlive);
  EXPECT_EQ(whole.left, "GET /5 HTTP/1.1\r\nHost: x\r\n"); // an incomplete head stays in place
  for (size_t piece = 1; piece < s.size(); ++piece) {
    ReadAll r = readInPieces(s, piece);
    ASSERT_FALSE(r.failed) << piece;
    EXPECT_EQ(r.requests, whole.requests) << piece;
    EXPECT_EQ(r.left, whole.left) << piece;
  }
}

TEST(RequestReaderTest, BodyBytesAreConsumedAsTheyArrive) {
  RequestReader reader;
  std::string head =
      "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
  size_t consumed = 0;
  EXPECT_EQ(reader.read(head + "ab", &consumed), RequestReader::Step::NeedMore);
  EXPECT_EQ(consumed, head.size() + 2);
  EXPECT_TRUE(reader.inBody());
  EXPECT_TRUE(reader.awaitingContinue());
  EXPECT_EQ(reader.read("cdGET", &consumed), RequestReader::Step::Request);
  EXPECT_EQ(consumed, 2u); // never past what the framing allows
  EXPECT_EQ(reader.request().body, "abcd");
  EXPECT_FALSE(reader.inBody());
}

TEST(RequestReaderTest, RefusesWhatTheStrictParserRefuses) {
  struct Case {
    const char* request;
    int status;
    const char* code;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "MalformedRequest"},
      {"GET / HTTP/1.1\r\n\r\n", 400, "MalformedRequest"},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "MalformedRequest"},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
       "MalformedRequest"},
      {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "MalformedRequest"},
      {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "MalformedRequest"},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n", 400, "MalformedRequest"},
      {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "HttpVersionNotSupported"},
      {"GET / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", 417, "ExpectationFailed"},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413,
       "RequestEntityTooLarge"},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413,
       "RequestEntityTooLarge"},
      {"\x16\x03\x01\x02", 400, "MalformedRequest"}, // refused before any blank line
      {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400,
       "MalformedRequest"},
  };
  for (const Case& c : cases) {
    ReadAll r = readInPieces(c.request, 1000);
    ASSERT_TRUE(r.failed) << c.request;
    EXPECT_EQ(r.error.status, c.status) << c.request;
    EXPECT_EQ(r.error.code, c.code) << c.request;
    EXPECT_FALSE(r.error.message.empty());
  }
}

TEST(RequestReaderTest, LimitsHeadAndChunkedBody) {
  RequestReaderLimits limits;
  limits.maxHeadBytes = 64;
  limits.maxBodyBytes = 10;
  ReadAll r =
      readInPieces("GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(100, 'a'), 1000, limits);
  ASSERT_TRUE(r.failed);
  EXPECT_EQ(r.error.status, 431);
  r = readInPieces("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n",
                   1000, limits);
  ASSERT_TRUE(r.failed);
  EXPECT_EQ(r.error.status, 413);
}

TEST(RequestReaderTest, SerializedRequestsReadBackTheSame) {
  std::string s = "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\nConnection: close\r\n"
                  "\r\nabc"
                  "PUT /3?q HTTP/1.1\r\nhost: y\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                  "2\r\nde\r\n0\r\nT: 1\r\n\r\n";
  ReadAll first = readInPieces(s, s.size());
  ASSERT_EQ(first.requests.size(), 2u);
  std::string again;
  for (const Request& q : first.requests) {
    again += serializeRequest(q);
  }
  ReadAll second = readInPieces(again, 7);
  ASSERT_FALSE(second.failed) << second.error.message;
  EXPECT_EQ(second.requests, first.requests);
}

} // namespace
} // namespace tide::http1
