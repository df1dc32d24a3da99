// A first launch's disk is made on the instance controller's workers (disk_preparer.h): the
// instance stays pending meanwhile, a stop or terminate cancels the preparation, a failed one
// ends the instance with its reason. A fake provider whose disks are made only when the test
// opens a gate stands for a long copy; no test depends on timing.
#include "common/status_testing.h"
#include "control/instance_controller.h"
#include "control/instance_test_workspace.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <unistd.h>

namespace tide::control {
namespace {

namespace fs = std::filesystem;
using model::InstanceGoal;
using model::InstanceState;

// Disks are made by prepareDisk() (on the preparer's worker), which waits for the gate or a
// cancel; start() only records the start. Thread-safe where the worker reaches it.
class GatedProvider final : public runtime::InstanceProvider {
public:
  bool diskReady(const std::string& id) const override {
    std::lock_guard<std::mutex> lock(mu);
    return disks.count(id) > 0;
  }
  Status prepareDisk(const runtime::LaunchSpec& spec, const std::atomic<bool>* cancel) override {
    std::unique_lock<std::mutex> lock(mu);
    ++preparing;
    cv.notify_all();
    while (!open && !cancel->load()) { // a cancel is a flag, as for a copy that polls it
      cv.wait_for(lock, std::chrono::milliseconds(10));
    }
    --preparing;
    ++prepared;
    if (cancel->load()) {
      return Status("Cancelled", "cancelled");
    }
    if (!failWith.empty()) {
      return internalError(failWith);
    }
    disks.insert(spec.instanceId);
    return Status::ok();
  }
  void openGate() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  // Blocks until n preparations are waiting at the gate.
  void waitPreparing(int n) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return preparing >= n; });
  }

  Result<runtime::ProcessRef> start(const runtime::LaunchSpec& spec) override {
    std::lock_guard<std::mutex> lock(mu);
    ++starts;
    disks.insert(spec.instanceId); // a start makes the disk itself when it was not prepared
    alive.insert(spec.instanceId);
    return runtime::ProcessRef{1000 + starts, 77};
  }
  runtime::ProcessStatus status(const std::string& id, const runtime::ProcessRef&) override {
    std::lock_guard<std::mutex> lock(mu);
    return alive.count(id) ? runtime::ProcessStatus{runtime::ProcessState::Running, ""}
                           : runtime::ProcessStatus{runtime::ProcessState::Exited, "exited"};
  }
  Status signal(const std::string& id, const runtime::ProcessRef&, int) override {
    std::lock_guard<std::mutex> lock(mu);
    alive.erase(id);
    return Status::ok();
  }
  Result<runtime::Usage> usage(const std::string&, const runtime::ProcessRef&) override {
    return runtime::Usage{0, 1 << 20};
  }
  Status releaseProcess(const std::string&) override { return Status::ok(); }
  Status destroy(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu);
    destroyed.push_back(id);
    disks.erase(id);
    alive.erase(id);
    return Status::ok();
  }
  std::string diskPath(const std::string& id) const override {
    return diskReady(id) ? "/disk/" + id : "";
  }
  std::string consoleLogPath(const std::string& id) const override { return "/log/" + id; }
  std::vector<std::string> knownInstances() const override { return {}; }
  runtime::ProviderInfo info() const override { return {"none", "", "copy", ""}; }

  mutable std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  std::string failWith; // a preparation fails with this message when set
  int preparing = 0;    // waiting at the gate
  int prepared = 0;     // ended
  int starts = 0;
  std::set<std::string> disks, alive;
  std::vector<std::string> destroyed;
};

class LaunchPreparationTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_OK(ws_.open("tide-launch-prep-test"));
    InstanceControllerOptions o;
    o.maxLaunchesPerPass = 3;
    o.preparation.workers = 2;
    controller_ =
        std::make_unique<InstanceController>(*ws_.store, provider_, *ws_.images, clock_, o);
  }
  void TearDown() override {
    provider_.openGate();
    controller_.reset();
  }

  std::string addInstance() { return ws_.addInstance(); }
  model::Instance get(const std::string& id) { return ws_.get(id); }
  void setGoal(const std::string& id, InstanceGoal goal) { ws_.setGoal(id, goal); }
  Millis pass() {
    auto r = controller_->reconcile();
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    return r.isOk() ? *r : Millis(0);
  }

  VirtualClock clock_;
  GatedProvider provider_;
  InstanceTestWorkspace ws_; // before the controller, which uses its store
  std::unique_ptr<InstanceController> controller_;
};

TEST_F(LaunchPreparationTest, AFirstLaunchStaysPendingWhileItsDiskIsMadeThenRuns) {
  std::string id = addInstance();
  EXPECT_EQ(pass(), Millis(100)); // busy: looks again soon
  provider_.waitPreparing(1);
  // The pass returned while the disk is being made: the instance is pending, nothing started.
  EXPECT_EQ(get(id).state, InstanceState::Pending);
  pass();
  pass();
  EXPECT_EQ(get(id).state, InstanceState::Pending);
  EXPECT_EQ(provider_.starts, 0);

  provider_.openGate();
  controller_->waitForPreparations();
  pass();
  model::Instance i = get(id);
  EXPECT_EQ(i.state, InstanceState::Running);
  EXPECT_EQ(provider_.starts, 1);
  EXPECT_EQ(provider_.prepared, 1);
}

