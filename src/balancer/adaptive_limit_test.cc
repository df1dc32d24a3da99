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

// Two workers' limits of one target, sharing its SharedBaseline.
class SharedAdaptiveLimitTest : public ::testing::Test {
protected:
  void SetUp() override {
    options_.probeJitterMs = 0;
    a_.reset(options_, nowMs_, 1, &shared_, 1);
    b_.reset(options_, nowMs_, 2, &shared_, 2);
  }

  // `limit` measures the baseline: its requests go one at a time, each taking rttUs. (The
  // first response of a measurement does not count: add one.)
  void measure(AdaptiveLimit& limit, int64_t rttUs, uint32_t samples) {
    for (uint32_t i = 0; i < samples; ++i) {
      limit.onSend(options_, nowMs_);
      nowMs_ += rttUs / 1000;
      limit.onSample(options_, rttUs, 1, nowMs_);
    }
  }

  AdaptiveLimitOptions options_;
  SharedBaseline shared_;
  AdaptiveLimit a_, b_;
  int64_t nowMs_ = 1'000'000;
};

TEST_F(SharedAdaptiveLimitTest, OneWorkerMeasuresANewTargetWhileTheOthersHold) {
  // Both await a baseline; nobody holds the target until a worker sends to it.
  EXPECT_TRUE(a_.probing());
  EXPECT_TRUE(b_.probing());
  EXPECT_FALSE(heldByProbe(shared_, 1, nowMs_));
  EXPECT_FALSE(heldByProbe(shared_, 2, nowMs_));
  // The first to send claims the measurement: while its request is in flight the other holds
  // its requests to the target.
  a_.onSend(options_, nowMs_);
  EXPECT_TRUE(a_.measuring());
  EXPECT_FALSE(heldByProbe(shared_, 1, nowMs_));
  EXPECT_TRUE(heldByProbe(shared_, 2, nowMs_));
  // (Should the other send all the same, a race with the claim, it does not measure too.)
  b_.onSend(options_, nowMs_);
  EXPECT_FALSE(b_.measuring());
  nowMs_ += 9 * kBaseUs / 1000;
  a_.onSample(options_, 9 * kBaseUs, 1, nowMs_); // the first: slowed by b's, not counted
  // Between measuring requests the other goes on (a worker with few requests for the target
  // would otherwise hold the others for long); the claim stays.
  EXPECT_FALSE(heldByProbe(shared_, 2, nowMs_));
  b_.onSend(options_, nowMs_);
  EXPECT_FALSE(b_.measuring());
  measure(a_, kBaseUs, options_.probeSamples - 1);
  EXPECT_TRUE(a_.probing());
  measure(a_, kBaseUs, 1);
  EXPECT_FALSE(a_.probing());
  EXPECT_EQ(a_.minRttUs(), kBaseUs);
  // Done: nobody is held, and the other worker adopts the baseline at its next tick.
  EXPECT_FALSE(heldByProbe(shared_, 2, nowMs_));
  EXPECT_EQ(shared_.probe.load(), 0u);
  EXPECT_TRUE(b_.poll(options_, nowMs_));
  EXPECT_FALSE(b_.probing());
  EXPECT_EQ(b_.minRttUs(), kBaseUs);
  EXPECT_EQ(b_.limit(), options_.initialLimit);
}

TEST_F(SharedAdaptiveLimitTest, TheBaselineOfAThrottledTargetIsItsMeanLatency) {
  // A target under a CPU quota: back to back, the third request waits out the quota (4x).
  ASSERT_EQ(options_.probeSamples, 5u);
  measure(a_, 9 * kBaseUs, 1); // (the first, not counted)
  for (uint32_t i = 0; i < options_.probeSamples; ++i) {
    measure(a_, i == 2 ? 4 * kBaseUs : kBaseUs, 1);
  }
  EXPECT_FALSE(a_.probing());
  // Its latency at its full rate (the median would say 20 ms, and hold it below that rate).
  EXPECT_EQ(a_.minRttUs(), (4 * kBaseUs + 4 * kBaseUs) / 5);
}

