#include "runtime/local_provider.h"

#include "common/ids.h"
#include "common/text.h"
#include "runtime/image_store.h"
#include "runtime/mountinfo.h"
#include "runtime/process.h"
#include "runtime/test_util.h"

#include <gtest/gtest.h>

#include <atomic>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace tide::runtime {
namespace {

using testing::readText;
using testing::TempDir;
using testing::waitFor;
using testing::writeFile;
namespace fs = std::filesystem;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class LocalProviderTest : public ::testing::Test {
protected:
  void SetUp() override {
    fs::create_directories(tmp_ / "app");
    writeFile(tmp_ / "app/data.txt", "original\n");
    writeFile(tmp_ / "app/run.sh", "#!/bin/sh\necho running-script\n", 0755);
    ImageStore store(tmp_ / "images");
    auto image = store.importDirectory(tmp_ / "app");
    ASSERT_TRUE(image.isOk()) << image.status().toString();
    rootfs_ = store.rootfsPath(image->digest);
  }

  void TearDown() override {
    for (auto& [provider, id] : started_) {
      Status s = provider->destroy(id);
      EXPECT_TRUE(s.isOk()) << s.toString();
    }
  }

  // Providers live until the end of the test, after TearDown has destroyed their instances.
  LocalProvider* makeProvider(const std::string& cgroupMode = "auto",
                              const std::string& diskMode = "auto",
                              const std::string& v2Root = "") {
    LocalProviderOptions o;
    o.root = tmp_ / "instances";
    o.cgroupMode = cgroupMode;
    o.diskMode = diskMode;
    o.cgroupV2Root = v2Root;
    providers_.push_back(std::make_unique<LocalProvider>(o));
    return providers_.back().get();
  }

  LaunchSpec spec(const std::string& command) {
    LaunchSpec s;
    s.instanceId = newId("i");
    s.imageRootfs = rootfs_;
    s.command = command;
    s.environment = {{"HOST", "127.0.0.2"}, {"PORT", "8080"}, {"TIDE_INSTANCE_ID", s.instanceId}};
    s.cpuCores = 1;
    return s;
  }

  Result<ProcessRef> start(LocalProvider& p, const LaunchSpec& s) {
    auto ref = p.start(s);
    if (ref.isOk()) {
      started_.emplace_back(&p, s.instanceId);
    }
    return ref;
  }

  // Polls status() until the process exits (bounded).
  ProcessStatus waitExited(LocalProvider& p, const std::string& id, const ProcessRef& ref) {
    ProcessStatus st;
    waitFor([&] {
      st = p.status(id, ref);
      return st.state == ProcessState::Exited;
    });
    return st;
  }

  static bool cgroupsV1(const LocalProvider& p) { return p.info().cgroups == "v1"; }
  static bool realCgroups(const LocalProvider& p) { return p.info().cgroups != "none"; }

