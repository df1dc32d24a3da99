// The metrics publisher over a real store and metric store: the instances' readings reach the
// metric store straight from memory, and publishing never writes the store.
#include "balancer/response_time_histogram.h"
#include "common/status_testing.h"
#include "control/metrics_publisher.h"

#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <tuple>
#include <unistd.h>

namespace tide::control {
namespace {

namespace fs = std::filesystem;

class MetricsPublisherTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tide-metrics-publisher-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = std::move(*store::openSqliteStore((dir_ / "state.db").string()));
    snapshots_ = std::make_unique<Publisher>(*store_, [](auto) {});
    publisher_ = std::make_unique<MetricsPublisher>(*store_, metrics_, clock_, *snapshots_,
                                                    [this] { return counters_; });
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The newest one-second Average of a CPUUtilization series, if it has data.
  std::optional<double> cpu(metrics::Dimension dimension) {
    return newest({"AWS/EC2", "CPUUtilization", {std::move(dimension)}});
  }
  // The newest one-second Average of a series, if it has data.
  std::optional<double> newest(metrics::MetricKey metric) {
    metrics::StatisticsQuery q;
    q.metric = std::move(metric);
    q.startTime = clock_.now() - 10'000;
    q.endTime = clock_.now() + 1000;
    q.periodSeconds = 1;
    q.statistics = {metrics::Statistic::Average};
    std::vector<metrics::Datapoint> points = metrics_.aggregate(q);
    if (points.empty()) {
      return std::nullopt;
    }
    return points.back().average;
  }

  static InstanceReading reading(const std::string& id, double cpu, const std::string& group) {
    return {id, "t3.micro", "ami-00000000000000001", group, {cpu, 1 << 20}};
  }

