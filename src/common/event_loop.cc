#include "common/event_loop.h"

#include "common/log.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tide {

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

[[noreturn]] void die(const char* what) {
  std::string m = std::string("event loop: ") + what + ": " + std::strerror(errno);
  logError(m);
  std::abort();
}

// epoll_event.data carries the fd in the low 32 bits and the watch's generation in the high 32,
// so an event queued for an fd that was removed (and possibly re-added under the same number)
// earlier in the same batch is recognised as stale and dropped.
uint64_t packData(int fd, uint32_t generation) {
  return (uint64_t(generation) << 32) | uint32_t(fd);
}

} // namespace

struct EventLoop::Impl {
  // One watched fd. Held by shared_ptr so that a callback stays alive while it runs even if it
  // removes its own fd.
  struct Watch {
    IoCallback cb;
    uint32_t generation; // distinguishes successive watches of the same fd number
  };

  struct Timer {
    SteadyTime deadline;
    Task task;
  };

  int epollFd = -1;
  int wakeFd = -1; // eventfd: post() and stop() write to it to interrupt epoll_wait

  std::unordered_map<int, std::shared_ptr<Watch>> watches;
  uint32_t nextGeneration = 1;

  // Pending timers ordered by (deadline, id); ids increase, so equal deadlines run in the
  // order they were scheduled.
  std::map<std::pair<SteadyTime, TimerId>, Task> timers;
  std::unordered_map<TimerId, SteadyTime> timerDeadlines; // id -> deadline, for cancel()
  TimerId nextTimerId = 1;

  std::mutex postMu;
  std::vector<Task> posted; // guarded by postMu
  std::atomic<bool> stopRequested{false};

  void wake() {
    uint64_t one = 1;
    ssize_t n = ::write(wakeFd, &one, sizeof one);
    (void)n; // EAGAIN means the counter is already non-zero: the loop wakes anyway
  }

  void drainWakeFd() {
    uint64_t v;
    ssize_t n = ::read(wakeFd, &v, sizeof v);
    (void)n;
  }

  void runPosted() {
    std::vector<Task> batch;
    {
      std::lock_guard<std::mutex> lock(postMu);
      batch.swap(posted);
    }
    for (auto& task : batch) {
      task();
    }
  }

  // Milliseconds epoll_wait may block: -1 without timers, rounded up so we never spin.
  int waitTimeoutMs() const {
    if (timers.empty()) {
      return -1;
    }
    auto now = std::chrono::steady_clock::now();
    auto deadline = timers.begin()->first.first;
    if (deadline <= now) {
      return 0;
    }
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now).count();
    int64_t ms = (ns + 999'999) / 1'000'000;
    return ms > 60'000 ? 60'000 : int(ms);
  }

  void runDueTimers() {
    auto now = std::chrono::steady_clock::now();
    // Collect first: timers scheduled by these callbacks (even with zero delay) wait for the
    // next iteration, and a timer cancelled by an earlier callback in this pass does not run.
    std::vector<std::pair<SteadyTime, TimerId>> due;
    for (auto it = timers.begin(); it != timers.end() && it->first.first <= now; ++it) {
      due.push_back(it->first);
    }
    for (const auto& key : due) {
      auto it = timers.find(key);
      if (it == timers.end()) {
        continue; // cancelled meanwhile
      }
      Task task = std::move(it->second);
      timers.erase(it);
      timerDeadlines.erase(key.second);
      task();
    }
  }

