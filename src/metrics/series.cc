#include "metrics/series.h"

#include "metrics/units.h"
#include "metrics/value_histogram.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace tide::metrics {
namespace {

constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxDimensionValueLength = 1024;
constexpr size_t kMaxDimensions = 30;
constexpr size_t kMaxDimensionFilters = 10;
constexpr size_t kMaxStatistics = 5;
constexpr size_t kMaxExtendedStatistics = 10;
constexpr int64_t kMaxDatapoints = 1440;

struct StatisticRow {
  Statistic statistic;
  std::string_view name;
};
constexpr std::array kStatistics{
    StatisticRow{Statistic::SampleCount, "SampleCount"},
    StatisticRow{Statistic::Average, "Average"},
    StatisticRow{Statistic::Sum, "Sum"},
    StatisticRow{Statistic::Minimum, "Minimum"},
    StatisticRow{Statistic::Maximum, "Maximum"},
};

Status invalidValue(std::string message) {
  return Status("InvalidParameterValue", std::move(message));
}

// The statistics of one period while it is being summed up.
struct PeriodAccumulator {
  double sum = 0;
  double min = 0;
  double max = 0;
  double count = 0;
  // {value, how many}: only when percentiles are asked for.
  std::vector<std::pair<double, double>> values;
};

// Nearest rank over weighted values: the smallest value with at least p % of the total weight
// at or below it. Sorts `values`.
double nearestRank(std::vector<std::pair<double, double>>& values, double percentile) {
  std::sort(values.begin(), values.end());
  double total = 0;
  for (const auto& [v, n] : values) {
    total += n;
  }
  double rank = std::max(std::ceil(percentile / 100.0 * total), 1.0);
  double seen = 0;
  for (const auto& [v, n] : values) {
    seen += n;
    if (seen >= rank) {
      return v;
    }
  }
  return values.back().first;
}

} // namespace

MetricKey canonicalMetricKey(MetricKey key) {
  std::sort(key.dimensions.begin(), key.dimensions.end());
  return key;
}

Status validateMetricKey(const MetricKey& key) {
  if (key.namespace_.empty()) {
    return Status("MissingParameter", "The parameter Namespace is required.");
  }
  if (key.namespace_.size() > kMaxNameLength) {
    return invalidValue("The parameter Namespace must be at most 255 characters long.");
  }
  if (key.metricName.empty()) {
    return Status("MissingParameter", "The parameter MetricName is required.");
  }
  if (key.metricName.size() > kMaxNameLength) {
    return invalidValue("The parameter MetricName must be at most 255 characters long.");
  }
  if (key.dimensions.size() > kMaxDimensions) {
    return invalidValue("The parameter Dimensions must have at most 30 members; it has " +
                        std::to_string(key.dimensions.size()) + ".");
  }
  for (size_t i = 0; i < key.dimensions.size(); ++i) {
    const auto& [name, value] = key.dimensions[i];
    if (name.empty() || name.size() > kMaxNameLength) {
      return invalidValue("The parameter Dimensions.member." + std::to_string(i + 1) +
                          ".Name must be 1 to 255 characters long.");
    }
    if (value.empty() || value.size() > kMaxDimensionValueLength) {
      return invalidValue("The parameter Dimensions.member." + std::to_string(i + 1) +
                          ".Value must be 1 to 1024 characters long.");
    }
    for (size_t j = 0; j < i; ++j) {
      if (key.dimensions[j].first == name) {
        return invalidValue("The parameter Dimensions names the dimension '" + name +
                            "' more than once.");
      }
    }
  }
  return Status::ok();
}

std::string_view statisticName(Statistic s) {
  for (const StatisticRow& row : kStatistics) {
    if (row.statistic == s) {
      return row.name;
    }
  }
  assert(false && "statistic missing from kStatistics");
  return "";
}

std::optional<Statistic> parseStatistic(std::string_view name) {
  for (const StatisticRow& row : kStatistics) {
    if (row.name == name) {
      return row.statistic;
    }
  }
  return std::nullopt;
}

std::optional<double> parsePercentile(std::string_view name) {
  if (name.size() < 2 || name[0] != 'p') {
    return std::nullopt;
  }
  std::string_view digits = name.substr(1);
  size_t dot = digits.find('.');
  std::string_view whole = digits.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : digits.substr(dot + 1);
  if (whole.empty() || whole.size() > 3 || (dot != std::string_view::npos && fraction.empty()) ||
      fraction.size() > 2) {
    return std::nullopt;
  }
  double value = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  double scale = 0.1;
  for (char c : fraction) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value += (c - '0') * scale;
    scale /= 10;
  }
  if (value > 100.0) {
    return std::nullopt;
  }
  return value;
}

