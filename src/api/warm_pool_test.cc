// Warm pools (issue 11, item 5): PutWarmPool, DeleteWarmPool, DescribeWarmPool, their shapes,
// AWS's validation (bad input changes nothing), the group's WarmPoolConfiguration and
// WarmPoolSize, and the query protocol's nested InstanceReusePolicy.
#include "api/api_test_fixture.h"
#include "common/status_testing.h"

namespace tide::api {
namespace {

class WarmPoolApiTest : public ApiTest {
protected:
  void SetUp() override {
    ApiTest::SetUp();
    std::string image = availableImage();
    ok("CreateLaunchTemplate",
       {{"LaunchTemplateName", "shop"},
        {"LaunchTemplateData", {{"ImageId", image}, {"InstanceType", "t3.micro"}}}});
    ok("CreateAutoScalingGroup", {{"AutoScalingGroupName", "web"},
                                  {"LaunchTemplate", {{"LaunchTemplateName", "shop"}}},
                                  {"MinSize", 1},
                                  {"MaxSize", 4},
                                  {"DesiredCapacity", 1}});
  }
  Json describe() { return ok("DescribeWarmPool", {{"AutoScalingGroupName", "web"}}); }
};

TEST_F(WarmPoolApiTest, PutDescribeUpdateDelete) {
  // No pool yet: no configuration, no instances.
  Json none = describe();
  EXPECT_FALSE(none.contains("WarmPoolConfiguration"));
  EXPECT_EQ(none["Instances"], Json::array());

  ok("PutWarmPool", {{"AutoScalingGroupName", "web"},
                     {"MinSize", 1},
                     {"PoolState", "Hibernated"},
                     {"InstanceReusePolicy", {{"ReuseOnScaleIn", true}}}});
  Json c = describe()["WarmPoolConfiguration"];
  EXPECT_EQ(c["MinSize"], 1);
  EXPECT_EQ(c["MaxGroupPreparedCapacity"], -1); // the group's MaxSize
  EXPECT_EQ(c["PoolState"], "Hibernated");
  EXPECT_EQ(c["InstanceReusePolicy"]["ReuseOnScaleIn"], true);
  EXPECT_FALSE(c.contains("Status"));
  Json g = ok("DescribeAutoScalingGroups", Json::object())["AutoScalingGroups"][0];
  EXPECT_EQ(g["WarmPoolConfiguration"], c);
  EXPECT_EQ(g["WarmPoolSize"], 3); // MaxSize 4 - desired 1

  // PutWarmPool replaces the configuration: omitted members take their defaults.
  ok("PutWarmPool", {{"AutoScalingGroupName", "web"}, {"MaxGroupPreparedCapacity", 2}});
  c = describe()["WarmPoolConfiguration"];
  EXPECT_EQ(c["MaxGroupPreparedCapacity"], 2);
  EXPECT_EQ(c["MinSize"], 0);
  EXPECT_EQ(c["PoolState"], "Stopped");
  EXPECT_EQ(c["InstanceReusePolicy"]["ReuseOnScaleIn"], false);
  EXPECT_EQ(ok("DescribeAutoScalingGroups", Json::object())["AutoScalingGroups"][0]["WarmPoolSize"],
            1);

  // DeleteWarmPool: PendingDelete until the controller has emptied it; ForceDelete at once.
  ok("DeleteWarmPool", {{"AutoScalingGroupName", "web"}});
  EXPECT_EQ(describe()["WarmPoolConfiguration"]["Status"], "PendingDelete");
  auto [code, message] = error("PutWarmPool", {{"AutoScalingGroupName", "web"}});
  EXPECT_EQ(code, "ValidationError");
  EXPECT_NE(message.find("pending delete"), std::string::npos) << message;
  ok("DeleteWarmPool", {{"AutoScalingGroupName", "web"}, {"ForceDelete", true}});
  EXPECT_FALSE(describe().contains("WarmPoolConfiguration"));
  EXPECT_FALSE(ok("DescribeAutoScalingGroups", Json::object())["AutoScalingGroups"][0].contains(
      "WarmPoolConfiguration"));
  std::tie(code, message) = error("DeleteWarmPool", {{"AutoScalingGroupName", "web"}});
  EXPECT_EQ(code, "ValidationError");
  EXPECT_EQ(message, "No warm pool found for AutoScalingGroup 'web'");
}

TEST_F(WarmPoolApiTest, BadInputChangesNothing) {
  ok("PutWarmPool", {{"AutoScalingGroupName", "web"}, {"MinSize", 1}});
  Json before = describe();
  struct Case {
    Json params;
    std::string message;
  };
  std::vector<Case> cases = {
      {{{"AutoScalingGroupName", "web"}, {"MaxGroupPreparedCapacity", -2}},
       "1 validation error detected: Value '-2' at 'maxGroupPreparedCapacity' failed to satisfy "
       "constraint: Member must have value greater than or equal to -1"},
      {{{"AutoScalingGroupName", "web"}, {"MinSize", -1}},
       "1 validation error detected: Value '-1' at 'minSize' failed to satisfy constraint: Member "
       "must have value greater than or equal to 0"},
      {{{"AutoScalingGroupName", "web"}, {"PoolState", "Frozen"}},
       "1 validation error detected: Value 'Frozen' at 'poolState' failed to satisfy constraint: "
       "Member must satisfy enum value set: [Stopped, Running, Hibernated]"},
      {{{"AutoScalingGroupName", "web"}, {"MaxGroupPreparedCapacity", 1}, {"MinSize", 2}},
       "MinSize (2) must be less than or equal to MaxGroupPreparedCapacity (1)."},
      {{{"AutoScalingGroupName", "nope"}},
       "AutoScalingGroup name not found - AutoScalingGroup 'nope' not found"},
  };
  for (const Case& k : cases) {
    auto [code, message] = error("PutWarmPool", k.params);
    EXPECT_EQ(code, "ValidationError") << k.params.dump();
    EXPECT_EQ(message, k.message);
  }
  EXPECT_EQ(error("PutWarmPool", {{"MinSize", 1}}).first, "MissingParameter"); // no group name
  EXPECT_EQ(error("DescribeWarmPool", {{"AutoScalingGroupName", "nope"}}).second,
            "AutoScalingGroup name not found - AutoScalingGroup 'nope' not found");
  EXPECT_EQ(describe(), before);
}

TEST_F(WarmPoolApiTest, WarmInstancesShowOnlyInDescribeWarmPool) {
  ok("PutWarmPool", {{"AutoScalingGroupName", "web"}});
  // Two instances of the group as the controller leaves them: one in service, one warm.
  ok("SetDesiredCapacity", {{"AutoScalingGroupName", "web"}, {"DesiredCapacity", 1}});
  EXPECT_OK(store_->transact([&](store::Tx& tx) {
    for (int k = 0; k < 2; ++k) {
      model::Instance i;
      i.instanceId = "i-0000000000000000" + std::to_string(k);
      i.instanceType = "t3.micro";
      i.state = model::InstanceState::Running;
      i.autoScalingGroupName = "web";
      i.lifecycleState =
          k == 0 ? model::LifecycleState::InService : model::LifecycleState::WarmedHibernated;
      i.healthStatus = model::HealthStatus::Healthy;
      TIDE_RETURN_IF_ERROR(tx.putInstance(i));
    }
    return Status::ok();
  }));
  Json g = ok("DescribeAutoScalingGroups", Json::object())["AutoScalingGroups"][0];
  ASSERT_EQ(g["Instances"].size(), 1u);
  EXPECT_EQ(g["Instances"][0]["InstanceId"], "i-00000000000000000");
  Json w = describe()["Instances"];
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0]["InstanceId"], "i-00000000000000001");
  EXPECT_EQ(w[0]["LifecycleState"], "Warmed:Hibernated");
  EXPECT_EQ(w[0]["HealthStatus"], "Healthy");
}

