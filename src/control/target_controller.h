// The target registration controller: keeps each registered target's state true to its group
// and its instance, and finishes deregistrations.
//   - a group no listener forwards to: its targets are "unused" (Target.NotInUse); once a
//     listener forwards to it, they start over as "initial" (Elb.InitialHealthChecking);
//   - an instance that is not running: its targets are "unhealthy" (Target.InvalidState); when it
//     runs again they start over as "initial"; a terminated or vanished instance's targets are
//     removed;
//   - a draining target is removed once the group's deregistration delay has passed.
// It decides which move is due; the moves themselves (the rows written) are operations'
// (operations/targets.h). Level-triggered; not thread-safe: runs on the control thread.
#pragma once

#include "common/clock.h"
#include "store/store.h"

namespace tide::control {

class TargetController {
public:
  TargetController(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // One pass. Returns how soon to run again at the latest (the next drain that ends).
  Result<Millis> reconcile();

private:
  store::Store& store_;
  const Clock& clock_;
};

} // namespace tide::control
