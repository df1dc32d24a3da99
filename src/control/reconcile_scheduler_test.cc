// The reconcile scheduler under a virtual clock, with controllers that record their passes.
#include "common/status_testing.h"
#include "control/reconcile_scheduler.h"

#include <gtest/gtest.h>

#include <map>

namespace tide::control {
namespace {

using store::Kind;

class ReconcileSchedulerTest : public ::testing::Test {
protected:
  // A controller that records its passes in `ran_` and returns `again_[name]` (or an error when
  // `failing_` names it).
  ScheduledController row(const std::string& name, Watch watch) {
    return {name, std::move(watch), [this, name](const Wake& w) -> Result<Millis> {
              ran_.push_back(name);
              wakes_[name] = w;
              if (failing_ == name) {
                return internalError("broken");
              }
              auto it = again_.find(name);
              return it == again_.end() ? Millis(1000) : it->second;
            }};
  }
  // The usual table: instances, groups (keyed), targets, publisher (everything).
  ReconcileScheduler scheduler() {
    return ReconcileScheduler(
        clock_, {row("instances", {{Kind::Instance}, {}}),
                 row("groups", {{Kind::AutoScalingGroup, Kind::Instance, Kind::Target}, {}}),
                 row("targets", {{Kind::Target, Kind::TargetGroup}, {Kind::Listener}}),
                 row("publisher", {{}, {Kind::Target, Kind::Listener, Kind::TargetGroup}})});
  }
  static store::ChangeSet changes(std::initializer_list<store::Change> cs) {
    store::ChangeSet out;
    for (const auto& c : cs) {
      out.add(c.kind, c.key, c.parent);
    }
    return out;
  }

