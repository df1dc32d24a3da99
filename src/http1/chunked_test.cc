// The chunked coding: decoding in any split, limits, trailers, and encoding.
#include "http1/chunked.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace tide::http1 {
namespace {

struct Decoded {
  ChunkedDecoder::Result result;
  size_t used = 0;
  std::string body;
  std::string trailers;
};

// Decodes s in pieces of at most `piece` bytes.
Decoded decodeInPieces(const std::string& s, size_t piece) {
  ChunkedDecoder d;
  Decoded out{ChunkedDecoder::Result::NeedMore};
  for (size_t at = 0; at < s.size();) {
    size_t n = std::min(piece, s.size() - at);
    size_t used = 0;
    out.result = d.decode(s.data() + at, n, &used, &out.body, &out.trailers);
    out.used += used;
    if (out.result != ChunkedDecoder::Result::NeedMore) {
      break;
    }
    at += n;
  }
  return out;
}

TEST(ChunkedTest, DecodesDataAndTrailersInAnySplit) {
  std::string s = "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\n";
  for (size_t piece = 1; piece <= s.size(); ++piece) {
    Decoded d = decodeInPieces(s + "NEXT", piece);
    ASSERT_EQ(d.result, ChunkedDecoder::Result::Done) << piece;
    EXPECT_EQ(d.used, s.size()) << piece;
    EXPECT_EQ(d.body, "hello 0123456789") << piece;
    EXPECT_EQ(d.trailers, "X-Sum: 1\r\nY: 2\r\n") << piece;
  }
}

TEST(ChunkedTest, ScanFindsTheSameEndWithoutKeepingBytes) {
  std::string s = "3\r\nabc\r\n0\r\n\r\n";
  ChunkedDecoder d;
  size_t used = 0;
  EXPECT_EQ(d.scan(s.data(), s.size(), &used), ChunkedDecoder::Result::Done);
  EXPECT_EQ(used, s.size());
  EXPECT_EQ(d.bodyBytes(), 3u);
}

TEST(ChunkedTest, RejectsMalformedFraming) {
  for (const char* s : {"x\r\n", "\r\n", "3\r\nabcd\r\n", "3\nabc", "3\r\nabc\r\n0\r\n:x\r\n\r\n",
                        "1234567890123456\r\n", "3\r\nabc\r\n0\r\nA: \x01\r\n\r\n"}) {
    ChunkedDecoder d;
    size_t used = 0;
    EXPECT_EQ(d.scan(s, std::strlen(s), &used), ChunkedDecoder::Result::Invalid) << s;
  }
}

TEST(ChunkedTest, LimitsTheChunkSizeLine) {
  std::string line = "1;" + std::string(kMaxChunkSizeLineBytes, 'e') + "\r\n";
  ChunkedDecoder d;
  size_t used = 0;
  EXPECT_EQ(d.scan(line.data(), line.size(), &used), ChunkedDecoder::Result::Invalid);
  // Just under the limit is fine, and the limit is per line.
  std::string ok = "1;" + std::string(kMaxChunkSizeLineBytes - 5, 'e') + "\r\nx\r\n";
  std::string body = ok + ok + "0\r\n\r\n";
  ChunkedDecoder d2;
  EXPECT_EQ(d2.scan(body.data(), body.size(), &used), ChunkedDecoder::Result::Done);
}

TEST(ChunkedTest, LimitsTheTrailerSection) {
  std::string s = "0\r\nX: " + std::string(kMaxTrailerBytes, 'v') + "\r\n\r\n";
  ChunkedDecoder d;
  size_t used = 0;
  EXPECT_EQ(d.scan(s.data(), s.size(), &used), ChunkedDecoder::Result::Invalid);
}

TEST(ChunkedTest, BodyLimitRefusesAtTheChunkSizeLine) {
  std::string s = "4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n";
  ChunkedDecoder d;
  d.setBodyLimit(6);
  size_t used = 0;
  EXPECT_EQ(d.scan(s.data(), s.size(), &used), ChunkedDecoder::Result::TooLarge);
  EXPECT_EQ(used, 11u); // through "3\r" of the chunk that would pass the limit
  ChunkedDecoder exact;
  exact.setBodyLimit(7);
  exact.reset(); // a new body keeps the limit
  EXPECT_EQ(exact.scan(s.data(), s.size(), &used), ChunkedDecoder::Result::Done);
}

TEST(ChunkedTest, EncodesWhatDecodes) {
  std::string body(40000, 'z');
  body[123] = '\r';
  std::string enc = encodeChunked(body, 16384, "X-T: 1\r\n");
  EXPECT_EQ(enc.substr(0, 6), "4000\r\n");
  Decoded d = decodeInPieces(enc, 1000);
  ASSERT_EQ(d.result, ChunkedDecoder::Result::Done);
  EXPECT_EQ(d.used, enc.size());
  EXPECT_EQ(d.body, body);
  EXPECT_EQ(d.trailers, "X-T: 1\r\n");
  EXPECT_EQ(encodeChunked(""), "0\r\n\r\n");
  std::string out;
  appendChunk(out, ""); // an empty chunk would end the body: nothing is written
  EXPECT_EQ(out, "");
  appendChunk(out, "abc");
  appendLastChunk(out);
  EXPECT_EQ(out, "3\r\nabc\r\n0\r\n\r\n");
}

} // namespace
} // namespace tide::http1
