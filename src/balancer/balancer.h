// The data plane: N worker threads proxying HTTP/1.1 to targets as the newest published Snapshot
// says (see snapshot.h and docs/ARCHITECTURE.md "The data plane, for speed").
//
// Thread-safety: apply() and counters() may be called from any thread at any time, also
// concurrently; start() and stop() from the owning thread. The request path takes no lock: each
// worker adopts a published snapshot on its own loop when woken.
#pragma once

#include "balancer/access_log.h"
#include "balancer/counters.h"
#include "balancer/prepared_snapshot.h"
#include "balancer/snapshot.h"
#include "balancer/worker.h"
#include "common/status.h"

#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tide::balancer {

struct BalancerOptions {
  unsigned threads = 0;  // workers; 0: one per core
  SlotCapacity capacity; // largest slots a snapshot may use (per-worker state is sized so)
  WorkerOptions worker;  // connect timeout, upstream pool limits (capacity is set from
                         // the field above)
};

class Balancer final : public SnapshotSource {
public:
  explicit Balancer(BalancerOptions options);
  ~Balancer(); // stop()s
  Balancer(const Balancer&) = delete;
  Balancer& operator=(const Balancer&) = delete;

  // Starts the workers with the snapshot applied so far (if any): when it returns OK, every
  // listener of that snapshot accepts connections. Fails when one cannot be bound.
  Status start();

  // Publishes a snapshot: checked and indexed here, then adopted by each worker on its loop
  // (asynchronously; requests in flight finish with the snapshot they started with). A listener
  // that cannot be bound is logged by the worker. Returns ValidationError, changing nothing, when
  // the snapshot is inconsistent (unknown algorithm, slot out of range, bad index...).
  Status apply(std::shared_ptr<const Snapshot> snapshot);

  // The counters summed over workers. Sized by the newest snapshot's highest slots.
  CountersSnapshot counters() const;

  // Stops accepting, closes every connection and joins the workers. Idempotent.
  void stop();

  unsigned threadCount() const { return threads_; }

  // The newest prepared snapshot (the workers' SnapshotSource). Thread-safe.
  std::shared_ptr<const PreparedSnapshot> current() const override;

private:
  BalancerOptions options_;
  unsigned threads_;
  mutable std::mutex mu_;
  std::shared_ptr<const PreparedSnapshot> current_; // GUARDED_BY(mu_)
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> runners_;
  std::unique_ptr<AccessLogWriter> accessLog_;  // shared by the workers; flushed at stop()
  std::unique_ptr<SharedBaseline[]> baselines_; // by target slot: the workers' adaptive limits'
                                                // shared measurements (adaptive_limit.h)
  bool started_ = false;
};

} // namespace tide::balancer
