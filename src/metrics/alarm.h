// Metric alarms (CloudWatch PutMetricAlarm) and their evaluation.
//
// State machine (every transition is possible; each evaluation picks the state the data says):
//   INSUFFICIENT_DATA (initial) ⇄ OK ⇄ ALARM ⇄ INSUFFICIENT_DATA
// An alarm is level-triggered: evaluateAlarm() looks at the most recent complete periods each
// time, and evaluating again with no new data changes nothing. Actions come back only with a
// change of state, as in CloudWatch; a scaling policy that re-fires while its alarm stays in
// ALARM asks isInAlarm() on its own schedule.
//
// How a state is chosen (CloudWatch's "M out of N" with its evaluation range):
// - A period of Period seconds is complete when its end <= now; periods are aligned to the
//   epoch, as in the metric store. The evaluator reads the last N + 2 complete periods (the
//   evaluation range; CloudWatch reads 5 for N = 3 in its documented examples), where
//   N = EvaluationPeriods and M = DatapointsToAlarm.
// - At least N periods with data: the N most recent of them are evaluated; ALARM when at least
//   M breach the threshold, else OK. TreatMissingData plays no part.
// - No period with data: missing → INSUFFICIENT_DATA, ignore → the state is kept, breaching →
//   ALARM, notBreaching → OK.
// - Some but fewer than N: every real datapoint is evaluated and N - k missing ones are filled:
//   breaching → as breaching; notBreaching → as not breaching; missing and ignore → as not
//   breaching when a real datapoint does not breach (the data already shows the metric is not
//   all above), else ALARM if the breaching real datapoints alone reach M, else
//   INSUFFICIENT_DATA (missing) or the state is kept (ignore).
//   This matches every row of CloudWatch's documented tables but one: for "X - - - -" (3 of 3,
//   the only datapoint the oldest and breaching) CloudWatch shows ALARM under missing; tide
//   says INSUFFICIENT_DATA, as it does for "- - - - X".
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "metrics/series.h"
#include "model/auto_scaling.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tide::metrics {

enum class ComparisonOperator {
  GreaterThanOrEqualToThreshold, // value >= threshold breaches
  GreaterThanThreshold,          // value > threshold breaches
  LessThanThreshold,             // value < threshold breaches
  LessThanOrEqualToThreshold,    // value <= threshold breaches
};

enum class TreatMissingData {
  Missing,      // "missing" (default): not evaluated; all missing → INSUFFICIENT_DATA
  NotBreaching, // "notBreaching": missing datapoints count as within the threshold
  Breaching,    // "breaching": missing datapoints count as breaching
  Ignore,       // "ignore": the current state is kept when the data cannot decide
};

// Ok, Alarm, InsufficientData: the model's, named by model/names.h.
using AlarmStateValue = model::AlarmStateValue;

std::string_view comparisonOperatorName(ComparisonOperator op);
// Errors: "ValidationError" naming ComparisonOperator and listing the valid values.
Result<ComparisonOperator> parseComparisonOperator(std::string_view name);
std::string_view treatMissingDataName(TreatMissingData t); // "missing", "notBreaching", ...
// Errors: "ValidationError" naming TreatMissingData and listing the valid values.
Result<TreatMissingData> parseTreatMissingData(std::string_view name);
std::string_view stateValueName(AlarmStateValue s); // "OK", "ALARM", "INSUFFICIENT_DATA"
// Errors: "ValidationError" naming StateValue.
Result<AlarmStateValue> parseStateValue(std::string_view name);

