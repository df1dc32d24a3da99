// The alarm evaluator under a virtual clock: the seed's rule (average CPU above 70 % adds an
// instance, below 30 % removes one, within min and max) from metric data to desired capacity.
#include "common/status_testing.h"
#include "control/alarm_controller.h"
#include "model/names.h"

#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

namespace tide::control {
namespace {

namespace fs = std::filesystem;

class AlarmControllerTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tide-alarm-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    clock_.set(1'800'000'000'000); // a round time: periods start at multiples of 10 s
    store_ = std::move(*store::openSqliteStore((dir_ / "state.db").string()));
    metrics_ = std::make_unique<metrics::MetricStore>(clock_);
    model::AutoScalingGroup g;
    g.autoScalingGroupName = "web";
    g.minSize = 2;
    g.maxSize = 4;
    g.desiredCapacity = 2;
    model::ScalingPolicy out, in;
    out.policyName = "scale-out";
    out.policyArn = "arn:aws:autoscaling:local:000000000000:scalingPolicy:1:autoScalingGroupName/"
                    "web:policyName/scale-out";
    out.autoScalingGroupName = "web";
    out.policyType = "StepScaling";
    out.stepAdjustments = {{0.0, std::nullopt, 1}};
    in = out;
    in.policyName = "scale-in";
    in.policyArn = "arn:aws:autoscaling:local:000000000000:scalingPolicy:2:autoScalingGroupName/"
                   "web:policyName/scale-in";
    in.stepAdjustments = {{std::nullopt, 0.0, -1}};
    model::MetricAlarm high = cpuAlarm("cpu-high", 70, "GreaterThanThreshold", out.policyArn);
    model::MetricAlarm low = cpuAlarm("cpu-low", 30, "LessThanThreshold", in.policyArn);
    ASSERT_TRUE(store_
                    ->transact([&](store::Tx& tx) {
                      TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(g));
                      TIDE_RETURN_IF_ERROR(tx.putScalingPolicy(out));
                      TIDE_RETURN_IF_ERROR(tx.putScalingPolicy(in));
                      TIDE_RETURN_IF_ERROR(tx.putAlarm(high));
                      return tx.putAlarm(low);
                    })
                    .isOk());
    controller_ = std::make_unique<AlarmController>(*store_, *metrics_, clock_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static model::MetricAlarm cpuAlarm(const std::string& name, double threshold,
                                     const std::string& op, const std::string& action) {
    model::MetricAlarm a;
    a.alarmName = name;
    a.namespace_ = "AWS/EC2";
    a.metricName = "CPUUtilization";
    a.dimensions = {{"AutoScalingGroupName", "web"}};
    a.statistic = "Average";
    a.period = 10;
    a.evaluationPeriods = 3;
    a.threshold = threshold;
    a.comparisonOperator = op;
    a.alarmActions = {action};
    return a;
  }
  // `seconds` of CPU at `cpu` percent, evaluating every second as the server does.
  void run(int seconds, double cpu) {
    for (int s = 0; s < seconds; ++s) {
      ASSERT_TRUE(metrics_
                      ->put({"AWS/EC2", "CPUUtilization", {{"AutoScalingGroupName", "web"}}},
                            clock_.now(), cpu)
                      .isOk());
      clock_.advance(Millis(1000));
      ASSERT_TRUE(controller_->reconcile().isOk());
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
  std::string state(const std::string& alarm) {
    std::string v;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      v = model::alarmStateValueName((*tx.alarm(alarm))->stateValue);
      return Status::ok();
    }));
    return v;
  }

  fs::path dir_;
  VirtualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<metrics::MetricStore> metrics_;
  std::unique_ptr<AlarmController> controller_;
};

TEST_F(AlarmControllerTest, HighCpuAddsInstancesUpToMaxAndLowCpuRemovesThemDownToMin) {
  run(30, 50); // between the thresholds: both alarms OK, nothing changes
  EXPECT_EQ(state("cpu-high"), "OK");
  EXPECT_EQ(state("cpu-low"), "OK");
  EXPECT_EQ(desired(), 2);
  // Above 70 %: ALARM as soon as three complete 10 s periods breach.
  run(29, 90);
  EXPECT_EQ(state("cpu-high"), "OK");
  run(1, 90);
  EXPECT_EQ(state("cpu-high"), "ALARM");
  EXPECT_EQ(desired(), 3);
  run(10, 90); // still in ALARM a period later: the policy runs again (no cooldown set)
  EXPECT_EQ(desired(), 4);
  run(30, 90); // at MaxSize: stays there
  EXPECT_EQ(desired(), 4);
  run(32, 10); // low: cpu-high OK, cpu-low ALARM after three low periods, -1
  EXPECT_EQ(state("cpu-high"), "OK");
  EXPECT_EQ(state("cpu-low"), "ALARM");
  EXPECT_EQ(desired(), 3);
  run(40, 10); // and again each period, down to MinSize
  EXPECT_EQ(desired(), 2);
  std::vector<model::ScalingActivity> activities;
  EXPECT_OK(store_->transact([&](store::Tx& tx) {
    activities = *tx.scalingActivities("web", 10);
    return Status::ok();
  }));
  ASSERT_FALSE(activities.empty());
  EXPECT_NE(activities.back().cause.find("a monitor alarm cpu-high in state ALARM triggered policy "
                                         "scale-out changing the desired capacity from 2 to 3"),
            std::string::npos)
      << activities.back().cause;
  // The activity's Details say what went into the decision.
  EXPECT_NE(activities.back().details.find("\"Policy\":\"scale-out\""), std::string::npos)
      << activities.back().details;
  EXPECT_NE(activities.back().details.find("\"PreviousDesiredCapacity\":2"), std::string::npos);
  EXPECT_NE(activities.back().details.find("\"DesiredCapacity\":3"), std::string::npos);
  // Each state change is in the alarm's history, newest first; and each action it invoked,
  // with what the action decided (also when it changed nothing).
  std::vector<model::AlarmHistoryItem> all;
  EXPECT_OK(store_->transact([&](store::Tx& tx) {
    all = *tx.alarmHistory("cpu-high");
    return Status::ok();
  }));
  std::vector<model::AlarmHistoryItem> history, actions;
  for (const auto& h : all) {
    (h.historyItemType == "Action" ? actions : history).push_back(h);
  }
  ASSERT_GE(actions.size(), 3u);
  const model::AlarmHistoryItem& first = actions.back();
  EXPECT_EQ(first.historySummary.rfind("Successfully executed action arn:", 0), 0u)
      << first.historySummary;
  EXPECT_NE(first.historyData.find("\"outcome\":\"Changed\""), std::string::npos)
      << first.historyData;
  bool limited = false;
  for (const auto& a : actions) {
    limited |= a.historyData.find("\"LimitedBy\":\"MaxSize\"") != std::string::npos &&
               a.historyData.find("\"outcome\":\"Unchanged\"") != std::string::npos;
  }
  EXPECT_TRUE(limited) << "an action at MaxSize says what limited it";
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].historySummary, "Alarm updated from ALARM to OK");
  EXPECT_EQ(history[1].historySummary, "Alarm updated from OK to ALARM");
  EXPECT_EQ(history[2].historySummary, "Alarm updated from INSUFFICIENT_DATA to OK");
  EXPECT_EQ(history[1].historyItemType, "StateUpdate");
  EXPECT_NE(history[1].historyData.find("\"newState\":{\"stateValue\":\"ALARM\""),
            std::string::npos)
      << history[1].historyData;
}

} // namespace
} // namespace tide::control
