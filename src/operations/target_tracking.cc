#include "operations/target_tracking.h"

#include "common/ids.h"
#include "metrics/metric_queries.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tide::operations {

namespace {

constexpr int kHighDatapoints = 3; // AlarmHigh: 3 of 3 periods above the target
constexpr int kLowDatapoints = 15; // AlarmLow: 15 of 15 periods below 0.9 × target
constexpr double kLowFraction = 0.9;
constexpr int kDefaultPeriod = 60;
constexpr double kEpsilon = 1e-9; // 2 × 90 / 50 is 3.6000000000000001, not above 4

std::string number(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

bool isTrackingPeriod(int p) {
  return p == 1 || p == 10 || p == 30 || p == 60;
}

// "app/LB/ID/targetgroup/TG/ID" → "targetgroup/TG/ID"; empty when malformed.
std::string targetGroupOfLabel(const std::string& label) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = label.find('/', start);
    parts.push_back(label.substr(start, slash - start));
    if (slash == std::string::npos) {
      break;
    }
    start = slash + 1;
  }
  if (parts.size() != 6 || parts[0] != "app" || parts[3] != "targetgroup") {
    return "";
  }
  for (const std::string& p : parts) {
    if (p.empty()) {
      return "";
    }
  }
  return "targetgroup/" + parts[4] + "/" + parts[5];
}

// "arn:aws:autoscaling:REGION:ACCOUNT:..." → "arn:aws:cloudwatch:REGION:ACCOUNT:alarm:"
std::string alarmArnPrefix(const std::string& policyArn) {
  std::vector<std::string> f;
  size_t start = 0;
  for (int k = 0; k < 5; ++k) {
    size_t colon = policyArn.find(':', start);
    if (colon == std::string::npos) {
      break;
    }
    f.push_back(policyArn.substr(start, colon - start));
    start = colon + 1;
  }
  std::string region = f.size() > 3 ? f[3] : "";
  std::string account = f.size() > 4 ? f[4] : "";
  return "arn:aws:cloudwatch:" + region + ":" + account + ":alarm:";
}

// 0.9 × 70 is 63.00000000000001: thresholds as Auto Scaling shows them (63.0).
double roundThreshold(double v) {
  return std::round(v * 1e6) / 1e6;
}

} // namespace

const PredefinedMetric* predefinedMetric(const std::string& type) {
  for (const PredefinedMetric& m : kPredefinedMetrics) {
    if (type == m.type) {
      return &m;
    }
  }
  return nullptr;
}

Status validateTargetTracking(const model::TargetTrackingConfiguration& c, bool hasTarget) {
  const std::string at = "TargetTrackingConfiguration";
  if (!hasTarget) {
    return validationError(at + ".TargetValue is required for a TargetTrackingScaling policy");
  }
  if (!std::isfinite(c.targetValue)) {
    return validationError(at + ".TargetValue must be a finite number");
  }
  bool predefined = !c.predefinedMetricType.empty();
  bool customized = !c.metricName.empty() || !c.namespace_.empty() || !c.statistic.empty() ||
                    !c.metrics.empty() || !c.dimensions.empty() || !c.unit.empty();
  if (predefined == customized) {
    return validationError("Exactly one of PredefinedMetricSpecification and "
                           "CustomizedMetricSpecification must be specified in " +
                           at);
  }
  if (predefined) {
    const PredefinedMetric* m = predefinedMetric(c.predefinedMetricType);
    if (m == nullptr) {
      return validationError(
          "Value '" + c.predefinedMetricType + "' at '" + at +
          ".PredefinedMetricSpecification.PredefinedMetricType' failed to satisfy constraint: "
          "Member must satisfy enum value set: [ASGAverageCPUUtilization, ASGAverageNetworkIn, "
          "ASGAverageNetworkOut, ALBRequestCountPerTarget]");
    }
    if (m->targetGroup && c.resourceLabel.empty()) {
      return validationError("ResourceLabel is required for the predefined metric type "
                             "ALBRequestCountPerTarget");
    }
    if (!m->targetGroup && !c.resourceLabel.empty()) {
      return validationError("ResourceLabel is only valid for the predefined metric type "
                             "ALBRequestCountPerTarget");
    }
    if (m->targetGroup && targetGroupOfLabel(c.resourceLabel).empty()) {
      return validationError("ResourceLabel '" + c.resourceLabel +
                             "' must have the form "
                             "app/<load-balancer-name>/<load-balancer-id>/targetgroup/"
                             "<target-group-name>/<target-group-id>");
    }
  } else if (!c.metrics.empty()) {
    if (!c.metricName.empty() || !c.namespace_.empty() || !c.statistic.empty() ||
        !c.dimensions.empty() || !c.unit.empty()) {
      return validationError("CustomizedMetricSpecification takes either Metrics or MetricName, "
                             "Namespace, Dimensions, Statistic and Unit, not both");
    }
    TIDE_RETURN_IF_ERROR(metrics::validateMetricDataQueries(
        c.metrics, at + ".CustomizedMetricSpecification.Metrics"));
  } else {
    if (c.metricName.empty() || c.namespace_.empty() || c.statistic.empty()) {
      return validationError("CustomizedMetricSpecification needs MetricName, Namespace and "
                             "Statistic (or Metrics)");
    }
    if (!metrics::parseStatistic(c.statistic)) {
      return validationError("Value '" + c.statistic + "' at '" + at +
                             ".CustomizedMetricSpecification.Statistic' failed to satisfy "
                             "constraint: Member must satisfy enum value set: [Average, "
                             "Minimum, Maximum, SampleCount, Sum]");
    }
  }
  if (c.period && !isTrackingPeriod(*c.period)) {
    return validationError(at + " Period must be 10, 30 or 60 seconds (or 1 in tide); it is " +
                           std::to_string(*c.period));
  }
  return Status::ok();
}

