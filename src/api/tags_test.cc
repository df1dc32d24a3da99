// Tags outside EC2: Auto Scaling groups (CreateOrUpdateTags, DescribeTags, DeleteTags) and
// ELBv2 resources (AddTags, RemoveTags, DescribeTags), and a load balancer's SetSubnets and
// SetSecurityGroups.
#include "api/api_test_fixture.h"
#include "common/status_testing.h"

namespace tide::api {
namespace {

class TagsTest : public ApiTest {
protected:
  // Calls `service`'s action (for names services share: "autoscaling", "DescribeTags").
  std::pair<int, Json> callIn(const std::string& service, const std::string& action,
                              const Json& params) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"x-amz-target", service + "." + action}};
    r.body = params.dump();
    HttpResponse resp = handleApiRequest(*ctx_, r);
    return {resp.status, Json::parse(resp.body)};
  }
  Json okIn(const std::string& service, const std::string& action, const Json& params) {
    auto [status, body] = callIn(service, action, params);
    EXPECT_EQ(status, 200) << action << ": " << body.dump();
    return body;
  }
  std::string errorIn(const std::string& service, const std::string& action, const Json& p) {
    auto [status, body] = callIn(service, action, p);
    EXPECT_GE(status, 400) << body.dump();
    return body.value("__type", "");
  }
  void group(const std::string& name, Json tags = Json::array()) {
    if (!launchTemplate_) {
      std::string image = availableImage();
      ok("CreateLaunchTemplate",
         {{"LaunchTemplateName", "shop"},
          {"LaunchTemplateData", {{"ImageId", image}, {"InstanceType", "t3.micro"}}}});
      launchTemplate_ = true;
    }
    ok("CreateAutoScalingGroup", {{"AutoScalingGroupName", name},
                                  {"LaunchTemplate", {{"LaunchTemplateName", "shop"}}},
                                  {"MinSize", 0},
                                  {"MaxSize", 2},
                                  {"Tags", tags}});
  }
  static Json tag(const std::string& group, const std::string& key, const std::string& value,
                  bool propagate) {
    return {{"ResourceId", group},
            {"ResourceType", "auto-scaling-group"},
            {"Key", key},
            {"Value", value},
            {"PropagateAtLaunch", propagate}};
  }
  Json asgTags(Json filters = Json::array()) {
    return okIn("autoscaling", "DescribeTags", {{"Filters", filters}})["Tags"];
  }
  bool launchTemplate_ = false;
};

TEST_F(TagsTest, AutoScalingTagsAreCreatedUpdatedDescribedAndDeleted) {
  group("web", {{{"Key", "team"}, {"Value", "shop"}}}); // CreateAutoScalingGroup: propagated
  group("api");
  ok("CreateOrUpdateTags",
     {{"Tags",
       {tag("web", "env", "prod", true), tag("web", "team", "checkout", false),
        tag("api", "env", "dev", false)}}});
  Json all = asgTags();
  ASSERT_EQ(all.size(), 3u); // by group name, then key
  EXPECT_EQ(all[0], tag("api", "env", "dev", false));
  EXPECT_EQ(all[1], tag("web", "env", "prod", true));
  EXPECT_EQ(all[2], tag("web", "team", "checkout", false)); // updated: value and flag
  // Filters: AND across filters, OR within one's values.
  EXPECT_EQ(asgTags({{{"Name", "auto-scaling-group"}, {"Values", {"web"}}}}).size(), 2u);
  EXPECT_EQ(asgTags({{{"Name", "key"}, {"Values", {"env"}}},
                     {{"Name", "value"}, {"Values", {"dev", "prod"}}}})
                .size(),
            2u);
  Json propagated = asgTags({{{"Name", "propagate-at-launch"}, {"Values", {"true"}}}});
  ASSERT_EQ(propagated.size(), 1u);
  EXPECT_EQ(propagated[0]["ResourceId"], "web");
  // DescribeAutoScalingGroups shows the same tags.
  Json g =
      ok("DescribeAutoScalingGroups", {{"AutoScalingGroupNames", {"web"}}})["AutoScalingGroups"][0];
  EXPECT_EQ(g["Tags"].size(), 2u);
  EXPECT_EQ(g["Tags"][0]["Key"], "team");
  EXPECT_EQ(g["Tags"][0]["PropagateAtLaunch"], false);

  okIn("autoscaling", "DeleteTags",
       {{"Tags",
         {{{"ResourceId", "web"}, {"ResourceType", "auto-scaling-group"}, {"Key", "env"}}}}});
  EXPECT_EQ(asgTags({{{"Name", "auto-scaling-group"}, {"Values", {"web"}}}}).size(), 1u);
  // Deleting the group deletes its tags.
  ok("DeleteAutoScalingGroup", {{"AutoScalingGroupName", "api"}});
  EXPECT_EQ(asgTags({{{"Name", "auto-scaling-group"}, {"Values", {"api"}}}}).size(), 0u);
}

