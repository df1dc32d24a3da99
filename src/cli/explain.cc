#include "cli/explain.h"

#include <algorithm>
#include <cstdio>

namespace tide::cli {

namespace {

std::string text(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string number(const Json& v) {
  if (v.is_number_integer()) {
    return std::to_string(v.get<long long>());
  }
  if (v.is_number()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v.get<double>());
    return buf;
  }
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string signedNumber(const Json& v) {
  std::string s = number(v);
  return v.is_number() && v.get<double>() > 0 ? "+" + s : s;
}

Json parseObject(const std::string& s) {
  Json j = Json::parse(s, nullptr, false);
  return j.is_object() ? j : Json();
}

// "At 2026-12-06T18:02:01Z a user request ..." → "a user request ...". A cause that begins with
// the change of capacity that made it ("At T1 a monitor alarm ... to 3.  At T2 an instance was
// started ...", as AWS words a launch's) keeps its own sentence only: the change is told by its
// own line.
std::string withoutTime(const std::string& whole) {
  size_t own = whole.rfind(".  At ");
  std::string cause = own == std::string::npos ? whole : whole.substr(own + 3);
  if (cause.rfind("At ", 0) == 0) {
    size_t space = cause.find(' ', 3);
    if (space != std::string::npos) {
      return cause.substr(space + 1);
    }
  }
  return cause;
}

// Events at the same time read alarm, then decision, then activity.
int rank(const std::string& kind) {
  return kind == "alarm" ? 0 : kind == "decision" ? 1 : 2;
}

void addAlarmItem(const Json& item, std::vector<ExplainEvent>& out) {
  std::string type = text(item, "HistoryItemType");
  std::string name = text(item, "AlarmName");
  Json data = parseObject(text(item, "HistoryData"));
  if (type == "StateUpdate" && data.is_object()) {
    Json from = data.value("oldState", Json::object());
    Json to = data.value("newState", Json::object());
    out.push_back({text(item, "Timestamp"), "alarm",
                   "alarm " + name + ": " + text(from, "stateValue") + " -> " +
                       text(to, "stateValue") + ": " + text(to, "stateReason")});
  } else if (type == "Action" && data.is_object()) {
    if (text(data, "actionState") == "Failed") {
      out.push_back({text(item, "Timestamp"), "decision",
                     "alarm " + name + " could not execute " + text(data, "notificationResource") +
                         ": " + text(data, "error")});
      return;
    }
    Json decision = data.value("tideDecision", Json());
    if (decision.is_object() && decision.contains("details")) {
      out.push_back(
          {text(item, "Timestamp"), "decision", describeDecision(decision["details"].dump())});
    }
  }
}

void addActivity(const Json& a, std::vector<ExplainEvent>& out) {
  Json details = parseObject(text(a, "Details"));
  if (details.is_object() && details.contains("Policy")) {
    if (text(details, "Trigger").rfind("alarm ", 0) == 0) {
      return; // told by the alarm's Action item, which also tells skipped decisions
    }
    out.push_back({text(a, "StartTime"), "decision", describeDecision(text(a, "Details"))});
    return;
  }
  if (details.is_object() && details.contains("ScheduledActionName")) {
    out.push_back({text(a, "StartTime"), "decision", describeScheduledRun(details, a)});
    return;
  }
  std::string line = text(a, "Description") + ": " + text(a, "StatusCode");
  if (!text(a, "StatusMessage").empty()) {
    line += " (" + text(a, "StatusMessage") + ")";
  }
  std::string cause = withoutTime(text(a, "Cause"));
  if (!cause.empty()) {
    line += "; cause: " + cause;
  }
  out.push_back({text(a, "StartTime"), "activity", line});
}

} // namespace

std::string describeScheduledRun(const Json& d, const Json& activity) {
  std::string s = "scheduled action " + text(d, "ScheduledActionName");
  if (!text(d, "Recurrence").empty()) {
    s += " (" + text(d, "Recurrence") + " in " + text(d, "TimeZone") + ")";
  }
  s += " due at " + text(d, "ScheduledTime");
  std::vector<std::string> sets;
  if (d.contains("MinSize")) {
    sets.push_back("min " + number(d["MinSize"]));
  }
  if (d.contains("MaxSize")) {
    sets.push_back("max " + number(d["MaxSize"]));
  }
  if (d.contains("RequestedDesiredCapacity")) {
    sets.push_back("desired " + number(d["RequestedDesiredCapacity"]));
  }
  if (!sets.empty()) {
    s += ": sets ";
    for (size_t i = 0; i < sets.size(); ++i) {
      s += (i ? ", " : "") + sets[i];
    }
  }
  if (text(activity, "StatusCode") == "Failed") {
    return s + " => failed (" + text(activity, "StatusMessage") + ")";
  }
  std::string from =
      d.contains("PreviousDesiredCapacity") ? number(d["PreviousDesiredCapacity"]) : "?";
  std::string to = d.contains("DesiredCapacity") ? number(d["DesiredCapacity"]) : from;
  s += from == to ? " => desired capacity stays " + from
                  : " => desired capacity " + from + " -> " + to;
  if (!text(d, "LimitedBy").empty()) {
    s += " (limited by " + text(d, "LimitedBy") + ")";
  }
  return s;
}

std::string describeDecision(const std::string& detailsText) {
  Json d = parseObject(detailsText);
  if (!d.is_object()) {
    return "";
  }
  std::string s = "policy " + text(d, "Policy");
  if (!text(d, "PolicyType").empty()) {
    s += " (" + text(d, "PolicyType") + ")";
  }
  std::string trigger = text(d, "Trigger");
  s += trigger == "ExecutePolicy" ? " executed by a user request" : " triggered by " + trigger;
  std::vector<std::string> inputs;
  if (d.contains("MetricValue") && d.contains("Threshold")) {
    inputs.push_back("metric " + number(d["MetricValue"]) + " vs threshold " +
                     number(d["Threshold"]));
  } else if (d.contains("MetricValue") && d.contains("TargetValue")) {
    inputs.push_back("metric " + number(d["MetricValue"]) + " vs target " +
                     number(d["TargetValue"]));
  } else if (d.contains("MetricValue")) {
    inputs.push_back("metric " + number(d["MetricValue"]));
  }
  if (d.contains("LoadForecast") && d.contains("TargetValue")) { // predictive scaling
    inputs.push_back("load forecast " + number(d["LoadForecast"]) + " (" + text(d, "Forecast") +
                     ") vs target " + number(d["TargetValue"]) + " per instance");
  }
  if (d.contains("Step") && d["Step"].is_object()) {
    const Json& st = d["Step"];
    std::string lo =
        st.contains("MetricIntervalLowerBound") ? number(st["MetricIntervalLowerBound"]) : "-inf";
    std::string hi =
        st.contains("MetricIntervalUpperBound") ? number(st["MetricIntervalUpperBound"]) : "+inf";
    inputs.push_back("step [" + lo + ", " + hi + ") " +
                     signedNumber(st.value("ScalingAdjustment", Json(0))));
  } else if (d.contains("ScalingAdjustment")) {
    inputs.push_back("adjustment " + signedNumber(d["ScalingAdjustment"]) + " (" +
                     text(d, "AdjustmentType") + ")");
  }
  if (d.contains("MeasuredCapacity")) {
    std::string measured = "measured over " + number(d["MeasuredCapacity"]) + " instance(s)";
    if (d.contains("CapacityInFlight") && d["CapacityInFlight"] != 0) {
      measured += ", " + number(d["CapacityInFlight"]) + " in flight";
    }
    inputs.push_back(measured);
  }
  if (d.contains("ComputedCapacity")) {
    inputs.push_back("computed capacity " + number(d["ComputedCapacity"]));
  }
  if (d.contains("MinSize") && d.contains("MaxSize")) {
    inputs.push_back("min " + number(d["MinSize"]) + ", max " + number(d["MaxSize"]));
  }
  if (!inputs.empty()) {
    s += ": ";
    for (size_t i = 0; i < inputs.size(); ++i) {
      s += (i ? "; " : "") + inputs[i];
    }
  }
  std::string from =
      d.contains("PreviousDesiredCapacity") ? number(d["PreviousDesiredCapacity"]) : "?";
  std::string to = d.contains("DesiredCapacity") ? number(d["DesiredCapacity"]) : from;
  s += from == to ? " => desired capacity stays " + from
                  : " => desired capacity " + from + " -> " + to;
  std::string limit = text(d, "LimitedBy");
  if (limit == "Cooldown") {
    s += " (skipped: the group cools down until " + text(d, "CooldownEnds") + ")";
  } else if (limit == "NoStep") {
    s += " (no step adjustment covers the breach)";
  } else if (!limit.empty()) {
    s += " (limited by " + limit + ")";
  } else if (from == to && !text(d, "Reason").empty()) {
    s += " (" + text(d, "Reason") + ")";
  }
  if (d.contains("CooldownSeconds")) {
    s += "; cooldown " + number(d["CooldownSeconds"]) + " s";
  }
  return s;
}

std::vector<ExplainEvent> explainEvents(const Json& activities, const Json& alarmHistory,
                                        size_t max) {
  std::vector<ExplainEvent> out;
  if (alarmHistory.is_array()) {
    for (const Json& item : alarmHistory) {
      addAlarmItem(item, out);
    }
  }
  if (activities.is_array()) {
    for (const Json& a : activities) {
      addActivity(a, out);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const ExplainEvent& a, const ExplainEvent& b) {
    return a.time != b.time ? a.time < b.time : rank(a.kind) < rank(b.kind);
  });
  if (out.size() > max) {
    out.erase(out.begin(), out.end() - static_cast<long>(max));
  }
  return out;
}

} // namespace tide::cli
