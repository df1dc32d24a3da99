// Load-balancing algorithms, registered by name in one table (HAProxy's struct lb_ops): adding
// an algorithm is adding a file and a row in lb_algorithm.cc.
//
// Algorithms run on a worker's loop with that worker's SelectionState only: no locks, no
// sharing. They never allocate.
#pragma once

#include "balancer/adaptive_limit.h"
#include "balancer/snapshot.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace tide::balancer {

inline constexpr uint32_t kNoSlot = UINT32_MAX;

// Per-worker state kept for the algorithms, indexed by slot.
struct SelectionState {
  std::vector<uint32_t> cursorByGroup;       // by TargetGroup::slot: round-robin position
  std::vector<uint32_t> outstandingByTarget; // by Target::slot: requests sent, not finished
  int64_t nowMs = 0;                 // the worker's coarse CLOCK_MONOTONIC ms (slow start ramps,
                                     // ejections)
  uint64_t rng = 0x9e3779b97f4a7c15; // PRNG state (never 0); seeded per worker
  // Passive health (outlier ejection, passive_health.h): a target whose connection was refused or
  // reset is skipped until its ejection ends, unless every eligible target is ejected.
  std::vector<int64_t> ejectedUntilByTarget; // by Target::slot: monotonic ms; 0: not ejected
  bool honourEjections = true;               // false: the fail-open pass, ejections ignored
  // Overload protection: a target with this many outstanding requests (from this worker) takes
  // no more; 0: no limit; kAdaptiveConcurrency: each target's own limit in limitByTarget. Set
  // by the caller for the group being chosen in.
  uint32_t concurrencyLimit = 0;
  std::vector<uint32_t> limitByTarget; // by Target::slot: the adaptive limit (adaptive_limit.h)
  // By Target::slot, shared by the workers: a target whose baseline another worker measures
  // takes no request of this one under the adaptive limit (heldByProbe). Null: none.
  const SharedBaseline* baselines = nullptr;
  uint16_t workerTag = 1; // this worker's tag in SharedBaseline::probe
};

// Whether the target is below its adaptive limit, and not held by another worker's
// measurement of its baseline.
inline bool belowAdaptiveLimit(const SelectionState& state, uint32_t slot) {
  return state.outstandingByTarget[slot] < state.limitByTarget[slot] &&
         (state.baselines == nullptr ||
          !heldByProbe(state.baselines[slot], state.workerTag, state.nowMs));
}

// Whether the target is below the concurrency limit in force (always, when there is none).
inline bool belowLimit(const SelectionState& state, uint32_t slot) {
  uint32_t limit = state.concurrencyLimit;
  if (limit == 0) {
    return true;
  }
  return limit != kAdaptiveConcurrency ? state.outstandingByTarget[slot] < limit
                                       : belowAdaptiveLimit(state, slot);
}

// The next pseudo-random number of the worker's generator (xorshift64*): no syscall, no lock.
inline uint64_t nextRandom(SelectionState& state) {
  uint64_t x = state.rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  state.rng = x;
  return x * 0x2545f4914f6cdd1dULL;
}

// A target's weight out of kFullWeight: full, or during slow start a linear ramp from its
// slowStartBeginMs over the group's slowStart (never below 1, so a ramping target still gets a
// first request now and then).
inline constexpr uint32_t kFullWeight = 1024;
inline uint32_t targetWeight(const TargetGroup& group, const Target& t, int64_t nowMs) {
  int64_t duration = group.slowStart.count();
  if (duration <= 0 || t.slowStartBeginMs == 0) {
    return kFullWeight;
  }
  int64_t elapsed = nowMs - t.slowStartBeginMs;
  if (elapsed >= duration) {
    return kFullWeight;
  }
  if (elapsed <= 0) {
    return 1;
  }
  uint32_t w = static_cast<uint32_t>(elapsed * kFullWeight / duration);
  return w == 0 ? 1 : w;
}

// Whether a target may get a new request. `failOpen`: every target of its group is Unhealthy
// (or Draining), so Unhealthy ones are used as ALB does; Draining and Initial ones never are.
inline bool isEligible(const Target& t, bool failOpen, uint32_t excludeSlot) {
  return t.slot != excludeSlot &&
         (t.state == TargetState::Routable || (failOpen && t.state == TargetState::Unhealthy));
}

// isEligible, and not ejected by passive health (unless the state says to ignore ejections).
inline bool isEligible(const Target& t, bool failOpen, uint32_t excludeSlot,
                       const SelectionState& state) {
  return isEligible(t, failOpen, excludeSlot) && belowLimit(state, t.slot) &&
         !(state.honourEjections && t.slot < state.ejectedUntilByTarget.size() &&
           state.ejectedUntilByTarget[t.slot] > state.nowMs);
}

struct LbAlgorithm {
  std::string_view name; // as in TargetGroup::algorithm
  // The index in group.targets of the target for the next request, or -1 when none is
  // eligible. `excludeSlot` (or kNoSlot) is a target that just failed this request.
  int (*choose)(const TargetGroup& group, bool failOpen, uint32_t excludeSlot,
                SelectionState& state);
};

// The algorithm with that name, or nullptr.
const LbAlgorithm* findLbAlgorithm(std::string_view name);

} // namespace tide::balancer
