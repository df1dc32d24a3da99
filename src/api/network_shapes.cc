#include "api/network_shapes.h"

#include <map>

namespace tide::api {

namespace {

// "us-east-1" → "use1", "ap-southeast-2" → "apse2", "ca-central-1" → "cac1".
std::string regionCode(const std::string& region) {
  static const std::map<std::string, std::string, std::less<>> kDirections = {
      {"north", "n"},      {"south", "s"},      {"east", "e"},
      {"west", "w"},       {"central", "c"},    {"northeast", "ne"},
      {"southeast", "se"}, {"northwest", "nw"}, {"southwest", "sw"},
  };
  size_t first = region.find('-');
  size_t last = region.rfind('-');
  if (first == std::string::npos || last == first) {
    return region;
  }
  std::string direction = region.substr(first + 1, last - first - 1);
  auto it = kDirections.find(direction);
  return region.substr(0, first) + (it == kDirections.end() ? direction : it->second) +
         region.substr(last + 1);
}

Json portsOf(Json j, const model::SecurityGroupRule& r) {
  if (r.ipProtocol != "-1") {
    j["FromPort"] = r.fromPort;
    j["ToPort"] = r.toPort;
  }
  return j;
}

Json permissionsJson(const model::SecurityGroup& g, bool egress, const ActionContext& ctx) {
  Json out = Json::array();
  std::vector<const model::SecurityGroupRule*> keys; // first rule of each permission
  for (const model::SecurityGroupRule& r : g.rules) {
    if (r.isEgress != egress) {
      continue;
    }
    size_t i = 0;
    for (; i < keys.size(); ++i) {
      if (keys[i]->ipProtocol == r.ipProtocol && keys[i]->fromPort == r.fromPort &&
          keys[i]->toPort == r.toPort) {
        break;
      }
    }
    if (i == keys.size()) {
      keys.push_back(&r);
      out.push_back(portsOf({{"IpProtocol", r.ipProtocol},
                             {"IpRanges", Json::array()},
                             {"Ipv6Ranges", Json::array()},
                             {"PrefixListIds", Json::array()},
                             {"UserIdGroupPairs", Json::array()}},
                            r));
    }
    Json& p = out[i];
    Json entry;
    if (!r.cidrIpv4.empty()) {
      entry = {{"CidrIp", r.cidrIpv4}};
    } else if (!r.cidrIpv6.empty()) {
      entry = {{"CidrIpv6", r.cidrIpv6}};
    } else {
      entry = {{"GroupId", r.referencedGroupId}, {"UserId", ctx.accountId}};
    }
    if (!r.description.empty()) {
      entry["Description"] = r.description;
    }
    const char* list = !r.cidrIpv4.empty()   ? "IpRanges"
                       : !r.cidrIpv6.empty() ? "Ipv6Ranges"
                                             : "UserIdGroupPairs";
    p[list].push_back(entry);
  }
  return out;
}

} // namespace

std::string zoneName(const std::string& region, std::string_view letter) {
  return region + std::string(letter);
}

std::string zoneId(const std::string& region, std::string_view letter) {
  size_t index = model::kZoneLetters.find(letter);
  return regionCode(region) + "-az" + std::to_string(index + 1);
}

std::optional<std::string> zoneLetterOf(const std::string& region, std::string_view nameOrId) {
  for (char c : model::kZoneLetters) {
    std::string letter(1, c);
    if (nameOrId == zoneName(region, letter) || nameOrId == zoneId(region, letter)) {
      return letter;
    }
  }
  return std::nullopt;
}

Json vpcJson(const model::Vpc& v, const ActionContext& ctx) {
  return {
      {"VpcId", v.vpcId},
      {"CidrBlock", v.cidrBlock},
      {"State", "available"},
      {"OwnerId", ctx.accountId},
      {"InstanceTenancy", "default"},
      {"DhcpOptionsId", "default"},
      {"IsDefault", v.isDefault},
      {"CidrBlockAssociationSet", Json::array({{{"AssociationId", v.cidrAssociationId},
                                                {"CidrBlock", v.cidrBlock},
                                                {"CidrBlockState", {{"State", "associated"}}}}})},
      {"Tags", tagsJson(v.tags)}};
}

Json subnetJson(const model::Subnet& s, const ActionContext& ctx) {
  auto block = model::parseIpv4Block(s.cidrBlock);
  return {
      {"SubnetId", s.subnetId},
      {"SubnetArn", "arn:aws:ec2:" + ctx.region + ":" + ctx.accountId + ":subnet/" + s.subnetId},
      {"VpcId", s.vpcId},
      {"CidrBlock", s.cidrBlock},
      {"AvailabilityZone", zoneName(ctx.region, s.zoneLetter)},
      {"AvailabilityZoneId", zoneId(ctx.region, s.zoneLetter)},
      {"AvailableIpAddressCount", block ? model::availableIpAddressCount(*block) : 0},
      {"DefaultForAz", s.defaultForAz},
      {"MapPublicIpOnLaunch", s.mapPublicIpOnLaunch},
      {"MapCustomerOwnedIpOnLaunch", false},
      {"AssignIpv6AddressOnCreation", false},
      {"Ipv6CidrBlockAssociationSet", Json::array()},
      {"EnableDns64", false},
      {"Ipv6Native", false},
      {"State", "available"},
      {"OwnerId", ctx.accountId},
      {"Tags", tagsJson(s.tags)}};
}

Json securityGroupJson(const model::SecurityGroup& g, const ActionContext& ctx) {
  return {{"GroupId", g.groupId},
          {"GroupName", g.groupName},
          {"Description", g.description},
          {"VpcId", g.vpcId},
          {"OwnerId", ctx.accountId},
          {"SecurityGroupArn",
           "arn:aws:ec2:" + ctx.region + ":" + ctx.accountId + ":security-group/" + g.groupId},
          {"IpPermissions", permissionsJson(g, false, ctx)},
          {"IpPermissionsEgress", permissionsJson(g, true, ctx)},
          {"Tags", tagsJson(g.tags)}};
}

Json securityGroupRuleJson(const model::SecurityGroup& g, const model::SecurityGroupRule& r,
                           const ActionContext& ctx) {
  Json j = {{"SecurityGroupRuleId", r.ruleId},
            {"GroupId", g.groupId},
            {"GroupOwnerId", ctx.accountId},
            {"IsEgress", r.isEgress},
            {"IpProtocol", r.ipProtocol},
            {"FromPort", r.fromPort},
            {"ToPort", r.toPort},
            {"Tags", Json::array()}};
  if (!r.cidrIpv4.empty()) {
    j["CidrIpv4"] = r.cidrIpv4;
  } else if (!r.cidrIpv6.empty()) {
    j["CidrIpv6"] = r.cidrIpv6;
  } else {
    j["ReferencedGroupInfo"] = {{"GroupId", r.referencedGroupId}, {"UserId", ctx.accountId}};
  }
  if (!r.description.empty()) {
    j["Description"] = r.description;
  }
  return j;
}

Json keyPairJson(const model::KeyPair& k, bool includePublicKey) {
  Json j = {{"KeyPairId", k.keyPairId},
            {"KeyName", k.keyName},
            {"KeyType", k.keyType},
            {"KeyFingerprint", k.keyFingerprint},
            {"CreateTime", formatIso8601(k.createTime)},
            {"Tags", tagsJson(k.tags)}};
  if (includePublicKey) {
    j["PublicKey"] = k.publicKey;
  }
  return j;
}

Result<bool> matchesFilters(const std::vector<Filter>& fs, const std::vector<model::Tag>& tags,
                            const FilterValues& values, std::string_view known) {
  for (const Filter& f : fs) {
    std::optional<std::vector<std::string>> have;
    if (f.name.rfind("tag:", 0) == 0) {
      have.emplace();
      if (auto v = tagValue(tags, f.name.substr(4))) {
        have->push_back(*v);
      }
    } else if (f.name == "tag-key") {
      have.emplace();
      for (const model::Tag& t : tags) {
        have->push_back(t.key);
      }
    } else {
      have = values(f.name);
    }
    if (!have) {
      return Status("InvalidParameterValue", "The filter '" + f.name + "' is invalid; tide knows " +
                                                 std::string(known) + ", tag:<key> and tag-key");
    }
    bool any = false;
    for (const std::string& v : *have) {
      any = any || filterMatches(f, v);
    }
    if (!any) {
      return false;
    }
  }
  return true;
}

Status notFound(const std::string& code, const std::string& noun,
                const std::vector<std::string>& ids) {
  std::string list;
  for (const std::string& id : ids) {
    list += list.empty() ? "" : ", ";
    list += id;
  }
  return Status(code, "The " + noun + (ids.size() > 1 ? "s '" : " '") + list +
                          (ids.size() > 1 ? "' do not exist" : "' does not exist"));
}

Status checkTags(const std::vector<model::Tag>& tags) {
  for (const model::Tag& t : tags) {
    if (t.key.empty() || t.key.size() > 128) {
      return Status("InvalidParameterValue",
                    "Tag keys must be 1 to 128 characters long, got '" + t.key + "'");
    }
    if (t.key.rfind("aws:", 0) == 0) {
      return Status("InvalidParameterValue",
                    "Tag keys starting with 'aws:' are reserved for AWS' own use");
    }
    if (t.value.size() > 256) {
      return Status("InvalidParameterValue",
                    "The value of tag '" + t.key + "' is longer than 256 characters");
    }
  }
  return Status::ok();
}

Result<std::vector<model::Tag>> mergeTags(std::vector<model::Tag> tags,
                                          const std::vector<model::Tag>& add) {
  for (const model::Tag& a : add) {
    bool replaced = false;
    for (model::Tag& t : tags) {
      if (t.key == a.key) {
        t.value = a.value;
        replaced = true;
      }
    }
    if (!replaced) {
      tags.push_back(a);
    }
  }
  if (tags.size() > 50) {
    return Status("TagLimitExceeded", "A resource can have at most 50 tags");
  }
  return tags;
}

} // namespace tide::api
