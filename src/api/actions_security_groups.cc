// CreateSecurityGroup, DeleteSecurityGroup, DescribeSecurityGroups, DescribeSecurityGroupRules,
// Authorize/RevokeSecurityGroupIngress and Authorize/RevokeSecurityGroupEgress.
//
// Groups and their rules are kept and shown as EC2 keeps them; tide does not enforce them yet
// (a later issue), and RunInstances does not check the ids it is given against them.
#include "api/handlers.h"
#include "api/network_shapes.h"
#include "api/params.h"
#include "common/ids.h"

#include <arpa/inet.h>

#include <algorithm>

namespace tide::api {

namespace {

using model::SecurityGroup;
using model::SecurityGroupRule;

Result<SecurityGroup> groupById(store::Tx& tx, const std::string& id) {
  TIDE_ASSIGN_OR_RETURN(auto g, tx.securityGroup(id));
  if (!g) {
    return Status("InvalidGroup.NotFound", "The security group '" + id + "' does not exist");
  }
  return std::move(*g);
}

Result<std::optional<model::Vpc>> defaultVpc(store::Tx& tx) {
  TIDE_ASSIGN_OR_RETURN(auto vpcs, tx.vpcs());
  for (model::Vpc& v : vpcs) {
    if (v.isDefault) {
      return std::optional<model::Vpc>(std::move(v));
    }
  }
  return std::optional<model::Vpc>();
}

// A group named in a VPC (by name, as EC2 allows in the default VPC).
Result<SecurityGroup> groupByName(store::Tx& tx, const std::string& name,
                                  const std::string& vpcId) {
  TIDE_ASSIGN_OR_RETURN(auto groups, tx.securityGroups(vpcId));
  for (SecurityGroup& g : groups) {
    if (g.groupName == name) {
      return std::move(g);
    }
  }
  return Status("InvalidGroup.NotFound",
                "The security group '" + name + "' does not exist in VPC '" + vpcId + "'");
}

// GroupId, or GroupName in the default VPC.
Result<SecurityGroup> namedGroup(store::Tx& tx, const std::optional<std::string>& id,
                                 const std::optional<std::string>& name) {
  if (id) {
    return groupById(tx, *id);
  }
  if (!name) {
    return Status("MissingParameter", "The request must contain the parameter GroupId or "
                                      "GroupName");
  }
  TIDE_ASSIGN_OR_RETURN(auto vpc, defaultVpc(tx));
  if (!vpc) {
    return Status("VPCIdNotSpecified", "No default VPC for this user: name the group by GroupId");
  }
  return groupByName(tx, *name, vpc->vpcId);
}

// "tcp" / "6" → "tcp", "all" / "-1" → "-1"; other protocol numbers 0..255 stay numbers.
Result<std::string> protocolName(const std::string& given) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"-1", "-1"},  {"all", "-1"},    {"tcp", "tcp"}, {"6", "tcp"},         {"udp", "udp"},
      {"17", "udp"}, {"icmp", "icmp"}, {"1", "icmp"},  {"icmpv6", "icmpv6"}, {"58", "icmpv6"},
  };
  std::string lower = given;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [k, v] : kNames) {
    if (lower == k) {
      return std::string(v);
    }
  }
  bool digits =
      !lower.empty() && lower.size() <= 3 &&
      std::all_of(lower.begin(), lower.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits && std::stoi(lower) <= 255) {
    return lower;
  }
  return Status("InvalidParameterValue", "Invalid value '" + given +
                                             "' for IP protocol. Unknown "
                                             "protocol.");
}

bool validIpv6Cidr(const std::string& cidr) {
  size_t slash = cidr.find('/');
  if (slash == std::string::npos) {
    return false;
  }
  std::string bits = cidr.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 ||
      !std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(bits) > 128) {
    return false;
  }
  in6_addr addr;
  return inet_pton(AF_INET6, cidr.substr(0, slash).c_str(), &addr) == 1;
}

// The rules of one IpPermission entry (or of the shorthand parameters), one per source.
struct PermissionSources {
  std::string protocol;
  int fromPort = -1;
  int toPort = -1;
};