// PutMetricAlarm's request for a single-metric alarm.
struct AlarmSpec {
  std::string alarmName;                       // 1..255 characters; unique per account and region
  std::string namespace_;                      // "AWS/EC2", ...; 1..255
  std::string metricName;                      // "CPUUtilization", ...; 1..255
  std::vector<Dimension> dimensions;           // as in the metric (all of them), up to 30
  std::optional<Statistic> statistic;          // Statistic; exactly one of it and ExtendedStatistic
  std::string extendedStatistic;               // "p99", ...; empty when Statistic is used
  std::vector<model::MetricDataQuery> metrics; // a metric math alarm: these queries instead
                                               // of Namespace, MetricName and the statistic
  int periodSeconds = 0;                       // required: 1, 5, 10, 30 or a multiple of 60
  int evaluationPeriods = 0;            // N, required, >= 1; N × Period <= 86400 s (one day)
  std::optional<int> datapointsToAlarm; // M, 1..N; N when unset
  std::optional<double> threshold;      // required
  std::optional<ComparisonOperator> comparisonOperator;          // required
  TreatMissingData treatMissingData = TreatMissingData::Missing; // CloudWatch's default
  std::vector<std::string> alarmActions;            // ARNs invoked on → ALARM; up to 5
  std::vector<std::string> okActions;               // ARNs invoked on → OK; up to 5
  std::vector<std::string> insufficientDataActions; // ARNs on → INSUFFICIENT_DATA; up to 5
  bool actionsEnabled = true;                       // false: state changes invoke nothing
};

// Each error names the field: "MissingParameter" for a required one that is unset,
// "InvalidParameterCombination" for Statistic with ExtendedStatistic, validateMetricKey's
// errors for Namespace, MetricName and Dimensions, "ValidationError" for the rest (ranges,
// lengths, Period, ARNs that do not start with "arn:").
Status validateAlarmSpec(const AlarmSpec& spec);

// M: DatapointsToAlarm, or EvaluationPeriods when unset.
int datapointsToAlarm(const AlarmSpec& spec);

struct AlarmState {
  AlarmStateValue stateValue = AlarmStateValue::InsufficientData;
  std::string stateReason = "Unchecked: Initial alarm creation"; // for a person
  std::string stateReasonData;      // JSON with the evaluated datapoints; empty when none
  TimeMs stateUpdatedTimestamp = 0; // when stateValue last changed (or the alarm was created)
};

// The state of a new alarm: INSUFFICIENT_DATA since `now`.
AlarmState initialAlarmState(TimeMs now);

struct AlarmEvaluation {
  AlarmState state;                 // the new state (equal to the current one when unchanged)
  bool changed = false;             // whether stateValue changed
  std::vector<std::string> actions; // to invoke: the new state's actions, only when changed
                                    // and ActionsEnabled
};

// One evaluation of `spec` at `now` against the metric's data in `store`. Pure: reads the
// store, writes nothing; the caller stores the new state. When stateValue does not change, the
// current state comes back as it was (reason and timestamp too).
// REQUIRES: validateAlarmSpec(spec) is OK.
AlarmEvaluation evaluateAlarm(const AlarmSpec& spec, const AlarmState& current,
                              const MetricStore& store, TimeMs now);

// Whether the alarm is in ALARM: scaling policies keep acting on every period their alarm
// stays there (CloudWatch re-invokes Auto Scaling actions); they decide when, not the alarm.
inline bool isInAlarm(const AlarmState& state) {
  return state.stateValue == AlarmStateValue::Alarm;
}

// The actions configured for `state` (AlarmActions, OKActions or InsufficientDataActions),
// whether or not actions are enabled.
const std::vector<std::string>& actionsForState(const AlarmSpec& spec, AlarmStateValue state);

// The alarm's value over its newest complete period at `now` (its statistic, or the series its
// Metrics return), if that period has data: what a scaling policy the alarm triggers reads.
std::optional<double> latestAlarmValue(const AlarmSpec& spec, const MetricStore& store, TimeMs now);

// A number as reasons print it: the shortest form that reads back exactly, with at least one
// decimal ("70.0", "85.25"); scientific ("1e+20") outside 1e-4 .. 1e15. Also valid JSON.
std::string formatReasonNumber(double value);

} // namespace tide::metrics
