#include "metrics/series.h"

#include "metrics/units.h"
#include "metrics/value_histogram.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>

namespace tide::metrics {
namespace {

// 2027-01-15T08:00:00Z: a whole hour, so every period length tide allows starts here.
constexpr TimeMs kT0 = 1'800'000'000'000;

MetricKey cpu(const std::string& instanceId) {
  return MetricKey{"AWS/EC2", "CPUUtilization", {{"InstanceId", instanceId}}};
}

StatisticsQuery allStats(const MetricKey& key, TimeMs start, TimeMs end, int period) {
  StatisticsQuery q;
  q.metric = key;
  q.startTime = start;
  q.endTime = end;
  q.periodSeconds = period;
  q.statistics = {Statistic::Average, Statistic::Sum, Statistic::Minimum, Statistic::Maximum,
                  Statistic::SampleCount};
  return q;
}

class MetricStoreTest : public ::testing::Test {
protected:
  VirtualClock clock_{kT0};
  MetricStore store_{clock_};
};

TEST_F(MetricStoreTest, ValuesInOneSecondAggregateIntoOneBucket) {
  clock_.set(kT0 + 5000);
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + 100, 10).isOk());
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + 500, 30).isOk());
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + 999, 20).isOk());
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + 1000, 50).isOk());

  auto r = store_.statistics(allStats(cpu("i-1"), kT0, kT0 + 5000, 1));
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  ASSERT_EQ(r->size(), 2u);
  const Datapoint& first = (*r)[0];
  EXPECT_EQ(first.timestamp, kT0);
  EXPECT_DOUBLE_EQ(*first.sum, 60);
  EXPECT_DOUBLE_EQ(*first.sampleCount, 3);
  EXPECT_DOUBLE_EQ(*first.average, 20);
  EXPECT_DOUBLE_EQ(*first.minimum, 10);
  EXPECT_DOUBLE_EQ(*first.maximum, 30);
  EXPECT_EQ(first.unit, "Percent");
  EXPECT_EQ((*r)[1].timestamp, kT0 + 1000);
  EXPECT_DOUBLE_EQ(*(*r)[1].sum, 50);
}

TEST_F(MetricStoreTest, StatisticsOverPeriodsAreExact) {
  clock_.set(kT0 + 120'000);
  for (int i = 0; i < 120; ++i) {
    ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + i * 1000 + 250, i).isOk());
  }
  auto r = store_.statistics(allStats(cpu("i-1"), kT0, kT0 + 120'000, 60));
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].timestamp, kT0);
  EXPECT_DOUBLE_EQ(*(*r)[0].sum, 1770); // 0 + ... + 59
  EXPECT_DOUBLE_EQ(*(*r)[0].sampleCount, 60);
  EXPECT_DOUBLE_EQ(*(*r)[0].average, 29.5);
  EXPECT_DOUBLE_EQ(*(*r)[0].minimum, 0);
  EXPECT_DOUBLE_EQ(*(*r)[0].maximum, 59);
  EXPECT_EQ((*r)[1].timestamp, kT0 + 60'000);
  EXPECT_DOUBLE_EQ(*(*r)[1].sum, 5370); // 60 + ... + 119
  EXPECT_DOUBLE_EQ(*(*r)[1].average, 89.5);
  EXPECT_DOUBLE_EQ(*(*r)[1].minimum, 60);
  EXPECT_DOUBLE_EQ(*(*r)[1].maximum, 119);

  // Only the statistics asked for are set.
  StatisticsQuery q = allStats(cpu("i-1"), kT0, kT0 + 60'000, 30);
  q.statistics = {Statistic::Maximum};
  auto r2 = store_.statistics(q);
  ASSERT_TRUE(r2.isOk());
  ASSERT_EQ(r2->size(), 2u);
  EXPECT_DOUBLE_EQ(*(*r2)[0].maximum, 29);
  EXPECT_DOUBLE_EQ(*(*r2)[1].maximum, 59);
  EXPECT_FALSE((*r2)[0].average.has_value());
  EXPECT_FALSE((*r2)[0].sampleCount.has_value());
}

TEST_F(MetricStoreTest, StartIsRoundedDownEndIsExclusiveEmptyPeriodsOmitted) {
  clock_.set(kT0 + 60'000);
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + 2000, 1).isOk());  // period [0, 10)
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + 25000, 2).isOk()); // period [20, 30)
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + 40000, 4).isOk()); // at EndTime: excluded
  auto r = store_.statistics(allStats(cpu("i-1"), kT0 + 5000, kT0 + 40000, 10));
  ASSERT_TRUE(r.isOk());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].timestamp, kT0);
  EXPECT_DOUBLE_EQ(*(*r)[0].sum, 1);
  EXPECT_EQ((*r)[1].timestamp, kT0 + 20000);
  EXPECT_DOUBLE_EQ(*(*r)[1].sum, 2);
}

