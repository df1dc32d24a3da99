// tide's own process health, for the Prometheus exposition (/metrics): how long API requests,
// controller reconcile passes and store commits take, as histograms with fixed bounds from
// 100 µs to 10 s, kept since the process started.
//
// Thread-safe: one mutex guards the histograms (the control plane records a few hundred
// durations a second at most; the balancer's request path records nothing here). Durations are
// real time (a monotonic clock), never the virtual clock tests run controllers on.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tide {

enum class HealthTimer {
  ApiRequest,    // one API action, from its handler's start to its result (label: the action)
  ReconcilePass, // one pass of a reconciler (label: its name in the scheduler)
  StoreCommit,   // one write transaction, BEGIN to COMMIT (label: none)
};

// One histogram: counts[i] durations at most bounds[i] and above bounds[i-1]; `overflow` above
// the last bound; seconds summed.
struct DurationHistogram {
  std::vector<uint64_t> counts;
  uint64_t overflow = 0;
  uint64_t count = 0;
  double sumSeconds = 0;
};

// The bounds (seconds, ascending) every duration histogram uses.
std::span<const double> durationBounds();

// Records one duration.
void observeDuration(HealthTimer timer, std::string_view label, double seconds);

// A copy of one timer's histograms, by label.
std::map<std::string, DurationHistogram> durationHistograms(HealthTimer timer);

// Times its own lifetime and records it.
class ScopedDuration {
public:
  ScopedDuration(HealthTimer timer, std::string_view label)
      : timer_(timer), label_(label), start_(std::chrono::steady_clock::now()) {}
  ~ScopedDuration() {
    std::chrono::duration<double> d = std::chrono::steady_clock::now() - start_;
    observeDuration(timer_, label_, d.count());
  }
  ScopedDuration(const ScopedDuration&) = delete;
  ScopedDuration& operator=(const ScopedDuration&) = delete;

private:
  HealthTimer timer_;
  std::string_view label_; // must outlive this (action and reconciler names do)
  std::chrono::steady_clock::time_point start_;
};

} // namespace tide
