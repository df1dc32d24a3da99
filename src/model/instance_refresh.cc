#include "model/instance_refresh.h"

#include <array>

namespace tide::model {

namespace {

// Indexed by the enums' values.
constexpr std::array<std::string_view, 10> kStatuses = {"Pending",
                                                        "InProgress",
                                                        "Successful",
                                                        "Failed",
                                                        "Cancelling",
                                                        "Cancelled",
                                                        "RollbackInProgress",
                                                        "RollbackFailed",
                                                        "RollbackSuccessful",
                                                        "Baking"};
constexpr std::array<std::string_view, 3> kProtected = {"Ignore", "Refresh", "Wait"};
constexpr std::array<std::string_view, 3> kStandby = {"Ignore", "Terminate", "Wait"};

template <typename E, size_t N>
std::optional<E> byName(std::string_view s, const std::array<std::string_view, N>& names) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) {
      return static_cast<E>(i);
    }
  }
  return std::nullopt;
}

} // namespace

std::string_view instanceRefreshStatusName(InstanceRefreshStatus s) {
  return kStatuses[static_cast<size_t>(s)];
}
std::optional<InstanceRefreshStatus> parseInstanceRefreshStatus(std::string_view s) {
  return byName<InstanceRefreshStatus>(s, kStatuses);
}
std::string_view scaleInProtectedInstancesName(ScaleInProtectedInstances v) {
  return kProtected[static_cast<size_t>(v)];
}
std::optional<ScaleInProtectedInstances> parseScaleInProtectedInstances(std::string_view s) {
  return byName<ScaleInProtectedInstances>(s, kProtected);
}
std::string_view standbyInstancesName(StandbyInstances v) {
  return kStandby[static_cast<size_t>(v)];
}
std::optional<StandbyInstances> parseStandbyInstances(std::string_view s) {
  return byName<StandbyInstances>(s, kStandby);
}

} // namespace tide::model
