// The Auto Scaling group controller over a real store with a virtual clock. No provider: the
// tests move instance states by hand, as the instance controller would, and run the target
// controller where draining has to finish.
#include "common/status_testing.h"
#include "control/auto_scaling_controller.h"
#include "control/target_controller.h"
#include "operations/scaling_activity.h"
#include "store/faulty_store.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <unistd.h>

namespace tide::control {
namespace {

namespace fs = std::filesystem;
using model::ActivityStatusCode;
using model::HealthStatus;
using model::Instance;
using model::InstanceGoal;
using model::InstanceState;
using model::LifecycleState;
using model::TargetHealthState;

class AutoScalingControllerTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tide-asg-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = std::move(*store::openSqliteStore((dir_ / "state.db").string()));
    model::Image img;
    img.imageId = "ami-00000000000000001";
    img.name = "shop";
    img.state = model::ImageState::Available;
    img.runCommand = "python3 server.py";
    model::LaunchTemplate lt;
    lt.launchTemplateId = "lt-00000000000000001";
    lt.launchTemplateName = "shop";
    model::LaunchTemplateVersion v;
    v.launchTemplateId = lt.launchTemplateId;
    v.launchTemplateName = lt.launchTemplateName;
    v.data.imageId = img.imageId;
    v.data.instanceType = "t3.micro"; // 0.25 cores
    v.data.instanceTags = {{"app", "shop"}};
    tg_.targetGroupArn = "arn:tg/web";
    tg_.targetGroupName = "web";
    tg_.port = 8080;
    tg_.deregistrationDelaySeconds = 5;
    group_.autoScalingGroupName = "web";
    group_.launchTemplateId = lt.launchTemplateId;
    group_.launchTemplateName = lt.launchTemplateName;
    group_.minSize = 0;
    group_.maxSize = 10;
    group_.desiredCapacity = 2;
    group_.targetGroupArns = {tg_.targetGroupArn};
    group_.tags = {{"team", "web"}};
    put([&](store::Tx& tx) {
      TIDE_RETURN_IF_ERROR(tx.putImage(img));
      TIDE_RETURN_IF_ERROR(tx.putLaunchTemplate(lt));
      TIDE_RETURN_IF_ERROR(tx.insertLaunchTemplateVersion(v));
      return tx.putTargetGroup(tg_);
    });
  }
  void TearDown() override { fs::remove_all(dir_); }

  void put(const std::function<Status(store::Tx&)>& fn) {
    ASSERT_TRUE(store_->transact(fn).isOk());
  }
  void putGroup() {
    put([&](store::Tx& tx) { return tx.putAutoScalingGroup(group_); });
  }
  model::AutoScalingGroup group() {
    model::AutoScalingGroup g;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      auto r = *tx.autoScalingGroup("web");
      if (r) {
        g = *r;
      }
      return Status::ok();
    }));
    return g;
  }
  bool groupExists() {
    bool exists = false;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      exists = tx.autoScalingGroup("web")->has_value();
      return Status::ok();
    }));
    return exists;
  }
  std::vector<Instance> instances() {
    std::vector<Instance> out;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      out = *tx.instances();
      return Status::ok();
    }));
    return out;
  }
  // The group's instances not terminated.
  std::vector<Instance> live() {
    std::vector<Instance> out;
    for (auto& i : instances()) {
      if (i.autoScalingGroupName == "web" && i.state != InstanceState::Terminated) {
        out.push_back(i);
      }
    }
    return out;
  }
  std::vector<model::Target> targets() {
    std::vector<model::Target> out;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      out = *tx.targets("");
      return Status::ok();
    }));
    return out;
  }
  std::vector<model::ScalingActivity> activities() {
    std::vector<model::ScalingActivity> out;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      out = *tx.scalingActivities("web", 1000);
      return Status::ok();
    }));
    return out;
  }
  // Moves an instance as the instance controller would.
  void setState(const std::string& id, InstanceState s) {
    put([&](store::Tx& tx) {
      Instance i = **tx.instance(id);
      i.state = s;
      i.stateChangedAt = clock_.now();
      return tx.putInstance(i);
    });
  }
  // Every instance whose goal is run and that is pending starts running; terminate goals end.
  void instanceControllerPass() {
    for (const Instance& i : instances()) {
      if (i.goal == InstanceGoal::Run && i.state == InstanceState::Pending) {
        setState(i.instanceId, InstanceState::Running);
      } else if (i.goal == InstanceGoal::Terminate && i.state != InstanceState::Terminated) {
        setState(i.instanceId, InstanceState::Terminated);
      }
    }
  }
  void setTarget(const std::string& id, TargetHealthState s) {
    put([&](store::Tx& tx) {
      auto all = tx.targets("");
      for (model::Target t : *all) {
        if (t.id == id) {
          t.state = s;
          TIDE_RETURN_IF_ERROR(tx.putTarget(t));
        }
      }
      return Status::ok();
    });
  }
  void pass(AutoScalingController& c) { ASSERT_TRUE(c.reconcile().isOk()); }
  // Runs the controllers until nothing changes (at most n rounds).
  void settle(AutoScalingController& c, int n = 6) {
    TargetController t(*store_, clock_);
    for (int k = 0; k < n; ++k) {
      pass(c);
      instanceControllerPass();
      ASSERT_TRUE(t.reconcile().isOk());
    }
  }

  fs::path dir_;
  VirtualClock clock_;
  std::unique_ptr<store::Store> store_;
  model::TargetGroup tg_;
  model::AutoScalingGroup group_;
};