TEST_F(LaunchPreparationTest, ARestartOnAKeptDiskStartsAtOnce) {
  std::string id = addInstance();
  provider_.openGate();
  pass();
  controller_->waitForPreparations();
  pass();
  ASSERT_EQ(get(id).state, InstanceState::Running);
  setGoal(id, InstanceGoal::Stop);
  pass(); // SIGTERM: stopping
  pass(); // gone: stopped, disk kept
  ASSERT_EQ(get(id).state, InstanceState::Stopped);
  setGoal(id, InstanceGoal::Run);
  pass();
  EXPECT_EQ(get(id).state, InstanceState::Running);
  EXPECT_EQ(provider_.prepared, 1);
  EXPECT_EQ(provider_.starts, 2);
}

TEST_F(LaunchPreparationTest, ATerminateDuringThePreparationCancelsItAndRemovesEverything) {
  std::string id = addInstance();
  pass();
  provider_.waitPreparing(1);
  setGoal(id, InstanceGoal::Terminate);
  pass(); // cancels the preparation; the instance waits for it to end
  controller_->waitForPreparations();
  pass();
  model::Instance i = get(id);
  EXPECT_EQ(i.state, InstanceState::Terminated);
  EXPECT_EQ(i.stateReason.code, "Client.UserInitiatedShutdown");
  EXPECT_EQ(provider_.starts, 0);
  EXPECT_EQ(provider_.destroyed, std::vector<std::string>{id});
  EXPECT_FALSE(provider_.diskReady(id));
}

TEST_F(LaunchPreparationTest, AStopDuringThePreparationStopsAndTheNextStartPreparesAgain) {
  std::string id = addInstance();
  pass();
  provider_.waitPreparing(1);
  setGoal(id, InstanceGoal::Stop);
  pass();
  controller_->waitForPreparations();
  pass();
  EXPECT_EQ(get(id).state, InstanceState::Stopped);
  EXPECT_EQ(provider_.starts, 0);

  provider_.openGate();
  setGoal(id, InstanceGoal::Run);
  pass();
  EXPECT_EQ(get(id).state, InstanceState::Pending);
  controller_->waitForPreparations();
  pass();
  EXPECT_EQ(get(id).state, InstanceState::Running);
  EXPECT_EQ(provider_.prepared, 2);
}

TEST_F(LaunchPreparationTest, AFailedPreparationEndsTheInstanceWithItsReason) {
  provider_.failWith = "cannot write disk.tmp/blob-003: No space left on device";
  provider_.openGate();
  std::string id = addInstance();
  pass();
  controller_->waitForPreparations();
  pass();
  model::Instance i = get(id);
  EXPECT_EQ(i.state, InstanceState::Terminated);
  EXPECT_EQ(i.stateReason.code, "Server.InternalError");
  EXPECT_EQ(i.stateReason.message, "Server.InternalError: Internal error on launch: cannot write "
                                   "disk.tmp/blob-003: No space left on device");
  EXPECT_EQ(provider_.starts, 0);
  EXPECT_EQ(provider_.destroyed, std::vector<std::string>{id});
}

// Launches whose disks are being made cost a pass nothing: more of them than a pass launches
// do not make the controller run again at once (which would spin while they wait).
TEST_F(LaunchPreparationTest, ManyPreparationsWaitInTheQueueWithoutSpinning) {
  std::vector<std::string> ids;
  for (int k = 0; k < 7; ++k) {
    ids.push_back(addInstance());
  }
  EXPECT_EQ(pass(), Millis(0)); // 3 of 7 this pass (maxLaunchesPerPass), the rest at once
  EXPECT_EQ(pass(), Millis(0));
  EXPECT_EQ(pass(), Millis(100)); // all 7 queued: busy, not deferred
  provider_.waitPreparing(2);     // two workers
  EXPECT_EQ(pass(), Millis(100));
  provider_.openGate();
  for (int k = 0; k < 10 && provider_.starts < 7; ++k) {
    controller_->waitForPreparations();
    pass();
  }
  for (const std::string& id : ids) {
    EXPECT_EQ(get(id).state, InstanceState::Running) << id;
  }
  EXPECT_EQ(provider_.prepared, 7);
}

// The server stopping cancels the preparations; the instances stay pending (the next server
// prepares them again).
TEST_F(LaunchPreparationTest, StoppingCancelsPreparationsAndLeavesThePendingInstances) {
  std::string id = addInstance();
  pass();
  provider_.waitPreparing(1);
  controller_->stopPreparations();
  EXPECT_EQ(get(id).state, InstanceState::Pending);
  EXPECT_EQ(provider_.starts, 0);
  EXPECT_FALSE(provider_.diskReady(id));
}

} // namespace
} // namespace tide::control
