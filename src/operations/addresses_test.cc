// Choosing private addresses: blocks in order, this server's own addresses and addresses other
// programs listen on skipped, one more block claimed when the held ones are full; over a fake
// source (no registry file, no sockets).
#include "operations/addresses.h"

#include "common/status_testing.h"
#include "operations/launch.h"
#include "operations/load_balancer_address.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <unistd.h>

namespace tide::operations {
namespace {

namespace fs = std::filesystem;

// Holds `blocks`, hands out `spare` blocks one per claim, and reports ip:port pairs in `taken`
// as in use by other programs. Counts every probe.
class FakeSource final : public AddressSource {
public:
  std::vector<int> blocks() override { return held; }
  Result<int> claimBlock() override {
    ++claims;
    if (spare.empty()) {
      return Status("InsufficientFreeAddressesInSubnet", "no block left");
    }
    int b = spare.front();
    spare.erase(spare.begin());
    held.push_back(b);
    return b;
  }
  bool isFree(const std::string& ip, int port) override {
    ++probes[ip + ":" + std::to_string(port)];
    return takenEverywhere == false && taken.count(ip + ":" + std::to_string(port)) == 0;
  }
  AddressSpace space() const override { return inSpace; }

  std::vector<int> held;
  std::vector<int> spare;
  std::set<std::string> taken;
  bool takenEverywhere = false; // as when something listens on 0.0.0.0:port
  AddressSpace inSpace = kInstanceAddresses;
  int claims = 0;
  std::map<std::string, int> probes;
};

TEST(Addresses, LoadBalancerAddressesComeFrom127_2AndAreProbedAtAnyPort) {
  FakeSource src;
  src.inSpace = kLoadBalancerAddresses;
  src.held = {3};
  src.taken = {"127.2.3.2:0"};                // something else is bound to 127.2.3.2
  std::set<std::string> used = {"127.2.3.1"}; // another load balancer of this server
  EXPECT_EQ(*chooseAddress(src, used, 0), "127.2.3.3");
  EXPECT_EQ(src.probes["127.2.3.2:0"], 1);
  // Deleting a load balancer frees its address: it is no longer in `used`.
  std::set<std::string> afterDelete = {"127.2.3.3"};
  EXPECT_EQ(*chooseAddress(src, afterDelete, 0), "127.2.3.1");
}

TEST(Addresses, LoadBalancerSpaceFullSaysSoWithoutAPort) {
  FakeSource src;
  src.inSpace = kLoadBalancerAddresses;
  src.held = {0};
  src.spare = {1};
  src.takenEverywhere = true;
  std::set<std::string> used;
  auto r = chooseAddress(src, used, 0);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), "InsufficientFreeAddressesInSubnet");
  EXPECT_NE(r.status().message().find("127.2.0.0/16"), std::string::npos) << r.status().message();
}

TEST(Addresses, BlocksOfEachSpace) {
  EXPECT_EQ(blockAddress(9, 4, kLoadBalancerAddresses), "127.2.9.4");
  EXPECT_EQ(blockOf("127.2.9.4", kLoadBalancerAddresses), 9);
  EXPECT_EQ(blockOf("127.1.9.4", kLoadBalancerAddresses), -1);
  EXPECT_EQ(blockOf("127.2.9.4"), -1);
  EXPECT_EQ(blockOf("127.1.9.4"), 9);
  WholeSubnet lbs(kLoadBalancerAddresses);
  std::set<std::string> used;
  EXPECT_EQ(*chooseAddress(lbs, used, 0), "127.2.0.1");
}

TEST(Addresses, FillsTheHeldBlockInOrderSkippingOwnInstances) {
  FakeSource src;
  src.held = {7};
  std::set<std::string> used = {"127.1.7.1", "127.1.7.3"};
  EXPECT_EQ(*chooseAddress(src, used, 8080), "127.1.7.2");
  EXPECT_EQ(*chooseAddress(src, used, 8080), "127.1.7.4");
  EXPECT_TRUE(used.count("127.1.7.4"));
  EXPECT_EQ(src.probes.count("127.1.7.1:8080"), 0u); // own addresses are not probed
  EXPECT_EQ(src.claims, 0);
}

