// CreateVpc, DeleteVpc, DescribeVpcs, CreateSubnet, DeleteSubnet, DescribeSubnets.
//
// VPCs and subnets are kept and shown as EC2 shows them; tide does not place instances in them
// (instances run on loopback addresses). The default VPC and its default subnets come with the
// store (schema version 5): nobody creates them, and they can be deleted as on AWS.
#include "api/handlers.h"
#include "api/network_shapes.h"
#include "api/params.h"
#include "common/ids.h"

#include <algorithm>

namespace tide::api {

namespace {

Result<model::Vpc> existingVpc(store::Tx& tx, const std::string& id) {
  TIDE_ASSIGN_OR_RETURN(auto v, tx.vpc(id));
  if (!v) {
    return notFound("InvalidVpcID.NotFound", "vpc ID", {id});
  }
  return std::move(*v);
}

std::string boolText(bool b) {
  return b ? "true" : "false";
}

} // namespace

Result<Json> createVpc(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"CidrBlock", "InstanceTenancy", "AmazonProvidedIpv6CidrBlock",
                           "TagSpecifications", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(std::string cidr, reqString(p, "CidrBlock"));
  TIDE_ASSIGN_OR_RETURN(auto tenancy, optString(p, "InstanceTenancy"));
  TIDE_ASSIGN_OR_RETURN(auto ipv6, optBool(p, "AmazonProvidedIpv6CidrBlock"));
  TIDE_ASSIGN_OR_RETURN(auto tags, tagSpecifications(p, "vpc", {}));
  TIDE_RETURN_IF_ERROR(checkTags(tags));
  auto block = model::parseIpv4Block(cidr);
  if (!block) {
    return Status("InvalidParameterValue", "Value (" + cidr +
                                               ") for parameter cidrBlock is invalid. This is not "
                                               "a valid CIDR block.");
  }
  if (block->prefix < 16 || block->prefix > 28) {
    return Status("InvalidVpc.Range",
                  "The CIDR '" + cidr + "' is invalid: a VPC's block is a /16 to a /28");
  }
  if (tenancy && *tenancy != "default") {
    return Status("InvalidParameterValue", "tide offers only InstanceTenancy 'default'");
  }
  if (ipv6.value_or(false)) {
    return Status("InvalidParameterValue", "tide does not offer IPv6 blocks for VPCs yet");
  }
  model::Vpc vpc;
  vpc.vpcId = newId("vpc");
  vpc.cidrBlock = cidr;
  vpc.cidrAssociationId = newId("vpc-cidr-assoc");
  vpc.createTime = ctx.clock.now();
  vpc.tags = tags;
  model::SecurityGroup group = model::defaultSecurityGroup(vpc.vpcId, ctx.clock.now());
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_RETURN_IF_ERROR(tx.putVpc(vpc));
    return tx.putSecurityGroup(group);
  }));
  return Json{{"Vpc", vpcJson(vpc, ctx)}};
}

Result<Json> deleteVpc(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"VpcId", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(std::string id, reqString(p, "VpcId"));
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(model::Vpc vpc, existingVpc(tx, id));
    TIDE_ASSIGN_OR_RETURN(auto subnets, tx.subnets(vpc.vpcId));
    TIDE_ASSIGN_OR_RETURN(auto groups, tx.securityGroups(vpc.vpcId));
    bool otherGroups = std::any_of(groups.begin(), groups.end(),
                                   [](const model::SecurityGroup& g) { return !g.isDefault(); });
    if (!subnets.empty() || otherGroups) {
      return Status("DependencyViolation",
                    "The vpc '" + id +
                        "' has dependencies and cannot be deleted (delete its subnets and its "
                        "security groups other than 'default' first)");
    }
    for (const model::SecurityGroup& g : groups) {
      TIDE_RETURN_IF_ERROR(tx.deleteSecurityGroup(g.groupId));
    }
    return tx.deleteVpc(id);
  }));
  return Json::object();
}

