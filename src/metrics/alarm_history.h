// The entries of an alarm's history (DescribeAlarmHistory), written as CloudWatch writes them:
// a StateUpdate when the alarm's state changes (the evaluator or SetAlarmState), and a
// ConfigurationUpdate when PutMetricAlarm creates or updates it and when DeleteAlarms deletes
// it. HistoryData is a JSON document with "version": "1.0".
#pragma once

#include "model/auto_scaling.h"

#include <string_view>

namespace tide::metrics {

// "Alarm updated from OK to ALARM", with the old and new state (value, reason, reason data) in
// HistoryData. `after` carries the new state and its stateUpdatedTimestamp (the item's time).
model::AlarmHistoryItem stateUpdateHistory(const model::MetricAlarm& before,
                                           const model::MetricAlarm& after);

enum class ConfigurationChange { Create, Update, Delete };

// 'Alarm "NAME" created' / 'updated' / 'deleted', with the alarm's configuration in HistoryData
// (createdAlarm, updatedAlarm with originalUpdatedFields, or deletedAlarm). `before` is the
// alarm before an Update (ignored otherwise).
model::AlarmHistoryItem configurationHistory(ConfigurationChange change,
                                             const model::MetricAlarm& alarm,
                                             const model::MetricAlarm* before, TimeMs at);

} // namespace tide::metrics
