#include "control/reconcile_scheduler.h"

#include "common/log.h"
#include "common/process_health.h"

#include <algorithm>

namespace tide::control {

ReconcileScheduler::ReconcileScheduler(const Clock& clock, std::vector<ScheduledController> table,
                                       ReconcileSchedulerOptions options)
    : clock_(clock), options_(options) {
  for (ScheduledController& row : table) {
    entries_.push_back(Entry{std::move(row)});
  }
}

void ReconcileScheduler::onChange(const store::ChangeSet& changes) {
  for (Entry& e : entries_) {
    std::optional<Wake> w = Wake::of(e.row.watch, changes);
    if (!w) {
      continue;
    }
    if (e.dirty) {
      e.dirty->merge(*w);
    } else {
      e.dirty = std::move(w);
    }
  }
}

bool ReconcileScheduler::wake(std::string_view name) {
  Entry* e = find(name);
  if (e == nullptr) {
    return false;
  }
  e->dirty = Wake::all();
  return true;
}

TimeMs ReconcileScheduler::runDue() {
  // By index: a pass may commit, and onChange then marks entries (never adds or removes them).
  for (size_t k = 0; k < entries_.size(); ++k) {
    Entry& e = entries_[k];
    TimeMs now = clock_.now();
    bool timer = e.timerDue <= now;
    if (!timer && !e.dirty) {
      continue;
    }
    Wake wake = timer ? Wake::all() : std::move(*e.dirty);
    e.dirty.reset(); // changes during the pass make it due again
    ++e.passes;
    e.last = wake;
    Result<Millis> again = [&] {
      ScopedDuration timed(HealthTimer::ReconcilePass, e.row.name); // /metrics
      return e.row.reconcile(wake);
    }();
    TimeMs after = clock_.now();
    if (!again) {
      logError(e.row.name + ": " + again.status().toString());
      TimeMs retry = after + options_.retryAfter.count();
      e.timerDue = wake.everything ? retry : std::min(e.timerDue, retry);
      continue;
    }
    TimeMs due = after + std::clamp(*again, Millis(0), options_.maxInterval).count();
    // A pass over some keys knows only about those: it may bring the timer forward, never put
    // it back.
    e.timerDue = wake.everything ? due : std::min(e.timerDue, due);
  }
  return nextDue();
}

TimeMs ReconcileScheduler::nextDue() const {
  TimeMs next = clock_.now() + options_.maxInterval.count();
  for (const Entry& e : entries_) {
    next = std::min(next, e.dirty ? clock_.now() : e.timerDue);
  }
  return next;
}

int ReconcileScheduler::passes(std::string_view name) const {
  const Entry* e = find(name);
  return e ? e->passes : 0;
}

const Wake* ReconcileScheduler::lastWake(std::string_view name) const {
  const Entry* e = find(name);
  return e && e->passes > 0 ? &e->last : nullptr;
}

ReconcileScheduler::Entry* ReconcileScheduler::find(std::string_view name) {
  for (Entry& e : entries_) {
    if (e.row.name == name) {
      return &e;
    }
  }
  return nullptr;
}

const ReconcileScheduler::Entry* ReconcileScheduler::find(std::string_view name) const {
  return const_cast<ReconcileScheduler*>(this)->find(name);
}

} // namespace tide::control