TEST_F(MetricStoreTest, LateValuesLandInTheirOwnSecond) {
  clock_.set(kT0 + 10'000);
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + 5000, 5).isOk());
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + 1000, 1).isOk());
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + 3000, 3).isOk());
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + 3500, 4).isOk());
  auto r = store_.statistics(allStats(cpu("i-1"), kT0, kT0 + 10'000, 1));
  ASSERT_TRUE(r.isOk());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].timestamp, kT0 + 1000);
  EXPECT_EQ((*r)[1].timestamp, kT0 + 3000);
  EXPECT_DOUBLE_EQ(*(*r)[1].sampleCount, 2);
  EXPECT_DOUBLE_EQ(*(*r)[1].sum, 7);
  EXPECT_EQ((*r)[2].timestamp, kT0 + 5000);
}

TEST_F(MetricStoreTest, PercentilesAreExactWhenEachSecondHoldsOneValue) {
  clock_.set(kT0 + 10'000);
  for (int i = 1; i <= 10; ++i) {
    ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + (i - 1) * 1000, i).isOk());
    ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + (i - 1) * 1000 + 1, i).isOk());
  }
  StatisticsQuery q = allStats(cpu("i-1"), kT0, kT0 + 10'000, 10);
  q.statistics.clear();
  q.extendedStatistics = {"p0", "p50", "p90", "p99.9", "p100"};
  auto r = store_.statistics(q);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  ASSERT_EQ(r->size(), 1u);
  const auto& ext = (*r)[0].extendedStatistics;
  ASSERT_EQ(ext.size(), 5u);
  EXPECT_EQ(ext[0].first, "p0");
  EXPECT_DOUBLE_EQ(ext[0].second, 1);
  EXPECT_DOUBLE_EQ(ext[1].second, 5);
  EXPECT_DOUBLE_EQ(ext[2].second, 9);
  EXPECT_DOUBLE_EQ(ext[3].second, 10);
  EXPECT_DOUBLE_EQ(ext[4].second, 10);
}

// Within a bucket's width: the reported value's bucket middle is within 1/32 of the true value.
void expectWithinBucket(double got, double want) {
  EXPECT_NEAR(got, want, want / 16) << "want " << want;
}

