#include "control/target_controller.h"

#include "common/log.h"
#include "model/names.h"

#include <map>
#include <set>

namespace tide::control {

using model::TargetHealthState;

namespace {

void startOver(model::Target& t) {
  t.state = TargetHealthState::Initial;
  t.reason = "Elb.InitialHealthChecking";
  t.description = "Initial health checks in progress";
}

} // namespace

Result<Millis> TargetController::reconcile() {
  TimeMs now = clock_.now();
  TimeMs next = now + 1000;
  std::vector<std::string> removed;
  TIDE_RETURN_IF_ERROR(store_.transact([&](store::Tx& tx) -> Status {
    auto groups = tx.targetGroups();
    auto targets = tx.targets("");
    auto listeners = tx.listeners();
    TIDE_RETURN_IF_ERROR(firstError({&groups.status(), &targets.status(), &listeners.status()}));
    std::map<std::string, const model::TargetGroup*> byArn;
    for (const auto& g : *groups) {
      byArn[g.targetGroupArn] = &g;
    }
    std::set<std::string> used;
    for (const auto& l : *listeners) {
      for (const std::string& arn : model::targetGroupsOf(l)) {
        used.insert(arn);
      }
    }
    for (model::Target& t : *targets) {
      model::Target before = t;
      auto g = byArn.find(t.targetGroupArn);
      if (g == byArn.end()) {
        TIDE_RETURN_IF_ERROR(tx.deleteTarget(t)); // its group is gone
        continue;
      }
      if (t.state == TargetHealthState::Draining) {
        TimeMs ends = t.drainingSince + g->second->deregistrationDelaySeconds * 1000LL;
        if (now >= ends) {
          TIDE_RETURN_IF_ERROR(tx.deleteTarget(t));
          removed.push_back(t.id + ":" + std::to_string(t.port));
        } else {
          next = std::min(next, ends);
        }
        continue;
      }
      TIDE_ASSIGN_OR_RETURN(auto inst, tx.instance(t.id));
      if (!inst.has_value() || inst->state == model::InstanceState::Terminated) {
        TIDE_RETURN_IF_ERROR(tx.deleteTarget(t));
        removed.push_back(t.id + ":" + std::to_string(t.port));
        continue;
      }
      bool running = inst->state == model::InstanceState::Running;
      if (!used.count(t.targetGroupArn)) {
        if (t.state != TargetHealthState::Unused) {
          t.state = TargetHealthState::Unused;
          t.reason = "Target.NotInUse";
          t.description = "Target group is not configured to receive traffic from the load "
                          "balancer";
        }
      } else if (!running) {
        std::string why =
            "Target is in the " + std::string(model::instanceStateName(inst->state)) + " state";
        if (t.state != TargetHealthState::Unhealthy || t.description != why) {
          t.state = TargetHealthState::Unhealthy;
          t.reason = "Target.InvalidState";
          t.description = why;
        }
      } else if (t.state == TargetHealthState::Unused ||
                 (t.state == TargetHealthState::Unhealthy && t.reason == "Target.InvalidState")) {
        startOver(t);
      }
      if (!(t == before)) {
        TIDE_RETURN_IF_ERROR(tx.putTarget(t));
        if (t.state != before.state) {
          logInfo("target " + t.id + ":" + std::to_string(t.port) + " is " +
                  std::string(model::targetHealthStateName(t.state)) + " (" + t.reason + ")");
        }
      }
    }
    return Status::ok();
  }));
  for (const auto& r : removed) {
    logInfo("target " + r + " deregistered");
  }
  return Millis(std::max<TimeMs>(next - now, 10));
}

} // namespace tide::control
