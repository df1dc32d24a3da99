// What the template files share (template*.cc, intrinsics.cc): CloudFormation's format error
// and how scalars read and print. Internal to the stacks module.
#pragma once

#include "stacks/template.h"

#include <string>

namespace tide::stacks {

// ValidationError "Template format error: <message>" (template_yaml.cc, so that the text's
// reading stands on its own: the fuzz target fuzz_template compiles only that file).
Status formatError(const std::string& message);

// A plain (unquoted) scalar as YAML 1.1's core schema reads it: null, bool, number or string
// (template_yaml.cc).
Json plainScalar(const std::string& s);

// A scalar as text: strings as they are, whole numbers without a fraction, anything else as
// JSON (template.cc).
std::string scalarText(const Json& v);

} // namespace tide::stacks
