#include "runtime/cgroup.h"

#include "runtime/test_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

namespace tide::runtime {
namespace {

using testing::readText;
using testing::TempDir;
using testing::writeFile;

// A fake cgroup2 mount: plain folders and files.
void makeFakeV2(const TempDir& dir, const std::string& controllers) {
  writeFile(dir / "cgroup.controllers", controllers + "\n");
  writeFile(dir / "cgroup.subtree_control", "");
  writeFile(dir / "cgroup.procs", "");
}

// Fake v1 hierarchies <dir>/<controller>, each with a cgroup.procs file.
void makeFakeV1(const TempDir& dir) {
  for (const char* c : {"cpu", "cpuacct", "memory", "pids", "freezer"}) {
    mkdir((dir / c).c_str(), 0755);
    writeFile(dir / (std::string(c) + "/cgroup.procs"), "");
  }
}

TEST(CpuQuota, MapsCoresToMicroseconds) {
  EXPECT_EQ(cpuQuotaUs(0.25), 25000);
  EXPECT_EQ(cpuQuotaUs(2), 200000);
  EXPECT_EQ(cpuQuotaUs(0.001), 1000); // the kernel's minimum
  EXPECT_EQ(cpuQuotaUs(0), -1);
}

TEST(StatValue, FindsKeysExactly) {
  std::string text = "rss 1\ntotal_rss 4096\ntotal_rss_huge 0\n";
  EXPECT_EQ(statValue(text, "total_rss"), 4096);
  EXPECT_EQ(statValue(text, "rss"), 1);
  EXPECT_FALSE(statValue(text, "anon").has_value());
}

TEST(CgroupV2, FakeTreeGetsControllersAndLimits) {
  TempDir dir;
  makeFakeV2(dir, "cpuset cpu io memory pids");
  CgroupSetup setup = detectCgroups("v2", "/nonexistent", dir.path(), {});
  ASSERT_EQ(setup.version, CgroupVersion::V2) << setup.note;
  EXPECT_TRUE(setup.v2Pids);
  EXPECT_EQ(setup.note, "cpu, memory, pids under " + dir.path() + "/tide");
  // The last controller written wins in a plain file; on cgroupfs each adds to the set.
  EXPECT_EQ(readText(dir / "tide/cgroup.subtree_control"), "+pids");

  InstanceCgroup cg(setup, "i-0123456789abcdef0");
  ASSERT_EQ(cg.dirs().size(), 1u);
  EXPECT_EQ(cg.dirs()[0], dir / "tide/i-0123456789abcdef0");
  EXPECT_FALSE(cg.exists());
  CgroupLimits limits;
  limits.cpuCores = 0.25;
  limits.memoryBytes = 256 << 20;
  limits.pidsMax = 64;
  ASSERT_TRUE(cg.create(limits).isOk());
  EXPECT_TRUE(cg.exists());
  EXPECT_EQ(readText(cg.dirs()[0] + "/cpu.max"), "25000 100000");
  EXPECT_EQ(readText(cg.dirs()[0] + "/memory.max"), std::to_string(256 << 20));
  EXPECT_EQ(readText(cg.dirs()[0] + "/pids.max"), "64");
  EXPECT_EQ(cg.procsFiles(), std::vector<std::string>{cg.dirs()[0] + "/cgroup.procs"});

  writeFile(cg.dirs()[0] + "/cgroup.procs", "0\n123\n");
  EXPECT_EQ(cg.members(), std::vector<int>{123}); // never pid 0
  writeFile(cg.dirs()[0] + "/cpu.stat", "usage_usec 1500\nuser_usec 1000\n");
  writeFile(cg.dirs()[0] + "/memory.stat", "anon 8192\nfile 4096\n");
  auto u = cg.usage();
  ASSERT_TRUE(u.isOk()) << u.status().toString();
  EXPECT_EQ(u->cpuNanos, 1500000u);
  EXPECT_EQ(u->memoryBytes, 8192);
}

TEST(CgroupV2, NoLimitsWritesMax) {
  TempDir dir;
  makeFakeV2(dir, "cpu memory");
  CgroupSetup setup = detectCgroups("v2", "/nonexistent", dir.path(), {});
  ASSERT_EQ(setup.version, CgroupVersion::V2) << setup.note;
  EXPECT_FALSE(setup.v2Pids);
  InstanceCgroup cg(setup, "i-1");
  CgroupLimits limits;
  limits.cpuCores = 0;
  ASSERT_TRUE(cg.create(limits).isOk());
  EXPECT_EQ(readText(cg.dirs()[0] + "/cpu.max"), "max 100000");
  EXPECT_EQ(readText(cg.dirs()[0] + "/memory.max"), "max");
  EXPECT_FALSE(std::filesystem::exists(cg.dirs()[0] + "/pids.max"));
}

TEST(CgroupV2, WithoutCpuOrMemoryControllersIsNotUsable) {
  TempDir dir;
  makeFakeV2(dir, "pids");
  CgroupSetup setup = detectCgroups("v2", "/nonexistent", dir.path(), {});
  EXPECT_EQ(setup.version, CgroupVersion::None);
  EXPECT_NE(setup.note.find("lacks the cpu or memory controller"), std::string::npos) << setup.note;
  EXPECT_NE(setup.note.find("CPU is measured from /proc"), std::string::npos) << setup.note;
  EXPECT_FALSE(std::filesystem::exists(dir / "tide"));
}

TEST(CgroupV1, FakeTreeGetsEveryHierarchyAndLimits) {
  TempDir dir;
  makeFakeV1(dir);
  CgroupSetup setup = detectCgroups("v1", dir.path(), "", {});
  ASSERT_EQ(setup.version, CgroupVersion::V1) << setup.note;
  EXPECT_EQ(setup.note, "cpu, cpuacct, memory, pids, freezer under " + dir.path() + "/*/tide");
  InstanceCgroup cg(setup, "i-2");
  ASSERT_EQ(cg.dirs().size(), 5u);
  CgroupLimits limits;
  limits.cpuCores = 0.5;
  limits.memoryBytes = 1 << 30;
  limits.pidsMax = 100;
  ASSERT_TRUE(cg.create(limits).isOk());
  EXPECT_EQ(readText(dir / "cpu/tide/i-2/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(readText(dir / "cpu/tide/i-2/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(readText(dir / "memory/tide/i-2/memory.limit_in_bytes"), std::to_string(1 << 30));
  EXPECT_EQ(readText(dir / "pids/tide/i-2/pids.max"), "100");
  EXPECT_TRUE(std::filesystem::is_directory(dir / "freezer/tide/i-2"));
  writeFile(dir / "cpuacct/tide/i-2/cpuacct.usage", "123456789\n");
  writeFile(dir / "memory/tide/i-2/memory.stat", "cache 1\nrss 5\ntotal_cache 1\ntotal_rss 4096\n");
  auto u = cg.usage();
  ASSERT_TRUE(u.isOk()) << u.status().toString();
  EXPECT_EQ(u->cpuNanos, 123456789u);
  EXPECT_EQ(u->memoryBytes, 4096);
}

TEST(CgroupV1, FreezesAndThawsThroughTheFreezerHierarchy) {
  TempDir dir;
  makeFakeV1(dir);
  CgroupSetup setup = detectCgroups("v1", dir.path(), "", {});
  InstanceCgroup cg(setup, "i-5");
  ASSERT_TRUE(cg.create(CgroupLimits{}).isOk());
  ASSERT_TRUE(cg.canFreeze());
  ASSERT_TRUE(cg.freeze(true).isOk());
  EXPECT_EQ(readText(dir / "freezer/tide/i-5/freezer.state"), "FROZEN");
  ASSERT_TRUE(cg.freeze(false).isOk());
  EXPECT_EQ(readText(dir / "freezer/tide/i-5/freezer.state"), "THAWED");

  // Without the freezer hierarchy: FreezerUnavailable, and nothing written.
  std::filesystem::remove_all(dir / "freezer");
  CgroupSetup without = detectCgroups("v1", dir.path(), "", {});
  ASSERT_EQ(without.version, CgroupVersion::V1) << without.note;
  InstanceCgroup plain(without, "i-6");
  EXPECT_FALSE(plain.canFreeze());
  EXPECT_EQ(plain.freeze(true).code(), "FreezerUnavailable");
  EXPECT_FALSE(InstanceCgroup(detectCgroups("none", "", "", {}), "i-7").canFreeze());
}

TEST(CgroupV1, MissingMemoryHierarchyIsNotUsable) {
  TempDir dir;
  makeFakeV1(dir);
  std::filesystem::remove_all(dir / "memory");
  CgroupSetup setup = detectCgroups("v1", dir.path(), "", {});
  EXPECT_EQ(setup.version, CgroupVersion::None);
  EXPECT_NE(setup.note.find("no cgroup v1 memory hierarchy"), std::string::npos) << setup.note;
}

TEST(CgroupV1, CoMountedControllersShareOneFolder) {
  TempDir dir;
  mkdir((dir / "cpu,cpuacct").c_str(), 0755);
  mkdir((dir / "memory").c_str(), 0755);
  std::vector<MountEntry> mounts = {
      {dir / "cpu,cpuacct", "cgroup", "cgroup", "rw,cpu,cpuacct"},
      {dir / "memory", "cgroup", "cgroup", "rw,memory"},
  };
  CgroupSetup setup = detectCgroups("auto", dir.path(), "", mounts);
  ASSERT_EQ(setup.version, CgroupVersion::V1) << setup.note;
  InstanceCgroup cg(setup, "i-3");
  EXPECT_EQ(cg.dirs(),
            (std::vector<std::string>{dir / "cpu,cpuacct/tide/i-3", dir / "memory/tide/i-3"}));
}

TEST(CgroupV1, AHybridHostsCgroup2MountGetsAGroupToo) {
  TempDir dir;
  makeFakeV1(dir);
  mkdir((dir / "unified").c_str(), 0755);
  std::vector<MountEntry> mounts = {{dir / "unified", "cgroup2", "cgroup2", "rw"}};
  CgroupSetup setup = detectCgroups("v1", dir.path(), "", mounts);
  ASSERT_EQ(setup.version, CgroupVersion::V1) << setup.note;
  EXPECT_EQ(setup.v2Hybrid, dir / "unified");
  InstanceCgroup cg(setup, "i-8");
  ASSERT_EQ(cg.dirs().size(), 6u);
  EXPECT_EQ(cg.v2Dir(), dir / "unified/tide/i-8");
  EXPECT_EQ(cg.procsFiles().back(), dir / "unified/tide/i-8/cgroup.procs");
  ASSERT_TRUE(cg.create(CgroupLimits{}).isOk());
  EXPECT_TRUE(std::filesystem::is_directory(dir / "unified/tide/i-8"));
  // Without it (or on a plain v1 host): no cgroup2 folder.
  EXPECT_EQ(InstanceCgroup(detectCgroups("v1", dir.path(), "", {}), "i-9").v2Dir(), "");
}

TEST(CgroupNone, SaysWhy) {
  CgroupSetup setup = detectCgroups("none", "/sys/fs/cgroup", "", readMountInfo());
  EXPECT_EQ(setup.version, CgroupVersion::None);
  EXPECT_NE(setup.note.find("instances run without CPU/memory limits"), std::string::npos);
  InstanceCgroup cg(setup, "i-4");
  EXPECT_TRUE(cg.dirs().empty());
  EXPECT_TRUE(cg.create(CgroupLimits{}).isOk());
  EXPECT_TRUE(cg.remove().isOk());
  EXPECT_FALSE(cg.usage().isOk());
}

} // namespace
} // namespace tide::runtime
