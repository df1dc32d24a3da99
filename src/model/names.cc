#include "model/names.h"

#include <array>

namespace tide::model {

namespace {
template <typename E, size_t N>
std::optional<E> parseByName(std::string_view s, const std::array<std::string_view, N>& names) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) {
      return static_cast<E>(i);
    }
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 3> kImageStates = {"pending", "available", "failed"};
constexpr std::array<std::string_view, 6> kInstanceStates = {
    "pending", "running", "shutting-down", "terminated", "stopping", "stopped"};
constexpr std::array<std::string_view, 3> kGoals = {"run", "stop", "terminate"};
constexpr std::array<std::string_view, 5> kTargetStates = {"initial", "healthy", "unhealthy",
                                                           "unused", "draining"};
constexpr std::array<std::string_view, 17> kLifecycleStates = {"Pending",
                                                               "InService",
                                                               "Terminating",
                                                               "Pending:Wait",
                                                               "Pending:Proceed",
                                                               "Terminating:Wait",
                                                               "Terminating:Proceed",
                                                               "Terminated",
                                                               "EnteringStandby",
                                                               "Standby",
                                                               "Detaching",
                                                               "Warmed:Pending",
                                                               "Warmed:Terminating",
                                                               "Warmed:Terminated",
                                                               "Warmed:Stopped",
                                                               "Warmed:Running",
                                                               "Warmed:Hibernated"};
constexpr std::array<std::string_view, 2> kHealthStatuses = {"Healthy", "Unhealthy"};
constexpr std::array<std::string_view, 2> kHealthCheckTypes = {"EC2", "ELB"};
constexpr std::array<std::string_view, 5> kActivityStatusCodes = {
    "InProgress", "Successful", "Failed", "Cancelled", "PreInService"};
constexpr std::array<std::string_view, 6> kActivityKinds = {"Other",   "Launch", "Terminate",
                                                            "Standby", "Attach", "Detach"};
constexpr std::array<std::string_view, 2> kLifecycleTransitions = {
    "autoscaling:EC2_INSTANCE_LAUNCHING", "autoscaling:EC2_INSTANCE_TERMINATING"};
constexpr std::array<std::string_view, 2> kLifecycleActionResults = {"CONTINUE", "ABANDON"};
constexpr std::array<std::string_view, 3> kAlarmStateValues = {"OK", "ALARM", "INSUFFICIENT_DATA"};
} // namespace

std::string_view imageStateName(ImageState s) {
  return kImageStates[static_cast<size_t>(s)];
}
std::optional<ImageState> parseImageState(std::string_view s) {
  return parseByName<ImageState>(s, kImageStates);
}

std::string_view instanceStateName(InstanceState s) {
  return kInstanceStates[static_cast<size_t>(s)];
}
int instanceStateCode(InstanceState s) {
  return static_cast<int>(s) * 16;
}
std::optional<InstanceState> parseInstanceState(std::string_view s) {
  return parseByName<InstanceState>(s, kInstanceStates);
}

std::string_view instanceGoalName(InstanceGoal g) {
  return kGoals[static_cast<size_t>(g)];
}
std::optional<InstanceGoal> parseInstanceGoal(std::string_view s) {
  return parseByName<InstanceGoal>(s, kGoals);
}

std::string_view targetHealthStateName(TargetHealthState s) {
  return kTargetStates[static_cast<size_t>(s)];
}
std::optional<TargetHealthState> parseTargetHealthState(std::string_view s) {
  return parseByName<TargetHealthState>(s, kTargetStates);
}

std::string_view lifecycleStateName(LifecycleState s) {
  return kLifecycleStates[static_cast<size_t>(s)];
}
std::optional<LifecycleState> parseLifecycleState(std::string_view s) {
  return parseByName<LifecycleState>(s, kLifecycleStates);
}

std::string_view healthStatusName(HealthStatus s) {
  return kHealthStatuses[static_cast<size_t>(s)];
}
std::optional<HealthStatus> parseHealthStatus(std::string_view s) {
  return parseByName<HealthStatus>(s, kHealthStatuses);
}

std::string_view healthCheckTypeName(HealthCheckType t) {
  return kHealthCheckTypes[static_cast<size_t>(t)];
}
std::optional<HealthCheckType> parseHealthCheckType(std::string_view s) {
  return parseByName<HealthCheckType>(s, kHealthCheckTypes);
}

std::string_view activityStatusCodeName(ActivityStatusCode c) {
  return kActivityStatusCodes[static_cast<size_t>(c)];
}
std::optional<ActivityStatusCode> parseActivityStatusCode(std::string_view s) {
  return parseByName<ActivityStatusCode>(s, kActivityStatusCodes);
}

std::string_view activityKindName(ActivityKind k) {
  return kActivityKinds[static_cast<size_t>(k)];
}
std::optional<ActivityKind> parseActivityKind(std::string_view s) {
  return parseByName<ActivityKind>(s, kActivityKinds);
}

std::string_view lifecycleTransitionName(LifecycleTransition t) {
  return kLifecycleTransitions[static_cast<size_t>(t)];
}
std::optional<LifecycleTransition> parseLifecycleTransition(std::string_view s) {
  return parseByName<LifecycleTransition>(s, kLifecycleTransitions);
}

std::string_view lifecycleActionResultName(LifecycleActionResult r) {
  return kLifecycleActionResults[static_cast<size_t>(r)];
}
std::optional<LifecycleActionResult> parseLifecycleActionResult(std::string_view s) {
  return parseByName<LifecycleActionResult>(s, kLifecycleActionResults);
}

std::string_view alarmStateValueName(AlarmStateValue s) {
  return kAlarmStateValues[static_cast<size_t>(s)];
}
std::optional<AlarmStateValue> parseAlarmStateValue(std::string_view s) {
  return parseByName<AlarmStateValue>(s, kAlarmStateValues);
}

} // namespace tide::model
