// Upgrades through the balancer (docs/load-balancer.md "WebSockets and upgrades"): a real
// Balancer on 127.0.0.1, a backend that switches protocols and echoes, raw-socket clients.
// Every wait is bounded (socket timeouts, deadlines).
#include "balancer/balancer.h"
#include "balancer/test_balancer.h"
#include "balancer/test_net.h"
#include "balancer/test_snapshot.h"
#include "balancer/tunnel.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tide::balancer {
namespace {

using test_net::bindLoopback;
using test_net::connectLoopback;
using test_net::kLoopback;
using test_net::makeSnapshot;
using test_net::setTimeouts;
using test_net::waitFor;

constexpr std::string_view kSwitch =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: abc\r\n\r\n";

std::string lower(std::string s) {
  for (char& c : s) {
    c = char(tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

// A backend: reads a request head; when `switches` says so answers 101 and echoes every byte
// until the client's EOF, then sends `farewell` and closes; else answers `plain` and closes.
class UpgradeBackend {
public:
  std::function<bool(const std::string& head)> switches = [](const std::string& head) {
    return lower(head).find("\r\nupgrade: websocket") != std::string::npos;
  };
  std::string plain = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nplain";
  std::string farewell;

  Endpoint endpoint() const { return Endpoint{kLoopback, server_.port()}; }
  std::vector<std::string> heads() {
    std::lock_guard<std::mutex> lock(mu_);
    return heads_;
  }
  int ended() const { return ended_.load(); } // connections that saw the balancer's EOF

private:
  void serve(int fd) {
    std::string buf;
    char tmp[65536];
    auto read = test_net::readHead(fd, buf);
    if (!read) {
      return;
    }
    const std::string& head = *read;
    {
      std::lock_guard<std::mutex> lock(mu_);
      heads_.push_back(head);
    }
    if (!switches(head)) {
      send(fd, plain.data(), plain.size(), MSG_NOSIGNAL);
      shutdown(fd, SHUT_WR);
      return;
    }
    std::string out(kSwitch);
    out += buf; // bytes that came with the head are echoed at once
    send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    for (;;) {
      ssize_t n = recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) {
        ended_ += n == 0;
        break;
      }
      if (send(fd, tmp, size_t(n), MSG_NOSIGNAL) != n) {
        break;
      }
    }
    if (!farewell.empty()) {
      send(fd, farewell.data(), farewell.size(), MSG_NOSIGNAL);
    }
    shutdown(fd, SHUT_WR);
  }

  std::mutex mu_;
  std::vector<std::string> heads_;
  std::atomic<int> ended_{0};
  test_net::ThreadedServer server_{[this](int fd) { serve(fd); }}; // last: stopped first
};

// A client connection: raw bytes in and out.
class Conn {
public:
  explicit Conn(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    setTimeouts(fd_);
    connectLoopback(fd_, port);
  }
  ~Conn() { close(fd_); }
  void send(const std::string& s) { ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL); }
  void shutWrite() { shutdown(fd_, SHUT_WR); }
  // The response head (through the blank line); empty on EOF or timeout.
  std::string head() {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) {
        return "";
      }
    }
    std::string h = buf_.substr(0, end + 4);
    buf_.erase(0, end + 4);
    return h;
  }
  // Exactly n bytes (fewer on EOF or timeout).
  std::string take(size_t n) {
    while (buf_.size() < n && fill()) {
    }
    std::string s = buf_.substr(0, std::min(n, buf_.size()));
    buf_.erase(0, s.size());
    return s;
  }
  // Everything until EOF; `eof` says whether EOF (not a timeout or reset) ended it.
  std::string rest(bool* eof) {
    char tmp[65536];
    for (;;) {
      ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) {
        *eof = n == 0;
        break;
      }
      buf_.append(tmp, size_t(n));
    }
    std::string s;
    s.swap(buf_);
    return s;
  }

private:
  bool fill() { return test_net::recvAppend(fd_, buf_); }
  int fd_;
  std::string buf_;
};

const std::string kUpgrade = "GET /chat HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                             "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: k\r\n"
                             "Sec-WebSocket-Version: 13\r\nKeep-Alive: timeout=5\r\n\r\n";

using test_net::ReservedPort;

std::shared_ptr<Snapshot> oneTarget(uint16_t port, Endpoint target) {
  return makeSnapshot(port, {target});
}

class TunnelTest : public test_net::RunningBalancerTest {
protected:
};

