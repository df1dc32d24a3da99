// Auto Scaling scheduled actions (PutScheduledUpdateGroupAction and its controller): the rules an
// action's fields follow, when it runs, and what running it does to its group. Shared by the API
// (validation, first run), the stack engine (through the API) and the scheduled action
// controller (running due actions).
//
// An action is kept in its group (AutoScalingGroup::scheduledActions) with the time it runs next
// (nextRun). Running it changes the group's sizes, moves nextRun on (or removes a one-time
// action) and records the activity in one write, so a restart neither runs it twice nor loses a
// run that was due: a run missed while the server was down happens once when it comes back; runs
// missed beyond that one, or while the group has ScheduledActions suspended, are skipped, as
// Auto Scaling skips them.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "model/auto_scaling.h"
#include "store/store.h"

namespace tide::operations {

// Most scheduled actions a group may have (Auto Scaling's quota).
inline constexpr size_t kMaxScheduledActionsPerGroup = 125;

// Checks an action as PutScheduledUpdateGroupAction receives it (name, sizes, StartTime and
// EndTime against now, Recurrence, TimeZone) and sets its first run (nextRun). A
// ValidationError saying what is wrong otherwise; the action is then unchanged.
Status prepareScheduledAction(model::ScheduledUpdateGroupAction& action, TimeMs now);

// When a recurring action runs after `ranAt` (0: never again, or a one-time action).
TimeMs nextScheduledRun(const model::ScheduledUpdateGroupAction& action, TimeMs ranAt);

// Runs, or skips, the group's due action `name` (REQUIRES: its nextRun is set and <= now):
// suspended ScheduledActions skip it; otherwise it sets the group's sizes (a desired capacity
// clamped to the new min..max; a MinSize above the resulting MaxSize fails the run, with a
// Failed activity, and changes nothing else) and records an activity worded as Auto Scaling's.
// Then moves its nextRun past now, or removes it when it has no run left. Stores the group.
Status runScheduledAction(store::Tx& tx, model::AutoScalingGroup& group, const std::string& name,
                          TimeMs now);

// The cause of a scheduled run: "At 2026-12-06T18:00:00Z a scheduled action update of
// AutoScalingGroup constraints to min: 2, max: 10, desired: 4 changing the desired capacity from
// 2 to 4."
std::string scheduledCause(TimeMs at, int min, int max, int desired, int oldDesired);

} // namespace tide::operations
