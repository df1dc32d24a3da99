#include "events/event.h"

#include "common/ids.h"
#include "model/names.h"

#include <ctime>

namespace tide::events {

namespace {

// CloudWatch's alarm events write timestamps as "2019-10-02T17:04:40.985+0000".
std::string alarmTime(TimeMs t) {
  std::string iso = formatIso8601(t); // "...T17:04:40.985Z"
  if (!iso.empty() && iso.back() == 'Z') {
    iso.pop_back();
    iso += "+0000";
  }
  return iso;
}

EventJson dimensionsOf(const std::vector<model::Dimension>& dimensions) {
  EventJson out = EventJson::object();
  for (const model::Dimension& d : dimensions) {
    out[d.name] = d.value;
  }
  return out;
}

EventJson alarmStateJson(const AlarmState& s) {
  EventJson j;
  j["value"] = std::string(model::alarmStateValueName(s.value));
  j["reason"] = s.reason;
  if (!s.reasonData.empty()) {
    j["reasonData"] = s.reasonData;
  }
  j["timestamp"] = alarmTime(s.timestamp);
  return j;
}

// The alarm's "configuration": its description and metrics, single-metric alarms as one
// metricStat query (CloudWatch gives it a generated id; tide a fixed "m1").
EventJson alarmConfiguration(const model::MetricAlarm& alarm) {
  EventJson c;
  c["description"] = alarm.alarmDescription;
  EventJson metrics = EventJson::array();
  if (alarm.metrics.empty()) {
    EventJson stat;
    stat["metric"] = {{"dimensions", dimensionsOf(alarm.dimensions)},
                      {"name", alarm.metricName},
                      {"namespace", alarm.namespace_}};
    stat["period"] = alarm.period;
    stat["stat"] = alarm.extendedStatistic.empty() ? alarm.statistic : alarm.extendedStatistic;
    metrics.push_back({{"id", "m1"}, {"metricStat", stat}, {"returnData", true}});
  }
  for (const model::MetricDataQuery& q : alarm.metrics) {
    EventJson m;
    m["id"] = q.id;
    if (!q.expression.empty()) {
      m["expression"] = q.expression;
    } else {
      EventJson stat;
      stat["metric"] = {{"dimensions", dimensionsOf(q.dimensions)},
                        {"name", q.metricName},
                        {"namespace", q.namespace_}};
      stat["period"] = q.period.value_or(alarm.period);
      stat["stat"] = q.stat;
      m["metricStat"] = stat;
    }
    if (!q.label.empty()) {
      m["label"] = q.label;
    }
    m["returnData"] = q.returnData;
    metrics.push_back(m);
  }
  c["metrics"] = metrics;
  return c;
}

} // namespace

std::string eventTime(TimeMs t) {
  time_t secs = static_cast<time_t>(t / 1000);
  if (t < 0 && t % 1000 != 0) {
    secs -= 1;
  }
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

EventJson envelope(const EventOrigin& origin, const std::string& source,
                   const std::string& detailType, TimeMs time,
                   const std::vector<std::string>& resources, EventJson detail) {
  EventJson e;
  e["version"] = "0";
  e["id"] = newUuid();
  e["detail-type"] = detailType;
  e["source"] = source;
  e["account"] = origin.accountId;
  e["time"] = eventTime(time);
  e["region"] = origin.region;
  e["resources"] = resources;
  e["detail"] = std::move(detail);
  return e;
}

std::string instanceArn(const EventOrigin& origin, const std::string& instanceId) {
  return "arn:aws:ec2:" + origin.region + ":" + origin.accountId + ":instance/" + instanceId;
}

EventJson instanceStateChange(const EventOrigin& origin, const std::string& instanceId,
                              model::InstanceState state, TimeMs time) {
  EventJson d;
  d["instance-id"] = instanceId;
  d["state"] = std::string(model::instanceStateName(state));
  return envelope(origin, "aws.ec2", kInstanceStateChange, time, {instanceArn(origin, instanceId)},
                  std::move(d));
}

EventJson activityEvent(const EventOrigin& origin, const std::string& groupArn,
                        const model::ScalingActivity& activity) {
  bool launch = activity.kind == model::ActivityKind::Launch;
  bool ok = activity.statusCode == model::ActivityStatusCode::Successful;
  const char* type = launch ? (ok ? kLaunchSuccessful : kLaunchUnsuccessful)
                            : (ok ? kTerminateSuccessful : kTerminateUnsuccessful);
  EventJson d;
  d["Origin"] = launch ? "EC2" : "AutoScalingGroup";
  d["Destination"] = launch ? "AutoScalingGroup" : "EC2";
  d["StatusCode"] = std::string(model::activityStatusCodeName(activity.statusCode));
  d["Description"] = activity.description;
  d["AutoScalingGroupName"] = activity.autoScalingGroupName;
  d["ActivityId"] = activity.activityId;
  EventJson details = EventJson::parse(activity.details, nullptr, false);
  if (activity.details.empty() || details.is_discarded() || !details.is_object()) {
    details = EventJson::object();
  }
  d["Details"] = details;
  d["RequestId"] = activity.activityId;
  d["StatusMessage"] = activity.statusMessage;
  d["EndTime"] = formatIso8601(activity.endTime);
  d["EC2InstanceId"] = activity.instanceId;
  d["StartTime"] = formatIso8601(activity.startTime);
  d["Cause"] = activity.cause;
  std::vector<std::string> resources{groupArn};
  if (!activity.instanceId.empty()) {
    resources.push_back(instanceArn(origin, activity.instanceId));
  }
  TimeMs time = activity.endTime != 0 ? activity.endTime : activity.startTime;
  return envelope(origin, "aws.autoscaling", type, time, resources, std::move(d));
}

EventJson lifecycleActionEvent(const EventOrigin& origin, const model::AutoScalingGroup& group,
                               const model::LifecycleAction& action, TimeMs time) {
  bool launching = action.lifecycleTransition == model::LifecycleTransition::Launching;
  EventJson d;
  d["LifecycleActionToken"] = action.lifecycleActionToken;
  d["AutoScalingGroupName"] = group.autoScalingGroupName;
  d["LifecycleHookName"] = action.lifecycleHookName;
  d["EC2InstanceId"] = action.instanceId;
  d["LifecycleTransition"] =
      std::string(model::lifecycleTransitionName(action.lifecycleTransition));
  for (const model::LifecycleHook& h : group.lifecycleHooks) {
    if (h.lifecycleHookName == action.lifecycleHookName && !h.notificationMetadata.empty()) {
      d["NotificationMetadata"] = h.notificationMetadata;
    }
  }
  d["Origin"] = launching ? "EC2" : "AutoScalingGroup";
  d["Destination"] = launching ? "AutoScalingGroup" : "EC2";
  return envelope(origin, "aws.autoscaling",
                  launching ? kLaunchLifecycleAction : kTerminateLifecycleAction, time,
                  {group.autoScalingGroupArn}, std::move(d));
}

AlarmState alarmStateOf(const model::MetricAlarm& alarm) {
  return AlarmState{alarm.stateValue, alarm.stateReason, alarm.stateReasonData,
                    alarm.stateUpdatedTimestamp};
}

EventJson alarmStateChange(const EventOrigin& origin, const model::MetricAlarm& alarm,
                           const AlarmState& previous, TimeMs time) {
  EventJson d;
  d["alarmName"] = alarm.alarmName;
  d["state"] = alarmStateJson(alarmStateOf(alarm));
  d["previousState"] = alarmStateJson(previous);
  d["configuration"] = alarmConfiguration(alarm);
  return envelope(origin, "aws.cloudwatch", kAlarmStateChange, time, {alarm.alarmArn},
                  std::move(d));
}

EventJson targetHealthChange(const EventOrigin& origin, const model::Target& target, int port,
                             const std::optional<TargetHealth>& previous, TimeMs time) {
  EventJson d;
  d["targetGroupArn"] = target.targetGroupArn;
  d["target"] = {{"id", target.id}, {"port", port}};
  d["state"] = std::string(model::targetHealthStateName(target.state));
  d["reason"] = target.reason;
  d["description"] = target.description;
  if (previous) {
    d["previousState"] = std::string(model::targetHealthStateName(previous->state));
    d["previousReason"] = previous->reason;
  } else {
    d["previousState"] = nullptr;
    d["previousReason"] = nullptr;
  }
  return envelope(origin, "tide.elasticloadbalancing", kTargetHealthChange, time,
                  {target.targetGroupArn, instanceArn(origin, target.id)}, std::move(d));
}

EventJson capacityChange(const EventOrigin& origin, const model::AutoScalingGroup& group,
                         int previousDesired, TimeMs time) {
  EventJson d;
  d["AutoScalingGroupName"] = group.autoScalingGroupName;
  d["DesiredCapacity"] = group.desiredCapacity;
  d["PreviousDesiredCapacity"] = previousDesired;
  d["MinSize"] = group.minSize;
  d["MaxSize"] = group.maxSize;
  return envelope(origin, "tide.autoscaling", kCapacityChange, time, {group.autoScalingGroupArn},
                  std::move(d));
}

} // namespace tide::events
