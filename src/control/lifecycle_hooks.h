// The group controller's side of lifecycle hooks (operations/lifecycle_hooks.h has the state
// machine's rules and the actions' bookkeeping): which instances a hook holds, and what an
// answer or a timeout does to them. Called from AutoScalingController::observe, inside the
// group's transaction; each changes the group's lifecycle actions and the instance in memory,
// and the caller stores both. Not thread-safe: runs on the control thread.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "model/auto_scaling.h"
#include "model/types.h"
#include "store/store.h"

#include <vector>

namespace tide::control {

// A member on its way into service (Pending or Pending:Wait; not yet registered):
//   Pending, the group has launching hooks → Pending:Wait, one action per hook; held;
//   Pending:Wait, waiting → held (next: its earliest deadline);
//   Pending:Wait, every hook CONTINUE → Pending:Proceed; not held (the caller registers it and
//     puts it in service once it runs);
//   Pending:Wait, ABANDON (answered or by timeout) → its Launch activity is Cancelled with Auto
//     Scaling's status reason and it becomes Terminating (terminated, then replaced); held.
// In a group being deleted the actions are dropped and a Pending:Wait instance stays held
// (unregistered) until it is taken out. Returns whether the instance is held this pass.
Result<bool> holdForLaunchHooks(store::Tx& tx, model::AutoScalingGroup& g, model::Instance& i,
                                std::vector<model::ScalingActivity>& activities, TimeMs now,
                                TimeMs& next);

// A drained member leaving the group (Terminating, Terminating:Wait):
//   Terminating, the group has terminating hooks → Terminating:Wait, one action per hook; held;
//   Terminating:Wait, waiting → held (next: its earliest deadline);
//   Terminating:Wait, answered (CONTINUE or ABANDON alike) or timed out, or the group is being
//     deleted (ForceDelete drops outstanding actions) → Terminating:Proceed; not held (the
//     caller terminates it).
bool holdForTerminateHooks(model::AutoScalingGroup& g, model::Instance& i, TimeMs now,
                           TimeMs& next);

// Drops the actions of instances that no hook holds any more (terminated, taken out of
// service by a health check, detached, or gone).
void pruneLifecycleActions(model::AutoScalingGroup& g,
                           const std::vector<model::Instance*>& members);

} // namespace tide::control
