// Auto Scaling's GetPredictiveScalingForecast (issue 11, item 6): a predictive scaling policy's
// hourly load and capacity forecast, computed when asked from the group's metric history
// (operations/predictive_scaling.h says how). PutScalingPolicy and DescribePolicies take and
// show the policy itself (actions_auto_scaling.cc, predictive_scaling_shapes.h).
#include "api/auto_scaling_shapes.h"
#include "api/handlers.h"
#include "api/params.h"
#include "api/predictive_scaling_shapes.h"
#include "operations/predictive_scaling.h"

#include <cmath>

namespace tide::api {

namespace {

constexpr TimeMs kDayMs = 24LL * 3600 * 1000;
constexpr TimeMs kMaxRangeMs = 30 * kDayMs; // "The maximum time duration ... is 30 days."
constexpr TimeMs kMaxPastMs = 365 * kDayMs; // "At most ... one year before the current date"

// A required timestamp parameter: ISO 8601 or seconds since the epoch.
Result<TimeMs> reqTime(const Json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) {
    return Status("ValidationError", std::string("1 validation error detected: Value null at '") +
                                         name +
                                         "' failed to satisfy constraint: Member must not "
                                         "be null");
  }
  std::optional<TimeMs> t;
  if (it->is_number()) {
    t = static_cast<TimeMs>(std::llround(it->get<double>() * 1000));
  } else if (it->is_string()) {
    t = parseTimestamp(it->get<std::string>());
  }
  if (!t) {
    return validationError(std::string(name) +
                           " must be an ISO 8601 time or seconds since the epoch");
  }
  return *t;
}

Json timestampsJson(const std::vector<TimeMs>& ts) {
  Json out = Json::array();
  for (TimeMs t : ts) {
    out.push_back(formatIso8601(t));
  }
  return out;
}

} // namespace

Result<Json> getPredictiveScalingForecast(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"AutoScalingGroupName", "PolicyName", "StartTime", "EndTime"}));
  auto group = reqString(p, "AutoScalingGroupName");
  auto name = reqString(p, "PolicyName");
  auto start = reqTime(p, "StartTime");
  auto end = reqTime(p, "EndTime");
  TIDE_RETURN_IF_ERROR(
      firstError({&group.status(), &name.status(), &start.status(), &end.status()}));
  TimeMs now = ctx.clock.now();
  if (*end <= *start) {
    return validationError("EndTime must be after StartTime");
  }
  if (*end - *start > kMaxRangeMs) {
    return validationError("The time range between StartTime and EndTime must not exceed 30 days");
  }
  if (*start < now - kMaxPastMs) {
    return validationError("StartTime must not be more than one year before the current time");
  }
  model::AutoScalingGroup g;
  model::ScalingPolicy policy;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(g, findGroup(tx, *group));
        TIDE_ASSIGN_OR_RETURN(auto policies, tx.scalingPolicies(*group));
        for (auto& pol : policies) {
          if (pol.policyName == *name) {
            policy = std::move(pol);
            break;
          }
        }
        if (policy.policyName.empty()) {
          return validationError("Policy " + *name + " not found in AutoScalingGroup " + *group);
        }
        if (!policy.predictiveScaling) {
          return validationError("Policy " + *name + " is a " + policy.policyType +
                                 " policy, not a PredictiveScaling policy");
        }
        return Status::ok();
      },
      false));

  operations::PolicyForecast forecast;
  forecast.updateTime = now;
  if (ctx.metrics != nullptr) {
    TIDE_ASSIGN_OR_RETURN(forecast, operations::forecastPolicy(*ctx.metrics, g, policy, now));
  }
  std::vector<TimeMs> timestamps;
  Json loadValues = Json::array();
  Json capacityValues = Json::array();
  for (size_t i = 0; i < forecast.load.timestamps.size(); ++i) {
    TimeMs t = forecast.load.timestamps[i];
    if (t < *start || t >= *end) {
      continue;
    }
    timestamps.push_back(t);
    loadValues.push_back(forecast.load.values[i]);
    capacityValues.push_back(static_cast<double>(forecast.capacity[i]));
  }
  Json load = {{"Timestamps", timestampsJson(timestamps)},
               {"Values", loadValues},
               {"MetricSpecification", predictiveMetricSpecificationJson(
                                           policy.predictiveScaling->metricSpecifications.at(0))}};
  return Json{{"LoadForecast", Json::array({load})},
              {"CapacityForecast",
               {{"Timestamps", timestampsJson(timestamps)}, {"Values", capacityValues}}},
              {"UpdateTime", formatIso8601(forecast.updateTime)}};
}

} // namespace tide::api
