#include "control/target_controller.h"

#include "common/log.h"
#include "model/names.h"
#include "operations/targets.h"

#include <map>
#include <set>

namespace tide::control {

using model::TargetHealthState;

namespace {

constexpr TimeMs kRetryAfter = 1000; // a group whose pass failed is tried again this soon

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
        TIDE_RETURN_IF_ERROR(operations::removeTarget(tx, t));
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
    if (!group.has_value()) {
      TIDE_RETURN_IF_ERROR(operations::removeTarget(tx, t)); // its group is gone
      continue;
    }
    if (t.state == TargetHealthState::Draining) {
      TIDE_ASSIGN_OR_RETURN(bool done, operations::finishDeregistration(tx, t, *group, now));
      if (done) {
        removed.push_back(t.id + ":" + std::to_string(t.port));
      } else {
        next = std::min(next, operations::deregistrationEnds(t, *group));
      }
      continue;
    }
    TIDE_ASSIGN_OR_RETURN(auto inst, tx.instance(t.id));
    if (!inst.has_value() || inst->state == model::InstanceState::Terminated) {
      TIDE_RETURN_IF_ERROR(operations::removeTarget(tx, t));
      removed.push_back(t.id + ":" + std::to_string(t.port));
      continue;
    }
    TargetHealthState before = t.state;
    // One move at most, as the group and the instance are now.
    TIDE_ASSIGN_OR_RETURN(bool wrote, !used ? operations::markUnused(tx, t)
                                      : inst->state != model::InstanceState::Running
                                          ? operations::markInstanceNotRunning(tx, t, inst->state)
                                          : operations::startOver(tx, t));
    if (wrote && t.state != before) {
      logInfo("target " + t.id + ":" + std::to_string(t.port) + " is " +
              std::string(model::targetHealthStateName(t.state)) + " (" + t.reason + ")");
    }
  }
  return Status::ok();
}

} // namespace tide::control
