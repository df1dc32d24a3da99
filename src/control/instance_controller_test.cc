// The instance controller under a virtual clock with a fake provider: every transition of the
// state machine, deterministically.
#include "common/status_testing.h"
#include "control/instance_controller.h"
#include "control/instance_test_workspace.h"

#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <unistd.h>

namespace tide::control {
namespace {

namespace fs = std::filesystem;
using model::InstanceGoal;
using model::InstanceState;

class FakeProvider final : public runtime::InstanceProvider {
public:
  struct Proc {
    bool alive = true;
    std::vector<int> signals;
    bool exitsOnTerm = true;
  };

  Result<runtime::ProcessRef> start(const runtime::LaunchSpec& spec) override {
    if (failStart) {
      return internalError("exec failed");
    }
    lastSpec = spec;
    disks.insert(spec.instanceId);
    procs[spec.instanceId] = Proc{true, {}, exitsOnTerm};
    return runtime::ProcessRef{nextPid++, 77};
  }
  runtime::ProcessStatus status(const std::string& id, const runtime::ProcessRef&) override {
    auto it = procs.find(id);
    if (it == procs.end() || !it->second.alive) {
      return {runtime::ProcessState::Exited, "exited with status 3"};
    }
    return {runtime::ProcessState::Running, ""};
  }
  Status signal(const std::string& id, const runtime::ProcessRef& ref, int sig) override {
    auto it = procs.find(id);
    if (it == procs.end() || ref.pid == 0) {
      return Status::ok();
    }
    it->second.signals.push_back(sig);
    if (sig == SIGKILL || (sig == SIGTERM && it->second.exitsOnTerm)) {
      it->second.alive = false;
    }
    return Status::ok();
  }
  Result<runtime::Usage> usage(const std::string& id, const runtime::ProcessRef&) override {
    return runtime::Usage{cpuNanos[id], 1 << 20};
  }
  int64_t oomKills(const std::string& id) const override {
    auto it = ooms.find(id);
    return it == ooms.end() ? 0 : it->second;
  }
  Status releaseProcess(const std::string& id) override {
    released.push_back(id);
    ooms.erase(id); // the count goes with the cgroup
    return Status::ok();
  }
  Status destroy(const std::string& id) override {
    destroyed.push_back(id);
    disks.erase(id);
    procs.erase(id);
    return Status::ok();
  }
  std::string diskPath(const std::string& id) const override {
    return disks.count(id) ? "/disk/" + id : "";
  }
  std::string consoleLogPath(const std::string& id) const override { return "/log/" + id; }
  std::vector<std::string> knownInstances() const override { return {disks.begin(), disks.end()}; }
  runtime::ProviderInfo info() const override { return {"none", "", "copy", ""}; }

  bool failStart = false;
  bool exitsOnTerm = true;
  int nextPid = 1000;
  runtime::LaunchSpec lastSpec;
  std::map<std::string, Proc> procs;
  std::map<std::string, uint64_t> cpuNanos;
  std::map<std::string, int64_t> ooms; // OOM kills in the instance's cgroup
  std::set<std::string> disks;
  std::vector<std::string> released, destroyed;
};

class InstanceControllerTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_OK(ws_.open("tide-control-test"));
    InstanceControllerOptions o;
    o.terminationGrace = Millis(5000);
    o.terminatedRetention = Millis(60'000);
    controller_ =
        std::make_unique<InstanceController>(*ws_.store, provider_, *ws_.images, clock_, o);
  }

  std::string addInstance(const std::string& type = "t3.micro") {
    return ws_.addInstance(type, {{"MODE", "test"}});
  }
  model::Instance get(const std::string& id) { return ws_.get(id); }
  void setGoal(const std::string& id, InstanceGoal goal) { ws_.setGoal(id, goal); }
  bool exists(const std::string& id) {
    bool found = false;
    EXPECT_OK(ws_.store->transact([&](store::Tx& tx) {
      found = tx.instance(id)->has_value();
      return Status::ok();
    }));
    return found;
  }
  void pass() { ASSERT_TRUE(controller_->reconcile().isOk()); }

