#include "h2_properties.h"

#include "h2/client_session.h"
#include "h2/server_session.h"
#include "h2/test_frames.h"
#include "http1/chunked.h"
#include "http1/parser.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tide::fuzz {
namespace {

// The next two bytes of the fuzz input at `at` as a little-endian length below 4096 (what is
// past the end reads as 0).
size_t readU16(const uint8_t* data, size_t size, size_t& at) {
  size_t v = 0;
  if (at < size) {
    v = data[at++];
  }
  if (at < size) {
    v |= size_t{data[at++]} << 8;
  }
  return v & 4095;
}

#define PROPERTY(cond, what)                                                                       \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      return Violation{what, __LINE__, "fuzz/h2_properties.cc"};                                   \
    }                                                                                              \
  } while (0)

// A violation found inside a handler callback is kept (the first one) and returned after.
#define NOTE(cond, what)                                                                           \
  do {                                                                                             \
    if (!(cond) && !first) {                                                                       \
      first = Violation{what, __LINE__, "fuzz/h2_properties.cc"};                                  \
    }                                                                                              \
  } while (0)

constexpr uint32_t kMaxStreams = 8;
constexpr uint32_t kHeaderListBytes = 2048;
constexpr uint32_t kResponseBuffer = 1024;
constexpr uint32_t kHighWater = 4096;
constexpr size_t kMaxFrame = 16384; // SETTINGS_MAX_FRAME_SIZE's default (the client may raise it)

struct StreamLog {
  bool head = false;
  bool ended = false;
  bool closed = false;
  bool chunked = false;
  uint64_t contentLength = 0;
  std::string body;    // body bytes and tail, as forwarded
  std::string pending; // response bytes not taken yet
};

struct Checker : h2::ServerHandler {
  std::map<int32_t, StreamLog> streams;
  Violation first;
  std::map<int32_t, size_t> credit; // request body credit not yet handed back, per stream

  void onRequestHead(int32_t id, std::string_view head) override {
    StreamLog& s = streams[id];
    NOTE(!s.head && !s.closed, "a stream's head is given once, before it closes");
    s.head = true;
    http1::MessageHead h;
    http1::HeadError err = http1::HeadError::None;
    http1::ParseStatus ps =
        http1::parseRequestHeadStrict(head.data(), head.size(), 1 << 20, h, &err);
    NOTE(ps == http1::ParseStatus::Complete, "a forwarded head parses strictly");
    if (ps != http1::ParseStatus::Complete) {
      return;
    }
    NOTE(h.length == head.size(), "a forwarded head is exactly one head");
    NOTE(h.versionMinor == 1, "a forwarded head is HTTP/1.1");
    NOTE(h.framing != http1::BodyFraming::UntilClose, "a request is never read until close");
    s.chunked = h.framing == http1::BodyFraming::Chunked;
    s.contentLength = h.framing == http1::BodyFraming::ContentLength ? h.contentLength : 0;
    size_t hosts = 0;
    for (size_t i = 0; i < h.fieldCount; i++) {
      hosts += h.fields[i].kind == http1::HeaderKind::Host ? 1 : 0;
      NOTE(!h.fields[i].hopByHop, "a forwarded head has no connection-specific field");
    }
    NOTE(hosts == 1, "a forwarded head has one Host");
  }
  void onRequestBody(int32_t id, std::string_view bytes, size_t c) override {
    StreamLog& s = streams[id];
    NOTE(s.head && !s.ended && !s.closed, "body bytes come between head and end");
    NOTE(c > 0 && c <= bytes.size(), "credit is the payload of the bytes");
    s.body += bytes;
    credit[id] += c;
  }
  void onRequestEnd(int32_t id, std::string_view tail) override {
    StreamLog& s = streams[id];
    NOTE(s.head && !s.ended && !s.closed, "a request ends once, after its head");
    s.ended = true;
    s.body += tail;
    if (s.chunked) {
      http1::ChunkedDecoder d;
      size_t used = 0;
      auto r = d.scan(s.body.data(), s.body.size(), &used);
      NOTE(r == http1::ChunkedDecoder::Result::Done && used == s.body.size(),
           "a chunked body ends exactly at its end");
    } else {
      NOTE(tail.empty(), "a body with a length has no tail");
      NOTE(s.body.size() == s.contentLength, "a body with a length carries that many bytes");
    }
  }
  void onResponseWritable(int32_t id) override {
    NOTE(streams.count(id) && !streams[id].closed, "writable only for an open stream");
  }
  void onStreamClosed(int32_t id, h2::ErrorCode) override {
    StreamLog& s = streams[id];
    NOTE(s.head && !s.closed, "a stream closes once, after its head");
    s.closed = true;
  }
};

