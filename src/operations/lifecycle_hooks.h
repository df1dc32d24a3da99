// Auto Scaling lifecycle hooks (issue 11, item 4): what the API (Put/Delete/Describe,
// CompleteLifecycleAction, RecordLifecycleActionHeartbeat) and the group controller share.
//
// A hook holds an instance at one transition of its group lifecycle until someone answers it:
//   launching:   Pending → Pending:Wait → (every hook CONTINUE) Pending:Proceed → InService
//                                      → (any ABANDON, or a timeout whose default is ABANDON)
//                                        terminated and replaced
//   terminating: Terminating (drained) → Terminating:Wait → (CONTINUE or ABANDON, or a timeout)
//                Terminating:Proceed → terminated
// Each held instance has one lifecycle action per hook of that transition (a token, a heartbeat
// deadline and a global deadline), kept in the group's document with the hooks, so the wait, its
// token and its deadlines survive a restart. The API only records answers and heartbeats; the
// group controller reads them (settleLifecycleActions) and moves the instance on.
// Functions here change the group they are given; the caller stores it in its transaction.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "model/auto_scaling.h"

#include <string>

namespace tide::operations {

constexpr size_t kMaxLifecycleHooksPerGroup = 50; // Auto Scaling's quota
constexpr int kMinHeartbeatTimeout = 30;          // seconds
constexpr int kMaxHeartbeatTimeout = 7200;        // seconds
constexpr int kDefaultHeartbeatTimeout = 3600;    // seconds
constexpr int kMaxGlobalTimeout = 172'800;        // seconds (48 h)

// The longest an instance waits for a hook: 100 x HeartbeatTimeout or 48 h, whichever is smaller
// (GlobalTimeout, in seconds).
int globalTimeoutSeconds(int heartbeatTimeout);

// The group's hook of that name, or null.
const model::LifecycleHook* findLifecycleHook(const model::AutoScalingGroup& g,
                                              const std::string& name);

// Whether the group has a hook for that transition.
bool hasLifecycleHooks(const model::AutoScalingGroup& g, model::LifecycleTransition t);

// Begins one lifecycle action per hook of transition t for the instance (a new token each,
// deadlines counted from now), replacing any it had. Returns false, and adds nothing, when the
// group has no hook for t.
bool beginLifecycleActions(model::AutoScalingGroup& g, const std::string& instanceId,
                           model::LifecycleTransition t, TimeMs now);

// What an instance's lifecycle actions decided so far.
struct LifecycleOutcome {
  enum class Kind {
    Waiting,  // some hook has not answered and has not timed out
    Continue, // every hook answered CONTINUE (or timed out with DefaultResult CONTINUE)
    Abandon,  // a hook answered ABANDON (or timed out with DefaultResult ABANDON)
  };
  Kind kind = Kind::Waiting;
  // Abandon: Auto Scaling's status reason, "Instance failed to complete user's Lifecycle Action:
  // Lifecycle Action with token T was abandoned: Heartbeat Timeout" (or "...: Lifecycle Action
  // Completed with ABANDON Result").
  std::string statusReason;
  TimeMs wakeAt = 0; // Waiting: the earliest deadline still ahead
};

// Applies the answers and the timeouts (at `now`) to the instance's actions. Once decided
// (Continue or Abandon), its actions are removed from the group. An instance without actions
// is decided: Continue.
LifecycleOutcome settleLifecycleActions(model::AutoScalingGroup& g, const std::string& instanceId,
                                        TimeMs now);

// Removes the instance's actions (it left the wait some other way: terminated, group deleted).
// Returns whether there were any.
bool dropLifecycleActions(model::AutoScalingGroup& g, const std::string& instanceId);

// The unanswered action of hook `hookName` that CompleteLifecycleAction and
// RecordLifecycleActionHeartbeat name by token or by instance id (at least one given; both must
// then match the same action). Errors: ValidationError "No active Lifecycle Action found with
// token T" / "... with instance ID I" (Auto Scaling's words), or when neither is given.
Result<model::LifecycleAction*> findLifecycleAction(model::AutoScalingGroup& g,
                                                    const std::string& hookName,
                                                    const std::string& token,
                                                    const std::string& instanceId);

// RecordLifecycleActionHeartbeat: the timeout starts again from now, bounded by the global one.
void recordHeartbeat(model::LifecycleAction& a, TimeMs now);

} // namespace tide::operations