TEST(Addresses, SkipsAddressesOtherProgramsListenOnForThatPort) {
  FakeSource src;
  src.held = {7};
  src.taken = {"127.1.7.1:8080", "127.1.7.2:8080"};
  std::set<std::string> used;
  EXPECT_EQ(*chooseAddress(src, used, 8080), "127.1.7.3");
  EXPECT_EQ(*chooseAddress(src, used, 8080), "127.1.7.4");
  // A taken address is probed once per batch: `used` remembers it.
  EXPECT_EQ(src.probes["127.1.7.1:8080"], 1);
  // Another port is free at the same address.
  std::set<std::string> fresh;
  EXPECT_EQ(*chooseAddress(src, fresh, 9000), "127.1.7.1");
}

TEST(Addresses, ClaimsAnotherBlockWhenTheHeldOnesAreFull) {
  FakeSource src;
  src.held = {7};
  src.spare = {9, 10};
  std::set<std::string> used;
  for (int host = 1; host <= 254; ++host) {
    used.insert(blockAddress(7, host));
  }
  EXPECT_EQ(*chooseAddress(src, used, 8080), "127.1.9.1");
  EXPECT_EQ(src.claims, 1);
  EXPECT_EQ(src.held, (std::vector<int>{7, 9}));
  EXPECT_EQ(*chooseAddress(src, used, 8080), "127.1.9.2"); // no further claim
  EXPECT_EQ(src.claims, 1);
}

TEST(Addresses, NoBlockLeftIsInsufficientFreeAddresses) {
  FakeSource src;
  src.held = {0};
  std::set<std::string> used;
  for (int host = 1; host <= 254; ++host) {
    used.insert(blockAddress(0, host));
  }
  auto ip = chooseAddress(src, used, 8080);
  ASSERT_FALSE(ip.isOk());
  EXPECT_EQ(ip.status().code(), "InsufficientFreeAddressesInSubnet");
}

TEST(Addresses, AListenerOnEveryAddressCostsOneClaimAndAClearError) {
  FakeSource src;
  src.held = {7};
  src.spare = {9, 10, 11};
  src.takenEverywhere = true;
  std::set<std::string> used;
  auto ip = chooseAddress(src, used, 8080);
  ASSERT_FALSE(ip.isOk());
  EXPECT_EQ(ip.status().code(), "InsufficientFreeAddressesInSubnet");
  EXPECT_EQ(ip.status().message(),
            "No free private address for port 8080: other programs listen on 508 of this "
            "server's addresses (is something listening on 0.0.0.0:8080?)");
  EXPECT_EQ(src.claims, 1);
}

TEST(Addresses, WholeSubnetGivesOutAddressesAsBefore) {
  WholeSubnet whole;
  std::set<std::string> used = {"127.1.0.1"};
  EXPECT_EQ(*chooseAddress(whole, used, 8080), "127.1.0.2");
  for (int host = 3; host <= 254; ++host) {
    used.insert(blockAddress(0, host));
  }
  EXPECT_EQ(*chooseAddress(whole, used, 8080), "127.1.1.1"); // .255 and .0 are skipped
}

TEST(Addresses, BlockOfAnAddress) {
  EXPECT_EQ(blockOf("127.1.0.1"), 0);
  EXPECT_EQ(blockOf("127.1.255.254"), 255);
  EXPECT_EQ(blockOf("127.1.256.1"), -1);
  EXPECT_EQ(blockOf("127.2.3.4"), -1);
  EXPECT_EQ(blockOf("127.1.3"), -1);
  EXPECT_EQ(blockOf(""), -1);
}

