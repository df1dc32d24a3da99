// The clocks a worker reads: a coarse monotonic millisecond for timers, a fine monotonic
// microsecond for response times, and the wall clock for access log entries. Header-only: they
// are read several times per request.
#pragma once

#include <cstdint>
#include <ctime>

namespace tide::balancer {

// CLOCK_MONOTONIC_COARSE in ms: the loop's notion of now (timers, ejections, stickiness).
inline int64_t monotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// CLOCK_MONOTONIC in µs: request and response times.
inline int64_t monotonicUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

// CLOCK_REALTIME in µs: the time written in an access log entry.
inline int64_t realtimeUs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

} // namespace tide::balancer
