// The warm pool pass of the Auto Scaling group controller (control/warm_pool.h) over a real store
// with a virtual clock. No provider: the tests move instances as the instance controller would
// (start, stop, freeze, thaw, terminate).
#include "common/status_testing.h"
#include "control/auto_scaling_controller.h"
#include "control/group_test_fixture.h"
#include "control/target_controller.h"
#include "operations/warm_pool.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <filesystem>
#include <map>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tide::control {
namespace {

namespace fs = std::filesystem;
using model::Instance;
using model::InstanceGoal;
using model::InstanceState;
using model::LifecycleState;
using model::TargetHealthState;
using model::WarmPoolState;

class WarmPoolTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = testing::freshTestDir("tide-warm-test");
    store_ = testing::openTestStore(dir_);
    testing::Shop shop = testing::shop();
    tg_ = shop.targetGroup;
    group_ = shop.group;
    group_.minSize = 0;
    group_.desiredCapacity = 2;
    group_.warmPool = model::WarmPoolConfiguration{};
    group_.warmPool->maxGroupPreparedCapacity = 5;
    put([&](store::Tx& tx) { return testing::putShop(tx, shop); });
  }
  void TearDown() override { fs::remove_all(dir_); }

  void put(const std::function<Status(store::Tx&)>& fn) {
    ASSERT_TRUE(store_->transact(fn).isOk());
  }
  void putGroup() {
    put([&](store::Tx& tx) { return tx.putAutoScalingGroup(group_); });
  }
  void update(const std::function<void(model::AutoScalingGroup&)>& fn) {
    put([&](store::Tx& tx) {
      auto g = **tx.autoScalingGroup("web");
      fn(g);
      return tx.putAutoScalingGroup(g);
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
  std::vector<Instance> instances() {
    std::vector<Instance> out;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      out = *tx.instances();
      return Status::ok();
    }));
    return out;
  }
  // The group's instances in a lifecycle state.
  std::vector<Instance> in(LifecycleState s) {
    std::vector<Instance> out;
    for (auto& i : instances()) {
      if (i.lifecycleState == s) {
        out.push_back(i);
      }
    }
    return out;
  }
  int warm() {
    int n = 0;
    for (auto& i : instances()) {
      n += operations::inWarmPool(i) ? 1 : 0;
    }
    return n;
  }
  std::vector<model::Target> targets() {
    std::vector<model::Target> out;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      out = *tx.targets("");
      return Status::ok();
    }));
    return out;
  }
  // One pass of what the instance controller does with each goal.
  void instanceControllerPass() {
    for (Instance i : instances()) {
      Instance before = i;
      if (i.goal == InstanceGoal::Terminate) {
        i.state = InstanceState::Terminated;
        i.frozen = false;
      } else if (i.goal == InstanceGoal::Run &&
                 (i.state == InstanceState::Pending || i.state == InstanceState::Stopped)) {
        i.state = InstanceState::Running;
        i.launchTime = clock_.now();
      } else if (i.goal == InstanceGoal::Stop && i.state == InstanceState::Running) {
        i.state = InstanceState::Stopped;
        i.frozen = false;
      } else if (i.goal == InstanceGoal::Run && i.state == InstanceState::Running) {
        i.frozen = i.hibernate;
      }
      if (!(i.state == before.state && i.frozen == before.frozen)) {
        put([&](store::Tx& tx) { return tx.putInstance(i); });
      }
    }
  }
  void pass(AutoScalingController& c) { ASSERT_TRUE(c.reconcile().isOk()); }
  // Runs the controllers until nothing changes (at most n rounds).
  void settle(AutoScalingController& c, int n = 8) {
    TargetController t(*store_, clock_);
    for (int k = 0; k < n; ++k) {
      pass(c);
      instanceControllerPass();
      ASSERT_TRUE(t.reconcile().isOk());
    }
  }
  AutoScalingControllerOptions freezer(bool canFreeze = true) {
    AutoScalingControllerOptions o;
    o.canFreeze = canFreeze;
    return o;
  }

  fs::path dir_;
  VirtualClock clock_;
  std::unique_ptr<store::Store> store_;
  model::TargetGroup tg_;
  model::AutoScalingGroup group_;
};

// The probe that holds a warm instance until its app listens: a port with a listener is up, the
// same port once closed is not (a refused connect, which a non-blocking connect may report late).
TEST(AppAcceptsConnectionsTest, TrueOnlyWhileSomethingListens) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof sa;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  model::Instance i;
  i.privateIpAddress = "127.0.0.1";
  i.port = ntohs(sa.sin_port);
  EXPECT_TRUE(appAcceptsConnections(i));
  ::close(fd);
  EXPECT_FALSE(appAcceptsConnections(i));
}

