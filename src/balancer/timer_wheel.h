// A hashed timer wheel for a worker's connection timeouts (idle, header, connect, response).
//
// Each connection embeds one TimerNode. Extending a deadline is a store (lazy: the node is moved
// only when its old slot comes due), so touching a timer on every read costs nothing. Not
// thread-safe: one per worker.
#pragma once

#include <cstdint>

namespace tide::balancer {

struct TimerNode {
  TimerNode* prev = nullptr;
  TimerNode* next = nullptr;
  int64_t deadline = 0;  // monotonic ms
  void* owner = nullptr; // the connection this node belongs to
  bool linked() const { return next != nullptr; }
  void unlink() {
    if (next != nullptr) {
      prev->next = next;
      next->prev = prev;
      prev = next = nullptr;
    }
  }
};

class TimerWheel {
public:
  static constexpr int64_t kTickMs = 10;
  static constexpr int kSlots = 512;

  explicit TimerWheel(int64_t nowMs) : tick_(nowMs / kTickMs) {
    for (TimerNode& s : slots_) {
      s.prev = s.next = &s;
    }
  }
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Arms (or re-arms) n to fire at deadline.
  void schedule(TimerNode* n, int64_t deadline) {
    if (n->linked() && deadline >= n->deadline) {
      n->deadline = deadline; // lazy: moved when its current slot comes due
      return;
    }
    n->unlink();
    n->deadline = deadline;
    link(n);
  }
  void cancel(TimerNode* n) { n->unlink(); }
  bool empty() const { return armed_ == 0; }

  // Fires every node whose deadline is <= now: onExpire(node) with the node already unlinked.
  // onExpire may schedule or cancel any node.
  template <typename F> void advance(int64_t now, F&& onExpire) {
    int64_t target = now / kTickMs;
    armed_ = 0;
    while (tick_ <= target) {
      TimerNode& slot = slots_[tick_ % kSlots];
      if (slot.next != &slot) {
        // Take the slot's list aside, then handle its nodes one by one.
        TimerNode pending;
        pending.next = slot.next;
        pending.prev = slot.prev;
        pending.next->prev = &pending;
        pending.prev->next = &pending;
        slot.prev = slot.next = &slot;
        while (pending.next != &pending) {
          TimerNode* n = pending.next;
          n->unlink();
          if (n->deadline <= now) {
            onExpire(n);
          } else {
            link(n);
          }
        }
      }
      if (tick_ == target) {
        break;
      }
      ++tick_;
    }
    armed_ = countArmed();
  }

private:
  void link(TimerNode* n) {
    int64_t t = n->deadline / kTickMs;
    if (t <= tick_) {
      t = tick_ + 1; // due now, or in the slot being handled: next tick
    }
    TimerNode& slot = slots_[t % kSlots];
    n->prev = slot.prev;
    n->next = &slot;
    slot.prev->next = n;
    slot.prev = n;
    ++armed_;
  }
  int countArmed() const {
    for (const TimerNode& s : slots_) {
      if (s.next != &s) {
        return 1;
      }
    }
    return 0;
  }

  int64_t tick_;
  int armed_ = 0; // > 0 when some node may be linked (a hint for the loop's poll timeout)
  TimerNode slots_[kSlots];
};

} // namespace tide::balancer