Result<PermissionSources> protocolAndPorts(const Json& j) {
  TIDE_ASSIGN_OR_RETURN(auto protocol, optString(j, "IpProtocol"));
  TIDE_ASSIGN_OR_RETURN(auto from, optInt(j, "FromPort"));
  TIDE_ASSIGN_OR_RETURN(auto to, optInt(j, "ToPort"));
  if (!protocol) {
    return Status("MissingParameter", "The request must contain the parameter IpProtocol");
  }
  PermissionSources out;
  TIDE_ASSIGN_OR_RETURN(out.protocol, protocolName(*protocol));
  if (out.protocol == "tcp" || out.protocol == "udp") {
    if (!from || !to) {
      return Status("MissingParameter",
                    "IpProtocol " + out.protocol + " needs FromPort and ToPort (0 to 65535)");
    }
    if (*from < 0 || *from > 65535 || *to < 0 || *to > 65535 || *from > *to) {
      return Status("InvalidParameterValue",
                    "Invalid port range: FromPort " + std::to_string(*from) + ", ToPort " +
                        std::to_string(*to) + " (0 to 65535, FromPort no more than ToPort)");
    }
    out.fromPort = static_cast<int>(*from);
    out.toPort = static_cast<int>(*to);
  } else if (out.protocol == "icmp" || out.protocol == "icmpv6") {
    // ICMP's FromPort is the type and ToPort the code; -1 means any.
    int64_t type = from.value_or(-1), code = to.value_or(-1);
    if (type < -1 || type > 255 || code < -1 || code > 255) {
      return Status("InvalidParameterValue", "Invalid ICMP type or code: -1 to 255");
    }
    out.fromPort = static_cast<int>(type);
    out.toPort = static_cast<int>(code);
  }
  return out;
}

// What a referenced group may be named by: GroupId, or GroupName in the group's own VPC.
Result<std::string> referencedGroup(store::Tx& tx, const Json& pair, const SecurityGroup& group) {
  TIDE_ASSIGN_OR_RETURN(auto id, optString(pair, "GroupId"));
  TIDE_ASSIGN_OR_RETURN(auto name, optString(pair, "GroupName"));
  if (id) {
    if (*id == group.groupId) {
      return *id;
    }
    TIDE_ASSIGN_OR_RETURN(SecurityGroup g, groupById(tx, *id));
    return g.groupId;
  }
  if (name) {
    TIDE_ASSIGN_OR_RETURN(SecurityGroup g, groupByName(tx, *name, group.vpcId));
    return g.groupId;
  }
  return Status("MissingParameter", "UserIdGroupPairs entries need GroupId or GroupName");
}

