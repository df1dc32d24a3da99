// The AWS wire names of model enums, and their parsing.
#pragma once

#include "model/auto_scaling.h"
#include "model/elb.h"
#include "model/types.h"

#include <optional>
#include <string_view>

namespace tide::model {

std::string_view imageStateName(ImageState s); // "pending", "available", "failed"
std::optional<ImageState> parseImageState(std::string_view s);

std::string_view instanceStateName(InstanceState s); // "pending", "running", ...
int instanceStateCode(InstanceState s);              // 0, 16, 32, 48, 64, 80
std::optional<InstanceState> parseInstanceState(std::string_view s);

std::string_view instanceGoalName(InstanceGoal g); // "run", "stop", "terminate"
std::optional<InstanceGoal> parseInstanceGoal(std::string_view s);

std::string_view targetHealthStateName(TargetHealthState s); // "initial", "healthy", ...
std::optional<TargetHealthState> parseTargetHealthState(std::string_view s);

// Auto Scaling's and CloudWatch's names, as the APIs and the store write them.
std::string_view lifecycleStateName(LifecycleState s); // "Pending", "InService", ...
std::optional<LifecycleState> parseLifecycleState(std::string_view s);

std::string_view healthStatusName(HealthStatus s); // "Healthy", "Unhealthy"
std::optional<HealthStatus> parseHealthStatus(std::string_view s);

std::string_view healthCheckTypeName(HealthCheckType t); // "EC2", "ELB"
std::optional<HealthCheckType> parseHealthCheckType(std::string_view s);

std::string_view activityStatusCodeName(ActivityStatusCode c); // "InProgress", "Successful", ...
std::optional<ActivityStatusCode> parseActivityStatusCode(std::string_view s);

std::string_view activityKindName(ActivityKind k); // "Other", "Launch", "Terminate" (tide's)
std::optional<ActivityKind> parseActivityKind(std::string_view s);

std::string_view lifecycleTransitionName(LifecycleTransition t); // "autoscaling:EC2_INSTANCE_..."
std::optional<LifecycleTransition> parseLifecycleTransition(std::string_view s);

std::string_view lifecycleActionResultName(LifecycleActionResult r); // "CONTINUE", "ABANDON"
std::optional<LifecycleActionResult> parseLifecycleActionResult(std::string_view s);

std::string_view alarmStateValueName(AlarmStateValue s); // "OK", "ALARM", "INSUFFICIENT_DATA"
std::optional<AlarmStateValue> parseAlarmStateValue(std::string_view s);

} // namespace tide::model
