#include "control/target_controller.h"

#include "common/log.h"
#include "model/names.h"

#include <map>
#include <set>

namespace tide::control {

using model::TargetHealthState;

namespace {

constexpr TimeMs kRetryAfter = 1000; // a group whose pass failed is tried again this soon

void startOver(model::Target& t) {
  t.state = TargetHealthState::Initial;
  t.reason = "Elb.InitialHealthChecking";
  t.description = "Initial health checks in progress";
}

} // namespace

Result<Millis> TargetController::reconcile(const Wake& wake) {
  TimeMs now = clock_.now();
  TimeMs next = now + 1000;
  // What every group's pass needs: which groups exist, which a listener forwards to, and which
  // are dirty (the group changed, one of its targets did, or one of their instances did).
  std::vector<std::string> dirty;
  std::set<std::string> orphans; // group ARNs of targets whose group is gone
  std::set<std::string> used;
  TIDE_RETURN_IF_ERROR(store_.transact(
      [&](store::Tx& tx) -> Status {
        auto groups = tx.targetGroups();
        auto targets = tx.targets("");
        auto listeners = tx.listeners();
        TIDE_RETURN_IF_ERROR(
            firstError({&groups.status(), &targets.status(), &listeners.status()}));
        for (const auto& l : *listeners) {
          for (const std::string& arn : model::targetGroupsOf(l)) {
            used.insert(arn);
          }
        }
        std::set<std::string> exist, touched;
        for (const auto& g : *groups) {
          exist.insert(g.targetGroupArn);
        }
        for (const auto& t : *targets) {
          if (!exist.count(t.targetGroupArn)) {
            orphans.insert(t.targetGroupArn);
          } else if (wake.dirty(t.id) || wake.dirty(t.id + ":" + std::to_string(t.port))) {
            touched.insert(t.targetGroupArn);
          }
        }
        for (const auto& g : *groups) {
          const std::string& arn = g.targetGroupArn;
          if (wake.dirty(arn) || touched.count(arn) || failed_.count(arn)) {
            dirty.push_back(arn);
          }
        }
        std::erase_if(failed_, [&](const std::string& arn) { return !exist.count(arn); });
        return Status::ok();
      },
      false));

  std::vector<std::string> removed;
  // Targets whose group is gone.
  for (const std::string& arn : orphans) {
    Status s = store_.transact([&](store::Tx& tx) -> Status {
      TIDE_ASSIGN_OR_RETURN(auto targets, tx.targets(arn));
      for (const model::Target& t : targets) {
        TIDE_RETURN_IF_ERROR(tx.deleteTarget(t));
      }
      return Status::ok();
    });
    if (!s.isOk()) {
      logError("targets of the removed target group " + arn + ": " + s.toString());
      next = std::min(next, now + kRetryAfter);
    }
  }
  // One transaction per group: one group's failure does not hold back the others.
  for (const std::string& arn : dirty) {
    std::vector<std::string> gone;
    Status s = store_.transact([&](store::Tx& tx) {
      return reconcileGroup(tx, arn, used.count(arn) > 0, now, next, gone);
    });
    if (!s.isOk()) {
      logError("target group " + arn + ": " + s.toString());
      failed_.insert(arn);
      next = std::min(next, now + kRetryAfter);
      continue;
    }
    failed_.erase(arn);
    removed.insert(removed.end(), gone.begin(), gone.end());
  }
  for (const auto& r : removed) {
    logInfo("target " + r + " deregistered");
  }
  return Millis(std::max<TimeMs>(next - now, 10));
}

Status TargetController::reconcileGroup(store::Tx& tx, const std::string& arn, bool used,
                                        TimeMs now, TimeMs& next,
                                        std::vector<std::string>& removed) {
  TIDE_ASSIGN_OR_RETURN(auto group, tx.targetGroup(arn));
  TIDE_ASSIGN_OR_RETURN(auto targets, tx.targets(arn));
  for (model::Target& t : targets) {
    model::Target before = t;
    if (!group.has_value()) {
      TIDE_RETURN_IF_ERROR(tx.deleteTarget(t)); // its group is gone
      continue;
    }
    if (t.state == TargetHealthState::Draining) {
      TimeMs ends = t.drainingSince + group->deregistrationDelaySeconds * 1000LL;
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
    if (!used) {
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
}

} // namespace tide::control
