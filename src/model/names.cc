#include "model/names.h"

#include <array>

namespace tide::model {

namespace {
template <typename E, size_t N>
std::optional<E> parseByName(std::string_view s, const std::array<std::string_view, N>& names) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) {
      return static_cast<E>(i);
    }
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 3> kImageStates = {"pending", "available", "failed"};
constexpr std::array<std::string_view, 6> kInstanceStates = {
    "pending", "running", "shutting-down", "terminated", "stopping", "stopped"};
constexpr std::array<std::string_view, 3> kGoals = {"run", "stop", "terminate"};
constexpr std::array<std::string_view, 5> kTargetStates = {"initial", "healthy", "unhealthy",
                                                           "unused", "draining"};
} // namespace

std::string_view imageStateName(ImageState s) {
  return kImageStates[static_cast<size_t>(s)];
}
std::optional<ImageState> parseImageState(std::string_view s) {
  return parseByName<ImageState>(s, kImageStates);
}

std::string_view instanceStateName(InstanceState s) {
  return kInstanceStates[static_cast<size_t>(s)];
}
int instanceStateCode(InstanceState s) {
  return static_cast<int>(s) * 16;
}
std::optional<InstanceState> parseInstanceState(std::string_view s) {
  return parseByName<InstanceState>(s, kInstanceStates);
}

std::string_view instanceGoalName(InstanceGoal g) {
  return kGoals[static_cast<size_t>(g)];
}
std::optional<InstanceGoal> parseInstanceGoal(std::string_view s) {
  return parseByName<InstanceGoal>(s, kGoals);
}

std::string_view targetHealthStateName(TargetHealthState s) {
  return kTargetStates[static_cast<size_t>(s)];
}
std::optional<TargetHealthState> parseTargetHealthState(std::string_view s) {
  return parseByName<TargetHealthState>(s, kTargetStates);
}

} // namespace tide::model
