// The checks parseTemplate runs on a template (template_check.cc). Internal to the stacks
// module. Errors are ValidationError naming the offending path.
#pragma once

#include "stacks/template.h"

#include <set>
#include <string>

namespace tide::stacks {

// Validates the intrinsic functions inside `value`: their arguments, that every name is a
// parameter, pseudo parameter or resource of `t`, and every Fn::GetAtt attribute one its
// resource's type has. Adds the resources it refers to to `deps`.
Status checkReferences(const Template& t, const Json& value, const std::string& path,
                       std::set<std::string>& deps);

// Checks every resource's type and properties against the resource table (resources.h), its
// references and DependsOn; fills each resource's `dependencies`.
Status checkResources(Template& t);

// Fills `creationOrder`: every resource after its dependencies, template order where free.
// A dependency cycle is an error naming the resources in it.
Status orderResources(Template& t);

} // namespace tide::stacks
