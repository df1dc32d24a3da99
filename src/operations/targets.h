// Target rows: the one place that writes them. Every change of a registered target's state
// (registration, deregistration and draining, the target controller's moves as its group and
// instance change, the health checker's verdicts) is a function here, run inside the caller's
// transaction. The API (RegisterTargets, DeregisterTargets), the Auto Scaling group controller,
// the target registration controller and the health checker decide when; these functions decide
// what the row becomes.
//
//   registerTarget          (none) or draining → initial, or unused when no listener forwards
//   deregisterTarget        any but draining → draining (Target.DeregistrationInProgress)
//   finishDeregistration    draining → removed, once the group's deregistration delay has passed
//   removeTarget            any → removed (its group or its instance is gone)
//   markUnused              any but draining → unused (Target.NotInUse)
//   markInstanceNotRunning  any but draining → unhealthy (Target.InvalidState)
//   startOver               unused, or unhealthy with Target.InvalidState → initial
//   recordTargetHealth      initial / healthy / unhealthy → healthy / unhealthy (the checks)
//
// The functions that take a Target& update it to the row written, so that callers holding the
// rows they read keep a true view of the transaction.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "model/elb.h"
#include "model/types.h"
#include "store/store.h"

#include <string>
#include <vector>

namespace tide::operations {

// Whether a listener forwards to the target group (by ARN): a registration there starts as
// initial, elsewhere as unused.
Result<bool> targetGroupInUse(store::Tx& tx, const std::string& targetGroupArn);

// Registers instanceId:port (port 0: the group's port) in tg unless it is registered already and
// not draining (then nothing changes, as in ELBv2). A new target, and a draining one registered
// again, starts over: initial (Elb.InitialHealthChecking) when inUse, unused (Target.NotInUse)
// otherwise, registered now. `targets` holds the rows the caller read (of tg or of all groups);
// the row written replaces its old one there or is appended. Returns whether it wrote. The
// instance's state is the caller's to check.
Result<bool> registerTarget(store::Tx& tx, std::vector<model::Target>& targets,
                            const model::TargetGroup& tg, const std::string& instanceId, int port,
                            bool inUse, TimeMs now);

// Starts draining the target (Target.DeregistrationInProgress, since now) unless it drains
// already. Returns whether it wrote.
Result<bool> deregisterTarget(store::Tx& tx, model::Target& target, TimeMs now);

// When a draining target's deregistration ends: drainingSince plus the group's deregistration
// delay.
TimeMs deregistrationEnds(const model::Target& target, const model::TargetGroup& tg);

// Removes a draining target whose deregistration has ended (deregistrationEnds <= now). Returns
// whether it did; a target that is not draining, or drains still, is left alone.
Result<bool> finishDeregistration(store::Tx& tx, const model::Target& target,
                                  const model::TargetGroup& tg, TimeMs now);

// Removes the target at once: its group is gone, or its instance terminated or vanished.
Status removeTarget(store::Tx& tx, const model::Target& target);

// No listener forwards to the target's group: the target is unused (Target.NotInUse). Draining
// targets are left alone. Returns whether it wrote.
Result<bool> markUnused(store::Tx& tx, model::Target& target);

// The target's instance is in `state` (not running and not terminated): the target is unhealthy
// with Target.InvalidState, "Target is in the <state> state". Draining targets are left alone.
// Returns whether it wrote.
Result<bool> markInstanceNotRunning(store::Tx& tx, model::Target& target,
                                    model::InstanceState state);

// A target that was unused, or unhealthy because its instance was not running, starts over as
// initial (Elb.InitialHealthChecking) now that a listener forwards to its group and its instance
// runs. Other targets are left alone. Returns whether it wrote.
Result<bool> startOver(store::Tx& tx, model::Target& target);

// The health checker's verdict (control/target_health.h decides it): `checked` is the target as
// read with the state, reason and description its checks left, which are written. The state
// must be initial, healthy or unhealthy (InternalError otherwise: the checks never drain a
// target or mark it unused). The consecutive count stays in the checker's memory.
Status recordTargetHealth(store::Tx& tx, const model::Target& checked);

} // namespace tide::operations
