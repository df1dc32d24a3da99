// The stack engine through the action table: EC2 and ELBv2 resources made, updated and
// deleted in dependency order; rollback of a failing resource; idempotent updates.
#include "stacks/engine.h"

#include "stacks/stack_test_fixture.h"

#include <algorithm>

namespace tide::stacks {
namespace {

TEST_F(StackEngineTest, CreatesInDependencyOrderAndDeletesEverything) {
  ok("CreateStack", request(web()));
  Json s = settle();
  ASSERT_EQ(s["StackStatus"], "CREATE_COMPLETE") << s.dump();
  EXPECT_EQ(s["Outputs"][0]["OutputKey"], "URL");
  // !GetAtt LB.DNSName: the load balancer's name under .localhost, as DescribeLoadBalancers has it.
  Json lb = ok("DescribeLoadBalancers", Json::object())["LoadBalancers"][0];
  EXPECT_EQ(s["Outputs"][0]["OutputValue"], "http://" + lb["DNSName"].get<std::string>() + ":8081");
  EXPECT_NE(lb["DNSName"].get<std::string>().find(".us-east-1.elb.localhost"), std::string::npos);
  EXPECT_EQ(s["Outputs"][1]["OutputValue"], "1");
  Json res = ok("DescribeStackResources", {{"StackName", "shop"}})["StackResources"];
  ASSERT_EQ(res.size(), 5u);
  for (const Json& r : res) {
    EXPECT_EQ(r["ResourceStatus"], "CREATE_COMPLETE") << r.dump();
  }
  Json tg = ok("DescribeTargetGroups", Json::object())["TargetGroups"][0];
  EXPECT_EQ(tg["TargetGroupName"], "shop-Web"); // generated names
  EXPECT_EQ(tg["HealthCheckPath"], "/health");
  Json img = ok("DescribeImages", Json::object())["Images"][0];
  EXPECT_EQ(img["Name"], "shop-Image");
  Json lt = ok("DescribeLaunchTemplates", Json::object())["LaunchTemplates"][0];
  EXPECT_EQ(lt["LaunchTemplateName"], "shop-Template");
  std::string lbArn =
      ok("DescribeLoadBalancers", Json::object())["LoadBalancers"][0]["LoadBalancerArn"];
  EXPECT_EQ(ok("DescribeListeners", {{"LoadBalancerArn", lbArn}})["Listeners"][0]["Port"], 8081);

  // The same template and parameters again: nothing to do, as CloudFormation says.
  auto [status, body] = call("UpdateStack", request(web()));
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["message"], "No updates are to be performed.");

  ok("DeleteStack", {{"StackName", "shop"}});
  EXPECT_TRUE(settle().is_null());
  EXPECT_EQ(count("DescribeLoadBalancers", "LoadBalancers"), 0u);
  EXPECT_EQ(count("DescribeTargetGroups", "TargetGroups"), 0u);
  EXPECT_EQ(count("DescribeLaunchTemplates", "LaunchTemplates"), 0u);
  EXPECT_EQ(count("DescribeImages", "Images"), 0u);
  EXPECT_EQ(ok("DescribeStacks", Json::object())["Stacks"].size(), 0u);
}

TEST_F(StackEngineTest, FailingResourceRollsBackEverythingMade) {
  // A listener on a port the host does not let the balancer listen on (as a port below 1024
  // without root): the stack's load balancer gets the first address, 127.2.0.1.
  host_.refusedListens["127.2.0.1:8081"] =
      Status("InvalidConfigurationRequest", "Cannot listen on 127.2.0.1:8081: port ...");
  ok("CreateStack", request(web()));
  Json s = settle();
  ASSERT_EQ(s["StackStatus"], "ROLLBACK_COMPLETE") << s.dump();
  EXPECT_EQ(
      s["StackStatusReason"].get<std::string>().rfind(
          "Resource Listener: InvalidConfigurationRequest: Cannot listen on 127.2.0.1:8081", 0),
      0u)
      << s.dump();
  Json res = ok("DescribeStackResources", {{"StackName", "shop"}})["StackResources"];
  for (const Json& r : res) {
    EXPECT_EQ(r["ResourceStatus"], "DELETE_COMPLETE") << r.dump();
  }
  EXPECT_EQ(count("DescribeLoadBalancers", "LoadBalancers"), 0u);
  EXPECT_EQ(count("DescribeTargetGroups", "TargetGroups"), 0u);
  EXPECT_EQ(count("DescribeLaunchTemplates", "LaunchTemplates"), 0u);
  EXPECT_EQ(count("DescribeImages", "Images"), 0u);
  // A rolled-back stack cannot be updated, only deleted (as in CloudFormation).
  EXPECT_EQ(errorCode("UpdateStack", request(web())), "ValidationError");
  ok("DeleteStack", {{"StackName", "shop"}});
  EXPECT_TRUE(settle().is_null());
}

// A crash after CreateTargetGroup and before its attributes were set and the resource recorded:
// the resumed create finds the target group by its name and sets the attributes it lacks.
TEST_F(StackEngineTest, ACreateCutByACrashIsFinishedWhereItIsFound) {
  const std::string delay = "      TargetGroupAttributes:\n"
                            "        - {Key: deregistration_delay.timeout_seconds, Value: 0}\n";
  ok("CreateStack", request(web(delay)));
  ASSERT_EQ(settle()["StackStatus"], "CREATE_COMPLETE");
  std::string tg = ok("DescribeTargetGroups", Json::object())["TargetGroups"][0]["TargetGroupArn"];
  // The state such a crash leaves: the target group made with its defaults, its entry not yet
  // recorded, the stack still being created.
  ok("ModifyTargetGroupAttributes",
     {{"TargetGroupArn", tg},
      {"Attributes",
       Json::array({{{"Key", "deregistration_delay.timeout_seconds"}, {"Value", "300"}}})}});
  ASSERT_OK(store_->transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto s, tx.stack("shop"));
    s->stackStatus = "CREATE_IN_PROGRESS";
    for (model::StackResource& r : s->resources) {
      if (r.logicalResourceId == "Web") {
        r.physicalResourceId.clear();
        r.resourceStatus = "CREATE_IN_PROGRESS";
      }
    }
    return tx.putStack(*s);
  }));
  ASSERT_EQ(settle()["StackStatus"], "CREATE_COMPLETE");
  EXPECT_EQ(count("DescribeTargetGroups", "TargetGroups"), 1u); // found, not made twice
  Json attrs = ok("DescribeTargetGroupAttributes", {{"TargetGroupArn", tg}})["Attributes"];
  bool found = false;
  for (const Json& a : attrs) {
    if (a["Key"] == "deregistration_delay.timeout_seconds") {
      EXPECT_EQ(a["Value"], "0");
      found = true;
    }
  }
  EXPECT_TRUE(found) << attrs.dump();
  ok("DeleteStack", {{"StackName", "shop"}});
  EXPECT_TRUE(settle().is_null());
}