TEST_F(SharedAdaptiveLimitTest, APeriodicMeasurementAdoptsAFreshOneFromAnotherWorker) {
  measure(a_, kBaseUs, options_.probeSamples + 1);
  ASSERT_TRUE(b_.poll(options_, nowMs_));
  // Later a measures again (the target has become slower): b, due soon after, adopts it rather
  // than holding a for a measurement of its own.
  nowMs_ += options_.probeIntervalMs - 1'000;
  a_.reset(options_, nowMs_, 1, &shared_, 1); // (a measurement due now on a)
  measure(a_, 2 * kBaseUs, options_.probeSamples + 1);
  ASSERT_EQ(a_.minRttUs(), 2 * kBaseUs);
  nowMs_ += 1'000;
  uint32_t n = 0;
  while (!b_.probing() && n++ < 10 * options_.windowSamples) {
    nowMs_ += 20;
    b_.onSample(options_, kBaseUs, b_.limit(), nowMs_);
  }
  EXPECT_FALSE(b_.probing()); // its window ended past the interval: adopted at once
  EXPECT_EQ(b_.minRttUs(), 2 * kBaseUs);
  EXPECT_FALSE(heldByProbe(shared_, 1, nowMs_));
}

TEST_F(SharedAdaptiveLimitTest, AClaimNotRenewedLapsesAndAnotherWorkerMeasures) {
  a_.onSend(options_, nowMs_); // a claims; its request is never answered
  ASSERT_TRUE(heldByProbe(shared_, 2, nowMs_));
  nowMs_ += options_.probeStallMs - 1;
  EXPECT_TRUE(heldByProbe(shared_, 2, nowMs_));
  nowMs_ += 1;
  EXPECT_FALSE(heldByProbe(shared_, 2, nowMs_)); // b is held no longer
  b_.onSend(options_, nowMs_);
  EXPECT_FALSE(b_.measuring()); // but the claim is still a's
  nowMs_ += options_.probeStallMs;
  measure(b_, kBaseUs, options_.probeSamples + 1); // lapsed: b takes it
  EXPECT_FALSE(b_.probing());
  // a's late response finds a baseline measured meanwhile: it does not count, a adopts b's.
  EXPECT_TRUE(a_.onSample(options_, 9 * kBaseUs, 1, nowMs_));
  EXPECT_FALSE(a_.probing());
  EXPECT_EQ(a_.minRttUs(), kBaseUs);
  EXPECT_FALSE(heldByProbe(shared_, 2, nowMs_));
}

// A measuring request that ends without an answer (its client left, the target failed) holds
// the other workers no longer: they would otherwise queue for the full stall, past the queue
// timeout.
TEST_F(SharedAdaptiveLimitTest, AMeasuringRequestEndedUnansweredHoldsNobody) {
  a_.onSend(options_, nowMs_); // a claims and sends
  ASSERT_TRUE(a_.measuring());
  ASSERT_TRUE(heldByProbe(shared_, 2, nowMs_));
  nowMs_ += 3;
  a_.onIdle(options_, nowMs_);                   // the request ended unanswered
  EXPECT_FALSE(heldByProbe(shared_, 2, nowMs_)); // b goes on
  EXPECT_TRUE(a_.measuring());                   // a keeps the claim
  b_.onSend(options_, nowMs_);
  EXPECT_FALSE(b_.measuring());
  a_.onSend(options_, nowMs_); // a's next measuring request holds b again
  EXPECT_TRUE(heldByProbe(shared_, 2, nowMs_));
  measure(a_, kBaseUs, options_.probeSamples + 1);
  EXPECT_FALSE(a_.probing());
  EXPECT_EQ(a_.minRttUs(), kBaseUs);
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
