// Tests only: HTTP/2 frames written by hand (RFC 9113 §4.1, §6) with nghttp2's HPACK encoder for
// header blocks, and the frames a session wrote read back (HPACK decoded), so that tests drive
// a ServerSession with exactly the bytes an attack sends.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace tide::h2::test {

using Fields = std::vector<std::pair<std::string, std::string>>;

enum FrameType : uint8_t {
  kData = 0x0,
  kHeaders = 0x1,
  kPriority = 0x2,
  kRstStream = 0x3,
  kSettings = 0x4,
  kPing = 0x6,
  kGoaway = 0x7,
  kWindowUpdate = 0x8,
  kContinuation = 0x9,
};
enum FrameFlag : uint8_t {
  kEndStream = 0x1,
  kAck = 0x1,
  kEndHeaders = 0x4,
};

inline void put32(std::string& s, uint32_t v) {
  s.push_back(static_cast<char>(v >> 24));
  s.push_back(static_cast<char>(v >> 16));
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v));
}

inline uint32_t get32(const std::string& s, size_t at) {
  auto b = [&](size_t i) { return uint32_t{static_cast<uint8_t>(s[at + i])}; };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

// What a client sends, appended to `bytes`.
class ClientFrames {
public:
  ClientFrames() {
    if (nghttp2_hd_deflate_new(&deflater_, 4096) != 0) {
      abort();
    }
  }
  ~ClientFrames() { nghttp2_hd_deflate_del(deflater_); }
  ClientFrames(const ClientFrames&) = delete;
  ClientFrames& operator=(const ClientFrames&) = delete;

  std::string bytes;

  void frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
    size_t n = payload.size();
    bytes.push_back(static_cast<char>(n >> 16));
    bytes.push_back(static_cast<char>(n >> 8));
    bytes.push_back(static_cast<char>(n));
    bytes.push_back(static_cast<char>(type));
    bytes.push_back(static_cast<char>(flags));
    put32(bytes, stream & 0x7fffffff);
    bytes += payload;
  }
  // The connection preface, an empty SETTINGS (or the given entries) and the ack of the
  // server's SETTINGS.
  void preface(const std::vector<std::pair<uint16_t, uint32_t>>& settings = {}) {
    bytes += "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    this->settings(settings);
    frame(kSettings, kAck, 0, "");
  }
  void settings(const std::vector<std::pair<uint16_t, uint32_t>>& entries) {
    std::string p;
    for (auto& [id, v] : entries) {
      p.push_back(static_cast<char>(id >> 8));
      p.push_back(static_cast<char>(id));
      put32(p, v);
    }
    frame(kSettings, 0, 0, p);
  }
  std::string block(const Fields& fields) {
    std::vector<nghttp2_nv> nva;
    for (auto& [n, v] : fields) {
      nva.push_back(
          {(uint8_t*)n.data(), (uint8_t*)v.data(), n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
    }
    std::string out(nghttp2_hd_deflate_bound(deflater_, nva.data(), nva.size()), '\0');
    ssize_t n =
        nghttp2_hd_deflate_hd(deflater_, (uint8_t*)out.data(), out.size(), nva.data(), nva.size());
    if (n < 0) {
      abort();
    }
    out.resize(static_cast<size_t>(n));
    return out;
  }
  void headers(uint32_t stream, const Fields& fields, bool endStream) {
    frame(kHeaders, kEndHeaders | (endStream ? kEndStream : 0), stream, block(fields));
  }
  static Fields get(const std::string& path = "/", const std::string& method = "GET") {
    return {{":method", method}, {":scheme", "https"}, {":path", path}, {":authority", "a.test"}};
  }
  void data(uint32_t stream, const std::string& d, bool endStream) {
    frame(kData, endStream ? kEndStream : 0, stream, d);
  }
  void rst(uint32_t stream, uint32_t code) {
    std::string p;
    put32(p, code);
    frame(kRstStream, 0, stream, p);
  }
  void ping() { frame(kPing, 0, 0, std::string(8, 'p')); }
  void priority(uint32_t stream) {
    std::string p;
    put32(p, 0);
    p.push_back(15);
    frame(kPriority, 0, stream, p);
  }
  void windowUpdate(uint32_t stream, uint32_t inc) {
    std::string p;
    put32(p, inc);
    frame(kWindowUpdate, 0, stream, p);
  }

private:
  nghttp2_hd_deflater* deflater_ = nullptr;
};

struct Frame {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t stream = 0;
  std::string payload;
  Fields fields; // HEADERS: decoded
  uint32_t code() const { return type == kGoaway ? get32(payload, 4) : get32(payload, 0); }
};

// Reads what a server wrote, frame by frame (keeps a partial frame for the next call).
class ServerFrames {
public:
  ServerFrames() {
    if (nghttp2_hd_inflate_new(&inflater_) != 0) {
      abort();
    }
  }
  ~ServerFrames() { nghttp2_hd_inflate_del(inflater_); }
  ServerFrames(const ServerFrames&) = delete;
  ServerFrames& operator=(const ServerFrames&) = delete;

  std::vector<Frame> frames;
  bool hpackError = false; // a header block did not decode

  void read(const std::string& in) {
    rest_ += in;
    size_t at = 0;
    while (rest_.size() - at >= 9) {
      size_t len = size_t{static_cast<uint8_t>(rest_[at])} << 16 |
                   size_t{static_cast<uint8_t>(rest_[at + 1])} << 8 |
                   size_t{static_cast<uint8_t>(rest_[at + 2])};
      if (rest_.size() - at < 9 + len) {
        break;
      }
      Frame f;
      f.type = static_cast<uint8_t>(rest_[at + 3]);
      f.flags = static_cast<uint8_t>(rest_[at + 4]);
      f.stream = get32(rest_, at + 5) & 0x7fffffff;
      f.payload = rest_.substr(at + 9, len);
      if (f.type == kHeaders || f.type == kContinuation) {
        decode(f);
      }
      frames.push_back(std::move(f));
      at += 9 + len;
    }
    rest_.erase(0, at);
  }
  // The first frame of a type (on a stream, when given), or null.
  const Frame* find(uint8_t type, int64_t stream = -1) const {
    for (const Frame& f : frames) {
      if (f.type == type && (stream < 0 || f.stream == stream)) {
        return &f;
      }
    }
    return nullptr;
  }
  std::string dataOf(uint32_t stream) const {
    std::string d;
    for (const Frame& f : frames) {
      if (f.type == kData && f.stream == stream) {
        d += f.payload;
      }
    }
    return d;
  }

private:
  void decode(Frame& f) {
    const uint8_t* in = (const uint8_t*)f.payload.data();
    size_t inlen = f.payload.size();
    for (;;) {
      nghttp2_nv nv;
      int flags = 0;
      ssize_t n =
          nghttp2_hd_inflate_hd2(inflater_, &nv, &flags, in, inlen, (f.flags & kEndHeaders) != 0);
      if (n < 0) {
        hpackError = true;
        return;
      }
      in += n;
      inlen -= static_cast<size_t>(n);
      if (flags & NGHTTP2_HD_INFLATE_EMIT) {
        f.fields.emplace_back(std::string((const char*)nv.name, nv.namelen),
                              std::string((const char*)nv.value, nv.valuelen));
      }
      if (flags & NGHTTP2_HD_INFLATE_FINAL) {
        nghttp2_hd_inflate_end_headers(inflater_);
        break;
      }
      if ((flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && inlen == 0) {
        break;
      }
    }
  }
  nghttp2_hd_inflater* inflater_ = nullptr;
  std::string rest_;
};

} // namespace tide::h2::test
