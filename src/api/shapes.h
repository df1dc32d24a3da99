// Model objects in the AWS response shapes (EC2 field names), and LaunchTemplateData read from
// requests. tide's own fields (not in EC2) are documented in docs/api.md.
#pragma once

#include "api/action.h"
#include "model/types.h"

#include <optional>

namespace tide::api {

// accountId: the account the caller is (ActionContext::accountId), shown as owner and creator.
Json imageJson(const std::string& accountId, const model::Image& image);
Json launchTemplateJson(const std::string& accountId, const model::LaunchTemplate& lt);
Json launchTemplateVersionJson(const std::string& accountId, const model::LaunchTemplateVersion& v,
                               int64_t defaultVersion);
Json launchTemplateDataJson(const model::LaunchTemplateData& d);
// With the instance's latest reading when there is one (tide's CPUUtilization and
// MemoryUsedBytes fields).
// zone: the availability zone it is shown in (tide's instances all run on this host; they are
// shown in the request region's first zone, "us-east-1a").
Json instanceJson(const model::Instance& i, const std::string& zone,
                  const std::optional<model::InstanceUsage>& usage = {});

// Reads a LaunchTemplateData object (EC2 names plus tide's Port and Environment), on top of
// `base` (fields absent from the JSON keep base's values, as CreateLaunchTemplateVersion with
// a SourceVersion does). Validates the result.
Result<model::LaunchTemplateData> parseLaunchTemplateData(const Json& j,
                                                          model::LaunchTemplateData base);

} // namespace tide::api