// The rules a request names: IpPermissions, or the shorthand (CidrIp, IpProtocol, FromPort,
// ToPort, SourceSecurityGroupName). Ids are new; Revoke compares permissions, not ids.
Result<std::vector<SecurityGroupRule>> requestedRules(store::Tx& tx, const Json& p,
                                                      const SecurityGroup& group, bool egress) {
  std::vector<SecurityGroupRule> out;
  auto add = [&](const PermissionSources& ps, SecurityGroupRule r) {
    r.ruleId = newId("sgr");
    r.isEgress = egress;
    r.ipProtocol = ps.protocol;
    r.fromPort = ps.fromPort;
    r.toPort = ps.toPort;
    out.push_back(std::move(r));
  };
  auto cidr4 = [](const std::string& c) -> Status {
    if (!model::parseIpv4Block(c)) {
      return Status("InvalidParameterValue", "CIDR block " + c + " is malformed");
    }
    return Status::ok();
  };
  auto perms = p.find("IpPermissions");
  if (perms != p.end() && !perms->is_null()) {
    if (!perms->is_array()) {
      return validationError("Parameter IpPermissions must be a list of IpPermission");
    }
    for (const Json& perm : *perms) {
      if (!perm.is_object()) {
        return validationError("Parameter IpPermissions must be a list of IpPermission");
      }
      TIDE_RETURN_IF_ERROR(
          checkKnownParams(perm, {"IpProtocol", "FromPort", "ToPort", "IpRanges", "Ipv6Ranges",
                                  "UserIdGroupPairs", "PrefixListIds"}));
      TIDE_ASSIGN_OR_RETURN(PermissionSources ps, protocolAndPorts(perm));
      size_t before = out.size();
      for (const char* list : {"IpRanges", "Ipv6Ranges", "UserIdGroupPairs", "PrefixListIds"}) {
        auto it = perm.find(list);
        if (it == perm.end() || it->is_null()) {
          continue;
        }
        if (!it->is_array()) {
          return validationError(std::string("Parameter ") + list + " must be a list");
        }
        for (const Json& src : *it) {
          if (!src.is_object()) {
            return validationError(std::string("Parameter ") + list + " must be a list");
          }
          SecurityGroupRule r;
          TIDE_ASSIGN_OR_RETURN(auto description, optString(src, "Description"));
          r.description = description.value_or("");
          std::string_view l = list;
          if (l == "IpRanges") {
            TIDE_ASSIGN_OR_RETURN(r.cidrIpv4, reqString(src, "CidrIp"));
            TIDE_RETURN_IF_ERROR(cidr4(r.cidrIpv4));
          } else if (l == "Ipv6Ranges") {
            TIDE_ASSIGN_OR_RETURN(r.cidrIpv6, reqString(src, "CidrIpv6"));
            if (!validIpv6Cidr(r.cidrIpv6)) {
              return Status("InvalidParameterValue", "CIDR block " + r.cidrIpv6 + " is malformed");
            }
          } else if (l == "UserIdGroupPairs") {
            TIDE_ASSIGN_OR_RETURN(r.referencedGroupId, referencedGroup(tx, src, group));
          } else {
            return Status("InvalidParameterValue", "tide does not keep prefix lists yet");
          }
          add(ps, std::move(r));
        }
      }
      if (out.size() == before) {
        return Status("MissingParameter", "Each IpPermission needs a source or destination: "
                                          "IpRanges, Ipv6Ranges or UserIdGroupPairs");
      }
    }
  }
  TIDE_ASSIGN_OR_RETURN(auto cidr, optString(p, "CidrIp"));
  TIDE_ASSIGN_OR_RETURN(auto source, optString(p, "SourceSecurityGroupName"));
  bool shorthand = cidr || source || p.contains("IpProtocol");
  if (shorthand) {
    if (!out.empty()) {
      return Status("InvalidParameterCombination",
                    "Give either IpPermissions or CidrIp/IpProtocol/FromPort/ToPort/"
                    "SourceSecurityGroupName, not both");
    }
    Json ports = p;
    if (!ports.contains("IpProtocol")) {
      ports["IpProtocol"] = "-1"; // a group named alone: all traffic from it
    }
    TIDE_ASSIGN_OR_RETURN(PermissionSources ps, protocolAndPorts(ports));
    if (cidr) {
      SecurityGroupRule r;
      r.cidrIpv4 = *cidr;
      TIDE_RETURN_IF_ERROR(cidr4(r.cidrIpv4));
      add(ps, std::move(r));
    }
    if (source) {
      SecurityGroupRule r;
      TIDE_ASSIGN_OR_RETURN(r.referencedGroupId,
                            referencedGroup(tx, Json{{"GroupName", *source}}, group));
      add(ps, std::move(r));
    }
    if (!cidr && !source) {
      return Status("MissingParameter", "The request must contain CidrIp or "
                                        "SourceSecurityGroupName with IpProtocol");
    }
  }
  if (out.empty()) {
    return Status("MissingParameter", "The request must contain IpPermissions");
  }
  return out;
}