TEST_F(WarmPoolTest, PoolSizeIsMaxPreparedCapacityMinusDesiredAtLeastMinSize) {
  model::AutoScalingGroup g = group_;
  EXPECT_EQ(operations::warmPoolTargetSize(g), 3); // 5 - 2
  g.warmPool->maxGroupPreparedCapacity.reset();
  EXPECT_EQ(operations::warmPoolTargetSize(g), 8); // MaxSize 10 - 2
  g.warmPool->maxGroupPreparedCapacity = 1;
  EXPECT_EQ(operations::warmPoolTargetSize(g), 0); // below the desired capacity
  g.warmPool->minSize = 2;
  EXPECT_EQ(operations::warmPoolTargetSize(g), 2); // at least MinSize
  g.warmPool->pendingDelete = true;
  EXPECT_EQ(operations::warmPoolTargetSize(g), 0);
  g.warmPool.reset();
  EXPECT_EQ(operations::warmPoolTargetSize(g), 0);
}

TEST_F(WarmPoolTest, FillsThePoolBesideTheGroupAndStopsItsInstances) {
  putGroup();
  AutoScalingController c(*store_, clock_);
  pass(c);
  // The group's capacity first, then the pool (the next pass once the group is full).
  EXPECT_EQ(in(LifecycleState::Pending).size(), 2u);
  settle(c);
  EXPECT_EQ(in(LifecycleState::InService).size(), 2u);
  auto stopped = in(LifecycleState::WarmedStopped);
  ASSERT_EQ(stopped.size(), 3u);
  for (const Instance& i : stopped) {
    EXPECT_EQ(i.state, InstanceState::Stopped);
    EXPECT_EQ(i.goal, InstanceGoal::Stop);
  }
  // Warm instances are not registered and not the group's capacity.
  EXPECT_EQ(targets().size(), 2u);
  EXPECT_EQ(group().desiredCapacity, 2);
  // Their launches are activities, finished once warmed.
  int intoPool = 0;
  EXPECT_OK(store_->transact([&](store::Tx& tx) {
    auto acts = tx.scalingActivities("web", 100);
    for (const auto& a : *acts) {
      if (a.description.find("into warm pool") != std::string::npos) {
        ++intoPool;
        EXPECT_EQ(a.statusCode, model::ActivityStatusCode::Successful);
      }
    }
    return Status::ok();
  }));
  EXPECT_EQ(intoPool, 3);
}

TEST_F(WarmPoolTest, HibernatedPoolFreezesAndScaleOutTakesWarmInstancesFirst) {
  group_.warmPool->poolState = WarmPoolState::Hibernated;
  putGroup();
  AutoScalingController c(*store_, clock_, freezer());
  settle(c);
  auto hibernated = in(LifecycleState::WarmedHibernated);
  ASSERT_EQ(hibernated.size(), 3u);
  for (const Instance& i : hibernated) {
    EXPECT_TRUE(i.hibernate);
    EXPECT_TRUE(i.frozen);
    EXPECT_EQ(i.state, InstanceState::Running);
  }
  size_t total = instances().size();

  update([](model::AutoScalingGroup& g) { g.desiredCapacity = 3; });
  pass(c);
  // A warm instance was taken (no launch): Pending, thawing; not registered while frozen.
  EXPECT_EQ(instances().size(), total);
  auto pending = in(LifecycleState::Pending);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].instanceId, hibernated[0].instanceId);
  EXPECT_FALSE(pending[0].hibernate);
  EXPECT_TRUE(pending[0].frozen);
  pass(c);
  EXPECT_EQ(targets().size(), 2u);
  // Thawed: registered and in service on the next pass.
  instanceControllerPass();
  pass(c);
  EXPECT_EQ(in(LifecycleState::InService).size(), 3u);
  auto t = targets();
  EXPECT_EQ(std::count_if(t.begin(), t.end(),
                          [&](const model::Target& x) { return x.id == pending[0].instanceId; }),
            1);
  // The pool is now 5 - 3 = 2: nothing launched, nothing terminated.
  EXPECT_EQ(warm(), 2);
  EXPECT_EQ(instances().size(), total);

  // A step beyond the pool: the pool's two, then one cold launch.
  update([](model::AutoScalingGroup& g) { g.desiredCapacity = 6; });
  pass(c);
  EXPECT_EQ(in(LifecycleState::Pending).size(), 3u);
  EXPECT_EQ(instances().size(), total + 1);
  EXPECT_EQ(warm(), 0);
}