Status checkResourceLabel(store::Tx& tx, const model::AutoScalingGroup& group,
                          const model::TargetTrackingConfiguration& c) {
  const PredefinedMetric* m = predefinedMetric(c.predefinedMetricType);
  if (m == nullptr || !m->targetGroup) {
    return Status::ok();
  }
  std::string tg = targetGroupOfLabel(c.resourceLabel);
  for (const std::string& arn : group.targetGroupArns) {
    if (arn.size() > tg.size() && arn.compare(arn.size() - tg.size(), tg.size(), tg) == 0 &&
        arn[arn.size() - tg.size() - 1] == ':') {
      TIDE_ASSIGN_OR_RETURN(auto found, tx.targetGroup(arn));
      if (found) {
        return Status::ok();
      }
    }
  }
  return validationError("The target group in ResourceLabel " + c.resourceLabel +
                         " is not attached to the Auto Scaling group " +
                         group.autoScalingGroupName);
}

std::vector<model::MetricAlarm> trackingAlarms(const model::ScalingPolicy& policy, TimeMs now) {
  const model::TargetTrackingConfiguration& c = *policy.targetTracking;
  model::MetricAlarm base;
  base.alarmDescription =
      "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy " + policy.policyArn + ".";
  base.period = c.period.value_or(kDefaultPeriod);
  base.alarmActions = {policy.policyArn};
  base.treatMissingData = "missing";
  base.alarmConfigurationUpdatedTimestamp = now;
  base.stateUpdatedTimestamp = now;
  if (const PredefinedMetric* m = predefinedMetric(c.predefinedMetricType)) {
    base.namespace_ = m->namespace_;
    base.metricName = m->metricName;
    base.statistic = m->statistic;
    base.dimensions = {m->targetGroup
                           ? model::Dimension{"TargetGroup", targetGroupOfLabel(c.resourceLabel)}
                           : model::Dimension{"AutoScalingGroupName", policy.autoScalingGroupName}};
  } else if (!c.metrics.empty()) {
    base.metrics = c.metrics;
  } else {
    base.namespace_ = c.namespace_;
    base.metricName = c.metricName;
    base.statistic = c.statistic;
    base.dimensions = c.dimensions;
  }
  std::vector<model::MetricAlarm> out;
  const std::string arnPrefix = alarmArnPrefix(policy.policyArn);
  for (size_t k = 0; k < policy.alarmNames.size() && k < 2; ++k) {
    model::MetricAlarm a = base;
    a.alarmName = policy.alarmNames[k];
    a.alarmArn = arnPrefix + a.alarmName;
    bool high = k == 0;
    a.evaluationPeriods = high ? kHighDatapoints : kLowDatapoints;
    a.datapointsToAlarm = a.evaluationPeriods;
    a.threshold = high ? c.targetValue : roundThreshold(kLowFraction * c.targetValue);
    a.comparisonOperator = high ? "GreaterThanThreshold" : "LessThanThreshold";
    out.push_back(std::move(a));
  }
  return out;
}

