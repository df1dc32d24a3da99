// The desync mitigation modes against the real listener: an in-process Balancer on 127.0.0.1
// with a raw backend (desync_backend.h), every corpus request sent as raw bytes and judged from
// the backend's side: one client request is exactly one well-framed backend request, or none
// and the client gets 400 and a closed connection.
#include "balancer/balancer.h"
#include "balancer/desync_backend.h"
#include "balancer/desync_corpus.h"
#include "balancer/test_net.h"
#include "http1/parser.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tide::balancer {
namespace {

using test_net::connectLoopback;
using test_net::setTimeouts;
using test_net::waitFor;
using testing::ClientConnection;
using testing::CorpusCase;
using testing::OneTargetListener;
using testing::RawBackend;

std::string lowerCase(std::string s) {
  for (char& c : s) {
    c = char(tolower(static_cast<unsigned char>(c)));
  }
  return s;
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

struct Answer {
  int status = 0;      // 0: no response
  bool closed = false; // the balancer closed the connection after it
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
    ASSERT_TRUE(listener_.start(backend_.endpoint(),
                                [&](LoadBalancer& lb) { lb.desyncMitigationMode = mode; }));
  }
  void TearDown() override { listener_.stop(); }
  const CorpusCase& named(const std::string& name) {
    for (const CorpusCase& c : cases_) {
      if (c.name == name) {
        return c;
      }
    }
    ADD_FAILURE() << "no corpus case " << name;
    return cases_.front();
  }
  // The case as sent: with a Host field when it has none (the corpus's requests have none, and
  // an HTTP/1.1 request without Host is refused by RFC 9112 §3.2 before anything else).
  static CorpusCase withHost(const CorpusCase& c) {
    CorpusCase sent = c;
    bool host = false;
    for (const auto& h : c.headers) {
      host |= lowerCase(h.name) == "host";
    }
    if (!host) {
      sent.headers.push_back({"Host", "corpus.test"});
    }
    return sent;
  }
  // Sends a case on a new connection: the status, and whether the balancer closed the
  // connection after it (asked only when `askClosed`).
  Answer send(const CorpusCase& c, bool askClosed = true) {
    CorpusCase sent = withHost(c);
    ClientConnection conn(listener_.port());
    Answer a;
    a.status = conn.exchange(sent.head() + sent.body());
    a.closed = askClosed && conn.closedByPeer();
    return a;
  }
  // Every corpus case in `mode`, judged from the backend's side.
  void judgeCorpus(DesyncMitigationMode mode) {
    start(mode);
    size_t forwarded = 0, refused = 0;
    uint64_t expectedNonCompliant = 0;
    auto head = std::make_unique<MessageHead>();
    for (const CorpusCase& c : cases_) {
      SCOPED_TRACE(c.file + ": " + c.name);
      expectedNonCompliant += c.tier != "Compliant";
      CorpusCase sent = withHost(c);
      std::string bytes = sent.head() + sent.body();
      http1::ParseStatus st = http1::parseRequestHead(bytes.data(), bytes.size(), 64 * 1024, *head);
      DesyncAction expected = st == http1::ParseStatus::Complete ? desyncAction(mode, head->desync)
                                                                 : DesyncAction::Block;
      size_t before = backend_.requests();
      ClientConnection conn(listener_.port());
      int status = conn.exchange(bytes);
      size_t got = backend_.requests() - before;
      if (status == 400) {
        ++refused;
        EXPECT_EQ(expected, DesyncAction::Block);
        EXPECT_TRUE(conn.closedByPeer()) << "400 without closing the connection";
        EXPECT_EQ(got, 0u) << "a refused request reached the target";
        continue;
      }
      ++forwarded;
      EXPECT_EQ(status, 200);
      EXPECT_NE(expected, DesyncAction::Block);
      ASSERT_EQ(got, 1u) << "one client request must be one backend request";
      std::string received = backend_.heads().back();
      if ((c.tier == "Compliant" || c.tier == "Acceptable") && expected == DesyncAction::Forward) {
        EXPECT_EQ(endToEnd(received), endToEnd(sent.head())) << received;
      }
      if (expected == DesyncAction::ForwardThenClose) {
        EXPECT_TRUE(conn.closedByPeer()) << "the client connection stayed open";
        EXPECT_TRUE(waitFor([&] { return backend_.lastConnectionClosed(); }))
            << "the target connection stayed open";
      }
      // What the modes promise on top (desync.h): strictest forwards only Compliant, defensive
      // never Severe.
      if (mode == DesyncMitigationMode::Strictest) {
        EXPECT_EQ(c.tier, "Compliant");
      }
      if (mode == DesyncMitigationMode::Defensive) {
        EXPECT_NE(c.tier, "Severe");
      }
    }
    EXPECT_EQ(forwarded + refused, cases_.size());
    EXPECT_EQ(backend_.requests(), forwarded) << "the target got more requests than were sent";
    std::vector<std::string> ill = backend_.illFramed();
    EXPECT_TRUE(ill.empty()) << ill.size() << " ill-framed at the target, the first: "
                             << (ill.empty() ? "" : ill.front());
    EXPECT_EQ(backend_.truncated(), 0u);
    EXPECT_TRUE(waitFor([&] { return nonCompliant() == expectedNonCompliant; }))
        << nonCompliant() << " counted, " << expectedNonCompliant << " expected";
    std::printf("%s: %zu corpus cases, %zu forwarded as exactly one request, %zu refused with "
                "400\n",
                std::string(desyncModeName(mode)).c_str(), cases_.size(), forwarded, refused);
  }
  uint64_t nonCompliant() {
    return listener_.balancer().counters().loadBalancers[0].desyncNonCompliantRequestCount;
  }

  std::vector<CorpusCase> cases_;
  RawBackend backend_;
  OneTargetListener listener_;
};

TEST_F(DesyncListenerTest, EveryCorpusCaseJudgedFromTheBackendDefensive) {
  judgeCorpus(DesyncMitigationMode::Defensive);
}

TEST_F(DesyncListenerTest, EveryCorpusCaseJudgedFromTheBackendStrictest) {
  judgeCorpus(DesyncMitigationMode::Strictest);
}

TEST_F(DesyncListenerTest, EveryCorpusCaseJudgedFromTheBackendMonitor) {
  judgeCorpus(DesyncMitigationMode::Monitor);
}

TEST_F(DesyncListenerTest, StrictestForwardsOnlyCompliant) {
  start(DesyncMitigationMode::Strictest);
  Answer a = send(named("Valid Transfer-Encoding (chunked)"), false);
  EXPECT_EQ(a.status, 200);
  for (const char* name :
       {"No TE/CL headers, some others are non-compliant",
        "Transfer-Encoding with a trailing space in name", "Multiple Content-Length"}) {
    SCOPED_TRACE(name);
    a = send(named(name));
    EXPECT_EQ(a.status, 400);
    EXPECT_TRUE(a.closed);
  }
  EXPECT_EQ(backend_.requests(), 1u);
  EXPECT_TRUE(waitFor([&] { return nonCompliant() == 3; }));
}

TEST_F(DesyncListenerTest, MonitorForwardsWhatTideCanFrame) {
  start(DesyncMitigationMode::Monitor);
  // Severe, and a request line RFC 9112 §3 says to reject: refused in monitor mode too.
  Answer a = send(named("Bad method"));
  EXPECT_EQ(a.status, 400);
  EXPECT_TRUE(a.closed);
  // Ambiguous: forwarded with its body, the connection kept.
  CorpusCase get = withHost(named("Get with a body and Content-Length"));
  ClientConnection conn(listener_.port());
  EXPECT_EQ(conn.exchange(get.head() + get.body()), 200);
  EXPECT_EQ(conn.exchange(get.head() + get.body()), 200);
  // Never forwarded in any mode: two lengths.
  a = send(named("Multiple Content-Length"));
  EXPECT_EQ(a.status, 400);
  EXPECT_TRUE(a.closed);
  EXPECT_EQ(backend_.requests(), 2u);
  EXPECT_TRUE(waitFor([&] { return nonCompliant() == 4; }));
}

} // namespace
} // namespace tide::balancer
