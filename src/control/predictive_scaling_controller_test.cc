// The predictive scaling controller on a virtual clock, over two days of a daily pattern in the
// metric store: ForecastOnly changes nothing; ForecastAndScale raises the desired capacity for
// the forecast peak SchedulingBufferTime before it starts, once, and never lowers it.
#include "common/status_testing.h"
#include "control/group_test_fixture.h"
#include "control/predictive_scaling_controller.h"
#include "operations/predictive_scaling.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <unistd.h>

namespace tide::control {
namespace {

namespace fs = std::filesystem;

constexpr TimeMs kHour = 3'600'000;
constexpr TimeMs kMinute = 60'000;
constexpr TimeMs kDay2 = 1'764'979'200'000 + 2 * 24 * kHour; // 2025-12-08T00:00:00Z

class PredictiveScalingControllerTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tide-predictive-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    clock_.set(kDay2 + 8 * kHour + 50 * kMinute); // 08:50
    store_ = std::move(*store::openSqliteStore((dir_ / "state.db").string()));
    metrics_ = std::make_unique<metrics::MetricStore>(
        clock_, metrics::MetricStoreOptions{3 * 24 * 3600, 2 * 3600});
    controller_ = std::make_unique<PredictiveScalingController>(*store_, *metrics_, clock_);
    model::AutoScalingGroup g;
    g.autoScalingGroupName = "web";
    g.minSize = 1;
    g.maxSize = 10;
    g.desiredCapacity = 2;
    ASSERT_OK(store_->transact([&](store::Tx& tx) { return tx.putAutoScalingGroup(g); }));
    // Two days of the group's CPU: a total of 300 % from 09:00 to 10:00 each day (3 instances
    // busy), 100 % otherwise; one datapoint a minute.
    metrics::MetricKey cpu{"AWS/EC2", "CPUUtilization", {{"AutoScalingGroupName", "web"}}};
    for (TimeMs t = clock_.now() - 2 * 24 * kHour; t < clock_.now(); t += kMinute) {
      int hourOfDay = static_cast<int>((t / kHour) % 24);
      ASSERT_OK(metrics_->put(cpu, t, hourOfDay == 9 ? 300 : 100));
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  void putPolicy(bool forecastAndScale, int bufferSeconds) {
    model::PredictiveScalingMetricSpecification s;
    s.targetValue = 50;
    s.pairType = "ASGCPUUtilization";
    model::PredictiveScalingConfiguration c;
    c.metricSpecifications = {s};
    c.forecastAndScale = forecastAndScale;
    c.schedulingBufferTime = bufferSeconds;
    ASSERT_OK(operations::validatePredictiveScaling(c));
    model::ScalingPolicy p;
    p.policyName = "cpu-forecast";
    p.policyArn = "arn:aws:autoscaling:local-1:000000000000:scalingPolicy:u:"
                  "autoScalingGroupName/web:policyName/cpu-forecast";
    p.autoScalingGroupName = "web";
    p.policyType = "PredictiveScaling";
    p.predictiveScaling = c;
    ASSERT_OK(store_->transact([&](store::Tx& tx) { return tx.putScalingPolicy(p); }));
  }
  model::AutoScalingGroup group() { return testing::readGroup(*store_, "web"); }
  std::vector<model::ScalingActivity> activities() {
    return testing::readActivities(*store_, "web");
  }

  fs::path dir_;
  VirtualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<metrics::MetricStore> metrics_;
  std::unique_ptr<PredictiveScalingController> controller_;
};

TEST_F(PredictiveScalingControllerTest, ForecastOnlyChangesNothing) {
  putPolicy(false, 300);
  for (TimeMs t : {kDay2 + 8 * kHour + 55 * kMinute, kDay2 + 9 * kHour}) {
    clock_.set(t);
    ASSERT_OK(controller_->reconcile());
  }
  EXPECT_EQ(group().desiredCapacity, 2);
  EXPECT_TRUE(activities().empty());
}

TEST_F(PredictiveScalingControllerTest, ForecastAndScaleRaisesCapacityABufferBeforeThePeak) {
  putPolicy(true, 300);
  // 08:54:59: the active hour is still 08:00 (forecast 100 % → 2 instances: nothing to do);
  // the next look is due at 08:55:00.
  clock_.set(kDay2 + 8 * kHour + 55 * kMinute - 1000);
  auto wait = controller_->reconcile();
  ASSERT_OK(wait);
  EXPECT_EQ(wait->count(), 1000);
  EXPECT_EQ(group().desiredCapacity, 2);

  // 08:55:00, five minutes (the buffer) before the 09:00 peak: 300 % / 50 % = 6 instances.
  clock_.advance(Millis(1000));
  ASSERT_OK(controller_->reconcile());
  EXPECT_EQ(group().desiredCapacity, 6);
  auto acts = activities();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].cause, "At 2025-12-08T08:55:00Z a predictive scaling policy cpu-forecast "
                           "forecast a capacity of 6 for the hour starting 2025-12-08T09:00:00Z "
                           "changing the desired capacity from 2 to 6.");
  auto details = nlohmann::json::parse(acts[0].details);
  EXPECT_EQ(details["PolicyType"], "PredictiveScaling");
  EXPECT_EQ(details["ForecastHour"], "2025-12-08T09:00:00Z");
  EXPECT_DOUBLE_EQ(details["LoadForecast"].get<double>(), 300);
  EXPECT_EQ(details["Forecast"], "DailyPattern");
  EXPECT_EQ(details["ComputedCapacity"], 6);
  EXPECT_EQ(details["DesiredCapacity"], 6);