  fs::path dir_;
  VirtualClock clock_;
  std::unique_ptr<store::Store> store_;
  metrics::MetricStore metrics_{clock_};
  std::unique_ptr<Publisher> snapshots_;
  std::unique_ptr<MetricsPublisher> publisher_;
  balancer::CountersSnapshot counters_; // what the balancer's counters read
};

TEST_F(MetricsPublisherTest, ReadingsReachTheMetricStoreUnderEveryDimension) {
  ASSERT_TRUE(publisher_
                  ->sample({reading("i-00000000000000001", 40, "web"),
                            reading("i-00000000000000002", 60, "")})
                  .isOk());
  EXPECT_EQ(cpu({"InstanceId", "i-00000000000000001"}), 40);
  EXPECT_EQ(cpu({"InstanceId", "i-00000000000000002"}), 60);
  EXPECT_EQ(cpu({"InstanceType", "t3.micro"}), 50); // each instance's value counts once
  EXPECT_EQ(cpu({"ImageId", "ami-00000000000000001"}), 50);
  EXPECT_EQ(cpu({"AutoScalingGroupName", "web"}), 40); // only the group's member
}

TEST_F(MetricsPublisherTest, AReadingWithoutARateYetIsNotPublished) {
  ASSERT_TRUE(publisher_->sample({reading("i-00000000000000001", -1, "web")}).isOk());
  EXPECT_FALSE(cpu({"InstanceId", "i-00000000000000001"}).has_value());
  EXPECT_FALSE(cpu({"AutoScalingGroupName", "web"}).has_value());
}

TEST_F(MetricsPublisherTest, PublishingEverySecondNeverWritesTheStore) {
  uint64_t writes = store_->writeCommits();
  for (int second = 0; second < 10; ++second) {
    ASSERT_TRUE(publisher_->sample({reading("i-00000000000000001", 10.0 * second, "web")}).isOk());
    EXPECT_EQ(cpu({"InstanceId", "i-00000000000000001"}), 10.0 * second);
    clock_.advance(Millis(1000));
  }
  EXPECT_EQ(store_->writeCommits(), writes);
}

// Every counter balancer/counters.h marks for CloudWatch is published under its name, from the
// one table: per second changes (Delta), values as they are (Gauge), averages (MeanSum over
// MeanCount, scaled), per load balancer and, for the Traffic ones, per target group too.
TEST_F(MetricsPublisherTest, CountersArePublishedAsTheirTableSays) {
  model::LoadBalancer lb;
  lb.loadBalancerArn = "arn:aws:elasticloadbalancing:local:000000000000:loadbalancer/app/shop/1";
  lb.loadBalancerName = "shop";
  model::TargetGroup tg;
  tg.targetGroupArn = "arn:aws:elasticloadbalancing:local:000000000000:targetgroup/web/2";
  tg.targetGroupName = "web";
  model::Listener listener; // a group is in the snapshot when a listener forwards to it
  listener.listenerArn = lb.loadBalancerArn + "/3";
  listener.loadBalancerArn = lb.loadBalancerArn;
  model::ListenerAction forward;
  forward.targetGroupArn = tg.targetGroupArn;
  listener.defaultActions = {forward};
  ASSERT_TRUE(store_
                  ->transact([&](store::Tx& tx) {
                    TIDE_RETURN_IF_ERROR(tx.putTargetGroup(tg));
                    TIDE_RETURN_IF_ERROR(tx.putLoadBalancer(lb));
                    return tx.putListener(listener);
                  })
                  .isOk());
  ASSERT_TRUE(snapshots_->publish().isOk());
  uint32_t lbSlot = snapshots_->slots().loadBalancers.at(lb.loadBalancerArn);
  uint32_t tgSlot = snapshots_->slots().targetGroups.at(tg.targetGroupArn);
  counters_.loadBalancers.resize(lbSlot + 1);
  counters_.targetGroups.resize(tgSlot + 1);
  for (auto* c : {&counters_.loadBalancers[lbSlot], &counters_.targetGroups[tgSlot]}) {
    for (const balancer::CounterInfo& k : balancer::kCounters) {
      c->*k.field = 1000; // counted before the first sample
    }
  }
  ASSERT_TRUE(publisher_->sample({}).isOk()); // the first sample only takes the baseline

  // Each counter of both resources grows by a different amount, from its own baseline.
  uint64_t step = 0;
  for (auto* c : {&counters_.loadBalancers[lbSlot], &counters_.targetGroups[tgSlot]}) {
    for (const balancer::CounterInfo& k : balancer::kCounters) {
      c->*k.field += 3 + step++;
    }
  }
  clock_.advance(Millis(1000));
  ASSERT_TRUE(publisher_->sample({}).isOk());

  const metrics::Dimension lbDim{"LoadBalancer", "app/shop/1"};
  const metrics::Dimension tgDim{"TargetGroup", "targetgroup/web/2"};
  step = 0;
  for (const auto& [dims, c, isLoadBalancer] :
       {std::tuple{std::vector<metrics::Dimension>{lbDim}, &counters_.loadBalancers[lbSlot], true},
        std::tuple{std::vector<metrics::Dimension>{lbDim, tgDim}, &counters_.targetGroups[tgSlot],
                   false}}) {
    double meanSum = 0;
    for (const balancer::CounterInfo& k : balancer::kCounters) {
      uint64_t grew = 3 + step++;
      bool here = k.where == balancer::PublishScope::Traffic ||
                  (k.where == balancer::PublishScope::LoadBalancer && isLoadBalancer);
      std::optional<double> got = newest({"AWS/ApplicationELB", k.name, dims});
      SCOPED_TRACE(std::string(k.name) + (isLoadBalancer ? " per load balancer" : " per group"));
      if (k.how == balancer::Publish::MeanSum) {
        meanSum = double(grew) * k.scale;
        continue; // published with its count
      }
      if (!here || k.how == balancer::Publish::Own) {
        EXPECT_FALSE(got.has_value());
        continue;
      }
      ASSERT_TRUE(got.has_value());
      switch (k.how) {
      case balancer::Publish::Delta:
        EXPECT_DOUBLE_EQ(*got, double(grew) * k.scale);
        break;
      case balancer::Publish::Gauge:
        EXPECT_DOUBLE_EQ(*got, double(c->*k.field) * k.scale);
        break;
      case balancer::Publish::MeanCount:
        EXPECT_DOUBLE_EQ(*got, meanSum / double(grew));
        break;
      default:
        ADD_FAILURE();
      }
    }
  }
  // The average response time is in seconds: microsecond sums scaled down.
  std::optional<double> rt = newest({"AWS/ApplicationELB", "TargetResponseTime", {lbDim}});
  ASSERT_TRUE(rt.has_value());
  EXPECT_LT(*rt, 1.0);
}

} // namespace
} // namespace tide::control