TEST_F(TunnelTest, EchoThroughATunnelWithBytesSentBeforeThe101) {
  UpgradeBackend b;
  startBalancer(oneTarget(port_.port, b.endpoint()));
  Conn c(port_.port);
  c.send(kUpgrade + "early"); // sent before the 101: held, then the tunnel's first bytes
  std::string h = c.head();
  ASSERT_EQ(h.rfind("HTTP/1.1 101 ", 0), 0u) << h;
  EXPECT_NE(lower(h).find("\r\nupgrade: websocket\r\n"), std::string::npos) << h;
  EXPECT_NE(lower(h).find("\r\nconnection: upgrade\r\n"), std::string::npos) << h;
  EXPECT_NE(h.find("Sec-WebSocket-Accept: abc"), std::string::npos) << h;
  EXPECT_EQ(c.take(5), "early");
  // The request kept its upgrade for the hop, without the other hop-by-hop fields.
  ASSERT_EQ(b.heads().size(), 1u);
  std::string fwd = lower(b.heads()[0]);
  EXPECT_NE(fwd.find("\r\nupgrade: websocket\r\n"), std::string::npos) << fwd;
  EXPECT_NE(fwd.find("\r\nconnection: upgrade\r\n"), std::string::npos) << fwd;
  EXPECT_EQ(fwd.find("keep-alive"), std::string::npos) << fwd;
  EXPECT_NE(fwd.find("\r\nsec-websocket-key: k\r\n"), std::string::npos) << fwd;
  c.send("hello");
  EXPECT_EQ(c.take(5), "hello");
  // Much more than the buffers hold, both ways at once: backpressure, nothing lost.
  std::string big(4 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 997) {
    big[i] = char('a' + i % 26);
  }
  std::thread writer([&] { c.send(big); });
  std::string back = c.take(big.size());
  writer.join();
  EXPECT_TRUE(back == big) << back.size();
  EXPECT_EQ(lb().activeConnectionCount, 1u); // the tunnel's client connection
  c.shutWrite();
  bool eof = false;
  EXPECT_EQ(c.rest(&eof), "");
  EXPECT_TRUE(eof);
  ASSERT_TRUE(waitFor([&] { return lb().activeConnectionCount == 0; }));
  TrafficCounters t = lb();
  uint64_t tunnelBytes = 2 * (5 + 5 + big.size());
  EXPECT_GE(t.processedBytes, tunnelBytes + kUpgrade.size());
  EXPECT_LT(t.processedBytes, tunnelBytes + kUpgrade.size() + 400);
  EXPECT_EQ(t.requestCount, 1u);
  EXPECT_EQ(t.httpCodeElb502, 0u);
}

TEST_F(TunnelTest, HalfCloseIsPassedOnAndTheOtherSideMayStillSend) {
  UpgradeBackend b;
  b.farewell = "bye";
  startBalancer(oneTarget(port_.port, b.endpoint()));
  Conn c(port_.port);
  c.send(kUpgrade);
  ASSERT_EQ(c.head().rfind("HTTP/1.1 101 ", 0), 0u);
  c.send("ping");
  EXPECT_EQ(c.take(4), "ping");
  c.shutWrite(); // the backend sees EOF, answers "bye", then closes
  bool eof = false;
  EXPECT_EQ(c.rest(&eof), "bye");
  EXPECT_TRUE(eof);
  EXPECT_EQ(b.ended(), 1);
  ASSERT_TRUE(waitFor([&] { return lb().activeConnectionCount == 0; }));
}

TEST_F(TunnelTest, IdleTunnelIsClosedAfterTheIdleTimeout) {
  UpgradeBackend b;
  auto s = oneTarget(port_.port, b.endpoint());
  s->loadBalancers[0].idleTimeout = std::chrono::milliseconds(300);
  startBalancer(s);
  Conn c(port_.port);
  c.send(kUpgrade);
  ASSERT_EQ(c.head().rfind("HTTP/1.1 101 ", 0), 0u);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) { // traffic keeps it open past the timeout
    c.send("x");
    EXPECT_EQ(c.take(1), "x");
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  EXPECT_GT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(450));
  bool eof = false;
  EXPECT_EQ(c.rest(&eof), ""); // then silence: closed
  EXPECT_TRUE(eof);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_TRUE(waitFor([&] { return b.ended() == 1; })); // the target's end closed too
}

TEST_F(TunnelTest, A101ToARequestWithoutUpgradeIs502) {
  UpgradeBackend b;
  b.switches = [](const std::string&) { return true; };
  startBalancer(oneTarget(port_.port, b.endpoint()));
  Conn c(port_.port);
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string h = c.head();
  EXPECT_EQ(h.rfind("HTTP/1.1 502 ", 0), 0u) << h;
  EXPECT_EQ(lb().httpCodeElb502, 1u);
}

