// Root volumes (root_volume.h): the launch's root volume size is a real limit. As root only;
// each test skips, saying why, where probeRootVolumes() finds volumes cannot be made.
#include "runtime/root_volume.h"

#include "common/ids.h"
#include "runtime/disk.h"
#include "runtime/image_store.h"
#include "runtime/local_provider.h"
#include "runtime/mountinfo.h"
#include "runtime/test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <iostream>

namespace tide::runtime {
namespace {

using testing::allocatedBytes;
using testing::readText;
using testing::TempDir;
using testing::waitFor;
using testing::writeFile;
namespace fs = std::filesystem;

constexpr int64_t kMiB = int64_t{1} << 20;

// The loop devices whose backing file is path (or was, when it has been removed since).
std::vector<std::string> loopDevicesOf(const std::string& path) {
  std::vector<std::string> out;
  if (DIR* d = opendir("/sys/block")) {
    while (dirent* de = readdir(d)) {
      std::string name = de->d_name;
      if (name.rfind("loop", 0) != 0) {
        continue;
      }
      std::string backing = readText("/sys/block/" + name + "/loop/backing_file");
      if (backing.rfind(path, 0) == 0) {
        out.push_back(name);
      }
    }
    closedir(d);
  }
  return out;
}

// Writes 1 MiB blocks to path until a write fails; returns the bytes written and the errno.
std::pair<int64_t, int> fill(const std::string& path, int64_t limit) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0) << path;
  std::string block(size_t(kMiB), 'x');
  int64_t written = 0;
  int err = 0;
  while (written < limit) {
    ssize_t n = write(fd, block.data(), block.size());
    if (n < 0) {
      err = errno;
      break;
    }
    written += n;
  }
  if (err == 0 && fsync(fd) != 0) {
    err = errno;
  }
  close(fd);
  return {written, err};
}

class RootVolumeTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::canonical(tmp_.path()).string();
    std::string why = probeRootVolumes(dir_);
    if (!why.empty()) {
      GTEST_SKIP() << "root volumes cannot be made here: " << why;
    }
  }

  TempDir tmp_;
  std::string dir_;
};

TEST_F(RootVolumeTest, IsASparseFileSystemWhoseSizeIsALimitAndGoesWithoutATrace) {
  const std::string instance = dir_ + "/i-1";
  ASSERT_EQ(mkdir(instance.c_str(), 0755), 0);
  RootVolume v(instance);
  EXPECT_FALSE(v.exists());
  auto t0 = std::chrono::steady_clock::now();
  bool madeFirst = false;
  bool mountedFirst = false;
  ASSERT_TRUE(v.prepare(64 * kMiB, &madeFirst, &mountedFirst).isOk());
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  std::cout << "prepare (mkfs.ext4 + loop mount) of 64 MiB: " << ms << " ms\n";
  EXPECT_TRUE(madeFirst);
  EXPECT_TRUE(mountedFirst);
  EXPECT_TRUE(v.exists());
  EXPECT_TRUE(v.isMounted());
  EXPECT_FALSE(fs::exists(v.filePath() + ".tmp"));
  EXPECT_EQ(fs::file_size(v.filePath()), uint64_t(64 * kMiB));
  EXPECT_LT(allocatedBytes(v.filePath()), 8 * kMiB); // sparse: metadata only
  ASSERT_EQ(loopDevicesOf(v.filePath()).size(), 1u);

  // A write past the size fails with ENOSPC; the host's file never grows past the size.
  auto [written, err] = fill(v.mountPoint() + "/fill", 128 * kMiB);
  EXPECT_EQ(err, ENOSPC);
  EXPECT_GT(written, 32 * kMiB);
  EXPECT_LT(written, 64 * kMiB);
  EXPECT_LE(allocatedBytes(v.filePath()), 64 * kMiB);
  // What the instance deletes goes back to the host (discard punches holes).
  ASSERT_EQ(unlink((v.mountPoint() + "/fill").c_str()), 0);
  sync();
  EXPECT_TRUE(waitFor([&] { return allocatedBytes(v.filePath()) < 16 * kMiB; }))
      << allocatedBytes(v.filePath());

  // Preparing again is a no-op while mounted (one mount, one device).
  bool made = true;
  bool mounted = true;
  ASSERT_TRUE(v.prepare(64 * kMiB, &made, &mounted).isOk());
  EXPECT_FALSE(made);
  EXPECT_FALSE(mounted);
  EXPECT_EQ(mountsUnder(readMountInfo(), instance).size(), 1u);
  EXPECT_EQ(loopDevicesOf(v.filePath()).size(), 1u);

  // Unmounted (as after a reboot): its files come back with the next prepare.
  writeFile(v.mountPoint() + "/kept.txt", "kept\n");
  ASSERT_TRUE(InstanceDisk::unmountAll(instance).isOk());
  EXPECT_FALSE(v.isMounted());
  EXPECT_TRUE(waitFor([&] { return loopDevicesOf(v.filePath()).empty(); }));
  ASSERT_TRUE(v.prepare(0, &made, &mounted).isOk()); // an existing volume keeps its size
  EXPECT_FALSE(made);
  EXPECT_TRUE(mounted);
  EXPECT_EQ(readText(v.mountPoint() + "/kept.txt"), "kept\n");

  // Removed: no mount, no loop device, no file.
  const std::string file = v.filePath();
  ASSERT_TRUE(v.remove().isOk());
  EXPECT_TRUE(mountsUnder(readMountInfo(), instance).empty());
  EXPECT_TRUE(waitFor([&] { return loopDevicesOf(file).empty(); })) << loopDevicesOf(file)[0];
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(fs::exists(v.mountPoint()));
  EXPECT_TRUE(v.remove().isOk()); // idempotent
}

