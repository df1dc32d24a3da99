// A group's controls (issue 11, item 7): termination policies, scale-in protection, instance
// health, suspended processes, standby, attach and detach, max instance lifetime. The shapes,
// AWS's validation errors, and that bad input changes nothing.
#include "api/api_test_fixture.h"
#include "common/status_testing.h"

namespace tide::api {
namespace {

class AutoScalingControlsTest : public ApiTest {
protected:
  void SetUp() override {
    ApiTest::SetUp();
    image_ = availableImage();
    ok("CreateLaunchTemplate",
       {{"LaunchTemplateName", "shop"},
        {"LaunchTemplateData", {{"ImageId", image_}, {"InstanceType", "t3.micro"}}}});
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
  Json group(const std::string& name = "web") {
    return ok("DescribeAutoScalingGroups",
              {{"AutoScalingGroupNames", {name}}})["AutoScalingGroups"][0];
  }
  // A running instance not in any group (RunInstances, then running as the provider says).
  std::string runningInstance() {
    std::string id = ok("RunInstances", {{"ImageId", image_},
                                         {"InstanceType", "t3.micro"},
                                         {"MinCount", 1},
                                         {"MaxCount", 1}})["Instances"][0]["InstanceId"];
    change(id, [](model::Instance& i) { i.state = model::InstanceState::Running; });
    return id;
  }
  void change(const std::string& id, const std::function<void(model::Instance&)>& fn) {
    ASSERT_OK(store_->transact([&](store::Tx& tx) {
      model::Instance i = **tx.instance(id);
      fn(i);
      return tx.putInstance(i);
    }));
  }
  // Two running instances attached to "web" and put in service (as the controller would).
  std::pair<std::string, std::string> twoInService() {
    std::string a = runningInstance(), b = runningInstance();
    ok("AttachInstances", {{"AutoScalingGroupName", "web"}, {"InstanceIds", {a, b}}});
    for (const auto& id : {a, b}) {
      change(id, [](model::Instance& i) { i.lifecycleState = model::LifecycleState::InService; });
    }
    return {a, b};
  }
  Json asgInstance(const std::string& id) {
    return ok("DescribeAutoScalingInstances", {{"InstanceIds", {id}}})["AutoScalingInstances"][0];
  }
  Json activities() {
    return ok("DescribeScalingActivities", {{"AutoScalingGroupName", "web"}})["Activities"];
  }
  std::string image_;
  std::string tgArn_;
};

TEST_F(AutoScalingControlsTest, TerminationPoliciesAreAwsNamesInOrder) {
  EXPECT_EQ(
      ok("DescribeTerminationPolicyTypes", Json::object())["TerminationPolicyTypes"],
      Json::array({"AllocationStrategy", "ClosestToNextInstanceHour", "Default", "NewestInstance",
                   "OldestInstance", "OldestLaunchConfiguration", "OldestLaunchTemplate"}));
  create({{"TerminationPolicies", {"OldestLaunchTemplate", "ClosestToNextInstanceHour"}}});
  EXPECT_EQ(group()["TerminationPolicies"],
            Json::array({"OldestLaunchTemplate", "ClosestToNextInstanceHour"}));
  ok("UpdateAutoScalingGroup",
     {{"AutoScalingGroupName", "web"}, {"TerminationPolicies", {"NewestInstance"}}});
  EXPECT_EQ(group()["TerminationPolicies"], Json::array({"NewestInstance"}));
  // An unknown one is refused and changes nothing (not even the other settings).
  auto e = error("UpdateAutoScalingGroup", {{"AutoScalingGroupName", "web"},
                                            {"MaxSize", 9},
                                            {"TerminationPolicies", {"OldestInstance", "Random"}}});
  EXPECT_EQ(e.first, "ValidationError");
  EXPECT_EQ(group()["TerminationPolicies"], Json::array({"NewestInstance"}));
  EXPECT_EQ(group()["MaxSize"], 4);
}

TEST_F(AutoScalingControlsTest, MaxInstanceLifetimeIsZeroOrADayToAYear) {
  create({{"MaxInstanceLifetime", 86400}});
  EXPECT_EQ(group()["MaxInstanceLifetime"], 86400);
  for (int bad : {3600, 86399, 31536001, -1}) {
    auto e = error("UpdateAutoScalingGroup",
                   {{"AutoScalingGroupName", "web"}, {"MaxInstanceLifetime", bad}});
    EXPECT_EQ(e.first, "ValidationError") << bad;
    EXPECT_NE(e.second.find("between 86400 and 31536000 seconds"), std::string::npos);
  }
  EXPECT_EQ(group()["MaxInstanceLifetime"], 86400);
  ok("UpdateAutoScalingGroup", {{"AutoScalingGroupName", "web"}, {"MaxInstanceLifetime", 0}});
  EXPECT_FALSE(group().contains("MaxInstanceLifetime"));
}

TEST_F(AutoScalingControlsTest, ScaleInProtectionIsSetPerInstanceAndShown) {
  create({{"MinSize", 0}});
  auto [a, b] = twoInService();
  EXPECT_EQ(group()["NewInstancesProtectedFromScaleIn"], false);
  EXPECT_EQ(
      ok("SetInstanceProtection",
         {{"AutoScalingGroupName", "web"}, {"InstanceIds", {a}}, {"ProtectedFromScaleIn", true}}),
      Json::object());
  for (const auto& i : group()["Instances"]) {
    EXPECT_EQ(i["ProtectedFromScaleIn"], i["InstanceId"] == a) << i.dump();
  }
  EXPECT_EQ(asgInstance(a)["ProtectedFromScaleIn"], true);
  EXPECT_EQ(asgInstance(b)["ProtectedFromScaleIn"], false);
  // One instance not in the group: AWS's error, and the other is not changed either.
  std::string loner = runningInstance();
  auto e = error("SetInstanceProtection", {{"AutoScalingGroupName", "web"},
                                           {"InstanceIds", {b, loner}},
                                           {"ProtectedFromScaleIn", true}});
  EXPECT_EQ(e, (std::pair<std::string, std::string>{
                   "ValidationError",
                   "The instance " + loner + " is not part of Auto Scaling group web."}));
  EXPECT_EQ(asgInstance(b)["ProtectedFromScaleIn"], false);
  EXPECT_EQ(
      error("SetInstanceProtection", {{"AutoScalingGroupName", "web"}, {"InstanceIds", {b}}}).first,
      "ValidationError"); // ProtectedFromScaleIn is required
  EXPECT_EQ(error("SetInstanceProtection", {{"AutoScalingGroupName", "nope"},
                                            {"InstanceIds", {b}},
                                            {"ProtectedFromScaleIn", true}})
                .first,
            "ValidationError");
  ok("SetInstanceProtection",
     {{"AutoScalingGroupName", "web"}, {"InstanceIds", {a}}, {"ProtectedFromScaleIn", false}});
  EXPECT_EQ(asgInstance(a)["ProtectedFromScaleIn"], false);
  // NewInstancesProtectedFromScaleIn: shown, and given to instances that join.
  ok("UpdateAutoScalingGroup",
     {{"AutoScalingGroupName", "web"}, {"NewInstancesProtectedFromScaleIn", true}});
  EXPECT_EQ(group()["NewInstancesProtectedFromScaleIn"], true);
  ok("AttachInstances", {{"AutoScalingGroupName", "web"}, {"InstanceIds", {loner}}});
  EXPECT_EQ(asgInstance(loner)["ProtectedFromScaleIn"], true);
}

TEST_F(AutoScalingControlsTest, SetInstanceHealthRespectsTheGracePeriodUnlessTold) {
  create({{"MinSize", 0}, {"HealthCheckGracePeriod", 300}});
  auto [a, b] = twoInService();
  ok("SetInstanceHealth", {{"InstanceId", a}, {"HealthStatus", "Unhealthy"}});
  EXPECT_EQ(asgInstance(a)["HealthStatus"], "HEALTHY"); // launched now: within the grace period
  ok("SetInstanceHealth",
     {{"InstanceId", a}, {"HealthStatus", "Unhealthy"}, {"ShouldRespectGracePeriod", false}});
  EXPECT_EQ(asgInstance(a)["HealthStatus"], "UNHEALTHY");
  clock_.advance(Millis(300'000));
  ok("SetInstanceHealth", {{"InstanceId", b}, {"HealthStatus", "Unhealthy"}});
  EXPECT_EQ(asgInstance(b)["HealthStatus"], "UNHEALTHY");
  ok("SetInstanceHealth", {{"InstanceId", b}, {"HealthStatus", "Healthy"}});
  EXPECT_EQ(asgInstance(b)["HealthStatus"], "HEALTHY");
  auto e = error("SetInstanceHealth", {{"InstanceId", b}, {"HealthStatus", "Sick"}});
  EXPECT_EQ(e.first, "ValidationError");
  EXPECT_EQ(asgInstance(b)["HealthStatus"], "HEALTHY");
  std::string loner = runningInstance();
  e = error("SetInstanceHealth", {{"InstanceId", loner}, {"HealthStatus", "Unhealthy"}});
  EXPECT_EQ(e, (std::pair<std::string, std::string>{
                   "ValidationError",
                   "Instance Id not found - No managed instance found for instance ID: " + loner}));
}

TEST_F(AutoScalingControlsTest, ProcessesAreSuspendedAndResumedByName) {
  Json types = ok("DescribeScalingProcessTypes", Json::object())["Processes"];
  std::vector<std::string> names;
  for (const auto& t : types) {
    names.push_back(t["ProcessName"]);
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"AZRebalance", "AddToLoadBalancer", "AlarmNotification",
                                      "HealthCheck", "InstanceRefresh", "Launch",
                                      "ReplaceUnhealthy", "ScheduledActions", "Terminate"}));
  create();
  EXPECT_EQ(group()["SuspendedProcesses"], Json::array());
  clock_.advance(Millis(5'000));
  ok("SuspendProcesses",
     {{"AutoScalingGroupName", "web"}, {"ScalingProcesses", {"Launch", "Terminate"}}});
  Json sp = group()["SuspendedProcesses"];
  ASSERT_EQ(sp.size(), 2u);
  EXPECT_EQ(sp[0]["ProcessName"], "Launch");
  EXPECT_EQ(sp[0]["SuspensionReason"].get<std::string>().rfind("User suspended at ", 0), 0u);
  EXPECT_EQ(sp[0]["SuspensionReason"].get<std::string>().back(), 'Z');
  ok("ResumeProcesses", {{"AutoScalingGroupName", "web"}, {"ScalingProcesses", {"Launch"}}});
  sp = group()["SuspendedProcesses"];
  ASSERT_EQ(sp.size(), 1u);
  EXPECT_EQ(sp[0]["ProcessName"], "Terminate");
  // A name AWS does not have: refused, nothing changed.
  auto e = error("SuspendProcesses",
                 {{"AutoScalingGroupName", "web"}, {"ScalingProcesses", {"Launch", "Sleep"}}});
  EXPECT_EQ(e.first, "ValidationError");
  EXPECT_EQ(group()["SuspendedProcesses"].size(), 1u);
  EXPECT_EQ(error("ResumeProcesses", {{"AutoScalingGroupName", "nope"}}).first, "ValidationError");
  ok("SuspendProcesses", {{"AutoScalingGroupName", "web"}}); // none named: all of them
  EXPECT_EQ(group()["SuspendedProcesses"].size(), 9u);
  ok("ResumeProcesses", {{"AutoScalingGroupName", "web"}});
  EXPECT_EQ(group()["SuspendedProcesses"], Json::array());
}

TEST_F(AutoScalingControlsTest, StandbyInAndOutWithAwsActivities) {
  create({{"MinSize", 0}, {"MaxSize", 2}});
  auto [a, b] = twoInService();
  ok("UpdateAutoScalingGroup", {{"AutoScalingGroupName", "web"}, {"MinSize", 1}});
  EXPECT_EQ(group()["DesiredCapacity"], 2);
  EXPECT_EQ(error("EnterStandby", {{"AutoScalingGroupName", "web"}, {"InstanceIds", {a}}}).first,
            "ValidationError"); // ShouldDecrementDesiredCapacity is required
  Json r = ok("EnterStandby", {{"AutoScalingGroupName", "web"},
                               {"InstanceIds", {a}},
                               {"ShouldDecrementDesiredCapacity", true}});
  ASSERT_EQ(r["Activities"].size(), 1u);
  EXPECT_EQ(r["Activities"][0]["Description"], "Moving EC2 instance to Standby: " + a);
  std::string cause = r["Activities"][0]["Cause"];
  EXPECT_EQ(cause.rfind("At ", 0), 0u);
  EXPECT_NE(cause.find("Z instance " + a +
                       " was moved to standby in response to a user request, shrinking the "
                       "capacity from 2 to 1."),
            std::string::npos);
  EXPECT_EQ(r["Activities"][0]["Progress"], 50);
  EXPECT_EQ(r["Activities"][0]["StatusCode"], "InProgress");
  EXPECT_EQ(group()["DesiredCapacity"], 1);
  EXPECT_EQ(asgInstance(a)["LifecycleState"], "EnteringStandby");
  // b cannot go too: the group would be below its min size. Nothing changes.
  auto e = error("EnterStandby", {{"AutoScalingGroupName", "web"},
                                  {"InstanceIds", {b}},
                                  {"ShouldDecrementDesiredCapacity", true}});
  EXPECT_EQ(e.first, "ValidationError");
  EXPECT_EQ(asgInstance(b)["LifecycleState"], "InService");
  EXPECT_EQ(group()["DesiredCapacity"], 1);
  // Not yet in Standby: cannot exit.
  EXPECT_EQ(error("ExitStandby", {{"AutoScalingGroupName", "web"}, {"InstanceIds", {a}}}).first,
            "ValidationError");
  change(a, [](model::Instance& i) { i.lifecycleState = model::LifecycleState::Standby; });
  r = ok("ExitStandby", {{"AutoScalingGroupName", "web"}, {"InstanceIds", {a}}});
  EXPECT_EQ(r["Activities"][0]["Description"], "Moving EC2 instance out of Standby: " + a);
  EXPECT_EQ(r["Activities"][0]["StatusCode"], "PreInService");
  EXPECT_EQ(r["Activities"][0]["Progress"], 30);
  EXPECT_NE(r["Activities"][0]["Cause"].get<std::string>().find(
                "instance " + a +
                " was moved out of standby in response to a user request, increasing the "
                "capacity from 1 to 2."),
            std::string::npos);
  EXPECT_EQ(group()["DesiredCapacity"], 2);
  EXPECT_EQ(asgInstance(a)["LifecycleState"], "Pending");
  // At max size: ExitStandby would exceed it.
  change(a, [](model::Instance& i) { i.lifecycleState = model::LifecycleState::Standby; });
  e = error("ExitStandby", {{"AutoScalingGroupName", "web"}, {"InstanceIds", {a}}});
  EXPECT_EQ(e.first, "ValidationError");
  EXPECT_EQ(asgInstance(a)["LifecycleState"], "Standby");
  // Without decrementing, the capacity stays.
  r = ok("EnterStandby", {{"AutoScalingGroupName", "web"},
                          {"InstanceIds", {b}},
                          {"ShouldDecrementDesiredCapacity", false}});
  EXPECT_EQ(group()["DesiredCapacity"], 2);
  cause = r["Activities"][0]["Cause"];
  EXPECT_EQ(cause.substr(cause.find('Z') + 1),
            " instance " + b + " was moved to standby in response to a user request.");
}

TEST_F(AutoScalingControlsTest, AttachAndDetachCheckSizesAsAws) {
  create({{"MinSize", 0}, {"MaxSize", 2}});
  std::string a = runningInstance(), b = runningInstance(), c = runningInstance();
  EXPECT_EQ(ok("AttachInstances", {{"AutoScalingGroupName", "web"}, {"InstanceIds", {a}}}),
            Json::object());
  EXPECT_EQ(group()["DesiredCapacity"], 1);
  EXPECT_EQ(asgInstance(a)["LifecycleState"], "Pending");
  Json acts = activities();
  EXPECT_EQ(acts[0]["Description"], "Attaching an existing EC2 instance: " + a);
  EXPECT_NE(acts[0]["Cause"].get<std::string>().find(
                "an instance was added in response to user request. Keeping the capacity at the "
                "new 1."),
            std::string::npos);
  // Two more would exceed the max size of 2: AWS's message, nothing attached.
  auto e = error("AttachInstances", {{"AutoScalingGroupName", "web"}, {"InstanceIds", {b, c}}});
  EXPECT_EQ(e, (std::pair<std::string, std::string>{
                   "ValidationError",
                   "AutoScalingGroup web has min-size=0, max-size=2, and desired-size=1. To "
                   "attach 2 instance, please update the AutoScalingGroup sizes appropriately."}));
  EXPECT_EQ(group()["DesiredCapacity"], 1);
  EXPECT_EQ(group()["Instances"].size(), 1u);
  // Unknown, or not running: refused.
  EXPECT_EQ(error("AttachInstances",
                  {{"AutoScalingGroupName", "web"}, {"InstanceIds", {"i-0123456789abcdef0"}}})
                .first,
            "ValidationError");
  change(b, [](model::Instance& i) { i.state = model::InstanceState::Stopped; });
  EXPECT_EQ(error("AttachInstances", {{"AutoScalingGroupName", "web"}, {"InstanceIds", {b}}}).first,
            "ValidationError");
  // A member of another group cannot be attached.
  ok("CreateAutoScalingGroup", {{"AutoScalingGroupName", "api"},
                                {"LaunchTemplate", {{"LaunchTemplateName", "shop"}}},
                                {"MinSize", 0},
                                {"MaxSize", 2}});
  ok("AttachInstances", {{"AutoScalingGroupName", "api"}, {"InstanceIds", {c}}});
  e = error("AttachInstances", {{"AutoScalingGroupName", "web"}, {"InstanceIds", {c}}});
  EXPECT_EQ(e.first, "ValidationError");
  EXPECT_NE(e.second.find("already part of the Auto Scaling group api"), std::string::npos);

  // Detach: in service only; with ShouldDecrementDesiredCapacity the capacity follows.
  EXPECT_EQ(error("DetachInstances", {{"AutoScalingGroupName", "web"},
                                      {"InstanceIds", {a}},
                                      {"ShouldDecrementDesiredCapacity", true}})
                .first,
            "ValidationError"); // still Pending
  change(a, [](model::Instance& i) { i.lifecycleState = model::LifecycleState::InService; });
  EXPECT_EQ(error("DetachInstances", {{"AutoScalingGroupName", "web"}, {"InstanceIds", {a}}}).first,
            "ValidationError"); // ShouldDecrementDesiredCapacity is required
  Json r = ok("DetachInstances", {{"AutoScalingGroupName", "web"},
                                  {"InstanceIds", {a}},
                                  {"ShouldDecrementDesiredCapacity", true}});
  ASSERT_EQ(r["Activities"].size(), 1u);
  EXPECT_EQ(r["Activities"][0]["Description"], "Detaching EC2 instance: " + a);
  EXPECT_NE(r["Activities"][0]["Cause"].get<std::string>().find(
                "instance " + a +
                " was detached in response to a user request, shrinking the capacity from 1 to "
                "0."),
            std::string::npos);
  EXPECT_EQ(group()["DesiredCapacity"], 0);
  EXPECT_EQ(asgInstance(a)["LifecycleState"], "Detaching");
  EXPECT_EQ(error("DetachInstances", {{"AutoScalingGroupName", "api"},
                                      {"InstanceIds", {a}},
                                      {"ShouldDecrementDesiredCapacity", false}})
                .second,
            "The instance " + a + " is not part of Auto Scaling group api.");
}

} // namespace
} // namespace tide::api
