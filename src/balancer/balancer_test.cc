// Engine tests: a real Balancer on 127.0.0.1 with small HTTP backends running as threads in the
// test, and raw-socket clients. Every wait is bounded (socket timeouts, deadlines).
#include "balancer/adaptive_limit.h"
#include "balancer/balancer.h"
#include "balancer/test_balancer.h"
#include "balancer/test_net.h"
#include "balancer/test_snapshot.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
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

using test_net::ReservedPort;

// A port nobody listens on (connections are refused).
uint16_t closedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  uint16_t port = bindLoopback(fd);
  close(fd);
  return port;
}

struct Request {
  std::string method;
  std::string path;
  std::string head; // the whole head as received
  std::string body; // decoded
  std::string rawBody;
  std::string header(const std::string& name) const {
    std::string lowerHead;
    for (char c : head) {
      lowerHead += char(tolower(c));
    }
    std::string key = "\r\n";
    for (char c : name) {
      key += char(tolower(c));
    }
    key += ":";
    size_t p = lowerHead.find(key);
    if (p == std::string::npos) {
      return "<none>";
    }
    size_t b = p + key.size();
    size_t e = head.find("\r\n", b);
    std::string v = head.substr(b, e - b);
    while (!v.empty() && v.front() == ' ') {
      v.erase(0, 1);
    }
    return v;
  }
};

struct Reply {
  std::string bytes;       // sent as is
  bool closeAfter = false; // close the connection after sending
};

std::string okReply(const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra +
         "\r\n" + body;
}

// Reads one request from a blocking socket with a buffer carried over between calls.
bool readRequest(int fd, std::string& buf, Request& r) {
  auto fill = [&] { return test_net::recvAppend(fd, buf); };
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) {
      return false;
    }
  }
  r = Request{};
  r.head = buf.substr(0, end + 4);
  buf.erase(0, end + 4);
  size_t sp1 = r.head.find(' ');
  size_t sp2 = r.head.find(' ', sp1 + 1);
  r.method = r.head.substr(0, sp1);
  r.path = r.head.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string cl = r.header("Content-Length");
  if (r.header("Transfer-Encoding") == "chunked") {
    for (;;) {
      size_t le;
      while ((le = buf.find("\r\n")) == std::string::npos) {
        if (!fill()) {
          return false;
        }
      }
      size_t size = std::stoul(buf.substr(0, le), nullptr, 16);
      while (buf.size() < le + 2 + size + 2) {
        if (!fill()) {
          return false;
        }
      }
      r.rawBody += buf.substr(0, le + 2 + size + 2);
      r.body += buf.substr(le + 2, size);
      buf.erase(0, le + 2 + size + 2);
      if (size == 0) {
        break; // (no trailers in these tests)
      }
    }
  } else if (cl != "<none>") {
    size_t n = std::stoul(cl);
    while (buf.size() < n) {
      if (!fill()) {
        return false;
      }
    }
    r.body = buf.substr(0, n);
    r.rawBody = r.body;
    buf.erase(0, n);
  }
  return true;
}

// A small HTTP/1.1 server: a thread per connection, keep-alive, answers from a handler.
class Backend {
public:
  using Handler = std::function<Reply(const Request&)>;
  explicit Backend(std::string name, Handler h = nullptr) : name_(std::move(name)) {
    handler_ = h ? h : [this](const Request& r) { return Reply{okReply(name_ + " " + r.path)}; };
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    port_ = bindLoopback(fd_);
    listen(fd_, 128);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }
  ~Backend() {
    stopping_ = true;
    test_net::stopServer(fd_, acceptor_, mu_, conns_, threads_);
  }
  uint16_t port() const { return port_; }
  Endpoint endpoint() const { return Endpoint{kLoopback, port_}; }
  int accepts() const { return accepts_.load(); }
  int requests() const { return requests_.load(); }
  int closedConnections() const { return closed_.load(); }
  std::vector<Request> received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

private:
  void acceptLoop() {
    for (;;) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) {
        return;
      }
      if (stopping_) {
        close(c);
        return;
      }
      ++accepts_;
      std::lock_guard<std::mutex> lock(mu_);
      conns_.push_back(c);
      threads_.emplace_back([this, c] { serve(c); });
    }
  }
  void serve(int fd) {
    std::string buf;
    Request r;
    while (readRequest(fd, buf, r)) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        received_.push_back(r);
      }
      ++requests_;
      Reply reply = handler_(r);
      send(fd, reply.bytes.data(), reply.bytes.size(), MSG_NOSIGNAL);
      if (reply.closeAfter) {
        break;
      }
    }
    ++closed_;
    shutdown(fd, SHUT_RDWR);
  }

  std::string name_;
  Handler handler_;
  int fd_;
  uint16_t port_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> threads_;
  std::vector<Request> received_;
  std::atomic<int> accepts_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> closed_{0};
};

// A gate handlers wait on until the test opens it (bounded).
class Gate {
public:
  void open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [this] { return open_; });
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

struct Response {
  int status = 0;
  std::string head;
  std::string body;
  bool complete = false;
  std::string header(const std::string& name) const {
    Request r;
    r.head = head;
    return r.header(name);
  }
};

// A client connection to the balancer.
class Client {
public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    setTimeouts(fd_);
    connected_ = connectLoopback(fd_, port);
  }
  Client(uint32_t address, uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    setTimeouts(fd_);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(address);
    a.sin_port = htons(port);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { close(fd_); }
  bool connected() const { return connected_; }
  void send(const std::string& s) { ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL); }
  // Reads one response (for a request with method `method`).
  Response read(const std::string& method = "GET") {
    Response r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) {
        return r;
      }
    }
    r.head = buf_.substr(0, end + 4);
    buf_.erase(0, end + 4);
    r.status = std::stoi(r.head.substr(9, 3));
    std::string cl = r.header("Content-Length");
    if (method == "HEAD" || r.status == 204 || r.status == 304) {
      r.complete = true;
    } else if (r.header("Transfer-Encoding") == "chunked") {
      std::string raw = buf_;
      buf_.clear();
      while (raw.find("0\r\n\r\n") == std::string::npos) {
        if (!fill()) {
          return r;
        }
        raw += buf_;
        buf_.clear();
      }
      r.body = raw;
      r.complete = true;
    } else if (cl != "<none>") {
      size_t n = std::stoul(cl);
      while (buf_.size() < n) {
        if (!fill()) {
          r.body = buf_;
          return r;
        }
      }
      r.body = buf_.substr(0, n);
      buf_.erase(0, n);
      r.complete = true;
    } else {
      while (fill()) {
      }
      r.body = buf_;
      buf_.clear();
      r.complete = true;
    }
    return r;
  }
  Response get(const std::string& path, const std::string& extra = "") {
    send("GET " + path + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n");
    return read();
  }
  // True when the balancer closed the connection (EOF), within the socket timeout.
  bool closedByPeer() {
    char c;
    return recv(fd_, &c, 1, 0) == 0;
  }

private:
  bool fill() { return test_net::recvAppend(fd_, buf_); }
  int fd_;
  bool connected_ = false;
  std::string buf_;
};

class BalancerTest : public test_net::RunningBalancerTest {
protected:
  // n requests on connections of their own to a group whose one target is h (the held
  // backend, declared below), returned once each is at the backend or waits in the balancer
  // (counted where it is: the one forwarded may reach the backend after the others queued).
  template <class Held> std::vector<std::unique_ptr<Client>> sendHeld(Held& h, int n) {
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < n; ++i) {
      clients.push_back(std::make_unique<Client>(port_.port));
      clients.back()->send("GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n");
    }
    EXPECT_TRUE(waitFor([&] {
      return uint64_t(h.backend.requests()) +
                 balancer_->counters().targetGroups[0].queuedRequestCount ==
             uint64_t(n);
    }));
    return clients;
  }
};

TEST_F(BalancerTest, RoundRobinSpreadsEvenly) {
  Backend a("a"), b("b"), c("c");
  startBalancer(makeSnapshot(port_.port, {a.endpoint(), b.endpoint(), c.endpoint()}), 2);
  std::map<std::string, int> seen;
  for (int i = 0; i < 30; ++i) {
    Client cl(port_.port); // new connections land on either worker
    Response r = cl.get("/x");
    ASSERT_EQ(r.status, 200);
    seen[r.body.substr(0, 1)]++;
  }
  // Each worker goes round-robin on its own: per worker the spread is even; overall within 1
  // per worker.
  EXPECT_NEAR(seen["a"], 10, 2);
  EXPECT_NEAR(seen["b"], 10, 2);
  EXPECT_NEAR(seen["c"], 10, 2);
}

TEST_F(BalancerTest, KeepAliveOnBothSides) {
  Backend a("a");
  startBalancer(makeSnapshot(port_.port, {a.endpoint()}));
  Client cl(port_.port);
  for (int i = 0; i < 50; ++i) {
    Response r = cl.get("/k" + std::to_string(i));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "a /k" + std::to_string(i));
    EXPECT_EQ(r.header("Connection"), "<none>");
  }
  EXPECT_EQ(a.accepts(), 1);
  // A second client reuses the pooled connection too.
  Client cl2(port_.port);
  EXPECT_EQ(cl2.get("/again").status, 200);
  EXPECT_EQ(a.accepts(), 1);
}

