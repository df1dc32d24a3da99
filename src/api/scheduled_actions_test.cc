// Scheduled actions (issue 11, item 6): Put/BatchPut/Delete/BatchDelete/DescribeScheduledActions,
// their shapes, AWS's validation, and that bad input changes nothing.
#include "api/api_test_fixture.h"
#include "common/status_testing.h"

namespace tide::api {
namespace {

class ScheduledActionsTest : public ApiTest {
protected:
  void SetUp() override {
    ApiTest::SetUp();
    clock_.set(*parseTimestamp("2026-12-06T17:00:00Z"));
    std::string image = availableImage();
    ok("CreateLaunchTemplate",
       {{"LaunchTemplateName", "shop"},
        {"LaunchTemplateData", {{"ImageId", image}, {"InstanceType", "t3.micro"}}}});
    ok("CreateAutoScalingGroup", {{"AutoScalingGroupName", "web"},
                                  {"LaunchTemplate", {{"LaunchTemplateName", "shop"}}},
                                  {"MinSize", 1},
                                  {"MaxSize", 4}});
  }
  Json actions(Json p = Json::object()) {
    return ok("DescribeScheduledActions", p)["ScheduledUpdateGroupActions"];
  }
};

TEST_F(ScheduledActionsTest, PutDescribeUpdateDelete) {
  ok("PutScheduledUpdateGroupAction", {{"AutoScalingGroupName", "web"},
                                       {"ScheduledActionName", "evening"},
                                       {"StartTime", "2026-12-06T18:00:00Z"},
                                       {"MinSize", 2},
                                       {"MaxSize", 10},
                                       {"DesiredCapacity", 4}});
  ok("PutScheduledUpdateGroupAction", {{"AutoScalingGroupName", "web"},
                                       {"ScheduledActionName", "mornings"},
                                       {"Recurrence", "0 9 * * MON-FRI"},
                                       {"TimeZone", "America/New_York"},
                                       {"DesiredCapacity", 3}});
  Json all = actions({{"AutoScalingGroupName", "web"}});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["ScheduledActionName"], "evening");
  EXPECT_EQ(all[0]["StartTime"], "2026-12-06T18:00:00.000Z");
  EXPECT_EQ(all[0]["Time"], "2026-12-06T18:00:00.000Z");
  EXPECT_EQ(all[0]["MinSize"], 2);
  EXPECT_EQ(all[0]["MaxSize"], 10);
  EXPECT_EQ(all[0]["DesiredCapacity"], 4);
  EXPECT_FALSE(all[0].contains("Recurrence"));
  std::string arn = all[0]["ScheduledActionARN"];
  EXPECT_EQ(arn.rfind("arn:aws:autoscaling:", 0), 0u);
  EXPECT_NE(arn.find(":scheduledUpdateGroupAction:"), std::string::npos);
  EXPECT_NE(arn.find(":autoScalingGroupName/web:scheduledActionName/evening"), std::string::npos);
  // A recurring action shows its next run: Monday 7 December, 09:00 EST.
  EXPECT_EQ(all[1]["StartTime"], "2026-12-07T14:00:00.000Z");
  EXPECT_EQ(all[1]["Recurrence"], "0 9 * * MON-FRI");
  EXPECT_EQ(all[1]["TimeZone"], "America/New_York");
  EXPECT_FALSE(all[1].contains("MinSize"));

  // Put again by name: an update, keeping its ARN.
  ok("PutScheduledUpdateGroupAction", {{"AutoScalingGroupName", "web"},
                                       {"ScheduledActionName", "evening"},
                                       {"StartTime", "2026-12-06T19:00:00Z"},
                                       {"DesiredCapacity", 1}});
  Json evening = actions({{"ScheduledActionNames", {"evening"}}});
  ASSERT_EQ(evening.size(), 1u);
  EXPECT_EQ(evening[0]["ScheduledActionARN"], arn);
  EXPECT_EQ(evening[0]["StartTime"], "2026-12-06T19:00:00.000Z");
  EXPECT_FALSE(evening[0].contains("MinSize"));

  // The StartTime..EndTime window: actions whose next run falls in it.
  EXPECT_EQ(actions({{"StartTime", "2026-12-07T00:00:00Z"}}).size(), 1u);
  EXPECT_EQ(actions({{"EndTime", "2026-12-07T00:00:00Z"}}).size(), 1u);
  EXPECT_EQ(
      actions({{"StartTime", "2026-12-08T00:00:00Z"}, {"EndTime", "2026-12-09T00:00:00Z"}}).size(),
      0u);

  // Names given: the window is ignored, as AWS ignores it.
  EXPECT_EQ(actions({{"ScheduledActionNames", {"evening"}}, {"StartTime", "2026-12-08T00:00:00Z"}})
                .size(),
            1u);

