#include "h2/server_session.h"

#include "h2/test_frames.h"

#include <gtest/gtest.h>

#include <malloc.h>

#include <map>
#include <memory>

namespace tide::h2 {
namespace {

using test::ClientFrames;
using test::Fields;
using test::Frame;
using test::ServerFrames;

struct Recorder : ServerHandler {
  struct Stream {
    std::string head;
    std::string body;
    std::string tail;
    bool ended = false;
    bool closed = false;
    ErrorCode code = ErrorCode::NoError;
    int writable = 0;
  };
  std::map<int32_t, Stream> streams;
  ServerSession* session = nullptr;
  bool consume = true; // hand request body credit back at once
  size_t credit = 0;   // credit held when not

  void onRequestHead(int32_t id, std::string_view head) override {
    streams[id].head = std::string(head);
  }
  void onRequestBody(int32_t id, std::string_view bytes, size_t c) override {
    streams[id].body += bytes;
    if (consume) {
      session->consumeRequestBody(id, c);
    } else {
      credit += c;
    }
  }
  void onRequestEnd(int32_t id, std::string_view tail) override {
    streams[id].ended = true;
    streams[id].tail = std::string(tail);
  }
  void onResponseWritable(int32_t id) override { streams[id].writable++; }
  void onStreamClosed(int32_t id, ErrorCode code) override {
    EXPECT_FALSE(streams[id].closed) << "closed twice: " << id;
    streams[id].closed = true;
    streams[id].code = code;
  }
};

// A session with a hand-driven client on the other side.
struct Conn {
  explicit Conn(const ServerLimits& limits = {}) : session(rec, limits) { rec.session = &session; }
  Recorder rec;
  ServerSession session;
  ClientFrames client;
  ServerFrames server;
  uint64_t now = 1000;
  bool read = true; // the client reads what the server writes

