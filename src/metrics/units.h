// Units of the metrics tide publishes, as CloudWatch reports them (the `Unit` of a datapoint),
// and the set of CloudWatch's standard unit names. Type-only and table-only: no state.
#pragma once

#include <string_view>

namespace tide::metrics {

// The unit of a metric tide publishes, looked up by namespace and name in one table
// ("AWS/EC2" CPUUtilization → "Percent", "AWS/ApplicationELB" RequestCount → "Count",
// TargetResponseTime → "Seconds", ...). "None" for any metric not in the table.
std::string_view unitFor(std::string_view namespace_, std::string_view metricName);

// Whether `unit` is one of CloudWatch's StandardUnit values ("Seconds", "Bytes/Second",
// "Percent", "Count", "None", ...). Case-sensitive, as CloudWatch is.
bool isStandardUnit(std::string_view unit);

} // namespace tide::metrics
