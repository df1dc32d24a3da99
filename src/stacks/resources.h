// The resource types a stack can hold, registered by name in one table (resources.cc).
// Each maps CloudFormation's properties to the parameters of the actions that make it, and
// calls those actions through the action table, in-process: a resource is made exactly as the
// API would make it.
#pragma once

#include "api/action.h"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tide::stacks {

using api::ActionContext;
using api::Json;

enum class PropertyKind {
  String,  // a string (numbers are taken as their text, as CloudFormation does)
  Number,  // a number or a string holding one
  Boolean, // true/false or "true"/"false"
  List,    // a list
  Object,  // a map (checked by the action that receives it)
};

struct PropertySpec {
  std::string_view name;
  PropertyKind kind;
  bool required = false;
  bool updatable = false; // changed in place by `update`; other changes replace the resource
};

// Who is asking: the stack and the resource's logical id (for generated names).
struct ResourceCall {
  ActionContext& ctx;
  std::string stackName;
  std::string stackId;
  std::string logicalId;
  std::string basePath; // relative paths in properties (SourceDirectory) resolve against it
};

struct ResourceType {
  std::string_view name; // "AWS::ElasticLoadBalancingV2::TargetGroup"
  std::span<const PropertySpec> properties;
  std::span<const std::string_view> attributes; // for Fn::GetAtt
  // Makes the resource from resolved properties; returns its physical id (what Ref gives).
  Result<std::string> (*create)(ResourceCall& c, const Json& props);
  // After a crash between `create` and recording its result: the physical id of a resource
  // these properties already made (found by its name), or nullopt. nullptr: cannot tell.
  Result<std::optional<std::string>> (*find)(ResourceCall& c, const Json& props);
  // Whether a created resource is ready for its dependents (images: available). An error when
  // it failed. nullptr: ready once created.
  Result<bool> (*ready)(ActionContext& ctx, const std::string& physicalId);
  // Applies changed updatable properties in place. nullptr: every change replaces.
  Status (*update)(ResourceCall& c, const std::string& physicalId, const Json& props);
  // Deletes; true when it is gone (a resource already gone is gone), false while it is going.
  Result<bool> (*remove)(ActionContext& ctx, const std::string& physicalId);
  // Fn::GetAtt.
  Result<Json> (*attribute)(ActionContext& ctx, const std::string& physicalId,
                            const std::string& name);
  // After a crash between `create`'s first action and its last: makes the resource `find`
  // found what `create` would have made (the follow-up actions again; they are idempotent).
  // nullptr: `create` is one action.
  Status (*finishCreate)(ResourceCall& c, const std::string& physicalId,
                         const Json& props) = nullptr;
};

std::span<const ResourceType> resourceTypes();
const ResourceType* findResourceType(std::string_view name);
const PropertySpec* findProperty(const ResourceType& t, std::string_view name);

// "<stack>-<logicalId>", shortened to maxLength with a hash of the whole when it is longer.
// With `unique`, a suffix derived from the stack id is added as CloudFormation adds a random
// one ("shop-WebGroup-1A2B3C4D5E6F"); derived, so that it is the same after a restart.
std::string generatedName(const ResourceCall& c, size_t maxLength, bool unique = false);

// Runs the API action `action` (which must be in the action table) as the resource's step.
Result<Json> invokeAction(ActionContext& ctx, std::string_view action, const Json& params);

} // namespace tide::stacks
