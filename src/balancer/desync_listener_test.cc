// The desync mitigation modes against the real listener: an in-process Balancer on 127.0.0.1
// with a capture backend, every corpus request sent as raw bytes.
#include "balancer/balancer.h"
#include "balancer/desync_corpus.h"
#include "balancer/test_net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace tide::balancer {
namespace {

using test_net::bindLoopback;
using test_net::connectLoopback;
using test_net::kLoopback;
using test_net::setTimeouts;
using test_net::waitFor;
using testing::CorpusCase;

std::string lowerCase(std::string s) {
  for (char& c : s) {
    c = char(tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

std::string trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// The head's lines, without the blank one.
std::vector<std::string> lines(const std::string& head) {
  std::vector<std::string> out;
  size_t p = 0;
  for (size_t e; (e = head.find("\r\n", p)) != std::string::npos && e != p; p = e + 2) {
    out.push_back(head.substr(p, e - p));
  }
  return out;
}

std::string fieldName(const std::string& line) {
  return lowerCase(line.substr(0, line.find(':')));
}

// Letters and digits only: "transfer_encoding " and "Transfer-Encoding" read the same.
std::string letters(const std::string& s) {
  std::string out;
  for (char c : lowerCase(s)) {
    if (isalnum(static_cast<unsigned char>(c))) {
      out += c;
    }
  }
  return out;
}

// A backend that frames requests as RFC 9112 says (exact names only), records their heads and
// answers 200 to each, keeping the connection open until the balancer closes it.
class CaptureBackend {
public:
  CaptureBackend() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    port_ = bindLoopback(fd_);
    listen(fd_, 64);
    acceptor_ = std::thread([this] {
      for (int c; (c = accept(fd_, nullptr, nullptr)) >= 0;) {
        std::lock_guard<std::mutex> lock(mu_);
        int id = accepts_++;
        conns_.push_back(c);
        threads_.emplace_back([this, c, id] { serve(c, id); });
      }
    });
  }
  ~CaptureBackend() { test_net::stopServer(fd_, acceptor_, mu_, conns_, threads_); }
  Endpoint endpoint() const { return {kLoopback, port_}; }
  std::vector<std::string> heads() {
    std::lock_guard<std::mutex> lock(mu_);
    return heads_;
  }
  // Whether the connection that received the last request has been closed by the balancer.
  bool lastConnectionClosed() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::find(closedIds_.begin(), closedIds_.end(), lastConnection_) != closedIds_.end();
  }

private:
  void serve(int fd, int id) {
    std::string buf;
    auto fill = [&] {
      char tmp[65536];
      ssize_t n = recv(fd, tmp, sizeof tmp, 0);
      if (n > 0) {
        buf.append(tmp, size_t(n));
      }
      return n > 0;
    };
    for (;;) {
      size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (!fill()) {
          std::lock_guard<std::mutex> lock(mu_);
          closedIds_.push_back(id);
          shutdown(fd, SHUT_RDWR);
          return;
        }
      }
      std::string head = buf.substr(0, end + 4);
      buf.erase(0, end + 4);
      {
        std::lock_guard<std::mutex> lock(mu_);
        heads_.push_back(head);
        lastConnection_ = id;
      }
      bool chunked = false;
      size_t length = 0;
      for (const std::string& l : lines(head)) {
        std::string value = lowerCase(trimmed(l.substr(l.find(':') + 1)));
        if (fieldName(l) == "transfer-encoding") {
          chunked = value.size() >= 7 && value.compare(value.size() - 7, 7, "chunked") == 0;
        } else if (fieldName(l) == "content-length") {
          length = std::stoul(value);
        }
      }
      if (chunked) {
        while (buf.find("0\r\n\r\n") == std::string::npos && fill()) {
        }
        buf.erase(0, buf.find("0\r\n\r\n") + 5);
      } else {
        while (buf.size() < length && fill()) {
        }
        buf.erase(0, std::min(length, buf.size()));
      }
      std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
      send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
  }
  int fd_;
  uint16_t port_;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> threads_;
  std::vector<std::string> heads_;
  int accepts_ = 0;
  int lastConnection_ = -1;
  std::vector<int> closedIds_;
};

struct Answer {
  int status = 0;      // 0: no response
  bool closed = false; // the balancer closed the connection after it
};

class Connection {
public:
  explicit Connection(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    setTimeouts(fd_);
    connectLoopback(fd_, port);
  }
  ~Connection() { close(fd_); }
  // Sends bytes and reads one response (bodies are Content-Length framed here).
  int exchange(const std::string& bytes) {
    send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) {
        return 0;
      }
    }
    std::string head = buf_.substr(0, end + 4);
    buf_.erase(0, end + 4);
    size_t length = 0;
    for (const std::string& l : lines(head)) {
      if (fieldName(l) == "content-length") {
        length = std::stoul(trimmed(l.substr(l.find(':') + 1)));
      }
    }
    while (buf_.size() < length && fill()) {
    }
    buf_.erase(0, std::min(length, buf_.size()));
    return head.size() > 12 ? std::stoi(head.substr(9, 3)) : 0;
  }
  bool closedByPeer() {
    char c;
    return buf_.empty() && recv(fd_, &c, 1, 0) == 0;
  }

private:
  bool fill() {
    char tmp[65536];
    ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n > 0) {
      buf_.append(tmp, size_t(n));
    }
    return n > 0;
  }
  int fd_;
  std::string buf_;
};

