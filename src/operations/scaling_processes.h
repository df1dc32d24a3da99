// An Auto Scaling group's processes (SuspendProcesses, ResumeProcesses,
// DescribeScalingProcessTypes): the names AWS gives them and whether a group has one suspended.
// The group keeps the suspended ones by name (AutoScalingGroup::suspendedProcesses); decisions
// ask isSuspended with the enum, never compare the text.
#pragma once

#include "model/auto_scaling.h"

#include <optional>
#include <string_view>
#include <vector>

namespace tide::operations {

// What each one stops in tide while suspended:
enum class ScalingProcess {
  Launch,            // "Launch": no instance is launched (scale-out, replacements)
  Terminate,         // "Terminate": no instance is taken out to scale in or be replaced
  HealthCheck,       // "HealthCheck": EC2 and ELB checks mark no instance Unhealthy
  ReplaceUnhealthy,  // "ReplaceUnhealthy": Unhealthy instances stay, not replaced
  AZRebalance,       // "AZRebalance": tide's groups have one zone: nothing to rebalance
  AlarmNotification, // "AlarmNotification": alarms execute none of the group's policies
  ScheduledActions,  // "ScheduledActions": scheduled actions do not run
  AddToLoadBalancer, // "AddToLoadBalancer": instances put in service are not registered
  InstanceRefresh,   // "InstanceRefresh": instance refreshes do not replace instances
};

// The names, in DescribeScalingProcessTypes' order (alphabetical, as AWS lists them).
const std::vector<std::string_view>& scalingProcessTypes();
std::optional<ScalingProcess> parseScalingProcess(std::string_view name);
std::string_view scalingProcessName(ScalingProcess p);

bool isSuspended(const model::AutoScalingGroup& g, ScalingProcess p);

} // namespace tide::operations
