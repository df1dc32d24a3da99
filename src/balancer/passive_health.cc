#include "balancer/passive_health.h"

#include <algorithm>

namespace tide::balancer {

PassiveHealth::PassiveHealth(size_t targetSlots, std::chrono::milliseconds ejectionBase,
                             std::chrono::milliseconds ejectionMax, SelectionState& selection)
    : selection_(selection), backoffMs_(targetSlots, 0), baseMs_(ejectionBase.count()),
      maxMs_(ejectionMax.count()) {
  selection_.ejectedUntilByTarget.assign(targetSlots, 0);
}

bool PassiveHealth::eject(uint32_t slot, int64_t nowMs) {
  int64_t& until = selection_.ejectedUntilByTarget[slot];
  if (until > nowMs) {
    return false;
  }
  int64_t& backoff = backoffMs_[slot];
  backoff = backoff == 0 ? baseMs_ : std::min<int64_t>(backoff * 2, maxMs_);
  until = nowMs + backoff;
  return true;
}

} // namespace tide::balancer