  VirtualClock clock_;
  std::vector<std::string> ran_;
  std::map<std::string, Wake> wakes_;
  std::map<std::string, Millis> again_;
  std::string failing_;
};

TEST_F(ReconcileSchedulerTest, TheFirstPassRunsEveryControllerInTheTablesOrder) {
  ReconcileScheduler s = scheduler();
  s.runDue();
  EXPECT_EQ(ran_, (std::vector<std::string>{"instances", "groups", "targets", "publisher"}));
  EXPECT_TRUE(wakes_["groups"].everything);
  ran_.clear();
  s.runDue(); // nothing is due yet
  EXPECT_TRUE(ran_.empty());
}

TEST_F(ReconcileSchedulerTest, AChangeWakesOnlyTheControllersThatWatchItsKind) {
  ReconcileScheduler s = scheduler();
  s.runDue();
  ran_.clear();
  s.onChange(changes({{Kind::AutoScalingGroup, "web", ""}}));
  EXPECT_EQ(s.nextDue(), clock_.now());
  s.runDue();
  EXPECT_EQ(ran_, (std::vector<std::string>{"groups"}));
  EXPECT_FALSE(wakes_["groups"].everything);
  EXPECT_EQ(wakes_["groups"].keys, (std::set<std::string>{"web"}));

  // An instance of a group: the instance controller for the instance, the group controller for
  // both the instance and its group.
  ran_.clear();
  s.onChange(changes({{Kind::Instance, "i-1", "web"}}));
  s.runDue();
  EXPECT_EQ(ran_, (std::vector<std::string>{"instances", "groups"}));
  EXPECT_EQ(wakes_["instances"].keys, (std::set<std::string>{"i-1", "web"}));
  EXPECT_TRUE(wakes_["groups"].dirty("web"));
  EXPECT_FALSE(wakes_["groups"].dirty("api"));

  // A listener: everything for the controllers that cannot tell which of their keys it touches.
  ran_.clear();
  s.onChange(changes({{Kind::Listener, "arn:listener/1", "arn:lb/1"}}));
  s.runDue();
  EXPECT_EQ(ran_, (std::vector<std::string>{"targets", "publisher"}));
  EXPECT_TRUE(wakes_["targets"].everything);
  // A kind nobody watches wakes nobody.
  ran_.clear();
  s.onChange(changes({{Kind::Stack, "shop", ""}}));
  s.runDue();
  EXPECT_TRUE(ran_.empty());
}

TEST_F(ReconcileSchedulerTest, ACommitDuringAPassWakesTheLaterControllersInTheSamePass) {
  ReconcileScheduler* self = nullptr;
  ReconcileScheduler s(clock_, {row("groups", {{Kind::AutoScalingGroup}, {}}),
                                {"targets",
                                 {{Kind::TargetGroup}, {}},
                                 [&](const Wake&) -> Result<Millis> {
                                   ran_.push_back("targets");
                                   self->onChange(changes({{Kind::Target, "i-1:80", "arn:tg"}}));
                                   return Millis(1000);
                                 }},
                                row("publisher", {{}, {Kind::Target}})});
  self = &s;
  s.runDue();
  ran_.clear();
  s.onChange(changes({{Kind::TargetGroup, "arn:tg", ""}}));
  s.runDue();
  EXPECT_EQ(ran_, (std::vector<std::string>{"targets", "publisher"}));
}

TEST_F(ReconcileSchedulerTest, TimersStillRunOverEverything) {
  again_["instances"] = Millis(100);
  again_["groups"] = Millis(5000); // more than the longest interval: capped at 1 s
  ReconcileScheduler s = scheduler();
  s.runDue();
  EXPECT_EQ(s.nextDue(), clock_.now() + 100);
  ran_.clear();
  clock_.advance(Millis(100));
  s.runDue();
  EXPECT_EQ(ran_, (std::vector<std::string>{"instances"}));
  EXPECT_TRUE(wakes_["instances"].everything);
  ran_.clear();
  clock_.advance(Millis(900));
  s.runDue();
  EXPECT_EQ(ran_, (std::vector<std::string>{"instances", "groups", "targets", "publisher"}));
  EXPECT_TRUE(wakes_["groups"].everything);

  // A pass over a few keys brings a timer forward but never puts it back.
  ran_.clear();
  again_["groups"] = Millis(1000);
  clock_.advance(Millis(100));
  s.onChange(changes({{Kind::AutoScalingGroup, "web", ""}}));
  s.runDue(); // a pass over "web": its answer (+1000) is later than its timer (+900), kept
  clock_.advance(Millis(900));
  ran_.clear();
  s.runDue();
  EXPECT_NE(std::find(ran_.begin(), ran_.end(), "groups"), ran_.end());
}

TEST_F(ReconcileSchedulerTest, AnErroringControllerIsRetriedAfterASecondAndTheOthersStillRun) {
  failing_ = "groups";
  ReconcileScheduler s = scheduler();
  s.runDue();
  EXPECT_EQ(ran_, (std::vector<std::string>{"instances", "groups", "targets", "publisher"}));
  again_["instances"] = Millis(200);
  ran_.clear();
  clock_.advance(Millis(999));
  s.runDue();
  EXPECT_TRUE(ran_.empty());
  clock_.advance(Millis(1));
  s.runDue();
  EXPECT_EQ(ran_, (std::vector<std::string>{"instances", "groups", "targets", "publisher"}));
  EXPECT_TRUE(wakes_["groups"].everything);
  EXPECT_EQ(s.passes("groups"), 2);
  // Fixed: it goes back to its own pace.
  failing_.clear();
  clock_.advance(Millis(1000));
  s.runDue();
  EXPECT_EQ(s.passes("groups"), 3);
}

TEST_F(ReconcileSchedulerTest, AWakeByNameRunsOnlyThatController) {
  ReconcileScheduler s = scheduler();
  s.runDue();
  ran_.clear();
  EXPECT_TRUE(s.wake("instances")); // SIGCHLD: an instance's process ended
  EXPECT_FALSE(s.wake("no such controller"));
  s.runDue();
  EXPECT_EQ(ran_, (std::vector<std::string>{"instances"}));
  EXPECT_TRUE(wakes_["instances"].everything);
  ASSERT_NE(s.lastWake("instances"), nullptr);
  EXPECT_TRUE(s.lastWake("instances")->everything);
}

} // namespace
} // namespace tide::control
