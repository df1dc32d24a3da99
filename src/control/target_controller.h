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
#include "control/watch.h"
#include "store/store.h"

#include <set>
#include <string>
#include <vector>

namespace tide::control {

class TargetController {
public:
  TargetController(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // One pass over the target groups `wake` names (all by default): a group is named by its ARN
  // (its own change, or a target's parent), or by the id of one of its targets' instances;
  // groups whose last pass failed are always included. Each group is reconciled in a
  // transaction of its own: a group whose pass fails (a store error) is logged and tried again
  // within a second, and the others go on. Returns how soon to run again at the latest (the
  // next drain that ends). Errors: the groups, targets or listeners cannot be read.
  Result<Millis> reconcile(const Wake& wake = Wake::all());

private:
  // One group's targets; `used`: a listener forwards to the group. Adds to `removed` the
  // targets it deregistered.
  Status reconcileGroup(store::Tx& tx, const std::string& arn, bool used, TimeMs now, TimeMs& next,
                        std::vector<std::string>& removed);

  store::Store& store_;
  const Clock& clock_;
  std::set<std::string> failed_; // groups whose last pass failed: in every pass until one works
};

} // namespace tide::control
