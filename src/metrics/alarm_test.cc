#include "metrics/alarm.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tide::metrics {
namespace {

constexpr TimeMs kT0 = 1'800'000'000'000; // 2027-01-15T08:00:00Z
constexpr int kPeriod = 10;
constexpr TimeMs kPeriodMs = kPeriod * 1000;
constexpr const char* kScaleOut =
    "arn:aws:autoscaling:local:000000000000:scalingPolicy:1:autoScalingGroupName/web:"
    "policyName/scale-out";
constexpr const char* kScaleIn =
    "arn:aws:autoscaling:local:000000000000:scalingPolicy:2:autoScalingGroupName/web:"
    "policyName/scale-in";
constexpr const char* kNotify = "arn:aws:sns:local:000000000000:ops";

const std::vector<Dimension> kGroup{{"AutoScalingGroupName", "web"}};

MetricKey groupCpu() {
  return MetricKey{"AWS/EC2", "CPUUtilization", kGroup};
}

// The seed's scale-out rule, with 10 s periods: Average CPUUtilization > 70 for 3 periods.
AlarmSpec cpuHigh() {
  AlarmSpec s;
  s.alarmName = "web-cpu-high";
  s.namespace_ = "AWS/EC2";
  s.metricName = "CPUUtilization";
  s.dimensions = kGroup;
  s.statistic = Statistic::Average;
  s.periodSeconds = kPeriod;
  s.evaluationPeriods = 3;
  s.threshold = 70;
  s.comparisonOperator = ComparisonOperator::GreaterThanThreshold;
  s.alarmActions = {kScaleOut};
  s.okActions = {kNotify};
  s.insufficientDataActions = {kNotify};
  return s;
}

// The seed's scale-in rule: Average CPUUtilization < 30 for 3 periods.
AlarmSpec cpuLow() {
  AlarmSpec s = cpuHigh();
  s.alarmName = "web-cpu-low";
  s.threshold = 30;
  s.comparisonOperator = ComparisonOperator::LessThanThreshold;
  s.alarmActions = {kScaleIn};
  s.okActions = {};
  s.insufficientDataActions = {};
  return s;
}

class AlarmTest : public ::testing::Test {
protected:
  // Puts `value` once a second for the whole period that starts at `start`, and moves the
  // clock to the period's end (it is then complete).
  void putPeriod(TimeMs start, double value, const MetricKey& key = groupCpu()) {
    clock_.set(start + kPeriodMs);
    for (int i = 0; i < kPeriod; ++i) {
      ASSERT_TRUE(store_.put(key, start + i * 1000, value).isOk());
    }
  }
  // Puts one period after another from the current time.
  void putNext(double value) { putPeriod(clock_.now(), value); }

  // Evaluates at the clock's time and keeps the new state.
  AlarmEvaluation evaluate(const AlarmSpec& spec, AlarmState& state) {
    AlarmEvaluation e = evaluateAlarm(spec, state, store_, clock_.now());
    state = e.state;
    return e;
  }

