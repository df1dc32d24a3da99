#include "operations/scaling_policy.h"

#include "model/names.h"
#include "operations/scaling_activity.h"
#include "operations/scaling_processes.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tide::operations {

namespace {

using model::StepAdjustment;

// The new capacity for one adjustment (before clamping).
int adjusted(const std::string& type, int current, int adjustment,
             std::optional<int> minAdjustmentMagnitude) {
  if (type == "ExactCapacity") {
    return adjustment;
  }
  if (type == "PercentChangeInCapacity") {
    return current + percentChange(current, adjustment, minAdjustmentMagnitude);
  }
  return current + adjustment; // ChangeInCapacity
}

// What a policy type computes: the unclamped new capacity, or nullopt (with why) for none.
struct Adjustment {
  std::optional<int> capacity;
  ScalingOutcome none = ScalingOutcome::Unchanged;
  std::string message;
  std::string details;                  // a JSON object of the inputs, or empty
  std::optional<int> scalingAdjustment; // simple and step scaling: the adjustment applied
  const StepAdjustment* step = nullptr; // step scaling: the step that covered the breach
};

using PolicyType = Result<Adjustment> (*)(const model::AutoScalingGroup&,
                                          const model::ScalingPolicy&, const AlarmTrigger&);

Result<Adjustment> simpleScaling(const model::AutoScalingGroup& g, const model::ScalingPolicy& p,
                                 const AlarmTrigger&) {
  Adjustment a{
      adjusted(p.adjustmentType, g.desiredCapacity, p.scalingAdjustment, p.minAdjustmentMagnitude)};
  a.scalingAdjustment = p.scalingAdjustment;
  return a;
}

std::string number(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

Result<Adjustment> stepScaling(const model::AutoScalingGroup& g, const model::ScalingPolicy& p,
                               const AlarmTrigger& t) {
  if (!t.metricValue || !t.threshold) {
    return validationError("Policy " + p.policyName +
                           " is a step scaling policy: MetricValue and BreachThreshold are "
                           "needed to execute it");
  }
  double diff = *t.metricValue - *t.threshold;
  const StepAdjustment* step = findStep(p.stepAdjustments, diff);
  if (step == nullptr) {
    Adjustment a;
    a.none = ScalingOutcome::NoStep;
    a.message = "No step adjustment of policy " + p.policyName + " covers the metric value " +
                number(*t.metricValue) + " (threshold " + number(*t.threshold) + ")";
    return a;
  }
  Adjustment a{adjusted(p.adjustmentType, g.desiredCapacity, step->scalingAdjustment,
                        p.minAdjustmentMagnitude)};
  a.scalingAdjustment = step->scalingAdjustment;
  a.step = step;
  // While instances launch or warm up, a breach that hits a step adding capacity adds only the
  // difference between what the step asks for and the capacity already being added (AWS's
  // "Instance warmup" of step scaling): the step counts from the capacity without them.
  int inFlight = t.tracking ? t.tracking->inFlight : 0;
  if (inFlight > 0 && *a.capacity > g.desiredCapacity && p.adjustmentType != "ExactCapacity") {
    int settled = std::max(0, g.desiredCapacity - inFlight);
    int wanted =
        adjusted(p.adjustmentType, settled, step->scalingAdjustment, p.minAdjustmentMagnitude);
    a.details = "{\"CapacityInFlight\":" + std::to_string(inFlight) + "}";
    if (wanted <= g.desiredCapacity) {
      a.capacity.reset();
      a.none = ScalingOutcome::Unchanged;
      a.message = "Policy " + p.policyName + " leaves the desired capacity at " +
                  std::to_string(g.desiredCapacity) + ": " + std::to_string(inFlight) +
                  " instance(s) launching or warming up already cover its step";
      a.details = "{\"CapacityInFlight\":" + std::to_string(inFlight) +
                  ",\"LimitedBy\":\"InstanceWarmup\"}";
      return a;
    }
    a.capacity = wanted;
  }
  return a;
}

Result<Adjustment> targetTrackingScaling(const model::AutoScalingGroup& g,
                                         const model::ScalingPolicy& p, const AlarmTrigger& t) {
  if (!p.targetTracking || t.alarmName.empty()) {
    return validationError("Policy " + p.policyName +
                           " is a target tracking policy: only its own alarms execute it");
  }
  bool high = !p.alarmNames.empty() && t.alarmName == p.alarmNames[0];
  TrackingProposal proposal =
      proposeTrackingCapacity(g, p, high, t.metricValue, t.tracking.value_or(TrackingInputs{}));
  Adjustment a;
  a.capacity = proposal.capacity;
  a.none = ScalingOutcome::NotTracked;
  a.message = std::move(proposal.message);
  a.details = std::move(proposal.details);
  return a;
}

struct PolicyTypeRow {
  const char* name;
  PolicyType decide;
  bool cooldown; // whether the group's cooldown applies (simple scaling only, as in AWS)
};

const PolicyTypeRow kPolicyTypes[] = {
    {"SimpleScaling", simpleScaling, true},
    {"StepScaling", stepScaling, false},
    {"TargetTrackingScaling", targetTrackingScaling, false},
};

using Json = nlohmann::ordered_json;

// What went into a decision, before the policy type adds its own inputs.
Json decisionInputs(const model::AutoScalingGroup& group, const model::ScalingPolicy& policy,
                    const AlarmTrigger& trigger) {
  Json j = {{"Policy", policy.policyName}, {"PolicyType", policy.policyType}};
  j["Trigger"] = trigger.alarmName.empty()
                     ? std::string("ExecutePolicy")
                     : "alarm " + trigger.alarmName + " in state " +
                           std::string(model::alarmStateValueName(trigger.stateValue));
  if (policy.policyType != "TargetTrackingScaling") {
    if (trigger.metricValue) {
      j["MetricValue"] = *trigger.metricValue;
    }
    if (trigger.threshold) {
      j["Threshold"] = *trigger.threshold;
    }
  }
  j["MinSize"] = group.minSize;
  j["MaxSize"] = group.maxSize;
  j["PreviousDesiredCapacity"] = group.desiredCapacity;
  return j;
}

Json stepJson(const StepAdjustment& s) {
  Json j = Json::object();
  if (s.lowerBound) {
    j["MetricIntervalLowerBound"] = *s.lowerBound;
  }
  if (s.upperBound) {
    j["MetricIntervalUpperBound"] = *s.upperBound;
  }
  j["ScalingAdjustment"] = s.scalingAdjustment;
  return j;
}

const PolicyTypeRow* policyType(const std::string& name) {
  for (const auto& row : kPolicyTypes) {
    if (name == row.name) {
      return &row;
    }
  }
  return nullptr;
}

} // namespace

std::string_view scalingOutcomeName(ScalingOutcome o) {
  static constexpr std::pair<ScalingOutcome, std::string_view> kNames[] = {
      {ScalingOutcome::Changed, "Changed"},         {ScalingOutcome::Unchanged, "Unchanged"},
      {ScalingOutcome::CoolingDown, "CoolingDown"}, {ScalingOutcome::NoStep, "NoStep"},
      {ScalingOutcome::NotTracked, "NotTracked"},
  };
  for (const auto& [outcome, name] : kNames) {
    if (outcome == o) {
      return name;
    }
  }
  return "Unchanged";
}

bool isAdjustmentType(const std::string& type) {
  return type == "ChangeInCapacity" || type == "ExactCapacity" || type == "PercentChangeInCapacity";
}

int percentChange(int current, int percent, std::optional<int> minAdjustmentMagnitude) {
  double x = current * static_cast<double>(percent) / 100.0;
  int change = 0;
  if (x > 0) {
    change = x < 1 ? 1 : static_cast<int>(std::floor(x));
  } else if (x < 0) {
    change = x > -1 ? -1 : static_cast<int>(std::ceil(x));
  }
  if (minAdjustmentMagnitude && change != 0 && std::abs(change) < *minAdjustmentMagnitude) {
    change = change > 0 ? *minAdjustmentMagnitude : -*minAdjustmentMagnitude;
  }
  return change;
}

const StepAdjustment* findStep(const std::vector<StepAdjustment>& steps, double diff) {
  for (const StepAdjustment& s : steps) {
    double lo = s.lowerBound.value_or(-INFINITY);
    double hi = s.upperBound.value_or(INFINITY);
    bool in = diff >= 0 ? (lo <= diff && diff < hi) : (lo < diff && diff <= hi);
    if (in) {
      return &s;
    }
  }
  return nullptr;
}

Status validateStepAdjustments(const std::vector<StepAdjustment>& steps) {
  if (steps.empty()) {
    return validationError("StepAdjustments must contain at least one step adjustment for a "
                           "StepScaling policy");
  }
  std::vector<StepAdjustment> sorted = steps;
  int unboundedBelow = 0, unboundedAbove = 0;
  for (size_t k = 0; k < steps.size(); ++k) {
    const StepAdjustment& s = steps[k];
    if (!s.lowerBound && !s.upperBound) {
      return validationError("Step adjustment " + std::to_string(k) +
                             ": MetricIntervalLowerBound and MetricIntervalUpperBound cannot "
                             "both be null");
    }
    if (s.lowerBound && s.upperBound && *s.lowerBound >= *s.upperBound) {
      return validationError("Step adjustment " + std::to_string(k) +
                             ": MetricIntervalUpperBound must be greater than "
                             "MetricIntervalLowerBound");
    }
    unboundedBelow += !s.lowerBound;
    unboundedAbove += !s.upperBound;
  }
  if (unboundedBelow > 1) {
    return validationError("Only one step adjustment can have a null MetricIntervalLowerBound");
  }
  if (unboundedAbove > 1) {
    return validationError("Only one step adjustment can have a null MetricIntervalUpperBound");
  }
  std::sort(sorted.begin(), sorted.end(), [](const StepAdjustment& a, const StepAdjustment& b) {
    return a.lowerBound.value_or(-INFINITY) < b.lowerBound.value_or(-INFINITY);
  });
  for (size_t k = 1; k < sorted.size(); ++k) {
    double prevHi = sorted[k - 1].upperBound.value_or(INFINITY);
    double lo = sorted[k].lowerBound.value_or(-INFINITY);
    if (prevHi > lo) {
      return validationError("Step adjustments overlap: the interval ending at " + number(prevHi) +
                             " and the one starting at " + number(lo));
    }
    if (prevHi < lo) {
      return validationError("Step adjustments leave a gap between " + number(prevHi) + " and " +
                             number(lo));
    }
  }
  if (sorted.front().lowerBound && *sorted.front().lowerBound < 0) {
    return validationError("A step adjustment has a negative MetricIntervalLowerBound, so one "
                           "must have a null MetricIntervalLowerBound");
  }
  if (sorted.back().upperBound && *sorted.back().upperBound > 0) {
    return validationError("A step adjustment has a positive MetricIntervalUpperBound, so one "
                           "must have a null MetricIntervalUpperBound");
  }
  return Status::ok();
}

Result<ScalingDecision> decideScaling(const model::AutoScalingGroup& group,
                                      const model::ScalingPolicy& policy,
                                      const AlarmTrigger& trigger, TimeMs now, bool honorCooldown) {
  ScalingDecision d;
  d.oldDesired = d.newDesired = group.desiredCapacity;
  d.cooldownUntil = group.cooldownUntil;
  const PolicyTypeRow* type = policyType(policy.policyType);
  if (type == nullptr) {
    return validationError("Unsupported PolicyType '" + policy.policyType + "'");
  }
  Json inputs = decisionInputs(group, policy, trigger);
  auto finish = [&](ScalingDecision& out) -> ScalingDecision& {
    inputs["DesiredCapacity"] = out.newDesired;
    out.details = inputs.dump();
    return out;
  };
  if (type->cooldown && honorCooldown && now < group.cooldownUntil) {
    d.outcome = ScalingOutcome::CoolingDown;
    d.message = "The group " + group.autoScalingGroupName + " is in its cooldown period for " +
                std::to_string((group.cooldownUntil - now + 999) / 1000) +
                " more second(s); policy " + policy.policyName + " was not executed";
    inputs["LimitedBy"] = "Cooldown";
    inputs["CooldownEnds"] = formatIso8601(group.cooldownUntil);
    return finish(d);
  }
  auto a = type->decide(group, policy, trigger);
  TIDE_RETURN_IF_ERROR(a.status());
  if (!a->details.empty()) { // the policy type's own inputs (target tracking's)
    Json own = Json::parse(a->details, nullptr, false);
    if (own.is_object()) {
      inputs.update(own);
    }
  }
  if (a->step != nullptr) {
    inputs["Step"] = stepJson(*a->step);
  }
  if (a->scalingAdjustment) {
    inputs["AdjustmentType"] = policy.adjustmentType;
    inputs["ScalingAdjustment"] = *a->scalingAdjustment;
  }
  if (!a->capacity) {
    d.outcome = a->none;
    d.message = a->message;
    if (d.outcome == ScalingOutcome::NoStep) {
      inputs["LimitedBy"] = "NoStep";
    }
    if (!d.message.empty()) {
      inputs["Reason"] = d.message;
    }
    return finish(d);
  }
  inputs["ComputedCapacity"] = *a->capacity;
  d.newDesired = std::clamp(*a->capacity, group.minSize, group.maxSize);
  if (*a->capacity > group.maxSize) {
    inputs["LimitedBy"] = "MaxSize";
  } else if (*a->capacity < group.minSize) {
    inputs["LimitedBy"] = "MinSize";
  }
  if (d.newDesired == d.oldDesired) {
    d.outcome = ScalingOutcome::Unchanged;
    d.message = "Policy " + policy.policyName + " leaves the desired capacity at " +
                std::to_string(d.oldDesired) + " (min " + std::to_string(group.minSize) + ", max " +
                std::to_string(group.maxSize) + ")";
    return finish(d);
  }
  d.outcome = ScalingOutcome::Changed;
  std::string who = trigger.alarmName.empty()
                        ? "a user request executed policy " + policy.policyName
                        : "a monitor alarm " + trigger.alarmName + " in state " +
                              std::string(model::alarmStateValueName(trigger.stateValue)) +
                              " triggered policy " + policy.policyName;
  d.cause = causeTime(now) + " " + who + " " + changingDesired(d.oldDesired, d.newDesired);
  if (type->cooldown) {
    d.cooldownUntil = now + 1000LL * policy.cooldown.value_or(group.defaultCooldown);
    inputs["CooldownSeconds"] = policy.cooldown.value_or(group.defaultCooldown);
  }
  return finish(d);
}

Result<ScalingDecision> applyScalingPolicy(store::Tx& tx, const model::ScalingPolicy& policy,
                                           const AlarmTrigger& trigger, TimeMs now,
                                           bool honorCooldown) {
  TIDE_ASSIGN_OR_RETURN(auto g, tx.autoScalingGroup(policy.autoScalingGroupName));
  if (!g.has_value()) {
    return validationError("AutoScalingGroup name not found - the group " +
                           policy.autoScalingGroupName + " of policy " + policy.policyName +
                           " does not exist");
  }
  model::AutoScalingGroup group = std::move(*g);
  if (group.deleting) {
    ScalingDecision d;
    d.oldDesired = d.newDesired = group.desiredCapacity;
    d.message = "The group " + group.autoScalingGroupName + " is being deleted";
    return d;
  }
  if (!trigger.alarmName.empty() && isSuspended(group, ScalingProcess::AlarmNotification)) {
    ScalingDecision d; // SuspendProcesses AlarmNotification: alarms execute no policy
    d.oldDesired = d.newDesired = group.desiredCapacity;
    d.message = "The group " + group.autoScalingGroupName + " has AlarmNotification suspended";
    return d;
  }
  AlarmTrigger withInputs = trigger;
  if ((policy.policyType == "TargetTrackingScaling" || policy.policyType == "StepScaling") &&
      !withInputs.tracking) { // the capacity in flight (step scaling reads only that)
    TIDE_ASSIGN_OR_RETURN(auto in, trackingInputs(tx, group, policy, now, &trigger.alarmValue));
    withInputs.tracking = in;
  }
  auto d = decideScaling(group, policy, withInputs, now, honorCooldown);
  if (!d || d->outcome != ScalingOutcome::Changed) {
    return d;
  }
  group.cooldownUntil = d->cooldownUntil;
  TIDE_RETURN_IF_ERROR(changeDesiredCapacity(tx, group, d->newDesired, d->cause, now, d->details));
  return d;
}

Status executeScalingPolicy(store::Tx& tx, const model::ScalingPolicy& policy,
                            const AlarmTrigger& trigger, TimeMs now) {
  auto d = applyScalingPolicy(tx, policy, trigger, now, true);
  return d ? Status::ok() : d.status();
}

} // namespace tide::operations