TEST_F(StackEngineTest, UpdatesInPlaceOrReplaces) {
  ok("CreateStack", request(web()));
  ASSERT_EQ(settle()["StackStatus"], "CREATE_COMPLETE");
  auto physical = [&](const std::string& id) {
    return ok("DescribeStackResources",
              {{"StackName", "shop"},
               {"LogicalResourceId", id}})["StackResources"][0]["PhysicalResourceId"]
        .get<std::string>();
  };
  std::string tgBefore = physical("Web"), listenerBefore = physical("Listener");
  // Health check interval and attributes change in place; the port parameter replaces the
  // listener.
  ok("UpdateStack",
     request(web("      HealthCheckIntervalSeconds: 10\n"
                 "      TargetGroupAttributes:\n"
                 "        - {Key: deregistration_delay.timeout_seconds, Value: 1}\n"),
             Json::array({{{"ParameterKey", "Port"}, {"ParameterValue", "8082"}}})));
  Json s = settle();
  ASSERT_EQ(s["StackStatus"], "UPDATE_COMPLETE") << s.dump();
  EXPECT_EQ(s["Outputs"][0]["OutputValue"],
            "http://" +
                ok("DescribeLoadBalancers", Json::object())["LoadBalancers"][0]["DNSName"]
                    .get<std::string>() +
                ":8082");
  EXPECT_EQ(physical("Web"), tgBefore);
  EXPECT_NE(physical("Listener"), listenerBefore);
  Json tg = ok("DescribeTargetGroups", Json::object())["TargetGroups"][0];
  EXPECT_EQ(tg["HealthCheckIntervalSeconds"], 10);
  EXPECT_EQ(
      ok("DescribeTargetGroupAttributes", {{"TargetGroupArn", tgBefore}})["Attributes"][0]["Value"],
      "1");
  std::string lbArn = physical("LB");
  Json listeners = ok("DescribeListeners", {{"LoadBalancerArn", lbArn}})["Listeners"];
  ASSERT_EQ(listeners.size(), 1u);
  EXPECT_EQ(listeners[0]["Port"], 8082);
  // Unchanged again.
  EXPECT_EQ(
      errorCode("UpdateStack",
                request(web("      HealthCheckIntervalSeconds: 10\n"
                            "      TargetGroupAttributes:\n"
                            "        - {Key: deregistration_delay.timeout_seconds, Value: "
                            "1}\n"),
                        Json::array({{{"ParameterKey", "Port"}, {"ParameterValue", "8082"}}}))),
      "ValidationError");
  ok("DeleteStack", {{"StackName", "shop"}});
  EXPECT_TRUE(settle().is_null());
}

