#include "common/crash_point.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace tide {
namespace {

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class CrashPointTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/crash-point-test-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    trace_ = tmpl;
  }
  void TearDown() override {
    crash_point_detail::configureForTest(nullptr, nullptr);
    unlink(trace_.c_str());
  }
  std::string trace_;
};

TEST_F(CrashPointTest, OffPassesWithoutEffect) {
  crash_point_detail::configureForTest(nullptr, nullptr);
  EXPECT_FALSE(crash_point_detail::armed.load());
  TIDE_CRASH_POINT("test.a");
  EXPECT_EQ(readAll(trace_), "");
}

TEST_F(CrashPointTest, TraceNamesEachPassWithItsNumber) {
  crash_point_detail::configureForTest(nullptr, trace_.c_str());
  TIDE_CRASH_POINT("test.a");
  TIDE_CRASH_POINT("test.b");
  TIDE_CRASH_POINT("test.a");
  EXPECT_EQ(readAll(trace_), "test.a\t1\ntest.b\t1\ntest.a\t2\n");
}

TEST_F(CrashPointTest, NamedPassKills) {
  EXPECT_EXIT(
      {
        crash_point_detail::configureForTest("test.b#2", trace_.c_str());
        TIDE_CRASH_POINT("test.b");
        TIDE_CRASH_POINT("test.a");
        TIDE_CRASH_POINT("test.a");
        TIDE_CRASH_POINT("test.b"); // killed here
        _exit(0);
      },
      ::testing::KilledBySignal(SIGKILL), "");
  // The trace was written before the kill: its last line names the point.
  EXPECT_EQ(readAll(trace_), "test.b\t1\ntest.a\t1\ntest.a\t2\ntest.b\t2\n");
}

TEST_F(CrashPointTest, GlobalPassKills) {
  EXPECT_EXIT(
      {
        crash_point_detail::configureForTest("3", nullptr);
        TIDE_CRASH_POINT("test.a");
        TIDE_CRASH_POINT("test.b");
        TIDE_CRASH_POINT("test.c"); // killed here
        _exit(0);
      },
      ::testing::KilledBySignal(SIGKILL), "");
}

TEST_F(CrashPointTest, AForkedChildNeverKills) {
  crash_point_detail::configureForTest("test.a#1", nullptr);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    TIDE_CRASH_POINT("test.a");
    _exit(7);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
}

} // namespace
} // namespace tide