TEST_F(WarmPoolApiTest, QueryProtocolCarriesTheReusePolicy) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/";
  r.headers = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
  r.body = "Action=PutWarmPool&Version=2011-01-01&AutoScalingGroupName=web&PoolState=Running"
           "&MaxGroupPreparedCapacity=3&InstanceReusePolicy.ReuseOnScaleIn=true";
  HttpResponse put = handleApiRequest(*ctx_, r);
  EXPECT_EQ(put.status, 200) << put.body;
  EXPECT_NE(put.body.find("<PutWarmPoolResult"), std::string::npos) << put.body;
  r.body = "Action=DescribeWarmPool&Version=2011-01-01&AutoScalingGroupName=web";
  HttpResponse d = handleApiRequest(*ctx_, r);
  EXPECT_EQ(d.status, 200) << d.body;
  EXPECT_NE(d.body.find("<PoolState>Running</PoolState>"), std::string::npos) << d.body;
  EXPECT_NE(d.body.find("<ReuseOnScaleIn>true</ReuseOnScaleIn>"), std::string::npos) << d.body;
  EXPECT_NE(d.body.find("<MaxGroupPreparedCapacity>3</MaxGroupPreparedCapacity>"),
            std::string::npos)
      << d.body;
}

} // namespace
} // namespace tide::api