TEST_F(BalancerTest, LeastOutstandingPrefersIdleTarget) {
  Gate gate;
  auto slowOnSlow = [&](const std::string& name) {
    return [&gate, name](const Request& r) {
      if (r.path == "/slow") {
        gate.wait();
      }
      return Reply{okReply(name)};
    };
  };
  Backend a("a", slowOnSlow("a")), b("b", slowOnSlow("b"));
  startBalancer(
      makeSnapshot(port_.port, {a.endpoint(), b.endpoint()}, "least_outstanding_requests"));
  Client slow(port_.port);
  slow.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(waitFor([&] { return a.requests() + b.requests() == 1; }));
  std::string busy = a.requests() == 1 ? "a" : "b";
  std::string idle = busy == "a" ? "b" : "a";
  Client fast(port_.port);
  for (int i = 0; i < 6; ++i) {
    Response r = fast.get("/fast");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, idle);
  }
  gate.open();
  EXPECT_EQ(slow.read().body, busy);
}

TEST_F(BalancerTest, NoTargetsIs503) {
  startBalancer(makeSnapshot(port_.port, {}));
  Client cl(port_.port);
  Response r = cl.get("/");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("503"), std::string::npos);
  EXPECT_EQ(cl.get("/").status, 503); // the connection stays usable
  CountersSnapshot cs = balancer_->counters();
  EXPECT_EQ(cs.loadBalancers[0].httpCodeElb503, 2u);
  EXPECT_EQ(cs.loadBalancers[0].httpCodeElb5xx, 2u);
}

TEST_F(BalancerTest, BackendClosingBeforeResponseIs502) {
  Backend a("a", [](const Request&) { return Reply{"HTTP/1.1 200 OK\r\nContent-", true}; });
  startBalancer(makeSnapshot(port_.port, {a.endpoint()}));
  Client cl(port_.port);
  EXPECT_EQ(cl.get("/").status, 502);
  EXPECT_EQ(balancer_->counters().loadBalancers[0].httpCodeElb502, 1u);
}

TEST_F(BalancerTest, BackendClosingMidResponseCutsTheClient) {
  Backend a("a", [](const Request&) {
    return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..", true};
  });
  startBalancer(makeSnapshot(port_.port, {a.endpoint()}));
  Client cl(port_.port);
  Response r = cl.get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete);
  EXPECT_TRUE(waitFor([&] { return balancer_->counters().loadBalancers[0].httpCodeElb502 == 1; }));
}

TEST_F(BalancerTest, SlowBackendIs504) {
  Gate gate;
  Backend a("a", [&](const Request&) {
    gate.wait();
    return Reply{okReply("late")};
  });
  auto s = makeSnapshot(port_.port, {a.endpoint()});
  s->loadBalancers[0].targetTimeout = std::chrono::milliseconds(200);
  startBalancer(s);
  Client cl(port_.port);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(cl.get("/").status, 504);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  gate.open();
  EXPECT_EQ(balancer_->counters().loadBalancers[0].httpCodeElb504, 1u);
}

TEST_F(BalancerTest, RetriesRefusedConnectOnAnotherTarget) {
  Backend a("a");
  startBalancer(makeSnapshot(port_.port, {Endpoint{kLoopback, closedPort()}, a.endpoint()}));
  for (int i = 0; i < 6; ++i) {
    Client cl(port_.port);
    Response r = cl.get("/");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "a /");
  }
  // Refused once, then ejected (passive health) for longer than this test usually takes.
  EXPECT_GE(balancer_->counters().targets[0].targetConnectionErrorCount, 1u);
}

TEST_F(BalancerTest, DrainingTargetFinishesInFlightAndGetsNoNewRequests) {
  Gate gate;
  Backend a("a", [&](const Request& r) {
    if (r.path == "/slow") {
      gate.wait();
    }
    return Reply{okReply("a")};
  });
  Backend b("b");
  auto s = makeSnapshot(port_.port, {a.endpoint(), b.endpoint()});
  startBalancer(s);
  Client slow(port_.port);
  slow.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"); // round robin starts with a
  ASSERT_TRUE(waitFor([&] { return a.requests() == 1; }));
  auto s2 = std::make_shared<Snapshot>(*s);
  s2->version = 2;
  s2->targetGroups[0].targets[0].state = TargetState::Draining;
  ASSERT_TRUE(balancer_->apply(s2).isOk());
  Client other(port_.port);
  for (int i = 0; i < 6; ++i) {
    Response r = other.get("/new");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "b /new");
  }
  gate.open();
  Response r = slow.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "a");
  EXPECT_EQ(a.requests(), 1);
  // Its keep-alive connection is closed after that response.
  EXPECT_TRUE(waitFor([&] { return a.closedConnections() == 1; }));
}

TEST_F(BalancerTest, FixedResponseListener) {
  auto s = makeSnapshot(port_.port, {});
  Action& act = s->loadBalancers[0].listeners[0].defaultAction;
  act.kind = Action::Kind::FixedResponse;
  act.fixedResponse = FixedResponse{418, "text/plain", "short and stout"};
  startBalancer(s);
  Client cl(port_.port);
  Response r = cl.get("/");
  EXPECT_EQ(r.status, 418);
  EXPECT_EQ(r.body, "short and stout");
  EXPECT_EQ(r.header("Content-Type"), "text/plain");
  EXPECT_EQ(cl.get("/").status, 418);
}

TEST_F(BalancerTest, SnapshotSwapAddsListenerAndRemovesTargetWithoutFailures) {
  Backend a("a"), b("b");
  auto s = makeSnapshot(port_.port, {a.endpoint(), b.endpoint()});
  startBalancer(s, 2);
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<int> ok{0};
  std::thread load([&] {
    Client cl(port_.port);
    while (!done) {
      Response r = cl.get("/");
      if (r.status == 200) {
        ++ok;
      } else {
        ++failures;
      }
    }
  });
  ASSERT_TRUE(waitFor([&] { return ok > 20; }));
  ReservedPort second;
  auto s2 = std::make_shared<Snapshot>(*s);
  s2->version = 2;
  s2->targetGroups[0].targets.erase(s2->targetGroups[0].targets.begin()); // remove a
  Listener l2;
  l2.endpoint = Endpoint{kLoopback, second.port};
  s2->loadBalancers[0].listeners.push_back(l2);
  ASSERT_TRUE(balancer_->apply(s2).isOk());
  int before = 0;
  ASSERT_TRUE(waitFor([&] {
    Client probe(second.port);
    return probe.connected() && probe.get("/").status == 200;
  }));
  before = a.requests();
  int okBefore = ok;
  ASSERT_TRUE(waitFor([&] { return ok > okBefore + 50; }));
  done = true;
  load.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(a.requests(), before); // no new requests to the removed target
  Client cl2(second.port);
  EXPECT_EQ(cl2.get("/").body, "b /");
}

// A folded X-Forwarded-For was removed, and its value (CRLF and the folded line) not copied
// into the one tide adds (found by fuzzing). obs-fold is now refused outright (RFC 9112 §5.2):
// 400, and nothing reaches the target.
TEST_F(BalancerTest, FoldedForwardedForIsNotCopied) {
  Backend a("a");
  startBalancer(makeSnapshot(port_.port, {a.endpoint()}));
  Client cl(port_.port);
  ASSERT_EQ(cl.get("/", "X-Forwarded-For: 10.0.0.1\r\n Transfer-Encoding : chunked\r\n").status,
            400);
  EXPECT_EQ(a.requests(), 0);
}

TEST_F(BalancerTest, ForwardedHeadersAppendedAndHopByHopRemoved) {
  Backend a("a");
  startBalancer(makeSnapshot(port_.port, {a.endpoint()}));
  Client cl(port_.port);
  ASSERT_EQ(cl.get("/", "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\n"
                        "Connection: X-Secret\r\nX-Secret: s\r\nKeep-Alive: 1\r\nX-Keep: k\r\n")
                .status,
            200);
  Request r = a.received().at(0);
  EXPECT_EQ(r.header("X-Forwarded-For"), "10.0.0.1, 127.0.0.1");
  EXPECT_EQ(r.header("X-Forwarded-Proto"), "http");
  EXPECT_EQ(r.header("X-Forwarded-Port"), std::to_string(port_.port));
  EXPECT_EQ(r.header("X-Secret"), "<none>");
  EXPECT_EQ(r.header("Keep-Alive"), "<none>");
  EXPECT_EQ(r.header("Connection"), "<none>");
  EXPECT_EQ(r.header("X-Keep"), "k");
}

TEST_F(BalancerTest, NoForwardedHeadersWhenOff) {
  Backend a("a");
  auto s = makeSnapshot(port_.port, {a.endpoint()});
  s->loadBalancers[0].addForwardedHeaders = false;
  startBalancer(s);
  Client cl(port_.port);
  std::string req = "GET /same HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n\r\n";
  cl.send(req);
  ASSERT_EQ(cl.read().status, 200);
  EXPECT_EQ(a.received().at(0).head, req); // forwarded byte for byte
}

TEST_F(BalancerTest, HeaderTooLargeIs431) {
  Backend a("a");
  auto s = makeSnapshot(port_.port, {a.endpoint()});
  s->loadBalancers[0].maxHeaderBytes = 4096;
  startBalancer(s);
  Client cl(port_.port);
  Response r = cl.get("/", "X-Big: " + std::string(5000, 'x') + "\r\n");
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_EQ(a.requests(), 0);
  EXPECT_EQ(balancer_->counters().loadBalancers[0].httpCodeElb4xx, 1u);
}

