// HTTP/2 from clients (docs/load-balancer.md "HTTP/2"): a real Balancer on 127.0.0.1 with an
// HTTPS listener, a client in the test that offers ALPN h2 over OpenSSL and speaks HTTP/2 with
// nghttp2 (h2::ClientSession, which gives responses back as HTTP/1.1 bytes), and a plain
// HTTP/1.1 backend. Streams are answered concurrently and in any order, bodies go both ways under
// flow control, a stream the client resets leaves the others alone, a connection error closes
// the connection cleanly, and HTTP/1.1 clients of the same listener are served as before. Every
// wait is bounded (socket timeouts, deadlines).
#include "balancer/balancer.h"
#include "balancer/test_backend.h"
#include "balancer/test_balancer.h"
#include "balancer/test_h2_client.h"
#include "balancer/test_net.h"
#include "balancer/test_snapshot.h"
#include "balancer/test_tls.h"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace tide::balancer {
namespace {

using test_net::body;
using test_net::H2Client;
using test_net::kAlpnH2;
using test_net::kAlpnHttp11;
using test_net::makeSnapshot;
using test_net::ReservedPort;

std::string get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: shop.example.test\r\n\r\n";
}

class H2ListenerTest : public test_net::RunningBalancerTest {
protected:
  H2ListenerTest() { backend_.bigBytes = 3 * 1024 * 1024; } // a response past every window
  std::shared_ptr<Snapshot> snapshot(uint16_t port, const std::string& accessLog = "",
                                     int idleTimeoutMs = 60'000, bool noTargets = false) {
    auto s = makeSnapshot(port, noTargets ? std::vector<Endpoint>{}
                                          : std::vector<Endpoint>{backend_.endpoint()});
    Listener& l = s->loadBalancers[0].listeners[0];
    l.https = true;
    l.tls = test_net::tlsConfig({test_net::certificate("arn:shop", "shop.example.test")});
    s->loadBalancers[0].accessLogPath = accessLog;
    s->loadBalancers[0].idleTimeout = std::chrono::milliseconds(idleTimeoutMs);
    s->targetGroups[0].maxConcurrency = 0; // every stream to the target at once (no queue)
    return s;
  }
  void start(const std::string& accessLog = "", int idleTimeoutMs = 60'000,
             bool noTargets = false) {
    startBalancer(snapshot(port_.port, accessLog, idleTimeoutMs, noTargets));
  }

  test_net::EchoBackend backend_;
};

TEST_F(H2ListenerTest, ConcurrentStreamsAreAnsweredInAnyOrder) {
  start();
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  int32_t slow = c.request(get("/slow"));
  std::vector<int32_t> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(c.request(get("/p" + std::to_string(i))));
  }
  ASSERT_TRUE(c.until([&] { return c.endOrder.size() == 7; }));
  EXPECT_NE(c.endOrder.front(), slow); // the slow one did not hold the others up
  EXPECT_EQ(c.endOrder.back(), slow);
  for (int i = 0; i < 6; ++i) {
    const std::string& r = c.responses[ids[size_t(i)]].bytes;
    ASSERT_TRUE(r.starts_with("HTTP/1.1 200")) << r;
    std::string b = body(r);
    EXPECT_TRUE(b.starts_with("GET /p" + std::to_string(i) + " HTTP/1.1\r\n")) << b;
    EXPECT_NE(b.find("X-Forwarded-Proto: https\r\n"), std::string::npos) << b;
  }
  EXPECT_TRUE(body(c.responses[slow].bytes).starts_with("GET /slow "));
  // The same connection goes on.
  int32_t again = c.request(get("/again"));
  ASSERT_TRUE(c.until([&] { return c.responses[again].ended; }));
  EXPECT_TRUE(body(c.responses[again].bytes).starts_with("GET /again "));
}

TEST_F(H2ListenerTest, PostBodiesReachTheTarget) {
  start();
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  std::string small = "hello, target";
  std::string large(700 * 1024, 'x'); // past the stream's window: WINDOW_UPDATEs needed
  for (size_t i = 0; i < large.size(); ++i) {
    large[i] = char('A' + (i * 7) % 53);
  }
  auto checksum = [](const std::string& s) {
    uint64_t sum = 0;
    for (unsigned char ch : s) {
      sum = sum * 31 + ch;
    }
    return std::to_string(s.size()) + " " + std::to_string(sum);
  };
  auto post = [](const std::string& b) {
    return "POST /up HTTP/1.1\r\nHost: shop.example.test\r\nContent-Length: " +
           std::to_string(b.size()) + "\r\n\r\n" + b;
  };
  int32_t a = c.request(post(small));
  int32_t b = c.request(post(large));
  ASSERT_TRUE(c.until([&] { return c.responses[a].ended && c.responses[b].ended; }));
  EXPECT_EQ(body(c.responses[a].bytes), checksum(small));
  EXPECT_EQ(body(c.responses[b].bytes), checksum(large));
}

