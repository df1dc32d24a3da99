// An instance's console log stays within its bound on the host however much the instance
// writes, keeps the latest output, and its writers go on appending (console_log.h).
#include "runtime/console_log.h"
#include "runtime/test_util.h"

#include <cstring>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tide::runtime {
namespace {

using testing::allocatedBytes;
using testing::readText;
using testing::TempDir;

constexpr int64_t kMiB = 1 << 20;

// Line n of the console: "line 0000042\n", 13 bytes each.
std::string line(int n) {
  char buf[32];
  snprintf(buf, sizeof buf, "line %07d\n", n);
  return buf;
}

// Appends lines [from, to) through `fd` (opened O_APPEND, as the instance's stdout is).
void appendLines(int fd, int from, int to) {
  std::string chunk;
  for (int n = from; n < to; ++n) {
    chunk += line(n);
    if (chunk.size() > 60'000 || n + 1 == to) {
      ASSERT_EQ(write(fd, chunk.data(), chunk.size()), ssize_t(chunk.size()));
      chunk.clear();
    }
  }
}

// Writes 3 MiB of numbered lines through an O_APPEND descriptor kept open, trims, checks the
// bound and the tail, appends more through the same descriptor and checks it lands at the end.
ConsoleTrim fillTrimAndAppend(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  EXPECT_GE(fd, 0);
  const int lines = int(3 * kMiB / 13);
  appendLines(fd, 0, lines);
  EXPECT_GT(allocatedBytes(path), kConsoleLogMaxBytes);

  Result<ConsoleTrim> trimmed = trimConsoleLog(path);
  EXPECT_TRUE(trimmed.isOk()) << trimmed.status().toString();
  ConsoleTrim how = trimmed.isOk() ? *trimmed : ConsoleTrim::None;
  EXPECT_NE(how, ConsoleTrim::None);
  // At least the latest 64 KB stay, and not much more than that (whole blocks).
  EXPECT_LE(allocatedBytes(path), kConsoleLogKeepBytes + 64 * 1024);
  std::string text = readText(path);
  std::string tail = text.substr(text.size() - kConsoleLogKeepBytes);
  EXPECT_EQ(tail.substr(tail.size() - 13), line(lines - 1));
  size_t firstWhole = tail.find('\n') + 1;
  int first = std::atoi(tail.c_str() + firstWhole + 5);
  for (int n = first; n < first + 100; ++n) {
    EXPECT_EQ(tail.substr(firstWhole + size_t(n - first) * 13, 13), line(n));
  }

  // The writer goes on: its next lines come right after the kept output.
  appendLines(fd, lines, lines + 10);
  close(fd);
  text = readText(path);
  EXPECT_EQ(
      text.substr(text.size() - 11 * 13), line(lines - 1) + [&] {
        std::string more;
        for (int n = lines; n < lines + 10; ++n) {
          more += line(n);
        }
        return more;
      }());
  // Under the bound again: nothing to do.
  Result<ConsoleTrim> again = trimConsoleLog(path);
  EXPECT_TRUE(again.isOk() && *again == ConsoleTrim::None);
  return how;
}

TEST(ConsoleLogTest, AFileUnderTheBoundOrMissingIsLeftAlone) {
  TempDir dir;
  Result<ConsoleTrim> missing = trimConsoleLog(dir / "console.log");
  ASSERT_TRUE(missing.isOk());
  EXPECT_EQ(*missing, ConsoleTrim::None);
  testing::writeFile(dir / "console.log", std::string(512 * 1024, 'x'), 0600);
  Result<ConsoleTrim> small = trimConsoleLog(dir / "console.log");
  ASSERT_TRUE(small.isOk());
  EXPECT_EQ(*small, ConsoleTrim::None);
  EXPECT_EQ(readText(dir / "console.log").size(), 512u * 1024);
}

TEST(ConsoleLogTest, ALogOverTheBoundKeepsItsLatestOutputAndItsWritersAppend) {
  TempDir dir; // /tmp: on ext4 or xfs the head is collapsed, elsewhere punched
  ConsoleTrim how = fillTrimAndAppend(dir / "console.log");
  struct stat st {};
  ASSERT_EQ(stat((dir / "console.log").c_str(), &st), 0);
  if (how == ConsoleTrim::Collapsed) {
    EXPECT_LT(st.st_size, 2 * kConsoleLogKeepBytes); // the head is gone, offsets moved
  } else {
    EXPECT_GT(st.st_size, 3 * kMiB - 1); // the head is a hole, offsets kept
  }
}

TEST(ConsoleLogTest, WhereTheHeadCannotBeCollapsedItIsPunched) {
  TempDir dir;
  std::string mnt = dir / "tmpfs";
  ASSERT_EQ(mkdir(mnt.c_str(), 0700), 0);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=16m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << std::strerror(errno);
  }
  ConsoleTrim how = fillTrimAndAppend(mnt + "/console.log");
  EXPECT_EQ(how, ConsoleTrim::Punched); // tmpfs does not collapse ranges
  umount2(mnt.c_str(), MNT_DETACH);
}

TEST(ConsoleLogTest, SomethingElseThanARegularFileIsRefused) {
  TempDir dir;
  ASSERT_EQ(symlink("/etc/passwd", (dir / "console.log").c_str()), 0);
  EXPECT_FALSE(trimConsoleLog(dir / "console.log").isOk());
}

} // namespace
} // namespace tide::runtime