  VirtualClock clock_{kT0};
  MetricStore store_{clock_};
};

TEST_F(AlarmTest, StartsInInsufficientDataAndStaysThereWithoutData) {
  AlarmState state = initialAlarmState(kT0);
  EXPECT_EQ(state.stateValue, AlarmStateValue::InsufficientData);
  EXPECT_EQ(state.stateReason, "Unchecked: Initial alarm creation");
  EXPECT_EQ(state.stateUpdatedTimestamp, kT0);
  clock_.advance(Millis(60'000));
  AlarmEvaluation e = evaluate(cpuHigh(), state);
  EXPECT_FALSE(e.changed);
  EXPECT_TRUE(e.actions.empty());
  EXPECT_EQ(state.stateValue, AlarmStateValue::InsufficientData);
  EXPECT_EQ(state.stateReason, "Unchecked: Initial alarm creation");
}

TEST_F(AlarmTest, GoesToAlarmAfterNBreachingPeriodsAndStaysWithoutNewActions) {
  AlarmSpec spec = cpuHigh();
  AlarmState state = initialAlarmState(kT0);
  putNext(20);
  putNext(20);
  putNext(20);
  AlarmEvaluation e = evaluate(spec, state);
  EXPECT_TRUE(e.changed);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Ok);
  EXPECT_EQ(e.actions, std::vector<std::string>{kNotify});

  putNext(85);
  EXPECT_FALSE(evaluate(spec, state).changed);
  putNext(80.5);
  EXPECT_FALSE(evaluate(spec, state).changed);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Ok);
  putNext(90);
  TimeMs fired = clock_.now();
  e = evaluate(spec, state);
  EXPECT_TRUE(e.changed);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Alarm);
  EXPECT_TRUE(isInAlarm(state));
  EXPECT_EQ(e.actions, std::vector<std::string>{kScaleOut});
  EXPECT_EQ(state.stateUpdatedTimestamp, fired);
  // kT0 + 60 s is 08:01:00 on 15 January 2027; the newest datapoint comes first.
  EXPECT_EQ(state.stateReason,
            "Threshold Crossed: 3 out of the last 3 datapoints [90.0 (15/01/27 08:00:50), 80.5 "
            "(15/01/27 08:00:40), 85.0 (15/01/27 08:00:30)] were greater than the threshold "
            "(70.0) (minimum 3 datapoints for OK -> ALARM transition).");
  EXPECT_NE(state.stateReasonData.find("\"threshold\":70.0"), std::string::npos);
  EXPECT_NE(state.stateReasonData.find("\"recentDatapoints\":[85.0,80.5,90.0]"), std::string::npos);
  EXPECT_NE(state.stateReasonData.find("\"statistic\":\"Average\""), std::string::npos);
  EXPECT_NE(state.stateReasonData.find("\"sampleCount\":10.0"), std::string::npos);

  // Level-triggered: evaluating again, now or later with more breaching data, changes nothing.
  AlarmState before = state;
  e = evaluate(spec, state);
  EXPECT_FALSE(e.changed);
  EXPECT_TRUE(e.actions.empty());
  putNext(95);
  clock_.advance(Millis(3000)); // inside the next period: it is not complete, not evaluated
  e = evaluate(spec, state);
  EXPECT_FALSE(e.changed);
  EXPECT_TRUE(e.actions.empty());
  EXPECT_EQ(state.stateReason, before.stateReason);
  EXPECT_EQ(state.stateUpdatedTimestamp, fired);
  EXPECT_TRUE(isInAlarm(state));
  // What a policy re-firing while in alarm would invoke.
  EXPECT_EQ(actionsForState(spec, state.stateValue), std::vector<std::string>{kScaleOut});
}

TEST_F(AlarmTest, IncompletePeriodIsNotEvaluated) {
  AlarmSpec spec = cpuHigh();
  AlarmState state = initialAlarmState(kT0);
  putNext(20);
  putNext(20);
  putNext(20);
  evaluate(spec, state);
  ASSERT_EQ(state.stateValue, AlarmStateValue::Ok);
  // Three breaching periods, the last one seen only 9 s in: two complete ones breach.
  putNext(90);
  putNext(90);
  TimeMs start = clock_.now();
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(store_.put(groupCpu(), start + i * 1000, 90).isOk());
  }
  clock_.set(start + 9999);
  EXPECT_FALSE(evaluate(spec, state).changed);
  clock_.set(start + kPeriodMs);
  EXPECT_TRUE(evaluate(spec, state).changed);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Alarm);
}

TEST_F(AlarmTest, AlarmToOk) {
  AlarmSpec spec = cpuHigh();
  AlarmState state = initialAlarmState(kT0);
  putNext(90);
  putNext(90);
  putNext(90);
  evaluate(spec, state);
  ASSERT_EQ(state.stateValue, AlarmStateValue::Alarm);
  putNext(40);
  AlarmEvaluation e = evaluate(spec, state);
  EXPECT_TRUE(e.changed);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Ok);
  EXPECT_EQ(e.actions, std::vector<std::string>{kNotify});
  EXPECT_NE(state.stateReason.find("1 out of the last 3 datapoints [40.0 (15/01/27 08:00:30), "
                                   "90.0 (15/01/27 08:00:20), 90.0 (15/01/27 08:00:10)] was not "
                                   "greater than the threshold (70.0)"),
            std::string::npos)
      << state.stateReason;
  EXPECT_NE(state.stateReason.find("(minimum 1 datapoint for ALARM -> OK transition)"),
            std::string::npos)
      << state.stateReason;
}