  Status send() {
    std::string b = std::move(client.bytes);
    client.bytes.clear();
    Status st = session.feed(reinterpret_cast<const uint8_t*>(b.data()), b.size(), now);
    drain();
    return st;
  }
  void drain() {
    for (int i = 0; read && i < 100000 && !session.pendingOutput().empty(); i++) {
      std::string_view out = session.pendingOutput();
      server.read(std::string(out));
      session.consumed(out.size());
    }
  }
  size_t respond(int32_t id, std::string_view bytes) {
    size_t n = session.submitResponse(id, bytes.data(), bytes.size());
    drain();
    return n;
  }
  std::string field(const Frame* f, const std::string& name) const {
    if (f == nullptr) {
      return "<no frame>";
    }
    for (auto& [n, v] : f->fields) {
      if (n == name) {
        return v;
      }
    }
    return "<none>";
  }
};

TEST(ServerSession, GetBecomesAnHttp11RequestAndTheResponseComesBack) {
  Conn c;
  c.client.preface();
  Fields f = ClientFrames::get("/a?b=1");
  f.push_back({"cookie", "a=1"});
  f.push_back({"accept", "*/*"});
  f.push_back({"cookie", "b=2"});
  c.client.headers(1, f, true);
  ASSERT_TRUE(c.send().isOk());
  ASSERT_TRUE(c.server.find(test::kSettings) != nullptr);
  auto& s = c.rec.streams[1];
  EXPECT_EQ(s.head,
            "GET /a?b=1 HTTP/1.1\r\nHost: a.test\r\naccept: */*\r\ncookie: a=1; b=2\r\n\r\n");
  EXPECT_TRUE(s.ended);
  EXPECT_EQ(c.session.openStreams(), 1u);

  c.respond(1, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n"
               "Keep-Alive: timeout=5\r\nX-Thing: yes\r\n\r\nhello");
  const Frame* h = c.server.find(test::kHeaders, 1);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(c.field(h, ":status"), "200");
  EXPECT_EQ(c.field(h, "x-thing"), "yes");
  EXPECT_EQ(c.field(h, "content-length"), "5");
  EXPECT_EQ(c.field(h, "connection"), "<none>");
  EXPECT_EQ(c.field(h, "keep-alive"), "<none>");
  EXPECT_EQ(c.server.dataOf(1), "hello");
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.code, ErrorCode::NoError);
  EXPECT_EQ(c.session.openStreams(), 0u);
}

TEST(ServerSession, BodyWithContentLengthIsForwardedAsIs) {
  Conn c;
  c.client.preface();
  Fields f = ClientFrames::get("/up", "POST");
  f.push_back({"content-length", "10"});
  c.client.headers(1, f, false);
  c.client.data(1, "01234", false);
  c.client.data(1, "56789", true);
  ASSERT_TRUE(c.send().isOk());
  auto& s = c.rec.streams[1];
  EXPECT_EQ(s.head, "POST /up HTTP/1.1\r\nHost: a.test\r\ncontent-length: 10\r\n\r\n");
  EXPECT_EQ(s.body, "0123456789");
  EXPECT_TRUE(s.ended);
  EXPECT_EQ(s.tail, "");
  // The consumed credit reopened the windows.
  EXPECT_NE(c.server.find(test::kWindowUpdate, 0), nullptr);
}

TEST(ServerSession, BodyWithoutLengthIsChunkedWithTrailers) {
  Conn c;
  c.client.preface();
  c.client.headers(3, ClientFrames::get("/up", "PUT"), false);
  c.client.data(3, "abc", false);
  c.client.data(3, "", false);
  c.client.data(3, "defgh", false);
  c.client.headers(3, {{"x-checksum", "42"}}, true);
  ASSERT_TRUE(c.send().isOk());
  auto& s = c.rec.streams[3];
  EXPECT_EQ(s.head, "PUT /up HTTP/1.1\r\nHost: a.test\r\ntransfer-encoding: chunked\r\n\r\n");
  EXPECT_EQ(s.body, "3\r\nabc\r\n5\r\ndefgh\r\n");
  EXPECT_EQ(s.tail, "0\r\nx-checksum: 42\r\n\r\n");
}

TEST(ServerSession, AGrpcAnswerWithoutABodyStaysTrailersOnly) {
  Conn c;
  c.client.preface();
  Fields f = ClientFrames::get("/pkg.S/M", "POST");
  f.push_back({"content-type", "application/grpc"});
  c.client.headers(1, f, false);
  c.client.data(1, std::string(5, '\0'), true);
  ASSERT_TRUE(c.send().isOk());
  // gRPC's error answer in its HTTP/1.1 form (a head with a length of 0, as ClientSession gives
  // it): one HEADERS that ends the stream, without the content-length (gRPC clients would
  // take it for trailing metadata).
  c.respond(1, "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ngrpc-status: 5\r\n"
               "grpc-message: no such key\r\ncontent-length: 0\r\n\r\n");
  const Frame* h = c.server.find(test::kHeaders, 1);
  ASSERT_NE(h, nullptr);
  EXPECT_NE(h->flags & test::kEndStream, 0);
  EXPECT_EQ(c.field(h, "grpc-status"), "5");
  EXPECT_EQ(c.field(h, "content-length"), "<none>");
  // Not gRPC: the length stays.
  c.client.headers(3, ClientFrames::get("/x"), true);
  ASSERT_TRUE(c.send().isOk());
  c.respond(3, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  const Frame* plain = c.server.find(test::kHeaders, 3);
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(c.field(plain, "content-length"), "0");
}

TEST(ServerSession, HostFieldStandsInForAuthorityAndPostWithoutBodyHasALength) {
  Conn c;
  c.client.preface();
  c.client.headers(
      1, {{":method", "POST"}, {":scheme", "http"}, {":path", "/"}, {"host", "h.test"}}, true);
  ASSERT_TRUE(c.send().isOk());
  EXPECT_EQ(c.rec.streams[1].head, "POST / HTTP/1.1\r\nHost: h.test\r\ncontent-length: 0\r\n\r\n");
}

TEST(ServerSession, ChunkedResponseIsDechunkedInPiecesOfAnySize) {
  Conn c;
  c.client.preface();
  c.client.headers(1, ClientFrames::get(), true);
  ASSERT_TRUE(c.send().isOk());
  std::string r = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                  "Trailer: x\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nx: 1\r\n\r\nGARBAGE";
  for (char ch : r) {
    EXPECT_EQ(c.respond(1, std::string_view(&ch, 1)), 1u);
  }
  std::vector<const Frame*> heads;
  for (const Frame& f : c.server.frames) {
    if (f.type == test::kHeaders) {
      heads.push_back(&f);
    }
  }
  ASSERT_EQ(heads.size(), 3u); // 100, 200, trailers
  EXPECT_EQ(c.field(heads[0], ":status"), "100");
  EXPECT_EQ(c.field(heads[1], ":status"), "200");
  EXPECT_EQ(c.field(heads[1], "transfer-encoding"), "<none>");
  EXPECT_EQ(c.field(heads[1], "trailer"), "<none>");
  EXPECT_EQ(c.server.dataOf(1), "hello world");
  EXPECT_TRUE(c.rec.streams[1].closed);
  // The trailer section goes as trailers (a HEADERS frame ending the stream).
  const Frame* t = nullptr;
  for (const Frame& f : c.server.frames) {
    if (f.type == test::kHeaders && f.stream == 1) {
      t = &f;
    }
  }
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->flags & test::kEndStream);
  EXPECT_EQ(c.field(t, "x"), "1");
}

TEST(ServerSession, HeadResponseHasNoBodyAndUntilCloseEndsAtEndResponse) {
  Conn c;
  c.client.preface();
  c.client.headers(1, ClientFrames::get("/", "HEAD"), true);
  c.client.headers(3, ClientFrames::get("/old"), true);
  ASSERT_TRUE(c.send().isOk());
  c.respond(1, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
  const Frame* h = c.server.find(test::kHeaders, 1);
  ASSERT_NE(h, nullptr);
  EXPECT_TRUE(h->flags & test::kEndStream);
  EXPECT_EQ(c.field(h, "content-length"), "100");
  EXPECT_TRUE(c.rec.streams[1].closed);

  c.respond(3, "HTTP/1.1 200 OK\r\n\r\nuntil ");
  c.respond(3, "close");
  EXPECT_FALSE(c.rec.streams[3].closed);
  c.session.endResponse(3);
  c.drain();
  EXPECT_EQ(c.server.dataOf(3), "until close");
  EXPECT_TRUE(c.rec.streams[3].closed);
  EXPECT_EQ(c.rec.streams[3].code, ErrorCode::NoError);
}

TEST(ServerSession, MalformedOrTruncatedTargetResponses) {
  Conn c;
  c.client.preface();
  c.client.headers(1, ClientFrames::get(), true);
  c.client.headers(3, ClientFrames::get(), true);
  c.client.headers(5, ClientFrames::get(), true);
  ASSERT_TRUE(c.send().isOk());
  c.respond(1, "HTTP/1.1 2OO OK\r\n\r\n"); // no head sent yet: 502
  EXPECT_EQ(c.field(c.server.find(test::kHeaders, 1), ":status"), "502");
  c.respond(3, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  c.session.endResponse(3); // truncated after the head: reset
  c.drain();
  const Frame* rst = c.server.find(test::kRstStream, 3);
  ASSERT_NE(rst, nullptr);
  EXPECT_EQ(rst->code(), uint32_t(ErrorCode::InternalError));
  c.session.endResponse(5); // nothing at all: 502
  c.drain();
  EXPECT_EQ(c.field(c.server.find(test::kHeaders, 5), ":status"), "502");
}

TEST(ServerSession, LocalErrorResponsesGoTheSameWay) {
  Conn c;
  c.client.preface();
  c.client.headers(1, ClientFrames::get(), true);
  ASSERT_TRUE(c.send().isOk());
  c.respond(1, "HTTP/1.1 503 Service Temporarily Unavailable\r\nContent-Type: text/html\r\n"
               "Content-Length: 4\r\n\r\n503\n");
  EXPECT_EQ(c.field(c.server.find(test::kHeaders, 1), ":status"), "503");
  EXPECT_EQ(c.server.dataOf(1), "503\n");
}

// RFC 9113 §8.1.1, §8.2.2, §8.3: malformed requests are stream errors of type PROTOCOL_ERROR;
// the connection goes on.
TEST(ServerSession, MalformedRequestsAreResetWithProtocolError) {
  std::vector<Fields> bad = {
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {"X-Upper", "1"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {"connection", "close"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {"transfer-encoding", "chunked"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {"upgrade", "websocket"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {"keep-alive", "1"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {"te", "gzip"}},
      {{":method", "GET"}, {":scheme", "https"}},                                  // no :path
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {":bogus", "x"}}, // unknown
      {{":method", "GET"}, {":scheme", "https"}, {"a", "b"}, {":path", "/"}},      // pseudo after
      {{":method", "GET"}, {":method", "GET"}, {":scheme", "https"}, {":path", "/"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {"x", "a\nb"}},
      // What nghttp2 lets through and HTTP/1.1 cannot carry (fuzz_h2_server found the first).
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {":authority", "a%.test"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/a#frag"}, {":authority", "a"}},
      {{":method", "GET"}, {":scheme", "https"}, {":path", "*"}, {":authority", "a"}},
  };
  Conn c;
  c.client.preface();
  uint32_t id = 1;
  for (const Fields& f : bad) {
    c.client.headers(id, f, true);
    id += 2;
  }
  // content-length that the body does not match
  Fields f = ClientFrames::get("/", "POST");
  f.push_back({"content-length", "10"});
  c.client.headers(id, f, false);
  c.client.data(id, "12345", true);
  ASSERT_TRUE(c.send().isOk());
  for (uint32_t s = 1; s <= id; s += 2) {
    const Frame* rst = c.server.find(test::kRstStream, s);
    ASSERT_NE(rst, nullptr) << "stream " << s;
    EXPECT_EQ(rst->code(), uint32_t(ErrorCode::ProtocolError)) << "stream " << s;
    EXPECT_TRUE(c.rec.streams[s].head.empty() || s == id) << "stream " << s;
  }
  EXPECT_EQ(c.server.find(test::kGoaway), nullptr);
  // A good request still goes through.
  c.client.headers(id + 2, ClientFrames::get(), true);
  ASSERT_TRUE(c.send().isOk());
  EXPECT_FALSE(c.rec.streams[id + 2].head.empty());
}

TEST(ServerSession, ConnectIsRefusedWith405) {
  Conn c;
  c.client.preface();
  c.client.headers(1, {{":method", "CONNECT"}, {":authority", "x.test:443"}}, false);
  ASSERT_TRUE(c.send().isOk());
  EXPECT_EQ(c.field(c.server.find(test::kHeaders, 1), ":status"), "405");
  EXPECT_TRUE(c.rec.streams.empty());
}

TEST(ServerSession, HeaderListOverTheLimitIs431AndBounded) {
  ServerLimits l;
  l.maxHeaderListBytes = 1000;
  Conn c(l);
  c.client.preface();
  Fields f = ClientFrames::get();
  for (int i = 0; i < 20; i++) {
    f.push_back({"x-h" + std::to_string(i), std::string(100, 'v')});
  }
  c.client.headers(1, f, true);
  ASSERT_TRUE(c.send().isOk());
  EXPECT_EQ(c.field(c.server.find(test::kHeaders, 1), ":status"), "431");
  EXPECT_TRUE(c.rec.streams.empty());
  EXPECT_LT(c.session.bufferedBytes(), 64u * 1024);
}

// An HPACK bomb: one large entry in the dynamic table, then a block of 1-byte references to it.
// The decoded list passes the limit: 431, and nothing of it is kept.
TEST(ServerSession, HpackBombIsBoundedByTheHeaderListLimit) {
  Conn c;
  c.client.preface();
  Fields f = ClientFrames::get();
  f.push_back({"x-bomb", std::string(2000, 'b')});
  c.client.headers(1, f, true); // the entry enters the tables (the newest: index 62)
  ASSERT_TRUE(c.send().isOk());
  ASSERT_NE(c.rec.streams[1].head.find("x-bomb"), std::string::npos);
  // 16,000 one-byte references (0xbe: indexed field 62) decode to 32 MB.
  std::string bomb = c.client.block(ClientFrames::get()) + std::string(16000, '\xbe');
  c.client.frame(test::kHeaders, test::kEndHeaders | test::kEndStream, 3, bomb);
  ASSERT_TRUE(c.send().isOk());
  EXPECT_EQ(c.field(c.server.find(test::kHeaders, 3), ":status"), "431");
  EXPECT_EQ(c.rec.streams.count(3), 0u);
  EXPECT_LT(c.session.bufferedBytes(), 128u * 1024);
}

TEST(ServerSession, HeaderTableSizeOverTheSettingIsACompressionError) {
  Conn c;
  c.client.preface();
  // A dynamic table size update (001xxxxx) to 8192, over the 4096 advertised.
  std::string block = "\x3f\xe1\x3f";
  block += c.client.block(ClientFrames::get());
  c.client.frame(test::kHeaders, test::kEndHeaders | test::kEndStream, 1, block);
  EXPECT_FALSE(c.send().isOk());
  const Frame* g = c.server.find(test::kGoaway);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->code(), uint32_t(ErrorCode::CompressionError));
}

TEST(ServerSession, ConcurrentStreamsPastTheLimitAreRefused) {
  Conn c;
  c.client.preface();
  for (uint32_t i = 0; i < 129; i++) {
    c.client.headers(1 + 2 * i, ClientFrames::get(), false);
  }
  Status st = c.send();
  EXPECT_EQ(c.rec.streams.size(), 128u); // forwarded
  const Frame* rst = c.server.find(test::kRstStream, 1 + 2 * 128);
  const Frame* g = c.server.find(test::kGoaway);
  // Before the client acked the limit nghttp2 refuses the stream (REFUSED_STREAM); after, as
  // here, it fails the connection (PROTOCOL_ERROR; RFC 7540 §5.1.2 allowed either).
  ASSERT_TRUE(rst != nullptr || g != nullptr);
  if (rst != nullptr) {
    EXPECT_EQ(rst->code(), uint32_t(ErrorCode::RefusedStream));
    EXPECT_TRUE(st.isOk());
  } else {
    EXPECT_EQ(g->code(), uint32_t(ErrorCode::ProtocolError));
    EXPECT_FALSE(st.isOk());
  }
}

// CVE-2023-44487: streams opened and reset at once, never more than one open.
TEST(ServerSession, RapidResetIsAnsweredWithEnhanceYourCalm) {
  ServerLimits l;
  l.maxResetsPerWindow = 50;
  Conn c(l);
  c.client.preface();
  ASSERT_TRUE(c.send().isOk());
  // Spread over windows, the same count is fine.
  uint32_t id = 1;
  for (int w = 0; w < 3; w++) {
    for (int i = 0; i < 40; i++, id += 2) {
      c.client.headers(id, ClientFrames::get(), false);
      c.client.rst(id, uint32_t(ErrorCode::Cancel));
    }
    ASSERT_TRUE(c.send().isOk()) << "window " << w;
    c.now += l.resetWindowMs;
  }
  EXPECT_EQ(c.server.find(test::kGoaway), nullptr);
  for (int i = 0; i < 60; i++, id += 2) {
    c.client.headers(id, ClientFrames::get(), false);
    c.client.rst(id, uint32_t(ErrorCode::Cancel));
  }
  Status st = c.send();
  EXPECT_FALSE(st.isOk());
  const Frame* g = c.server.find(test::kGoaway);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->code(), uint32_t(ErrorCode::EnhanceYourCalm));
  EXPECT_TRUE(c.session.wantsClose());
  // Every forwarded stream was closed for its owner, with the client's code.
  for (auto& [sid, s] : c.rec.streams) {
    EXPECT_TRUE(s.closed) << sid;
  }
  EXPECT_EQ(c.session.openStreams(), 0u);
}

TEST(ServerSession, PingFloodWhileNotReadingIsAnsweredWithEnhanceYourCalm) {
  ServerLimits l;
  l.outputHighWaterBytes = 1024; // the client does not read: the output fills quickly
  Conn c(l);
  c.read = false;
  c.client.preface();
  ASSERT_TRUE(c.send().isOk());
  Status st;
  int feeds = 0;
  for (; feeds < 100 && st.isOk(); feeds++) {
    for (int i = 0; i < 50; i++) {
      c.client.ping();
    }
    st = c.send();
  }
  EXPECT_FALSE(st.isOk());
  EXPECT_LE(feeds, 25); // 1000 acks queued at most
  EXPECT_LT(c.session.bufferedBytes(), 16u * 1024);
  c.read = true;
  c.drain();
  const Frame* g = c.server.find(test::kGoaway);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->code(), uint32_t(ErrorCode::EnhanceYourCalm));
}

TEST(ServerSession, SettingsFloodIsAnsweredWithEnhanceYourCalm) {
  Conn c;
  c.client.preface();
  for (int i = 0; i < 1100; i++) {
    c.client.settings({});
  }
  EXPECT_FALSE(c.send().isOk());
  const Frame* g = c.server.find(test::kGoaway);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->code(), uint32_t(ErrorCode::EnhanceYourCalm));
}

TEST(ServerSession, TooManySettingsEntriesCloseTheConnection) {
  Conn c;
  c.client.preface();
  std::vector<std::pair<uint16_t, uint32_t>> entries(40, {0x3, 100});
  c.client.settings(entries);
  EXPECT_FALSE(c.send().isOk());
  const Frame* g = c.server.find(test::kGoaway);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->code(), uint32_t(ErrorCode::EnhanceYourCalm));
}

TEST(ServerSession, EmptyDataFloodIsAnsweredWithEnhanceYourCalm) {
  ServerLimits l;
  l.maxEmptyFramesPerWindow = 20;
  Conn c(l);
  c.client.preface();
  c.client.headers(1, ClientFrames::get("/", "POST"), false);
  for (int i = 0; i < 21; i++) {
    c.client.data(1, "", false);
  }
  EXPECT_FALSE(c.send().isOk());
  const Frame* g = c.server.find(test::kGoaway);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->code(), uint32_t(ErrorCode::EnhanceYourCalm));
  EXPECT_TRUE(c.rec.streams[1].closed);
}

TEST(ServerSession, PriorityFloodIsAnsweredWithEnhanceYourCalm) {
  ServerLimits l;
  l.maxEmptyFramesPerWindow = 20;
  Conn c(l);
  c.client.preface();
  for (int i = 0; i < 21; i++) {
    c.client.priority(3 + 2 * i);
  }
  EXPECT_FALSE(c.send().isOk());
  const Frame* g = c.server.find(test::kGoaway);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->code(), uint32_t(ErrorCode::EnhanceYourCalm));
}

// CVE-2024-27316 / CVE-2024-28182: header bytes without END_HEADERS, in many CONTINUATION
// frames. The count is bounded, and the bytes with it (the header list limit).
TEST(ServerSession, ContinuationFloodClosesTheConnection) {
  Conn c;
  c.client.preface();
  std::string block = c.client.block(ClientFrames::get());
  c.client.frame(test::kHeaders, 0, 1, block);
  // A literal field without indexing: "x-c" and 128 bytes of value.
  std::string crumb = std::string("\x00\x03x-c\x7f\x01", 7) + std::string(128, 'c');
  for (int i = 0; i < 20; i++) {
    c.client.frame(test::kContinuation, 0, 1, crumb);
  }
  Status st = c.send();
  EXPECT_FALSE(st.isOk());
  const Frame* g = c.server.find(test::kGoaway);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->code(), uint32_t(ErrorCode::EnhanceYourCalm));
  EXPECT_TRUE(c.rec.streams.empty());
  EXPECT_LT(c.session.bufferedBytes(), 128u * 1024);
}

