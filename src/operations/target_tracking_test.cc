// Target tracking: validation as Auto Scaling validates, the managed alarms' names and shapes,
// and the capacity proportional to metric / target (ceil out, floor in) with warm-up and
// several policies. The whole loop on the virtual clock: control/target_tracking_test.cc.
#include "common/status_testing.h"
#include "operations/target_tracking.h"

#include <gtest/gtest.h>

namespace tide::operations {
namespace {

model::TargetTrackingConfiguration cpu(double target) {
  model::TargetTrackingConfiguration c;
  c.predefinedMetricType = "ASGAverageCPUUtilization";
  c.targetValue = target;
  return c;
}

model::AutoScalingGroup group(int min, int desired, int max) {
  model::AutoScalingGroup g;
  g.autoScalingGroupName = "web";
  g.minSize = min;
  g.desiredCapacity = desired;
  g.maxSize = max;
  return g;
}

model::ScalingPolicy policy(model::TargetTrackingConfiguration c) {
  model::ScalingPolicy p;
  p.policyName = "cpu50";
  p.policyArn = "arn:aws:autoscaling:local-1:000000000000:scalingPolicy:u:autoScalingGroupName/"
                "web:policyName/cpu50";
  p.autoScalingGroupName = "web";
  p.policyType = "TargetTrackingScaling";
  p.targetTracking = std::move(c);
  p.alarmNames = {"TargetTracking-web-AlarmHigh-u", "TargetTracking-web-AlarmLow-u"};
  return p;
}

TEST(TargetTracking, ValidatesAsAutoScaling) {
  EXPECT_OK(validateTargetTracking(cpu(50), true));
  EXPECT_EQ(validateTargetTracking(cpu(50), false).code(), "ValidationError");
  model::TargetTrackingConfiguration none;
  EXPECT_EQ(validateTargetTracking(none, true).code(), "ValidationError"); // neither spec
  model::TargetTrackingConfiguration both = cpu(50);
  both.metricName = "Load";
  EXPECT_EQ(validateTargetTracking(both, true).code(), "ValidationError");
  model::TargetTrackingConfiguration unknown = cpu(50);
  unknown.predefinedMetricType = "ASGAverageMemory";
  EXPECT_EQ(validateTargetTracking(unknown, true).code(), "ValidationError");
  model::TargetTrackingConfiguration alb = cpu(100);
  alb.predefinedMetricType = "ALBRequestCountPerTarget";
  EXPECT_EQ(validateTargetTracking(alb, true).code(), "ValidationError"); // no ResourceLabel
  alb.resourceLabel = "app/web/50dc6c495c0c9188/targetgroup/web/943f017f100becff";
  EXPECT_OK(validateTargetTracking(alb, true));
  alb.resourceLabel = "targetgroup/web/943f017f100becff";
  EXPECT_EQ(validateTargetTracking(alb, true).code(), "ValidationError");
  model::TargetTrackingConfiguration label = cpu(50);
  label.resourceLabel = "app/web/1/targetgroup/web/2";
  EXPECT_EQ(validateTargetTracking(label, true).code(), "ValidationError");

  model::TargetTrackingConfiguration custom;
  custom.metricName = "Load";
  custom.namespace_ = "Shop";
  custom.statistic = "Average";
  custom.targetValue = 5;
  custom.period = 1;
  EXPECT_OK(validateTargetTracking(custom, true));
  custom.period = 5;
  EXPECT_EQ(validateTargetTracking(custom, true).code(), "ValidationError");
  custom.period = 10;
  custom.statistic = "p99";
  EXPECT_EQ(validateTargetTracking(custom, true).code(), "ValidationError");

  model::TargetTrackingConfiguration math;
  math.targetValue = 10;
  model::MetricDataQuery m1;
  m1.id = "m1";
  m1.namespace_ = "AWS/ApplicationELB";
  m1.metricName = "RequestCount";
  m1.stat = "Sum";
  m1.returnData = false;
  model::MetricDataQuery e1;
  e1.id = "e1";
  e1.expression = "m1 / 2";
  math.metrics = {m1, e1};
  EXPECT_OK(validateTargetTracking(math, true));
  math.metrics[1].expression = "m2 / 2";
  EXPECT_EQ(validateTargetTracking(math, true).code(), "ValidationError");
  math.metrics[1].expression = "m1 / 2";
  math.metrics[0].returnData = true; // two return data
  EXPECT_EQ(validateTargetTracking(math, true).code(), "ValidationError");
}

TEST(TargetTracking, AlarmsAreNamedAndShapedAsAutoScalingMakesThem) {
  auto alarms = trackingAlarms(policy(cpu(50)), 1000);
  ASSERT_EQ(alarms.size(), 2u);
  const model::MetricAlarm& high = alarms[0];
  EXPECT_EQ(high.alarmName, "TargetTracking-web-AlarmHigh-u");
  EXPECT_EQ(high.alarmArn, "arn:aws:cloudwatch:local-1:000000000000:alarm:"
                           "TargetTracking-web-AlarmHigh-u");
  EXPECT_EQ(high.namespace_, "AWS/EC2");
  EXPECT_EQ(high.metricName, "CPUUtilization");
  EXPECT_EQ(high.statistic, "Average");
  ASSERT_EQ(high.dimensions.size(), 1u);
  EXPECT_EQ(high.dimensions[0].name, "AutoScalingGroupName");
  EXPECT_EQ(high.dimensions[0].value, "web");
  EXPECT_EQ(high.period, 60);
  EXPECT_EQ(high.evaluationPeriods, 3);
  EXPECT_EQ(high.datapointsToAlarm, 3);
  EXPECT_EQ(high.threshold, 50);
  EXPECT_EQ(high.comparisonOperator, "GreaterThanThreshold");
  EXPECT_EQ(high.alarmActions, std::vector<std::string>{policy(cpu(50)).policyArn});
  const model::MetricAlarm& low = alarms[1];
  EXPECT_EQ(low.evaluationPeriods, 15);
  EXPECT_EQ(low.datapointsToAlarm, 15);
  EXPECT_EQ(low.threshold, 45);
  EXPECT_EQ(low.comparisonOperator, "LessThanThreshold");
  EXPECT_EQ(trackingAlarms(policy(cpu(70)), 0)[1].threshold, 63.0); // not 63.00000000000001

  model::TargetTrackingConfiguration alb = cpu(100);
  alb.predefinedMetricType = "ALBRequestCountPerTarget";
  alb.resourceLabel = "app/web/50dc/targetgroup/shop/943f";
  alb.period = 10;
  auto perTarget = trackingAlarms(policy(alb), 0)[0];
  EXPECT_EQ(perTarget.namespace_, "AWS/ApplicationELB");
  EXPECT_EQ(perTarget.metricName, "RequestCountPerTarget");
  EXPECT_EQ(perTarget.statistic, "Sum");
  EXPECT_EQ(perTarget.dimensions[0].value, "targetgroup/shop/943f");
  EXPECT_EQ(perTarget.period, 10);
}

TEST(TargetTracking, CapacityIsProportionalToMetricOverTarget) {
  TrackingInputs in;
  in.measured = 2;
  // 2 instances at 90 % with a 50 % target: ceil(2 × 90 / 50) = ceil(3.6) = 4.
  auto out = proposeTrackingCapacity(group(1, 2, 10), policy(cpu(50)), true, 90.0, in);
  ASSERT_TRUE(out.capacity);
  EXPECT_EQ(*out.capacity, 4);
  EXPECT_NE(out.details.find("\"ComputedCapacity\":4"), std::string::npos);
  // Exactly on a whole number: 2 × 100 / 50 = 4, not 5.
  EXPECT_EQ(*proposeTrackingCapacity(group(1, 2, 10), policy(cpu(50)), true, 100.0, in).capacity,
            4);
  // In: 4 at 20 % → floor(1.6) = 1.
  in.measured = 4;
  EXPECT_EQ(*proposeTrackingCapacity(group(1, 4, 10), policy(cpu(50)), false, 20.0, in).capacity,
            1);
  // No datapoint: nothing.
  EXPECT_FALSE(
      proposeTrackingCapacity(group(1, 4, 10), policy(cpu(50)), true, std::nullopt, in).capacity);
}

TEST(TargetTracking, CapacityInFlightIsNotLaunchedTwice) {
  TrackingInputs in;
  in.measured = 2; // the first breach asked for 4; two of them are warming
  in.inFlight = 2;
  auto again = proposeTrackingCapacity(group(1, 4, 10), policy(cpu(50)), true, 90.0, in);
  EXPECT_FALSE(again.capacity) << "4 covers ceil(2 × 90 / 50)";
  EXPECT_NE(again.message.find("already covers it"), std::string::npos);
  // A higher metric adds only what 4 does not cover: ceil(2 × 120 / 50) = 5.
  EXPECT_EQ(*proposeTrackingCapacity(group(1, 4, 10), policy(cpu(50)), true, 120.0, in).capacity,
            5);
  // No scale-in while instances warm up.
  EXPECT_FALSE(proposeTrackingCapacity(group(1, 4, 10), policy(cpu(50)), false, 5.0, in).capacity);
  // Every instance warming: the metric measures none, nothing to compute from.
  in.measured = 0;
  EXPECT_FALSE(proposeTrackingCapacity(group(1, 4, 10), policy(cpu(50)), true, 90.0, in).capacity);
}

TEST(TargetTracking, ScaleInNeedsEveryPolicyAndDisableScaleInNeverScalesIn) {
  TrackingInputs in;
  in.measured = 4;
  model::TargetTrackingConfiguration noIn = cpu(50);
  noIn.disableScaleIn = true;
  EXPECT_FALSE(proposeTrackingCapacity(group(1, 4, 10), policy(noIn), false, 5.0, in).capacity);
  in.othersAgreeToScaleIn = false;
  in.othersDisagreeing = "requests";
  auto blocked = proposeTrackingCapacity(group(1, 4, 10), policy(cpu(50)), false, 5.0, in);
  EXPECT_FALSE(blocked.capacity);
  EXPECT_NE(blocked.message.find("requests"), std::string::npos);
  in.othersAgreeToScaleIn = true;
  in.othersScaleInFloor = 3; // the other policy would keep 3
  EXPECT_EQ(*proposeTrackingCapacity(group(1, 4, 10), policy(cpu(50)), false, 5.0, in).capacity, 3);
}

TEST(TargetTracking, WarmupIsTheLongestSetting) {
  model::AutoScalingGroup g = group(1, 2, 4);
  EXPECT_EQ(instanceWarmupSeconds(g, {}), 0);
  g.defaultInstanceWarmup = 30;
  model::ScalingPolicy p = policy(cpu(50));
  EXPECT_EQ(instanceWarmupSeconds(g, {p}), 30);
  p.estimatedInstanceWarmup = 120;
  EXPECT_EQ(instanceWarmupSeconds(g, {p}), 120);
  EXPECT_TRUE(isWarmingUp(1000, 30, 30999));
  EXPECT_FALSE(isWarmingUp(1000, 30, 31000));
}

} // namespace
} // namespace tide::operations