TEST_F(AutoScalingControllerTest, AGroupThatFailsDoesNotStopTheOthersInThePass) {
  putGroup(); // "web", desired 2: reconciled first
  model::AutoScalingGroup api = group_;
  api.autoScalingGroupName = "api";
  put([&](store::Tx& tx) { return tx.putAutoScalingGroup(api); });
  // web's pass cannot read its activities.
  store::FaultyStore faulty(*store_);
  faulty.fault = [](const std::string& call, const std::string& key) {
    return call == "scalingActivities" && key == "web" ? internalError("disk on fire")
                                                       : Status::ok();
  };
  AutoScalingController c(faulty, clock_);
  auto members = [&](const std::string& name) {
    int n = 0;
    for (const auto& i : instances()) {
      n += i.autoScalingGroupName == name ? 1 : 0;
    }
    return n;
  };
  auto again = c.reconcile();
  ASSERT_OK(again.status());       // one group's failure is not the pass's
  EXPECT_LE(again->count(), 1000); // the failed group is retried soon
  EXPECT_EQ(members("api"), 2);    // api reached its desired capacity in the same pass
  EXPECT_EQ(members("web"), 0);

  // Healed: the failed group is retried even when the wake names only another group.
  faulty.fault = nullptr;
  ASSERT_OK(c.reconcile(Wake{false, {"api"}}).status());
  EXPECT_EQ(members("web"), 2);
}

TEST_F(AutoScalingControllerTest, AWakeReconcilesOnlyTheGroupsItNames) {
  putGroup();
  model::AutoScalingGroup api = group_;
  api.autoScalingGroupName = "api";
  api.targetGroupArns = {};
  put([&](store::Tx& tx) { return tx.putAutoScalingGroup(api); });
  AutoScalingController c(*store_, clock_);
  auto members = [&](const std::string& name) {
    int n = 0;
    for (const auto& i : instances()) {
      n += i.autoScalingGroupName == name ? 1 : 0;
    }
    return n;
  };
  ASSERT_OK(c.reconcile(Wake{false, {"api"}}).status()); // e.g. api's desired capacity changed
  EXPECT_EQ(members("api"), 2);
  EXPECT_EQ(members("web"), 0);
  // A target of web's target group changed: web is named by the group's ARN.
  ASSERT_OK(c.reconcile(Wake{false, {tg_.targetGroupArn}}).status());
  EXPECT_EQ(members("web"), 2);
}

TEST_F(AutoScalingControllerTest, LaunchesWithOnlyThePropagatedTags) {
  group_.desiredCapacity = 1;
  group_.tags = {{"team", "web"}, {"cost", "42"}};
  group_.unpropagatedTagKeys = {"cost"}; // PropagateAtLaunch false
  putGroup();
  AutoScalingController c(*store_, clock_);
  pass(c);
  auto all = live();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].tags, (std::vector<model::Tag>{{"app", "shop"}, {"team", "web"}}));
}

TEST_F(AutoScalingControllerTest, LaunchesToDesiredInGrowingBatches) {
  group_.desiredCapacity = 7;
  putGroup();
  AutoScalingController c(*store_, clock_);
  pass(c);
  auto all = live();
  ASSERT_EQ(all.size(), 7u);
  std::map<std::string, int> reservations;
  for (const auto& i : all) {
    ++reservations[i.reservationId];
    EXPECT_EQ(i.lifecycleState, LifecycleState::Pending);
    EXPECT_EQ(i.healthStatus, HealthStatus::Healthy);
    EXPECT_EQ(i.launchTemplateVersion, 1);
    // The template's tags and the group's.
    EXPECT_EQ(i.tags, (std::vector<model::Tag>{{"app", "shop"}, {"team", "web"}}));
  }
  std::vector<int> sizes;
  for (auto& [r, n] : reservations) {
    sizes.push_back(n);
  }
  std::sort(sizes.begin(), sizes.end());
  EXPECT_EQ(sizes, (std::vector<int>{1, 2, 4}));
  auto acts = activities();
  ASSERT_EQ(acts.size(), 7u);
  EXPECT_EQ(acts[0].statusCode, ActivityStatusCode::InProgress);
  EXPECT_EQ(acts[0].description.rfind("Launching a new EC2 instance: i-", 0), 0u);
  EXPECT_NE(acts[0].cause.find("an instance was started in response to a difference between "
                               "desired and actual capacity, increasing the capacity from 0 to 7."),
            std::string::npos);
  pass(c); // nothing more while they are pending
  EXPECT_EQ(live().size(), 7u);
}