TEST_F(BalancerTest, BadRequestIs400AndCloses) {
  Backend a("a");
  startBalancer(makeSnapshot(port_.port, {a.endpoint()}));
  Client cl(port_.port);
  cl.send("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(cl.read().status, 400);
  EXPECT_TRUE(cl.closedByPeer());
  EXPECT_EQ(a.requests(), 0);
}

TEST_F(BalancerTest, PipelinedRequestsAnsweredInOrder) {
  Backend a("a"), b("b");
  startBalancer(makeSnapshot(port_.port, {a.endpoint(), b.endpoint()}));
  Client cl(port_.port);
  std::string all;
  for (int i = 0; i < 10; ++i) {
    all += "GET /p" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n";
  }
  cl.send(all);
  for (int i = 0; i < 10; ++i) {
    Response r = cl.read();
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body.substr(2), "/p" + std::to_string(i));
  }
}

TEST_F(BalancerTest, PostBodiesForwardedIntact) {
  Backend a("a", [](const Request& r) { return Reply{okReply(r.body)}; });
  startBalancer(makeSnapshot(port_.port, {a.endpoint()}));
  Client cl(port_.port);
  std::string big(300 * 1024, 'z');
  for (size_t i = 0; i < big.size(); i += 7) {
    big[i] = char('a' + i % 26);
  }
  cl.send("POST /cl HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(big.size()) +
          "\r\n\r\n" + big);
  Response r = cl.read();
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.body == big);
  // Chunked, sent in pieces, with the chunk framing passed through as is.
  std::string chunked = "5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n";
  cl.send("POST /ch HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
          chunked.substr(0, 9));
  std::this_thread::sleep_for(std::chrono::milliseconds(20)); // a split the proxy must see
  cl.send(chunked.substr(9));
  r = cl.read();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello, world");
  EXPECT_EQ(a.received().at(1).rawBody, chunked);
  EXPECT_EQ(cl.get("/after").status, 200); // framing kept: the connection goes on
  EXPECT_EQ(a.accepts(), 1);
}

TEST_F(BalancerTest, HeadAnd204HaveNoBody) {
  Backend a("a", [](const Request& r) {
    if (r.path == "/204") {
      return Reply{"HTTP/1.1 204 No Content\r\n\r\n"};
    }
    return Reply{okReply(r.method == "HEAD" ? "" : "body", "")};
  });
  // HEAD: the backend says Content-Length 0 here; check a HEAD answer with a length too.
  Backend h(
      "h", [](const Request&) { return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"}; });
  auto s = makeSnapshot(port_.port, {h.endpoint()});
  startBalancer(s);
  Client cl(port_.port);
  cl.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
  Response r = cl.read("HEAD");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Length"), "1234");
  cl.send("HEAD /2 HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(cl.read("HEAD").status, 200); // no body bytes were expected in between
  auto s2 = makeSnapshot(port_.port, {a.endpoint()});
  s2->version = 2;
  ASSERT_TRUE(balancer_->apply(s2).isOk());
  Client c2(port_.port);
  ASSERT_TRUE(waitFor([&] { return c2.get("/x").body == "body"; }));
  EXPECT_EQ(c2.get("/204").status, 204);
  EXPECT_EQ(c2.get("/x").body, "body");
}

TEST_F(BalancerTest, Http10ClientGetsClose) {
  Backend a("a");
  startBalancer(makeSnapshot(port_.port, {a.endpoint()}));
  Client cl(port_.port);
  cl.send("GET /old HTTP/1.0\r\n\r\n");
  Response r = cl.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_TRUE(cl.closedByPeer());
  // The target still got keep-alive.
  EXPECT_EQ(a.received().at(0).header("Connection"), "keep-alive");
}

// A response that ends the connection is followed by a clean close (FIN, never a reset):
// at once when the client asked to close and sent nothing more, and after discarding what a
// client pipelined behind its last request.
TEST_F(BalancerTest, ConnectionCloseEndsWithFinAfterTheResponse) {
  Backend a("a");
  startBalancer(makeSnapshot(port_.port, {a.endpoint()}));
  {
    Client cl(port_.port);
    cl.send("GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    Response r = cl.read();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Connection"), "close");
    EXPECT_TRUE(cl.closedByPeer());
  }
  {
    Client cl(port_.port);
    cl.send("GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
            "GET /more HTTP/1.1\r\nHost: t\r\n\r\n");
    Response r = cl.read();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.substr(2), "/last");
    EXPECT_TRUE(cl.closedByPeer());
  }
  EXPECT_EQ(a.requests(), 2);
}

// The worker accepts at most a few connections per turn of its loop and goes on with the rest
// after the events already there: a burst of connection-per-request clients is served whole,
// with no connection left in the listener's queue once no new one arrives.
TEST_F(BalancerTest, BurstOfNewConnectionsIsServedWhole) {
  Backend a("a");
  startBalancer(makeSnapshot(port_.port, {a.endpoint()}));
  constexpr int kClients = 64;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(port_.port));
    ASSERT_TRUE(clients.back()->connected());
    clients.back()->send("GET /b" + std::to_string(i) +
                         " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  }
  for (int i = 0; i < kClients; ++i) {
    Response r = clients[i]->read();
    ASSERT_EQ(r.status, 200) << "client " << i;
    EXPECT_EQ(r.body, "a /b" + std::to_string(i));
    EXPECT_TRUE(clients[i]->closedByPeer());
  }
  EXPECT_EQ(a.requests(), kClients);
}

// A connection whose request came whole is not in epoll while its request is forwarded; when
// the answer is larger than the socket takes, the worker must start watching it for room to
// write. A client with a tiny receive buffer gets an 8 MiB body whole.
TEST_F(BalancerTest, LargeAnswerToASlowReaderArrivesWhole) {
  const std::string big(8 << 20, 'x');
  Backend a("a", [&](const Request&) { return Reply{okReply(big)}; });
  startBalancer(makeSnapshot(port_.port, {a.endpoint()}));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  setTimeouts(fd);
  ASSERT_TRUE(connectLoopback(fd, port_.port));
  std::string req = "GET /big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), ssize_t(req.size()));
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) { // until the balancer closes (or 5 s pass)
    got.append(buf, size_t(n));
  }
  close(fd);
  size_t end = got.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 200");
  EXPECT_EQ(got.size() - (end + 4), big.size());
}