TEST(ServerSession, ResponseFollowsTheClientsWindowAndAsksForMoreWhenItOpens) {
  ServerLimits l;
  l.maxResponseBufferBytes = 4096;
  Conn c(l);
  c.client.preface({{0x4, 1000}}); // SETTINGS_INITIAL_WINDOW_SIZE
  c.client.headers(1, ClientFrames::get(), true);
  ASSERT_TRUE(c.send().isOk());
  std::string body(20000, 'x');
  std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n" + body;
  size_t taken = c.respond(1, resp);
  EXPECT_LT(taken, resp.size()); // stop reading the target
  EXPECT_EQ(c.server.dataOf(1).size(), 1000u);
  EXPECT_LE(c.session.bufferedBytes(), 16u * 1024);
  size_t off = taken;
  for (int i = 0; i < 100 && off < resp.size(); i++) {
    int before = c.rec.streams[1].writable;
    c.client.windowUpdate(1, 3000);
    ASSERT_TRUE(c.send().isOk());
    if (c.rec.streams[1].writable > before) {
      off += c.respond(1, std::string_view(resp).substr(off));
    }
  }
  c.client.windowUpdate(1, 20000);
  ASSERT_TRUE(c.send().isOk());
  EXPECT_EQ(off, resp.size());
  EXPECT_EQ(c.server.dataOf(1), body);
  EXPECT_TRUE(c.rec.streams[1].closed);
}