TEST_F(AutoScalingControllerTest, ALaunchOrTerminationCauseBeginsWithTheChangeThatMadeIt) {
  putGroup();
  AutoScalingController c(*store_, clock_);
  pass(c);
  instanceControllerPass();
  pass(c);
  clock_.advance(Millis(2000));
  // As AWS words it: the desired change's own cause first, then the launch's sentence.
  const std::string out = operations::causeTime(clock_.now()) +
                          " a monitor alarm high in state ALARM triggered policy out " +
                          operations::changingDesired(2, 3);
  model::AutoScalingGroup g = group();
  put([&](store::Tx& tx) {
    return operations::changeDesiredCapacity(tx, g, 3, out, clock_.now(), "{}");
  });
  clock_.advance(Millis(1000));
  pass(c);
  auto acts = activities();
  ASSERT_EQ(acts[0].kind, model::ActivityKind::Launch);
  EXPECT_EQ(acts[0].cause, out + "  " + operations::causeTime(clock_.now()) +
                               " an instance was started in response to a difference between "
                               "desired and actual capacity, increasing the capacity from 2 to 3.");

  instanceControllerPass();
  pass(c);
  const std::string in = operations::causeTime(clock_.now()) +
                         " a user request explicitly set group desired capacity " +
                         operations::changingDesired(3, 2);
  g = group();
  put([&](store::Tx& tx) {
    return operations::changeDesiredCapacity(tx, g, 2, in, clock_.now(), "{}");
  });
  pass(c);
  acts = activities();
  ASSERT_EQ(acts[0].kind, model::ActivityKind::Terminate);
  EXPECT_EQ(acts[0].cause.rfind(in + "  " + operations::causeTime(clock_.now()) +
                                    " an instance was taken out of service in response to a "
                                    "difference between desired and actual capacity",
                                0),
            0u)
      << acts[0].cause;

  // A launch that no change of capacity caused (a replacement) says only what it did.
  g = group();
  g.desiredCapacity = 4; // set without an activity
  put([&](store::Tx& tx) { return tx.putAutoScalingGroup(g); });
  pass(c);
  acts = activities();
  ASSERT_EQ(acts[0].kind, model::ActivityKind::Launch);
  EXPECT_EQ(
      acts[0].cause.rfind(operations::causeTime(clock_.now()) + " an instance was started", 0), 0u)
      << acts[0].cause;
}

TEST_F(AutoScalingControllerTest, RegistersRunningInstancesAndPutsThemInService) {
  putGroup();
  AutoScalingController c(*store_, clock_);
  pass(c);
  EXPECT_TRUE(targets().empty()); // pending: not registered yet
  instanceControllerPass();
  pass(c);
  auto all = live();
  ASSERT_EQ(all.size(), 2u);
  for (const auto& i : all) {
    EXPECT_EQ(i.lifecycleState, LifecycleState::InService);
  }
  auto ts = targets();
  ASSERT_EQ(ts.size(), 2u);
  for (const auto& t : ts) {
    EXPECT_EQ(t.state, TargetHealthState::Initial);
    EXPECT_EQ(t.reason, "Elb.InitialHealthChecking");
    EXPECT_EQ(t.port, 8080);
  }
  for (const auto& a : activities()) {
    EXPECT_EQ(a.statusCode, ActivityStatusCode::Successful) << a.description;
  }
  // A registration lost (say, deregistered by hand) comes back.
  put([&](store::Tx& tx) { return tx.deleteTarget(ts[0]); });
  pass(c);
  EXPECT_EQ(targets().size(), 2u);
}