  void dispatch(const epoll_event& ev) {
    uint64_t data = ev.data.u64;
    int fd = int(uint32_t(data & 0xffffffffu));
    uint32_t generation = uint32_t(data >> 32);
    if (fd == wakeFd && generation == 0) {
      drainWakeFd();
      return;
    }
    auto it = watches.find(fd);
    if (it == watches.end() || it->second->generation != generation) {
      return; // removed (or replaced) earlier in this batch
    }
    std::shared_ptr<Watch> watch = it->second; // keeps cb alive if it removes itself
    watch->cb(ev.events);
  }
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {
  impl_->epollFd = ::epoll_create1(EPOLL_CLOEXEC);
  if (impl_->epollFd < 0) {
    die("epoll_create1");
  }
  impl_->wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl_->wakeFd < 0) {
    die("eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = packData(impl_->wakeFd, 0); // generation 0 is reserved for the wake fd
  if (::epoll_ctl(impl_->epollFd, EPOLL_CTL_ADD, impl_->wakeFd, &ev) != 0) {
    die("epoll_ctl(wake fd)");
  }
}

EventLoop::~EventLoop() {
  ::close(impl_->wakeFd);
  ::close(impl_->epollFd);
}

Status EventLoop::add(int fd, uint32_t events, IoCallback cb) {
  if (fd < 0) {
    return internalError("EventLoop::add: invalid fd " + std::to_string(fd));
  }
  if (impl_->watches.count(fd) != 0) {
    return internalError("EventLoop::add: fd " + std::to_string(fd) + " is already watched");
  }
  uint32_t generation = impl_->nextGeneration++;
  if (impl_->nextGeneration == 0) {
    impl_->nextGeneration = 1; // 0 belongs to the wake fd
  }
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = packData(fd, generation);
  if (::epoll_ctl(impl_->epollFd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return internalError("epoll_ctl(ADD, " + std::to_string(fd) + "): " + std::strerror(errno));
  }
  impl_->watches[fd] = std::make_shared<Impl::Watch>(Impl::Watch{std::move(cb), generation});
  return Status::ok();
}

Status EventLoop::modify(int fd, uint32_t events) {
  auto it = impl_->watches.find(fd);
  if (it == impl_->watches.end()) {
    return internalError("EventLoop::modify: fd " + std::to_string(fd) + " is not watched");
  }
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = packData(fd, it->second->generation);
  if (::epoll_ctl(impl_->epollFd, EPOLL_CTL_MOD, fd, &ev) != 0) {
    return internalError("epoll_ctl(MOD, " + std::to_string(fd) + "): " + std::strerror(errno));
  }
  return Status::ok();
}

void EventLoop::remove(int fd) {
  auto it = impl_->watches.find(fd);
  if (it == impl_->watches.end()) {
    return;
  }
  impl_->watches.erase(it);
  ::epoll_ctl(impl_->epollFd, EPOLL_CTL_DEL, fd, nullptr); // fails harmlessly if fd was closed
}

EventLoop::TimerId EventLoop::runAfter(Millis delay, Task task) {
  if (delay.count() < 0) {
    delay = Millis(0);
  }
  TimerId id = impl_->nextTimerId++;
  SteadyTime deadline = std::chrono::steady_clock::now() + delay;
  impl_->timers.emplace(std::make_pair(deadline, id), std::move(task));
  impl_->timerDeadlines.emplace(id, deadline);
  return id;
}

void EventLoop::cancel(TimerId id) {
  auto it = impl_->timerDeadlines.find(id);
  if (it == impl_->timerDeadlines.end()) {
    return;
  }
  impl_->timers.erase(std::make_pair(it->second, id));
  impl_->timerDeadlines.erase(it);
}

void EventLoop::post(Task task) {
  {
    std::lock_guard<std::mutex> lock(impl_->postMu);
    impl_->posted.push_back(std::move(task));
  }
  impl_->wake();
}

void EventLoop::run() {
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  while (!impl_->stopRequested.load(std::memory_order_acquire)) {
    int n = ::epoll_wait(impl_->epollFd, events, kMaxEvents, impl_->waitTimeoutMs());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      die("epoll_wait");
    }
    for (int i = 0; i < n && !impl_->stopRequested.load(std::memory_order_acquire); ++i) {
      impl_->dispatch(events[i]);
    }
    impl_->runDueTimers();
    impl_->runPosted();
  }
  // Consume the request so that a later run() runs again until the next stop().
  impl_->stopRequested.store(false, std::memory_order_release);
}

void EventLoop::stop() {
  impl_->stopRequested.store(true, std::memory_order_release);
  impl_->wake();
}

} // namespace tide