TEST_F(StackEngineTest, GroupControlsComeFromTheTemplateAndChangeInPlace) {
  auto withGroup = [&](const std::string& extra) {
    std::string t = web();
    t.insert(t.find("Outputs:"), "  Group:\n"
                                 "    Type: AWS::AutoScaling::AutoScalingGroup\n"
                                 "    Properties:\n"
                                 "      AutoScalingGroupName: web\n"
                                 "      LaunchTemplate: {LaunchTemplateId: !Ref Template, "
                                 "Version: !GetAtt Template.LatestVersionNumber}\n"
                                 "      MinSize: 0\n"
                                 "      MaxSize: 2\n" +
                                     extra);
    return t;
  };
  ok("CreateStack", request(withGroup("      NewInstancesProtectedFromScaleIn: true\n"
                                      "      TerminationPolicies: [OldestInstance, Default]\n"
                                      "      MaxInstanceLifetime: 86400\n")));
  Json s = settle();
  ASSERT_EQ(s["StackStatus"], "CREATE_COMPLETE") << s.dump();
  auto group = [&] {
    return ok("DescribeAutoScalingGroups",
              {{"AutoScalingGroupNames", {"web"}}})["AutoScalingGroups"][0];
  };
  Json g = group();
  EXPECT_EQ(g["NewInstancesProtectedFromScaleIn"], true);
  EXPECT_EQ(g["TerminationPolicies"], Json::array({"OldestInstance", "Default"}));
  EXPECT_EQ(g["MaxInstanceLifetime"], 86400);
  std::string arn = g["AutoScalingGroupARN"];
  // Changed in place.
  ok("UpdateStack", request(withGroup("      TerminationPolicies: [NewestInstance]\n"
                                      "      MaxInstanceLifetime: 172800\n")));
  s = settle();
  ASSERT_EQ(s["StackStatus"], "UPDATE_COMPLETE") << s.dump();
  g = group();
  EXPECT_EQ(g["AutoScalingGroupARN"], arn);
  EXPECT_EQ(g["NewInstancesProtectedFromScaleIn"], false); // left out: the default
  EXPECT_EQ(g["TerminationPolicies"], Json::array({"NewestInstance"}));
  EXPECT_EQ(g["MaxInstanceLifetime"], 172800);
  // A value AWS refuses fails the update, which rolls back.
  ok("UpdateStack", request(withGroup("      MaxInstanceLifetime: 60\n")));
  s = settle();
  EXPECT_EQ(s["StackStatus"], "UPDATE_ROLLBACK_COMPLETE") << s.dump();
  EXPECT_NE(s["StackStatusReason"].get<std::string>().find("86400"), std::string::npos);
  EXPECT_EQ(group()["MaxInstanceLifetime"], 172800);
}

