// Executing a scaling policy (simple or step scaling) against its Auto Scaling group: the new
// desired capacity, clamped to MinSize..MaxSize, and the activity whose Cause says why.
//
// Called by the alarm evaluator when an alarm whose actions name the policy is in ALARM, and by
// the API's ExecutePolicy (never for target tracking). Policy types are rows of a table keyed by
// name (SimpleScaling, StepScaling, TargetTrackingScaling: operations/target_tracking.h).
// Everything here is deterministic given `now`: no clock is read.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "model/auto_scaling.h"
#include "operations/target_tracking.h"
#include "store/store.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tide::operations {

// What set the policy off.
struct AlarmTrigger {
  std::string alarmName; // the alarm; empty: a user request (ExecutePolicy)
  model::AlarmStateValue stateValue = model::AlarmStateValue::Alarm; // the alarm's state
  std::optional<double> metricValue; // the value that breached; step scaling needs it
  std::optional<double> threshold;   // the alarm's threshold; step scaling needs it
  // Target tracking: the latest value of another alarm by name (the other tracking policies'
  // low alarms, for the capacity they would scale in to); unset: not known.
  std::function<std::optional<double>(const std::string&)> alarmValue;
  // Target tracking: filled by applyScalingPolicy from the store.
  std::optional<TrackingInputs> tracking;
};

// What executing a policy decided.
enum class ScalingOutcome {
  Changed,     // the desired capacity changes (newDesired != oldDesired)
  Unchanged,   // the adjustment leaves the capacity where it is (e.g. already at MaxSize)
  CoolingDown, // simple scaling within its cooldown: skipped
  NoStep,      // step scaling: no step adjustment covers metric - threshold
  NotTracked,  // target tracking: nothing to change (covered in flight, warming, disagreeing)
};

struct ScalingDecision {
  ScalingOutcome outcome = ScalingOutcome::Unchanged;
  int oldDesired = 0;
  int newDesired = 0;       // clamped to MinSize..MaxSize
  std::string cause;        // Changed: "At ... triggered policy P changing the desired ..."
  TimeMs cooldownUntil = 0; // the group's cooldownUntil after the change
  std::string message;      // why nothing happened, for people
  // The decision's inputs and what limited it, as a JSON object (the activity's Details, and
  // the alarm history's record of the action), for every outcome: Policy, PolicyType, Trigger,
  // MetricValue and Threshold (simple, step) or target tracking's MetricValue, TargetValue,
  // MeasuredCapacity, CapacityInFlight; Step, AdjustmentType, ScalingAdjustment,
  // ComputedCapacity (before MinSize..MaxSize), MinSize, MaxSize, PreviousDesiredCapacity,
  // DesiredCapacity, LimitedBy (MaxSize, MinSize, Cooldown, NoStep), CooldownSeconds,
  // CooldownEnds, Reason (why nothing changed).
  std::string details;
};

// "Changed", "Unchanged", "CoolingDown", "NoStep", "NotTracked".
std::string_view scalingOutcomeName(ScalingOutcome o);

// Decides without writing anything. honorCooldown: skip simple scaling while the group cools
// down (alarms always honor it; ExecutePolicy may not). Errors: ValidationError when a step
// policy is triggered without MetricValue / threshold.
Result<ScalingDecision> decideScaling(const model::AutoScalingGroup& group,
                                      const model::ScalingPolicy& policy,
                                      const AlarmTrigger& trigger, TimeMs now, bool honorCooldown);

// Decides and, when the capacity changes, writes the group's desired capacity (and cooldown for
// simple scaling) and a Successful activity with the cause. The group controller then launches
// or drains instances. ValidationError when the policy's group does not exist.
Result<ScalingDecision> applyScalingPolicy(store::Tx& tx, const model::ScalingPolicy& policy,
                                           const AlarmTrigger& trigger, TimeMs now,
                                           bool honorCooldown);

// applyScalingPolicy honoring cooldowns, as alarms apply policies, for callers that need no
// decision. Skipping (cooldown, no step, nothing to change, a group being deleted) is OK; errors
// are the store's or a missing group.
Status executeScalingPolicy(store::Tx& tx, const model::ScalingPolicy& policy,
                            const AlarmTrigger& trigger, TimeMs now);

// PercentChangeInCapacity as Auto Scaling rounds it: |x| > 1 rounds toward zero (12.7 → 12,
// -6.67 → -6), 0 < |x| < 1 becomes ±1; then at least minAdjustmentMagnitude in size.
int percentChange(int current, int percent, std::optional<int> minAdjustmentMagnitude);

// The step whose interval holds diff (= metric - threshold): above the threshold the lower bound
// is inclusive and the upper exclusive; below it the other way round. nullptr when none.
const model::StepAdjustment* findStep(const std::vector<model::StepAdjustment>& steps, double diff);

// StepAdjustments as Auto Scaling accepts them: at least one; no gaps or overlaps; lower < upper;
// at most one unbounded below and one above, never both in one step; a negative lower bound
// needs a step unbounded below, a positive upper bound one unbounded above. ValidationError.
Status validateStepAdjustments(const std::vector<model::StepAdjustment>& steps);

// The adjustment types, by name.
bool isAdjustmentType(const std::string& type);

} // namespace tide::operations