TEST_F(WarmPoolTest, WithoutAFreezerHibernatedInstancesStayRunning) {
  group_.warmPool->poolState = WarmPoolState::Hibernated;
  putGroup();
  AutoScalingController c(*store_, clock_, freezer(false));
  settle(c);
  auto running = in(LifecycleState::WarmedRunning);
  ASSERT_EQ(running.size(), 3u);
  for (const Instance& i : running) {
    EXPECT_FALSE(i.hibernate);
    EXPECT_EQ(i.state, InstanceState::Running);
  }
}

TEST_F(WarmPoolTest, AFreezerThatRefusesLeavesTheInstanceRunning) {
  group_.warmPool->poolState = WarmPoolState::Hibernated;
  putGroup();
  AutoScalingController c(*store_, clock_, freezer());
  settle(c);
  // As the instance controller leaves an instance whose freeze failed.
  put([&](store::Tx& tx) {
    model::AutoScalingGroup g = **tx.autoScalingGroup("web");
    g.warmPool->minSize = 4;
    return tx.putAutoScalingGroup(g);
  });
  pass(c); // launches the fourth
  instanceControllerPass();
  for (Instance i : in(LifecycleState::WarmedPending)) {
    i.stateReason = {"Server.FreezerUnavailable", "Server.FreezerUnavailable: no freezer"};
    put([&](store::Tx& tx) { return tx.putInstance(i); });
  }
  pass(c);
  EXPECT_EQ(in(LifecycleState::WarmedRunning).size(), 1u);
  EXPECT_EQ(in(LifecycleState::WarmedHibernated).size(), 3u);
}

TEST_F(WarmPoolTest, RunningPoolInstancesWaitForTheirAppThenServeAtOnce) {
  group_.warmPool->poolState = WarmPoolState::Running;
  putGroup();
  bool appUp = false;
  AutoScalingControllerOptions o;
  o.appReady = [&](const Instance&) { return appUp; };
  AutoScalingController c(*store_, clock_, o);
  settle(c);
  EXPECT_EQ(in(LifecycleState::WarmedPending).size(), 3u); // its app is not up yet
  appUp = true;
  pass(c);
  EXPECT_EQ(in(LifecycleState::WarmedRunning).size(), 3u);

  update([](model::AutoScalingGroup& g) { g.desiredCapacity = 3; });
  pass(c); // taken: Pending, running, not frozen
  pass(c); // registered and in service at once
  EXPECT_EQ(in(LifecycleState::InService).size(), 3u);
  EXPECT_EQ(targets().size(), 3u);
}

TEST_F(WarmPoolTest, AnAppThatNeverListensIsWarmedAfterTheWait) {
  group_.warmPool->poolState = WarmPoolState::Running;
  putGroup();
  AutoScalingControllerOptions o;
  o.appReady = [](const Instance&) { return false; };
  AutoScalingController c(*store_, clock_, o);
  settle(c);
  EXPECT_EQ(in(LifecycleState::WarmedPending).size(), 3u);
  clock_.advance(Millis(kWarmAppWaitMs));
  pass(c);
  EXPECT_EQ(in(LifecycleState::WarmedRunning).size(), 3u);
}

TEST_F(WarmPoolTest, StoppedInstancesStartAgainOnScaleOut) {
  putGroup();
  AutoScalingController c(*store_, clock_);
  settle(c);
  ASSERT_EQ(in(LifecycleState::WarmedStopped).size(), 3u);
  update([](model::AutoScalingGroup& g) { g.desiredCapacity = 3; });
  pass(c);
  auto pending = in(LifecycleState::Pending);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].goal, InstanceGoal::Run);
  EXPECT_EQ(pending[0].state, InstanceState::Stopped);
  pass(c); // still stopped: not marked unhealthy, not replaced
  EXPECT_EQ(in(LifecycleState::Pending).size(), 1u);
  EXPECT_EQ(pending[0].healthStatus, model::HealthStatus::Healthy);
  instanceControllerPass(); // started again
  pass(c);
  EXPECT_EQ(in(LifecycleState::InService).size(), 3u);
}