std::string describeRule(const SecurityGroupRule& r) {
  std::string peer = !r.cidrIpv4.empty()   ? r.cidrIpv4
                     : !r.cidrIpv6.empty() ? r.cidrIpv6
                                           : r.referencedGroupId;
  std::string protocol = r.ipProtocol == "-1" ? "ALL" : r.ipProtocol;
  std::transform(protocol.begin(), protocol.end(), protocol.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return "peer: " + peer + ", " + protocol + ", from port: " + std::to_string(r.fromPort) +
         ", to port: " + std::to_string(r.toPort) + ", ALLOW";
}

const std::vector<std::string_view> kRuleParams = {"GroupId",
                                                   "GroupName",
                                                   "IpPermissions",
                                                   "CidrIp",
                                                   "IpProtocol",
                                                   "FromPort",
                                                   "ToPort",
                                                   "SourceSecurityGroupName",
                                                   "SourceSecurityGroupOwnerId",
                                                   "TagSpecifications",
                                                   "DryRun"};

Status checkRuleParams(const Json& p, bool egress, bool revoke) {
  std::vector<std::string_view> known(kRuleParams.begin(), kRuleParams.end());
  if (egress) {
    known.erase(std::find(known.begin(), known.end(), "GroupName"));
  }
  if (revoke) {
    known.push_back("SecurityGroupRuleIds");
    known.erase(std::find(known.begin(), known.end(), "TagSpecifications"));
  }
  if (!p.is_object()) {
    return validationError("The request body must be a JSON object of parameters");
  }
  for (auto it = p.begin(); it != p.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      std::string list;
      for (std::string_view k : known) {
        list += list.empty() ? "" : ", ";
        list += k;
      }
      return Status("UnknownParameter",
                    "Unknown parameter '" + it.key() + "'; this action takes: " + list);
    }
  }
  return Status::ok();
}

Result<Json> authorize(ActionContext& ctx, const Json& p, bool egress) {
  TIDE_RETURN_IF_ERROR(checkRuleParams(p, egress, false));
  TIDE_ASSIGN_OR_RETURN(auto id, optString(p, "GroupId"));
  std::optional<std::string> name;
  if (!egress) {
    TIDE_ASSIGN_OR_RETURN(name, optString(p, "GroupName"));
  } else if (!id) {
    return Status("MissingParameter", "The request must contain the parameter GroupId");
  }
  TIDE_ASSIGN_OR_RETURN(auto ruleTags, tagSpecifications(p, "security-group-rule", {}));
  TIDE_RETURN_IF_ERROR(checkTags(ruleTags));
  Json added = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(SecurityGroup g, namedGroup(tx, id, name));
    TIDE_ASSIGN_OR_RETURN(auto rules, requestedRules(tx, p, g, egress));
    for (const SecurityGroupRule& r : rules) {
      for (const SecurityGroupRule& have : g.rules) {
        if (have.samePermission(r)) {
          return Status("InvalidPermission.Duplicate",
                        "the specified rule \"" + describeRule(r) + "\" already exists");
        }
      }
      g.rules.push_back(r);
      added.push_back(securityGroupRuleJson(g, r, ctx));
    }
    return tx.putSecurityGroup(g);
  }));
  return Json{{"Return", true}, {"SecurityGroupRules", added}};
}

Result<Json> revoke(ActionContext& ctx, const Json& p, bool egress) {
  TIDE_RETURN_IF_ERROR(checkRuleParams(p, egress, true));
  TIDE_ASSIGN_OR_RETURN(auto id, optString(p, "GroupId"));
  std::optional<std::string> name;
  if (!egress) {
    TIDE_ASSIGN_OR_RETURN(name, optString(p, "GroupName"));
  } else if (!id) {
    return Status("MissingParameter", "The request must contain the parameter GroupId");
  }
  TIDE_ASSIGN_OR_RETURN(auto ruleIds, optStringList(p, "SecurityGroupRuleIds"));
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(SecurityGroup g, namedGroup(tx, id, name));
    for (const std::string& ruleId : ruleIds) {
      auto it = std::find_if(g.rules.begin(), g.rules.end(), [&](const SecurityGroupRule& r) {
        return r.ruleId == ruleId && r.isEgress == egress;
      });
      if (it == g.rules.end()) {
        return Status("InvalidSecurityGroupRuleId.NotFound",
                      "The security group rule ID '" + ruleId + "' does not exist");
      }
      g.rules.erase(it);
    }
    bool hasPermissions = p.contains("IpPermissions") || p.contains("CidrIp") ||
                          p.contains("IpProtocol") || p.contains("SourceSecurityGroupName");
    if (hasPermissions || ruleIds.empty()) {
      TIDE_ASSIGN_OR_RETURN(auto rules, requestedRules(tx, p, g, egress));
      for (const SecurityGroupRule& r : rules) {
        auto it = std::find_if(g.rules.begin(), g.rules.end(), [&](const SecurityGroupRule& have) {
          return have.samePermission(r);
        });
        if (it == g.rules.end()) {
          return Status("InvalidPermission.NotFound",
                        "The specified rule does not exist in this security group (" +
                            describeRule(r) + ")");
        }
        g.rules.erase(it);
      }
    }
    return tx.putSecurityGroup(g);
  }));
  return Json{{"Return", true}};
}

} // namespace

