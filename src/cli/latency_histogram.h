// A latency histogram with fixed log-linear buckets (the HdrHistogram idea, cut down): values
// below 64 µs have a bucket each, and every power of two above is split into 32 equal buckets,
// so a percentile is within 1/32 (about 3 %) of the true value. Recording is an increment in a
// fixed array: no allocation, ever. Not thread-safe.
#pragma once

#include <array>
#include <cstdint>

namespace tide::cli {

class LatencyHistogram {
public:
  static constexpr int kSubBits = 5;         // 32 buckets per power of two
  static constexpr int kSub = 1 << kSubBits; // 32
  static constexpr int kMaxExponent = 36;    // values up to 2^37 µs (38 h) are kept
  static constexpr int kBuckets = (kMaxExponent - kSubBits + 2) * kSub; // 1024

  // Records one value in microseconds (negative counts as 0; huge values go to the last bucket).
  void record(int64_t micros);
  // Adds every value of another histogram.
  void merge(const LatencyHistogram& other);
  void reset() { *this = LatencyHistogram(); }

  int64_t count() const { return count_; }
  int64_t max() const { return max_; } // exact; 0 when empty
  int64_t min() const { return count_ ? min_ : 0; }
  double mean() const { return count_ ? double(sum_) / double(count_) : 0; }
  // The value at quantile q (0..1, e.g. 0.99): the highest value of the bucket holding the
  // ceil(q * count)-th smallest value, capped at max(). 0 when empty.
  int64_t percentile(double q) const;

  // Bucket arithmetic, exposed for tests.
  static int bucketOf(int64_t micros);
  static int64_t bucketLowest(int bucket);
  static int64_t bucketHighest(int bucket);

private:
  std::array<int64_t, kBuckets> counts_{};
  int64_t count_ = 0;
  int64_t sum_ = 0;
  int64_t min_ = INT64_MAX;
  int64_t max_ = 0;
};

} // namespace tide::cli
