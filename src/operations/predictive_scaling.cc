#include "operations/predictive_scaling.h"

#include "metrics/metric_queries.h"
#include "operations/scaling_activity.h"
#include "operations/target_tracking.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>

namespace tide::operations {

namespace {

using model::PredictiveScalingConfiguration;
using model::PredictiveScalingMetricSpecification;
using Json = nlohmann::ordered_json;

constexpr double kEpsilon = 1e-9; // 200 / 50 is 4, not a hair above it
constexpr int kMaxBufferTime = 3600;
constexpr TimeMs kMinuteMs = 60'000;
constexpr TimeMs kHistoryMs = 14LL * 24 * kForecastHourMs; // AWS reads up to 14 days

const char* const kAt = "PredictiveScalingConfiguration.MetricSpecifications.member.1";

enum class Role { Pair, Scaling, Load };

const PredictiveMetricPair* findPair(const std::string& type, Role role) {
  for (const PredictiveMetricPair& p : kPredictiveMetricPairs) {
    const char* name = role == Role::Pair ? p.pair : role == Role::Scaling ? p.scaling : p.load;
    if (type == name) {
      return &p;
    }
  }
  return nullptr;
}

std::string enumList(Role role) {
  std::string out;
  for (const PredictiveMetricPair& p : kPredictiveMetricPairs) {
    out += out.empty() ? "" : ", ";
    out += role == Role::Pair ? p.pair : role == Role::Scaling ? p.scaling : p.load;
  }
  return "[" + out + "]";
}

// "app/LB/ID/targetgroup/TG/ID" → {"app/LB/ID", "targetgroup/TG/ID"}; empty when malformed.
std::pair<std::string, std::string> splitLabel(const std::string& label) {
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
    return {};
  }
  for (const std::string& p : parts) {
    if (p.empty()) {
      return {};
    }
  }
  return {"app/" + parts[1] + "/" + parts[2], "targetgroup/" + parts[4] + "/" + parts[5]};
}

// A predefined metric of the specification: its type known, its ResourceLabel as the type
// wants it.
Status checkPredefined(const std::string& type, const std::string& label, Role role,
                       const std::string& member) {
  const PredictiveMetricPair* p = findPair(type, role);
  if (p == nullptr) {
    return validationError("Value '" + type + "' at '" + std::string(kAt) + "." + member +
                           ".PredefinedMetricType' failed to satisfy constraint: Member must "
                           "satisfy enum value set: " +
                           enumList(role));
  }
  if (p->targetGroup && label.empty()) {
    return validationError("ResourceLabel is required for the predefined metric type " + type);
  }
  if (!p->targetGroup && !label.empty()) {
    return validationError("ResourceLabel is only valid for the predefined metric types " +
                           std::string(role == Role::Pair      ? "ALBRequestCount"
                                       : role == Role::Scaling ? "ALBRequestCountPerTarget"
                                                               : "ALBTargetGroupRequestCount") +
                           ", not " + type);
  }
  if (p->targetGroup && splitLabel(label).first.empty()) {
    return validationError("ResourceLabel '" + label +
                           "' must have the form "
                           "app/<load-balancer-name>/<load-balancer-id>/targetgroup/"
                           "<target-group-name>/<target-group-id>");
  }
  return Status::ok();
}

Status checkSpecification(const PredictiveScalingMetricSpecification& s) {
  if (!std::isfinite(s.targetValue) || s.targetValue <= 0) {
    return validationError(std::string(kAt) + ".TargetValue must be a number greater than 0");
  }
  bool pair = !s.pairType.empty();
  bool scaling = !s.scalingType.empty() || !s.customizedScaling.empty();
  bool load = !s.loadType.empty() || !s.customizedLoad.empty();
  if (pair && (scaling || load)) {
    return validationError("A metric specification takes either a "
                           "PredefinedMetricPairSpecification, or a scaling metric and a load "
                           "metric, not both");
  }
  if (!pair && (!scaling || !load)) {
    return validationError("A metric specification needs a PredefinedMetricPairSpecification, or "
                           "both a scaling metric (PredefinedScalingMetricSpecification or "
                           "CustomizedScalingMetricSpecification) and a load metric "
                           "(PredefinedLoadMetricSpecification or "
                           "CustomizedLoadMetricSpecification)");
  }
  if (!s.scalingType.empty() && !s.customizedScaling.empty()) {
    return validationError("Only one of PredefinedScalingMetricSpecification and "
                           "CustomizedScalingMetricSpecification may be given");
  }
  if (!s.loadType.empty() && !s.customizedLoad.empty()) {
    return validationError("Only one of PredefinedLoadMetricSpecification and "
                           "CustomizedLoadMetricSpecification may be given");
  }
  if (!s.customizedCapacity.empty() && s.customizedLoad.empty()) {
    return validationError("CustomizedCapacityMetricSpecification is only valid with a "
                           "CustomizedLoadMetricSpecification");
  }
  if (pair) {
    TIDE_RETURN_IF_ERROR(
        checkPredefined(s.pairType, s.pairLabel, Role::Pair, "PredefinedMetricPairSpecification"));
  }
  if (!s.scalingType.empty()) {
    TIDE_RETURN_IF_ERROR(checkPredefined(s.scalingType, s.scalingLabel, Role::Scaling,
                                         "PredefinedScalingMetricSpecification"));
  }
  if (!s.loadType.empty()) {
    TIDE_RETURN_IF_ERROR(
        checkPredefined(s.loadType, s.loadLabel, Role::Load, "PredefinedLoadMetricSpecification"));
  }
  const std::pair<const std::vector<model::MetricDataQuery>*, const char*> customized[] = {
      {&s.customizedScaling, "CustomizedScalingMetricSpecification"},
      {&s.customizedLoad, "CustomizedLoadMetricSpecification"},
      {&s.customizedCapacity, "CustomizedCapacityMetricSpecification"},
  };
  for (const auto& [queries, member] : customized) {
    if (!queries->empty()) {
      TIDE_RETURN_IF_ERROR(metrics::validateMetricDataQueries(
          *queries, std::string(kAt) + "." + member + ".MetricDataQueries"));
    }
  }
  return Status::ok();
}

std::vector<std::string> resourceLabels(const PredictiveScalingConfiguration& c) {
  std::vector<std::string> out;
  for (const auto& s : c.metricSpecifications) {
    for (const std::string* l : {&s.pairLabel, &s.scalingLabel, &s.loadLabel}) {
      if (!l->empty()) {
        out.push_back(*l);
      }
    }
  }
  return out;
}

// "2026-12-06T18:00:00Z", as causes write times.
std::string hourText(TimeMs t) {
  return formatIso8601(t).substr(0, 19) + "Z";
}

} // namespace

