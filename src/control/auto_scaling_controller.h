// The Auto Scaling group controller: keeps each group at its desired capacity, level-triggered
// over the store (a restart in the middle of anything converges to the same place).
//
// For each group, one pass:
//   - members: instances whose autoScalingGroupName is the group's, not yet Terminated;
//   - lifecycle: Pending → InService once the instance runs, registering it with each of the
//     group's target groups (target "initial", Elb.InitialHealthChecking) as RegisterTargets
//     does; InService instances missing from a target group are registered again;
//   - lifecycle hooks (control/lifecycle_hooks.h): launching hooks hold a new instance in
//     Pending:Wait (running, not registered) until answered; terminating hooks hold a drained
//     instance in Terminating:Wait before it is terminated;
//   - health: an instance not running (EC2), or with HealthCheckType ELB and after the
//     HealthCheckGracePeriod an unhealthy target in one of the group's target groups, becomes
//     Unhealthy (as SetInstanceHealth makes it) and is taken out of service, protected or not
//     (it is replaced: the group is then short);
//   - scale-in, several passes: victims (operations::chooseScaleInVictims: zones, termination
//     policies, never a protected instance) become Terminating, their targets start draining;
//     once the target controller has removed the drained targets, the instance's goal becomes
//     terminate; once terminated, its lifecycle is Terminated;
//   - standby and detach: EnteringStandby and Detaching instances drain their targets in the
//     group's target groups, then become Standby (a member, not capacity) or leave the group;
//     Pending instances (launched, attached, back from standby) are registered and put InService;
//   - max instance lifetime: the oldest instance past it is replaced one at a time, its
//     replacement launched before it is taken out;
//   - suspended processes (SuspendProcesses) stop what they name: Launch, Terminate, HealthCheck,
//     ReplaceUnhealthy, AddToLoadBalancer;
//   - scale-out: (desired - in service or pending) launches through operations::launchInstances, in
//     batches of 1, 2, 4, ... while they succeed (Kubernetes' slowStartBatch); a failure ends
//     the pass with a Failed activity and is retried after a backoff that doubles per failure
//     (derived from the activities, so a restart keeps it);
//   - warm pool (control/warm_pool.h): scale-out takes warm instances before launching, scale-in
//     with ReuseOnScaleIn returns instances to it, and the pool is kept at its size;
//   - a group being deleted (ForceDelete) takes every instance out of service, then goes with
//     its policies and activities.
// Every launch and termination is a scaling activity with Auto Scaling's cause text.
// Not thread-safe: runs on the control thread.
#pragma once

#include "common/clock.h"
#include "control/warm_pool.h"
#include "control/watch.h"
#include "model/auto_scaling.h"
#include "operations/addresses.h"
#include "store/store.h"

#include <set>

namespace tide::control {

struct AutoScalingControllerOptions {
  double maxCpuCores = 8.0;         // the host's capacity limit, as RunInstances applies it
  Millis launchBackoff{10'000};     // wait after a failed launch; doubles per failure in a row
  Millis maxLaunchBackoff{300'000}; // the longest wait between launch attempts
  operations::AddressSource* addresses = nullptr; // where launches put private addresses, as
                                                  // RunInstances does; null: 127.1.0.0/16, unprobed
  Millis retryAfter{1000}; // when a group whose pass failed (a store error) is tried again
  bool canFreeze = false;  // the provider has a cgroup freezer (Hibernated warm pools); false:
                           // Hibernated warm instances stay Warmed:Running, and the log says so
  AppReadyProbe appReady;  // whether a warm instance's app is up; null: once it runs
};

class AutoScalingController {
public:
  AutoScalingController(store::Store& store, const Clock& clock,
                        AutoScalingControllerOptions options = {})
      : store_(store), clock_(clock), options_(options) {}

  // One pass over the groups `wake` names (every group by default): a group is named by its
  // own name, by an instance's (parent) group name, or by one of its target groups' ARNs (a
  // target's parent); groups whose last pass failed are always included. Returns how soon to
  // run again at the latest (a grace period or a launch backoff that ends, a failed group's
  // retry). One group's failure (a store error while reconciling it) is logged and retried
  // after options.retryAfter, and the pass goes on with the others; a failure to launch is an
  // activity, not an error. Errors: the groups cannot be listed.
  Result<Millis> reconcile(const Wake& wake = Wake::all());

private:
  // One group's pass: observe, then launch what it is short of.
  Status reconcileGroup(const std::string& groupName, TimeMs now, TimeMs& next);
  // Observes the group's instances and moves them on (lifecycle, health, draining, victims).
  // Sets `toLaunch` to how many instances the group is short of (with `launchCause` when the
  // launches are not for a difference in capacity; else `trigger`, the cause of the change of
  // desired capacity that made the difference, or empty), and `deleted` when the group was
  // removed. `toWarm`: how many to launch into the warm pool (control/warm_pool.h).
  Status observe(store::Tx& tx, const std::string& groupName, TimeMs now, int& toLaunch,
                 int& toWarm, int& active, std::string& launchCause, std::string& trigger,
                 TimeMs& next, bool& deleted);
  // Launches `count` instances in growing batches, each with an activity of that cause; stops
  // at the first failure.
  void launch(const std::string& groupName, int count, const std::string& cause, TimeMs now,
              TimeMs& next, bool intoWarmPool);

  store::Store& store_;
  const Clock& clock_;
  AutoScalingControllerOptions options_;
  std::set<std::string> failed_; // groups whose last pass failed: in every pass until one works
};

} // namespace tide::control