const char* kHopByHop[] = {"connection", "keep-alive", "proxy-connection",
                           "te",         "trailer",    "upgrade"};

// The lines a target must see of a forwarded request: all but hop-by-hop and X-Forwarded-*
// (which the balancer manages).
std::vector<std::string> endToEnd(const std::string& head) {
  std::vector<std::string> out;
  for (const std::string& l : lines(head)) {
    std::string name = fieldName(l);
    bool skip = name.rfind("x-forwarded-", 0) == 0;
    for (const char* h : kHopByHop) {
      skip |= name == h;
    }
    if (!skip || out.empty()) {
      out.push_back(l);
    }
  }
  return out;
}

class DesyncListenerTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string error;
    if (!testing::loadCorpus(&cases_, &error)) {
      GTEST_SKIP() << error;
    }
  }
  void start(DesyncMitigationMode mode) {
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(probe, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    port_ = bindLoopback(probe);
    reserved_ = probe; // held (bound, not listening) while the balancer joins the port
    auto s = std::make_shared<Snapshot>();
    s->version = 1;
    TargetGroup g;
    g.name = "tg";
    g.targets.push_back(Target{"t0", backend_.endpoint(), 0, TargetState::Routable});
    s->targetGroups.push_back(g);
    LoadBalancer lb;
    lb.name = "lb";
    lb.desyncMitigationMode = mode;
    Listener l;
    l.endpoint = Endpoint{kLoopback, port_};
    lb.listeners.push_back(l);
    s->loadBalancers.push_back(lb);
    balancer_ = std::make_unique<Balancer>(BalancerOptions{});
    ASSERT_TRUE(balancer_->apply(s).isOk());
    ASSERT_TRUE(balancer_->start().isOk());
  }
  void TearDown() override {
    if (balancer_) {
      balancer_->stop();
    }
    if (reserved_ >= 0) {
      close(reserved_);
    }
  }
  const CorpusCase& named(const std::string& name) {
    for (const CorpusCase& c : cases_) {
      if (c.name == name) {
        return c;
      }
    }
    ADD_FAILURE() << "no corpus case " << name;
    return cases_.front();
  }
  // Sends a case on a new connection; returns the status and, when the balancer should close
  // the connection (anything but a 200 in `mode`), whether it did.
  Answer send(const CorpusCase& c, bool keepExpected = false) {
    Connection conn(port_);
    Answer a;
    a.status = conn.exchange(c.head() + c.body());
    a.closed = !keepExpected && conn.closedByPeer();
    return a;
  }
  uint64_t nonCompliant() {
    return balancer_->counters().loadBalancers[0].desyncNonCompliantRequestCount;
  }

  std::vector<CorpusCase> cases_;
  CaptureBackend backend_;
  std::unique_ptr<Balancer> balancer_;
  int reserved_ = -1;
  uint16_t port_ = 0;
};