Status putTrackingAlarms(store::Tx& tx, model::ScalingPolicy& policy,
                         const model::ScalingPolicy* existing, TimeMs now) {
  const std::string prefix = "TargetTracking-" + policy.autoScalingGroupName + "-Alarm";
  constexpr size_t kUuidLength = 36;
  std::string uuid = newUuid(); // an update keeps the pair's UUID (its names end with it)
  if (existing != nullptr && !existing->alarmNames.empty() &&
      existing->alarmNames[0].size() > kUuidLength) {
    uuid = existing->alarmNames[0].substr(existing->alarmNames[0].size() - kUuidLength);
  }
  policy.alarmNames = {prefix + "High-" + uuid};
  if (!policy.targetTracking->disableScaleIn) {
    policy.alarmNames.push_back(prefix + "Low-" + uuid);
  }
  if (existing != nullptr) {
    for (const std::string& name : existing->alarmNames) {
      if (std::find(policy.alarmNames.begin(), policy.alarmNames.end(), name) ==
          policy.alarmNames.end()) {
        TIDE_RETURN_IF_ERROR(tx.deleteAlarm(name));
      }
    }
  }
  for (model::MetricAlarm& a : trackingAlarms(policy, now)) {
    TIDE_ASSIGN_OR_RETURN(auto old, tx.alarm(a.alarmName));
    if (old) { // an update keeps the alarm's state; the evaluator re-checks it
      a.stateValue = old->stateValue;
      a.stateReason = old->stateReason;
      a.stateReasonData = old->stateReasonData;
      a.stateUpdatedTimestamp = old->stateUpdatedTimestamp;
    }
    TIDE_RETURN_IF_ERROR(tx.putAlarm(a));
  }
  return Status::ok();
}

Status deleteTrackingAlarms(store::Tx& tx, const model::ScalingPolicy& policy) {
  if (policy.policyType != "TargetTrackingScaling") {
    return Status::ok();
  }
  for (const std::string& name : policy.alarmNames) {
    TIDE_RETURN_IF_ERROR(tx.deleteAlarm(name));
  }
  return Status::ok();
}

Status deleteGroupTrackingAlarms(store::Tx& tx, const std::string& groupName) {
  TIDE_ASSIGN_OR_RETURN(auto policies, tx.scalingPolicies(groupName));
  for (const model::ScalingPolicy& p : policies) {
    TIDE_RETURN_IF_ERROR(deleteTrackingAlarms(tx, p));
  }
  return Status::ok();
}

int instanceWarmupSeconds(const model::AutoScalingGroup& group,
                          const std::vector<model::ScalingPolicy>& policies) {
  int warmup = group.defaultInstanceWarmup.value_or(0);
  for (const model::ScalingPolicy& p : policies) {
    if (p.autoScalingGroupName == group.autoScalingGroupName && p.estimatedInstanceWarmup &&
        (p.policyType == "TargetTrackingScaling" || p.policyType == "StepScaling")) {
      warmup = std::max(warmup, *p.estimatedInstanceWarmup);
    }
  }
  return warmup;
}