bool validName(std::string_view n) {
  if (n.empty()) {
    return false;
  }
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) {
      return false;
    }
  }
  return n != "connection" && n != "keep-alive" && n != "proxy-connection" &&
         n != "transfer-encoding" && n != "upgrade" && n != "te" && n != "trailer";
}

bool validValue(std::string_view v) {
  for (char c : v) {
    if (c == '\r' || c == '\n' || c == '\0') {
      return false;
    }
  }
  return true;
}

// What the server wrote: whole frames within the frame size the client allowed, header blocks
// that decode, and in them only fields HTTP/2 allows (a :status first in a response head).
Violation checkOutput(h2::test::ServerFrames& frames, size_t& seen, size_t maxFrame) {
  PROPERTY(!frames.hpackError, "the server's header blocks decode");
  for (; seen < frames.frames.size(); seen++) {
    const h2::test::Frame& f = frames.frames[seen];
    PROPERTY(f.payload.size() <= maxFrame, "frames stay within the frame size");
    for (size_t i = 0; i < f.fields.size(); i++) {
      const auto& [name, value] = f.fields[i];
      if (name == ":status") {
        PROPERTY(i == 0 && value.size() == 3, "a :status of 3 digits comes first");
        continue;
      }
      PROPERTY(validName(name), "a field the server sends has a lowercase token name, and "
                                "no connection-specific one");
      PROPERTY(validValue(value), "a field value the server sends has no CR, LF or NUL");
    }
  }
  return {};
}

} // namespace

