// ClientSession against ServerSession: an HTTP/1.1-shaped request goes to an HTTP/2 "target"
// (a ServerSession whose owner answers in HTTP/1.1), and its response comes back as HTTP/1.1.
#include "h2/client_session.h"

#include "h2/server_session.h"

#include <gtest/gtest.h>

#include <map>

namespace tide::h2 {
namespace {

struct ClientLog : ClientHandler {
  struct Stream {
    std::string bytes;
    bool ended = false;
    bool closed = false;
    ErrorCode code = ErrorCode::NoError;
    int writable = 0;
  };
  std::map<int32_t, Stream> streams;
  ClientSession* session = nullptr;
  void onResponseBytes(int32_t id, std::string_view b, size_t credit) override {
    streams[id].bytes += b;
    session->consumeResponseBody(id, credit);
  }
  void onResponseEnd(int32_t id) override { streams[id].ended = true; }
  void onRequestWritable(int32_t id) override { streams[id].writable++; }
  void onStreamClosed(int32_t id, ErrorCode code) override {
    EXPECT_FALSE(streams[id].closed);
    streams[id].closed = true;
    streams[id].code = code;
  }
};

struct TargetLog : ServerHandler {
  struct Stream {
    std::string request;
    bool ended = false;
    bool closed = false;
  };
  std::map<int32_t, Stream> streams;
  ServerSession* session = nullptr;
  bool consume = true;
  size_t held = 0; // credit not handed back
  void onRequestHead(int32_t id, std::string_view head) override {
    streams[id].request = std::string(head);
  }
  void onRequestBody(int32_t id, std::string_view b, size_t credit) override {
    streams[id].request += b;
    if (consume) {
      session->consumeRequestBody(id, credit);
    } else {
      held += credit;
    }
  }
  void onRequestEnd(int32_t id, std::string_view tail) override {
    streams[id].request += tail;
    streams[id].ended = true;
  }
  void onResponseWritable(int32_t) override {}
  void onStreamClosed(int32_t id, ErrorCode) override { streams[id].closed = true; }
};

struct Pair {
  explicit Pair(const ClientLimits& cl = {}, const ServerLimits& sl = {})
      : client(clientLog, cl), target(targetLog, sl) {
    clientLog.session = &client;
    targetLog.session = &target;
  }
  ClientLog clientLog;
  TargetLog targetLog;
  ClientSession client;
  ServerSession target;

