#include "operations/targets.h"

#include "common/crash_point.h"
#include "model/names.h"

#include <algorithm>

namespace tide::operations {

using model::TargetHealthState;

namespace {

void setInitial(model::Target& t) {
  t.state = TargetHealthState::Initial;
  t.reason = "Elb.InitialHealthChecking";
  t.description = "Initial health checks in progress";
}

void setUnused(model::Target& t) {
  t.state = TargetHealthState::Unused;
  t.reason = "Target.NotInUse";
  t.description = "Target group is not configured to receive traffic from the load balancer";
}

} // namespace

Result<bool> targetGroupInUse(store::Tx& tx, const std::string& targetGroupArn) {
  TIDE_ASSIGN_OR_RETURN(auto listeners, tx.listeners());
  return std::any_of(listeners.begin(), listeners.end(), [&](const model::Listener& l) {
    auto arns = model::targetGroupsOf(l);
    return std::find(arns.begin(), arns.end(), targetGroupArn) != arns.end();
  });
}

Result<bool> registerTarget(store::Tx& tx, std::vector<model::Target>& targets,
                            const model::TargetGroup& tg, const std::string& instanceId, int port,
                            bool inUse, TimeMs now) {
  model::Target t;
  t.targetGroupArn = tg.targetGroupArn;
  t.id = instanceId;
  t.port = port ? port : tg.port;
  auto same = std::find_if(targets.begin(), targets.end(), [&](const model::Target& e) {
    return e.targetGroupArn == t.targetGroupArn && e.id == t.id && e.port == t.port;
  });
  if (same != targets.end() && same->state != TargetHealthState::Draining) {
    return false; // already registered: nothing changes, as in ELBv2
  }
  t.registeredAt = now;
  if (inUse) {
    setInitial(t);
  } else {
    setUnused(t);
  }
  TIDE_RETURN_IF_ERROR(tx.putTarget(t));
  if (same != targets.end()) {
    *same = t;
  } else {
    targets.push_back(t);
  }
  return true;
}

Result<bool> deregisterTarget(store::Tx& tx, model::Target& target, TimeMs now) {
  if (target.state == TargetHealthState::Draining) {
    return false;
  }
  TIDE_CRASH_POINT("target.drain.begin");
  target.state = TargetHealthState::Draining;
  target.reason = "Target.DeregistrationInProgress";
  target.description = "Target deregistration is in progress";
  target.drainingSince = now;
  TIDE_RETURN_IF_ERROR(tx.putTarget(target));
  return true;
}

TimeMs deregistrationEnds(const model::Target& target, const model::TargetGroup& tg) {
  return target.drainingSince + tg.deregistrationDelaySeconds * 1000LL;
}

Result<bool> finishDeregistration(store::Tx& tx, const model::Target& target,
                                  const model::TargetGroup& tg, TimeMs now) {
  if (target.state != TargetHealthState::Draining || now < deregistrationEnds(target, tg)) {
    return false;
  }
  TIDE_CRASH_POINT("target.drain.finish");
  TIDE_RETURN_IF_ERROR(tx.deleteTarget(target));
  return true;
}

Status removeTarget(store::Tx& tx, const model::Target& target) {
  return tx.deleteTarget(target);
}

Result<bool> markUnused(store::Tx& tx, model::Target& target) {
  if (target.state == TargetHealthState::Unused || target.state == TargetHealthState::Draining) {
    return false;
  }
  setUnused(target);
  TIDE_RETURN_IF_ERROR(tx.putTarget(target));
  return true;
}

Result<bool> markInstanceNotRunning(store::Tx& tx, model::Target& target,
                                    model::InstanceState state) {
  if (target.state == TargetHealthState::Draining) {
    return false;
  }
  std::string why = "Target is in the " + std::string(model::instanceStateName(state)) + " state";
  if (target.state == TargetHealthState::Unhealthy && target.description == why) {
    return false;
  }
  target.state = TargetHealthState::Unhealthy;
  target.reason = "Target.InvalidState";
  target.description = std::move(why);
  TIDE_RETURN_IF_ERROR(tx.putTarget(target));
  return true;
}

Result<bool> startOver(store::Tx& tx, model::Target& target) {
  bool invalidState =
      target.state == TargetHealthState::Unhealthy && target.reason == "Target.InvalidState";
  if (target.state != TargetHealthState::Unused && !invalidState) {
    return false;
  }
  setInitial(target);
  TIDE_RETURN_IF_ERROR(tx.putTarget(target));
  return true;
}

Status recordTargetHealth(store::Tx& tx, const model::Target& checked) {
  if (checked.state != TargetHealthState::Initial && checked.state != TargetHealthState::Healthy &&
      checked.state != TargetHealthState::Unhealthy) {
    return Status("InternalError", "health checks cannot make target " + checked.id + ":" +
                                       std::to_string(checked.port) + " " +
                                       std::string(model::targetHealthStateName(checked.state)));
  }
  model::Target t = checked;
  t.consecutive = 0; // the checker's working count stays in its memory
  return tx.putTarget(t);
}

} // namespace tide::operations
