// The stack actions beyond create and describe, through the action table: the status
// sequences the waiters read (create, update and its cleanup, update rollback, delete),
// DescribeStackEvents in order and paged, DescribeStackResource, ListStackResources,
// ListStacks with deleted stacks, GetTemplate and GetTemplateSummary, and their errors.
#include "model/public_parameters.h"
#include "stacks/events.h"
#include "stacks/stack_test_fixture.h"

#include <algorithm>

namespace tide::stacks {
namespace {

class StackActionsTest : public StackEngineTest {
protected:
  // Every event of a stack, oldest first (all pages).
  std::vector<Json> eventList(const std::string& name) {
    std::vector<Json> out;
    Json p = {{"StackName", name}};
    for (;;) {
      Json page = ok("DescribeStackEvents", p);
      for (const Json& e : page["StackEvents"]) {
        out.push_back(e);
      }
      if (!page.contains("NextToken")) {
        break;
      }
      p["NextToken"] = page["NextToken"];
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

  // Every event of a stack, oldest first, as "LogicalId STATUS".
  std::vector<std::string> events(const std::string& name = "shop") {
    std::vector<std::string> out;
    for (const Json& e : eventList(name)) {
      out.push_back(e["LogicalResourceId"].get<std::string>() + " " +
                    e["ResourceStatus"].get<std::string>());
    }
    return out;
  }

  // The stack's own events, oldest first.
  std::vector<std::string> stackStatuses(const std::string& name = "shop") {
    std::vector<std::string> out;
    for (const Json& e : eventList(name)) {
      if (e["ResourceType"] == "AWS::CloudFormation::Stack") {
        out.push_back(e["ResourceStatus"]);
      }
    }
    return out;
  }

  static size_t indexOf(const std::vector<std::string>& v, const std::string& s) {
    return static_cast<size_t>(std::find(v.begin(), v.end(), s) - v.begin());
  }
};

TEST_F(StackActionsTest, CreateUpdateDeleteStatusesAndEvents) {
  std::string id = ok("CreateStack", request(web()))["StackId"];
  EXPECT_EQ(stackStatuses(), (std::vector<std::string>{"CREATE_IN_PROGRESS"}));
  ASSERT_EQ(settle()["StackStatus"], "CREATE_COMPLETE");
  std::vector<std::string> ev = events();
  EXPECT_EQ(ev.front(), "shop CREATE_IN_PROGRESS");
  EXPECT_EQ(ev.back(), "shop CREATE_COMPLETE");
  // Each resource starts before it completes, and after what it depends on completed.
  for (std::string logical : {"Image", "Template", "Web", "LB", "Listener"}) {
    EXPECT_LT(indexOf(ev, logical + " CREATE_IN_PROGRESS"),
              indexOf(ev, logical + " CREATE_COMPLETE"))
        << logical;
    EXPECT_LT(indexOf(ev, logical + " CREATE_COMPLETE"), ev.size()) << logical;
  }
  EXPECT_LT(indexOf(ev, "LB CREATE_COMPLETE"), indexOf(ev, "Listener CREATE_IN_PROGRESS"));
  EXPECT_LT(indexOf(ev, "Image CREATE_COMPLETE"), indexOf(ev, "Template CREATE_IN_PROGRESS"));
  EXPECT_EQ(ev.size(), 12u); // the stack's two and two per resource

  // The shape of one event.
  Json newest = ok("DescribeStackEvents", {{"StackName", id}})["StackEvents"][0];
  EXPECT_EQ(newest["StackId"], id);
  EXPECT_EQ(newest["StackName"], "shop");
  EXPECT_EQ(newest["LogicalResourceId"], "shop");
  EXPECT_EQ(newest["PhysicalResourceId"], id);
  EXPECT_EQ(newest["ResourceType"], "AWS::CloudFormation::Stack");
  EXPECT_EQ(newest["ResourceStatus"], "CREATE_COMPLETE");
  EXPECT_TRUE(newest["EventId"].is_string());
  EXPECT_TRUE(newest["Timestamp"].get<std::string>().ends_with("Z"));

  // An update passes through the cleanup phase.
  ok("UpdateStack", request(web("      HealthCheckIntervalSeconds: 10\n")));
  EXPECT_EQ(ok("DescribeStacks", {{"StackName", "shop"}})["Stacks"][0]["StackStatus"],
            "UPDATE_IN_PROGRESS");
  ASSERT_EQ(settle()["StackStatus"], "UPDATE_COMPLETE");
  EXPECT_EQ(stackStatuses(),
            (std::vector<std::string>{"CREATE_IN_PROGRESS", "CREATE_COMPLETE", "UPDATE_IN_PROGRESS",
                                      "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"}));
  ev = events();
  EXPECT_LT(indexOf(ev, "Web UPDATE_IN_PROGRESS"), indexOf(ev, "Web UPDATE_COMPLETE"));
  EXPECT_LT(indexOf(ev, "Web UPDATE_COMPLETE"), ev.size());

  // Deleted: by name it no longer exists (what the stack-delete-complete waiter reads as
  // success); by stack id it is described as DELETE_COMPLETE, with its events.
  ok("DeleteStack", {{"StackName", "shop"}});
  EXPECT_TRUE(settle().is_null());
  auto [status, body] = call("DescribeStacks", {{"StackName", "shop"}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["__type"], "ValidationError");
  EXPECT_EQ(body["message"], "Stack with id shop does not exist");
  Json gone = ok("DescribeStacks", {{"StackName", id}})["Stacks"][0];
  EXPECT_EQ(gone["StackStatus"], "DELETE_COMPLETE");
  EXPECT_TRUE(gone.contains("DeletionTime"));
  std::vector<std::string> statuses = stackStatuses(id);
  ASSERT_GE(statuses.size(), 2u);
  EXPECT_EQ(statuses[statuses.size() - 2], "DELETE_IN_PROGRESS");
  EXPECT_EQ(statuses.back(), "DELETE_COMPLETE");
  EXPECT_EQ(errorCode("DescribeStackEvents", {{"StackName", "shop"}}), "ValidationError");
  for (const Json& r : ok("ListStackResources", {{"StackName", id}})["StackResourceSummaries"]) {
    EXPECT_EQ(r["ResourceStatus"], "DELETE_COMPLETE") << r.dump();
  }
  // Deleting it again is no error and changes nothing.
  ok("DeleteStack", {{"StackName", id}});
  ok("DeleteStack", {{"StackName", "shop"}});
  EXPECT_EQ(stackStatuses(id).back(), "DELETE_COMPLETE");

  // The name is free again; ListStacks shows both, newest first, and filters by status.
  std::string id2 = ok("CreateStack", request(web()))["StackId"];
  EXPECT_NE(id2, id);
  ASSERT_EQ(settle()["StackStatus"], "CREATE_COMPLETE");
  EXPECT_EQ(ok("DescribeStacks", {{"StackName", id}})["Stacks"][0]["StackStatus"],
            "DELETE_COMPLETE");
  Json all = ok("ListStacks", Json::object())["StackSummaries"];
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["StackId"], id2);
  EXPECT_EQ(all[0]["StackStatus"], "CREATE_COMPLETE");
  EXPECT_EQ(all[1]["StackId"], id);
  EXPECT_EQ(all[1]["StackStatus"], "DELETE_COMPLETE");
  EXPECT_TRUE(all[1].contains("DeletionTime"));
  Json live = ok("ListStacks",
                 {{"StackStatusFilter", Json::array({"CREATE_COMPLETE", "UPDATE_COMPLETE"})}});
  ASSERT_EQ(live["StackSummaries"].size(), 1u);
  EXPECT_EQ(live["StackSummaries"][0]["StackId"], id2);
  // DescribeStacks without a name lists live stacks only.
  EXPECT_EQ(ok("DescribeStacks", Json::object())["Stacks"].size(), 1u);
}

TEST_F(StackActionsTest, FailedCreateRollsBackWithEvents) {
  // The host refuses the listener's port (as a port below 1024 without root).
  host_.refusedListens["127.2.0.1:8081"] =
      Status("InvalidConfigurationRequest", "Cannot listen on 127.2.0.1:8081");
  ok("CreateStack", request(web()));
  ASSERT_EQ(settle()["StackStatus"], "ROLLBACK_COMPLETE");
  EXPECT_EQ(stackStatuses(), (std::vector<std::string>{"CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS",
                                                       "ROLLBACK_COMPLETE"}));
  std::vector<std::string> ev = events();
  // The failure comes before the rollback it causes, and everything made is deleted.
  EXPECT_LT(indexOf(ev, "Listener CREATE_FAILED"), indexOf(ev, "shop ROLLBACK_IN_PROGRESS"));
  EXPECT_LT(indexOf(ev, "LB DELETE_COMPLETE"), indexOf(ev, "shop ROLLBACK_COMPLETE"));
  Json failed =
      ok("DescribeStackResource", {{"StackName", "shop"}, {"LogicalResourceId", "Listener"}});
  EXPECT_EQ(failed["StackResourceDetail"]["ResourceStatus"], "DELETE_COMPLETE");
}

TEST_F(StackActionsTest, FailedUpdateRollsBackToThePreviousTemplateAndParameters) {
  std::string body = web();
  ok("CreateStack", request(body));
  ASSERT_EQ(settle()["StackStatus"], "CREATE_COMPLETE");
  // The new port parameter replaces the listener; the target group's changed health check is
  // applied in place; an unknown matcher code then fails the target group's update.
  std::string broken = web("      HealthCheckIntervalSeconds: 10\n"
                           "      Matcher: {HttpCode: '999'}\n");
  ok("UpdateStack",
     request(broken, Json::array({{{"ParameterKey", "Port"}, {"ParameterValue", "8082"}}})));
  Json s = settle();
  ASSERT_EQ(s["StackStatus"], "UPDATE_ROLLBACK_COMPLETE") << s.dump();
  EXPECT_NE(s["StackStatusReason"].get<std::string>().find("Web"), std::string::npos);
  EXPECT_EQ(s["Parameters"][0]["ParameterValue"], "8081");
  EXPECT_EQ(s["Outputs"][0]["OutputValue"],
            "http://" +
                ok("DescribeLoadBalancers", Json::object())["LoadBalancers"][0]["DNSName"]
                    .get<std::string>() +
                ":8081");
  std::vector<std::string> statuses = stackStatuses();
  ASSERT_GE(statuses.size(), 4u);
  std::vector<std::string> tail(statuses.end() - 4, statuses.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS",
                                            "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
                                            "UPDATE_ROLLBACK_COMPLETE"}));
  EXPECT_LT(indexOf(events(), "Web UPDATE_FAILED"), events().size());
  // The resources are as the previous template says.
  Json tg = ok("DescribeTargetGroups", Json::object())["TargetGroups"][0];
  EXPECT_EQ(tg["HealthCheckIntervalSeconds"], 30);
  std::string lbArn =
      ok("DescribeStackResource",
         {{"StackName", "shop"},
          {"LogicalResourceId", "LB"}})["StackResourceDetail"]["PhysicalResourceId"];
  Json listeners = ok("DescribeListeners", {{"LoadBalancerArn", lbArn}})["Listeners"];
  ASSERT_EQ(listeners.size(), 1u);
  EXPECT_EQ(listeners[0]["Port"], 8081);
  EXPECT_EQ(ok("GetTemplate", {{"StackName", "shop"}})["TemplateBody"], body);
  // A rolled-back update can be updated again, and nothing changed means nothing to do.
  EXPECT_EQ(errorCode("UpdateStack", request(body)), "ValidationError");
  ok("UpdateStack", request(web("      HealthCheckIntervalSeconds: 10\n")));
  ASSERT_EQ(settle()["StackStatus"], "UPDATE_COMPLETE");
}

TEST_F(StackActionsTest, ResourceQueriesAndTemplates) {
  std::string body = "# as submitted\n" + web();
  std::string id = ok("CreateStack", request(body))["StackId"];
  ASSERT_EQ(settle()["StackStatus"], "CREATE_COMPLETE");

  Json d = ok("DescribeStackResource",
              {{"StackName", "shop"}, {"LogicalResourceId", "Web"}})["StackResourceDetail"];
  EXPECT_EQ(d["StackName"], "shop");
  EXPECT_EQ(d["StackId"], id);
  EXPECT_EQ(d["LogicalResourceId"], "Web");
  EXPECT_EQ(d["ResourceType"], "AWS::ElasticLoadBalancingV2::TargetGroup");
  EXPECT_EQ(d["ResourceStatus"], "CREATE_COMPLETE");
  EXPECT_TRUE(d["PhysicalResourceId"].get<std::string>().rfind("arn:aws:elasticloadbalancing", 0) ==
              0);
  EXPECT_TRUE(d["LastUpdatedTimestamp"].get<std::string>().ends_with("Z"));
  EXPECT_EQ(
      errorCode("DescribeStackResource", {{"StackName", "shop"}, {"LogicalResourceId", "Nope"}}),
      "ValidationError");
  EXPECT_EQ(
      errorCode("DescribeStackResource", {{"StackName", "nope"}, {"LogicalResourceId", "Web"}}),
      "ValidationError");
  EXPECT_EQ(errorCode("DescribeStackResource", {{"StackName", "shop"}}), "ValidationError");

  Json list = ok("ListStackResources", {{"StackName", "shop"}})["StackResourceSummaries"];
  ASSERT_EQ(list.size(), 5u);
  EXPECT_EQ(list[0]["LogicalResourceId"], "Image");
  EXPECT_FALSE(list[0].contains("StackName"));
  EXPECT_EQ(errorCode("ListStackResources", Json::object()), "ValidationError");

  Json t = ok("GetTemplate", {{"StackName", "shop"}});
  EXPECT_EQ(t["TemplateBody"], body); // as submitted, comment and all
  EXPECT_EQ(t["StagesAvailable"], Json::array({"Original", "Processed"}));
  EXPECT_EQ(ok("GetTemplate", {{"StackName", id}, {"TemplateStage", "Original"}})["TemplateBody"],
            body);
  EXPECT_EQ(errorCode("GetTemplate", {{"StackName", "shop"}, {"TemplateStage", "Later"}}),
            "ValidationError");
  EXPECT_EQ(errorCode("GetTemplate", {{"StackName", "nope"}}), "ValidationError");

  Json summary = ok("GetTemplateSummary", {{"StackName", "shop"}});
  ASSERT_EQ(summary["Parameters"].size(), 1u);
  EXPECT_EQ(summary["Parameters"][0]["ParameterKey"], "Port");
  EXPECT_EQ(summary["Parameters"][0]["ParameterType"], "Number");
  EXPECT_EQ(summary["Parameters"][0]["DefaultValue"], "8081");
  EXPECT_EQ(summary["ResourceTypes"],
            Json::array({"AWS::EC2::LaunchTemplate", "AWS::ElasticLoadBalancingV2::Listener",
                         "AWS::ElasticLoadBalancingV2::LoadBalancer",
                         "AWS::ElasticLoadBalancingV2::TargetGroup", "Tide::EC2::Image"}));
  EXPECT_EQ(ok("GetTemplateSummary", {{"TemplateBody", body}})["ResourceTypes"].size(), 5u);
  EXPECT_EQ(summary["Version"], "2010-09-09");
  // A version that is not text does not break the summary.
  EXPECT_EQ(ok("GetTemplateSummary",
               {{"TemplateBody", "AWSTemplateFormatVersion: 2010\n" + body}})["Version"],
            "2010-09-09");
  EXPECT_EQ(errorCode("GetTemplateSummary", Json::object()), "ValidationError");
  EXPECT_EQ(errorCode("GetTemplateSummary", {{"StackName", "nope"}}), "ValidationError");
}

TEST_F(StackActionsTest, RefusesTemplateUrlAndUnknownParameters) {
  Json withUrl = {{"StackName", "shop"}, {"TemplateURL", "https://s3.amazonaws.com/b/t.yaml"}};
  auto [status, body] = call("CreateStack", withUrl);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["__type"], "ValidationError");
  EXPECT_NE(body["message"].get<std::string>().find("TemplateURL"), std::string::npos);
  EXPECT_EQ(errorCode("ValidateTemplate", {{"TemplateURL", "https://x/t.yaml"}}),
            "ValidationError");
  EXPECT_EQ(errorCode("GetTemplateSummary", {{"TemplateURL", "https://x/t.yaml"}}),
            "ValidationError");
  EXPECT_EQ(errorCode("CreateChangeSet", {{"StackName", "shop"},
                                          {"ChangeSetName", "c1"},
                                          {"ChangeSetType", "CREATE"},
                                          {"TemplateURL", "https://x/t.yaml"}}),
            "ValidationError");
  EXPECT_EQ(errorCode("DescribeStackEvents", {{"StackName", "shop"}, {"Bogus", 1}}),
            "UnknownParameter");
  EXPECT_EQ(errorCode("ListStacks", {{"Bogus", 1}}), "UnknownParameter");
  EXPECT_EQ(errorCode("CreateChangeSet", {{"StackName", "shop"}, {"Bogus", 1}}),
            "UnknownParameter");
  EXPECT_EQ(errorCode("DescribeStackEvents", Json::object()), "ValidationError");
  EXPECT_EQ(errorCode("DescribeStackEvents", {{"StackName", "nope"}}), "ValidationError");
  EXPECT_EQ(errorCode("ListStacks", {{"NextToken", "x"}}), "ValidationError");
  EXPECT_EQ(ok("DescribeStacks", Json::object())["Stacks"].size(), 0u); // nothing recorded
  EXPECT_EQ(ok("ListStacks", Json::object())["StackSummaries"].size(), 0u);
}

TEST_F(StackActionsTest, EventsArePagedNewestFirst) {
  std::string id = ok("CreateStack", request(web()))["StackId"];
  // 150 more events of the stack's own, as if it had been updated many times.
  EXPECT_OK(store_->transact([&](store::Tx& tx) -> Status {
    for (int i = 0; i < 150; ++i) {
      model::StackEvent e;
      e.eventId = newUuid();
      e.stackId = id;
      e.stackName = "shop";
      e.logicalResourceId = "shop";
      e.physicalResourceId = id;
      e.resourceType = "AWS::CloudFormation::Stack";
      e.resourceStatus = "N" + std::to_string(i);
      TIDE_RETURN_IF_ERROR(tx.putStackEvent(e));
    }
    return Status::ok();
  }));
  Json first = ok("DescribeStackEvents", {{"StackName", "shop"}});
  ASSERT_EQ(first["StackEvents"].size(), 100u);
  EXPECT_EQ(first["StackEvents"][0]["ResourceStatus"], "N149");
  ASSERT_TRUE(first.contains("NextToken"));
  Json second =
      ok("DescribeStackEvents", {{"StackName", "shop"}, {"NextToken", first["NextToken"]}});
  ASSERT_EQ(second["StackEvents"].size(), 51u);
  EXPECT_EQ(second["StackEvents"][0]["ResourceStatus"], "N49");
  EXPECT_EQ(second["StackEvents"][50]["ResourceStatus"], "CREATE_IN_PROGRESS");
  EXPECT_FALSE(second.contains("NextToken"));
  EXPECT_EQ(errorCode("DescribeStackEvents", {{"StackName", "shop"}, {"NextToken", "nope"}}),
            "ValidationError");
  // Each stack keeps its newest kMaxStackEvents.
  EXPECT_OK(store_->transact([&](store::Tx& tx) -> Status {
    for (int i = 0; i < store::Tx::kMaxStackEvents; ++i) {
      model::StackEvent e;
      e.eventId = newUuid();
      e.stackId = id;
      e.resourceStatus = "M" + std::to_string(i);
      TIDE_RETURN_IF_ERROR(tx.putStackEvent(e));
    }
    auto all = tx.stackEvents(id);
    EXPECT_EQ(all->size(), static_cast<size_t>(store::Tx::kMaxStackEvents));
    EXPECT_EQ(all->back().resourceStatus, "M0");
    return Status::ok();
  }));
}

TEST_F(StackActionsTest, SsmImageParameterLaunchesTheBaseImage) {
  model::Image base;
  base.imageId = model::kBaseImageId;
  base.name = model::kBaseImageName;
  base.state = model::ImageState::Available;
  base.runCommand = "exec tide serve-static";
  base.port = 80;
  ASSERT_OK(store_->transact([&](store::Tx& tx) { return tx.putImage(base); }));
  const std::string name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
  const std::string body = "Parameters:\n"
                           "  LatestAmiId:\n"
                           "    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>\n"
                           "    Default: " +
                           name +
                           "\n"
                           "Resources:\n"
                           "  Template:\n"
                           "    Type: AWS::EC2::LaunchTemplate\n"
                           "    Properties:\n"
                           "      LaunchTemplateData: {ImageId: !Ref LatestAmiId, "
                           "InstanceType: t3.micro}\n";
  // An unknown name is refused before anything is made.
  auto [status, err] = call(
      "CreateStack",
      request(body, {{{"ParameterKey", "LatestAmiId"}, {"ParameterValue", "/aws/service/none"}}}));
  EXPECT_EQ(status, 400);
  EXPECT_EQ(err["__type"], "ValidationError");
  EXPECT_EQ(call("DescribeStacks", {{"StackName", "shop"}}).first, 400);

  ok("CreateStack", request(body));
  Json stack = settle();
  ASSERT_EQ(stack["StackStatus"], "CREATE_COMPLETE") << stack;
  EXPECT_EQ(stack["Parameters"][0]["ParameterValue"], name);
  EXPECT_EQ(stack["Parameters"][0]["ResolvedValue"], std::string(model::kBaseImageId));
  Json lts = ok("DescribeLaunchTemplates", Json::object())["LaunchTemplates"];
  ASSERT_EQ(lts.size(), 1u);
  Json v = ok("DescribeLaunchTemplateVersions", {{"LaunchTemplateId", lts[0]["LaunchTemplateId"]}});
  EXPECT_EQ(v["LaunchTemplateVersions"][0]["LaunchTemplateData"]["ImageId"],
            std::string(model::kBaseImageId));
}

} // namespace
} // namespace tide::stacks
