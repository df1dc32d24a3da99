// The one framing rule (RFC 9112 §6.3) for requests and responses.
#include "http1/framing.h"

#include "http1/parser.h"

#include <gtest/gtest.h>

#include <string>

namespace tide::http1 {
namespace {

const MessageKind kRequest{true, false, 0};

MessageKind response(int status, bool head = false) {
  return MessageKind{false, head, status};
}

FramingFields length(uint64_t n) {
  FramingFields ff;
  ff.hasContentLength = true;
  ff.contentLength = n;
  return ff;
}

FramingFields chunked() {
  FramingFields ff;
  ff.hasTransferEncoding = true;
  ff.chunkedFinal = true;
  return ff;
}

TEST(FramingTest, RequestWithoutLengthHasNoBody) {
  Framing f = messageFraming(kRequest, FramingFields{});
  EXPECT_EQ(f.framing, BodyFraming::None);
  EXPECT_EQ(f.error, FramingError::None);
}

TEST(FramingTest, ResponseWithoutLengthEndsAtClose) {
  Framing f = messageFraming(response(200), FramingFields{});
  EXPECT_EQ(f.framing, BodyFraming::UntilClose);
  EXPECT_EQ(f.error, FramingError::None);
}

TEST(FramingTest, ContentLengthFramesBothDirections) {
  for (MessageKind k : {kRequest, response(200)}) {
    Framing f = messageFraming(k, length(42));
    EXPECT_EQ(f.framing, BodyFraming::ContentLength);
    EXPECT_EQ(f.contentLength, 42u);
    f = messageFraming(k, length(0));
    EXPECT_EQ(f.framing, BodyFraming::None);
  }
}

TEST(FramingTest, HeadAnd1xx204304ResponsesHaveNoBody) {
  for (MessageKind k :
       {response(200, true), response(100), response(101), response(204), response(304)}) {
    SCOPED_TRACE(k.status);
    EXPECT_EQ(messageFraming(k, length(10)).framing, BodyFraming::None);
    EXPECT_EQ(messageFraming(k, chunked()).framing, BodyFraming::None);
    EXPECT_EQ(messageFraming(k, FramingFields{}).framing, BodyFraming::None);
  }
}

TEST(FramingTest, ChunkedFinalFramesBothDirections) {
  for (MessageKind k : {kRequest, response(200)}) {
    Framing f = messageFraming(k, chunked());
    EXPECT_EQ(f.framing, BodyFraming::Chunked);
    EXPECT_EQ(f.error, FramingError::None);
  }
}

TEST(FramingTest, FinalCodingOtherThanChunked) {
  FramingFields ff;
  ff.hasTransferEncoding = true; // "gzip"
  EXPECT_EQ(messageFraming(kRequest, ff).error, FramingError::RequestNotChunked);
  Framing f = messageFraming(response(200), ff);
  EXPECT_EQ(f.error, FramingError::None);
  EXPECT_EQ(f.framing, BodyFraming::UntilClose);
  ff.chunkedNotFinal = true; // "chunked, gzip"
  EXPECT_EQ(messageFraming(kRequest, ff).error, FramingError::ChunkedNotFinal);
  EXPECT_EQ(messageFraming(response(200), ff).error, FramingError::ChunkedNotFinal);
}

TEST(FramingTest, LengthBesideChunkedIsAnErrorWithTheChunkedReading) {
  FramingFields ff = chunked();
  ff.hasContentLength = true;
  ff.contentLength = 5;
  for (MessageKind k : {kRequest, response(200), response(204)}) {
    Framing f = messageFraming(k, ff);
    EXPECT_EQ(f.error, FramingError::BothLengthAndChunked);
  }
  EXPECT_EQ(messageFraming(kRequest, ff).framing, BodyFraming::Chunked);
}

TEST(FramingTest, BadAndConflictingLengthsAreErrors) {
  FramingFields ff = length(5);
  ff.conflictingLengths = true;
  EXPECT_EQ(messageFraming(kRequest, ff).error, FramingError::ConflictingLengths);
  EXPECT_EQ(messageFraming(response(304), ff).error, FramingError::ConflictingLengths);
  FramingFields bad;
  bad.badContentLength = true;
  EXPECT_EQ(messageFraming(kRequest, bad).error, FramingError::BadContentLength);
  EXPECT_EQ(messageFraming(response(200, true), bad).error, FramingError::BadContentLength);
}

// The parser gathers the fields and follows the rule: duplicate equal lengths are one length.
TEST(FramingTest, ParsedResponsesFollowTheRule) {
  MessageHead h;
  std::string s = "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7, 7\r\n\r\n";
  ASSERT_EQ(parseResponseHead(s.data(), s.size(), 4096, false, h), ParseStatus::Complete);
  EXPECT_EQ(h.framing, BodyFraming::ContentLength);
  EXPECT_EQ(h.contentLength, 7u);
  s = "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n";
  EXPECT_EQ(parseResponseHead(s.data(), s.size(), 4096, false, h), ParseStatus::Invalid);
  s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
  ASSERT_EQ(parseResponseHead(s.data(), s.size(), 4096, false, h), ParseStatus::Complete);
  EXPECT_EQ(h.framing, BodyFraming::Chunked);
  s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n";
  EXPECT_EQ(parseResponseHead(s.data(), s.size(), 4096, false, h), ParseStatus::Invalid);
}

} // namespace
} // namespace tide::http1