TEST_F(BalancerTest, IdleClientClosedAfterIdleTimeout) {
  Backend a("a");
  auto s = makeSnapshot(port_.port, {a.endpoint()});
  s->loadBalancers[0].idleTimeout = std::chrono::milliseconds(150);
  startBalancer(s);
  Client cl(port_.port);
  EXPECT_EQ(cl.get("/").status, 200);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(cl.closedByPeer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST_F(BalancerTest, CountersAddUp) {
  Backend a("a"), b("b", [](const Request&) {
    return Reply{"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"};
  });
  startBalancer(makeSnapshot(port_.port, {a.endpoint(), b.endpoint()}), 2);
  for (int i = 0; i < 5; ++i) {
    Client cl(port_.port);
    for (int j = 0; j < 4; ++j) {
      cl.get("/");
    }
  }
  CountersSnapshot cs;
  ASSERT_TRUE(waitFor([&] {
    cs = balancer_->counters();
    return cs.loadBalancers[0].activeConnectionCount == 0;
  }));
  const TrafficCounters& lb = cs.loadBalancers[0];
  EXPECT_EQ(lb.requestCount, 20u);
  EXPECT_EQ(lb.newConnectionCount, 5u);
  EXPECT_EQ(lb.httpCodeTarget2xx + lb.httpCodeTarget4xx, 20u);
  EXPECT_EQ(lb.httpCodeTarget2xx, uint64_t(a.requests()));
  EXPECT_EQ(lb.httpCodeTarget4xx, uint64_t(b.requests()));
  EXPECT_EQ(lb.targetResponseTimeCount, 20u);
  EXPECT_GT(lb.targetResponseTimeSumUs, 0u);
  ASSERT_EQ(cs.targets.size(), 2u);
  EXPECT_EQ(cs.targets[0].requestCount + cs.targets[1].requestCount, 20u);
  EXPECT_EQ(cs.targets[0].requestCount, uint64_t(a.requests()));
  EXPECT_EQ(cs.targets[0].outstandingRequests + cs.targets[1].outstandingRequests, 0u);
  EXPECT_EQ(cs.targetGroups[0].requestCount, 20u);
}

TEST_F(BalancerTest, RejectsInvalidSnapshots) {
  BalancerOptions o;
  o.threads = 1;
  Balancer b(o);
  auto s = makeSnapshot(port_.port, {});
  s->targetGroups[0].algorithm = "random_guess";
  EXPECT_EQ(b.apply(s).code(), "ValidationError");
  s = makeSnapshot(port_.port, {});
  s->loadBalancers[0].listeners[0].defaultAction.targetGroup = 7;
  EXPECT_EQ(b.apply(s).code(), "ValidationError");
  s = makeSnapshot(port_.port, {Endpoint{kLoopback, 1}, Endpoint{kLoopback, 2}});
  s->targetGroups[0].targets[1].slot = 0;
  EXPECT_EQ(b.apply(s).code(), "ValidationError");
}

// Two load balancers, each with its own address (127.2.250.1, .2) and a listener on the same
// port, which both share on 127.0.0.1: a and b forward to backends named so.
constexpr uint32_t kAddressA = 0x7f02fa01; // 127.2.250.1
constexpr uint32_t kAddressB = 0x7f02fa02; // 127.2.250.2

std::shared_ptr<Snapshot> twoLoadBalancersOnOnePort(uint16_t port, Endpoint a, Endpoint b) {
  auto s = std::make_shared<Snapshot>();
  s->version = 1;
  for (int i = 0; i < 2; ++i) {
    TargetGroup g;
    g.name = i == 0 ? "tg-a" : "tg-b";
    g.slot = uint32_t(i);
    Target t;
    t.id = i == 0 ? "a" : "b";
    t.endpoint = i == 0 ? a : b;
    t.slot = uint32_t(i);
    g.targets.push_back(t);
    s->targetGroups.push_back(g);
    LoadBalancer lb;
    lb.name = i == 0 ? "a" : "b";
    lb.dnsName =
        i == 0 ? "a-0000000001.us-east-1.elb.localhost" : "B-0000000002.us-east-1.elb.localhost";
    lb.slot = uint32_t(i);
    Listener l;
    l.endpoint = Endpoint{i == 0 ? kAddressA : kAddressB, port};
    l.sharedEndpoint = Endpoint{kLoopback, port};
    l.defaultAction.targetGroup = uint32_t(i);
    lb.listeners.push_back(l);
    s->loadBalancers.push_back(lb);
  }
  return s;
}

TEST(HostRouting, ChoosesTheListenerWhoseLoadBalancerTheHostNames) {
  PreparedSocket socket;
  socket.listeners = {4, 9};
  socket.hostNames = {"a-1.us-east-1.elb.localhost", "b-2.us-east-1.elb.localhost"};
  EXPECT_EQ(listenerForHost(socket, "a-1.us-east-1.elb.localhost"), 0);
  EXPECT_EQ(listenerForHost(socket, "B-2.US-East-1.ELB.localhost"), 1);  // any case
  EXPECT_EQ(listenerForHost(socket, "b-2.us-east-1.elb.localhost."), 1); // absolute name
  EXPECT_EQ(listenerForHost(socket, "c-3.us-east-1.elb.localhost"), -1);
  EXPECT_EQ(listenerForHost(socket, "127.0.0.1"), -1);
  EXPECT_EQ(listenerForHost(socket, ""), -1);
  EXPECT_EQ(listenerForHost(socket, "a-1.us-east-1.elb.localhos"), -1);
}

TEST(HostRouting, SharedEndpointsGroupListenersOfOnePortAndOwnOnesStayAlone) {
  ReservedPort port;
  auto s = twoLoadBalancersOnOnePort(port.port, Endpoint{kLoopback, 1}, Endpoint{kLoopback, 2});
  auto p = prepareSnapshot(s, SlotCapacity{});
  ASSERT_TRUE(p.isOk()) << p.status().toString();
  const PreparedSnapshot& ps = **p;
  ASSERT_EQ(ps.sockets.size(), 3u); // 127.2.250.1:P, 127.0.0.1:P, 127.2.250.2:P
  int shared = ps.findSocket(Endpoint{kLoopback, port.port});
  ASSERT_GE(shared, 0);
  EXPECT_EQ(ps.sockets[size_t(shared)].listeners, (std::vector<int>{0, 1}));
  EXPECT_TRUE(ps.sockets[size_t(shared)].sharedOnly);
  EXPECT_EQ(ps.sockets[size_t(shared)].hostNames[1], "b-0000000002.us-east-1.elb.localhost");
  int own = ps.findSocket(Endpoint{kAddressB, port.port});
  ASSERT_GE(own, 0);
  EXPECT_EQ(ps.sockets[size_t(own)].listeners, (std::vector<int>{1}));
  EXPECT_FALSE(ps.sockets[size_t(own)].sharedOnly);
  // Two listeners of one load balancer on one endpoint are refused.
  s->loadBalancers[0].listeners.push_back(s->loadBalancers[0].listeners[0]);
  EXPECT_EQ(prepareSnapshot(s, SlotCapacity{}).status().code(), "ValidationError");
}

TEST_F(BalancerTest, SharedLoopbackListenerRoutesEachRequestByHost) {
  Backend a("a"), b("b");
  startBalancer(twoLoadBalancersOnOnePort(port_.port, a.endpoint(), b.endpoint()), 2);
  // On the shared 127.0.0.1:port, one keep-alive connection, request by request.
  Client shared(port_.port);
  ASSERT_TRUE(shared.connected());
  std::string port = std::to_string(port_.port);
  auto viaHost = [&](const std::string& host) {
    shared.send("GET /x HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    return shared.read();
  };
  Response r = viaHost("a-0000000001.us-east-1.elb.localhost:" + port);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "a /x");
  r = viaHost("b-0000000002.US-EAST-1.elb.localhost:" + port);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "b /x");
  r = viaHost("a-0000000001.us-east-1.elb.localhost");
  EXPECT_EQ(r.body, "a /x");
  // A Host that names neither: 421, and the connection closed.
  r = viaHost("127.0.0.1:" + port);
  EXPECT_EQ(r.status, 421);
  EXPECT_NE(r.head.find("421 Misdirected Request"), std::string::npos) << r.head;
  EXPECT_TRUE(shared.closedByPeer());
  // On each load balancer's own address every request is its own, whatever the Host.
  for (int i = 0; i < 4; ++i) {
    Client ownA(kAddressA, port_.port);
    ASSERT_TRUE(ownA.connected());
    EXPECT_EQ(ownA.get("/y").body, "a /y");
    Client ownB(kAddressB, port_.port);
    ASSERT_TRUE(ownB.connected());
    EXPECT_EQ(ownB.get("/y", "X-Host-Is: t\r\n").body, "b /y");
  }
  // Requests count where they were routed; the connection's active count follows them.
  CountersSnapshot cs;
  ASSERT_TRUE(waitFor([&] {
    cs = balancer_->counters();
    return cs.loadBalancers.size() == 2 && cs.loadBalancers[0].activeConnectionCount == 0 &&
           cs.loadBalancers[1].activeConnectionCount == 0;
  }));
  EXPECT_EQ(cs.loadBalancers[0].requestCount + cs.loadBalancers[1].requestCount, 12u);
  EXPECT_EQ(cs.loadBalancers[0].httpCodeTarget2xx, 6u);
  EXPECT_EQ(cs.loadBalancers[1].httpCodeTarget2xx, 5u);
  EXPECT_EQ(cs.loadBalancers[0].httpCodeElb4xx + cs.loadBalancers[1].httpCodeElb4xx, 1u);
}

TEST_F(BalancerTest, ThePortsOnlyLoadBalancerTakesEveryHostOnTheSharedEndpoint) {
  Backend a("a"), b("b");
  auto s = twoLoadBalancersOnOnePort(port_.port, a.endpoint(), b.endpoint());
  s->loadBalancers.pop_back();
  startBalancer(s, 1);
  Client shared(port_.port);
  ASSERT_TRUE(shared.connected());
  EXPECT_EQ(shared.get("/z").body, "a /z"); // Host: t
  // A second load balancer joins the port: from the next request on, Host decides.
  ASSERT_TRUE(
      balancer_->apply(twoLoadBalancersOnOnePort(port_.port, a.endpoint(), b.endpoint())).isOk());
  ASSERT_TRUE(waitFor([&] {
    Client ownB(kAddressB, port_.port); // refused until the worker adopted the snapshot
    return ownB.connected() && ownB.get("/w").body == "b /w";
  }));
  EXPECT_EQ(shared.get("/z").status, 421); // the same connection, now shared by two
  Client named(port_.port);
  named.send("GET /z HTTP/1.1\r\nHost: b-0000000002.us-east-1.elb.localhost\r\n\r\n");
  EXPECT_EQ(named.read().body, "b /z");
}

// The value a response's Set-Cookie gives the cookie `name`, or "".
std::string setCookie(const Response& r, const std::string& name) {
  std::string key = "\r\nSet-Cookie: " + name + "=";
  size_t p = r.head.find(key);
  if (p == std::string::npos) {
    return "";
  }
  size_t b = p + key.size();
  return r.head.substr(b, r.head.find_first_of(";\r", b) - b);
}

std::shared_ptr<Snapshot> stickySnapshot(uint16_t port, const std::vector<Endpoint>& targets,
                                         Stickiness::Type type, const std::string& appCookie = "") {
  auto s = makeSnapshot(port, targets);
  s->targetGroups[0].stickiness.type = type;
  s->targetGroups[0].stickiness.durationSeconds = 3600;
  s->targetGroups[0].stickiness.appCookieName = appCookie;
  return s;
}

TEST_F(BalancerTest, NoStickinessNoCookies) {
  Backend a("a");
  startBalancer(makeSnapshot(port_.port, {a.endpoint()}));
  Client cl(port_.port);
  Response r = cl.get("/", "Cookie: AWSALB=0123\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.head.find("Set-Cookie"), std::string::npos);
  EXPECT_EQ(a.received()[0].header("Cookie"), "AWSALB=0123"); // forwarded as is
}

TEST_F(BalancerTest, LbCookieKeepsAClientOnOneTarget) {
  Backend a("a"), b("b"), c("c");
  startBalancer(stickySnapshot(port_.port, {a.endpoint(), b.endpoint(), c.endpoint()},
                               Stickiness::Type::LbCookie),
                2);
  Client first(port_.port);
  Response r = first.get("/");
  ASSERT_EQ(r.status, 200);
  std::string target = r.body.substr(0, 1);
  std::string cookie = setCookie(r, "AWSALB");
  ASSERT_EQ(cookie.size(), 40u) << r.head;
  EXPECT_EQ(setCookie(r, "AWSALBCORS"), cookie);
  EXPECT_NE(r.head.find("Set-Cookie: AWSALB=" + cookie + "; Expires="), std::string::npos);
  EXPECT_NE(r.head.find(" GMT; Path=/; SameSite=None; Secure\r\n"), std::string::npos);
  for (int i = 0; i < 12; ++i) {
    Client cl(port_.port); // new connections land on either worker: the key is the balancer's
    Response x = cl.get("/s", "Cookie: theme=dark; AWSALB=" + cookie + "\r\n");
    ASSERT_EQ(x.status, 200);
    EXPECT_EQ(x.body.substr(0, 1), target);
    EXPECT_EQ(x.head.find("Set-Cookie"), std::string::npos); // a valid cookie is not reissued
  }
  // Without the cookie, requests spread as before, each answer offering a binding.
  std::map<std::string, int> seen;
  Client plain(port_.port);
  for (int i = 0; i < 6; ++i) {
    Response x = plain.get("/p");
    seen[x.body.substr(0, 1)]++;
    EXPECT_EQ(setCookie(x, "AWSALB").size(), 40u);
  }
  EXPECT_EQ(seen.size(), 3u);
}

TEST_F(BalancerTest, TamperedStickyCookieFallsBackToTheAlgorithmAndIsReplaced) {
  Backend a("a"), b("b");
  startBalancer(
      stickySnapshot(port_.port, {a.endpoint(), b.endpoint()}, Stickiness::Type::LbCookie));
  Client cl(port_.port);
  Response r = cl.get("/");
  std::string cookie = setCookie(r, "AWSALB");
  ASSERT_EQ(cookie.size(), 40u);
  std::map<std::string, int> seen;
  for (int i = 0; i < 6; ++i) {
    std::string forged = cookie;
    forged[i * 5] = forged[i * 5] == '0' ? '1' : '0';
    Response x = cl.get("/t", "Cookie: AWSALB=" + forged + "\r\n");
    ASSERT_EQ(x.status, 200);
    seen[x.body.substr(0, 1)]++;
    std::string fresh = setCookie(x, "AWSALB");
    EXPECT_EQ(fresh.size(), 40u);
    EXPECT_NE(fresh, forged);
  }
  EXPECT_EQ(seen["a"], 3); // round robin, as if there were no cookie
  EXPECT_EQ(seen["b"], 3);
  Response junk = cl.get("/j", "Cookie: AWSALB=not-ours\r\n");
  EXPECT_EQ(setCookie(junk, "AWSALB").size(), 40u);
}

TEST_F(BalancerTest, CookieForADrainingTargetMovesTheClient) {
  Backend a("a"), b("b");
  auto s = stickySnapshot(port_.port, {a.endpoint(), b.endpoint()}, Stickiness::Type::LbCookie);
  startBalancer(s);
  Client cl(port_.port);
  Response r = cl.get("/"); // round robin starts with a
  ASSERT_EQ(r.body, "a /");
  std::string cookieA = setCookie(r, "AWSALB");
  ASSERT_EQ(cookieA.size(), 40u);
  auto s2 = std::make_shared<Snapshot>(*s);
  s2->version = 2;
  s2->targetGroups[0].targets[0].state = TargetState::Draining;
  ASSERT_TRUE(balancer_->apply(s2).isOk());
  Client cl2(port_.port);
  Response moved = cl2.get("/d", "Cookie: AWSALB=" + cookieA + "\r\n");
  ASSERT_EQ(moved.status, 200);
  EXPECT_EQ(moved.body, "b /d");
  std::string cookieB = setCookie(moved, "AWSALB");
  ASSERT_EQ(cookieB.size(), 40u);
  EXPECT_NE(cookieB, cookieA);
  for (int i = 0; i < 3; ++i) {
    Response x = cl2.get("/again", "Cookie: AWSALB=" + cookieB + "\r\n");
    EXPECT_EQ(x.body, "b /again");
    EXPECT_EQ(x.head.find("Set-Cookie"), std::string::npos);
  }
}

TEST_F(BalancerTest, AppCookieBindsWhenTheTargetSetsIt) {
  auto app = [](const std::string& name) {
    return [name](const Request& r) {
      std::string extra = r.path == "/login" ? "Set-Cookie: SESSION=" + name + "1; Path=/\r\n" : "";
      return Reply{okReply(name, extra)};
    };
  };
  Backend a("a", app("a")), b("b", app("b"));
  startBalancer(stickySnapshot(port_.port, {a.endpoint(), b.endpoint()},
                               Stickiness::Type::AppCookie, "SESSION"));
  Client cl(port_.port);
  Response plain = cl.get("/"); // the target does not set its cookie: no binding
  EXPECT_EQ(plain.head.find("AWSALBAPP"), std::string::npos);
  Response login = cl.get("/login");
  std::string target = login.body;
  std::string session = setCookie(login, "SESSION");
  std::string binding = setCookie(login, "AWSALBAPP-0");
  ASSERT_EQ(session, target + "1");
  ASSERT_EQ(binding.size(), 40u) << login.head;
  EXPECT_EQ(login.head.find("AWSALB="), std::string::npos);
  std::string both = "Cookie: SESSION=" + session + "; AWSALBAPP-0=" + binding + "\r\n";
  for (int i = 0; i < 6; ++i) {
    Client other(port_.port);
    Response x = other.get("/s", both);
    EXPECT_EQ(x.body, target);
    EXPECT_EQ(x.head.find("Set-Cookie"), std::string::npos);
  }
  // Without the application's cookie the binding does not hold.
  std::map<std::string, int> seen;
  for (int i = 0; i < 4; ++i) {
    seen[cl.get("/s", "Cookie: AWSALBAPP-0=" + binding + "\r\n").body]++;
  }
  EXPECT_EQ(seen.size(), 2u);
}

TEST_F(BalancerTest, RejectsInvalidStickiness) {
  BalancerOptions o;
  o.threads = 1;
  Balancer bal(o);
  auto s = stickySnapshot(port_.port, {}, Stickiness::Type::AppCookie, "");
  EXPECT_EQ(bal.apply(s).code(), "ValidationError");
  s = stickySnapshot(port_.port, {}, Stickiness::Type::AppCookie, "a;b");
  EXPECT_EQ(bal.apply(s).code(), "ValidationError");
  s = stickySnapshot(port_.port, {}, Stickiness::Type::LbCookie);
  s->targetGroups[0].stickiness.durationSeconds = 0;
  EXPECT_EQ(bal.apply(s).code(), "ValidationError");
  s->targetGroups[0].stickiness.durationSeconds = 60;
  EXPECT_TRUE(bal.apply(s).isOk());
}

// ---- limits and slow clients
// ---------------------------------------------------------------------

TEST_F(BalancerTest, UriTooLongIs414) {
  Backend a("a");
  auto s = makeSnapshot(port_.port, {a.endpoint()});
  s->loadBalancers[0].maxUriBytes = 100;
  startBalancer(s);
  {
    Client cl(port_.port);
    EXPECT_EQ(cl.get("/" + std::string(99, 'x')).status, 200); // exactly at the limit
    Response r = cl.get("/" + std::string(100, 'x'));
    EXPECT_EQ(r.status, 414);
    EXPECT_EQ(r.header("Connection"), "close");
  }
  {
    // A request line still arriving is answered as soon as its target is over the limit.
    Client cl(port_.port);
    cl.send("GET /" + std::string(200, 'y'));
    EXPECT_EQ(cl.read().status, 414);
  }
  EXPECT_EQ(a.requests(), 1);
  EXPECT_EQ(balancer_->counters().loadBalancers[0].httpCodeElb4xx, 2u);
}

TEST_F(BalancerTest, BodyOverLimitIs413FromContentLength) {
  Backend a("a");
  auto s = makeSnapshot(port_.port, {a.endpoint()});
  s->loadBalancers[0].maxRequestBodyBytes = 10;
  startBalancer(s);
  Client cl(port_.port);
  cl.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789");
  EXPECT_EQ(cl.read().status, 200);
  cl.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n0123456789A");
  Response r = cl.read();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_EQ(a.requests(), 1);
}

TEST_F(BalancerTest, ChunkedBodyOverLimitIs413MidStream) {
  Backend a("a");
  auto s = makeSnapshot(port_.port, {a.endpoint()});
  s->loadBalancers[0].maxRequestBodyBytes = 64;
  startBalancer(s);
  Client cl(port_.port);
  cl.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" +
          std::string(16, 'a') + "\r\n");
  // The head and the first chunk went to the target; the next chunks cross the limit.
  ASSERT_TRUE(waitFor([&] { return a.accepts() == 1; }));
  cl.send("40\r\n" + std::string(64, 'b') + "\r\n0\r\n\r\n");
  Response r = cl.read("POST");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.header("Connection"), "close");
  // The target's connection was closed before its request was complete.
  ASSERT_TRUE(waitFor([&] { return a.closedConnections() == 1; }));
  EXPECT_EQ(a.requests(), 0);
}