bool isAllowedPeriod(int periodSeconds) {
  if (periodSeconds <= 0) {
    return false;
  }
  return periodSeconds == 1 || periodSeconds == 5 || periodSeconds == 10 || periodSeconds == 30 ||
         periodSeconds % 60 == 0;
}

MetricStore::MetricStore(const Clock& clock, MetricStoreOptions options)
    : clock_(clock), options_(options) {
  assert(options_.retentionSeconds > 0);
  assert(options_.maxFutureSeconds >= 0);
}

int64_t MetricStore::firstRetainedSecond(TimeMs now) const {
  return floorDiv(now, 1000) - options_.retentionSeconds + 1;
}

void MetricStore::dropBefore(Series& series, int64_t firstSecond) {
  while (!series.buckets.empty() && series.buckets.front().second < firstSecond) {
    series.buckets.pop_front();
  }
}

Status MetricStore::put(const MetricKey& key, TimeMs t, double value) {
  const double one = 1;
  return putValues(key, t, std::span<const double>(&value, 1), std::span<const double>(&one, 1));
}

void MetricStore::addTo(Bucket& b, double value, double count) {
  if (b.cells == nullptr && value != b.min) {
    // A second distinct value: the second's values so far (all b.min) become a histogram.
    b.cells = std::make_unique<std::vector<Cell>>();
    b.cells->push_back(Cell{valueBucket(b.min), b.count});
  }
  if (b.cells != nullptr) {
    int32_t bucket = valueBucket(value);
    auto it = std::lower_bound(b.cells->begin(), b.cells->end(), bucket,
                               [](const Cell& c, int32_t k) { return c.bucket < k; });
    if (it != b.cells->end() && it->bucket == bucket) {
      it->count += count;
    } else {
      b.cells->insert(it, Cell{bucket, count});
    }
  }
  b.sum += value * count;
  b.min = std::min(b.min, value);
  b.max = std::max(b.max, value);
  b.count += count;
}

Status MetricStore::putValues(const MetricKey& key, TimeMs t, std::span<const double> values,
                              std::span<const double> counts, std::optional<double> exactSum) {
  MetricKey canonical = canonicalMetricKey(key);
  TIDE_RETURN_IF_ERROR(validateMetricKey(canonical));
  if (values.empty()) {
    return invalidValue("The metric " + canonical.metricName + " has no value.");
  }
  if (!counts.empty() && counts.size() != values.size()) {
    return invalidValue("The parameters Values and Counts for metric " + canonical.metricName +
                        " must have as many members; they have " + std::to_string(values.size()) +
                        " and " + std::to_string(counts.size()) + ".");
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return invalidValue("The value for metric " + canonical.metricName +
                          " is not a finite number.");
    }
    if (!counts.empty() && (!std::isfinite(counts[i]) || counts[i] < 0)) {
      return invalidValue("The count for metric " + canonical.metricName +
                          " must be a finite number of at least 0.");
    }
  }
  size_t firstCounted = 0;
  while (firstCounted < counts.size() && counts[firstCounted] == 0) {
    ++firstCounted;
  }
  TimeMs now = clock_.now();
  int64_t second = floorDiv(t, 1000);
  int64_t first = firstRetainedSecond(now);
  if (second < first) {
    return invalidValue("The timestamp " + formatIso8601(t) + " for metric " +
                        canonical.metricName + " is older than the retention of " +
                        std::to_string(options_.retentionSeconds) + " seconds.");
  }
  if (t > now + int64_t{options_.maxFutureSeconds} * 1000) {
    return invalidValue("The timestamp " + formatIso8601(t) + " for metric " +
                        canonical.metricName + " is more than " +
                        std::to_string(options_.maxFutureSeconds) + " seconds in the future.");
  }

  if (firstCounted == values.size()) {
    return Status::ok(); // every count is 0: nothing to put
  }

  std::lock_guard lock(mu_);
  Series& series = series_[std::move(canonical)];
  dropBefore(series, first);
  auto& buckets = series.buckets;
  auto it = buckets.end();
  if (!buckets.empty() && buckets.back().second >= second) {
    // Late or same-second value: find its bucket (rare but allowed).
    it = std::lower_bound(buckets.begin(), buckets.end(), second,
                          [](const Bucket& b, int64_t s) { return b.second < s; });
  }
  if (it == buckets.end() || it->second != second) {
    Bucket fresh;
    fresh.second = second;
    fresh.min = values[firstCounted];
    fresh.max = values[firstCounted];
    it = buckets.insert(it, std::move(fresh));
  }
  double sumBefore = it->sum;
  for (size_t i = 0; i < values.size(); ++i) {
    double count = counts.empty() ? 1.0 : counts[i];
    if (count > 0) {
      addTo(*it, values[i], count);
    }
  }
  if (exactSum) {
    it->sum = sumBefore + *exactSum;
  }
  return Status::ok();
}

