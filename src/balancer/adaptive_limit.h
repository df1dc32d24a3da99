// The adaptive per-target concurrency limit (tide.target.max_concurrency = adaptive, the
// default): a gradient controller in the manner of Envoy's adaptive concurrency filter and
// Netflix's concurrency-limits (docs/load-balancer.md "Overload").
//
// One AdaptiveLimit per target per worker. It learns the target's latency when it is not
// loaded (the baseline, minRTT: the mean latency of probeSamples requests it served with
// nothing else outstanding), aggregates the mean latency of the responses of
// each sampling window, and once per window moves the limit by the gradient:
//
//   gradient = clamp((minRTT × tolerance + slack) / sampleRTT, 0.5, 2)
//   target   = limit × gradient, + sqrt(limit) when gradient >= 1 (room to probe upwards)
//   limit    = limit + smoothing × (target − limit), within [minLimit, maxLimit]
//
// so the limit grows while latency stays within the tolerance of the baseline and falls in
// proportion as soon as requests queue inside the target (if latency follows concurrency, one
// step lands it where latency is at the tolerance). The slack keeps targets that answer in
// well under a millisecond from being limited by the time their answers wait for the
// balancer's own loop, which is not the target's queue. It does not grow while the target was used
// at under half its limit (the latency then says nothing about a higher limit).
//
// The baseline is measured when a target is new (or routable again), again every
// probeIntervalMs (with jitter), and when the limit has sat at minLimit for minLimitWindows
// windows (the target has become slower for good): the limit drops to probeLimit until
// probeSamples responses to requests sent since then came back, and their mean is the new
// baseline; the limit comes back after.
//
// Workers share a target (SharedBaseline): a baseline measured while another worker keeps the
// target loaded would be that load's latency, and every limit learnt from it too high. So at
// most one worker measures a target at a time, claiming the measurement when it sends its first
// request at probeLimit. While one of its measuring requests is in flight the other workers hold
// their requests to the target (heldByProbe: they queue or go to other targets), so under load
// the target serves the measurement alone; between them (a worker with few requests) they go on.
// The measurement's first response does not count: other workers' requests sent before the
// claim shared the target with it. A worker that needs a baseline adopts one another worker
// measured recently instead of measuring again. A claim lapses when its worker neither sends nor
// hears from the target for probeStallMs, and a hold when its request is unanswered for that long
// (or 4 baselines).
//
// Time is passed in (no clock is read), so tests feed synthetic samples. Not thread-safe: one
// worker's; only SharedBaseline is shared.
#pragma once

#include <atomic>
#include <cstdint>