Status validatePredictiveScaling(const PredictiveScalingConfiguration& c) {
  if (c.metricSpecifications.empty()) {
    return validationError("PredictiveScalingConfiguration.MetricSpecifications must have one "
                           "metric specification");
  }
  if (c.metricSpecifications.size() > 1) {
    return validationError("PredictiveScalingConfiguration.MetricSpecifications: only one metric "
                           "specification is supported, not " +
                           std::to_string(c.metricSpecifications.size()));
  }
  TIDE_RETURN_IF_ERROR(checkSpecification(c.metricSpecifications[0]));
  if (c.schedulingBufferTime < 0 || c.schedulingBufferTime > kMaxBufferTime) {
    return validationError("PredictiveScalingConfiguration.SchedulingBufferTime must be between 0 "
                           "and 3600 seconds, not " +
                           std::to_string(c.schedulingBufferTime));
  }
  if (c.increaseMaxCapacity && !c.maxCapacityBuffer) {
    return validationError("MaxCapacityBuffer is required when MaxCapacityBreachBehavior is "
                           "IncreaseMaxCapacity");
  }
  if (!c.increaseMaxCapacity && c.maxCapacityBuffer) {
    return validationError("MaxCapacityBuffer is only valid when MaxCapacityBreachBehavior is "
                           "IncreaseMaxCapacity");
  }
  if (c.maxCapacityBuffer && (*c.maxCapacityBuffer < 0 || *c.maxCapacityBuffer > 100)) {
    return validationError("PredictiveScalingConfiguration.MaxCapacityBuffer must be between 0 "
                           "and 100, not " +
                           std::to_string(*c.maxCapacityBuffer));
  }
  return Status::ok();
}

Status checkPredictiveResourceLabels(store::Tx& tx, const model::AutoScalingGroup& group,
                                     const PredictiveScalingConfiguration& c) {
  for (const std::string& label : resourceLabels(c)) {
    model::TargetTrackingConfiguration asTracking; // the same rule as target tracking's label
    asTracking.predefinedMetricType = "ALBRequestCountPerTarget";
    asTracking.resourceLabel = label;
    TIDE_RETURN_IF_ERROR(checkResourceLabel(tx, group, asTracking));
  }
  return Status::ok();
}

