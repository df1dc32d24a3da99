// PutScalingPolicy with PolicyType TargetTrackingScaling: the shapes DescribePolicies and
// DescribeAlarms give, and the validation errors, each changing nothing.
#include "api/api_test_fixture.h"
#include "common/status_testing.h"

namespace tide::api {
namespace {

class TargetTrackingApiTest : public ApiTest {
protected:
  void SetUp() override {
    ApiTest::SetUp();
    std::string image = availableImage();
    ok("CreateLaunchTemplate",
       {{"LaunchTemplateName", "shop"},
        {"LaunchTemplateData", {{"ImageId", image}, {"InstanceType", "t3.micro"}}}});
    tgArn_ = ok("CreateTargetGroup",
                {{"Name", "web"}, {"Port", 8080}})["TargetGroups"][0]["TargetGroupArn"];
    other_ = ok("CreateTargetGroup",
                {{"Name", "other"}, {"Port", 8080}})["TargetGroups"][0]["TargetGroupArn"];
    ok("CreateAutoScalingGroup", {{"AutoScalingGroupName", "web"},
                                  {"LaunchTemplate", {{"LaunchTemplateName", "shop"}}},
                                  {"MinSize", 1},
                                  {"MaxSize", 4},
                                  {"DefaultInstanceWarmup", 45},
                                  {"TargetGroupARNs", {tgArn_}}});
  }
  static Json cpu(Json tracking) {
    return {{"AutoScalingGroupName", "web"},
            {"PolicyName", "cpu50"},
            {"PolicyType", "TargetTrackingScaling"},
            {"TargetTrackingConfiguration", std::move(tracking)}};
  }
  // "arn:...:targetgroup/NAME/ID" → "app/lb/0123/targetgroup/NAME/ID"
  static std::string label(const std::string& tgArn) {
    return "app/lb/50dc6c495c0c9188/" + tgArn.substr(tgArn.find("targetgroup/"));
  }
  size_t alarmCount() { return ok("DescribeAlarms", Json::object())["MetricAlarms"].size(); }
  std::string tgArn_, other_;
};

TEST_F(TargetTrackingApiTest, PutDescribeAndTheManagedAlarms) {
  Json r = ok("PutScalingPolicy", cpu({{"PredefinedMetricSpecification",
                                        {{"PredefinedMetricType", "ASGAverageCPUUtilization"}}},
                                       {"TargetValue", 50}}));
  ASSERT_EQ(r["Alarms"].size(), 2u);
  std::string high = r["Alarms"][0]["AlarmName"];
  std::string low = r["Alarms"][1]["AlarmName"];
  ASSERT_EQ(high.rfind("TargetTracking-web-AlarmHigh-", 0), 0u) << high;
  ASSERT_EQ(low.rfind("TargetTracking-web-AlarmLow-", 0), 0u) << low;
  EXPECT_EQ(high.substr(high.size() - 36), low.substr(low.size() - 36)) << "one shared UUID";

  Json p = ok("DescribePolicies", {{"AutoScalingGroupName", "web"}})["ScalingPolicies"][0];
  EXPECT_EQ(p["PolicyType"], "TargetTrackingScaling");
  EXPECT_FALSE(p.contains("AdjustmentType"));
  EXPECT_EQ(p["TargetTrackingConfiguration"]["TargetValue"], 50.0);
  EXPECT_EQ(p["TargetTrackingConfiguration"]["DisableScaleIn"], false);
  EXPECT_EQ(
      p["TargetTrackingConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"],
      "ASGAverageCPUUtilization");
  EXPECT_EQ(p["Alarms"].size(), 2u);

  Json alarms = ok("DescribeAlarms", {{"AlarmNames", {high, low}}})["MetricAlarms"];
  ASSERT_EQ(alarms.size(), 2u);
  for (const Json& a : alarms) {
    EXPECT_EQ(a["AlarmActions"][0], p["PolicyARN"]);
    EXPECT_EQ(a["Namespace"], "AWS/EC2");
    EXPECT_EQ(a["MetricName"], "CPUUtilization");
    EXPECT_EQ(a["Statistic"], "Average");
    EXPECT_EQ(a["Period"], 60);
    bool isHigh = a["AlarmName"] == high;
    EXPECT_EQ(a["EvaluationPeriods"], isHigh ? 3 : 15);
    EXPECT_EQ(a["DatapointsToAlarm"], isHigh ? 3 : 15);
    EXPECT_EQ(a["Threshold"], isHigh ? 50.0 : 45.0);
    EXPECT_EQ(a["ComparisonOperator"], isHigh ? "GreaterThanThreshold" : "LessThanThreshold");
  }

  // An update keeps the pair's names; DisableScaleIn drops the low alarm.
  r = ok("PutScalingPolicy", cpu({{"PredefinedMetricSpecification",
                                   {{"PredefinedMetricType", "ASGAverageCPUUtilization"}}},
                                  {"TargetValue", 60},
                                  {"DisableScaleIn", true}}));
  ASSERT_EQ(r["Alarms"].size(), 1u);
  EXPECT_EQ(r["Alarms"][0]["AlarmName"], high);
  EXPECT_EQ(alarmCount(), 1u);

  // ExecutePolicy is refused; DeletePolicy deletes the alarms.
  EXPECT_EQ(
      error("ExecutePolicy", {{"AutoScalingGroupName", "web"}, {"PolicyName", "cpu50"}}).first,
      "ValidationError");
  ok("DeletePolicy", {{"AutoScalingGroupName", "web"}, {"PolicyName", "cpu50"}});
  EXPECT_EQ(alarmCount(), 0u);
  EXPECT_EQ(
      ok("DescribeAutoScalingGroups",
         {{"AutoScalingGroupNames", {"web"}}})["AutoScalingGroups"][0]["DefaultInstanceWarmup"],
      45);
}

TEST_F(TargetTrackingApiTest, RequestCountPerTargetAndCustomizedMetrics) {
  Json r = ok("PutScalingPolicy", cpu({{"PredefinedMetricSpecification",
                                        {{"PredefinedMetricType", "ALBRequestCountPerTarget"},
                                         {"ResourceLabel", label(tgArn_)}}},
                                       {"TargetValue", 100}}));
  Json a = ok("DescribeAlarms", {{"AlarmNames", {r["Alarms"][0]["AlarmName"]}}})["MetricAlarms"][0];
  EXPECT_EQ(a["MetricName"], "RequestCountPerTarget");
  EXPECT_EQ(a["Statistic"], "Sum");
  EXPECT_EQ(a["Dimensions"][0]["Name"], "TargetGroup");
  EXPECT_EQ(a["Dimensions"][0]["Value"], tgArn_.substr(tgArn_.find("targetgroup/")));

  Json math =
      cpu({{"TargetValue", 10},
           {"CustomizedMetricSpecification",
            {{"Period", 1},
             {"Metrics",
              {{{"Id", "m1"},
                {"ReturnData", false},
                {"MetricStat",
                 {{"Metric", {{"Namespace", "Shop"}, {"MetricName", "Load"}}}, {"Stat", "Sum"}}}},
               {{"Id", "e1"}, {"Expression", "m1 / 2"}}}}}}});
  math["PolicyName"] = "load";
  r = ok("PutScalingPolicy", math);
  a = ok("DescribeAlarms", {{"AlarmNames", {r["Alarms"][0]["AlarmName"]}}})["MetricAlarms"][0];
  EXPECT_FALSE(a.contains("MetricName"));
  EXPECT_EQ(a["Period"], 1);
  ASSERT_EQ(a["Metrics"].size(), 2u);
  EXPECT_EQ(a["Metrics"][1]["Expression"], "m1 / 2");
  Json p = ok("DescribePolicies", {{"PolicyNames", {"load"}}})["ScalingPolicies"][0];
  EXPECT_EQ(p["TargetTrackingConfiguration"]["CustomizedMetricSpecification"]["Period"], 1);
}

TEST_F(TargetTrackingApiTest, InvalidRequestsAreRefusedAndChangeNothing) {
  Json cpuSpec = {{"PredefinedMetricType", "ASGAverageCPUUtilization"}};
  std::vector<Json> bad = {
      cpu({{"PredefinedMetricSpecification", cpuSpec}}), // no TargetValue
      cpu({{"TargetValue", 50}}),                        // no metric
      cpu({{"TargetValue", 50},
           {"PredefinedMetricSpecification", cpuSpec},
           {"CustomizedMetricSpecification",
            {{"MetricName", "Load"}, {"Namespace", "Shop"}, {"Statistic", "Average"}}}}),
      cpu({{"TargetValue", 50},
           {"PredefinedMetricSpecification", {{"PredefinedMetricType", "ASGAverageMemory"}}}}),
      cpu({{"TargetValue", 50},
           {"PredefinedMetricSpecification",
            {{"PredefinedMetricType", "ALBRequestCountPerTarget"}}}}),
      cpu({{"TargetValue", 50},
           {"PredefinedMetricSpecification",
            {{"PredefinedMetricType", "ALBRequestCountPerTarget"},
             {"ResourceLabel", label(other_)}}}}), // not attached to the group
      cpu({{"TargetValue", 50},
           {"CustomizedMetricSpecification",
            {{"MetricName", "Load"},
             {"Namespace", "Shop"},
             {"Statistic", "Average"},
             {"Period", 5}}}}),
  };
  for (const Json& p : bad) {
    EXPECT_EQ(error("PutScalingPolicy", p).first, "ValidationError") << p.dump();
  }
  Json adjustment = cpu({{"TargetValue", 50}, {"PredefinedMetricSpecification", cpuSpec}});
  adjustment["AdjustmentType"] = "ChangeInCapacity";
  EXPECT_EQ(error("PutScalingPolicy", adjustment).first, "ValidationError");
  Json step = {{"AutoScalingGroupName", "web"},
               {"PolicyName", "s"},
               {"PolicyType", "SimpleScaling"},
               {"AdjustmentType", "ChangeInCapacity"},
               {"ScalingAdjustment", 1},
               {"TargetTrackingConfiguration",
                {{"TargetValue", 50}, {"PredefinedMetricSpecification", cpuSpec}}}};
  EXPECT_EQ(error("PutScalingPolicy", step).first, "ValidationError");
  EXPECT_EQ(ok("DescribePolicies", Json::object())["ScalingPolicies"].size(), 0u);
  EXPECT_EQ(alarmCount(), 0u);
}

} // namespace
} // namespace tide::api