TEST_F(AlarmTest, TwoOutOfThree) {
  AlarmSpec spec = cpuHigh();
  spec.datapointsToAlarm = 2;
  AlarmState state = initialAlarmState(kT0);
  putNext(90);
  putNext(10);
  putNext(90); // X 0 X
  AlarmEvaluation e = evaluate(spec, state);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Alarm);
  EXPECT_EQ(e.actions, std::vector<std::string>{kScaleOut});
  EXPECT_NE(state.stateReason.find("2 out of the last 3 datapoints"), std::string::npos);
  EXPECT_NE(state.stateReason.find("(minimum 2 datapoints for INSUFFICIENT_DATA -> ALARM"),
            std::string::npos)
      << state.stateReason;
  putNext(10); // 0 X 0
  EXPECT_TRUE(evaluate(spec, state).changed);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Ok);
  EXPECT_NE(state.stateReason.find("2 out of the last 3 datapoints"), std::string::npos);
  EXPECT_NE(state.stateReason.find("were not greater than"), std::string::npos);
  EXPECT_NE(state.stateReason.find("(minimum 2 datapoints for ALARM -> OK"), std::string::npos)
      << state.stateReason;
  putNext(90); // X 0 X
  EXPECT_TRUE(evaluate(spec, state).changed);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Alarm);
}

TEST_F(AlarmTest, SingleDatapointReason) {
  AlarmSpec spec = cpuHigh();
  spec.evaluationPeriods = 1;
  spec.comparisonOperator = ComparisonOperator::GreaterThanOrEqualToThreshold;
  AlarmState state = initialAlarmState(kT0);
  putNext(70);
  evaluate(spec, state);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Alarm);
  EXPECT_EQ(state.stateReason, "Threshold Crossed: 1 datapoint [70.0 (15/01/27 08:00:00)] was "
                               "greater than or equal to the threshold (70.0).");
}

