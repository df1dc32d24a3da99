// Sparse files stay sparse: an image import and an instance's disk (copy and overlay forms)
// keep a file's holes, and the image's digest does not depend on how the source stores them.
#include "runtime/disk.h"
#include "runtime/file_tree.h"
#include "runtime/image_store.h"
#include "runtime/test_util.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace tide::runtime {
namespace {

using testing::allocatedBytes;
using testing::readText;
using testing::TempDir;
using testing::writeFile;
namespace fs = std::filesystem;

constexpr off_t kGiB = off_t(1) << 30;

// A file of `size` bytes that is all hole but for "tide" at 1 MiB and "end" near the end.
void makeSparse(const std::string& path, off_t size) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "tide", 4, 1 << 20), 4);
  ASSERT_EQ(pwrite(fd, "end", 3, size - 3), 3);
  ASSERT_EQ(ftruncate(fd, size), 0);
  close(fd);
}

// The same contents written densely (every byte, zeros included).
void makeDense(const std::string& path, off_t size) {
  std::string data(size_t(size), '\0');
  data.replace(1 << 20, 4, "tide");
  data.replace(size_t(size) - 3, 3, "end");
  writeFile(path, data);
}

std::string readAt(const std::string& path, off_t off, size_t n) {
  std::string out(n, '?');
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << path;
  EXPECT_EQ(pread(fd, out.data(), n, off), ssize_t(n));
  close(fd);
  return out;
}

void expectSameContents(const std::string& path, off_t size) {
  EXPECT_EQ(fs::file_size(path), uint64_t(size));
  EXPECT_EQ(readAt(path, 1 << 20, 4), "tide");
  EXPECT_EQ(readAt(path, size - 3, 3), "end");
  EXPECT_EQ(readAt(path, 4096, 8), std::string(8, '\0'));
}

bool holesSupported(const std::string& dir) {
  makeSparse(dir + "/probe", 64 << 20);
  bool sparse = allocatedBytes(dir + "/probe") < (1 << 20);
  fs::remove(dir + "/probe");
  return sparse;
}

TEST(SparseFiles, AnImportedGibibyteHoleCostsAlmostNothingAndKeepsItsDigest) {
  TempDir tmp;
  if (!holesSupported(tmp.path())) {
    GTEST_SKIP() << "the file system under /tmp does not keep holes";
  }
  fs::create_directories(tmp / "src");
  makeSparse(tmp / "src/disk.img", kGiB);
  writeFile(tmp / "src/app.sh", "#!/bin/sh\n", 0755);
  ImageStore store(tmp / "store");
  auto content = store.importDirectory(tmp / "src");
  ASSERT_TRUE(content.isOk()) << content.status().toString();
  EXPECT_EQ(content->sizeBytes, kGiB + 10);
  const std::string stored = store.rootfsPath(content->digest) + "/disk.img";
  expectSameContents(stored, kGiB);
  EXPECT_LT(allocatedBytes(stored), 1 << 20) << "the stored copy is dense";

  // The digest covers contents, not storage: a dense file with the same bytes gives the same
  // digest, and its copy in the store is sparse too (blocks of zeros are not written).
  fs::create_directories(tmp / "sparse");
  fs::create_directories(tmp / "dense");
  makeSparse(tmp / "sparse/f", 8 << 20);
  makeDense(tmp / "dense/f", 8 << 20);
  EXPECT_GE(allocatedBytes(tmp / "dense/f"), 8 << 20);
  auto sparse = store.importDirectory(tmp / "sparse");
  auto dense = store.importDirectory(tmp / "dense");
  ASSERT_TRUE(sparse.isOk() && dense.isOk());
  EXPECT_EQ(sparse->digest, dense->digest);
  EXPECT_LT(allocatedBytes(store.rootfsPath(dense->digest) + "/f"), 1 << 20);
}

