#include "metrics/metric_queries.h"

#include <cmath>
#include <functional>
#include <map>
#include <set>

namespace tide::metrics {

namespace {

bool knownStat(const std::string& stat) {
  return parseStatistic(stat).has_value() || parsePercentile(stat).has_value();
}

} // namespace

Status validateMetricDataQueries(const std::vector<model::MetricDataQuery>& queries,
                                 const std::string& field) {
  if (queries.empty()) {
    return validationError(field + " must have at least one query");
  }
  std::set<std::string> ids;
  int returning = 0;
  for (size_t i = 0; i < queries.size(); ++i) {
    const model::MetricDataQuery& q = queries[i];
    std::string at = field + "." + std::to_string(i + 1);
    if (!math::isValidQueryId(q.id)) {
      return validationError(at + ".Id '" + q.id +
                             "' must start with a lowercase letter and hold only letters, "
                             "digits and underscores");
    }
    if (!ids.insert(q.id).second) {
      return validationError(at + ".Id '" + q.id + "' is used by more than one query");
    }
    bool isStat = !q.metricName.empty();
    if (isStat == !q.expression.empty()) {
      return validationError(at + " must have exactly one of MetricStat and Expression");
    }
    if (isStat) {
      if (q.namespace_.empty()) {
        return validationError(at + ".MetricStat.Metric.Namespace is required");
      }
      if (!knownStat(q.stat)) {
        return validationError(at + ".MetricStat.Stat '" + q.stat +
                               "' must be SampleCount, Average, Sum, Minimum, Maximum or a "
                               "percentile such as p99");
      }
      if (q.period && !isAllowedPeriod(*q.period)) {
        return validationError(at + ".MetricStat.Period must be 1, 5, 10, 30 or a multiple of "
                                    "60");
      }
    } else {
      auto e = math::Expression::parse(q.expression);
      if (!e) {
        return validationError(at + ".Expression: " + e.status().message());
      }
    }
    returning += q.returnData;
  }
  for (size_t i = 0; i < queries.size(); ++i) {
    if (queries[i].expression.empty()) {
      continue;
    }
    auto e = math::Expression::parse(queries[i].expression);
    for (const std::string& ref : e->references()) {
      if (!ids.count(ref)) {
        return validationError(field + "." + std::to_string(i + 1) +
                               ".Expression: Unrecognized metric identifier '" + ref + "'");
      }
    }
  }
  if (returning != 1) {
    return validationError(field + " must have exactly one query with ReturnData true; it has " +
                           std::to_string(returning));
  }
  return Status::ok();
}

math::Series statisticSeries(const MetricStore& store, const MetricKey& key,
                             const std::string& stat, const std::string& unit, TimeMs start,
                             TimeMs end, int periodSeconds) {
  StatisticsQuery q;
  q.metric = canonicalMetricKey(key);
  q.startTime = start;
  q.endTime = end;
  q.periodSeconds = periodSeconds;
  if (!unit.empty()) {
    q.unit = unit;
  }
  std::optional<Statistic> statistic = parseStatistic(stat);
  if (statistic) {
    q.statistics = {*statistic};
  } else {
    q.extendedStatistics = {stat};
  }
  math::Series out;
  for (const Datapoint& d : store.aggregate(q)) {
    std::optional<double> v;
    if (!statistic) {
      if (!d.extendedStatistics.empty()) {
        v = d.extendedStatistics[0].second;
      }
    } else {
      switch (*statistic) {
      case Statistic::SampleCount:
        v = d.sampleCount;
        break;
      case Statistic::Average:
        v = d.average;
        break;
      case Statistic::Sum:
        v = d.sum;
        break;
      case Statistic::Minimum:
        v = d.minimum;
        break;
      case Statistic::Maximum:
        v = d.maximum;
        break;
      }
    }
    if (v && std::isfinite(*v)) {
      out[d.timestamp] = *v;
    }
  }
  return out;
}

Result<math::Series> evaluateMetricDataQueries(const std::vector<model::MetricDataQuery>& queries,
                                               const MetricStore& store, TimeMs start, TimeMs end,
                                               int periodSeconds) {
  math::Environment env;
  env.start = start;
  env.end = end;
  env.periodSeconds = periodSeconds;
  std::map<std::string, size_t> byId;
  for (size_t i = 0; i < queries.size(); ++i) {
    byId[queries[i].id] = i;
    if (!queries[i].metricName.empty()) {
      env.metricIds.push_back(queries[i].id);
    }
  }
  std::vector<int> mark(queries.size(), 0); // 0 unvisited, 1 in progress, 2 done
  std::function<Status(size_t)> resolve = [&](size_t i) -> Status {
    const model::MetricDataQuery& q = queries[i];
    if (mark[i] == 2) {
      return Status::ok();
    }
    if (mark[i] == 1) {
      return validationError("Circular dependency: the expression of " + q.id +
                             " depends on itself");
    }
    mark[i] = 1;
    if (!q.metricName.empty()) {
      MetricKey key{q.namespace_, q.metricName, {}};
      for (const auto& d : q.dimensions) {
        key.dimensions.emplace_back(d.name, d.value);
      }
      env.values[q.id] =
          statisticSeries(store, key, q.stat, q.unit, start, end, q.period.value_or(periodSeconds));
      mark[i] = 2;
      return Status::ok();
    }
    TIDE_ASSIGN_OR_RETURN(auto e, math::Expression::parse(q.expression));
    std::vector<std::string> deps = e.references();
    if (e.usesMetrics()) {
      deps.insert(deps.end(), env.metricIds.begin(), env.metricIds.end());
    }
    for (const std::string& d : deps) {
      auto j = byId.find(d);
      if (j == byId.end()) {
        return validationError("Unrecognized metric identifier '" + d + "'");
      }
      TIDE_RETURN_IF_ERROR(resolve(j->second));
    }
    TIDE_ASSIGN_OR_RETURN(auto v, e.evaluate(env));
    math::Series s;
    if (v.kind == math::Value::Kind::Series) {
      s = std::move(v.series[0]);
    } else if (v.kind == math::Value::Kind::Array) {
      return validationError("The expression of " + q.id +
                             " gives an array of time series; one is needed (aggregate it with "
                             "SUM, AVG, MIN or MAX)");
    } else if (std::isfinite(v.scalar)) {
      for (const std::string& d : deps.empty() ? env.metricIds : deps) {
        for (const auto& [t, x] : env.values[d]) {
          s[t] = v.scalar;
        }
      }
    }
    env.values[q.id] = std::move(s);
    mark[i] = 2;
    return Status::ok();
  };
  for (size_t i = 0; i < queries.size(); ++i) {
    if (queries[i].returnData) {
      TIDE_RETURN_IF_ERROR(resolve(i));
      return env.values[queries[i].id];
    }
  }
  return validationError("No query has ReturnData true");
}

} // namespace tide::metrics
