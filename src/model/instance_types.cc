#include "model/instance_types.h"

#include <array>

namespace tide::model {

namespace {
constexpr int64_t kMiB = 1024 * 1024;

// Local quotas: an eighth of a core for the smallest burstable type up to four cores, with
// memory at a sixteenth of AWS's (never under 64 MiB). Registered by name: adding a type is
// adding a row.
constexpr std::array<InstanceType, 16> kTypes = {{
    {"t3.nano", 2, 512, 0.125, 64 * kMiB, 128},
    {"t3.micro", 2, 1024, 0.25, 64 * kMiB, 256},
    {"t3.small", 2, 2048, 0.5, 128 * kMiB, 256},
    {"t3.medium", 2, 4096, 1.0, 256 * kMiB, 512},
    {"t3.large", 2, 8192, 2.0, 512 * kMiB, 1024},
    {"t2.micro", 1, 1024, 0.25, 64 * kMiB, 256},
    {"t2.small", 1, 2048, 0.5, 128 * kMiB, 256},
    {"t2.medium", 2, 4096, 1.0, 256 * kMiB, 512},
    {"c5.large", 2, 4096, 1.0, 256 * kMiB, 512},
    {"c5.xlarge", 4, 8192, 2.0, 512 * kMiB, 1024},
    {"c5.2xlarge", 8, 16384, 4.0, 1024 * kMiB, 2048},
    {"m5.large", 2, 8192, 1.0, 512 * kMiB, 512},
    {"m5.xlarge", 4, 16384, 2.0, 1024 * kMiB, 1024},
    {"m5.2xlarge", 8, 32768, 4.0, 2048 * kMiB, 2048},
    {"r5.large", 2, 16384, 1.0, 1024 * kMiB, 512},
    {"r5.xlarge", 4, 32768, 2.0, 2048 * kMiB, 1024},
}};
} // namespace

std::span<const InstanceType> instanceTypes() {
  return kTypes;
}

const InstanceType* findInstanceType(std::string_view name) {
  for (const InstanceType& t : kTypes) {
    if (t.name == name) {
      return &t;
    }
  }
  return nullptr;
}

} // namespace tide::model
