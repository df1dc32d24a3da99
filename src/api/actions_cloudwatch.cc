// CloudWatch: PutMetricData, GetMetricStatistics, ListMetrics, PutMetricAlarm, DescribeAlarms,
// DeleteAlarms, SetAlarmState, DescribeAlarmHistory, TagResource, UntagResource,
// ListTagsForResource (GetMetricData: actions_metric_data.cc).
//
// Metrics live in memory (metrics::MetricStore, 1 s resolution, bounded retention); alarms are
// desired state in the store, evaluated by the alarm controller.
#include "api/handlers.h"
#include "api/json_text.h"
#include "api/params.h"
#include "api/shapes.h"
#include "api/target_tracking_shapes.h"
#include "metrics/alarm_history.h"
#include "metrics/alarm_model.h"
#include "model/names.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tide::api {

namespace {

Status noMetrics() {
  return Status("ServiceUnavailable", "this tide server keeps no metrics");
}

Result<TimeMs> timestamp(const Json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end()) {
    return Status("MissingParameter",
                  std::string("The request must contain the parameter ") + name);
  }
  std::optional<TimeMs> t;
  if (it->is_number()) {
    t = static_cast<TimeMs>(it->get<double>() * 1000);
  } else if (it->is_string()) {
    t = parseTimestamp(it->get<std::string>());
  }
  if (!t) {
    return Status("InvalidParameterValue",
                  std::string(name) + " must be an ISO 8601 time or seconds since the epoch");
  }
  return *t;
}

Result<std::vector<metrics::Dimension>> dimensions(const Json& p, bool valuesRequired) {
  std::vector<metrics::Dimension> out;
  auto it = p.find("Dimensions");
  if (it == p.end() || it->is_null()) {
    return out;
  }
  if (!it->is_array()) {
    return validationError("Dimensions must be a list of {Name, Value}");
  }
  for (const Json& d : *it) {
    auto name = optString(d, "Name");
    auto value = optString(d, "Value");
    if (!d.is_object() || !name || !value || !name->has_value() ||
        (valuesRequired && !value->has_value())) {
      return validationError("Dimensions must be a list of {Name, Value} strings");
    }
    out.emplace_back(**name, value->value_or(""));
  }
  return out;
}

Json dimensionsJson(const std::vector<metrics::Dimension>& dims) {
  Json out = Json::array();
  for (const auto& [name, value] : dims) {
    out.push_back({{"Name", name}, {"Value", value}});
  }
  return out;
}

// CloudWatch's tags [{Key, Value}]: keys 1..128 characters, values up to 256, "aws:" reserved.
Result<std::vector<model::Tag>> cloudWatchTags(const Json& p, bool required) {
  auto it = p.find("Tags");
  if (it == p.end() || it->is_null()) {
    if (required) {
      return Status("MissingParameter", "The request must contain the parameter Tags");
    }
    return std::vector<model::Tag>();
  }
  TIDE_ASSIGN_OR_RETURN(auto tags, elbTags(p));
  for (size_t i = 0; i < tags.size(); ++i) {
    const model::Tag& t = tags[i];
    if (t.key.empty() || t.key.size() > 128 || t.key.rfind("aws:", 0) == 0) {
      return Status("InvalidParameterValue",
                    "Tag key '" + t.key + "' must be 1 to 128 characters, not starting aws:");
    }
    if (t.value.size() > 256) {
      return Status("InvalidParameterValue",
                    "Value of tag '" + t.key + "' is longer than 256 characters");
    }
    for (size_t j = 0; j < i; ++j) {
      if (tags[j].key == t.key) {
        return Status("InvalidParameterValue", "Tag key '" + t.key + "' is given twice");
      }
    }
  }
  return tags;
}