Result<std::vector<Datapoint>> MetricStore::statistics(const StatisticsQuery& query) const {
  TIDE_RETURN_IF_ERROR(validateMetricKey(query.metric));
  if (!isAllowedPeriod(query.periodSeconds)) {
    return invalidValue("The parameter Period must be 1, 5, 10, 30 or a multiple of 60; it is " +
                        std::to_string(query.periodSeconds) + ".");
  }
  if (query.startTime >= query.endTime) {
    return invalidValue("The parameter StartTime must be less than the parameter EndTime.");
  }
  if (query.statistics.empty() && query.extendedStatistics.empty()) {
    return Status("MissingParameter", "Must specify either Statistics or ExtendedStatistics.");
  }
  if (!query.statistics.empty() && !query.extendedStatistics.empty()) {
    return Status("InvalidParameterCombination",
                  "Must specify either Statistics or ExtendedStatistics, but not both.");
  }
  if (query.statistics.size() > kMaxStatistics) {
    return invalidValue("The parameter Statistics must have at most 5 members.");
  }
  if (query.extendedStatistics.size() > kMaxExtendedStatistics) {
    return invalidValue("The parameter ExtendedStatistics must have at most 10 members.");
  }
  for (const std::string& p : query.extendedStatistics) {
    if (!parsePercentile(p)) {
      return invalidValue("The value " + p +
                          " for parameter ExtendedStatistics is not valid: use p0 to p100, with "
                          "at most two decimals (p99.9).");
    }
  }
  if (query.unit && !isStandardUnit(*query.unit)) {
    return invalidValue("The parameter Unit is not a CloudWatch unit: '" + *query.unit + "'.");
  }
  int64_t periodMs = int64_t{query.periodSeconds} * 1000;
  int64_t alignedStart = floorDiv(query.startTime, periodMs) * periodMs;
  int64_t datapoints = (query.endTime - alignedStart + periodMs - 1) / periodMs;
  if (datapoints > kMaxDatapoints) {
    return Status("InvalidParameterCombination",
                  "You have requested up to " + std::to_string(datapoints) +
                      " datapoints, which exceeds the limit of 1440. You may reduce the "
                      "datapoints requested by increasing Period, or decreasing the time range.");
  }
  return aggregate(query);
}