Result<Json> describeVpcs(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"VpcIds", "Filters", "MaxResults", "NextToken", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto ids, optStringList(p, "VpcIds"));
  TIDE_ASSIGN_OR_RETURN(auto fs, filters(p));
  std::vector<model::Vpc> vpcs;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(vpcs, tx.vpcs());
        return requireIds(
            ids, vpcs, [](const model::Vpc& v) { return v.vpcId; }, "InvalidVpcID.NotFound",
            "vpc ID");
      },
      false));
  Json out = Json::array();
  for (const model::Vpc& v : vpcs) {
    if (!ids.empty() && std::find(ids.begin(), ids.end(), v.vpcId) == ids.end()) {
      continue;
    }
    TIDE_ASSIGN_OR_RETURN(
        bool keep,
        matchesFilters(
            fs, v.tags,
            [&](const std::string& f) -> std::optional<std::vector<std::string>> {
              if (f == "vpc-id") {
                return std::vector{v.vpcId};
              }
              if (f == "is-default") {
                return std::vector{boolText(v.isDefault)};
              }
              if (f == "cidr" || f == "cidr-block-association.cidr-block") {
                return std::vector{v.cidrBlock};
              }
              if (f == "state") {
                return std::vector<std::string>{"available"};
              }
              if (f == "owner-id") {
                return std::vector{ctx.accountId};
              }
              return std::nullopt;
            },
            "vpc-id, is-default, cidr, cidr-block-association.cidr-block, state, owner-id"));
    if (keep) {
      out.push_back(vpcJson(v, ctx));
    }
  }
  return Json{{"Vpcs", out}};
}

Result<Json> createSubnet(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"VpcId", "CidrBlock", "AvailabilityZone",
                                            "AvailabilityZoneId", "TagSpecifications", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(std::string vpcId, reqString(p, "VpcId"));
  TIDE_ASSIGN_OR_RETURN(std::string cidr, reqString(p, "CidrBlock"));
  TIDE_ASSIGN_OR_RETURN(auto zone, optString(p, "AvailabilityZone"));
  TIDE_ASSIGN_OR_RETURN(auto zoneIdGiven, optString(p, "AvailabilityZoneId"));
  TIDE_ASSIGN_OR_RETURN(auto tags, tagSpecifications(p, "subnet", {}));
  TIDE_RETURN_IF_ERROR(checkTags(tags));
  auto block = model::parseIpv4Block(cidr);
  if (!block) {
    return Status("InvalidParameterValue", "Value (" + cidr +
                                               ") for parameter cidrBlock is invalid. This is not "
                                               "a valid CIDR block.");
  }
  if (block->prefix < 16 || block->prefix > 28) {
    return Status("InvalidSubnet.Range",
                  "The CIDR '" + cidr + "' is invalid: a subnet's block is a /16 to a /28");
  }
  std::optional<std::string> letter;
  for (const auto& given : {zone, zoneIdGiven}) {
    if (!given) {
      continue;
    }
    auto l = zoneLetterOf(ctx.region, *given);
    if (!l || (letter && *letter != *l)) {
      std::string zones;
      for (char c : model::kZoneLetters) {
        zones += zones.empty() ? "" : ", ";
        zones += zoneName(ctx.region, std::string(1, c));
      }
      return Status("InvalidParameterValue",
                    "Value (" + *given +
                        ") for parameter availabilityZone is invalid. Subnets can currently "
                        "only be created in the following availability zones: " +
                        zones + ".");
    }
    letter = l;
  }
  model::Subnet subnet;
  subnet.subnetId = newId("subnet");
  subnet.vpcId = vpcId;
  subnet.cidrBlock = cidr;
  subnet.createTime = ctx.clock.now();
  subnet.tags = tags;
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(model::Vpc vpc, existingVpc(tx, vpcId));
    auto vpcBlock = model::parseIpv4Block(vpc.cidrBlock);
    if (!vpcBlock || !vpcBlock->contains(*block)) {
      return Status("InvalidSubnet.Range", "The CIDR '" + cidr +
                                               "' is invalid: it is not inside the VPC's " +
                                               vpc.cidrBlock);
    }
    TIDE_ASSIGN_OR_RETURN(auto siblings, tx.subnets(vpcId));
    for (const model::Subnet& s : siblings) {
      auto other = model::parseIpv4Block(s.cidrBlock);
      if (other && other->overlaps(*block)) {
        return Status("InvalidSubnet.Conflict", "The CIDR '" + cidr +
                                                    "' conflicts with another subnet (" +
                                                    s.subnetId + ", " + s.cidrBlock + ")");
      }
    }
    if (!letter) {
      // As AWS does when no zone is named: one of the region's zones (here the one with the
      // fewest of the VPC's subnets, so that subnets spread).
      size_t best = SIZE_MAX;
      for (char c : model::kZoneLetters) {
        size_t n = static_cast<size_t>(
            std::count_if(siblings.begin(), siblings.end(), [&](const model::Subnet& s) {
              return s.zoneLetter == std::string(1, c);
            }));
        if (n < best) {
          best = n;
          letter = std::string(1, c);
        }
      }
    }
    subnet.zoneLetter = *letter;
    return tx.putSubnet(subnet);
  }));
  return Json{{"Subnet", subnetJson(subnet, ctx)}};
}

