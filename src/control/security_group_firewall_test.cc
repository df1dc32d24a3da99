#include "control/security_group_firewall.h"

#include <gtest/gtest.h>

namespace tide::control {
namespace {

model::SecurityGroupRule rule(bool egress, std::string proto, int from, int to, std::string cidr,
                              std::string group, std::string id) {
  model::SecurityGroupRule r;
  r.ruleId = std::move(id);
  r.isEgress = egress;
  r.ipProtocol = std::move(proto);
  r.fromPort = from;
  r.toPort = to;
  r.cidrIpv4 = std::move(cidr);
  r.referencedGroupId = std::move(group);
  return r;
}

model::SecurityGroup group(std::string id, std::vector<model::SecurityGroupRule> rules) {
  model::SecurityGroup g;
  g.groupId = std::move(id);
  g.groupName = g.groupId;
  g.rules = std::move(rules);
  return g;
}

// The output chain's head, as every non-empty table has it.
const std::string kHead = "table inet tide {\n"
                          "  chain output {\n"
                          "    type filter hook output priority filter; policy accept;\n"
                          "    ct state established,related accept\n";
const std::string kRefuse = "    meta l4proto tcp reject with tcp reset\n"
                            "    reject\n"
                            "  }\n";

// The dispatch lines and an egress chain that admits nothing, for instance i-1 at 127.1.0.5.
std::string dispatchAndNoEgress(const std::string& groups) {
  return "    ip saddr 127.1.0.5 ct state new jump egress_i_1\n"
         "    ip daddr 127.1.0.5 ct state new jump ingress_i_1\n"
         "  }\n"
         "  chain egress_i_1 {\n"
         "    # instance i-1 127.1.0.5:8080, groups " +
         groups + ": egress\n" + kRefuse;
}

TEST(SecurityGroupFirewall, NoInstancesGiveAnEmptyTable) {
  FirewallModel m;
  m.groups.push_back(group("sg-a", {rule(false, "-1", -1, -1, "0.0.0.0/0", "", "sgr-1")}));
  m.loadBalancers.push_back({"web", "127.2.0.1", {"sg-a"}});
  EXPECT_EQ(renderRuleset(m, "tide"), "table inet tide {\n}\n");
}

TEST(SecurityGroupFirewall, InstanceWithoutGroupsIsNotFiltered) {
  FirewallModel m;
  m.instances.push_back({"i-1", "127.1.0.5", 8080, {}});
  EXPECT_EQ(renderRuleset(m, "tide"), "table inet tide {\n}\n");
}

TEST(SecurityGroupFirewall, Tcp8080FromTheLoadBalancersGroup) {
  FirewallModel m;
  m.groups.push_back(group("sg-lb", {}));
  m.groups.push_back(group("sg-app", {rule(false, "tcp", 8080, 8080, "", "sg-lb", "sgr-1")}));
  m.loadBalancers.push_back({"web", "127.2.0.1", {"sg-lb"}});
  m.instances.push_back({"i-1", "127.1.0.5", 8080, {"sg-app"}});
  EXPECT_EQ(renderRuleset(m, "tide"),
            kHead + dispatchAndNoEgress("sg-app") +
                "  chain ingress_i_1 {\n"
                "    # instance i-1 127.1.0.5:8080, groups sg-app: ingress\n"
                "    ip saddr 127.2.0.1 tcp dport 8080 return comment \"sg-app sgr-1\"\n" +
                kRefuse + "}\n");
}

TEST(SecurityGroupFirewall, CidrRuleWithAPortRange) {
  FirewallModel m;
  m.groups.push_back(group("sg-app", {rule(false, "udp", 5000, 5010, "10.0.0.0/8", "", "sgr-1"),
                                      rule(false, "tcp", 22, 22, "0.0.0.0/0", "", "sgr-2")}));
  m.instances.push_back({"i-1", "127.1.0.5", 8080, {"sg-app"}});
  EXPECT_EQ(renderRuleset(m, "tide"),
            kHead + dispatchAndNoEgress("sg-app") +
                "  chain ingress_i_1 {\n"
                "    # instance i-1 127.1.0.5:8080, groups sg-app: ingress\n"
                "    ip saddr 10.0.0.0/8 udp dport 5000-5010 return comment \"sg-app sgr-1\"\n"
                "    tcp dport 22 return comment \"sg-app sgr-2\"\n" +
                kRefuse + "}\n");
}

TEST(SecurityGroupFirewall, ProtocolAllAndProtocolNumbers) {
  FirewallModel m;
  m.groups.push_back(group("sg-app", {rule(false, "-1", -1, -1, "127.0.0.1/32", "", "sgr-1"),
                                      rule(false, "6", 0, 65535, "127.0.0.2/32", "", "sgr-2"),
                                      rule(false, "47", -1, -1, "127.0.0.3/32", "", "sgr-3"),
                                      rule(false, "icmp", 8, -1, "127.0.0.4/32", "", "sgr-4"),
                                      rule(false, "icmpv6", -1, -1, "127.0.0.5/32", "", "sgr-5")}));
  m.instances.push_back({"i-1", "127.1.0.5", 8080, {"sg-app"}});
  EXPECT_EQ(renderRuleset(m, "tide"),
            kHead + dispatchAndNoEgress("sg-app") +
                "  chain ingress_i_1 {\n"
                "    # instance i-1 127.1.0.5:8080, groups sg-app: ingress\n"
                "    ip saddr 127.0.0.1/32 return comment \"sg-app sgr-1\"\n"
                "    ip saddr 127.0.0.2/32 meta l4proto tcp return comment \"sg-app sgr-2\"\n"
                "    ip saddr 127.0.0.3/32 meta l4proto 47 return comment \"sg-app sgr-3\"\n"
                "    ip saddr 127.0.0.4/32 icmp type 8 return comment \"sg-app sgr-4\"\n"
                "    # sg-app sgr-5: protocol icmpv6 is not carried\n" +
                kRefuse + "}\n");
}

TEST(SecurityGroupFirewall, ReferencedGroupAdmitsItsInstancesAndLoadBalancers) {
  FirewallModel m;
  // The default group as AWS makes it: in from its own members, out to anywhere.
  m.groups.push_back(group("sg-d", {rule(false, "-1", -1, -1, "", "sg-d", "sgr-in"),
                                    rule(true, "-1", -1, -1, "0.0.0.0/0", "", "sgr-out")}));
  m.groups.push_back(group("sg-empty", {}));
  m.groups.push_back(group("sg-app", {rule(false, "tcp", 80, 80, "", "sg-empty", "sgr-e")}));
  m.instances.push_back({"i-1", "127.1.0.5", 8080, {"sg-d", "sg-app"}});
  m.instances.push_back({"i-2", "127.1.0.6", 0, {"sg-d"}});
  m.loadBalancers.push_back({"web", "127.2.0.1", {"sg-d"}});
  std::string text = renderRuleset(m, "tide");
  EXPECT_NE(text.find("  chain ingress_i_1 {\n"
                      "    # instance i-1 127.1.0.5:8080, groups sg-d sg-app: ingress\n"
                      "    ip saddr { 127.1.0.5, 127.1.0.6, 127.2.0.1 } return comment "
                      "\"sg-d sgr-in\"\n"
                      "    # sg-app sgr-e: group sg-empty has no members\n" +
                      kRefuse),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  chain egress_i_2 {\n"
                      "    # instance i-2 127.1.0.6, groups sg-d: egress\n"
                      "    return comment \"sg-d sgr-out\"\n" +
                      kRefuse),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("    ip saddr 127.1.0.6 ct state new jump egress_i_2\n"
                      "    ip daddr 127.1.0.6 ct state new jump ingress_i_2\n"),
            std::string::npos)
      << text;
}

TEST(SecurityGroupFirewall, EgressRules) {
  FirewallModel m;
  m.groups.push_back(group("sg-db", {}));
  m.groups.push_back(group("sg-app", {rule(true, "tcp", 5432, 5432, "", "sg-db", "sgr-1"),
                                      rule(true, "udp", 53, 53, "127.0.0.53/32", "", "sgr-2")}));
  m.instances.push_back({"i-1", "127.1.0.5", 8080, {"sg-app"}});
  m.instances.push_back({"i-2", "127.1.0.9", 5432, {"sg-db"}});
  std::string text = renderRuleset(m, "tide");
  EXPECT_NE(text.find("  chain egress_i_1 {\n"
                      "    # instance i-1 127.1.0.5:8080, groups sg-app: egress\n"
                      "    ip daddr 127.1.0.9 tcp dport 5432 return comment \"sg-app sgr-1\"\n"
                      "    ip daddr 127.0.0.53/32 udp dport 53 return comment \"sg-app sgr-2\"\n" +
                      kRefuse),
            std::string::npos)
      << text;
}

TEST(SecurityGroupFirewall, ModelLeavesOutTerminatedInstancesAndRowsWithoutAddresses) {
  model::Instance a;
  a.instanceId = "i-a";
  a.privateIpAddress = "127.1.0.5";
  a.state = model::InstanceState::Running;
  a.securityGroupIds = {"sg-1"};
  model::Instance gone = a;
  gone.instanceId = "i-gone";
  gone.state = model::InstanceState::Terminated;
  model::Instance none = a;
  none.instanceId = "i-none";
  none.privateIpAddress.clear();
  model::LoadBalancer lb;
  lb.loadBalancerName = "web";
  lb.ipAddress = "127.2.0.1";
  model::LoadBalancer old;
  FirewallModel m = firewallModelOf({a, gone, none}, {lb, old}, {});
  ASSERT_EQ(m.instances.size(), 1u);
  EXPECT_EQ(m.instances[0].instanceId, "i-a");
  ASSERT_EQ(m.loadBalancers.size(), 1u);
  EXPECT_EQ(m.loadBalancers[0].address, "127.2.0.1");
}

TEST(SecurityGroupFirewall, TransactionsReplaceAndDeleteTheTable) {
  EXPECT_EQ(replaceTableTransaction("tide", "table inet tide {\n}\n"),
            "table inet tide\ndelete table inet tide\ntable inet tide {\n}\n");
  EXPECT_EQ(deleteTableTransaction("tide"), "table inet tide\ndelete table inet tide\n");
}

} // namespace
} // namespace tide::control