TEST_F(AlarmTest, AllMissingFollowsTreatMissingData) {
  struct Case {
    TreatMissingData treat;
    AlarmStateValue from;
    AlarmStateValue expected;
  };
  for (Case c :
       {Case{TreatMissingData::Missing, AlarmStateValue::Alarm, AlarmStateValue::InsufficientData},
        Case{TreatMissingData::Ignore, AlarmStateValue::Alarm, AlarmStateValue::Alarm},
        Case{TreatMissingData::Ignore, AlarmStateValue::Ok, AlarmStateValue::Ok},
        Case{TreatMissingData::Breaching, AlarmStateValue::Ok, AlarmStateValue::Alarm},
        Case{TreatMissingData::NotBreaching, AlarmStateValue::Alarm, AlarmStateValue::Ok}}) {
    AlarmSpec spec = cpuHigh();
    spec.treatMissingData = c.treat;
    AlarmState state = initialAlarmState(kT0);
    state.stateValue = c.from;
    clock_.set(kT0 + 600'000);
    AlarmEvaluation e = evaluate(spec, state);
    EXPECT_EQ(state.stateValue, c.expected) << treatMissingDataName(c.treat);
    EXPECT_EQ(e.changed, c.from != c.expected);
  }

  AlarmSpec spec = cpuHigh();
  AlarmState state = initialAlarmState(kT0);
  state.stateValue = AlarmStateValue::Ok;
  AlarmEvaluation e = evaluate(spec, state);
  EXPECT_EQ(state.stateReason, "Insufficient Data: 3 datapoints were unknown.");
  EXPECT_EQ(e.actions, std::vector<std::string>{kNotify});

  spec.treatMissingData = TreatMissingData::Breaching;
  e = evaluate(spec, state);
  EXPECT_EQ(state.stateReason, "Threshold Crossed: no datapoints were received for 3 periods and 3 "
                               "missing datapoints were treated as [Breaching].");
  EXPECT_EQ(e.actions, std::vector<std::string>{kScaleOut});
}

// CloudWatch's documented tables ("How alarm state is evaluated when data is missing"): five
// periods of the evaluation range, oldest first: 0 within, X breaching, - missing.
struct TableRow {
  const char* points;
  int datapointsToAlarm;
  // The state for missing, ignore, breaching, notBreaching; nullopt: the state is kept.
  std::optional<AlarmStateValue> expected[4];
};

TEST_F(AlarmTest, MissingDataTablesFromCloudWatch) {
  using S = AlarmStateValue;
  const std::optional<S> kKept;
  const TableRow rows[] = {
      {"0-X-X", 3, {S::Ok, S::Ok, S::Ok, S::Ok}},
      {"0----", 3, {S::Ok, S::Ok, S::Ok, S::Ok}},
      {"-----", 3, {S::InsufficientData, kKept, S::Alarm, S::Ok}},
      {"0XX-X", 3, {S::Alarm, S::Alarm, S::Alarm, S::Alarm}},
      {"----X", 3, {S::InsufficientData, kKept, S::Alarm, S::Ok}},
      // CloudWatch's table shows ALARM under missing here; tide (see alarm.h) does not.
      {"X----", 3, {S::InsufficientData, kKept, S::Alarm, S::Ok}},
      {"0-X-X", 2, {S::Alarm, S::Alarm, S::Alarm, S::Alarm}},
      {"00X0X", 2, {S::Alarm, S::Alarm, S::Alarm, S::Alarm}},
      {"0-X--", 2, {S::Ok, S::Ok, S::Alarm, S::Ok}},
      {"----0", 2, {S::Ok, S::Ok, S::Alarm, S::Ok}},
      {"----X", 2, {S::InsufficientData, kKept, S::Alarm, S::Ok}},
  };
  const TreatMissingData treatments[] = {TreatMissingData::Missing, TreatMissingData::Ignore,
                                         TreatMissingData::Breaching,
                                         TreatMissingData::NotBreaching};
  TimeMs base = kT0;
  for (const TableRow& row : rows) {
    // Each row on its own metric, so rows do not see each other's data.
    MetricKey key{"AWS/EC2", "CPUUtilization", {{"InstanceId", std::string("i-") + row.points}}};
    key.dimensions[0].second += std::to_string(row.datapointsToAlarm);
    base += 3600 * 1000; // an hour after the previous row: nothing of it is in range
    for (int i = 0; i < 5; ++i) {
      char c = row.points[i];
      if (c != '-') {
        putPeriod(base + i * kPeriodMs, c == 'X' ? 90 : 10, key);
      }
    }
    TimeMs now = base + 5 * kPeriodMs;
    clock_.set(now);
    for (int t = 0; t < 4; ++t) {
      AlarmSpec spec = cpuHigh();
      spec.dimensions = key.dimensions;
      spec.datapointsToAlarm = row.datapointsToAlarm;
      spec.treatMissingData = treatments[t];
      AlarmState current = initialAlarmState(kT0);
      current.stateValue = S::Alarm; // "kept" shows as ALARM; OK and INSUFFICIENT_DATA differ
      AlarmEvaluation e = evaluateAlarm(spec, current, store_, now);
      S expected = row.expected[t].value_or(current.stateValue);
      EXPECT_EQ(stateValueName(e.state.stateValue), stateValueName(expected))
          << row.points << " " << row.datapointsToAlarm << " of 3, "
          << treatMissingDataName(treatments[t]) << ": " << e.state.stateReason;
    }
  }
}

TEST_F(AlarmTest, PartlyMissingReasonsSayHowTheGapsWereFilled) {
  AlarmSpec spec = cpuHigh();
  spec.treatMissingData = TreatMissingData::Breaching;
  AlarmState state = initialAlarmState(kT0);
  putNext(90);
  clock_.advance(Millis(2 * kPeriodMs)); // X - -
  evaluate(spec, state);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Alarm);
  EXPECT_NE(state.stateReason.find("3 out of the last 3 datapoints [90.0 (15/01/27 08:00:00)] "
                                   "were greater than the threshold (70.0)"),
            std::string::npos)
      << state.stateReason;
  EXPECT_NE(state.stateReason.find("2 missing datapoints were treated as [Breaching]."),
            std::string::npos)
      << state.stateReason;

  AlarmSpec missing = cpuHigh();
  AlarmState fresh = initialAlarmState(kT0);
  fresh.stateValue = AlarmStateValue::Ok;
  evaluate(missing, fresh);
  EXPECT_EQ(fresh.stateValue, AlarmStateValue::InsufficientData);
  EXPECT_NE(
      fresh.stateReason.find("Insufficient Data: 2 out of the last 3 datapoints were unknown"),
      std::string::npos)
      << fresh.stateReason;
}