Result<TrackingInputs>
trackingInputs(store::Tx& tx, const model::AutoScalingGroup& group,
               const model::ScalingPolicy& policy, TimeMs now,
               const std::function<std::optional<double>(const std::string&)>* alarmValue) {
  TrackingInputs in;
  TIDE_ASSIGN_OR_RETURN(auto policies, tx.scalingPolicies(group.autoScalingGroupName));
  TIDE_ASSIGN_OR_RETURN(auto instances, tx.instances());
  const int warmup = instanceWarmupSeconds(group, policies);
  for (const model::Instance& i : instances) {
    if (i.autoScalingGroupName != group.autoScalingGroupName || !i.lifecycleState) {
      continue;
    }
    if (*i.lifecycleState == model::LifecycleState::Pending ||
        *i.lifecycleState == model::LifecycleState::PendingWait ||
        *i.lifecycleState == model::LifecycleState::PendingProceed) {
      in.inFlight++;
    } else if (*i.lifecycleState == model::LifecycleState::InService) {
      if (i.state == model::InstanceState::Running && !isWarmingUp(i.launchTime, warmup, now)) {
        in.measured++;
      } else {
        in.inFlight++;
      }
    }
  }
  for (const model::ScalingPolicy& other : policies) {
    if (other.policyArn == policy.policyArn || other.policyType != "TargetTrackingScaling" ||
        !other.enabled || !other.targetTracking || other.targetTracking->disableScaleIn ||
        other.alarmNames.size() < 2) {
      continue;
    }
    TIDE_ASSIGN_OR_RETURN(auto low, tx.alarm(other.alarmNames[1]));
    if (!low || low->stateValue != model::AlarmStateValue::Alarm) {
      if (in.othersAgreeToScaleIn) {
        in.othersDisagreeing = other.policyName;
      }
      in.othersAgreeToScaleIn = false;
      continue;
    }
    std::optional<double> v;
    if (alarmValue != nullptr && *alarmValue) {
      v = (*alarmValue)(low->alarmName);
    }
    if (v && other.targetTracking->targetValue > 0) {
      int floorOfOther = static_cast<int>(
          std::floor(in.measured * *v / other.targetTracking->targetValue + kEpsilon));
      in.othersScaleInFloor = std::max(in.othersScaleInFloor, floorOfOther);
    }
  }
  return in;
}

TrackingProposal proposeTrackingCapacity(const model::AutoScalingGroup& group,
                                         const model::ScalingPolicy& policy, bool high,
                                         std::optional<double> metricValue,
                                         const TrackingInputs& in) {
  TrackingProposal p;
  const model::TargetTrackingConfiguration& c = *policy.targetTracking;
  if (!metricValue) {
    p.message = "Policy " + policy.policyName + " has no datapoint of its metric to act on";
    return p;
  }
  const double target = c.targetValue;
  std::string details = "{\"MetricValue\":" + number(*metricValue) +
                        ",\"TargetValue\":" + number(target) +
                        ",\"MeasuredCapacity\":" + std::to_string(in.measured) +
                        ",\"CapacityInFlight\":" + std::to_string(in.inFlight);
  auto finish = [&](int computed) {
    p.details = details + ",\"ComputedCapacity\":" + std::to_string(computed) + "}";
  };
  if (target <= 0) {
    p.message = "Policy " + policy.policyName + " has a target of " + number(target) +
                ": no capacity is proportional to it";
    return p;
  }
  const double wanted = in.measured * *metricValue / target;
  if (high) {
    if (in.measured == 0) {
      p.message = "Policy " + policy.policyName +
                  ": every instance of the group is launching or warming up; the metric "
                  "measures none of them yet";
      return p;
    }
    int computed = static_cast<int>(std::ceil(wanted - kEpsilon));
    finish(computed);
    if (computed <= group.desiredCapacity) {
      p.message = "Policy " + policy.policyName + " computes a capacity of " +
                  std::to_string(computed) + " for a metric of " + number(*metricValue) +
                  " (target " + number(target) + "); the desired capacity " +
                  std::to_string(group.desiredCapacity) + " (" + std::to_string(in.inFlight) +
                  " in flight) already covers it";
      return p;
    }
    p.capacity = computed;
    return p;
  }
  if (c.disableScaleIn) {
    p.message = "Policy " + policy.policyName + " has scale-in disabled";
    return p;
  }
  if (in.inFlight > 0) {
    p.message = "Policy " + policy.policyName + " does not scale in while " +
                std::to_string(in.inFlight) + " instance(s) launch or warm up";
    return p;
  }
  if (!in.othersAgreeToScaleIn) {
    p.message = "Policy " + policy.policyName + " does not scale in: policy " +
                in.othersDisagreeing + " of the group is not ready to scale in";
    return p;
  }
  int computed = std::max(static_cast<int>(std::floor(wanted + kEpsilon)), in.othersScaleInFloor);
  finish(computed);
  if (computed >= group.desiredCapacity) {
    p.message = "Policy " + policy.policyName + " computes a capacity of " +
                std::to_string(computed) + ", not below the desired capacity " +
                std::to_string(group.desiredCapacity);
    return p;
  }
  p.capacity = computed;
  return p;
}

} // namespace tide::operations