Result<Json> createSecurityGroup(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"GroupName", "Description", "VpcId", "TagSpecifications", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(std::string name, reqString(p, "GroupName"));
  TIDE_ASSIGN_OR_RETURN(std::string description, reqString(p, "Description"));
  TIDE_ASSIGN_OR_RETURN(auto vpcId, optString(p, "VpcId"));
  TIDE_ASSIGN_OR_RETURN(auto tags, tagSpecifications(p, "security-group", {}));
  TIDE_RETURN_IF_ERROR(checkTags(tags));
  if (name.size() > 255 || description.size() > 255) {
    return Status("InvalidParameterValue",
                  "GroupName and Description are at most 255 characters long");
  }
  if (name.rfind("sg-", 0) == 0) {
    return Status("InvalidParameterValue", "Group names may not start with 'sg-'");
  }
  SecurityGroup g;
  g.groupId = newId("sg");
  g.groupName = name;
  g.description = description;
  g.createTime = ctx.clock.now();
  g.tags = tags;
  g.rules.push_back(model::allTrafficOut()); // as AWS gives every new group
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    if (vpcId) {
      TIDE_ASSIGN_OR_RETURN(auto vpc, tx.vpc(*vpcId));
      if (!vpc) {
        return notFound("InvalidVpcID.NotFound", "vpc ID", {*vpcId});
      }
      g.vpcId = vpc->vpcId;
    } else {
      TIDE_ASSIGN_OR_RETURN(auto vpc, defaultVpc(tx));
      if (!vpc) {
        return Status("VPCIdNotSpecified", "No default VPC for this user: give VpcId");
      }
      g.vpcId = vpc->vpcId;
    }
    TIDE_ASSIGN_OR_RETURN(auto siblings, tx.securityGroups(g.vpcId));
    for (const SecurityGroup& s : siblings) {
      if (s.groupName == name) {
        return Status("InvalidGroup.Duplicate",
                      "The security group '" + name + "' already exists for VPC '" + g.vpcId + "'");
      }
    }
    return tx.putSecurityGroup(g);
  }));
  return Json{{"GroupId", g.groupId}, {"Tags", tagsJson(g.tags)}};
}

Result<Json> deleteSecurityGroup(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"GroupId", "GroupName", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto id, optString(p, "GroupId"));
  TIDE_ASSIGN_OR_RETURN(auto name, optString(p, "GroupName"));
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(SecurityGroup g, namedGroup(tx, id, name));
    if (g.isDefault()) {
      return Status("CannotDelete", "the specified group: \"" + g.groupId +
                                        "\" name: \"default\" cannot be deleted by a user");
    }
    TIDE_ASSIGN_OR_RETURN(auto all, tx.securityGroups(""));
    for (const SecurityGroup& other : all) {
      for (const SecurityGroupRule& r : other.rules) {
        if (other.groupId != g.groupId && r.referencedGroupId == g.groupId) {
          return Status("DependencyViolation", "resource " + g.groupId +
                                                   " has a dependent object (a rule of " +
                                                   other.groupId + ")");
        }
      }
    }
    TIDE_ASSIGN_OR_RETURN(auto instances, tx.instances());
    for (const model::Instance& i : instances) {
      bool uses = std::find(i.securityGroupIds.begin(), i.securityGroupIds.end(), g.groupId) !=
                  i.securityGroupIds.end();
      if (uses && i.state != model::InstanceState::Terminated) {
        return Status("DependencyViolation", "resource " + g.groupId +
                                                 " has a dependent object (instance " +
                                                 i.instanceId + ")");
      }
    }
    return tx.deleteSecurityGroup(g.groupId);
  }));
  return Json::object();
}

