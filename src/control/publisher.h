// The publisher: turns the store's load balancers, listeners, target groups, targets and their
// health into the balancer's immutable Snapshot, and hands a new one to the sink only when
// something the data plane sees has changed.
//
// Target states in the snapshot: healthy → Routable; initial and unhealthy → Unhealthy (used
// only when no target of the group is healthy: ALB fails open); draining → Draining; unused
// targets are left out. Slots are stable: the same load balancer, target group or target keeps
// its slot across snapshots, and a freed slot is reused by the next new one.
// Not thread-safe: runs on the control thread.
#pragma once

#include "balancer/snapshot.h"
#include "store/store.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

namespace tide::control {

class Publisher {
public:
  using Sink = std::function<void(std::shared_ptr<const balancer::Snapshot>)>;

  explicit Publisher(store::Store& store, Sink sink) : store_(store), sink_(std::move(sink)) {}

  // Builds the snapshot from the store; publishes it when it differs from the last one.
  Status publish();

  // Slots of what the last snapshot holds, for reading the balancer's counters by name.
  struct Slots {
    std::map<std::string, uint32_t> loadBalancers; // by ARN
    std::map<std::string, uint32_t> targetGroups;  // by ARN
    std::map<std::string, uint32_t> targets;       // by "group ARN|instance id|port"
  };
  const Slots& slots() const { return slots_; }
  // Where load balancers with access_logs.s3.enabled write their access log:
  // DIR/BUCKET[/PREFIX]/AWSLogs/... (docs/load-balancer.md "Access log"). Empty: not written.
  void setAccessLogDirectory(std::string dir) { accessLogDirectory_ = std::move(dir); }
  // The last published snapshot (null before the first).
  std::shared_ptr<const balancer::Snapshot> last() const { return last_; }
  // The CLOCK_MONOTONIC milliseconds that slow start ramps begin at (the balancer workers'
  // clock); tests may set another. Default: std::chrono::steady_clock.
  void setMonotonicClock(std::function<int64_t()> nowMs) { monotonicMs_ = std::move(nowMs); }

private:
  store::Store& store_;
  Sink sink_;
  Slots slots_;
  std::shared_ptr<const balancer::Snapshot> last_;
  uint64_t version_ = 0;
  // Slow start: by target key (as Slots::targets), for each Routable target, when its ramp began
  // (0: it became Routable without one). A target not in the map becomes Routable anew.
  std::map<std::string, int64_t> routable_;
  std::function<int64_t()> monotonicMs_;
  std::string accessLogDirectory_;
};

} // namespace tide::control