TEST_F(AutoScalingControllerTest, StopsAndBacksOffWhenLaunchesFail) {
  group_.desiredCapacity = 6;
  putGroup();
  AutoScalingControllerOptions o;
  o.maxCpuCores = 1.0; // four t3.micro fit
  AutoScalingController c(*store_, clock_, o);
  pass(c);
  EXPECT_EQ(live().size(), 3u); // batches 1 and 2 fit; the batch of 3 does not
  auto acts = activities();
  ASSERT_EQ(acts[0].statusCode, ActivityStatusCode::Failed);
  EXPECT_NE(acts[0].statusMessage.find("InsufficientInstanceCapacity"), std::string::npos);
  size_t count = acts.size();
  pass(c); // within the backoff: no new attempt, no new activity
  clock_.advance(Millis(9'999));
  pass(c);
  EXPECT_EQ(activities().size(), count);
  clock_.advance(Millis(1));
  pass(c); // one retry: a batch of 1 fits (4 instances), the next one fails again
  EXPECT_EQ(live().size(), 4u);
  acts = activities();
  EXPECT_EQ(acts[0].statusCode, ActivityStatusCode::Failed);
  count = acts.size();
  clock_.advance(Millis(9'999)); // some launched: the backoff starts over at 10 s
  pass(c);
  EXPECT_EQ(activities().size(), count);
  clock_.advance(Millis(1));
  pass(c); // nothing fits: a failure in a row
  EXPECT_EQ(activities().size(), count + 1);
  EXPECT_EQ(live().size(), 4u);
  clock_.advance(Millis(10'000)); // the backoff doubled: 20 s now
  pass(c);
  EXPECT_EQ(activities().size(), count + 1);
  clock_.advance(Millis(10'000));
  pass(c);
  EXPECT_EQ(activities().size(), count + 2);
}

// The back-off reads what activities are (kind, instance, status code), never their text: a
// failed launch described otherwise still holds launches back, and an activity of another kind
// that reads like a failed launch does not.
TEST_F(AutoScalingControllerTest, BackOffDoesNotDependOnDescriptions) {
  group_.desiredCapacity = 1;
  putGroup();
  AutoScalingControllerOptions o;
  o.maxCpuCores = 0.1; // not even one t3.micro fits
  AutoScalingController c(*store_, clock_, o);
  pass(c);
  auto acts = activities();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].kind, model::ActivityKind::Launch);
  EXPECT_EQ(acts[0].statusCode, ActivityStatusCode::Failed);
  EXPECT_EQ(acts[0].instanceId, "");
  put([&](store::Tx& tx) { // another wording (a translation, a later tide's phrasing)
    model::ScalingActivity a = acts[0];
    a.description = "Lancement d'une nouvelle instance EC2 : échec";
    return tx.putScalingActivity(a);
  });
  clock_.advance(Millis(9'999));
  pass(c);
  EXPECT_EQ(activities().size(), 1u); // still backing off
  clock_.advance(Millis(1));
  pass(c);
  EXPECT_EQ(activities().size(), 2u); // the retry, after the same 10 s

  // A failed activity of another kind worded as a failed launch holds nothing back.
  put([&](store::Tx& tx) { return tx.deleteAutoScalingGroup("web"); });
  group_.desiredCapacity = 1;
  putGroup();
  model::ScalingActivity other;
  other.activityId = "other";
  other.autoScalingGroupName = "web";
  other.kind = model::ActivityKind::Other;
  other.description = "Launching a new EC2 instance.  Status Reason: no capacity";
  other.statusCode = ActivityStatusCode::Failed;
  other.startTime = other.endTime = clock_.now();
  put([&](store::Tx& tx) { return tx.putScalingActivity(other); });
  AutoScalingController roomy(*store_, clock_);
  pass(roomy);
  EXPECT_EQ(live().size(), 1u);
}

TEST_F(AutoScalingControllerTest, ScaleInDrainsBeforeTerminating) {
  group_.desiredCapacity = 3;
  putGroup();
  AutoScalingController c(*store_, clock_);
  TargetController t(*store_, clock_);
  pass(c);
  instanceControllerPass();
  pass(c);
  clock_.advance(Millis(1000));
  // Mark one instance as from an older template version: it goes first.
  std::string oldest = live()[2].instanceId;
  put([&](store::Tx& tx) {
    Instance i = **tx.instance(oldest);
    i.launchTemplateVersion = 0;
    return tx.putInstance(i);
  });
  group_ = group();
  group_.desiredCapacity = 1;
  putGroup();
  pass(c);
  auto all = live();
  int terminating = 0;
  for (const auto& i : all) {
    if (i.lifecycleState == LifecycleState::Terminating) {
      ++terminating;
      EXPECT_EQ(i.goal, InstanceGoal::Run); // still serving its in-flight requests
    }
  }
  EXPECT_EQ(terminating, 2);
  EXPECT_EQ(std::find_if(all.begin(), all.end(),
                         [&](const Instance& i) { return i.instanceId == oldest; })
                ->lifecycleState,
            LifecycleState::Terminating);
  int draining = 0;
  for (const auto& x : targets()) {
    draining += x.state == TargetHealthState::Draining;
  }
  EXPECT_EQ(draining, 2);
  // Before the deregistration delay ends: still not terminated.
  clock_.advance(Millis(4'000));
  ASSERT_TRUE(t.reconcile().isOk());
  pass(c);
  for (const auto& i : live()) {
    EXPECT_EQ(i.goal, InstanceGoal::Run);
  }
  clock_.advance(Millis(1'000));
  ASSERT_TRUE(t.reconcile().isOk()); // drained targets removed
  pass(c);
  int goingAway = 0;
  for (const auto& i : live()) {
    goingAway += i.goal == InstanceGoal::Terminate;
  }
  EXPECT_EQ(goingAway, 2);
  instanceControllerPass();
  pass(c);
  EXPECT_EQ(live().size(), 1u);
  auto acts = activities();
  int terminated = 0;
  for (const auto& a : acts) {
    if (a.description.rfind("Terminating EC2 instance: ", 0) == 0) {
      ++terminated;
      EXPECT_EQ(a.statusCode, ActivityStatusCode::Successful);
      EXPECT_NE(a.cause.find("shrinking the capacity from 3 to 1."), std::string::npos);
    }
  }
  EXPECT_EQ(terminated, 2);
  pass(c); // steady: nothing launched
  EXPECT_EQ(live().size(), 1u);
}

TEST_F(AutoScalingControllerTest, ScaleInChoosesVictimsByTheGroupsTerminationPolicies) {
  // Three instances launched a minute apart; NewestInstance takes the two newest, whatever
  // Default would have said (the oldest is of an older template version).
  group_.desiredCapacity = 1;
  group_.terminationPolicies = {"NewestInstance"};
  putGroup();
  AutoScalingController c(*store_, clock_);
  std::vector<std::string> launched;
  for (int k = 1; k <= 3; ++k) {
    group_ = group();
    group_.desiredCapacity = k;
    putGroup();
    settle(c, 2);
    for (const auto& i : live()) {
      if (std::find(launched.begin(), launched.end(), i.instanceId) == launched.end()) {
        launched.push_back(i.instanceId);
      }
    }
    clock_.advance(Millis(60'000));
  }
  ASSERT_EQ(launched.size(), 3u);
  put([&](store::Tx& tx) {
    Instance i = **tx.instance(launched[0]);
    i.launchTemplateVersion = 0;
    return tx.putInstance(i);
  });
  group_ = group();
  group_.desiredCapacity = 1;
  putGroup();
  pass(c);
  for (const auto& i : live()) {
    EXPECT_EQ(i.lifecycleState == LifecycleState::Terminating, i.instanceId != launched[0])
        << i.instanceId;
  }
  // With Default, the older template version goes first.
  clock_.advance(Millis(5'000)); // the victims' deregistration delay
  settle(c);
  ASSERT_EQ(live().size(), 1u);
  group_ = group();
  group_.terminationPolicies = {"Default"};
  group_.desiredCapacity = 2;
  putGroup();
  settle(c, 2);
  group_ = group();
  group_.desiredCapacity = 1;
  putGroup();
  pass(c);
  for (const auto& i : live()) {
    EXPECT_EQ(i.lifecycleState == LifecycleState::Terminating, i.instanceId == launched[0])
        << i.instanceId;
  }
}

// Helpers of the group's controls' tests: an instance by id, changed as the API would.
Instance instanceOf(store::Store& s, const std::string& id) {
  Instance out;
  EXPECT_OK(s.transact([&](store::Tx& tx) {
    out = **tx.instance(id);
    return Status::ok();
  }));
  return out;
}
void change(store::Store& s, const std::string& id, const std::function<void(Instance&)>& fn) {
  ASSERT_OK(s.transact([&](store::Tx& tx) {
    Instance i = **tx.instance(id);
    fn(i);
    return tx.putInstance(i);
  }));
}
int countState(const std::vector<Instance>& in, LifecycleState s) {
  return static_cast<int>(std::count_if(in.begin(), in.end(),
                                        [&](const Instance& i) { return i.lifecycleState == s; }));
}

TEST_F(AutoScalingControllerTest, ProtectedInstancesStayOnScaleInButAreReplacedWhenUnhealthy) {
  group_.desiredCapacity = 3;
  putGroup();
  AutoScalingController c(*store_, clock_);
  settle(c, 2);
  auto all = live();
  ASSERT_EQ(all.size(), 3u);
  const std::string a = all[0].instanceId, b = all[1].instanceId, x = all[2].instanceId;
  for (const auto& id : {a, b}) { // SetInstanceProtection
    change(*store_, id, [](Instance& i) { i.protectedFromScaleIn = true; });
  }
  group_ = group();
  group_.desiredCapacity = 1;
  putGroup();
  pass(c);
  // Two should go; only the unprotected one can.
  EXPECT_EQ(instanceOf(*store_, x).lifecycleState, LifecycleState::Terminating);
  EXPECT_EQ(instanceOf(*store_, a).lifecycleState, LifecycleState::InService);
  EXPECT_EQ(instanceOf(*store_, b).lifecycleState, LifecycleState::InService);
  clock_.advance(Millis(5'000));
  settle(c);
  EXPECT_EQ(live().size(), 2u); // above the desired capacity until protection is lifted
  // Unhealthy, a protected instance is replaced all the same.
  group_ = group();
  group_.desiredCapacity = 2;
  putGroup();
  setState(a, InstanceState::Stopped);
  pass(c);
  EXPECT_EQ(instanceOf(*store_, a).lifecycleState, LifecycleState::Terminating);
  EXPECT_EQ(countState(live(), LifecycleState::Pending), 1); // its replacement
  // Protection lifted: the group scales in to 1.
  clock_.advance(Millis(5'000));
  settle(c);
  change(*store_, b, [](Instance& i) { i.protectedFromScaleIn = false; });
  group_ = group();
  group_.desiredCapacity = 1;
  putGroup();
  pass(c);
  EXPECT_EQ(countState(live(), LifecycleState::Terminating), 1);
}

TEST_F(AutoScalingControllerTest, NewInstancesAreProtectedWhenTheGroupSaysSo) {
  group_.newInstancesProtectedFromScaleIn = true;
  putGroup();
  AutoScalingController c(*store_, clock_);
  settle(c, 2);
  for (const auto& i : live()) {
    EXPECT_TRUE(i.protectedFromScaleIn);
  }
  group_ = group();
  group_.desiredCapacity = 0;
  putGroup();
  pass(c);
  EXPECT_EQ(countState(live(), LifecycleState::InService), 2);
}

TEST_F(AutoScalingControllerTest, AnInstanceSetUnhealthyByTheUserIsReplaced) {
  putGroup();
  AutoScalingController c(*store_, clock_);
  settle(c, 2);
  std::string victim = live()[0].instanceId;
  change(*store_, victim, [](Instance& i) { i.healthStatus = HealthStatus::Unhealthy; });
  pass(c);
  EXPECT_EQ(instanceOf(*store_, victim).lifecycleState, LifecycleState::Terminating);
  EXPECT_EQ(countState(live(), LifecycleState::Pending), 1);
  bool said = false;
  for (const auto& a : activities()) {
    said = said || (a.instanceId == victim &&
                    a.cause.find(" an instance was taken out of service in response to a user "
                                 "health-check.") != std::string::npos);
  }
  EXPECT_TRUE(said);
}

TEST_F(AutoScalingControllerTest, SuspendedProcessesAreHonoured) {
  auto suspend = [&](std::vector<std::string> names) {
    group_ = group();
    group_.suspendedProcesses.clear();
    for (auto& n : names) {
      group_.suspendedProcesses.push_back({n, "User suspended at 2026-12-06T00:00:00Z"});
    }
    putGroup();
  };
  putGroup();
  suspend({"Launch"});
  AutoScalingController c(*store_, clock_);
  pass(c);
  EXPECT_TRUE(live().empty());
  suspend({"AddToLoadBalancer"});
  settle(c, 2);
  EXPECT_EQ(countState(live(), LifecycleState::InService), 2);
  EXPECT_TRUE(targets().empty()); // in service, not registered
  suspend({});
  pass(c);
  EXPECT_TRUE(targets().empty()); // nor once it resumes, as AWS
  suspend({"Terminate"});
  group_.desiredCapacity = 1;
  putGroup();
  pass(c);
  EXPECT_EQ(countState(live(), LifecycleState::InService), 2);
  suspend({"HealthCheck"});
  group_.desiredCapacity = 2;
  putGroup();
  settle(c, 2);
  std::string a = live()[0].instanceId, b = live()[1].instanceId;
  setState(a, InstanceState::Stopped);
  pass(c);
  EXPECT_EQ(instanceOf(*store_, a).healthStatus, HealthStatus::Healthy); // not checked
  suspend({"ReplaceUnhealthy"});
  pass(c);
  // Marked, not replaced.
  EXPECT_EQ(instanceOf(*store_, a).healthStatus, HealthStatus::Unhealthy);
  EXPECT_EQ(instanceOf(*store_, a).lifecycleState, LifecycleState::InService);
  EXPECT_EQ(live().size(), 2u);
  suspend({});
  pass(c);
  EXPECT_EQ(instanceOf(*store_, a).lifecycleState, LifecycleState::Terminating);
  EXPECT_EQ(instanceOf(*store_, b).lifecycleState, LifecycleState::InService);
}

TEST_F(AutoScalingControllerTest, StandbyLeavesTheTargetGroupsAndTheCapacity) {
  putGroup();
  AutoScalingController c(*store_, clock_);
  TargetController t(*store_, clock_);
  settle(c, 2);
  std::string a = live()[0].instanceId;
  // EnterStandby with ShouldDecrementDesiredCapacity: desired 2 → 1.
  change(*store_, a, [](Instance& i) { i.lifecycleState = LifecycleState::EnteringStandby; });
  group_ = group();
  group_.desiredCapacity = 1;
  putGroup();
  pass(c);
  EXPECT_EQ(instanceOf(*store_, a).lifecycleState, LifecycleState::EnteringStandby);
  for (const auto& x : targets()) {
    EXPECT_EQ(x.state == TargetHealthState::Draining, x.id == a);
  }
  clock_.advance(Millis(5'000));
  ASSERT_OK(t.reconcile().status());
  pass(c);
  Instance i = instanceOf(*store_, a);
  EXPECT_EQ(i.lifecycleState, LifecycleState::Standby);
  EXPECT_EQ(i.goal, InstanceGoal::Run); // still running
  EXPECT_EQ(targets().size(), 1u);
  EXPECT_EQ(live().size(), 2u); // a member, not capacity: nothing launched, nothing terminated
  // ExitStandby: desired 1 → 2, the instance comes back through Pending and is registered.
  change(*store_, a, [](Instance& i) { i.lifecycleState = LifecycleState::Pending; });
  group_ = group();
  group_.desiredCapacity = 2;
  putGroup();
  pass(c);
  EXPECT_EQ(instanceOf(*store_, a).lifecycleState, LifecycleState::InService);
  EXPECT_EQ(targets().size(), 2u);
  EXPECT_EQ(live().size(), 2u);
  // Without decrementing, the group launches a replacement for the standby instance.
  change(*store_, a, [](Instance& i) { i.lifecycleState = LifecycleState::EnteringStandby; });
  pass(c);
  EXPECT_EQ(countState(live(), LifecycleState::Pending), 1);
}

TEST_F(AutoScalingControllerTest, DetachedInstancesLeaveTheGroupRunningAndAttachedOnesJoin) {
  putGroup();
  AutoScalingController c(*store_, clock_);
  TargetController t(*store_, clock_);
  settle(c, 2);
  std::string a = live()[0].instanceId;
  change(*store_, a, [](Instance& i) { i.lifecycleState = LifecycleState::Detaching; });
  group_ = group();
  group_.desiredCapacity = 1;
  putGroup();
  pass(c);
  clock_.advance(Millis(5'000));
  ASSERT_OK(t.reconcile().status());
  pass(c);
  Instance i = instanceOf(*store_, a);
  EXPECT_EQ(i.autoScalingGroupName, "");
  EXPECT_FALSE(i.lifecycleState.has_value());
  EXPECT_EQ(i.state, InstanceState::Running);
  EXPECT_EQ(i.goal, InstanceGoal::Run);
  EXPECT_EQ(targets().size(), 1u);
  EXPECT_EQ(live().size(), 1u);
  // AttachInstances: it joins as Pending and is registered and in service at the next pass.
  change(*store_, a, [](Instance& i) {
    i.autoScalingGroupName = "web";
    i.lifecycleState = LifecycleState::Pending;
    i.healthStatus = HealthStatus::Healthy;
  });
  group_ = group();
  group_.desiredCapacity = 2;
  putGroup();
  pass(c);
  EXPECT_EQ(instanceOf(*store_, a).lifecycleState, LifecycleState::InService);
  EXPECT_EQ(targets().size(), 2u);
  EXPECT_EQ(live().size(), 2u); // nothing launched
}

TEST_F(AutoScalingControllerTest, InstancesPastTheirMaxLifetimeAreReplacedOneAtATime) {
  group_.maxInstanceLifetime = 86'400;
  putGroup();
  AutoScalingController c(*store_, clock_);
  TargetController t(*store_, clock_);
  settle(c, 2);
  auto first = live();
  clock_.advance(Millis(86'399'000));
  pass(c); // a second early: nothing
  EXPECT_EQ(live().size(), 2u);
  clock_.advance(Millis(1'000));
  pass(c);
  // One is past it: its replacement is launched first, the capacity held.
  auto now = live();
  ASSERT_EQ(now.size(), 3u);
  EXPECT_EQ(countState(now, LifecycleState::InService), 2);
  EXPECT_EQ(countState(now, LifecycleState::Pending), 1);
  bool said = false;
  for (const auto& a : activities()) {
    said = said || a.cause.find("to replace an instance that reached its maximum instance "
                                "lifetime.") != std::string::npos;
  }
  EXPECT_TRUE(said);
  pass(c); // still pending: nothing taken out
  EXPECT_EQ(countState(live(), LifecycleState::Terminating), 0);
  instanceControllerPass();
  pass(c); // the replacement is in service: the old one goes
  now = live();
  EXPECT_EQ(countState(now, LifecycleState::InService), 2);
  EXPECT_EQ(countState(now, LifecycleState::Terminating), 1);
  EXPECT_EQ(countState(now, LifecycleState::Pending), 0); // one at a time
  said = false;
  for (const auto& a : activities()) {
    said = said || a.cause.find("taken out of service in response to a maximum instance "
                                "lifetime being reached.") != std::string::npos;
  }
  EXPECT_TRUE(said);
  // Then the other, each drained for its deregistration delay.
  for (int k = 0; k < 4; ++k) {
    clock_.advance(Millis(5'000));
    settle(c, 3);
  }
  now = live();
  ASSERT_EQ(now.size(), 2u);
  for (const auto& i : now) {
    EXPECT_NE(i.instanceId, first[0].instanceId);
    EXPECT_NE(i.instanceId, first[1].instanceId);
    EXPECT_EQ(i.lifecycleState, LifecycleState::InService);
  }
}

TEST_F(AutoScalingControllerTest, ReplacesInstancesFailingEc2HealthChecks) {
  putGroup();
  AutoScalingController c(*store_, clock_);
  settle(c, 2);
  ASSERT_EQ(live().size(), 2u);
  std::string victim = live()[0].instanceId;
  setState(victim, InstanceState::Stopped); // its app died (instance-initiated shutdown)
  pass(c);
  Instance v;
  for (const auto& i : instances()) {
    if (i.instanceId == victim) {
      v = i;
    }
  }
  EXPECT_EQ(v.healthStatus, HealthStatus::Unhealthy);
  EXPECT_EQ(v.lifecycleState, LifecycleState::Terminating);
  EXPECT_EQ(live().size(), 3u); // the replacement is launched at once
  auto acts = activities();
  bool said = false;
  for (const auto& a : acts) {
    said = said || (a.description == "Terminating EC2 instance: " + victim &&
                    a.cause.find("in response to an EC2 health check indicating it has been "
                                 "terminated or stopped.") != std::string::npos);
  }
  EXPECT_TRUE(said);
  clock_.advance(Millis(5'000));
  settle(c);
  EXPECT_EQ(live().size(), 2u);
  for (const auto& i : live()) {
    EXPECT_EQ(i.lifecycleState, LifecycleState::InService);
    EXPECT_NE(i.instanceId, victim);
  }
}

// Limits (docs/reliability.md): an instance the kernel killed for memory is impaired; after the
// grace period the EC2 health check sees it unhealthy and the group replaces it.
TEST_F(AutoScalingControllerTest, ReplacesImpairedInstancesAfterTheGracePeriod) {
  group_.healthCheckGracePeriod = 30;
  putGroup();
  AutoScalingController c(*store_, clock_);
  settle(c, 2);
  ASSERT_EQ(live().size(), 2u);
  std::string victim = live()[0].instanceId;
  put([&](store::Tx& tx) {
    Instance i = **tx.instance(victim);
    i.impairedSince = clock_.now();
    return tx.putInstance(i);
  });
  pass(c);
  EXPECT_EQ(live().size(), 2u); // within the grace period: not yet
  for (const auto& i : live()) {
    EXPECT_EQ(i.lifecycleState, LifecycleState::InService);
  }
  clock_.advance(Millis(30'000));
  pass(c);
  bool said = false;
  for (const auto& a : activities()) {
    said = said || (a.description == "Terminating EC2 instance: " + victim &&
                    a.cause.find("in response to an EC2 instance status checks failure.") !=
                        std::string::npos);
  }
  EXPECT_TRUE(said);
  clock_.advance(Millis(5'000));
  settle(c);
  EXPECT_EQ(live().size(), 2u);
  for (const auto& i : live()) {
    EXPECT_NE(i.instanceId, victim);
  }
}

TEST_F(AutoScalingControllerTest, ReplacesInstancesTerminatedByTheUser) {
  putGroup();
  AutoScalingController c(*store_, clock_);
  settle(c, 2);
  std::string victim = live()[0].instanceId;
  put([&](store::Tx& tx) { // TerminateInstances
    Instance i = **tx.instance(victim);
    i.goal = InstanceGoal::Terminate;
    i.state = InstanceState::Terminated;
    return tx.putInstance(i);
  });
  clock_.advance(Millis(5'000));
  settle(c);
  EXPECT_EQ(live().size(), 2u);
  for (const auto& i : live()) {
    EXPECT_NE(i.instanceId, victim);
  }
}

TEST_F(AutoScalingControllerTest, ElbHealthCountsOnlyAfterTheGracePeriod) {
  group_.healthCheckType = model::HealthCheckType::ELB;
  group_.healthCheckGracePeriod = 30;
  putGroup();
  AutoScalingController c(*store_, clock_);
  pass(c);
  instanceControllerPass();
  pass(c);
  std::string victim = live()[0].instanceId;
  setTarget(victim, TargetHealthState::Unhealthy);
  clock_.advance(Millis(29'000));
  pass(c);
  EXPECT_EQ(live().size(), 2u);
  for (const auto& i : live()) {
    EXPECT_EQ(i.healthStatus, HealthStatus::Healthy);
  }
  clock_.advance(Millis(1'000));
  pass(c);
  bool said = false;
  for (const auto& a : activities()) {
    said = said || (a.description == "Terminating EC2 instance: " + victim &&
                    a.cause.find("in response to an ELB system health check failure.") !=
                        std::string::npos);
  }
  EXPECT_TRUE(said);
  EXPECT_EQ(live().size(), 3u); // replaced while the unhealthy one drains
  clock_.advance(Millis(5'000));
  settle(c);
  EXPECT_EQ(live().size(), 2u);
}

TEST_F(AutoScalingControllerTest, ForceDeleteTerminatesEverythingThenRemovesTheGroup) {
  putGroup();
  AutoScalingController c(*store_, clock_);
  settle(c, 2);
  ASSERT_EQ(live().size(), 2u);
  group_ = group();
  group_.deleting = true;
  group_.desiredCapacity = group_.minSize = group_.maxSize = 0;
  putGroup();
  model::ScalingPolicy p;
  p.policyName = "out";
  p.policyArn = "arn:policy/out";
  p.autoScalingGroupName = "web";
  put([&](store::Tx& tx) { return tx.putScalingPolicy(p); });
  pass(c);
  EXPECT_TRUE(groupExists());
  for (const auto& i : live()) {
    EXPECT_EQ(i.lifecycleState, LifecycleState::Terminating);
  }
  clock_.advance(Millis(5'000));
  settle(c);
  EXPECT_TRUE(live().empty());
  EXPECT_FALSE(groupExists());
  EXPECT_OK(store_->transact([&](store::Tx& tx) {
    EXPECT_TRUE(tx.scalingPolicies("web")->empty());
    return Status::ok();
  }));
}

TEST_F(AutoScalingControllerTest, RestartsFromTheStoreAlone) {
  putGroup();
  {
    AutoScalingController c(*store_, clock_);
    pass(c);
  }
  instanceControllerPass();
  AutoScalingController again(*store_, clock_); // a new server: nothing in memory
  pass(again);
  EXPECT_EQ(live().size(), 2u);
  EXPECT_EQ(targets().size(), 2u);
}

} // namespace
} // namespace tide::control