  // Once per hour: a dynamic policy that scales in meanwhile is not fought back.
  ASSERT_OK(store_->transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, tx.autoScalingGroup("web"));
    g->desiredCapacity = 4;
    return tx.putAutoScalingGroup(*g);
  }));
  clock_.set(kDay2 + 9 * kHour + 30 * kMinute);
  ASSERT_OK(controller_->reconcile());
  EXPECT_EQ(group().desiredCapacity, 4);

  // 09:55 for the 10:00 hour (forecast 2): never scales in.
  clock_.set(kDay2 + 9 * kHour + 55 * kMinute);
  ASSERT_OK(controller_->reconcile());
  EXPECT_EQ(group().desiredCapacity, 4);
  EXPECT_EQ(activities().size(), 1u);
}

TEST_F(PredictiveScalingControllerTest, NoBufferRaisesAtTheHour) {
  putPolicy(true, 0);
  clock_.set(kDay2 + 9 * kHour - 1000);
  ASSERT_OK(controller_->reconcile());
  EXPECT_EQ(group().desiredCapacity, 2);
  clock_.set(kDay2 + 9 * kHour);
  ASSERT_OK(controller_->reconcile());
  EXPECT_EQ(group().desiredCapacity, 6);
}

TEST_F(PredictiveScalingControllerTest, IncreaseMaxCapacityRaisesMaxSize) {
  putPolicy(true, 300);
  ASSERT_OK(store_->transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, tx.autoScalingGroup("web"));
    g->maxSize = 4;
    TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(*g));
    TIDE_ASSIGN_OR_RETURN(auto policies, tx.scalingPolicies("web"));
    policies[0].predictiveScaling->increaseMaxCapacity = true;
    policies[0].predictiveScaling->maxCapacityBuffer = 50;
    return tx.putScalingPolicy(policies[0]);
  }));
  clock_.set(kDay2 + 8 * kHour + 55 * kMinute);
  ASSERT_OK(controller_->reconcile());
  EXPECT_EQ(group().desiredCapacity, 6);
  EXPECT_EQ(group().maxSize, 9); // 6 × 1.5
}

} // namespace
} // namespace tide::control
