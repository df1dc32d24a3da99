#include "cli/explain.h"

#include <gtest/gtest.h>

namespace tide::cli {
namespace {

Json stateUpdate(const std::string& time, const std::string& from, const std::string& to,
                 const std::string& reason) {
  Json data = {{"version", "1.0"},
               {"oldState", {{"stateValue", from}}},
               {"newState", {{"stateValue", to}, {"stateReason", reason}}}};
  return {{"AlarmName", "cpu-high"},
          {"Timestamp", time},
          {"HistoryItemType", "StateUpdate"},
          {"HistoryData", data.dump()}};
}

Json action(const std::string& time, const Json& decision) {
  Json data = {{"actionState", "Succeeded"},
               {"notificationResource", "arn:aws:autoscaling:us-east-1:0:scalingPolicy:x"},
               {"tideDecision", decision}};
  return {{"AlarmName", "cpu-high"},
          {"Timestamp", time},
          {"HistoryItemType", "Action"},
          {"HistoryData", data.dump()}};
}

const Json kStepDetails = {{"Policy", "cpu-high"},
                           {"PolicyType", "StepScaling"},
                           {"Trigger", "alarm cpu-high in state ALARM"},
                           {"MetricValue", 85.5},
                           {"Threshold", 70},
                           {"AdjustmentType", "ChangeInCapacity"},
                           {"MinSize", 1},
                           {"MaxSize", 3},
                           {"PreviousDesiredCapacity", 2},
                           {"Step", {{"MetricIntervalLowerBound", 0}, {"ScalingAdjustment", 2}}},
                           {"ScalingAdjustment", 2},
                           {"ComputedCapacity", 4},
                           {"LimitedBy", "MaxSize"},
                           {"DesiredCapacity", 3}};

TEST(ExplainTest, ADecisionSaysItsInputsAndWhatLimitedIt) {
  std::string s = describeDecision(kStepDetails.dump());
  EXPECT_EQ(s, "policy cpu-high (StepScaling) triggered by alarm cpu-high in state ALARM: "
               "metric 85.5 vs threshold 70; step [0, +inf) +2; computed capacity 4; min 1, "
               "max 3 => desired capacity 2 -> 3 (limited by MaxSize)");
  Json cooling = {{"Policy", "scale-out"},
                  {"PolicyType", "SimpleScaling"},
                  {"Trigger", "ExecutePolicy"},
                  {"PreviousDesiredCapacity", 2},
                  {"DesiredCapacity", 2},
                  {"LimitedBy", "Cooldown"},
                  {"CooldownEnds", "2026-12-06T18:07:01.000Z"}};
  EXPECT_EQ(describeDecision(cooling.dump()),
            "policy scale-out (SimpleScaling) executed by a user request => desired capacity "
            "stays 2 (skipped: the group cools down until 2026-12-06T18:07:01.000Z)");
  Json tracking = {{"Policy", "cpu50"},
                   {"PolicyType", "TargetTrackingScaling"},
                   {"Trigger", "alarm TargetTracking-web-AlarmHigh-1 in state ALARM"},
                   {"MetricValue", 90},
                   {"TargetValue", 50},
                   {"MeasuredCapacity", 2},
                   {"CapacityInFlight", 0},
                   {"ComputedCapacity", 4},
                   {"PreviousDesiredCapacity", 2},
                   {"DesiredCapacity", 4}};
  EXPECT_EQ(describeDecision(tracking.dump()),
            "policy cpu50 (TargetTrackingScaling) triggered by alarm "
            "TargetTracking-web-AlarmHigh-1 in state ALARM: metric 90 vs target 50; measured over "
            "2 instance(s); computed capacity 4 => desired capacity 2 -> 4");
  Json predictive = {{"Policy", "cpu-forecast"},
                     {"PolicyType", "PredictiveScaling"},
                     {"Trigger", "forecast for 2026-12-06T09:00:00Z"},
                     {"LoadForecast", 300},
                     {"Forecast", "DailyPattern"},
                     {"TargetValue", 50},
                     {"ComputedCapacity", 6},
                     {"MinSize", 1},
                     {"MaxSize", 10},
                     {"PreviousDesiredCapacity", 2},
                     {"DesiredCapacity", 6}};
  EXPECT_EQ(describeDecision(predictive.dump()),
            "policy cpu-forecast (PredictiveScaling) triggered by forecast for "
            "2026-12-06T09:00:00Z: load forecast 300 (DailyPattern) vs target 50 per instance; "
            "computed capacity 6; min 1, max 10 => desired capacity 2 -> 6");
  EXPECT_EQ(describeDecision("not json"), "");
}

TEST(ExplainTest, EventsReadOldestFirstWithoutTellingADecisionTwice) {
  Json history = Json::array(
      {action("2026-12-06T18:02:31.000Z", {{"outcome", "Unchanged"}, {"details", kStepDetails}}),
       stateUpdate("2026-12-06T18:02:01.000Z", "OK", "ALARM", "Threshold Crossed: 3 datapoints"),
       action("2026-12-06T18:02:01.000Z", {{"outcome", "Changed"}, {"details", kStepDetails}})});
  Json activities = Json::array(
      {{{"StartTime", "2026-12-06T18:02:01.000Z"},
        {"Description", "Changing the desired capacity from 2 to 3"},
        {"StatusCode", "Successful"},
        {"Cause", "At 2026-12-06T18:02:01Z a monitor alarm cpu-high ..."},
        {"Details", kStepDetails.dump()}},
       {{"StartTime", "2026-12-06T18:02:02.000Z"},
        {"Description", "Launching a new EC2 instance: i-1"},
        {"StatusCode", "Failed"},
        {"StatusMessage", "InsufficientInstanceCapacity"},
        {"Cause", "At 2026-12-06T18:02:01Z a monitor alarm cpu-high in state ALARM triggered "
                  "policy out changing the desired capacity from 2 to 3.  At 2026-12-06T18:02:01Z "
                  "an instance was started in response to a difference between desired and "
                  "actual capacity, increasing the capacity from 2 to 3."},
        {"Details", "{}"}}});
  auto events = explainEvents(activities, history, 10);
  ASSERT_EQ(events.size(), 4u); // the alarm-driven change is told once, by the alarm's action
  EXPECT_EQ(events[0].kind, "alarm");
  EXPECT_EQ(events[0].text, "alarm cpu-high: OK -> ALARM: Threshold Crossed: 3 datapoints");
  EXPECT_EQ(events[1].kind, "decision");
  EXPECT_EQ(events[2].kind, "activity");
  EXPECT_EQ(events[2].text,
            "Launching a new EC2 instance: i-1: Failed (InsufficientInstanceCapacity); cause: an "
            "instance was started in response to a difference between desired and actual "
            "capacity, increasing the capacity from 2 to 3.");
  EXPECT_EQ(events[3].time, "2026-12-06T18:02:31.000Z");
  // The newest `max` only.
  auto last = explainEvents(activities, history, 1);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].time, "2026-12-06T18:02:31.000Z");
}

} // namespace
} // namespace tide::cli

