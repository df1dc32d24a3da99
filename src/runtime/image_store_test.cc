#include "runtime/image_store.h"

#include "runtime/test_util.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include <filesystem>

namespace tide::runtime {
namespace {

using testing::readText;
using testing::TempDir;
using testing::writeFile;
namespace fs = std::filesystem;

// A small app tree: a script with the exec bit, a nested folder, a symlink.
void makeTree(const std::string& dir) {
  fs::create_directories(dir + "/bin");
  fs::create_directories(dir + "/static/css");
  writeFile(dir + "/bin/serve.sh", "#!/bin/sh\necho serving\n", 0755);
  writeFile(dir + "/static/index.html", "<h1>hello</h1>\n");
  writeFile(dir + "/static/css/site.css", "body {}\n", 0600);
  symlink("static/index.html", (dir + "/index.html").c_str());
}

size_t entriesIn(const std::string& dir) {
  size_t n = 0;
  for (auto it = fs::directory_iterator(dir); it != fs::directory_iterator(); ++it) {
    ++n;
  }
  return n;
}

TEST(ImageStore, ImportsAndDigestIsStableAcrossIdenticalTrees) {
  TempDir tmp;
  makeTree(tmp / "a");
  makeTree(tmp / "b");
  ImageStore store(tmp / "store");
  auto a = store.importDirectory(tmp / "a");
  ASSERT_TRUE(a.isOk()) << a.status().toString();
  EXPECT_EQ(a->digest.rfind("sha256:", 0), 0u);
  EXPECT_EQ(a->digest.size(), 7u + 64u);
  EXPECT_EQ(a->fileCount, 7); // bin, static, static/css, 3 files, 1 symlink
  EXPECT_EQ(a->sizeBytes, int64_t(strlen("#!/bin/sh\necho serving\n") + strlen("<h1>hello</h1>\n") +
                                  strlen("body {}\n")));

  auto b = store.importDirectory(tmp / "b");
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(a->digest, b->digest);
  EXPECT_EQ(store.list(), std::vector<std::string>{a->digest}); // one copy
  EXPECT_TRUE(store.contains(a->digest));

  // The stored tree keeps contents, modes (the exec bit) and symlinks.
  std::string root = store.rootfsPath(a->digest);
  EXPECT_EQ(root, tmp / "store/" + a->digest.substr(7) + "/rootfs");
  EXPECT_EQ(readText(root + "/bin/serve.sh"), "#!/bin/sh\necho serving\n");
  EXPECT_EQ(fs::status(root + "/bin/serve.sh").permissions(), fs::perms(0755));
  EXPECT_EQ(fs::status(root + "/static/css/site.css").permissions(), fs::perms(0600));
  ASSERT_TRUE(fs::is_symlink(root + "/index.html"));
  EXPECT_EQ(fs::read_symlink(root + "/index.html"), "static/index.html");
  // No temporary folders remain.
  EXPECT_EQ(entriesIn(tmp / "store"), 1u);
}

TEST(ImageStore, DigestChangesWithOneByteOrOneModeOrOneLink) {
  TempDir tmp;
  ImageStore store(tmp / "store");
  makeTree(tmp / "base");
  std::string base = store.importDirectory(tmp / "base")->digest;

  makeTree(tmp / "byte");
  writeFile(tmp / "byte/static/index.html", "<h1>hellp</h1>\n");
  EXPECT_NE(store.importDirectory(tmp / "byte")->digest, base);

  makeTree(tmp / "mode");
  chmod((tmp / "mode/bin/serve.sh").c_str(), 0644);
  EXPECT_NE(store.importDirectory(tmp / "mode")->digest, base);

  makeTree(tmp / "link");
  fs::remove(tmp / "link/index.html");
  symlink("static/css/site.css", (tmp / "link/index.html").c_str());
  EXPECT_NE(store.importDirectory(tmp / "link")->digest, base);

  makeTree(tmp / "name");
  fs::rename(tmp / "name/static/index.html", tmp / "name/static/index.htm");
  EXPECT_NE(store.importDirectory(tmp / "name")->digest, base);

  EXPECT_EQ(store.list().size(), 5u);
  EXPECT_TRUE(store.remove(base).isOk());
  EXPECT_FALSE(store.contains(base));
  EXPECT_EQ(store.list().size(), 4u);
}

TEST(ImageStore, EmptyTreeImports) {
  TempDir tmp;
  fs::create_directories(tmp / "empty");
  ImageStore store(tmp / "store");
  auto c = store.importDirectory(tmp / "empty");
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  EXPECT_EQ(c->fileCount, 0);
  EXPECT_TRUE(fs::is_directory(store.rootfsPath(c->digest)));
}

TEST(ImageStore, RejectsMissingPathsAndNonDirectories) {
  TempDir tmp;
  ImageStore store(tmp / "store");
  auto missing = store.importDirectory(tmp / "nope");
  ASSERT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().code(), "InvalidParameterValue");
  EXPECT_EQ(missing.status().message(), tmp / "nope" + " does not exist");

