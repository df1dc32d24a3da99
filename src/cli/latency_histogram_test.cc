#include "cli/latency_histogram.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace tide::cli {
namespace {

TEST(LatencyHistogramTest, BucketsAreContiguousAndFine) {
  EXPECT_EQ(LatencyHistogram::bucketOf(0), 0);
  EXPECT_EQ(LatencyHistogram::bucketOf(63), 63);
  EXPECT_EQ(LatencyHistogram::bucketOf(64), 64);
  EXPECT_EQ(LatencyHistogram::bucketOf(65), 64); // [64, 66) share a bucket
  EXPECT_EQ(LatencyHistogram::bucketOf(-5), 0);
  EXPECT_EQ(LatencyHistogram::bucketOf(INT64_MAX), LatencyHistogram::kBuckets - 1);
  for (int b = 0; b + 1 < LatencyHistogram::kBuckets; ++b) {
    ASSERT_EQ(LatencyHistogram::bucketHighest(b) + 1, LatencyHistogram::bucketLowest(b + 1)) << b;
    ASSERT_EQ(LatencyHistogram::bucketOf(LatencyHistogram::bucketLowest(b)), b);
    ASSERT_EQ(LatencyHistogram::bucketOf(LatencyHistogram::bucketHighest(b)), b);
    int64_t lo = LatencyHistogram::bucketLowest(b);
    int64_t width = LatencyHistogram::bucketHighest(b) - lo + 1;
    ASSERT_LE(width * 32, std::max<int64_t>(lo, 32)) << b; // within 1/32 of the value
  }
}

TEST(LatencyHistogramTest, Percentiles) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile(0.5), 0);
  for (int64_t v = 1; v <= 100; ++v) {
    h.record(v); // below 64 µs every value is exact
  }
  EXPECT_EQ(h.count(), 100);
  EXPECT_EQ(h.percentile(0.5), 50);
  EXPECT_EQ(h.percentile(0.01), 1);
  EXPECT_EQ(h.max(), 100);
  EXPECT_EQ(h.percentile(1.0), 100);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);

  // 1..10000 ms in µs: each percentile is within 1/32 above the true value.
  LatencyHistogram ms;
  for (int64_t v = 1; v <= 10'000; ++v) {
    ms.record(v * 1000);
  }
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    double truth = q * 10'000 * 1000;
    int64_t got = ms.percentile(q);
    EXPECT_GE(got, truth) << q;
    EXPECT_LE(got, truth * (1 + 1.0 / 32)) << q;
  }
  EXPECT_EQ(ms.percentile(1.0), 10'000'000); // capped at the exact max
}

TEST(LatencyHistogramTest, MergeAndReset) {
  LatencyHistogram a, b;
  a.record(10);
  b.record(5000);
  b.record(7);
  a.merge(b);
  EXPECT_EQ(a.count(), 3);
  EXPECT_EQ(a.min(), 7);
  EXPECT_EQ(a.max(), 5000);
  EXPECT_EQ(a.percentile(0.5), 10);
  a.reset();
  EXPECT_EQ(a.count(), 0);
  EXPECT_EQ(a.max(), 0);
}

} // namespace
} // namespace tide::cli
