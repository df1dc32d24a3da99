#include "metrics/value_histogram.h"

#include <cmath>

namespace tide::metrics {
namespace {

// frexp's exponents of finite doubles are within [-1073, 1024]: shifted by this they are
// positive, so every positive value's bucket is >= 1.
constexpr int32_t kExponentBias = 1100;

// The bounds of a positive bucket's range, scaled by `at` (0 = lowest, 1 = highest).
double positiveBound(int32_t bucket, double at) {
  int32_t exponent = bucket / kValueSubBuckets - kExponentBias;
  int32_t sub = bucket % kValueSubBuckets;
  // Values of this exponent are m * 2^exponent with m in [0.5, 1).
  return std::ldexp(0.5 * (1.0 + (sub + at) / kValueSubBuckets), exponent);
}

} // namespace

int32_t valueBucket(double value) {
  if (value == 0 || !std::isfinite(value)) {
    return 0;
  }
  int exponent = 0;
  double mantissa = std::frexp(std::fabs(value), &exponent); // [0.5, 1)
  auto sub = static_cast<int32_t>((mantissa * 2.0 - 1.0) * kValueSubBuckets);
  if (sub >= kValueSubBuckets) {
    sub = kValueSubBuckets - 1; // rounding at the top of the range
  }
  int32_t bucket = (exponent + kExponentBias) * kValueSubBuckets + sub;
  return value < 0 ? -bucket : bucket;
}

double valueBucketLowest(int32_t bucket) {
  if (bucket == 0) {
    return 0;
  }
  return bucket > 0 ? positiveBound(bucket, 0) : -positiveBound(-bucket, 0);
}

double valueBucketHighest(int32_t bucket) {
  if (bucket == 0) {
    return 0;
  }
  return bucket > 0 ? positiveBound(bucket, 1) : -positiveBound(-bucket, 1);
}

double valueBucketMiddle(int32_t bucket) {
  if (bucket == 0) {
    return 0;
  }
  return bucket > 0 ? positiveBound(bucket, 0.5) : -positiveBound(-bucket, 0.5);
}

} // namespace tide::metrics
