#include "control/grpc_probe.h"

#include "control/probe_socket.h"
#include "model/validation.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <optional>
#include <string_view>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace tide::control {

namespace {

// One HTTP/2 check in flight: the socket, nghttp2's session (which only frames and parses:
// tide reads and writes the bytes), and the timer. nghttp2's callbacks only note what came;
// the outcome is acted on after nghttp2 returns, never inside it.
struct H2Probe : ProbeBase, std::enable_shared_from_this<H2Probe> {
  H2ProbeSpec spec;
  std::string authority;
  bool connected = false;
  nghttp2_session* session = nullptr;
  int32_t streamId = -1;
  std::string out;       // framed bytes not yet written
  bool anyInput = false; // the target has sent something
  int httpStatus = 0;    // :status of the response
  std::optional<int> grpcStatus;
  std::optional<CheckResult> outcome; // decided, to be finished after nghttp2 returns
  size_t bodySent = 0;                // of the gRPC request's 5-byte empty message

  explicit H2Probe(EventLoop& l) : ProbeBase(l) {}
  ~H2Probe() {
    if (session != nullptr) {
      nghttp2_session_del(session);
    }
  }

  void fail(std::string detail) {
    if (!outcome) {
      outcome = CheckResult{CheckResult::Kind::Failed, 0, std::move(detail)};
    }
  }

  // The answer is complete (END_STREAM): judge it.
  void judge() {
    if (outcome) {
      return;
    }
    if (!spec.grpc) {
      return; // HTTP2 checks are judged on the response's headers (onHeadersDone)
    }
    if (!grpcStatus) {
      fail(httpStatus == 0 ? "no response headers"
                           : "HTTP status " + std::to_string(httpStatus) +
                                 " without grpc-status: not a gRPC answer");
      return;
    }
    int code = *grpcStatus;
    outcome =
        CheckResult{model::grpcMatcherMatches(spec.matcher, code) ? CheckResult::Kind::Passed
                                                                  : CheckResult::Kind::CodeMismatch,
                    code, ""};
  }

  // A complete header block of the response (not a trailer block).
  void onResponseHeaders() {
    if (outcome || spec.grpc || httpStatus < 200) {
      return; // gRPC waits for grpc-status; 1xx is informational
    }
    outcome = CheckResult{model::matcherMatches(spec.matcher, httpStatus)
                              ? CheckResult::Kind::Passed
                              : CheckResult::Kind::CodeMismatch,
                          httpStatus, ""};
  }

