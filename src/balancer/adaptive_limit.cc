#include "balancer/adaptive_limit.h"

#include <algorithm>
#include <cmath>

namespace tide::balancer {

void AdaptiveLimit::reset(const AdaptiveLimitOptions& options, int64_t nowMs, uint64_t seed,
                          SharedBaseline* shared, uint16_t tag) {
  *this = AdaptiveLimit{};
  rng_ = seed | 1;
  limit_ = std::clamp<double>(options.initialLimit, options.minLimit,
                              std::max(options.maxLimit, options.minLimit));
  minRttUs_ = 0;
  shared_ = shared;
  tag_ = tag;
  startWindow(options, nowMs);
  // The baseline first, then initialLimit. Another worker's will do if it was measured just
  // now: the workers take up a new target within a few milliseconds of each other.
  needBaseline(options, nowMs, nowMs - options.windowMs);
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

void AdaptiveLimit::needBaseline(const AdaptiveLimitOptions& options, int64_t nowMs,
                                 int64_t adoptAfterMs) {
  enforced_ = std::max<uint32_t>(1, options.probeLimit);
  if (shared_ == nullptr) {
    startMeasuring(options, nowMs); // alone: nobody else to wait for or to learn from
    return;
  }
  phase_ = Phase::Awaiting;
  adoptAfterMs_ = adoptAfterMs;
  adoptShared(options, nowMs);
}

bool AdaptiveLimit::adoptShared(const AdaptiveLimitOptions& options, int64_t nowMs) {
  int64_t at = shared_->measuredAtMs.load(std::memory_order_acquire);
  int64_t rttUs = shared_->minRttUs.load(std::memory_order_relaxed);
  if (rttUs <= 0 || at < adoptAfterMs_) {
    return false;
  }
  baselineKnown(options, rttUs, nowMs);
  return true;
}

uint64_t AdaptiveLimit::claimWord(const AdaptiveLimitOptions& options, int64_t nowMs,
                                  bool inFlight) const {
  int64_t holdMs = inFlight ? std::max<int64_t>(options.probeStallMs, 4 * minRttUs_ / 1000) : 0;
  return (uint64_t(nowMs + holdMs) << 16) | tag_;
}

bool AdaptiveLimit::claim(const AdaptiveLimitOptions& options, int64_t nowMs, bool inFlight) {
  uint64_t current = shared_->probe.load(std::memory_order_relaxed);
  for (;;) {
    bool free = current == 0 || uint16_t(current) == tag_ ||
                int64_t(current >> 16) + options.probeStallMs <= nowMs;
    if (!free) {
      return false; // another worker measures
    }
    if (shared_->probe.compare_exchange_weak(current, claimWord(options, nowMs, inFlight),
                                             std::memory_order_acq_rel,
                                             std::memory_order_relaxed)) {
      return true;
    }
  }
}

void AdaptiveLimit::startMeasuring(const AdaptiveLimitOptions& options, int64_t nowMs) {
  phase_ = Phase::Measuring;
  probeStartMs_ = nowMs;
  adoptAfterMs_ = nowMs; // one another worker measures meanwhile (after a lapsed claim) will do
  probeCount_ = 0;
  probeSumUs_ = 0;
  probeDrained_ = false;
  enforced_ = std::max<uint32_t>(1, options.probeLimit);
}

bool AdaptiveLimit::sendWhileProbing(const AdaptiveLimitOptions& options, int64_t nowMs) {
  if (shared_ == nullptr) {
    return false;
  }
  if (adoptShared(options, nowMs)) {
    return true;
  }
  if (phase_ == Phase::Measuring) {
    if (!claim(options, nowMs, /*inFlight=*/true)) {
      phase_ = Phase::Awaiting; // this claim lapsed and another worker took the measurement
    }
    return false;
  }
  if (claim(options, nowMs, /*inFlight=*/true)) {
    startMeasuring(options, nowMs); // this request is the measurement's first
  }
  return false;
}

bool AdaptiveLimit::poll(const AdaptiveLimitOptions& options, int64_t nowMs) {
  return phase_ == Phase::Awaiting && shared_ != nullptr && adoptShared(options, nowMs);
}

bool AdaptiveLimit::onProbeSample(const AdaptiveLimitOptions& options, int64_t rttUs,
                                  uint32_t inflight, int64_t nowMs) {
  if (phase_ != Phase::Measuring) {
    return false; // awaiting a baseline: another worker's, or a first send to claim it
  }
  if (shared_ != nullptr) {
    if (adoptShared(options, nowMs)) {
      return true; // this claim lapsed, and another worker measured meanwhile
    }
    if (!claim(options, nowMs, /*inFlight=*/false)) { // kept, and the others go on meanwhile
      phase_ = Phase::Awaiting;
      return false;
    }
  }
  // Responses to requests sent before the measurement began, or with others outstanding, do
  // not count: the baseline is the latency of requests the target served alone.
  if (inflight > std::max<uint32_t>(1, options.probeLimit) ||
      nowMs - rttUs / 1000 < probeStartMs_ - 2) { // (2 ms: the loop's clock is coarse)
    return false;
  }
  if (shared_ != nullptr && !probeDrained_) {
    // The measurement's first response shared the target with the requests other workers had
    // sent before they saw the claim: it drains them, and does not count.
    probeDrained_ = true;
    return false;
  }
  probeSumUs_ += rttUs;
  if (++probeCount_ < std::max<uint32_t>(1, options.probeSamples)) {
    return false;
  }
  // The mean, not the median: a target under a CPU quota (an instance type's share of a core)
  // alternates between running and throttled even one request at a time, and the mean of
  // back-to-back requests is its latency at its full rate, which is the baseline that matters.
  int64_t mean = std::max<int64_t>(1, probeSumUs_ / probeCount_);
  if (shared_ != nullptr) {
    shared_->minRttUs.store(mean, std::memory_order_relaxed);
    shared_->measuredAtMs.store(nowMs, std::memory_order_release);
    uint64_t current = shared_->probe.load(std::memory_order_relaxed);
    if (uint16_t(current) == tag_) {
      shared_->probe.compare_exchange_strong(current, 0, std::memory_order_acq_rel);
    }
  }
  baselineKnown(options, mean, nowMs);
  return true;
}

void AdaptiveLimit::baselineKnown(const AdaptiveLimitOptions& options, int64_t minRttUs,
                                  int64_t nowMs) {
  phase_ = Phase::Running;
  minRttUs_ = std::max<int64_t>(1, minRttUs);
  windowsAtMin_ = 0;
  scheduleProbe(options, nowMs);
  enforced_ = clampLimit(options, limit_);
  startWindow(options, nowMs);
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
  // A new baseline (the controller's limit_ is kept and comes back after it): periodically,
  // where one another worker measured within half the interval will do; or when the limit is
  // stuck at the minimum, where only one measured since it got stuck will.
  if (options.probeIntervalMs > 0 && nowMs >= nextProbeMs_) {
    needBaseline(options, nowMs, nowMs - options.probeIntervalMs / 2);
  } else if (windowsAtMin_ >= options.minLimitWindows) {
    needBaseline(options, nowMs, nowMs - int64_t(windowsAtMin_) * options.windowMs);
  }
  startWindow(options, nowMs);
  return enforced_ != before;
}

} // namespace tide::balancer