// The alarm an ARN names ("arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME"):
// InvalidParameterValue for an ARN of anything else, ResourceNotFoundException when no alarm
// has that ARN.
Result<model::MetricAlarm> alarmByArn(store::Tx& tx, const std::string& arn) {
  size_t at = arn.find(":alarm:");
  if (arn.rfind("arn:", 0) != 0 || arn.find(":cloudwatch:") == std::string::npos ||
      at == std::string::npos) {
    return Status("InvalidParameterValue",
                  "ResourceARN '" + arn + "' is not a CloudWatch alarm ARN; tide tags alarms");
  }
  TIDE_ASSIGN_OR_RETURN(auto a, tx.alarm(arn.substr(at + 7)));
  if (!a || a->alarmArn != arn) {
    return Status("ResourceNotFoundException", "The resource '" + arn + "' does not exist");
  }
  return std::move(*a);
}

Json alarmJson(const model::MetricAlarm& a) {
  Json dims = Json::array();
  for (const auto& d : a.dimensions) {
    dims.push_back({{"Name", d.name}, {"Value", d.value}});
  }
  Json j = {
      {"AlarmName", a.alarmName},
      {"AlarmArn", a.alarmArn},
      {"AlarmDescription", a.alarmDescription},
      {"AlarmConfigurationUpdatedTimestamp", formatIso8601(a.alarmConfigurationUpdatedTimestamp)},
      {"ActionsEnabled", a.actionsEnabled},
      {"OKActions", a.okActions},
      {"AlarmActions", a.alarmActions},
      {"InsufficientDataActions", a.insufficientDataActions},
      {"StateValue", std::string(model::alarmStateValueName(a.stateValue))},
      {"StateReason", a.stateReason},
      {"StateUpdatedTimestamp", formatIso8601(a.stateUpdatedTimestamp)},
      {"MetricName", a.metricName},
      {"Namespace", a.namespace_},
      {"Dimensions", dims},
      {"Period", a.period},
      {"EvaluationPeriods", a.evaluationPeriods},
      {"Threshold", a.threshold},
      {"ComparisonOperator", a.comparisonOperator},
      {"TreatMissingData", a.treatMissingData}};
  if (!a.statistic.empty()) {
    j["Statistic"] = a.statistic;
  }
  if (!a.extendedStatistic.empty()) {
    j["ExtendedStatistic"] = a.extendedStatistic;
  }
  if (a.datapointsToAlarm > 0) {
    j["DatapointsToAlarm"] = a.datapointsToAlarm;
  }
  if (!a.stateReasonData.empty()) {
    j["StateReasonData"] = a.stateReasonData;
  }
  if (!a.metrics.empty()) { // a metric math alarm (target tracking's customized Metrics)
    j.erase("MetricName");
    j.erase("Namespace");
    j.erase("Dimensions");
    j["Metrics"] = metricDataQueriesJson(a.metrics);
    for (Json& q : j["Metrics"]) {
      if (q.contains("MetricStat") && !q["MetricStat"].contains("Period")) {
        q["MetricStat"]["Period"] = a.period; // CloudWatch's MetricStat requires it
      }
    }
  }
  return j;
}

// CloudWatch's range for a metric value: zero, or a magnitude from 2^-360 to 2^360; NaN and
// the infinities are refused (MetricDatum.Value in the CloudWatch API reference). A value
// outside it used to be stored and turned the statistics into null.
Status checkMetricValue(double v, const std::string& parameter) {
  const double lo = std::ldexp(1.0, -360), hi = std::ldexp(1.0, 360);
  const double a = std::fabs(v);
  if (v == 0 || (std::isfinite(v) && a >= lo && a <= hi)) {
    return Status::ok();
  }
  char text[32];
  if (std::isnan(v)) {
    std::snprintf(text, sizeof text, "NaN");
  } else if (std::isinf(v)) {
    std::snprintf(text, sizeof text, "%s", v > 0 ? "Infinity" : "-Infinity");
  } else {
    std::snprintf(text, sizeof text, "%g", v);
  }
  return Status("InvalidParameterValue",
                "The value " + std::string(text) + " for parameter " + parameter +
                    " is invalid: CloudWatch takes values from -2^360 to 2^360, zero or at least "
                    "2^-360 in magnitude, and no NaN or Infinity.");
}

} // namespace