TEST_F(MetricStoreTest, PercentilesComeFromEveryValueNotFromSecondAverages) {
  // 1000 response times 1..1000 ms, 100 a second for 10 s, each second's values spread over
  // the whole range: every second's average is about 0.5 s, but p99 is about 0.99 s.
  clock_.set(kT0 + 10'000);
  MetricKey trt{"AWS/ApplicationELB", "TargetResponseTime", {{"LoadBalancer", "app/web/1"}}};
  for (int i = 0; i < 1000; ++i) {
    double seconds = (i + 1) / 1000.0;
    ASSERT_TRUE(store_.put(trt, kT0 + (i % 10) * 1000 + 1, seconds).isOk());
  }
  StatisticsQuery q = allStats(trt, kT0, kT0 + 10'000, 10);
  q.statistics.clear();
  q.extendedStatistics = {"p50", "p90", "p99", "p99.9", "p100", "p0"};
  auto r = store_.statistics(q);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  ASSERT_EQ(r->size(), 1u);
  const auto& ext = (*r)[0].extendedStatistics;
  ASSERT_EQ(ext.size(), 6u);
  expectWithinBucket(ext[0].second, 0.500);
  expectWithinBucket(ext[1].second, 0.900);
  expectWithinBucket(ext[2].second, 0.990);
  expectWithinBucket(ext[3].second, 0.999);
  EXPECT_DOUBLE_EQ(ext[4].second, 1.0); // the Maximum bounds the top bucket
  expectWithinBucket(ext[5].second, 0.001);

  q.extendedStatistics.clear();
  q.statistics = {Statistic::SampleCount, Statistic::Average};
  r = store_.statistics(q);
  ASSERT_TRUE(r.isOk());
  EXPECT_DOUBLE_EQ(*(*r)[0].sampleCount, 1000);
  EXPECT_NEAR(*(*r)[0].average, 0.5005, 1e-9); // sums stay exact
}

TEST_F(MetricStoreTest, ValuesAndCountsPutADistribution) {
  clock_.set(kT0 + 5000);
  MetricKey key{"Shop", "Latency", {}};
  // 90 fast values, 9 slow ones and one very slow one, in one call as PutMetricData does.
  std::vector<double> values = {0.010, 0.200, 2.0};
  std::vector<double> counts = {90, 9, 1};
  ASSERT_TRUE(store_.putValues(key, kT0 + 1000, values, counts).isOk());
  StatisticsQuery q = allStats(key, kT0, kT0 + 5000, 5);
  auto r = store_.statistics(q);
  ASSERT_TRUE(r.isOk());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_DOUBLE_EQ(*(*r)[0].sampleCount, 100);
  EXPECT_NEAR(*(*r)[0].sum, 0.9 + 1.8 + 2.0, 1e-9);
  EXPECT_DOUBLE_EQ(*(*r)[0].minimum, 0.010);
  EXPECT_DOUBLE_EQ(*(*r)[0].maximum, 2.0);
  q.statistics.clear();
  q.extendedStatistics = {"p50", "p90", "p95", "p99", "p100"};
  r = store_.statistics(q);
  ASSERT_TRUE(r.isOk());
  const auto& ext = (*r)[0].extendedStatistics;
  expectWithinBucket(ext[0].second, 0.010);
  expectWithinBucket(ext[1].second, 0.010);
  expectWithinBucket(ext[2].second, 0.200);
  expectWithinBucket(ext[3].second, 0.200);
  EXPECT_DOUBLE_EQ(ext[4].second, 2.0);

  // An exact sum replaces values times counts (values that are bucket middles).
  ASSERT_TRUE(store_.putValues(key, kT0 + 3000, values, counts, 4.0).isOk());
  q = allStats(key, kT0 + 3000, kT0 + 4000, 1);
  r = store_.statistics(q);
  ASSERT_TRUE(r.isOk());
  EXPECT_DOUBLE_EQ(*(*r)[0].sum, 4.0);
}

TEST_F(MetricStoreTest, BadValuesAndCountsStoreNothing) {
  clock_.set(kT0 + 5000);
  MetricKey key{"Shop", "Latency", {}};
  std::vector<double> values = {1, 2};
  std::vector<double> one = {1};
  std::vector<double> negative = {1, -1};
  EXPECT_EQ(store_.putValues(key, kT0, values, one).code(), "InvalidParameterValue");
  EXPECT_EQ(store_.putValues(key, kT0, values, negative).code(), "InvalidParameterValue");
  EXPECT_EQ(store_.putValues(key, kT0, {}, {}).code(), "InvalidParameterValue");
  std::vector<double> zeros = {0, 0};
  EXPECT_TRUE(store_.putValues(key, kT0, values, zeros).isOk());
  EXPECT_EQ(store_.metricCount(), 0u);
}

TEST_F(MetricStoreTest, LatestIsTheLastSecondBeforeTheGivenTime) {
  clock_.set(kT0 + 5000);
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + 1000, 10).isOk());
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + 2000, 20).isOk());
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + 2500, 40).isOk());
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0 + 4000, 99).isOk()); // the second not yet complete
  ASSERT_TRUE(store_.put(cpu("i-2"), kT0 + 4000, 50).isOk());
  std::vector<LatestValue> l = store_.latest(kT0 + 4000);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].metric, cpu("i-1"));
  EXPECT_EQ(l[0].timestamp, kT0 + 2000);
  EXPECT_DOUBLE_EQ(l[0].sum, 60);
  EXPECT_DOUBLE_EQ(l[0].sampleCount, 2);
  EXPECT_DOUBLE_EQ(l[0].maximum, 40);
}

