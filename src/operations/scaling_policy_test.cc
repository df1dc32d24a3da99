// Scaling policy execution: simple scaling with cooldowns, step scaling bounds, percent change
// rounding, clamping and the causes; over a real SQLite store with a virtual clock.
#include "common/status_testing.h"
#include "operations/scaling_policy.h"

#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

namespace tide::operations {
namespace {

namespace fs = std::filesystem;
using model::StepAdjustment;

model::AutoScalingGroup group(int min, int desired, int max) {
  model::AutoScalingGroup g;
  g.autoScalingGroupName = "web";
  g.minSize = min;
  g.desiredCapacity = desired;
  g.maxSize = max;
  return g;
}

model::ScalingPolicy simple(int adjustment, std::string type = "ChangeInCapacity") {
  model::ScalingPolicy p;
  p.policyName = "scale-out";
  p.policyArn = "arn:policy/scale-out";
  p.autoScalingGroupName = "web";
  p.adjustmentType = std::move(type);
  p.scalingAdjustment = adjustment;
  return p;
}

model::ScalingPolicy step(std::vector<StepAdjustment> steps) {
  model::ScalingPolicy p = simple(0);
  p.policyType = "StepScaling";
  p.stepAdjustments = std::move(steps);
  return p;
}

AlarmTrigger alarm(double metric, double threshold) {
  return AlarmTrigger{"cpu-high", model::AlarmStateValue::Alarm, metric, threshold};
}

TEST(ScalingPolicy, PercentChangeRoundsAsAutoScaling) {
  EXPECT_EQ(percentChange(10, 127, std::nullopt), 12); // 12.7 → 12
  EXPECT_EQ(percentChange(3, 10, std::nullopt), 1);    // 0.3 → 1
  EXPECT_EQ(percentChange(3, -10, std::nullopt), -1);  // -0.3 → -1
  EXPECT_EQ(percentChange(3, -222, std::nullopt), -6); // -6.66 → -6
  EXPECT_EQ(percentChange(0, 50, std::nullopt), 0);
  EXPECT_EQ(percentChange(10, 20, 5), 5); // 2 → at least 5
  EXPECT_EQ(percentChange(10, -20, 5), -5);
  EXPECT_EQ(percentChange(10, 60, 5), 6);
}

TEST(ScalingPolicy, SimpleScalingClampsAndSaysWhy) {
  VirtualClock clock(1'795'814'293'000); // 2026-11-27T21:18:13Z
  auto g = group(1, 2, 3);
  auto d = decideScaling(g, simple(1), alarm(90, 70), clock.now(), true);
  ASSERT_TRUE(d.isOk());
  EXPECT_EQ(d->outcome, ScalingOutcome::Changed);
  EXPECT_EQ(d->newDesired, 3);
  EXPECT_EQ(d->cause, "At 2026-11-27T21:18:13Z a monitor alarm cpu-high in state ALARM "
                      "triggered policy scale-out changing the desired capacity from 2 to 3.");
  EXPECT_EQ(d->cooldownUntil, clock.now() + 300'000); // the group's DefaultCooldown
  d = decideScaling(g, simple(5), alarm(90, 70), clock.now(), true);
  EXPECT_EQ(d->newDesired, 3); // clamped to MaxSize
  d = decideScaling(g, simple(-5), AlarmTrigger{}, clock.now(), true);
  EXPECT_EQ(d->newDesired, 1); // clamped to MinSize
  EXPECT_EQ(d->cause, "At 2026-11-27T21:18:13Z a user request executed policy scale-out "
                      "changing the desired capacity from 2 to 1.");
  d = decideScaling(g, simple(2, "ExactCapacity"), AlarmTrigger{}, clock.now(), true);
  EXPECT_EQ(d->outcome, ScalingOutcome::Unchanged);
  d = decideScaling(group(0, 10, 20), simple(-25, "PercentChangeInCapacity"), AlarmTrigger{},
                    clock.now(), true);
  EXPECT_EQ(d->newDesired, 8); // -2.5 → -2
}

TEST(ScalingPolicy, SimpleScalingWaitsForItsCooldown) {
  VirtualClock clock;
  auto g = group(1, 2, 10);
  auto p = simple(1);
  p.cooldown = 60;
  auto d = decideScaling(g, p, alarm(90, 70), clock.now(), true);
  EXPECT_EQ(d->cooldownUntil, clock.now() + 60'000); // the policy's Cooldown wins
  g.cooldownUntil = d->cooldownUntil;
  clock.advance(Millis(59'999));
  d = decideScaling(g, p, alarm(90, 70), clock.now(), true);
  EXPECT_EQ(d->outcome, ScalingOutcome::CoolingDown);
  EXPECT_EQ(d->newDesired, 2);
  // A skipped decision says why, for the alarm's history.
  EXPECT_NE(d->details.find("\"LimitedBy\":\"Cooldown\",\"CooldownEnds\":\""), std::string::npos)
      << d->details;
  d = decideScaling(g, p, alarm(90, 70), clock.now(), false); // ExecutePolicy HonorCooldown false
  EXPECT_EQ(d->outcome, ScalingOutcome::Changed);
  clock.advance(Millis(1));
  d = decideScaling(g, p, alarm(90, 70), clock.now(), true);
  EXPECT_EQ(d->outcome, ScalingOutcome::Changed);
  // Step scaling has no cooldown.
  auto s = step({{0.0, std::nullopt, 1}});
  g.cooldownUntil = clock.now() + 100'000;
  d = decideScaling(g, s, alarm(90, 70), clock.now(), true);
  EXPECT_EQ(d->outcome, ScalingOutcome::Changed);
  EXPECT_EQ(d->cooldownUntil, g.cooldownUntil);
}

TEST(ScalingPolicy, StepScalingPicksTheStepByBreachSize) {
  VirtualClock clock;
  auto g = group(1, 2, 20);
  // Breach 0..10: +1, 10..20: +2, 20..: +4 (threshold 60).
  auto p = step({{0.0, 10.0, 1}, {10.0, 20.0, 2}, {20.0, std::nullopt, 4}});
  EXPECT_EQ(decideScaling(g, p, alarm(60, 60), clock.now(), true)->newDesired, 3); // inclusive
  EXPECT_EQ(decideScaling(g, p, alarm(69.9, 60), clock.now(), true)->newDesired, 3);
  EXPECT_EQ(decideScaling(g, p, alarm(70, 60), clock.now(), true)->newDesired, 4);
  EXPECT_EQ(decideScaling(g, p, alarm(95, 60), clock.now(), true)->newDesired, 6);
  // The inputs, for the activity's Details; a bound that cut the capacity says so.
  g.maxSize = 5;
  EXPECT_EQ(decideScaling(g, p, alarm(95, 60), clock.now(), true)->details,
            "{\"Policy\":\"scale-out\",\"PolicyType\":\"StepScaling\","
            "\"Trigger\":\"alarm cpu-high in state ALARM\",\"MetricValue\":95.0,"
            "\"Threshold\":60.0,\"MinSize\":1,\"MaxSize\":5,\"PreviousDesiredCapacity\":2,"
            "\"Step\":{\"MetricIntervalLowerBound\":20.0,\"ScalingAdjustment\":4},"
            "\"AdjustmentType\":\"ChangeInCapacity\",\"ScalingAdjustment\":4,"
            "\"ComputedCapacity\":6,\"LimitedBy\":\"MaxSize\",\"DesiredCapacity\":5}");
  g.maxSize = 20;
  auto none = decideScaling(g, p, alarm(50, 60), clock.now(), true);
  EXPECT_EQ(none->outcome, ScalingOutcome::NoStep);
  EXPECT_FALSE(decideScaling(g, p, AlarmTrigger{}, clock.now(), true).isOk()); // no metric
  // Below the threshold the upper bound is inclusive.
  auto in = step({{std::nullopt, -10.0, -2}, {-10.0, 0.0, -1}});
  g.desiredCapacity = 5;
  EXPECT_EQ(decideScaling(g, in, alarm(20, 30), clock.now(), true)->newDesired, 3); // -10
  EXPECT_EQ(decideScaling(g, in, alarm(25, 30), clock.now(), true)->newDesired, 4);
  EXPECT_EQ(decideScaling(g, in, alarm(30, 30), clock.now(), true)->outcome,
            ScalingOutcome::NoStep);
}

TEST(ScalingPolicy, StepScalingAddsOnlyWhatWarmingInstancesDoNotCover) {
  // AWS's example: +10 % between 60 and 70 % CPU, +30 % above. Ten instances at 65 % add one;
  // while it warms up, 75 % asks for 30 % of the ten: three, of which one is already coming.
  VirtualClock clock;
  model::ScalingPolicy p = step({StepAdjustment{0, 10, 10}, StepAdjustment{10, std::nullopt, 30}});
  p.adjustmentType = "PercentChangeInCapacity";
  AlarmTrigger t = alarm(65, 60);
  auto d = decideScaling(group(1, 10, 30), p, t, clock.now(), true);
  ASSERT_OK(d.status());
  EXPECT_EQ(d->newDesired, 11);
  t = alarm(75, 60);
  t.tracking = TrackingInputs{10, 1};
  d = decideScaling(group(1, 11, 30), p, t, clock.now(), true);
  ASSERT_OK(d.status());
  EXPECT_EQ(d->newDesired, 13); // 10 + 3, not 11 + 3
  EXPECT_NE(d->details.find("\"CapacityInFlight\":1"), std::string::npos) << d->details;

  // The seed's +1 step: a breach while the instance it added warms up adds nothing more.
  model::ScalingPolicy plusOne = step({StepAdjustment{0, std::nullopt, 1}});
  t = alarm(99, 70);
  t.tracking = TrackingInputs{2, 1};
  d = decideScaling(group(2, 3, 10), plusOne, t, clock.now(), true);
  ASSERT_OK(d.status());
  EXPECT_EQ(d->outcome, ScalingOutcome::Unchanged);
  EXPECT_EQ(d->newDesired, 3);
  EXPECT_NE(d->message.find("warming up already cover"), std::string::npos) << d->message;
  EXPECT_NE(d->details.find("\"LimitedBy\":\"InstanceWarmup\""), std::string::npos);
  // Once it is in service and warm, the next breach adds one again.
  t.tracking = TrackingInputs{3, 0};
  d = decideScaling(group(2, 3, 10), plusOne, t, clock.now(), true);
  ASSERT_OK(d.status());
  EXPECT_EQ(d->newDesired, 4);
}

TEST(ScalingPolicy, StepAdjustmentsAreValidatedAsAutoScalingDoes) {
  EXPECT_TRUE(validateStepAdjustments({{0.0, 10.0, 1}, {10.0, std::nullopt, 2}}).isOk());
  EXPECT_TRUE(validateStepAdjustments({{std::nullopt, 0.0, -1}}).isOk());
  EXPECT_TRUE(validateStepAdjustments({{10.0, std::nullopt, 2}, {0.0, 10.0, 1}}).isOk());
  EXPECT_FALSE(validateStepAdjustments({}).isOk());
  EXPECT_FALSE(validateStepAdjustments({{std::nullopt, std::nullopt, 1}}).isOk());
  EXPECT_FALSE(validateStepAdjustments({{0.0, 10.0, 1}, {20.0, std::nullopt, 2}}).isOk()); // gap
  EXPECT_FALSE(validateStepAdjustments({{0.0, 15.0, 1}, {10.0, std::nullopt, 2}}).isOk()); // over
  EXPECT_FALSE(validateStepAdjustments({{0.0, 10.0, 1}}).isOk());   // bounded above 0
  EXPECT_FALSE(validateStepAdjustments({{-10.0, 0.0, -1}}).isOk()); // bounded below 0
  EXPECT_FALSE(validateStepAdjustments({{10.0, 5.0, 1}}).isOk());
  EXPECT_FALSE(validateStepAdjustments({{0.0, std::nullopt, 1}, {5.0, std::nullopt, 1}}).isOk());
}

TEST(ScalingPolicy, ExecutingWritesTheGroupAndAnActivity) {
  fs::path dir = fs::temp_directory_path() / ("tide-operations-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto store = std::move(*store::openSqliteStore((dir / "state.db").string()));
  VirtualClock clock;
  auto g = group(1, 2, 5);
  auto p = simple(2);
  ASSERT_TRUE(store->transact([&](store::Tx& tx) { return tx.putAutoScalingGroup(g); }).isOk());
  ASSERT_TRUE(store
                  ->transact([&](store::Tx& tx) {
                    return executeScalingPolicy(tx, p, alarm(90, 70), clock.now());
                  })
                  .isOk());
  clock.advance(Millis(1000));
  ASSERT_TRUE(store
                  ->transact([&](store::Tx& tx) { // cooling down: skipped, and OK
                    return executeScalingPolicy(tx, p, alarm(90, 70), clock.now());
                  })
                  .isOk());
  EXPECT_OK(store->transact([&](store::Tx& tx) {
    auto after = **tx.autoScalingGroup("web");
    EXPECT_EQ(after.desiredCapacity, 4);
    EXPECT_EQ(after.cooldownUntil, clock.now() - 1000 + 300'000);
    auto acts = *tx.scalingActivities("web", 10);
    EXPECT_EQ(acts.size(), 1u);
    EXPECT_EQ(acts[0].statusCode, model::ActivityStatusCode::Successful);
    EXPECT_NE(acts[0].cause.find("changing the desired capacity from 2 to 4."), std::string::npos);
    return Status::ok();
  }));
  model::ScalingPolicy orphan = p;
  orphan.autoScalingGroupName = "gone";
  EXPECT_FALSE(store
                   ->transact([&](store::Tx& tx) {
                     return executeScalingPolicy(tx, orphan, alarm(90, 70), clock.now());
                   })
                   .isOk());
  fs::remove_all(dir);
}

TEST(ScalingPolicy, AlarmsExecuteNothingWhileAlarmNotificationIsSuspended) {
  fs::path dir =
      fs::temp_directory_path() / ("tide-operations-suspend-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto store = std::move(*store::openSqliteStore((dir / "state.db").string()));
  auto g = group(1, 2, 5);
  g.suspendedProcesses = {{"AlarmNotification", "User suspended at 2026-12-06T00:00:00Z"}};
  auto p = simple(2);
  ASSERT_OK(store->transact([&](store::Tx& tx) { return tx.putAutoScalingGroup(g); }));
  Result<ScalingDecision> byAlarm = internalError("not run");
  Result<ScalingDecision> byUser = internalError("not run");
  ASSERT_OK(store->transact([&](store::Tx& tx) {
    byAlarm = applyScalingPolicy(tx, p, alarm(90, 70), 0, true);
    return Status::ok();
  }));
  ASSERT_OK(byAlarm.status());
  EXPECT_EQ(byAlarm->outcome, ScalingOutcome::Unchanged);
  EXPECT_EQ(byAlarm->newDesired, 2);
  // ExecutePolicy (a user request) still works.
  ASSERT_OK(store->transact([&](store::Tx& tx) {
    byUser = applyScalingPolicy(tx, p, AlarmTrigger{}, 0, false);
    return byUser.status();
  }));
  EXPECT_EQ(byUser->newDesired, 4);
  fs::remove_all(dir);
}

} // namespace
} // namespace tide::operations