LoadForecast forecastLoad(const metrics::math::Series& history, TimeMs now, int hours) {
  LoadForecast out;
  if (history.empty() || hours < 0) {
    return out;
  }
  auto hourOf = [](TimeMs t) {
    return (t >= 0 ? t / kForecastHourMs : (t - kForecastHourMs + 1) / kForecastHourMs) *
           kForecastHourMs;
  };
  // Hourly means of the history.
  std::map<TimeMs, std::pair<double, int>> hourly; // hour start → {sum, count}
  for (const auto& [t, v] : history) {
    auto& h = hourly[hourOf(t)];
    h.first += v;
    h.second += 1;
  }
  // The recent level: the mean of the last hour of data.
  TimeMs last = history.rbegin()->first;
  double levelSum = 0;
  int levelCount = 0;
  for (auto it = history.lower_bound(last - kForecastHourMs + 1); it != history.end(); ++it) {
    levelSum += it->second;
    ++levelCount;
  }
  double level = levelSum / levelCount;
  // The daily pattern: the mean of the hourly means at each hour of the day.
  bool seasonal = last - history.begin()->first >= kSeasonalHistoryHours * kForecastHourMs;
  std::map<int, std::pair<double, int>> byHourOfDay;
  if (seasonal) {
    for (const auto& [h, acc] : hourly) {
      auto& d = byHourOfDay[static_cast<int>((h / kForecastHourMs) % 24)];
      d.first += acc.first / acc.second;
      d.second += 1;
    }
  }
  out.seasonal = seasonal;
  TimeMs first = hourOf(now);
  for (int i = 0; i <= hours; ++i) {
    TimeMs h = first + i * kForecastHourMs;
    double v = level;
    if (seasonal) {
      auto d = byHourOfDay.find(static_cast<int>((h / kForecastHourMs) % 24));
      if (d != byHourOfDay.end()) {
        v = d->second.first / d->second.second;
      }
    }
    out.timestamps.push_back(h);
    out.values.push_back(v);
  }
  return out;
}

int capacityForLoad(double load, double target) {
  if (!(load > 0)) {
    return 0;
  }
  // A customized load may be any size: past a million instances, a million.
  return static_cast<int>(std::min(std::ceil(load / target - kEpsilon), 1e6));
}

BoundedCapacity boundCapacity(int capacity, int minSize, int maxSize,
                              const PredictiveScalingConfiguration& c) {
  BoundedCapacity out;
  out.maxSize = maxSize;
  out.capacity = capacity;
  if (capacity < minSize) {
    out.capacity = minSize;
    out.limitedBy = "MinSize";
    return out;
  }
  if (capacity <= maxSize) {
    return out;
  }
  if (!c.increaseMaxCapacity) {
    out.capacity = maxSize;
    out.limitedBy = "MaxSize";
    return out;
  }
  double buffer = c.maxCapacityBuffer.value_or(0) / 100.0;
  out.maxSize = std::max(maxSize, static_cast<int>(std::ceil(
                                      static_cast<double>(capacity) * (1 + buffer) - kEpsilon)));
  return out;
}

Result<metrics::math::Series> loadHistory(const metrics::MetricStore& store,
                                          const model::AutoScalingGroup& group,
                                          const PredictiveScalingMetricSpecification& spec,
                                          TimeMs now) {
  TimeMs start = now - kHistoryMs;
  if (!spec.customizedLoad.empty()) {
    return metrics::evaluateMetricDataQueries(spec.customizedLoad, store, start, now,
                                              static_cast<int>(kMinuteMs / 1000));
  }
  const PredictiveMetricPair* p = !spec.pairType.empty() ? findPair(spec.pairType, Role::Pair)
                                                         : findPair(spec.loadType, Role::Load);
  if (p == nullptr) {
    return validationError("The metric specification names no load metric"); // validated
  }
  metrics::MetricKey key;
  key.namespace_ = p->namespace_;
  key.metricName = p->metricName;
  if (p->targetGroup) {
    auto [lb, tg] = splitLabel(!spec.pairLabel.empty() ? spec.pairLabel : spec.loadLabel);
    key.dimensions = {{"LoadBalancer", lb}, {"TargetGroup", tg}};
  } else {
    key.dimensions = {{"AutoScalingGroupName", group.autoScalingGroupName}};
  }
  // Sum per second: the group's instances added up (or the target group's requests).
  metrics::math::Series s = metrics::statisticSeries(store, key, "Sum", "", start, now, 1);
  if (p->perSecondScale != 1) {
    for (auto& [t, v] : s) {
      v *= p->perSecondScale;
    }
  }
  return s;
}