  writeFile(tmp / "file", "x");
  auto notDir = store.importDirectory(tmp / "file");
  ASSERT_FALSE(notDir.isOk());
  EXPECT_EQ(notDir.status().code(), "InvalidParameterValue");
  EXPECT_EQ(notDir.status().message(), tmp / "file" + " is not a directory");
  EXPECT_TRUE(store.list().empty());
}

TEST(ImageStore, RejectsFifosAndSocketsLeavingNothing) {
  TempDir tmp;
  makeTree(tmp / "fifo");
  ASSERT_EQ(mkfifo((tmp / "fifo/static/pipe").c_str(), 0644), 0);
  ImageStore store(tmp / "store");
  auto r = store.importDirectory(tmp / "fifo");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), "InvalidParameterValue");
  EXPECT_NE(r.status().message().find(tmp / "fifo/static/pipe"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("fifo"), std::string::npos);

  makeTree(tmp / "sock");
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string sockPath = tmp / "sock/s";
  strncpy(addr.sun_path, sockPath.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  close(fd);
  auto s = store.importDirectory(tmp / "sock");
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.status().message().find(sockPath + " is a socket"), std::string::npos);

  EXPECT_TRUE(store.list().empty());
  EXPECT_TRUE(!fs::exists(tmp / "store") || entriesIn(tmp / "store") == 0u); // no .tmp-* left
}

TEST(ImageStore, RejectsDeviceFilesWhenRootCanMakeThem) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "making a device node needs root";
  }
  TempDir tmp;
  makeTree(tmp / "dev");
  ASSERT_EQ(mknod((tmp / "dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  ImageStore store(tmp / "store");
  auto r = store.importDirectory(tmp / "dev");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), "InvalidParameterValue");
  EXPECT_NE(r.status().message().find(tmp / "dev/null is a character device"), std::string::npos);
}

TEST(ImageStore, RemovesIncompleteImports) {
  TempDir tmp;
  makeTree(tmp / "a");
  ImageStore store(tmp / "store");
  std::string digest = store.importDirectory(tmp / "a")->digest;
  fs::create_directories(tmp / "store/.tmp-abc123/rootfs/x");
  writeFile(tmp / "store/.tmp-abc123/rootfs/x/f", "partial");
  store.removeIncompleteImports();
  EXPECT_FALSE(fs::exists(tmp / "store/.tmp-abc123"));
  EXPECT_TRUE(store.contains(digest));
  EXPECT_EQ(store.list(), std::vector<std::string>{digest});
}

TEST(ImageStore, MalformedDigestsAreNotFound) {
  TempDir tmp;
  ImageStore store(tmp / "store");
  EXPECT_EQ(store.rootfsPath("sha256:../../etc"), "");
  EXPECT_FALSE(store.contains("sha256:xyz"));
  EXPECT_EQ(store.remove("md5:00").code(), "InvalidParameterValue");
}

} // namespace
} // namespace tide::runtime
