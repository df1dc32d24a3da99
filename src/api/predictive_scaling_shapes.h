// A predictive scaling policy's PredictiveScalingConfiguration in the Auto Scaling API's shapes
// (PutScalingPolicy's request, DescribePolicies' and GetPredictiveScalingForecast's answers).
// The semantics: operations/predictive_scaling.h.
#pragma once

#include "api/action.h"
#include "model/auto_scaling.h"

#include <optional>

namespace tide::api {

// PredictiveScalingConfiguration of a PutScalingPolicy request; nullopt when absent. Errors:
// ValidationError naming the member (unknown members, wrong types, values outside Mode's and
// MaxCapacityBreachBehavior's enums); validatePredictiveScaling checks the rest.
Result<std::optional<model::PredictiveScalingConfiguration>> parsePredictiveScaling(const Json& p);

Json predictiveScalingJson(const model::PredictiveScalingConfiguration& c);

// One PredictiveScalingMetricSpecification as AWS shows it.
Json predictiveMetricSpecificationJson(const model::PredictiveScalingMetricSpecification& s);

} // namespace tide::api
