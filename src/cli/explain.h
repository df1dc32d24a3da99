// `tide asg explain GROUP`: the last decisions of an Auto Scaling group as a story a person can
// read, oldest first: its alarms' state changes, what each scaling action decided and why (the
// inputs the server recorded: metric value, threshold, step, computed capacity, and what
// limited it: MaxSize, MinSize, cooldown, no step), and the activities that followed (launches,
// terminations, user requests), with their outcome.
//
// Built from what any client can read: DescribeScalingActivities (whose Details carry a
// decision's inputs), DescribePolicies (the alarms of the group's policies) and
// DescribeAlarmHistory of those alarms (StateUpdate items, and Action items whose HistoryData
// has tide's tideDecision).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tide::cli {

using Json = nlohmann::json;

struct ExplainEvent {
  std::string time; // ISO 8601, as the API gives it
  std::string kind; // "alarm", "decision", "activity"
  std::string text; // one line for people
};

// The events of `activities` (DescribeScalingActivities' Activities) and `alarmHistory` (the
// AlarmHistoryItems of the group's alarms), oldest first; at most `max` (the newest).
std::vector<ExplainEvent> explainEvents(const Json& activities, const Json& alarmHistory,
                                        size_t max);

// One decision's Details (a JSON object as text) as a sentence: "metric 85 vs threshold 70,
// step [0, +inf) +1: capacity 3 (min 1, max 5)". Empty when the text is not such an object.
std::string describeDecision(const std::string& details);

// A scheduled action's run (an activity whose Details name ScheduledActionName) as a sentence:
// "scheduled action evening due at T: sets min 2, max 10, desired 4 => desired capacity 2 -> 4".
std::string describeScheduledRun(const Json& details, const Json& activity);

} // namespace tide::cli
