// A stack's parameter values: given values and defaults checked against the template's
// declarations, and a value as Ref gives it.
#include "stacks/template.h"
#include "stacks/template_text.h"

#include "common/text.h"
#include "model/public_parameters.h"

#include <algorithm>

namespace tide::stacks {

bool isSsmParameterType(const std::string& type) {
  return type == "AWS::SSM::Parameter::Value<String>" ||
         type == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>";
}

bool isSupportedParameterType(const std::string& type) {
  return type == "String" || type == "Number" || type == "CommaDelimitedList" ||
         type == "AWS::EC2::Image::Id" || isSsmParameterType(type);
}

Json parameterValue(const TemplateParameter& p, const std::string& value) {
  if (isSsmParameterType(p.type)) {
    // CloudFormation reads the parameter when the stack is created or updated; the public
    // parameters tide provides never change, so reading them again here gives the same value.
    const model::PublicParameter* param = model::findPublicParameter(value);
    return param != nullptr ? std::string(param->value) : value;
  }
  if (p.type == "Number") {
    Json n = plainScalar(std::string(trim(value)));
    return n.is_number() ? n : Json(value);
  }
  if (p.type == "CommaDelimitedList") {
    Json out = Json::array();
    for (const std::string& s : splitString(value, ',')) {
      out.push_back(std::string(trim(s)));
    }
    return out;
  }
  return value;
}

Result<std::vector<model::StackParameter>>
resolveParameters(const Template& t, const std::vector<model::StackParameter>& given) {
  for (const auto& g : given) {
    if (!t.parameter(g.key)) {
      return validationError("Parameters: [" + g.key + "] do not exist in the template");
    }
  }
  std::vector<model::StackParameter> out;
  std::string missing;
  for (const TemplateParameter& p : t.parameters) {
    std::optional<std::string> value = p.defaultValue;
    for (const auto& g : given) {
      if (g.key == p.name) {
        value = g.value;
      }
    }
    if (!value) {
      missing += (missing.empty() ? "" : ", ") + p.name;
      continue;
    }
    std::string at = "Parameter '" + p.name + "'";
    if (isSsmParameterType(p.type) && model::findPublicParameter(*value) == nullptr) {
      return validationError("Unable to fetch parameters [" + *value +
                             "] from parameter store for this account. (tide provides the "
                             "public parameters under /aws/service/ami-amazon-linux-latest/)");
    }
    if (!p.allowedValues.empty() && std::find(p.allowedValues.begin(), p.allowedValues.end(),
                                              *value) == p.allowedValues.end()) {
      std::string list;
      for (const auto& a : p.allowedValues) {
        list += (list.empty() ? "" : ", ") + a;
      }
      return validationError(at + " must be one of AllowedValues [" + list + "], not '" + *value +
                             "'");
    }
    if (p.type == "Number") {
      Json n = parameterValue(p, *value);
      if (!n.is_number()) {
        return validationError(at + " must be a number, not '" + *value + "'");
      }
      double d = n;
      if ((p.minValue && d < *p.minValue) || (p.maxValue && d > *p.maxValue)) {
        return validationError(at + " must be a number from " +
                               (p.minValue ? scalarText(*p.minValue) : "-inf") + " to " +
                               (p.maxValue ? scalarText(*p.maxValue) : "inf") + ", not " + *value);
      }
    }
    if ((p.minLength && static_cast<int>(value->size()) < *p.minLength) ||
        (p.maxLength && static_cast<int>(value->size()) > *p.maxLength)) {
      return validationError(at + " has the wrong length");
    }
    out.push_back({p.name, *value});
  }
  if (!missing.empty()) {
    return validationError("Parameters: [" + missing + "] must have values");
  }
  return out;
}

} // namespace tide::stacks
