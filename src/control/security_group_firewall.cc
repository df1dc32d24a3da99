#include "control/security_group_firewall.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace tide::control {

namespace {

// A chain's name from an id: nft identifiers take letters, digits and underscores.
std::string identifier(const std::string& prefix, const std::string& id) {
  std::string out = prefix;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  return out;
}

// What a rule's protocol and ports match, as an nft expression ("tcp dport 8080", "meta l4proto
// udp", "" for all); nullopt when it admits nothing tide carries (icmpv6, an unknown name).
std::optional<std::string> protocolMatch(const model::SecurityGroupRule& r) {
  std::string p = r.ipProtocol;
  if (p == "-1" || p == "all") {
    return std::string();
  }
  if (p == "6") {
    p = "tcp";
  } else if (p == "17") {
    p = "udp";
  } else if (p == "1") {
    p = "icmp";
  }
  if (p == "tcp" || p == "udp") {
    bool allPorts = r.fromPort < 0 || r.toPort < 0 || (r.fromPort <= 1 && r.toPort >= 65535);
    if (allPorts) {
      return "meta l4proto " + p;
    }
    if (r.fromPort == r.toPort) {
      return p + " dport " + std::to_string(r.fromPort);
    }
    return p + " dport " + std::to_string(r.fromPort) + "-" + std::to_string(r.toPort);
  }
  if (p == "icmp") {
    // FromPort is the ICMP type, ToPort the code; -1: any.
    if (r.fromPort < 0) {
      return std::string("meta l4proto icmp");
    }
    std::string m = "icmp type " + std::to_string(r.fromPort);
    if (r.toPort >= 0) {
      m += " icmp code " + std::to_string(r.toPort);
    }
    return m;
  }
  if (!p.empty() && std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int n = std::stoi(p.substr(0, 4));
    if (n == 58 || n > 255) {
      return std::nullopt; // icmpv6: IPv6 only
    }
    return "meta l4proto " + std::to_string(n);
  }
  return std::nullopt; // "icmpv6" or a name tide does not know
}

// "ip saddr 10.0.0.0/8", "ip daddr { a, b }", "" for anywhere; nullopt when it admits no
// address (IPv6 only, or a referenced group without members).
std::optional<std::string> addressMatch(const model::SecurityGroupRule& r, const char* field,
                                        const std::map<std::string, std::set<std::string>>& members,
                                        std::string* why) {
  if (!r.referencedGroupId.empty()) {
    auto m = members.find(r.referencedGroupId);
    if (m == members.end() || m->second.empty()) {
      *why = "group " + r.referencedGroupId + " has no members";
      return std::nullopt;
    }
    if (m->second.size() == 1) {
      return std::string("ip ") + field + " " + *m->second.begin();
    }
    std::string set;
    for (const std::string& a : m->second) {
      set += (set.empty() ? "" : ", ") + a;
    }
    return std::string("ip ") + field + " { " + set + " }";
  }
  if (!r.cidrIpv4.empty()) {
    if (r.cidrIpv4 == "0.0.0.0/0") {
      return std::string();
    }
    return std::string("ip ") + field + " " + r.cidrIpv4;
  }
  *why = "IPv6 only";
  return std::nullopt;
}

// The rule lines of one direction of one instance: each admitting rule of its groups returns
// to the output chain (which goes on to the other direction's check); then the rest is refused.
void renderChain(std::string& out, const std::string& name, const std::string& heading,
                 const FirewallInstance& inst, bool egress,
                 const std::map<std::string, const model::SecurityGroup*>& groups,
                 const std::map<std::string, std::set<std::string>>& members) {
  out += "  chain " + name + " {\n";
  out += "    # " + heading + "\n";
  std::set<std::string> seen; // the same line from two groups once
  for (const std::string& gid : inst.securityGroupIds) {
    auto g = groups.find(gid);
    if (g == groups.end()) {
      out += "    # " + gid + ": no such group\n";
      continue;
    }
    for (const model::SecurityGroupRule& r : g->second->rules) {
      if (r.isEgress != egress) {
        continue;
      }
      std::string why;
      std::optional<std::string> proto = protocolMatch(r);
      std::optional<std::string> addr =
          proto ? addressMatch(r, egress ? "daddr" : "saddr", members, &why) : std::nullopt;
      if (!proto) {
        why = "protocol " + r.ipProtocol + " is not carried";
      }
      if (!addr) {
        out += "    # " + gid + " " + r.ruleId + ": " + why + "\n";
        continue;
      }
      std::string line = *addr;
      if (!proto->empty()) {
        line += (line.empty() ? "" : " ") + *proto;
      }
      line += (line.empty() ? "" : " ") + std::string("return");
      if (!seen.insert(line).second) {
        continue;
      }
      out += "    " + line + " comment \"" + gid + " " + r.ruleId + "\"\n";
    }
  }
  out += "    meta l4proto tcp reject with tcp reset\n";
  out += "    reject\n";
  out += "  }\n";
}

} // namespace

