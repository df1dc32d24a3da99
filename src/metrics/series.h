// Time series at 1 s resolution and their statistics: tide's CloudWatch metric store.
//
// Every value put is folded into the 1-second bucket it falls in (sum, count, min, max, and a
// log-linear histogram of the values once a second holds two different ones: value_histogram.h),
// per metric, for a bounded retention (3 hours by default). Queries aggregate buckets into periods,
// as GetMetricStatistics does, and list the metrics that have data, as ListMetrics does.
//
// Periods are aligned to the Unix epoch: a period of P seconds starts at a multiple of P
// seconds. A query's StartTime is rounded down to a period boundary (CloudWatch also rounds
// StartTime down); EndTime is exclusive, and a bucket counts when its second starts before it.
//
// Period: 1, 5, 10 or 30 (high resolution, as CloudWatch allows for high-resolution metrics;
// tide keeps every metric at 1 s, so all of them qualify), or any multiple of 60.
#pragma once

#include "common/clock.h"
#include "common/status.h"

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tide::metrics {

// {Name, Value}: "InstanceId" = "i-0123...", "LoadBalancer" = "app/web/50dc6c495c0c9188", ...
using Dimension = std::pair<std::string, std::string>;

// A metric: namespace, name and dimensions. Two keys name the same series when equal.
struct MetricKey {
  std::string namespace_;            // "AWS/EC2", "AWS/ApplicationELB", "AWS/AutoScaling"
  std::string metricName;            // "CPUUtilization", "RequestCount", ...
  std::vector<Dimension> dimensions; // sorted by name, names unique (see canonicalMetricKey)
  auto operator<=>(const MetricKey&) const = default;
  bool operator==(const MetricKey&) const = default;
};

// The key with its dimensions sorted by name (then value), as the store keeps keys.
MetricKey canonicalMetricKey(MetricKey key);

// Namespace and MetricName 1..255 characters, at most 30 dimensions, dimension names 1..255 and
// unique, values 1..1024. Errors: "MissingParameter" for an empty namespace or name,
// "InvalidParameterValue" otherwise, each naming the field.
Status validateMetricKey(const MetricKey& key);

enum class Statistic {
  SampleCount, // number of values put
  Average,     // Sum / SampleCount
  Sum,         // sum of the values put
  Minimum,     // smallest value put
  Maximum,     // largest value put
};

// "SampleCount", "Average", "Sum", "Minimum", "Maximum".
std::string_view statisticName(Statistic s);
std::optional<Statistic> parseStatistic(std::string_view name);
// An extended statistic "p0" .. "p100" with at most two decimals ("p99", "p99.9") → the
// percentile in [0, 100]; nullopt for anything else.
std::optional<double> parsePercentile(std::string_view name);

// GetMetricStatistics' request.
struct StatisticsQuery {
  MetricKey metric;                            // Namespace, MetricName, Dimensions (all of them)
  TimeMs startTime = 0;                        // inclusive; rounded down to a period boundary
  TimeMs endTime = 0;                          // exclusive
  int periodSeconds = 60;                      // 1, 5, 10, 30 or a multiple of 60
  std::vector<Statistic> statistics;           // up to 5; or ExtendedStatistics, not both
  std::vector<std::string> extendedStatistics; // up to 10 of "p50", "p99.9", ...
  std::optional<std::string> unit;             // when set, a metric of another unit has no data
};

// One period of GetMetricStatistics' answer: only the statistics asked for are set.
struct Datapoint {
  TimeMs timestamp = 0; // the period's start
  std::optional<double> sampleCount;
  std::optional<double> average;
  std::optional<double> sum;
  std::optional<double> minimum;
  std::optional<double> maximum;
  // Asked-for percentiles in the order asked, {"p99", value}: nearest rank over every value
  // put in the period (the smallest value with at least p % of the values at or below it),
  // read from the seconds' histograms: exact when a second held one distinct value, otherwise
  // the middle of the value's histogram bucket (within 1/32 of it, value_histogram.h), kept
  // within the period's Minimum and Maximum.
  std::vector<std::pair<std::string, double>> extendedStatistics;
  std::string unit; // the metric's unit (see units.h)
};

// ListMetrics' Dimensions entry: a metric matches when it has a dimension of this name and,
// when value is set, of this value.
struct DimensionFilter {
  std::string name;                 // 1..255
  std::optional<std::string> value; // 1..1024 when set
};

struct ListMetricsQuery {
  std::optional<std::string> namespace_;   // exact match when set
  std::optional<std::string> metricName;   // exact match when set
  std::vector<DimensionFilter> dimensions; // up to 10, all must match
};

// The latest second of one series (MetricStore::latest).
struct LatestValue {
  MetricKey metric;
  TimeMs timestamp = 0; // the second's start
  double sampleCount = 0;
  double sum = 0;
  double minimum = 0;
  double maximum = 0;
};

struct MetricStoreOptions {
  int retentionSeconds = 3 * 3600; // how long 1 s buckets are kept; shorten for tests
  int maxFutureSeconds = 2 * 3600; // later timestamps are refused (CloudWatch: two hours)
};

// The metric store. Thread-safe: every method may be called from any thread (in tide one
// writer, the metrics publisher, and readers on the control thread: the API and the alarm
// evaluator). One mutex guards everything; this is the control plane, at one put per metric
// per second, not the request path.
//
// Memory: one 48-byte bucket per metric per second that had data, at most retention seconds
// of them (about 520 KB per metric reported every second for 3 hours), plus 12 bytes per
// histogram bucket in the seconds that held more than one distinct value.
class MetricStore {
public:
  // `clock` must outlive the store; it decides what has expired and how far ahead a put may be.
  explicit MetricStore(const Clock& clock, MetricStoreOptions options = {});

  MetricStore(const MetricStore&) = delete;
  MetricStore& operator=(const MetricStore&) = delete;

  // Adds one value at time t to its 1 s bucket; several values in one second aggregate. The
  // dimensions need not be sorted. Errors, with nothing stored: the key's (validateMetricKey);
  // "InvalidParameterValue" for a value that is not finite, or t older than the retention or
  // later than now + maxFutureSeconds.
  Status put(const MetricKey& key, TimeMs t, double value);

  // A distribution in one second, as PutMetricData's Values and Counts put it: values[i] put
  // counts[i] times (every value once when counts is empty). `exactSum`, when the caller knows
  // it (the values being bucket middles of a histogram it kept), is stored as the Sum instead
  // of the sum of values times counts. Errors, with nothing stored: those of put() for each
  // value; "InvalidParameterValue" when counts and values differ in length, for a count that is
  // negative or not finite, or for no value at all.
  Status putValues(const MetricKey& key, TimeMs t, std::span<const double> values,
                   std::span<const double> counts, std::optional<double> exactSum = std::nullopt);

  // GetMetricStatistics: one Datapoint per period that has data, oldest first; periods without
  // data are omitted. Errors (nothing else happens): the key's; "InvalidParameterValue" for a
  // Period that is not allowed, StartTime >= EndTime, an unknown unit or percentile, too many
  // statistics; "MissingParameter" with neither Statistics nor ExtendedStatistics;
  // "InvalidParameterCombination" with both, or for more than 1440 datapoints.
  Result<std::vector<Datapoint>> statistics(const StatisticsQuery& query) const;

  // The aggregation behind statistics(), without the request checks or the 1440-datapoint
  // limit: for the alarm evaluator, whose specs were validated when they were put.
  // REQUIRES: query.periodSeconds > 0. Unknown percentile names are skipped.
  std::vector<Datapoint> aggregate(const StatisticsQuery& query) const;

  // ListMetrics: the metrics with data within the retention that match every filter, sorted
  // by key. Errors: "InvalidParameterValue" for more than 10 filters or an empty name.
  Result<std::vector<MetricKey>> listMetrics(const ListMetricsQuery& query) const;

  // The latest second with data before `before` (exclusive) of every series within the
  // retention, sorted by key: what the Prometheus exposition shows.
  std::vector<LatestValue> latest(TimeMs before) const;

  // Drops buckets older than the retention and metrics left without any. put() does this for
  // the metric it writes; call this now and then (say once a minute) for metrics that stopped.
  void dropExpired();

  // How many metrics the store holds (including expired ones not yet dropped).
  size_t metricCount() const;

  const MetricStoreOptions& options() const { return options_; }

private:
  // One histogram bucket of a second: valueBucket() and how many values fell in it.
  struct Cell {
    int32_t bucket = 0;
    double count = 0;
  };
  struct Bucket {
    int64_t second = 0; // Unix time in seconds of the bucket's start
    double sum = 0;
    double min = 0;
    double max = 0;
    double count = 0; // values put in this second (PutMetricData's Counts may be fractional)
    // Sorted by bucket; null while every value of the second was the same (min == max), which
    // is the common case of one value a second and costs no allocation.
    std::unique_ptr<std::vector<Cell>> cells;
  };
  struct Series {
    std::deque<Bucket> buckets; // ascending by second, one per second with data
  };

  // The first second still within the retention at `now`.
  int64_t firstRetainedSecond(TimeMs now) const;
  // Adds `count` values `value` to a bucket. REQUIRES: mu_ is held.
  static void addTo(Bucket& b, double value, double count);
  // REQUIRES: mu_ is held.
  static void dropBefore(Series& series, int64_t firstSecond);

  const Clock& clock_;
  const MetricStoreOptions options_;
  mutable std::mutex mu_;
  std::map<MetricKey, Series> series_; // guarded by mu_
};

// Floor division for times (periods are aligned to the epoch even before it).
inline int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Whether `periodSeconds` is a Period tide accepts: 1, 5, 10, 30 or a multiple of 60.
bool isAllowedPeriod(int periodSeconds);

} // namespace tide::metrics