  VirtualClock clock_;
  FakeProvider provider_;
  InstanceTestWorkspace ws_; // before the controller, which uses its store
  std::unique_ptr<InstanceController> controller_;
};

TEST_F(InstanceControllerTest, LaunchesPendingInstancesWithTheirEnvironmentAndLimits) {
  std::string id = addInstance();
  pass();
  model::Instance i = get(id);
  EXPECT_EQ(i.state, InstanceState::Running);
  EXPECT_EQ(i.pid, 1000);
  EXPECT_EQ(i.processStartTicks, 77u);
  const runtime::LaunchSpec& spec = provider_.lastSpec;
  EXPECT_EQ(spec.command, "python3 server.py");
  EXPECT_EQ(spec.cpuCores, 0.25);
  EXPECT_EQ(spec.imageRootfs, ws_.images->rootfsPath(ws_.digest));
  std::map<std::string, std::string> env(spec.environment.begin(), spec.environment.end());
  EXPECT_EQ(env["HOST"], "127.1.0.1");
  EXPECT_EQ(env["PORT"], "8080");
  EXPECT_EQ(env["TIDE_INSTANCE_ID"], id);
  EXPECT_EQ(env["MODE"], "test");
}

// What an instance needs to call the API about itself (a lifecycle hook answered from user
// data): the endpoint, region and group; the template's Environment wins over them.
TEST_F(InstanceControllerTest, InstancesAreToldWhereTheApiIs) {
  controller_->setApiEndpoint("http://127.0.0.1:4566", "eu-west-3");
  std::string id = addInstance();
  model::Instance i = get(id);
  i.autoScalingGroupName = "web";
  i.environment = {{"AWS_REGION", "us-west-2"}};
  EXPECT_OK(ws_.store->transact([&](store::Tx& tx) { return tx.putInstance(i); }));
  pass();
  std::map<std::string, std::string> env;
  for (const auto& [k, v] : provider_.lastSpec.environment) {
    EXPECT_TRUE(env.emplace(k, v).second) << k << " given twice";
  }
  EXPECT_EQ(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:4566");
  EXPECT_EQ(env["TIDE_ENDPOINT"], "http://127.0.0.1:4566");
  EXPECT_EQ(env["AWS_DEFAULT_REGION"], "eu-west-3");
  EXPECT_EQ(env["AWS_REGION"], "us-west-2"); // the template's
  EXPECT_EQ(env["TIDE_AUTO_SCALING_GROUP_NAME"], "web");
}

TEST_F(InstanceControllerTest, TerminationSendsTermThenKillAfterGraceAndRemovesEverything) {
  provider_.exitsOnTerm = false; // an app that ignores SIGTERM
  std::string id = addInstance();
  pass();
  setGoal(id, InstanceGoal::Terminate);
  pass();
  EXPECT_EQ(get(id).state, InstanceState::ShuttingDown);
  EXPECT_EQ(provider_.procs[id].signals, std::vector<int>{SIGTERM});
  clock_.advance(Millis(4999));
  pass();
  EXPECT_EQ(get(id).state, InstanceState::ShuttingDown);
  EXPECT_EQ(provider_.procs[id].signals.size(), 1u);
  clock_.advance(Millis(1));
  pass(); // grace is over: SIGKILL
  EXPECT_EQ(provider_.procs[id].signals.back(), SIGKILL);
  pass(); // the process is gone: cleanup
  model::Instance i = get(id);
  EXPECT_EQ(i.state, InstanceState::Terminated);
  EXPECT_EQ(i.stateReason.code, "Client.UserInitiatedShutdown");
  EXPECT_TRUE(i.privateIpAddress.empty());
  EXPECT_EQ(provider_.destroyed, std::vector<std::string>{id});
  // Terminated records go after the retention period.
  clock_.advance(Millis(59'999));
  pass();
  EXPECT_TRUE(exists(id));
  clock_.advance(Millis(1));
  pass();
  EXPECT_FALSE(exists(id));
}

TEST_F(InstanceControllerTest, AppExitStopsTheInstanceAndStartRelaunchesOnTheSameDisk) {
  std::string id = addInstance();
  pass();
  provider_.procs[id].alive = false; // the app crashed
  pass();
  model::Instance i = get(id);
  EXPECT_EQ(i.state, InstanceState::Stopped);
  EXPECT_EQ(i.goal, InstanceGoal::Stop);
  EXPECT_EQ(i.stateReason.code, "Client.InstanceInitiatedShutdown");
  EXPECT_EQ(i.lastExit, "exited with status 3");
  EXPECT_EQ(i.privateIpAddress, "127.1.0.1"); // stopped instances keep their address
  EXPECT_TRUE(provider_.destroyed.empty());   // and their files
  setGoal(id, InstanceGoal::Run);
  pass();
  i = get(id);
  EXPECT_EQ(i.state, InstanceState::Running);
  EXPECT_EQ(i.pid, 1001);
}

// Limits (docs/reliability.md, "Limits"): the type's memory and process count go to the cgroup;
// an OOM kill fails the instance's status check (impaired) and it stays running, as in EC2.
TEST_F(InstanceControllerTest, TheTypesMemoryAndProcessLimitsGoToTheProvider) {
  addInstance("t3.small");
  pass();
  EXPECT_EQ(provider_.lastSpec.memoryBytes, 128 << 20);
  EXPECT_EQ(provider_.lastSpec.pidsMax, 256);
}

TEST_F(InstanceControllerTest, AnOomKilledChildMakesTheInstanceImpairedAndItKeepsRunning) {
  std::string id = addInstance();
  pass();
  EXPECT_EQ(get(id).impairedSince, 0);
  clock_.advance(Millis(1500));
  provider_.ooms[id] = 1; // a child of the app allocated past the limit
  pass();
  model::Instance i = get(id);
  EXPECT_EQ(i.state, InstanceState::Running);
  EXPECT_EQ(i.impairedSince, clock_.now());
  TimeMs since = i.impairedSince;
  clock_.advance(Millis(1000));
  pass();
  EXPECT_EQ(get(id).impairedSince, since); // still failing since then
  // A stop and a start is a new boot: the check passes again.
  setGoal(id, InstanceGoal::Stop);
  pass();
  pass();
  EXPECT_EQ(get(id).state, InstanceState::Stopped);
  EXPECT_EQ(get(id).impairedSince, 0);
  setGoal(id, InstanceGoal::Run);
  pass();
  EXPECT_EQ(get(id).state, InstanceState::Running);
  EXPECT_EQ(get(id).impairedSince, 0);
}

TEST_F(InstanceControllerTest, AnOomKilledAppLeavesTheInstanceRunningImpairedUntilEnded) {
  std::string id = addInstance();
  pass();
  provider_.ooms[id] = 1;
  provider_.procs[id].alive = false; // the kernel killed the app itself
  pass();
  model::Instance i = get(id);
  EXPECT_EQ(i.state, InstanceState::Running); // not an instance-initiated shutdown
  EXPECT_NE(i.impairedSince, 0);
  EXPECT_EQ(i.pid, 0);
  EXPECT_EQ(i.lastExit, "exited with status 3");
  EXPECT_EQ(provider_.released.back(), id); // what was left in its cgroup is gone
  pass();
  EXPECT_EQ(get(id).state, InstanceState::Running);
  EXPECT_TRUE(provider_.procs[id].signals.empty()); // never a signal to pid 0
  setGoal(id, InstanceGoal::Terminate);
  pass();
  i = get(id);
  EXPECT_EQ(i.state, InstanceState::Terminated);
  EXPECT_TRUE(provider_.procs.count(id) == 0);
}

TEST_F(InstanceControllerTest, StopKeepsTheDisk) {
  std::string id = addInstance();
  pass();
  setGoal(id, InstanceGoal::Stop);
  pass();
  EXPECT_EQ(get(id).state, InstanceState::Stopping);
  pass();
  EXPECT_EQ(get(id).state, InstanceState::Stopped);
  EXPECT_EQ(get(id).stateReason.code, "Client.UserInitiatedShutdown");
  EXPECT_TRUE(provider_.disks.count(id));
  setGoal(id, InstanceGoal::Terminate);
  pass();
  EXPECT_EQ(get(id).state, InstanceState::Terminated);
  EXPECT_FALSE(provider_.disks.count(id));
}

TEST_F(InstanceControllerTest, FailedLaunchTerminatesWithAReason) {
  provider_.failStart = true;
  std::string id = addInstance();
  pass();
  model::Instance i = get(id);
  EXPECT_EQ(i.state, InstanceState::Terminated);
  EXPECT_EQ(i.stateReason.code, "Server.InternalError");
  EXPECT_NE(i.stateReason.message.find("exec failed"), std::string::npos);
}

TEST_F(InstanceControllerTest, CpuUtilizationIsAShareOfTheTypesQuota) {
  std::string id = addInstance("t3.micro"); // 0.25 cores
  pass();
  auto first = controller_->sample();
  ASSERT_TRUE(first.isOk());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_LT((*first)[0].usage.cpuUtilization, 0); // one sample is not a rate yet
  clock_.advance(Millis(1000));
  provider_.cpuNanos[id] = 125'000'000; // half of a quarter core for one second
  auto second = controller_->sample();
  ASSERT_TRUE(second.isOk());
  ASSERT_EQ(second->size(), 1u);
  const InstanceReading& r = (*second)[0];
  EXPECT_EQ(r.instanceId, id);
  EXPECT_EQ(r.instanceType, "t3.micro");
  EXPECT_EQ(r.imageId, "ami-00000000000000001");
  EXPECT_NEAR(r.usage.cpuUtilization, 50.0, 0.01);
  EXPECT_EQ(r.usage.memoryBytes, 1 << 20);
  // The latest reading is kept for DescribeInstances.
  ASSERT_TRUE(controller_->usage(id).has_value());
  EXPECT_NEAR(controller_->usage(id)->cpuUtilization, 50.0, 0.01);
  EXPECT_EQ(controller_->usage(id)->memoryBytes, 1 << 20);
}

TEST_F(InstanceControllerTest, SamplesStayInMemoryAndNeverWriteTheStore) {
  std::vector<std::string> ids;
  for (int k = 0; k < 3; ++k) {
    ids.push_back(addInstance("t3.nano"));
  }
  pass();
  uint64_t writes = ws_.store->writeCommits();
  for (int second = 1; second <= 5; ++second) {
    clock_.advance(Millis(1000));
    for (const auto& id : ids) {
      provider_.cpuNanos[id] += 10'000'000;
    }
    auto readings = controller_->sample();
    ASSERT_TRUE(readings.isOk());
    EXPECT_EQ(readings->size(), ids.size());
  }
  EXPECT_EQ(ws_.store->writeCommits(), writes); // no write per sample
  EXPECT_TRUE(controller_->usage(ids[0]).has_value());
}

TEST_F(InstanceControllerTest, ReadingsGoWithTheProcessAndStartOverAfterARestart) {
  std::string id = addInstance("t3.micro");
  pass();
  ASSERT_TRUE(controller_->sample().isOk());
  ASSERT_TRUE(controller_->usage(id).has_value());
  EXPECT_EQ(controller_->usage(id)->memoryBytes, 1 << 20);
  // A new controller on the same store (a server restart) has no reading until it samples.
  InstanceController restarted(*ws_.store, provider_, *ws_.images, clock_, {});
  EXPECT_FALSE(restarted.usage(id).has_value());
  ASSERT_TRUE(restarted.sample().isOk());
  EXPECT_TRUE(restarted.usage(id).has_value());
  // The process ends: its reading goes with it.
  setGoal(id, InstanceGoal::Stop);
  pass();
  ASSERT_EQ(get(id).state, InstanceState::Stopping);
  EXPECT_TRUE(controller_->usage(id).has_value()); // still there while it stops
  pass();
  ASSERT_EQ(get(id).state, InstanceState::Stopped);
  EXPECT_FALSE(controller_->usage(id).has_value());
  ASSERT_TRUE(restarted.sample().isOk());
  EXPECT_FALSE(restarted.usage(id).has_value());
}

TEST_F(InstanceControllerTest, LaunchesInBatchesSoTheLoopStaysResponsive) {
  std::vector<std::string> ids;
  for (int k = 0; k < 12; ++k) {
    ids.push_back(addInstance("t3.nano"));
  }
  auto next = controller_->reconcile();
  ASSERT_TRUE(next.isOk());
  EXPECT_EQ(next->count(), 0); // more to launch: run again at once
  int running = 0;
  for (const auto& id : ids) {
    running += get(id).state == InstanceState::Running;
  }
  EXPECT_EQ(running, 10);
  pass();
  for (const auto& id : ids) {
    EXPECT_EQ(get(id).state, InstanceState::Running);
  }
}

TEST_F(InstanceControllerTest, RemovesLeftoversOfUnknownInstances) {
  std::string id = addInstance();
  pass();
  provider_.disks.insert("i-0000000000000dead");
  controller_->removeLeftovers();
  EXPECT_EQ(provider_.destroyed, std::vector<std::string>{"i-0000000000000dead"});
  EXPECT_TRUE(provider_.disks.count(id));
}

} // namespace
} // namespace tide::control
