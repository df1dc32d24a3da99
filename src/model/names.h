// The AWS wire names of model enums, and their parsing.
#pragma once

#include "model/elb.h"
#include "model/types.h"

#include <optional>
#include <string_view>

namespace tide::model {

std::string_view imageStateName(ImageState s); // "pending", "available", "failed"
std::optional<ImageState> parseImageState(std::string_view s);

std::string_view instanceStateName(InstanceState s); // "pending", "running", ...
int instanceStateCode(InstanceState s);              // 0, 16, 32, 48, 64, 80
std::optional<InstanceState> parseInstanceState(std::string_view s);

std::string_view instanceGoalName(InstanceGoal g); // "run", "stop", "terminate"
std::optional<InstanceGoal> parseInstanceGoal(std::string_view s);

std::string_view targetHealthStateName(TargetHealthState s); // "initial", "healthy", ...
std::optional<TargetHealthState> parseTargetHealthState(std::string_view s);

} // namespace tide::model
