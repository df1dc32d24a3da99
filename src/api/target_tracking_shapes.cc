#include "api/target_tracking_shapes.h"

#include "api/params.h"

namespace tide::api {

namespace {

const char* const kAt = "TargetTrackingConfiguration";

Status notObject(const std::string& where) {
  return validationError(where + " must be a structure");
}

Result<std::vector<model::Dimension>> readDimensions(const Json& p, const std::string& where) {
  std::vector<model::Dimension> out;
  auto it = p.find("Dimensions");
  if (it == p.end() || it->is_null()) {
    return out;
  }
  if (!it->is_array()) {
    return validationError(where + ".Dimensions must be a list of {Name, Value}");
  }
  for (const Json& d : *it) {
    if (!d.is_object()) {
      return validationError(where + ".Dimensions must be a list of {Name, Value}");
    }
    TIDE_RETURN_IF_ERROR(checkKnownParams(d, {"Name", "Value"}));
    auto name = reqString(d, "Name");
    auto value = reqString(d, "Value");
    TIDE_RETURN_IF_ERROR(firstError({&name.status(), &value.status()}));
    out.push_back({*name, *value});
  }
  return out;
}

Result<std::optional<int>> readPeriod(const Json& p) {
  TIDE_ASSIGN_OR_RETURN(auto v, optInt(p, "Period"));
  if (!v) {
    return std::optional<int>();
  }
  if (*v < 1 || *v > 86400) {
    return validationError("Period must be 10, 30 or 60 seconds (or 1 in tide)");
  }
  return std::optional<int>(static_cast<int>(*v));
}

Result<model::MetricDataQuery> readQuery(const Json& q, const std::string& where) {
  if (!q.is_object()) {
    return notObject(where);
  }
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(q, {"Id", "Expression", "MetricStat", "Label", "ReturnData", "Period"}));
  model::MetricDataQuery out;
  auto id = reqString(q, "Id");
  auto expression = optString(q, "Expression");
  auto label = optString(q, "Label");
  auto returnData = optBool(q, "ReturnData");
  TIDE_RETURN_IF_ERROR(
      firstError({&id.status(), &expression.status(), &label.status(), &returnData.status()}));
  out.id = *id;
  out.expression = expression->value_or("");
  out.label = label->value_or("");
  out.returnData = returnData->value_or(true);
  if (auto ms = q.find("MetricStat"); ms != q.end() && !ms->is_null()) {
    if (!ms->is_object()) {
      return notObject(where + ".MetricStat");
    }
    TIDE_RETURN_IF_ERROR(checkKnownParams(*ms, {"Metric", "Stat", "Unit", "Period"}));
    auto stat = reqString(*ms, "Stat");
    auto unit = optString(*ms, "Unit");
    auto period = readPeriod(*ms);
    TIDE_RETURN_IF_ERROR(firstError({&stat.status(), &unit.status(), &period.status()}));
    out.stat = *stat;
    out.unit = unit->value_or("");
    out.period = *period;
    auto m = ms->find("Metric");
    if (m == ms->end() || !m->is_object()) {
      return validationError(where + ".MetricStat.Metric is required");
    }
    TIDE_RETURN_IF_ERROR(checkKnownParams(*m, {"Namespace", "MetricName", "Dimensions"}));
    auto ns = reqString(*m, "Namespace");
    auto name = reqString(*m, "MetricName");
    auto dims = readDimensions(*m, where + ".MetricStat.Metric");
    TIDE_RETURN_IF_ERROR(firstError({&ns.status(), &name.status(), &dims.status()}));
    out.namespace_ = *ns;
    out.metricName = *name;
    out.dimensions = *dims;
  }
  return out;
}

Json dimensionsJson(const std::vector<model::Dimension>& dims) {
  Json out = Json::array();
  for (const auto& d : dims) {
    out.push_back({{"Name", d.name}, {"Value", d.value}});
  }
  return out;
}

} // namespace

Result<model::MetricDataQuery> readMetricDataQuery(const Json& q, const std::string& where) {
  return readQuery(q, where);
}