// `tide up -p MinSize=-3` on a running stack (issue 14): the launch template is updated, then
// the group refuses the size; the update rolls back to the last good state, every resource as
// before, as CloudFormation does.
TEST_F(StackEngineTest, AFailedUpdateRollsBackEveryResourceToTheLastGoodState) {
  std::string body = web();
  body.replace(body.find("Resources:\n"), 11,
               "  MinSize: {Type: Number, Default: 1}\n"
               "  InstanceType: {Type: String, Default: t3.micro}\n"
               "Resources:\n");
  body.replace(body.find("InstanceType: t3.micro}"), 23, "InstanceType: !Ref InstanceType}");
  body.insert(body.find("Outputs:"), "  Group:\n"
                                     "    Type: AWS::AutoScaling::AutoScalingGroup\n"
                                     "    Properties:\n"
                                     "      LaunchTemplate: {LaunchTemplateId: !Ref Template, "
                                     "Version: !GetAtt Template.LatestVersionNumber}\n"
                                     "      MinSize: !Ref MinSize\n"
                                     "      MaxSize: 4\n"
                                     "      DesiredCapacity: !Ref MinSize\n"
                                     "      TargetGroupARNs: [!Ref Web]\n");
  auto params = [](const std::string& minSize, const std::string& type) {
    return Json::array({{{"ParameterKey", "MinSize"}, {"ParameterValue", minSize}},
                        {{"ParameterKey", "InstanceType"}, {"ParameterValue", type}}});
  };
  ok("CreateStack", request(body, params("1", "t3.micro")));
  Json created = settle();
  ASSERT_EQ(created["StackStatus"], "CREATE_COMPLETE") << created.dump();
  // What a user sees of each resource, and the launch template's data as launches use it.
  auto resources = [&] {
    return ok("DescribeStackResources", {{"StackName", "shop"}})["StackResources"];
  };
  auto groupView = [&] {
    Json g = ok("DescribeAutoScalingGroups", Json::object())["AutoScalingGroups"][0];
    return Json{{"MinSize", g["MinSize"]},
                {"MaxSize", g["MaxSize"]},
                {"DesiredCapacity", g["DesiredCapacity"]},
                {"TargetGroupARNs", g["TargetGroupARNs"]},
                {"AutoScalingGroupARN", g["AutoScalingGroupARN"]}};
  };
  auto templateData = [&] {
    Json v = ok("DescribeLaunchTemplateVersions",
                {{"LaunchTemplateName", "shop-Template"},
                 {"Versions", {"$Default"}}})["LaunchTemplateVersions"][0];
    return v["LaunchTemplateData"];
  };
  Json resourcesBefore = resources(), groupBefore = groupView(), dataBefore = templateData();
  ASSERT_EQ(dataBefore["InstanceType"], "t3.micro");

  ok("UpdateStack", request(body, params("-3", "t3.small")));
  Json s = settle();
  EXPECT_EQ(s["StackStatus"], "UPDATE_ROLLBACK_COMPLETE") << s.dump();
  EXPECT_EQ(s["StackStatusReason"], "Resource Group: ValidationError: MinSize must be between 0 "
                                    "and 10000, not -3")
      << s.dump();
  EXPECT_EQ(s["Parameters"], created["Parameters"]);
  EXPECT_EQ(s["Outputs"][0], created["Outputs"][0]); // the URL
  // The launch template's way back is a new version with the old data: versions are immutable.
  EXPECT_EQ(s["Outputs"][1]["OutputValue"], "3");
  // Every resource as before: the same physical resources, complete, with the same settings.
  Json after = resources();
  ASSERT_EQ(after.size(), resourcesBefore.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i]["LogicalResourceId"], resourcesBefore[i]["LogicalResourceId"]);
    EXPECT_EQ(after[i]["PhysicalResourceId"], resourcesBefore[i]["PhysicalResourceId"]);
    EXPECT_TRUE(after[i]["ResourceStatus"].get<std::string>().ends_with("_COMPLETE"))
        << after[i].dump();
  }
  EXPECT_EQ(groupView(), groupBefore);
  EXPECT_EQ(templateData(), dataBefore);
  // The events tell the story, newest first: the failure, the way back, the end.
  Json events = ok("DescribeStackEvents", {{"StackName", "shop"}})["StackEvents"];
  std::vector<std::string> story;
  for (const Json& e : events) {
    std::string what =
        e["LogicalResourceId"].get<std::string>() + " " + e["ResourceStatus"].get<std::string>();
    story.insert(story.begin(), what);
    if (what == "shop UPDATE_IN_PROGRESS") {
      break;
    }
  }
  auto at = [&](const std::string& what) {
    return std::find(story.begin(), story.end(), what) - story.begin();
  };
  ASSERT_LT(size_t(at("Group UPDATE_FAILED")), story.size()) << Json(story).dump();
  EXPECT_LT(at("Template UPDATE_COMPLETE"), at("Group UPDATE_FAILED"));
  EXPECT_LT(at("Group UPDATE_FAILED"), at("shop UPDATE_ROLLBACK_IN_PROGRESS"));
  EXPECT_LT(at("shop UPDATE_ROLLBACK_IN_PROGRESS"), at("shop UPDATE_ROLLBACK_COMPLETE"));
  EXPECT_EQ(story.back(), "shop UPDATE_ROLLBACK_COMPLETE");

  // The last good state is good to update from again.
  ok("UpdateStack", request(body, params("2", "t3.micro")));
  s = settle();
  EXPECT_EQ(s["StackStatus"], "UPDATE_COMPLETE") << s.dump();
  EXPECT_EQ(groupView()["MinSize"], 2);
  ok("DeleteStack", {{"StackName", "shop"}});
  EXPECT_TRUE(settle().is_null());
}

TEST_F(StackEngineTest, RestartBetweenActionAndRecordDoesNotMakeTwice) {
  ok("CreateStack", request(web()));
  ASSERT_EQ(settle()["StackStatus"], "CREATE_COMPLETE");
  // As if the server had died after CreateTargetGroup but before recording its ARN.
  EXPECT_OK(store_->transact([&](store::Tx& tx) {
    model::Stack s = **tx.stack("shop");
    for (auto& r : s.resources) {
      if (r.logicalResourceId == "Listener") {
        r.resourceStatus = "CREATE_IN_PROGRESS";
        r.physicalResourceId = "";
      }
    }
    s.stackStatus = "CREATE_IN_PROGRESS";
    return tx.putStack(s);
  }));
  ASSERT_EQ(settle()["StackStatus"], "CREATE_COMPLETE");
  std::string lbArn =
      ok("DescribeLoadBalancers", Json::object())["LoadBalancers"][0]["LoadBalancerArn"];
  EXPECT_EQ(ok("DescribeListeners", {{"LoadBalancerArn", lbArn}})["Listeners"].size(), 1u);
}