TEST_F(AlarmTest, OneMissedPeriodDoesNotClearAnAlarm) {
  // With the evaluation range, a gap is bridged by older real datapoints (missing, default).
  AlarmSpec spec = cpuHigh();
  AlarmState state = initialAlarmState(kT0);
  putNext(90);
  putNext(90);
  putNext(90);
  evaluate(spec, state);
  ASSERT_EQ(state.stateValue, AlarmStateValue::Alarm);
  clock_.advance(Millis(kPeriodMs)); // a period without data
  EXPECT_FALSE(evaluate(spec, state).changed);
  putNext(90);
  EXPECT_FALSE(evaluate(spec, state).changed);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Alarm);
}

TEST_F(AlarmTest, ActionsDisabledChangeStateButInvokeNothing) {
  AlarmSpec spec = cpuHigh();
  spec.actionsEnabled = false;
  AlarmState state = initialAlarmState(kT0);
  putNext(90);
  putNext(90);
  putNext(90);
  AlarmEvaluation e = evaluate(spec, state);
  EXPECT_TRUE(e.changed);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Alarm);
  EXPECT_TRUE(e.actions.empty());
}

TEST_F(AlarmTest, SeedRuleHighAndLowCpuAlarms) {
  AlarmSpec high = cpuHigh();
  AlarmSpec low = cpuLow();
  ASSERT_TRUE(validateAlarmSpec(high).isOk());
  ASSERT_TRUE(validateAlarmSpec(low).isOk());
  AlarmState highState = initialAlarmState(kT0);
  AlarmState lowState = initialAlarmState(kT0);

  // Load: CPU climbs to 90 % (two instances in the group report each second).
  MetricKey key = groupCpu();
  for (int p = 0; p < 3; ++p) {
    TimeMs start = kT0 + p * kPeriodMs;
    for (int i = 0; i < kPeriod; ++i) {
      ASSERT_TRUE(store_.put(key, start + i * 1000, 85).isOk());
      ASSERT_TRUE(store_.put(key, start + i * 1000 + 500, 95).isOk());
    }
  }
  clock_.set(kT0 + 3 * kPeriodMs);
  AlarmEvaluation h = evaluate(high, highState);
  AlarmEvaluation l = evaluate(low, lowState);
  EXPECT_EQ(highState.stateValue, AlarmStateValue::Alarm);
  EXPECT_EQ(h.actions, std::vector<std::string>{kScaleOut});
  EXPECT_EQ(lowState.stateValue, AlarmStateValue::Ok);
  EXPECT_TRUE(l.actions.empty()); // the low alarm has no OK actions

  // Scaled out: CPU falls to 20 %.
  putNext(20);
  putNext(20);
  h = evaluate(high, highState);
  l = evaluate(low, lowState);
  EXPECT_EQ(highState.stateValue, AlarmStateValue::Ok); // 3 of 3 no longer breach
  EXPECT_EQ(lowState.stateValue, AlarmStateValue::Ok);  // only 2 of 3 below 30 yet
  putNext(20);
  l = evaluate(low, lowState);
  EXPECT_EQ(lowState.stateValue, AlarmStateValue::Alarm);
  EXPECT_EQ(l.actions, std::vector<std::string>{kScaleIn});
  EXPECT_NE(lowState.stateReason.find("were less than the threshold (30.0)"), std::string::npos)
      << lowState.stateReason;
}

