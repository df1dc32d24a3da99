// Fairness under connection floods on a listener (admission.h, docs/security.md "Connection
// floods"): 2,000 idle connections from one client address do not lock another client out, and
// at the listener's bound the connections idle longest make room, never one with a request in
// progress. Clients use several 127.0.0.x source addresses (bound before connect).
#include "balancer/balancer.h"
#include "balancer/desync_backend.h"
#include "balancer/test_net.h"

#include <sys/resource.h>

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace tide::balancer {
namespace {

using test_net::kLoopback;
using test_net::waitFor;
using testing::ClientConnection;
using testing::OneTargetListener;
using testing::RawBackend;

constexpr const char* kRequest = "GET / HTTP/1.1\r\nHost: t.test\r\n\r\n";

class ListenerFloodTest : public ::testing::Test {
protected:
  void SetUp() override {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 8192 && rl.rlim_max >= 8192) {
      rl.rlim_cur = 8192;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 5000) {
      GTEST_SKIP() << "needs 5000 file descriptors, the limit is " << rl.rlim_cur;
    }
  }
  // One worker; `maxConnections` on the listener, per client a quarter of it (the default).
  void start(uint32_t maxConnections) {
    BalancerOptions o;
    o.threads = 1;
    ASSERT_TRUE(listener_.start(
        backend_.endpoint(),
        [&](LoadBalancer& lb) { lb.maxConnectionsPerListener = maxConnections; }, o));
  }
  void TearDown() override { listener_.stop(); }
  TrafficCounters lbCounters() { return listener_.balancer().counters().loadBalancers[0]; }
  // `n` connections from `source`, each served one request and then left idle.
  void idleConnections(uint32_t source, int n,
                       std::vector<std::unique_ptr<ClientConnection>>* into) {
    for (int i = 0; i < n; ++i) {
      auto c = std::make_unique<ClientConnection>(listener_.port(), source);
      ASSERT_TRUE(c->connected());
      ASSERT_EQ(c->exchange(kRequest), 200) << "connection " << i;
      into->push_back(std::move(c));
    }
  }
  static size_t stillOpen(const std::vector<std::unique_ptr<ClientConnection>>& conns) {
    size_t open = 0;
    for (const auto& c : conns) {
      open += !c->closedNow();
    }
    return open;
  }

  RawBackend backend_;
  OneTargetListener listener_;
};

constexpr uint32_t kFlooder = kLoopback;   // 127.0.0.1
constexpr uint32_t kOther = kLoopback + 1; // 127.0.0.2

TEST_F(ListenerFloodTest, TwoThousandIdleConnectionsFromOneAddressDoNotLockOthersOut) {
  start(400); // per client: 100
  std::vector<std::unique_ptr<ClientConnection>> flood;
  idleConnections(kFlooder, 2000, &flood); // each one got in, closing the flooder's oldest
  size_t open = stillOpen(flood);
  EXPECT_LE(open, 100u) << "the per-client bound";
  EXPECT_GE(open, 90u);
  ClientConnection other(listener_.port(), kOther);
  EXPECT_EQ(other.exchange(kRequest), 200);
  EXPECT_EQ(other.exchange(kRequest), 200);
  EXPECT_EQ(lbCounters().rejectedConnectionCount, 0u);
  // The newest of the flood are the ones kept.
  EXPECT_FALSE(flood.back()->closedNow());
  EXPECT_TRUE(flood.front()->closedNow());
}

TEST_F(ListenerFloodTest, AtTheListenersBoundTheOldestIdleMakeRoomNeverABusyOne) {
  start(400);
  // A request in progress (its head unfinished) before the flood.
  ClientConnection busy(listener_.port(), kLoopback + 9);
  busy.send("GET / HTTP/1.1\r\n");
  ASSERT_TRUE(waitFor([&] { return lbCounters().activeConnectionCount == 1; }));
  // Four clients at their own bound (100 each) fill the listener.
  std::vector<std::unique_ptr<ClientConnection>> idle;
  for (uint32_t k = 0; k < 4; ++k) {
    idleConnections(kLoopback + 3 + k, 100, &idle);
  }
  EXPECT_LE(stillOpen(idle), 399u);
  // Another client gets in: idle connections, the oldest first, make room.
  for (int i = 0; i < 20; ++i) {
    ClientConnection other(listener_.port(), kOther);
    EXPECT_EQ(other.exchange(kRequest), 200);
  }
  EXPECT_EQ(lbCounters().rejectedConnectionCount, 0u);
  EXPECT_TRUE(idle.front()->closedNow()) << "the oldest idle connection was kept";
  EXPECT_FALSE(idle.back()->closedNow()) << "the newest idle connection was closed";
  // The busy connection was never closed: its request completes.
  busy.send("Host: t.test\r\n\r\n");
  EXPECT_EQ(busy.response(), 200);
}

} // namespace
} // namespace tide::balancer
