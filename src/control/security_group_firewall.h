// Security groups as the kernel enforces them: renders the whole nftables ruleset of one table
// (`inet <name>`) from the model. A pure function of its input: no store, no system calls; the
// security group controller (security_group_controller.h) applies its text atomically with
// `nft -f -`.
//
// What the ruleset does (docs/security.md "Security groups"). Every tide address is a loopback
// address (instances 127.1.B.y, load balancers 127.2.B.x), so every packet between them, and
// between them and the host, is made locally and passes the output hook: the rules filter there,
// on the first packet of a connection (`ct state new`). Established and related packets always
// pass. A new connection
//  - from an instance's address (ip saddr) is let out only if an egress rule of one of the
//    instance's groups admits its destination address, protocol and port;
//  - to an instance's address (ip daddr) is let in only if an ingress rule of one of the
//    instance's groups admits its source address, protocol and port.
// A connection between two instances meets both checks. Refused TCP connections get a reset
// (the caller's connect fails at once with ECONNREFUSED), others an ICMP port unreachable.
// Traffic neither to nor from a filtered instance's address is never touched: no chain matches.
//
// Sources and destinations are addresses. A rule that references a group admits the addresses
// of the group's members: the instances (not terminated) that hold the group and the load
// balancers whose SecurityGroups hold it. That matches because tide's own connections carry the
// address of whom they are made for: the balancer's and the health checker's connections to
// targets are bound to the load balancer's address, and an instance's own outgoing connections
// carry the instance's address (a connect hook of the instance runtime binds them). A
// connection from anything else on the host comes from 127.0.0.1 (the kernel's choice for a
// loopback destination): a rule with CidrIp 127.0.0.1/32 admits the host.
//
// Which instances are filtered: those not terminated, with an address and at least one
// security group. An instance launched without SecurityGroupIds is in no group and not
// filtered (AWS would put it in its VPC's default group; tide leaves it open so that what ran
// before groups were enforced runs the same). An instance in a VPC's "default" group gets that
// group's rules as AWS makes them: in from the group's members, out to anywhere.
//
// IPv4 only: rules with CidrIpv6, and icmpv6, admit nothing (tide's addresses are IPv4).
#pragma once

#include "model/elb.h"
#include "model/network.h"

#include <string>
#include <vector>

namespace tide::control {

// An instance as the firewall sees it.
struct FirewallInstance {
  std::string instanceId; // "i-..."
  std::string address;    // its own loopback address, "127.1.0.5"
  int port = 0;           // where its app listens (shown in a comment), 0: unknown
  std::vector<std::string> securityGroupIds; // its groups; empty: not filtered
};

// A load balancer as the firewall sees it: a member of its groups, never filtered itself.
struct FirewallLoadBalancer {
  std::string name;                          // LoadBalancerName (shown in a comment)
  std::string address;                       // its own loopback address, "127.2.0.1"
  std::vector<std::string> securityGroupIds; // its SecurityGroups
};

// Everything the ruleset depends on.
struct FirewallModel {
  std::vector<FirewallInstance> instances;         // not terminated, with an address
  std::vector<FirewallLoadBalancer> loadBalancers; // with an address
  std::vector<model::SecurityGroup> groups;        // every security group, any VPC
};

// The firewall's view of the store's rows: instances not terminated with an address, load
// balancers with an address, and every group.
FirewallModel firewallModelOf(const std::vector<model::Instance>& instances,
                              const std::vector<model::LoadBalancer>& loadBalancers,
                              std::vector<model::SecurityGroup> groups);

// The table's definition, `table inet <table> { ... }`: an output chain that sends each
// filtered instance's new connections to its egress_<id> and ingress_<id> chains, and those
// chains. With no filtered instance the table is empty (no chain, nothing filtered).
// Deterministic: the same model gives the same text (instances in the model's order).
// REQUIRES: table is an nft identifier ([A-Za-z_][A-Za-z0-9_]*).
std::string renderRuleset(const FirewallModel& model, const std::string& table);

// One `nft -f` transaction that replaces the table atomically with `definition` (as
// renderRuleset makes it): the table is declared (so that deleting it cannot fail), deleted
// with all its chains, and defined again; either all of it applies or nothing does.
std::string replaceTableTransaction(const std::string& table, const std::string& definition);

// The transaction that removes the table (declared first, so it works whether it exists or not).
std::string deleteTableTransaction(const std::string& table);

} // namespace tide::control
