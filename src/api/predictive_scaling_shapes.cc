#include "api/predictive_scaling_shapes.h"

#include "api/params.h"
#include "api/target_tracking_shapes.h"

namespace tide::api {

namespace {

const char* const kAt = "PredictiveScalingConfiguration";

Status notObject(const std::string& where) {
  return validationError(where + " must be a structure");
}

// {PredefinedMetricType, ResourceLabel} at member `name` of s; nothing when absent.
Status readPredefined(const Json& s, const char* name, const std::string& where, std::string& type,
                      std::string& label) {
  auto it = s.find(name);
  if (it == s.end() || it->is_null()) {
    return Status::ok();
  }
  if (!it->is_object()) {
    return notObject(where + "." + name);
  }
  TIDE_RETURN_IF_ERROR(checkKnownParams(*it, {"PredefinedMetricType", "ResourceLabel"}));
  auto t = reqString(*it, "PredefinedMetricType");
  auto l = optString(*it, "ResourceLabel");
  TIDE_RETURN_IF_ERROR(firstError({&t.status(), &l.status()}));
  type = *t;
  label = l->value_or("");
  if (l->has_value() && (label.empty() || label.size() > 1023)) {
    return validationError(where + "." + name + ".ResourceLabel must be 1 to 1023 characters");
  }
  return Status::ok();
}

// {MetricDataQueries: [...]} at member `name` of s; nothing when absent.
Status readCustomized(const Json& s, const char* name, const std::string& where,
                      std::vector<model::MetricDataQuery>& out) {
  auto it = s.find(name);
  if (it == s.end() || it->is_null()) {
    return Status::ok();
  }
  const std::string at = where + "." + name;
  if (!it->is_object()) {
    return notObject(at);
  }
  TIDE_RETURN_IF_ERROR(checkKnownParams(*it, {"MetricDataQueries"}));
  auto q = it->find("MetricDataQueries");
  if (q == it->end() || !q->is_array() || q->empty()) {
    return validationError(at + ".MetricDataQueries is required: a list of at least one query");
  }
  for (size_t i = 0; i < q->size(); ++i) {
    const std::string qAt = at + ".MetricDataQueries.member." + std::to_string(i + 1);
    TIDE_ASSIGN_OR_RETURN(auto query, readMetricDataQuery((*q)[i], qAt));
    if (query.period) { // predictive scaling's MetricStat has no Period (target tracking's has)
      return validationError(qAt + ".MetricStat: Period is not a member of a predictive scaling "
                                   "metric");
    }
    out.push_back(std::move(query));
  }
  return Status::ok();
}

Result<model::PredictiveScalingMetricSpecification> readSpecification(const Json& s,
                                                                      const std::string& where) {
  if (!s.is_object()) {
    return notObject(where);
  }
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      s,
      {"TargetValue", "PredefinedMetricPairSpecification", "PredefinedScalingMetricSpecification",
       "PredefinedLoadMetricSpecification", "CustomizedScalingMetricSpecification",
       "CustomizedLoadMetricSpecification", "CustomizedCapacityMetricSpecification"}));
  model::PredictiveScalingMetricSpecification out;
  TIDE_ASSIGN_OR_RETURN(auto target, optNumber(s, "TargetValue"));
  if (!target) {
    return validationError(where + ".TargetValue is required");
  }
  out.targetValue = *target;
  TIDE_RETURN_IF_ERROR(
      readPredefined(s, "PredefinedMetricPairSpecification", where, out.pairType, out.pairLabel));
  TIDE_RETURN_IF_ERROR(readPredefined(s, "PredefinedScalingMetricSpecification", where,
                                      out.scalingType, out.scalingLabel));
  TIDE_RETURN_IF_ERROR(
      readPredefined(s, "PredefinedLoadMetricSpecification", where, out.loadType, out.loadLabel));
  TIDE_RETURN_IF_ERROR(
      readCustomized(s, "CustomizedScalingMetricSpecification", where, out.customizedScaling));
  TIDE_RETURN_IF_ERROR(
      readCustomized(s, "CustomizedLoadMetricSpecification", where, out.customizedLoad));
  TIDE_RETURN_IF_ERROR(
      readCustomized(s, "CustomizedCapacityMetricSpecification", where, out.customizedCapacity));
  return out;
}

Json predefinedJson(const std::string& type, const std::string& label) {
  Json j = {{"PredefinedMetricType", type}};
  if (!label.empty()) {
    j["ResourceLabel"] = label;
  }
  return j;
}

} // namespace