  ok("DeleteScheduledAction",
     {{"AutoScalingGroupName", "web"}, {"ScheduledActionName", "evening"}});
  EXPECT_EQ(actions().size(), 1u);
  auto [code, message] = error("DeleteScheduledAction", {{"AutoScalingGroupName", "web"},
                                                         {"ScheduledActionName", "evening"}});
  EXPECT_EQ(code, "ValidationError");
  EXPECT_NE(message.find("not found"), std::string::npos);
}

TEST_F(ScheduledActionsTest, BadInputChangesNothing) {
  ok("PutScheduledUpdateGroupAction", {{"AutoScalingGroupName", "web"},
                                       {"ScheduledActionName", "keep"},
                                       {"Recurrence", "0 18 * * *"},
                                       {"DesiredCapacity", 2}});
  Json before = actions();
  Json base = {{"AutoScalingGroupName", "web"}, {"ScheduledActionName", "keep"}};
  auto refused = [&](Json extra, const std::string& expectCode, const std::string& words) {
    Json p = base;
    p.update(extra);
    auto [code, message] = error("PutScheduledUpdateGroupAction", p);
    EXPECT_EQ(code, expectCode) << p.dump();
    EXPECT_NE(message.find(words), std::string::npos) << message;
    EXPECT_EQ(actions(), before) << p.dump();
  };
  refused({{"StartTime", "2026-12-06T16:00:00Z"}, {"DesiredCapacity", 1}}, "ValidationError",
          "Given start time is in the past");
  refused({{"Recurrence", "0 18 * * *"},
           {"StartTime", "2026-12-08T00:00:00Z"},
           {"EndTime", "2026-12-07T00:00:00Z"},
           {"DesiredCapacity", 1}},
          "ValidationError", "Start time must be before end time");
  refused({{"Recurrence", "0 18 * *"}, {"DesiredCapacity", 1}}, "ValidationError", "5 fields");
  refused({{"Recurrence", "0 18 * * FUNDAY"}, {"DesiredCapacity", 1}}, "ValidationError",
          "day-of-week");
  refused({{"Recurrence", "0 18 * * *"}, {"TimeZone", "Moon/Base"}, {"DesiredCapacity", 1}},
          "ValidationError", "Invalid time zone");
  refused({{"Recurrence", "0 18 * * *"}}, "ValidationError", "At least one of MinSize");
  refused({{"Recurrence", "0 18 * * *"}, {"MinSize", 3}, {"MaxSize", 2}}, "ValidationError",
          "Max bound");
  refused({{"Recurrence", "0 18 * * *"}, {"StartTime", "soon"}, {"DesiredCapacity", 1}},
          "ValidationError", "StartTime");
  refused({{"AutoScalingGroupName", "nope"}, {"Recurrence", "0 18 * * *"}, {"DesiredCapacity", 1}},
          "ValidationError", "AutoScalingGroup name not found");
  refused({{"DesiredCapacity", 1}}, "ValidationError", "StartTime or a Recurrence");
}

TEST_F(ScheduledActionsTest, BatchPutAndBatchDeleteReportFailuresPerAction) {
  Json r = ok(
      "BatchPutScheduledUpdateGroupAction",
      {{"AutoScalingGroupName", "web"},
       {"ScheduledUpdateGroupActions",
        {{{"ScheduledActionName", "a"}, {"Recurrence", "0 8 * * *"}, {"MinSize", 2}},
         {{"ScheduledActionName", "b"}, {"Recurrence", "0 99 * * *"}, {"MinSize", 2}},
         {{"ScheduledActionName", "c"}, {"StartTime", "2026-12-06T20:00:00Z"}, {"MaxSize", 3}}}}});
  ASSERT_EQ(r["FailedScheduledUpdateGroupActions"].size(), 1u);
  EXPECT_EQ(r["FailedScheduledUpdateGroupActions"][0]["ScheduledActionName"], "b");
  EXPECT_EQ(r["FailedScheduledUpdateGroupActions"][0]["ErrorCode"], "ValidationError");
  EXPECT_EQ(actions().size(), 2u);
  r = ok("BatchDeleteScheduledAction",
         {{"AutoScalingGroupName", "web"}, {"ScheduledActionNames", {"a", "zz"}}});
  ASSERT_EQ(r["FailedScheduledActions"].size(), 1u);
  EXPECT_EQ(r["FailedScheduledActions"][0]["ScheduledActionName"], "zz");
  Json left = actions();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0]["ScheduledActionName"], "c");
  EXPECT_EQ(error("BatchDeleteScheduledAction", {{"AutoScalingGroupName", "web"}}).first,
            "ValidationError");
  EXPECT_EQ(error("BatchPutScheduledUpdateGroupAction",
                  {{"AutoScalingGroupName", "nope"},
                   {"ScheduledUpdateGroupActions",
                    {{{"ScheduledActionName", "a"}, {"Recurrence", "0 8 * * *"}, {"MinSize", 2}}}}})
                .first,
            "ValidationError");
}

TEST_F(ScheduledActionsTest, DeletingTheGroupDeletesItsActions) {
  ok("PutScheduledUpdateGroupAction", {{"AutoScalingGroupName", "web"},
                                       {"ScheduledActionName", "a"},
                                       {"Recurrence", "0 8 * * *"},
                                       {"MinSize", 2}});
  ok("DeleteAutoScalingGroup", {{"AutoScalingGroupName", "web"}, {"ForceDelete", true}});
  ASSERT_OK(store_->transact([&](store::Tx& tx) {
    return tx.deleteAutoScalingGroup("web"); // as the controller finishes a deletion
  }));
  EXPECT_TRUE(actions().empty());
}

} // namespace
} // namespace tide::api
