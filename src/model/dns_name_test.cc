#include "model/dns_name.h"

#include <gtest/gtest.h>

namespace tide::model {
namespace {

constexpr const char* kArn =
    "arn:aws:elasticloadbalancing:eu-west-2:000000000000:loadbalancer/app/web/00000000000004d2";

TEST(DnsName, NameDigitsAndRegionUnderLocalhost) {
  EXPECT_EQ(loadBalancerDnsName(kArn, "web"), "web-0000001234.eu-west-2.elb.localhost");
}

TEST(DnsName, StableForOneArnAndDifferentForAnother) {
  std::string other =
      "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/Web-1/9f86d081884c7d65";
  EXPECT_EQ(loadBalancerDnsName(other, "Web-1"), loadBalancerDnsName(other, "Web-1"));
  // 0x9f86d081884c7d65 = 11495104353665842533; its last ten digits.
  EXPECT_EQ(loadBalancerDnsName(other, "Web-1"), "Web-1-3665842533.us-east-1.elb.localhost");
  EXPECT_NE(loadBalancerDnsName(other, "web"), loadBalancerDnsName(kArn, "web"));
}

TEST(DnsName, MalformedArnStillGivesALocalhostName) {
  EXPECT_EQ(loadBalancerDnsName("not-an-arn", "web"), "web.elb.localhost");
  EXPECT_EQ(loadBalancerDnsName("arn:aws:elasticloadbalancing:us-east-1:0:loadbalancer/app/web/zz",
                                "web"),
            "web.elb.localhost");
}

} // namespace
} // namespace tide::model