TEST_F(BalancerTest, SlowHeadGets408AfterHeaderTimeout) {
  Backend a("a");
  auto s = makeSnapshot(port_.port, {a.endpoint()});
  s->loadBalancers[0].requestHeaderTimeout = std::chrono::milliseconds(200);
  startBalancer(s);
  Client cl(port_.port);
  cl.send("GET / HTTP/1.1\r\nHost: t\r\n"); // never finished
  Response r = cl.read();
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_TRUE(cl.closedByPeer());
  EXPECT_EQ(a.requests(), 0);
  // A client that finishes its head in time is served on the same kind of connection.
  Client fast(port_.port);
  EXPECT_EQ(fast.get("/").status, 200);
}

TEST_F(BalancerTest, IdleTimeoutBetweenRequestsIsNotTheHeaderTimeout) {
  Backend a("a");
  auto s = makeSnapshot(port_.port, {a.endpoint()});
  s->loadBalancers[0].idleTimeout = std::chrono::milliseconds(200);
  s->loadBalancers[0].requestHeaderTimeout = std::chrono::milliseconds(60'000);
  startBalancer(s);
  Client cl(port_.port);
  EXPECT_EQ(cl.get("/").status, 200);
  // Idle after a response: closed without an answer after the idle timeout.
  EXPECT_TRUE(cl.closedByPeer());
}

TEST_F(BalancerTest, ConnectionsOverTheListenersBoundAreClosedAndCounted) {
  Backend a("a");
  auto s = makeSnapshot(port_.port, {a.endpoint()});
  s->loadBalancers[0].maxConnectionsPerListener = 2;
  s->loadBalancers[0].maxConnectionsPerClient = 2;
  startBalancer(s);
  auto lbCounters = [&] { return balancer_->counters().loadBalancers[0]; };
  // Two connections with a request begun: neither is idle, so neither makes room.
  auto first = std::make_unique<Client>(port_.port);
  Client second(port_.port);
  first->send("GET / HTTP/1.1\r\n");
  second.send("GET / HTTP/1.1\r\n");
  ASSERT_TRUE(waitFor([&] { return lbCounters().activeConnectionCount == 2; }));
  {
    Client third(port_.port);
    third.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(third.read().status, 0); // closed without an answer
  }
  EXPECT_EQ(lbCounters().rejectedConnectionCount, 1u);
  first->send("Host: t\r\n\r\n");
  EXPECT_EQ(first->read().status, 200);
  second.send("Host: t\r\n\r\n");
  EXPECT_EQ(second.read().status, 200);
  // Both idle now: a new connection closes the one idle longest (first) and is served.
  Client fourth(port_.port);
  EXPECT_EQ(fourth.get("/").status, 200);
  EXPECT_TRUE(first->closedByPeer());
  EXPECT_EQ(second.get("/").status, 200);
  EXPECT_EQ(lbCounters().rejectedConnectionCount, 1u);
}

// Raises this process's soft RLIMIT_NOFILE towards `want`; false when the hard limit is lower.
bool raiseFileLimit(rlim_t want) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
    return false;
  }
  if (rl.rlim_cur < want) {
    rl.rlim_cur = want;
    return setrlimit(RLIMIT_NOFILE, &rl) == 0;
  }
  return true;
}