TEST(SparseFiles, CopyRegularFileKeepsHolesAndHashesTheWholeContents) {
  TempDir tmp;
  if (!holesSupported(tmp.path())) {
    GTEST_SKIP() << "the file system under /tmp does not keep holes";
  }
  // A hole at the start, data, a hole at the end (the length comes from ftruncate alone).
  int fd = open((tmp / "f").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_EQ(pwrite(fd, "x", 1, 5 << 20), 1);
  ASSERT_EQ(ftruncate(fd, 9 << 20), 0);
  close(fd);
  ASSERT_TRUE(copyRegularFile(tmp / "f", tmp / "g", 0640, /*tryReflink=*/false, nullptr).isOk());
  EXPECT_EQ(fs::file_size(tmp / "g"), uint64_t(9 << 20));
  EXPECT_EQ(readAt(tmp / "g", 5 << 20, 1), "x");
  EXPECT_LT(allocatedBytes(tmp / "g"), 1 << 20);
  EXPECT_EQ(fs::status(tmp / "g").permissions(), fs::perms(0640));
  EXPECT_EQ(readText(tmp / "f"), readText(tmp / "g"));
  // An empty file and a file that is one hole.
  writeFile(tmp / "e", "");
  ASSERT_TRUE(copyRegularFile(tmp / "e", tmp / "e2", 0644, false, nullptr).isOk());
  EXPECT_EQ(fs::file_size(tmp / "e2"), 0u);
  fd = open((tmp / "h").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_EQ(ftruncate(fd, 3 << 20), 0);
  close(fd);
  ASSERT_TRUE(copyRegularFile(tmp / "h", tmp / "h2", 0644, false, nullptr).isOk());
  EXPECT_EQ(fs::file_size(tmp / "h2"), uint64_t(3 << 20));
  EXPECT_EQ(allocatedBytes(tmp / "h2"), 0);
}

TEST(SparseFiles, AnInstanceDiskCopyKeepsHoles) {
  TempDir tmp;
  if (!holesSupported(tmp.path())) {
    GTEST_SKIP() << "the file system under /tmp does not keep holes";
  }
  fs::create_directories(tmp / "image");
  makeSparse(tmp / "image/disk.img", kGiB);
  fs::create_directories(tmp / "i-1");
  InstanceDisk disk(fs::canonical(tmp.path()).string() + "/i-1");
  ASSERT_TRUE(disk.createCopy(tmp / "image").isOk());
  expectSameContents(disk.path() + "/disk.img", kGiB);
  EXPECT_LT(allocatedBytes(disk.path() + "/disk.img"), 1 << 20) << "the copied disk is dense";
}

TEST(SparseFiles, AnInstanceOverlayDiskCostsNothingForAnUnwrittenHole) {
  TempDir tmp;
  if (!holesSupported(tmp.path())) {
    GTEST_SKIP() << "the file system under /tmp does not keep holes";
  }
  std::string why = probeOverlay(tmp.path());
  if (!why.empty()) {
    GTEST_SKIP() << "overlayfs not usable here: " << why;
  }
  fs::create_directories(tmp / "image");
  makeSparse(tmp / "image/disk.img", kGiB);
  fs::create_directories(tmp / "i-1");
  InstanceDisk disk(fs::canonical(tmp.path()).string() + "/i-1");
  ASSERT_TRUE(disk.createOverlay(tmp / "image").isOk());
  expectSameContents(disk.path() + "/disk.img", kGiB);
  EXPECT_LT(allocatedBytes(disk.path() + "/disk.img"), 1 << 20);
  // Nothing was copied up: the instance's own layer holds no data.
  int64_t upper = 0;
  for (auto& e : fs::recursive_directory_iterator(tmp / "i-1/upper")) {
    upper += allocatedBytes(e.path().string());
  }
  EXPECT_LT(upper, 1 << 20);
  EXPECT_TRUE(disk.remove().isOk());
}

} // namespace
} // namespace tide::runtime
