#include "model/validation.h"

#include "common/text.h"
#include "model/instance_types.h"

#include <gtest/gtest.h>

namespace tide::model {
namespace {

TEST(Validation, ImageNames) {
  EXPECT_TRUE(validateImageName("shop-v1").isOk());
  EXPECT_TRUE(validateImageName("shop (v1) [2026] @x/y_z").isOk());
  EXPECT_EQ(validateImageName("ab").code(), "InvalidAMIName.Malformed");
  EXPECT_EQ(validateImageName(std::string(129, 'a')).code(), "InvalidAMIName.Malformed");
  EXPECT_EQ(validateImageName("shop*").code(), "InvalidAMIName.Malformed");
}

TEST(Validation, LaunchTemplateNames) {
  EXPECT_TRUE(validateLaunchTemplateName("shop-web_1.0").isOk());
  EXPECT_EQ(validateLaunchTemplateName("shop web").code(),
            "InvalidLaunchTemplateName.MalformedException");
}

TEST(Validation, InstanceTypesAreKnownAndOrdered) {
  EXPECT_TRUE(validateInstanceType("t3.micro").isOk());
  Status s = validateInstanceType("t3.gigantic");
  EXPECT_EQ(s.code(), "InvalidParameterValue");
  EXPECT_NE(s.message().find("t3.gigantic"), std::string::npos);
  const InstanceType* nano = findInstanceType("t3.nano");
  const InstanceType* large = findInstanceType("c5.2xlarge");
  ASSERT_NE(nano, nullptr);
  ASSERT_NE(large, nullptr);
  EXPECT_LT(nano->cpuCores, 1.0);
  EXPECT_GT(large->cpuCores, 2.0);
  for (const InstanceType& t : instanceTypes()) {
    EXPECT_GT(t.cpuCores, 0);
    EXPECT_GE(t.memoryBytes, 64 * 1024 * 1024);
  }
}

TEST(Validation, TagsEnvironmentSecurityGroupsDisks) {
  EXPECT_TRUE(validateTags({{"Name", "web"}}).isOk());
  EXPECT_FALSE(validateTags({{"aws:x", "web"}}).isOk());
  EXPECT_FALSE(validateTags({{"a", "1"}, {"a", "2"}}).isOk());
  EXPECT_TRUE(validateEnvironment({{"MODE", "prod"}, {"_X1", ""}}).isOk());
  EXPECT_FALSE(validateEnvironment({{"1X", "v"}}).isOk());
  EXPECT_FALSE(validateEnvironment({{"PORT", "1"}}).isOk());
  EXPECT_FALSE(validateEnvironment({{"TIDE_INSTANCE_ID", "1"}}).isOk());
  EXPECT_TRUE(validateSecurityGroupIds({"sg-1a2b3c4d", "sg-0123456789abcdef0"}).isOk());
  EXPECT_EQ(validateSecurityGroupIds({"sg-xyz"}).code(), "InvalidGroupId.Malformed");
  EXPECT_TRUE(validateBlockDeviceMappings({{"/dev/xvda", 8, "gp3"}}).isOk());
  EXPECT_FALSE(validateBlockDeviceMappings({{"/dev/xvda", 0, "gp3"}}).isOk());
  EXPECT_FALSE(validateBlockDeviceMappings({{"/dev/xvda", 20000, "gp3"}}).isOk());
  EXPECT_FALSE(validateBlockDeviceMappings({{"/dev/xvda", 8, "floppy"}}).isOk());
}

TEST(Validation, UserData) {
  EXPECT_TRUE(validateUserData(base64Encode("#!/bin/sh\necho hi\n")).isOk());
  EXPECT_EQ(validateUserData("not base64!").code(), "InvalidUserData.Malformed");
  EXPECT_EQ(validateUserData(base64Encode(std::string(16385, 'x'))).code(),
            "InvalidParameterValue");
}

TEST(Validation, LaunchTemplateData) {
  LaunchTemplateData d;
  EXPECT_TRUE(validateLaunchTemplateData(d).isOk()); // everything optional
  d.imageId = "ami-12";
  EXPECT_EQ(validateLaunchTemplateData(d).code(), "InvalidAMIID.Malformed");
  d.imageId = "ami-0123456789abcdef0";
  d.port = 0;
  EXPECT_EQ(validateLaunchTemplateData(d).code(), "InvalidParameterValue");
  d.port = 8080;
  EXPECT_TRUE(validateLaunchTemplateData(d).isOk());
}

TEST(Validation, ElbNamesAndMatchers) {
  EXPECT_TRUE(validateElbName("shop-alb", "Load balancer").isOk());
  EXPECT_FALSE(validateElbName("-shop", "Load balancer").isOk());
  EXPECT_FALSE(validateElbName("shop_alb", "Load balancer").isOk());
  EXPECT_FALSE(validateElbName(std::string(33, 'a'), "Load balancer").isOk());
  EXPECT_TRUE(validateMatcher("200").isOk());
  EXPECT_TRUE(validateMatcher("200,302").isOk());
  EXPECT_TRUE(validateMatcher("200-299").isOk());
  EXPECT_FALSE(validateMatcher("600").isOk());
  EXPECT_FALSE(validateMatcher("299-200").isOk());
  EXPECT_FALSE(validateMatcher("ok").isOk());
  EXPECT_TRUE(matcherMatches("200", 200));
  EXPECT_FALSE(matcherMatches("200", 204));
  EXPECT_TRUE(matcherMatches("200-299,404", 204));
  EXPECT_TRUE(matcherMatches("200-299,404", 404));
  EXPECT_FALSE(matcherMatches("200-299,404", 500));
}

TEST(Validation, TargetGroupsHaveAwsDefaultsAndLimits) {
  TargetGroup tg;
  tg.targetGroupName = "shop";
  EXPECT_TRUE(validateTargetGroup(tg).isOk()); // the ELBv2 defaults are valid
  EXPECT_EQ(tg.healthCheckIntervalSeconds, 30);
  EXPECT_EQ(tg.healthCheckTimeoutSeconds, 5);
  EXPECT_EQ(tg.healthyThresholdCount, 5);
  EXPECT_EQ(tg.unhealthyThresholdCount, 2);
  EXPECT_EQ(tg.deregistrationDelaySeconds, 300);
  tg.healthCheckIntervalSeconds = 0.5; // sub-second for tests and demos
  tg.healthCheckTimeoutSeconds = 0.25;
  EXPECT_TRUE(validateTargetGroup(tg).isOk());
  tg.healthCheckTimeoutSeconds = 0.5;
  EXPECT_FALSE(validateTargetGroup(tg).isOk()); // timeout must be below the interval
  tg.healthCheckTimeoutSeconds = 0.25;
  tg.healthyThresholdCount = 1;
  EXPECT_FALSE(validateTargetGroup(tg).isOk());
  tg.healthyThresholdCount = 2;
  tg.algorithm = "random";
  EXPECT_FALSE(validateTargetGroup(tg).isOk());
  tg.algorithm = "least_outstanding_requests";
  tg.healthCheckPath = "health";
  EXPECT_FALSE(validateTargetGroup(tg).isOk());
}

TEST(Validation, RuleConditionsFollowElbLimits) {
  auto ok = [](std::vector<RuleCondition> c) { return validateRuleConditions(c).isOk(); };
  EXPECT_TRUE(ok({{"path-pattern", {"/img/*", "/v?/x"}}}));
  EXPECT_TRUE(ok({{"host-header", {"*.example.com"}}, {"source-ip", {"10.0.0.0/8"}}}));
  EXPECT_TRUE(ok({{"http-header", {"*Mobile*"}, "User-Agent"},
                  {"query-string", {}, "", {{"", "v1"}, {"lang", "en"}}}}));
  EXPECT_FALSE(ok({}));                                           // no condition
  EXPECT_FALSE(ok({{"cookie", {"x"}}}));                          // unknown field
  EXPECT_FALSE(ok({{"path-pattern", {}}}));                       // no value
  EXPECT_FALSE(ok({{"path-pattern", {"/a", "/b", "/c", "/d"}}})); // 4 values in a condition
  EXPECT_FALSE(ok({{"path-pattern", {"/a", "/b", "/c"}},
                   {"http-request-method", {"GET", "PUT", "POST"}}})); // 6 in the rule
  EXPECT_FALSE(ok({{"path-pattern", {"/*/*/*"}},
                   {"host-header", {"*.*.example.com"}},
                   {"http-header", {"*"}, "X-A"}})); // 6 wildcards
  EXPECT_FALSE(ok({{"path-pattern", {"/a"}}, {"path-pattern", {"/b"}}}));
  EXPECT_FALSE(ok({{"path-pattern", {"/a b"}}}));
  EXPECT_FALSE(ok({{"path-pattern", {std::string(129, 'a')}}}));
  EXPECT_FALSE(ok({{"host-header", {"localhost"}}}));     // needs a "."
  EXPECT_FALSE(ok({{"host-header", {"example.c0m"}}}));   // letters after the last "."
  EXPECT_FALSE(ok({{"http-header", {"x"}, "Host"}}));     // host-header does that
  EXPECT_FALSE(ok({{"http-header", {"x"}, "Bad Name"}})); // not a token
  EXPECT_FALSE(ok({{"http-request-method", {"get"}}}));   // A-Z only
  EXPECT_FALSE(ok({{"source-ip", {"10.0.0.0/33"}}}));
  EXPECT_FALSE(ok({{"source-ip", {"2001:db8::/32"}}}));      // no IPv6 in tide
  EXPECT_FALSE(ok({{"query-string", {}, "", {{"k", ""}}}})); // a value is required
}

TEST(Validation, ListenerActions) {
  ListenerAction fwd;
  fwd.targetGroupArn = "arn:tg/a";
  EXPECT_TRUE(validateListenerAction(fwd).isOk());
  fwd.forwardTargetGroups = {{"arn:tg/a", 3}, {"arn:tg/b", 0}};
  EXPECT_TRUE(validateListenerAction(fwd).isOk());
  fwd.forwardTargetGroups = {{"arn:tg/a", 0}, {"arn:tg/b", 0}};
  EXPECT_FALSE(validateListenerAction(fwd).isOk()); // all 0
  fwd.forwardTargetGroups = {{"arn:tg/a", 1000}};
  EXPECT_FALSE(validateListenerAction(fwd).isOk());
  fwd.forwardTargetGroups = {{"arn:tg/a", 1}, {"arn:tg/a", 1}};
  EXPECT_FALSE(validateListenerAction(fwd).isOk()); // twice
  fwd.forwardTargetGroups.assign(6, {"arn:tg/a", 1});
  EXPECT_FALSE(validateListenerAction(fwd).isOk());
  ListenerAction r;
  r.type = "redirect";
  EXPECT_FALSE(validateListenerAction(r).isOk()); // to itself
  r.redirectProtocol = "HTTPS";
  EXPECT_TRUE(validateListenerAction(r).isOk());
  r.redirectPort = "70000";
  EXPECT_FALSE(validateListenerAction(r).isOk());
  r.redirectPort = "443";
  r.redirectQuery = "?a=1";
  EXPECT_FALSE(validateListenerAction(r).isOk());
  r.redirectQuery = "a=#{nope}";
  EXPECT_FALSE(validateListenerAction(r).isOk());
  r.redirectQuery = "from=#{host}";
  r.redirectStatusCode = "HTTP_307";
  EXPECT_FALSE(validateListenerAction(r).isOk());
  r.redirectStatusCode = "HTTP_302";
  r.redirectPath = "relative";
  EXPECT_FALSE(validateListenerAction(r).isOk());
}

TEST(Validation, ResolvesVersions) {
  LaunchTemplate lt;
  lt.launchTemplateName = "web";
  lt.defaultVersionNumber = 2;
  lt.latestVersionNumber = 3;
  EXPECT_EQ(*resolveLaunchTemplateVersion(lt, "$Default"), 2);
  EXPECT_EQ(*resolveLaunchTemplateVersion(lt, ""), 2);
  EXPECT_EQ(*resolveLaunchTemplateVersion(lt, "$Latest"), 3);
  EXPECT_EQ(*resolveLaunchTemplateVersion(lt, "1"), 1);
  EXPECT_EQ(resolveLaunchTemplateVersion(lt, "4").status().code(),
            "InvalidLaunchTemplateId.VersionNotFound");
  EXPECT_EQ(resolveLaunchTemplateVersion(lt, "0").status().code(),
            "InvalidLaunchTemplateId.VersionNotFound");
  EXPECT_EQ(resolveLaunchTemplateVersion(lt, "two").status().code(), "InvalidParameterValue");
}

} // namespace
} // namespace tide::model