Result<std::optional<ParsedTargetTracking>> parseTargetTracking(const Json& p) {
  auto it = p.find("TargetTrackingConfiguration");
  if (it == p.end() || it->is_null()) {
    return std::optional<ParsedTargetTracking>();
  }
  const Json& t = *it;
  if (!t.is_object()) {
    return notObject(kAt);
  }
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(t, {"PredefinedMetricSpecification", "CustomizedMetricSpecification",
                           "TargetValue", "DisableScaleIn"}));
  ParsedTargetTracking out;
  model::TargetTrackingConfiguration& c = out.config;
  auto target = optNumber(t, "TargetValue");
  auto disable = optBool(t, "DisableScaleIn");
  TIDE_RETURN_IF_ERROR(firstError({&target.status(), &disable.status()}));
  out.hasTarget = target->has_value();
  c.targetValue = target->value_or(0);
  c.disableScaleIn = disable->value_or(false);
  if (auto pre = t.find("PredefinedMetricSpecification"); pre != t.end() && !pre->is_null()) {
    if (!pre->is_object()) {
      return notObject(std::string(kAt) + ".PredefinedMetricSpecification");
    }
    TIDE_RETURN_IF_ERROR(checkKnownParams(*pre, {"PredefinedMetricType", "ResourceLabel"}));
    auto type = reqString(*pre, "PredefinedMetricType");
    auto label = optString(*pre, "ResourceLabel");
    TIDE_RETURN_IF_ERROR(firstError({&type.status(), &label.status()}));
    c.predefinedMetricType = *type;
    c.resourceLabel = label->value_or("");
  }
  if (auto cu = t.find("CustomizedMetricSpecification"); cu != t.end() && !cu->is_null()) {
    const std::string where = std::string(kAt) + ".CustomizedMetricSpecification";
    if (!cu->is_object()) {
      return notObject(where);
    }
    TIDE_RETURN_IF_ERROR(checkKnownParams(
        *cu, {"MetricName", "Namespace", "Dimensions", "Statistic", "Unit", "Metrics", "Period"}));
    auto name = optString(*cu, "MetricName");
    auto ns = optString(*cu, "Namespace");
    auto statistic = optString(*cu, "Statistic");
    auto unit = optString(*cu, "Unit");
    auto dims = readDimensions(*cu, where);
    auto period = readPeriod(*cu);
    TIDE_RETURN_IF_ERROR(firstError({&name.status(), &ns.status(), &statistic.status(),
                                     &unit.status(), &dims.status(), &period.status()}));
    c.metricName = name->value_or("");
    c.namespace_ = ns->value_or("");
    c.statistic = statistic->value_or("");
    c.unit = unit->value_or("");
    c.dimensions = *dims;
    c.period = *period;
    if (auto m = cu->find("Metrics"); m != cu->end() && !m->is_null()) {
      if (!m->is_array()) {
        return validationError(where + ".Metrics must be a list");
      }
      for (size_t i = 0; i < m->size(); ++i) {
        TIDE_ASSIGN_OR_RETURN(auto q,
                              readQuery((*m)[i], where + ".Metrics." + std::to_string(i + 1)));
        c.metrics.push_back(std::move(q));
      }
      if (c.metrics.empty()) {
        return validationError(where + ".Metrics must have at least one query");
      }
    }
    // A MetricStat's own Period sets the policy's when the specification has none (as AWS's
    // high-resolution target tracking reads it).
    if (!c.period) {
      for (const auto& q : c.metrics) {
        if (q.period) {
          c.period = q.period;
          break;
        }
      }
    }
  }
  return std::optional<ParsedTargetTracking>(std::move(out));
}

Json metricDataQueriesJson(const std::vector<model::MetricDataQuery>& queries) {
  Json out = Json::array();
  for (const auto& q : queries) {
    Json j = {{"Id", q.id}, {"ReturnData", q.returnData}};
    if (!q.label.empty()) {
      j["Label"] = q.label;
    }
    if (!q.expression.empty()) {
      j["Expression"] = q.expression;
    } else {
      Json stat = {{"Metric",
                    {{"Namespace", q.namespace_},
                     {"MetricName", q.metricName},
                     {"Dimensions", dimensionsJson(q.dimensions)}}},
                   {"Stat", q.stat}};
      if (!q.unit.empty()) {
        stat["Unit"] = q.unit;
      }
      if (q.period) {
        stat["Period"] = *q.period;
      }
      j["MetricStat"] = stat;
    }
    out.push_back(j);
  }
  return out;
}

Json targetTrackingJson(const model::TargetTrackingConfiguration& c) {
  Json j = {{"TargetValue", c.targetValue}, {"DisableScaleIn", c.disableScaleIn}};
  if (!c.predefinedMetricType.empty()) {
    Json pre = {{"PredefinedMetricType", c.predefinedMetricType}};
    if (!c.resourceLabel.empty()) {
      pre["ResourceLabel"] = c.resourceLabel;
    }
    j["PredefinedMetricSpecification"] = pre;
    return j;
  }
  Json cu = Json::object();
  if (!c.metrics.empty()) {
    cu["Metrics"] = metricDataQueriesJson(c.metrics);
  } else {
    cu["MetricName"] = c.metricName;
    cu["Namespace"] = c.namespace_;
    cu["Dimensions"] = dimensionsJson(c.dimensions);
    cu["Statistic"] = c.statistic;
    if (!c.unit.empty()) {
      cu["Unit"] = c.unit;
    }
  }
  if (c.period) {
    cu["Period"] = *c.period;
  }
  j["CustomizedMetricSpecification"] = cu;
  return j;
}

} // namespace tide::api
