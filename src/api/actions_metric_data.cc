// CloudWatch GetMetricData: MetricStat queries over the metric store and metric math
// expressions over their results (src/metrics/metric_math.h).
//
// Every query's series covers the periods of [StartTime, EndTime) that have data, at the
// query's Period (aligned to the epoch, as GetMetricStatistics). Expressions take the smallest
// Period of the MetricStat queries they use. Results come in request order, newest datapoint
// first unless ScanBy is TimestampAscending; only queries with ReturnData (default true) are
// returned. MaxDatapoints (default 100800) caps the datapoints of one answer: without
// expressions the rest comes with NextToken, with expressions the results are cut
// (StatusCode PartialData), as CloudWatch does.
#include "api/handlers.h"
#include "api/params.h"
#include "common/text.h"
#include "metrics/metric_math.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

namespace tide::api {

namespace {

namespace math = metrics::math;

constexpr size_t kMaxQueries = 500;
constexpr int64_t kDefaultMaxDatapoints = 100800;

Result<TimeMs> requiredTime(const Json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) {
    return Status("MissingParameter",
                  std::string("The request must contain the parameter ") + name);
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

// One of the request's MetricDataQueries, read.
struct Query {
  std::string id;
  std::string label;
  bool returnData = true;
  // MetricStat
  bool isStat = false;
  metrics::StatisticsQuery stat;
  std::optional<metrics::Statistic> statistic; // else stat.extendedStatistics[0]
  // Expression
  std::optional<math::Expression> expression;
  int periodSeconds = 0; // MetricStat's Period; an expression's, once resolved
};

std::string where(size_t i, const char* member) {
  return "MetricDataQueries.member." + std::to_string(i + 1) + "." + member;
}

Result<Query> readQuery(const Json& q, size_t i, TimeMs start, TimeMs end) {
  if (!q.is_object()) {
    return validationError("MetricDataQueries must be a list of MetricDataQuery structures");
  }
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      q, {"Id", "MetricStat", "Expression", "Label", "ReturnData", "Period", "AccountId"}));
  auto id = reqString(q, "Id");
  auto label = optString(q, "Label");
  auto returnData = optBool(q, "ReturnData");
  auto expression = optString(q, "Expression");
  auto period = optInt(q, "Period");
  TIDE_RETURN_IF_ERROR(firstError({&id.status(), &label.status(), &returnData.status(),
                                   &expression.status(), &period.status()}));
  if (!math::isValidQueryId(*id)) {
    return validationError("Invalid " + where(i, "Id") + " '" + *id +
                           "': an Id starts with a lowercase letter and holds only letters, "
                           "digits and underscores (at most 255 characters)");
  }
  Query out;
  out.id = *id;
  out.returnData = returnData->value_or(true);
  bool hasStat = q.contains("MetricStat") && !q["MetricStat"].is_null();
  if (hasStat == expression->has_value()) {
    return validationError("The query " + *id +
                           " must have exactly one of MetricStat and Expression");
  }
  if (expression->has_value()) {
    auto parsed = math::Expression::parse(**expression);
    if (!parsed) {
      return validationError("Error in expression of " + *id + ": " + parsed.status().message());
    }
    out.expression.emplace(std::move(*parsed));
    out.label = label->value_or(*id);
    return out;
  }
  const Json& ms = q["MetricStat"];
  if (!ms.is_object()) {
    return validationError(where(i, "MetricStat") + " must be a structure");
  }
  TIDE_RETURN_IF_ERROR(checkKnownParams(ms, {"Metric", "Period", "Stat", "Unit"}));
  auto statPeriod = optInt(ms, "Period");
  auto stat = reqString(ms, "Stat");
  auto unit = optString(ms, "Unit");
  TIDE_RETURN_IF_ERROR(firstError({&statPeriod.status(), &stat.status(), &unit.status()}));
  if (!ms.contains("Metric") || !ms["Metric"].is_object()) {
    return Status("MissingParameter",
                  "The parameter " + where(i, "MetricStat.Metric") + " is required");
  }
  const Json& m = ms["Metric"];
  TIDE_RETURN_IF_ERROR(checkKnownParams(m, {"Namespace", "MetricName", "Dimensions"}));
  auto ns = optString(m, "Namespace");
  auto name = optString(m, "MetricName");
  TIDE_RETURN_IF_ERROR(firstError({&ns.status(), &name.status()}));
  metrics::MetricKey key{ns->value_or(""), name->value_or(""), {}};
  if (auto d = m.find("Dimensions"); d != m.end() && !d->is_null()) {
    if (!d->is_array()) {
      return validationError("Dimensions must be a list of {Name, Value}");
    }
    for (const Json& dim : *d) {
      if (!dim.is_object()) {
        return validationError("Dimensions must be a list of {Name, Value}");
      }
      auto dn = reqString(dim, "Name");
      auto dv = reqString(dim, "Value");
      TIDE_RETURN_IF_ERROR(firstError({&dn.status(), &dv.status()}));
      key.dimensions.emplace_back(*dn, *dv);
    }
  }
  key = metrics::canonicalMetricKey(key);
  TIDE_RETURN_IF_ERROR(metrics::validateMetricKey(key));
  if (!statPeriod->has_value()) {
    return Status("MissingParameter",
                  "The parameter " + where(i, "MetricStat.Period") + " is required");
  }
  if (**statPeriod < 1 || **statPeriod > 86400 * 455 ||
      !metrics::isAllowedPeriod(static_cast<int>(**statPeriod))) {
    return validationError("The value " + std::to_string(**statPeriod) + " for " +
                           where(i, "MetricStat.Period") +
                           " is not valid: use 1, 5, 10, 30 or a multiple of 60");
  }
  out.isStat = true;
  out.periodSeconds = static_cast<int>(**statPeriod);
  out.stat.metric = key;
  out.stat.startTime = start;
  out.stat.endTime = end;
  out.stat.periodSeconds = out.periodSeconds;
  out.stat.unit = *unit;
  if (auto s = metrics::parseStatistic(*stat)) {
    out.statistic = *s;
    out.stat.statistics = {*s};
  } else if (metrics::parsePercentile(*stat)) {
    out.stat.extendedStatistics = {*stat};
  } else {
    return validationError("The value '" + *stat + "' for " + where(i, "MetricStat.Stat") +
                           " is not valid: use SampleCount, Average, Sum, Minimum, Maximum or "
                           "a percentile such as p99");
  }
  out.label = label->value_or(key.metricName);
  return out;
}

math::Series statSeries(const metrics::MetricStore& store, const Query& q) {
  math::Series out;
  for (const metrics::Datapoint& d : store.aggregate(q.stat)) {
    std::optional<double> v;
    if (!q.statistic) {
      if (!d.extendedStatistics.empty()) {
        v = d.extendedStatistics[0].second;
      }
    } else {
      switch (*q.statistic) {
      case metrics::Statistic::SampleCount:
        v = d.sampleCount;
        break;
      case metrics::Statistic::Average:
        v = d.average;
        break;
      case metrics::Statistic::Sum:
        v = d.sum;
        break;
      case metrics::Statistic::Minimum:
        v = d.minimum;
        break;
      case metrics::Statistic::Maximum:
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

// Page tokens: the offset of the next datapoint and a fingerprint of the request.
std::string dataToken(size_t offset, const Json& request) {
  return base64Encode("gmd:" + std::to_string(offset) + ":" +
                      std::to_string(std::hash<std::string>{}(request.dump())));
}

Result<size_t> dataOffset(const std::string& token, const Json& request) {
  Status invalid("InvalidNextToken", "The NextToken '" + token + "' is not one this request gave");
  auto text = base64Decode(token);
  if (!text || text->rfind("gmd:", 0) != 0) {
    return invalid;
  }
  size_t colon = text->find(':', 4);
  if (colon == std::string::npos ||
      text->substr(colon + 1) != std::to_string(std::hash<std::string>{}(request.dump()))) {
    return invalid;
  }
  std::string digits = text->substr(4, colon - 4);
  if (digits.empty() || digits.size() > 12 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return invalid;
  }
  return static_cast<size_t>(std::stoull(digits));
}

} // namespace

Result<Json> getMetricData(ActionContext& ctx, const Json& p) {
  if (ctx.metrics == nullptr) {
    return Status("ServiceUnavailable", "this tide server keeps no metrics");
  }
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"MetricDataQueries", "StartTime", "EndTime", "NextToken", "ScanBy",
                           "MaxDatapoints", "LabelOptions"}));
  auto start = requiredTime(p, "StartTime");
  auto end = requiredTime(p, "EndTime");
  auto scanBy = optString(p, "ScanBy");
  auto maxPoints = optInt(p, "MaxDatapoints");
  auto token = optString(p, "NextToken");
  TIDE_RETURN_IF_ERROR(firstError(
      {&start.status(), &end.status(), &scanBy.status(), &maxPoints.status(), &token.status()}));
  if (*start >= *end) {
    return validationError("The parameter StartTime must be less than the parameter EndTime");
  }
  std::string scan = scanBy->value_or("TimestampDescending");
  if (scan != "TimestampDescending" && scan != "TimestampAscending") {
    return validationError("ScanBy must be TimestampDescending or TimestampAscending");
  }
  if (maxPoints->has_value() && **maxPoints < 1) {
    return validationError("MaxDatapoints must be at least 1");
  }
  auto qs = p.find("MetricDataQueries");
  if (qs == p.end() || !qs->is_array() || qs->empty()) {
    return Status("MissingParameter", "The request must contain MetricDataQueries");
  }
  if (qs->size() > kMaxQueries) {
    return validationError("MetricDataQueries holds at most " + std::to_string(kMaxQueries) +
                           " queries, got " + std::to_string(qs->size()));
  }
  std::vector<Query> queries;
  std::map<std::string, size_t> byId;
  for (size_t i = 0; i < qs->size(); ++i) {
    TIDE_ASSIGN_OR_RETURN(Query q, readQuery((*qs)[i], i, *start, *end));
    if (!byId.emplace(q.id, i).second) {
      return validationError("The Id " + q.id + " is used by more than one query");
    }
    queries.push_back(std::move(q));
  }
  if (std::none_of(queries.begin(), queries.end(), [](const Query& q) { return q.returnData; })) {
    return validationError("At least one query must have ReturnData true");
  }
  math::Environment env;
  env.start = *start;
  env.end = *end;
  for (const Query& q : queries) {
    if (q.isStat) {
      env.metricIds.push_back(q.id);
    }
  }
  // Expressions reference ids that exist, and no expression depends on itself.
  for (const Query& q : queries) {
    if (!q.expression) {
      continue;
    }
    for (const std::string& ref : q.expression->references()) {
      if (!byId.count(ref)) {
        return validationError("Error in expression of " + q.id +
                               ": Unrecognized metric identifier '" + ref + "'");
      }
    }
  }
  // Evaluation, depth first: 0 unvisited, 1 in progress, 2 done.
  std::vector<int> mark(queries.size(), 0);
  std::function<Status(size_t)> resolve = [&](size_t i) -> Status {
    Query& q = queries[i];
    if (mark[i] == 2) {
      return Status::ok();
    }
    if (mark[i] == 1) {
      return validationError("Circular dependency: the expression of " + q.id +
                             " depends on itself");
    }
    mark[i] = 1;
    if (q.isStat) {
      env.values[q.id] = statSeries(*ctx.metrics, q);
      mark[i] = 2;
      return Status::ok();
    }
    std::vector<std::string> deps = q.expression->references();
    if (q.expression->usesMetrics()) {
      deps.insert(deps.end(), env.metricIds.begin(), env.metricIds.end());
    }
    int period = 0;
    for (const std::string& d : deps) {
      size_t j = byId[d];
      TIDE_RETURN_IF_ERROR(resolve(j));
      if (queries[j].periodSeconds > 0) {
        period =
            period == 0 ? queries[j].periodSeconds : std::min(period, queries[j].periodSeconds);
      }
    }
    q.periodSeconds = period > 0 ? period : 60;
    env.periodSeconds = q.periodSeconds;
    auto v = q.expression->evaluate(env);
    if (!v) {
      return validationError("Error in expression of " + q.id + ": " + v.status().message());
    }
    math::Series s;
    if (v->kind == math::Value::Kind::Series) {
      s = std::move(v->series[0]);
    } else if (v->kind == math::Value::Kind::Array) {
      return validationError("Error in expression of " + q.id +
                             ": it gives an array of time series; GetMetricData needs one "
                             "(aggregate it with SUM, AVG, MIN or MAX)");
    } else if (std::isfinite(v->scalar)) {
      // A scalar: its value at every timestamp of the series it was computed from (or of every
      // MetricStat query, when it used none).
      std::vector<std::string> from = deps.empty() ? env.metricIds : deps;
      for (const std::string& d : from) {
        for (const auto& [t, x] : env.values[d]) {
          s[t] = v->scalar;
        }
      }
    }
    env.values[q.id] = std::move(s);
    mark[i] = 2;
    return Status::ok();
  };
  for (size_t i = 0; i < queries.size(); ++i) {
    TIDE_RETURN_IF_ERROR(resolve(i));
  }

  bool hasExpression =
      std::any_of(queries.begin(), queries.end(), [](const Query& q) { return !q.isStat; });
  Json fingerprint = p;
  fingerprint.erase("NextToken");
  size_t offset = 0;
  if (token->has_value()) {
    TIDE_ASSIGN_OR_RETURN(offset, dataOffset(**token, fingerprint));
  }
  size_t limit = static_cast<size_t>(maxPoints->value_or(kDefaultMaxDatapoints));
  size_t seen = 0;    // datapoints of the returned queries so far, across queries
  size_t emitted = 0; // datapoints in this answer
  bool more = false;
  Json results = Json::array();
  for (const Query& q : queries) {
    if (!q.returnData) {
      continue;
    }
    const math::Series& s = env.values[q.id];
    std::vector<std::pair<TimeMs, double>> points(s.begin(), s.end());
    if (scan == "TimestampDescending") {
      std::reverse(points.begin(), points.end());
    }
    Json ts = Json::array();
    Json vs = Json::array();
    bool cut = false;
    for (const auto& [t, v] : points) {
      size_t k = seen++;
      if (k < offset) {
        continue;
      }
      if (emitted >= limit) {
        cut = true;
        continue;
      }
      ts.push_back(formatIso8601(t));
      vs.push_back(v);
      ++emitted;
    }
    more = more || cut;
    results.push_back({{"Id", q.id},
                       {"Label", q.label},
                       {"Timestamps", ts},
                       {"Values", vs},
                       {"StatusCode", cut ? "PartialData" : "Complete"},
                       {"Messages", Json::array()}});
  }
  Json out = {{"MetricDataResults", results}, {"Messages", Json::array()}};
  if (more && !hasExpression) {
    out["NextToken"] = dataToken(offset + emitted, fingerprint);
  }
  return out;
}

} // namespace tide::api
