// Passive health (outlier ejection), one worker's own: a target whose connection was refused,
// reset before any answer, or not accepted in time gets no new requests from this worker for a
// backoff that doubles per failure in a row (a response ends the run) from ejectionBase up to
// ejectionMax. Nothing is shared with other workers (docs/load-balancer.md "Passive health").
//
// The ejection deadlines live in SelectionState::ejectedUntilByTarget, where the algorithms
// read them; this class writes them. One worker's; not thread-safe.
#pragma once

#include "balancer/lb_algorithm.h"

#include <chrono>
#include <cstdint>
#include <vector>

namespace tide::balancer {

class PassiveHealth {
public:
  // Sizes selection's ejection deadlines for targetSlots; selection must outlive this.
  PassiveHealth(size_t targetSlots, std::chrono::milliseconds ejectionBase,
                std::chrono::milliseconds ejectionMax, SelectionState& selection);

  // Whether the target is out of this worker's selection at nowMs.
  bool ejected(uint32_t slot, int64_t nowMs) const {
    return selection_.ejectedUntilByTarget[slot] > nowMs;
  }

  // The target failed: ejects it, unless it is out already (failures of requests in flight do
  // not lengthen an ejection). True when it was ejected now.
  bool eject(uint32_t slot, int64_t nowMs);

  // The target answered: its run of failures ends (the next ejection is ejectionBase again).
  void answered(uint32_t slot) { backoffMs_[slot] = 0; }

private:
  SelectionState& selection_;
  std::vector<int64_t> backoffMs_; // by target slot: the last ejection's length; 0: none
  int64_t baseMs_;
  int64_t maxMs_;
};

} // namespace tide::balancer