  // Moves bytes both ways until neither side has any to send.
  void pump() {
    for (int i = 0; i < 1000; i++) {
      std::string up(client.pendingOutput());
      client.consumed(up.size());
      if (!up.empty()) {
        EXPECT_TRUE(target.feed(reinterpret_cast<const uint8_t*>(up.data()), up.size(), 0).isOk());
      }
      std::string down(target.pendingOutput());
      target.consumed(down.size());
      if (!down.empty()) {
        EXPECT_TRUE(client.feed(reinterpret_cast<const uint8_t*>(down.data()), down.size()).isOk());
      }
      if (up.empty() && down.empty()) {
        return;
      }
    }
    ADD_FAILURE() << "the sessions kept talking";
  }
  int32_t request(std::string_view bytes) {
    size_t taken = 0;
    Result<int32_t> id = client.submitRequest(bytes.data(), bytes.size(), &taken);
    EXPECT_TRUE(id.isOk()) << id.status().toString();
    EXPECT_EQ(taken, bytes.size());
    pump();
    return id.isOk() ? id.value() : 0;
  }
  void respond(int32_t id, std::string_view bytes) {
    EXPECT_EQ(target.submitResponse(id, bytes.data(), bytes.size()), bytes.size());
    pump();
  }
};

TEST(ClientSession, GrpcShapedCallCarriesTrailersBothWays) {
  Pair p;
  int32_t id = p.request("POST /pkg.Greeter/Hello HTTP/1.1\r\nHost: t.test\r\n"
                         "Content-Type: application/grpc\r\nTE: trailers\r\n"
                         "Connection: keep-alive\r\nContent-Length: 10\r\n\r\n0123456789");
  ASSERT_EQ(id, 1);
  auto& t = p.targetLog.streams[1];
  EXPECT_EQ(t.request, "POST /pkg.Greeter/Hello HTTP/1.1\r\nHost: t.test\r\n"
                       "content-type: application/grpc\r\ncontent-length: 10\r\n\r\n0123456789");
  EXPECT_TRUE(t.ended);
  p.respond(1, "HTTP/1.1 200 OK\r\nContent-Type: application/grpc\r\n"
               "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\ngrpc-status: 0\r\n"
               "grpc-message: ok\r\n\r\n");
  auto& c = p.clientLog.streams[1];
  EXPECT_EQ(c.bytes, "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\n"
                     "transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\ngrpc-status: 0\r\n"
                     "grpc-message: ok\r\n\r\n");
  EXPECT_TRUE(c.ended);
  EXPECT_TRUE(c.closed);
  EXPECT_EQ(c.code, ErrorCode::NoError);
  EXPECT_EQ(p.client.openStreams(), 0u);
}

TEST(ClientSession, ChunkedResponsesDropTheLengthSoThatTrailersCanFollow) {
  ClientLimits limits;
  limits.chunkedResponses = true; // (gRPC target groups)
  Pair p(limits);
  int32_t id = p.request("POST /pkg.Greeter/Hello HTTP/1.1\r\nHost: t.test\r\n"
                         "Content-Length: 0\r\n\r\n");
  // A body with a length: HTTP/1.1 carries trailers only after a chunked one, so it goes.
  p.respond(id, "HTTP/1.1 200 OK\r\nContent-Type: application/grpc\r\nContent-Length: 5\r\n"
                "Trailer: grpc-status\r\n\r\nhello");
  auto& c = p.clientLog.streams[id];
  EXPECT_EQ(c.bytes, "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\n"
                     "transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_TRUE(c.ended);
}

TEST(ClientSession, ChunkedRequestWithTrailersAndContentLengthResponse) {
  Pair p;
  p.request("PUT /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            "3\r\nabc\r\n2\r\nde\r\n0\r\nx-sum: 9\r\n\r\n");
  auto& t = p.targetLog.streams[1];
  EXPECT_EQ(t.request, "PUT /x HTTP/1.1\r\nHost: t\r\ntransfer-encoding: chunked\r\n\r\n"
                       "5\r\nabcde\r\n0\r\nx-sum: 9\r\n\r\n");
  p.respond(1, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(p.clientLog.streams[1].bytes, "HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok");
  EXPECT_TRUE(p.clientLog.streams[1].ended);
}

TEST(ClientSession, BodylessResponsesAndInterimHeads) {
  Pair p;
  p.request("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
  p.request("GET /a HTTP/1.1\r\nHost: t\r\n\r\n");
  p.request("GET /b HTTP/1.1\r\nHost: t\r\n\r\n");
  p.respond(1, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n");
  p.respond(3, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
  p.respond(5, "HTTP/1.1 200 OK\r\n\r\n");
  p.target.endResponse(5); // a body until close, empty
  p.pump();
  EXPECT_EQ(p.clientLog.streams[1].bytes, "HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\n");
  EXPECT_EQ(p.clientLog.streams[3].bytes,
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(p.clientLog.streams[5].bytes,
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n");
  for (int32_t id : {1, 3, 5}) {
    EXPECT_TRUE(p.clientLog.streams[id].ended) << id;
    EXPECT_EQ(p.clientLog.streams[id].code, ErrorCode::NoError) << id;
  }
}

TEST(ClientSession, RequestBodyWaitsForTheTargetsWindow) {
  ClientLimits cl;
  cl.maxRequestBufferBytes = 4096;
  ServerLimits sl;
  sl.initialWindowBytes = 2000;
  Pair p(cl, sl);
  p.targetLog.consume = false;
  std::string body(20000, 'q');
  std::string req = "POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 20000\r\n\r\n" + body;
  size_t taken = 0;
  Result<int32_t> id = p.client.submitRequest(req.data(), req.size(), &taken);
  ASSERT_TRUE(id.isOk());
  EXPECT_LT(taken, req.size()); // the stream's buffer is full: stop reading the client
  p.pump();
  size_t head = req.size() - body.size();
  // The target does not read: what reached it is bounded by its window (the default 65,535
  // until the client saw its SETTINGS) and the client's buffer.
  EXPECT_LE(p.targetLog.streams[1].request.size(), head + 4096);
  size_t off = taken;
  p.targetLog.consume = true;
  p.target.consumeRequestBody(1, p.targetLog.held);
  for (int i = 0; i < 200 && off < req.size(); i++) {
    p.pump();
    off += p.client.submitRequestBody(1, req.data() + off, req.size() - off);
  }
  p.pump();
  EXPECT_EQ(off, req.size());
  EXPECT_GT(p.clientLog.streams[1].writable, 0);
  EXPECT_TRUE(p.targetLog.streams[1].ended);
  EXPECT_EQ(p.targetLog.streams[1].request.size(), req.size());
  EXPECT_TRUE(p.targetLog.streams[1].request.substr(head) == body);
}

TEST(ClientSession, ResetByTheTargetClosesTheStream) {
  Pair p;
  p.request("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  p.target.resetStream(1, ErrorCode::RefusedStream);
  p.pump();
  EXPECT_TRUE(p.clientLog.streams[1].closed);
  EXPECT_EQ(p.clientLog.streams[1].code, ErrorCode::RefusedStream);
  EXPECT_FALSE(p.clientLog.streams[1].ended);
}

TEST(ClientSession, GoAwayRefusesNewRequests) {
  Pair p;
  p.request("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  p.client.goAway();
  p.pump();
  size_t taken = 0;
  std::string r = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
  EXPECT_FALSE(p.client.submitRequest(r.data(), r.size(), &taken).isOk());
  EXPECT_FALSE(p.client.wantsClose());
  p.respond(1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(p.clientLog.streams[1].ended);
  EXPECT_TRUE(p.client.wantsClose());
}

TEST(ClientSession, AfterTheTargetsGoAwayRequestsAreRefusedWithoutEvents) {
  Pair p;
  p.request("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  p.target.goAway();
  p.pump();
  size_t taken = 0;
  std::string r = "GET /2 HTTP/1.1\r\nHost: t\r\n\r\n";
  EXPECT_FALSE(p.client.submitRequest(r.data(), r.size(), &taken).isOk());
  EXPECT_EQ(taken, 0u);
  EXPECT_EQ(p.clientLog.streams.count(3), 0u); // no event for a stream never given an id
  p.respond(1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(p.clientLog.streams[1].ended);
}

TEST(ClientSession, AStatusOutsideHttpsRangeResetsTheStream) {
  // A target that answers :status 096 (three digits, as nghttp2 checks): written by hand.
  ClientLog log;
  ClientSession s(log);
  log.session = &s;
  std::string r = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
  size_t taken = 0;
  ASSERT_TRUE(s.submitRequest(r.data(), r.size(), &taken).isOk());
  s.consumed(s.pendingOutput().size());
  std::string block = std::string("\x00\x07:status\x03"
                                  "096",
                                  13);
  std::string frames;
  frames += std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9); // SETTINGS
  frames += std::string("\x00\x00\x0d\x01\x05\x00\x00\x00\x01", 9) + block;
  ASSERT_TRUE(s.feed(reinterpret_cast<const uint8_t*>(frames.data()), frames.size()).isOk());
  EXPECT_TRUE(log.streams[1].closed);
  EXPECT_NE(log.streams[1].code, ErrorCode::NoError); // (the HEADERS ended the stream too)
  EXPECT_EQ(log.streams[1].bytes, "");
  EXPECT_FALSE(log.streams[1].ended);
}

TEST(ClientSession, NotAWholeHeadIsRefused) {
  ClientLog log;
  ClientSession s(log);
  size_t taken = 0;
  std::string r = "GET / HTTP/1.1\r\nHost: t\r\n";
  EXPECT_FALSE(s.submitRequest(r.data(), r.size(), &taken).isOk());
  EXPECT_EQ(taken, 0u);
}

} // namespace
} // namespace tide::h2