TEST_F(TunnelTest, H2cUpgradeIsForwardedWithoutItsUpgrade) {
  UpgradeBackend b;
  startBalancer(oneTarget(port_.port, b.endpoint()));
  Conn c(port_.port);
  c.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
         "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n");
  std::string h = c.head();
  EXPECT_EQ(h.rfind("HTTP/1.1 200 ", 0), 0u) << h;
  EXPECT_EQ(c.take(5), "plain");
  ASSERT_EQ(b.heads().size(), 1u);
  std::string fwd = lower(b.heads()[0]);
  EXPECT_EQ(fwd.find("upgrade"), std::string::npos) << fwd;
  EXPECT_EQ(fwd.find("http2-settings"), std::string::npos) << fwd;
}

TEST_F(TunnelTest, AnUpgradeAnsweredWithoutA101IsAnOrdinaryResponse) {
  UpgradeBackend b;
  b.switches = [](const std::string&) { return false; };
  startBalancer(oneTarget(port_.port, b.endpoint()));
  Conn c(port_.port);
  c.send(kUpgrade);
  std::string h = c.head();
  EXPECT_EQ(h.rfind("HTTP/1.1 200 ", 0), 0u) << h;
  EXPECT_EQ(c.take(5), "plain");
}

TEST_F(TunnelTest, StickinessChoosesTheTargetOfAnUpgrade) {
  UpgradeBackend a, b, c;
  auto s = oneTarget(port_.port, a.endpoint());
  for (UpgradeBackend* x : {&b, &c}) {
    Target t = s->targetGroups[0].targets[0];
    t.slot = uint32_t(s->targetGroups[0].targets.size());
    t.id = "t" + std::to_string(t.slot);
    t.endpoint = x->endpoint();
    s->targetGroups[0].targets.push_back(t);
  }
  s->targetGroups[0].stickiness.type = Stickiness::Type::LbCookie;
  s->targetGroups[0].stickiness.durationSeconds = 3600;
  startBalancer(s);
  std::string cookie;
  {
    Conn first(port_.port);
    first.send(kUpgrade);
    std::string h = first.head();
    ASSERT_EQ(h.rfind("HTTP/1.1 101 ", 0), 0u) << h;
    size_t p = h.find("\r\nSet-Cookie: AWSALB=");
    ASSERT_NE(p, std::string::npos) << h; // the 101 offers a binding as any response does
    p += 21;
    cookie = h.substr(p, h.find(';', p) - p);
  }
  auto served = [&] {
    return std::vector<size_t>{a.heads().size(), b.heads().size(), c.heads().size()};
  };
  std::vector<size_t> before = served();
  int bound = -1;
  for (int i = 0; i < 3; ++i) {
    bound = before[size_t(i)] == 1 ? i : bound;
  }
  ASSERT_GE(bound, 0);
  std::string request = kUpgrade;
  request.insert(request.size() - 2, "Cookie: AWSALB=" + cookie + "\r\n");
  for (int i = 0; i < 6; ++i) {
    Conn cl(port_.port);
    cl.send(request);
    std::string h = cl.head();
    ASSERT_EQ(h.rfind("HTTP/1.1 101 ", 0), 0u) << h;
    EXPECT_EQ(h.find("Set-Cookie"), std::string::npos) << h; // a valid cookie is not reissued
    cl.send("z");
    EXPECT_EQ(cl.take(1), "z");
  }
  std::vector<size_t> after = served();
  EXPECT_EQ(after[size_t(bound)], 7u);
}

TEST_F(TunnelTest, ATunnelClosesWhenItsLoadBalancerIsDeleted) {
  UpgradeBackend b;
  auto s = oneTarget(port_.port, b.endpoint());
  startBalancer(s);
  Conn c(port_.port);
  c.send(kUpgrade);
  ASSERT_EQ(c.head().rfind("HTTP/1.1 101 ", 0), 0u);
  c.send("hello");
  EXPECT_EQ(c.take(5), "hello");
  auto gone = std::make_shared<Snapshot>(*s);
  gone->version = 2;
  gone->loadBalancers.clear(); // deleted; its target group (and target) are still there
  ASSERT_TRUE(balancer_->apply(gone).isOk());
  bool eof = false;
  EXPECT_EQ(c.rest(&eof), "");
  EXPECT_TRUE(eof);
  EXPECT_TRUE(waitFor([&] { return b.ended() == 1; }));
}

