// EC2's networking and access resources as tide keeps them: VPCs, subnets, security groups
// with their rules, and key pairs. They are kept and shown in EC2's shapes. Security groups are
// enforced by the kernel when tide runs as root (control/security_group_firewall.h); VPCs and
// subnets place nothing (instances run on loopback addresses).
//
// Availability zones are kept as the zone's letter ("a"), not its full name: the region is the
// request's (its signature's scope), so the API names the zone "<region>a" when it answers.
#pragma once

#include "model/types.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tide::model {

// The zones tide offers in every region, by letter ("a", "b", "c").
inline constexpr std::string_view kZoneLetters = "abc";

struct Vpc {
  std::string vpcId;             // "vpc-" + 17 hex digits
  std::string cidrBlock;         // "10.0.0.0/16": a /16 to /28 IPv4 block
  std::string cidrAssociationId; // "vpc-cidr-assoc-" + 17 hex digits
  bool isDefault = false;        // the default VPC (made with the store; see defaultNetwork())
  TimeMs createTime = 0;
  std::vector<Tag> tags;
};

struct Subnet {
  std::string subnetId;      // "subnet-" + 17 hex digits
  std::string vpcId;         // its VPC
  std::string cidrBlock;     // inside its VPC's block, overlapping no other subnet of the VPC
  std::string zoneLetter;    // "a", "b" or "c" (see kZoneLetters)
  bool defaultForAz = false; // a default subnet of the default VPC
  bool mapPublicIpOnLaunch = false; // true for default subnets, as in AWS
  TimeMs createTime = 0;
  std::vector<Tag> tags;
};

// One rule of a security group, as DescribeSecurityGroupRules shows it: exactly one of
// cidrIpv4, cidrIpv6 and referencedGroupId is set.
struct SecurityGroupRule {
  std::string ruleId;            // "sgr-" + 17 hex digits
  bool isEgress = false;         // outbound (egress) or inbound (ingress)
  std::string ipProtocol;        // "-1" (all), "tcp", "udp", "icmp", "icmpv6" or a protocol number
  int fromPort = -1;             // -1 for all ports (and for protocol -1)
  int toPort = -1;               // -1 for all ports (and for protocol -1)
  std::string cidrIpv4;          // "0.0.0.0/0"
  std::string cidrIpv6;          // "::/0"
  std::string referencedGroupId; // another group (or the group itself): "sg-..."
  std::string description;
  bool operator==(const SecurityGroupRule&) const = default;
  // The same permission (protocol, ports and source), whatever the id and the description:
  // what InvalidPermission.Duplicate and Revoke compare.
  bool samePermission(const SecurityGroupRule& o) const {
    return isEgress == o.isEgress && ipProtocol == o.ipProtocol && fromPort == o.fromPort &&
           toPort == o.toPort && cidrIpv4 == o.cidrIpv4 && cidrIpv6 == o.cidrIpv6 &&
           referencedGroupId == o.referencedGroupId;
  }
};

struct SecurityGroup {
  std::string groupId;                  // "sg-" + 17 hex digits
  std::string groupName;                // unique within its VPC; "default" is the VPC's own group
  std::string description;              // required, up to 255 characters
  std::string vpcId;                    // its VPC
  std::vector<SecurityGroupRule> rules; // in the order they were authorized
  TimeMs createTime = 0;
  std::vector<Tag> tags;
  bool isDefault() const { return groupName == "default"; }
};

struct KeyPair {
  std::string keyPairId;      // "key-" + 17 hex digits
  std::string keyName;        // unique, up to 255 ASCII characters
  std::string keyType;        // "rsa" or "ed25519"
  std::string keyFingerprint; // as AWS computes it (see api/key_material.h)
  std::string publicKey;      // the OpenSSH public key line ("ssh-ed25519 AAAA...")
  TimeMs createTime = 0;
  std::vector<Tag> tags;
};

// An IPv4 CIDR block.
struct Ipv4Block {
  uint32_t base = 0; // the first address (host bits zero)
  int prefix = 0;    // 0..32
  uint64_t size() const { return uint64_t{1} << (32 - prefix); }
  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  bool contains(const Ipv4Block& o) const {
    return o.prefix >= prefix && (o.base & mask()) == base;
  }
  bool overlaps(const Ipv4Block& o) const { return contains(o) || o.contains(*this); }
};
// Parses "a.b.c.d/n" with the host bits zero; nullopt otherwise.
std::optional<Ipv4Block> parseIpv4Block(std::string_view cidr);

// The addresses of a subnet EC2 offers: all but the 5 it reserves (network, router, DNS,
// future use, broadcast).
inline int64_t availableIpAddressCount(const Ipv4Block& b) {
  return static_cast<int64_t>(b.size()) - 5;
}

// The network every account has without asking: the default VPC 172.31.0.0/16, one default
// subnet per zone (172.31.0.0/20, 172.31.16.0/20, 172.31.32.0/20) and the VPC's default
// security group. New ids each call.
struct DefaultNetwork {
  Vpc vpc;
  std::vector<Subnet> subnets;
  SecurityGroup defaultGroup;
};
DefaultNetwork defaultNetwork(TimeMs now);

// A VPC's "default" security group, as AWS makes it: inbound from the group itself, outbound
// to anywhere.
SecurityGroup defaultSecurityGroup(const std::string& vpcId, TimeMs now);
// The rule every new group starts with: all traffic out to 0.0.0.0/0.
SecurityGroupRule allTrafficOut();

} // namespace tide::model
