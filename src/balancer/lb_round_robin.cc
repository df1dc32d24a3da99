// round_robin: each eligible target in turn (ALB's default). The cursor is per worker, so over
// N workers the spread is even per worker and therefore overall.
#include "balancer/lb_algorithm.h"

namespace tide::balancer {
namespace {

int chooseRoundRobin(const TargetGroup& group, bool failOpen, uint32_t excludeSlot,
                     SelectionState& state) {
  size_t n = group.targets.size();
  if (n == 0) {
    return -1;
  }
  uint32_t& cursor = state.cursorByGroup[group.slot];
  for (size_t tried = 0; tried < n; ++tried) {
    size_t i = cursor++ % n;
    if (isEligible(group.targets[i], failOpen, excludeSlot, state)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

} // namespace

extern const LbAlgorithm kRoundRobin{"round_robin", chooseRoundRobin};

} // namespace tide::balancer