TEST_F(H2ListenerTest, LargeResponseFlowsUnderFlowControl) {
  start();
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  int32_t big = c.request(get("/big"));
  int32_t small = c.request(get("/small"));
  ASSERT_TRUE(c.until([&] { return c.responses[big].ended && c.responses[small].ended; }));
  std::string b = body(c.responses[big].bytes);
  ASSERT_EQ(b.size(), backend_.bigBytes);
  bool same = true;
  for (size_t i = 0; i < b.size() && same; ++i) {
    same = b[i] == char('a' + i % 26);
  }
  EXPECT_TRUE(same);
}

TEST_F(H2ListenerTest, AStreamResetMidResponseLeavesTheOthersAlone) {
  start();
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  c.holdBody = true; // the big response stalls on its window...
  int32_t big = c.request(get("/big"));
  ASSERT_TRUE(c.until([&] { return c.responses[big].bytes.size() > 1000; }));
  c.reset(big); // ...and is given up mid-response
  c.holdBody = false;
  int32_t other = c.request(get("/other"));
  ASSERT_TRUE(c.until([&] { return c.responses[other].ended; }));
  EXPECT_TRUE(body(c.responses[other].bytes).starts_with("GET /other "));
  EXPECT_FALSE(c.responses[big].ended);
  int32_t third = c.request(get("/third"));
  ASSERT_TRUE(c.until([&] { return c.responses[third].ended; }));
  EXPECT_TRUE(body(c.responses[third].bytes).starts_with("GET /third "));
}

TEST_F(H2ListenerTest, GarbageAfterThePrefaceClosesWithGoaway) {
  start();
  test_net::TlsClient t(port_.port, "shop.example.test", 0, 0, 0, nullptr, kAlpnH2);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t.alpn(), "h2");
  std::string bytes = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  bytes += std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);          // an empty SETTINGS
  bytes += std::string("\x00\x00\x08\x07\x00\x00\x00\x00\x05garbage!", 17); // GOAWAY on stream 5
  ASSERT_TRUE(t.send(bytes));
  std::string got;
  char buf[4096];
  for (int n; (n = t.read(buf, sizeof buf)) > 0;) {
    got.append(buf, size_t(n));
  }
  // The server's frames: SETTINGS, ..., GOAWAY (type 7) PROTOCOL_ERROR; then EOF.
  bool goaway = false;
  for (size_t i = 0; i + 9 <= got.size();) {
    size_t len = (uint8_t(got[i]) << 16) | (uint8_t(got[i + 1]) << 8) | uint8_t(got[i + 2]);
    if (got[i + 3] == 7 && i + 9 + 8 <= got.size()) {
      goaway = true;
      EXPECT_EQ(uint8_t(got[i + 9 + 7]), 1) << "PROTOCOL_ERROR";
    }
    i += 9 + len;
  }
  EXPECT_TRUE(goaway);
  // The listener still serves.
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  int32_t id = c.request(get("/after"));
  ASSERT_TRUE(c.until([&] { return c.responses[id].ended; }));
}

TEST_F(H2ListenerTest, Http11ClientsOfTheSameListenerAreServedAsBefore) {
  start();
  for (std::string_view alpn : {kAlpnHttp11, std::string_view()}) {
    test_net::TlsClient t(port_.port, "shop.example.test", 0, 0, 0, nullptr, alpn);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t.alpn(), alpn.empty() ? "" : "http/1.1");
    ASSERT_TRUE(t.send(get("/one")));
    std::string got;
    char buf[4096];
    while (got.find("GET /one") == std::string::npos) {
      int n = t.read(buf, sizeof buf);
      ASSERT_GT(n, 0) << got;
      got.append(buf, size_t(n));
    }
    EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK")) << got;
  }
}

// The listener's idle timeout closes an HTTP/2 connection with no open stream (after a GOAWAY);
// a stream that takes longer than it is not cut.
TEST_F(H2ListenerTest, IdleTimeoutClosesAConnectionWithoutStreams) {
  start("", 200);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  int32_t slow = c.request(get("/slow")); // 300 ms at the target: longer than the idle timeout
  ASSERT_TRUE(c.until([&] { return c.responses[slow].ended; }));
  EXPECT_TRUE(body(c.responses[slow].bytes).starts_with("GET /slow "));
  auto before = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.untilClosed()); // (the socket timeout is 5 s)
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(4));
}