TEST_F(TagsTest, AutoScalingTagErrorsChangeNothing) {
  group("web");
  // One group missing: nothing is tagged.
  EXPECT_EQ(errorCode("CreateOrUpdateTags",
                      {{"Tags", {tag("web", "a", "1", true), tag("nope", "a", "1", true)}}}),
            "ValidationError");
  EXPECT_EQ(asgTags().size(), 0u);
  Json noType = tag("web", "a", "1", true);
  noType.erase("ResourceType");
  EXPECT_EQ(errorCode("CreateOrUpdateTags", {{"Tags", {noType}}}), "ValidationError");
  Json badType = tag("web", "a", "1", true);
  badType["ResourceType"] = "instance";
  EXPECT_EQ(errorCode("CreateOrUpdateTags", {{"Tags", {badType}}}), "ValidationError");
  EXPECT_EQ(errorCode("CreateOrUpdateTags", {{"Tags", {tag("web", "aws:x", "1", true)}}}),
            "ValidationError");
  EXPECT_EQ(errorCode("CreateOrUpdateTags", {{"Tags", Json::array()}}), "ValidationError");
  Json many = Json::array();
  for (int i = 0; i < 51; ++i) {
    many.push_back(tag("web", "k" + std::to_string(i), "v", false));
  }
  EXPECT_EQ(errorCode("CreateOrUpdateTags", {{"Tags", many}}), "LimitExceeded");
  EXPECT_EQ(errorIn("autoscaling", "DescribeTags",
                    {{"Filters", {{{"Name", "resource-id"}, {"Values", {"web"}}}}}}),
            "ValidationError");
  EXPECT_EQ(asgTags().size(), 0u);
}

TEST_F(TagsTest, ElbTagsOnLoadBalancersTargetGroupsListenersAndRules) {
  std::string lb =
      ok("CreateLoadBalancer",
         {{"Name", "web"},
          {"Tags", {{{"Key", "a"}, {"Value", "1"}}}}})["LoadBalancers"][0]["LoadBalancerArn"];
  std::string tg =
      ok("CreateTargetGroup",
         {{"Name", "web"},
          {"Port", 8080},
          {"Tags", {{{"Key", "b"}, {"Value", "2"}}}}})["TargetGroups"][0]["TargetGroupArn"];
  Json forward = Json::array({{{"Type", "forward"}, {"TargetGroupArn", tg}}});
  std::string listener =
      ok("CreateListener",
         {{"LoadBalancerArn", lb},
          {"Port", 18080},
          {"DefaultActions", forward},
          {"Tags", {{{"Key", "c"}, {"Value", "3"}}}}})["Listeners"][0]["ListenerArn"];
  std::string rule =
      ok("CreateRule", {{"ListenerArn", listener},
                        {"Priority", 1},
                        {"Conditions", {{{"Field", "path-pattern"}, {"Values", {"/x"}}}}},
                        {"Actions", forward},
                        {"Tags", {{{"Key", "d"}, {"Value", "4"}}}}})["Rules"][0]["RuleArn"];
  Json d = okIn("elbv2", "DescribeTags", {{"ResourceArns", {lb, tg, listener, rule}}});
  ASSERT_EQ(d["TagDescriptions"].size(), 4u);
  EXPECT_EQ(d["TagDescriptions"][0],
            (Json{{"ResourceArn", lb}, {"Tags", {{{"Key", "a"}, {"Value", "1"}}}}}));
  EXPECT_EQ(d["TagDescriptions"][1]["Tags"][0]["Key"], "b");
  EXPECT_EQ(d["TagDescriptions"][2]["Tags"][0]["Key"], "c");
  EXPECT_EQ(d["TagDescriptions"][3]["Tags"][0]["Key"], "d");

  ok("AddTags",
     {{"ResourceArns", {lb, rule}}, {"Tags", {{{"Key", "a"}, {"Value", "9"}}, {{"Key", "e"}}}}});
  d = okIn("elbv2", "DescribeTags", {{"ResourceArns", {lb, rule}}});
  EXPECT_EQ(d["TagDescriptions"][0]["Tags"],
            (Json{{{"Key", "a"}, {"Value", "9"}}, {{"Key", "e"}, {"Value", ""}}}));
  EXPECT_EQ(d["TagDescriptions"][1]["Tags"].size(), 3u);
  ok("RemoveTags", {{"ResourceArns", {lb}}, {"TagKeys", {"a", "missing"}}});
  d = okIn("elbv2", "DescribeTags", {{"ResourceArns", {lb}}});
  EXPECT_EQ(d["TagDescriptions"][0]["Tags"], (Json{{{"Key", "e"}, {"Value", ""}}}));

  // Errors change nothing.
  EXPECT_EQ(errorCode("AddTags", {{"ResourceArns", {lb, tg + "0"}}, {"Tags", {{{"Key", "z"}}}}}),
            "TargetGroupNotFound");
  EXPECT_EQ(
      errorCode("AddTags", {{"ResourceArns", {lb}}, {"Tags", {{{"Key", "z"}}, {{"Key", "z"}}}}}),
      "DuplicateTagKeys");
  Json many = Json::array();
  for (int i = 0; i < 50; ++i) {
    many.push_back({{"Key", "k" + std::to_string(i)}});
  }
  EXPECT_EQ(errorCode("AddTags", {{"ResourceArns", {lb}}, {"Tags", many}}), "TooManyTags");
  EXPECT_EQ(errorIn("elbv2", "DescribeTags", {{"ResourceArns", {listener + "0"}}}),
            "ListenerNotFound");
  EXPECT_EQ(errorIn("elbv2", "DescribeTags", {{"ResourceArns", {rule + "0"}}}), "RuleNotFound");
  EXPECT_EQ(errorIn("elbv2", "DescribeTags", {{"ResourceArns", {"arn:aws:s3:::bucket"}}}),
            "ValidationError");
  d = okIn("elbv2", "DescribeTags", {{"ResourceArns", {lb}}});
  EXPECT_EQ(d["TagDescriptions"][0]["Tags"].size(), 1u);
  // Deleting the resource deletes its tags: a new one of the same name starts without.
  ok("DeleteLoadBalancer", {{"LoadBalancerArn", lb}});
  EXPECT_EQ(errorIn("elbv2", "DescribeTags", {{"ResourceArns", {lb}}}), "LoadBalancerNotFound");
}

