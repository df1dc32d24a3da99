// A target tracking policy's TargetTrackingConfiguration in the Auto Scaling API's shapes
// (PutScalingPolicy's request, DescribePolicies' answer), and the Metrics of a metric math
// alarm in CloudWatch's (DescribeAlarms). The semantics: operations/target_tracking.h.
#pragma once

#include "api/action.h"
#include "model/auto_scaling.h"

#include <optional>
#include <vector>

namespace tide::api {

// TargetTrackingConfiguration of a PutScalingPolicy request; nullopt when absent. hasTarget
// says whether TargetValue was given. Errors: ValidationError naming the member (unknown
// members, wrong types); validateTargetTracking checks the rest.
struct ParsedTargetTracking {
  model::TargetTrackingConfiguration config;
  bool hasTarget = false;
};
Result<std::optional<ParsedTargetTracking>> parseTargetTracking(const Json& p);

Json targetTrackingJson(const model::TargetTrackingConfiguration& c);

// One MetricDataQuery {Id, Expression | MetricStat {Metric, Stat, Unit, Period}, Label,
// ReturnData}; `where` names it in errors. Shared with predictive scaling's metrics.
Result<model::MetricDataQuery> readMetricDataQuery(const Json& q, const std::string& where);

// MetricDataQuery [] (CloudWatch's Metrics of an alarm).
Json metricDataQueriesJson(const std::vector<model::MetricDataQuery>& queries);

} // namespace tide::api