TEST_F(BalancerTest, TenThousandSlowClientsDoNotStopANormalOne) {
  constexpr int kSlow = 10'000;
  // The slow clients run in a child process, so each side needs its own kSlow descriptors.
  if (!raiseFileLimit(kSlow + 1000)) {
    GTEST_SKIP() << "RLIMIT_NOFILE hard limit below " << kSlow + 1000;
  }
  Backend a("a");
  auto s = makeSnapshot(port_.port, {a.endpoint()});
  s->loadBalancers[0].requestHeaderTimeout = std::chrono::milliseconds(10'000);
  startBalancer(s);
  int ready[2];
  int result[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(result), 0);
  static const char kPart[] = "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: "; // a head that never ends
  std::vector<int> slow(kSlow, -1); // allocated before fork: the child only makes system calls
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int opened = 0;
    for (int& fd : slow) {
      fd = socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0) {
        break;
      }
      setTimeouts(fd, 30'000);
      if (!connectLoopback(fd, port_.port)) {
        break;
      }
      ::send(fd, kPart, sizeof kPart - 1, MSG_NOSIGNAL);
      ++opened;
    }
    [[maybe_unused]] ssize_t w = write(ready[1], &opened, sizeof opened);
    // Each slow client must get 408 from the header timeout, then EOF.
    int answered = 0;
    for (int i = 0; i < opened; ++i) {
      char buf[2048];
      size_t got = 0;
      ssize_t n;
      while ((n = recv(slow[i], buf + got, sizeof buf - got, 0)) > 0 && got + n < sizeof buf) {
        got += size_t(n);
      }
      answered += n == 0 && got > 13 && std::memcmp(buf, "HTTP/1.1 408 ", 13) == 0 ? 1 : 0;
    }
    w = write(result[1], &answered, sizeof answered);
    _exit(0);
  }
  int opened = 0;
  ASSERT_EQ(read(ready[0], &opened, sizeof opened), ssize_t(sizeof opened));
  EXPECT_EQ(opened, kSlow);
  {
    Client normal(port_.port);
    Response r = normal.get("/");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "a /");
    // Counted while the normal client is still connected: every slow client is open too.
    EXPECT_GE(balancer_->counters().loadBalancers[0].activeConnectionCount, uint64_t(kSlow) + 1);
  }
  int answered = 0;
  EXPECT_EQ(read(result[0], &answered, sizeof answered), ssize_t(sizeof answered));
  EXPECT_EQ(answered, kSlow);
  int status = 0;
  waitpid(child, &status, 0);
  for (int fd : {ready[0], ready[1], result[0], result[1]}) {
    close(fd);
  }
  EXPECT_EQ(a.requests(), 1);
  EXPECT_EQ(balancer_->counters().loadBalancers[0].httpCodeElb4xx, uint64_t(kSlow));
}

// ---- passive health
// -----------------------------------------------------------------------------

TEST_F(BalancerTest, RefusingTargetIsEjectedAtOnce) {
  Backend a("a");
  BalancerOptions o;
  o.threads = 1;
  o.worker.ejectionBase = std::chrono::milliseconds(60'000); // stays out for the whole test
  startBalancer(makeSnapshot(port_.port, {Endpoint{kLoopback, closedPort()}, a.endpoint()}), o);
  for (int i = 0; i < 10; ++i) {
    Client cl(port_.port);
    Response r = cl.get("/");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "a /");
  }
  CountersSnapshot cs = balancer_->counters();
  EXPECT_EQ(cs.targets[0].targetConnectionErrorCount, 1u); // tried once, then left alone
  EXPECT_EQ(cs.targets[0].targetEjectionCount, 1u);
  EXPECT_EQ(cs.loadBalancers[0].httpCodeElb5xx, 0u);
}

TEST_F(BalancerTest, EjectedTargetIsTriedAgainAfterItsBackoff) {
  Backend a("a");
  BalancerOptions o;
  o.threads = 1;
  o.worker.ejectionBase = std::chrono::milliseconds(20);
  o.worker.ejectionMax = std::chrono::milliseconds(40);
  startBalancer(makeSnapshot(port_.port, {Endpoint{kLoopback, closedPort()}, a.endpoint()}), o);
  int failed = 0;
  // Each ejection ends, the target is tried again, refused, and ejected again.
  EXPECT_TRUE(waitFor([&] {
    Client cl(port_.port);
    failed += cl.get("/").status == 200 ? 0 : 1;
    return balancer_->counters().targets[0].targetEjectionCount >= 3;
  }));
  EXPECT_EQ(failed, 0); // every refused request went to the other target
}

TEST_F(BalancerTest, EjectionFailsOpenWhenEveryTargetIsOut) {
  BalancerOptions o;
  o.threads = 1;
  o.worker.ejectionBase = std::chrono::milliseconds(60'000);
  startBalancer(makeSnapshot(port_.port, {Endpoint{kLoopback, closedPort()}}), o);
  for (int i = 0; i < 2; ++i) {
    Client cl(port_.port);
    EXPECT_EQ(cl.get("/").status, 502);
  }
  // The only target, although ejected, was tried again for the second request.
  EXPECT_EQ(balancer_->counters().targets[0].targetConnectionErrorCount, 2u);
}

// A target that accepts connections and resets them (SO_LINGER 0), after reading the request
// when `readFirst`: what a killed instance does to connections in its listen backlog.
class ResettingTarget {
public:
  explicit ResettingTarget(bool readFirst) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    port_ = bindLoopback(fd_);
    listen(fd_, 16);
    thread_ = std::thread([this, readFirst] {
      for (;;) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) {
          return;
        }
        if (readFirst) {
          char buf[4096];
          [[maybe_unused]] ssize_t n = recv(c, buf, sizeof buf, 0);
        }
        ++resets_; // before the reset, which the balancer's answer follows
        linger lg{1, 0};
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(c);
      }
    });
  }
  ~ResettingTarget() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  Endpoint endpoint() const { return Endpoint{kLoopback, port_}; }
  int resets() const { return resets_.load(); }

private:
  int fd_;
  uint16_t port_;
  std::thread thread_;
  std::atomic<int> resets_{0};
};

