// A worker's access log buffer: hand-over to the writer, per load balancer and path, and what is
// dropped when the writer falls behind.
#include "balancer/access_log_buffer.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace tide::balancer {
namespace {

AccessLogEntry entry(std::string_view target) {
  AccessLogEntry e;
  e.timeUs = 1530570180186641;
  e.requestCreationUs = 1530570168364000;
  e.loadBalancerName = "web";
  e.elbStatus = 200;
  e.targetStatus = 200;
  e.method = "GET";
  e.requestTarget = target;
  e.host = "www.example.com";
  e.listenerPort = 80;
  return e;
}

std::string lineOf(const AccessLogEntry& e) {
  std::string s;
  formatAccessLogEntry(e, s);
  return s;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The writers below are never started: stop() writes what was handed over, and no writer thread
// can hold the lock that a hand-over tries to take.
class AccessLogBufferTest : public ::testing::Test {
protected:
  void SetUp() override {
    char dir[] = "/tmp/tide-access-log-buffer-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    std::remove((dir_ + "/one.log").c_str());
    std::remove((dir_ + "/two.log").c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_;
};

TEST_F(AccessLogBufferTest, LinesReachTheWriterOncePerSecondOrAtTheEnd) {
  std::string path = dir_ + "/one.log";
  AccessLogWriter writer(AccessLogOptions{std::chrono::milliseconds(50), 1 << 20});
  AccessLogBuffer buffer(2, &writer);
  EXPECT_FALSE(buffer.pending());
  buffer.append(1, path, entry("/a"));
  EXPECT_TRUE(buffer.pending());
  buffer.handOverIfDue(AccessLogBuffer::kHandoverEveryMs - 1); // not yet a second
  EXPECT_TRUE(buffer.pending());
  buffer.handOverIfDue(AccessLogBuffer::kHandoverEveryMs);
  EXPECT_FALSE(buffer.pending());
  buffer.append(1, path, entry("/b"));
  buffer.handOverAll(true); // the worker's last hand-over
  EXPECT_FALSE(buffer.pending());
  writer.stop();
  EXPECT_EQ(readFile(path), lineOf(entry("/a")) + lineOf(entry("/b")));
  EXPECT_EQ(writer.droppedLines(), 0u);
}

TEST_F(AccessLogBufferTest, ALogThatMovesGetsItsEarlierLinesInTheEarlierFile) {
  std::string one = dir_ + "/one.log";
  std::string two = dir_ + "/two.log";
  AccessLogWriter writer(AccessLogOptions{std::chrono::milliseconds(50), 1 << 20});
  AccessLogBuffer buffer(1, &writer);
  buffer.append(0, one, entry("/before"));
  buffer.append(0, two, entry("/after"));
  buffer.handOverAll(true);
  writer.stop();
  EXPECT_EQ(readFile(one), lineOf(entry("/before")));
  EXPECT_EQ(readFile(two), lineOf(entry("/after")));
}

TEST_F(AccessLogBufferTest, AFullBufferIsHandedOverAtOnce) {
  std::string path = dir_ + "/one.log";
  AccessLogWriter writer(AccessLogOptions{std::chrono::milliseconds(50), 1 << 20});
  AccessLogBuffer buffer(1, &writer);
  size_t lineBytes = lineOf(entry("/x")).size();
  size_t lines = AccessLogBuffer::kHandoverBytes / lineBytes + 1;
  for (size_t i = 0; i < lines; ++i) {
    buffer.append(0, path, entry("/x"));
  }
  writer.stop(); // writes what was handed over: the buffer was never asked to hand over
  EXPECT_EQ(readFile(path).size(), lines * lineBytes);
}

TEST_F(AccessLogBufferTest, LinesTheWriterCannotTakeAreDroppedAndCountedPastTheBound) {
  std::string path = dir_ + "/one.log";
  // A queue too small for one hand-over: the writer is "behind" for good.
  AccessLogWriter writer(AccessLogOptions{std::chrono::milliseconds(50), 1024});
  AccessLogBuffer buffer(1, &writer);
  size_t lineBytes = lineOf(entry("/x")).size();
  size_t underBound = AccessLogBuffer::kMaxBytes / lineBytes;
  for (size_t i = 0; i < underBound; ++i) {
    buffer.append(0, path, entry("/x"));
  }
  EXPECT_EQ(writer.droppedLines(), 0u); // kept while under the bound
  buffer.append(0, path, entry("/x"));
  EXPECT_EQ(writer.droppedLines(), underBound + 1); // over it: dropped, counted
  buffer.handOverAll(false);
  EXPECT_FALSE(buffer.pending());
  writer.stop();
  EXPECT_EQ(readFile(path), "");
}

TEST_F(AccessLogBufferTest, WithoutAWriterLinesAreDropped) {
  AccessLogBuffer buffer(1, nullptr);
  buffer.append(0, dir_ + "/one.log", entry("/x"));
  buffer.handOverAll(false);
  EXPECT_FALSE(buffer.pending());
  EXPECT_EQ(readFile(dir_ + "/one.log"), "");
}

} // namespace
} // namespace tide::balancer