TEST_F(DesyncListenerTest, DefensiveModeOnEveryCorpusCase) {
  start(DesyncMitigationMode::Defensive);
  uint64_t expectedNonCompliant = 0;
  for (const CorpusCase& c : cases_) {
    SCOPED_TRACE(c.file + ": " + c.name);
    expectedNonCompliant += c.tier != "Compliant";
    size_t before = backend_.heads().size();
    Answer a = send(c, c.tier == "Compliant" || c.tier == "Acceptable");
    std::vector<std::string> heads = backend_.heads();
    if (c.tier == "Severe") {
      EXPECT_EQ(a.status, 400);
      EXPECT_TRUE(a.closed);
      EXPECT_EQ(heads.size(), before) << "a Severe request reached the target";
    } else if (c.tier == "Compliant" || c.tier == "Acceptable") {
      EXPECT_EQ(a.status, 200);
      ASSERT_EQ(heads.size(), before + 1);
      EXPECT_EQ(endToEnd(heads.back()), endToEnd(c.head())) << heads.back();
    } else if (a.status == 400) { // Ambiguous, blocked
      EXPECT_TRUE(a.closed);
      EXPECT_EQ(heads.size(), before);
    } else { // Ambiguous, forwarded normalized: one framing, and both connections closed
      EXPECT_EQ(a.status, 200);
      EXPECT_TRUE(a.closed);
      ASSERT_EQ(heads.size(), before + 1);
      int te = 0, cl = 0;
      for (const std::string& l : lines(heads.back())) {
        std::string name = fieldName(l), bare = letters(name);
        EXPECT_FALSE((bare == "transferencoding" && name != "transfer-encoding") ||
                     (bare == "contentlength" && name != "content-length"))
            << "look-alike forwarded: " << l;
        te += name == "transfer-encoding";
        cl += name == "content-length";
        EXPECT_FALSE(name.empty() || isspace(static_cast<unsigned char>(l[0]))) << l;
      }
      EXPECT_FALSE(te > 0 && cl > 0) << heads.back();
      EXPECT_LE(cl, 1) << heads.back();
      EXPECT_TRUE(waitFor([&] { return backend_.lastConnectionClosed(); }))
          << "the target connection stayed open";
    }
  }
  EXPECT_TRUE(waitFor([&] { return nonCompliant() == expectedNonCompliant; }))
      << nonCompliant() << " counted, " << expectedNonCompliant << " expected";
}

TEST_F(DesyncListenerTest, StrictestForwardsOnlyCompliant) {
  start(DesyncMitigationMode::Strictest);
  Answer a = send(named("Valid Transfer-Encoding (chunked)"), true);
  EXPECT_EQ(a.status, 200);
  for (const char* name :
       {"No TE/CL headers, some others are non-compliant",
        "Transfer-Encoding with a trailing space in name", "Multiple Content-Length"}) {
    SCOPED_TRACE(name);
    a = send(named(name));
    EXPECT_EQ(a.status, 400);
    EXPECT_TRUE(a.closed);
  }
  EXPECT_EQ(backend_.heads().size(), 1u);
  EXPECT_TRUE(waitFor([&] { return nonCompliant() == 3; }));
}

TEST_F(DesyncListenerTest, MonitorForwardsWhatTideCanFrame) {
  start(DesyncMitigationMode::Monitor);
  // Severe but readable one way: forwarded as is.
  EXPECT_EQ(send(named("Bad method"), true).status, 200);
  // Ambiguous: forwarded with its body, the connection kept.
  const CorpusCase& get = named("Get with a body and Content-Length");
  Connection conn(port_);
  EXPECT_EQ(conn.exchange(get.head() + get.body()), 200);
  EXPECT_EQ(conn.exchange(get.head() + get.body()), 200);
  // Never forwarded in any mode: two lengths.
  Answer a = send(named("Multiple Content-Length"));
  EXPECT_EQ(a.status, 400);
  EXPECT_TRUE(a.closed);
  EXPECT_EQ(backend_.heads().size(), 3u);
  EXPECT_TRUE(waitFor([&] { return nonCompliant() == 4; }));
}

} // namespace
} // namespace tide::balancer
