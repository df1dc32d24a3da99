// weighted_random: an eligible target drawn at random, each with a chance proportional to its
// weight (kFullWeight, or less while it ramps up in slow start). The generator is the worker's
// own (SelectionState::rng): no syscall, no lock, no allocation.
//
// ALB's weighted_random may also adjust weights by anomaly detection
// (load_balancing.algorithm.anomaly_mitigation); tide accepts that attribute but does not
// change weights by it yet.
#include "balancer/lb_algorithm.h"

namespace tide::balancer {
namespace {

int chooseWeightedRandom(const TargetGroup& group, bool failOpen, uint32_t excludeSlot,
                         SelectionState& state) {
  uint64_t total = 0;
  for (const Target& t : group.targets) {
    if (isEligible(t, failOpen, excludeSlot, state)) {
      total += targetWeight(group, t, state.nowMs);
    }
  }
  if (total == 0) {
    return -1;
  }
  uint64_t r = nextRandom(state) % total;
  for (size_t i = 0; i < group.targets.size(); ++i) {
    const Target& t = group.targets[i];
    if (!isEligible(t, failOpen, excludeSlot, state)) {
      continue;
    }
    uint32_t w = targetWeight(group, t, state.nowMs);
    if (r < w) {
      return static_cast<int>(i);
    }
    r -= w;
  }
  return -1; // cannot happen: r < total
}

} // namespace

extern const LbAlgorithm kWeightedRandom{"weighted_random", chooseWeightedRandom};

} // namespace tide::balancer
