// One data-plane worker: an edge-triggered epoll loop on its own thread with its own listening
// sockets (SO_REUSEPORT), client connections, upstream keep-alive pools, buffers, timers and
// counters. Nothing is shared with other workers but the read-only PreparedSnapshot.
//
// Thread-safety: run() runs on the worker's thread; notify() and requestStop() may be called from
// any thread; the counter cells may be read from any thread (relaxed loads). Everything else is
// the worker thread's, or the caller's before run() starts.
#pragma once

#include "balancer/access_log.h"
#include "balancer/buffer.h"
#include "balancer/counters.h"
#include "balancer/lb_algorithm.h"
#include "balancer/prepared_snapshot.h"
#include "balancer/sticky_cookie.h"
#include "balancer/timer_wheel.h"
#include "common/status.h"
#include "http1/parser.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace tide::balancer {

struct WorkerOptions {
  SlotCapacity capacity;                                 // slots the worker allocates state for
  std::chrono::milliseconds connectTimeout{10'000};      // a target not accepting within: 504
  std::chrono::milliseconds upstreamIdleTimeout{50'000}; // pooled connections unused this long
                                                         // are closed (keep under the targets' own)
  uint32_t maxIdlePerTarget = 512; // pooled keep-alive connections per target per worker
  CookieKey cookieKey;             // authenticates sticky session cookies; the same in every
                                   // worker (Balancer makes a random one at construction)
  unsigned workerCount = 1;        // workers sharing the listeners: each takes its share of
                                   // LoadBalancer::maxConnectionsPerListener (set by Balancer)
  std::chrono::milliseconds ejectionBase{1'000}; // passive health: first ejection of a target
  std::chrono::milliseconds ejectionMax{30'000}; // doubling per failure in a row, up to this
  AccessLogWriter* accessLog = nullptr;          // where access log lines go (null: dropped)
  SharedBaseline* baselines = nullptr;           // by target slot, shared by the workers' adaptive
                                       // limits (adaptive_limit.h; null: the worker's own)
};

// Where a worker fetches the newest published snapshot when notified.
class SnapshotSource {
public:
  virtual ~SnapshotSource() = default;
  virtual std::shared_ptr<const PreparedSnapshot> current() const = 0; // thread-safe
};

class Worker {
public:
  Worker(int index, WorkerOptions options, const SnapshotSource& source);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Creates the epoll instance and adopts the current snapshot (opening its listeners). Call
  // before run(), on any thread. Fails when a listener cannot be bound.
  Status init();
  // The loop; returns after requestStop(), with every socket closed.
  void run();
  // Wakes the loop to adopt the newest snapshot. Thread-safe.
  void notify();
  // Asks run() to return soon. Thread-safe.
  void requestStop();

  // Adds this worker's counters into out (vectors must be sized already). Thread-safe.
  void addCounters(CountersSnapshot& out) const;

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace tide::balancer