TEST_F(AlarmTest, StatisticsOtherThanAverageAndPercentiles) {
  AlarmSpec spec = cpuHigh();
  spec.statistic = Statistic::Maximum;
  spec.evaluationPeriods = 1;
  AlarmState state = initialAlarmState(kT0);
  clock_.set(kT0 + kPeriodMs);
  ASSERT_TRUE(store_.put(groupCpu(), kT0, 10).isOk());
  ASSERT_TRUE(store_.put(groupCpu(), kT0 + 1000, 75).isOk());
  evaluate(spec, state);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Alarm); // max 75 > 70, average 42.5 is not

  spec.statistic.reset();
  spec.extendedStatistic = "p50";
  state = initialAlarmState(kT0);
  evaluate(spec, state);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Ok); // p50 of {10, 75} is 10
  EXPECT_NE(state.stateReasonData.find("\"extendedStatistic\":\"p50\""), std::string::npos);

  spec.extendedStatistic.clear();
  spec.statistic = Statistic::SampleCount;
  spec.threshold = 1;
  state = initialAlarmState(kT0);
  evaluate(spec, state);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Alarm); // 2 samples > 1
}

// A metric math alarm (target tracking's customized Metrics): the series its ReturnData query
// gives is evaluated as a metric's would be, and latestAlarmValue reads its newest period.
TEST_F(AlarmTest, MetricMathAlarmEvaluatesTheReturnedSeries) {
  AlarmSpec spec = cpuHigh();
  spec.namespace_.clear();
  spec.metricName.clear();
  spec.dimensions.clear();
  spec.statistic.reset();
  model::MetricDataQuery m1;
  m1.id = "m1";
  m1.namespace_ = "AWS/EC2";
  m1.metricName = "CPUUtilization";
  m1.dimensions = {{"AutoScalingGroupName", "web"}};
  m1.stat = "Average";
  m1.returnData = false;
  model::MetricDataQuery e1;
  e1.id = "e1";
  e1.expression = "m1 * 2";
  spec.metrics = {m1, e1};
  ASSERT_TRUE(validateAlarmSpec(spec).isOk());
  AlarmState state = initialAlarmState(kT0);
  putNext(40); // 80 after the math: above 70
  putNext(40);
  putNext(40);
  evaluate(spec, state);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Alarm);
  EXPECT_EQ(latestAlarmValue(spec, store_, clock_.now()), 80.0);
  putNext(30); // 60
  evaluate(spec, state);
  EXPECT_EQ(state.stateValue, AlarmStateValue::Ok);

  AlarmSpec both = spec;
  both.metricName = "CPUUtilization";
  EXPECT_EQ(validateAlarmSpec(both).code(), "InvalidParameterCombination");
  AlarmSpec bad = spec;
  bad.metrics[1].expression = "m2 * 2";
  EXPECT_EQ(validateAlarmSpec(bad).code(), "ValidationError");
}

