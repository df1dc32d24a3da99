#include "cli/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace tide::cli {

int LatencyHistogram::bucketOf(int64_t micros) {
  if (micros < kSub) {
    return micros < 0 ? 0 : static_cast<int>(micros);
  }
  int e = 63 - __builtin_clzll(static_cast<uint64_t>(micros)); // >= kSubBits
  if (e > kMaxExponent) {
    return kBuckets - 1;
  }
  int shift = e - kSubBits;
  return kSub + shift * kSub + static_cast<int>((micros >> shift) - kSub);
}

int64_t LatencyHistogram::bucketLowest(int bucket) {
  if (bucket < kSub) {
    return bucket;
  }
  int shift = (bucket - kSub) / kSub;
  return int64_t(kSub + bucket % kSub) << shift;
}

int64_t LatencyHistogram::bucketHighest(int bucket) {
  if (bucket < kSub) {
    return bucket;
  }
  int shift = (bucket - kSub) / kSub;
  return bucketLowest(bucket) + (int64_t(1) << shift) - 1;
}

void LatencyHistogram::record(int64_t micros) {
  micros = std::max<int64_t>(micros, 0);
  ++counts_[bucketOf(micros)];
  ++count_;
  sum_ += micros;
  min_ = std::min(min_, micros);
  max_ = std::max(max_, micros);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) {
    counts_[i] += other.counts_[i];
  }
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

int64_t LatencyHistogram::percentile(double q) const {
  if (count_ == 0) {
    return 0;
  }
  q = std::clamp(q, 0.0, 1.0);
  int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * double(count_))));
  int64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      return std::min(bucketHighest(i), max_);
    }
  }
  return max_;
}

} // namespace tide::cli
