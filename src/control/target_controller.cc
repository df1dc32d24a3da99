#include "control/target_controller.h"

#include "common/log.h"
#include "model/names.h"
#include "operations/targets.h"

#include <map>
#include <set>

namespace tide::control {

using model::TargetHealthState;

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
      auto g = byArn.find(t.targetGroupArn);
      if (g == byArn.end()) {
        TIDE_RETURN_IF_ERROR(operations::removeTarget(tx, t)); // its group is gone
        continue;
      }
      if (t.state == TargetHealthState::Draining) {
        TIDE_ASSIGN_OR_RETURN(bool done, operations::finishDeregistration(tx, t, *g->second, now));
        if (done) {
          removed.push_back(t.id + ":" + std::to_string(t.port));
        } else {
          next = std::min(next, operations::deregistrationEnds(t, *g->second));
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
      TIDE_ASSIGN_OR_RETURN(bool wrote, !used.count(t.targetGroupArn)
                                            ? operations::markUnused(tx, t)
                                        : inst->state != model::InstanceState::Running
                                            ? operations::markInstanceNotRunning(tx, t, inst->state)
                                            : operations::startOver(tx, t));
      if (wrote && t.state != before) {
        logInfo("target " + t.id + ":" + std::to_string(t.port) + " is " +
                std::string(model::targetHealthStateName(t.state)) + " (" + t.reason + ")");
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
