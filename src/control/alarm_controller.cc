#include "control/alarm_controller.h"

#include "common/log.h"
#include "metrics/alarm_history.h"
#include "metrics/alarm_model.h"
#include "operations/scaling_policy.h"

namespace tide::control {

Result<Millis> AlarmController::reconcile() {
  TimeMs now = clock_.now();
  TimeMs at = now - options_.evaluationLag.count();
  std::vector<model::MetricAlarm> alarms;
  std::vector<model::ScalingPolicy> policies;
  TIDE_RETURN_IF_ERROR(store_.transact(
      [&](store::Tx& tx) -> Status {
        auto a = tx.alarms();
        auto p = tx.scalingPolicies("");
        TIDE_RETURN_IF_ERROR(firstError({&a.status(), &p.status()}));
        alarms = std::move(*a);
        policies = std::move(*p);
        return Status::ok();
      },
      false));
  for (model::MetricAlarm& alarm : alarms) {
    auto spec = metrics::alarmSpecOf(alarm);
    if (!spec) {
      continue; // validated when put; a later tide may read it differently
    }
    metrics::AlarmEvaluation e =
        metrics::evaluateAlarm(*spec, metrics::alarmStateOf(alarm), metrics_, at);
    // Which actions to invoke now: on a change, the new state's; while the state stays, its
    // Auto Scaling actions again once per period.
    int64_t period = metrics::floorDiv(at, spec->periodSeconds * 1000LL);
    std::vector<std::string> actions;
    if (e.changed) {
      actions = e.actions;
      lastActedPeriod_[alarm.alarmName] = period;
    } else if (alarm.actionsEnabled && lastActedPeriod_.count(alarm.alarmName) &&
               lastActedPeriod_[alarm.alarmName] < period) {
      for (const auto& arn : metrics::actionsForState(*spec, e.state.stateValue)) {
        if (arn.find(":scalingPolicy:") != std::string::npos) {
          actions.push_back(arn);
        }
      }
      lastActedPeriod_[alarm.alarmName] = period;
    } else if (!lastActedPeriod_.count(alarm.alarmName)) {
      lastActedPeriod_[alarm.alarmName] = period; // after a restart: act from the next period
    }
    if (!e.changed && actions.empty()) {
      continue;
    }
    operations::AlarmTrigger trigger;
    trigger.alarmName = alarm.alarmName;
    trigger.stateValue = e.state.stateValue;
    trigger.metricValue = metrics::latestAlarmValue(*spec, metrics_, at);
    trigger.threshold = alarm.threshold;
    trigger.alarmValue = [&](const std::string& name) -> std::optional<double> {
      for (const model::MetricAlarm& other : alarms) {
        if (other.alarmName == name) {
          auto otherSpec = metrics::alarmSpecOf(other);
          return otherSpec ? metrics::latestAlarmValue(*otherSpec, metrics_, at) : std::nullopt;
        }
      }
      return std::nullopt;
    };
    const model::MetricAlarm before = alarm;
    if (e.changed) {
      metrics::setAlarmState(alarm, e.state);
      logInfo("alarm " + alarm.alarmName + " is " +
              std::string(metrics::stateValueName(alarm.stateValue)) + ": " + alarm.stateReason);
    }
    Status s = store_.transact([&](store::Tx& tx) -> Status {
      if (e.changed) {
        TIDE_RETURN_IF_ERROR(tx.putAlarm(alarm));
        TIDE_RETURN_IF_ERROR(tx.putAlarmHistoryItem(metrics::stateUpdateHistory(before, alarm)));
      }
      for (const std::string& arn : actions) {
        for (const model::ScalingPolicy& p : policies) {
          if (p.policyArn != arn) {
            continue;
          }
          auto decision = operations::applyScalingPolicy(tx, p, trigger, now, true);
          metrics::ActionResult result;
          if (!decision) {
            logWarn("alarm " + alarm.alarmName + ": policy " + p.policyName + ": " +
                    decision.status().toString());
            result.succeeded = false;
            result.error = decision.status().message();
          } else {
            if (decision->outcome == operations::ScalingOutcome::Changed) {
              logInfo(decision->cause);
            }
            result.outcome = std::string(operations::scalingOutcomeName(decision->outcome));
            result.message = decision->message;
            result.details = decision->details;
          }
          TIDE_RETURN_IF_ERROR(
              tx.putAlarmHistoryItem(metrics::actionHistory(alarm, arn, result, now)));
        }
      }
      return Status::ok();
    });
    if (!s.isOk()) {
      return s;
    }
  }
  return Millis(1000 - now % 1000 + 10);
}

} // namespace tide::control
