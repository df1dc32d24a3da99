// The instance types tide knows, under their AWS names, mapped to local quotas.
//
// AWS's vCPU and memory figures are kept for DescribeInstanceTypes; what an instance really
// gets on this machine is `cpuCores` of CPU time (a cgroup quota) and `memoryBytes` of memory,
// scaled down so that many small instances fit on a laptop. The table is documented in
// docs/instance-types.md; keep the two in step.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace tide::model {

struct InstanceType {
  std::string_view name; // "t3.micro"
  int awsVcpus;          // what AWS gives this type
  int awsMemoryMiB;      // what AWS gives this type
  double cpuCores;       // local CPU quota in cores
  int64_t memoryBytes;   // local memory limit
  int64_t pidsMax;       // local limit on processes and threads
};

// Every known type, in the documented order.
std::span<const InstanceType> instanceTypes();
// nullptr when the name is unknown.
const InstanceType* findInstanceType(std::string_view name);

} // namespace tide::model
