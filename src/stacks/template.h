// Stack templates (CloudFormation's anatomy): parsing YAML or JSON into a Template
// (template_yaml.cc, template.cc), validating it (template_check.cc) and resolving parameters
// (template_parameters.cc). The intrinsic functions are evaluated by intrinsics.h.
//
// Supported: AWSTemplateFormatVersion, Description, Metadata, Parameters (Type String, Number or
// CommaDelimitedList; Default, AllowedValues, MinValue, MaxValue, MinLength, MaxLength,
// Description, NoEcho), Resources (Type, Properties, DependsOn, Metadata, DeletionPolicy Delete)
// and Outputs (Value, Description, Export). Intrinsic functions: Ref, Fn::GetAtt, Fn::Sub,
// Fn::Join, Fn::Select, Fn::Split, Fn::Base64, and the YAML short forms !Ref, !GetAtt ("A.B" or
// [A, B]), !Sub, !Join, !Select, !Split, !Base64. Pseudo parameters AWS::StackName,
// AWS::StackId, AWS::Region, AWS::AccountId, AWS::Partition, AWS::URLSuffix, AWS::NoValue.
// Conditions, Mappings, Transform and Rules are refused with a clear error.
//
// Errors are ValidationError with CloudFormation's "Template format error: ..." wording and a
// path to the offending value ("Resources.WebGroup.Properties.MinSize: must be a number").
// Nothing here throws.
#pragma once

#include "api/action.h"
#include "model/auto_scaling.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tide::stacks {

using api::ActionContext;
using api::Json;

struct TemplateParameter {
  std::string name;
  std::string type = "String"; // see isSupportedParameterType
  std::optional<std::string> defaultValue;
  std::vector<std::string> allowedValues;
  std::optional<double> minValue, maxValue; // Number
  std::optional<int> minLength, maxLength;  // String
  std::string description;
};

struct TemplateResource {
  std::string logicalId;
  std::string type;                      // "AWS::EC2::LaunchTemplate", ...
  Json properties = Json::object();      // intrinsic functions kept in their long form
  std::vector<std::string> dependsOn;    // as written
  std::vector<std::string> dependencies; // DependsOn and every resource Ref/GetAtt/Sub names
};

struct TemplateOutput {
  std::string key;
  Json value;
  std::string description;
};

struct Template {
  Json document; // the whole template as JSON, short forms expanded (what a stack stores)
  std::vector<TemplateParameter> parameters;
  std::vector<TemplateResource> resources; // in template order
  std::vector<TemplateOutput> outputs;
  std::vector<std::string> creationOrder; // logical ids, every one after its dependencies

  const TemplateResource* resource(const std::string& logicalId) const;
  const TemplateParameter* parameter(const std::string& name) const;
};

// Bounds on what a template may be (docs/security.md, "Hostile input"): every walk over a
// template (the checks, the intrinsic functions, dump(), copies) recurses once per level, so the
// nesting is bounded where the text is read; the resources' dependency order recurses once per
// resource, so their number is bounded as CloudFormation bounds it.
constexpr size_t kMaxTemplateDepth = 128;     // arrays and objects (YAML sequences and maps)
constexpr size_t kMaxTemplateResources = 500; // CloudFormation's own limit

// YAML (with short-form tags) or JSON text → JSON with the short forms expanded. Errors:
// "Template format error: YAML not well-formed. (line L, column C)". The text must be UTF-8;
// nesting deeper than kMaxTemplateDepth, a key given twice in one map or object, and YAML
// aliases that would expand the template past 64 times its size (plus 1 MiB; a "billion
// laughs") are refused with a ValidationError naming the place.
Result<Json> parseTemplateDocument(std::string_view body);

// Parses and validates a template: its sections, parameters, resource types and properties
// (against the resource type table, resources.h), references and dependency cycles.
Result<Template> parseTemplate(std::string_view body);

// The parameters' values: given values override defaults; every parameter without a default
// must be given; values are checked against Type, AllowedValues, Min/MaxValue and
// Min/MaxLength. Given keys the template does not declare are an error. Returns every
// parameter's value in template order (the stack's record).
Result<std::vector<model::StackParameter>>
resolveParameters(const Template& t, const std::vector<model::StackParameter>& given);

// A parameter's value as Ref gives it: a number for Number, a list for CommaDelimitedList, the
// value of the Systems Manager parameter it names for AWS::SSM::Parameter::Value<...>.
Json parameterValue(const TemplateParameter& p, const std::string& value);

// The parameter types tide knows: String, Number, CommaDelimitedList, AWS::EC2::Image::Id and
// the SSM parameter types whose value is a public parameter's name (model/public_parameters.h).
bool isSupportedParameterType(const std::string& type);
bool isSsmParameterType(const std::string& type);

} // namespace tide::stacks
