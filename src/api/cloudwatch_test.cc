// CloudWatch actions: metric data and statistics, alarms.
#include "api/api_test_fixture.h"

namespace tide::api {
namespace {

class CloudWatchTest : public ApiTest {
protected:
  void SetUp() override {
    ApiTest::SetUp();
    store_metrics_ = std::make_unique<metrics::MetricStore>(clock_);
    ctx_->metrics = store_metrics_.get();
  }
  Json alarm(Json extra = Json::object()) {
    Json a = {{"AlarmName", "cpu-high"},
              {"Namespace", "AWS/EC2"},
              {"MetricName", "CPUUtilization"},
              {"Dimensions", {{{"Name", "AutoScalingGroupName"}, {"Value", "web"}}}},
              {"Statistic", "Average"},
              {"Period", 10},
              {"EvaluationPeriods", 3},
              {"Threshold", 70},
              {"ComparisonOperator", "GreaterThanThreshold"},
              {"AlarmActions", {"arn:aws:autoscaling:local:000000000000:scalingPolicy:x"}}};
    for (auto it = extra.begin(); it != extra.end(); ++it) {
      a[it.key()] = it.value();
    }
    return a;
  }
  std::unique_ptr<metrics::MetricStore> store_metrics_;
};

TEST_F(CloudWatchTest, PutMetricDataThenStatisticsAndList) {
  TimeMs t0 = clock_.now() / 60000 * 60000; // a minute boundary
  clock_.set(t0 + 30'000);
  for (int k = 0; k < 20; ++k) {
    ok("PutMetricData", {{"Namespace", "Shop"},
                         {"MetricData",
                          {{{"MetricName", "Orders"},
                            {"Dimensions", {{{"Name", "Store"}, {"Value", "north"}}}},
                            {"Timestamp", formatIso8601(t0 + k * 1000)},
                            {"Value", k}}}}});
  }
  Json r =
      ok("GetMetricStatistics", {{"Namespace", "Shop"},
                                 {"MetricName", "Orders"},
                                 {"Dimensions", {{{"Name", "Store"}, {"Value", "north"}}}},
                                 {"StartTime", formatIso8601(t0)},
                                 {"EndTime", formatIso8601(t0 + 20'000)},
                                 {"Period", 10},
                                 {"Statistics", {"Sum", "Average", "Maximum", "SampleCount"}}});
  ASSERT_EQ(r["Datapoints"].size(), 2u);
  EXPECT_EQ(r["Datapoints"][0]["Sum"], 45.0);     // 0..9
  EXPECT_EQ(r["Datapoints"][1]["Average"], 14.5); // 10..19
  EXPECT_EQ(r["Datapoints"][1]["Maximum"], 19.0);
  EXPECT_EQ(r["Datapoints"][0]["SampleCount"], 10.0);
  EXPECT_EQ(r["Label"], "Orders");
  Json list = ok("ListMetrics", {{"Namespace", "Shop"}});
  ASSERT_EQ(list["Metrics"].size(), 1u);
  EXPECT_EQ(list["Metrics"][0]["Dimensions"][0]["Value"], "north");
  EXPECT_EQ(errorCode("PutMetricData", {{"Namespace", "AWS/EC2"},
                                        {"MetricData", {{{"MetricName", "x"}, {"Value", 1}}}}}),
            "InvalidParameterValue"); // AWS/ is reserved
  EXPECT_EQ(errorCode("GetMetricStatistics", {{"Namespace", "Shop"},
                                              {"MetricName", "Orders"},
                                              {"StartTime", formatIso8601(t0)},
                                              {"EndTime", formatIso8601(t0 + 20'000)},
                                              {"Period", 7},
                                              {"Statistics", {"Sum"}}}),
            "InvalidParameterValue");
  EXPECT_EQ(errorCode("GetMetricStatistics", {{"Namespace", "Shop"},
                                              {"MetricName", "Orders"},
                                              {"StartTime", "yesterday"},
                                              {"EndTime", formatIso8601(t0)},
                                              {"Period", 60},
                                              {"Statistics", {"Sum"}}}),
            "InvalidParameterValue");
}

TEST_F(CloudWatchTest, AlarmsArePutDescribedAndDeleted) {
  ok("PutMetricAlarm", alarm());
  Json d = ok("DescribeAlarms", Json::object())["MetricAlarms"];
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]["StateValue"], "INSUFFICIENT_DATA");
  EXPECT_EQ(d[0]["Threshold"], 70.0);
  EXPECT_EQ(d[0]["AlarmArn"], "arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu-high");
  EXPECT_EQ(errorCode("PutMetricAlarm", alarm({{"ComparisonOperator", "Bigger"}})),
            "ValidationError");
  EXPECT_EQ(errorCode("PutMetricAlarm", alarm({{"Period", 7}})), "ValidationError");
  EXPECT_EQ(errorCode("PutMetricAlarm", alarm({{"DatapointsToAlarm", 4}})), "ValidationError");
  ok("SetAlarmState",
     {{"AlarmName", "cpu-high"}, {"StateValue", "ALARM"}, {"StateReason", "testing"}});
  EXPECT_EQ(ok("DescribeAlarms", {{"StateValue", "ALARM"}})["MetricAlarms"].size(), 1u);
  // Updating keeps the state.
  ok("PutMetricAlarm", alarm({{"Threshold", 80}}));
  d = ok("DescribeAlarms", {{"AlarmNames", {"cpu-high"}}})["MetricAlarms"];
  EXPECT_EQ(d[0]["StateValue"], "ALARM");
  EXPECT_EQ(d[0]["Threshold"], 80.0);
  EXPECT_EQ(errorCode("DeleteAlarms", {{"AlarmNames", {"cpu-high", "nope"}}}), "ResourceNotFound");
  EXPECT_EQ(ok("DescribeAlarms", Json::object())["MetricAlarms"].size(), 1u); // nothing deleted
  ok("DeleteAlarms", {{"AlarmNames", {"cpu-high"}}});
  EXPECT_EQ(ok("DescribeAlarms", Json::object())["MetricAlarms"].size(), 0u);
}

TEST_F(CloudWatchTest, AlarmHistoryRecordsConfigurationAndStateUpdates) {
  clock_.set(1'700'000'000'000);
  ok("PutMetricAlarm", alarm());
  clock_.advance(std::chrono::seconds(1));
  ok("SetAlarmState",
     {{"AlarmName", "cpu-high"}, {"StateValue", "ALARM"}, {"StateReason", "testing"}});
  clock_.advance(std::chrono::seconds(1));
  ok("SetAlarmState", // the same state again: no transition, no history
     {{"AlarmName", "cpu-high"}, {"StateValue", "ALARM"}, {"StateReason", "again"}});
  ok("PutMetricAlarm", alarm({{"Threshold", 80}}));
  clock_.advance(std::chrono::seconds(1));
  ok("DeleteAlarms", {{"AlarmNames", {"cpu-high"}}});

  Json h = ok("DescribeAlarmHistory", {{"AlarmName", "cpu-high"}})["AlarmHistoryItems"];
  ASSERT_EQ(h.size(), 4u); // newest first; kept after the alarm is deleted
  EXPECT_EQ(h[0]["HistorySummary"], "Alarm \"cpu-high\" deleted");
  EXPECT_EQ(h[1]["HistorySummary"], "Alarm \"cpu-high\" updated");
  EXPECT_EQ(h[2]["HistoryItemType"], "StateUpdate");
  EXPECT_EQ(h[2]["HistorySummary"], "Alarm updated from INSUFFICIENT_DATA to ALARM");
  EXPECT_EQ(h[2]["AlarmType"], "MetricAlarm");
  EXPECT_EQ(h[2]["Timestamp"], formatIso8601(1'700'000'001'000));
  Json data = Json::parse(h[2]["HistoryData"].get<std::string>());
  EXPECT_EQ(data["version"], "1.0");
  EXPECT_EQ(data["oldState"]["stateValue"], "INSUFFICIENT_DATA");
  EXPECT_EQ(data["newState"]["stateValue"], "ALARM");
  EXPECT_EQ(data["newState"]["stateReason"], "testing");
  EXPECT_EQ(h[3]["HistorySummary"], "Alarm \"cpu-high\" created");
  Json updated = Json::parse(h[1]["HistoryData"].get<std::string>());
  EXPECT_EQ(updated["type"], "Update");
  EXPECT_EQ(updated["originalUpdatedFields"]["threshold"], 70.0);
  EXPECT_EQ(updated["updatedAlarm"]["threshold"], 80.0);

  Json asc = ok("DescribeAlarmHistory",
                {{"ScanBy", "TimestampAscending"}, {"HistoryItemType", "ConfigurationUpdate"}});
  ASSERT_EQ(asc["AlarmHistoryItems"].size(), 3u);
  EXPECT_EQ(asc["AlarmHistoryItems"][0]["HistorySummary"], "Alarm \"cpu-high\" created");
  Json window = ok("DescribeAlarmHistory",
                   {{"StartDate", formatIso8601(1'700'000'001'000)},
                    {"EndDate", formatIso8601(1'700'000'001'500)}})["AlarmHistoryItems"];
  EXPECT_EQ(window.size(), 1u); // the state update at 1 s
  EXPECT_EQ(
      ok("DescribeAlarmHistory", {{"AlarmTypes", {"CompositeAlarm"}}})["AlarmHistoryItems"].size(),
      0u);
  EXPECT_EQ(errorCode("DescribeAlarmHistory", {{"HistoryItemType", "Nope"}}), "ValidationError");
  EXPECT_EQ(errorCode("DescribeAlarmHistory", {{"ScanBy", "Sideways"}}), "ValidationError");
}

TEST_F(CloudWatchTest, AlarmTagsByArn) {
  ok("PutMetricAlarm", alarm({{"Tags", {{{"Key", "team"}, {"Value", "web"}}}}}));
  std::string arn = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu-high";
  EXPECT_EQ(ok("ListTagsForResource", {{"ResourceARN", arn}})["Tags"],
            (Json{{{"Key", "team"}, {"Value", "web"}}}));
  ok("TagResource",
     {{"ResourceARN", arn},
      {"Tags", {{{"Key", "team"}, {"Value", "shop"}}, {{"Key", "env"}, {"Value", "prod"}}}}});
  EXPECT_EQ(ok("ListTagsForResource", {{"ResourceARN", arn}})["Tags"],
            (Json{{{"Key", "team"}, {"Value", "shop"}}, {{"Key", "env"}, {"Value", "prod"}}}));
  ok("PutMetricAlarm", alarm({{"Tags", Json::array()}})); // an update keeps the tags
  ok("UntagResource", {{"ResourceARN", arn}, {"TagKeys", {"team", "missing"}}});
  EXPECT_EQ(ok("ListTagsForResource", {{"ResourceARN", arn}})["Tags"],
            (Json{{{"Key", "env"}, {"Value", "prod"}}}));
  auto code = [&](const std::string& action, const Json& p) {
    return call(action, p).second.value("__type", "");
  };
  EXPECT_EQ(code("TagResource", {{"ResourceARN", arn + "x"}, {"Tags", {{{"Key", "a"}}}}}),
            "ResourceNotFoundException");
  EXPECT_EQ(code("ListTagsForResource", {{"ResourceARN", "arn:aws:sns:local:0:topic"}}),
            "InvalidParameterValue");
  EXPECT_EQ(code("TagResource", {{"ResourceARN", arn}, {"Tags", {{{"Key", "aws:x"}}}}}),
            "InvalidParameterValue");
  // Deleting the alarm deletes its tags: a new alarm of the name starts without.
  ok("DeleteAlarms", {{"AlarmNames", {"cpu-high"}}});
  ok("PutMetricAlarm", alarm());
  EXPECT_EQ(ok("ListTagsForResource", {{"ResourceARN", arn}})["Tags"], Json::array());
}

TEST_F(CloudWatchTest, ValuesAndCountsGivePercentilesOverEveryValue) {
  TimeMs t0 = clock_.now() / 60000 * 60000;
  clock_.set(t0 + 30'000);
  // 1000 latencies 1..1000 ms, as ten PutMetricData calls of 100 Values with their Counts.
  for (int k = 0; k < 10; ++k) {
    Json values = Json::array();
    Json counts = Json::array();
    for (int i = 0; i < 100; ++i) {
      values.push_back((k * 100 + i + 1) / 1000.0);
      counts.push_back(1);
    }
    ok("PutMetricData", {{"Namespace", "Shop"},
                         {"MetricData",
                          {{{"MetricName", "Latency"},
                            {"Timestamp", formatIso8601(t0 + k * 1000)},
                            {"Values", values},
                            {"Counts", counts}}}}});
  }
  Json r = ok("GetMetricStatistics", {{"Namespace", "Shop"},
                                      {"MetricName", "Latency"},
                                      {"StartTime", formatIso8601(t0)},
                                      {"EndTime", formatIso8601(t0 + 10'000)},
                                      {"Period", 10},
                                      {"ExtendedStatistics", {"p50", "p99"}}});
  ASSERT_EQ(r["Datapoints"].size(), 1u);
  Json ext = r["Datapoints"][0]["ExtendedStatistics"];
  EXPECT_NEAR(ext["p50"].get<double>(), 0.5, 0.5 / 16);
  EXPECT_NEAR(ext["p99"].get<double>(), 0.99, 0.99 / 16);
  Json data =
      ok("GetMetricData", {{"StartTime", formatIso8601(t0)},
                           {"EndTime", formatIso8601(t0 + 10'000)},
                           {"MetricDataQueries",
                            {{{"Id", "p"},
                              {"MetricStat",
                               {{"Metric", {{"Namespace", "Shop"}, {"MetricName", "Latency"}}},
                                {"Period", 10},
                                {"Stat", "p99"}}}}}}});
  ASSERT_EQ(data["MetricDataResults"][0]["Values"].size(), 1u);
  EXPECT_NEAR(data["MetricDataResults"][0]["Values"][0].get<double>(), 0.99, 0.99 / 16);
  EXPECT_EQ(errorCode("PutMetricData",
                      {{"Namespace", "Shop"},
                       {"MetricData",
                        {{{"MetricName", "Latency"}, {"Values", {1, 2}}, {"Counts", {1}}}}}}),
            "InvalidParameterValue");
}

TEST_F(CloudWatchTest, GetMetricDataWithStatsAndExpressions) {
  TimeMs t0 = clock_.now() / 60000 * 60000;
  clock_.set(t0 + 30'000);
  auto put = [&](const std::string& name, int second, double v) {
    Json point = {
        {"MetricName", name}, {"Timestamp", formatIso8601(t0 + second * 1000)}, {"Value", v}};
    ok("PutMetricData", {{"Namespace", "Shop"}, {"MetricData", Json::array({point})}});
  };
  for (int k = 0; k < 20; ++k) {
    put("Requests", k, 10);           // 100 per 10 s period
    put("Errors", k, k < 10 ? 1 : 0); // 10 in the first period, 0 in the second
  }
  auto stat = [](const std::string& id, const std::string& metric, const std::string& s) {
    return Json{{"Id", id},
                {"MetricStat",
                 {{"Metric", {{"Namespace", "Shop"}, {"MetricName", metric}}},
                  {"Period", 10},
                  {"Stat", s}}},
                {"ReturnData", false}};
  };
  Json req = {{"StartTime", formatIso8601(t0)},
              {"EndTime", formatIso8601(t0 + 20'000)},
              {"MetricDataQueries",
               {stat("req", "Requests", "Sum"),
                stat("err", "Errors", "Sum"),
                {{"Id", "rate"}, {"Expression", "100 * err / req"}, {"Label", "Error rate"}},
                {{"Id", "total"}, {"Expression", "SUM([req, err])"}},
                {{"Id", "p"},
                 {"MetricStat",
                  {{"Metric", {{"Namespace", "Shop"}, {"MetricName", "Requests"}}},
                   {"Period", 10},
                   {"Stat", "p50"}}}}}}};
  Json r = ok("GetMetricData", req);
  Json results = r["MetricDataResults"];
  ASSERT_EQ(results.size(), 3u); // ReturnData false is left out
  EXPECT_EQ(results[0]["Id"], "rate");
  EXPECT_EQ(results[0]["Label"], "Error rate");
  EXPECT_EQ(results[0]["StatusCode"], "Complete");
  // Newest first by default.
  EXPECT_EQ(results[0]["Timestamps"], (Json{formatIso8601(t0 + 10'000), formatIso8601(t0)}));
  EXPECT_EQ(results[0]["Values"], (Json{0.0, 10.0}));
  EXPECT_EQ(results[1]["Values"], (Json{100.0, 110.0}));
  EXPECT_EQ(results[2]["Label"], "Requests");
  EXPECT_EQ(results[2]["Values"], (Json{10.0, 10.0}));
  EXPECT_FALSE(r.contains("NextToken"));

  // Ascending, and MaxDatapoints pages MetricStat-only requests.
  Json paged = {{"StartTime", formatIso8601(t0)},
                {"EndTime", formatIso8601(t0 + 20'000)},
                {"ScanBy", "TimestampAscending"},
                {"MaxDatapoints", 1},
                {"MetricDataQueries",
                 {{{"Id", "m1"},
                   {"MetricStat",
                    {{"Metric", {{"Namespace", "Shop"}, {"MetricName", "Errors"}}},
                     {"Period", 10},
                     {"Stat", "Sum"}}}}}}};
  Json first = ok("GetMetricData", paged);
  EXPECT_EQ(first["MetricDataResults"][0]["Values"], (Json{10.0}));
  EXPECT_EQ(first["MetricDataResults"][0]["StatusCode"], "PartialData");
  ASSERT_TRUE(first.contains("NextToken"));
  paged["NextToken"] = first["NextToken"];
  Json second = ok("GetMetricData", paged);
  EXPECT_EQ(second["MetricDataResults"][0]["Values"], (Json{0.0}));
  EXPECT_EQ(second["MetricDataResults"][0]["StatusCode"], "Complete");
  EXPECT_FALSE(second.contains("NextToken"));
  paged["NextToken"] = "bm9wZQ==";
  EXPECT_EQ(errorCode("GetMetricData", paged), "InvalidNextToken");
}

TEST_F(CloudWatchTest, GetMetricDataValidation) {
  TimeMs t0 = clock_.now();
  auto request = [&](Json queries) {
    return Json{{"StartTime", formatIso8601(t0 - 60'000)},
                {"EndTime", formatIso8601(t0)},
                {"MetricDataQueries", queries}};
  };
  Json m1 = {{"Id", "m1"},
             {"MetricStat",
              {{"Metric", {{"Namespace", "Shop"}, {"MetricName", "Orders"}}},
               {"Period", 60},
               {"Stat", "Average"}}}};
  Json bad = m1;
  bad["Id"] = "M1";
  EXPECT_EQ(errorCode("GetMetricData", request({bad})), "ValidationError");
  EXPECT_EQ(errorCode("GetMetricData", request({m1, m1})), "ValidationError"); // duplicate Id
  EXPECT_EQ(errorCode("GetMetricData", request({m1, {{"Id", "e1"}, {"Expression", "m1 + m9"}}})),
            "ValidationError"); // unknown id
  EXPECT_EQ(errorCode("GetMetricData", request({{{"Id", "e1"}, {"Expression", "e2"}},
                                                {{"Id", "e2"}, {"Expression", "e1 * 2"}}})),
            "ValidationError"); // circular
  EXPECT_EQ(errorCode("GetMetricData", request({m1, {{"Id", "e1"}, {"Expression", "m1 +"}}})),
            "ValidationError");
  EXPECT_EQ(errorCode("GetMetricData", request({m1, {{"Id", "e1"}, {"Expression", "[m1, m1]"}}})),
            "ValidationError"); // an array is not a result
  Json both = m1;
  both["Expression"] = "1";
  EXPECT_EQ(errorCode("GetMetricData", request({both})), "ValidationError");
  Json stat = m1;
  stat["MetricStat"]["Stat"] = "Median";
  EXPECT_EQ(errorCode("GetMetricData", request({stat})), "ValidationError");
  Json period = m1;
  period["MetricStat"]["Period"] = 7;
  EXPECT_EQ(errorCode("GetMetricData", request({period})), "ValidationError");
  Json hidden = m1;
  hidden["ReturnData"] = false;
  EXPECT_EQ(errorCode("GetMetricData", request({hidden})), "ValidationError");
  Json backwards = request({m1});
  std::swap(backwards["StartTime"], backwards["EndTime"]);
  EXPECT_EQ(errorCode("GetMetricData", backwards), "ValidationError");
  // A metric without data is an empty, complete result.
  Json r = ok("GetMetricData", request({m1}));
  EXPECT_EQ(r["MetricDataResults"][0]["Values"], Json::array());
  EXPECT_EQ(r["MetricDataResults"][0]["StatusCode"], "Complete");
}

} // namespace
} // namespace tide::api
