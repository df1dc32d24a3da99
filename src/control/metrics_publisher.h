// The metrics publisher: once a second, turns what tide observes into CloudWatch series in the
// metric store, under CloudWatch's namespaces, names and dimensions:
//   AWS/EC2 CPUUtilization (Percent of what the instance type grants) per InstanceId, and per
//     AutoScalingGroupName, InstanceType and ImageId (each instance's value counts once, so
//     Average over a group is the average of its instances; an instance still warming up
//     (operations/target_tracking.h) is left out of its group's);
//   AWS/EC2 NetworkIn and NetworkOut (Bytes in the second) per InstanceId and per
//     AutoScalingGroupName (warming instances left out): the bytes the balancer sent to and
//     received from the instance's targets, since cgroups do not count network bytes;
//   AWS/ApplicationELB per LoadBalancer ("app/NAME/ID"), and per TargetGroup + LoadBalancer:
//     every balancer counter, under the name, scope and kind its row of TIDE_BALANCER_METRICS
//     (balancer/counters.h) gives (RequestCount, HTTPCode_Target_2XX..5XX_Count,
//     HTTPCode_ELB_*, ...; TargetResponseTime in seconds as the second's distribution: the
//     balancer's per-target histograms (balancer/response_time_histogram.h) summed per target
//     group and load balancer and put as Values and Counts, with the exact Sum, so
//     ExtendedStatistics p50..p99.9 come from every response); per target
//     group HealthyHostCount, UnHealthyHostCount and RequestCountPerTarget;
//   Tide/ApplicationELB (tide's own, no ALB metric says it) OutstandingRequestCount per
//     TargetGroup + LoadBalancer and OutstandingRequestCountPerTarget per TargetGroup: requests
//     sent to the group's targets whose response has not finished, at the sample's moment.
// CPU comes straight from the instance controller's readings of the second (in memory; the
// store holds no readings). Counters are read from the balancer (summed over its workers) and
// published as the change since the previous second; health counts come from the targets'
// states in the store. Each sample is stamped half a second before it is taken (the middle of
// the second it covers). Not thread-safe: runs on the control thread.
#pragma once

#include "balancer/counters.h"
#include "common/clock.h"
#include "control/instance_reading.h"
#include "control/publisher.h"
#include "metrics/series.h"
#include "store/store.h"

#include <functional>
#include <map>

namespace tide::control {

// How far before the moment a sample is taken it is stamped (the middle of the second it covers).
inline constexpr Millis kSampleStampOffset{500};
// The namespace of the balancer metrics that are tide's own.
inline constexpr const char* kTideElbNamespace = "Tide/ApplicationELB";

// The target response times of one target group since tide started (for /metrics).
struct ResponseTimeTotal {
  std::string loadBalancer;     // its LoadBalancer dimension value; empty without a listener
  std::vector<uint64_t> counts; // balancer/response_time_histogram.h buckets
  double sumSeconds = 0;        // exact (the balancer's microsecond sums)
};

class MetricsPublisher {
public:
  using CounterSource = std::function<balancer::CountersSnapshot()>;

  MetricsPublisher(store::Store& store, metrics::MetricStore& metrics, const Clock& clock,
                   const Publisher& publisher, CounterSource counters)
      : store_(store), metrics_(metrics), clock_(clock), publisher_(publisher),
        counters_(std::move(counters)) {}

  // Publishes one second of metrics: the instances' readings of this second (those with a
  // CPUUtilization yet) and the balancer's counters. Reads the store, never writes it.
  Status sample(const std::vector<InstanceReading>& instances);

  // By TargetGroup dimension value ("targetgroup/NAME/ID"): response times since the first
  // sample, for the target groups published now. Control thread only, like sample().
  const std::map<std::string, ResponseTimeTotal>& responseTimeTotals() const {
    return responseTimeTotals_;
  }

private:
  store::Store& store_;
  metrics::MetricStore& metrics_;
  const Clock& clock_;
  const Publisher& publisher_;
  CounterSource counters_;
  balancer::CountersSnapshot previous_; // the counters at the last sample
  bool havePrevious_ = false;
  std::map<std::string, ResponseTimeTotal> responseTimeTotals_;
};

// "arn:...:loadbalancer/app/NAME/ID" → "app/NAME/ID"; "arn:...:targetgroup/NAME/ID" →
// "targetgroup/NAME/ID" (CloudWatch's dimension values for ELBv2).
std::string elbDimensionValue(const std::string& arn);

} // namespace tide::control
