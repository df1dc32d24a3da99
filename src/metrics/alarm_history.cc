#include "metrics/alarm_history.h"

#include "model/names.h"

#include <nlohmann/json.hpp>

namespace tide::metrics {

namespace {

using Json = nlohmann::ordered_json;

std::string stateName(model::AlarmStateValue v) {
  return std::string(model::alarmStateValueName(v));
}

// The alarm's configuration as CloudWatch's history documents name its fields.
Json alarmDocument(const model::MetricAlarm& a) {
  Json dims = Json::array();
  for (const auto& d : a.dimensions) {
    dims.push_back({{"name", d.name}, {"value", d.value}});
  }
  Json j = {
      {"alarmName", a.alarmName},
      {"alarmArn", a.alarmArn},
      {"alarmDescription", a.alarmDescription},
      {"namespace", a.namespace_},
      {"metricName", a.metricName},
      {"dimensions", dims},
      {"period", a.period},
      {"evaluationPeriods", a.evaluationPeriods},
      {"threshold", a.threshold},
      {"comparisonOperator", a.comparisonOperator},
      {"treatMissingData", a.treatMissingData},
      {"actionsEnabled", a.actionsEnabled},
      {"alarmActions", a.alarmActions},
      {"okactions", a.okActions},
      {"insufficientDataActions", a.insufficientDataActions},
      {"stateValue", stateName(a.stateValue)},
      {"stateReason", a.stateReason},
      {"stateUpdatedTimestamp", formatIso8601(a.stateUpdatedTimestamp)},
      {"alarmConfigurationUpdatedTimestamp", formatIso8601(a.alarmConfigurationUpdatedTimestamp)}};
  if (!a.statistic.empty()) {
    j["statistic"] = a.statistic;
  }
  if (!a.extendedStatistic.empty()) {
    j["extendedStatistic"] = a.extendedStatistic;
  }
  if (a.datapointsToAlarm > 0) {
    j["datapointsToAlarm"] = a.datapointsToAlarm;
  }
  return j;
}

} // namespace

model::AlarmHistoryItem stateUpdateHistory(const model::MetricAlarm& before,
                                           const model::MetricAlarm& after) {
  Json oldState = {{"stateValue", stateName(before.stateValue)},
                   {"stateReason", before.stateReason}};
  Json newState = {{"stateValue", stateName(after.stateValue)}, {"stateReason", after.stateReason}};
  if (!after.stateReasonData.empty()) {
    Json data = Json::parse(after.stateReasonData, nullptr, false);
    newState["stateReasonData"] =
        data.is_discarded() ? Json(after.stateReasonData) : std::move(data);
  }
  model::AlarmHistoryItem h;
  h.alarmName = after.alarmName;
  h.timestamp = after.stateUpdatedTimestamp;
  h.historyItemType = "StateUpdate";
  h.historySummary =
      "Alarm updated from " + stateName(before.stateValue) + " to " + stateName(after.stateValue);
  h.historyData = Json{{"version", "1.0"}, {"oldState", oldState}, {"newState", newState}}.dump();
  return h;
}

model::AlarmHistoryItem configurationHistory(ConfigurationChange change,
                                             const model::MetricAlarm& alarm,
                                             const model::MetricAlarm* before, TimeMs at) {
  model::AlarmHistoryItem h;
  h.alarmName = alarm.alarmName;
  h.timestamp = at;
  h.historyItemType = "ConfigurationUpdate";
  Json data = {{"version", "1.0"}};
  switch (change) {
  case ConfigurationChange::Create:
    h.historySummary = "Alarm \"" + alarm.alarmName + "\" created";
    data["type"] = "Create";
    data["createdAlarm"] = alarmDocument(alarm);
    break;
  case ConfigurationChange::Update: {
    h.historySummary = "Alarm \"" + alarm.alarmName + "\" updated";
    data["type"] = "Update";
    Json now = alarmDocument(alarm);
    Json original = Json::object();
    if (before != nullptr) {
      Json was = alarmDocument(*before);
      for (auto it = now.begin(); it != now.end(); ++it) {
        const std::string& k = it.key();
        if (k == "alarmConfigurationUpdatedTimestamp" || k == "stateUpdatedTimestamp") {
          continue;
        }
        if (!was.contains(k) || was[k] != it.value()) {
          original[k] = was.contains(k) ? was[k] : Json();
        }
      }
    }
    data["updatedAlarm"] = now;
    data["originalUpdatedFields"] = original;
    break;
  }
  case ConfigurationChange::Delete:
    h.historySummary = "Alarm \"" + alarm.alarmName + "\" deleted";
    data["type"] = "Delete";
    data["deletedAlarm"] = alarmDocument(alarm);
    break;
  }
  h.historyData = data.dump();
  return h;
}

model::AlarmHistoryItem actionHistory(const model::MetricAlarm& alarm, const std::string& actionArn,
                                      const ActionResult& result, TimeMs at) {
  model::AlarmHistoryItem h;
  h.alarmName = alarm.alarmName;
  h.timestamp = at;
  h.historyItemType = "Action";
  h.historySummary = result.succeeded ? "Successfully executed action " + actionArn
                                      : "Failed to execute action " + actionArn +
                                            ". Received error: \"" + result.error + "\"";
  Json data = {{"actionState", result.succeeded ? "Succeeded" : "Failed"},
               {"stateUpdateTimestamp", alarm.stateUpdatedTimestamp},
               {"notificationResource", actionArn}};
  if (!result.error.empty()) {
    data["error"] = result.error;
  }
  if (!result.outcome.empty()) {
    Json decision = {{"outcome", result.outcome}};
    if (!result.message.empty()) {
      decision["message"] = result.message;
    }
    if (!result.details.empty()) {
      Json details = Json::parse(result.details, nullptr, false);
      if (!details.is_discarded()) {
        decision["details"] = std::move(details);
      }
    }
    data["tideDecision"] = decision;
  }
  h.historyData = data.dump();
  return h;
}

} // namespace tide::metrics
