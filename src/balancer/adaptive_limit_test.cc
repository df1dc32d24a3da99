// The adaptive limit on synthetic latencies: a fake clock, samples fed by hand, no sleeps.
#include "balancer/adaptive_limit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

namespace tide::balancer {
namespace {

class AdaptiveLimitTest : public ::testing::Test {
protected:
  void SetUp() override {
    options_.probeJitterMs = 0; // probes exactly every probeIntervalMs
    limit_.reset(options_, nowMs_, 42);
  }

  // The new target's first requests, one at a time, each taking rttUs: its baseline.
  void measureBaseline(int64_t rttUs) {
    ASSERT_TRUE(limit_.probing());
    nowMs_ += rttUs / 1000 + 10; // sent after the measurement began
    for (uint32_t i = 0; i < options_.probeSamples; ++i) {
      limit_.onSample(options_, rttUs, 1, nowMs_);
    }
    ASSERT_FALSE(limit_.probing());
  }

  // One sampling window: windowSamples responses of rttUs, each seen with `inflight` requests
  // outstanding (by default the limit in force: the target is used to its limit), then the
  // clock moves past the window's end and one more sample closes it.
  void window(int64_t rttUs, std::function<uint32_t(uint32_t)> inflight = {}) {
    for (uint32_t i = 0; i <= options_.windowSamples; ++i) {
      if (i == options_.windowSamples) {
        nowMs_ += options_.windowMs;
      }
      uint32_t n = inflight ? inflight(limit_.limit()) : limit_.limit();
      limit_.onSample(options_, rttUs, std::max<uint32_t>(1, n), nowMs_);
    }
  }