namespace tide::balancer {

struct AdaptiveLimitOptions {
  uint32_t initialLimit = 4;        // a new target's limit once its baseline is measured
  uint32_t minLimit = 1;            // the limit never goes below
  uint32_t maxLimit = 1000;         // nor above (per worker)
  int64_t windowMs = 100;           // a sampling window lasts at least this long
  uint32_t windowSamples = 8;       // and holds at least this many responses
  double tolerance = 1.25;          // latency up to minRTT × this counts as unloaded (Envoy: 25 %)
  int64_t slackUs = 2'000;          // plus this: the balancer's own loop and the network's jitter
  double smoothing = 0.5;           // how far one window moves the limit towards its target
  int64_t probeIntervalMs = 60'000; // minRTT is measured again this often (0: only when needed)
  int64_t probeJitterMs = 15'000;   // plus up to this much, so targets and workers spread out
  uint32_t probeLimit = 1;          // the limit while minRTT is measured
  uint32_t probeSamples = 5;        // responses at probeLimit whose mean is the minRTT
  uint32_t minLimitWindows = 5;     // windows at minLimit in a row that trigger a measurement
  int64_t probeStallMs = 1'000;     // a measuring request holds the others at most this long (or
                                    // 4 baselines), and its claim lapses this long after that
};

// What one target's limits on every worker share (one per target slot, a cache line of its
// own): who measures the target's baseline now, and the last baseline measured.
struct alignas(64) SharedBaseline {
  // (holdUntilMs << 16) | tag of the worker measuring (tag: worker index + 1); 0: nobody.
  // Others hold their requests until then; the claim lapses probeStallMs after it.
  std::atomic<uint64_t> probe{0};
  std::atomic<int64_t> minRttUs{0};     // the last baseline measured (µs; 0: none)
  std::atomic<int64_t> measuredAtMs{0}; // and when
};

// Whether the worker tagged `tag` holds its requests to the target: another worker measures
// its baseline and has a measuring request in flight.
inline bool heldByProbe(const SharedBaseline& shared, uint16_t tag, int64_t nowMs) {
  uint64_t p = shared.probe.load(std::memory_order_relaxed);
  return p != 0 && uint16_t(p) != tag && int64_t(p >> 16) > nowMs;
}

class AdaptiveLimit {
public:
  // A new target at nowMs: measures its baseline (or adopts one another worker measured just
  // now), then starts at initialLimit. `seed` spreads the probes of different targets and
  // workers (any value). `shared`: the target's SharedBaseline and this worker's tag (index + 1);
  // null: this worker alone, measuring from now on.
  void reset(const AdaptiveLimitOptions& options, int64_t nowMs, uint64_t seed,
             SharedBaseline* shared = nullptr, uint16_t tag = 1);

  // The limit in force: requests this worker may have outstanding on the target.
  uint32_t limit() const { return enforced_; }
  // The latency of the target unloaded (µs; 0 until measured), for tests and counters.
  int64_t minRttUs() const { return minRttUs_; }
  // The limit is not in force: its baseline is being measured, or awaited.
  bool probing() const { return phase_ != Phase::Running; }
  // This worker holds the claim to measure the baseline and measures it.
  bool measuring() const { return phase_ == Phase::Measuring; }

  // A response came back rttUs after its request was sent, with `inflight` requests of this
  // worker outstanding on the target (this one included) at nowMs. True when the limit changed.
  bool onSample(const AdaptiveLimitOptions& options, int64_t rttUs, uint32_t inflight,
                int64_t nowMs) {
    if (phase_ != Phase::Running) {
      return onProbeSample(options, rttUs, inflight, nowMs);
    }
    sumUs_ += rttUs;
    ++count_;
    maxInflight_ = inflight > maxInflight_ ? inflight : maxInflight_;
    if (nowMs < windowEndMs_ || count_ < options.windowSamples) {
      return false;
    }
    return endWindow(options, nowMs);
  }

  // A request goes to the target at nowMs. While a baseline is needed, the first one adopts a
  // baseline measured meanwhile or claims the measurement; the measuring worker's sends renew
  // its claim. True when the limit changed.
  bool onSend(const AdaptiveLimitOptions& options, int64_t nowMs) {
    return phase_ == Phase::Running ? false : sendWhileProbing(options, nowMs);
  }

  // This worker has no request outstanding on the target any more at nowMs (answered, or ended
  // without an answer: the client left, the target failed). While it measures, the others need
  // not hold theirs for a request that will not be answered (it keeps its claim).
  void onIdle(const AdaptiveLimitOptions& options, int64_t nowMs) {
    if (phase_ == Phase::Measuring && shared_ != nullptr && !claim(options, nowMs, false)) {
      phase_ = Phase::Awaiting; // this claim lapsed and another worker took the measurement
    }
  }

  // Now and then (the worker's timer tick): a limit awaiting its baseline adopts one another
  // worker has measured meanwhile. True when the limit changed.
  bool poll(const AdaptiveLimitOptions& options, int64_t nowMs);

private:
  enum class Phase : uint8_t {
    Running,   // the limit is in force
    Awaiting,  // a baseline is needed: the first send adopts one or claims the measurement
    Measuring, // this worker measures the baseline (it holds the SharedBaseline's claim)
  };