Result<PolicyForecast> forecastPolicy(const metrics::MetricStore& store,
                                      const model::AutoScalingGroup& group,
                                      const model::ScalingPolicy& policy, TimeMs now) {
  const PredictiveScalingConfiguration& c = *policy.predictiveScaling;
  const PredictiveScalingMetricSpecification& spec = c.metricSpecifications.at(0);
  TIDE_ASSIGN_OR_RETURN(auto history, loadHistory(store, group, spec, now));
  PolicyForecast out;
  out.updateTime = now;
  out.load = forecastLoad(history, now);
  for (double v : out.load.values) {
    out.capacity.push_back(
        boundCapacity(capacityForLoad(v, spec.targetValue), group.minSize, group.maxSize, c)
            .capacity);
  }
  return out;
}

TimeMs activeForecastHour(TimeMs now, int bufferSeconds) {
  TimeMs t = now + 1000LL * bufferSeconds;
  return (t / kForecastHourMs) * kForecastHourMs;
}

Result<PredictiveOutcome> applyPredictiveScaling(store::Tx& tx, const metrics::MetricStore& store,
                                                 const model::ScalingPolicy& policy, TimeMs now) {
  if (!policy.predictiveScaling || !policy.predictiveScaling->forecastAndScale || !policy.enabled) {
    return PredictiveOutcome::NotDue;
  }
  const PredictiveScalingConfiguration& c = *policy.predictiveScaling;
  TimeMs hour = activeForecastHour(now, c.schedulingBufferTime);
  if (c.scaledHour == hour) {
    return PredictiveOutcome::NotDue;
  }
  TIDE_ASSIGN_OR_RETURN(auto g, tx.autoScalingGroup(policy.autoScalingGroupName));
  if (!g || g->deleting) {
    return PredictiveOutcome::NotDue;
  }
  model::AutoScalingGroup group = std::move(*g);
  model::ScalingPolicy updated = policy;
  updated.predictiveScaling->scaledHour = hour;
  TIDE_RETURN_IF_ERROR(tx.putScalingPolicy(updated));

  const PredictiveScalingMetricSpecification& spec = c.metricSpecifications.at(0);
  TIDE_ASSIGN_OR_RETURN(auto history, loadHistory(store, group, spec, now));
  // The forecast from the hour in progress on; the active hour is the first or the second.
  LoadForecast load = forecastLoad(history, now, 1);
  auto at = std::find(load.timestamps.begin(), load.timestamps.end(), hour);
  if (at == load.timestamps.end()) {
    return PredictiveOutcome::NoData;
  }
  double forecast = load.values[at - load.timestamps.begin()];
  int computed = capacityForLoad(forecast, spec.targetValue);
  BoundedCapacity bounded = boundCapacity(computed, group.minSize, group.maxSize, c);
  if (bounded.capacity <= group.desiredCapacity) {
    return PredictiveOutcome::Unchanged;
  }
  Json details = {{"Policy", policy.policyName},
                  {"PolicyType", policy.policyType},
                  {"Trigger", "forecast for " + hourText(hour)},
                  {"ForecastHour", hourText(hour)},
                  {"SchedulingBufferTime", c.schedulingBufferTime},
                  {"LoadForecast", forecast},
                  {"Forecast", load.seasonal ? "DailyPattern" : "RecentLevel"},
                  {"TargetValue", spec.targetValue},
                  {"ComputedCapacity", computed},
                  {"MinSize", group.minSize},
                  {"MaxSize", group.maxSize},
                  {"PreviousDesiredCapacity", group.desiredCapacity}};
  if (bounded.maxSize != group.maxSize) {
    details["NewMaxSize"] = bounded.maxSize;
    details["MaxCapacityBuffer"] = c.maxCapacityBuffer.value_or(0);
  }
  details["DesiredCapacity"] = bounded.capacity;
  if (bounded.limitedBy != nullptr) {
    details["LimitedBy"] = bounded.limitedBy;
  }
  std::string cause = causeTime(now) + " a predictive scaling policy " + policy.policyName +
                      " forecast a capacity of " + std::to_string(bounded.capacity) +
                      " for the hour starting " + hourText(hour) + " " +
                      changingDesired(group.desiredCapacity, bounded.capacity);
  group.maxSize = bounded.maxSize;
  TIDE_RETURN_IF_ERROR(
      changeDesiredCapacity(tx, group, bounded.capacity, cause, now, details.dump()));
  return PredictiveOutcome::Raised;
}

} // namespace tide::operations
