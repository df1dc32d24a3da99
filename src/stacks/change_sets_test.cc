// Change sets through the action table, as `aws cloudformation deploy` drives them: a CREATE
// change set makes the stack in REVIEW_IN_PROGRESS and executing it creates the stack; an
// UPDATE change set lists its changes, or FAILS with CloudFormation's reason when there are
// none; describing, listing, deleting, and their errors.
#include "stacks/stack_test_fixture.h"

#include <map>

namespace tide::stacks {
namespace {

constexpr const char* kNoChanges = "The submitted information didn't contain changes. Submit "
                                   "different information to create a change set.";

class ChangeSetTest : public StackEngineTest {
protected:
  Json changeSet(const std::string& name, const std::string& type, const std::string& body,
                 Json params = Json::array()) {
    Json p = request(body, std::move(params));
    p["ChangeSetName"] = name;
    p["ChangeSetType"] = type;
    p["Description"] = "Created by a test";
    p["Capabilities"] = Json::array();
    p["Tags"] = Json::array();
    return p;
  }

  std::string stackStatus(const std::string& name = "shop") {
    return ok("DescribeStacks", {{"StackName", name}})["Stacks"][0]["StackStatus"];
  }
};

TEST_F(ChangeSetTest, CreateChangeSetExecutesIntoACreatedStack) {
  Json made = ok("CreateChangeSet", changeSet("first", "CREATE", web()));
  std::string csId = made["Id"], stackId = made["StackId"];
  EXPECT_EQ(csId.rfind("arn:aws:cloudformation:us-east-1:000000000000:changeSet/first/", 0), 0u);
  // The stack waits for review; the engine leaves it alone, and deploy treats it as new.
  EXPECT_EQ(stackStatus(), "REVIEW_IN_PROGRESS");
  EXPECT_FALSE(*engine_.step(*ctx_));
  EXPECT_EQ(stackStatus(), "REVIEW_IN_PROGRESS");
  EXPECT_EQ(count("DescribeImages", "Images"), 0u);

  Json d = ok("DescribeChangeSet", {{"ChangeSetName", "first"}, {"StackName", "shop"}});
  EXPECT_EQ(d["Status"], "CREATE_COMPLETE");
  EXPECT_EQ(d["ExecutionStatus"], "AVAILABLE");
  EXPECT_EQ(d["ChangeSetId"], csId);
  EXPECT_EQ(d["StackId"], stackId);
  EXPECT_EQ(d["StackName"], "shop");
  EXPECT_EQ(d["Description"], "Created by a test");
  EXPECT_EQ(d["Parameters"][0]["ParameterKey"], "Port");
  ASSERT_EQ(d["Changes"].size(), 5u);
  for (const Json& c : d["Changes"]) {
    EXPECT_EQ(c["Type"], "Resource");
    EXPECT_EQ(c["ResourceChange"]["Action"], "Add");
  }
  EXPECT_EQ(d["Changes"][0]["ResourceChange"]["LogicalResourceId"], "Image");
  EXPECT_EQ(d["Changes"][0]["ResourceChange"]["ResourceType"], "Tide::EC2::Image");
  // By ARN alone too (what deploy's waiter passes, with the stack name).
  EXPECT_EQ(ok("DescribeChangeSet", {{"ChangeSetName", csId}})["ChangeSetName"], "first");
  EXPECT_EQ(ok("GetTemplate", {{"StackName", "shop"}, {"ChangeSetName", "first"}})["TemplateBody"],
            web());
  Json list = ok("ListChangeSets", {{"StackName", "shop"}})["Summaries"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["ChangeSetName"], "first");
  EXPECT_EQ(list[0]["Status"], "CREATE_COMPLETE");

  // A second CREATE change set for a stack under review is allowed; for a created one not.
  ok("CreateChangeSet", changeSet("second", "CREATE", web()));
  EXPECT_EQ(errorCode("CreateChangeSet", changeSet("second", "CREATE", web())),
            "AlreadyExistsException");

  ok("ExecuteChangeSet",
     {{"ChangeSetName", csId}, {"StackName", "shop"}, {"DisableRollback", false}});
  EXPECT_EQ(stackStatus(), "CREATE_IN_PROGRESS");
  // The others are gone; the executed one runs.
  EXPECT_EQ(errorCode("DescribeChangeSet", {{"ChangeSetName", "second"}, {"StackName", "shop"}}),
            "ChangeSetNotFound");
  EXPECT_EQ(ok("DescribeChangeSet", {{"ChangeSetName", csId}})["ExecutionStatus"],
            "EXECUTE_IN_PROGRESS");
  EXPECT_EQ(errorCode("ExecuteChangeSet", {{"ChangeSetName", csId}}), "InvalidChangeSetStatus");
  EXPECT_EQ(errorCode("DeleteChangeSet", {{"ChangeSetName", csId}}), "InvalidChangeSetStatus");
  Json s = settle();
  ASSERT_EQ(s["StackStatus"], "CREATE_COMPLETE") << s.dump();
  EXPECT_EQ(s["StackId"], stackId);
  EXPECT_EQ(ok("DescribeChangeSet", {{"ChangeSetName", csId}})["ExecutionStatus"],
            "EXECUTE_COMPLETE");
  EXPECT_EQ(count("DescribeImages", "Images"), 1u);
  Json events = ok("DescribeStackEvents", {{"StackName", "shop"}})["StackEvents"];
  EXPECT_EQ(events.back()["ResourceStatus"], "REVIEW_IN_PROGRESS");
  EXPECT_EQ(events[0]["ResourceStatus"], "CREATE_COMPLETE");

  // A CREATE change set for a stack that exists.
  EXPECT_EQ(errorCode("CreateChangeSet", changeSet("again", "CREATE", web())),
            "AlreadyExistsException");
}

TEST_F(ChangeSetTest, UpdateChangeSetsListChangesOrFailWithoutThem) {
  ok("CreateStack", request(web()));
  ASSERT_EQ(settle()["StackStatus"], "CREATE_COMPLETE");

  // Nothing changes: FAILED with the reason the CLI's deploy looks for.
  std::string same = ok("CreateChangeSet", changeSet("same", "UPDATE", web()))["Id"];
  Json d = ok("DescribeChangeSet", {{"ChangeSetName", same}, {"StackName", "shop"}});
  EXPECT_EQ(d["Status"], "FAILED");
  EXPECT_EQ(d["StatusReason"], kNoChanges);
  EXPECT_EQ(d["ExecutionStatus"], "UNAVAILABLE");
  EXPECT_EQ(d["Changes"].size(), 0u);
  EXPECT_EQ(errorCode("ExecuteChangeSet", {{"ChangeSetName", same}}), "InvalidChangeSetStatus");
  EXPECT_EQ(stackStatus(), "CREATE_COMPLETE");
  ok("DeleteChangeSet", {{"ChangeSetName", "same"}, {"StackName", "shop"}});
  EXPECT_EQ(ok("ListChangeSets", {{"StackName", "shop"}})["Summaries"].size(), 0u);
  // UsePreviousTemplate with the same parameters: nothing either.
  Json previous = {{"StackName", "shop"}, {"ChangeSetName", "prev"}, {"UsePreviousTemplate", true}};
  ok("CreateChangeSet", previous);
  EXPECT_EQ(ok("DescribeChangeSet", {{"ChangeSetName", "prev"}, {"StackName", "shop"}})["Status"],
            "FAILED");

  // A new port replaces the listener, a new health check interval changes the group in place.
  std::string csId =
      ok("CreateChangeSet",
         changeSet("next", "UPDATE", web("      HealthCheckIntervalSeconds: 10\n"),
                   Json::array({{{"ParameterKey", "Port"}, {"ParameterValue", "8082"}}})))["Id"];
  EXPECT_EQ(stackStatus(), "CREATE_COMPLETE"); // a change set changes nothing by itself
  d = ok("DescribeChangeSet", {{"ChangeSetName", "next"}, {"StackName", "shop"}});
  EXPECT_EQ(d["Status"], "CREATE_COMPLETE");
  EXPECT_EQ(d["ExecutionStatus"], "AVAILABLE");
  std::map<std::string, Json> changes;
  for (const Json& c : d["Changes"]) {
    changes[c["ResourceChange"]["LogicalResourceId"]] = c["ResourceChange"];
  }
  ASSERT_EQ(changes.size(), 2u) << d.dump();
  EXPECT_EQ(changes["Web"]["Action"], "Modify");
  EXPECT_EQ(changes["Web"]["Replacement"], "False");
  EXPECT_EQ(changes["Listener"]["Action"], "Modify");
  EXPECT_EQ(changes["Listener"]["Replacement"], "True");
  EXPECT_TRUE(changes["Listener"]["PhysicalResourceId"].is_string());

  ok("ExecuteChangeSet", {{"ChangeSetName", "next"}, {"StackName", "shop"}});
  EXPECT_EQ(stackStatus(), "UPDATE_IN_PROGRESS");
  Json s = settle();
  ASSERT_EQ(s["StackStatus"], "UPDATE_COMPLETE") << s.dump();
  EXPECT_EQ(s["Outputs"][0]["OutputValue"],
            "http://" +
                ok("DescribeLoadBalancers", Json::object())["LoadBalancers"][0]["DNSName"]
                    .get<std::string>() +
                ":8082");
  EXPECT_EQ(ok("DescribeChangeSet", {{"ChangeSetName", csId}})["ExecutionStatus"],
            "EXECUTE_COMPLETE");
  // The "prev" change set went when "next" was executed.
  EXPECT_EQ(errorCode("DescribeChangeSet", {{"ChangeSetName", "prev"}, {"StackName", "shop"}}),
            "ChangeSetNotFound");

  // A resource removed from the template is a Remove.
  std::string fewer = web();
  fewer.replace(fewer.find("  LB:\n"), std::string::npos,
                "Outputs:\n  Version: {Value: !GetAtt Template.LatestVersionNumber}\n");
  ok("CreateChangeSet", changeSet("fewer", "UPDATE", fewer));
  d = ok("DescribeChangeSet", {{"ChangeSetName", "fewer"}, {"StackName", "shop"}});
  changes.clear();
  for (const Json& c : d["Changes"]) {
    changes[c["ResourceChange"]["LogicalResourceId"]] = c["ResourceChange"];
  }
  EXPECT_EQ(changes["LB"]["Action"], "Remove");
  EXPECT_EQ(changes["Listener"]["Action"], "Remove");
  EXPECT_EQ(changes["Web"]["Action"], "Modify"); // its health check interval goes back to 30
  EXPECT_EQ(changes.count("Image"), 0u);
}

TEST_F(ChangeSetTest, Errors) {
  // UPDATE of a stack that does not exist; no stack name with a plain change set name.
  EXPECT_EQ(errorCode("CreateChangeSet", changeSet("c1", "UPDATE", web())), "ValidationError");
  EXPECT_EQ(errorCode("CreateChangeSet", changeSet("c1", "REPLACE", web())), "ValidationError");
  EXPECT_EQ(errorCode("CreateChangeSet", changeSet("1bad", "CREATE", web())), "ValidationError");
  EXPECT_EQ(errorCode("CreateChangeSet", changeSet("c1", "CREATE", "Resources: [")),
            "ValidationError");
  EXPECT_EQ(errorCode("DescribeChangeSet", {{"ChangeSetName", "c1"}}), "ValidationError");
  EXPECT_EQ(errorCode("DescribeChangeSet", {{"ChangeSetName", "c1"}, {"StackName", "shop"}}),
            "ChangeSetNotFound");
  EXPECT_EQ(errorCode("DescribeChangeSet",
                      {{"ChangeSetName",
                        "arn:aws:cloudformation:local:000000000000:changeSet/c1/0-0-0-0-0"}}),
            "ChangeSetNotFound");
  EXPECT_EQ(errorCode("ListChangeSets", {{"StackName", "shop"}}), "ValidationError");
  EXPECT_EQ(errorCode("DeleteChangeSet", {{"ChangeSetName", "c1"}, {"StackName", "shop"}}),
            "ChangeSetNotFound");
  EXPECT_EQ(ok("ListStacks", Json::object())["StackSummaries"].size(), 0u); // nothing made

  // A stack under review deleted: gone at once, its change sets with it.
  std::string stackId = ok("CreateChangeSet", changeSet("c1", "CREATE", web()))["StackId"];
  EXPECT_EQ(errorCode("UpdateStack", request(web())), "ValidationError"); // under review
  EXPECT_EQ(errorCode("CreateChangeSet", changeSet("c2", "UPDATE", web())), "ValidationError");
  ok("DeleteStack", {{"StackName", "shop"}});
  EXPECT_EQ(errorCode("DescribeStacks", {{"StackName", "shop"}}), "ValidationError");
  EXPECT_EQ(ok("DescribeStacks", {{"StackName", stackId}})["Stacks"][0]["StackStatus"],
            "DELETE_COMPLETE");
  EXPECT_EQ(errorCode("DescribeChangeSet", {{"ChangeSetName", "c1"}, {"StackName", "shop"}}),
            "ChangeSetNotFound");
  // DisableRollback true is refused: tide always rolls back.
  ok("CreateChangeSet", changeSet("c3", "CREATE", web()));
  EXPECT_EQ(errorCode("ExecuteChangeSet",
                      {{"ChangeSetName", "c3"}, {"StackName", "shop"}, {"DisableRollback", true}}),
            "ValidationError");
  EXPECT_EQ(stackStatus(), "REVIEW_IN_PROGRESS");
}

} // namespace
} // namespace tide::stacks
