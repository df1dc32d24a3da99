// A worker's keep-alive pool: idle connections to targets, one LIFO list per target slot (the
// most recently used connection is taken first, warm and least likely to have been closed by the
// target). The lists are intrusive (UpstreamConn::poolPrev/poolNext): taking, putting and
// removing move a few pointers and never allocate.
//
// Header-only: take() and put() run on every forwarded request. The pool only links and unlinks;
// closing sockets, buffers and idle timers stay with the caller (Exchange). One worker's; not
// thread-safe.
#pragma once

#include "balancer/connection.h"

#include <cstdint>
#include <vector>

namespace tide::balancer {

class UpstreamPool {
public:
  // targetSlots: how many target slots the worker has state for.
  UpstreamPool(size_t targetSlots, uint32_t maxIdlePerTarget)
      : head_(targetSlots, nullptr), size_(targetSlots, 0), maxIdlePerTarget_(maxIdlePerTarget) {}

  // An idle connection of `slot` to endpoint e from address `source` (a load balancer's: security
  // groups admit connections by it), taken out of the pool and marked reused; null when there is
  // none.
  UpstreamConn* take(uint32_t slot, const Endpoint& e, uint32_t source = 0) {
    UpstreamConn* u = head_[slot];
    while (u != nullptr && !(u->endpoint == e && u->source == source)) {
      u = u->poolNext;
    }
    if (u != nullptr) {
      remove(u);
      u->reused = true;
    }
    return u;
  }

  // Puts u at the front of its slot's list. False (u not pooled) when the slot already holds
  // maxIdlePerTarget connections: the caller closes u.
  bool put(UpstreamConn* u) {
    if (size_[u->slot] >= maxIdlePerTarget_) {
      return false;
    }
    u->pooled = true;
    u->poolPrev = nullptr;
    u->poolNext = head_[u->slot];
    if (u->poolNext != nullptr) {
      u->poolNext->poolPrev = u;
    }
    head_[u->slot] = u;
    ++size_[u->slot];
    return true;
  }

  // Takes u out of the pool if it is in it.
  void remove(UpstreamConn* u) {
    if (!u->pooled) {
      return;
    }
    if (u->poolPrev != nullptr) {
      u->poolPrev->poolNext = u->poolNext;
    } else {
      head_[u->slot] = u->poolNext;
    }
    if (u->poolNext != nullptr) {
      u->poolNext->poolPrev = u->poolPrev;
    }
    u->poolPrev = u->poolNext = nullptr;
    u->pooled = false;
    --size_[u->slot];
  }

  // The newest idle connection of `slot` (follow poolNext for the others), or null.
  UpstreamConn* first(uint32_t slot) const { return head_[slot]; }
  uint32_t slotCount() const { return uint32_t(head_.size()); }

private:
  std::vector<UpstreamConn*> head_; // by target slot: idle connections, newest first
  std::vector<uint32_t> size_;      // by target slot: how many
  uint32_t maxIdlePerTarget_;
};

} // namespace tide::balancer
