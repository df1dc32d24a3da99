// The HTTP/2 client of the tests that run a real Balancer with an HTTPS listener
// (h2_listener_test, h2_upstream_test): ALPN h2 over a blocking OpenSSL client, HTTP/2 by
// h2::ClientSession (requests given and responses collected as HTTP/1.1 bytes per stream), and
// what the server's frames were, per stream. Every wait is bounded (socket timeouts, deadlines).
#pragma once

#include "balancer/test_tls.h"
#include "h2/client_session.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tide::balancer::test_net {

// An HTTP/2 client over a TlsClient: requests given as HTTP/1.1 bytes, responses collected as
// HTTP/1.1 bytes per stream.
class H2Client : public h2::ClientHandler {
public:
  struct Response {
    std::string bytes;
    bool ended = false;
    bool closed = false;
    h2::ErrorCode code = h2::ErrorCode::NoError;
  };

  explicit H2Client(uint16_t port)
      : conn_(port, "shop.example.test", 0, 0, 0, nullptr, kAlpnH2), session_(*this) {}
  bool ok() { return conn_.ok() && conn_.alpn() == "h2"; }

  int32_t request(const std::string& http1) {
    size_t taken = 0;
    auto id = session_.submitRequest(http1.data(), http1.size(), &taken);
    if (!id.isOk()) {
      ADD_FAILURE() << id.status().toString();
      return -1;
    }
    if (taken < http1.size()) { // the rest of the body, as the window allows
      pendingBody_[*id] = http1.substr(taken);
      moreBody(*id); // (a wake-up during submitRequest came before the rest was kept)
    }
    flush();
    return *id;
  }
  void reset(int32_t id) {
    session_.resetStream(id, h2::ErrorCode::Cancel);
    flush();
  }
  // Reads and answers until pred() holds; false at EOF or after 10 s.
  template <typename F> bool until(F&& pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline || !readSome()) {
        return false;
      }
    }
    return true;
  }
  // Reads until the server closes; false after 10 s (or a read error other than EOF).
  bool untilClosed() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      int n = conn_.read(buf, sizeof buf);
      if (n <= 0) {
        return true;
      }
      scanFrames(buf, size_t(n));
      if (!session_.feed(reinterpret_cast<const uint8_t*>(buf), size_t(n)).isOk()) {
        return true;
      }
    }
    return false;
  }
  bool readSome() {
    char buf[65536];
    int n = conn_.read(buf, sizeof buf);
    if (n <= 0) {
      return false;
    }
    scanFrames(buf, size_t(n));
    Status st = session_.feed(reinterpret_cast<const uint8_t*>(buf), size_t(n));
    EXPECT_TRUE(st.isOk()) << st.toString();
    for (auto it = pendingBody_.begin(); it != pendingBody_.end();) {
      int32_t id = (it++)->first; // (moreBody may erase it)
      moreBody(id);
    }
    flush();
    return true;
  }
  std::map<int32_t, Response> responses;
  std::vector<int32_t> endOrder;
  // Per stream, the server's frames in order: H (HEADERS), D (DATA), R (RST_STREAM), each H and
  // D followed by '.' when it ended the stream ("H." is a trailers-only answer).
  std::map<int32_t, std::string> frameLog;
  int goaways = 0;         // GOAWAY frames the server sent
  uint32_t goawayCode = 0; // the last one's error code
  bool holdBody = false;   // keep every stream's window closed (no WINDOW_UPDATE for its data)

  void onResponseBytes(int32_t id, std::string_view bytes, size_t credit) override {
    responses[id].bytes.append(bytes);
    if (!holdBody) {
      session_.consumeResponseBody(id, credit);
    }
  }
  void onResponseEnd(int32_t id) override {
    responses[id].ended = true;
    endOrder.push_back(id);
  }
  void onRequestWritable(int32_t id) override { moreBody(id); }
  void onStreamClosed(int32_t id, h2::ErrorCode code) override {
    responses[id].closed = true;
    responses[id].code = code;
  }

private:
  // Follows the server's frames (it sends no preface of its own) to see its GOAWAYs and what
  // each stream got.
  void scanFrames(const char* p, size_t n) {
    frames_.append(p, n);
    while (frames_.size() >= 9) {
      size_t len = (size_t(uint8_t(frames_[0])) << 16) | (size_t(uint8_t(frames_[1])) << 8) |
                   uint8_t(frames_[2]);
      if (frames_.size() < 9 + len) {
        return;
      }
      uint8_t type = uint8_t(frames_[3]);
      int32_t id = int32_t(((uint32_t(uint8_t(frames_[5])) & 0x7f) << 24) |
                           (uint32_t(uint8_t(frames_[6])) << 16) |
                           (uint32_t(uint8_t(frames_[7])) << 8) | uint8_t(frames_[8]));
      if (id != 0 && type <= 3 && type != 2) { // DATA, HEADERS, RST_STREAM
        frameLog[id] += "DH?R"[type];
        if (type != 3 && (uint8_t(frames_[4]) & 0x1) != 0) {
          frameLog[id] += '.';
        }
      }
      if (type == 7 && len >= 8) {
        ++goaways;
        goawayCode = (uint32_t(uint8_t(frames_[13])) << 24) |
                     (uint32_t(uint8_t(frames_[14])) << 16) |
                     (uint32_t(uint8_t(frames_[15])) << 8) | uint8_t(frames_[16]);
      }
      frames_.erase(0, 9 + len);
    }
  }
  void moreBody(int32_t id) {
    auto it = pendingBody_.find(id);
    if (it == pendingBody_.end()) {
      return;
    }
    size_t taken = session_.submitRequestBody(id, it->second.data(), it->second.size());
    it->second.erase(0, taken);
    if (it->second.empty()) {
      pendingBody_.erase(it);
    }
  }
  void flush() {
    for (;;) {
      std::string_view p = session_.pendingOutput();
      if (p.empty()) {
        return;
      }
      if (!conn_.send(p)) {
        return;
      }
      session_.consumed(p.size());
    }
  }

  test_net::TlsClient conn_;
  h2::ClientSession session_;
  std::map<int32_t, std::string> pendingBody_;
  std::string frames_; // the server's bytes not yet split into frames
};

// A response's body and trailer section: the bytes after its head, de-chunked when it is
// chunked; the trailer section (each field line with its CRLF, without the blank line) is what
// follows the last chunk, "" when there is none.
struct ResponseParts {
  std::string body;
  std::string trailers;
};
inline ResponseParts parts(const std::string& response) {
  ResponseParts out;
  size_t end = response.find("\r\n\r\n");
  if (end == std::string::npos) {
    return out;
  }
  std::string rest = response.substr(end + 4);
  if (response.find("Transfer-Encoding: chunked") == std::string::npos &&
      response.find("transfer-encoding: chunked") == std::string::npos) {
    out.body = rest;
    return out;
  }
  size_t i = 0;
  for (;;) {
    size_t eol = rest.find("\r\n", i);
    if (eol == std::string::npos) {
      return out;
    }
    size_t n = std::stoul(rest.substr(i, eol - i), nullptr, 16);
    if (n == 0) {
      size_t blank = rest.find("\r\n\r\n", eol);
      if (blank != std::string::npos) { // (no trailers: the blank line follows the last chunk)
        out.trailers = rest.substr(eol + 2, blank + 2 - (eol + 2));
      }
      return out;
    }
    out.body.append(rest, eol + 2, n);
    i = eol + 2 + n + 2;
  }
}
inline std::string body(const std::string& response) {
  return parts(response).body;
}

} // namespace tide::balancer::test_net
