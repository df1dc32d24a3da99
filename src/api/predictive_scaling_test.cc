// PutScalingPolicy with PolicyType PredictiveScaling and GetPredictiveScalingForecast: the
// shapes DescribePolicies and the forecast give (JSON and the query protocol's XML), and the
// validation errors, each changing nothing.
#include "api/api_test_fixture.h"
#include "common/status_testing.h"

namespace tide::api {
namespace {

constexpr TimeMs kHour = 3'600'000;

class PredictiveScalingApiTest : public ApiTest {
protected:
  void SetUp() override {
    ApiTest::SetUp();
    clock_.set(1'764'979'200'000 + 10 * kHour + 20 * 60'000); // 2025-12-06T10:20:00Z
    metrics_ = std::make_unique<metrics::MetricStore>(clock_);
    ctx_->metrics = metrics_.get();
    std::string image = availableImage();
    ok("CreateLaunchTemplate",
       {{"LaunchTemplateName", "shop"},
        {"LaunchTemplateData", {{"ImageId", image}, {"InstanceType", "t3.micro"}}}});
    tgArn_ = ok("CreateTargetGroup",
                {{"Name", "web"}, {"Port", 8080}})["TargetGroups"][0]["TargetGroupArn"];
    ok("CreateAutoScalingGroup", {{"AutoScalingGroupName", "web"},
                                  {"LaunchTemplate", {{"LaunchTemplateName", "shop"}}},
                                  {"MinSize", 1},
                                  {"MaxSize", 4},
                                  {"TargetGroupARNs", {tgArn_}}});
  }
  static Json policy(Json config) {
    return {{"AutoScalingGroupName", "web"},
            {"PolicyName", "cpu-forecast"},
            {"PolicyType", "PredictiveScaling"},
            {"PredictiveScalingConfiguration", std::move(config)}};
  }
  static Json cpuPair(double target) {
    return {{"MetricSpecifications",
             {{{"TargetValue", target},
               {"PredefinedMetricPairSpecification",
                {{"PredefinedMetricType", "ASGCPUUtilization"}}}}}}};
  }
  size_t policyCount() {
    return ok("DescribePolicies", {{"AutoScalingGroupName", "web"}})["ScalingPolicies"].size();
  }
  Json forecast(TimeMs start, TimeMs end) {
    return ok("GetPredictiveScalingForecast", {{"AutoScalingGroupName", "web"},
                                               {"PolicyName", "cpu-forecast"},
                                               {"StartTime", formatIso8601(start)},
                                               {"EndTime", formatIso8601(end)}});
  }
  std::unique_ptr<metrics::MetricStore> metrics_;
  std::string tgArn_;
};

TEST_F(PredictiveScalingApiTest, PutDescribeWithAwsDefaults) {
  Json r = ok("PutScalingPolicy", policy(cpuPair(50)));
  EXPECT_EQ(r["Alarms"], Json::array());
  Json p = ok("DescribePolicies", {{"AutoScalingGroupName", "web"}})["ScalingPolicies"][0];
  EXPECT_EQ(p["PolicyType"], "PredictiveScaling");
  EXPECT_FALSE(p.contains("AdjustmentType"));
  Json c = p["PredictiveScalingConfiguration"];
  EXPECT_EQ(c["Mode"], "ForecastOnly");
  EXPECT_EQ(c["SchedulingBufferTime"], 300);
  EXPECT_EQ(c["MaxCapacityBreachBehavior"], "HonorMaxCapacity");
  EXPECT_FALSE(c.contains("MaxCapacityBuffer"));
  EXPECT_EQ(c["MetricSpecifications"][0]["TargetValue"], 50.0);
  EXPECT_EQ(
      c["MetricSpecifications"][0]["PredefinedMetricPairSpecification"]["PredefinedMetricType"],
      "ASGCPUUtilization");
  EXPECT_EQ(
      ok("DescribePolicies", {{"PolicyTypes", {"PredictiveScaling"}}})["ScalingPolicies"].size(),
      1u);

  // Replaced in place: ForecastAndScale, IncreaseMaxCapacity, separate metrics, a label.
  std::string label = "app/lb/50dc6c495c0c9188/" + tgArn_.substr(tgArn_.find("targetgroup/"));
  ok("PutScalingPolicy",
     policy({{"MetricSpecifications",
              {{{"TargetValue", 1000},
                {"PredefinedScalingMetricSpecification",
                 {{"PredefinedMetricType", "ALBRequestCountPerTarget"}, {"ResourceLabel", label}}},
                {"PredefinedLoadMetricSpecification",
                 {{"PredefinedMetricType", "ALBTargetGroupRequestCount"},
                  {"ResourceLabel", label}}}}}},
             {"Mode", "ForecastAndScale"},
             {"SchedulingBufferTime", 600},
             {"MaxCapacityBreachBehavior", "IncreaseMaxCapacity"},
             {"MaxCapacityBuffer", 10}}));
  ASSERT_EQ(policyCount(), 1u);
  c = ok("DescribePolicies",
         {{"AutoScalingGroupName", "web"}})["ScalingPolicies"][0]["PredictiveScalingConfiguration"];
  EXPECT_EQ(c["Mode"], "ForecastAndScale");
  EXPECT_EQ(c["SchedulingBufferTime"], 600);
  EXPECT_EQ(c["MaxCapacityBreachBehavior"], "IncreaseMaxCapacity");
  EXPECT_EQ(c["MaxCapacityBuffer"], 10);
  EXPECT_EQ(c["MetricSpecifications"][0]["PredefinedLoadMetricSpecification"]["ResourceLabel"],
            label);

  // Customized metrics with metric data queries.
  Json query = {{"Id", "load"},
                {"MetricStat",
                 {{"Metric", {{"Namespace", "Shop"}, {"MetricName", "Orders"}}}, {"Stat", "Sum"}}}};
  ok("PutScalingPolicy", policy({{"MetricSpecifications",
                                  {{{"TargetValue", 10},
                                    {"CustomizedScalingMetricSpecification",
                                     {{"MetricDataQueries", Json::array({query})}}},
                                    {"CustomizedLoadMetricSpecification",
                                     {{"MetricDataQueries", Json::array({query})}}}}}}}));
  c = ok("DescribePolicies",
         {{"AutoScalingGroupName", "web"}})["ScalingPolicies"][0]["PredictiveScalingConfiguration"];
  EXPECT_EQ(c["MetricSpecifications"][0]["CustomizedLoadMetricSpecification"]["MetricDataQueries"]
             [0]["MetricStat"]["Metric"]["MetricName"],
            "Orders");
  EXPECT_EQ(c["Mode"], "ForecastOnly");
}

TEST_F(PredictiveScalingApiTest, ValidationErrorsChangeNothing) {
  auto expectError = [&](const Json& p, const std::string& part) {
    auto [code, message] = error("PutScalingPolicy", p);
    EXPECT_EQ(code, "ValidationError") << message;
    EXPECT_NE(message.find(part), std::string::npos) << message;
  };
  Json noConfig = policy(cpuPair(50));
  noConfig.erase("PredictiveScalingConfiguration");
  expectError(noConfig, "PredictiveScalingConfiguration is required");
  Json wrongType = policy(cpuPair(50));
  wrongType["PolicyType"] = "StepScaling";
  expectError(wrongType, "only valid for a policy of type PredictiveScaling");
  Json adjustment = policy(cpuPair(50));
  adjustment["AdjustmentType"] = "ChangeInCapacity";
  expectError(adjustment, "not valid for a policy of type PredictiveScaling");
  expectError(policy(Json::object()), "MetricSpecifications is required");
  expectError(policy({{"MetricSpecifications", Json::array()}}), "must have one");
  Json two = cpuPair(50);
  two["MetricSpecifications"].push_back(cpuPair(60)["MetricSpecifications"][0]);
  expectError(policy(two), "only one");
  expectError(policy(cpuPair(0)), "greater than 0");
  Json mode = cpuPair(50);
  mode["Mode"] = "ForecastSometimes";
  expectError(policy(mode), "enum value set: [ForecastAndScale, ForecastOnly]");
  Json buffer = cpuPair(50);
  buffer["SchedulingBufferTime"] = 3601;
  expectError(policy(buffer), "SchedulingBufferTime");
  Json breach = cpuPair(50);
  breach["MaxCapacityBreachBehavior"] = "IncreaseMaxCapacity";
  expectError(policy(breach), "MaxCapacityBuffer is required");
  breach["MaxCapacityBuffer"] = 101;
  expectError(policy(breach), "between 0 and 100");
  Json honor = cpuPair(50);
  honor["MaxCapacityBuffer"] = 10;
  expectError(policy(honor), "only valid when MaxCapacityBreachBehavior is IncreaseMaxCapacity");
  Json unknownPair = cpuPair(50);
  unknownPair["MetricSpecifications"][0]["PredefinedMetricPairSpecification"]
             ["PredefinedMetricType"] = "ASGMemory";
  expectError(policy(unknownPair), "enum value set");
  Json alb = cpuPair(1000);
  alb["MetricSpecifications"][0]["PredefinedMetricPairSpecification"]["PredefinedMetricType"] =
      "ALBRequestCount";
  expectError(policy(alb), "ResourceLabel is required");
  alb["MetricSpecifications"][0]["PredefinedMetricPairSpecification"]["ResourceLabel"] =
      "app/lb/1/targetgroup/other/2";
  expectError(policy(alb), "is not attached");
  Json unknownMember = cpuPair(50);
  unknownMember["Bogus"] = 1;
  auto [unknownCode, unknownMessage] = error("PutScalingPolicy", policy(unknownMember));
  EXPECT_EQ(unknownCode, "UnknownParameter") << unknownMessage; // as every action refuses one
  EXPECT_NE(unknownMessage.find("Bogus"), std::string::npos) << unknownMessage;
  EXPECT_EQ(policyCount(), 0u);
}

TEST_F(PredictiveScalingApiTest, ForecastFromTheGroupsHistory) {
  ok("PutScalingPolicy", policy(cpuPair(50)));
  TimeMs now = clock_.now();
  TimeMs hour = now / kHour * kHour; // 10:00

  // No history: the AWS shape with no values.
  Json f = forecast(hour, hour + 48 * kHour);
  ASSERT_EQ(f["LoadForecast"].size(), 1u);
  EXPECT_EQ(f["LoadForecast"][0]["Timestamps"], Json::array());
  EXPECT_EQ(f["LoadForecast"][0]["Values"], Json::array());
  EXPECT_EQ(f["LoadForecast"][0]["MetricSpecification"]["TargetValue"], 50.0);
  EXPECT_EQ(f["CapacityForecast"]["Values"], Json::array());
  EXPECT_EQ(f["UpdateTime"], formatIso8601(now));

  // An hour and a half of two instances at 90 %: a total of 180, 4 instances at 50 %
  // (within MaxSize 4).
  metrics::MetricKey cpu{"AWS/EC2", "CPUUtilization", {{"AutoScalingGroupName", "web"}}};
  for (TimeMs t = now - 90 * 60'000; t < now; t += 1000) {
    ASSERT_OK(metrics_->put(cpu, t, 90));
    ASSERT_OK(metrics_->put(cpu, t, 90));
  }
  f = forecast(hour, hour + 48 * kHour);
  ASSERT_EQ(f["LoadForecast"][0]["Timestamps"].size(), 48u);
  EXPECT_EQ(f["LoadForecast"][0]["Timestamps"][0], formatIso8601(hour));
  EXPECT_EQ(f["LoadForecast"][0]["Timestamps"][1], formatIso8601(hour + kHour));
  EXPECT_DOUBLE_EQ(f["LoadForecast"][0]["Values"][0].get<double>(), 180);
  EXPECT_EQ(f["CapacityForecast"]["Values"][0], 4.0);
  EXPECT_EQ(f["CapacityForecast"]["Timestamps"], f["LoadForecast"][0]["Timestamps"]);

  // A window later than the forecast: no values. A window of two hours: two.
  f = forecast(hour + 60 * kHour, hour + 70 * kHour);
  EXPECT_EQ(f["LoadForecast"][0]["Values"], Json::array());
  f = forecast(hour + kHour, hour + 3 * kHour);
  EXPECT_EQ(f["CapacityForecast"]["Values"].size(), 2u);
}

TEST_F(PredictiveScalingApiTest, ForecastErrors) {
  ok("PutScalingPolicy", policy(cpuPair(50)));
  ok("PutScalingPolicy", {{"AutoScalingGroupName", "web"},
                          {"PolicyName", "simple"},
                          {"AdjustmentType", "ChangeInCapacity"},
                          {"ScalingAdjustment", 1}});
  TimeMs now = clock_.now();
  auto ask = [&](const std::string& name, TimeMs start, TimeMs end) {
    return error("GetPredictiveScalingForecast", {{"AutoScalingGroupName", "web"},
                                                  {"PolicyName", name},
                                                  {"StartTime", formatIso8601(start)},
                                                  {"EndTime", formatIso8601(end)}});
  };
  EXPECT_NE(ask("cpu-forecast", now, now).second.find("EndTime must be after StartTime"),
            std::string::npos);
  EXPECT_NE(ask("cpu-forecast", now, now + 31 * 24 * kHour).second.find("30 days"),
            std::string::npos);
  EXPECT_NE(
      ask("cpu-forecast", now - 400 * 24 * kHour, now - 390 * 24 * kHour).second.find("one year"),
      std::string::npos);
  EXPECT_NE(ask("nope", now, now + kHour).second.find("not found"), std::string::npos);
  EXPECT_NE(ask("simple", now, now + kHour).second.find("not a PredictiveScaling policy"),
            std::string::npos);
  auto [code, message] = error("GetPredictiveScalingForecast",
                               {{"AutoScalingGroupName", "web"}, {"PolicyName", "cpu-forecast"}});
  EXPECT_EQ(code, "ValidationError") << message;
  EXPECT_EQ(
      error("ExecutePolicy", {{"AutoScalingGroupName", "web"}, {"PolicyName", "cpu-forecast"}})
          .first,
      "ValidationError");
}

TEST_F(PredictiveScalingApiTest, QueryProtocolServesTheForecast) {
  ok("PutScalingPolicy", policy(cpuPair(50)));
  HttpRequest r;
  r.method = "POST";
  r.target = "/";
  r.headers = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
  r.body = "Action=GetPredictiveScalingForecast&Version=2011-01-01&AutoScalingGroupName=web"
           "&PolicyName=cpu-forecast&StartTime=2025-12-06T10%3A00%3A00Z"
           "&EndTime=2025-12-08T10%3A00%3A00Z";
  HttpResponse resp = handleApiRequest(*ctx_, r);
  EXPECT_EQ(resp.status, 200) << resp.body;
  EXPECT_NE(resp.body.find("<GetPredictiveScalingForecastResult><LoadForecast><member>"),
            std::string::npos)
      << resp.body;
  EXPECT_NE(resp.body.find("<PredefinedMetricType>ASGCPUUtilization</PredefinedMetricType>"),
            std::string::npos)
      << resp.body;

  r.body = "Action=PutScalingPolicy&Version=2011-01-01&AutoScalingGroupName=web"
           "&PolicyName=q&PolicyType=PredictiveScaling"
           "&PredictiveScalingConfiguration.Mode=ForecastAndScale"
           "&PredictiveScalingConfiguration.MetricSpecifications.member.1.TargetValue=40"
           "&PredictiveScalingConfiguration.MetricSpecifications.member.1."
           "PredefinedMetricPairSpecification.PredefinedMetricType=ASGNetworkIn";
  resp = handleApiRequest(*ctx_, r);
  EXPECT_EQ(resp.status, 200) << resp.body;
  Json c = ok("DescribePolicies",
              {{"PolicyNames", {"q"}}})["ScalingPolicies"][0]["PredictiveScalingConfiguration"];
  EXPECT_EQ(c["Mode"], "ForecastAndScale");
  EXPECT_EQ(c["MetricSpecifications"][0]["TargetValue"], 40.0);
}

} // namespace
} // namespace tide::api