TEST_F(BalancerTest, ResettingTargetIsEjectedAfterOneRequest) {
  ResettingTarget r(/*readFirst=*/false);
  Backend a("a");
  BalancerOptions o;
  o.threads = 1;
  o.worker.ejectionBase = std::chrono::milliseconds(60'000);
  startBalancer(makeSnapshot(port_.port, {r.endpoint(), a.endpoint()}), o);
  int ok = 0;
  for (int i = 0; i < 10; ++i) {
    Client cl(port_.port);
    ok += cl.get("/").status == 200 ? 1 : 0;
  }
  // The GET sent on the reset connection is resent to the other target (it is idempotent);
  // every later one avoids the ejected target.
  EXPECT_EQ(ok, 10);
  EXPECT_EQ(balancer_->counters().targets[0].targetEjectionCount, 1u);
  EXPECT_EQ(r.resets(), 1);
}

// A POST on a new connection that the target resets unanswered may have been acted on: it is
// not resent (502), and the target is ejected so that the next POST goes elsewhere.
TEST_F(BalancerTest, UnansweredPostIsNotResent) {
  ResettingTarget r(/*readFirst=*/true);
  Backend a("a");
  BalancerOptions o;
  o.threads = 1;
  o.worker.ejectionBase = std::chrono::milliseconds(60'000);
  startBalancer(makeSnapshot(port_.port, {r.endpoint(), a.endpoint()}), o);
  const std::string post = "POST /order HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi";
  Client first(port_.port);
  first.send(post);
  EXPECT_EQ(first.read().status, 502);
  Client second(port_.port);
  second.send(post);
  EXPECT_EQ(second.read().status, 200);
  EXPECT_EQ(a.requests(), 1);
  EXPECT_EQ(r.resets(), 1);
}

TEST_F(BalancerTest, KillingATargetUnderKeepAliveLosesNoRequest) {
  Backend a("a");
  auto b = std::make_unique<Backend>("b");
  startBalancer(makeSnapshot(port_.port, {a.endpoint(), b->endpoint()}));
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<Client>(port_.port));
  }
  int failed = 0;
  for (int round = 0; round < 60; ++round) {
    if (round == 20) {
      b.reset(); // its listener and every connection to it close; nothing is in flight
    }
    for (auto& cl : clients) {
      Response r = cl->get("/");
      failed += r.status == 200 ? 0 : 1;
    }
  }
  EXPECT_EQ(failed, 0);
}

// ---- access log
// ---------------------------------------------------------------------------------

TEST_F(BalancerTest, AccessLogHasALineForEachRequest) {
  char dir[] = "/tmp/tide-balancer-log-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/access.log";
  Backend a("a");
  auto s = makeSnapshot(port_.port, {a.endpoint()});
  s->loadBalancers[0].accessLogPath = path;
  s->targetGroups[0].arn = "arn:aws:elasticloadbalancing:local:000000000000:targetgroup/tg/1";
  startBalancer(s);
  {
    Client cl(port_.port);
    EXPECT_EQ(cl.get("/x?q=1", "User-Agent: say \"hi\"\r\n").status, 200);
    cl.send("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
    EXPECT_EQ(cl.read().status, 400);
  }
  balancer_->stop(); // hands over and writes what is buffered
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 2u);
  std::string port = std::to_string(port_.port);
  std::string target = "127.0.0.1:" + std::to_string(a.port());
  EXPECT_EQ(lines[0].rfind("http ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(" app/lb/- 127.0.0.1:"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(" " + target + " "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(" 200 200 "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"GET http://t:" + port + "/x?q=1 HTTP/1.1\" \"say \\x22hi\\x22\""),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find(" \"forward\" "), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(" - -1 -1 -1 400 - "), std::string::npos) << lines[1];
  std::remove(path.c_str());
  rmdir(dir);
}

// ---- overload protection: the per-target limit and the queue ----------------------------------

// A backend whose requests wait at a gate, counting how many it holds at once.
struct HoldingBackend {
  Gate gate;
  std::atomic<int> active{0};
  std::atomic<int> maxActive{0};
  Backend backend{"h", [this](const Request& r) {
                    int now = ++active;
                    int seen = maxActive.load();
                    while (now > seen && !maxActive.compare_exchange_weak(seen, now)) {
                    }
                    if (r.path != "/fast") {
                      gate.wait();
                    }
                    --active;
                    return Reply{okReply("h " + r.path)};
                  }};
};

std::shared_ptr<Snapshot>
limitedSnapshot(uint16_t port, Endpoint target, uint32_t limit, uint32_t queueLength = 1000,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto s = makeSnapshot(port, {target});
  s->targetGroups[0].maxConcurrency = limit;
  s->targetGroups[0].queueMaxLength = queueLength;
  s->targetGroups[0].queueTimeout = timeout;
  return s;
}

TEST_F(BalancerTest, ConcurrencyLimitHoldsAndTheQueueWaits) {
  HoldingBackend h;
  startBalancer(limitedSnapshot(port_.port, h.backend.endpoint(), 2));
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<Client>(port_.port));
    clients.back()->send("GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n");
  }
  ASSERT_TRUE(
      waitFor([&] { return balancer_->counters().targetGroups[0].queuedRequestCount == 6; }));
  ASSERT_TRUE(waitFor([&] { return h.backend.requests() == 2; })); // six wait in the balancer
  EXPECT_EQ(balancer_->counters().targets[0].outstandingRequests, 2u);
  h.gate.open();
  for (auto& cl : clients) {
    EXPECT_EQ(cl->read().status, 200);
  }
  EXPECT_EQ(h.backend.requests(), 8);
  EXPECT_LE(h.maxActive.load(), 2); // the target never held more than the limit
}

TEST_F(BalancerTest, ByDefaultTheAdaptiveLimitQueuesRequestsRatherThanPilingThemOnATarget) {
  HoldingBackend h;
  auto s = makeSnapshot(port_.port, {h.backend.endpoint()});
  ASSERT_EQ(s->targetGroups[0].maxConcurrency, kAdaptiveConcurrency); // the default
  s->targetGroups[0].queueTimeout = std::chrono::seconds(10);
  startBalancer(s);
  std::vector<std::unique_ptr<Client>> clients = sendHeld(h, 12);
  // A new target first serves one request at a time (its latency unloaded is measured): the
  // others wait in the balancer, not in the target.
  EXPECT_EQ(h.backend.requests(), 1);
  EXPECT_EQ(balancer_->counters().targets[0].outstandingRequests, 1u);
  h.gate.open();
  for (auto& cl : clients) {
    EXPECT_EQ(cl->read().status, 200);
  }
  EXPECT_EQ(h.backend.requests(), 12);
  // Then it starts at a small limit (AdaptiveLimitOptions::initialLimit) and grows only as
  // its windows of responses show latency near the baseline.
  EXPECT_LE(h.maxActive.load(), int(AdaptiveLimitOptions{}.initialLimit));
}

TEST_F(BalancerTest, WithSeveralWorkersANewTargetStillServesOneRequestWhileItIsMeasured) {
  HoldingBackend h;
  auto s = makeSnapshot(port_.port, {h.backend.endpoint()});
  s->targetGroups[0].queueTimeout = std::chrono::seconds(10);
  startBalancer(s, 2);
  std::vector<std::unique_ptr<Client>> clients = sendHeld(h, 12); // (over both workers)
  // One worker measures the target's latency unloaded; the other holds its requests meanwhile
  // rather than loading the target under the measurement (adaptive_limit.h, SharedBaseline).
  EXPECT_EQ(h.backend.requests(), 1);
  EXPECT_EQ(balancer_->counters().targets[0].outstandingRequests, 1u);
  h.gate.open();
  for (auto& cl : clients) {
    EXPECT_EQ(cl->read().status, 200);
  }
  EXPECT_EQ(h.backend.requests(), 12);
  // Then each worker starts at a small limit, from the one baseline.
  EXPECT_LE(h.maxActive.load(), 2 * int(AdaptiveLimitOptions{}.initialLimit));
}

TEST_F(BalancerTest, ConcurrencyLimitIsSharedOutOverWorkers) {
  HoldingBackend h;
  // Two workers, a limit of 2: each worker holds 1, so the target never sees more than 2.
  startBalancer(limitedSnapshot(port_.port, h.backend.endpoint(), 2), 2);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<Client>(port_.port));
    clients.back()->send("GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n");
  }
  // Each request is either on the target or waiting (the spread over workers is the kernel's).
  ASSERT_TRUE(waitFor([&] {
    return uint64_t(h.backend.requests()) +
               balancer_->counters().targetGroups[0].queuedRequestCount ==
           8;
  }));
  EXPECT_LE(h.backend.requests(), 2);
  h.gate.open();
  for (auto& cl : clients) {
    EXPECT_EQ(cl->read().status, 200);
  }
  EXPECT_EQ(h.backend.requests(), 8);
  EXPECT_LE(h.maxActive.load(), 2);
}

