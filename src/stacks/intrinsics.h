// CloudFormation's intrinsic functions in a template's values (intrinsics.cc): Ref, Fn::GetAtt,
// Fn::Sub, Fn::Join, Fn::Select, Fn::Split and Fn::Base64 with the pseudo parameters, evaluated
// for a stack or read for what they refer to. Nothing here throws.
#pragma once

#include "stacks/template.h"

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tide::stacks {

// What intrinsic functions need to evaluate: parameter values (as resolveParameters returned)
// and the stack's resources. `ref` and `getAtt` are asked only about resources of the template.
struct ResolveScope {
  const Template* tmpl = nullptr;
  std::vector<model::StackParameter> parameters;
  std::string stackName, stackId;
  std::function<Result<Json>(const std::string& logicalId)> ref;
  std::function<Result<Json>(const std::string& logicalId, const std::string& attribute)> getAtt;
};

// Evaluates the intrinsic functions in value. nullopt: the value is AWS::NoValue (the property
// is to be left out). Errors name `path`.
Result<std::optional<Json>> resolveValue(const Json& value, const ResolveScope& scope,
                                         const std::string& path);

// Whether a JSON value is an intrinsic function call ({"Ref": ...} or {"Fn::...": ...}).
bool isIntrinsic(const Json& v);

// The value with Refs to parameters and pseudo parameters replaced by their values, leaving
// references to resources as they are (for comparing a resource's definition across updates).
Json substituteParameters(const Json& value, const Template& t,
                          const std::vector<model::StackParameter>& parameters);

// The resources a value refers to (Ref, Fn::GetAtt, Fn::Sub), with the attribute names used
// through Fn::GetAtt or ${Res.Attr} ("" for plain Ref).
std::vector<std::pair<std::string, std::string>> referencedResources(const Json& value,
                                                                     const Template& t);

// The ${...} names in a Fn::Sub string ("${!Literal}" is not a name). An unclosed ${ is a
// format error naming `path`.
Result<std::vector<std::string>> subNames(const std::string& s, const std::string& path);

} // namespace tide::stacks
