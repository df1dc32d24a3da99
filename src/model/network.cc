#include "model/network.h"

#include "common/ids.h"

#include <charconv>

namespace tide::model {

std::optional<Ipv4Block> parseIpv4Block(std::string_view cidr) {
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) {
    return std::nullopt;
  }
  uint32_t addr = 0;
  std::string_view ip = cidr.substr(0, slash);
  for (int octet = 0; octet < 4; ++octet) {
    size_t dot = octet < 3 ? ip.find('.') : ip.size();
    if (dot == std::string_view::npos || dot == 0 || dot > 3) {
      return std::nullopt;
    }
    std::string_view part = ip.substr(0, dot);
    if (part.size() > 1 && part[0] == '0') {
      return std::nullopt; // no leading zeros (EC2 refuses "010.0.0.0")
    }
    unsigned v = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc() || end != part.data() + part.size() || v > 255) {
      return std::nullopt;
    }
    addr = (addr << 8) | v;
    ip = octet < 3 ? ip.substr(dot + 1) : std::string_view();
  }
  std::string_view bits = cidr.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
  if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size() || prefix < 0 ||
      prefix > 32) {
    return std::nullopt;
  }
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  if ((addr & ~mask) != 0) {
    return std::nullopt;
  }
  return Ipv4Block{addr & mask, prefix};
}

SecurityGroupRule allTrafficOut() {
  SecurityGroupRule r;
  r.ruleId = newId("sgr");
  r.isEgress = true;
  r.ipProtocol = "-1";
  r.cidrIpv4 = "0.0.0.0/0";
  return r;
}

SecurityGroup defaultSecurityGroup(const std::string& vpcId, TimeMs now) {
  SecurityGroup g;
  g.groupId = newId("sg");
  g.groupName = "default";
  g.description = "default VPC security group";
  g.vpcId = vpcId;
  g.createTime = now;
  SecurityGroupRule in;
  in.ruleId = newId("sgr");
  in.ipProtocol = "-1";
  in.referencedGroupId = g.groupId;
  g.rules.push_back(in);
  g.rules.push_back(allTrafficOut());
  return g;
}

DefaultNetwork defaultNetwork(TimeMs now) {
  DefaultNetwork n;
  n.vpc.vpcId = newId("vpc");
  n.vpc.cidrBlock = "172.31.0.0/16";
  n.vpc.cidrAssociationId = newId("vpc-cidr-assoc");
  n.vpc.isDefault = true;
  n.vpc.createTime = now;
  for (size_t i = 0; i < kZoneLetters.size(); ++i) {
    Subnet s;
    s.subnetId = newId("subnet");
    s.vpcId = n.vpc.vpcId;
    s.cidrBlock = "172.31." + std::to_string(16 * i) + ".0/20";
    s.zoneLetter = std::string(1, kZoneLetters[i]);
    s.defaultForAz = true;
    s.mapPublicIpOnLaunch = true;
    s.createTime = now;
    n.subnets.push_back(s);
  }
  n.defaultGroup = defaultSecurityGroup(n.vpc.vpcId, now);
  return n;
}

} // namespace tide::model