TEST_F(TagsTest, SetSubnetsAndSecurityGroupsAreCheckedKeptAndShown) {
  std::string lb =
      ok("CreateLoadBalancer", {{"Name", "web"}})["LoadBalancers"][0]["LoadBalancerArn"];
  Json subnets = ok("DescribeSubnets", Json::object())["Subnets"];
  ASSERT_GE(subnets.size(), 3u);
  std::string vpc = subnets[0]["VpcId"];
  // Without subnets: the default VPC's default subnets and its default security group.
  Json shown = ok("DescribeLoadBalancers", {{"LoadBalancerArns", {lb}}})["LoadBalancers"][0];
  EXPECT_EQ(shown["VpcId"], vpc);
  EXPECT_EQ(shown["AvailabilityZones"].size(), 3u);
  ASSERT_EQ(shown["SecurityGroups"].size(), 1u);

  std::string a = subnets[0]["SubnetId"], b = subnets[1]["SubnetId"];
  Json r = ok("SetSubnets", {{"LoadBalancerArn", lb}, {"Subnets", {a, b}}});
  ASSERT_EQ(r["AvailabilityZones"].size(), 2u);
  EXPECT_EQ(r["AvailabilityZones"][0]["SubnetId"], a);
  EXPECT_EQ(r["AvailabilityZones"][0]["ZoneName"], subnets[0]["AvailabilityZone"]);
  EXPECT_EQ(r["IpAddressType"], "ipv4");
  shown = ok("DescribeLoadBalancers", {{"LoadBalancerArns", {lb}}})["LoadBalancers"][0];
  EXPECT_EQ(shown["AvailabilityZones"], r["AvailabilityZones"]);

  std::string sg =
      ok("CreateSecurityGroup", {{"GroupName", "lb"}, {"Description", "lb"}})["GroupId"];
  r = ok("SetSecurityGroups", {{"LoadBalancerArn", lb}, {"SecurityGroups", {sg}}});
  EXPECT_EQ(r["SecurityGroupIds"], Json::array({sg}));
  shown = ok("DescribeLoadBalancers", {{"LoadBalancerArns", {lb}}})["LoadBalancers"][0];
  EXPECT_EQ(shown["SecurityGroups"], Json::array({sg}));

  // Errors change nothing.
  EXPECT_EQ(errorCode("SetSubnets", {{"LoadBalancerArn", lb}, {"Subnets", {a, "subnet-0000"}}}),
            "SubnetNotFound");
  EXPECT_EQ(errorCode("SetSubnets", {{"LoadBalancerArn", lb}, {"Subnets", {a}}}),
            "InvalidConfigurationRequest");
  EXPECT_EQ(errorCode("SetSubnets", {{"LoadBalancerArn", lb + "0"}, {"Subnets", {a, b}}}),
            "LoadBalancerNotFound");
  EXPECT_EQ(errorCode("SetSecurityGroups", {{"LoadBalancerArn", lb}, {"SecurityGroups", {"sg-0"}}}),
            "InvalidSecurityGroup");
  shown = ok("DescribeLoadBalancers", {{"LoadBalancerArns", {lb}}})["LoadBalancers"][0];
  EXPECT_EQ(shown["AvailabilityZones"].size(), 2u);
  EXPECT_EQ(shown["SecurityGroups"], Json::array({sg}));
  // CreateLoadBalancer checks them the same way.
  EXPECT_EQ(errorCode("CreateLoadBalancer", {{"Name", "two"}, {"Subnets", {"subnet-0000", b}}}),
            "SubnetNotFound");
  Json two =
      ok("CreateLoadBalancer",
         {{"Name", "two"}, {"Subnets", {a, b}}, {"SecurityGroups", {sg}}})["LoadBalancers"][0];
  EXPECT_EQ(two["AvailabilityZones"].size(), 2u);
  EXPECT_EQ(two["SecurityGroups"], Json::array({sg}));
}

} // namespace
} // namespace tide::api
