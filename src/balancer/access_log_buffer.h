// One worker's access log lines on their way to the writer thread (access_log.h): formatted into
// a buffer per load balancer and handed over with a try-lock, when a buffer is full or at least
// once a second, so a slow disk never stalls the request path. When the writer falls behind and
// a buffer reaches its bound, its lines are dropped and counted (AccessLogWriter::countDropped).
//
// One worker's; not thread-safe (the writer it hands over to is).
#pragma once

#include "balancer/access_log.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tide::balancer {

class AccessLogBuffer {
public:
  static constexpr size_t kHandoverBytes = 64 * 1024; // a buffer this full is handed over
  static constexpr size_t kMaxBytes = 4 << 20;        // ... and dropped when the writer is behind
  static constexpr int64_t kHandoverEveryMs = 1000;   // ... and handed over at least this often

  // loadBalancerSlots: how many load balancer slots the worker has state for. writer: where
  // lines go (null: they are dropped).
  AccessLogBuffer(size_t loadBalancerSlots, AccessLogWriter* writer);

  // Appends e's line to the buffer of the load balancer in lbSlot, whose log is written to path.
  // Lines buffered for another path (the log was moved) are handed over first.
  void append(uint32_t lbSlot, const std::string& path, const AccessLogEntry& e);

  // Hands every buffer over when kHandoverEveryMs have passed since the last time. Called once
  // per turn of the worker's loop.
  void handOverIfDue(int64_t nowMs) {
    if (nowMs - lastHandoverMs_ >= kHandoverEveryMs) {
      lastHandoverMs_ = nowMs;
      handOverAll(false);
    }
  }

  // Hands every buffer over without waiting for the writer's lock (or waiting, at the end:
  // then what the writer does not take is dropped).
  void handOverAll(bool wait);

  // Whether some buffer holds lines (the loop then wakes up to hand them over).
  bool pending() const { return pending_; }

private:
  struct Lines {
    std::string path;  // the file its lines go to
    std::string lines; // formatted, not yet handed to the writer
  };
  void handOver(Lines& b, bool wait);
  void drop(Lines& b);

  AccessLogWriter* writer_;
  std::vector<Lines> byLoadBalancer_; // by load balancer slot
  bool pending_ = false;              // some buffer holds lines
  int64_t lastHandoverMs_ = 0;
};

} // namespace tide::balancer
