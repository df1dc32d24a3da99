// least_outstanding_requests: the eligible target with the fewest requests in flight from this
// worker; ties go round-robin so that idle targets share the load evenly.
#include "balancer/lb_algorithm.h"

namespace tide::balancer {
namespace {

int chooseLeastOutstanding(const TargetGroup& group, bool failOpen, uint32_t excludeSlot,
                           SelectionState& state) {
  size_t n = group.targets.size();
  if (n == 0) {
    return -1;
  }
  uint32_t start = state.cursorByGroup[group.slot]++;
  int best = -1;
  uint32_t bestCount = UINT32_MAX;
  for (size_t k = 0; k < n; ++k) {
    size_t i = (start + k) % n;
    const Target& t = group.targets[i];
    if (!isEligible(t, failOpen, excludeSlot, state)) {
      continue;
    }
    uint32_t count = state.outstandingByTarget[t.slot];
    if (count < bestCount) {
      best = static_cast<int>(i);
      bestCount = count;
    }
  }
  return best;
}

} // namespace

extern const LbAlgorithm kLeastOutstanding{"least_outstanding_requests", chooseLeastOutstanding};

} // namespace tide::balancer