TEST_F(StackEngineTest, ListenerRulesAndExtendedDefaultActions) {
  auto withRules = [&](const std::string& priority) {
    std::string body = web();
    std::string rules =
        "  Api:\n"
        "    Type: AWS::ElasticLoadBalancingV2::TargetGroup\n"
        "    Properties: {Port: 9000}\n"
        "  ApiRule:\n"
        "    Type: AWS::ElasticLoadBalancingV2::ListenerRule\n"
        "    Properties:\n"
        "      ListenerArn: !Ref Listener\n"
        "      Priority: " +
        priority +
        "\n"
        "      Conditions: [{Field: path-pattern, PathPatternConfig: {Values: ['/api/*']}}]\n"
        "      Actions:\n"
        "        - Type: forward\n"
        "          ForwardConfig:\n"
        "            TargetGroups:\n"
        "              - {TargetGroupArn: !Ref Api, Weight: 3}\n"
        "              - {TargetGroupArn: !Ref Web, Weight: 1}\n"
        "  OldRule:\n"
        "    Type: AWS::ElasticLoadBalancingV2::ListenerRule\n"
        "    Properties:\n"
        "      ListenerArn: !Ref Listener\n"
        "      Priority: 20\n"
        "      Conditions: [{Field: host-header, Values: [old.example.com]}]\n"
        "      Actions: [{Type: redirect, RedirectConfig: {Host: new.example.com, Port: '443', "
        "Protocol: HTTPS, StatusCode: HTTP_301}}]\n"
        "Outputs:\n"
        "  Rule: {Value: !Ref ApiRule}\n";
    body.replace(body.find("Outputs:\n"), 9, rules);
    return body;
  };
  ok("CreateStack", request(withRules("10")));
  Json s = settle();
  ASSERT_EQ(s["StackStatus"], "CREATE_COMPLETE") << s.dump();
  std::string listener =
      ok("DescribeStackResources",
         {{"StackName", "shop"},
          {"LogicalResourceId", "Listener"}})["StackResources"][0]["PhysicalResourceId"];
  Json rules = ok("DescribeRules", {{"ListenerArn", listener}})["Rules"];
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0]["Priority"], "10");
  EXPECT_EQ(rules[0]["Actions"][0]["ForwardConfig"]["TargetGroups"][0]["Weight"], 3);
  EXPECT_EQ(rules[1]["Actions"][0]["RedirectConfig"]["Port"], "443");
  EXPECT_EQ(rules[2]["IsDefault"], true);
  std::string ruleArn = rules[0]["RuleArn"];
  for (const Json& o : s["Outputs"]) {
    if (o["OutputKey"] == "Rule") {
      EXPECT_EQ(o["OutputValue"], ruleArn); // Ref gives the RuleArn
    }
  }
  // A new priority changes the rule in place.
  ok("UpdateStack", request(withRules("15")));
  ASSERT_EQ(settle()["StackStatus"], "UPDATE_COMPLETE");
  rules = ok("DescribeRules", {{"ListenerArn", listener}})["Rules"];
  EXPECT_EQ(rules[0]["Priority"], "15");
  EXPECT_EQ(rules[0]["RuleArn"], ruleArn);
  // A bad priority fails the update, naming the resource, and rolls it back.
  ok("UpdateStack", request(withRules("0")));
  s = settle();
  EXPECT_EQ(s["StackStatus"], "UPDATE_ROLLBACK_COMPLETE") << s.dump();
  EXPECT_NE(s["StackStatusReason"].get<std::string>().find("ApiRule"), std::string::npos)
      << s.dump();
  EXPECT_EQ(ok("DescribeRules", {{"ListenerArn", listener}})["Rules"][0]["Priority"], "15");
  ok("DeleteStack", {{"StackName", "shop"}});
  EXPECT_TRUE(settle().is_null());
  EXPECT_EQ(count("DescribeTargetGroups", "TargetGroups"), 0u);
}

TEST_F(StackEngineTest, ValidatesBeforeRecordingAnything) {
  std::string bad = web("      Port: nine\n");
  EXPECT_EQ(errorCode("CreateStack", request(bad)), "ValidationError");
  auto [status, body] =
      call("CreateStack",
           request("Resources:\n  L:\n    Type: AWS::ElasticLoadBalancingV2::Listener\n"
                   "    Properties: {LoadBalancerArn: !Ref Nope, Port: 80, DefaultActions: []}\n"));
  EXPECT_EQ(status, 400);
  EXPECT_NE(body["message"].get<std::string>().find("Resources.L.Properties.LoadBalancerArn"),
            std::string::npos);
  EXPECT_EQ(ok("DescribeStacks", Json::object())["Stacks"].size(), 0u);
  EXPECT_EQ(errorCode("DescribeStacks", {{"StackName", "shop"}}), "ValidationError");
  Json v = ok("ValidateTemplate", {{"TemplateBody", web()}});
  EXPECT_EQ(v["Parameters"][0]["ParameterKey"], "Port");
  EXPECT_EQ(v["Parameters"][0]["DefaultValue"], "8081");
}

