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

// How a counter reaches CloudWatch (the metrics publisher reads this, so a metric's name is
// written once, here):
//   Delta     the change since the previous second (a Sum per second);
//   Gauge     the value as it is (connections open now);
//   MeanSum   the sum half of an average: published as the change of this counter over the
//             change of the MeanCount counter that follows it, times the scale;
//   MeanCount the count half of the MeanSum before it (not published on its own);
//   Own       tide's own, not a CloudWatch metric.
enum class Publish { Delta, Gauge, MeanSum, MeanCount, Own };
// Which dimension sets a counter is published under:
//   LoadBalancer  per LoadBalancer only;
//   Traffic       per LoadBalancer, and per TargetGroup + LoadBalancer;
//   None          not published.
enum class PublishScope { LoadBalancer, Traffic, None };

// X(field, CloudWatch metric name, how it is published, where, scale, what it counts).
#define TIDE_BALANCER_METRICS(X)                                                                   \
  X(requestCount, "RequestCount", Delta, Traffic, 1, "requests received (per target: forwarded)")  \
  X(newConnectionCount, "NewConnectionCount", Delta, LoadBalancer, 1,                              \
    "client connections "                                                                          \
    "accepted")                                                                                    \
  X(activeConnectionCount, "ActiveConnectionCount", Gauge, LoadBalancer, 1,                        \
    "client connections open now (gauge)")                                                         \
  X(targetResponseTimeSumUs, "TargetResponseTime", MeanSum, Traffic, 1e-6,                         \
    "sum of request sent -> response head, us (published in seconds)")                             \
  X(targetResponseTimeCount, "TargetResponseTime", MeanCount, Traffic, 1,                          \
    "responses timed (SampleCount)")                                                               \
  X(httpCodeTarget2xx, "HTTPCode_Target_2XX_Count", Delta, Traffic, 1, "target responses 2xx")     \
  X(httpCodeTarget3xx, "HTTPCode_Target_3XX_Count", Delta, Traffic, 1, "target responses 3xx")     \
  X(httpCodeTarget4xx, "HTTPCode_Target_4XX_Count", Delta, Traffic, 1, "target responses 4xx")     \
  X(httpCodeTarget5xx, "HTTPCode_Target_5XX_Count", Delta, Traffic, 1, "target responses 5xx")     \
  X(httpCodeElb4xx, "HTTPCode_ELB_4XX_Count", Delta, LoadBalancer, 1,                              \
    "4xx answered by the balancer itself")                                                         \
  X(httpCodeElb5xx, "HTTPCode_ELB_5XX_Count", Delta, LoadBalancer, 1,                              \
    "5xx answered by the balancer itself")                                                         \
  X(httpCodeElb502, "HTTPCode_ELB_502_Count", Delta, LoadBalancer, 1,                              \
    "502: target failed or sent an invalid response")                                              \
  X(httpCodeElb503, "HTTPCode_ELB_503_Count", Delta, LoadBalancer, 1, "503: no target registered") \
  X(httpCodeElb504, "HTTPCode_ELB_504_Count", Delta, LoadBalancer, 1,                              \
    "504: target did not answer in time")                                                          \
  X(processedBytes, "ProcessedBytes", Delta, LoadBalancer, 1,                                      \
    "bytes from and to clients (heads, bodies, tunnels)")                                          \
  X(targetConnectionErrorCount, "TargetConnectionErrorCount", Delta, Traffic, 1,                   \
    "failed connects to targets")                                                                  \
  X(outstandingRequests, "OutstandingRequests", Own, None, 1,                                      \
    "requests sent, response not finished (gauge)")                                                \
  X(desyncNonCompliantRequestCount, "DesyncMitigationMode_NonCompliant_Request_Count", Delta,      \
    LoadBalancer, 1, "requests classified other than Compliant (desync.h)")                        \
  X(rejectedConnectionCount, "RejectedConnectionCount", Delta, LoadBalancer, 1,                    \
    "connections over the listener's bound")                                                       \
  X(clientTlsNegotiationErrorCount, "ClientTLSNegotiationErrorCount", Delta, LoadBalancer, 1,      \
    "HTTPS connections closed before their TLS handshake finished (failed or cut)")                \
  X(targetEjectionCount, "TargetEjectionCount", Own, None, 1,                                      \
    "passive health: target taken out (tide's own)")                                               \
  X(queuedRequestCount, "QueuedRequestCount", Own, None, 1,                                        \
    "overload: requests that waited in the queue for a target slot (tide's own)")                  \
  X(queueFullCount, "QueueFullCount", Own, None, 1,                                                \
    "overload: 503 at once, the queue was full (tide's own)")                                      \
  X(queueTimeoutCount, "QueueTimeoutCount", Own, None, 1,                                          \
    "overload: 503 after waiting tide.queue.timeout_ms (tide's own)")                              \
  X(queueAbandonedCount, "QueueAbandonedCount", Own, None, 1,                                      \
    "overload: queued requests whose client left, never forwarded (tide's own)")                   \
  X(targetBytesSent, "NetworkIn", Own, None, 1,                                                    \
    "bytes sent to the target (its instance's NetworkIn; metrics_publisher.h)")                    \
  X(targetBytesReceived, "NetworkOut", Own, None, 1,                                               \
    "bytes received from the target (its instance's NetworkOut)")

// Plain numbers, for the control plane.
struct TrafficCounters {
#define TIDE_X(field, name, how, where, scale, doc) uint64_t field = 0;
  TIDE_BALANCER_METRICS(TIDE_X)
#undef TIDE_X
};

// One row of TIDE_BALANCER_METRICS, for code that walks every counter (the metrics publisher).
struct CounterInfo {
  uint64_t TrafficCounters::*field;
  const char* name; // CloudWatch's metric name
  Publish how;
  PublishScope where;
  double scale; // multiplies the published value (microseconds to seconds)
};

inline constexpr CounterInfo kCounters[] = {
#define TIDE_X(field, name, how, where, scale, doc)                                                \
  {&TrafficCounters::field, name, Publish::how, PublishScope::where, scale},
    TIDE_BALANCER_METRICS(TIDE_X)
#undef TIDE_X
};

// Everything, indexed by slot (see snapshot.h). Vectors are as long as the highest slot in the
// current snapshot + 1; slots not in use read 0 (or what they counted before they were freed).
struct CountersSnapshot {
  std::vector<TrafficCounters> loadBalancers; // by LoadBalancer::slot
  std::vector<TrafficCounters> targetGroups;  // by TargetGroup::slot
  std::vector<TrafficCounters> targets;       // by Target::slot
  // By Target::slot: the target's response times, kResponseTimeBuckets counts
  // (response_time_histogram.h); empty while the target has had no response.
  std::vector<std::vector<uint64_t>> targetResponseTimes;
};

// One worker's cells for one resource. Written only by the owning worker.
struct TrafficCells {
#define TIDE_X(field, name, how, where, scale, doc) std::atomic<uint64_t> field{0};
  TIDE_BALANCER_METRICS(TIDE_X)
#undef TIDE_X

  // Adds this worker's values into `out` (any thread).
  void addTo(TrafficCounters& out) const {
#define TIDE_X(field, name, how, where, scale, doc)                                                \
  out.field += field.load(std::memory_order_relaxed);
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