TEST(ServerSession, ZeroWindowStallIsResetAfterTheBound) {
  ServerLimits l;
  l.stallTimeoutMs = 5000;
  Conn c(l);
  c.client.preface({{0x4, 0}});
  c.client.headers(1, ClientFrames::get(), true);
  ASSERT_TRUE(c.send().isOk());
  c.respond(1, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + std::string(100000, 'z'));
  EXPECT_LE(c.session.bufferedBytes(), 96u * 1024); // the stream's buffer, not the body
  c.session.tick(c.now);
  c.session.tick(c.now + 4999);
  c.drain();
  EXPECT_EQ(c.server.find(test::kRstStream, 1), nullptr);
  c.session.tick(c.now + 5000);
  c.drain();
  const Frame* rst = c.server.find(test::kRstStream, 1);
  ASSERT_NE(rst, nullptr);
  EXPECT_EQ(rst->code(), uint32_t(ErrorCode::Cancel));
  EXPECT_TRUE(c.rec.streams[1].closed);
  EXPECT_LT(c.session.bufferedBytes(), 8u * 1024);
}

TEST(ServerSession, RequestBodyPastTheWindowIsAFlowControlError) {
  ServerLimits l;
  l.initialWindowBytes = 1000;
  Conn c(l);
  c.rec.consume = false; // the target does not read
  c.client.preface();
  c.client.headers(1, ClientFrames::get("/", "POST"), false);
  c.client.data(1, std::string(1000, 'a'), false);
  ASSERT_TRUE(c.send().isOk());
  EXPECT_EQ(c.rec.credit, 1000u);
  EXPECT_EQ(c.server.find(test::kWindowUpdate, 1), nullptr);
  c.client.data(1, "b", false);
  c.send().ignoreError(); // a stream or connection error, as nghttp2 sees it
  const Frame* rst = c.server.find(test::kRstStream, 1);
  const Frame* g = c.server.find(test::kGoaway);
  ASSERT_TRUE(rst != nullptr || g != nullptr);
  EXPECT_EQ((rst != nullptr ? rst : g)->code(), uint32_t(ErrorCode::FlowControlError));
}