namespace tide::control {
namespace {

// A load balancer "shop" whose listener forwards to the target group "web".
struct ShopBalancer {
  model::LoadBalancer lb;
  model::TargetGroup tg;
  model::Listener listener;
};

ShopBalancer shopBalancer() {
  ShopBalancer b;
  b.lb.loadBalancerArn = "arn:aws:elasticloadbalancing:local:000000000000:loadbalancer/app/shop/1";
  b.lb.loadBalancerName = "shop";
  b.tg.targetGroupArn = "arn:aws:elasticloadbalancing:local:000000000000:targetgroup/web/2";
  b.tg.targetGroupName = "web";
  b.listener.listenerArn = b.lb.loadBalancerArn + "/3";
  b.listener.loadBalancerArn = b.lb.loadBalancerArn;
  model::ListenerAction forward;
  forward.targetGroupArn = b.tg.targetGroupArn;
  b.listener.defaultActions = {forward};
  return b;
}

// NetworkIn / NetworkOut: the bytes the balancer sent to and received from an instance's
// targets, per InstanceId and per AutoScalingGroupName; a warming instance is left out of its
// group's series.
TEST_F(MetricsPublisherTest, NetworkBytesComeFromTheBalancersTargetsAndWarmingIsLeftOut) {
  auto [lb, tg, listener] = shopBalancer();
  model::AutoScalingGroup group;
  group.autoScalingGroupName = "asg";
  group.defaultInstanceWarmup = 60;
  clock_.set(1'800'000'000'000);
  std::vector<InstanceReading> readings;
  ASSERT_OK(store_->transact([&](store::Tx& tx) {
    TIDE_RETURN_IF_ERROR(tx.putTargetGroup(tg));
    TIDE_RETURN_IF_ERROR(tx.putLoadBalancer(lb));
    TIDE_RETURN_IF_ERROR(tx.putListener(listener));
    TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(group));
    for (int k = 1; k <= 2; ++k) {
      model::Instance i;
      i.instanceId = "i-" + std::to_string(k);
      i.state = model::InstanceState::Running;
      i.privateIpAddress = "127.0.1." + std::to_string(k);
      i.autoScalingGroupName = "asg";
      TIDE_RETURN_IF_ERROR(tx.putInstance(i));
      model::Target t;
      t.targetGroupArn = tg.targetGroupArn;
      t.id = i.instanceId;
      t.port = 8080;
      t.state = model::TargetHealthState::Healthy;
      TIDE_RETURN_IF_ERROR(tx.putTarget(t));
      InstanceReading r = reading(i.instanceId, 50, "asg");
      r.launchTime = k == 1 ? 0 : clock_.now(); // i-2 is still warming up
      readings.push_back(r);
    }
    return Status::ok();
  }));
  ASSERT_OK(snapshots_->publish());
  const auto& slots = snapshots_->slots().targets;
  uint32_t s1 = slots.at(tg.targetGroupArn + "|i-1|8080");
  uint32_t s2 = slots.at(tg.targetGroupArn + "|i-2|8080");
  counters_.targets.resize(std::max(s1, s2) + 1);
  ASSERT_OK(publisher_->sample(readings)); // the baseline
  counters_.targets[s1].targetBytesSent = 300;
  counters_.targets[s1].targetBytesReceived = 5000;
  counters_.targets[s2].targetBytesSent = 100;
  counters_.targets[s1].outstandingRequests = 3;
  counters_.targets[s2].outstandingRequests = 4;
  clock_.advance(Millis(1000));
  ASSERT_OK(publisher_->sample(readings));
  // tide's own outstanding requests: the group's targets' sum, and per healthy target.
  EXPECT_EQ(newest({"Tide/ApplicationELB",
                    "OutstandingRequestCount",
                    {{"TargetGroup", "targetgroup/web/2"}, {"LoadBalancer", "app/shop/1"}}}),
            7.0);
  EXPECT_EQ(newest({"Tide/ApplicationELB",
                    "OutstandingRequestCountPerTarget",
                    {{"TargetGroup", "targetgroup/web/2"}}}),
            3.5);
  EXPECT_EQ(newest({"AWS/EC2", "NetworkIn", {{"InstanceId", "i-1"}}}), 300.0);
  EXPECT_EQ(newest({"AWS/EC2", "NetworkOut", {{"InstanceId", "i-1"}}}), 5000.0);
  EXPECT_EQ(newest({"AWS/EC2", "NetworkIn", {{"InstanceId", "i-2"}}}), 100.0);
  // The group's series: i-1 only (i-2 warms up for 60 s).
  EXPECT_EQ(newest({"AWS/EC2", "NetworkIn", {{"AutoScalingGroupName", "asg"}}}), 300.0);
  EXPECT_EQ(cpu({"AutoScalingGroupName", "asg"}), 50.0);
  metrics::StatisticsQuery q;
  q.metric = {"AWS/EC2", "CPUUtilization", {{"AutoScalingGroupName", "asg"}}};
  q.startTime = clock_.now() - 1000;
  q.endTime = clock_.now() + 1000;
  q.periodSeconds = 1;
  q.statistics = {metrics::Statistic::SampleCount};
  auto points = metrics_.aggregate(q);
  ASSERT_FALSE(points.empty());
  EXPECT_EQ(points.back().sampleCount, 1.0) << "the warming instance is left out";
}

TEST(ResponseTimeHistogram, BucketsCoverEveryValueAndAreAtMostASixteenthWide) {
  using namespace balancer;
  EXPECT_EQ(responseTimeBucket(0), 0);
  EXPECT_EQ(responseTimeBucket(15), 15);
  EXPECT_EQ(responseTimeBucket(31), 31);
  EXPECT_EQ(responseTimeBucket(uint64_t{1} << 40), kResponseTimeBuckets - 1);
  for (int b = 0; b < kResponseTimeBuckets; ++b) {
    uint64_t lo = responseTimeBucketLowest(b);
    uint64_t hi = responseTimeBucketLowest(b + 1); // exclusive
    ASSERT_LT(lo, hi);
    EXPECT_EQ(responseTimeBucket(lo), b);
    EXPECT_EQ(responseTimeBucket(hi - 1), b);
    EXPECT_LE(double(hi - lo), std::max(1.0, double(lo) / 16));
    double middle = responseTimeBucketSeconds(b) * 1e6;
    EXPECT_GE(middle, double(lo) - 1e-6); // seconds and back: a rounding off
    EXPECT_LE(middle, double(hi - 1) + 1e-6);
  }
}

TEST_F(MetricsPublisherTest, TargetResponseTimePercentilesComeFromTheBalancersHistograms) {
  auto [lb, tg, listener] = shopBalancer();
  clock_.set(1'800'000'000'000);
  ASSERT_OK(store_->transact([&](store::Tx& tx) {
    TIDE_RETURN_IF_ERROR(tx.putTargetGroup(tg));
    TIDE_RETURN_IF_ERROR(tx.putLoadBalancer(lb));
    TIDE_RETURN_IF_ERROR(tx.putListener(listener));
    for (int k = 1; k <= 2; ++k) {
      model::Instance i;
      i.instanceId = "i-" + std::to_string(k);
      i.state = model::InstanceState::Running;
      i.privateIpAddress = "127.0.1." + std::to_string(k);
      TIDE_RETURN_IF_ERROR(tx.putInstance(i));
      model::Target t;
      t.targetGroupArn = tg.targetGroupArn;
      t.id = i.instanceId;
      t.port = 8080;
      t.state = model::TargetHealthState::Healthy;
      TIDE_RETURN_IF_ERROR(tx.putTarget(t));
    }
    return Status::ok();
  }));
  ASSERT_OK(snapshots_->publish());
  const auto& slots = snapshots_->slots().targets;
  uint32_t s1 = slots.at(tg.targetGroupArn + "|i-1|8080");
  uint32_t s2 = slots.at(tg.targetGroupArn + "|i-2|8080");
  uint32_t lbSlot = snapshots_->slots().loadBalancers.at(lb.loadBalancerArn);
  uint32_t tgSlot = snapshots_->slots().targetGroups.at(tg.targetGroupArn);
  counters_.targets.resize(std::max(s1, s2) + 1);
  counters_.targetResponseTimes.resize(std::max(s1, s2) + 1);
  counters_.loadBalancers.resize(lbSlot + 1);
  counters_.targetGroups.resize(tgSlot + 1);
  ASSERT_OK(publisher_->sample({})); // the baseline
  // 1000 responses of 1..1000 ms, odd ones from i-1, even ones from i-2.
  uint64_t sumUs = 0;
  for (int ms = 1; ms <= 1000; ++ms) {
    auto& h = counters_.targetResponseTimes[ms % 2 ? s1 : s2];
    h.resize(balancer::kResponseTimeBuckets);
    ++h[balancer::responseTimeBucket(uint64_t(ms) * 1000)];
    sumUs += uint64_t(ms) * 1000;
  }
  for (auto* c : {&counters_.loadBalancers[lbSlot], &counters_.targetGroups[tgSlot]}) {
    c->targetResponseTimeSumUs = sumUs;
    c->targetResponseTimeCount = 1000;
  }
  clock_.advance(Millis(1000));
  ASSERT_OK(publisher_->sample({}));

  metrics::Dimension lbDim{"LoadBalancer", "app/shop/1"};
  metrics::Dimension tgDim{"TargetGroup", "targetgroup/web/2"};
  for (const auto& dims :
       {std::vector<metrics::Dimension>{lbDim}, std::vector<metrics::Dimension>{lbDim, tgDim}}) {
    metrics::StatisticsQuery q;
    q.metric = {"AWS/ApplicationELB", "TargetResponseTime", dims};
    q.startTime = clock_.now() - 5000;
    q.endTime = clock_.now() + 1000;
    q.periodSeconds = 10;
    q.extendedStatistics = {"p50", "p90", "p99", "p99.9"};
    auto points = metrics_.aggregate(q);
    ASSERT_EQ(points.size(), 1u);
    const auto& ext = points[0].extendedStatistics;
    ASSERT_EQ(ext.size(), 4u);
    // Within a bucket's width: the balancer's (1/16) and the store's (1/16) at worst.
    EXPECT_NEAR(ext[0].second, 0.500, 0.500 / 8);
    EXPECT_NEAR(ext[1].second, 0.900, 0.900 / 8);
    EXPECT_NEAR(ext[2].second, 0.990, 0.990 / 8);
    EXPECT_NEAR(ext[3].second, 0.999, 0.999 / 8);
    q.extendedStatistics.clear();
    q.statistics = {metrics::Statistic::Average, metrics::Statistic::SampleCount};
    points = metrics_.aggregate(q);
    ASSERT_EQ(points.size(), 1u);
    EXPECT_NEAR(*points[0].average, 0.5005, 1e-9); // the exact sum
    EXPECT_EQ(*points[0].sampleCount, 1000.0);
  }
  // Cumulative per target group, for /metrics.
  const auto& totals = publisher_->responseTimeTotals();
  ASSERT_EQ(totals.count("targetgroup/web/2"), 1u);
  const ResponseTimeTotal& t = totals.at("targetgroup/web/2");
  EXPECT_EQ(t.loadBalancer, "app/shop/1");
  uint64_t count = 0;
  for (uint64_t c : t.counts) {
    count += c;
  }
  EXPECT_EQ(count, 1000u);
  EXPECT_NEAR(t.sumSeconds, 500.5, 1e-9);
}

} // namespace
} // namespace tide::control
