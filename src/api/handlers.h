// The handlers of the action table (action_table.cc), one file per resource family.
#pragma once

#include "api/action.h"

namespace tide::api {

// actions_images.cc
Result<Json> createImage(ActionContext& ctx, const Json& p);
Result<Json> describeImages(ActionContext& ctx, const Json& p);
Result<Json> deregisterImage(ActionContext& ctx, const Json& p);

// actions_launch_templates.cc
Result<Json> createLaunchTemplate(ActionContext& ctx, const Json& p);
Result<Json> createLaunchTemplateVersion(ActionContext& ctx, const Json& p);
Result<Json> describeLaunchTemplates(ActionContext& ctx, const Json& p);
Result<Json> describeLaunchTemplateVersions(ActionContext& ctx, const Json& p);
Result<Json> modifyLaunchTemplate(ActionContext& ctx, const Json& p);
Result<Json> deleteLaunchTemplate(ActionContext& ctx, const Json& p);

// actions_instances.cc
Result<Json> runInstances(ActionContext& ctx, const Json& p);
Result<Json> describeInstances(ActionContext& ctx, const Json& p);
Result<Json> terminateInstances(ActionContext& ctx, const Json& p);
Result<Json> stopInstances(ActionContext& ctx, const Json& p);
Result<Json> startInstances(ActionContext& ctx, const Json& p);
Result<Json> getConsoleOutput(ActionContext& ctx, const Json& p);
Result<Json> describeInstanceTypes(ActionContext& ctx, const Json& p);
Result<Json> describeHost(ActionContext& ctx, const Json& p);

} // namespace tide::api
