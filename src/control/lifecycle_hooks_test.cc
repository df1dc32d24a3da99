// Lifecycle hooks in the group controller, on the virtual clock over a real store. No
// provider: instance states are moved by hand, as the instance controller would; the target
// controller runs where draining has to finish. Answers are written as the API writes them.
#include "common/status_testing.h"
#include "control/auto_scaling_controller.h"
#include "control/group_test_fixture.h"
#include "control/target_controller.h"
#include "operations/lifecycle_hooks.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

namespace tide::control {
namespace {

namespace fs = std::filesystem;
using model::ActivityKind;
using model::ActivityStatusCode;
using model::Instance;
using model::InstanceGoal;
using model::InstanceState;
using model::LifecycleActionResult;
using model::LifecycleState;
using model::LifecycleTransition;

class LifecycleHooksTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = testing::freshTestDir("tide-hooks-test");
    store_ = testing::openTestStore(dir_);
    testing::Shop shop = testing::shop();
    tg_ = shop.targetGroup;
    group_ = shop.group;
    group_.desiredCapacity = 1;
    put([&](store::Tx& tx) { return testing::putShop(tx, shop); });
  }
  void TearDown() override { fs::remove_all(dir_); }

  void put(const std::function<Status(store::Tx&)>& fn) {
    ASSERT_TRUE(store_->transact(fn).isOk());
  }
  void addHook(const std::string& name, LifecycleTransition t, int heartbeat,
               LifecycleActionResult defaultResult = LifecycleActionResult::Abandon) {
    model::LifecycleHook h;
    h.lifecycleHookName = name;
    h.lifecycleTransition = t;
    h.heartbeatTimeout = heartbeat;
    h.defaultResult = defaultResult;
    group_.lifecycleHooks.push_back(h);
  }
  void putGroup() {
    put([&](store::Tx& tx) { return tx.putAutoScalingGroup(group_); });
  }
  model::AutoScalingGroup group() {
    model::AutoScalingGroup g;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      g = **tx.autoScalingGroup("web");
      return Status::ok();
    }));
    return g;
  }
  // As CompleteLifecycleAction and RecordLifecycleActionHeartbeat do.
  void complete(const std::string& hook, const std::string& id, LifecycleActionResult r) {
    put([&](store::Tx& tx) {
      model::AutoScalingGroup g = **tx.autoScalingGroup("web");
      TIDE_ASSIGN_OR_RETURN(auto* a, operations::findLifecycleAction(g, hook, "", id));
      a->result = r;
      return tx.putAutoScalingGroup(g);
    });
  }
  void heartbeat(const std::string& hook, const std::string& id) {
    put([&](store::Tx& tx) {
      model::AutoScalingGroup g = **tx.autoScalingGroup("web");
      TIDE_ASSIGN_OR_RETURN(auto* a, operations::findLifecycleAction(g, hook, "", id));
      operations::recordHeartbeat(*a, clock_.now());
      return tx.putAutoScalingGroup(g);
    });
  }
  std::vector<Instance> live() {
    std::vector<Instance> out;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      auto all = tx.instances();
      for (auto& i : *all) {
        if (i.state != InstanceState::Terminated) {
          out.push_back(i);
        }
      }
      return Status::ok();
    }));
    return out;
  }
  Instance instance(const std::string& id) {
    Instance i;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      i = **tx.instance(id);
      return Status::ok();
    }));
    return i;
  }
  size_t targetsOf(const std::string& id) {
    size_t n = 0;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      auto all = tx.targets("");
      for (auto& t : *all) {
        n += t.id == id;
      }
      return Status::ok();
    }));
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
  void setState(const std::string& id, InstanceState s) {
    put([&](store::Tx& tx) {
      Instance i = **tx.instance(id);
      i.state = s;
      return tx.putInstance(i);
    });
  }
  void instanceControllerPass() {
    for (const Instance& i : live()) {
      if (i.goal == InstanceGoal::Run && i.state == InstanceState::Pending) {
        setState(i.instanceId, InstanceState::Running);
      } else if (i.goal == InstanceGoal::Terminate) {
        setState(i.instanceId, InstanceState::Terminated);
      }
    }
  }
  Millis pass(AutoScalingController& c) {
    auto r = c.reconcile();
    EXPECT_TRUE(r.isOk());
    return r ? *r : Millis(0);
  }
  // Launches the group's one instance, running; returns its id (held by launch hooks, if any).
  std::string launchOne(AutoScalingController& c) {
    pass(c);
    instanceControllerPass();
    pass(c);
    auto all = live();
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? "" : all[0].instanceId;
  }

  fs::path dir_;
  VirtualClock clock_;
  std::unique_ptr<store::Store> store_;
  model::TargetGroup tg_;
  model::AutoScalingGroup group_;
};