TEST_F(StackEngineTest, FailedImageFailsTheStack) {
  ok("CreateStack", request(web()));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(engine_.step(*ctx_));
  }
  EXPECT_OK(store_->transact([&](store::Tx& tx) -> Status {
    auto images = tx.images();
    for (model::Image img : *images) {
      img.state = model::ImageState::Failed;
      img.stateReason = "disk full";
      TIDE_RETURN_IF_ERROR(tx.putImage(img));
    }
    return Status::ok();
  }));
  Json s = settle();
  ASSERT_EQ(s["StackStatus"], "ROLLBACK_COMPLETE");
  EXPECT_NE(s["StackStatusReason"].get<std::string>().find("Resource Image: ImageFailed"),
            std::string::npos);
  EXPECT_EQ(count("DescribeImages", "Images"), 0u);
}

} // namespace
} // namespace tide::stacks

namespace tide::stacks {
namespace {

// A target tracking policy as CloudFormation writes it, and a group's DefaultInstanceWarmup.
TEST_F(StackEngineTest, TargetTrackingPolicyAndWarmupFromATemplate) {
  // Resources must sit under Resources: put them before Outputs.
  std::string resources = "  Group:\n"
                          "    Type: AWS::AutoScaling::AutoScalingGroup\n"
                          "    Properties:\n"
                          "      MinSize: '1'\n"
                          "      MaxSize: '4'\n"
                          "      DesiredCapacity: '1'\n"
                          "      DefaultInstanceWarmup: 30\n"
                          "      TargetGroupARNs: [!Ref Web]\n"
                          "      LaunchTemplate:\n"
                          "        LaunchTemplateId: !Ref Template\n"
                          "        Version: !GetAtt Template.LatestVersionNumber\n"
                          "  Cpu:\n"
                          "    Type: AWS::AutoScaling::ScalingPolicy\n"
                          "    Properties:\n"
                          "      AutoScalingGroupName: !Ref Group\n"
                          "      PolicyType: TargetTrackingScaling\n"
                          "      EstimatedInstanceWarmup: 60\n"
                          "      TargetTrackingConfiguration:\n"
                          "        PredefinedMetricSpecification:\n"
                          "          PredefinedMetricType: ASGAverageCPUUtilization\n"
                          "        TargetValue: '50'\n"
                          "  Load:\n"
                          "    Type: AWS::AutoScaling::ScalingPolicy\n"
                          "    Properties:\n"
                          "      AutoScalingGroupName: !Ref Group\n"
                          "      PolicyType: TargetTrackingScaling\n"
                          "      TargetTrackingConfiguration:\n"
                          "        DisableScaleIn: 'true'\n"
                          "        TargetValue: 10\n"
                          "        CustomizedMetricSpecification:\n"
                          "          Period: 10\n"
                          "          Metrics:\n"
                          "            - Id: m1\n"
                          "              ReturnData: false\n"
                          "              MetricStat:\n"
                          "                Metric: {Namespace: Shop, MetricName: Load}\n"
                          "                Stat: Sum\n"
                          "            - Id: e1\n"
                          "              Expression: m1 / 10\n";
  std::string body = web();
  body.insert(body.find("Outputs:\n"), resources);
  ok("CreateStack", request(body));
  Json s = settle();
  ASSERT_EQ(s["StackStatus"], "CREATE_COMPLETE") << s.dump();
  Json group = ok("DescribeAutoScalingGroups", Json::object())["AutoScalingGroups"][0];
  EXPECT_EQ(group["DefaultInstanceWarmup"], 30);
  Json policies = ok("DescribePolicies", Json::object())["ScalingPolicies"];
  ASSERT_EQ(policies.size(), 2u);
  for (const Json& p : policies) {
    EXPECT_EQ(p["PolicyType"], "TargetTrackingScaling");
    const Json& t = p["TargetTrackingConfiguration"];
    if (t.contains("PredefinedMetricSpecification")) {
      EXPECT_EQ(t["TargetValue"], 50.0);
      EXPECT_EQ(p["EstimatedInstanceWarmup"], 60);
      EXPECT_EQ(p["Alarms"].size(), 2u);
    } else {
      EXPECT_EQ(t["DisableScaleIn"], true);
      EXPECT_EQ(t["CustomizedMetricSpecification"]["Period"], 10);
      EXPECT_EQ(t["CustomizedMetricSpecification"]["Metrics"][1]["Expression"], "m1 / 10");
      EXPECT_EQ(p["Alarms"].size(), 1u);
    }
  }
  EXPECT_EQ(count("DescribeAlarms", "MetricAlarms"), 3u);
  ok("DeletePolicy", {{"AutoScalingGroupName", group["AutoScalingGroupName"]},
                      {"PolicyName", policies[0]["PolicyName"]}});
  EXPECT_EQ(count("DescribeAlarms", "MetricAlarms"), 3u - policies[0]["Alarms"].size());
}

} // namespace
} // namespace tide::stacks

