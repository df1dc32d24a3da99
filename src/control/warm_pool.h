// The group controller's warm pool pass (control/auto_scaling_controller.cc calls it from
// observe(), inside the group's transaction). Transitions (model::LifecycleState):
//   launched into the pool          → Warmed:Pending (runs its user data and app once)
//   Warmed:Pending, app up          → the pool state: Warmed:Running; Warmed:Stopped once stopped
//                                     (goal stop); Warmed:Hibernated once frozen (goal hibernate;
//                                     without a cgroup freezer it stays Warmed:Running, logged)
//   scale-out                       → Pending (thawed / started again / as is), registered as soon
//                                     as it runs unfrozen: the group's lifecycle pass does that
//   scale-in with ReuseOnScaleIn    → Warmed:Pending, its targets drained first, while the pool
//                                     has room
//   pool too big, deleted, or group deleted → Warmed:Terminating → Warmed:Terminated
// A pool PendingDelete goes from the group's document once its last instance is gone.
#pragma once

#include "common/clock.h"
#include "model/auto_scaling.h"
#include "model/elb.h"
#include "store/store.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tide::control {

// Whether an instance's app has come up (its port accepts a connection), so that the pool can
// freeze or stop it; null: as soon as it runs.
using AppReadyProbe = std::function<bool(const model::Instance&)>;

// A loopback probe: true when instance.privateIpAddress:port accepts a TCP connection at once.
bool appAcceptsConnections(const model::Instance& instance);

// What the pool pass works on: the group's pass's view of its transaction.
struct WarmPoolPass {
  store::Tx& tx;
  const model::AutoScalingGroup& group;
  std::vector<model::Instance*>& members;          // the group's, warm ones included
  std::map<std::string, bool>& changed;            // instance id → its row changed
  std::vector<model::ScalingActivity>& activities; // the group's, newest first
  std::vector<model::Target>& targets;             // every target row read
  const std::map<std::string, const model::TargetGroup*>& targetGroups; // the group's, by ARN
  TimeMs now;
  TimeMs& next;
  bool canFreeze = false;        // the provider has a cgroup freezer
  const AppReadyProbe* appReady; // null: ready once running
};

// How long a warm instance's app may take to come up before it goes to the pool state anyway
// (an app that listens nowhere).
inline constexpr TimeMs kWarmAppWaitMs = 30'000;

// Moves the pool's instances on: terminated ones out, Warmed:Pending ones (their targets drained)
// to the pool state, Warmed:Terminating ones to goal terminate.
Status advanceWarmPool(WarmPoolPass& pass);

// Scale-out: takes up to `count` instances from the pool into the group (Pending), the fastest
// first (Running, Hibernated, Stopped), each with a Launch activity of `cause`. Returns how many.
Result<int> takeFromWarmPool(WarmPoolPass& pass, int count, const std::string& cause);

// Scale-in: returns the victim to the pool instead of terminating it when the pool reuses
// instances on scale-in and has room. Returns whether it did.
Result<bool> returnToWarmPool(WarmPoolPass& pass, model::Instance& victim,
                              const std::string& cause);

// Keeps the pool at its size: sets `toLaunch` to how many instances to launch into it (unless
// `launchAllowed` is false), terminates what is beyond it, and removes a PendingDelete pool
// once it is empty.
Status sizeWarmPool(WarmPoolPass& pass, bool launchAllowed, int& toLaunch);

} // namespace tide::control
