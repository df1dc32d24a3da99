#include "common/process_health.h"

#include <algorithm>
#include <array>
#include <mutex>

namespace tide {
namespace {

constexpr std::array kBounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                             0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};
constexpr size_t kTimers = 3;

struct Registry {
  std::mutex mu;
  std::array<std::map<std::string, DurationHistogram, std::less<>>, kTimers> histograms;
};

Registry& registry() {
  static Registry r; // never destroyed before the last observation: lives to exit
  return r;
}

} // namespace

std::span<const double> durationBounds() {
  return kBounds;
}

void observeDuration(HealthTimer timer, std::string_view label, double seconds) {
  auto at = std::lower_bound(kBounds.begin(), kBounds.end(), seconds);
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto& byLabel = r.histograms[static_cast<size_t>(timer)];
  auto it = byLabel.find(label);
  if (it == byLabel.end()) {
    DurationHistogram h;
    h.counts.assign(kBounds.size(), 0);
    it = byLabel.emplace(std::string(label), std::move(h)).first;
  }
  DurationHistogram& h = it->second;
  if (at == kBounds.end()) {
    ++h.overflow;
  } else {
    ++h.counts[static_cast<size_t>(at - kBounds.begin())];
  }
  ++h.count;
  h.sumSeconds += seconds;
}

std::map<std::string, DurationHistogram> durationHistograms(HealthTimer timer) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  const auto& byLabel = r.histograms[static_cast<size_t>(timer)];
  return {byLabel.begin(), byLabel.end()};
}

} // namespace tide
