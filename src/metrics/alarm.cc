#include "metrics/alarm.h"

#include "metrics/metric_queries.h"

#include "model/names.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <ctime>

namespace tide::metrics {
namespace {

constexpr int kExtraRangePeriods = 2;        // evaluation range = N + this many periods
constexpr int kMaxEvaluationSeconds = 86400; // EvaluationPeriods × Period, one day
constexpr size_t kMaxActions = 5;
constexpr size_t kMaxArnLength = 1024;

struct OperatorRow {
  ComparisonOperator op;
  std::string_view name;
  std::string_view phrase; // how reasons say it: "greater than"
};
constexpr std::array kOperators{
    OperatorRow{ComparisonOperator::GreaterThanOrEqualToThreshold, "GreaterThanOrEqualToThreshold",
                "greater than or equal to"},
    OperatorRow{ComparisonOperator::GreaterThanThreshold, "GreaterThanThreshold", "greater than"},
    OperatorRow{ComparisonOperator::LessThanThreshold, "LessThanThreshold", "less than"},
    OperatorRow{ComparisonOperator::LessThanOrEqualToThreshold, "LessThanOrEqualToThreshold",
                "less than or equal to"},
};

struct TreatMissingRow {
  TreatMissingData treat;
  std::string_view name;
};
constexpr std::array kTreatMissing{
    TreatMissingRow{TreatMissingData::Missing, "missing"},
    TreatMissingRow{TreatMissingData::NotBreaching, "notBreaching"},
    TreatMissingRow{TreatMissingData::Breaching, "breaching"},
    TreatMissingRow{TreatMissingData::Ignore, "ignore"},
};

struct StateRow {
  std::string_view name;
};
// For the error's list of valid values; the names themselves are model/names.h's.
const std::array kStates{
    StateRow{model::alarmStateValueName(AlarmStateValue::Ok)},
    StateRow{model::alarmStateValueName(AlarmStateValue::Alarm)},
    StateRow{model::alarmStateValueName(AlarmStateValue::InsufficientData)},
};

const OperatorRow& operatorRow(ComparisonOperator op) {
  for (const OperatorRow& row : kOperators) {
    if (row.op == op) {
      return row;
    }
  }
  assert(false && "operator missing from kOperators");
  return kOperators[0];
}

template <typename Rows> std::string validNames(const Rows& rows) {
  std::string out = "[";
  for (const auto& row : rows) {
    out += (out.size() > 1 ? ", " : "") + std::string(row.name);
  }
  return out + "]";
}

Status missing(std::string_view field) {
  return Status("MissingParameter", "The parameter " + std::string(field) + " is required.");
}

Status invalid(std::string message) {
  return validationError(std::move(message));
}

// "27/11/26 21:18:00": how CloudWatch's reasons print a datapoint's time (UTC).
std::string formatReasonTime(TimeMs t) {
  time_t secs = static_cast<time_t>(floorDiv(t, 1000));
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[32];
  snprintf(buf, sizeof buf, "%02d/%02d/%02d %02d:%02d:%02d", tm.tm_mday, tm.tm_mon + 1,
           tm.tm_year % 100, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string plural(int n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

// One period of the evaluation range that had data.
struct EvaluatedPoint {
  TimeMs timestamp = 0;
  double value = 0;
  double sampleCount = 0;
  bool breaching = false;
};

bool breaches(ComparisonOperator op, double value, double threshold) {
  switch (op) {
  case ComparisonOperator::GreaterThanOrEqualToThreshold:
    return value >= threshold;
  case ComparisonOperator::GreaterThanThreshold:
    return value > threshold;
  case ComparisonOperator::LessThanThreshold:
    return value < threshold;
  case ComparisonOperator::LessThanOrEqualToThreshold:
    return value <= threshold;
  }
  return false;
}

// "[85.2 (27/11/26 21:18:00), 80.1 (27/11/26 21:17:50)]", newest first.
std::string datapointList(const std::vector<EvaluatedPoint>& points) {
  std::string out = "[";
  for (auto it = points.rbegin(); it != points.rend(); ++it) {
    if (it != points.rbegin()) {
      out += ", ";
    }
    out += formatReasonNumber(it->value) + " (" + formatReasonTime(it->timestamp) + ")";
  }
  return out + "]";
}

std::string reasonData(const AlarmSpec& spec, const std::vector<EvaluatedPoint>& points,
                       TimeMs rangeStart, TimeMs now) {
  std::string out = "{\"version\":\"1.0\",\"queryDate\":\"" + formatIso8601(now) +
                    "\",\"startDate\":\"" +
                    formatIso8601(points.empty() ? rangeStart : points.front().timestamp) + "\",";
  if (spec.statistic) {
    out += "\"statistic\":\"" + std::string(statisticName(*spec.statistic)) + "\",";
  } else if (!spec.extendedStatistic.empty()) {
    out += "\"extendedStatistic\":\"" + spec.extendedStatistic + "\",";
  }
  out += "\"period\":" + std::to_string(spec.periodSeconds) + ",\"recentDatapoints\":[";
  for (size_t i = 0; i < points.size(); ++i) {
    out += (i ? "," : "") + formatReasonNumber(points[i].value);
  }
  out += "],\"threshold\":" + formatReasonNumber(*spec.threshold) + ",\"evaluatedDatapoints\":[";
  for (auto it = points.rbegin(); it != points.rend(); ++it) {
    out += (it != points.rbegin() ? "," : "");
    out += "{\"timestamp\":\"" + formatIso8601(it->timestamp) +
           "\",\"sampleCount\":" + formatReasonNumber(it->sampleCount) +
           ",\"value\":" + formatReasonNumber(it->value) + "}";
  }
  return out + "]}";
}

} // namespace

std::string_view comparisonOperatorName(ComparisonOperator op) {
  return operatorRow(op).name;
}

Result<ComparisonOperator> parseComparisonOperator(std::string_view name) {
  for (const OperatorRow& row : kOperators) {
    if (row.name == name) {
      return row.op;
    }
  }
  return invalid("Value '" + std::string(name) +
                 "' at 'ComparisonOperator' failed to satisfy constraint: Member must satisfy "
                 "enum value set: " +
                 validNames(kOperators));
}

std::string_view treatMissingDataName(TreatMissingData t) {
  for (const TreatMissingRow& row : kTreatMissing) {
    if (row.treat == t) {
      return row.name;
    }
  }
  assert(false && "value missing from kTreatMissing");
  return "";
}

Result<TreatMissingData> parseTreatMissingData(std::string_view name) {
  for (const TreatMissingRow& row : kTreatMissing) {
    if (row.name == name) {
      return row.treat;
    }
  }
  return invalid("Value '" + std::string(name) +
                 "' at 'TreatMissingData' failed to satisfy constraint: Member must be one of " +
                 validNames(kTreatMissing));
}

std::string_view stateValueName(AlarmStateValue s) {
  return model::alarmStateValueName(s);
}

Result<AlarmStateValue> parseStateValue(std::string_view name) {
  if (auto s = model::parseAlarmStateValue(name)) {
    return *s;
  }
  return invalid("Value '" + std::string(name) +
                 "' at 'StateValue' failed to satisfy constraint: Member must satisfy enum value "
                 "set: " +
                 validNames(kStates));
}

Status validateAlarmSpec(const AlarmSpec& spec) {
  if (spec.alarmName.empty()) {
    return missing("AlarmName");
  }
  if (spec.alarmName.size() > 255) {
    return invalid("The parameter AlarmName must be at most 255 characters long.");
  }
  for (char c : spec.alarmName) {
    if (static_cast<unsigned char>(c) > 0x7f) {
      return invalid("The parameter AlarmName must contain only ASCII characters.");
    }
  }
  if (!spec.metrics.empty()) {
    if (!spec.namespace_.empty() || !spec.metricName.empty() || spec.statistic ||
        !spec.extendedStatistic.empty() || !spec.dimensions.empty()) {
      return Status("InvalidParameterCombination",
                    "Metrics cannot be given with MetricName, Namespace, Dimensions, Statistic "
                    "or ExtendedStatistic.");
    }
    TIDE_RETURN_IF_ERROR(validateMetricDataQueries(spec.metrics, "Metrics"));
  } else if (spec.namespace_.empty()) {
    return missing("Namespace");
  } else if (spec.metricName.empty()) {
    return missing("MetricName");
  } else {
    TIDE_RETURN_IF_ERROR(validateMetricKey(
        canonicalMetricKey(MetricKey{spec.namespace_, spec.metricName, spec.dimensions})));
  }
  // A metric math alarm has no statistic of its own: its queries name theirs.
  if (spec.statistic && !spec.extendedStatistic.empty()) {
    return Status("InvalidParameterCombination",
                  "Exactly one of the parameters Statistic and ExtendedStatistic must be set, "
                  "not both.");
  }
  if (spec.metrics.empty() && !spec.statistic && spec.extendedStatistic.empty()) {
    return Status("MissingParameter",
                  "One of the parameters Statistic and ExtendedStatistic is required.");
  }
  if (!spec.extendedStatistic.empty() && !parsePercentile(spec.extendedStatistic)) {
    return invalid("The parameter ExtendedStatistic must be p0 to p100 with at most two "
                   "decimals; it is '" +
                   spec.extendedStatistic + "'.");
  }
  if (spec.periodSeconds == 0) {
    return missing("Period");
  }
  if (!isAllowedPeriod(spec.periodSeconds)) {
    return invalid("The parameter Period must be 1, 5, 10, 30 or a multiple of 60; it is " +
                   std::to_string(spec.periodSeconds) + ".");
  }
  if (spec.evaluationPeriods == 0) {
    return missing("EvaluationPeriods");
  }
  if (spec.evaluationPeriods < 1) {
    return invalid("The parameter EvaluationPeriods must be at least 1; it is " +
                   std::to_string(spec.evaluationPeriods) + ".");
  }
  if (int64_t{spec.evaluationPeriods} * spec.periodSeconds > kMaxEvaluationSeconds) {
    return invalid("The parameters EvaluationPeriods × Period must not exceed 86400 seconds "
                   "(one day); they make " +
                   std::to_string(int64_t{spec.evaluationPeriods} * spec.periodSeconds) + ".");
  }
  if (spec.datapointsToAlarm &&
      (*spec.datapointsToAlarm < 1 || *spec.datapointsToAlarm > spec.evaluationPeriods)) {
    return invalid("The parameter DatapointsToAlarm must be 1 to EvaluationPeriods (" +
                   std::to_string(spec.evaluationPeriods) + "); it is " +
                   std::to_string(*spec.datapointsToAlarm) + ".");
  }
  if (!spec.threshold) {
    return missing("Threshold");
  }
  if (!std::isfinite(*spec.threshold)) {
    return invalid("The parameter Threshold must be a finite number.");
  }
  if (!spec.comparisonOperator) {
    return missing("ComparisonOperator");
  }
  struct ActionList {
    std::string_view field;
    const std::vector<std::string>* arns;
  };
  for (const ActionList& list :
       {ActionList{"AlarmActions", &spec.alarmActions}, ActionList{"OKActions", &spec.okActions},
        ActionList{"InsufficientDataActions", &spec.insufficientDataActions}}) {
    if (list.arns->size() > kMaxActions) {
      return invalid("The parameter " + std::string(list.field) +
                     " must have at most 5 members; it has " + std::to_string(list.arns->size()) +
                     ".");
    }
    for (const std::string& arn : *list.arns) {
      if (arn.rfind("arn:", 0) != 0 || arn.size() > kMaxArnLength) {
        return invalid("The parameter " + std::string(list.field) + " has an invalid ARN: '" + arn +
                       "'.");
      }
    }
  }
  return Status::ok();
}

int datapointsToAlarm(const AlarmSpec& spec) {
  return spec.datapointsToAlarm.value_or(spec.evaluationPeriods);
}

AlarmState initialAlarmState(TimeMs now) {
  AlarmState s;
  s.stateUpdatedTimestamp = now;
  return s;
}

const std::vector<std::string>& actionsForState(const AlarmSpec& spec, AlarmStateValue state) {
  switch (state) {
  case AlarmStateValue::Ok:
    return spec.okActions;
  case AlarmStateValue::Alarm:
    return spec.alarmActions;
  case AlarmStateValue::InsufficientData:
    return spec.insufficientDataActions;
  }
  assert(false && "unknown alarm state");
  return spec.alarmActions;
}

std::string formatReasonNumber(double value) {
  char buf[64];
  double magnitude = std::fabs(value);
  bool fixed = magnitude == 0 || (magnitude >= 1e-4 && magnitude < 1e15);
  auto res = fixed ? std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed)
                   : std::to_chars(buf, buf + sizeof buf, value);
  std::string out(buf, res.ptr);
  if (out.find_first_of(".e") == std::string::npos) {
    out += ".0";
  }
  return out;
}

AlarmEvaluation evaluateAlarm(const AlarmSpec& spec, const AlarmState& current,
                              const MetricStore& store, TimeMs now) {
  const int n = spec.evaluationPeriods;
  const int m = datapointsToAlarm(spec);
  const double threshold = *spec.threshold;
  const ComparisonOperator op = *spec.comparisonOperator;
  const int64_t periodMs = int64_t{spec.periodSeconds} * 1000;

  // The evaluation range: the last N + 2 complete periods.
  TimeMs rangeEnd = floorDiv(now, periodMs) * periodMs;
  TimeMs rangeStart = rangeEnd - (n + kExtraRangePeriods) * periodMs;
  StatisticsQuery query;
  query.metric = MetricKey{spec.namespace_, spec.metricName, spec.dimensions};
  query.startTime = rangeStart;
  query.endTime = rangeEnd;
  query.periodSeconds = spec.periodSeconds;
  query.statistics = {Statistic::SampleCount};
  if (spec.statistic) {
    if (*spec.statistic != Statistic::SampleCount) {
      query.statistics.push_back(*spec.statistic);
    }
  } else {
    query.extendedStatistics = {spec.extendedStatistic};
  }
  std::vector<EvaluatedPoint> points; // oldest first
  if (!spec.metrics.empty()) {
    // A metric math alarm: one datapoint per period the returned series has.
    auto series =
        evaluateMetricDataQueries(spec.metrics, store, rangeStart, rangeEnd, spec.periodSeconds);
    if (series) {
      for (const auto& [t, v] : *series) {
        EvaluatedPoint p;
        p.timestamp = t;
        p.sampleCount = 1;
        p.value = v;
        p.breaching = breaches(op, v, threshold);
        points.push_back(p);
      }
    }
  }
  for (const Datapoint& dp :
       spec.metrics.empty() ? store.aggregate(query) : std::vector<Datapoint>{}) {
    EvaluatedPoint p;
    p.timestamp = dp.timestamp;
    p.sampleCount = dp.sampleCount.value_or(0);
    if (!spec.statistic) {
      if (dp.extendedStatistics.empty()) {
        continue;
      }
      p.value = dp.extendedStatistics.front().second;
    } else {
      switch (*spec.statistic) {
      case Statistic::SampleCount:
        p.value = *dp.sampleCount;
        break;
      case Statistic::Average:
        p.value = *dp.average;
        break;
      case Statistic::Sum:
        p.value = *dp.sum;
        break;
      case Statistic::Minimum:
        p.value = *dp.minimum;
        break;
      case Statistic::Maximum:
        p.value = *dp.maximum;
        break;
      }
    }
    p.breaching = breaches(op, p.value, threshold);
    points.push_back(p);
  }
  if (static_cast<int>(points.size()) > n) {
    points.erase(points.begin(), points.end() - n);
  }
  const int k = static_cast<int>(points.size());
  const int breaching = static_cast<int>(std::count_if(
      points.begin(), points.end(), [](const EvaluatedPoint& p) { return p.breaching; }));
  const int notBreaching = k - breaching;
  const int fill = n - k; // missing datapoints that stand in for real ones

  // Decide: a new state, or nullopt to keep the current one.
  std::optional<AlarmStateValue> next;
  int filledAsBreaching = 0;      // of `fill`
  bool filledAsTreatment = false; // whether the reason mentions the filling
  if (k == 0) {
    switch (spec.treatMissingData) {
    case TreatMissingData::Missing:
      next = AlarmStateValue::InsufficientData;
      break;
    case TreatMissingData::Ignore:
      break;
    case TreatMissingData::Breaching:
      next = AlarmStateValue::Alarm;
      filledAsBreaching = fill;
      break;
    case TreatMissingData::NotBreaching:
      next = AlarmStateValue::Ok;
      break;
    }
  } else if (fill == 0) {
    next = breaching >= m ? AlarmStateValue::Alarm : AlarmStateValue::Ok;
  } else if (spec.treatMissingData == TreatMissingData::Breaching) {
    filledAsBreaching = fill;
    filledAsTreatment = true;
    next = breaching + fill >= m ? AlarmStateValue::Alarm : AlarmStateValue::Ok;
  } else if (spec.treatMissingData == TreatMissingData::NotBreaching || notBreaching > 0) {
    filledAsTreatment = true;
    next = breaching >= m ? AlarmStateValue::Alarm : AlarmStateValue::Ok;
  } else if (breaching >= m) {
    next = AlarmStateValue::Alarm;
  } else if (spec.treatMissingData == TreatMissingData::Missing) {
    next = AlarmStateValue::InsufficientData;
  } // else ignore: keep the current state

  if (!next || *next == current.stateValue) {
    return AlarmEvaluation{current, false, {}};
  }

  // The reason, in CloudWatch's words where it has them.
  const std::string phrase(operatorRow(op).phrase);
  const std::string thr = formatReasonNumber(threshold);
  const std::string from(stateValueName(current.stateValue));
  std::string reason;
  if (*next == AlarmStateValue::InsufficientData) {
    if (k == 0) {
      reason = "Insufficient Data: " + plural(n, "datapoint") + (n == 1 ? " was" : " were") +
               " unknown.";
    } else {
      reason = "Insufficient Data: " + std::to_string(fill) + " out of the last " +
               plural(n, "datapoint") + (fill == 1 ? " was" : " were") + " unknown and " +
               std::to_string(k) + " " + datapointList(points) + (k == 1 ? " was " : " were ") +
               phrase + " the threshold (" + thr + "), fewer than the " + std::to_string(m) +
               " needed for ALARM.";
    }
  } else if (k == 0) {
    reason = "Threshold Crossed: no datapoints were received for " + plural(n, "period") + " and " +
             std::to_string(n) + " missing " + (n == 1 ? "datapoint was" : "datapoints were") +
             " treated as [" + (filledAsBreaching ? "Breaching" : "NonBreaching") + "].";
  } else {
    bool alarm = *next == AlarmStateValue::Alarm;
    int count = alarm ? breaching + filledAsBreaching : notBreaching + (fill - filledAsBreaching);
    int minimum = alarm ? m : n - m + 1;
    if (n == 1) {
      reason = "Threshold Crossed: 1 datapoint " + datapointList(points) + " was " +
               (alarm ? "" : "not ") + phrase + " the threshold (" + thr + ").";
    } else {
      reason = "Threshold Crossed: " + std::to_string(count) + " out of the last " +
               plural(n, "datapoint") + " " + datapointList(points) +
               (count == 1 ? " was " : " were ") + (alarm ? "" : "not ") + phrase +
               " the threshold (" + thr + ") (minimum " + plural(minimum, "datapoint") + " for " +
               from + " -> " + std::string(stateValueName(*next)) + " transition).";
    }
    if (filledAsTreatment) {
      reason += " " + std::to_string(fill) + " missing " +
                (fill == 1 ? "datapoint was" : "datapoints were") + " treated as [" +
                (filledAsBreaching ? "Breaching" : "NonBreaching") + "].";
    }
  }

  AlarmEvaluation out;
  out.state.stateValue = *next;
  out.state.stateReason = std::move(reason);
  out.state.stateReasonData = reasonData(spec, points, rangeStart, now);
  out.state.stateUpdatedTimestamp = now;
  out.changed = true;
  if (spec.actionsEnabled) {
    out.actions = actionsForState(spec, *next);
  }
  return out;
}

std::optional<double> latestAlarmValue(const AlarmSpec& spec, const MetricStore& store,
                                       TimeMs now) {
  const int64_t periodMs = int64_t{spec.periodSeconds} * 1000;
  TimeMs end = floorDiv(now, periodMs) * periodMs;
  TimeMs start = end - periodMs * std::max(1, spec.evaluationPeriods);
  math::Series series;
  if (!spec.metrics.empty()) {
    auto s = evaluateMetricDataQueries(spec.metrics, store, start, end, spec.periodSeconds);
    if (!s) {
      return std::nullopt;
    }
    series = std::move(*s);
  } else {
    std::string stat =
        spec.statistic ? std::string(statisticName(*spec.statistic)) : spec.extendedStatistic;
    series = statisticSeries(store, MetricKey{spec.namespace_, spec.metricName, spec.dimensions},
                             stat, "", start, end, spec.periodSeconds);
  }
  if (series.empty()) {
    return std::nullopt;
  }
  return series.rbegin()->second;
}

} // namespace tide::metrics