Violation checkH2Server(const uint8_t* data, size_t size) {
  h2::ServerLimits limits;
  limits.maxConcurrentStreams = kMaxStreams;
  limits.maxHeaderListBytes = kHeaderListBytes;
  limits.maxResponseBufferBytes = kResponseBuffer;
  limits.outputHighWaterBytes = kHighWater;
  limits.maxResetsPerWindow = 20;
  limits.maxEmptyFramesPerWindow = 20;
  limits.maxOutboundAcks = 50;
  limits.stallTimeoutMs = 5000;
  limits.initialWindowBytes = 4096;
  limits.connectionWindowBytes = 65535;
  Checker checker;
  Violation& first = checker.first;
  h2::ServerSession session(checker, limits);
  uint64_t now = 1;
  bool failed = false;
  bool prefaceSent = false;
  h2::test::ServerFrames frames; // output read
  size_t seen = 0;
  size_t maxFrame = kMaxFrame;
  bool raisedFrameSize = false;
  size_t at = 0;
  auto u16 = [&] { return readU16(data, size, at); };
  auto pick = [&](uint8_t op) -> int32_t {
    std::vector<int32_t> open;
    for (auto& [id, s] : checker.streams) {
      if (s.head && !s.closed) {
        open.push_back(id);
      }
    }
    return open.empty() ? 1 : open[(op >> 3) % open.size()];
  };
  auto read = [&](size_t n) -> Violation {
    std::string_view out = session.pendingOutput();
    n = std::min(n, out.size());
    frames.read(std::string(out.substr(0, n)));
    session.consumed(n);
    if (frames.frames.size() > 256) { // keep the memory of long runs bounded
      frames.frames.erase(frames.frames.begin(), frames.frames.begin() + seen);
      seen = 0;
    }
    return checkOutput(frames, seen, raisedFrameSize ? (1u << 24) - 1 : maxFrame);
  };
  for (int records = 0; at < size && records < 4096; records++) {
    uint8_t op = data[at++];
    switch (op & 7) {
    case 0: {
      size_t n = std::min(u16(), size - at);
      std::string bytes;
      if (!prefaceSent) {
        bytes = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
        prefaceSent = true;
      }
      bytes.append(reinterpret_cast<const char*>(data + at), n);
      // A SETTINGS_MAX_FRAME_SIZE anywhere may raise the client's frame size: checked loosely.
      if (bytes.find(std::string("\x00\x05", 2)) != std::string::npos) {
        raisedFrameSize = true;
      }
      at += n;
      Status st = session.feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), now);
      PROPERTY(!failed || !st.isOk(), "a failed connection stays failed");
      failed = failed || !st.isOk();
      break;
    }
    case 1: {
      size_t n = std::min(u16(), size - at);
      int32_t id = pick(op);
      StreamLog& s = checker.streams[id];
      s.pending.append(reinterpret_cast<const char*>(data + at), n);
      at += n;
      size_t taken = session.submitResponse(id, s.pending.data(), s.pending.size());
      PROPERTY(taken <= s.pending.size(), "submitResponse takes at most what it is given");
      s.pending.erase(0, taken);
      break;
    }
    case 2:
      session.endResponse(pick(op));
      break;
    case 3:
      session.resetStream(pick(op), static_cast<h2::ErrorCode>((op >> 3) % 14));
      break;
    case 4:
      if (Violation v = read(u16())) {
        return v;
      }
      break;
    case 5:
      now += static_cast<uint64_t>(op >> 3) * 1000;
      session.tick(now);
      break;
    case 6:
      session.goAway();
      break;
    case 7:
      for (auto& [id, c] : checker.credit) {
        session.consumeRequestBody(id, c);
      }
      checker.credit.clear();
      break;
    }
    if (first) {
      return first;
    }
    size_t heads = 0;
    size_t closed = 0;
    for (auto& [id, s] : checker.streams) {
      heads += s.head ? 1 : 0;
      closed += s.head && s.closed ? 1 : 0;
    }
    PROPERTY(session.openStreams() == heads - closed, "openStreams counts the open heads");
    PROPERTY(session.openStreams() <= kMaxStreams, "no more streams than the limit");
    // Per stream: its response buffer (and a head being read), its request fields; and the
    // output up to the high-water mark plus a frame.
    size_t bound =
        kHighWater * 4 + 2 * (kMaxFrame + 9) +
        (kMaxStreams + 1) * (512 + 2 * kResponseBuffer + 64 * 1024 + 4 * kHeaderListBytes);
    PROPERTY(session.bufferedBytes() <= bound, "the session's buffers stay bounded");
  }
  // The client reads everything: a failed connection then wants to be closed.
  for (int i = 0; i < 10000 && !session.pendingOutput().empty(); i++) {
    if (Violation v = read(1 << 20)) {
      return v;
    }
  }
  if (first) {
    return first;
  }
  PROPERTY(!failed || session.wantsClose(), "a failed connection wants to be closed");
  return {};
}

namespace {

struct ResponseLog {
  bool head = false; // HEAD request: no body
  std::string bytes;
  bool ended = false;
  bool closed = false;
};

struct ClientChecker : h2::ClientHandler {
  std::map<int32_t, ResponseLog> streams;
  std::map<int32_t, size_t> credit;
  Violation first;
  void onResponseBytes(int32_t id, std::string_view b, size_t c) override {
    ResponseLog& s = streams[id];
    NOTE(!s.ended && !s.closed, "response bytes come before the end");
    s.bytes += b;
    credit[id] += c;
  }
  void onResponseEnd(int32_t id) override {
    ResponseLog& s = streams[id];
    NOTE(!s.ended && !s.closed, "a response ends once");
    s.ended = true;
    if (Violation v = checkResponse(s)) {
      NOTE(false, v.property);
    }
  }
  void onRequestWritable(int32_t id) override {
    NOTE(streams.count(id) && !streams[id].closed, "writable only for an open stream");
  }
  void onStreamClosed(int32_t id, h2::ErrorCode) override {
    ResponseLog& s = streams[id];
    NOTE(!s.closed, "a stream closes once");
    s.closed = true;
  }

