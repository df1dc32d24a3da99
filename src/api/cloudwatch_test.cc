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

} // namespace
} // namespace tide::api