TEST_F(BalancerTest, QueuedRequestsGoOutFirstInFirstOut) {
  HoldingBackend h;
  startBalancer(limitedSnapshot(port_.port, h.backend.endpoint(), 1));
  Client first(port_.port);
  first.send("GET /0 HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(waitFor([&] { return h.backend.requests() == 1; }));
  std::vector<std::unique_ptr<Client>> waiting;
  for (uint64_t i = 1; i <= 5; ++i) {
    waiting.push_back(std::make_unique<Client>(port_.port));
    waiting.back()->send("GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n");
    // Each one queued before the next is sent, so the arrival order is known.
    ASSERT_TRUE(
        waitFor([&] { return balancer_->counters().targetGroups[0].queuedRequestCount == i; }));
  }
  h.gate.open();
  EXPECT_EQ(first.read().body, "h /0");
  for (size_t i = 0; i < waiting.size(); ++i) {
    EXPECT_EQ(waiting[i]->read().body, "h /" + std::to_string(i + 1));
  }
  std::vector<Request> got = h.backend.received();
  ASSERT_EQ(got.size(), 6u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].path, "/" + std::to_string(i)); // in the order they came
  }
  EXPECT_EQ(h.maxActive.load(), 1);
}

TEST_F(BalancerTest, FullQueueIs503AtOnce) {
  HoldingBackend h;
  startBalancer(limitedSnapshot(port_.port, h.backend.endpoint(), 1, /*queueLength=*/1));
  Client busy(port_.port), queued(port_.port), over(port_.port);
  busy.send("GET /busy HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(waitFor([&] { return h.backend.requests() == 1; }));
  queued.send("GET /queued HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(
      waitFor([&] { return balancer_->counters().targetGroups[0].queuedRequestCount == 1; }));
  auto t0 = std::chrono::steady_clock::now();
  Response r = over.get("/over"); // the target still holds /busy: the answer is the balancer's
  EXPECT_EQ(r.status, 503);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  CountersSnapshot cs = balancer_->counters();
  EXPECT_EQ(cs.targetGroups[0].queueFullCount, 1u);
  EXPECT_EQ(cs.loadBalancers[0].httpCodeElb5xx, 1u);
  EXPECT_EQ(cs.loadBalancers[0].httpCodeElb503, 1u);
  EXPECT_EQ(cs.targetGroups[0].httpCodeElb503, 1u);
  // The connection stays usable (no body was left unread).
  h.gate.open();
  EXPECT_EQ(busy.read().status, 200);
  EXPECT_EQ(queued.read().status, 200);
  EXPECT_EQ(over.get("/fast").status, 200);
  EXPECT_EQ(h.backend.requests(), 3);
}

TEST_F(BalancerTest, RequestWaitingPastTheQueueTimeoutIs503) {
  HoldingBackend h;
  startBalancer(
      limitedSnapshot(port_.port, h.backend.endpoint(), 1, 1000, std::chrono::milliseconds(100)));
  Client busy(port_.port), late(port_.port);
  busy.send("GET /busy HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(waitFor([&] { return h.backend.requests() == 1; }));
  auto t0 = std::chrono::steady_clock::now();
  Response r = late.get("/late");
  EXPECT_EQ(r.status, 503);
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, std::chrono::milliseconds(90));
  EXPECT_LT(waited, std::chrono::seconds(2));
  EXPECT_EQ(balancer_->counters().targetGroups[0].queueTimeoutCount, 1u);
  EXPECT_EQ(balancer_->counters().loadBalancers[0].httpCodeElb503, 1u);
  h.gate.open();
  EXPECT_EQ(busy.read().status, 200);
  EXPECT_EQ(late.get("/fast").status, 200);
  std::vector<Request> got = h.backend.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].path, "/fast"); // /late never reached the target
}

TEST_F(BalancerTest, ARequestTheQueueCouldNotServeWithinItsTimeoutIs503AtOnce) {
  // The target takes 50 ms a request (/slow); the queue timeout is 100 ms. Once a response has
  // shown that, a request that would have to wait is refused at once rather than queued: its
  // wait plus the service (RFC 6298's estimate: 50 + 4 x 25 ms) would outlast the timeout.
  Gate gate;
  Backend backend{"h", [&](const Request& r) {
                    if (r.path == "/slow") {
                      std::this_thread::sleep_for(std::chrono::milliseconds(50)); // the work
                    } else {
                      gate.wait();
                    }
                    return Reply{okReply("h " + r.path)};
                  }};
  startBalancer(
      limitedSnapshot(port_.port, backend.endpoint(), 1, 1000, std::chrono::milliseconds(100)));
  Client first(port_.port);
  EXPECT_EQ(first.get("/slow").status, 200);
  Client busy(port_.port), refused(port_.port);
  busy.send("GET /busy HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(waitFor([&] { return backend.requests() == 2; }));
  EXPECT_EQ(refused.get("/late").status, 503);
  CountersSnapshot cs = balancer_->counters();
  EXPECT_EQ(cs.targetGroups[0].queueTimeoutCount, 1u);
  EXPECT_EQ(cs.targetGroups[0].queuedRequestCount, 0u); // never queued
  gate.open();
  EXPECT_EQ(busy.read().status, 200);
  EXPECT_EQ(backend.requests(), 2); // /late never reached the target
}

TEST_F(BalancerTest, QueuedRequestWhoseClientLeftIsNeverForwarded) {
  HoldingBackend h;
  startBalancer(limitedSnapshot(port_.port, h.backend.endpoint(), 1));
  Client busy(port_.port);
  busy.send("GET /busy HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(waitFor([&] { return h.backend.requests() == 1; }));
  {
    Client gone(port_.port);
    gone.send("GET /gone HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(
        waitFor([&] { return balancer_->counters().targetGroups[0].queuedRequestCount == 1; }));
  } // closed while queued
  ASSERT_TRUE(
      waitFor([&] { return balancer_->counters().targetGroups[0].queueAbandonedCount == 1; }));
  Client next(port_.port);
  next.send("GET /next HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(
      waitFor([&] { return balancer_->counters().targetGroups[0].queuedRequestCount == 2; }));
  h.gate.open();
  EXPECT_EQ(busy.read().status, 200);
  EXPECT_EQ(next.read().body, "h /next");
  std::vector<Request> got = h.backend.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].path, "/busy");
  EXPECT_EQ(got[1].path, "/next");
  EXPECT_EQ(balancer_->counters().loadBalancers[0].httpCodeElb5xx, 0u);
}

TEST_F(BalancerTest, LimitSpreadsOverTargetsWithAFreeSlot) {
  HoldingBackend a, b;
  auto s = makeSnapshot(port_.port, {a.backend.endpoint(), b.backend.endpoint()});
  s->targetGroups[0].maxConcurrency = 1;
  startBalancer(s);
  Client c1(port_.port), c2(port_.port), c3(port_.port);
  c1.send("GET /1 HTTP/1.1\r\nHost: t\r\n\r\n");
  c2.send("GET /2 HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(waitFor([&] { return a.backend.requests() == 1 && b.backend.requests() == 1; }));
  c3.send("GET /3 HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(
      waitFor([&] { return balancer_->counters().targetGroups[0].queuedRequestCount == 1; }));
  b.gate.open(); // b's slot frees first: the queued request goes there, not to a
  EXPECT_EQ(c3.read().body, "h /3");
  EXPECT_EQ(b.backend.requests(), 2);
  EXPECT_EQ(a.backend.requests(), 1);
  a.gate.open();
  EXPECT_EQ(c1.read().status, 200);
  EXPECT_EQ(c2.read().status, 200);
  EXPECT_LE(a.maxActive.load(), 1);
  EXPECT_LE(b.maxActive.load(), 1);
}

TEST_F(BalancerTest, QueuedPostBodyIsForwardedWhole) {
  HoldingBackend h;
  startBalancer(limitedSnapshot(port_.port, h.backend.endpoint(), 1));
  Client busy(port_.port), post(port_.port);
  busy.send("GET /busy HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(waitFor([&] { return h.backend.requests() == 1; }));
  std::string body(200 * 1024, 'x'); // more than a connection buffer holds while it waits
  for (size_t i = 0; i < body.size(); i += 997) {
    body[i] = char('a' + i % 26);
  }
  post.send("POST /fast HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\n\r\n");
  ASSERT_TRUE(
      waitFor([&] { return balancer_->counters().targetGroups[0].queuedRequestCount == 1; }));
  std::thread sender([&] { post.send(body); }); // blocks until the balancer reads on
  h.gate.open();
  EXPECT_EQ(busy.read().status, 200);
  EXPECT_EQ(post.read().status, 200);
  sender.join();
  std::vector<Request> got = h.backend.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].body, body);
}

TEST_F(BalancerTest, PipelinedRequestAfterAQueueTimeoutIsServed) {
  HoldingBackend h;
  startBalancer(
      limitedSnapshot(port_.port, h.backend.endpoint(), 1, 1000, std::chrono::milliseconds(100)));
  Client busy(port_.port), late(port_.port);
  busy.send("GET /busy HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(waitFor([&] { return h.backend.requests() == 1; }));
  // Two requests at once: the first times out in the queue, the second waits its turn after.
  late.send("GET /late HTTP/1.1\r\nHost: t\r\n\r\nGET /fast HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(late.read().status, 503);
  h.gate.open();
  Response second = late.read();
  EXPECT_TRUE(second.status == 200 || second.status == 503) << second.status;
  EXPECT_EQ(busy.read().status, 200);
}

TEST_F(BalancerTest, RejectsAZeroQueueTimeout) {
  auto s = makeSnapshot(port_.port, {Endpoint{kLoopback, 1}});
  s->targetGroups[0].queueTimeout = std::chrono::milliseconds(0);
  Balancer b(BalancerOptions{});
  Status st = b.apply(s);
  EXPECT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("queue timeout"), std::string::npos) << st.toString();
}

} // namespace
} // namespace tide::balancer