Result<Json> putMetricData(ActionContext& ctx, const Json& p) {
  if (ctx.metrics == nullptr) {
    return noMetrics();
  }
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"Namespace", "MetricData"}));
  TIDE_ASSIGN_OR_RETURN(auto ns, reqString(p, "Namespace"));
  if (ns.rfind("AWS/", 0) == 0) {
    return Status("InvalidParameterValue",
                  "The value AWS/ for parameter Namespace is invalid: it is reserved");
  }
  auto data = p.find("MetricData");
  if (data == p.end() || !data->is_array() || data->empty() || data->size() > 1000) {
    return Status("MissingParameter", "MetricData must hold 1 to 1000 {MetricName, Value, ...}");
  }
  // Validate everything first: a request that fails stores nothing.
  struct Point {
    metrics::MetricKey key;
    TimeMs t;
    std::vector<double> values;
    std::vector<double> counts; // Counts: as many as values, or none (each value once)
  };
  std::vector<Point> points;
  for (size_t n = 0; n < data->size(); ++n) {
    const Json& d = (*data)[n];
    const std::string member = "MetricData.member." + std::to_string(n + 1);
    if (!d.is_object()) {
      return validationError("MetricData must be a list of objects");
    }
    TIDE_RETURN_IF_ERROR(
        checkKnownParams(d, {"MetricName", "Dimensions", "Timestamp", "Value", "Values", "Counts",
                             "StatisticValues", "Unit", "StorageResolution"}));
    auto name = reqString(d, "MetricName");
    auto dims = dimensions(d, true);
    TIDE_RETURN_IF_ERROR(firstError({&name.status(), &dims.status()}));
    Point pt{metrics::canonicalMetricKey({ns, *name, *dims}), ctx.clock.now(), {}};
    TIDE_RETURN_IF_ERROR(metrics::validateMetricKey(pt.key));
    if (d.contains("Timestamp")) {
      TIDE_ASSIGN_OR_RETURN(auto t, timestamp(d, "Timestamp"));
      pt.t = t;
    }
    if (d.contains("Value") && d["Value"].is_number()) {
      pt.values.push_back(d["Value"].get<double>());
    } else if (d.contains("Values") && d["Values"].is_array()) {
      for (const Json& v : d["Values"]) {
        if (!v.is_number()) {
          return validationError("Values must be numbers");
        }
        pt.values.push_back(v.get<double>());
      }
    } else {
      return Status("MissingParameter", "Each MetricData entry needs a numeric Value or Values");
    }
    for (size_t k = 0; k < pt.values.size(); ++k) {
      TIDE_RETURN_IF_ERROR(checkMetricValue(
          pt.values[k], d.contains("Values") ? member + ".Values.member." + std::to_string(k + 1)
                                             : member + ".Value"));
    }
    if (auto sv = d.find("StatisticValues"); sv != d.end() && sv->is_object()) {
      for (const char* field : {"SampleCount", "Sum", "Minimum", "Maximum"}) {
        if (auto f = sv->find(field); f != sv->end() && f->is_number()) {
          TIDE_RETURN_IF_ERROR(
              checkMetricValue(f->get<double>(), member + ".StatisticValues." + field));
        }
      }
    }
    if (pt.values.size() > 150) {
      return Status("InvalidParameterValue",
                    "The parameter Values of metric " + *name + " must have at most 150 members.");
    }
    if (d.contains("Counts") && !d["Counts"].is_null()) {
      if (!d["Counts"].is_array() || !d.contains("Values")) {
        return validationError("Counts must be a list of numbers beside Values");
      }
      for (const Json& c : d["Counts"]) {
        if (!c.is_number() || c.get<double>() < 0) {
          return validationError("Counts must be numbers of at least 0");
        }
        pt.counts.push_back(c.get<double>());
      }
      if (pt.counts.size() != pt.values.size()) {
        return Status("InvalidParameterValue",
                      "The Values and Counts of metric " + *name +
                          " must have the same number of members; they have " +
                          std::to_string(pt.values.size()) + " and " +
                          std::to_string(pt.counts.size()) + ".");
      }
    }
    points.push_back(std::move(pt));
  }
  for (const Point& pt : points) {
    TIDE_RETURN_IF_ERROR(ctx.metrics->putValues(pt.key, pt.t, pt.values, pt.counts));
  }
  return Json::object();
}

