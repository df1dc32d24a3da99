// HTTP/2 health checks (grpc_probe.h) against an in-process h2c server made with nghttp2's
// server session: gRPC answers with grpc-status in trailers or trailers-only, HTTP2 status
// codes, a server that never answers (timeout), a refused connection, an HTTP/1 server.
#include "control/grpc_probe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstring>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace tide::control {
namespace {

// How the test server answers.
enum class Answer {
  GrpcTrailers,     // 200, content-type application/grpc, an empty message, trailers
  GrpcTrailersOnly, // one HEADERS frame with :status 200 and grpc-status, END_STREAM
  HttpStatus,       // :status = code, no body (for HTTP2 target groups)
  NoGrpcStatus,     // 200 with a body and no grpc-status at all
  ResetStream,      // RST_STREAM(INTERNAL_ERROR) instead of an answer
  Silent,           // reads, never answers
  Http1,            // an HTTP/1.1 server: "HTTP/1.1 400 Bad Request"
};

// A one-connection h2c server on 127.0.0.1 in its own thread. It records the request it got.
class H2Server {
public:
  H2Server(Answer answer, int code) : answer_(answer), code_(code) {
    lfd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(lfd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    EXPECT_EQ(::listen(lfd_, 4), 0);
    socklen_t len = sizeof sa;
    ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~H2Server() {
    stop_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
    ::close(lfd_);
  }
  // Waits for the server to end its connection (the probe closed it), bounded by serve()'s 10 s.
  void join() { thread_.join(); }
  uint16_t port() const { return port_; }

  // What the request carried (read after the probe finished and the server stopped).
  std::string method, path, contentType, te, scheme;
  std::string body;
  bool gotRequest = false;

private:
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* u) {
    auto* s = static_cast<H2Server*>(u);
    if (frame->hd.type != NGHTTP2_HEADERS) {
      return 0;
    }
    std::string n(reinterpret_cast<const char*>(name), namelen);
    std::string v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":method") {
      s->method = v;
    } else if (n == ":path") {
      s->path = v;
    } else if (n == ":scheme") {
      s->scheme = v;
    } else if (n == "content-type") {
      s->contentType = v;
    } else if (n == "te") {
      s->te = v;
    }
    return 0;
  }
  static int onData(nghttp2_session*, uint8_t, int32_t, const uint8_t* data, size_t len, void* u) {
    static_cast<H2Server*>(u)->body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static nghttp2_nv nv(const char* n, const std::string& v) {
    return {reinterpret_cast<uint8_t*>(const_cast<char*>(n)),
            reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), std::strlen(n), v.size(),
            NGHTTP2_NV_FLAG_NONE};
  }
  // The body of a GrpcTrailers / NoGrpcStatus answer: one empty message, then trailers (or,
  // for NoGrpcStatus, the end of the stream).
  static ssize_t readBody(nghttp2_session* session, int32_t stream, uint8_t* buf, size_t length,
                          uint32_t* flags, nghttp2_data_source*, void* u) {
    auto* s = static_cast<H2Server*>(u);
    size_t n = std::min<size_t>(length, 5);
    std::memset(buf, 0, n);
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (s->answer_ == Answer::GrpcTrailers) {
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      // Named strings: nv() keeps pointers, and nghttp2 copies them only at the submit.
      std::string status = std::to_string(s->code_), message = "from the test";
      nghttp2_nv trailers[] = {nv("grpc-status", status), nv("grpc-message", message)};
      nghttp2_submit_trailer(session, stream, trailers, 2);
    }
    return static_cast<ssize_t>(n);
  }
  static int onFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* u) {
    auto* s = static_cast<H2Server*>(u);
    if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM) ||
        (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)) {
      return 0;
    }
    s->gotRequest = true;
    int32_t id = frame->hd.stream_id;
    std::string ok = "200", grpc = "application/grpc", code = std::to_string(s->code_);
    nghttp2_data_provider body{};
    body.read_callback = readBody;
    switch (s->answer_) {
    case Answer::GrpcTrailers:
    case Answer::NoGrpcStatus: {
      nghttp2_nv h[] = {nv(":status", ok), nv("content-type", grpc)};
      nghttp2_submit_response(session, id, h, 2, &body);
      break;
    }
    case Answer::GrpcTrailersOnly: {
      nghttp2_nv h[] = {nv(":status", ok), nv("content-type", grpc), nv("grpc-status", code)};
      nghttp2_submit_response(session, id, h, 3, nullptr);
      break;
    }
    case Answer::HttpStatus: {
      nghttp2_nv h[] = {nv(":status", code)};
      nghttp2_submit_response(session, id, h, 1, nullptr);
      break;
    }
    case Answer::ResetStream:
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
      break;
    default:
      break;
    }
    return 0;
  }

  // Waits up to 10 s for a connection, then serves it until the client closes it or the test
  // stops the server.
  void serve() {
    pollfd lp{lfd_, POLLIN, 0};
    for (int i = 0; i < 200 && !stop_; ++i) {
      if (::poll(&lp, 1, 50) == 1) {
        break;
      }
    }
    if (stop_ || !(lp.revents & POLLIN)) {
      return;
    }
    int fd = ::accept4(lfd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      return;
    }
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, onHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, onData);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, onFrameRecv);
    nghttp2_session* session = nullptr;
    nghttp2_session_server_new(&session, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    if (answer_ != Answer::Http1) {
      nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
    }
    char buf[4096];
    for (int i = 0; i < 200 && !stop_; ++i) { // at most 10 s
      if (answer_ != Answer::Http1) {
        const uint8_t* data = nullptr;
        ssize_t n;
        while ((n = nghttp2_session_mem_send(session, &data)) > 0) {
          (void)::send(fd, data, static_cast<size_t>(n), MSG_NOSIGNAL);
        }
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) {
        continue;
      }
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      if (answer_ == Answer::Http1) {
        gotRequest = true;
        std::string r = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        (void)::send(fd, r.data(), r.size(), MSG_NOSIGNAL);
        continue;
      }
      if (answer_ == Answer::Silent) {
        continue;
      }
      if (nghttp2_session_mem_recv(session, reinterpret_cast<uint8_t*>(buf),
                                   static_cast<size_t>(n)) < 0) {
        break;
      }
    }
    nghttp2_session_del(session);
    ::close(fd);
  }

  Answer answer_;
  int code_;
  int lfd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Runs one probe to port on the loop until it reports (bounded by the probe's own timeout).
CheckResult probe(uint16_t port, H2ProbeSpec spec, Millis timeout = Millis(3000)) {
  EventLoop loop;
  std::optional<CheckResult> result;
  bool calledInside = true;
  startH2HealthProbe(loop, INADDR_LOOPBACK, port, 0, spec, timeout, [&](CheckResult r) {
    result = std::move(r);
    loop.stop();
  });
  calledInside = result.has_value();
  EXPECT_FALSE(calledInside) << "done called from inside startH2HealthProbe";
  if (!result) {
    loop.run();
  }
  return result.value_or(CheckResult{CheckResult::Kind::Failed, 0, "no result"});
}

H2ProbeSpec grpcSpec(std::string matcher) {
  return H2ProbeSpec{"/AWS.ALB/healthcheck", std::move(matcher), true};
}

TEST(GrpcProbe, SendsAGrpcRequestAndMatchesGrpcStatusFromTrailers) {
  H2Server server(Answer::GrpcTrailers, 0);
  CheckResult r = probe(server.port(), grpcSpec("0"));
  server.join();
  EXPECT_EQ(r.kind, CheckResult::Kind::Passed) << r.detail;
  EXPECT_EQ(r.statusCode, 0);
  ASSERT_TRUE(server.gotRequest);
  EXPECT_EQ(server.method, "POST");
  EXPECT_EQ(server.scheme, "http");
  EXPECT_EQ(server.path, "/AWS.ALB/healthcheck");
  EXPECT_EQ(server.contentType, "application/grpc");
  EXPECT_EQ(server.te, "trailers");
  EXPECT_EQ(server.body, std::string(5, '\0')); // one empty gRPC message
}

TEST(GrpcProbe, GrpcStatusesMatchListsAndRanges) {
  struct Case {
    Answer answer;
    int status;
    const char* matcher;
    CheckResult::Kind want;
  };
  for (const Case& c : {Case{Answer::GrpcTrailers, 12, "12", CheckResult::Kind::Passed},
                        Case{Answer::GrpcTrailers, 12, "0", CheckResult::Kind::CodeMismatch},
                        Case{Answer::GrpcTrailersOnly, 12, "0", CheckResult::Kind::CodeMismatch},
                        Case{Answer::GrpcTrailersOnly, 12, "0-5,10-12", CheckResult::Kind::Passed},
                        Case{Answer::GrpcTrailersOnly, 2, "0,1,2", CheckResult::Kind::Passed},
                        Case{Answer::GrpcTrailers, 14, "0-5", CheckResult::Kind::CodeMismatch}}) {
    H2Server server(c.answer, c.status);
    CheckResult r = probe(server.port(), grpcSpec(c.matcher));
    EXPECT_EQ(r.kind, c.want) << c.status << " vs " << c.matcher << ": " << r.detail;
    EXPECT_EQ(r.statusCode, c.status) << r.detail;
  }
}

TEST(GrpcProbe, Http2TargetGroupsMatchTheHttpStatus) {
  {
    H2Server server(Answer::HttpStatus, 204);
    CheckResult r = probe(server.port(), H2ProbeSpec{"/health", "200-299", false});
    server.join();
    EXPECT_EQ(r.kind, CheckResult::Kind::Passed) << r.detail;
    EXPECT_EQ(r.statusCode, 204);
    EXPECT_EQ(server.method, "GET");
    EXPECT_EQ(server.path, "/health");
    EXPECT_TRUE(server.body.empty());
  }
  H2Server server(Answer::HttpStatus, 503);
  CheckResult r = probe(server.port(), H2ProbeSpec{"/health", "200", false});
  EXPECT_EQ(r.kind, CheckResult::Kind::CodeMismatch) << r.detail;
  EXPECT_EQ(r.statusCode, 503);
}

TEST(GrpcProbe, AnAnswerWithoutGrpcStatusOrAResetStreamFails) {
  {
    H2Server server(Answer::NoGrpcStatus, 0);
    CheckResult r = probe(server.port(), grpcSpec("0"));
    EXPECT_EQ(r.kind, CheckResult::Kind::Failed);
    EXPECT_NE(r.detail.find("without grpc-status"), std::string::npos) << r.detail;
  }
  H2Server server(Answer::ResetStream, 0);
  CheckResult r = probe(server.port(), grpcSpec("0"));
  EXPECT_EQ(r.kind, CheckResult::Kind::Failed);
  EXPECT_NE(r.detail.find("reset"), std::string::npos) << r.detail;
}

TEST(GrpcProbe, ASilentTargetTimesOut) {
  H2Server server(Answer::Silent, 0);
  auto start = std::chrono::steady_clock::now();
  CheckResult r = probe(server.port(), grpcSpec("0"), Millis(200));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.kind, CheckResult::Kind::Timeout) << r.detail;
  EXPECT_GE(took, std::chrono::milliseconds(190));
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST(GrpcProbe, ARefusedConnectionFails) {
  // A port nothing listens on: bound, then closed.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(fd);
  CheckResult r = probe(ntohs(sa.sin_port), grpcSpec("0"));
  EXPECT_EQ(r.kind, CheckResult::Kind::Failed);
  EXPECT_NE(r.detail.find("refused"), std::string::npos) << r.detail;
}

TEST(GrpcProbe, AServerThatIsNotHttp2Fails) {
  H2Server server(Answer::Http1, 0);
  CheckResult r = probe(server.port(), grpcSpec("0"));
  EXPECT_EQ(r.kind, CheckResult::Kind::Failed);
  EXPECT_NE(r.detail.find("HTTP/1"), std::string::npos) << r.detail;
}

} // namespace
} // namespace tide::control
