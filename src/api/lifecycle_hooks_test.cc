// Lifecycle hooks (issue 11, item 4): Put/Delete/DescribeLifecycleHooks,
// DescribeLifecycleHookTypes, CompleteLifecycleAction and RecordLifecycleActionHeartbeat, their
// shapes, AWS's validation, and that bad input changes nothing.
#include "api/api_test_fixture.h"
#include "common/status_testing.h"
#include "operations/lifecycle_hooks.h"

namespace tide::api {
namespace {

class LifecycleHooksTest : public ApiTest {
protected:
  void SetUp() override {
    ApiTest::SetUp();
    std::string image = availableImage();
    ok("CreateLaunchTemplate",
       {{"LaunchTemplateName", "shop"},
        {"LaunchTemplateData", {{"ImageId", image}, {"InstanceType", "t3.micro"}}}});
    ok("CreateAutoScalingGroup", {{"AutoScalingGroupName", "web"},
                                  {"LaunchTemplate", {{"LaunchTemplateName", "shop"}}},
                                  {"MinSize", 0},
                                  {"MaxSize", 4}});
  }
  Json hooks(const std::string& group = "web") {
    return ok("DescribeLifecycleHooks", {{"AutoScalingGroupName", group}})["LifecycleHooks"];
  }
  model::AutoScalingGroup group(const std::string& name = "web") {
    model::AutoScalingGroup g;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      g = **tx.autoScalingGroup(name);
      return Status::ok();
    }));
    return g;
  }
  // Holds instance `id` at the group's hooks of t, as the group controller does.
  void hold(const std::string& id, model::LifecycleTransition t) {
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      model::AutoScalingGroup g = **tx.autoScalingGroup("web");
      EXPECT_TRUE(operations::beginLifecycleActions(g, id, t, clock_.now()));
      return tx.putAutoScalingGroup(g);
    }));
  }
};

TEST_F(LifecycleHooksTest, PutDescribeUpdateDelete) {
  ok("PutLifecycleHook", {{"AutoScalingGroupName", "web"},
                          {"LifecycleHookName", "warm-up"},
                          {"LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING"}});
  ok("PutLifecycleHook", {{"AutoScalingGroupName", "web"},
                          {"LifecycleHookName", "drain"},
                          {"LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING"},
                          {"HeartbeatTimeout", 30},
                          {"DefaultResult", "CONTINUE"},
                          {"NotificationMetadata", "{\"why\":\"logs\"}"},
                          {"NotificationTargetARN", "arn:aws:sqs:us-east-1:123456789012:q"},
                          {"RoleARN", "arn:aws:iam::123456789012:role/hooks"}});
  Json all = hooks();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["LifecycleHookName"], "warm-up");
  EXPECT_EQ(all[0]["AutoScalingGroupName"], "web");
  EXPECT_EQ(all[0]["LifecycleTransition"], "autoscaling:EC2_INSTANCE_LAUNCHING");
  EXPECT_EQ(all[0]["HeartbeatTimeout"], 3600); // AWS's defaults
  EXPECT_EQ(all[0]["GlobalTimeout"], 172800);  // 48 h < 100 x 3600
  EXPECT_EQ(all[0]["DefaultResult"], "ABANDON");
  EXPECT_FALSE(all[0].contains("NotificationTargetARN"));
  EXPECT_EQ(all[1]["HeartbeatTimeout"], 30);
  EXPECT_EQ(all[1]["GlobalTimeout"], 3000); // 100 x 30
  EXPECT_EQ(all[1]["DefaultResult"], "CONTINUE");
  EXPECT_EQ(all[1]["NotificationMetadata"], "{\"why\":\"logs\"}");
  EXPECT_EQ(all[1]["NotificationTargetARN"], "arn:aws:sqs:us-east-1:123456789012:q");
  EXPECT_EQ(all[1]["RoleARN"], "arn:aws:iam::123456789012:role/hooks");

  // An update changes only what it gives; the transition may be left out.
  ok("PutLifecycleHook",
     {{"AutoScalingGroupName", "web"}, {"LifecycleHookName", "drain"}, {"HeartbeatTimeout", 60}});
  Json drain = ok("DescribeLifecycleHooks", {{"AutoScalingGroupName", "web"},
                                             {"LifecycleHookNames", {"drain"}}})["LifecycleHooks"];
  ASSERT_EQ(drain.size(), 1u);
  EXPECT_EQ(drain[0]["HeartbeatTimeout"], 60);
  EXPECT_EQ(drain[0]["DefaultResult"], "CONTINUE");
  EXPECT_EQ(drain[0]["LifecycleTransition"], "autoscaling:EC2_INSTANCE_TERMINATING");

  ok("DeleteLifecycleHook", {{"AutoScalingGroupName", "web"}, {"LifecycleHookName", "drain"}});
  EXPECT_EQ(hooks().size(), 1u);
  auto [code, message] =
      error("DeleteLifecycleHook", {{"AutoScalingGroupName", "web"}, {"LifecycleHookName", "x"}});
  EXPECT_EQ(code, "ValidationError");

  Json types = ok("DescribeLifecycleHookTypes", Json::object())["LifecycleHookTypes"];
  EXPECT_EQ(types, Json::array({"autoscaling:EC2_INSTANCE_LAUNCHING",
                                "autoscaling:EC2_INSTANCE_TERMINATING"}));
}