TEST(ValueHistogram, BucketsAreOrderedAndAtMostASixteenthWide) {
  std::vector<double> positive;
  for (double v = 1e-9; v < 1e9; v *= 1.01) {
    positive.push_back(v);
  }
  std::vector<double> values(positive.rbegin(), positive.rend());
  for (double& v : values) {
    v = -v;
  }
  values.push_back(0);
  values.insert(values.end(), positive.begin(), positive.end());
  int32_t previous = valueBucket(values.front());
  for (double v : values) {
    int32_t b = valueBucket(v);
    EXPECT_GE(b, previous) << v;
    previous = b;
    if (v == 0) {
      EXPECT_EQ(b, 0);
      continue;
    }
    double lo = std::min(std::fabs(valueBucketLowest(b)), std::fabs(valueBucketHighest(b)));
    double hi = std::max(std::fabs(valueBucketLowest(b)), std::fabs(valueBucketHighest(b)));
    EXPECT_LE(lo, std::fabs(v));
    EXPECT_LT(std::fabs(v), hi);
    EXPECT_LE(hi - lo, lo / 16 * 1.0000001);
    EXPECT_NEAR(valueBucketMiddle(b), v, std::fabs(v) / 32 * 1.0000001);
  }
}

TEST(ParsePercentile, AcceptsP0ToP100WithTwoDecimals) {
  EXPECT_EQ(parsePercentile("p99"), 99.0);
  EXPECT_EQ(parsePercentile("p0"), 0.0);
  EXPECT_EQ(parsePercentile("p100"), 100.0);
  EXPECT_NEAR(*parsePercentile("p99.95"), 99.95, 1e-9);
  EXPECT_FALSE(parsePercentile("p100.5"));
  EXPECT_FALSE(parsePercentile("p101"));
  EXPECT_FALSE(parsePercentile("p99.999"));
  EXPECT_FALSE(parsePercentile("p"));
  EXPECT_FALSE(parsePercentile("p9."));
  EXPECT_FALSE(parsePercentile("P50"));
  EXPECT_FALSE(parsePercentile("p-1"));
  EXPECT_FALSE(parsePercentile("tm99"));
}

TEST_F(MetricStoreTest, QueryValidationUsesCloudWatchErrors) {
  auto q = allStats(cpu("i-1"), kT0, kT0 + 60'000, 60);
  EXPECT_TRUE(store_.statistics(q).isOk());
  for (int period : {1, 5, 10, 30, 60, 120, 3600}) {
    q.periodSeconds = period;
    EXPECT_TRUE(store_.statistics(q).isOk()) << period;
  }
  for (int period : {0, -60, 2, 7, 45, 90}) {
    q.periodSeconds = period;
    auto r = store_.statistics(q);
    ASSERT_FALSE(r.isOk()) << period;
    EXPECT_EQ(r.status().code(), "InvalidParameterValue");
    EXPECT_NE(r.status().message().find("Period"), std::string::npos);
  }
  q.periodSeconds = 60;

  auto bad = q;
  bad.endTime = bad.startTime;
  EXPECT_EQ(store_.statistics(bad).status().code(), "InvalidParameterValue");
  EXPECT_NE(store_.statistics(bad).status().message().find("StartTime"), std::string::npos);

  bad = q;
  bad.statistics.clear();
  EXPECT_EQ(store_.statistics(bad).status().code(), "MissingParameter");
  bad.extendedStatistics = {"p101"};
  EXPECT_EQ(store_.statistics(bad).status().code(), "InvalidParameterValue");
  bad = q;
  bad.extendedStatistics = {"p50"};
  EXPECT_EQ(store_.statistics(bad).status().code(), "InvalidParameterCombination");

  bad = q;
  bad.metric.namespace_.clear();
  EXPECT_EQ(store_.statistics(bad).status().code(), "MissingParameter");
  EXPECT_NE(store_.statistics(bad).status().message().find("Namespace"), std::string::npos);
  bad = q;
  bad.metric.metricName.clear();
  EXPECT_NE(store_.statistics(bad).status().message().find("MetricName"), std::string::npos);

  bad = q;
  bad.unit = "Percents";
  EXPECT_EQ(store_.statistics(bad).status().code(), "InvalidParameterValue");

  // 1440 datapoints are fine, 1441 are not.
  bad = q;
  bad.periodSeconds = 1;
  bad.endTime = bad.startTime + 1440 * 1000;
  EXPECT_TRUE(store_.statistics(bad).isOk());
  bad.endTime += 1;
  auto r = store_.statistics(bad);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), "InvalidParameterCombination");
  EXPECT_NE(r.status().message().find("1441"), std::string::npos);
}

