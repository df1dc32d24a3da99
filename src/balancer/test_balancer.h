// The fixture of the tests that run a real Balancer on 127.0.0.1 (balancer_test, tunnel_test,
// https_test, h2_listener_test): a reserved listener port, the balancer started from a snapshot
// and stopped at the end, and its first load balancer's counters.
#pragma once

#include "balancer/balancer.h"
#include "balancer/test_net.h"

#include <gtest/gtest.h>

#include <memory>

namespace tide::balancer::test_net {

class RunningBalancerTest : public ::testing::Test {
protected:
  void startBalancer(std::shared_ptr<Snapshot> s, BalancerOptions o) {
    balancer_ = std::make_unique<Balancer>(o);
    ASSERT_TRUE(balancer_->apply(s).isOk());
    Status st = balancer_->start();
    ASSERT_TRUE(st.isOk()) << st.toString();
  }
  void startBalancer(std::shared_ptr<Snapshot> s, unsigned threads = 1) {
    BalancerOptions o;
    o.threads = threads;
    startBalancer(std::move(s), o);
  }
  void TearDown() override {
    if (balancer_) {
      balancer_->stop();
    }
  }
  TrafficCounters lb() { return balancer_->counters().loadBalancers[0]; }

  ReservedPort port_;
  std::unique_ptr<Balancer> balancer_;
};

} // namespace tide::balancer::test_net