// Admission (the listener's bound): an HTTP/2 connection without a stream is idle, so it makes
// room for a new connection as an idle HTTP/1.1 one does; one with a stream open is not.
TEST_F(H2ListenerTest, AnHttp2ConnectionWithoutStreamsMakesRoomAtTheListenersBound) {
  auto s = snapshot(port_.port);
  s->loadBalancers[0].maxConnectionsPerListener = 2;
  s->loadBalancers[0].maxConnectionsPerClient = 2; // (all come from 127.0.0.1)
  startBalancer(s);
  H2Client idle(port_.port);
  ASSERT_TRUE(idle.ok());
  int32_t first = idle.request(get("/a"));
  ASSERT_TRUE(idle.until([&] { return idle.responses[first].ended; }));
  H2Client busy(port_.port);
  ASSERT_TRUE(busy.ok());
  int32_t slow = busy.request(get("/slow")); // open while the third connection comes
  H2Client third(port_.port);                // closes `idle`, never `busy`
  ASSERT_TRUE(third.ok());
  int32_t id = third.request(get("/b"));
  ASSERT_TRUE(third.until([&] { return third.responses[id].ended; }));
  EXPECT_TRUE(third.responses[id].bytes.starts_with("HTTP/1.1 200"));
  EXPECT_TRUE(idle.untilClosed());
  EXPECT_EQ(idle.goaways, 1);
  ASSERT_TRUE(busy.until([&] { return busy.responses[slow].ended; }));
  EXPECT_TRUE(body(busy.responses[slow].bytes).starts_with("GET /slow "));
  EXPECT_EQ(lb().rejectedConnectionCount, 0u);
}

// A configuration without the connection's listener: GOAWAY (NO_ERROR), the open stream
// finishes, then the connection closes. The worker's stop says GOAWAY too.
TEST_F(H2ListenerTest, ListenerGoneOrWorkerStopSaysGoaway) {
  start();
  {
    H2Client c(port_.port);
    ASSERT_TRUE(c.ok());
    int32_t slow = c.request(get("/slow"));
    ASSERT_TRUE(test_net::waitFor([&] { return backend_.heads > 0; })); // at the target
    ReservedPort other;
    auto next = snapshot(other.port);
    next->version = 2;
    ASSERT_TRUE(balancer_->apply(next).isOk());
    ASSERT_TRUE(c.until([&] { return c.goaways > 0; }));
    EXPECT_EQ(c.goawayCode, 0u);
    ASSERT_TRUE(c.until([&] { return c.responses[slow].ended; }));
    EXPECT_TRUE(body(c.responses[slow].bytes).starts_with("GET /slow "));
    EXPECT_TRUE(c.untilClosed());
  }
  balancer_->stop();
  balancer_.reset();
  start();
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  int32_t id = c.request(get("/x"));
  ASSERT_TRUE(c.until([&] { return c.responses[id].ended; }));
  balancer_->stop();
  EXPECT_TRUE(c.untilClosed());
  EXPECT_EQ(c.goaways, 1);
  EXPECT_EQ(c.goawayCode, 0u);
}

// tide's own answers (here 503: no target registered) go out on the stream, at once, and the
// connection goes on.
TEST_F(H2ListenerTest, LocalAnswersGoOutOnTheirStream) {
  start("", 60'000, /*noTargets=*/true);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  for (int i = 0; i < 3; ++i) {
    int32_t id = c.request(get("/none"));
    ASSERT_TRUE(c.until([&] { return c.responses[id].ended; }));
    EXPECT_TRUE(c.responses[id].bytes.starts_with("HTTP/1.1 503")) << c.responses[id].bytes;
  }
}

TEST_F(H2ListenerTest, AccessLogSaysH2) {
  char dir[] = "/tmp/tide-h2-log-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/access.log";
  start(path);
  {
    H2Client c(port_.port);
    ASSERT_TRUE(c.ok());
    int32_t id = c.request(get("/logged"));
    ASSERT_TRUE(c.until([&] { return c.responses[id].ended; }));
  }
  balancer_->stop();
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_TRUE(line.starts_with("h2 ")) << line;
  EXPECT_NE(line.find("\"GET https://shop.example.test:" + std::to_string(port_.port) +
                      "/logged HTTP/2.0\""),
            std::string::npos)
      << line;
  std::remove(path.c_str());
  rmdir(dir);
}

} // namespace
} // namespace tide::balancer