  AdaptiveLimitOptions options_;
  AdaptiveLimit limit_;
  int64_t nowMs_ = 1'000'000;
};

constexpr int64_t kBaseUs = 20'000; // the target unloaded: 20 ms

TEST_F(AdaptiveLimitTest, ANewTargetMeasuresItsBaselineThenStartsSmall) {
  EXPECT_TRUE(limit_.probing());
  EXPECT_EQ(limit_.limit(), options_.probeLimit);
  // A response to a request sent before the measurement began does not count.
  limit_.onSample(options_, 50'000, 1, nowMs_ + 10);
  EXPECT_TRUE(limit_.probing());
  measureBaseline(kBaseUs);
  EXPECT_EQ(limit_.minRttUs(), kBaseUs);
  EXPECT_EQ(limit_.limit(), options_.initialLimit);
}

TEST_F(AdaptiveLimitTest, GrowsWhileLatencyStaysAtTheBaselineUpToTheMax) {
  measureBaseline(kBaseUs);
  uint32_t last = limit_.limit();
  int windows = 0;
  while (limit_.limit() < options_.maxLimit && windows < 200) {
    window(kBaseUs);
    EXPECT_GE(limit_.limit(), last) << "window " << windows; // never falls at the baseline
    last = limit_.limit();
    ++windows;
  }
  EXPECT_EQ(limit_.limit(), options_.maxLimit);
  EXPECT_LT(windows, 80); // 4 to 1000 within seconds of 100 ms windows
  for (int i = 0; i < 10; ++i) {
    window(kBaseUs / 2); // faster still: the bound holds
    EXPECT_EQ(limit_.limit(), options_.maxLimit);
  }
}

TEST_F(AdaptiveLimitTest, FallsWhenLatencyRises) {
  measureBaseline(kBaseUs);
  for (int i = 0; i < 16; ++i) {
    window(kBaseUs);
  }
  uint32_t grown = limit_.limit();
  ASSERT_GT(grown, 40u);
  // The target holds more than it serves: every request waits inside it, 4x as long.
  uint32_t last = grown;
  for (int i = 0; i < 6; ++i) {
    window(4 * kBaseUs);
    EXPECT_LT(limit_.limit(), last) << "window " << i;
    last = limit_.limit();
  }
  EXPECT_LT(last, grown / 3);
}

TEST_F(AdaptiveLimitTest, SettlesWhereLatencyStartsToFollowConcurrency) {
  measureBaseline(kBaseUs);
  // A target with 4 workers: up to 4 requests at the baseline, beyond that they share them
  // (latency grows with concurrency). The limit settles a little above 4, not at the max.
  auto rttAt = [](uint32_t concurrency) { return kBaseUs * std::max<int64_t>(4, concurrency) / 4; };
  for (int i = 0; i < 100; ++i) {
    window(rttAt(limit_.limit()));
    if (i > 20) {
      EXPECT_GE(limit_.limit(), 4u) << "window " << i;
      EXPECT_LE(limit_.limit(), 10u) << "window " << i << " probing " << limit_.probing();
    }
  }
  EXPECT_EQ(limit_.minRttUs(), kBaseUs);
}

TEST_F(AdaptiveLimitTest, NeverBelowTheMinimum) {
  measureBaseline(kBaseUs);
  for (int i = 0; i < 8; ++i) {
    window(100 * kBaseUs);
    EXPECT_GE(limit_.limit(), options_.minLimit);
  }
  EXPECT_EQ(limit_.limit(), options_.minLimit);
}

TEST_F(AdaptiveLimitTest, DoesNotGrowWhenTheTargetIsUsedBelowIt) {
  measureBaseline(kBaseUs);
  for (int i = 0; i < 30; ++i) {
    window(kBaseUs, [](uint32_t) { return 1u; }); // one request at a time, fast
  }
  EXPECT_EQ(limit_.limit(), options_.initialLimit);
}

TEST_F(AdaptiveLimitTest, MeasuresTheBaselineAgainEveryProbeInterval) {
  measureBaseline(kBaseUs);
  for (int i = 0; i < 20; ++i) {
    window(kBaseUs);
  }
  uint32_t before = limit_.limit();
  ASSERT_GT(before, 50u);
  // The probe interval passes: the window that ends then starts a measurement, and the limit
  // drops to probeLimit.
  nowMs_ += options_.probeIntervalMs;
  for (uint32_t i = 0; i < options_.windowSamples && !limit_.probing(); ++i) {
    limit_.onSample(options_, kBaseUs, before, nowMs_);
  }
  ASSERT_TRUE(limit_.probing());
  EXPECT_EQ(limit_.limit(), options_.probeLimit);
  // Responses with others outstanding, or to requests sent before, do not count.
  limit_.onSample(options_, kBaseUs / 4, 30, nowMs_ + 10);
  limit_.onSample(options_, 200'000, 1, nowMs_ + 100);
  EXPECT_TRUE(limit_.probing());
  // The target has become slower for good (30 ms unloaded): one request at a time says so.
  nowMs_ += 100;
  for (uint32_t i = 0; i < options_.probeSamples; ++i) {
    limit_.onSample(options_, 30'000, 1, nowMs_);
  }
  EXPECT_FALSE(limit_.probing());
  EXPECT_EQ(limit_.minRttUs(), 30'000);
  EXPECT_GE(limit_.limit(), before); // the limit learnt before comes back
}

TEST_F(AdaptiveLimitTest, ALimitStuckAtTheMinimumMeasuresTheBaselineAgain) {
  measureBaseline(kBaseUs);
  // The target is now three times slower at any load: the limit falls to the minimum...
  int windows = 0;
  while (!limit_.probing() && windows < 100) {
    window(3 * kBaseUs);
    ++windows;
  }
  ASSERT_TRUE(limit_.probing()) << "limit " << limit_.limit();
  EXPECT_LT(windows, 20); // long before the periodic measurement
  // ...and after a new measurement it grows again from there.
  nowMs_ += 100;
  for (uint32_t i = 0; i < options_.probeSamples; ++i) {
    limit_.onSample(options_, 3 * kBaseUs, 1, nowMs_);
  }
  EXPECT_EQ(limit_.minRttUs(), 3 * kBaseUs);
  for (int i = 0; i < 15; ++i) {
    window(3 * kBaseUs);
  }
  EXPECT_GT(limit_.limit(), 10u);
}

TEST(ServiceTimeEstimateTest, LearnsTheLatencyAndItsSpreadAsRfc6298Does) {
  ServiceTimeEstimate e;
  EXPECT_EQ(e.expectedUs(), 0); // nothing known: no allowance
  e.onSample(40'000);
  EXPECT_EQ(e.smoothedUs(), 40'000);
  EXPECT_EQ(e.expectedUs(), 40'000 + 4 * 20'000); // the first: half of it as its deviation
  for (int i = 0; i < 200; ++i) {
    e.onSample(40'000);
  }
  // A steady latency: the allowance shrinks towards the latency itself.
  EXPECT_EQ(e.smoothedUs(), 40'000);
  EXPECT_LE(e.expectedUs(), 40'100);
  for (int i = 0; i < 200; ++i) {
    e.onSample(i % 2 == 0 ? 20'000 : 60'000); // the same mean, spread by 20 ms
  }
  EXPECT_NEAR(double(e.smoothedUs()), 40'000, 5'000);
  EXPECT_GE(e.expectedUs(), 40'000 + 4 * 15'000); // the spread makes room
  EXPECT_LE(e.expectedUs(), 40'000 + 4 * 25'000);
}

} // namespace
} // namespace tide::balancer
