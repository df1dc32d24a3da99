// One running instance's reading of one second, as the instance controller takes it and the
// metrics publisher puts it into the metric store. Observations only: never stored.
#pragma once

#include "common/clock.h"
#include "model/types.h"

#include <string>

namespace tide::control {

struct InstanceReading {
  std::string instanceId;
  std::string instanceType;         // the CloudWatch dimensions the reading is published under
  std::string imageId;              //
  std::string autoScalingGroupName; // empty when launched by hand
  model::InstanceUsage usage;       // cpuUtilization is -1 until two samples give a rate
  TimeMs launchTime = 0;            // warm-up counts from it
};

} // namespace tide::control
