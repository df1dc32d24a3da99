#include "operations/warm_pool.h"

#include <algorithm>
#include <array>

namespace tide::operations {

namespace {
constexpr std::array<std::string_view, 3> kPoolStates = {"Stopped", "Running", "Hibernated"};
} // namespace

bool isWarmed(model::LifecycleState s) {
  using model::LifecycleState;
  switch (s) {
  case LifecycleState::WarmedPending:
  case LifecycleState::WarmedTerminating:
  case LifecycleState::WarmedTerminated:
  case LifecycleState::WarmedStopped:
  case LifecycleState::WarmedRunning:
  case LifecycleState::WarmedHibernated:
    return true;
  default:
    return false;
  }
}

bool inWarmPool(const model::Instance& i) {
  return i.lifecycleState && isWarmed(*i.lifecycleState) &&
         *i.lifecycleState != model::LifecycleState::WarmedTerminated;
}

std::string_view warmPoolStateName(model::WarmPoolState s) {
  return kPoolStates[static_cast<size_t>(s)];
}

std::optional<model::WarmPoolState> parseWarmPoolState(std::string_view s) {
  for (size_t i = 0; i < kPoolStates.size(); ++i) {
    if (kPoolStates[i] == s) {
      return static_cast<model::WarmPoolState>(i);
    }
  }
  return std::nullopt;
}

int warmPoolTargetSize(const model::AutoScalingGroup& g) {
  if (!g.warmPool || g.warmPool->pendingDelete || g.deleting) {
    return 0;
  }
  int prepared = g.warmPool->maxGroupPreparedCapacity.value_or(g.maxSize);
  return std::max(g.warmPool->minSize, prepared - g.desiredCapacity);
}

Status checkWarmPool(const model::WarmPoolConfiguration& pool) {
  if (pool.maxGroupPreparedCapacity && *pool.maxGroupPreparedCapacity < pool.minSize) {
    return validationError("MinSize (" + std::to_string(pool.minSize) +
                           ") must be less than or equal to MaxGroupPreparedCapacity (" +
                           std::to_string(*pool.maxGroupPreparedCapacity) + ").");
  }
  return Status::ok();
}

} // namespace tide::operations
