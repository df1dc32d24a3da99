// Target tracking on the virtual clock, from per-instance readings (the metrics publisher,
// which leaves warming instances out of the group's average) through the managed alarms (the
// alarm evaluator) to the group's desired capacity, with Auto Scaling's numbers: 60 s periods,
// 3 of 3 above the target to scale out, 15 of 15 below 0.9 × target to scale in.
#include "common/status_testing.h"
#include "control/alarm_controller.h"
#include "control/metrics_publisher.h"
#include "model/names.h"
#include "operations/target_tracking.h"

#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <unistd.h>

namespace tide::control {
namespace {

namespace fs = std::filesystem;

class TargetTrackingTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tide-target-tracking-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    clock_.set(1'800'000'040'000); // periods of 60 s start at multiples of 60 s
    store_ = std::move(*store::openSqliteStore((dir_ / "state.db").string()));
    snapshots_ = std::make_unique<Publisher>(*store_, [](auto) {});
    publisher_ = std::make_unique<MetricsPublisher>(*store_, metrics_, clock_, *snapshots_,
                                                    [] { return balancer::CountersSnapshot{}; });
    alarms_ = std::make_unique<AlarmController>(*store_, metrics_, clock_);
    model::AutoScalingGroup g;
    g.autoScalingGroupName = "web";
    g.minSize = 1;
    g.maxSize = 10;
    g.desiredCapacity = 2;
    ASSERT_OK(store_->transact([&](store::Tx& tx) { return tx.putAutoScalingGroup(g); }));
    addInstance("i-1", 0);
    addInstance("i-2", 0);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void addInstance(const std::string& id, TimeMs launched) {
    model::Instance i;
    i.instanceId = id;
    i.autoScalingGroupName = "web";
    i.state = model::InstanceState::Running;
    i.lifecycleState = model::LifecycleState::InService;
    i.launchTime = launched;
    ASSERT_OK(store_->transact([&](store::Tx& tx) { return tx.putInstance(i); }));
  }
  model::ScalingPolicy track(const std::string& name, model::TargetTrackingConfiguration c,
                             std::optional<int> warmup = std::nullopt) {
    model::ScalingPolicy p;
    p.policyName = name;
    p.policyArn = "arn:aws:autoscaling:local-1:000000000000:scalingPolicy:" + name +
                  ":autoScalingGroupName/web:policyName/" + name;
    p.autoScalingGroupName = "web";
    p.policyType = "TargetTrackingScaling";
    p.targetTracking = std::move(c);
    p.estimatedInstanceWarmup = warmup;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      TIDE_RETURN_IF_ERROR(operations::putTrackingAlarms(tx, p, nullptr, clock_.now()));
      return tx.putScalingPolicy(p);
    }));
    return p;
  }
  static model::TargetTrackingConfiguration cpu(double target) {
    model::TargetTrackingConfiguration c;
    c.predefinedMetricType = "ASGAverageCPUUtilization";
    c.targetValue = target;
    return c;
  }
  // `seconds` of readings (every instance of cpuOf at its CPU; a custom metric too), publishing
  // and evaluating every second as the server does.
  void run(int seconds, std::map<std::string, double> cpuOf, double load = 0) {
    for (int s = 0; s < seconds; ++s) {
      std::vector<InstanceReading> readings;
      for (const auto& [id, cpu] : cpuOf) {
        TimeMs launched = 0;
        EXPECT_OK(store_->transact([&](store::Tx& tx) {
          launched = (*tx.instance(id))->launchTime;
          return Status::ok();
        }));
        readings.push_back({id, "t3.micro", "ami-1", "web", {cpu, 1 << 20}, launched});
      }
      ASSERT_OK(publisher_->sample(readings));
      ASSERT_OK(metrics_.put({"Shop", "Load", {}}, clock_.now(), load));
      clock_.advance(Millis(1000));
      ASSERT_OK(alarms_->reconcile().status());
    }
  }
  int desired() {
    int d = 0;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      d = (*tx.autoScalingGroup("web"))->desiredCapacity;
      return Status::ok();
    }));
    return d;
  }
  void setDesired(int n) {
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      auto g = **tx.autoScalingGroup("web");
      g.desiredCapacity = n;
      return tx.putAutoScalingGroup(g);
    }));
  }
  std::vector<model::ScalingActivity> activities() {
    std::vector<model::ScalingActivity> out;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      out = *tx.scalingActivities("web", 100);
      return Status::ok();
    }));
    return out;
  }
  std::vector<std::string> alarmNames() {
    std::vector<std::string> out;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      auto alarms = tx.alarms(); // kept: a range-for over *tx.alarms() would dangle
      for (const auto& a : *alarms) {
        out.push_back(a.alarmName);
      }
      return Status::ok();
    }));
    return out;
  }

  fs::path dir_;
  VirtualClock clock_;
  std::unique_ptr<store::Store> store_;
  metrics::MetricStore metrics_{clock_};
  std::unique_ptr<Publisher> snapshots_;
  std::unique_ptr<MetricsPublisher> publisher_;
  std::unique_ptr<AlarmController> alarms_;
};

