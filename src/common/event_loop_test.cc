#include "common/event_loop.h"

#include <atomic>
#include <future>
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace tide {
namespace {

// Stops the loop after this long so that a broken test fails instead of hanging.
constexpr Millis kSafetyTimeout = Millis(10'000);

// A connected pair of non-blocking sockets, closed at scope exit.
struct SocketPair {
  int fds[2] = {-1, -1};
  SocketPair() {
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  }
  ~SocketPair() {
    for (int fd : fds) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }
};

void writeByte(int fd) {
  char c = 'x';
  ASSERT_EQ(::write(fd, &c, 1), 1);
}

TEST(EventLoopTest, TimersRunInDeadlineOrder) {
  EventLoop loop;
  std::vector<int> order;
  loop.runAfter(Millis(30), [&] { order.push_back(3); });
  loop.runAfter(Millis(10), [&] { order.push_back(1); });
  loop.runAfter(Millis(20), [&] { order.push_back(2); });
  loop.runAfter(Millis(20), [&] { order.push_back(22); }); // same deadline: scheduling order
  loop.runAfter(Millis(40), [&] { loop.stop(); });
  loop.runAfter(kSafetyTimeout, [&] {
    ADD_FAILURE() << "timed out";
    loop.stop();
  });
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 22, 3}));
}

TEST(EventLoopTest, CancelledTimerDoesNotRun) {
  EventLoop loop;
  bool ran = false;
  EventLoop::TimerId id = loop.runAfter(Millis(5), [&] { ran = true; });
  loop.cancel(id);
  loop.cancel(id);     // no-op
  loop.cancel(123456); // unknown: no-op
  loop.runAfter(Millis(20), [&] { loop.stop(); });
  loop.run();
  EXPECT_FALSE(ran);
}

TEST(EventLoopTest, TimerCanCancelAnotherDueInTheSamePass) {
  EventLoop loop;
  bool secondRan = false;
  EventLoop::TimerId second = 0;
  // Both are due by the time the loop first looks; the first cancels the second.
  loop.runAfter(Millis(0), [&] { loop.cancel(second); });
  second = loop.runAfter(Millis(0), [&] { secondRan = true; });
  loop.runAfter(Millis(10), [&] { loop.stop(); });
  loop.run();
  EXPECT_FALSE(secondRan);
}

TEST(EventLoopTest, ZeroDelayTimerScheduledByTimerRunsOnNextPass) {
  EventLoop loop;
  int count = 0;
  std::function<void()> again = [&] {
    if (++count < 100) {
      loop.runAfter(Millis(0), again);
    } else {
      loop.stop();
    }
  };
  loop.runAfter(Millis(0), again);
  loop.run();
  EXPECT_EQ(count, 100);
}

TEST(EventLoopTest, PostFromAnotherThread) {
  EventLoop loop;
  std::atomic<int> ran{0};
  std::thread loopThread([&] { loop.run(); });
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        loop.post([&] { ran.fetch_add(1); });
      }
    });
  }
  for (auto& t : posters) {
    t.join();
  }
  // Posted tasks run in order, so this one runs after all of the above.
  loop.post([&] { loop.stop(); });
  loopThread.join();
  EXPECT_EQ(ran.load(), 400);
}

TEST(EventLoopTest, StopFromAnotherThreadWakesIdleLoop) {
  EventLoop loop;
  std::atomic<bool> started{false};
  loop.post([&] { started = true; });
  std::promise<void> returned;
  std::future<void> runReturned = returned.get_future();
  std::thread loopThread([&] {
    loop.run();
    returned.set_value();
  });
  while (!started) {
    std::this_thread::yield();
  }
  loop.stop(); // nothing else would wake epoll_wait
  // The readiness signal is run() returning; the bound only keeps a broken wake-up from
  // hanging the suite: then the test fails and a posted task ends the loop.
  bool woke = runReturned.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  EXPECT_TRUE(woke) << "stop() from another thread did not wake the idle loop";
  if (!woke) {
    loop.post([&] { loop.stop(); });
  }
  loopThread.join();
}

TEST(EventLoopTest, StopBeforeRunReturnsPromptlyAndLoopRunsAgain) {
  EventLoop loop;
  loop.stop();
  loop.run(); // returns at once
  bool ran = false;
  loop.post([&] {
    ran = true;
    loop.stop();
  });
  loop.run();
  EXPECT_TRUE(ran);
}

TEST(EventLoopTest, FdReadinessCallback) {
  EventLoop loop;
  SocketPair sp;
  std::string got;
  ASSERT_TRUE(loop.add(sp.fds[0], EPOLLIN,
                       [&](uint32_t events) {
                         EXPECT_TRUE(events & EPOLLIN);
                         char buf[16];
                         ssize_t n = ::read(sp.fds[0], buf, sizeof buf);
                         got.append(buf, n > 0 ? size_t(n) : 0);
                         loop.remove(sp.fds[0]);
                         loop.stop();
                       })
                  .isOk());
  EXPECT_FALSE(loop.add(sp.fds[0], EPOLLIN, [](uint32_t) {}).isOk()); // already watched
  writeByte(sp.fds[1]);
  loop.runAfter(kSafetyTimeout, [&] {
    ADD_FAILURE() << "timed out";
    loop.stop();
  });
  loop.run();
  EXPECT_EQ(got, "x");
}

