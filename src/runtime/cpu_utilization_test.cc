// CPUUtilization arithmetic, asserted exactly: CPU time over the type's quota per period, from
// injected cgroup readings (fake v1 and v2 trees whose counters the test writes) and a virtual
// clock. Nothing here depends on how busy the machine is.
#include "runtime/cpu_utilization.h"

#include "runtime/cgroup.h"
#include "runtime/test_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace tide::runtime {
namespace {

using testing::TempDir;
using testing::writeFile;

constexpr uint64_t kMs = 1'000'000; // nanoseconds

TEST(CpuUtilization, IsCpuTimeOverTheQuotaOfThePeriod) {
  // A quarter core over 1 s grants 250 ms.
  EXPECT_EQ(cpuUtilization({0, 1000}, {250 * kMs, 2000}, 0.25), 100.0);
  EXPECT_EQ(cpuUtilization({0, 1000}, {125 * kMs, 2000}, 0.25), 50.0);
  EXPECT_EQ(cpuUtilization({0, 1000}, {0, 2000}, 0.25), 0.0);
  // Two cores over 10 s grant 20 s: 5 s used is 25 %.
  EXPECT_EQ(cpuUtilization({1000 * kMs, 0}, {6000 * kMs, 10'000}, 2.0), 25.0);
  // One core over 500 ms, 100 ms used: 20 %.
  EXPECT_EQ(cpuUtilization({0, 0}, {100 * kMs, 500}, 1.0), 20.0);
  // A period that overran its quota counts as the whole quota.
  EXPECT_EQ(cpuUtilization({0, 0}, {300 * kMs, 1000}, 0.25), 100.0);
}

TEST(CpuUtilization, NoRateWithoutTimeACounterThatWentBackOrAQuota) {
  EXPECT_FALSE(cpuUtilization({0, 1000}, {10 * kMs, 1000}, 1.0).has_value());
  EXPECT_FALSE(cpuUtilization({0, 2000}, {10 * kMs, 1000}, 1.0).has_value());
  EXPECT_FALSE(cpuUtilization({50 * kMs, 0}, {10 * kMs, 1000}, 1.0).has_value());
  EXPECT_FALSE(cpuUtilization({0, 0}, {10 * kMs, 1000}, 0).has_value());
}

TEST(CpuMeter, EachReadingGivesThePeriodSinceTheLast) {
  VirtualClock clock;
  CpuMeter meter;
  EXPECT_FALSE(meter.record("i-a", {0, clock.now()}, 0.5).has_value()); // one reading: no rate
  clock.advance(Millis(1000));
  EXPECT_EQ(meter.record("i-a", {100 * kMs, clock.now()}, 0.5), 20.0);
  clock.advance(Millis(2000));
  EXPECT_EQ(meter.record("i-a", {1100 * kMs, clock.now()}, 0.5), 100.0);
  clock.advance(Millis(1000));
  EXPECT_EQ(meter.record("i-a", {1100 * kMs, clock.now()}, 0.5), 0.0); // idle
  // A forgotten instance starts a new series.
  meter.retain({});
  clock.advance(Millis(1000));
  EXPECT_FALSE(meter.record("i-a", {1150 * kMs, clock.now()}, 0.5).has_value());
  // So does a restarted one (its new tree's counter starts again from zero).
  meter.forget("i-a");
  clock.advance(Millis(1000));
  EXPECT_FALSE(meter.record("i-a", {5 * kMs, clock.now()}, 0.5).has_value());
  clock.advance(Millis(1000));
  EXPECT_EQ(meter.record("i-a", {55 * kMs, clock.now()}, 0.5), 10.0);
}

// The readings as the local provider takes them: the group's counters, read through
// InstanceCgroup::usage() from a fake tree whose counters the test sets.
TEST(CpuMeter, FromCgroupV1Counters) {
  TempDir dir;
  for (const char* c : {"cpu", "cpuacct", "memory"}) {
    mkdir((dir / c).c_str(), 0755);
    writeFile(dir / (std::string(c) + "/cgroup.procs"), "");
  }
  CgroupSetup setup = detectCgroups("v1", dir.path(), "", {});
  ASSERT_EQ(setup.version, CgroupVersion::V1) << setup.note;
  InstanceCgroup cg(setup, "i-0123456789abcdef0");
  CgroupLimits limits;
  limits.cpuCores = 0.25;
  ASSERT_TRUE(cg.create(limits).isOk());
  const std::string group = dir / "cpuacct/tide/i-0123456789abcdef0";
  writeFile(dir / "memory/tide/i-0123456789abcdef0/memory.stat", "total_rss 4096\n");

  VirtualClock clock;
  CpuMeter meter;
  auto read = [&](uint64_t usageNs) {
    writeFile(group + "/cpuacct.usage", std::to_string(usageNs) + "\n");
    auto u = cg.usage();
    EXPECT_TRUE(u.isOk()) << u.status().toString();
    return meter.record("i-0123456789abcdef0", {u->cpuNanos, clock.now()}, limits.cpuCores);
  };
  EXPECT_FALSE(read(7 * kMs).has_value());
  clock.advance(Millis(1000));
  EXPECT_EQ(read(7 * kMs + 250 * kMs), 100.0); // a busy loop held to its quarter core
  clock.advance(Millis(1000));
  EXPECT_EQ(read(257 * kMs + 25 * kMs), 10.0);
  clock.advance(Millis(10'000));
  EXPECT_EQ(read(282 * kMs + 1250 * kMs), 50.0); // a 10 s period
}

TEST(CpuMeter, FromCgroupV2Counters) {
  TempDir dir;
  writeFile(dir / "cgroup.controllers", "cpu memory pids\n");
  writeFile(dir / "cgroup.subtree_control", "");
  CgroupSetup setup = detectCgroups("v2", "/nonexistent", dir.path(), {});
  ASSERT_EQ(setup.version, CgroupVersion::V2) << setup.note;
  InstanceCgroup cg(setup, "i-0123456789abcdef0");
  CgroupLimits limits;
  limits.cpuCores = 2;
  ASSERT_TRUE(cg.create(limits).isOk());
  const std::string group = cg.dirs()[0];
  writeFile(group + "/memory.stat", "anon 8192\n");

  VirtualClock clock;
  CpuMeter meter;
  auto read = [&](uint64_t usageUs) {
    writeFile(group + "/cpu.stat", "usage_usec " + std::to_string(usageUs) + "\nuser_usec 0\n");
    auto u = cg.usage();
    EXPECT_TRUE(u.isOk()) << u.status().toString();
    return meter.record("i-0123456789abcdef0", {u->cpuNanos, clock.now()}, limits.cpuCores);
  };
  EXPECT_FALSE(read(1'000).has_value());
  clock.advance(Millis(1000));
  EXPECT_EQ(read(1'000 + 500'000), 25.0); // half a core of two
  clock.advance(Millis(500));
  EXPECT_EQ(read(501'000 + 1'000'000), 100.0);
}

} // namespace
} // namespace tide::runtime
