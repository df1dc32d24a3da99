#include "metrics/units.h"

#include <algorithm>
#include <array>

namespace tide::metrics {
namespace {

struct KnownMetric {
  std::string_view namespace_;
  std::string_view metricName;
  std::string_view unit;
};

// The metrics tide publishes or may publish, with CloudWatch's units. Adding one is adding a row.
// Auto Scaling group metrics (GroupDesiredCapacity, ...) are not listed: CloudWatch reports
// them with Unit "None", which is the default.
constexpr std::array kKnownMetrics{
    // Instances (cgroup accounting on the local provider).
    KnownMetric{"AWS/EC2", "CPUUtilization", "Percent"},
    KnownMetric{"AWS/EC2", "NetworkIn", "Bytes"},
    KnownMetric{"AWS/EC2", "NetworkOut", "Bytes"},
    KnownMetric{"AWS/EC2", "NetworkPacketsIn", "Count"},
    KnownMetric{"AWS/EC2", "NetworkPacketsOut", "Count"},
    KnownMetric{"AWS/EC2", "DiskReadBytes", "Bytes"},
    KnownMetric{"AWS/EC2", "DiskWriteBytes", "Bytes"},
    KnownMetric{"AWS/EC2", "DiskReadOps", "Count"},
    KnownMetric{"AWS/EC2", "DiskWriteOps", "Count"},
    KnownMetric{"AWS/EC2", "StatusCheckFailed", "Count"},
    KnownMetric{"AWS/EC2", "StatusCheckFailed_Instance", "Count"},
    KnownMetric{"AWS/EC2", "StatusCheckFailed_System", "Count"},
    // The load balancer (the balancer's per-target counters, summed).
    KnownMetric{"AWS/ApplicationELB", "RequestCount", "Count"},
    KnownMetric{"AWS/ApplicationELB", "RequestCountPerTarget", "Count"},
    KnownMetric{"AWS/ApplicationELB", "TargetResponseTime", "Seconds"},
    KnownMetric{"AWS/ApplicationELB", "ActiveConnectionCount", "Count"},
    KnownMetric{"AWS/ApplicationELB", "NewConnectionCount", "Count"},
    KnownMetric{"AWS/ApplicationELB", "RejectedConnectionCount", "Count"},
    KnownMetric{"AWS/ApplicationELB", "ClientTLSNegotiationErrorCount", "Count"},
    KnownMetric{"AWS/ApplicationELB", "ProcessedBytes", "Bytes"},
    KnownMetric{"AWS/ApplicationELB", "HealthyHostCount", "Count"},
    KnownMetric{"AWS/ApplicationELB", "UnHealthyHostCount", "Count"},
    KnownMetric{"AWS/ApplicationELB", "TargetConnectionErrorCount", "Count"},
    KnownMetric{"AWS/ApplicationELB", "HTTPCode_Target_2XX_Count", "Count"},
    KnownMetric{"AWS/ApplicationELB", "HTTPCode_Target_3XX_Count", "Count"},
    KnownMetric{"AWS/ApplicationELB", "HTTPCode_Target_4XX_Count", "Count"},
    KnownMetric{"AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Count"},
    KnownMetric{"AWS/ApplicationELB", "HTTPCode_ELB_3XX_Count", "Count"},
    KnownMetric{"AWS/ApplicationELB", "HTTPCode_ELB_4XX_Count", "Count"},
    KnownMetric{"AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Count"},
    KnownMetric{"AWS/ApplicationELB", "HTTPCode_ELB_502_Count", "Count"},
    KnownMetric{"AWS/ApplicationELB", "HTTPCode_ELB_503_Count", "Count"},
    KnownMetric{"AWS/ApplicationELB", "HTTPCode_ELB_504_Count", "Count"},
};

constexpr std::array<std::string_view, 27> kStandardUnits{
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
};

} // namespace

std::string_view unitFor(std::string_view namespace_, std::string_view metricName) {
  for (const KnownMetric& m : kKnownMetrics) {
    if (m.namespace_ == namespace_ && m.metricName == metricName) {
      return m.unit;
    }
  }
  return "None";
}

bool isStandardUnit(std::string_view unit) {
  return std::find(kStandardUnits.begin(), kStandardUnits.end(), unit) != kStandardUnits.end();
}

} // namespace tide::metrics
