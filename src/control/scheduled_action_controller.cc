#include "control/scheduled_action_controller.h"

#include "common/log.h"
#include "operations/scheduled_action.h"

#include <algorithm>

namespace tide::control {

namespace {
constexpr Millis kIdle{60000}; // the scheduler looks sooner anyway (its maxInterval)
}

Result<Millis> ScheduledActionController::reconcile() {
  TimeMs now = clock_.now();
  std::vector<std::pair<std::string, std::string>> due; // group, action
  TimeMs earliest = 0;
  TIDE_RETURN_IF_ERROR(store_.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto groups, tx.autoScalingGroups());
        for (const auto& g : groups) {
          if (g.deleting) {
            continue;
          }
          for (const auto& a : g.scheduledActions) {
            if (a.nextRun == 0) {
              continue;
            }
            if (a.nextRun <= now) {
              due.emplace_back(g.autoScalingGroupName, a.scheduledActionName);
            } else if (earliest == 0 || a.nextRun < earliest) {
              earliest = a.nextRun;
            }
          }
        }
        return Status::ok();
      },
      false));
  for (const auto& [groupName, actionName] : due) {
    TimeMs next = 0;
    TIDE_RETURN_IF_ERROR(store_.transact([&](store::Tx& tx) -> Status {
      TIDE_ASSIGN_OR_RETURN(auto g, tx.autoScalingGroup(groupName));
      if (!g || g->deleting) {
        return Status::ok();
      }
      TIDE_RETURN_IF_ERROR(operations::runScheduledAction(tx, *g, actionName, now));
      for (const auto& a : g->scheduledActions) {
        if (a.scheduledActionName == actionName) {
          next = a.nextRun;
        }
      }
      return Status::ok();
    }));
    logInfo("auto scaling group " + groupName + ": scheduled action " + actionName + " was due" +
            (next ? "; next at " + formatIso8601(next) : "; no run left"));
    if (next != 0 && (earliest == 0 || next < earliest)) {
      earliest = next;
    }
  }
  if (earliest == 0) {
    return kIdle;
  }
  return Millis(std::max<TimeMs>(earliest - now, 1));
}

} // namespace tide::control
