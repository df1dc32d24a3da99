// Instance refresh carried out by the Auto Scaling group controller, over a real store with a
// virtual clock. No provider: instance states move by hand as the instance controller would
// move them; the target controller drains the targets of instances taken out. The group's
// target group has no listener, so its targets are "unused" (serving) once registered.
#include "common/status_testing.h"
#include "control/auto_scaling_controller.h"
#include "control/group_test_fixture.h"
#include "control/target_controller.h"
#include "operations/instance_refresh.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <unistd.h>

namespace tide::control {
namespace {

namespace fs = std::filesystem;
using model::InstanceGoal;
using model::InstanceRefresh;
using model::InstanceRefreshStatus;
using model::InstanceState;
using model::LifecycleState;

class InstanceRefreshTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = testing::freshTestDir("tide-refresh-test");
    store_ = testing::openTestStore(dir_);
    testing::Shop shop = testing::shop();
    lt_ = shop.launchTemplate;
    group_ = shop.group;
    group_.launchTemplateVersion = "1";
    group_.maxSize = 20;
    group_.desiredCapacity = 4;
    put([&](store::Tx& tx) { return testing::putShop(tx, shop, false); });
    addVersion(shop.image.imageId); // 1
    asg_ = std::make_unique<AutoScalingController>(*store_, clock_);
    targets_ = std::make_unique<TargetController>(*store_, clock_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void put(const std::function<Status(store::Tx&)>& fn) {
    ASSERT_TRUE(store_->transact(fn).isOk());
  }
  // A new version of the template with this image.
  void addVersion(const std::string& imageId) {
    model::LaunchTemplateVersion v;
    v.launchTemplateId = lt_.launchTemplateId;
    v.launchTemplateName = lt_.launchTemplateName;
    v.versionNumber = ++versions_;
    v.data.imageId = imageId;
    v.data.instanceType = "t3.micro";
    lt_.latestVersionNumber = versions_;
    put([&](store::Tx& tx) {
      TIDE_RETURN_IF_ERROR(tx.insertLaunchTemplateVersion(v));
      return tx.putLaunchTemplate(lt_);
    });
  }
  model::AutoScalingGroup group() {
    model::AutoScalingGroup g;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      g = **tx.autoScalingGroup("web");
      return Status::ok();
    }));
    return g;
  }
  InstanceRefresh refresh() { return group().instanceRefreshes.at(0); }
  std::vector<model::Instance> members() {
    std::vector<model::Instance> out;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      auto all = tx.instances(); // (a range-for over *tx.instances() would dangle)
      for (auto& i : *all) {
        if (i.autoScalingGroupName == "web" && i.lifecycleState != LifecycleState::Terminated) {
          out.push_back(i);
        }
      }
      return Status::ok();
    }));
    return out;
  }
  int count(LifecycleState s, int64_t version = 0) {
    int n = 0;
    for (const auto& i : members()) {
      n += i.lifecycleState == s && (version == 0 || i.launchTemplateVersion == version) ? 1 : 0;
    }
    return n;
  }
  std::vector<model::ScalingActivity> activities() {
    std::vector<model::ScalingActivity> out;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      out = *tx.scalingActivities("web", 1000);
      return Status::ok();
    }));
    return out;
  }
  // One second of the world: the group controller, the instance controller, the targets.
  void tick() {
    ASSERT_TRUE(asg_->reconcile().isOk());
    for (const auto& i : members()) {
      if (i.goal == InstanceGoal::Run && i.state == InstanceState::Pending) {
        setState(i.instanceId, InstanceState::Running);
      } else if (i.goal == InstanceGoal::Terminate && i.state != InstanceState::Terminated) {
        setState(i.instanceId, InstanceState::Terminated);
      }
    }
    ASSERT_TRUE(targets_->reconcile().isOk());
    clock_.advance(Millis(1000));
  }
  void setState(const std::string& id, InstanceState s) {
    put([&](store::Tx& tx) {
      model::Instance i = **tx.instance(id);
      i.state = s;
      i.stateChangedAt = clock_.now();
      return tx.putInstance(i);
    });
  }
  // A group of `desired` instances, all in service on version 1.
  void startGroup(int desired) {
    group_.desiredCapacity = desired;
    put([&](store::Tx& tx) { return tx.putAutoScalingGroup(group_); });
    for (int k = 0; k < 6; ++k) {
      tick();
    }
    ASSERT_EQ(count(LifecycleState::InService, 1), desired);
  }
  Status start(model::RefreshPreferences prefs, std::optional<std::string> version = "2") {
    return store_->transact([&](store::Tx& tx) -> Status {
      auto g = **tx.autoScalingGroup("web");
      InstanceRefresh r;
      r.instanceRefreshId = "refresh-" + std::to_string(++refreshes_);
      r.preferences = prefs;
      if (version) {
        r.desiredConfiguration =
            model::RefreshLaunchTemplate{lt_.launchTemplateId, lt_.launchTemplateName, *version};
      }
      TIDE_RETURN_IF_ERROR(
          operations::checkRefreshPreferences(prefs, version.has_value(), g.launchTemplateVersion));
      TIDE_RETURN_IF_ERROR(
          operations::startInstanceRefresh(tx, g, *tx.instances(), r, clock_.now()));
      return tx.putAutoScalingGroup(g);
    });
  }
  // Ticks until the refresh ends (at most `limit` seconds), watching the group's capacity.
  InstanceRefreshStatus runToEnd(int limit = 600) {
    for (int s = 0; s < limit; ++s) {
      tick();
      watch();
      if (!operations::isActive(refresh().status)) {
        return refresh().status;
      }
    }
    ADD_FAILURE() << "the refresh did not end: " << refresh().statusReason;
    return refresh().status;
  }
  // Records the lowest number of instances in service and the highest in service or pending.
  void watch() {
    int in = count(LifecycleState::InService), pending = count(LifecycleState::Pending);
    minInService_ = std::min(minInService_, in);
    maxLive_ = std::max(maxLive_, in + pending);
  }

  fs::path dir_;
  VirtualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AutoScalingController> asg_;
  std::unique_ptr<TargetController> targets_;
  model::LaunchTemplate lt_;
  model::AutoScalingGroup group_;
  int64_t versions_ = 0;
  int refreshes_ = 0;
  int minInService_ = 1 << 20;
  int maxLive_ = 0;
};

