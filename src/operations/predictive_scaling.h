// Predictive scaling policies (PutScalingPolicy PolicyType PredictiveScaling): the checks of a
// PredictiveScalingConfiguration, the forecast, the capacity it asks for, and the step that
// ForecastAndScale takes (control/predictive_scaling_controller.h runs it).
//
// What the forecast is (docs/controllers.md "Predictive scaling" says how it differs from AWS):
// - The load metric's history is read from tide's metric store (1 s resolution, kept 3 hours by
//   default): the group's total CPUUtilization (sum over its instances, in percent), its total
//   NetworkIn/Out and the target group's RequestCount (per minute), or a customized load metric
//   (its queries at 1-minute periods).
// - The forecast is hourly, as AWS's: one value per hour for the hour in progress and the next
//   48, each the mean load expected over that hour.
//   * With at least 24 hours of history, each hour is forecast from the same hour of the day in
//     the history (the mean of that hour-of-day's hourly means: a daily pattern repeats).
//   * With less, every hour is forecast at the recent level: the mean of the last hour of data.
//   * Without history there is no forecast (no timestamps, no values), as AWS before its first.
// - Capacity for an hour: ceil(load / TargetValue) (the load is a total, the target is per
//   instance), at least MinSize and at most MaxSize; with IncreaseMaxCapacity not capped by
//   MaxSize, whose effective value becomes ceil(capacity × (1 + MaxCapacityBuffer / 100)).
// Everything here is deterministic given `now` and the store's content: no clock is read.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "metrics/metric_math.h"
#include "metrics/series.h"
#include "model/auto_scaling.h"
#include "store/store.h"

#include <string>
#include <vector>

namespace tide::operations {

inline constexpr TimeMs kForecastHourMs = 3'600'000; // AWS forecasts hourly
inline constexpr int kForecastHours = 48;            // and two days ahead
inline constexpr int kSeasonalHistoryHours = 24;     // history needed for a daily pattern

// A predefined metric pair and the metrics it names (AWS's PredefinedMetricPairType with its
// scaling and load metric types), and the CloudWatch metric tide reads as its load.
struct PredictiveMetricPair {
  const char* pair;       // PredefinedMetricPairType: "ASGCPUUtilization", ...
  const char* scaling;    // PredefinedScalingMetricType: "ASGAverageCPUUtilization", ...
  const char* load;       // PredefinedLoadMetricType: "ASGTotalCPUUtilization", ...
  const char* namespace_; // the load's CloudWatch metric
  const char* metricName;
  double perSecondScale; // the load per second of data × this: 1 (CPU %), 60 (per minute)
  bool targetGroup;      // dimensioned by the ResourceLabel's target group (else the group)
};
inline constexpr PredictiveMetricPair kPredictiveMetricPairs[] = {
    {"ASGCPUUtilization", "ASGAverageCPUUtilization", "ASGTotalCPUUtilization", "AWS/EC2",
     "CPUUtilization", 1, false},
    {"ASGNetworkIn", "ASGAverageNetworkIn", "ASGTotalNetworkIn", "AWS/EC2", "NetworkIn", 60, false},
    {"ASGNetworkOut", "ASGAverageNetworkOut", "ASGTotalNetworkOut", "AWS/EC2", "NetworkOut", 60,
     false},
    {"ALBRequestCount", "ALBRequestCountPerTarget", "ALBTargetGroupRequestCount",
     "AWS/ApplicationELB", "RequestCount", 60, true},
};

// What PutScalingPolicy checks without the store: exactly one metric specification; its
// TargetValue above 0; either a metric pair or both a scaling and a load metric (each either
// predefined or customized, not both); known metric types; a ResourceLabel with (and only with)
// the request count types, in the form app/LB/ID/targetgroup/TG/ID; valid metric data queries;
// a customized capacity metric only with a customized load metric; SchedulingBufferTime
// 0..3600; MaxCapacityBuffer 0..100, with (and only with) IncreaseMaxCapacity.
// ValidationError naming the member.
Status validatePredictiveScaling(const model::PredictiveScalingConfiguration& c);

// The ResourceLabels' target groups exist and are attached to the group. ValidationError.
Status checkPredictiveResourceLabels(store::Tx& tx, const model::AutoScalingGroup& group,
                                     const model::PredictiveScalingConfiguration& c);

// An hourly load forecast: timestamps are hour starts (UTC), ascending.
struct LoadForecast {
  std::vector<TimeMs> timestamps;
  std::vector<double> values;
  bool seasonal = false; // from the same hours of earlier days; false: the recent level
};

// The forecast of a load series (any resolution, values at their timestamps) for the hour in
// progress at `now` and the `hours` after it. Pure. Empty when history is empty.
LoadForecast forecastLoad(const metrics::math::Series& history, TimeMs now,
                          int hours = kForecastHours);

// The capacity a forecast load asks for, before the group's bounds: ceil(load / target).
// REQUIRES: target > 0.
int capacityForLoad(double load, double target);

// The capacity within the group's bounds (see the top of this file) and the MaxSize that allows
// it (MaxSize itself unless IncreaseMaxCapacity raises it).
struct BoundedCapacity {
  int capacity = 0;
  int maxSize = 0;
  const char* limitedBy = nullptr; // "MinSize", "MaxSize" or nullptr
};
BoundedCapacity boundCapacity(int capacity, int minSize, int maxSize,
                              const model::PredictiveScalingConfiguration& c);

// A policy's forecast now: the load forecast and the capacity for each of its hours.
struct PolicyForecast {
  LoadForecast load;
  std::vector<int> capacity; // one per load timestamp, within the group's bounds
  TimeMs updateTime = 0;     // when it was made (now)
};

// The load history the policy's specification names, from the store: one value per second
// (predefined) or per minute (customized) with data. Errors: a customized query that cannot
// be evaluated (ValidationError).
Result<metrics::math::Series> loadHistory(const metrics::MetricStore& store,
                                          const model::AutoScalingGroup& group,
                                          const model::PredictiveScalingMetricSpecification& spec,
                                          TimeMs now);

// The policy's forecast from the store's history. REQUIRES: policy.predictiveScaling.
Result<PolicyForecast> forecastPolicy(const metrics::MetricStore& store,
                                      const model::AutoScalingGroup& group,
                                      const model::ScalingPolicy& policy, TimeMs now);

// The forecast hour whose capacity ForecastAndScale provides at `now`: the hour that starts
// within bufferSeconds (capacity is in place SchedulingBufferTime before its hour).
TimeMs activeForecastHour(TimeMs now, int bufferSeconds);

// What one ForecastAndScale step did.
enum class PredictiveOutcome {
  NotDue,    // ForecastOnly, disabled, the hour already applied, or the group is being deleted
  NoData,    // no history, so no forecast: nothing changes this hour
  Unchanged, // the desired capacity already covers the forecast (it never scales in)
  Raised,    // the desired capacity was raised (and MaxSize with IncreaseMaxCapacity)
};

// The ForecastAndScale step for one policy at `now`, in the caller's transaction: once per
// forecast hour (remembered in the policy's scaledHour), raises the group's desired capacity
// to the forecast capacity of the active hour when it is higher, with an activity whose Details
// hold the inputs; never lowers it. Writes the policy (scaledHour) and, when raised, the group.
// ForecastOnly and disabled policies: NotDue, nothing written.
Result<PredictiveOutcome> applyPredictiveScaling(store::Tx& tx, const metrics::MetricStore& store,
                                                 const model::ScalingPolicy& policy, TimeMs now);

} // namespace tide::operations
