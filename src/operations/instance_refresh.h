// Auto Scaling instance refresh: the rolling replacement of a group's instances by ones on a
// desired launch template. Shared by the API (Start/Cancel/Rollback, their rules) and the group
// controller (one step of the state machine per pass, auto_scaling_controller.cc).
//
// A refresh is kept in its group (AutoScalingGroup::instanceRefreshes, newest first) with the
// instances it still has to replace, so that a restart goes on where it was. One pass:
//   - Pending → InProgress;
//   - instances that left the group, or that the group takes out of service, leave the list;
//   - failure: a replacement launched since the refresh (or its rollback) began failed to launch
//     or became unhealthy, or one of the AlarmSpecification's alarms is in ALARM → Failed, or
//     with AutoRollback RollbackInProgress (RollbackFailed when the rollback itself fails);
//   - a checkpoint: paused until CheckpointDelay has passed;
//   - batches bounded by the desired capacity N: MinHealthyPercentage (rounded up) of N stays in
//     service, healthy and warmed up, and at most MaxHealthyPercentage of N (rounded down) is in
//     service or pending. Above 100 % the replacements launch first (capacity above N) and old
//     instances go once they are warmed up; at 100 % old instances go first, down to the
//     minimum. At least one instance is replaced at a time. An instance is taken out through
//     the group's own path (its targets drain before it terminates), so requests in flight on
//     it complete; a replacement counts once it is InService, healthy, past its warm-up
//     (InstanceWarmup, else DefaultInstanceWarmup, else HealthCheckGracePeriod) and healthy in
//     the group's target groups;
//   - done: Successful (the group's launch template becomes the desired one) or
//     RollbackSuccessful. Cancelling becomes Cancelled once nothing launches or drains.
// While a refresh runs forward the group launches from its desired configuration.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "model/auto_scaling.h"
#include "store/store.h"

#include <functional>
#include <string>
#include <vector>

namespace tide::operations {

// How many finished refreshes a group keeps for DescribeInstanceRefreshes (the active one too).
inline constexpr size_t kMaxInstanceRefreshesKept = 50;

// Whether a refresh in this status still runs (Pending, InProgress, Cancelling,
// RollbackInProgress, Baking).
bool isActive(model::InstanceRefreshStatus s);
// The group's refresh that still runs, or null.
model::InstanceRefresh* activeRefresh(model::AutoScalingGroup& g);
const model::InstanceRefresh* activeRefresh(const model::AutoScalingGroup& g);

// The launch template the group launches from now: the running refresh's desired configuration
// while it goes forward, else the group's own.
model::RefreshLaunchTemplate launchTemplateOf(const model::AutoScalingGroup& g);

// Checks the preferences as StartInstanceRefresh does (hasDesired: a DesiredConfiguration was
// given; groupVersion: the group's launch template version). ValidationError naming the rule.
Status checkRefreshPreferences(const model::RefreshPreferences& p, bool hasDesired,
                               const std::string& groupVersion);

// Starts `refresh` (its id, preferences and desired configuration set; REQUIRES: checked) on
// the group: InstanceRefreshInProgress when one runs; otherwise records the group's own
// configuration, the instances to replace, and keeps it first in the group (not stored).
Status startInstanceRefresh(store::Tx& tx, model::AutoScalingGroup& g,
                            const std::vector<model::Instance>& instances,
                            model::InstanceRefresh refresh, TimeMs now);
// CancelInstanceRefresh: ActiveInstanceRefreshNotFound unless one runs (and is not already
// cancelling or rolling back); it becomes Cancelling. Returns its id. Not stored.
Result<std::string> cancelInstanceRefresh(model::AutoScalingGroup& g);
// RollbackInstanceRefresh (and AutoRollback): ActiveInstanceRefreshNotFound unless one runs
// forward; IrreversibleInstanceRefresh without a DesiredConfiguration or when the group uses
// $Latest or $Default. Replaces back the instances not on the group's configuration. Returns the
// refresh's id. Not stored.
Result<std::string> rollbackInstanceRefresh(store::Tx& tx, model::AutoScalingGroup& g,
                                            const std::vector<model::Instance>& instances,
                                            const std::string& reason, TimeMs now);

// One pass of the group controller over the group's running refresh.
struct RefreshPass {
  TimeMs now = 0;
  std::vector<model::Instance*> members; // the group's instances, not Terminated
  // Whether the instance is healthy in every one of the group's target groups (true without).
  std::function<bool(const model::Instance&)> serving;
  // Takes the instance out of service (drain, then terminate) with an activity whose cause is
  // "At TIME" followed by `cause`.
  std::function<Status(model::Instance&, const std::string& cause)> takeOut;
  int desired = 0;         // out: the capacity to hold this pass (N plus replacements first)
  std::string launchCause; // out: the cause of this pass's launches, when the refresh asks them
  TimeMs next = 0;         // in/out: lowered to when the refresh wants another pass
  bool changed = false;    // out: the group's document changed (the caller stores it)
};
// REQUIRES: inside the group controller's transaction; `acts` the group's recent activities.
Status stepInstanceRefresh(store::Tx& tx, model::AutoScalingGroup& g,
                           const std::vector<model::ScalingActivity>& acts, RefreshPass& pass);

// " an instance was taken out of service in response to an instance refresh." (a cause after
// its "At TIME").
std::string refreshTakeOutCause();

} // namespace tide::operations