  // A whole response: interim heads, a final head, exactly its body.
  static Violation checkResponse(const ResponseLog& s) {
    size_t at = 0;
    for (int heads = 0; heads < 64; heads++) {
      http1::MessageHead h;
      http1::ParseStatus ps =
          http1::parseResponseHead(s.bytes.data() + at, s.bytes.size() - at, 1 << 20, s.head, h);
      PROPERTY(ps == http1::ParseStatus::Complete, "a response head parses strictly");
      at += h.length;
      if (h.status < 200) {
        continue;
      }
      std::string_view body(s.bytes.data() + at, s.bytes.size() - at);
      switch (h.framing) {
      case http1::BodyFraming::None:
        PROPERTY(body.empty(), "a response without a body has none");
        break;
      case http1::BodyFraming::ContentLength:
        PROPERTY(body.size() == h.contentLength, "a body with a length carries that many bytes");
        break;
      case http1::BodyFraming::Chunked: {
        http1::ChunkedDecoder d;
        size_t used = 0;
        auto r = d.scan(body.data(), body.size(), &used);
        PROPERTY(r == http1::ChunkedDecoder::Result::Done && used == body.size(),
                 "a chunked body ends exactly at its end");
        break;
      }
      case http1::BodyFraming::UntilClose:
        PROPERTY(false, "a response from an HTTP/2 target is never read until close");
      }
      return {};
    }
    PROPERTY(false, "a response has a final head");
    return {};
  }
};

struct Request {
  const char* bytes;
  bool head;
};
constexpr Request kRequests[] = {
    {"GET /a HTTP/1.1\r\nHost: t.test\r\nAccept: */*\r\n\r\n", false},
    {"HEAD /h HTTP/1.1\r\nHost: t.test\r\n\r\n", true},
    {"POST /pkg.Svc/Call HTTP/1.1\r\nHost: t.test\r\nContent-Type: application/grpc\r\n"
     "TE: trailers\r\nContent-Length: 5\r\n\r\nhello",
     false},
    {"PUT /u HTTP/1.1\r\nHost: t.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
     "0\r\nx-sum: 1\r\n\r\n",
     false},
};

} // namespace

Violation checkH2Client(const uint8_t* data, size_t size) {
  h2::ClientLimits limits;
  limits.maxHeaderListBytes = 2048;
  limits.maxRequestBufferBytes = 1024;
  limits.outputHighWaterBytes = 4096;
  limits.initialWindowBytes = 4096;
  limits.connectionWindowBytes = 65535;
  ClientChecker checker;
  Violation& first = checker.first;
  h2::ClientSession session(checker, limits);
  size_t at = 0;
  auto u16 = [&] { return readU16(data, size, at); };
  bool failed = false;
  for (int records = 0; at < size && records < 4096; records++) {
    uint8_t op = data[at++];
    switch (op & 3) {
    case 0: {
      size_t n = std::min(u16(), size - at);
      Status st = session.feed(data + at, n);
      at += n;
      PROPERTY(!failed || !st.isOk(), "a failed connection stays failed");
      failed = failed || !st.isOk();
      break;
    }
    case 1: {
      const Request& r = kRequests[(op >> 2) % (sizeof(kRequests) / sizeof(kRequests[0]))];
      std::string_view bytes(r.bytes);
      size_t taken = 0;
      Result<int32_t> id = session.submitRequest(bytes.data(), bytes.size(), &taken);
      if (id.isOk()) {
        PROPERTY(taken == bytes.size(), "a small request is taken whole");
        PROPERTY(checker.streams.count(id.value()) == 0, "a stream id is new");
        checker.streams[id.value()].head = r.head;
      } else {
        PROPERTY(taken == 0, "a refused request takes nothing");
      }
      break;
    }
    case 2: {
      size_t n = std::min(u16(), session.pendingOutput().size());
      session.consumed(n);
      break;
    }
    case 3:
      if ((op >> 2) % 8 == 0) {
        session.goAway();
      } else if ((op >> 2) % 8 == 1 && !checker.streams.empty()) {
        session.resetStream(checker.streams.rbegin()->first, h2::ErrorCode::Cancel);
      } else {
        for (auto& [id, c] : checker.credit) {
          session.consumeResponseBody(id, c);
        }
        checker.credit.clear();
      }
      break;
    }
    if (first) {
      return first;
    }
    size_t open = 0;
    for (auto& [id, s] : checker.streams) {
      open += s.closed ? 0 : 1;
    }
    PROPERTY(session.openStreams() == open, "openStreams counts the streams not closed");
  }
  return first;
}

} // namespace tide::fuzz