Result<Json> describeSecurityGroups(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"GroupIds", "GroupNames", "Filters", "MaxResults", "NextToken", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto ids, optStringList(p, "GroupIds"));
  TIDE_ASSIGN_OR_RETURN(auto names, optStringList(p, "GroupNames"));
  TIDE_ASSIGN_OR_RETURN(auto fs, filters(p));
  std::vector<SecurityGroup> groups;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        if (ids.empty() && names.empty()) {
          TIDE_ASSIGN_OR_RETURN(groups, tx.securityGroups(""));
          return Status::ok();
        }
        std::vector<std::string> missing;
        for (const std::string& id : ids) {
          TIDE_ASSIGN_OR_RETURN(auto g, tx.securityGroup(id));
          if (!g) {
            missing.push_back(id);
          } else {
            groups.push_back(std::move(*g));
          }
        }
        if (!missing.empty()) {
          return notFound("InvalidGroup.NotFound", "security group", missing);
        }
        for (const std::string& name : names) {
          TIDE_ASSIGN_OR_RETURN(SecurityGroup g, namedGroup(tx, std::nullopt, name));
          groups.push_back(std::move(g));
        }
        return Status::ok();
      },
      false));
  Json out = Json::array();
  for (const SecurityGroup& g : groups) {
    TIDE_ASSIGN_OR_RETURN(bool keep,
                          matchesFilters(
                              fs, g.tags,
                              [&](const std::string& f) -> std::optional<std::vector<std::string>> {
                                if (f == "group-name") {
                                  return std::vector{g.groupName};
                                }
                                if (f == "group-id") {
                                  return std::vector{g.groupId};
                                }
                                if (f == "vpc-id") {
                                  return std::vector{g.vpcId};
                                }
                                if (f == "description") {
                                  return std::vector{g.description};
                                }
                                if (f == "owner-id") {
                                  return std::vector{ctx.accountId};
                                }
                                return std::nullopt;
                              },
                              "group-name, group-id, vpc-id, description, owner-id"));
    if (keep) {
      out.push_back(securityGroupJson(g, ctx));
    }
  }
  return Json{{"SecurityGroups", out}};
}

Result<Json> describeSecurityGroupRules(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"SecurityGroupRuleIds", "Filters", "MaxResults", "NextToken", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto ids, optStringList(p, "SecurityGroupRuleIds"));
  TIDE_ASSIGN_OR_RETURN(auto fs, filters(p));
  std::vector<SecurityGroup> groups;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(groups, tx.securityGroups(""));
        return Status::ok();
      },
      false));
  Json out = Json::array();
  std::vector<std::string> found;
  for (const SecurityGroup& g : groups) {
    for (const SecurityGroupRule& r : g.rules) {
      if (!ids.empty() && std::find(ids.begin(), ids.end(), r.ruleId) == ids.end()) {
        continue;
      }
      found.push_back(r.ruleId);
      TIDE_ASSIGN_OR_RETURN(
          bool keep, matchesFilters(
                         fs, {},
                         [&](const std::string& f) -> std::optional<std::vector<std::string>> {
                           if (f == "group-id") {
                             return std::vector{g.groupId};
                           }
                           if (f == "security-group-rule-id") {
                             return std::vector{r.ruleId};
                           }
                           return std::nullopt;
                         },
                         "group-id, security-group-rule-id"));
      if (keep) {
        out.push_back(securityGroupRuleJson(g, r, ctx));
      }
    }
  }
  for (const std::string& id : ids) {
    if (std::find(found.begin(), found.end(), id) == found.end()) {
      return Status("InvalidSecurityGroupRuleId.NotFound",
                    "The security group rule ID '" + id + "' does not exist");
    }
  }
  return Json{{"SecurityGroupRules", out}};
}

Result<Json> authorizeSecurityGroupIngress(ActionContext& ctx, const Json& p) {
  return authorize(ctx, p, false);
}
Result<Json> authorizeSecurityGroupEgress(ActionContext& ctx, const Json& p) {
  return authorize(ctx, p, true);
}
Result<Json> revokeSecurityGroupIngress(ActionContext& ctx, const Json& p) {
  return revoke(ctx, p, false);
}
Result<Json> revokeSecurityGroupEgress(ActionContext& ctx, const Json& p) {
  return revoke(ctx, p, true);
}

} // namespace tide::api