namespace tide::stacks {
namespace {

// Scheduled actions as CloudFormation writes them: created with the stack, changed in place,
// deleted with it.
TEST_F(StackEngineTest, ScheduledActionsFromATemplate) {
  clock_.set(*parseTimestamp("2026-12-06T17:00:00Z"));
  auto withActions = [&](const std::string& desired) {
    std::string resources = "  Group:\n"
                            "    Type: AWS::AutoScaling::AutoScalingGroup\n"
                            "    Properties:\n"
                            "      MinSize: '1'\n"
                            "      MaxSize: '4'\n"
                            "      LaunchTemplate:\n"
                            "        LaunchTemplateId: !Ref Template\n"
                            "        Version: !GetAtt Template.LatestVersionNumber\n"
                            "  Mornings:\n"
                            "    Type: AWS::AutoScaling::ScheduledAction\n"
                            "    Properties:\n"
                            "      AutoScalingGroupName: !Ref Group\n"
                            "      Recurrence: 0 9 * * MON-FRI\n"
                            "      TimeZone: America/New_York\n"
                            "      MinSize: '2'\n"
                            "      DesiredCapacity: '" +
                            desired +
                            "'\n"
                            "  Once:\n"
                            "    Type: AWS::AutoScaling::ScheduledAction\n"
                            "    Properties:\n"
                            "      AutoScalingGroupName: !Ref Group\n"
                            "      StartTime: '2026-12-24T18:00:00Z'\n"
                            "      MaxSize: 2\n";
    std::string body = web();
    body.insert(body.find("Outputs:\n"), resources);
    return body;
  };
  ok("CreateStack", request(withActions("3")));
  Json s = settle();
  ASSERT_EQ(s["StackStatus"], "CREATE_COMPLETE") << s.dump();
  Json actions = ok("DescribeScheduledActions", Json::object())["ScheduledUpdateGroupActions"];
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0]["Recurrence"], "0 9 * * MON-FRI");
  EXPECT_EQ(actions[0]["TimeZone"], "America/New_York");
  EXPECT_EQ(actions[0]["MinSize"], 2);
  EXPECT_EQ(actions[0]["DesiredCapacity"], 3);
  EXPECT_EQ(actions[0]["ScheduledActionName"].get<std::string>().rfind("shop-Mornings-", 0), 0u);
  EXPECT_EQ(actions[1]["StartTime"], "2026-12-24T18:00:00.000Z");
  EXPECT_EQ(actions[1]["MaxSize"], 2);
  std::string arn = actions[0]["ScheduledActionARN"];

  ok("UpdateStack", request(withActions("4")));
  s = settle();
  ASSERT_EQ(s["StackStatus"], "UPDATE_COMPLETE") << s.dump();
  actions = ok("DescribeScheduledActions", Json::object())["ScheduledUpdateGroupActions"];
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0]["DesiredCapacity"], 4);
  EXPECT_EQ(actions[0]["ScheduledActionARN"], arn); // changed in place

  ok("DeleteStack", {{"StackName", "shop"}});
  settle();
  EXPECT_EQ(count("DescribeScheduledActions", "ScheduledUpdateGroupActions"), 0u);
}