TEST_F(InstanceRefreshTest, MaxHealthy100TakesOldOnesOutFirstDownToTheMinimum) {
  startGroup(4);
  addVersion("ami-00000000000000001"); // 2
  model::RefreshPreferences p;
  p.minHealthyPercentage = 50; // 2 of 4 stay in service: batches of 2
  ASSERT_OK(start(p));
  tick();
  EXPECT_EQ(refresh().status, InstanceRefreshStatus::InProgress);
  EXPECT_EQ(count(LifecycleState::Terminating), 2); // the first batch drains
  EXPECT_EQ(runToEnd(), InstanceRefreshStatus::Successful);
  EXPECT_EQ(count(LifecycleState::InService, 2), 4); // every instance replaced
  EXPECT_EQ(members().size(), 4u);
  EXPECT_GE(minInService_, 2);
  EXPECT_LE(maxLive_, 4); // never above desired
  EXPECT_EQ(group().launchTemplateVersion, "2");
  EXPECT_EQ(refresh().percentageComplete, 100);
  EXPECT_EQ(refresh().instancesToUpdate, 0);
  int refreshCauses = 0;
  for (const auto& a : activities()) {
    refreshCauses += a.cause.find("in response to an instance refresh") != std::string::npos;
  }
  EXPECT_EQ(refreshCauses, 8); // 4 taken out, 4 launched
}

TEST_F(InstanceRefreshTest, DefaultPreferencesReplaceOneAtATime) {
  startGroup(3);
  addVersion("ami-00000000000000001");
  ASSERT_OK(start({})); // 90 % of 3 rounds up to 3: one at a time
  tick();
  EXPECT_EQ(count(LifecycleState::Terminating), 1);
  EXPECT_EQ(runToEnd(), InstanceRefreshStatus::Successful);
  EXPECT_GE(minInService_, 2);
  EXPECT_EQ(count(LifecycleState::InService, 2), 3);
}

TEST_F(InstanceRefreshTest, MaxHealthyAbove100LaunchesReplacementsFirst) {
  startGroup(2);
  addVersion("ami-00000000000000001");
  model::RefreshPreferences p;
  p.minHealthyPercentage = 100;
  p.maxHealthyPercentage = 200;
  ASSERT_OK(start(p));
  tick();
  EXPECT_EQ(count(LifecycleState::Terminating), 0); // nothing goes before its replacement
  EXPECT_EQ(count(LifecycleState::InService, 1) + count(LifecycleState::Pending, 2), 4);
  EXPECT_EQ(runToEnd(), InstanceRefreshStatus::Successful);
  EXPECT_GE(minInService_, 2); // capacity never below desired
  EXPECT_LE(maxLive_, 4);
  EXPECT_EQ(count(LifecycleState::InService, 2), 2);
  EXPECT_EQ(members().size(), 2u);
}

