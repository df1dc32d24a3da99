#include "balancer/adaptive_limit.h"

#include <algorithm>
#include <cmath>

namespace tide::balancer {

void AdaptiveLimit::reset(const AdaptiveLimitOptions& options, int64_t nowMs, uint64_t seed) {
  *this = AdaptiveLimit{};
  rng_ = seed | 1;
  limit_ = std::clamp<double>(options.initialLimit, options.minLimit,
                              std::max(options.maxLimit, options.minLimit));
  minRttUs_ = 0;
  startProbe(options, nowMs); // the baseline first, then initialLimit
  startWindow(options, nowMs);
}

uint32_t AdaptiveLimit::clampLimit(const AdaptiveLimitOptions& options, double v) const {
  double lo = options.minLimit;
  double hi = std::max(options.maxLimit, options.minLimit);
  return static_cast<uint32_t>(std::clamp(v, lo, hi));
}

void AdaptiveLimit::startWindow(const AdaptiveLimitOptions& options, int64_t nowMs) {
  sumUs_ = 0;
  count_ = 0;
  maxInflight_ = 0;
  windowEndMs_ = nowMs + options.windowMs;
}

void AdaptiveLimit::startProbe(const AdaptiveLimitOptions& options, int64_t nowMs) {
  probing_ = true;
  probeStartMs_ = nowMs;
  probeCount_ = 0;
  probeSumUs_ = 0;
  enforced_ = std::max<uint32_t>(1, options.probeLimit);
}

bool AdaptiveLimit::onProbeSample(const AdaptiveLimitOptions& options, int64_t rttUs,
                                  uint32_t inflight, int64_t nowMs) {
  // Responses to requests sent before the probe began, or with others outstanding, do not
  // count: the baseline is the mean latency of requests the target served alone.
  if (inflight > std::max<uint32_t>(1, options.probeLimit) ||
      nowMs - rttUs / 1000 < probeStartMs_ - 2) { // (2 ms: the loop's clock is coarse)
    return false;
  }
  probeSumUs_ += rttUs;
  if (++probeCount_ < std::max<uint32_t>(1, options.probeSamples)) {
    return false;
  }
  probing_ = false;
  minRttUs_ = std::max<int64_t>(1, probeSumUs_ / probeCount_);
  windowsAtMin_ = 0;
  scheduleProbe(options, nowMs);
  enforced_ = clampLimit(options, limit_);
  startWindow(options, nowMs);
  return true;
}

void AdaptiveLimit::scheduleProbe(const AdaptiveLimitOptions& options, int64_t nowMs) {
  uint64_t x = rng_;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_ = x;
  int64_t jitter = options.probeJitterMs > 0 ? int64_t(x % uint64_t(options.probeJitterMs)) : 0;
  nextProbeMs_ = nowMs + options.probeIntervalMs + jitter;
}

bool AdaptiveLimit::endWindow(const AdaptiveLimitOptions& options, int64_t nowMs) {
  uint32_t before = enforced_;
  // The window's mean latency against the baseline's: within the tolerance the limit grows by
  // its square root (and more when faster); past it, it falls in proportion, which lands it
  // where latency would be at the tolerance if latency follows concurrency.
  double sample = double(sumUs_) / count_;
  double gradient = std::clamp((double(minRttUs_) * options.tolerance + double(options.slackUs)) /
                                   std::max(1.0, sample),
                               0.5, 2.0);
  double target = limit_ * gradient;
  if (gradient >= 1) {
    target += std::sqrt(limit_);
    if (double(maxInflight_) * 2 < limit_) {
      target = limit_; // used at under half the limit: latency says nothing about more
    }
  }
  limit_ += options.smoothing * (target - limit_);
  limit_ = std::clamp(limit_, double(options.minLimit),
                      double(std::max(options.maxLimit, options.minLimit)));
  enforced_ = clampLimit(options, limit_);
  windowsAtMin_ = enforced_ <= options.minLimit ? windowsAtMin_ + 1 : 0;
  if ((options.probeIntervalMs > 0 && nowMs >= nextProbeMs_) ||
      windowsAtMin_ >= options.minLimitWindows) {
    startProbe(options, nowMs); // the controller's limit_ is kept and comes back after it
  }
  startWindow(options, nowMs);
  return enforced_ != before;
}

} // namespace tide::balancer