Result<std::optional<model::PredictiveScalingConfiguration>> parsePredictiveScaling(const Json& p) {
  auto it = p.find(kAt);
  if (it == p.end() || it->is_null()) {
    return std::optional<model::PredictiveScalingConfiguration>();
  }
  const Json& c = *it;
  if (!c.is_object()) {
    return notObject(kAt);
  }
  TIDE_RETURN_IF_ERROR(checkKnownParams(c, {"MetricSpecifications", "Mode", "SchedulingBufferTime",
                                            "MaxCapacityBreachBehavior", "MaxCapacityBuffer"}));
  model::PredictiveScalingConfiguration out;
  auto specs = c.find("MetricSpecifications");
  if (specs == c.end() || specs->is_null()) {
    return validationError(std::string(kAt) + ".MetricSpecifications is required");
  }
  if (!specs->is_array()) {
    return validationError(std::string(kAt) + ".MetricSpecifications must be a list");
  }
  for (size_t i = 0; i < specs->size(); ++i) {
    TIDE_ASSIGN_OR_RETURN(
        auto s, readSpecification((*specs)[i], std::string(kAt) + ".MetricSpecifications.member." +
                                                   std::to_string(i + 1)));
    out.metricSpecifications.push_back(std::move(s));
  }
  auto mode = optString(c, "Mode");
  auto buffer = optInt(c, "SchedulingBufferTime");
  auto breach = optString(c, "MaxCapacityBreachBehavior");
  auto maxBuffer = optInt(c, "MaxCapacityBuffer");
  TIDE_RETURN_IF_ERROR(
      firstError({&mode.status(), &buffer.status(), &breach.status(), &maxBuffer.status()}));
  std::string m = mode->value_or("ForecastOnly");
  if (m != "ForecastOnly" && m != "ForecastAndScale") {
    return validationError("Value '" + m + "' at '" + kAt +
                           ".Mode' failed to satisfy constraint: Member must satisfy enum value "
                           "set: [ForecastAndScale, ForecastOnly]");
  }
  out.forecastAndScale = m == "ForecastAndScale";
  std::string b = breach->value_or("HonorMaxCapacity");
  if (b != "HonorMaxCapacity" && b != "IncreaseMaxCapacity") {
    return validationError("Value '" + b + "' at '" + kAt +
                           ".MaxCapacityBreachBehavior' failed to satisfy constraint: Member must "
                           "satisfy enum value set: [HonorMaxCapacity, IncreaseMaxCapacity]");
  }
  out.increaseMaxCapacity = b == "IncreaseMaxCapacity";
  if (buffer->has_value()) {
    if (**buffer < 0 || **buffer > 3600) {
      return validationError(std::string(kAt) +
                             ".SchedulingBufferTime must be between 0 and 3600 seconds, not " +
                             std::to_string(**buffer));
    }
    out.schedulingBufferTime = static_cast<int>(**buffer);
  }
  if (maxBuffer->has_value()) {
    if (**maxBuffer < 0 || **maxBuffer > 100) {
      return validationError(std::string(kAt) +
                             ".MaxCapacityBuffer must be between 0 and 100, "
                             "not " +
                             std::to_string(**maxBuffer));
    }
    out.maxCapacityBuffer = static_cast<int>(**maxBuffer);
  }
  return std::optional<model::PredictiveScalingConfiguration>(std::move(out));
}

Json predictiveMetricSpecificationJson(const model::PredictiveScalingMetricSpecification& s) {
  Json j = {{"TargetValue", s.targetValue}};
  if (!s.pairType.empty()) {
    j["PredefinedMetricPairSpecification"] = predefinedJson(s.pairType, s.pairLabel);
  }
  if (!s.scalingType.empty()) {
    j["PredefinedScalingMetricSpecification"] = predefinedJson(s.scalingType, s.scalingLabel);
  }
  if (!s.loadType.empty()) {
    j["PredefinedLoadMetricSpecification"] = predefinedJson(s.loadType, s.loadLabel);
  }
  if (!s.customizedScaling.empty()) {
    j["CustomizedScalingMetricSpecification"] = {
        {"MetricDataQueries", metricDataQueriesJson(s.customizedScaling)}};
  }
  if (!s.customizedLoad.empty()) {
    j["CustomizedLoadMetricSpecification"] = {
        {"MetricDataQueries", metricDataQueriesJson(s.customizedLoad)}};
  }
  if (!s.customizedCapacity.empty()) {
    j["CustomizedCapacityMetricSpecification"] = {
        {"MetricDataQueries", metricDataQueriesJson(s.customizedCapacity)}};
  }
  return j;
}

Json predictiveScalingJson(const model::PredictiveScalingConfiguration& c) {
  Json specs = Json::array();
  for (const auto& s : c.metricSpecifications) {
    specs.push_back(predictiveMetricSpecificationJson(s));
  }
  Json j = {{"MetricSpecifications", specs},
            {"Mode", c.forecastAndScale ? "ForecastAndScale" : "ForecastOnly"},
            {"SchedulingBufferTime", c.schedulingBufferTime},
            {"MaxCapacityBreachBehavior",
             c.increaseMaxCapacity ? "IncreaseMaxCapacity" : "HonorMaxCapacity"}};
  if (c.maxCapacityBuffer) {
    j["MaxCapacityBuffer"] = *c.maxCapacityBuffer;
  }
  return j;
}

} // namespace tide::api
