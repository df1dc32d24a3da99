#include "operations/scaling_processes.h"

#include <algorithm>
#include <array>

namespace tide::operations {

namespace {
// By the enum's order.
constexpr std::array<std::string_view, 9> kNames = {
    "Launch",           "Terminate",         "HealthCheck",
    "ReplaceUnhealthy", "AZRebalance",       "AlarmNotification",
    "ScheduledActions", "AddToLoadBalancer", "InstanceRefresh"};
} // namespace

const std::vector<std::string_view>& scalingProcessTypes() {
  static const std::vector<std::string_view> sorted = [] {
    std::vector<std::string_view> out(kNames.begin(), kNames.end());
    std::sort(out.begin(), out.end());
    return out;
  }();
  return sorted;
}

std::optional<ScalingProcess> parseScalingProcess(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) {
      return static_cast<ScalingProcess>(i);
    }
  }
  return std::nullopt;
}

std::string_view scalingProcessName(ScalingProcess p) {
  return kNames[static_cast<size_t>(p)];
}

bool isSuspended(const model::AutoScalingGroup& g, ScalingProcess p) {
  return std::any_of(
      g.suspendedProcesses.begin(), g.suspendedProcesses.end(),
      [&](const model::SuspendedProcess& s) { return parseScalingProcess(s.processName) == p; });
}

} // namespace tide::operations