TEST_F(TunnelTest, DrainingTargetKeepsItsTunnelUntilItLeavesTheSnapshot) {
  char dir[] = "/tmp/tide-tunnel-log-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/access.log";
  UpgradeBackend b;
  auto s = oneTarget(port_.port, b.endpoint());
  s->loadBalancers[0].accessLogPath = path;
  startBalancer(s);
  Conn c(port_.port);
  c.send(kUpgrade);
  ASSERT_EQ(c.head().rfind("HTTP/1.1 101 ", 0), 0u);
  auto draining = std::make_shared<Snapshot>(*s);
  draining->version = 2;
  draining->targetGroups[0].targets[0].state = TargetState::Draining;
  ASSERT_TRUE(balancer_->apply(draining).isOk());
  ASSERT_TRUE(waitFor([&] { // the worker has it: a new request finds no routable target
    Conn probe(port_.port);
    probe.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    return probe.head().rfind("HTTP/1.1 503 ", 0) == 0;
  }));
  for (int i = 0; i < 3; ++i) { // while the target drains, its tunnel stays
    c.send("still");
    EXPECT_EQ(c.take(5), "still");
  }
  auto gone = std::make_shared<Snapshot>(*s);
  gone->version = 3;
  gone->targetGroups[0].targets.clear(); // the deregistration delay ended
  ASSERT_TRUE(balancer_->apply(gone).isOk());
  bool eof = false;
  EXPECT_EQ(c.rest(&eof), "");
  EXPECT_TRUE(eof);
  EXPECT_TRUE(waitFor([&] { return b.ended() == 1; }));
  ASSERT_TRUE(waitFor([&] { return lb().activeConnectionCount == 0; }));
  balancer_->stop(); // writes the access log
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("http ", 0) != 0) { // (the probes' lines)
      lines.push_back(line);
    }
  }
  ASSERT_EQ(lines.size(), 1u); // the tunnel's: once, at close
  EXPECT_EQ(lines[0].rfind("ws ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(" 101 101 " + std::to_string(kUpgrade.size() + 15) + " "),
            std::string::npos)
      << lines[0];
  std::remove(path.c_str());
  rmdir(dir);
}

// pumpTunnel alone, over socket pairs: what it holds when the sink does not read, and the
// half-close it passes on.
TEST(PumpTunnel, HoldsOneBufferAtMostWhenTheSinkDoesNotReadThenPassesEverythingAndTheEnd) {
  int src[2]; // src[0]: the sending peer; src[1]: the tunnel's end it sends to
  int dst[2]; // dst[0]: the tunnel's end toward the sink; dst[1]: the sink
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, src), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, dst), 0);
  std::string sent;
  char chunk[4096];
  for (size_t i = 0;; ++i) { // as much as the sending side takes
    std::memset(chunk, 'a' + int(i % 26), sizeof chunk);
    ssize_t n = send(src[0], chunk, sizeof chunk, MSG_NOSIGNAL);
    if (n <= 0) {
      break;
    }
    sent.append(chunk, size_t(n));
  }
  ASSERT_GT(sent.size(), 8192u);
  BufferPool pool(1024);
  Buffer fromIn, fromOut, toIn, toOut;
  bool fromCanRead = true, fromHangup = false, fromEof = false, fromShut = false;
  bool toCanRead = false, toHangup = false, toEof = false, toShut = false;
  TunnelEnd from{src[1], &fromIn, &fromOut, &fromCanRead, &fromHangup, &fromEof, &fromShut};
  TunnelEnd to{dst[0], &toIn, &toOut, &toCanRead, &toHangup, &toEof, &toShut};
  std::string got;
  uint64_t moved = 0;
  auto drainSink = [&] {
    for (;;) {
      ssize_t n = recv(dst[1], chunk, sizeof chunk, 0);
      if (n <= 0) {
        return n == 0; // EOF
      }
      got.append(chunk, size_t(n));
    }
  };
  // The sink reads nothing: the copy stops with one block held, the source not drained.
  EXPECT_EQ(pumpTunnel(pool, from, to, &moved), PumpResult::Open);
  EXPECT_LE(fromIn.size(), 1024u);
  EXPECT_TRUE(fromCanRead);
  EXPECT_LT(moved, sent.size());
  // Then the sink reads as the tunnel copies; the sender's EOF ends the copy with a half-close.
  shutdown(src[0], SHUT_WR);
  bool eof = false;
  PumpResult r = PumpResult::Open;
  for (int turn = 0; turn < 100000 && !eof; ++turn) {
    if (r == PumpResult::Open) {
      r = pumpTunnel(pool, from, to, &moved);
      fromCanRead = true; // (as epoll would say: the test does not wait for it)
    }
    eof = drainSink();
  }
  EXPECT_EQ(r, PumpResult::Done);
  EXPECT_TRUE(fromEof);
  EXPECT_TRUE(toShut);
  EXPECT_TRUE(eof);
  EXPECT_EQ(moved, sent.size());
  EXPECT_TRUE(got == sent) << got.size() << " of " << sent.size();
  EXPECT_FALSE(fromIn.allocated()); // an idle (here: ended) direction holds no block
  for (int fd : {src[0], src[1], dst[0], dst[1]}) {
    close(fd);
  }
}

} // namespace
} // namespace tide::balancer
