#include "control/security_group_controller.h"

#include "control/group_test_fixture.h"

#include <gtest/gtest.h>

namespace tide::control {
namespace {

using testing::freshTestDir;
using testing::openTestStore;

struct FakeNft {
  std::vector<std::string> inputs;
  Status answer = Status::ok();
  NftRunner runner() {
    return [this](const std::string& in) {
      inputs.push_back(in);
      return answer;
    };
  }
};

model::Instance instanceIn(const std::string& id, const std::string& address,
                           std::vector<std::string> groups) {
  model::Instance i;
  i.instanceId = id;
  i.privateIpAddress = address;
  i.state = model::InstanceState::Running;
  i.securityGroupIds = std::move(groups);
  return i;
}

TEST(SecurityGroupController, AppliesTheTableWhenTheRulesChangeAndOnlyThen) {
  auto store = openTestStore(freshTestDir("sgc"));
  model::SecurityGroup g;
  g.groupId = "sg-1";
  g.groupName = "app";
  g.vpcId = "vpc-1";
  ASSERT_TRUE(store->transact([&](store::Tx& tx) { return tx.putSecurityGroup(g); }).isOk());
  ASSERT_TRUE(store
                  ->transact([&](store::Tx& tx) {
                    return tx.putInstance(instanceIn("i-1", "127.1.0.5", {"sg-1"}));
                  })
                  .isOk());
  FakeNft nft;
  SecurityGroupController c(*store, {"t", "", nft.runner()});
  EXPECT_EQ(c.enforcement(), "not enforced yet (starting)");
  ASSERT_TRUE(c.reconcile().isOk());
  ASSERT_EQ(nft.inputs.size(), 2u); // the probe with an empty table, then the rules
  EXPECT_EQ(nft.inputs[0], "table inet t\ndelete table inet t\ntable inet t {\n}\n");
  EXPECT_NE(nft.inputs[1].find("jump ingress_i_1"), std::string::npos);
  EXPECT_EQ(c.enforcement(), "enforced (nftables)");

  ASSERT_TRUE(c.reconcile().isOk());
  EXPECT_EQ(nft.inputs.size(), 2u); // nothing changed: nothing applied

  model::SecurityGroupRule r;
  r.ruleId = "sgr-1";
  r.ipProtocol = "tcp";
  r.fromPort = r.toPort = 8080;
  r.cidrIpv4 = "127.0.0.1/32";
  g.rules.push_back(r);
  ASSERT_TRUE(store->transact([&](store::Tx& tx) { return tx.putSecurityGroup(g); }).isOk());
  ASSERT_TRUE(c.reconcile().isOk());
  ASSERT_EQ(nft.inputs.size(), 3u);
  EXPECT_NE(nft.inputs[2].find("ip saddr 127.0.0.1/32 tcp dport 8080 return"), std::string::npos);

  // A failure is shown and retried; never fatal.
  nft.answer = internalError("nft: Error: boom");
  g.rules.clear();
  ASSERT_TRUE(store->transact([&](store::Tx& tx) { return tx.putSecurityGroup(g); }).isOk());
  ASSERT_TRUE(c.reconcile().isOk());
  EXPECT_EQ(c.enforcement(), "enforced (nftables), but the last change failed: nft: Error: boom");
  nft.answer = Status::ok();
  ASSERT_TRUE(c.reconcile().isOk());
  EXPECT_EQ(c.enforcement(), "enforced (nftables)");
  EXPECT_EQ(nft.inputs.size(), 5u);

  c.removeTable();
  EXPECT_EQ(nft.inputs.back(), "table inet t\ndelete table inet t\n");
}

TEST(SecurityGroupController, LoadBalancerWithoutGroupsIsInItsVpcsDefaultGroup) {
  auto store = openTestStore(freshTestDir("sgc"));
  std::string defaultGroup;
  model::SecurityGroup app;
  app.groupId = "sg-app";
  app.groupName = "app";
  ASSERT_TRUE(store
                  ->transact([&](store::Tx& tx) -> Status {
                    TIDE_ASSIGN_OR_RETURN(auto vpcs, tx.vpcs());
                    for (const model::Vpc& v : vpcs) {
                      if (!v.isDefault) {
                        continue;
                      }
                      app.vpcId = v.vpcId;
                      TIDE_ASSIGN_OR_RETURN(auto groups, tx.securityGroups(v.vpcId));
                      for (const model::SecurityGroup& g : groups) {
                        if (g.isDefault()) {
                          defaultGroup = g.groupId;
                        }
                      }
                    }
                    // app: tcp 80 from the default group.
                    model::SecurityGroupRule r;
                    r.ruleId = "sgr-1";
                    r.ipProtocol = "tcp";
                    r.fromPort = r.toPort = 80;
                    r.referencedGroupId = defaultGroup;
                    app.rules.push_back(r);
                    TIDE_RETURN_IF_ERROR(tx.putSecurityGroup(app));
                    model::LoadBalancer lb;
                    lb.loadBalancerArn = "arn:lb";
                    lb.loadBalancerName = "web";
                    lb.ipAddress = "127.2.0.7";
                    TIDE_RETURN_IF_ERROR(tx.putLoadBalancer(lb));
                    return tx.putInstance(instanceIn("i-1", "127.1.0.5", {"sg-app"}));
                  })
                  .isOk());
  ASSERT_FALSE(defaultGroup.empty()); // the store makes the default VPC and its group
  FakeNft nft;
  SecurityGroupController c(*store, {"t", "", nft.runner()});
  ASSERT_TRUE(c.reconcile().isOk());
  EXPECT_NE(c.applied().find("ip saddr 127.2.0.7 tcp dport 80 return"), std::string::npos)
      << c.applied();
}

TEST(SecurityGroupController, NotEnforcedWhenTheHostCannot) {
  auto store = openTestStore(freshTestDir("sgc"));
  FakeNft nft;
  SecurityGroupController notRoot(*store, {"t", "not root", nft.runner()});
  ASSERT_TRUE(notRoot.reconcile().isOk());
  EXPECT_TRUE(nft.inputs.empty());
  EXPECT_EQ(notRoot.enforcement(), "not enforced (not root)");
  notRoot.removeTable();
  EXPECT_TRUE(nft.inputs.empty());

  nft.answer = internalError("nft: Error: Could not process rule: Operation not supported");
  SecurityGroupController noKernel(*store, {"t", "", nft.runner()});
  ASSERT_TRUE(noKernel.reconcile().isOk());
  ASSERT_TRUE(noKernel.reconcile().isOk());
  EXPECT_EQ(nft.inputs.size(), 1u); // tried once
  EXPECT_EQ(noKernel.enforcement(),
            "not enforced (nft: Error: Could not process rule: Operation not supported)");
}

TEST(SecurityGroupController, TableNamesDifferByDataDirectory) {
  EXPECT_EQ(firewallTableName("/var/lib/tide").size(), 13u);
  EXPECT_EQ(firewallTableName("/var/lib/tide").rfind("tide_", 0), 0u);
  EXPECT_NE(firewallTableName("/var/lib/tide"), firewallTableName("/tmp/tide"));
}

TEST(SecurityGroupController, RunNftReportsWhatTheProgramSays) {
  // /bin/sh stands in for nft: "-f -" makes it read its script from standard input.
  EXPECT_TRUE(runNft("/bin/sh", "exit 0\n").isOk());
  Status st = runNft("/bin/sh", "echo 'Error: no such table' >&2; exit 1\n");
  EXPECT_EQ(st.message(), "nft: Error: no such table");
  EXPECT_FALSE(runNft("/nonexistent/nft", "").isOk());
}

} // namespace
} // namespace tide::control