Result<Json> getMetricStatistics(ActionContext& ctx, const Json& p) {
  if (ctx.metrics == nullptr) {
    return noMetrics();
  }
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"Namespace", "MetricName", "Dimensions", "StartTime", "EndTime",
                           "Period", "Statistics", "ExtendedStatistics", "Unit"}));
  auto ns = reqString(p, "Namespace");
  auto name = reqString(p, "MetricName");
  auto dims = dimensions(p, true);
  auto start = timestamp(p, "StartTime");
  auto end = timestamp(p, "EndTime");
  auto period = optInt(p, "Period");
  auto stats = optStringList(p, "Statistics");
  auto extended = optStringList(p, "ExtendedStatistics");
  auto unit = optString(p, "Unit");
  TIDE_RETURN_IF_ERROR(
      firstError({&ns.status(), &name.status(), &dims.status(), &start.status(), &end.status(),
                  &period.status(), &stats.status(), &extended.status(), &unit.status()}));
  if (!period->has_value()) {
    return Status("MissingParameter", "The request must contain the parameter Period");
  }
  metrics::StatisticsQuery q;
  q.metric = metrics::canonicalMetricKey({*ns, *name, *dims});
  q.startTime = *start;
  q.endTime = *end;
  q.periodSeconds = static_cast<int>(**period);
  for (const auto& s : *stats) {
    auto st = metrics::parseStatistic(s);
    if (!st) {
      return Status("InvalidParameterValue",
                    "Statistic '" + s + "' must be SampleCount, Average, Sum, Minimum or Maximum");
    }
    q.statistics.push_back(*st);
  }
  q.extendedStatistics = *extended;
  q.unit = *unit;
  TIDE_ASSIGN_OR_RETURN(auto points, ctx.metrics->statistics(q));
  Json out = Json::array();
  for (const auto& d : points) {
    Json j = {{"Timestamp", formatIso8601(d.timestamp)}, {"Unit", d.unit}};
    if (d.sampleCount) {
      j["SampleCount"] = *d.sampleCount;
    }
    if (d.average) {
      j["Average"] = *d.average;
    }
    if (d.sum) {
      j["Sum"] = *d.sum;
    }
    if (d.minimum) {
      j["Minimum"] = *d.minimum;
    }
    if (d.maximum) {
      j["Maximum"] = *d.maximum;
    }
    if (!d.extendedStatistics.empty()) {
      Json e = Json::object();
      for (const auto& [k, v] : d.extendedStatistics) {
        e[k] = v;
      }
      j["ExtendedStatistics"] = e;
    }
    out.push_back(j);
  }
  return Json{{"Label", *name}, {"Datapoints", out}};
}

Result<Json> listMetrics(ActionContext& ctx, const Json& p) {
  if (ctx.metrics == nullptr) {
    return noMetrics();
  }
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"Namespace", "MetricName", "Dimensions", "NextToken", "RecentlyActive"}));
  auto ns = optString(p, "Namespace");
  auto name = optString(p, "MetricName");
  auto dims = dimensions(p, false);
  TIDE_RETURN_IF_ERROR(firstError({&ns.status(), &name.status(), &dims.status()}));
  metrics::ListMetricsQuery q;
  q.namespace_ = *ns;
  q.metricName = *name;
  for (const auto& [n, v] : *dims) {
    q.dimensions.push_back({n, v.empty() ? std::nullopt : std::optional<std::string>(v)});
  }
  TIDE_ASSIGN_OR_RETURN(auto keys, ctx.metrics->listMetrics(q));
  Json out = Json::array();
  for (const auto& k : keys) {
    out.push_back({{"Namespace", k.namespace_},
                   {"MetricName", k.metricName},
                   {"Dimensions", dimensionsJson(k.dimensions)}});
  }
  return Json{{"Metrics", out}};
}