TEST_F(LifecycleHooksTest, BadInputIsRefusedAndChangesNothing) {
  auto put = [&](Json p) {
    if (!p.is_object()) {
      p = Json::object();
    }
    p["AutoScalingGroupName"] = p.value("AutoScalingGroupName", "web");
    p["LifecycleHookName"] = p.value("LifecycleHookName", "h");
    return error("PutLifecycleHook", p);
  };
  EXPECT_EQ(put({}).first, "ValidationError"); // a new hook needs its transition
  EXPECT_EQ(put({{"LifecycleTransition", "autoscaling:EC2_INSTANCE_STARTING"}}).first,
            "ValidationError");
  for (int t : {29, 7201}) {
    auto [code, message] = put(
        {{"LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING"}, {"HeartbeatTimeout", t}});
    EXPECT_EQ(code, "ValidationError");
    EXPECT_NE(message.find("between 30 and 7200"), std::string::npos) << message;
  }
  EXPECT_EQ(put({{"LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING"},
                 {"DefaultResult", "RETRY"}})
                .first,
            "ValidationError");
  EXPECT_EQ(put({{"LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING"},
                 {"NotificationMetadata", std::string(1024, 'x')}})
                .first,
            "ValidationError");
  EXPECT_EQ(put({{"LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING"},
                 {"LifecycleHookName", "no spaces"}})
                .first,
            "ValidationError");
  auto [code, message] = put({{"LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING"},
                              {"AutoScalingGroupName", "nope"}});
  EXPECT_EQ(code, "ValidationError");
  EXPECT_NE(message.find("not found"), std::string::npos);
  EXPECT_EQ(hooks().size(), 0u);

  // 50 hooks per group, then LimitExceeded.
  for (int k = 0; k < 50; ++k) {
    ok("PutLifecycleHook", {{"AutoScalingGroupName", "web"},
                            {"LifecycleHookName", "h" + std::to_string(k)},
                            {"LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING"}});
  }
  EXPECT_EQ(put({{"LifecycleHookName", "one-more"},
                 {"LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING"}})
                .first,
            "LimitExceeded");
  ok("PutLifecycleHook", {{"AutoScalingGroupName", "web"}, // updating one is still fine
                          {"LifecycleHookName", "h0"},
                          {"HeartbeatTimeout", 100}});
  EXPECT_EQ(hooks().size(), 50u);
}

TEST_F(LifecycleHooksTest, CreateAutoScalingGroupTakesHookSpecifications) {
  ok("CreateAutoScalingGroup",
     {{"AutoScalingGroupName", "api"},
      {"LaunchTemplate", {{"LaunchTemplateName", "shop"}}},
      {"MinSize", 0},
      {"MaxSize", 2},
      {"LifecycleHookSpecificationList",
       {{{"LifecycleHookName", "ready"},
         {"LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING"},
         {"HeartbeatTimeout", 120},
         {"DefaultResult", "CONTINUE"}},
        {{"LifecycleHookName", "bye"},
         {"LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING"}}}}});
  Json all = hooks("api");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["HeartbeatTimeout"], 120);
  EXPECT_EQ(all[0]["DefaultResult"], "CONTINUE");
  EXPECT_EQ(all[1]["LifecycleTransition"], "autoscaling:EC2_INSTANCE_TERMINATING");
  // A bad specification: no group is made.
  auto [code, message] =
      error("CreateAutoScalingGroup",
            {{"AutoScalingGroupName", "bad"},
             {"LaunchTemplate", {{"LaunchTemplateName", "shop"}}},
             {"MinSize", 0},
             {"MaxSize", 2},
             {"LifecycleHookSpecificationList", {{{"LifecycleHookName", "no-transition"}}}}});
  EXPECT_EQ(code, "ValidationError");
  EXPECT_EQ(call("DescribeLifecycleHooks", {{"AutoScalingGroupName", "bad"}}).first, 400);
}

