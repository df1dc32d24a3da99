#include "runtime/mountinfo.h"

#include <gtest/gtest.h>

namespace tide::runtime {
namespace {

const char kSample[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:7 - cgroup cgroup rw,cpu,cpuacct\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "50 23 0:40 / /data/my\\040dir/i-1/disk rw - overlay overlay rw,lowerdir=/a,upperdir=/b\n"
    "51 50 0:41 / /data/my\\040dir/i-1/disk/proc rw - proc proc rw\n"
    "garbage line\n";

TEST(MountInfo, ParsesFieldsAndOptionalTags) {
  auto mounts = parseMountInfo(kSample);
  ASSERT_EQ(mounts.size(), 6u);
  EXPECT_EQ(mounts[1].mountPoint, "/sys/fs/cgroup/cpu");
  EXPECT_EQ(mounts[1].fsType, "cgroup");
  EXPECT_EQ(mounts[2].superOptions, "rw,cpu,cpuacct");
  EXPECT_TRUE(hasOption(mounts[2].superOptions, "cpuacct"));
  EXPECT_TRUE(hasOption(mounts[2].superOptions, "cpu"));
  EXPECT_FALSE(hasOption(mounts[1].superOptions, "cpuacct"));
  EXPECT_EQ(mounts[3].fsType, "cgroup2");
}

TEST(MountInfo, UnescapesOctalAndFindsMountsUnderAFolder) {
  auto mounts = parseMountInfo(kSample);
  EXPECT_EQ(mounts[4].mountPoint, "/data/my dir/i-1/disk");
  EXPECT_TRUE(isMountPoint(mounts, "/data/my dir/i-1/disk"));
  EXPECT_FALSE(isMountPoint(mounts, "/data/my dir/i-1"));
  auto under = mountsUnder(mounts, "/data/my dir/i-1");
  ASSERT_EQ(under.size(), 2u);
  EXPECT_EQ(under[0], "/data/my dir/i-1/disk/proc"); // deepest first
  EXPECT_EQ(under[1], "/data/my dir/i-1/disk");
  EXPECT_TRUE(mountsUnder(mounts, "/data/my dir/i-10").empty());
  EXPECT_TRUE(mountsUnder(mounts, "/data/my").empty());
}

TEST(MountInfo, ReadsThisProcessTable) {
  auto mounts = readMountInfo();
  EXPECT_TRUE(isMountPoint(mounts, "/"));
}

} // namespace
} // namespace tide::runtime