  TempDir tmp_;
  std::string rootfs_;
  std::vector<std::unique_ptr<LocalProvider>> providers_;
  std::vector<std::pair<LocalProvider*, std::string>> started_;
};

TEST_F(LocalProviderTest, RunsTheCommandWithItsEnvironmentAndConsole) {
  setenv("TIDE_TEST_SERVER_SECRET", "leak", 1);
  auto p = makeProvider();
  auto s = spec("echo hello; echo \"HOST=$HOST PORT=$PORT\"; env > env.txt; echo ready; sleep 30");
  auto ref = start(*p, s);
  ASSERT_TRUE(ref.isOk()) << ref.status().toString();
  EXPECT_GT(ref->pid, 1);
  EXPECT_GT(ref->startTicks, 0u);
  const std::string console = p->consoleLogPath(s.instanceId);
  ASSERT_TRUE(waitFor([&] { return contains(readText(console), "ready"); })) << readText(console);
  EXPECT_TRUE(contains(readText(console), "hello\nHOST=127.0.0.2 PORT=8080\n"));

  std::string env = readText(p->diskPath(s.instanceId) + "/env.txt");
  EXPECT_TRUE(contains(env, "TIDE_INSTANCE_ID=" + s.instanceId)) << env;
  EXPECT_TRUE(contains(env, "PATH=")) << env;
  EXPECT_FALSE(contains(env, "TIDE_TEST_SERVER_SECRET")) << env;
  unsetenv("TIDE_TEST_SERVER_SECRET");

  EXPECT_EQ(p->status(s.instanceId, *ref).state, ProcessState::Running);
  std::vector<std::string> known = p->knownInstances();
  EXPECT_NE(std::find(known.begin(), known.end(), s.instanceId), known.end());
  // Its own session and process group.
  EXPECT_EQ(getsid(ref->pid), ref->pid);
  EXPECT_EQ(getpgid(ref->pid), ref->pid);

  ASSERT_TRUE(p->signal(s.instanceId, *ref, SIGTERM).isOk());
  ProcessStatus exited = waitExited(*p, s.instanceId, *ref);
  EXPECT_EQ(exited.state, ProcessState::Exited);
  EXPECT_EQ(exited.description, "killed by signal 15 (Terminated)");
  // Asked again, the answer stays the same (the exit was reaped once).
  EXPECT_EQ(p->status(s.instanceId, *ref).description, "killed by signal 15 (Terminated)");
  // Signalling a process that is gone is not an error.
  EXPECT_TRUE(p->signal(s.instanceId, *ref, SIGTERM).isOk());
}

TEST_F(LocalProviderTest, MissingCommandExitsWith127) {
  auto p = makeProvider();
  auto s = spec("exec /no/such/command");
  auto ref = start(*p, s);
  ASSERT_TRUE(ref.isOk()) << ref.status().toString();
  ProcessStatus st = waitExited(*p, s.instanceId, *ref);
  EXPECT_EQ(st.state, ProcessState::Exited);
  EXPECT_EQ(st.description, "exited with status 127");
  EXPECT_TRUE(contains(readText(p->consoleLogPath(s.instanceId)), "/no/such/command"));
}

TEST_F(LocalProviderTest, UserDataRunsFirstAndItsFailureDoesNotStopTheApp) {
  auto p = makeProvider();
  auto s = spec("cat from-user-data.txt; echo app-started; sleep 30");
  s.userData = "#!/bin/sh\necho \"user data sees PORT=$PORT\"\necho made > from-user-data.txt\n"
               "exit 3\n";
  auto ref = start(*p, s);
  ASSERT_TRUE(ref.isOk()) << ref.status().toString();
  const std::string console = p->consoleLogPath(s.instanceId);
  ASSERT_TRUE(waitFor([&] { return contains(readText(console), "app-started"); }))
      << readText(console);
  EXPECT_EQ(readText(console),
            "user data sees PORT=8080\nuser data exited with status 3\nmade\napp-started\n");
  EXPECT_EQ(fs::status(tmp_ / "instances/" + s.instanceId + "/user-data").permissions(),
            fs::perms(0700));
  EXPECT_EQ(p->status(s.instanceId, *ref).state, ProcessState::Running);
}

TEST_F(LocalProviderTest, UserDataWithoutShebangRunsWithSh) {
  auto p = makeProvider();
  auto s = spec("echo app; sleep 30");
  s.userData = "echo plain-user-data\n";
  auto ref = start(*p, s);
  ASSERT_TRUE(ref.isOk()) << ref.status().toString();
  const std::string console = p->consoleLogPath(s.instanceId);
  ASSERT_TRUE(waitFor([&] { return contains(readText(console), "app\n"); })) << readText(console);
  EXPECT_EQ(readText(console), "plain-user-data\napp\n");
}

TEST_F(LocalProviderTest, CgroupV1LimitsAndMembership) {
  auto p = makeProvider();
  if (!cgroupsV1(*p)) {
    GTEST_SKIP() << "cgroup v1 not usable here: " << p->info().cgroupNote;
  }
  EXPECT_EQ(p->info().cgroupNote,
            "cpu, cpuacct, memory, pids, freezer under /sys/fs/cgroup/*/tide");
  // The shell holds a 10 MB variable, so the group has resident memory to show.
  auto s = spec("x=$(head -c 10000000 /dev/zero | tr '\\0' a); echo ready; sleep 30");
  s.cpuCores = 0.25;
  s.memoryBytes = 64 << 20;
  s.pidsMax = 50;
  auto ref = start(*p, s);
  ASSERT_TRUE(ref.isOk()) << ref.status().toString();
  const std::string console = p->consoleLogPath(s.instanceId);
  ASSERT_TRUE(waitFor([&] { return contains(readText(console), "ready"); })) << readText(console);
  std::string procCgroup = readText("/proc/" + std::to_string(ref->pid) + "/cgroup");
  for (const char* c : {"cpu", "cpuacct", "memory", "pids", "freezer"}) {
    EXPECT_TRUE(contains(procCgroup, std::string(":") + c + ":/tide/" + s.instanceId + "\n"))
        << c << " in\n"
        << procCgroup;
  }
  const std::string cpu = "/sys/fs/cgroup/cpu/tide/" + s.instanceId;
  EXPECT_EQ(trim(readText(cpu + "/cpu.cfs_quota_us")), "25000");
  EXPECT_EQ(trim(readText(cpu + "/cpu.cfs_period_us")), "100000");
  EXPECT_EQ(trim(readText("/sys/fs/cgroup/memory/tide/" + s.instanceId + "/memory.limit_in_bytes")),
            std::to_string(64 << 20));
  EXPECT_EQ(trim(readText("/sys/fs/cgroup/pids/tide/" + s.instanceId + "/pids.max")), "50");

  auto u = p->usage(s.instanceId, *ref);
  ASSERT_TRUE(u.isOk()) << u.status().toString();
  EXPECT_GT(u->memoryBytes, 10000000);
  EXPECT_LT(u->memoryBytes, 64 << 20);
  EXPECT_GT(u->cpuNanos, 0u);

  // releaseProcess kills what is left and removes the groups; destroy removes the rest.
  ASSERT_TRUE(p->releaseProcess(s.instanceId).isOk());
  EXPECT_FALSE(fs::exists(cpu));
  EXPECT_EQ(waitExited(*p, s.instanceId, *ref).description, "killed by signal 9 (Killed)");
  ASSERT_TRUE(p->destroy(s.instanceId).isOk());
  for (const char* c : {"cpu", "cpuacct", "memory", "pids", "freezer"}) {
    EXPECT_FALSE(fs::exists("/sys/fs/cgroup/" + std::string(c) + "/tide/" + s.instanceId));
  }
  EXPECT_FALSE(fs::exists(tmp_ / "instances/" + s.instanceId));
}

// A command that burns `seconds` of its own CPU time (as its process clock counts it), prints
// "burnt NANOS" and sleeps: the console line is the readiness signal that the CPU was used.
std::string burn(const std::string& seconds) {
  return "exec python3 -c 'import time\n"
         "while time.process_time() < " +
         seconds +
         ": pass\n"
         "print(\"burnt\", time.process_time_ns(), flush=True)\n"
         "time.sleep(30)'";
}

// The nanoseconds the burn printed, once it has.
std::optional<uint64_t> burnt(const std::string& console) {
  size_t at = console.find("burnt ");
  if (at == std::string::npos || console.find('\n', at) == std::string::npos) {
    return std::nullopt;
  }
  return std::stoull(console.substr(at + 6));
}

// Only what holds on any machine, however loaded: once the app has used CPU, its group's
// counter shows at least that much. (The rate arithmetic is asserted exactly, on injected
// readings, in cpu_utilization_test.cc; the quota itself in CgroupV1LimitsAndMembership.)
TEST_F(LocalProviderTest, BusyProcessShowsTheCpuItUsedInItsGroupsCounters) {
  auto p = makeProvider();
  if (!realCgroups(*p)) {
    GTEST_SKIP() << "no usable cgroups: " << p->info().cgroupNote;
  }
  auto s = spec(burn("0.05"));
  s.cpuCores = 0.25;
  auto ref = start(*p, s);
  ASSERT_TRUE(ref.isOk()) << ref.status().toString();
  const std::string console = p->consoleLogPath(s.instanceId);
  ASSERT_TRUE(
      waitFor([&] { return burnt(readText(console)).has_value(); }, std::chrono::minutes(2)))
      << readText(console);
  uint64_t used = *burnt(readText(console));
  EXPECT_GE(used, 50'000'000u);
  auto u = p->usage(s.instanceId, *ref);
  ASSERT_TRUE(u.isOk()) << u.status().toString();
  EXPECT_GE(u->cpuNanos, used); // the group counts the app and everything else it ran
}

TEST_F(LocalProviderTest, WithoutCgroupsProcessesRunAndAreMeasuredFromProc) {
  auto p = makeProvider("none");
  EXPECT_EQ(p->info().cgroups, "none");
  EXPECT_TRUE(contains(p->info().cgroupNote, "CPU is measured from /proc")) << p->info().cgroupNote;
  // A background loop in the same process group, and the burn in the foreground.
  auto s = spec("sh -c 'while :; do sleep 1; done' & " + burn("0.05").substr(5));
  auto ref = start(*p, s);
  ASSERT_TRUE(ref.isOk()) << ref.status().toString();
  const std::string console = p->consoleLogPath(s.instanceId);
  ASSERT_TRUE(
      waitFor([&] { return burnt(readText(console)).has_value(); }, std::chrono::minutes(2)))
      << readText(console);
  auto u = p->usage(s.instanceId, *ref);
  ASSERT_TRUE(u.isOk());
  EXPECT_GT(u->cpuNanos, 0u); // /proc counts in clock ticks: more than none, at least
  EXPECT_GT(u->memoryBytes, 0);
  // SIGTERM reaches the background loop too (the whole process group).
  ASSERT_TRUE(p->signal(s.instanceId, *ref, SIGTERM).isOk());
  EXPECT_EQ(waitExited(*p, s.instanceId, *ref).description, "killed by signal 15 (Terminated)");
  EXPECT_TRUE(waitFor([&] {
    for (const ProcStat& st : listProcStats()) {
      if (st.pgrp == ref->pid) {
        return false;
      }
    }
    return true;
  }));
}

// Writes inside the instance land on its disk, never in the image; the disk survives a stop
// and a restart (with the overlay re-mounted when it was not mounted any more).
void checkDiskIsPrivateAndKept(LocalProvider& p, const LaunchSpec& s0, const std::string& rootfs,
                               bool overlay,
                               const std::function<Result<ProcessRef>(const LaunchSpec&)>& start,
                               const std::function<ProcessStatus(const ProcessRef&)>& waitExit) {
  LaunchSpec s = s0;
  s.command = "echo changed > data.txt; rm run.sh; echo new > new.txt; sleep 30";
  s.userData = "echo ran >> user-data-runs.txt\n";
  auto ref = start(s);
  ASSERT_TRUE(ref.isOk()) << ref.status().toString();
  const std::string disk = p.diskPath(s.instanceId);
  ASSERT_FALSE(disk.empty());
  ASSERT_TRUE(waitFor([&] { return fs::exists(disk + "/new.txt"); }));
  EXPECT_EQ(readText(disk + "/data.txt"), "changed\n");
  EXPECT_FALSE(fs::exists(disk + "/run.sh"));
  EXPECT_EQ(readText(rootfs + "/data.txt"), "original\n");
  EXPECT_TRUE(fs::exists(rootfs + "/run.sh"));
  EXPECT_FALSE(fs::exists(rootfs + "/new.txt"));
  EXPECT_EQ(isMountPoint(readMountInfo(), disk), overlay);

  // Stop: kill, reap, release the cgroup. The disk stays.
  ASSERT_TRUE(p.signal(s.instanceId, *ref, SIGKILL).isOk());
  EXPECT_EQ(waitExit(*ref).state, ProcessState::Exited);
  ASSERT_TRUE(p.releaseProcess(s.instanceId).isOk());
  if (overlay) {
    ASSERT_EQ(umount2(disk.c_str(), MNT_DETACH), 0); // as after a reboot
  }
  // Start again: the kept files are there; user data ran only on the first start.
  s.command = "cat data.txt new.txt; sleep 30";
  auto again = start(s);
  ASSERT_TRUE(again.isOk()) << again.status().toString();
  EXPECT_EQ(p.diskPath(s.instanceId), disk);
  EXPECT_EQ(isMountPoint(readMountInfo(), disk), overlay);
  const std::string console = p.consoleLogPath(s.instanceId);
  ASSERT_TRUE(waitFor([&] { return contains(readText(console), "new\n"); })) << readText(console);
  EXPECT_EQ(readText(disk + "/user-data-runs.txt"), "ran\n");
  EXPECT_EQ(readText(rootfs + "/data.txt"), "original\n");

  ASSERT_TRUE(p.destroy(s.instanceId).isOk());
  EXPECT_FALSE(fs::exists(fs::path(disk).parent_path()));
  EXPECT_TRUE(mountsUnder(readMountInfo(), fs::path(disk).parent_path()).empty());
  EXPECT_TRUE(p.destroy(s.instanceId).isOk()); // idempotent
  EXPECT_EQ(p.diskPath(s.instanceId), "");
}

TEST_F(LocalProviderTest, OverlayDiskIsPrivateAndKept) {
  auto p = makeProvider();
  if (p->info().diskCopy != "overlayfs") {
    GTEST_SKIP() << "overlayfs not usable: " << p->info().diskNote;
  }
  checkDiskIsPrivateAndKept(
      *p, spec(""), rootfs_, true, [&](const LaunchSpec& s) { return start(*p, s); },
      [&](const ProcessRef& r) { return waitExited(*p, started_.back().second, r); });
}

TEST_F(LocalProviderTest, CopyDiskIsPrivateAndKept) {
  auto p = makeProvider("auto", "copy");
  EXPECT_EQ(p->info().diskCopy, "copy");
  EXPECT_TRUE(contains(p->info().diskNote, "copy")) << p->info().diskNote;
  checkDiskIsPrivateAndKept(
      *p, spec(""), rootfs_, false, [&](const LaunchSpec& s) { return start(*p, s); },
      [&](const ProcessRef& r) { return waitExited(*p, started_.back().second, r); });
  // The copy keeps the exec bit.
  auto s = spec("./run.sh; sleep 30");
  auto ref = start(*p, s);
  ASSERT_TRUE(ref.isOk());
  const std::string console = p->consoleLogPath(s.instanceId);
  ASSERT_TRUE(waitFor([&] { return contains(readText(console), "running-script"); }))
      << readText(console);
}

// A first launch's disk made apart (on the instance controller's worker), then the start: the
// start only starts the process, the user data still runs once.
TEST_F(LocalProviderTest, APreparedDiskIsUsedByTheStartAndUserDataStillRuns) {
  auto p = makeProvider("auto", "copy");
  auto s = spec("cat data.txt; sleep 30");
  s.userData = "#!/bin/sh\necho user-data-ran\n";
  EXPECT_FALSE(p->diskReady(s.instanceId));
  std::atomic<bool> cancel{false};
  ASSERT_TRUE(p->prepareDisk(s, &cancel).isOk());
  EXPECT_TRUE(p->diskReady(s.instanceId));
  EXPECT_EQ(readText(p->diskPath(s.instanceId) + "/data.txt"), "original\n");
  EXPECT_TRUE(p->prepareDisk(s, &cancel).isOk()); // made already: kept
  auto ref = start(*p, s);
  ASSERT_TRUE(ref.isOk()) << ref.status().toString();
  const std::string console = p->consoleLogPath(s.instanceId);
  ASSERT_TRUE(waitFor([&] {
    return contains(readText(console), "user-data-ran") && contains(readText(console), "original");
  })) << readText(console);
}

// A cancelled preparation (a terminate, a stop, the server stopping) and a failed one leave
// nothing of the instance behind.
TEST_F(LocalProviderTest, ACancelledOrFailedPreparationLeavesNothing) {
  auto p = makeProvider("auto", "copy");
  auto s = spec("true");
  s.userData = "echo hi\n";
  std::atomic<bool> cancel{true};
  Status st = p->prepareDisk(s, &cancel);
  EXPECT_EQ(st.code(), "Cancelled") << st.toString();
  EXPECT_FALSE(p->diskReady(s.instanceId));
  EXPECT_FALSE(fs::exists(tmp_ / ("instances/" + s.instanceId)));

  s.imageRootfs = tmp_ / "no-such-image";
  cancel = false;
  EXPECT_EQ(p->prepareDisk(s, &cancel).code(), "InvalidParameterValue");
  EXPECT_FALSE(fs::exists(tmp_ / ("instances/" + s.instanceId)));
  EXPECT_TRUE(p->knownInstances().empty());
}

TEST_F(LocalProviderTest, FailedStartLeavesNothingBehind) {
  auto p = makeProvider();
  auto s = spec("sleep 30");
  s.imageRootfs = tmp_ / "no-such-image";
  auto ref = p->start(s);
  ASSERT_FALSE(ref.isOk());
  EXPECT_EQ(ref.status().code(), "InvalidParameterValue");
  EXPECT_FALSE(fs::exists(tmp_ / "instances/" + s.instanceId));
  EXPECT_TRUE(p->knownInstances().empty());
  EXPECT_FALSE(fs::exists("/sys/fs/cgroup/cpu/tide/" + s.instanceId));

  auto bad = spec("true");
  bad.instanceId = "../escape";
  EXPECT_EQ(p->start(bad).status().code(), "InvalidParameterValue");
  EXPECT_EQ(p->signal("i-x", ProcessRef{0, 0}, SIGTERM).code(), "InvalidParameterValue");
}

TEST_F(LocalProviderTest, AnotherServerFindsTheProcessThroughProc) {
  auto first = makeProvider();
  auto s = spec("sleep 30");
  auto ref = start(*first, s);
  ASSERT_TRUE(ref.isOk()) << ref.status().toString();
  // A second provider over the same folder stands for the server after a restart: the
  // process is not its child.
  auto second = makeProvider();
  EXPECT_EQ(second->status(s.instanceId, *ref).state, ProcessState::Running);
  ProcessRef stale = *ref;
  stale.startTicks += 1; // the pid reused by another process
  EXPECT_EQ(second->status(s.instanceId, stale).state, ProcessState::Exited);
  std::vector<std::string> knownBySecond = second->knownInstances();
  EXPECT_NE(std::find(knownBySecond.begin(), knownBySecond.end(), s.instanceId),
            knownBySecond.end());

  ASSERT_TRUE(second->signal(s.instanceId, *ref, SIGKILL).isOk());
  // Not reaped yet by its real parent (this test), it is a zombie: exited, status unknown.
  ProcessStatus st = waitExited(*second, s.instanceId, *ref);
  EXPECT_EQ(st.description, "exited (status unknown: not a child of this server)");
  EXPECT_EQ(waitExited(*first, s.instanceId, *ref).description, "killed by signal 9 (Killed)");
}

TEST_F(LocalProviderTest, CgroupV2OnAFakeTreeGetsLimits) {
  const std::string v2 = tmp_ / "fake-cgroup2";
  fs::create_directories(v2);
  writeFile(v2 + "/cgroup.controllers", "cpuset cpu io memory pids\n");
  writeFile(v2 + "/cgroup.subtree_control", "");
  auto p = makeProvider("v2", "auto", v2);
  ASSERT_EQ(p->info().cgroups, "v2") << p->info().cgroupNote;
  auto s = spec("sleep 30");
  s.cpuCores = 0.25;
  s.memoryBytes = 128 << 20;
  auto ref = p->start(s);
  ASSERT_TRUE(ref.isOk()) << ref.status().toString();
  const std::string group = v2 + "/tide/" + s.instanceId;
  EXPECT_EQ(readText(group + "/cpu.max"), "25000 100000");
  EXPECT_EQ(readText(group + "/memory.max"), std::to_string(128 << 20));
  EXPECT_EQ(readText(group + "/pids.max"), "max");
  // The child wrote its own pid into the (plain) cgroup.procs file before exec.
  EXPECT_EQ(readText(group + "/cgroup.procs"), std::to_string(ref->pid));
  ASSERT_TRUE(p->signal(s.instanceId, *ref, SIGKILL).isOk());
  EXPECT_EQ(waitExited(*p, s.instanceId, *ref).description, "killed by signal 9 (Killed)");
  // A plain folder with files is not a cgroup: rmdir fails and destroy says so ...
  Status d = p->destroy(s.instanceId);
  EXPECT_FALSE(d.isOk());
  EXPECT_TRUE(contains(d.message(), group)) << d.message();
  // ... and once the fake group is gone, destroy completes.
  fs::remove_all(group);
  EXPECT_TRUE(p->destroy(s.instanceId).isOk());
  EXPECT_FALSE(fs::exists(tmp_ / "instances/" + s.instanceId));
}

} // namespace
} // namespace tide::runtime