TEST_F(LifecycleHooksTest, CompleteAndHeartbeatByTokenOrInstanceId) {
  ok("PutLifecycleHook", {{"AutoScalingGroupName", "web"},
                          {"LifecycleHookName", "ready"},
                          {"LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING"},
                          {"HeartbeatTimeout", 60}});
  const std::string id = "i-0123456789abcdef0";
  hold(id, model::LifecycleTransition::Launching);
  std::string token = group().lifecycleActions.at(0).lifecycleActionToken;
  Json byId = {{"AutoScalingGroupName", "web"}, {"LifecycleHookName", "ready"}, {"InstanceId", id}};

  // Heartbeat: the deadline moves to now + HeartbeatTimeout.
  clock_.advance(Millis(50'000));
  ok("RecordLifecycleActionHeartbeat", byId);
  EXPECT_EQ(group().lifecycleActions.at(0).heartbeatDeadline, clock_.now() + 60'000);
  ok("RecordLifecycleActionHeartbeat", {{"AutoScalingGroupName", "web"},
                                        {"LifecycleHookName", "ready"},
                                        {"LifecycleActionToken", token}});

  // Errors as AWS words them; nothing changes.
  auto [c1, m1] = error("CompleteLifecycleAction", {{"AutoScalingGroupName", "web"},
                                                    {"LifecycleHookName", "ready"},
                                                    {"InstanceId", "i-00000000000000000"},
                                                    {"LifecycleActionResult", "CONTINUE"}});
  EXPECT_EQ(c1, "ValidationError");
  EXPECT_EQ(m1, "No active Lifecycle Action found with instance ID i-00000000000000000");
  auto [c2, m2] = error("CompleteLifecycleAction",
                        {{"AutoScalingGroupName", "web"},
                         {"LifecycleHookName", "ready"},
                         {"LifecycleActionToken", "00000000-0000-0000-0000-000000000000"},
                         {"LifecycleActionResult", "CONTINUE"}});
  EXPECT_EQ(m2, "No active Lifecycle Action found with token 00000000-0000-0000-0000-000000000000");
  Json bad = byId;
  bad["LifecycleActionResult"] = "MAYBE";
  EXPECT_EQ(error("CompleteLifecycleAction", bad).first, "ValidationError");
  EXPECT_EQ(error("CompleteLifecycleAction", byId).first, "ValidationError"); // no result
  EXPECT_EQ(error("CompleteLifecycleAction", {{"AutoScalingGroupName", "web"},
                                              {"LifecycleHookName", "ready"},
                                              {"LifecycleActionResult", "CONTINUE"}})
                .first,
            "ValidationError"); // neither token nor instance
  EXPECT_FALSE(group().lifecycleActions.at(0).result.has_value());

  Json done = byId;
  done["LifecycleActionResult"] = "CONTINUE";
  ok("CompleteLifecycleAction", done);
  EXPECT_EQ(group().lifecycleActions.at(0).result, model::LifecycleActionResult::Continue);
  // Answered: no longer active.
  EXPECT_EQ(error("CompleteLifecycleAction", done).second,
            "No active Lifecycle Action found with instance ID " + id);
}

TEST_F(LifecycleHooksTest, DeletingAHookCompletesItsActions) {
  ok("PutLifecycleHook", {{"AutoScalingGroupName", "web"},
                          {"LifecycleHookName", "ready"},
                          {"LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING"}});
  ok("PutLifecycleHook", {{"AutoScalingGroupName", "web"},
                          {"LifecycleHookName", "bye"},
                          {"LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING"}});
  hold("i-00000000000000001", model::LifecycleTransition::Launching);
  hold("i-00000000000000002", model::LifecycleTransition::Terminating);
  ok("DeleteLifecycleHook", {{"AutoScalingGroupName", "web"}, {"LifecycleHookName", "ready"}});
  ok("DeleteLifecycleHook", {{"AutoScalingGroupName", "web"}, {"LifecycleHookName", "bye"}});
  auto actions = group().lifecycleActions;
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].result, model::LifecycleActionResult::Abandon);  // launching
  EXPECT_EQ(actions[1].result, model::LifecycleActionResult::Continue); // terminating
}

// The query protocol the aws CLI speaks: form parameters in, XML out (the generated wire model).
TEST_F(LifecycleHooksTest, ServedInTheQueryProtocol) {
  auto form = [&](const std::string& body) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.body = body;
    r.headers = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
    return handleApiRequest(*ctx_, r);
  };
  HttpResponse r = form("Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=q"
                        "&LaunchTemplate.LaunchTemplateName=shop&MinSize=0&MaxSize=1"
                        "&LifecycleHookSpecificationList.member.1.LifecycleHookName=ready"
                        "&LifecycleHookSpecificationList.member.1.LifecycleTransition="
                        "autoscaling%3AEC2_INSTANCE_LAUNCHING"
                        "&LifecycleHookSpecificationList.member.1.HeartbeatTimeout=45");
  ASSERT_EQ(r.status, 200) << r.body;
  r = form("Action=DescribeLifecycleHooks&Version=2011-01-01&AutoScalingGroupName=q");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("<LifecycleHookName>ready</LifecycleHookName>"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("<HeartbeatTimeout>45</HeartbeatTimeout>"), std::string::npos);
  EXPECT_NE(r.body.find("<GlobalTimeout>4500</GlobalTimeout>"), std::string::npos);
  r = form(
      "Action=CompleteLifecycleAction&Version=2011-01-01&AutoScalingGroupName=q"
      "&LifecycleHookName=ready&InstanceId=i-0123456789abcdef0&LifecycleActionResult=CONTINUE");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("<Code>ValidationError</Code><Message>No active Lifecycle Action found "
                        "with instance ID i-0123456789abcdef0</Message>"),
            std::string::npos)
      << r.body;
  r = form("Action=DescribeLifecycleHookTypes&Version=2011-01-01");
  EXPECT_NE(r.body.find("<member>autoscaling:EC2_INSTANCE_TERMINATING</member>"), std::string::npos)
      << r.body;
}

} // namespace
} // namespace tide::api
