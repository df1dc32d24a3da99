// Traffic counters, named as CloudWatch names the ApplicationELB metrics.
//
// Each worker owns its cells and is their only writer (plain relaxed load + store, no locked
// instruction on the request path); Balancer::counters() sums the workers' cells with relaxed
// loads when the control plane reads them (once a second), so readers never slow the workers.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace tide::balancer {

// X(field, CloudWatch metric name, what it counts).
#define TIDE_BALANCER_METRICS(X)                                                                   \
  X(requestCount, "RequestCount", "requests received (per target: forwarded to it)")               \
  X(newConnectionCount, "NewConnectionCount", "client connections accepted")                       \
  X(activeConnectionCount, "ActiveConnectionCount", "client connections open now (gauge)")         \
  X(targetResponseTimeSumUs, "TargetResponseTime", "sum of request sent -> response head, us")     \
  X(targetResponseTimeCount, "TargetResponseTime", "responses timed (SampleCount)")                \
  X(httpCodeTarget2xx, "HTTPCode_Target_2XX_Count", "target responses 2xx")                        \
  X(httpCodeTarget3xx, "HTTPCode_Target_3XX_Count", "target responses 3xx")                        \
  X(httpCodeTarget4xx, "HTTPCode_Target_4XX_Count", "target responses 4xx")                        \
  X(httpCodeTarget5xx, "HTTPCode_Target_5XX_Count", "target responses 5xx")                        \
  X(httpCodeElb4xx, "HTTPCode_ELB_4XX_Count", "4xx answered by the balancer itself")               \
  X(httpCodeElb5xx, "HTTPCode_ELB_5XX_Count", "5xx answered by the balancer itself")               \
  X(httpCodeElb502, "HTTPCode_ELB_502_Count", "502: target failed or sent an invalid response")    \
  X(httpCodeElb503, "HTTPCode_ELB_503_Count", "503: no target registered")                         \
  X(httpCodeElb504, "HTTPCode_ELB_504_Count", "504: target did not answer in time")                \
  X(targetConnectionErrorCount, "TargetConnectionErrorCount", "failed connects to targets")        \
  X(outstandingRequests, "OutstandingRequests", "requests sent, response not finished (gauge)")    \
  X(desyncNonCompliantRequestCount, "DesyncMitigationMode_NonCompliant_Request_Count",             \
    "requests classified other than Compliant (desync.h)")                                         \
  X(rejectedConnectionCount, "RejectedConnectionCount", "connections over the listener's bound")   \
  X(targetEjectionCount, "TargetEjectionCount", "passive health: target taken out (tide's own)")

// Plain numbers, for the control plane.
struct TrafficCounters {
#define TIDE_X(field, name, doc) uint64_t field = 0;
  TIDE_BALANCER_METRICS(TIDE_X)
#undef TIDE_X
};

// Everything, indexed by slot (see snapshot.h). Vectors are as long as the highest slot in the
// current snapshot + 1; slots not in use read 0 (or what they counted before they were freed).
struct CountersSnapshot {
  std::vector<TrafficCounters> loadBalancers; // by LoadBalancer::slot
  std::vector<TrafficCounters> targetGroups;  // by TargetGroup::slot
  std::vector<TrafficCounters> targets;       // by Target::slot
};

// One worker's cells for one resource. Written only by the owning worker.
struct TrafficCells {
#define TIDE_X(field, name, doc) std::atomic<uint64_t> field{0};
  TIDE_BALANCER_METRICS(TIDE_X)
#undef TIDE_X

  // Adds this worker's values into `out` (any thread).
  void addTo(TrafficCounters& out) const {
#define TIDE_X(field, name, doc) out.field += field.load(std::memory_order_relaxed);
    TIDE_BALANCER_METRICS(TIDE_X)
#undef TIDE_X
  }
};

// Owner-only increment: no read-modify-write instruction, readers see a torn-free value.
inline void bump(std::atomic<uint64_t>& cell, uint64_t by = 1) {
  cell.store(cell.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}
inline void drop(std::atomic<uint64_t>& cell) {
  cell.store(cell.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

} // namespace tide::balancer