Result<Json> putMetricAlarm(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
          "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "ExtendedStatistic",
          "Dimensions", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold",
          "ComparisonOperator", "TreatMissingData", "Tags"}));
  model::MetricAlarm a;
  auto name = reqString(p, "AlarmName");
  auto description = optString(p, "AlarmDescription");
  auto enabled = optBool(p, "ActionsEnabled");
  auto ok = optStringList(p, "OKActions");
  auto alarm = optStringList(p, "AlarmActions");
  auto insufficient = optStringList(p, "InsufficientDataActions");
  auto metric = optString(p, "MetricName");
  auto ns = optString(p, "Namespace");
  auto statistic = optString(p, "Statistic");
  auto extended = optString(p, "ExtendedStatistic");
  auto dims = dimensions(p, true);
  auto period = optInt(p, "Period");
  auto evaluation = optInt(p, "EvaluationPeriods");
  auto datapoints = optInt(p, "DatapointsToAlarm");
  auto threshold = optNumber(p, "Threshold");
  auto op = optString(p, "ComparisonOperator");
  auto missing = optString(p, "TreatMissingData");
  auto tags = cloudWatchTags(p, false);
  TIDE_RETURN_IF_ERROR(
      firstError({&name.status(), &description.status(), &enabled.status(), &ok.status(),
                  &alarm.status(), &insufficient.status(), &metric.status(), &ns.status(),
                  &statistic.status(), &extended.status(), &dims.status(), &period.status(),
                  &evaluation.status(), &datapoints.status(), &threshold.status(), &op.status(),
                  &missing.status(), &tags.status()}));
  a.alarmName = *name;
  a.alarmArn = "arn:aws:cloudwatch:" + ctx.region + ":" + ctx.accountId + ":alarm:" + *name;
  a.alarmDescription = description->value_or("");
  a.actionsEnabled = enabled->value_or(true);
  a.okActions = *ok;
  a.alarmActions = *alarm;
  a.insufficientDataActions = *insufficient;
  a.metricName = metric->value_or("");
  a.namespace_ = ns->value_or("");
  a.statistic = statistic->value_or("");
  a.extendedStatistic = extended->value_or("");
  for (const auto& [n, v] : *dims) {
    a.dimensions.push_back({n, v});
  }
  a.period = static_cast<int>(period->value_or(0));
  a.evaluationPeriods = static_cast<int>(evaluation->value_or(0));
  a.datapointsToAlarm = static_cast<int>(datapoints->value_or(0));
  if (!threshold->has_value()) {
    return Status("MissingParameter", "The request must contain the parameter Threshold");
  }
  a.threshold = **threshold;
  a.comparisonOperator = op->value_or("");
  a.treatMissingData = missing->value_or("missing");
  TIDE_ASSIGN_OR_RETURN(auto spec, metrics::alarmSpecOf(a));
  TimeMs now = ctx.clock.now();
  a.alarmConfigurationUpdatedTimestamp = now;
  a.stateUpdatedTimestamp = now;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto existing, tx.alarm(a.alarmName));
    if (existing.has_value()) {
      // Updating an alarm keeps its state, as CloudWatch does (the evaluator re-checks it), and
      // its tags (CloudWatch ignores Tags on an update; TagResource changes them).
      a.stateValue = existing->stateValue;
      a.stateReason = existing->stateReason;
      a.stateReasonData = existing->stateReasonData;
      a.stateUpdatedTimestamp = existing->stateUpdatedTimestamp;
      a.tags = existing->tags;
      TIDE_RETURN_IF_ERROR(tx.putAlarmHistoryItem(
          metrics::configurationHistory(metrics::ConfigurationChange::Update, a, &*existing, now)));
    } else {
      a.tags = *tags;
      TIDE_RETURN_IF_ERROR(tx.putAlarmHistoryItem(
          metrics::configurationHistory(metrics::ConfigurationChange::Create, a, nullptr, now)));
    }
    return tx.putAlarm(a);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> describeAlarms(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"AlarmNames", "AlarmNamePrefix", "StateValue", "ActionPrefix",
                           "MaxRecords", "NextToken", "AlarmTypes"}));
  auto names = optStringList(p, "AlarmNames");
  auto prefix = optString(p, "AlarmNamePrefix");
  auto state = optString(p, "StateValue");
  TIDE_RETURN_IF_ERROR(firstError({&names.status(), &prefix.status(), &state.status()}));
  std::optional<model::AlarmStateValue> wanted;
  if (state->has_value()) {
    auto parsed = model::parseAlarmStateValue(**state);
    if (!parsed) {
      return validationError("StateValue must be OK, ALARM or INSUFFICIENT_DATA");
    }
    wanted = *parsed;
  }
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto all, tx.alarms());
        for (const auto& a : all) {
          if (!names->empty() &&
              std::find(names->begin(), names->end(), a.alarmName) == names->end()) {
            continue;
          }
          if (prefix->has_value() && a.alarmName.rfind(**prefix, 0) != 0) {
            continue;
          }
          if (wanted.has_value() && a.stateValue != *wanted) {
            continue;
          }
          out.push_back(alarmJson(a));
        }
        return Status::ok();
      },
      false));
  return Json{{"MetricAlarms", out}, {"CompositeAlarms", Json::array()}};
}

