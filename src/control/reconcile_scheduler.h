// The reconcile scheduler: decides which controllers run, when, and over which keys.
//
// Each controller is a row of a table: a name (for the log and for wake()), a Watch (the row
// kinds it cares about) and a pass that takes a Wake and returns how soon to look again. The
// scheduler keeps, per controller, the time its timer is due (from the Millis its last pass
// returned, at most maxInterval later: every controller looks at everything at least that
// often) and the keys made dirty since its last pass. A store commit (onChange) makes due now
// only the controllers that watch a kind the commit wrote, with the changed keys; wake() makes
// one controller due now for everything (SIGCHLD wakes the instance controller only).
//
// runDue() runs the due controllers in the table's order, which matters: a controller later in
// the table sees, in the same runDue(), what an earlier one wrote (a commit during a pass makes
// the later ones due at once). A pass that returns an error is logged under the controller's
// name and retried, over everything, after retryAfter; the others run as usual.
//
// Time comes from a Clock (a VirtualClock in tests); the scheduler never sleeps or sets timers:
// its owner runs runDue() at nextDue() (and at once after onChange or wake).
// Not thread-safe: runs on the control thread.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "control/watch.h"
#include "store/change_set.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tide::control {

// One row of the scheduler's table.
struct ScheduledController {
  std::string name; // in the log, and for wake()
  Watch watch;      // what store changes wake it
  // One pass over the keys `wake` names (or all); returns how soon to run again at the latest,
  // or an error (the pass is retried after retryAfter).
  std::function<Result<Millis>(const Wake&)> reconcile;
};

struct ReconcileSchedulerOptions {
  Millis maxInterval{1000}; // the longest a controller waits between passes over everything
  Millis retryAfter{1000};  // when a pass that returned an error runs again
};

class ReconcileScheduler {
public:
  ReconcileScheduler(const Clock& clock, std::vector<ScheduledController> table,
                     ReconcileSchedulerOptions options = {});

  // A store commit: the controllers watching one of the kinds it wrote become due now, with its
  // keys. Safe to call during runDue() (a controller's own commit).
  void onChange(const store::ChangeSet& changes);

  // Makes the named controller due now, for everything. False when no controller has that name.
  bool wake(std::string_view name);

  // Runs every controller due at the clock's now, in the table's order. Returns when the next
  // one is due (nextDue()).
  TimeMs runDue();

  // When the earliest controller is due: now when some have dirty keys.
  TimeMs nextDue() const;

  // How many passes a controller has run, and the Wake of its last one (for tests and status).
  int passes(std::string_view name) const;
  const Wake* lastWake(std::string_view name) const;

private:
  struct Entry {
    ScheduledController row;
    TimeMs timerDue = 0;       // when it next looks at everything (0: at the first runDue)
    std::optional<Wake> dirty; // due now for these keys
    int passes = 0;            // passes run
    Wake last;                 // the last pass's wake
  };
  Entry* find(std::string_view name);
  const Entry* find(std::string_view name) const;

  const Clock& clock_;
  ReconcileSchedulerOptions options_;
  std::vector<Entry> entries_; // in the table's order
};

} // namespace tide::control
