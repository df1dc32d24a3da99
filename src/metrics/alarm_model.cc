#include "metrics/alarm_model.h"

namespace tide::metrics {

Result<AlarmSpec> alarmSpecOf(const model::MetricAlarm& a) {
  AlarmSpec s;
  s.alarmName = a.alarmName;
  s.namespace_ = a.namespace_;
  s.metricName = a.metricName;
  for (const auto& d : a.dimensions) {
    s.dimensions.emplace_back(d.name, d.value);
  }
  if (!a.statistic.empty()) {
    auto st = parseStatistic(a.statistic);
    if (!st) {
      return validationError("Statistic '" + a.statistic +
                             "' must be SampleCount, Average, Sum, Minimum or Maximum");
    }
    s.statistic = *st;
  }
  s.extendedStatistic = a.extendedStatistic;
  s.metrics = a.metrics;
  s.periodSeconds = a.period;
  s.evaluationPeriods = a.evaluationPeriods;
  if (a.datapointsToAlarm > 0) {
    s.datapointsToAlarm = a.datapointsToAlarm;
  }
  s.threshold = a.threshold;
  if (!a.comparisonOperator.empty()) {
    TIDE_ASSIGN_OR_RETURN(auto op, parseComparisonOperator(a.comparisonOperator));
    s.comparisonOperator = op;
  }
  TIDE_ASSIGN_OR_RETURN(auto missing, parseTreatMissingData(a.treatMissingData));
  s.treatMissingData = missing;
  s.alarmActions = a.alarmActions;
  s.okActions = a.okActions;
  s.insufficientDataActions = a.insufficientDataActions;
  s.actionsEnabled = a.actionsEnabled;
  TIDE_RETURN_IF_ERROR(validateAlarmSpec(s));
  return s;
}

AlarmState alarmStateOf(const model::MetricAlarm& a) {
  AlarmState s;
  s.stateValue = a.stateValue;
  s.stateReason = a.stateReason;
  s.stateReasonData = a.stateReasonData;
  s.stateUpdatedTimestamp = a.stateUpdatedTimestamp;
  return s;
}

void setAlarmState(model::MetricAlarm& a, const AlarmState& s) {
  a.stateValue = s.stateValue;
  a.stateReason = s.stateReason;
  a.stateReasonData = s.stateReasonData;
  a.stateUpdatedTimestamp = s.stateUpdatedTimestamp;
}

} // namespace tide::metrics