TEST_F(LifecycleHooksTest, ALaunchHookHoldsTheInstanceUntilEveryHookContinues) {
  addHook("config", LifecycleTransition::Launching, 60);
  addHook("warm", LifecycleTransition::Launching, 120);
  putGroup();
  AutoScalingController c(*store_, clock_);
  std::string id = launchOne(c);
  Instance i = instance(id);
  EXPECT_EQ(i.lifecycleState, LifecycleState::PendingWait);
  EXPECT_EQ(i.state, InstanceState::Running);
  EXPECT_EQ(targetsOf(id), 0u); // no traffic while it waits
  auto actions = group().lifecycleActions;
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].lifecycleActionToken.size(), 36u);
  EXPECT_EQ(actions[0].heartbeatDeadline, clock_.now() + 60'000);
  EXPECT_EQ(actions[0].globalDeadline, clock_.now() + 6'000'000);
  // Counted as capacity on its way: nothing more is launched.
  pass(c);
  EXPECT_EQ(live().size(), 1u);
  // The next wake-up is no later than the first deadline.
  clock_.advance(Millis(1000));
  EXPECT_LE(pass(c).count(), 59'000);

  complete("config", id, LifecycleActionResult::Continue);
  pass(c);
  EXPECT_EQ(instance(id).lifecycleState, LifecycleState::PendingWait); // "warm" still waits
  complete("warm", id, LifecycleActionResult::Continue);
  pass(c);
  EXPECT_EQ(instance(id).lifecycleState, LifecycleState::InService);
  EXPECT_EQ(targetsOf(id), 1u);
  EXPECT_TRUE(group().lifecycleActions.empty());
  for (const auto& a : activities()) {
    if (a.kind == ActivityKind::Launch) {
      EXPECT_EQ(a.statusCode, ActivityStatusCode::Successful);
    }
  }
}

TEST_F(LifecycleHooksTest, AbandonTerminatesAndReplacesTheInstance) {
  addHook("config", LifecycleTransition::Launching, 60);
  putGroup();
  AutoScalingController c(*store_, clock_);
  std::string id = launchOne(c);
  std::string token = group().lifecycleActions.at(0).lifecycleActionToken;
  complete("config", id, LifecycleActionResult::Abandon);
  pass(c);
  Instance i = instance(id);
  EXPECT_EQ(i.lifecycleState, LifecycleState::Terminating);
  EXPECT_EQ(i.goal, InstanceGoal::Terminate);
  bool found = false;
  for (const auto& a : activities()) {
    if (a.kind == ActivityKind::Launch && a.instanceId == id) {
      found = true;
      EXPECT_EQ(a.statusCode, ActivityStatusCode::Cancelled);
      EXPECT_EQ(a.statusMessage, "Instance failed to complete user's Lifecycle Action: Lifecycle "
                                 "Action with token " +
                                     token +
                                     " was abandoned: Lifecycle Action Completed with "
                                     "ABANDON Result");
      EXPECT_NE(a.description.find(".  Status Reason: Instance failed"), std::string::npos);
    }
  }
  EXPECT_TRUE(found);
  // Replaced: a new instance launches and waits at the hook in turn.
  instanceControllerPass();
  pass(c);
  instanceControllerPass();
  pass(c);
  auto all = live();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_NE(all[0].instanceId, id);
  EXPECT_EQ(all[0].lifecycleState, LifecycleState::PendingWait);
}

TEST_F(LifecycleHooksTest, ATimeoutAppliesTheDefaultResult) {
  addHook("config", LifecycleTransition::Launching, 60);
  putGroup();
  AutoScalingController c(*store_, clock_);
  std::string id = launchOne(c);
  clock_.advance(Millis(59'999));
  pass(c);
  EXPECT_EQ(instance(id).lifecycleState, LifecycleState::PendingWait);
  clock_.advance(Millis(1));
  pass(c);
  EXPECT_EQ(instance(id).lifecycleState, LifecycleState::Terminating);
  bool timedOut = false;
  for (const auto& a : activities()) {
    timedOut =
        timedOut || (a.instanceId == id &&
                     a.statusMessage.find("was abandoned: Heartbeat Timeout") != std::string::npos);
  }
  EXPECT_TRUE(timedOut);

  // DefaultResult CONTINUE: the instance goes in service at the timeout.
  group_ = group();
  group_.lifecycleHooks[0].defaultResult = LifecycleActionResult::Continue;
  putGroup();
  instanceControllerPass();
  pass(c);
  instanceControllerPass();
  pass(c);
  auto all = live();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].lifecycleState, LifecycleState::PendingWait);
  clock_.advance(Millis(60'000));
  pass(c);
  EXPECT_EQ(instance(all[0].instanceId).lifecycleState, LifecycleState::InService);
}

TEST_F(LifecycleHooksTest, AHeartbeatExtendsTheTimeoutUpToTheGlobalTimeout) {
  addHook("config", LifecycleTransition::Launching, 30); // global: 3000 s
  putGroup();
  AutoScalingController c(*store_, clock_);
  std::string id = launchOne(c);
  // Beats every 20 s keep it waiting, until the global timeout ends it.
  for (int k = 0; k < 149; ++k) {
    clock_.advance(Millis(20'000));
    heartbeat("config", id);
    pass(c);
    ASSERT_EQ(instance(id).lifecycleState, LifecycleState::PendingWait) << k;
  }
  // 2980 s in: a beat cannot move the deadline past 3000 s.
  heartbeat("config", id);
  EXPECT_EQ(group().lifecycleActions.at(0).heartbeatDeadline,
            group().lifecycleActions.at(0).globalDeadline);
  clock_.advance(Millis(20'000));
  pass(c);
  EXPECT_EQ(instance(id).lifecycleState, LifecycleState::Terminating);
}

TEST_F(LifecycleHooksTest, ATerminateHookHoldsTheDrainedInstanceUntilAnswered) {
  addHook("logs", LifecycleTransition::Terminating, 300);
  putGroup();
  AutoScalingController c(*store_, clock_);
  TargetController t(*store_, clock_);
  std::string id = launchOne(c);
  ASSERT_EQ(instance(id).lifecycleState, LifecycleState::InService);
  group_ = group();
  group_.desiredCapacity = 0;
  putGroup();
  pass(c);
  EXPECT_EQ(instance(id).lifecycleState, LifecycleState::Terminating); // draining first
  EXPECT_TRUE(group().lifecycleActions.empty());
  clock_.advance(Millis(5'000));
  ASSERT_TRUE(t.reconcile().isOk()); // drained
  pass(c);
  Instance i = instance(id);
  EXPECT_EQ(i.lifecycleState, LifecycleState::TerminatingWait);
  EXPECT_EQ(i.goal, InstanceGoal::Run); // still running while held
  EXPECT_EQ(targetsOf(id), 0u);
  clock_.advance(Millis(100'000));
  pass(c);
  EXPECT_EQ(instance(id).lifecycleState, LifecycleState::TerminatingWait);
  // ABANDON terminates it as CONTINUE would.
  complete("logs", id, LifecycleActionResult::Abandon);
  pass(c);
  i = instance(id);
  EXPECT_EQ(i.lifecycleState, LifecycleState::TerminatingProceed);
  EXPECT_EQ(i.goal, InstanceGoal::Terminate);
  instanceControllerPass();
  pass(c);
  EXPECT_EQ(instance(id).lifecycleState, LifecycleState::Terminated);
  EXPECT_TRUE(live().empty());
}

TEST_F(LifecycleHooksTest, AWaitSurvivesARestartWithItsTokenAndDeadline) {
  addHook("config", LifecycleTransition::Launching, 60);
  putGroup();
  std::string id, token;
  {
    AutoScalingController c(*store_, clock_);
    id = launchOne(c);
    token = group().lifecycleActions.at(0).lifecycleActionToken;
  }
  AutoScalingController again(*store_, clock_);
  clock_.advance(Millis(30'000));
  pass(again);
  EXPECT_EQ(instance(id).lifecycleState, LifecycleState::PendingWait);
  EXPECT_EQ(group().lifecycleActions.at(0).lifecycleActionToken, token);
  clock_.advance(Millis(30'000));
  pass(again);
  EXPECT_EQ(instance(id).lifecycleState, LifecycleState::Terminating);
}

TEST_F(LifecycleHooksTest, ForceDeleteDropsOutstandingActions) {
  addHook("config", LifecycleTransition::Launching, 60);
  putGroup();
  AutoScalingController c(*store_, clock_);
  std::string id = launchOne(c);
  group_ = group();
  group_.deleting = true;
  putGroup();
  for (int k = 0; k < 4; ++k) {
    pass(c);
    instanceControllerPass();
  }
  EXPECT_TRUE(live().empty());
}

} // namespace
} // namespace tide::control
