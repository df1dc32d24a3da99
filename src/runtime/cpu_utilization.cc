#include "runtime/cpu_utilization.h"

#include <algorithm>

namespace tide::runtime {

std::optional<double> cpuUtilization(const CpuReading& before, const CpuReading& after,
                                     double cores) {
  if (after.at <= before.at || after.cpuNanos < before.cpuNanos || cores <= 0) {
    return std::nullopt;
  }
  double grantedNanos = static_cast<double>(after.at - before.at) * 1e6 * cores;
  double usedNanos = static_cast<double>(after.cpuNanos - before.cpuNanos);
  return std::clamp(usedNanos * 100.0 / grantedNanos, 0.0, 100.0);
}

std::optional<double> CpuMeter::record(const std::string& instanceId, const CpuReading& reading,
                                       double cores) {
  auto [it, first] = last_.try_emplace(instanceId, reading);
  if (first) {
    return std::nullopt;
  }
  std::optional<double> pct = cpuUtilization(it->second, reading, cores);
  it->second = reading;
  return pct;
}

void CpuMeter::retain(const std::set<std::string>& live) {
  for (auto it = last_.begin(); it != last_.end();) {
    it = live.count(it->first) != 0 ? std::next(it) : last_.erase(it);
  }
}

} // namespace tide::runtime