TEST_F(InstanceRefreshTest, OldInstancesWaitForTheReplacementsWarmup) {
  startGroup(1);
  addVersion("ami-00000000000000001");
  model::RefreshPreferences p;
  p.minHealthyPercentage = 100;
  p.maxHealthyPercentage = 200;
  p.instanceWarmup = 30;
  ASSERT_OK(start(p));
  TimeMs started = clock_.now();
  std::string old = members().at(0).instanceId;
  TimeMs takenOut = 0;
  for (int s = 0; s < 120 && takenOut == 0; ++s) {
    tick();
    for (const auto& i : members()) {
      if (i.instanceId == old && i.lifecycleState == LifecycleState::Terminating) {
        takenOut = clock_.now();
      }
    }
  }
  ASSERT_NE(takenOut, 0);
  EXPECT_GE(takenOut - started, 30'000); // the new one warmed up 30 s first
  EXPECT_LE(takenOut - started, 35'000);
  EXPECT_EQ(runToEnd(), InstanceRefreshStatus::Successful);
}

TEST_F(InstanceRefreshTest, ACheckpointPausesForItsDelay) {
  startGroup(4);
  addVersion("ami-00000000000000001");
  model::RefreshPreferences p;
  p.minHealthyPercentage = 50;
  p.checkpointPercentages = {50};
  p.checkpointDelay = 120;
  ASSERT_OK(start(p));
  int s = 0;
  for (; s < 100 && refresh().checkpointUntil == 0; ++s) {
    tick();
  }
  ASSERT_NE(refresh().checkpointUntil, 0);
  EXPECT_EQ(refresh().percentageComplete, 50);
  EXPECT_NE(refresh().statusReason.find("Checkpoint"), std::string::npos);
  EXPECT_EQ(count(LifecycleState::InService, 1), 2);
  for (int k = 0; k < 110; ++k) {
    tick();
  }
  EXPECT_EQ(count(LifecycleState::InService, 1), 2); // still paused
  EXPECT_EQ(refresh().status, InstanceRefreshStatus::InProgress);
  EXPECT_EQ(runToEnd(), InstanceRefreshStatus::Successful);
  EXPECT_EQ(count(LifecycleState::InService, 2), 4);
}

TEST_F(InstanceRefreshTest, SkipMatchingLeavesInstancesOnTheDesiredConfiguration) {
  startGroup(2);
  model::RefreshPreferences p;
  p.skipMatching = true;
  ASSERT_OK(start(p, "1")); // they all match
  EXPECT_EQ(refresh().total, 0);
  EXPECT_EQ(runToEnd(), InstanceRefreshStatus::Successful);
  EXPECT_EQ(count(LifecycleState::InService, 1), 2); // none replaced
  p.skipMatching = false;
  ASSERT_OK(start(p, "1"));
  EXPECT_EQ(refresh().total, 2);
  EXPECT_EQ(runToEnd(), InstanceRefreshStatus::Successful);
  EXPECT_EQ(count(LifecycleState::InService, 1), 2);
  EXPECT_EQ(activities().size(), 2u + 4u); // the group's 2 launches, then 2 out and 2 in
}

TEST_F(InstanceRefreshTest, OneRefreshAtATime) {
  startGroup(2);
  addVersion("ami-00000000000000001");
  ASSERT_OK(start({}));
  Status again = start({});
  EXPECT_EQ(again.code(), "InstanceRefreshInProgress");
  EXPECT_EQ(group().instanceRefreshes.size(), 1u);
}

TEST_F(InstanceRefreshTest, CancelStopsAfterTheInstancesInProgress) {
  startGroup(4);
  addVersion("ami-00000000000000001");
  ASSERT_OK(start({})); // one at a time
  tick();
  EXPECT_EQ(count(LifecycleState::Terminating), 1);
  put([&](store::Tx& tx) {
    auto g = **tx.autoScalingGroup("web");
    TIDE_RETURN_IF_ERROR(operations::cancelInstanceRefresh(g).status());
    return tx.putAutoScalingGroup(g);
  });
  EXPECT_EQ(refresh().status, InstanceRefreshStatus::Cancelling);
  EXPECT_EQ(runToEnd(), InstanceRefreshStatus::Cancelled);
  for (int k = 0; k < 30; ++k) {
    tick();
  }
  EXPECT_EQ(count(LifecycleState::InService, 1), 3); // the others were left
  EXPECT_EQ(count(LifecycleState::InService, 2), 1);
  EXPECT_EQ(group().launchTemplateVersion, "1");
}

TEST_F(InstanceRefreshTest, AReplacementThatCannotLaunchRollsBack) {
  startGroup(2);
  addVersion("ami-0000000000000dead"); // 2: no such image
  model::RefreshPreferences p;
  p.autoRollback = true;
  ASSERT_OK(start(p));
  EXPECT_EQ(runToEnd(), InstanceRefreshStatus::RollbackSuccessful);
  InstanceRefresh r = refresh();
  EXPECT_NE(r.rollbackReason.find("failed to launch"), std::string::npos) << r.rollbackReason;
  EXPECT_NE(r.rollbackStartTime, 0);
  EXPECT_EQ(r.percentageCompleteOnRollback, 100);
  EXPECT_EQ(count(LifecycleState::InService, 1), 2); // back to full capacity on version 1
  EXPECT_EQ(group().launchTemplateVersion, "1");
}

TEST_F(InstanceRefreshTest, WithoutAutoRollbackAFailureFails) {
  startGroup(2);
  addVersion("ami-0000000000000dead");
  ASSERT_OK(start({}));
  EXPECT_EQ(runToEnd(), InstanceRefreshStatus::Failed);
  EXPECT_NE(refresh().statusReason.find("failed to launch"), std::string::npos);
  for (int k = 0; k < 30; ++k) {
    tick();
  }
  EXPECT_EQ(count(LifecycleState::InService, 1), 2); // the group launches its own again
}

TEST_F(InstanceRefreshTest, AnAlarmInAlarmRollsBackWhatWasReplaced) {
  startGroup(4);
  addVersion("ami-00000000000000001");
  model::MetricAlarm alarm;
  alarm.alarmName = "errors";
  alarm.stateValue = model::AlarmStateValue::Ok;
  put([&](store::Tx& tx) { return tx.putAlarm(alarm); });
  model::RefreshPreferences p;
  p.minHealthyPercentage = 75; // one at a time
  p.autoRollback = true;
  p.alarms = {"errors"};
  ASSERT_OK(start(p));
  for (int s = 0; s < 200 && count(LifecycleState::InService, 2) < 2; ++s) {
    tick();
  }
  ASSERT_EQ(count(LifecycleState::InService, 2), 2);
  alarm.stateValue = model::AlarmStateValue::Alarm;
  put([&](store::Tx& tx) { return tx.putAlarm(alarm); });
  tick();
  EXPECT_EQ(refresh().status, InstanceRefreshStatus::RollbackInProgress);
  EXPECT_NE(refresh().rollbackReason.find("errors"), std::string::npos);
  EXPECT_EQ(runToEnd(), InstanceRefreshStatus::RollbackSuccessful);
  EXPECT_EQ(count(LifecycleState::InService, 1), 4); // every replaced instance replaced back
  EXPECT_EQ(count(LifecycleState::InService, 2), 0);
  EXPECT_EQ(group().launchTemplateVersion, "1");
}

TEST_F(InstanceRefreshTest, RollbackNeedsADesiredConfigurationAndANumberedVersion) {
  startGroup(1);
  ASSERT_OK(start({}, std::nullopt));
  Status s = store_->transact([&](store::Tx& tx) -> Status {
    auto g = **tx.autoScalingGroup("web");
    return operations::rollbackInstanceRefresh(tx, g, *tx.instances(), "user", clock_.now())
        .status();
  });
  EXPECT_EQ(s.code(), "IrreversibleInstanceRefresh");
  EXPECT_EQ(runToEnd(), InstanceRefreshStatus::Successful);
  s = store_->transact([&](store::Tx& tx) -> Status {
    auto g = **tx.autoScalingGroup("web");
    return operations::rollbackInstanceRefresh(tx, g, *tx.instances(), "user", clock_.now())
        .status();
  });
  EXPECT_EQ(s.code(), "ActiveInstanceRefreshNotFound");
}

TEST_F(InstanceRefreshTest, PreferencesAreCheckedAsAwsChecksThem) {
  model::RefreshPreferences p;
  p.minHealthyPercentage = 100;
  p.maxHealthyPercentage = 90 + 10; // equal is fine
  EXPECT_OK(operations::checkRefreshPreferences(p, false, "1"));
  p.minHealthyPercentage = 50;
  p.maxHealthyPercentage = 40;
  EXPECT_EQ(operations::checkRefreshPreferences(p, false, "1").code(), "ValidationError");
  p.maxHealthyPercentage = 120;
  p.minHealthyPercentage = 110;
  EXPECT_EQ(operations::checkRefreshPreferences(p, false, "1").code(), "ValidationError");
  p.minHealthyPercentage = 10;
  p.maxHealthyPercentage = 200; // 190 apart
  EXPECT_NE(operations::checkRefreshPreferences(p, false, "1").message().find("difference"),
            std::string::npos);
  p = {};
  p.autoRollback = true;
  EXPECT_NE(operations::checkRefreshPreferences(p, false, "1").message().find("Desired"),
            std::string::npos);
  EXPECT_NE(operations::checkRefreshPreferences(p, true, "$Latest").message().find("$Latest"),
            std::string::npos);
  EXPECT_OK(operations::checkRefreshPreferences(p, true, "3"));
  p = {};
  p.checkpointPercentages = {50, 20};
  EXPECT_EQ(operations::checkRefreshPreferences(p, false, "1").code(), "ValidationError");
}

} // namespace
} // namespace tide::control
