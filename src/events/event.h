// Events shaped as Amazon EventBridge delivers them: the envelope ({"version": "0", "id",
// "detail-type", "source", "account", "time", "region", "resources", "detail"}) and the detail
// shapes AWS documents for the state changes tide makes (docs/events.md lists them). Target
// health changes have no EventBridge event in AWS; tide names its own under the source
// "tide.elasticloadbalancing", and desired capacity changes under "tide.autoscaling".
//
// The builders are pure functions of model rows: thread-safe, no I/O.
#pragma once

#include "common/clock.h"
#include "model/auto_scaling.h"
#include "model/elb.h"
#include "model/types.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tide::events {

// Key order kept as written, so that events read as AWS prints them.
using EventJson = nlohmann::ordered_json;

// One event as tide keeps and sends it.
struct Event {
  uint64_t seq = 0;       // 1, 2, ...: increasing across the server's life and restarts
  std::string detailType; // the envelope's "detail-type" (also the SSE event name)
  std::string json;       // the whole event, on one line
};

// Where events say they come from.
struct EventOrigin {
  std::string accountId = "000000000000"; // "account" and the account in ARNs
  std::string region = "us-east-1";       // "region" and the region in ARNs
};

// The detail-types and sources (one place, so the producer, the CLI and tests agree).
inline constexpr const char* kInstanceStateChange = "EC2 Instance State-change Notification";
inline constexpr const char* kLaunchSuccessful = "EC2 Instance Launch Successful";
inline constexpr const char* kLaunchUnsuccessful = "EC2 Instance Launch Unsuccessful";
inline constexpr const char* kTerminateSuccessful = "EC2 Instance Terminate Successful";
inline constexpr const char* kTerminateUnsuccessful = "EC2 Instance Terminate Unsuccessful";
inline constexpr const char* kLaunchLifecycleAction = "EC2 Instance-launch Lifecycle Action";
inline constexpr const char* kTerminateLifecycleAction = "EC2 Instance-terminate Lifecycle Action";
inline constexpr const char* kAlarmStateChange = "CloudWatch Alarm State Change";
inline constexpr const char* kTargetHealthChange = "ELB Target Health State Change";   // tide's
inline constexpr const char* kCapacityChange = "Auto Scaling Desired Capacity Change"; // tide's

// "2026-12-06T12:00:00Z" (EventBridge's "time": whole seconds, UTC).
std::string eventTime(TimeMs t);

// The envelope around a detail, with a new random id.
EventJson envelope(const EventOrigin& origin, const std::string& source,
                   const std::string& detailType, TimeMs time,
                   const std::vector<std::string>& resources, EventJson detail);

// arn:aws:ec2:REGION:ACCOUNT:instance/i-...
std::string instanceArn(const EventOrigin& origin, const std::string& instanceId);

// aws.ec2 "EC2 Instance State-change Notification": {"instance-id", "state"}.
EventJson instanceStateChange(const EventOrigin& origin, const std::string& instanceId,
                              model::InstanceState state, TimeMs time);

// aws.autoscaling "EC2 Instance Launch Successful" / "... Unsuccessful" / "EC2 Instance Terminate
// Successful" / "... Unsuccessful" for a finished Launch or Terminate activity: its ActivityId,
// AutoScalingGroupName, EC2InstanceId, Cause, Description, Details, StatusCode, StatusMessage,
// StartTime, EndTime, RequestId, Origin and Destination. REQUIRES: activity.kind is Launch or
// Terminate and the activity has ended (Successful, Failed or Cancelled).
EventJson activityEvent(const EventOrigin& origin, const std::string& groupArn,
                        const model::ScalingActivity& activity);

// aws.autoscaling "EC2 Instance-launch Lifecycle Action" / "EC2 Instance-terminate Lifecycle
// Action": an instance entered Pending:Wait or Terminating:Wait for a hook.
EventJson lifecycleActionEvent(const EventOrigin& origin, const model::AutoScalingGroup& group,
                               const model::LifecycleAction& action, TimeMs time);

// An alarm's state as the alarm event shows it.
struct AlarmState {
  model::AlarmStateValue value = model::AlarmStateValue::InsufficientData;
  std::string reason;
  std::string reasonData; // a JSON document, or empty
  TimeMs timestamp = 0;
  bool operator==(const AlarmState&) const = default;
};
AlarmState alarmStateOf(const model::MetricAlarm& alarm);

// aws.cloudwatch "CloudWatch Alarm State Change": {"alarmName", "state", "previousState",
// "configuration"}.
EventJson alarmStateChange(const EventOrigin& origin, const model::MetricAlarm& alarm,
                           const AlarmState& previous, TimeMs time);

// A target's health as the target health event shows it.
struct TargetHealth {
  model::TargetHealthState state = model::TargetHealthState::Initial;
  std::string reason;
  std::string description;
  bool operator==(const TargetHealth&) const = default;
};

// tide.elasticloadbalancing "ELB Target Health State Change": {"targetGroupArn", "target":
// {"id", "port"}, "state", "reason", "description", "previousState", "previousReason"}.
// previous is unset when the target was just registered.
EventJson targetHealthChange(const EventOrigin& origin, const model::Target& target, int port,
                             const std::optional<TargetHealth>& previous, TimeMs time);

// tide.autoscaling "Auto Scaling Desired Capacity Change": {"AutoScalingGroupName",
// "DesiredCapacity", "PreviousDesiredCapacity", "MinSize", "MaxSize"}.
EventJson capacityChange(const EventOrigin& origin, const model::AutoScalingGroup& group,
                         int previousDesired, TimeMs time);

} // namespace tide::events
