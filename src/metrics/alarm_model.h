// The stored alarm (model::MetricAlarm, as PutMetricAlarm recorded it) as the evaluator's
// AlarmSpec and AlarmState, and back.
#pragma once

#include "metrics/alarm.h"
#include "model/auto_scaling.h"

namespace tide::metrics {

// Errors: validateAlarmSpec's, and "ValidationError" for an unknown Statistic, comparison
// operator or TreatMissingData, each naming the field.
Result<AlarmSpec> alarmSpecOf(const model::MetricAlarm& alarm);
AlarmState alarmStateOf(const model::MetricAlarm& alarm);
// Writes state into the stored alarm's state fields.
void setAlarmState(model::MetricAlarm& alarm, const AlarmState& state);

} // namespace tide::metrics
