// Log-linear value buckets for the metric store's distributions: every power of two is split
// into 16 equal buckets, for positive and negative values alike (zero has a bucket of its own),
// so a bucket is at most 1/16 (6.25 %) of its lower bound wide, and a value read back as its
// bucket's middle is within 1/32 (about 3.1 %) of the value put. Pure functions; thread-safe.
#pragma once

#include <cstdint>

namespace tide::metrics {

inline constexpr int kValueSubBuckets = 16; // buckets per power of two

// The bucket of a finite value: 0 for 0, > 0 for positive values, the negation of |v|'s bucket
// for negative ones; a larger value never has a smaller bucket.
int32_t valueBucket(double value);
// The bounds of a bucket: [lowest, highest) for positive buckets (mirrored for negative ones).
double valueBucketLowest(int32_t bucket);
double valueBucketHighest(int32_t bucket);
// The value a bucket stands for: its middle (0 for bucket 0).
double valueBucketMiddle(int32_t bucket);

} // namespace tide::metrics
