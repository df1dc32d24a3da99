// The disk preparer: the instance controller's workers, which make the disks of first launches
// (InstanceProvider::prepareDisk: a copy of the image's tree in copy mode, seconds for a large
// image) off the control thread, so that the API, the other controllers and the health checks
// never wait for a copy. The instance stays `pending` meanwhile; the controller starts its
// process once the disk is ready (docs/reliability.md, "No blocking").
//
// A bounded pool (DiskPreparerOptions::workers, 2 by default) rather than one thread or one per
// launch: with two, a small launch is not held up behind a big copy; more would not finish
// sooner (the copies share one file system's bandwidth) and would each hold a partial disk of
// their own, so a scale-out of many instances waits in a queue, in the order of its launches.
//
// Nothing here is stored: a server killed during a preparation leaves the instance `pending`
// (and a partial `disk.tmp`, which the next copy removes first); the next server's controller
// prepares it again.
//
// Thread-safety: every public call is made on the control thread; the workers run only the
// provider's prepareDisk() for an instance the controller leaves alone meanwhile, and
// Options::ended.
#pragma once

#include "common/status.h"
#include "runtime/instance_provider.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace tide::control {

struct DiskPreparerOptions {
  int workers = 2; // at most this many disks are made at once
  // Called on a worker when a preparation ends (its result waits for take()): the owner wakes
  // the instance controller from it (EventLoop::post). Must be thread-safe. Not called while
  // stopping.
  std::function<void()> ended;
  // Tests only: while a file exists at this path, a worker holds the preparation it took
  // before it makes anything (the server takes it from TIDE_TEST_HOLD_LAUNCHES). A cancel
  // ends the hold. Empty: never held.
  std::string holdWhileExists;
};

class DiskPreparer {
public:
  DiskPreparer(runtime::InstanceProvider& provider, DiskPreparerOptions options);
  // stop().
  ~DiskPreparer();

  // Queues the preparation of spec's disk; nothing when one for the instance is queued,
  // running or its result not taken yet.
  void submit(const runtime::LaunchSpec& spec);
  // Whether a preparation of the instance is queued or running.
  bool inFlight(const std::string& instanceId) const;
  // The result of the instance's preparation once it ended (and forgets it); nullopt while it
  // is in flight or when there is none. "Cancelled" after cancel().
  std::optional<Status> take(const std::string& instanceId);
  // Asks the instance's preparation to stop: a queued one ends at once, a running one at the
  // provider's next check (its partial files removed). Its result is then "Cancelled".
  void cancel(const std::string& instanceId);
  // Instances with a preparation in flight or a result not taken.
  std::set<std::string> known() const;

  // Blocks until nothing is in flight. For tests.
  void waitIdle();
  // Cancels everything and ends the workers (waits for a running copy to notice, at its next
  // file). Idempotent.
  void stop();

private:
  struct Job {
    runtime::LaunchSpec spec;
    std::unique_ptr<std::atomic<bool>> cancel = std::make_unique<std::atomic<bool>>(false);
    bool running = false;
    std::optional<Status> result;
  };
  void workerLoop();
  bool held() const;

  runtime::InstanceProvider& provider_;
  DiskPreparerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Job> jobs_;  // GUARDED_BY(mu_): by instance id
  std::deque<std::string> queue_;    // GUARDED_BY(mu_): ids waiting for a worker, in order
  bool stopping_ = false;            // GUARDED_BY(mu_)
  std::vector<std::thread> workers_; // started as jobs come, up to options_.workers
  int idle_ = 0;                     // GUARDED_BY(mu_): workers waiting for a job
};

} // namespace tide::control