// Lifecycle hooks as CloudFormation writes them: a group's LifecycleHookSpecificationList and
// AWS::AutoScaling::LifecycleHook resources, created with the stack, changed in place, deleted
// with it.
TEST_F(StackEngineTest, LifecycleHooksFromATemplate) {
  auto withHooks = [&](const std::string& heartbeat) {
    std::string resources = "  Group:\n"
                            "    Type: AWS::AutoScaling::AutoScalingGroup\n"
                            "    Properties:\n"
                            "      MinSize: '0'\n"
                            "      MaxSize: '4'\n"
                            "      LaunchTemplate:\n"
                            "        LaunchTemplateId: !Ref Template\n"
                            "        Version: !GetAtt Template.LatestVersionNumber\n"
                            "      LifecycleHookSpecificationList:\n"
                            "        - LifecycleHookName: ready\n"
                            "          LifecycleTransition: autoscaling:EC2_INSTANCE_LAUNCHING\n"
                            "          HeartbeatTimeout: '" +
                            heartbeat +
                            "'\n"
                            "  Drain:\n"
                            "    Type: AWS::AutoScaling::LifecycleHook\n"
                            "    Properties:\n"
                            "      AutoScalingGroupName: !Ref Group\n"
                            "      LifecycleTransition: autoscaling:EC2_INSTANCE_TERMINATING\n"
                            "      DefaultResult: CONTINUE\n"
                            "      HeartbeatTimeout: " +
                            heartbeat + "\n";
    std::string body = web();
    body.insert(body.find("Outputs:\n"), resources);
    return body;
  };
  auto hooks = [&]() {
    Json groups = ok("DescribeAutoScalingGroups", Json::object())["AutoScalingGroups"];
    if (groups.empty()) {
      return Json::array();
    }
    return ok("DescribeLifecycleHooks",
              {{"AutoScalingGroupName", groups[0]["AutoScalingGroupName"]}})["LifecycleHooks"];
  };
  ok("CreateStack", request(withHooks("60")));
  Json s = settle();
  ASSERT_EQ(s["StackStatus"], "CREATE_COMPLETE") << s.dump();
  Json all = hooks();
  ASSERT_EQ(all.size(), 2u) << all.dump();
  EXPECT_EQ(all[0]["LifecycleHookName"], "ready");
  EXPECT_EQ(all[0]["HeartbeatTimeout"], 60);
  EXPECT_EQ(all[1]["LifecycleHookName"].get<std::string>().rfind("shop-Drain-", 0), 0u);
  EXPECT_EQ(all[1]["LifecycleTransition"], "autoscaling:EC2_INSTANCE_TERMINATING");
  EXPECT_EQ(all[1]["DefaultResult"], "CONTINUE");

  ok("UpdateStack", request(withHooks("90")));
  s = settle();
  ASSERT_EQ(s["StackStatus"], "UPDATE_COMPLETE") << s.dump();
  all = hooks();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["HeartbeatTimeout"], 90);
  EXPECT_EQ(all[1]["HeartbeatTimeout"], 90);

  ok("DeleteStack", {{"StackName", "shop"}});
  settle();
  EXPECT_EQ(hooks().size(), 0u);
}

} // namespace
} // namespace tide::stacks

namespace tide::stacks {
namespace {

// A predictive scaling policy as CloudFormation writes it (strings for its numbers).
TEST_F(StackEngineTest, PredictiveScalingPolicyFromATemplate) {
  std::string resources = "  Group:\n"
                          "    Type: AWS::AutoScaling::AutoScalingGroup\n"
                          "    Properties:\n"
                          "      MinSize: '1'\n"
                          "      MaxSize: '4'\n"
                          "      LaunchTemplate:\n"
                          "        LaunchTemplateId: !Ref Template\n"
                          "        Version: !GetAtt Template.LatestVersionNumber\n"
                          "  Forecast:\n"
                          "    Type: AWS::AutoScaling::ScalingPolicy\n"
                          "    Properties:\n"
                          "      AutoScalingGroupName: !Ref Group\n"
                          "      PolicyType: PredictiveScaling\n"
                          "      PredictiveScalingConfiguration:\n"
                          "        Mode: ForecastAndScale\n"
                          "        SchedulingBufferTime: '600'\n"
                          "        MaxCapacityBreachBehavior: IncreaseMaxCapacity\n"
                          "        MaxCapacityBuffer: '10'\n"
                          "        MetricSpecifications:\n"
                          "          - TargetValue: '40'\n"
                          "            PredefinedMetricPairSpecification:\n"
                          "              PredefinedMetricType: ASGCPUUtilization\n";
  std::string body = web();
  body.insert(body.find("Outputs:\n"), resources);
  ok("CreateStack", request(body));
  Json s = settle();
  ASSERT_EQ(s["StackStatus"], "CREATE_COMPLETE") << s.dump();
  Json policies = ok("DescribePolicies", Json::object())["ScalingPolicies"];
  ASSERT_EQ(policies.size(), 1u);
  EXPECT_EQ(policies[0]["PolicyType"], "PredictiveScaling");
  const Json& c = policies[0]["PredictiveScalingConfiguration"];
  EXPECT_EQ(c["Mode"], "ForecastAndScale");
  EXPECT_EQ(c["SchedulingBufferTime"], 600);
  EXPECT_EQ(c["MaxCapacityBreachBehavior"], "IncreaseMaxCapacity");
  EXPECT_EQ(c["MaxCapacityBuffer"], 10);
  EXPECT_EQ(c["MetricSpecifications"][0]["TargetValue"], 40.0);
  EXPECT_EQ(
      c["MetricSpecifications"][0]["PredefinedMetricPairSpecification"]["PredefinedMetricType"],
      "ASGCPUUtilization");
}

} // namespace
} // namespace tide::stacks