Result<Json> deleteAlarms(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AlarmNames"}));
  TIDE_ASSIGN_OR_RETURN(auto names, optStringList(p, "AlarmNames"));
  if (names.empty()) {
    return Status("MissingParameter", "The request must contain the parameter AlarmNames");
  }
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    for (const auto& n : names) {
      TIDE_ASSIGN_OR_RETURN(auto a, tx.alarm(n));
      if (!a.has_value()) {
        return Status("ResourceNotFound", "Alarm '" + n + "' does not exist");
      }
      TIDE_RETURN_IF_ERROR(tx.deleteAlarm(n)); // and its tags, kept in its row
      TIDE_RETURN_IF_ERROR(tx.putAlarmHistoryItem(metrics::configurationHistory(
          metrics::ConfigurationChange::Delete, *a, nullptr, ctx.clock.now())));
    }
    return Status::ok();
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> setAlarmState(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"AlarmName", "StateValue", "StateReason", "StateReasonData"}));
  auto name = reqString(p, "AlarmName");
  auto value = reqString(p, "StateValue");
  auto reason = reqString(p, "StateReason");
  auto reasonData = optString(p, "StateReasonData");
  TIDE_RETURN_IF_ERROR(
      firstError({&name.status(), &value.status(), &reason.status(), &reasonData.status()}));
  auto parsed = model::parseAlarmStateValue(*value);
  if (!parsed) {
    return validationError("StateValue must be OK, ALARM or INSUFFICIENT_DATA");
  }
  // Read with parseJsonText's bounds: the alarm history writes the document out again, and
  // dump() recurses once per level.
  if (reasonData->has_value()) {
    if (Result<Json> doc = parseJsonText(**reasonData); !doc) {
      return Status("InvalidFormat",
                    "StateReasonData must be a JSON document: " + doc.status().message());
    }
  }
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto a, tx.alarm(*name));
    if (!a.has_value()) {
      return Status("ResourceNotFound", "Alarm '" + *name + "' does not exist");
    }
    model::MetricAlarm alarm = *a;
    alarm.stateValue = *parsed;
    alarm.stateReason = *reason;
    alarm.stateReasonData = reasonData->value_or("");
    alarm.stateUpdatedTimestamp = ctx.clock.now();
    if (alarm.stateValue != a->stateValue) { // the same state again is no transition
      TIDE_RETURN_IF_ERROR(tx.putAlarmHistoryItem(metrics::stateUpdateHistory(*a, alarm)));
    }
    return tx.putAlarm(alarm);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> describeAlarmHistory(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"AlarmName", "AlarmTypes", "HistoryItemType", "StartDate", "EndDate",
                           "MaxRecords", "NextToken", "ScanBy", "AlarmContributorId"}));
  auto name = optString(p, "AlarmName");
  auto types = optStringList(p, "AlarmTypes");
  auto itemType = optString(p, "HistoryItemType");
  auto scanBy = optString(p, "ScanBy");
  TIDE_RETURN_IF_ERROR(
      firstError({&name.status(), &types.status(), &itemType.status(), &scanBy.status()}));
  std::optional<TimeMs> start, end;
  if (p.contains("StartDate")) {
    TIDE_ASSIGN_OR_RETURN(start, timestamp(p, "StartDate"));
  }
  if (p.contains("EndDate")) {
    TIDE_ASSIGN_OR_RETURN(end, timestamp(p, "EndDate"));
  }
  static const char* const kItemTypes[] = {"ConfigurationUpdate", "StateUpdate", "Action",
                                           "AlarmContributorStateUpdate", "AlarmContributorAction"};
  if (itemType->has_value() && std::none_of(std::begin(kItemTypes), std::end(kItemTypes),
                                            [&](const char* t) { return **itemType == t; })) {
    return validationError("HistoryItemType '" + **itemType +
                           "' must be ConfigurationUpdate, StateUpdate, Action, "
                           "AlarmContributorStateUpdate or AlarmContributorAction");
  }
  bool metricAlarms = types->empty();
  for (const std::string& t : *types) {
    if (t != "MetricAlarm" && t != "CompositeAlarm") {
      return validationError("AlarmTypes holds MetricAlarm or CompositeAlarm, not '" + t + "'");
    }
    metricAlarms = metricAlarms || t == "MetricAlarm";
  }
  std::string scan = scanBy->value_or("TimestampDescending");
  if (scan != "TimestampDescending" && scan != "TimestampAscending") {
    return validationError("ScanBy must be TimestampDescending or TimestampAscending");
  }
  std::vector<model::AlarmHistoryItem> items;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(items, tx.alarmHistory(name->value_or("")));
        return Status::ok();
      },
      false));
  if (scan == "TimestampAscending") {
    std::reverse(items.begin(), items.end());
  }
  Json out = Json::array();
  for (const model::AlarmHistoryItem& h : items) {
    if (!metricAlarms || (itemType->has_value() && h.historyItemType != **itemType) ||
        (start && h.timestamp < *start) || (end && h.timestamp > *end)) {
      continue;
    }
    out.push_back({{"AlarmName", h.alarmName},
                   {"AlarmType", h.alarmType},
                   {"Timestamp", formatIso8601(h.timestamp)},
                   {"HistoryItemType", h.historyItemType},
                   {"HistorySummary", h.historySummary},
                   {"HistoryData", h.historyData}});
  }
  return Json{{"AlarmHistoryItems", out}};
}