TEST_F(TargetTrackingTest, TwoInstancesAtNinetyPercentWithAFiftyPercentTargetBecomeFour) {
  model::ScalingPolicy p = track("cpu50", cpu(50));
  run(2 * 60, {{"i-1", 90}, {"i-2", 90}});
  EXPECT_EQ(desired(), 2) << "3 of 3 periods of 60 s must breach first";
  run(2 * 60, {{"i-1", 90}, {"i-2", 90}});
  EXPECT_EQ(desired(), 4);
  auto acts = activities();
  ASSERT_FALSE(acts.empty());
  const std::string& cause = acts.front().cause;
  EXPECT_NE(cause.find("a monitor alarm " + p.alarmNames[0] +
                       " in state ALARM triggered policy cpu50 changing the desired capacity "
                       "from 2 to 4."),
            std::string::npos)
      << cause;
  EXPECT_EQ(cause.rfind("At 20", 0), 0u);
  EXPECT_NE(acts.front().details.find("\"MetricValue\":90"), std::string::npos);
  EXPECT_NE(acts.front().details.find("\"TargetValue\":50"), std::string::npos);
  EXPECT_NE(acts.front().details.find("\"ComputedCapacity\":4"), std::string::npos);
}

TEST_F(TargetTrackingTest, ScaleInWaitsFifteenDatapointsBelowNinetyPercentOfTheTarget) {
  track("cpu50", cpu(50));
  setDesired(4);
  addInstance("i-3", 0);
  addInstance("i-4", 0);
  std::map<std::string, double> idle = {{"i-1", 20}, {"i-2", 20}, {"i-3", 20}, {"i-4", 20}};
  run(14 * 60, idle);
  EXPECT_EQ(desired(), 4) << "14 datapoints are not 15";
  run(2 * 60, idle);
  EXPECT_EQ(desired(), 1) << "floor(4 × 20 / 50) = 1";
}

TEST_F(TargetTrackingTest, DisableScaleInHasNoLowAlarmAndNeverScalesIn) {
  model::TargetTrackingConfiguration c = cpu(50);
  c.disableScaleIn = true;
  model::ScalingPolicy p = track("cpu50", c);
  EXPECT_EQ(p.alarmNames.size(), 1u);
  EXPECT_EQ(alarmNames().size(), 1u);
  run(20 * 60, {{"i-1", 5}, {"i-2", 5}});
  EXPECT_EQ(desired(), 2);
}

TEST_F(TargetTrackingTest, TwoPoliciesScaleOutWhenEitherAndInOnlyWhenBoth) {
  track("cpu50", cpu(50));
  model::TargetTrackingConfiguration load;
  load.metricName = "Load";
  load.namespace_ = "Shop";
  load.statistic = "Average";
  load.targetValue = 10;
  track("load10", load);
  // CPU idle but the load at its target: no scale-in (the load policy does not agree).
  run(17 * 60, {{"i-1", 5}, {"i-2", 5}}, 10);
  EXPECT_EQ(desired(), 2);
  // Both low: in, to the larger of floor(2 × 5 / 50) = 0 and floor(2 × 5 / 10) = 1.
  run(17 * 60, {{"i-1", 5}, {"i-2", 5}}, 5);
  EXPECT_EQ(desired(), 1);
  // CPU fine (40 %), load 30 against 10: out by the load policy alone, ceil(2 × 30 / 10) = 6.
  run(4 * 60, {{"i-1", 40}, {"i-2", 40}}, 30);
  EXPECT_EQ(desired(), 6);
}