TEST(EventLoopTest, ModifyChangesInterest) {
  EventLoop loop;
  SocketPair sp;
  int writable = 0;
  ASSERT_TRUE(loop.add(sp.fds[0], 0,
                       [&](uint32_t events) {
                         if (events & EPOLLOUT) {
                           ++writable;
                           loop.remove(sp.fds[0]);
                           loop.stop();
                         }
                       })
                  .isOk());
  EXPECT_FALSE(loop.modify(sp.fds[1], EPOLLIN).isOk()); // not watched
  loop.post([&] { ASSERT_TRUE(loop.modify(sp.fds[0], EPOLLOUT).isOk()); });
  loop.runAfter(kSafetyTimeout, [&] {
    ADD_FAILURE() << "timed out";
    loop.stop();
  });
  loop.run();
  EXPECT_EQ(writable, 1);
}

TEST(EventLoopTest, CallbackRemovesItself) {
  EventLoop loop;
  SocketPair sp;
  int calls = 0;
  ASSERT_TRUE(loop.add(sp.fds[0], EPOLLIN,
                       [&](uint32_t) {
                         ++calls;
                         loop.remove(sp.fds[0]); // destroys the watch while its callback runs
                       })
                  .isOk());
  writeByte(sp.fds[1]); // stays readable (level-triggered) since nobody reads it
  loop.runAfter(Millis(50), [&] { loop.stop(); });
  loop.run();
  EXPECT_EQ(calls, 1);
}

TEST(EventLoopTest, FdRemovedEarlierInTheSameBatchIsNotDispatched) {
  EventLoop loop;
  SocketPair a;
  SocketPair b;
  int callsA = 0;
  int callsB = 0;
  // Whichever callback runs first removes the other; both fds are ready in the same batch.
  ASSERT_TRUE(loop.add(a.fds[0], EPOLLIN,
                       [&](uint32_t) {
                         ++callsA;
                         loop.remove(a.fds[0]);
                         loop.remove(b.fds[0]);
                       })
                  .isOk());
  ASSERT_TRUE(loop.add(b.fds[0], EPOLLIN,
                       [&](uint32_t) {
                         ++callsB;
                         loop.remove(a.fds[0]);
                         loop.remove(b.fds[0]);
                       })
                  .isOk());
  writeByte(a.fds[1]);
  writeByte(b.fds[1]);
  loop.runAfter(Millis(50), [&] { loop.stop(); });
  loop.run();
  EXPECT_EQ(callsA + callsB, 1);
}

TEST(EventLoopTest, FdReplacedInTheSameBatchGetsNoStaleEvent) {
  EventLoop loop;
  SocketPair a;
  SocketPair b;
  int staleCalls = 0;
  int firstCalls = 0;
  // The first callback to run removes the other fd and re-adds it with a new callback that
  // asks only for EPOLLOUT: the batch's queued EPOLLIN event for the old watch must be dropped.
  auto replaceOther = [&](int self, int other) {
    ++firstCalls;
    loop.remove(self);
    loop.remove(other);
    ASSERT_TRUE(loop.add(other, EPOLLOUT,
                         [&, other](uint32_t events) {
                           if (events & EPOLLIN) {
                             ++staleCalls;
                           }
                           loop.remove(other);
                         })
                    .isOk());
  };
  ASSERT_TRUE(
      loop.add(a.fds[0], EPOLLIN, [&](uint32_t) { replaceOther(a.fds[0], b.fds[0]); }).isOk());
  ASSERT_TRUE(
      loop.add(b.fds[0], EPOLLIN, [&](uint32_t) { replaceOther(b.fds[0], a.fds[0]); }).isOk());
  writeByte(a.fds[1]);
  writeByte(b.fds[1]);
  loop.runAfter(Millis(50), [&] { loop.stop(); });
  loop.run();
  EXPECT_EQ(firstCalls, 1);
  EXPECT_EQ(staleCalls, 0);
}

TEST(EventLoopTest, CallbacksCanAddTimersAndFds) {
  EventLoop loop;
  SocketPair sp;
  bool fdSeen = false;
  loop.runAfter(Millis(1), [&] {
    ASSERT_TRUE(loop.add(sp.fds[0], EPOLLIN,
                         [&](uint32_t) {
                           fdSeen = true;
                           loop.remove(sp.fds[0]);
                           loop.runAfter(Millis(1), [&] { loop.stop(); });
                         })
                    .isOk());
    writeByte(sp.fds[1]);
  });
  loop.runAfter(kSafetyTimeout, [&] {
    ADD_FAILURE() << "timed out";
    loop.stop();
  });
  loop.run();
  EXPECT_TRUE(fdSeen);
}

} // namespace
} // namespace tide
