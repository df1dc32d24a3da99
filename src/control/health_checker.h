// The active health checker: sends ELBv2-style HTTP health checks to every target that needs
// them, on the control thread's event loop (non-blocking sockets, no thread per check), and
// records the results through operations::recordTargetHealth (operations/targets.h writes
// target rows). The rise/fall counter (passes or failures in a row) is kept in memory,
// per target; the store gets only what DescribeTargetHealth shows: a state change (healthy ⇄
// unhealthy) is written with notification, so the publisher rebuilds the balancer's snapshot;
// a new reason while unhealthy (a timeout after code mismatches) is written quietly; a check
// that changes neither writes nothing. After a restart the counters start over from the
// stored states; a target whose stored state or reason changed under the checker (the target
// controller started it over, or it was registered again) starts over too.
//
// Each check comes from the address of a load balancer whose listener forwards to the target's
// group (any one of them), as ELB's checks come from its nodes.
//
// Which targets are checked: targets in state initial, healthy or unhealthy, of target groups
// with health checks enabled that a listener forwards to, whose instance is running. Each is
// checked every HealthCheckIntervalSeconds; a check that takes longer than
// HealthCheckTimeoutSeconds fails with Target.Timeout.
// Not thread-safe: runs on the control thread.
#pragma once

#include "common/clock.h"
#include "common/event_loop.h"
#include "control/target_health.h"
#include "store/store.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>

namespace tide::control {

// One HTTP health check: GET path from ip:port (IPv4, host order), `done` called once on the
// loop with the outcome. The probe never blocks the loop. `source` (host order; 0: the kernel's
// choice) is the address the connection comes from: a load balancer's own, so that the
// target's security groups admit the check as they admit the load balancer's traffic.
void startHealthProbe(EventLoop& loop, uint32_t ip, uint16_t port, uint32_t source,
                      const std::string& path, const std::string& matcher, Millis timeout,
                      std::function<void(CheckResult)> done);

class HealthChecker {
public:
  HealthChecker(EventLoop& loop, store::Store& store, const Clock& clock);
  ~HealthChecker();

  // Looks at the store and starts the checks that are due. Returns how soon it wants to run
  // again (the next check due).
  Result<Millis> reconcile();

  // Checks in flight (for tests and status).
  int inFlight() const { return inFlight_; }

private:
  struct Schedule {
    TimeMs nextDue = 0;
    bool running = false;
    int consecutive = 0;               // passes (positive) or failures (negative) in a row
    std::optional<model::Target> left; // the target as the last check left it (consecutive 0)
  };
  void record(const std::string& key, const model::Target& probed, CheckResult result);

  EventLoop& loop_;
  store::Store& store_;
  const Clock& clock_;
  std::map<std::string, Schedule> schedule_; // by target group ARN | id | port
  int inFlight_ = 0;
  std::shared_ptr<bool> alive_; // probes finishing after destruction see false
};

} // namespace tide::control
