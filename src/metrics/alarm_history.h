// The entries of an alarm's history (DescribeAlarmHistory), written as CloudWatch writes them:
// a StateUpdate when the alarm's state changes (the evaluator or SetAlarmState), and a
// ConfigurationUpdate when PutMetricAlarm creates or updates it and when DeleteAlarms deletes
// it. HistoryData is a JSON document with "version": "1.0".
#pragma once

#include "model/auto_scaling.h"

#include <string>
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

// What an action the alarm invoked did: tide's addition to CloudWatch's Action items.
struct ActionResult {
  bool succeeded = true;
  std::string error;   // when it failed
  std::string outcome; // Auto Scaling: "Changed", "Unchanged", "CoolingDown", "NoStep"
  std::string message; // why nothing changed, for people
  std::string details; // a JSON object: the decision's inputs (the activity's Details)
};

// "Successfully executed action ARN" (or "Failed to execute action ARN. Received error: ..."),
// at `at`, as CloudWatch records each action an alarm invokes: HistoryData has actionState,
// stateUpdateTimestamp and notificationResource, and tide adds tideDecision (outcome, message,
// details) so that a skipped scaling action is explained too.
model::AlarmHistoryItem actionHistory(const model::MetricAlarm& alarm, const std::string& actionArn,
                                      const ActionResult& result, TimeMs at);

} // namespace tide::metrics
