// ELBv2's AddTags, RemoveTags and DescribeTags (load balancers, target groups, listeners and
// rules, by ARN), and SetSubnets and SetSecurityGroups on load balancers.
//
// Each resource keeps its tags in its own row (rules in their listener's), so deleting the
// resource deletes its tags. Subnets and security groups are the EC2 network resources of the
// store (schema version 6); they are checked, kept and shown, not enforced.
#include "api/elb_shapes.h"
#include "api/handlers.h"
#include "api/network_shapes.h"
#include "api/params.h"

#include <algorithm>
#include <set>

namespace tide::api {

namespace {

constexpr size_t kMaxTags = 50;         // per resource (ELBv2's quota)
constexpr size_t kMaxResourceArns = 20; // per AddTags, RemoveTags or DescribeTags

using model::Tag;
using Tags = std::vector<Tag>;

// The tags of one resource named by ARN, read and written through its row.
struct TaggedResource {
  std::string arn;
  Tags tags;
  std::function<Status(store::Tx&, const Tags&)> write;
};

Result<TaggedResource> findTagged(store::Tx& tx, const std::string& arn) {
  TaggedResource r{arn, {}, {}};
  if (arn.find(":loadbalancer/") != std::string::npos) {
    TIDE_ASSIGN_OR_RETURN(auto lb, tx.loadBalancer(arn));
    if (!lb) {
      return Status("LoadBalancerNotFound", "One or more load balancers not found: '" + arn + "'");
    }
    r.tags = lb->tags;
    r.write = [lb = *lb](store::Tx& t, const Tags& tags) mutable {
      lb.tags = tags;
      return t.putLoadBalancer(lb);
    };
    return r;
  }
  if (arn.find(":targetgroup/") != std::string::npos) {
    TIDE_ASSIGN_OR_RETURN(auto tg, tx.targetGroup(arn));
    if (!tg) {
      return Status("TargetGroupNotFound", "One or more target groups not found: '" + arn + "'");
    }
    r.tags = tg->tags;
    r.write = [tg = *tg](store::Tx& t, const Tags& tags) mutable {
      tg.tags = tags;
      return t.putTargetGroup(tg);
    };
    return r;
  }
  if (arn.find(":listener/") != std::string::npos) {
    TIDE_ASSIGN_OR_RETURN(auto l, tx.listener(arn));
    if (!l) {
      return Status("ListenerNotFound", "One or more listeners not found: '" + arn + "'");
    }
    r.tags = l->tags;
    r.write = [l = *l](store::Tx& t, const Tags& tags) mutable {
      l.tags = tags;
      return t.putListener(l);
    };
    return r;
  }
  size_t at = arn.find(":listener-rule/");
  if (at != std::string::npos) {
    // ...:listener-rule/app/LB/LBID/LISTENERID/RULEID belongs to
    // ...:listener/app/LB/LBID/LISTENERID
    size_t last = arn.rfind('/');
    std::string listenerArn =
        arn.substr(0, at) + ":listener/" + arn.substr(at + 15, last - (at + 15));
    TIDE_ASSIGN_OR_RETURN(auto l, tx.listener(listenerArn));
    if (l) {
      for (const model::Rule& rule : l->rules) {
        if (rule.ruleArn == arn) {
          r.tags = rule.tags;
          r.write = [l = *l, arn](store::Tx& t, const Tags& tags) mutable {
            for (model::Rule& x : l.rules) {
              if (x.ruleArn == arn) {
                x.tags = tags;
              }
            }
            return t.putListener(l);
          };
          return r;
        }
      }
    }
    return Status("RuleNotFound", "One or more rules not found: '" + arn + "'");
  }
  return validationError("'" + arn +
                         "' is not the ARN of a load balancer, target group, listener or rule");
}

Result<std::vector<std::string>> resourceArns(const Json& p) {
  TIDE_ASSIGN_OR_RETURN(auto arns, optStringList(p, "ResourceArns"));
  if (arns.empty()) {
    return validationError("The request must contain at least one of ResourceArns");
  }
  if (arns.size() > kMaxResourceArns) {
    return validationError("ResourceArns holds at most " + std::to_string(kMaxResourceArns) +
                           " ARNs, got " + std::to_string(arns.size()));
  }
  return arns;
}

// Key 1..128 characters, not "aws:"-prefixed; value up to 256.
Status checkElbTag(const Tag& t) {
  if (t.key.empty() || t.key.size() > 128) {
    return validationError("Tag key '" + t.key + "' must be 1 to 128 characters long");
  }
  if (t.key.rfind("aws:", 0) == 0) {
    return validationError("Tag key '" + t.key + "' uses the reserved prefix 'aws:'");
  }
  if (t.value.size() > 256) {
    return validationError("Value of tag '" + t.key + "' is longer than 256 characters");
  }
  return Status::ok();
}

// Changes the tags of every resource in one transaction: all exist, or nothing changes.
Status changeTags(ActionContext& ctx, const std::vector<std::string>& arns,
                  const std::function<Result<Tags>(Tags)>& change) {
  return ctx.store.transact([&](store::Tx& tx) -> Status {
    for (const std::string& arn : arns) {
      TIDE_ASSIGN_OR_RETURN(TaggedResource r, findTagged(tx, arn));
      TIDE_ASSIGN_OR_RETURN(Tags changed, change(std::move(r.tags)));
      TIDE_RETURN_IF_ERROR(r.write(tx, changed));
    }
    return Status::ok();
  });
}

// The load balancer's subnets: those it was given, or the default VPC's default subnets.
Result<std::vector<model::Subnet>> subnetsOf(store::Tx& tx, const model::LoadBalancer& lb) {
  std::vector<model::Subnet> out;
  if (lb.subnetIds.empty()) {
    TIDE_ASSIGN_OR_RETURN(auto vpcs, tx.vpcs());
    for (const model::Vpc& v : vpcs) {
      if (!v.isDefault) {
        continue;
      }
      TIDE_ASSIGN_OR_RETURN(auto subnets, tx.subnets(v.vpcId));
      for (model::Subnet& s : subnets) {
        if (s.defaultForAz) {
          out.push_back(std::move(s));
        }
      }
    }
    return out;
  }
  for (const std::string& id : lb.subnetIds) {
    TIDE_ASSIGN_OR_RETURN(auto s, tx.subnet(id));
    if (s) { // a subnet deleted since is no longer shown
      out.push_back(std::move(*s));
    }
  }
  return out;
}

} // namespace

Result<std::vector<std::string>> checkLoadBalancerSubnets(store::Tx& tx,
                                                          const std::vector<std::string>& ids) {
  std::vector<model::Subnet> subnets;
  std::set<std::string> zones;
  for (const std::string& id : ids) {
    TIDE_ASSIGN_OR_RETURN(auto s, tx.subnet(id));
    if (!s) {
      return Status("SubnetNotFound", "The specified subnet does not exist: '" + id + "'");
    }
    if (!subnets.empty() && s->vpcId != subnets[0].vpcId) {
      return Status("InvalidConfigurationRequest",
                    "Subnets " + subnets[0].subnetId + " and " + id +
                        " are in different VPCs; a load balancer's subnets share one VPC");
    }
    if (!zones.insert(s->zoneLetter).second) {
      return Status("InvalidConfigurationRequest",
                    "You cannot specify multiple subnets in the same Availability Zone (subnet " +
                        id + ")");
    }
    subnets.push_back(std::move(*s));
  }
  if (zones.size() < 2) {
    return Status("InvalidConfigurationRequest",
                  "At least two subnets in two different Availability Zones must be specified");
  }
  return ids;
}

Status checkLoadBalancerSecurityGroups(store::Tx& tx, const model::LoadBalancer& lb,
                                       const std::vector<std::string>& ids) {
  TIDE_ASSIGN_OR_RETURN(auto subnets, subnetsOf(tx, lb));
  std::string vpcId = subnets.empty() ? "" : subnets[0].vpcId;
  std::set<std::string> seen;
  for (const std::string& id : ids) {
    TIDE_ASSIGN_OR_RETURN(auto g, tx.securityGroup(id));
    if (!g) {
      return Status("InvalidSecurityGroup", "Security group '" + id + "' does not exist");
    }
    if (!vpcId.empty() && g->vpcId != vpcId) {
      return Status("InvalidSecurityGroup", "Security group '" + id + "' is in VPC " + g->vpcId +
                                                ", not the load balancer's VPC " + vpcId);
    }
    if (!seen.insert(id).second) {
      return validationError("Security group '" + id + "' is given twice");
    }
  }
  return Status::ok();
}

Result<Json> loadBalancerJsonIn(store::Tx& tx, const model::LoadBalancer& lb,
                                const ActionContext& ctx) {
  Json j = loadBalancerJson(lb);
  TIDE_ASSIGN_OR_RETURN(auto subnets, subnetsOf(tx, lb));
  Json zones = Json::array();
  for (const model::Subnet& s : subnets) {
    Json addresses = Json::array();
    if (!lb.ipAddress.empty()) { // one address serves every zone
      addresses.push_back({{"IpAddress", lb.ipAddress}});
    }
    zones.push_back({{"ZoneName", zoneName(ctx.region, s.zoneLetter)},
                     {"SubnetId", s.subnetId},
                     {"LoadBalancerAddresses", addresses}});
  }
  j["AvailabilityZones"] = zones;
  if (!subnets.empty()) {
    j["VpcId"] = subnets[0].vpcId;
  }
  Json groups = Json::array();
  for (const std::string& id : lb.securityGroupIds) {
    groups.push_back(id);
  }
  if (groups.empty() && !subnets.empty()) { // AWS: the VPC's default security group
    TIDE_ASSIGN_OR_RETURN(auto all, tx.securityGroups(subnets[0].vpcId));
    for (const model::SecurityGroup& g : all) {
      if (g.isDefault()) {
        groups.push_back(g.groupId);
      }
    }
  }
  j["SecurityGroups"] = groups;
  return j;
}

Result<Json> addTags(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"ResourceArns", "Tags"}));
  TIDE_ASSIGN_OR_RETURN(auto arns, resourceArns(p));
  TIDE_ASSIGN_OR_RETURN(Tags add, elbTags(p));
  if (add.empty()) {
    return validationError("The request must contain at least one tag in Tags");
  }
  std::set<std::string> keys;
  for (const Tag& t : add) {
    TIDE_RETURN_IF_ERROR(checkElbTag(t));
    if (!keys.insert(t.key).second) {
      return Status("DuplicateTagKeys", "A tag key was specified more than once: '" + t.key + "'");
    }
  }
  TIDE_RETURN_IF_ERROR(changeTags(ctx, arns, [&](Tags tags) -> Result<Tags> {
    for (const Tag& t : add) {
      auto same =
          std::find_if(tags.begin(), tags.end(), [&](const Tag& x) { return x.key == t.key; });
      if (same != tags.end()) {
        same->value = t.value;
      } else {
        tags.push_back(t);
      }
    }
    if (tags.size() > kMaxTags) {
      return Status("TooManyTags", "You've reached the limit on the number of tags (" +
                                       std::to_string(kMaxTags) + ") for this resource");
    }
    return tags;
  }));
  return Json::object();
}