Result<Json> deleteSubnet(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"SubnetId", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(std::string id, reqString(p, "SubnetId"));
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto s, tx.subnet(id));
    if (!s) {
      return notFound("InvalidSubnetID.NotFound", "subnet ID", {id});
    }
    return tx.deleteSubnet(id);
  }));
  return Json::object();
}

Result<Json> describeSubnets(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"SubnetIds", "Filters", "MaxResults", "NextToken", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto ids, optStringList(p, "SubnetIds"));
  TIDE_ASSIGN_OR_RETURN(auto fs, filters(p));
  std::vector<model::Subnet> subnets;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(subnets, tx.subnets(""));
        return requireIds(
            ids, subnets, [](const model::Subnet& s) { return s.subnetId; },
            "InvalidSubnetID.NotFound", "subnet ID");
      },
      false));
  Json out = Json::array();
  for (const model::Subnet& s : subnets) {
    if (!ids.empty() && std::find(ids.begin(), ids.end(), s.subnetId) == ids.end()) {
      continue;
    }
    TIDE_ASSIGN_OR_RETURN(
        bool keep,
        matchesFilters(
            fs, s.tags,
            [&](const std::string& f) -> std::optional<std::vector<std::string>> {
              if (f == "vpc-id") {
                return std::vector{s.vpcId};
              }
              if (f == "subnet-id") {
                return std::vector{s.subnetId};
              }
              if (f == "availability-zone" || f == "availabilityZone") {
                return std::vector{zoneName(ctx.region, s.zoneLetter)};
              }
              if (f == "availability-zone-id") {
                return std::vector{zoneId(ctx.region, s.zoneLetter)};
              }
              if (f == "default-for-az" || f == "defaultForAz") {
                return std::vector{boolText(s.defaultForAz)};
              }
              if (f == "cidr-block" || f == "cidr" || f == "cidrBlock") {
                return std::vector{s.cidrBlock};
              }
              if (f == "map-public-ip-on-launch") {
                return std::vector{boolText(s.mapPublicIpOnLaunch)};
              }
              if (f == "state") {
                return std::vector<std::string>{"available"};
              }
              if (f == "owner-id") {
                return std::vector{ctx.accountId};
              }
              return std::nullopt;
            },
            "vpc-id, subnet-id, availability-zone, availability-zone-id, default-for-az, "
            "cidr-block, map-public-ip-on-launch, state, owner-id"));
    if (keep) {
      out.push_back(subnetJson(s, ctx));
    }
  }
  return Json{{"Subnets", out}};
}

} // namespace tide::api
