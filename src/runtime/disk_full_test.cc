// Running out of space midway: an image import and an instance's disk copy fail naming the
// cause and leave no partial copy behind (root: a small tmpfs; skipped otherwise).
#include "runtime/disk.h"
#include "runtime/image_store.h"
#include "runtime/test_util.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

namespace tide::runtime {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

// A tmpfs of `bytes` at path (made); false when it cannot be mounted (not root).
bool mountSmall(const std::string& path, int64_t bytes) {
  fs::create_directories(path);
  std::string opts = "size=" + std::to_string(bytes);
  return geteuid() == 0 && mount("tmpfs", path.c_str(), "tmpfs", 0, opts.c_str()) == 0;
}

void writeRandom(const std::string& path, size_t bytes) {
  std::mt19937_64 rng(7);
  std::string data(bytes, '\0');
  for (size_t i = 0; i + 8 <= bytes; i += 8) {
    uint64_t v = rng();
    memcpy(&data[i], &v, 8);
  }
  std::ofstream(path, std::ios::binary) << data;
}

TEST(DiskFull, AnImportThatRunsOutOfSpaceFailsClearlyAndLeavesNothing) {
  TempDir tmp;
  if (!mountSmall(tmp / "store", 4 << 20)) {
    GTEST_SKIP() << "needs root to mount a small tmpfs";
  }
  fs::create_directories(tmp / "src");
  writeRandom(tmp / "src/a", 1 << 20);
  writeRandom(tmp / "src/b", 6 << 20);
  ImageStore store(tmp / "store");
  auto r = store.importDirectory(tmp / "src");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), "InternalError");
  EXPECT_NE(r.status().message().find("No space left on device"), std::string::npos)
      << r.status().toString();
  EXPECT_TRUE(store.list().empty());
  EXPECT_TRUE(fs::is_empty(tmp / "store")) << "a partial copy was left";
  // What fits still imports.
  fs::remove(tmp / "src/b");
  EXPECT_TRUE(store.importDirectory(tmp / "src").isOk());
  umount2((tmp / "store").c_str(), MNT_DETACH);
}

TEST(DiskFull, ADiskCopyThatRunsOutOfSpaceFailsAndLeavesNothing) {
  TempDir tmp;
  if (!mountSmall(tmp / "instances", 4 << 20)) {
    GTEST_SKIP() << "needs root to mount a small tmpfs";
  }
  fs::create_directories(tmp / "image");
  writeRandom(tmp / "image/blob", 6 << 20);
  fs::create_directories(tmp / "instances/i-1");
  InstanceDisk disk(fs::canonical(tmp / "instances").string() + "/i-1");
  Status s = disk.createCopy(tmp / "image");
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.toString();
  EXPECT_FALSE(disk.exists());
  EXPECT_TRUE(fs::is_empty(tmp / "instances/i-1"));
  umount2((tmp / "instances").c_str(), MNT_DETACH);
}

} // namespace
} // namespace tide::runtime
