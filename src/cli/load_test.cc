// The load generator end to end against a tiny HTTP server on 127.0.0.1 (threads in the test).
#include "cli/load.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <mutex>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace tide::cli {
namespace {

// The monotonic clock (the tests run in real time against real sockets).
class SteadyClock final : public Clock {
public:
  TimeMs now() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }
};

// How the test server answers.
enum class Reply {
  Ok,          // 200 with Content-Length, keep-alive, X-Instance-Id alternating between two ids
  Chunked,     // 200 chunked, then Connection: close
  Unavailable, // 503 with a body
  Never,       // reads requests and never answers
};

// An HTTP/1.1 server on 127.0.0.1, a thread per connection. Listening when constructed.
class TestServer {
public:
  explicit TestServer(Reply reply) : reply_(reply) {
    listenFd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(listenFd_, 128), 0);
    socklen_t len = sizeof addr;
    getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }
  ~TestServer() {
    shutdown(listenFd_, SHUT_RDWR);
    acceptor_.join();
    close(listenFd_);
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : clients_) {
      shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& t : handlers_) {
      t.join();
    }
    for (int fd : clients_) {
      close(fd);
    }
  }
  uint16_t port() const { return port_; }
  int64_t received() const { return received_.load(); }
  int64_t connections() const { return accepted_.load(); }

private:
  void acceptLoop() {
    while (true) {
      int fd = accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        return;
      }
      ++accepted_;
      std::lock_guard<std::mutex> lock(mu_);
      clients_.push_back(fd);
      handlers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    std::string in;
    char buf[4096];
    while (true) {
      size_t end;
      while ((end = in.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
          return;
        }
        in.append(buf, size_t(n));
      }
      in.erase(0, end + 4);
      int64_t k = received_++;
      std::string out;
      std::string id = k % 2 == 0 ? "i-0000000000000000a" : "i-0000000000000000b";
      switch (reply_) {
      case Reply::Ok:
        out = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Instance-Id: " + id + "\r\n\r\nok\n";
        break;
      case Reply::Chunked:
        out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
              "x-instance-id: " +
              id + "\r\n\r\n3;ext=1\r\nok\n\r\n2\r\nhi\r\n0\r\nTrailer: x\r\n\r\n";
        break;
      case Reply::Unavailable:
        out = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\nbusy\n";
        break;
      case Reply::Never:
        continue;
      }
      if (send(fd, out.data(), out.size(), MSG_NOSIGNAL) != ssize_t(out.size())) {
        return;
      }
      if (reply_ == Reply::Chunked) {
        shutdown(fd, SHUT_WR);
        return;
      }
    }
  }

  Reply reply_;
  int listenFd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int64_t> received_{0};
  std::atomic<int64_t> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> clients_;
  std::vector<std::thread> handlers_;
};

LoadOptions optionsFor(uint16_t port, std::string_view profile, int connections = 8,
                       Millis timeout = Millis(2000)) {
  LoadOptions o;
  o.target = *parseLoadUrl("http://127.0.0.1:" + std::to_string(port) + "/?work=1");
  o.profile = *parseLoadProfile(profile);
  o.connections = connections;
  o.timeout = timeout;
  return o;
}

TEST(LoadUrlTest, Parses) {
  LoadTarget t = *parseLoadUrl("http://127.0.0.1:8080/?work=2000");
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, 8080);
  EXPECT_EQ(t.hostHeader, "127.0.0.1:8080");
  EXPECT_EQ(t.path, "/?work=2000");
  t = *parseLoadUrl("HTTP://shop.local");
  EXPECT_EQ(t.host, "shop.local");
  EXPECT_EQ(t.port, 80);
  EXPECT_EQ(t.path, "/");
  t = *parseLoadUrl("http://[::1]:81?x=1#frag");
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.port, 81);
  EXPECT_EQ(t.hostHeader, "[::1]:81");
  EXPECT_EQ(t.path, "/?x=1");
  // A load balancer's DNS name: loopback, as curl has it; the Host names the load balancer.
  t = *parseLoadUrl("http://shop-0123456789.us-east-1.elb.LOCALHOST:8080/");
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.hostHeader, "shop-0123456789.us-east-1.elb.LOCALHOST:8080");
  EXPECT_EQ(t.port, 8080);
  EXPECT_FALSE(parseLoadUrl("https://127.0.0.1/").isOk());
  EXPECT_FALSE(parseLoadUrl("127.0.0.1:80").isOk());
  EXPECT_FALSE(parseLoadUrl("http://:80/").isOk());
  EXPECT_FALSE(parseLoadUrl("http://h:0/").isOk());
  EXPECT_FALSE(parseLoadUrl("http://h:99999/").isOk());
  EXPECT_FALSE(parseLoadUrl("http://u:p@h/").isOk());
  EXPECT_FALSE(parseLoadUrl("http://h/a b").isOk());
  EXPECT_EQ(parseLoadUrl("ftp://h/").status().message(),
            "the URL 'ftp://h/' must start with http://");
}