Result<Json> tagResource(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"ResourceARN", "Tags"}));
  auto arn = reqString(p, "ResourceARN");
  auto tags = cloudWatchTags(p, true);
  TIDE_RETURN_IF_ERROR(firstError({&arn.status(), &tags.status()}));
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto a, alarmByArn(tx, *arn));
    for (const model::Tag& t : *tags) {
      auto same = std::find_if(a.tags.begin(), a.tags.end(),
                               [&](const model::Tag& x) { return x.key == t.key; });
      if (same != a.tags.end()) {
        same->value = t.value;
      } else {
        a.tags.push_back(t);
      }
    }
    if (a.tags.size() > 50) {
      return Status("LimitExceeded", "An alarm has at most 50 tags; this would give it " +
                                         std::to_string(a.tags.size()));
    }
    return tx.putAlarm(a);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> untagResource(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"ResourceARN", "TagKeys"}));
  auto arn = reqString(p, "ResourceARN");
  auto keys = optStringList(p, "TagKeys");
  TIDE_RETURN_IF_ERROR(firstError({&arn.status(), &keys.status()}));
  if (!p.contains("TagKeys")) {
    return Status("MissingParameter", "The request must contain the parameter TagKeys");
  }
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto a, alarmByArn(tx, *arn));
    std::erase_if(a.tags, [&](const model::Tag& t) {
      return std::find(keys->begin(), keys->end(), t.key) != keys->end();
    });
    return tx.putAlarm(a);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> listTagsForResource(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"ResourceARN"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "ResourceARN"));
  Json out;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto a, alarmByArn(tx, arn));
        out = tagsJson(a.tags);
        return Status::ok();
      },
      false));
  return Json{{"Tags", out}};
}

} // namespace tide::api
