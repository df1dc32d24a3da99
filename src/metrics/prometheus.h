// The Prometheus exposition of tide's metrics (GET /metrics): text format 0.0.4, or OpenMetrics
// 1.0.0 when the scraper asks for it. Pure formatting: the server gathers what to show
// (server/metrics_endpoint.cc) and this file names and writes it.
//
// CloudWatch series become gauges holding their latest complete second:
//   name   tide_ + snake_case(namespace) + _ + snake_case(metric name) + a unit suffix:
//          "AWS/ApplicationELB" "TargetResponseTime" (Seconds) →
//          tide_aws_application_elb_target_response_time_seconds; Seconds, Milliseconds and
//          Microseconds become _seconds, Bytes and their multiples _bytes (values converted),
//          Percent _percent, a rate unit adds _per_second. A name that would end in a suffix
//          Prometheus keeps for histograms and counters (_count, _sum, _bucket, _total) gets
//          _value after it: RequestCount → tide_aws_application_elb_request_count_value.
//   labels the dimensions, snake_case, with the usual names for AWS's (AutoScalingGroupName →
//          auto_scaling_group, InstanceId → instance_id, LoadBalancer → load_balancer,
//          TargetGroup → target_group).
//   value  the second's Sum for units that add up (Count, Bytes, None), its Average otherwise.
// Thread-safe (no state).
#pragma once

#include "metrics/series.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tide::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>; // {name, value}

struct GaugeSample {
  Labels labels;
  double value = 0;
};
struct GaugeFamily {
  std::string name; // a valid metric name
  std::string help;
  std::vector<GaugeSample> samples;
};

// One histogram series, cumulative since tide started.
struct HistogramSample {
  Labels labels;
  std::vector<double> bounds;   // upper bounds (le), ascending, finite
  std::vector<uint64_t> counts; // per bound: values above the previous bound, at most this one
  uint64_t overflow = 0;        // values above the last bound
  double sum = 0;
};
struct HistogramFamily {
  std::string name; // without _bucket/_sum/_count
  std::string help;
  std::vector<HistogramSample> samples;
};

struct Exposition {
  std::vector<GaugeFamily> gauges;
  std::vector<HistogramFamily> histograms;
};

enum class ExpositionFormat {
  Text,        // text/plain; version=0.0.4
  OpenMetrics, // application/openmetrics-text; version=1.0.0 (ends with "# EOF")
};

// OpenMetrics when the Accept header names application/openmetrics-text, else Text.
ExpositionFormat negotiateExposition(std::string_view accept);
std::string_view expositionContentType(ExpositionFormat format);

// "HTTPCode_Target_2XX_Count" → "http_code_target_2xx_count"; "AWS/EC2" → "aws_ec2".
std::string snakeCase(std::string_view name);
// The gauge name of a CloudWatch metric (see above).
std::string prometheusName(std::string_view namespace_, std::string_view metricName,
                           std::string_view unit);
// The label name of a CloudWatch dimension (see above).
std::string prometheusLabel(std::string_view dimensionName);

// Gauge families for the latest seconds of CloudWatch series, sorted by name; series that map
// to a name and labels already taken are left out.
std::vector<GaugeFamily> cloudWatchGauges(const std::vector<LatestValue>& latest);

// The exposition, every family with its HELP and TYPE, label values escaped.
std::string renderExposition(const Exposition& exposition, ExpositionFormat format);

} // namespace tide::metrics