TEST(LoadGeneratorTest, SendsTheScheduleAndTalliesInstances) {
  TestServer server(Reply::Ok);
  SteadyClock clock;
  LoadGenerator g(optionsFor(server.port(), "steady:200:1s"), clock);
  ASSERT_TRUE(g.probe().isOk());
  std::vector<LoadProgress> seconds;
  Result<LoadReport> r = g.run([&](const LoadProgress& p) { seconds.push_back(p); });
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  // Open loop: exactly the integral of the schedule goes out, well within ±10 % of 200.
  EXPECT_EQ(r->due, 200);
  EXPECT_EQ(r->totals.sent, 200);
  EXPECT_EQ(server.received(), 201); // and the probe
  EXPECT_EQ(r->totals.status2xx, 200);
  EXPECT_EQ(r->totals.failed(), 0);
  EXPECT_EQ(r->statusCodes[200], 200);
  EXPECT_EQ(r->latency.count(), 200);
  EXPECT_EQ(r->cancelled, 0);
  EXPECT_FALSE(r->stopped);
  ASSERT_EQ(r->instances.size(), 2u);
  EXPECT_EQ(r->instances["i-0000000000000000a"], 100);
  EXPECT_EQ(r->instances["i-0000000000000000b"], 100);
  EXPECT_GE(r->elapsed, Millis(1000));
  EXPECT_LE(server.connections(), 8); // keep-alive: at most one socket per connection slot
  ASSERT_EQ(seconds.size(), 1u);
  EXPECT_EQ(seconds[0].instancesAnswered, 2);
  EXPECT_GE(seconds[0].second.status2xx, 180);
  EXPECT_NEAR(seconds[0].targetRate, 200, 20); // the profile's 200 over ~1 s
}

TEST(LoadGeneratorTest, ReadsChunkedBodiesAndReconnectsAfterClose) {
  TestServer server(Reply::Chunked);
  SteadyClock clock;
  LoadGenerator g(optionsFor(server.port(), "steady:100:500ms"), clock);
  Result<LoadReport> r = g.run(nullptr);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->totals.status2xx, 50);
  EXPECT_EQ(r->totals.failed(), 0);
  EXPECT_EQ(server.connections(), 50); // Connection: close, so one socket per request
  EXPECT_EQ(r->instances["i-0000000000000000a"], 25);
}

TEST(LoadGeneratorTest, CountsServerErrorsAsFailed) {
  TestServer server(Reply::Unavailable);
  SteadyClock clock;
  LoadGenerator g(optionsFor(server.port(), "steady:100:300ms"), clock);
  ASSERT_TRUE(g.probe().isOk()); // any status proves the target is there
  Result<LoadReport> r = g.run(nullptr);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->totals.status5xx, 30);
  EXPECT_EQ(r->totals.succeeded(), 0);
  EXPECT_EQ(r->totals.failed(), 30);
  EXPECT_EQ(r->statusCodes[503], 30);
  EXPECT_TRUE(r->instances.empty());
}

TEST(LoadGeneratorTest, TimesOutSlowRequestsWithoutSlowingTheOfferedRate) {
  TestServer server(Reply::Never);
  SteadyClock clock;
  // 4 connections stuck on requests that never end: the rest queue and time out too.
  LoadGenerator g(optionsFor(server.port(), "steady:40:500ms", 4, Millis(200)), clock);
  Result<LoadReport> r = g.run(nullptr);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->due, 20);
  EXPECT_EQ(r->totals.timeouts, 20);
  EXPECT_EQ(r->totals.finished(), 20);
  EXPECT_LT(r->elapsed, Millis(2000));
}

TEST(LoadGeneratorTest, ProbeReportsAnUnreachableTarget) {
  // A port nobody listens on: bind one, then let it go.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  SteadyClock clock;
  LoadGenerator g(optionsFor(ntohs(addr.sin_port), "steady:1:1s"), clock);
  Status s = g.probe();
  EXPECT_EQ(s.code(), "TargetUnreachable");
  EXPECT_NE(s.message().find("Connection refused"), std::string::npos) << s.message();

  LoadOptions o = optionsFor(1, "steady:1:1s");
  o.target.host = "no-such-host.invalid";
  LoadGenerator unresolved(o, clock);
  Status u = unresolved.probe();
  EXPECT_EQ(u.code(), "TargetUnreachable");
  EXPECT_NE(u.message().find("cannot resolve 'no-such-host.invalid'"), std::string::npos);
}

TEST(LoadGeneratorTest, StopEndsTheRunWithTheSummarySoFar) {
  TestServer server(Reply::Ok);
  SteadyClock clock;
  LoadGenerator g(optionsFor(server.port(), "steady:50:30s"), clock);
  Result<LoadReport> r = g.run([&](const LoadProgress&) { g.stop(); });
  ASSERT_TRUE(r.isOk());
  EXPECT_TRUE(r->stopped);
  EXPECT_LT(r->elapsed, Millis(3000));
  EXPECT_GE(r->totals.status2xx, 40);
  EXPECT_LE(r->due, 60);
  EXPECT_EQ(r->totals.finished() + r->cancelled, r->due);
}

} // namespace
} // namespace tide::cli