  bool endWindow(const AdaptiveLimitOptions& options, int64_t nowMs);
  bool onProbeSample(const AdaptiveLimitOptions& options, int64_t rttUs, uint32_t inflight,
                     int64_t nowMs);
  bool sendWhileProbing(const AdaptiveLimitOptions& options, int64_t nowMs);
  // A baseline is needed from nowMs: one measured since adoptAfterMs (by any worker) will do.
  void needBaseline(const AdaptiveLimitOptions& options, int64_t nowMs, int64_t adoptAfterMs);
  bool adoptShared(const AdaptiveLimitOptions& options, int64_t nowMs);
  // Takes or renews the claim to measure; `inFlight`: a measuring request goes now (the others
  // hold), else it came back (they go on). False when another worker holds it.
  bool claim(const AdaptiveLimitOptions& options, int64_t nowMs, bool inFlight);
  uint64_t claimWord(const AdaptiveLimitOptions& options, int64_t nowMs, bool inFlight) const;
  void startMeasuring(const AdaptiveLimitOptions& options, int64_t nowMs);
  void baselineKnown(const AdaptiveLimitOptions& options, int64_t minRttUs, int64_t nowMs);
  void scheduleProbe(const AdaptiveLimitOptions& options, int64_t nowMs);
  void startWindow(const AdaptiveLimitOptions& options, int64_t nowMs);
  uint32_t clampLimit(const AdaptiveLimitOptions& options, double v) const;

  double limit_ = 1;      // the controller's limit (enforced_ is its whole part)
  uint32_t enforced_ = 1; // what limit() returns (probeLimit while probing)
  int64_t minRttUs_ = 0;  // the baseline; 0: not measured yet
  Phase phase_ = Phase::Awaiting;
  SharedBaseline* shared_ = nullptr; // the target's, shared by the workers (null: alone)
  uint16_t tag_ = 1;                 // this worker's tag in shared_->probe
  int64_t adoptAfterMs_ = 0;         // Awaiting: a shared baseline measured since then will do
  int64_t sumUs_ = 0;                // this window's samples: sum, count, largest inflight
  uint32_t count_ = 0;
  uint32_t maxInflight_ = 0;
  int64_t windowEndMs_ = 0;   // the window ends at the first sample at or after this
  int64_t nextProbeMs_ = 0;   // when minRTT is measured again
  uint32_t windowsAtMin_ = 0; // windows in a row that ended at minLimit
  int64_t probeStartMs_ = 0;  // the current measurement: when it began, and its samples
  uint32_t probeCount_ = 0;
  int64_t probeSumUs_ = 0;
  bool probeDrained_ = false; // its first response came (shared: that one does not count)
  uint64_t rng_ = 1;          // jitter of the next probes (xorshift)
};

// What a request sent to a group's targets now is expected to take, learnt from the responses
// (µs): the smoothed latency plus four times its smoothed deviation, as TCP estimates its
// retransmission timeout (RFC 6298: gains 1/8 and 1/4). A queued request gives up this much
// before the queue timeout, so that one the queue lets through is answered within the timeout
// (docs/load-balancer.md "Overload"). Zero until the first response. One per group per worker.
class ServiceTimeEstimate {
public:
  void onSample(int64_t rttUs) {
    if (srttUs_ == 0) {
      srttUs_ = rttUs > 0 ? rttUs : 1;
      rttvarUs_ = srttUs_ / 2;
      return;
    }
    int64_t deviation = rttUs > srttUs_ ? rttUs - srttUs_ : srttUs_ - rttUs;
    rttvarUs_ += (deviation - rttvarUs_) / 4;
    srttUs_ += (rttUs - srttUs_) / 8;
  }
  int64_t expectedUs() const { return srttUs_ + 4 * rttvarUs_; }
  int64_t smoothedUs() const { return srttUs_; }

private:
  int64_t srttUs_ = 0;
  int64_t rttvarUs_ = 0;
};

} // namespace tide::balancer