FirewallModel firewallModelOf(const std::vector<model::Instance>& instances,
                              const std::vector<model::LoadBalancer>& loadBalancers,
                              std::vector<model::SecurityGroup> groups) {
  FirewallModel m;
  for (const model::Instance& i : instances) {
    if (i.state == model::InstanceState::Terminated || i.privateIpAddress.empty()) {
      continue;
    }
    m.instances.push_back({i.instanceId, i.privateIpAddress, i.port, i.securityGroupIds});
  }
  for (const model::LoadBalancer& lb : loadBalancers) {
    if (lb.ipAddress.empty()) {
      continue;
    }
    m.loadBalancers.push_back({lb.loadBalancerName, lb.ipAddress, lb.securityGroupIds});
  }
  m.groups = std::move(groups);
  return m;
}

std::string renderRuleset(const FirewallModel& model, const std::string& table) {
  std::map<std::string, const model::SecurityGroup*> groups;
  for (const model::SecurityGroup& g : model.groups) {
    groups[g.groupId] = &g;
  }
  // Each group's members by address (sorted, once each): its instances and load balancers.
  std::map<std::string, std::set<std::string>> members;
  for (const FirewallInstance& i : model.instances) {
    for (const std::string& g : i.securityGroupIds) {
      members[g].insert(i.address);
    }
  }
  for (const FirewallLoadBalancer& lb : model.loadBalancers) {
    for (const std::string& g : lb.securityGroupIds) {
      members[g].insert(lb.address);
    }
  }
  std::string chains;
  std::string dispatch;
  for (const FirewallInstance& i : model.instances) {
    if (i.securityGroupIds.empty()) {
      continue;
    }
    std::string groupList;
    for (const std::string& g : i.securityGroupIds) {
      groupList += (groupList.empty() ? "" : " ") + g;
    }
    std::string heading = "instance " + i.instanceId + " " + i.address +
                          (i.port > 0 ? ":" + std::to_string(i.port) : std::string()) +
                          ", groups " + groupList;
    std::string out = identifier("egress_", i.instanceId);
    std::string in = identifier("ingress_", i.instanceId);
    dispatch += "    ip saddr " + i.address + " ct state new jump " + out + "\n";
    dispatch += "    ip daddr " + i.address + " ct state new jump " + in + "\n";
    renderChain(chains, out, heading + ": egress", i, true, groups, members);
    renderChain(chains, in, heading + ": ingress", i, false, groups, members);
  }
  std::string text = "table inet " + table + " {\n";
  if (!dispatch.empty()) {
    text += "  chain output {\n";
    text += "    type filter hook output priority filter; policy accept;\n";
    text += "    ct state established,related accept\n";
    text += dispatch;
    text += "  }\n";
    text += chains;
  }
  text += "}\n";
  return text;
}

std::string replaceTableTransaction(const std::string& table, const std::string& definition) {
  return "table inet " + table + "\ndelete table inet " + table + "\n" + definition;
}

std::string deleteTableTransaction(const std::string& table) {
  return "table inet " + table + "\ndelete table inet " + table + "\n";
}

} // namespace tide::control