std::vector<Datapoint> MetricStore::aggregate(const StatisticsQuery& query) const {
  assert(query.periodSeconds > 0);
  MetricKey key = canonicalMetricKey(query.metric);
  std::string unit(unitFor(key.namespace_, key.metricName));
  if (query.unit && *query.unit != unit) {
    return {};
  }
  std::vector<std::pair<std::string, double>> percentiles; // {name, percentile}
  for (const std::string& name : query.extendedStatistics) {
    if (std::optional<double> p = parsePercentile(name)) {
      percentiles.emplace_back(name, *p);
    }
  }
  int64_t periodMs = int64_t{query.periodSeconds} * 1000;
  int64_t alignedStart = floorDiv(query.startTime, periodMs) * periodMs;
  TimeMs now = clock_.now();

  // Sum the buckets up per period under the lock; compute the statistics after it.
  std::vector<std::pair<TimeMs, PeriodAccumulator>> periods; // ascending period starts
  {
    std::lock_guard lock(mu_);
    auto found = series_.find(key);
    if (found == series_.end()) {
      return {};
    }
    const auto& buckets = found->second.buckets;
    int64_t firstSecond = std::max(floorDiv(alignedStart, 1000), firstRetainedSecond(now));
    auto it = std::lower_bound(buckets.begin(), buckets.end(), firstSecond,
                               [](const Bucket& b, int64_t s) { return b.second < s; });
    for (; it != buckets.end() && it->second * 1000 < query.endTime; ++it) {
      TimeMs periodStart =
          alignedStart + floorDiv(it->second * 1000 - alignedStart, periodMs) * periodMs;
      if (periods.empty() || periods.back().first != periodStart) {
        periods.push_back({periodStart, PeriodAccumulator{0, it->min, it->max, 0, {}}});
      }
      PeriodAccumulator& acc = periods.back().second;
      acc.sum += it->sum;
      acc.count += it->count;
      acc.min = std::min(acc.min, it->min);
      acc.max = std::max(acc.max, it->max);
      if (!percentiles.empty()) {
        if (it->cells == nullptr) {
          acc.values.emplace_back(it->min, it->count); // every value of the second was min
        } else {
          for (const Cell& c : *it->cells) {
            acc.values.emplace_back(std::clamp(valueBucketMiddle(c.bucket), it->min, it->max),
                                    c.count);
          }
        }
      }
    }
  }

  std::vector<Datapoint> out;
  out.reserve(periods.size());
  for (auto& [start, acc] : periods) {
    Datapoint dp;
    dp.timestamp = start;
    dp.unit = unit;
    for (Statistic s : query.statistics) {
      switch (s) {
      case Statistic::SampleCount:
        dp.sampleCount = acc.count;
        break;
      case Statistic::Average:
        dp.average = acc.sum / acc.count;
        break;
      case Statistic::Sum:
        dp.sum = acc.sum;
        break;
      case Statistic::Minimum:
        dp.minimum = acc.min;
        break;
      case Statistic::Maximum:
        dp.maximum = acc.max;
        break;
      }
    }
    for (const auto& [name, p] : percentiles) {
      dp.extendedStatistics.emplace_back(name, nearestRank(acc.values, p));
    }
    out.push_back(std::move(dp));
  }
  return out;
}

Result<std::vector<MetricKey>> MetricStore::listMetrics(const ListMetricsQuery& query) const {
  if (query.dimensions.size() > kMaxDimensionFilters) {
    return invalidValue("The parameter Dimensions must have at most 10 members.");
  }
  for (size_t i = 0; i < query.dimensions.size(); ++i) {
    const DimensionFilter& f = query.dimensions[i];
    if (f.name.empty() || f.name.size() > kMaxNameLength) {
      return invalidValue("The parameter Dimensions.member." + std::to_string(i + 1) +
                          ".Name must be 1 to 255 characters long.");
    }
    if (f.value && (f.value->empty() || f.value->size() > kMaxDimensionValueLength)) {
      return invalidValue("The parameter Dimensions.member." + std::to_string(i + 1) +
                          ".Value must be 1 to 1024 characters long.");
    }
  }
  auto matches = [&](const MetricKey& key) {
    if (query.namespace_ && key.namespace_ != *query.namespace_) {
      return false;
    }
    if (query.metricName && key.metricName != *query.metricName) {
      return false;
    }
    for (const DimensionFilter& f : query.dimensions) {
      auto has = std::any_of(key.dimensions.begin(), key.dimensions.end(), [&](const Dimension& d) {
        return d.first == f.name && (!f.value || d.second == *f.value);
      });
      if (!has) {
        return false;
      }
    }
    return true;
  };

  int64_t first = firstRetainedSecond(clock_.now());
  std::vector<MetricKey> out;
  std::lock_guard lock(mu_);
  for (const auto& [key, series] : series_) {
    if (!series.buckets.empty() && series.buckets.back().second >= first && matches(key)) {
      out.push_back(key);
    }
  }
  return out;
}

std::vector<LatestValue> MetricStore::latest(TimeMs before) const {
  int64_t first = firstRetainedSecond(clock_.now());
  std::vector<LatestValue> out;
  std::lock_guard lock(mu_);
  for (const auto& [key, series] : series_) {
    const auto& buckets = series.buckets;
    auto it = std::lower_bound(buckets.begin(), buckets.end(), before,
                               [](const Bucket& b, TimeMs t) { return b.second * 1000 < t; });
    if (it == buckets.begin()) {
      continue;
    }
    --it;
    if (it->second < first) {
      continue;
    }
    out.push_back(LatestValue{key, it->second * 1000, it->count, it->sum, it->min, it->max});
  }
  return out;
}

void MetricStore::dropExpired() {
  int64_t first = firstRetainedSecond(clock_.now());
  std::lock_guard lock(mu_);
  for (auto it = series_.begin(); it != series_.end();) {
    dropBefore(it->second, first);
    if (it->second.buckets.empty()) {
      it = series_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t MetricStore::metricCount() const {
  std::lock_guard lock(mu_);
  return series_.size();
}

} // namespace tide::metrics
