// The control plane's event loop: epoll readiness callbacks, timers and a thread-safe post().
//
// One EventLoop runs on one thread (the control thread: API server, controllers, metrics
// sampling). All methods except post() and stop() must be called on the loop's thread.
// This loop is for the control plane only: the balancer's data-plane workers have their own,
// allocation-free loops.
#pragma once

#include "common/clock.h"
#include "common/status.h"

#include <cstdint>
#include <functional>
#include <memory>

namespace tide {

class EventLoop {
public:
  using IoCallback = std::function<void(uint32_t events)>; // events: EPOLLIN | EPOLLOUT | ...
  using Task = std::function<void()>;
  using TimerId = uint64_t;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watches fd for the given epoll events; the callback runs on the loop. The loop does not own
  // fd: remove() it before closing it.
  Status add(int fd, uint32_t events, IoCallback cb);
  Status modify(int fd, uint32_t events);
  void remove(int fd);

  // Runs task once after delay (monotonic time). Returns an id for cancel().
  TimerId runAfter(Millis delay, Task task);
  // Cancels a pending timer; a no-op when it already ran or was cancelled.
  void cancel(TimerId id);

  // Queues task to run on the loop thread soon. Thread-safe.
  void post(Task task);

  // Runs until stop() is called. Returns after the current callbacks finish.
  void run();
  // Asks run() to return. Thread-safe and async-signal-unsafe (use a signalfd to react to
  // signals on the loop).
  void stop();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace tide