// A customized metric in the Metrics form with metric math and a 10 s Period: the alarms
// evaluate the expression's series, and the policy scales on its value.
TEST_F(TargetTrackingTest, MetricMathOnTenSecondPeriods) {
  model::TargetTrackingConfiguration c;
  c.targetValue = 10;
  c.period = 10;
  model::MetricDataQuery m1;
  m1.id = "m1";
  m1.namespace_ = "Shop";
  m1.metricName = "Load";
  m1.stat = "Average";
  m1.returnData = false;
  model::MetricDataQuery e1;
  e1.id = "e1";
  e1.expression = "m1 / 2";
  c.metrics = {m1, e1};
  track("load", c);
  run(25, {{"i-1", 10}, {"i-2", 10}}, 60);
  EXPECT_EQ(desired(), 2) << "3 periods of 10 s must breach first";
  run(20, {{"i-1", 10}, {"i-2", 10}}, 60);
  EXPECT_EQ(desired(), 6) << "ceil(2 × (60 / 2) / 10)";
}

TEST_F(TargetTrackingTest, WarmingInstancesAreLeftOutOfTheAverageAndNotLaunchedTwice) {
  track("cpu50", cpu(50), 600);
  run(4 * 60, {{"i-1", 90}, {"i-2", 90}});
  ASSERT_EQ(desired(), 4);
  // The two new instances run, idle, while warming up: the group's average stays at 90 %
  // (they are left out) and the breach keeps firing, but 4 already covers it.
  addInstance("i-3", clock_.now());
  addInstance("i-4", clock_.now());
  std::map<std::string, double> load = {{"i-1", 90}, {"i-2", 90}, {"i-3", 0}, {"i-4", 0}};
  run(4 * 60, load);
  EXPECT_EQ(desired(), 4) << "one burst does not launch twice";
  // A higher load during warm-up adds only what 4 does not cover: ceil(2 × 120 / 50) = 5.
  load["i-1"] = load["i-2"] = 120;
  run(4 * 60, load);
  EXPECT_EQ(desired(), 5);
}

TEST_F(TargetTrackingTest, CapacityStaysWithinMinAndMax) {
  track("cpu50", cpu(50));
  EXPECT_OK(store_->transact([&](store::Tx& tx) {
    auto g = **tx.autoScalingGroup("web");
    g.maxSize = 3;
    return tx.putAutoScalingGroup(g);
  }));
  run(4 * 60, {{"i-1", 100}, {"i-2", 100}});
  EXPECT_EQ(desired(), 3) << "4 clamped to MaxSize";
  EXPECT_NE(activities().front().details.find("\"LimitedBy\":\"MaxSize\""), std::string::npos);
  setDesired(2);
  EXPECT_OK(store_->transact([&](store::Tx& tx) {
    auto g = **tx.autoScalingGroup("web");
    g.minSize = 2;
    return tx.putAutoScalingGroup(g);
  }));
  run(17 * 60, {{"i-1", 1}, {"i-2", 1}});
  EXPECT_EQ(desired(), 2) << "0 clamped to MinSize";
}

TEST_F(TargetTrackingTest, DeletingThePolicyOrTheGroupDeletesItsAlarms) {
  model::ScalingPolicy p = track("cpu50", cpu(50));
  track("cpu60", cpu(60));
  EXPECT_EQ(alarmNames().size(), 4u);
  EXPECT_OK(store_->transact([&](store::Tx& tx) {
    TIDE_RETURN_IF_ERROR(operations::deleteTrackingAlarms(tx, p));
    return tx.deleteScalingPolicy(p.policyArn);
  }));
  EXPECT_EQ(alarmNames().size(), 2u);
  EXPECT_OK(store_->transact([&](store::Tx& tx) {
    TIDE_RETURN_IF_ERROR(operations::deleteGroupTrackingAlarms(tx, "web"));
    return tx.deleteAutoScalingGroup("web");
  }));
  EXPECT_TRUE(alarmNames().empty());
}

} // namespace
} // namespace tide::control
