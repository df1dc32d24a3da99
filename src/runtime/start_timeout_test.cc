// A start whose setup hangs (before exec) is ended after its timeout instead of holding the
// control thread: here a "cgroup.procs" that is a fifo nobody reads, so the child's open()
// blocks as it would on a cgroup that never answers.
#include "runtime/process.h"
#include "runtime/test_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>

namespace tide::runtime {
namespace {

using testing::TempDir;

TEST(StartTimeout, AHungSetupIsKilledAfterItsTimeoutAndLeavesNoChild) {
  TempDir dir;
  const std::string fifo = dir / "cgroup.procs";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  SpawnRequest req;
  req.path = "/bin/true";
  req.argv = {"true"};
  req.workingDir = dir.path();
  req.consolePath = dir / "console.log";
  req.cgroupProcsFiles = {fifo};
  req.setupTimeoutMs = 300;
  auto started = std::chrono::steady_clock::now();
  auto pid = spawnProcess(req);
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(pid.isOk());
  EXPECT_EQ(pid.status().code(), "InternalError");
  EXPECT_NE(pid.status().message().find("did not finish its setup"), std::string::npos)
      << pid.status().toString();
  EXPECT_NE(pid.status().message().find("0.3 s"), std::string::npos) << pid.status().toString();
  EXPECT_GE(took, std::chrono::milliseconds(300));
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1); // killed and reaped: nothing left
  EXPECT_EQ(errno, ECHILD);
}

TEST(StartTimeout, ANormalStartIsNotTouchedByTheTimeout) {
  TempDir dir;
  SpawnRequest req;
  req.path = "/bin/sh";
  req.argv = {"sh", "-c", "exit 4"};
  req.workingDir = dir.path();
  req.consolePath = dir / "console.log";
  req.setupTimeoutMs = 5000;
  auto pid = spawnProcess(req);
  ASSERT_TRUE(pid.isOk()) << pid.status().toString();
  int status = 0;
  ASSERT_EQ(waitpid(*pid, &status, 0), *pid);
  EXPECT_EQ(describeWaitStatus(status), "exited with status 4");
  EXPECT_EQ(kDefaultSetupTimeoutMs, 10'000);
}

} // namespace
} // namespace tide::runtime
