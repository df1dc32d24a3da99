// Target response times as a log-linear histogram, the way ALB's TargetResponseTime
// percentiles need them: values in microseconds, one bucket each below 16 µs, and every power
// of two above split into 16 equal buckets, so a bucket is at most 1/16 (6.25 %) of its lower
// bound wide. Values of 2^32 µs (71 minutes) and more share the last bucket.
//
// Each worker keeps one histogram per target slot (allocated at the target's first response,
// 3.7 KB) and is its only writer, like its TrafficCells (counters.h): recording is one bucket
// computation (a count-leading-zeros and a shift) and one relaxed store. The control plane sums
// the workers' histograms once a second (Balancer::counters) and the metrics publisher turns
// each second's change into a distribution in the metric store.
#pragma once

#include <atomic>
#include <cstdint>

namespace tide::balancer {

inline constexpr int kResponseTimeSubBits = 4;                     // 16 per power of two
inline constexpr int kResponseTimeSub = 1 << kResponseTimeSubBits; // 16
inline constexpr int kResponseTimeMaxExponent = 31;                // up to 2^32 - 1 µs
inline constexpr int kResponseTimeBuckets =
    (kResponseTimeMaxExponent - kResponseTimeSubBits + 2) * kResponseTimeSub; // 464

// The bucket of a response time in microseconds.
inline int responseTimeBucket(uint64_t micros) {
  if (micros < uint64_t{kResponseTimeSub}) {
    return static_cast<int>(micros);
  }
  constexpr uint64_t kLargest = (uint64_t{1} << (kResponseTimeMaxExponent + 1)) - 1;
  if (micros > kLargest) {
    micros = kLargest;
  }
  int exponent = 63 - __builtin_clzll(micros); // kResponseTimeSubBits .. kMaxExponent
  int sub = static_cast<int>(micros >> (exponent - kResponseTimeSubBits)) - kResponseTimeSub;
  return (exponent - kResponseTimeSubBits + 1) * kResponseTimeSub + sub;
}

// The smallest response time (µs) of a bucket; a bucket's values are [lowest(b), lowest(b+1)).
inline uint64_t responseTimeBucketLowest(int bucket) {
  if (bucket < kResponseTimeSub) {
    return static_cast<uint64_t>(bucket);
  }
  int exponent = bucket / kResponseTimeSub + kResponseTimeSubBits - 1;
  uint64_t sub = static_cast<uint64_t>(bucket % kResponseTimeSub);
  return (uint64_t{kResponseTimeSub} + sub) << (exponent - kResponseTimeSubBits);
}

// The value a bucket stands for, in seconds: exact below 32 µs, else the bucket's middle.
inline double responseTimeBucketSeconds(int bucket) {
  uint64_t lo = responseTimeBucketLowest(bucket);
  uint64_t hi = responseTimeBucketLowest(bucket + 1);
  return hi - lo <= 1 ? double(lo) * 1e-6 : (double(lo) + double(hi - 1)) * 0.5e-6;
}

// One worker's histogram for one target. Written only by the owning worker.
struct ResponseTimeCells {
  std::atomic<uint64_t> counts[kResponseTimeBuckets] = {};
};

} // namespace tide::balancer