TEST_F(WarmPoolTest, ScaleInReturnsInstancesToThePoolWhenReuseIsOn) {
  group_.warmPool->reuseOnScaleIn = true;
  group_.desiredCapacity = 3;
  putGroup();
  AutoScalingController c(*store_, clock_);
  settle(c);
  ASSERT_EQ(in(LifecycleState::InService).size(), 3u);
  ASSERT_EQ(warm(), 2);
  size_t total = instances().size();

  update([](model::AutoScalingGroup& g) { g.desiredCapacity = 2; });
  pass(c);
  auto back = in(LifecycleState::WarmedPending);
  ASSERT_EQ(back.size(), 1u);
  // Its target drains first; then it stops and waits in the pool.
  bool draining = false;
  for (const auto& t : targets()) {
    draining = draining || (t.id == back[0].instanceId && t.state == TargetHealthState::Draining);
  }
  EXPECT_TRUE(draining);
  settle(c, 2);
  EXPECT_EQ(in(LifecycleState::WarmedPending).size(), 1u); // deregistration delay: 5 s
  clock_.advance(Millis(5000));
  settle(c);
  EXPECT_EQ(in(LifecycleState::WarmedStopped).size(), 3u);
  EXPECT_EQ(instances().size(), total); // nothing terminated, nothing launched
  for (const auto& t : targets()) {
    EXPECT_NE(t.id, back[0].instanceId);
  }
}

TEST_F(WarmPoolTest, ScaleInTerminatesWithoutReuse) {
  group_.desiredCapacity = 3;
  putGroup();
  AutoScalingController c(*store_, clock_);
  settle(c);
  update([](model::AutoScalingGroup& g) { g.desiredCapacity = 2; });
  pass(c);
  auto victims = in(LifecycleState::Terminating);
  ASSERT_EQ(victims.size(), 1u);
  // The pool grows by one to 3 (5 - 2) with a new launch, not with the victim.
  auto launched = in(LifecycleState::WarmedPending);
  ASSERT_EQ(launched.size(), 1u);
  EXPECT_NE(launched[0].instanceId, victims[0].instanceId);
  settle(c);
  clock_.advance(Millis(5000));
  settle(c);
  EXPECT_EQ(warm(), 3);
}

TEST_F(WarmPoolTest, DeletingThePoolTerminatesItsInstancesThenRemovesIt) {
  putGroup();
  AutoScalingController c(*store_, clock_);
  settle(c);
  ASSERT_EQ(warm(), 3);
  update([](model::AutoScalingGroup& g) { g.warmPool->pendingDelete = true; });
  pass(c);
  EXPECT_EQ(in(LifecycleState::WarmedTerminating).size(), 3u);
  EXPECT_TRUE(group().warmPool.has_value()); // PendingDelete until they are gone
  settle(c);
  EXPECT_EQ(in(LifecycleState::WarmedTerminated).size(), 3u);
  EXPECT_FALSE(group().warmPool.has_value());
  EXPECT_EQ(in(LifecycleState::InService).size(), 2u); // the group's own are untouched
}

TEST_F(WarmPoolTest, AForceDeletedPoolGoesAtOnceAndItsInstancesAfter) {
  putGroup();
  AutoScalingController c(*store_, clock_);
  settle(c);
  update([](model::AutoScalingGroup& g) { g.warmPool.reset(); });
  settle(c);
  EXPECT_EQ(warm(), 0);
  EXPECT_EQ(in(LifecycleState::WarmedTerminated).size(), 3u);
}

TEST_F(WarmPoolTest, AShrunkPoolTerminatesTheSlowestFirst) {
  putGroup();
  AutoScalingController c(*store_, clock_);
  settle(c);
  update([](model::AutoScalingGroup& g) { g.warmPool->maxGroupPreparedCapacity = 3; });
  pass(c);
  EXPECT_EQ(in(LifecycleState::WarmedTerminating).size(), 2u);
  settle(c);
  EXPECT_EQ(warm(), 1);
}

TEST_F(WarmPoolTest, ADeletedGroupTakesItsPoolWithIt) {
  putGroup();
  AutoScalingController c(*store_, clock_);
  settle(c);
  update([](model::AutoScalingGroup& g) { g.deleting = true; });
  settle(c);
  clock_.advance(Millis(5000));
  settle(c);
  bool exists = true;
  EXPECT_OK(store_->transact([&](store::Tx& tx) {
    exists = tx.autoScalingGroup("web")->has_value();
    return Status::ok();
  }));
  EXPECT_FALSE(exists);
  EXPECT_EQ(warm(), 0);
}

} // namespace
} // namespace tide::control