TEST_F(MetricStoreTest, UnitFilterAnswersOnlyForTheMetricsUnit) {
  ASSERT_TRUE(store_.put(cpu("i-1"), kT0, 50).isOk());
  clock_.set(kT0 + 60'000);
  auto q = allStats(cpu("i-1"), kT0, kT0 + 60'000, 60);
  q.unit = "Percent";
  EXPECT_EQ(store_.statistics(q)->size(), 1u);
  q.unit = "Count";
  EXPECT_TRUE(store_.statistics(q)->empty());
}

TEST_F(MetricStoreTest, PutRefusesBadValuesAndTimes) {
  EXPECT_EQ(store_.put(cpu("i-1"), kT0, std::nan("")).code(), "InvalidParameterValue");
  EXPECT_EQ(store_.put(cpu("i-1"), kT0, HUGE_VAL).code(), "InvalidParameterValue");
  EXPECT_EQ(store_.put(cpu("i-1"), kT0 + 2 * 3600 * 1000 + 1, 1).code(), "InvalidParameterValue");
  EXPECT_TRUE(store_.put(cpu("i-1"), kT0 + 2 * 3600 * 1000, 1).isOk());
  EXPECT_EQ(store_.put(cpu("i-1"), kT0 - 3 * 3600 * 1000, 1).code(), "InvalidParameterValue");
  EXPECT_TRUE(store_.put(cpu("i-1"), kT0 - 3 * 3600 * 1000 + 1000, 1).isOk());
  MetricKey twice{"AWS/EC2", "CPUUtilization", {{"InstanceId", "i-1"}, {"InstanceId", "i-2"}}};
  EXPECT_EQ(store_.put(twice, kT0, 1).code(), "InvalidParameterValue");
  MetricKey emptyValue{"AWS/EC2", "CPUUtilization", {{"InstanceId", ""}}};
  EXPECT_EQ(store_.put(emptyValue, kT0, 1).code(), "InvalidParameterValue");
  EXPECT_EQ(store_.put(MetricKey{"", "X", {}}, kT0, 1).code(), "MissingParameter");
  EXPECT_EQ(store_.metricCount(), 1u);
}

TEST_F(MetricStoreTest, DimensionOrderDoesNotMatter) {
  MetricKey ab{"AWS/ApplicationELB",
               "RequestCount",
               {{"LoadBalancer", "app/web/1"}, {"AvailabilityZone", "local-1a"}}};
  ASSERT_TRUE(store_.put(ab, kT0, 3).isOk());
  MetricKey ba{"AWS/ApplicationELB",
               "RequestCount",
               {{"AvailabilityZone", "local-1a"}, {"LoadBalancer", "app/web/1"}}};
  ASSERT_TRUE(store_.put(ba, kT0, 4).isOk());
  EXPECT_EQ(store_.metricCount(), 1u);
  clock_.set(kT0 + 60'000);
  auto r = store_.statistics(allStats(ba, kT0, kT0 + 60'000, 60));
  ASSERT_TRUE(r.isOk());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_DOUBLE_EQ(*(*r)[0].sum, 7);
  EXPECT_EQ((*r)[0].unit, "Count");
  EXPECT_EQ(canonicalMetricKey(ab), canonicalMetricKey(ba));
  EXPECT_LT(canonicalMetricKey(ab), (MetricKey{"AWS/EC2", "A", {}}));
}

TEST(MetricStoreRetention, DropsDataOlderThanTheRetention) {
  VirtualClock clock(kT0);
  MetricStore store(clock); // the default: 3 hours
  ASSERT_TRUE(store.put(cpu("i-1"), kT0, 42).isOk());
  auto q = allStats(cpu("i-1"), kT0, kT0 + 60'000, 60);

  clock.set(kT0 + (3 * 3600 - 1) * 1000);
  EXPECT_EQ(store.statistics(q)->size(), 1u);
  EXPECT_EQ(store.listMetrics({})->size(), 1u);

  clock.set(kT0 + 3 * 3600 * 1000);
  EXPECT_TRUE(store.statistics(q)->empty());
  EXPECT_TRUE(store.listMetrics({})->empty());
  EXPECT_EQ(store.metricCount(), 1u);
  store.dropExpired();
  EXPECT_EQ(store.metricCount(), 0u);
}

TEST(MetricStoreRetention, ShortRetentionAndPruningOnPut) {
  VirtualClock clock(kT0);
  MetricStore store(clock, MetricStoreOptions{.retentionSeconds = 60});
  ASSERT_TRUE(store.put(cpu("i-1"), kT0, 1).isOk());
  ASSERT_TRUE(store.put(cpu("i-1"), kT0 + 30'000, 2).isOk());
  clock.advance(Millis(61'000));
  ASSERT_TRUE(store.put(cpu("i-1"), clock.now(), 3).isOk());
  EXPECT_EQ(store.put(cpu("i-1"), kT0, 1).code(), "InvalidParameterValue");
  auto r = store.statistics(allStats(cpu("i-1"), kT0, clock.now() + 1000, 60));
  ASSERT_TRUE(r.isOk());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_DOUBLE_EQ(*(*r)[0].sum, 2);
  EXPECT_DOUBLE_EQ(*(*r)[1].sum, 3);
}

TEST_F(MetricStoreTest, ListMetricsFilters) {
  MetricKey net{"AWS/EC2", "NetworkIn", {{"InstanceId", "i-1"}}};
  MetricKey requests{"AWS/ApplicationELB", "RequestCount", {{"LoadBalancer", "app/web/1"}}};
  MetricKey desired{"AWS/AutoScaling", "GroupDesiredCapacity", {{"AutoScalingGroupName", "web"}}};
  MetricKey groupCpu{"AWS/EC2", "CPUUtilization", {{"AutoScalingGroupName", "web"}}};
  for (const MetricKey& k : {cpu("i-2"), cpu("i-1"), net, requests, desired, groupCpu}) {
    ASSERT_TRUE(store_.put(k, kT0, 1).isOk());
  }
  EXPECT_EQ(store_.listMetrics({})->size(), 6u);

  ListMetricsQuery byNamespace{.namespace_ = "AWS/EC2"};
  auto r = store_.listMetrics(byNamespace);
  ASSERT_TRUE(r.isOk());
  ASSERT_EQ(r->size(), 4u);
  // Sorted by key.
  EXPECT_EQ((*r)[0], groupCpu);
  EXPECT_EQ((*r)[1], cpu("i-1"));
  EXPECT_EQ((*r)[2], cpu("i-2"));
  EXPECT_EQ((*r)[3], net);

  EXPECT_EQ(store_.listMetrics({.metricName = "CPUUtilization"})->size(), 3u);
  EXPECT_EQ(store_.listMetrics({.namespace_ = "AWS/EC2", .metricName = "RequestCount"})->size(),
            0u);
  EXPECT_EQ(store_.listMetrics({.dimensions = {{"InstanceId", "i-1"}}})->size(), 2u);
  EXPECT_EQ(store_.listMetrics({.dimensions = {{"InstanceId", std::nullopt}}})->size(), 3u);
  EXPECT_EQ(store_.listMetrics({.dimensions = {{"AutoScalingGroupName", "web"}}})->size(), 2u);
  auto one = store_.listMetrics(
      {.namespace_ = "AWS/AutoScaling", .dimensions = {{"AutoScalingGroupName", "web"}}});
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0], desired);
  EXPECT_TRUE(
      store_.listMetrics({.dimensions = {{"InstanceId", "i-1"}, {"LoadBalancer", {}}}})->empty());

  ListMetricsQuery tooMany;
  tooMany.dimensions.assign(11, DimensionFilter{"InstanceId", std::nullopt});
  EXPECT_EQ(store_.listMetrics(tooMany).status().code(), "InvalidParameterValue");
  EXPECT_EQ(store_.listMetrics({.dimensions = {{"", std::nullopt}}}).status().code(),
            "InvalidParameterValue");
}

TEST(Units, KnownMetricsHaveCloudWatchUnits) {
  EXPECT_EQ(unitFor("AWS/EC2", "CPUUtilization"), "Percent");
  EXPECT_EQ(unitFor("AWS/EC2", "NetworkIn"), "Bytes");
  EXPECT_EQ(unitFor("AWS/ApplicationELB", "RequestCount"), "Count");
  EXPECT_EQ(unitFor("AWS/ApplicationELB", "TargetResponseTime"), "Seconds");
  EXPECT_EQ(unitFor("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"), "Count");
  EXPECT_EQ(unitFor("AWS/AutoScaling", "GroupDesiredCapacity"), "None");
  EXPECT_EQ(unitFor("AWS/EC2", "RequestCount"), "None");
  EXPECT_EQ(unitFor("Custom", "Anything"), "None");
  for (std::string_view u : {"Percent", "Count", "Seconds", "Bytes/Second", "None"}) {
    EXPECT_TRUE(isStandardUnit(u)) << u;
  }
  EXPECT_FALSE(isStandardUnit("percent"));
  EXPECT_FALSE(isStandardUnit(""));
}

TEST(Statistics, NamesRoundTrip) {
  for (Statistic s : {Statistic::SampleCount, Statistic::Average, Statistic::Sum,
                      Statistic::Minimum, Statistic::Maximum}) {
    EXPECT_EQ(parseStatistic(statisticName(s)), s);
  }
  EXPECT_FALSE(parseStatistic("average"));
}

// One writer and one reader at once, as in tide (publisher thread and control thread). The
// virtual clock is not moved while the threads run, so reading it from both is safe.
TEST(MetricStoreThreads, OneWriterOneReader) {
  VirtualClock clock(kT0 + 600'000);
  MetricStore store(clock);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 600; ++i) {
      for (int v = 0; v < 10; ++v) {
        EXPECT_TRUE(store.put(cpu("i-" + std::to_string(v)), kT0 + i * 1000, v).isOk());
      }
    }
    done = true;
  });
  size_t reads = 0;
  do { // at least once, however fast the writer is
    // EXPECT, not ASSERT: returning early would leave the writer unjoined.
    auto r = store.statistics(allStats(cpu("i-3"), kT0, kT0 + 600'000, 60));
    EXPECT_TRUE(r.isOk());
    if (r.isOk()) {
      for (const Datapoint& dp : *r) {
        EXPECT_DOUBLE_EQ(*dp.average, 3);
      }
    }
    EXPECT_TRUE(store.listMetrics({}).isOk());
    ++reads;
  } while (!done);
  writer.join();
  auto r = store.statistics(allStats(cpu("i-3"), kT0, kT0 + 600'000, 60));
  ASSERT_EQ(r->size(), 10u);
  EXPECT_DOUBLE_EQ(*(*r)[9].sampleCount, 60);
  EXPECT_GT(reads, 0u);
}

} // namespace
} // namespace tide::metrics