Result<Json> removeTags(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"ResourceArns", "TagKeys"}));
  TIDE_ASSIGN_OR_RETURN(auto arns, resourceArns(p));
  TIDE_ASSIGN_OR_RETURN(auto keys, optStringList(p, "TagKeys"));
  if (keys.empty()) {
    return validationError("The request must contain at least one key in TagKeys");
  }
  TIDE_RETURN_IF_ERROR(changeTags(ctx, arns, [&](Tags tags) -> Result<Tags> {
    std::erase_if(tags, [&](const Tag& t) {
      return std::find(keys.begin(), keys.end(), t.key) != keys.end();
    });
    return tags;
  }));
  return Json::object();
}

Result<Json> describeElbTags(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"ResourceArns"}));
  TIDE_ASSIGN_OR_RETURN(auto arns, resourceArns(p));
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        for (const std::string& arn : arns) {
          TIDE_ASSIGN_OR_RETURN(TaggedResource r, findTagged(tx, arn));
          out.push_back({{"ResourceArn", arn}, {"Tags", tagsJson(r.tags)}});
        }
        return Status::ok();
      },
      false));
  return Json{{"TagDescriptions", out}};
}

Result<Json> setSubnets(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"LoadBalancerArn", "Subnets", "SubnetMappings",
                                            "IpAddressType", "EnablePrefixForIpv6SourceNat"}));
  auto arn = reqString(p, "LoadBalancerArn");
  auto subnets = optStringList(p, "Subnets");
  auto ipType = optString(p, "IpAddressType");
  TIDE_RETURN_IF_ERROR(firstError({&arn.status(), &subnets.status(), &ipType.status()}));
  TIDE_ASSIGN_OR_RETURN(auto ids, subnetIdsOf(p));
  if (ipType->value_or("ipv4") != "ipv4") {
    return validationError("IpAddressType '" + **ipType + "' is not supported: tide's load " +
                           "balancers are ipv4");
  }
  Json zones;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto lb, tx.loadBalancer(*arn));
    if (!lb) {
      return Status("LoadBalancerNotFound", "One or more load balancers not found: '" + *arn + "'");
    }
    TIDE_ASSIGN_OR_RETURN(lb->subnetIds, checkLoadBalancerSubnets(tx, ids));
    TIDE_RETURN_IF_ERROR(tx.putLoadBalancer(*lb));
    TIDE_ASSIGN_OR_RETURN(Json j, loadBalancerJsonIn(tx, *lb, ctx));
    zones = j["AvailabilityZones"];
    return Status::ok();
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"AvailabilityZones", zones}, {"IpAddressType", "ipv4"}};
}

