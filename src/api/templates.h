// Finding launch templates and resolving versions inside a transaction, shared by the launch
// template actions and RunInstances (and, later, auto scaling groups).
#pragma once

#include "common/status.h"
#include "model/types.h"
#include "store/store.h"

namespace tide::api {

struct ResolvedTemplate {
  model::LaunchTemplate launchTemplate;
  model::LaunchTemplateVersion version;
};

// By id or by name (exactly one non-empty), with EC2's not-found codes.
Result<model::LaunchTemplate> findLaunchTemplate(store::Tx& tx, const std::string& id,
                                                 const std::string& name);
// version: "$Default" (or empty), "$Latest" or a number.
Result<ResolvedTemplate> resolveLaunchTemplate(store::Tx& tx, const std::string& id,
                                               const std::string& name, const std::string& version);

} // namespace tide::api