namespace tide::cli {
namespace {

TEST(ExplainTest, AScheduledRunSaysWhatItSetAndWhen) {
  Json details = {{"ScheduledActionName", "evening"},
                  {"ScheduledTime", "2026-12-06T18:00:00.000Z"},
                  {"Recurrence", "0 18 * * *"},
                  {"TimeZone", "UTC"},
                  {"MinSize", 2},
                  {"MaxSize", 10},
                  {"RequestedDesiredCapacity", 4},
                  {"PreviousDesiredCapacity", 2},
                  {"DesiredCapacity", 4}};
  Json activity = {{"StartTime", "2026-12-06T18:00:00.050Z"},
                   {"StatusCode", "Successful"},
                   {"Description", "Changing the desired capacity from 2 to 4"},
                   {"Details", details.dump()}};
  auto events = explainEvents(Json::array({activity}), Json::array(), 10);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "decision");
  EXPECT_EQ(events[0].text, "scheduled action evening (0 18 * * * in UTC) due at "
                            "2026-12-06T18:00:00.000Z: sets min 2, max 10, desired 4 => desired "
                            "capacity 2 -> 4");
  activity["StatusCode"] = "Failed";
  activity["StatusMessage"] = "min above max";
  EXPECT_NE(describeScheduledRun(details, activity).find("=> failed (min above max)"),
            std::string::npos);
}

} // namespace
} // namespace tide::cli
