#include "control/predictive_scaling_controller.h"

#include "common/log.h"
#include "operations/predictive_scaling.h"

#include <algorithm>

namespace tide::control {

namespace {
constexpr Millis kIdle{60000}; // the scheduler looks sooner anyway (its maxInterval)
}

Result<Millis> PredictiveScalingController::reconcile() {
  TimeMs now = clock_.now();
  std::vector<model::ScalingPolicy> due;
  TimeMs earliest = 0;
  TIDE_RETURN_IF_ERROR(store_.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto policies, tx.scalingPolicies(""));
        for (auto& p : policies) {
          if (!p.predictiveScaling || !p.predictiveScaling->forecastAndScale || !p.enabled) {
            continue;
          }
          int buffer = p.predictiveScaling->schedulingBufferTime;
          TimeMs hour = operations::activeForecastHour(now, buffer);
          TimeMs next = hour + operations::kForecastHourMs - 1000LL * buffer;
          if (earliest == 0 || next < earliest) {
            earliest = next;
          }
          if (p.predictiveScaling->scaledHour != hour) {
            due.push_back(std::move(p));
          }
        }
        return Status::ok();
      },
      false));
  for (const model::ScalingPolicy& p : due) {
    operations::PredictiveOutcome outcome = operations::PredictiveOutcome::NotDue;
    Status s = store_.transact([&](store::Tx& tx) -> Status {
      TIDE_ASSIGN_OR_RETURN(auto policies, tx.scalingPolicies(p.autoScalingGroupName));
      for (const auto& current : policies) {
        if (current.policyArn == p.policyArn) {
          TIDE_ASSIGN_OR_RETURN(outcome,
                                operations::applyPredictiveScaling(tx, metrics_, current, now));
        }
      }
      return Status::ok();
    });
    if (!s.isOk()) {
      logError("predictive scaling policy " + p.policyName + " of group " + p.autoScalingGroupName +
               ": " + s.toString());
      earliest = earliest == 0 ? now + 1000 : std::min(earliest, now + 1000); // again soon
      continue;
    }
    if (outcome == operations::PredictiveOutcome::Raised) {
      logInfo("auto scaling group " + p.autoScalingGroupName + ": predictive scaling policy " +
              p.policyName + " raised the desired capacity for its forecast");
    }
  }
  if (earliest == 0) {
    return kIdle;
  }
  return Millis(std::max<TimeMs>(earliest - now, 1));
}

} // namespace tide::control
