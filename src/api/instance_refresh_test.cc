// Instance refresh (issue 11, item 3): Start/Cancel/Rollback/DescribeInstanceRefreshes, their
// shapes, AWS's validation and errors, that bad input changes nothing, and the query protocol.
#include "api/api_test_fixture.h"
#include "common/status_testing.h"

namespace tide::api {
namespace {

class InstanceRefreshApiTest : public ApiTest {
protected:
  void SetUp() override {
    ApiTest::SetUp();
    std::string image = availableImage();
    Json lt = ok("CreateLaunchTemplate",
                 {{"LaunchTemplateName", "shop"},
                  {"LaunchTemplateData", {{"ImageId", image}, {"InstanceType", "t3.micro"}}}});
    templateId_ = lt["LaunchTemplate"]["LaunchTemplateId"];
    ok("CreateLaunchTemplateVersion", {{"LaunchTemplateName", "shop"},
                                       {"SourceVersion", "1"},
                                       {"LaunchTemplateData", Json::object()}});
    ok("CreateAutoScalingGroup",
       {{"AutoScalingGroupName", "web"},
        {"LaunchTemplate", {{"LaunchTemplateName", "shop"}, {"Version", "1"}}},
        {"MinSize", 0},
        {"MaxSize", 4}});
  }
  Json refreshes() {
    return ok("DescribeInstanceRefreshes", {{"AutoScalingGroupName", "web"}})["InstanceRefreshes"];
  }
  Json desired(const std::string& version = "2") {
    return {{"LaunchTemplate", {{"LaunchTemplateId", templateId_}, {"Version", version}}}};
  }
  std::string templateId_;
};

TEST_F(InstanceRefreshApiTest, StartDescribeCancel) {
  EXPECT_EQ(refreshes().size(), 0u);
  Json started =
      ok("StartInstanceRefresh", {{"AutoScalingGroupName", "web"},
                                  {"Strategy", "Rolling"},
                                  {"DesiredConfiguration", desired()},
                                  {"Preferences",
                                   {{"MinHealthyPercentage", 100},
                                    {"MaxHealthyPercentage", 150},
                                    {"InstanceWarmup", 30},
                                    {"CheckpointPercentages", {50, 100}},
                                    {"SkipMatching", true},
                                    {"AlarmSpecification", {{"Alarms", Json::array()}}}}}});
  std::string id = started["InstanceRefreshId"];
  Json all = refreshes();
  ASSERT_EQ(all.size(), 1u);
  Json r = all[0];
  EXPECT_EQ(r["InstanceRefreshId"], id);
  EXPECT_EQ(r["AutoScalingGroupName"], "web");
  EXPECT_EQ(r["Status"], "Pending");
  EXPECT_EQ(r["Strategy"], "Rolling");
  EXPECT_EQ(r["PercentageComplete"], 0);
  EXPECT_EQ(r["InstancesToUpdate"], 0);
  EXPECT_EQ(r["ProgressDetails"]["LivePoolProgress"]["PercentageComplete"], 0);
  EXPECT_EQ(r["Preferences"]["MinHealthyPercentage"], 100);
  EXPECT_EQ(r["Preferences"]["MaxHealthyPercentage"], 150);
  EXPECT_EQ(r["Preferences"]["InstanceWarmup"], 30);
  EXPECT_EQ(r["Preferences"]["CheckpointDelay"], 3600);
  EXPECT_EQ(r["Preferences"]["SkipMatching"], true);
  EXPECT_EQ(r["Preferences"]["ScaleInProtectedInstances"], "Ignore");
  EXPECT_EQ(r["Preferences"]["StandbyInstances"], "Ignore");
  EXPECT_EQ(r["DesiredConfiguration"]["LaunchTemplate"]["LaunchTemplateName"], "shop");
  EXPECT_EQ(r["DesiredConfiguration"]["LaunchTemplate"]["Version"], "2");
  EXPECT_FALSE(r.contains("RollbackDetails"));
  EXPECT_FALSE(r.contains("EndTime"));

  auto [code, message] = error("StartInstanceRefresh", {{"AutoScalingGroupName", "web"}});
  EXPECT_EQ(code, "InstanceRefreshInProgress");

  EXPECT_EQ(ok("CancelInstanceRefresh", {{"AutoScalingGroupName", "web"}})["InstanceRefreshId"],
            id);
  EXPECT_EQ(refreshes()[0]["Status"], "Cancelling");
  std::tie(code, message) = error("CancelInstanceRefresh", {{"AutoScalingGroupName", "web"}});
  EXPECT_EQ(code, "ActiveInstanceRefreshNotFound");
  EXPECT_NE(message.find("web"), std::string::npos);
  // By id; an unknown id lists nothing.
  EXPECT_EQ(ok("DescribeInstanceRefreshes", {{"AutoScalingGroupName", "web"},
                                             {"InstanceRefreshIds", {"nope"}}})["InstanceRefreshes"]
                .size(),
            0u);
}

TEST_F(InstanceRefreshApiTest, RollbackAndItsErrors) {
  auto [code, message] = error("RollbackInstanceRefresh", {{"AutoScalingGroupName", "web"}});
  EXPECT_EQ(code, "ActiveInstanceRefreshNotFound");
  ok("StartInstanceRefresh", {{"AutoScalingGroupName", "web"}});
  std::tie(code, message) = error("RollbackInstanceRefresh", {{"AutoScalingGroupName", "web"}});
  EXPECT_EQ(code, "IrreversibleInstanceRefresh");
  ok("CancelInstanceRefresh", {{"AutoScalingGroupName", "web"}});
  // (the controller would finish the cancel; the store is changed by hand here)
  ASSERT_OK(store_->transact([&](store::Tx& tx) {
    auto g = **tx.autoScalingGroup("web");
    g.instanceRefreshes[0].status = model::InstanceRefreshStatus::Cancelled;
    return tx.putAutoScalingGroup(g);
  }));
  ok("StartInstanceRefresh", {{"AutoScalingGroupName", "web"},
                              {"DesiredConfiguration", desired()},
                              {"Preferences", {{"AutoRollback", true}}}});
  Json rolled = ok("RollbackInstanceRefresh", {{"AutoScalingGroupName", "web"}});
  Json all = refreshes();
  ASSERT_EQ(all.size(), 2u); // newest first, the cancelled one kept
  EXPECT_EQ(all[0]["InstanceRefreshId"], rolled["InstanceRefreshId"]);
  EXPECT_EQ(all[0]["Status"], "RollbackInProgress");
  EXPECT_EQ(all[0]["RollbackDetails"]["RollbackReason"], "Rollback requested by user");
  EXPECT_EQ(all[0]["RollbackDetails"]["PercentageCompleteOnRollback"], 100); // nothing to undo
  EXPECT_EQ(all[1]["Status"], "Cancelled");
}

TEST_F(InstanceRefreshApiTest, BadInputIsRefusedAndChangesNothing) {
  struct Case {
    Json params;
    std::string code;
    std::string words;
  } cases[] = {
      {{{"AutoScalingGroupName", "nope"}}, "ValidationError", "not found"},
      {{{"AutoScalingGroupName", "web"}, {"Strategy", "ReplaceRootVolume"}},
       "ValidationError",
       "Rolling"},
      {{{"AutoScalingGroupName", "web"},
        {"Preferences", {{"MinHealthyPercentage", 80}, {"MaxHealthyPercentage", 70}}}},
       "ValidationError",
       "MaxHealthyPercentage must be greater than or equal to MinHealthyPercentage"},
      {{{"AutoScalingGroupName", "web"},
        {"Preferences", {{"MinHealthyPercentage", 50}, {"MaxHealthyPercentage", 200}}}},
       "ValidationError",
       "cannot be greater than 100"},
      {{{"AutoScalingGroupName", "web"}, {"Preferences", {{"MaxHealthyPercentage", 201}}}},
       "ValidationError",
       "between 100 and 200"},
      {{{"AutoScalingGroupName", "web"}, {"Preferences", {{"AutoRollback", true}}}},
       "ValidationError",
       "DesiredConfiguration"},
      {{{"AutoScalingGroupName", "web"}, {"Preferences", {{"StandbyInstances", "Keep"}}}},
       "ValidationError",
       "StandbyInstances"},
      {{{"AutoScalingGroupName", "web"},
        {"Preferences", {{"AlarmSpecification", {{"Alarms", {"missing"}}}}}}},
       "ValidationError",
       "missing"},
      {{{"AutoScalingGroupName", "web"},
        {"DesiredConfiguration",
         {{"LaunchTemplate", {{"LaunchTemplateName", "shop"}, {"Version", "9"}}}}}},
       "ValidationError",
       "launch template"},
      {{{"AutoScalingGroupName", "web"}, {"Preferences", {{"Bogus", 1}}}},
       "UnknownParameter",
       "Bogus"},
  };
  for (const auto& c : cases) {
    auto [code, message] = error("StartInstanceRefresh", c.params);
    EXPECT_EQ(code, c.code) << c.params.dump();
    EXPECT_NE(message.find(c.words), std::string::npos) << message;
  }
  EXPECT_EQ(refreshes().size(), 0u);
}

TEST_F(InstanceRefreshApiTest, ServedOverTheQueryProtocol) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/";
  r.headers = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
  r.body = "Action=StartInstanceRefresh&Version=2011-01-01&AutoScalingGroupName=web"
           "&DesiredConfiguration.LaunchTemplate.LaunchTemplateId=" +
           templateId_ +
           "&DesiredConfiguration.LaunchTemplate.Version=2"
           "&Preferences.MinHealthyPercentage=100&Preferences.MaxHealthyPercentage=110"
           "&Preferences.CheckpointPercentages.member.1=50&Preferences.AutoRollback=true"
           "&Preferences.ScaleInProtectedInstances=Wait";
  HttpResponse resp = handleApiRequest(*ctx_, r);
  ASSERT_EQ(resp.status, 200) << resp.body;
  EXPECT_NE(resp.body.find("<StartInstanceRefreshResult><InstanceRefreshId>"), std::string::npos)
      << resp.body;
  Json all = refreshes();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["Preferences"]["MaxHealthyPercentage"], 110);
  EXPECT_EQ(all[0]["Preferences"]["CheckpointPercentages"], Json::array({50}));
  EXPECT_EQ(all[0]["Preferences"]["AutoRollback"], true);
  EXPECT_EQ(all[0]["Preferences"]["ScaleInProtectedInstances"], "Wait");
  r.body = "Action=DescribeInstanceRefreshes&Version=2011-01-01&AutoScalingGroupName=web";
  resp = handleApiRequest(*ctx_, r);
  ASSERT_EQ(resp.status, 200) << resp.body;
  EXPECT_NE(resp.body.find("<MaxHealthyPercentage>110</MaxHealthyPercentage>"), std::string::npos)
      << resp.body;
  r.body = "Action=RollbackInstanceRefresh&Version=2011-01-01&AutoScalingGroupName=web";
  resp = handleApiRequest(*ctx_, r);
  ASSERT_EQ(resp.status, 200) << resp.body;
  r.body = "Action=RollbackInstanceRefresh&Version=2011-01-01&AutoScalingGroupName=web";
  resp = handleApiRequest(*ctx_, r);
  EXPECT_EQ(resp.status, 400);
  EXPECT_NE(resp.body.find("<Code>ActiveInstanceRefreshNotFound</Code>"), std::string::npos)
      << resp.body;
}

} // namespace
} // namespace tide::api