// launchInstances probes with the instance's port (the template's over the image's) and
// records what the source chose.
TEST(Addresses, LaunchInstancesUsesTheSourceAndTheInstancesPort) {
  fs::path dir = fs::temp_directory_path() / ("tide-address-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto store = std::move(*store::openSqliteStore((dir / "state.db").string()));
  model::Image image;
  image.imageId = "ami-0123456789abcdef0";
  image.name = "app";
  image.state = model::ImageState::Available;
  image.port = 8080;
  ASSERT_TRUE(store->transact([&](store::Tx& tx) { return tx.putImage(image); }).isOk());

  FakeSource src;
  src.held = {42};
  src.taken = {"127.1.42.1:9000"};
  LaunchRequest r;
  r.data.imageId = image.imageId;
  r.data.instanceType = "t3.micro";
  r.data.port = 9000;
  r.minCount = 2;
  r.maxCount = 2;
  r.reservationId = "r-1";
  std::vector<model::Instance> made;
  auto launch = [&] {
    return store->transact([&](store::Tx& tx) -> Status {
      TIDE_ASSIGN_OR_RETURN(made, launchInstances(tx, r, 100, 0, &src));
      return Status::ok();
    });
  };
  ASSERT_OK(launch());
  ASSERT_EQ(made.size(), 2u);
  EXPECT_EQ(made[0].privateIpAddress, "127.1.42.2");
  EXPECT_EQ(made[1].privateIpAddress, "127.1.42.3");
  EXPECT_EQ(made[0].port, 9000);
  EXPECT_EQ(src.probes["127.1.42.1:9000"], 1);
  // The next launch skips the addresses the store's instances hold without probing them.
  r.minCount = r.maxCount = 1;
  ASSERT_OK(launch());
  EXPECT_EQ(made[0].privateIpAddress, "127.1.42.4");
  EXPECT_EQ(src.probes["127.1.42.2:9000"], 1);
  fs::remove_all(dir);
}

TEST(Addresses, LoadBalancersFromBeforeAddressesGetOneAndOthersKeepTheirs) {
  fs::path dir = fs::temp_directory_path() / ("tide-lb-address-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto store = std::move(*store::openSqliteStore((dir / "state.db").string()));
  auto put = [&](const std::string& name, const std::string& ip) {
    model::LoadBalancer lb;
    lb.loadBalancerArn = "arn:aws:elasticloadbalancing:us-east-1:0:loadbalancer/app/" + name +
                         "/000000000000000" + std::to_string(name.size());
    lb.loadBalancerName = name;
    lb.ipAddress = ip;
    ASSERT_TRUE(store->transact([&](store::Tx& tx) { return tx.putLoadBalancer(lb); }).isOk());
  };
  put("kept", "127.2.5.1");
  put("old", ""); // stored before load balancers had addresses
  FakeSource src;
  src.inSpace = kLoadBalancerAddresses;
  src.held = {5};
  int given = 0;
  ASSERT_TRUE(store
                  ->transact([&](store::Tx& tx) -> Status {
                    TIDE_ASSIGN_OR_RETURN(given, giveMissingLoadBalancerAddresses(tx, &src));
                    return Status::ok();
                  })
                  .isOk());
  EXPECT_EQ(given, 1);
  std::map<std::string, std::string> byName;
  ASSERT_TRUE(store
                  ->transact(
                      [&](store::Tx& tx) -> Status {
                        TIDE_ASSIGN_OR_RETURN(auto all, tx.loadBalancers());
                        for (const auto& lb : all) {
                          byName[lb.loadBalancerName] = lb.ipAddress;
                        }
                        return Status::ok();
                      },
                      false)
                  .isOk());
  EXPECT_EQ(byName["kept"], "127.2.5.1");
  EXPECT_EQ(byName["old"], "127.2.5.2");
  // The next one skips both, without probing the addresses they hold.
  std::string next;
  ASSERT_TRUE(store
                  ->transact([&](store::Tx& tx) -> Status {
                    TIDE_ASSIGN_OR_RETURN(next, chooseLoadBalancerAddress(tx, &src));
                    return Status::ok();
                  })
                  .isOk());
  EXPECT_EQ(next, "127.2.5.3");
  EXPECT_EQ(src.probes.count("127.2.5.1:0"), 0u);
  fs::remove_all(dir);
}

} // namespace
} // namespace tide::operations