TEST(ServerSession, AnEarlyResponseAsksTheClientToStopSending) {
  Conn c;
  c.client.preface();
  c.client.headers(1, ClientFrames::get("/up", "POST"), false);
  c.client.data(1, "part", false);
  ASSERT_TRUE(c.send().isOk());
  c.respond(1, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(c.field(c.server.find(test::kHeaders, 1), ":status"), "413");
  const Frame* rst = c.server.find(test::kRstStream, 1);
  ASSERT_NE(rst, nullptr);
  EXPECT_EQ(rst->code(), uint32_t(ErrorCode::NoError));
  EXPECT_TRUE(c.rec.streams[1].closed);
  EXPECT_EQ(c.rec.streams[1].code, ErrorCode::NoError);
}

// Credit the owner never hands back (a stream that closed meanwhile) reopens the connection's
// window anyway: a closed stream cannot starve the others.
TEST(ServerSession, CreditOfAClosedStreamGoesBackToTheConnection) {
  ServerLimits l;
  l.initialWindowBytes = 60000;
  l.connectionWindowBytes = 65535;
  Conn c(l);
  c.rec.consume = false;
  c.client.preface();
  for (uint32_t id = 1; id <= 9; id += 2) {
    c.client.headers(id, ClientFrames::get("/up", "POST"), false);
    c.client.data(id, std::string(12000, 'a'), false);
    c.client.rst(id, uint32_t(ErrorCode::Cancel));
  }
  ASSERT_TRUE(c.send().isOk());
  // 60,000 bytes were taken and never consumed by the owner; the streams are gone.
  c.client.headers(11, ClientFrames::get("/up", "POST"), false);
  c.client.data(11, std::string(16000, 'b'), false);
  c.client.data(11, std::string(14000, 'b'), true);
  Status st = c.send();
  ASSERT_TRUE(st.isOk()) << st.toString();
  EXPECT_TRUE(c.rec.streams[11].ended);
  EXPECT_EQ(c.server.find(test::kGoaway), nullptr);
}

TEST(ServerSession, GoAwayFinishesOpenStreamsThenWantsClose) {
  Conn c;
  c.client.preface();
  c.client.headers(1, ClientFrames::get(), true);
  ASSERT_TRUE(c.send().isOk());
  c.session.goAway();
  c.drain();
  const Frame* g = c.server.find(test::kGoaway);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->code(), uint32_t(ErrorCode::NoError));
  EXPECT_EQ(test::get32(g->payload, 0), 1u); // the last stream id
  EXPECT_FALSE(c.session.wantsClose());
  c.client.headers(3, ClientFrames::get(), true); // after the GOAWAY: not processed
  ASSERT_TRUE(c.send().isOk());
  EXPECT_EQ(c.rec.streams.count(3), 0u);
  c.respond(1, "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_TRUE(c.rec.streams[1].closed);
  EXPECT_TRUE(c.session.wantsClose());
}

TEST(ServerSession, ResetByTheClientClosesTheStreamForItsOwner) {
  Conn c;
  c.client.preface();
  c.client.headers(1, ClientFrames::get(), true);
  c.client.rst(1, uint32_t(ErrorCode::Cancel));
  ASSERT_TRUE(c.send().isOk());
  EXPECT_TRUE(c.rec.streams[1].closed);
  EXPECT_EQ(c.rec.streams[1].code, ErrorCode::Cancel);
  // A response arriving later is dropped.
  EXPECT_EQ(c.respond(1, "HTTP/1.1 200 OK\r\n\r\n"), 19u);
}

TEST(ServerSession, NotAPrefaceIsAConnectionError) {
  Conn c;
  c.client.bytes = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_FALSE(c.send().isOk());
  EXPECT_TRUE(c.session.wantsClose());
}

// The cost of an idle session (figure printed, bound loose): nghttp2's state (16 KiB of it its
// outbound frame buffer, which nghttp2 1.52 allocates for every session) and the session's.
TEST(ServerSession, IdleSessionCost) {
  Recorder rec;
  constexpr int kSessions = 200;
  std::vector<std::unique_ptr<ServerSession>> sessions;
  struct mallinfo2 before = mallinfo2();
  for (int i = 0; i < kSessions; i++) {
    sessions.push_back(std::make_unique<ServerSession>(rec));
    sessions.back()->consumed(sessions.back()->pendingOutput().size());
  }
  struct mallinfo2 after = mallinfo2();
  size_t per = (after.uordblks - before.uordblks) / kSessions;
  std::printf("idle ServerSession: %zu bytes of heap each\n", per);
  EXPECT_LT(per, 32u * 1024);
}

} // namespace
} // namespace tide::h2