Result<Json> setSecurityGroups(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"LoadBalancerArn", "SecurityGroups",
                           "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"}));
  auto arn = reqString(p, "LoadBalancerArn");
  auto groups = optStringList(p, "SecurityGroups");
  TIDE_RETURN_IF_ERROR(firstError({&arn.status(), &groups.status()}));
  if (!p.contains("SecurityGroups")) {
    return validationError("The request must contain the parameter SecurityGroups");
  }
  Json shown;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto lb, tx.loadBalancer(*arn));
    if (!lb) {
      return Status("LoadBalancerNotFound", "One or more load balancers not found: '" + *arn + "'");
    }
    TIDE_RETURN_IF_ERROR(checkLoadBalancerSecurityGroups(tx, *lb, *groups));
    lb->securityGroupIds = *groups;
    TIDE_RETURN_IF_ERROR(tx.putLoadBalancer(*lb));
    TIDE_ASSIGN_OR_RETURN(Json j, loadBalancerJsonIn(tx, *lb, ctx));
    shown = j["SecurityGroups"];
    return Status::ok();
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"SecurityGroupIds", shown}};
}

Result<std::vector<std::string>> subnetIdsOf(const Json& p) {
  TIDE_ASSIGN_OR_RETURN(auto ids, optStringList(p, "Subnets"));
  auto it = p.find("SubnetMappings");
  if (it != p.end() && !it->is_null()) {
    if (!it->is_array()) {
      return validationError("SubnetMappings must be a list of {SubnetId}");
    }
    for (const Json& m : *it) {
      if (!m.is_object()) {
        return validationError("SubnetMappings must be a list of {SubnetId}");
      }
      TIDE_RETURN_IF_ERROR(checkKnownParams(m, {"SubnetId", "AllocationId", "PrivateIPv4Address",
                                                "IPv6Address", "SourceNatIpv6Prefix"}));
      TIDE_ASSIGN_OR_RETURN(std::string id, reqString(m, "SubnetId"));
      if (m.contains("AllocationId") || m.contains("PrivateIPv4Address") ||
          m.contains("IPv6Address")) {
        return Status("InvalidConfigurationRequest",
                      "SubnetMappings' addresses are for network load balancers; tide runs "
                      "application load balancers");
      }
      ids.push_back(id);
    }
  }
  if (ids.empty()) {
    return validationError("The request must contain Subnets or SubnetMappings");
  }
  return ids;
}

} // namespace tide::api
