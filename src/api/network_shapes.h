// EC2's networking and key-pair resources in the AWS response shapes (VPCs, subnets, security
// groups and their rules, key pairs, availability zones), and what their actions share:
// filters over a resource's values, not-found errors naming every missing id, tag checks.
#pragma once

#include "api/action.h"
#include "api/params.h"
#include "model/network.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tide::api {

// "us-east-1" + "a" → "us-east-1a".
std::string zoneName(const std::string& region, std::string_view letter);
// AWS's zone id: "use1-az1" for us-east-1's first zone ("euw2-az3" for eu-west-2's third).
std::string zoneId(const std::string& region, std::string_view letter);
// The letter of one of the region's zones named by name ("us-east-1b" → "b") or by id
// ("use1-az2" → "b"); nullopt when the region has no such zone.
std::optional<std::string> zoneLetterOf(const std::string& region, std::string_view nameOrId);

Json vpcJson(const model::Vpc& v, const ActionContext& ctx);
Json subnetJson(const model::Subnet& s, const ActionContext& ctx);
// IpPermissions and IpPermissionsEgress group the rules by protocol and ports, as EC2 does.
Json securityGroupJson(const model::SecurityGroup& g, const ActionContext& ctx);
// One rule in DescribeSecurityGroupRules' (and Authorize's) SecurityGroupRule shape.
Json securityGroupRuleJson(const model::SecurityGroup& g, const model::SecurityGroupRule& r,
                           const ActionContext& ctx);
Json keyPairJson(const model::KeyPair& k, bool includePublicKey);

// The values a resource has for a filter name (a filter matches when one of them matches one of
// its values); nullopt when the name is not one the action knows.
using FilterValues = std::function<std::optional<std::vector<std::string>>(const std::string&)>;
// Whether the resource passes every filter. "tag:KEY" and "tag-key" are answered from tags.
// An unknown filter name is InvalidParameterValue listing `known`.
Result<bool> matchesFilters(const std::vector<Filter>& fs, const std::vector<model::Tag>& tags,
                            const FilterValues& values, std::string_view known);

// `code` ("InvalidVpcID.NotFound") with EC2's message: "The vpc ID 'vpc-1' does not exist".
Status notFound(const std::string& code, const std::string& noun,
                const std::vector<std::string>& ids);

// notFound for the ids no item has (idOf gives an item's id); OK when each one is there.
template <class T, class IdOf>
Status requireIds(const std::vector<std::string>& ids, const std::vector<T>& items, IdOf idOf,
                  const std::string& code, const std::string& noun) {
  std::vector<std::string> missing;
  for (const std::string& id : ids) {
    if (std::none_of(items.begin(), items.end(), [&](const T& t) { return idOf(t) == id; })) {
      missing.push_back(id);
    }
  }
  return missing.empty() ? Status::ok() : notFound(code, noun, missing);
}

// Tags as EC2 accepts them: key 1..128 characters, not starting with "aws:"; value up to 256.
Status checkTags(const std::vector<model::Tag>& tags);
// `tags` with `add` applied: a key already there takes the new value. At most 50 per resource
// (TagLimitExceeded).
Result<std::vector<model::Tag>> mergeTags(std::vector<model::Tag> tags,
                                          const std::vector<model::Tag>& add);

} // namespace tide::api
