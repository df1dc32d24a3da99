// CPUUtilization as CloudWatch defines it for EC2: the CPU time an instance used over a period,
// as a percentage of what its instance type grants over that period (its cores × the period's
// length). The readings come from the instance's cgroup (Usage::cpuNanos) and the time from a
// Clock, so the arithmetic runs the same on injected readings and a virtual clock.
#pragma once

#include "common/clock.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace tide::runtime {

struct CpuReading {
  uint64_t cpuNanos = 0; // CPU time the instance's tree has used so far
  TimeMs at = 0;         // when it was read
};

// The percentage (0..100) of `cores` used between two readings: (after - before CPU time) over
// (cores × the time between them). More than the quota (the kernel lets a period overrun a
// little) counts as 100. nullopt when the readings make no rate: no time passed, the counter
// went back (a new process tree), or no quota (cores <= 0).
std::optional<double> cpuUtilization(const CpuReading& before, const CpuReading& after,
                                     double cores);

// The last reading of each instance, so that each new one yields the utilization of the period
// since. Not thread-safe: one sampler owns it.
class CpuMeter {
public:
  // Records the instance's reading; returns its utilization since the previous reading of the
  // same instance (nullopt for the first one, and as cpuUtilization says).
  std::optional<double> record(const std::string& instanceId, const CpuReading& reading,
                               double cores);
  // Forgets the instance (its process tree ended or is replaced: the next reading starts anew).
  void forget(const std::string& instanceId) { last_.erase(instanceId); }
  // Forgets every instance not in `live` (ended ones: a later start begins a new series).
  void retain(const std::set<std::string>& live);

private:
  std::map<std::string, CpuReading> last_; // by instance id
};

} // namespace tide::runtime