TEST_F(RootVolumeTest, AHalfMadeVolumeIsNeverMounted) {
  const std::string instance = dir_ + "/i-2";
  ASSERT_EQ(mkdir(instance.c_str(), 0755), 0);
  RootVolume v(instance);
  // As left by a server killed during mkfs: only the .tmp file, which a start makes again.
  writeFile(v.filePath() + ".tmp", "not a file system");
  EXPECT_FALSE(v.exists());
  ASSERT_TRUE(v.prepare(32 * kMiB).isOk());
  EXPECT_TRUE(v.isMounted());
  EXPECT_FALSE(fs::exists(v.filePath() + ".tmp"));
  // No size for a volume still to be made: an error, and nothing left.
  RootVolume none(dir_ + "/i-3");
  ASSERT_EQ(mkdir((dir_ + "/i-3").c_str(), 0755), 0);
  EXPECT_FALSE(none.prepare(0).isOk());
  EXPECT_FALSE(none.exists());
  ASSERT_TRUE(v.remove().isOk());
}

// mkfs must stay fast: it runs at every launch. Prints the figure for the default 8 GiB.
TEST_F(RootVolumeTest, AnEightGiBVolumeIsMadeQuicklyAndCostsLittle) {
  const std::string instance = dir_ + "/i-4";
  ASSERT_EQ(mkdir(instance.c_str(), 0755), 0);
  RootVolume v(instance);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(v.prepare(8192 * kMiB).isOk());
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  int64_t used = allocatedBytes(v.filePath());
  std::cout << "prepare (mkfs.ext4 + loop mount) of 8 GiB: " << ms << " ms, " << used / kMiB
            << " MiB on the host\n";
  EXPECT_LT(used, 200 * kMiB);
  struct statvfs sv {};
  ASSERT_EQ(statvfs(v.mountPoint().c_str(), &sv), 0);
  EXPECT_GT(int64_t(sv.f_bavail) * int64_t(sv.f_frsize), 7800 * kMiB); // -m 0: all usable
  ASSERT_TRUE(v.remove().isOk());
}

// Through the provider: the instance's disk lives in its volume; a write past the size fails
// inside the instance; destroy leaves no mount and no loop device.
TEST_F(RootVolumeTest, AnInstancesDiskLivesInItsVolumeUntilItIsDestroyed) {
  fs::create_directories(dir_ + "/app");
  writeFile(dir_ + "/app/data.txt", "original\n");
  ImageStore store(dir_ + "/images");
  auto image = store.importDirectory(dir_ + "/app");
  ASSERT_TRUE(image.isOk()) << image.status().toString();
  LocalProviderOptions o;
  o.root = dir_ + "/instances";
  LocalProvider p(o);
  EXPECT_NE(p.info().limits.find("root volume size enforced"), std::string::npos)
      << p.info().limits;
  LaunchSpec s;
  s.instanceId = newId("i");
  s.imageRootfs = store.rootfsPath(image->digest);
  s.command = "dd if=/dev/zero of=fill bs=1M count=100 2>dd.err; echo \"dd $?\"; "
              "grep -o 'No space left on device' dd.err; echo done; sleep 30";
  s.environment = {{"HOST", "127.0.0.2"}, {"PORT", "8080"}};
  s.rootVolumeBytes = 32 * kMiB;
  const std::string instance = dir_ + "/instances/" + s.instanceId;
  RootVolume v(instance);
  // The instance controller's workers prepare a first launch's disk: the volume with it.
  EXPECT_FALSE(p.diskReady(s.instanceId));
  ASSERT_TRUE(p.prepareDisk(s, nullptr).isOk());
  EXPECT_TRUE(p.diskReady(s.instanceId));
  EXPECT_TRUE(v.isMounted());
  auto ref = p.start(s);
  ASSERT_TRUE(ref.isOk()) << ref.status().toString();
  EXPECT_EQ(p.diskPath(s.instanceId), v.mountPoint() + "/disk");
  EXPECT_EQ(readText(p.diskPath(s.instanceId) + "/data.txt"), "original\n");
  const std::string console = p.consoleLogPath(s.instanceId);
  ASSERT_TRUE(waitFor([&] { return readText(console).find("done") != std::string::npos; }))
      << readText(console);
  EXPECT_NE(readText(console).find("dd 1\nNo space left on device\n"), std::string::npos)
      << readText(console);
  EXPECT_LE(allocatedBytes(v.filePath()), 32 * kMiB);

  // A neighbour started meanwhile has a copy of this volume's mount in its namespace (hidden);
  // removing the instance folder detaches it there too (the kernel detaches mounts whose mount
  // point is removed, in every namespace), so it does not keep the file system, its loop device
  // and its space alive after the destroy.
  LaunchSpec n = s;
  n.instanceId = newId("i");
  n.command = "echo neighbour; sleep 30";
  n.environment = {{"HOST", "127.0.0.3"}, {"PORT", "8080"}};
  auto neighbour = p.start(n);
  ASSERT_TRUE(neighbour.isOk()) << neighbour.status().toString();
  ASSERT_TRUE(waitFor([&] {
    return readText(p.consoleLogPath(n.instanceId)).find("neighbour") != std::string::npos;
  }));

  const std::string file = v.filePath();
  ASSERT_TRUE(p.destroy(s.instanceId).isOk());
  EXPECT_TRUE(mountsUnder(readMountInfo(), instance).empty());
  EXPECT_TRUE(waitFor([&] { return loopDevicesOf(file).empty(); }));
  EXPECT_FALSE(fs::exists(instance));
  ASSERT_TRUE(p.destroy(n.instanceId).isOk());
  EXPECT_TRUE(mountsUnder(readMountInfo(), dir_ + "/instances").empty());
}

} // namespace
} // namespace tide::runtime