TEST(AlarmSpecValidation, EachErrorNamesItsField) {
  ASSERT_TRUE(validateAlarmSpec(cpuHigh()).isOk());
  struct Case {
    void (*mutate)(AlarmSpec&);
    const char* code;
    const char* field;
  };
  const Case cases[] = {
      {[](AlarmSpec& s) { s.alarmName.clear(); }, "MissingParameter", "AlarmName"},
      {[](AlarmSpec& s) { s.alarmName = std::string(256, 'a'); }, "ValidationError", "AlarmName"},
      {[](AlarmSpec& s) { s.alarmName = "caf\xc3\xa9"; }, "ValidationError", "AlarmName"},
      {[](AlarmSpec& s) { s.namespace_.clear(); }, "MissingParameter", "Namespace"},
      {[](AlarmSpec& s) { s.metricName.clear(); }, "MissingParameter", "MetricName"},
      {[](AlarmSpec& s) { s.dimensions.push_back(s.dimensions[0]); }, "InvalidParameterValue",
       "Dimensions"},
      {[](AlarmSpec& s) { s.statistic.reset(); }, "MissingParameter", "Statistic"},
      {[](AlarmSpec& s) { s.extendedStatistic = "p99"; }, "InvalidParameterCombination",
       "ExtendedStatistic"},
      {[](AlarmSpec& s) {
         s.statistic.reset();
         s.extendedStatistic = "p101";
       },
       "ValidationError", "ExtendedStatistic"},
      {[](AlarmSpec& s) { s.periodSeconds = 0; }, "MissingParameter", "Period"},
      {[](AlarmSpec& s) { s.periodSeconds = 7; }, "ValidationError", "Period"},
      {[](AlarmSpec& s) { s.periodSeconds = 90; }, "ValidationError", "Period"},
      {[](AlarmSpec& s) { s.evaluationPeriods = 0; }, "MissingParameter", "EvaluationPeriods"},
      {[](AlarmSpec& s) { s.evaluationPeriods = -1; }, "ValidationError", "EvaluationPeriods"},
      {[](AlarmSpec& s) {
         s.periodSeconds = 3600;
         s.evaluationPeriods = 25;
       },
       "ValidationError", "EvaluationPeriods"},
      {[](AlarmSpec& s) { s.datapointsToAlarm = 4; }, "ValidationError", "DatapointsToAlarm"},
      {[](AlarmSpec& s) { s.datapointsToAlarm = 0; }, "ValidationError", "DatapointsToAlarm"},
      {[](AlarmSpec& s) { s.threshold.reset(); }, "MissingParameter", "Threshold"},
      {[](AlarmSpec& s) { s.threshold = std::nan(""); }, "ValidationError", "Threshold"},
      {[](AlarmSpec& s) { s.comparisonOperator.reset(); }, "MissingParameter",
       "ComparisonOperator"},
      {[](AlarmSpec& s) { s.alarmActions = {"scale-out"}; }, "ValidationError", "AlarmActions"},
      {[](AlarmSpec& s) { s.okActions.assign(6, kNotify); }, "ValidationError", "OKActions"},
      {[](AlarmSpec& s) { s.insufficientDataActions = {""}; }, "ValidationError",
       "InsufficientDataActions"},
  };
  for (const Case& c : cases) {
    AlarmSpec spec = cpuHigh();
    c.mutate(spec);
    Status st = validateAlarmSpec(spec);
    EXPECT_EQ(st.code(), c.code) << c.field << ": " << st.toString();
    EXPECT_NE(st.message().find(c.field), std::string::npos) << st.toString();
  }
  AlarmSpec highRes = cpuHigh();
  for (int period : {1, 5, 10, 30, 60, 300}) {
    highRes.periodSeconds = period;
    EXPECT_TRUE(validateAlarmSpec(highRes).isOk()) << period;
  }
  highRes.periodSeconds = 60;
  highRes.evaluationPeriods = 1440; // exactly one day
  EXPECT_TRUE(validateAlarmSpec(highRes).isOk());
}

TEST(AlarmNames, ParseAndPrint) {
  for (auto op :
       {ComparisonOperator::GreaterThanOrEqualToThreshold, ComparisonOperator::GreaterThanThreshold,
        ComparisonOperator::LessThanThreshold, ComparisonOperator::LessThanOrEqualToThreshold}) {
    auto parsed = parseComparisonOperator(comparisonOperatorName(op));
    ASSERT_TRUE(parsed.isOk());
    EXPECT_EQ(*parsed, op);
  }
  auto bad = parseComparisonOperator("GreaterThan");
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().code(), "ValidationError");
  EXPECT_NE(bad.status().message().find("ComparisonOperator"), std::string::npos);
  EXPECT_NE(bad.status().message().find("LessThanOrEqualToThreshold"), std::string::npos);

  EXPECT_EQ(*parseTreatMissingData("notBreaching"), TreatMissingData::NotBreaching);
  EXPECT_EQ(treatMissingDataName(TreatMissingData::Missing), "missing");
  EXPECT_NE(parseTreatMissingData("NotBreaching").status().message().find("TreatMissingData"),
            std::string::npos);
  EXPECT_EQ(*parseStateValue("INSUFFICIENT_DATA"), AlarmStateValue::InsufficientData);
  EXPECT_EQ(stateValueName(AlarmStateValue::Ok), "OK");
  EXPECT_FALSE(parseStateValue("Alarm").isOk());
}

TEST(ReasonNumbers, ReadLikeCloudWatchs) {
  EXPECT_EQ(formatReasonNumber(70), "70.0");
  EXPECT_EQ(formatReasonNumber(85.25), "85.25");
  EXPECT_EQ(formatReasonNumber(0.1), "0.1");
  EXPECT_EQ(formatReasonNumber(0), "0.0");
  EXPECT_EQ(formatReasonNumber(-3), "-3.0");
  EXPECT_EQ(formatReasonNumber(1e20), "1e+20");
  EXPECT_EQ(formatReasonNumber(33.333333333333336), "33.333333333333336");
}

} // namespace
} // namespace tide::metrics
