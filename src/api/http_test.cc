#include "api/http.h"

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <future>
#include <gtest/gtest.h>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace tide::api {
namespace {

// Every blocking read in these tests gives up after this long, so a bug fails instead of hangs.
constexpr int kSocketTimeoutSec = 5;
constexpr Millis kClientTimeout = Millis(5'000);

// An HttpServer on its own EventLoop thread, listening on 127.0.0.1 port 0.
class ServerFixture {
public:
  explicit ServerFixture(HttpServerOptions options = {}, HttpServer::Handler handler = echo)
      : server_(loop_, options, std::move(handler)) {
    Result<uint16_t> port = server_.listen("127.0.0.1", 0);
    EXPECT_TRUE(port.isOk()) << port.status().toString();
    port_ = port.isOk() ? *port : 0;
    thread_ = std::thread([this] { loop_.run(); });
  }
  ~ServerFixture() {
    loop_.post([this] {
      server_.close();
      loop_.stop();
    });
    thread_.join();
  }

  uint16_t port() const { return port_; }
  HttpServer& server() { return server_; }
  EventLoop& loop() { return loop_; }

  // Echoes method, target, body and a few request details back.
  static HttpResponse echo(const HttpRequest& req) {
    HttpResponse r;
    r.contentType = "text/plain";
    r.body = req.method + " " + req.target + " " + req.body;
    if (const std::string* h = req.header("x-test")) {
      r.headers.emplace_back("X-Test-Echo", *h);
    }
    r.headers.emplace_back("X-Peer", req.peer);
    return r;
  }

private:
  EventLoop loop_;
  HttpServer server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

// A blocking TCP connection to 127.0.0.1 with receive timeouts.
class RawConnection {
public:
  // receiveBuffer > 0: SO_RCVBUF, set before connecting (a small one makes a slow reader).
  // source: the address to connect from (127.0.0.x), or null for the default.
  explicit RawConnection(uint16_t port, int receiveBuffer = 0, const char* source = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{kSocketTimeoutSec, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (receiveBuffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
    }
    if (source != nullptr) {
      sockaddr_in from{};
      from.sin_family = AF_INET;
      ::inet_pton(AF_INET, source, &from.sin_addr);
      ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() { ::close(fd_); }

  bool connected() const { return connected_; }

  void send(std::string_view data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        return; // the server may close early (413, 431); the response tells
      }
      off += size_t(n);
    }
  }

  // Reads one response (head + Content-Length body). nullopt on EOF/timeout before it is whole.
  std::optional<std::string> readResponse() {
    while (true) {
      size_t headEnd = buf_.find("\r\n\r\n");
      if (headEnd != std::string::npos) {
        size_t cl = 0;
        std::string head = buf_.substr(0, headEnd);
        size_t pos = head.find("Content-Length: ");
        if (pos != std::string::npos) {
          cl = std::stoul(head.substr(pos + 16));
        }
        if (buf_.size() >= headEnd + 4 + cl) {
          std::string resp = buf_.substr(0, headEnd + 4 + cl);
          buf_.erase(0, headEnd + 4 + cl);
          return resp;
        }
      }
      if (!readMore()) {
        return std::nullopt;
      }
    }
  }

  // Everything received up to and including `needle` (consumed). nullopt on EOF/timeout first.
  std::optional<std::string> readUntil(std::string_view needle) {
    while (true) {
      size_t at = buf_.find(needle);
      if (at != std::string::npos) {
        std::string out = buf_.substr(0, at + needle.size());
        buf_.erase(0, at + needle.size());
        return out;
      }
      if (!readMore()) {
        return std::nullopt;
      }
    }
  }

  // Without waiting: whether the server has closed the connection (EOF or reset).
  bool closedNow() {
    char c;
    ssize_t n = ::recv(fd_, &c, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

  // True when the server closes the connection (EOF) within the socket timeout, with no more
  // data than what is already buffered.
  bool closedByServer() {
    char c;
    while (true) {
      ssize_t n = ::recv(fd_, &c, 1, 0);
      if (n == 0) {
        return true;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && errno == ECONNRESET) {
        return true;
      }
      return false; // data or timeout
    }
  }

private:
  bool readMore() {
    char tmp[4096];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) {
      return false;
    }
    buf_.append(tmp, size_t(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

int statusOf(const std::string& response) {
  // "HTTP/1.1 200 OK"
  return response.size() >= 12 ? std::stoi(response.substr(9, 3)) : -1;
}

std::string bodyOf(const std::string& response) {
  size_t e = response.find("\r\n\r\n");
  return e == std::string::npos ? "" : response.substr(e + 4);
}

// Sends raw bytes on a new connection; expects an error response with the given status and
// JSON error code, followed by the server closing the connection.
void expectRejected(uint16_t port, const std::string& request, int status,
                    const std::string& code) {
  RawConnection c(port);
  ASSERT_TRUE(c.connected());
  c.send(request);
  std::optional<std::string> resp = c.readResponse();
  ASSERT_TRUE(resp.has_value()) << "no response to: " << request;
  EXPECT_EQ(statusOf(*resp), status) << *resp;
  EXPECT_NE(resp->find("Content-Type: application/json\r\n"), std::string::npos) << *resp;
  EXPECT_NE(resp->find("Connection: close\r\n"), std::string::npos) << *resp;
  EXPECT_NE(bodyOf(*resp).find("{\"__type\": \"" + code + "\", \"message\": \""), std::string::npos)
      << *resp;
  EXPECT_TRUE(c.closedByServer());
}

TEST(HttpServerTest, GetAndPostRoundTripWithClient) {
  ServerFixture server;
  HttpRequest get;
  get.method = "GET";
  get.target = "/ping?x=1";
  get.headers.emplace_back("X-Test", "hello");
  Result<HttpResponse> r = httpRequest("127.0.0.1", server.port(), get, kClientTimeout);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->contentType, "text/plain");
  EXPECT_EQ(r->body, "GET /ping?x=1 ");
  bool sawEcho = false;
  bool sawPeer = false;
  for (const auto& [name, value] : r->headers) {
    if (name == "x-test-echo") {
      sawEcho = value == "hello";
    }
    if (name == "x-peer") {
      sawPeer = value.rfind("127.0.0.1:", 0) == 0;
    }
  }
  EXPECT_TRUE(sawEcho);
  EXPECT_TRUE(sawPeer);
  // Every answer carries the server's Date (RFC 9110 §6.6.1; AWS's clients read it for clock
  // skew): "Sun, 06 Dec 2026 04:12:30 GMT".
  const std::string* date = nullptr;
  for (const auto& [name, value] : r->headers) {
    date = name == "date" ? &value : date;
  }
  ASSERT_NE(date, nullptr);
  EXPECT_EQ(date->size(), 29u);
  EXPECT_EQ(date->substr(25), " GMT");

  HttpRequest post;
  post.method = "POST";
  post.target = "/";
  post.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
  post.body = R"({"Action": "DescribeInstances"})";
  r = httpRequest("127.0.0.1", server.port(), post, kClientTimeout);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST / " + post.body);
}

TEST(HttpServerTest, HandlerSeesLowercasedTrimmedHeadersAndBody) {
  HttpRequest seen;
  ServerFixture server({}, [&](const HttpRequest& req) {
    seen = req;
    HttpResponse r;
    r.status = 201;
    r.body = "{}";
    return r;
  });
  RawConnection c(server.port());
  ASSERT_TRUE(c.connected());
  c.send("PUT /things/1 HTTP/1.1\r\nHost: x\r\nX-Mixed-Case:   padded value \t\r\n"
         "Content-Length: 5\r\n\r\nhello");
  std::optional<std::string> resp = c.readResponse();
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(statusOf(*resp), 201);
  EXPECT_NE(resp->find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(resp->find("Content-Length: 2\r\n"), std::string::npos);
  EXPECT_EQ(seen.method, "PUT");
  EXPECT_EQ(seen.target, "/things/1");
  EXPECT_EQ(seen.body, "hello");
  ASSERT_NE(seen.header("x-mixed-case"), nullptr);
  EXPECT_EQ(*seen.header("x-mixed-case"), "padded value");
  EXPECT_EQ(seen.header("X-Mixed-Case"), nullptr); // lookups use lowercase names
}

TEST(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  ServerFixture server;
  RawConnection c(server.port());
  ASSERT_TRUE(c.connected());
  c.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
  std::optional<std::string> r1 = c.readResponse();
  ASSERT_TRUE(r1.has_value());
  EXPECT_EQ(statusOf(*r1), 200);
  EXPECT_EQ(bodyOf(*r1), "GET /one ");
  EXPECT_EQ(r1->find("Connection: close"), std::string::npos);

  c.send("POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  std::optional<std::string> r2 = c.readResponse();
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(bodyOf(*r2), "POST /two abc");

  c.send("GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::optional<std::string> r3 = c.readResponse();
  ASSERT_TRUE(r3.has_value());
  EXPECT_EQ(bodyOf(*r3), "GET /three ");
  EXPECT_NE(r3->find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(c.closedByServer());
}

TEST(HttpServerTest, Http10ClosesUnlessKeepAliveAsked) {
  ServerFixture server;
  {
    RawConnection c(server.port());
    c.send("GET /a HTTP/1.0\r\n\r\n"); // HTTP/1.0 needs no Host
    std::optional<std::string> r = c.readResponse();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(statusOf(*r), 200);
    EXPECT_NE(r->find("Connection: close\r\n"), std::string::npos);
    EXPECT_TRUE(c.closedByServer());
  }
  {
    RawConnection c(server.port());
    c.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    std::optional<std::string> r = c.readResponse();
    ASSERT_TRUE(r.has_value());
    EXPECT_NE(r->find("Connection: keep-alive\r\n"), std::string::npos);
    c.send("GET /c HTTP/1.0\r\n\r\n");
    r = c.readResponse();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(bodyOf(*r), "GET /c ");
    EXPECT_TRUE(c.closedByServer());
  }
}

TEST(HttpServerTest, PipelinedRequestsAnsweredInOrder) {
  ServerFixture server;
  RawConnection c(server.port());
  ASSERT_TRUE(c.connected());
  c.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
         "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
         "\r\n" // a stray empty line between requests is tolerated
         "GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::optional<std::string> r1 = c.readResponse();
  std::optional<std::string> r2 = c.readResponse();
  std::optional<std::string> r3 = c.readResponse();
  ASSERT_TRUE(r1 && r2 && r3);
  EXPECT_EQ(bodyOf(*r1), "GET /1 ");
  EXPECT_EQ(bodyOf(*r2), "POST /2 body");
  EXPECT_EQ(bodyOf(*r3), "GET /3 ");
  EXPECT_TRUE(c.closedByServer());
}

TEST(HttpServerTest, RequestSplitAcrossManyWrites) {
  ServerFixture server;
  RawConnection c(server.port());
  std::string req = "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabcdef";
  for (char ch : req) {
    c.send(std::string(1, ch));
  }
  std::optional<std::string> r = c.readResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(bodyOf(*r), "POST /slow abcdef");
}

TEST(HttpServerTest, LargeResponseIsWrittenWhole) {
  const std::string big(8 * 1024 * 1024 + 7, 'z'); // far beyond a socket buffer
  ServerFixture server({}, [&](const HttpRequest&) {
    HttpResponse r;
    r.contentType = "application/octet-stream";
    r.body = big;
    return r;
  });
  HttpRequest req;
  req.method = "GET";
  req.target = "/big";
  Result<HttpResponse> r = httpRequest("127.0.0.1", server.port(), req, kClientTimeout);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->body.size(), big.size());
  EXPECT_TRUE(r->body == big);
}

TEST(HttpServerTest, LargeRequestBodyWithinLimit) {
  HttpServerOptions options;
  options.maxBodyBytes = 4 * 1024 * 1024;
  ServerFixture server(options, [](const HttpRequest& req) {
    HttpResponse r;
    r.body = std::to_string(req.body.size());
    return r;
  });
  HttpRequest req;
  req.method = "POST";
  req.target = "/";
  req.body = std::string(options.maxBodyBytes, 'b');
  Result<HttpResponse> r = httpRequest("127.0.0.1", server.port(), req, kClientTimeout);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->body, std::to_string(options.maxBodyBytes));
}

TEST(HttpServerTest, HeadersTooLargeGet431) {
  HttpServerOptions options;
  options.maxHeaderBytes = 1024;
  ServerFixture server(options);
  // Complete but too large.
  expectRejected(server.port(),
                 "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n", 431,
                 "RequestHeaderFieldsTooLarge");
  // Never-ending headers: rejected as soon as the limit passes.
  expectRejected(server.port(), "GET / HTTP/1.1\r\nX-Big: " + std::string(4000, 'a'), 431,
                 "RequestHeaderFieldsTooLarge");
}

TEST(HttpServerTest, BodyTooLargeGets413BeforeTheBodyArrives) {
  HttpServerOptions options;
  options.maxBodyBytes = 1000;
  ServerFixture server(options);
  expectRejected(server.port(), "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n", 413,
                 "RequestEntityTooLarge");
  expectRejected(server.port(),
                 "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                 413, "RequestEntityTooLarge");
  // The client sees the 413 too, even though the server stops reading.
  HttpRequest req;
  req.method = "POST";
  req.target = "/";
  req.body = std::string(5000, 'x');
  Result<HttpResponse> r = httpRequest("127.0.0.1", server.port(), req, kClientTimeout);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("RequestEntityTooLarge"), std::string::npos);
}

TEST(HttpServerTest, MalformedRequestLinesGet400) {
  ServerFixture server;
  const char* bad[] = {
      "GET /\r\nHost: x\r\n\r\n",               // no version
      "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",     // double space
      "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",     // trailing space
      "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",      // method not a token
      "GET / HTTX/1.1\r\nHost: x\r\n\r\n",      // not HTTP
      "GET / HTTP/1\r\nHost: x\r\n\r\n",        // short version
      "GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n", // control character in target
      "GET / HTTP/1.1\nHost: x\r\n\r\n",        // bare LF
  };
  for (const char* req : bad) {
    SCOPED_TRACE(req);
    expectRejected(server.port(), req, 400, "MalformedRequest");
  }
  // Garbage is rejected at once, without waiting for a blank line or the request timeout.
  expectRejected(server.port(), std::string("\x16\x03\x01\x02\x00\x01\x00\xfc\x03\x03", 10), 400,
                 "MalformedRequest");
  expectRejected(server.port(), "GET /\x01 HTTP/1.1\r\n", 400, "MalformedRequest");
  expectRejected(server.port(), "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505,
                 "HttpVersionNotSupported");
}

TEST(HttpServerTest, MalformedHeadersGet400) {
  ServerFixture server;
  const char* bad[] = {
      "GET / HTTP/1.1\r\nHost : x\r\n\r\n",                      // space before colon
      "GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",      // no colon
      "GET / HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n",       // empty name
      "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", // obs-fold
      "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01z\r\n\r\n",        // control char in value
      "GET / HTTP/1.1\r\n\r\n",                                  // HTTP/1.1 without Host
      "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",            // two Hosts
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n",
  };
  for (const char* req : bad) {
    SCOPED_TRACE(req);
    expectRejected(server.port(), req, 400, "MalformedRequest");
  }
}

TEST(HttpServerTest, IdenticalDuplicateContentLengthsAccepted) {
  ServerFixture server;
  RawConnection c(server.port());
  c.send("POST /d HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\ncontent-length: 2, 2\r\n\r\nok");
  std::optional<std::string> r = c.readResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(statusOf(*r), 200);
  EXPECT_EQ(bodyOf(*r), "POST /d ok");
}

// Chunked request bodies are read (http1::RequestReader), whatever the split.
TEST(HttpServerTest, ChunkedRequestBodyIsRead) {
  ServerFixture server;
  RawConnection c(server.port());
  std::string req = "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n";
  for (char ch : req) {
    c.send(std::string(1, ch));
  }
  std::optional<std::string> r = c.readResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(statusOf(*r), 200);
  EXPECT_EQ(bodyOf(*r), "POST /c abcde");
}

TEST(HttpServerTest, ChunkedAndContentLengthRequestsPipelined) {
  ServerFixture server;
  RawConnection c(server.port());
  c.send("POST /1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "4\r\nwiki\r\n0\r\n\r\n"
         "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
         "POST /3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n"
         "Connection: close\r\n\r\n1\r\nz\r\n0\r\n\r\n");
  std::optional<std::string> r1 = c.readResponse();
  std::optional<std::string> r2 = c.readResponse();
  std::optional<std::string> r3 = c.readResponse();
  ASSERT_TRUE(r1 && r2 && r3);
  EXPECT_EQ(bodyOf(*r1), "POST /1 wiki");
  EXPECT_EQ(bodyOf(*r2), "POST /2 abc");
  EXPECT_EQ(bodyOf(*r3), "POST /3 z");
  EXPECT_TRUE(c.closedByServer());
}

TEST(HttpServerTest, MalformedOrTooLargeChunkedBodiesRejected) {
  ServerFixture server;
  expectRejected(server.port(),
                 "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "3\r\nabcd\r\n0\r\n\r\n",
                 400, "MalformedRequest");
  expectRejected(server.port(), "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
                 400, "MalformedRequest");
  HttpServerOptions small;
  small.maxBodyBytes = 4;
  ServerFixture limited(small);
  expectRejected(limited.port(),
                 "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
                 413, "RequestEntityTooLarge");
}

TEST(HttpServerTest, ExpectContinue) {
  ServerFixture server;
  RawConnection c(server.port());
  c.send("POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  std::optional<std::string> interim = c.readResponse();
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");
  c.send("hi");
  std::optional<std::string> r = c.readResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(bodyOf(*r), "POST /e hi");
}

TEST(HttpServerTest, HeadResponseHasLengthButNoBody) {
  ServerFixture server;
  // The client knows HEAD responses carry no body despite their Content-Length.
  HttpRequest head;
  head.method = "HEAD";
  head.target = "/h";
  Result<HttpResponse> r = httpRequest("127.0.0.1", server.port(), head, kClientTimeout);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "");
  bool sawLength = false;
  for (const auto& [name, value] : r->headers) {
    if (name == "content-length") {
      sawLength = value == "8";
    }
  }
  EXPECT_TRUE(sawLength);
}

TEST(HttpServerTest, PartialRequestPastRequestTimeoutGets408) {
  HttpServerOptions options;
  options.requestTimeout = Millis(200);
  ServerFixture server(options);
  RawConnection c(server.port());
  auto start = std::chrono::steady_clock::now();
  c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"); // 7 bytes short
  std::optional<std::string> r = c.readResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, Millis(150));
  EXPECT_EQ(statusOf(*r), 408);
  EXPECT_NE(bodyOf(*r).find("\"RequestTimeout\""), std::string::npos);
  EXPECT_TRUE(c.closedByServer());
}

TEST(HttpServerTest, IdleConnectionIsClosed) {
  HttpServerOptions options;
  options.idleTimeout = Millis(200);
  ServerFixture server(options);
  RawConnection c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(c.readResponse().has_value());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closedByServer()); // no 408: nothing was in progress
  EXPECT_GE(std::chrono::steady_clock::now() - start, Millis(150));

  RawConnection never(server.port()); // connects and says nothing
  EXPECT_TRUE(never.closedByServer());
}

// A connection with a request in progress: a POST whose body the server waits for (it sent
// "100 Continue", so it has read the head). Not idle: never closed to make room.
void beginRequest(RawConnection& c) {
  c.send("POST /busy HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_TRUE(c.readUntil("\r\n\r\n").has_value()); // 100 Continue
}

TEST(HttpServerTest, ConnectionsAboveLimitAreClosedWhenNoneIsIdle) {
  HttpServerOptions options;
  options.maxConnections = 1;
  ServerFixture server(options);
  RawConnection first(server.port());
  beginRequest(first);
  RawConnection second(server.port());
  EXPECT_TRUE(second.closedByServer());
  first.send("body");
  std::optional<std::string> r = first.readResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(bodyOf(*r), "POST /busy body");
  // first is idle now: a new connection closes it and is served.
  RawConnection third(server.port());
  third.send("GET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(third.readResponse().has_value());
  EXPECT_TRUE(first.closedByServer());
}

// 2,000 idle connections from one address: that address keeps at most its own limit (each new
// one closes its oldest idle one), and another address's requests still succeed.
TEST(HttpServerTest, TwoThousandIdleConnectionsFromOneAddressDoNotLockOthersOut) {
  ServerFixture server; // the defaults: 1024 in total, 256 per address
  std::vector<std::unique_ptr<RawConnection>> flood;
  for (int i = 0; i < 2000; ++i) {
    flood.push_back(std::make_unique<RawConnection>(server.port()));
    ASSERT_TRUE(flood.back()->connected()) << i;
  }
  RawConnection other(server.port(), 0, "127.0.0.2");
  other.send("GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
  std::optional<std::string> r = other.readResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(statusOf(*r), 200);
  // The server accepted the flood before `other` (one listen queue, in order).
  size_t open = 0;
  for (auto& c : flood) {
    open += !c->closedNow();
  }
  EXPECT_EQ(open, 256u);
  EXPECT_TRUE(flood.front()->closedNow());
  // A newer flood connection still works.
  flood.back()->send("GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(flood.back()->readResponse().has_value());
}

// At the total limit, idle connections make room, the oldest first; one with a request in
// progress is never closed for that.
TEST(HttpServerTest, AtTheTotalLimitTheOldestIdleConnectionMakesRoom) {
  HttpServerOptions options;
  options.maxConnections = 300;
  options.maxConnectionsPerPeer = 100;
  ServerFixture server(options);
  RawConnection busy(server.port(), 0, "127.0.0.9");
  beginRequest(busy);
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int k = 3; k < 7; ++k) { // 4 addresses x 100 > 300
    std::string source = "127.0.0." + std::to_string(k);
    for (int i = 0; i < 100; ++i) {
      idle.push_back(std::make_unique<RawConnection>(server.port(), 0, source.c_str()));
    }
  }
  RawConnection other(server.port(), 0, "127.0.0.2");
  other.send("GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(other.readResponse().has_value());
  size_t open = 0;
  for (auto& c : idle) {
    open += !c->closedNow();
  }
  EXPECT_EQ(open, 300u - 2); // the busy one and `other` hold two places
  EXPECT_TRUE(idle.front()->closedNow());
  EXPECT_FALSE(idle.back()->closedNow());
  busy.send("body");
  std::optional<std::string> done = busy.readResponse();
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(bodyOf(*done), "POST /busy body");
}

TEST(HttpServerTest, HandlerExceptionBecomes500) {
  ServerFixture server(
      {}, [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
  HttpRequest req;
  Result<HttpResponse> r = httpRequest("127.0.0.1", server.port(), req, kClientTimeout);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("InternalError"), std::string::npos);
}

TEST(HttpServerTest, HandlerMayCloseTheServer) {
  // Atomics: the handler runs on the loop thread.
  std::atomic<HttpServer*> self{nullptr};
  std::atomic<int> calls{0};
  ServerFixture server({}, [&](const HttpRequest&) {
    ++calls;
    self.load()->close();
    return HttpResponse{};
  });
  self = &server.server();
  RawConnection c(server.port());
  c.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(c.closedByServer()); // closed without the responses, and without crashing
  EXPECT_EQ(calls.load(), 1);
}

// ---- streamed responses (HttpResponse::stream) ----

// A server whose handler answers every request with a streamed response and keeps its stream,
// for the test to push through on the loop thread.
class StreamFixture {
public:
  explicit StreamFixture(HttpServerOptions options = {})
      : fixture_(options, [this](const HttpRequest&) {
          HttpResponse r;
          r.contentType = "text/event-stream";
          r.body = "first\n";
          r.stream = [this](std::shared_ptr<HttpStream> s) {
            s->onClose([this] { closed_ = true; });
            stream_ = std::move(s);
            opened_ = true;
          };
          return r;
        }) {}

  uint16_t port() const { return fixture_.port(); }
  // Runs fn on the loop thread and waits for it.
  template <typename Fn> auto onLoop(Fn fn) {
    std::promise<decltype(fn())> done;
    fixture_.loop().post([&] { done.set_value(fn()); });
    return done.get_future().get();
  }
  std::shared_ptr<HttpStream>& stream() { return stream_; } // loop thread only
  bool opened() const { return opened_; }
  bool closed() const { return closed_; }
  // Waits (bounded) for the stream's onClose.
  bool waitClosed() {
    for (int i = 0; i < 500 && !closed_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return closed_;
  }
  ServerFixture& server() { return fixture_; }

private:
  std::shared_ptr<HttpStream> stream_;
  std::atomic<bool> opened_{false};
  std::atomic<bool> closed_{false};
  ServerFixture fixture_;
};

TEST(HttpStreamTest, HeadThenBodyThenPushedBytesThenCloseEndsTheConnection) {
  StreamFixture f;
  RawConnection c(f.port());
  ASSERT_TRUE(c.connected());
  c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  std::optional<std::string> got = c.readUntil("first\n");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(statusOf(*got), 200);
  EXPECT_NE(got->find("Content-Type: text/event-stream\r\n"), std::string::npos) << *got;
  EXPECT_NE(got->find("Connection: close\r\n"), std::string::npos) << *got;
  EXPECT_EQ(got->find("Content-Length"), std::string::npos) << *got;
  EXPECT_TRUE(f.onLoop([&] { return f.stream()->send("second\n"); }));
  EXPECT_TRUE(c.readUntil("second\n").has_value());
  f.onLoop([&] {
    f.stream()->close();
    return true;
  });
  EXPECT_TRUE(f.closed());
  EXPECT_FALSE(f.onLoop([&] { return f.stream()->send("late\n"); }));
  EXPECT_TRUE(c.closedByServer());
}

TEST(HttpStreamTest, ClientGoingAwayClosesTheStream) {
  StreamFixture f;
  {
    RawConnection c(f.port());
    ASSERT_TRUE(c.connected());
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(c.readUntil("first\n").has_value());
  }
  EXPECT_TRUE(f.waitClosed());
  EXPECT_FALSE(f.onLoop([&] { return f.stream()->isOpen(); }));
}

TEST(HttpStreamTest, ClientThatDoesNotReadIsDroppedAtTheBacklogLimit) {
  HttpServerOptions o;
  o.maxStreamBacklog = 64 * 1024;
  StreamFixture f(o);
  RawConnection c(f.port(), /*receiveBuffer=*/4096);
  ASSERT_TRUE(c.connected());
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  for (int i = 0; i < 500 && !f.opened(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(f.opened());
  // The client reads nothing: sends succeed until the kernel's buffers and the backlog are full.
  int sent = f.onLoop([&] {
    std::string chunk(16 * 1024, 'x');
    int n = 0;
    while (n < 10'000 && f.stream()->send(chunk)) {
      ++n;
    }
    return n;
  });
  EXPECT_LT(sent, 10'000);
  EXPECT_TRUE(f.closed());
}

TEST(HttpStreamTest, ServerCloseEndsOpenStreams) {
  StreamFixture f;
  RawConnection c(f.port());
  ASSERT_TRUE(c.connected());
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(c.readUntil("first\n").has_value());
  f.onLoop([&] {
    f.server().server().close();
    return true;
  });
  EXPECT_TRUE(f.closed());
  EXPECT_TRUE(c.closedByServer());
}

TEST(HttpStreamTest, HeadRequestGetsAnOrdinaryResponse) {
  StreamFixture f;
  RawConnection c(f.port());
  ASSERT_TRUE(c.connected());
  c.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::optional<std::string> got = c.readUntil("\r\n\r\n");
  ASSERT_TRUE(got.has_value());
  EXPECT_NE(got->find("Content-Length: 6\r\n"), std::string::npos) << *got;
  EXPECT_FALSE(f.opened());
}

TEST(HttpClientTest, SendsHostAndCallerHeaders) {
  ServerFixture server({}, [](const HttpRequest& req) {
    HttpResponse r;
    const std::string* host = req.header("host");
    const std::string* target = req.header("x-amz-target");
    r.body = (host ? *host : "-") + "|" + (target ? *target : "-") + "|" +
             std::to_string(req.headers.size());
    return r;
  });
  HttpRequest req;
  req.method = "POST";
  req.headers.emplace_back("X-Amz-Target", "Tide.DescribeInstances");
  Result<HttpResponse> r = httpRequest("127.0.0.1", server.port(), req, kClientTimeout);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  // Host, X-Amz-Target, Content-Length, Connection.
  EXPECT_EQ(r->body, "127.0.0.1:" + std::to_string(server.port()) + "|Tide.DescribeInstances|4");

  req.headers.emplace_back("HOST", "tide.local");
  r = httpRequest("127.0.0.1", server.port(), req, kClientTimeout);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->body, "tide.local|Tide.DescribeInstances|4");
}

TEST(HttpServerTest, ListenTwiceFailsAndCloseStopsAccepting) {
  EventLoop loop;
  HttpServer server(loop, {}, ServerFixture::echo);
  Result<uint16_t> port = server.listen("127.0.0.1", 0);
  ASSERT_TRUE(port.isOk());
  EXPECT_FALSE(server.listen("127.0.0.1", 0).isOk());
  server.close();
  HttpRequest req;
  Result<HttpResponse> r = httpRequest("127.0.0.1", *port, req, kClientTimeout);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), "EndpointConnectionError");
}

TEST(HttpClientTest, ConnectionRefused) {
  // Find a port nobody listens on: bind one, note it, close it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  uint16_t port = ntohs(addr.sin_port);
  ::close(fd);

  HttpRequest req;
  Result<HttpResponse> r = httpRequest("127.0.0.1", port, req, kClientTimeout);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), "EndpointConnectionError");
  EXPECT_NE(r.status().message().find("refused"), std::string::npos) << r.status().message();
}

TEST(HttpClientTest, UnresolvableHost) {
  HttpRequest req;
  Result<HttpResponse> r = httpRequest("no-such-host.invalid", 80, req, Millis(2'000));
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), "EndpointConnectionError");
}

TEST(HttpClientTest, SilentServerTimesOut) {
  // A listening socket that is never accepted: the kernel completes the handshake, nobody
  // answers.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);

  HttpRequest req;
  auto start = std::chrono::steady_clock::now();
  Result<HttpResponse> r = httpRequest("127.0.0.1", ntohs(addr.sin_port), req, Millis(200));
  auto elapsed = std::chrono::steady_clock::now() - start;
  ::close(fd);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), "RequestTimeout");
  EXPECT_GE(elapsed, Millis(190));
  EXPECT_LT(elapsed, Millis(3'000));
}

TEST(HttpClientTest, RejectsHeaderInjection) {
  HttpRequest req;
  req.headers.emplace_back("X-Evil", "a\r\nGET /smuggled HTTP/1.1");
  Result<HttpResponse> r = httpRequest("127.0.0.1", 1, req, kClientTimeout);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), "ValidationError");
}

TEST(HttpClientTest, ReadsBodyUntilEofWithoutContentLength) {
  // A one-shot raw server answering without Content-Length.
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(lfd, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread peer([lfd] {
    int fd = ::accept(lfd, nullptr, nullptr);
    std::string got;
    char buf[1024];
    while (got.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      got.append(buf, size_t(n));
    }
    std::string resp = "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnothing here";
    ssize_t n = ::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL);
    (void)n;
    ::close(fd);
  });
  HttpRequest req;
  Result<HttpResponse> r = httpRequest("127.0.0.1", ntohs(addr.sin_port), req, kClientTimeout);
  peer.join();
  ::close(lfd);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->contentType, "text/plain");
  EXPECT_EQ(r->body, "nothing here");
}

} // namespace
} // namespace tide::api
