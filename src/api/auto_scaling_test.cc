// The Auto Scaling actions: validation errors with AWS's codes and wording, and the response
// shapes scripts rely on (DescribeAutoScalingGroups, DescribeScalingActivities, policies).
#include "api/api_test_fixture.h"
#include "common/status_testing.h"

namespace tide::api {
namespace {

class AutoScalingApiTest : public ApiTest {
protected:
  void SetUp() override {
    ApiTest::SetUp();
    std::string image = availableImage();
    ok("CreateLaunchTemplate",
       {{"LaunchTemplateName", "shop"},
        {"LaunchTemplateData", {{"ImageId", image}, {"InstanceType", "t3.micro"}}}});
    tgArn_ = ok("CreateTargetGroup",
                {{"Name", "web"}, {"Port", 8080}})["TargetGroups"][0]["TargetGroupArn"];
  }
  Json create(Json extra = Json::object()) {
    Json p = {{"AutoScalingGroupName", "web"},
              {"LaunchTemplate", {{"LaunchTemplateName", "shop"}}},
              {"MinSize", 1},
              {"MaxSize", 4}};
    p.update(extra);
    return ok("CreateAutoScalingGroup", p);
  }
  Json group() {
    return ok("DescribeAutoScalingGroups",
              {{"AutoScalingGroupNames", {"web"}}})["AutoScalingGroups"][0];
  }
  std::string tgArn_;
};

TEST_F(AutoScalingApiTest, CreateAndDescribeInTheAutoScalingShape) {
  EXPECT_EQ(create({{"DesiredCapacity", 2},
                    {"TargetGroupARNs", {tgArn_}},
                    {"HealthCheckType", "ELB"},
                    {"Tags", {{{"Key", "team"}, {"Value", "web"}, {"PropagateAtLaunch", true}}}},
                    {"VPCZoneIdentifier", "subnet-1"}}),
            Json::object());
  Json g = group();
  EXPECT_EQ(g["AutoScalingGroupName"], "web");
  EXPECT_EQ(g["AutoScalingGroupARN"].get<std::string>().rfind(
                "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:", 0),
            0u);
  EXPECT_EQ(g["LaunchTemplate"]["LaunchTemplateName"], "shop");
  EXPECT_EQ(g["LaunchTemplate"]["Version"], "$Default");
  EXPECT_EQ(g["LaunchTemplate"]["LaunchTemplateId"].get<std::string>().rfind("lt-", 0), 0u);
  EXPECT_EQ(g["MinSize"], 1);
  EXPECT_EQ(g["MaxSize"], 4);
  EXPECT_EQ(g["DesiredCapacity"], 2);
  EXPECT_EQ(g["DefaultCooldown"], 300);
  EXPECT_EQ(g["HealthCheckGracePeriod"], 0);
  EXPECT_EQ(g["HealthCheckType"], "ELB");
  EXPECT_EQ(g["AvailabilityZones"], Json::array({"us-east-1a"}));
  EXPECT_EQ(g["TargetGroupARNs"], Json::array({tgArn_}));
  EXPECT_EQ(g["Instances"], Json::array());
  EXPECT_EQ(g["TerminationPolicies"], Json::array({"Default"}));
  EXPECT_EQ(g["Tags"][0]["Key"], "team");
  EXPECT_EQ(g["Tags"][0]["PropagateAtLaunch"], true);
  EXPECT_TRUE(g.contains("CreatedTime"));
  EXPECT_FALSE(g.contains("Status"));
  Json acts = ok("DescribeScalingActivities", {{"AutoScalingGroupName", "web"}})["Activities"];
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_NE(acts[0]["Cause"].get<std::string>().find(
                "a user request created an AutoScalingGroup changing the desired capacity "
                "from 0 to 2."),
            std::string::npos);
  for (const char* k : {"ActivityId", "AutoScalingGroupName", "Cause", "Description", "StatusCode",
                        "StatusMessage", "StartTime", "EndTime", "Progress"}) {
    EXPECT_TRUE(acts[0].contains(k)) << k;
  }
  EXPECT_EQ(acts[0]["StatusCode"], "Successful");
  // An unknown name is simply not listed.
  EXPECT_EQ(ok("DescribeAutoScalingGroups", {{"AutoScalingGroupNames", {"nope"}}}),
            (Json{{"AutoScalingGroups", Json::array()}}));
}

TEST_F(AutoScalingApiTest, CreateValidates) {
  create();
  EXPECT_EQ(group()["DesiredCapacity"], 1); // MinSize by default
  Json base = {{"AutoScalingGroupName", "other"},
               {"LaunchTemplate", {{"LaunchTemplateName", "shop"}}},
               {"MinSize", 1},
               {"MaxSize", 4}};
  auto with = [&](Json extra) {
    Json p = base;
    p.update(extra);
    return p;
  };
  EXPECT_EQ(error("CreateAutoScalingGroup", with({{"AutoScalingGroupName", "web"}})).first,
            "AlreadyExists");
  auto e = error("CreateAutoScalingGroup", with({{"DesiredCapacity", 5}}));
  EXPECT_EQ(e, (std::pair<std::string, std::string>{
                   "ValidationError",
                   "Desired capacity:5 must be between the specified min size:1 and max size:4"}));
  e = error("CreateAutoScalingGroup", with({{"MinSize", 3}, {"MaxSize", 2}}));
  EXPECT_EQ(e.second, "Max bound, 2, must be greater than or equal to min bound, 3");
  EXPECT_EQ(error("CreateAutoScalingGroup",
                  with({{"LaunchTemplate", {{"LaunchTemplateName", "missing"}}}}))
                .first,
            "ValidationError");
  EXPECT_EQ(error("CreateAutoScalingGroup", with({{"TargetGroupARNs", {"arn:nope"}}})).first,
            "ValidationError");
  EXPECT_EQ(error("CreateAutoScalingGroup", with({{"HealthCheckType", "HTTP"}})).first,
            "ValidationError");
  EXPECT_EQ(error("CreateAutoScalingGroup", with({{"TerminationPolicies", {"Random"}}})).first,
            "ValidationError");
  Json noMax = base;
  noMax.erase("MaxSize");
  EXPECT_EQ(error("CreateAutoScalingGroup", noMax).first, "ValidationError");
  // Nothing was recorded by the failures.
  EXPECT_EQ(ok("DescribeAutoScalingGroups", Json::object())["AutoScalingGroups"].size(), 1u);
}

TEST_F(AutoScalingApiTest, SetDesiredCapacityAndUpdate) {
  create();
  auto e = error("SetDesiredCapacity", {{"AutoScalingGroupName", "web"}, {"DesiredCapacity", 5}});
  EXPECT_EQ(e, (std::pair<std::string, std::string>{
                   "ValidationError", "New SetDesiredCapacity value 5 is above max value 4 for the "
                                      "AutoScalingGroup."}));
  e = error("SetDesiredCapacity", {{"AutoScalingGroupName", "web"}, {"DesiredCapacity", 0}});
  EXPECT_EQ(e.second, "New SetDesiredCapacity value 0 is below min value 1 for the "
                      "AutoScalingGroup.");
  ok("SetDesiredCapacity", {{"AutoScalingGroupName", "web"}, {"DesiredCapacity", 3}});
  EXPECT_EQ(group()["DesiredCapacity"], 3);
  Json acts = ok("DescribeScalingActivities", {{"AutoScalingGroupName", "web"}})["Activities"];
  EXPECT_NE(acts[0]["Cause"].get<std::string>().find(
                "a user request explicitly set group desired capacity changing the desired "
                "capacity from 1 to 3."),
            std::string::npos); // newest first
  EXPECT_EQ(ok("DescribeScalingActivities",
               {{"AutoScalingGroupName", "web"}, {"MaxRecords", 1}})["Activities"]
                .size(),
            1u);
  // A new MaxSize below the capacity lowers it.
  ok("UpdateAutoScalingGroup", {{"AutoScalingGroupName", "web"}, {"MaxSize", 2}});
  EXPECT_EQ(group()["DesiredCapacity"], 2);
  acts = ok("DescribeScalingActivities", {{"AutoScalingGroupName", "web"}})["Activities"];
  EXPECT_NE(acts[0]["Cause"].get<std::string>().find(
                "a user request update of AutoScalingGroup constraints to min: 1, max: 2, "
                "desired: 2 changing the desired capacity from 3 to 2."),
            std::string::npos);
  EXPECT_EQ(
      error("UpdateAutoScalingGroup", {{"AutoScalingGroupName", "nope"}, {"MaxSize", 2}}).first,
      "ValidationError");
}

TEST_F(AutoScalingApiTest, DeleteNeedsForceWhileInstancesRemain) {
  create({{"DesiredCapacity", 0}, {"MinSize", 0}});
  ok("DeleteAutoScalingGroup", {{"AutoScalingGroupName", "web"}}); // empty: gone at once
  EXPECT_EQ(ok("DescribeAutoScalingGroups", Json::object())["AutoScalingGroups"].size(), 0u);
  create({{"DesiredCapacity", 1}});
  // An instance of the group, as the controller would have launched it.
  EXPECT_OK(store_->transact([&](store::Tx& tx) {
    model::Instance i;
    i.instanceId = "i-00000000000000001";
    i.autoScalingGroupName = "web";
    i.lifecycleState = model::LifecycleState::InService;
    i.healthStatus = model::HealthStatus::Healthy;
    i.instanceType = "t3.micro";
    i.state = model::InstanceState::Running;
    return tx.putInstance(i);
  }));
  auto e = error("DeleteAutoScalingGroup", {{"AutoScalingGroupName", "web"}});
  EXPECT_EQ(e.first, "ResourceInUse");
  EXPECT_EQ(e.second, "You cannot delete an AutoScalingGroup while there are instances or "
                      "pending Spot instance request(s) still in the group.");
  Json g = group();
  ASSERT_EQ(g["Instances"].size(), 1u);
  Json i = g["Instances"][0];
  EXPECT_EQ(i["InstanceId"], "i-00000000000000001");
  EXPECT_EQ(i["LifecycleState"], "InService");
  EXPECT_EQ(i["HealthStatus"], "Healthy");
  EXPECT_EQ(i["AvailabilityZone"], "us-east-1a");
  EXPECT_EQ(i["ProtectedFromScaleIn"], false);
  Json asi = ok("DescribeAutoScalingInstances", Json::object())["AutoScalingInstances"];
  ASSERT_EQ(asi.size(), 1u);
  EXPECT_EQ(asi[0]["AutoScalingGroupName"], "web");
  EXPECT_EQ(asi[0]["HealthStatus"], "HEALTHY");
  // TerminateInstanceInAutoScalingGroup: decrementing below MinSize is refused.
  e = error("TerminateInstanceInAutoScalingGroup",
            {{"InstanceId", "i-00000000000000001"}, {"ShouldDecrementDesiredCapacity", true}});
  EXPECT_EQ(e.first, "ValidationError");
  EXPECT_EQ(
      error("TerminateInstanceInAutoScalingGroup", {{"InstanceId", "i-00000000000000001"}}).first,
      "ValidationError"); // ShouldDecrementDesiredCapacity is required
  Json act = ok("TerminateInstanceInAutoScalingGroup",
                {{"InstanceId", "i-00000000000000001"},
                 {"ShouldDecrementDesiredCapacity", false}})["Activity"];
  EXPECT_EQ(act["Description"], "Terminating EC2 instance: i-00000000000000001");
  EXPECT_EQ(act["StatusCode"], "InProgress");
  EXPECT_NE(act["Cause"].get<std::string>().find(
                "instance i-00000000000000001 was taken out of service in response to a user "
                "request."),
            std::string::npos);
  EXPECT_EQ(group()["Instances"][0]["LifecycleState"], "Terminating");
  ok("DeleteAutoScalingGroup", {{"AutoScalingGroupName", "web"}, {"ForceDelete", true}});
  g = group();
  EXPECT_EQ(g["Status"], "Delete in progress");
  EXPECT_EQ(g["DesiredCapacity"], 0);
  EXPECT_EQ(
      error("SetDesiredCapacity", {{"AutoScalingGroupName", "web"}, {"DesiredCapacity", 0}}).first,
      "ScalingActivityInProgress");
}

TEST_F(AutoScalingApiTest, PoliciesPutDescribeExecuteDelete) {
  create({{"DesiredCapacity", 2}});
  Json r = ok("PutScalingPolicy", {{"AutoScalingGroupName", "web"},
                                   {"PolicyName", "out"},
                                   {"AdjustmentType", "ChangeInCapacity"},
                                   {"ScalingAdjustment", 1},
                                   {"Cooldown", 60}});
  std::string arn = r["PolicyARN"];
  EXPECT_EQ(arn.rfind("arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:", 0), 0u);
  EXPECT_NE(arn.find(":autoScalingGroupName/web:policyName/out"), std::string::npos);
  EXPECT_EQ(r["Alarms"], Json::array());
  // Step scaling with a gap is refused; a valid one is accepted.
  EXPECT_EQ(
      error("PutScalingPolicy", {{"AutoScalingGroupName", "web"},
                                 {"PolicyName", "steps"},
                                 {"PolicyType", "StepScaling"},
                                 {"AdjustmentType", "ChangeInCapacity"},
                                 {"StepAdjustments",
                                  {{{"MetricIntervalLowerBound", 0},
                                    {"MetricIntervalUpperBound", 10},
                                    {"ScalingAdjustment", 1}},
                                   {{"MetricIntervalLowerBound", 20}, {"ScalingAdjustment", 2}}}}})
          .first,
      "ValidationError");
  ok("PutScalingPolicy", {{"AutoScalingGroupName", "web"},
                          {"PolicyName", "steps"},
                          {"PolicyType", "StepScaling"},
                          {"AdjustmentType", "ChangeInCapacity"},
                          {"StepAdjustments",
                           {{{"MetricIntervalLowerBound", 0},
                             {"MetricIntervalUpperBound", 10},
                             {"ScalingAdjustment", 1}},
                            {{"MetricIntervalLowerBound", 10}, {"ScalingAdjustment", 2}}}}});
  EXPECT_EQ(error("PutScalingPolicy", {{"AutoScalingGroupName", "web"},
                                       {"PolicyName", "bad"},
                                       {"AdjustmentType", "ChangeInCapacity"}})
                .first,
            "ValidationError"); // no ScalingAdjustment
  EXPECT_EQ(error("PutScalingPolicy", {{"AutoScalingGroupName", "web"},
                                       {"PolicyName", "bad"},
                                       {"AdjustmentType", "ChangeInCapacity"},
                                       {"ScalingAdjustment", 1},
                                       {"MinAdjustmentMagnitude", 2}})
                .first,
            "ValidationError");
  Json policies = ok("DescribePolicies", {{"AutoScalingGroupName", "web"}})["ScalingPolicies"];
  ASSERT_EQ(policies.size(), 2u);
  EXPECT_EQ(policies[0]["PolicyName"], "out");
  EXPECT_EQ(policies[0]["PolicyType"], "SimpleScaling");
  EXPECT_EQ(policies[0]["ScalingAdjustment"], 1);
  EXPECT_EQ(policies[0]["Cooldown"], 60);
  EXPECT_EQ(policies[1]["StepAdjustments"][1],
            (Json{{"MetricIntervalLowerBound", 10.0}, {"ScalingAdjustment", 2}}));
  EXPECT_EQ(policies[1]["MetricAggregationType"], "Average");

  ok("ExecutePolicy", {{"AutoScalingGroupName", "web"}, {"PolicyName", "out"}});
  EXPECT_EQ(group()["DesiredCapacity"], 3);
  Json acts = ok("DescribeScalingActivities", {{"AutoScalingGroupName", "web"}})["Activities"];
  EXPECT_NE(acts[0]["Cause"].get<std::string>().find(
                "a user request executed policy out changing the desired capacity from 2 to 3."),
            std::string::npos);
  // Within the policy's cooldown: HonorCooldown refuses, the default runs it.
  EXPECT_EQ(error("ExecutePolicy",
                  {{"AutoScalingGroupName", "web"}, {"PolicyName", "out"}, {"HonorCooldown", true}})
                .first,
            "ScalingActivityInProgress");
  clock_.advance(Millis(60'000));
  ok("ExecutePolicy",
     {{"AutoScalingGroupName", "web"}, {"PolicyName", "out"}, {"HonorCooldown", true}});
  EXPECT_EQ(group()["DesiredCapacity"], 4);
  // Step: needs the metric; picks the step by the breach.
  EXPECT_EQ(
      error("ExecutePolicy", {{"AutoScalingGroupName", "web"}, {"PolicyName", "steps"}}).first,
      "ValidationError");
  ok("SetDesiredCapacity", {{"AutoScalingGroupName", "web"}, {"DesiredCapacity", 1}});
  ok("ExecutePolicy", {{"AutoScalingGroupName", "web"},
                       {"PolicyName", arn.substr(0, 0) + "steps"},
                       {"MetricValue", 85.0},
                       {"BreachThreshold", 70.0}});
  EXPECT_EQ(group()["DesiredCapacity"], 3);
  ok("DeletePolicy", {{"AutoScalingGroupName", "web"}, {"PolicyName", arn}});
  EXPECT_EQ(ok("DescribePolicies", {{"AutoScalingGroupName", "web"}})["ScalingPolicies"].size(),
            1u);
  EXPECT_EQ(error("DeletePolicy", {{"AutoScalingGroupName", "web"}, {"PolicyName", "out"}}).first,
            "ValidationError");
}

} // namespace
} // namespace tide::api
