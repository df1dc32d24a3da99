#include "control/lifecycle_hooks.h"

#include "common/log.h"
#include "operations/lifecycle_hooks.h"
#include "operations/scaling_activity.h"

#include <algorithm>
#include <set>

namespace tide::control {

using model::LifecycleState;
using model::LifecycleTransition;
using operations::LifecycleOutcome;

Result<bool> holdForLaunchHooks(store::Tx& tx, model::AutoScalingGroup& g, model::Instance& i,
                                std::vector<model::ScalingActivity>& activities, TimeMs now,
                                TimeMs& next) {
  if (g.deleting) {
    // ForceDelete drops the outstanding actions; a held instance is never registered, it
    // only waits to be taken out with the rest.
    operations::dropLifecycleActions(g, i.instanceId);
    return i.lifecycleState == LifecycleState::PendingWait;
  }
  const std::string& name = g.autoScalingGroupName;
  if (i.lifecycleState == LifecycleState::Pending) {
    if (!operations::beginLifecycleActions(g, i.instanceId, LifecycleTransition::Launching, now)) {
      return false;
    }
    i.lifecycleState = LifecycleState::PendingWait;
    logInfo("auto scaling group " + name + ": " + i.instanceId + " is in Pending:Wait");
  }
  if (i.lifecycleState != LifecycleState::PendingWait) {
    return false;
  }
  LifecycleOutcome out = operations::settleLifecycleActions(g, i.instanceId, now);
  switch (out.kind) {
  case LifecycleOutcome::Kind::Waiting:
    next = std::min(next, out.wakeAt);
    return true;
  case LifecycleOutcome::Kind::Continue:
    i.lifecycleState = LifecycleState::PendingProceed;
    logInfo("auto scaling group " + name + ": " + i.instanceId + " is in Pending:Proceed");
    return false;
  case LifecycleOutcome::Kind::Abandon:
    break;
  }
  // Abandoned: the launch is cancelled with Auto Scaling's reason; the instance is terminated
  // (it was never registered, so there is nothing to drain) and the group replaces it.
  for (auto& a : activities) {
    bool open = a.statusCode == model::ActivityStatusCode::InProgress ||
                a.statusCode == model::ActivityStatusCode::PreInService;
    if (open && a.kind == model::ActivityKind::Launch && a.instanceId == i.instanceId) {
      a.description += ".  Status Reason: " + out.statusReason;
      operations::finishActivity(a, model::ActivityStatusCode::Cancelled, now, out.statusReason);
      TIDE_RETURN_IF_ERROR(tx.putScalingActivity(a));
    }
  }
  i.lifecycleState = LifecycleState::Terminating;
  logInfo("auto scaling group " + name + ": " + i.instanceId + ": " + out.statusReason);
  return true;
}

bool holdForTerminateHooks(model::AutoScalingGroup& g, model::Instance& i, TimeMs now,
                           TimeMs& next) {
  if (g.deleting) {
    if (i.lifecycleState == LifecycleState::TerminatingWait) {
      operations::dropLifecycleActions(g, i.instanceId);
      i.lifecycleState = LifecycleState::TerminatingProceed;
    }
    return false;
  }
  if (i.lifecycleState == LifecycleState::Terminating) {
    if (!operations::beginLifecycleActions(g, i.instanceId, LifecycleTransition::Terminating,
                                           now)) {
      return false;
    }
    i.lifecycleState = LifecycleState::TerminatingWait;
    logInfo("auto scaling group " + g.autoScalingGroupName + ": " + i.instanceId +
            " is in Terminating:Wait");
  }
  if (i.lifecycleState != LifecycleState::TerminatingWait) {
    return false;
  }
  LifecycleOutcome out = operations::settleLifecycleActions(g, i.instanceId, now);
  if (out.kind == LifecycleOutcome::Kind::Waiting) {
    next = std::min(next, out.wakeAt);
    return true;
  }
  // CONTINUE and ABANDON both terminate it (Auto Scaling's rule for terminating hooks).
  i.lifecycleState = LifecycleState::TerminatingProceed;
  return false;
}

void pruneLifecycleActions(model::AutoScalingGroup& g,
                           const std::vector<model::Instance*>& members) {
  std::set<std::string> waiting;
  for (const model::Instance* i : members) {
    if (i->state != model::InstanceState::Terminated &&
        (i->lifecycleState == LifecycleState::PendingWait ||
         i->lifecycleState == LifecycleState::TerminatingWait)) {
      waiting.insert(i->instanceId);
    }
  }
  std::erase_if(g.lifecycleActions,
                [&](const model::LifecycleAction& a) { return !waiting.count(a.instanceId); });
}

} // namespace tide::control
