// round_robin: each eligible target in turn (ALB's default). The cursor is per worker, so over
// N workers the spread is even per worker and therefore overall.
//
// Slow start: a target whose weight is below full (targetWeight) is taken, when its turn comes,
// with probability weight / kFullWeight, else its turn passes to the next one; over a cycle it
// gets weight / kFullWeight of a full target's share. Groups without slow start never draw.
#include "balancer/lb_algorithm.h"

namespace tide::balancer {
namespace {

int chooseRoundRobin(const TargetGroup& group, bool failOpen, uint32_t excludeSlot,
                     SelectionState& state) {
  size_t n = group.targets.size();
  if (n == 0) {
    return -1;
  }
  bool ramps = group.slowStart.count() > 0;
  int fallback = -1; // an eligible target passed over by the ramp
  uint32_t& cursor = state.cursorByGroup[group.slot];
  for (size_t tried = 0; tried < n; ++tried) {
    size_t i = cursor++ % n;
    const Target& t = group.targets[i];
    if (!isEligible(t, failOpen, excludeSlot, state)) {
      continue;
    }
    if (ramps) {
      uint32_t w = targetWeight(group, t, state.nowMs);
      if (w < kFullWeight && nextRandom(state) % kFullWeight >= w) {
        fallback = fallback < 0 ? static_cast<int>(i) : fallback;
        continue;
      }
    }
    return static_cast<int>(i);
  }
  return fallback; // every eligible target is ramping and none was drawn: take one anyway
}

} // namespace

extern const LbAlgorithm kRoundRobin{"round_robin", chooseRoundRobin};

} // namespace tide::balancer
