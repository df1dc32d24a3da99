// A set of metric data queries (CloudWatch's MetricDataQuery as a metric-math alarm and a
// target-tracking policy's customized metric take them) evaluated to the one series they
// return: MetricStat queries read the metric store, expressions are metric math
// (metrics/metric_math.h). Pure: reads the store, writes nothing.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "metrics/metric_math.h"
#include "metrics/series.h"
#include "model/auto_scaling.h"

#include <vector>

namespace tide::metrics {

// Ids valid and unique, exactly one of a metric and an expression each, stats known
// (SampleCount, Average, Sum, Minimum, Maximum or a percentile), expressions that parse and
// reference known ids, and exactly one query with ReturnData. `field` names the list in the
// errors ("Metrics", "TargetTrackingConfiguration.CustomizedMetricSpecification.Metrics").
// Errors: ValidationError naming the query.
Status validateMetricDataQueries(const std::vector<model::MetricDataQuery>& queries,
                                 const std::string& field);

// The series of the query with ReturnData over [start, end), in periods of periodSeconds (a
// MetricStat query's own Period, when set, wins for it). REQUIRES: the queries are valid.
// Errors: ValidationError when an expression cannot be evaluated (a circular reference, an
// array where one series is needed).
Result<math::Series> evaluateMetricDataQueries(const std::vector<model::MetricDataQuery>& queries,
                                               const MetricStore& store, TimeMs start, TimeMs end,
                                               int periodSeconds);

// One statistic ("Average", "p99", ...) of a metric as a series over [start, end).
// REQUIRES: stat is a statistic or a percentile.
math::Series statisticSeries(const MetricStore& store, const MetricKey& key,
                             const std::string& stat, const std::string& unit, TimeMs start,
                             TimeMs end, int periodSeconds);

} // namespace tide::metrics
