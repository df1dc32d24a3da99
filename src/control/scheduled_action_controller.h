// The scheduled action controller: runs the Auto Scaling groups' scheduled actions when they are
// due, on the control thread's clock (a VirtualClock in tests). Each due action runs in its own
// transaction through operations::runScheduledAction, which also moves its next run on, so a
// pass that fails half way, or a restart, neither runs an action twice nor loses one that was
// due. Groups being deleted run none. A pass returns how long until the earliest next run.
// Not thread-safe: runs on the control thread.
#pragma once

#include "common/clock.h"
#include "store/store.h"

namespace tide::control {

class ScheduledActionController {
public:
  ScheduledActionController(store::Store& store, const Clock& clock)
      : store_(store), clock_(clock) {}

  // One pass over every group's actions. Returns how soon to run again (the next due action).
  Result<Millis> reconcile();

private:
  store::Store& store_;
  const Clock& clock_;
};

} // namespace tide::control
