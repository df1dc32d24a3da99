// Target tracking scaling policies (PutScalingPolicy PolicyType TargetTrackingScaling), with
// Auto Scaling's semantics:
//
// - The policy's metric is a predefined one (a row of kPredefinedMetrics) or a customized one
//   (one metric and statistic, or Metrics queries with metric math).
// - Two managed CloudWatch alarms, named as Auto Scaling names them, share one UUID:
//     TargetTracking-GROUP-AlarmHigh-UUID: metric > target for 3 of 3 periods → scale out;
//     TargetTracking-GROUP-AlarmLow-UUID:  metric < 0.9 × target for 15 of 15 → scale in
//   (no low alarm with DisableScaleIn). Period: the metric's Period, else 60 s. Their
//   AlarmActions name the policy; they are written and deleted with the policy (and its group).
// - On a breach the new capacity is proportional to metric / target over the capacity the
//   metric measures (the in-service instances past their warm-up): rounded up to scale out,
//   down to scale in, then clamped to MinSize..MaxSize. Instances still warming up are
//   capacity in flight: scale-out never goes below the desired capacity already asked for (a
//   second breach adds only what the first did not cover), and scale-in waits until none warms.
// - Several tracking policies on one group: any of them scales out; scale-in happens only when
//   every one with scale-in enabled has its low alarm in ALARM, and to the largest capacity any
//   of them computes.
//
// Warm-up: an instance warms up for the longest of its group's DefaultInstanceWarmup and the
// EstimatedInstanceWarmup of the group's step and target tracking policies (0 when none is
// set), counted from its launch. A warming instance is left out of the group's aggregated
// metrics (metrics publisher) and out of the capacity the metric measures.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "model/auto_scaling.h"
#include "store/store.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tide::operations {

// A predefined metric (PredefinedMetricSpecification's PredefinedMetricType) and the CloudWatch
// metric its alarms watch.
struct PredefinedMetric {
  const char* type;       // "ASGAverageCPUUtilization", ...
  const char* namespace_; // "AWS/EC2", "AWS/ApplicationELB"
  const char* metricName; // "CPUUtilization", ...
  const char* statistic;  // "Average", "Sum"
  bool targetGroup;       // its dimension is the ResourceLabel's target group (else the group)
};
inline constexpr PredefinedMetric kPredefinedMetrics[] = {
    {"ASGAverageCPUUtilization", "AWS/EC2", "CPUUtilization", "Average", false},
    {"ASGAverageNetworkIn", "AWS/EC2", "NetworkIn", "Average", false},
    {"ASGAverageNetworkOut", "AWS/EC2", "NetworkOut", "Average", false},
    {"ALBRequestCountPerTarget", "AWS/ApplicationELB", "RequestCountPerTarget", "Sum", true},
};
const PredefinedMetric* predefinedMetric(const std::string& type); // nullptr when unknown

// What PutScalingPolicy checks without the store: TargetValue set (hasTarget) and finite,
// exactly one of the predefined and customized specifications, a known PredefinedMetricType,
// ResourceLabel with (and only with) ALBRequestCountPerTarget and in the form
// app/LB/ID/targetgroup/TG/ID, a customized metric's MetricName, Namespace and Statistic (or
// its Metrics queries, valid, and not with them), Period 1, 10, 30 or 60. ValidationError.
Status validateTargetTracking(const model::TargetTrackingConfiguration& c, bool hasTarget);

// ALBRequestCountPerTarget: the ResourceLabel's target group exists (by name and id) and is
// attached to the group. ValidationError otherwise.
Status checkResourceLabel(store::Tx& tx, const model::AutoScalingGroup& group,
                          const model::TargetTrackingConfiguration& c);

// The managed alarms of the policy as they should be (names from policy.alarmNames, which must
// hold a high and, unless DisableScaleIn, a low name). Not stored.
std::vector<model::MetricAlarm> trackingAlarms(const model::ScalingPolicy& policy, TimeMs now);

// Writes the policy's managed alarms: names it a new pair (a new UUID) unless `existing` has
// one, writes both (keeping an existing alarm's state), deletes an alarm no longer wanted
// (the low one under DisableScaleIn), and sets policy.alarmNames.
Status putTrackingAlarms(store::Tx& tx, model::ScalingPolicy& policy,
                         const model::ScalingPolicy* existing, TimeMs now);

// Deletes the policy's managed alarms (none for other policy types).
Status deleteTrackingAlarms(store::Tx& tx, const model::ScalingPolicy& policy);

// Deletes the managed alarms of every policy of the group (before the group is deleted).
Status deleteGroupTrackingAlarms(store::Tx& tx, const std::string& groupName);

// Seconds an instance of the group warms up (see the top of this file).
int instanceWarmupSeconds(const model::AutoScalingGroup& group,
                          const std::vector<model::ScalingPolicy>& policies);

// Whether an instance launched at launchTime still warms up at now.
inline bool isWarmingUp(TimeMs launchTime, int warmupSeconds, TimeMs now) {
  return now < launchTime + 1000LL * warmupSeconds;
}

// What a target tracking decision reads beyond the policy and the metric value.
struct TrackingInputs {
  int measured = 0; // in-service instances past their warm-up: what the metric measures
  int inFlight = 0; // instances launching or warming up
  bool othersAgreeToScaleIn = true; // every other tracking policy with scale-in enabled is in
                                    // its low alarm
  int othersScaleInFloor = 0;       // the largest capacity those others compute
  std::string othersDisagreeing;    // the first that does not agree, for the message
};

// The inputs from the store: the group's instances, and the group's other tracking policies
// and their alarms (whose values alarmValue gives; unset: their floor is not known, 0).
Result<TrackingInputs>
trackingInputs(store::Tx& tx, const model::AutoScalingGroup& group,
               const model::ScalingPolicy& policy, TimeMs now,
               const std::function<std::optional<double>(const std::string&)>* alarmValue);

// The capacity a tracking policy asks for, before MinSize..MaxSize.
struct TrackingProposal {
  std::optional<int> capacity; // unset: nothing to do (message says why)
  std::string message;
  std::string details; // the inputs, as members of Details' JSON object ("{...}")
};
TrackingProposal proposeTrackingCapacity(const model::AutoScalingGroup& group,
                                         const model::ScalingPolicy& policy, bool high,
                                         std::optional<double> metricValue,
                                         const TrackingInputs& in);

} // namespace tide::operations
