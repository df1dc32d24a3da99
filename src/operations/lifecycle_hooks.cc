#include "operations/lifecycle_hooks.h"

#include "common/ids.h"

#include <algorithm>

namespace tide::operations {

using model::AutoScalingGroup;
using model::LifecycleAction;
using model::LifecycleActionResult;
using model::LifecycleTransition;

int globalTimeoutSeconds(int heartbeatTimeout) {
  return std::min(100 * heartbeatTimeout, kMaxGlobalTimeout);
}

const model::LifecycleHook* findLifecycleHook(const AutoScalingGroup& g, const std::string& name) {
  for (const auto& h : g.lifecycleHooks) {
    if (h.lifecycleHookName == name) {
      return &h;
    }
  }
  return nullptr;
}

bool hasLifecycleHooks(const AutoScalingGroup& g, LifecycleTransition t) {
  return std::any_of(g.lifecycleHooks.begin(), g.lifecycleHooks.end(),
                     [&](const model::LifecycleHook& h) { return h.lifecycleTransition == t; });
}

bool beginLifecycleActions(AutoScalingGroup& g, const std::string& instanceId,
                           LifecycleTransition t, TimeMs now) {
  if (!hasLifecycleHooks(g, t)) {
    return false;
  }
  dropLifecycleActions(g, instanceId);
  for (const auto& h : g.lifecycleHooks) {
    if (h.lifecycleTransition != t) {
      continue;
    }
    LifecycleAction a;
    a.lifecycleActionToken = newUuid();
    a.lifecycleHookName = h.lifecycleHookName;
    a.instanceId = instanceId;
    a.lifecycleTransition = t;
    a.heartbeatTimeout = h.heartbeatTimeout;
    a.defaultResult = h.defaultResult;
    a.startTime = now;
    a.globalDeadline = now + 1000LL * globalTimeoutSeconds(h.heartbeatTimeout);
    a.heartbeatDeadline = std::min<TimeMs>(now + 1000LL * h.heartbeatTimeout, a.globalDeadline);
    g.lifecycleActions.push_back(std::move(a));
  }
  return true;
}

LifecycleOutcome settleLifecycleActions(AutoScalingGroup& g, const std::string& instanceId,
                                        TimeMs now) {
  LifecycleOutcome out;
  bool waiting = false;
  for (LifecycleAction& a : g.lifecycleActions) {
    if (a.instanceId != instanceId) {
      continue;
    }
    std::string why =
        "Lifecycle Action Completed with " +
        std::string(a.result == LifecycleActionResult::Continue ? "CONTINUE" : "ABANDON") +
        " Result";
    if (!a.result && now >= a.heartbeatDeadline) {
      a.result = a.defaultResult; // a timeout: the hook's default result
      why = now >= a.globalDeadline ? "Global Timeout" : "Heartbeat Timeout";
    }
    if (!a.result) {
      waiting = true;
      out.wakeAt =
          out.wakeAt == 0 ? a.heartbeatDeadline : std::min(out.wakeAt, a.heartbeatDeadline);
      continue;
    }
    if (*a.result == LifecycleActionResult::Abandon &&
        out.kind != LifecycleOutcome::Kind::Abandon) {
      out.kind = LifecycleOutcome::Kind::Abandon;
      out.statusReason = "Instance failed to complete user's Lifecycle Action: Lifecycle Action "
                         "with token " +
                         a.lifecycleActionToken + " was abandoned: " + why;
    }
  }
  if (out.kind == LifecycleOutcome::Kind::Abandon || !waiting) {
    if (out.kind != LifecycleOutcome::Kind::Abandon) {
      out.kind = LifecycleOutcome::Kind::Continue;
    }
    out.wakeAt = 0;
    dropLifecycleActions(g, instanceId);
  }
  return out;
}

bool dropLifecycleActions(AutoScalingGroup& g, const std::string& instanceId) {
  return std::erase_if(g.lifecycleActions,
                       [&](const LifecycleAction& a) { return a.instanceId == instanceId; }) > 0;
}

Result<LifecycleAction*> findLifecycleAction(AutoScalingGroup& g, const std::string& hookName,
                                             const std::string& token,
                                             const std::string& instanceId) {
  if (token.empty() && instanceId.empty()) {
    return Status("ValidationError",
                  "Either LifecycleActionToken or InstanceId must be specified.");
  }
  for (LifecycleAction& a : g.lifecycleActions) {
    if (a.lifecycleHookName == hookName && !a.result &&
        (token.empty() || a.lifecycleActionToken == token) &&
        (instanceId.empty() || a.instanceId == instanceId)) {
      return &a;
    }
  }
  if (!token.empty()) {
    return Status("ValidationError", "No active Lifecycle Action found with token " + token);
  }
  return Status("ValidationError",
                "No active Lifecycle Action found with instance ID " + instanceId);
}

void recordHeartbeat(LifecycleAction& a, TimeMs now) {
  a.heartbeatDeadline = std::min<TimeMs>(now + 1000LL * a.heartbeatTimeout, a.globalDeadline);
}

} // namespace tide::operations