  // ---- nghttp2 callbacks (user_data is the probe) ----
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    auto* p = static_cast<H2Probe*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != p->streamId) {
      return 0;
    }
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    int parsed = 0;
    auto number = [&] {
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), parsed);
      return ec == std::errc() && end == v.data() + v.size() && parsed >= 0;
    };
    if (n == ":status") {
      p->httpStatus = number() ? parsed : 0;
    } else if (n == "grpc-status") {
      if (number()) {
        p->grpcStatus = parsed;
      } else {
        p->fail("malformed grpc-status '" + std::string(v.substr(0, 16)) + "'");
      }
    }
    return 0;
  }

  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* p = static_cast<H2Probe*>(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      if (frame->goaway.last_stream_id < p->streamId || p->streamId < 0) {
        p->fail("GOAWAY from the target (error code " + std::to_string(frame->goaway.error_code) +
                ") before an answer");
      }
      return 0;
    }
    if (frame->hd.stream_id != p->streamId) {
      return 0;
    }
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
      p->onResponseHeaders();
    }
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      p->judge();
    }
    return 0;
  }

  static int onStreamClose(nghttp2_session*, int32_t stream, uint32_t error, void* user) {
    auto* p = static_cast<H2Probe*>(user);
    if (stream == p->streamId && !p->outcome) {
      p->fail(error == NGHTTP2_NO_ERROR ? "stream closed before an answer"
                                        : "stream reset by the target (" +
                                              std::string(nghttp2_http2_strerror(error)) + ")");
    }
    return 0;
  }

  static ssize_t readBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source*, void* user) {
    auto* p = static_cast<H2Probe*>(user);
    // One empty gRPC message: flag 0 (not compressed), length 0 (4 bytes, big-endian).
    constexpr size_t kMessage = 5;
    size_t n = std::min(length, kMessage - p->bodySent);
    std::memset(buf, 0, n);
    p->bodySent += n;
    if (p->bodySent == kMessage) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return static_cast<ssize_t>(n);
  }

  // Connected: the session, its SETTINGS and the one request.
  bool startSession() {
    nghttp2_session_callbacks* cbs = nullptr;
    if (nghttp2_session_callbacks_new(&cbs) != 0) {
      fail("out of memory");
      return false;
    }
    nghttp2_session_callbacks_set_on_header_callback(cbs, onHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, onFrameRecv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, onStreamClose);
    int rv = nghttp2_session_client_new(&session, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) {
      session = nullptr;
      fail(nghttp2_strerror(rv));
      return false;
    }
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                         {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1}};
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, 2);
    auto nv = [](std::string_view name, std::string_view value) {
      return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                        reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                        value.size(), NGHTTP2_NV_FLAG_NONE};
    };
    std::vector<nghttp2_nv> headers = {
        nv(":method", spec.grpc ? "POST" : "GET"),
        nv(":scheme", "http"),
        nv(":authority", authority),
        nv(":path", spec.path),
        nv("user-agent", "ELB-HealthChecker/2.0"),
    };
    nghttp2_data_provider body{};
    body.read_callback = readBody;
    if (spec.grpc) {
      headers.push_back(nv("content-type", "application/grpc"));
      headers.push_back(nv("te", "trailers"));
    } else {
      headers.push_back(nv("accept", "*/*"));
    }
    // nghttp2 copies the header fields here.
    streamId = nghttp2_submit_request(session, nullptr, headers.data(), headers.size(),
                                      spec.grpc ? &body : nullptr, nullptr);
    if (streamId < 0) {
      fail(nghttp2_strerror(streamId));
      return false;
    }
    return true;
  }

  // Frames what nghttp2 has to send and writes what the socket takes.
  void flush() {
    while (session != nullptr && !outcome) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session, &data);
      if (n < 0) {
        fail(nghttp2_strerror(static_cast<int>(n)));
        return;
      }
      if (n == 0) {
        break;
      }
      out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    while (!out.empty()) {
      ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN) {
          break;
        }
        fail(std::strerror(errno));
        return;
      }
      out.erase(0, static_cast<size_t>(n));
    }
    if (Status m = loop.modify(fd, out.empty() ? EPOLLIN : EPOLLIN | EPOLLOUT); !m.isOk()) {
      fail(m.message());
    }
  }

  // Reads what is there; false once the connection ended or failed.
  void readInput() {
    char buf[4096];
    while (!outcome) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0) {
        if (errno != EAGAIN) {
          fail(std::strerror(errno));
        }
        return;
      }
      if (n == 0) {
        fail(anyInput ? "connection closed before an answer"
                      : "connection closed before a response");
        return;
      }
      if (!anyInput) {
        anyInput = true;
        // A server preface starts with a SETTINGS frame (type 4 in the fourth byte); an
        // HTTP/1 server answers the client preface with a status line.
        if (std::string_view(buf, static_cast<size_t>(n)).substr(0, 5) == "HTTP/") {
          fail("the target answered in HTTP/1, not HTTP/2 (h2c with prior knowledge)");
          return;
        }
      }
      ssize_t used = nghttp2_session_mem_recv(session, reinterpret_cast<const uint8_t*>(buf),
                                              static_cast<size_t>(n));
      if (used < 0) {
        fail("not HTTP/2: " + std::string(nghttp2_strerror(static_cast<int>(used))));
        return;
      }
      if (!outcome && !nghttp2_session_want_read(session) && !nghttp2_session_want_write(session)) {
        fail("the HTTP/2 session ended before an answer (not HTTP/2?)");
      }
    }
  }

  void onEvent(uint32_t events) {
    auto self = shared_from_this(); // finish() drops the loop's hold on the probe
    if (!connected) {
      if (connectFailed()) {
        return;
      }
      if (!(events & (EPOLLOUT | EPOLLIN))) {
        finish({CheckResult::Kind::Failed, 0, "connection failed"});
        return;
      }
      connected = true;
      if (startSession()) {
        flush();
      }
    } else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      readInput();
      if (!outcome) {
        flush(); // SETTINGS acknowledgements, WINDOW_UPDATEs
      }
    } else if (events & EPOLLOUT) {
      flush();
    }
    if (outcome) {
      finish(std::move(*outcome));
    }
  }
};

} // namespace

void startH2HealthProbe(EventLoop& loop, uint32_t ip, uint16_t port, uint32_t source,
                        const H2ProbeSpec& spec, Millis timeout,
                        std::function<void(CheckResult)> done) {
  auto probe = std::make_shared<H2Probe>(loop);
  probe->spec = spec;
  probe->done = std::move(done);
  probe->authority = probeAuthority(ip, port);
  auto failSoon = [&](std::string detail) {
    // Reported from the loop, never from inside this call.
    loop.runAfter(Millis(0), [probe, detail] {
      probe->finish({CheckResult::Kind::Failed, 0, detail});
    });
  };
  std::string error;
  probe->fd = connectProbeSocket(ip, port, source, error);
  if (probe->fd < 0) {
    failSoon(error);
    return;
  }
  // The loop's callback and the timer hold the probe alive until it finishes.
  Status added =
      loop.add(probe->fd, EPOLLOUT, [probe](uint32_t events) { probe->onEvent(events); });
  if (!added.isOk()) {
    ::close(probe->fd);
    probe->fd = -1;
    failSoon(added.message());
    return;
  }
  probe->timer = loop.runAfter(timeout, [probe] {
    probe->timer = 0;
    // As startHealthProbe: an answer already waiting when the loop comes late to this timer
    // counts; only the target's slowness fails the check.
    if (probe->connected && probe->done) {
      probe->onEvent(EPOLLIN);
    }
    probe->finish({CheckResult::Kind::Timeout, 0, ""});
  });
}

} // namespace tide::control
