// A start that hangs is timed out and the instance replaced: the real spawn (whose setup blocks
// on a fifo standing for a cgroup that never answers, with a short timeout) under the real
// instance and Auto Scaling controllers on a virtual clock.
#include "common/status_testing.h"
#include "control/auto_scaling_controller.h"
#include "control/instance_controller.h"
#include "runtime/process.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace tide::control {
namespace {

namespace fs = std::filesystem;
using model::Instance;
using model::InstanceState;

// Starts: the first one through spawnProcess with a setup that hangs; the others succeed
// without a process (the fake's own bookkeeping).
class HangingProvider final : public runtime::InstanceProvider {
public:
  explicit HangingProvider(fs::path dir) : dir_(std::move(dir)) {}

  Result<runtime::ProcessRef> start(const runtime::LaunchSpec& spec) override {
    ++starts;
    if (starts == 1) {
      runtime::SpawnRequest req;
      req.path = "/bin/true";
      req.argv = {"true"};
      req.workingDir = dir_.string();
      req.consolePath = (dir_ / "console.log").string();
      req.cgroupProcsFiles = {(dir_ / "hung.procs").string()}; // a fifo nobody reads
      req.setupTimeoutMs = 200;
      Result<int> pid = runtime::spawnProcess(req);
      if (!pid) {
        return pid.status();
      }
      return runtime::ProcessRef{*pid, 1};
    }
    alive.insert(spec.instanceId);
    return runtime::ProcessRef{int(1000 + starts), 77};
  }
  runtime::ProcessStatus status(const std::string& id, const runtime::ProcessRef&) override {
    return alive.count(id) ? runtime::ProcessStatus{runtime::ProcessState::Running, ""}
                           : runtime::ProcessStatus{runtime::ProcessState::Exited, "exited"};
  }
  Status signal(const std::string& id, const runtime::ProcessRef&, int) override {
    alive.erase(id);
    return Status::ok();
  }
  Result<runtime::Usage> usage(const std::string&, const runtime::ProcessRef&) override {
    return runtime::Usage{0, 1 << 20};
  }
  Status releaseProcess(const std::string&) override { return Status::ok(); }
  Status destroy(const std::string& id) override {
    alive.erase(id);
    return Status::ok();
  }
  std::string diskPath(const std::string&) const override { return ""; }
  std::string consoleLogPath(const std::string& id) const override { return "/log/" + id; }
  std::vector<std::string> knownInstances() const override { return {}; }
  runtime::ProviderInfo info() const override { return {"none", "", "copy", ""}; }

  int starts = 0;
  std::set<std::string> alive;

private:
  fs::path dir_;
};

TEST(HungStart, AStartThatHangsIsTimedOutTerminatedWithAReasonAndReplacedByItsGroup) {
  fs::path dir = fs::temp_directory_path() / ("tide-hung-start-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "app");
  ASSERT_EQ(mkfifo((dir / "hung.procs").c_str(), 0600), 0);
  std::ofstream(dir / "app" / "server.py") << "print('hi')\n";
  auto store = std::move(*store::openSqliteStore((dir / "state.db").string()));
  runtime::ImageStore images((dir / "images").string());
  auto content = images.importDirectory((dir / "app").string());
  ASSERT_TRUE(content.isOk()) << content.status().toString();

  model::Image img;
  img.imageId = "ami-00000000000000001";
  img.name = "app";
  img.state = model::ImageState::Available;
  img.runCommand = "python3 server.py";
  img.contentDigest = content->digest;
  model::LaunchTemplate lt;
  lt.launchTemplateId = "lt-00000000000000001";
  lt.launchTemplateName = "app";
  model::LaunchTemplateVersion v;
  v.launchTemplateId = lt.launchTemplateId;
  v.launchTemplateName = lt.launchTemplateName;
  v.data.imageId = img.imageId;
  v.data.instanceType = "t3.micro";
  model::AutoScalingGroup group;
  group.autoScalingGroupName = "web";
  group.launchTemplateId = lt.launchTemplateId;
  group.launchTemplateName = lt.launchTemplateName;
  group.minSize = 1;
  group.maxSize = 2;
  group.desiredCapacity = 1;
  ASSERT_OK(store->transact([&](store::Tx& tx) {
    TIDE_RETURN_IF_ERROR(tx.putImage(img));
    TIDE_RETURN_IF_ERROR(tx.putLaunchTemplate(lt));
    TIDE_RETURN_IF_ERROR(tx.insertLaunchTemplateVersion(v));
    return tx.putAutoScalingGroup(group);
  }));

  VirtualClock clock;
  HangingProvider provider(dir);
  InstanceController instances(*store, provider, images, clock, {});
  AutoScalingController groups(*store, clock);
  auto all = [&] {
    std::vector<Instance> out;
    EXPECT_OK(store->transact([&](store::Tx& tx) -> Status {
      TIDE_ASSIGN_OR_RETURN(out, tx.instances());
      return Status::ok();
    }));
    return out;
  };

  auto started = std::chrono::steady_clock::now();
  for (int round = 0; round < 20; ++round) {
    ASSERT_TRUE(groups.reconcile().isOk());
    ASSERT_TRUE(instances.reconcile().isOk());
    clock.advance(Millis(10'000)); // past any launch backoff
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));

  std::vector<Instance> list = all();
  ASSERT_GE(list.size(), 2u);
  // The first start hung: the instance failed as EC2 fails a launch.
  EXPECT_EQ(list[0].state, InstanceState::Terminated);
  EXPECT_EQ(list[0].stateReason.code, "Server.InternalError");
  EXPECT_NE(list[0].stateReason.message.find("did not finish its setup"), std::string::npos)
      << list[0].stateReason.message;
  // Its group replaced it: one instance running, the desired capacity.
  int running = 0;
  for (const Instance& i : list) {
    running += i.state == InstanceState::Running ? 1 : 0;
  }
  EXPECT_EQ(running, 1);
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1); // the hung child was reaped
  fs::remove_all(dir);
}

} // namespace
} // namespace tide::control
