// Termination policies on AWS's documented examples (user guide, "Configure termination
// policies"): zone balance first, then the policies in order, then Default, protection honoured.
#include "operations/termination_policy.h"

#include <gtest/gtest.h>

namespace tide::operations {
namespace {

constexpr TimeMs kHour = 3'600'000;
constexpr TimeMs kNow = 100 * kHour;

ScaleInCandidate c(std::string id, std::string zone, int64_t version, TimeMs launched,
                   std::string templateId = "lt-current") {
  return {std::move(id), std::move(zone), std::move(templateId), version, launched, false};
}

model::AutoScalingGroup group(std::vector<std::string> policies = {"Default"}) {
  model::AutoScalingGroup g;
  g.autoScalingGroupName = "web";
  g.launchTemplateId = "lt-current";
  g.terminationPolicies = std::move(policies);
  return g;
}

TEST(TerminationPolicyTest, DefaultTakesTheBusiestZoneThenTheOldestConfiguration) {
  // AWS's example: A (us-east-1a) and B (us-east-1b) run an older configuration; the group
  // scaled out with C in us-east-1a. On scale-in, us-east-1a has the most instances, and of
  // its two A has the oldest configuration: A goes.
  std::vector<ScaleInCandidate> in = {c("i-a", "us-east-1a", 1, kNow - 5 * kHour),
                                      c("i-b", "us-east-1b", 1, kNow - 5 * kHour),
                                      c("i-c", "us-east-1a", 2, kNow - kHour / 2)};
  EXPECT_EQ(chooseScaleInVictims(group(), in, 1, kNow), std::vector<std::string>{"i-a"});
  // Another template than the group's goes before any version of the group's own.
  in[2].launchTemplateId = "lt-previous";
  EXPECT_EQ(chooseScaleInVictims(group(), in, 1, kNow), std::vector<std::string>{"i-c"});
}

TEST(TerminationPolicyTest, DefaultThenTakesTheInstanceClosestToItsNextBillingHour) {
  // Same configuration: the one with the least time left in its current hour.
  std::vector<ScaleInCandidate> in = {
      c("i-a", "us-east-1a", 1, kNow - 2 * kHour - 10 * 60'000), // 50 min left in its hour
      c("i-c", "us-east-1a", 1, kNow - 55 * 60'000),             // 5 min left
      c("i-b", "us-east-1b", 1, kNow - 59 * 60'000)};            // other zone
  EXPECT_EQ(chooseScaleInVictims(group(), in, 1, kNow), std::vector<std::string>{"i-c"});
  EXPECT_EQ(chooseScaleInVictims(group({"ClosestToNextInstanceHour"}), in, 1, kNow),
            std::vector<std::string>{"i-c"});
}

TEST(TerminationPolicyTest, ZoneBalanceComesBeforeThePolicies) {
  // The newest instance is alone in its zone; NewestInstance takes the newest of the busier one.
  std::vector<ScaleInCandidate> in = {c("i-1", "us-east-1a", 1, kNow - 3 * kHour),
                                      c("i-2", "us-east-1a", 1, kNow - 2 * kHour),
                                      c("i-3", "us-east-1b", 1, kNow - kHour)};
  EXPECT_EQ(chooseScaleInVictims(group({"NewestInstance"}), in, 1, kNow),
            std::vector<std::string>{"i-2"});
  // Balanced zones: the policy decides across all of them.
  in.push_back(c("i-4", "us-east-1b", 1, kNow - 4 * kHour));
  EXPECT_EQ(chooseScaleInVictims(group({"NewestInstance"}), in, 1, kNow),
            std::vector<std::string>{"i-3"});
  EXPECT_EQ(chooseScaleInVictims(group({"OldestInstance"}), in, 1, kNow),
            std::vector<std::string>{"i-4"});
}

TEST(TerminationPolicyTest, EachVictimRebalancesTheZones) {
  std::vector<ScaleInCandidate> in = {
      c("i-1", "us-east-1a", 1, kNow - 1 * kHour), c("i-2", "us-east-1a", 1, kNow - 2 * kHour),
      c("i-3", "us-east-1a", 1, kNow - 3 * kHour), c("i-4", "us-east-1b", 1, kNow - 4 * kHour),
      c("i-5", "us-east-1b", 1, kNow - 5 * kHour)};
  // 3 in a, 2 in b: one from a (now 2 and 2), then the oldest of all, then a from the
  // busier zone again.
  EXPECT_EQ(chooseScaleInVictims(group({"OldestInstance"}), in, 3, kNow),
            (std::vector<std::string>{"i-3", "i-5", "i-2"}));
}

TEST(TerminationPolicyTest, ProtectedInstancesAreNeverChosen) {
  std::vector<ScaleInCandidate> in = {c("i-1", "us-east-1a", 1, kNow - 3 * kHour),
                                      c("i-2", "us-east-1a", 1, kNow - 2 * kHour),
                                      c("i-3", "us-east-1b", 1, kNow - kHour)};
  in[0].protectedFromScaleIn = true;
  in[1].protectedFromScaleIn = true;
  // us-east-1a has the most instances but none unprotected: the zone is passed over.
  EXPECT_EQ(chooseScaleInVictims(group({"OldestInstance"}), in, 1, kNow),
            std::vector<std::string>{"i-3"});
  // Asked for more than are unprotected: only those.
  EXPECT_EQ(chooseScaleInVictims(group(), in, 3, kNow), std::vector<std::string>{"i-3"});
  in[2].protectedFromScaleIn = true;
  EXPECT_TRUE(chooseScaleInVictims(group(), in, 1, kNow).empty());
}

TEST(TerminationPolicyTest, OldestLaunchTemplateThenTheNextPolicyOnTies) {
  std::vector<ScaleInCandidate> in = {
      c("i-1", "a", 3, kNow - 4 * kHour), c("i-2", "a", 2, kNow - 3 * kHour),
      c("i-3", "a", 2, kNow - 2 * kHour), c("i-4", "a", 0, kNow - 1 * kHour, "")};
  // An instance launched without a template is not of the current one: first.
  EXPECT_EQ(chooseScaleInVictims(group({"OldestLaunchTemplate"}), in, 1, kNow),
            std::vector<std::string>{"i-4"});
  in.pop_back();
  // Oldest version (2) of the current template: i-2 and i-3; NewestInstance picks i-3.
  EXPECT_EQ(chooseScaleInVictims(group({"OldestLaunchTemplate", "NewestInstance"}), in, 1, kNow),
            std::vector<std::string>{"i-3"});
  EXPECT_EQ(chooseScaleInVictims(group({"OldestLaunchTemplate", "OldestInstance"}), in, 2, kNow),
            (std::vector<std::string>{"i-2", "i-3"}));
}

TEST(TerminationPolicyTest, TiesLeftByEveryPolicyGoToTheLowestInstanceId) {
  // AWS chooses at random among instances no policy tells apart; tide, the lowest id.
  std::vector<ScaleInCandidate> in = {c("i-9", "a", 1, kNow - kHour),
                                      c("i-5", "a", 1, kNow - kHour),
                                      c("i-7", "a", 1, kNow - kHour)};
  for (const char* p : {"Default", "AllocationStrategy", "OldestLaunchConfiguration"}) {
    EXPECT_EQ(chooseScaleInVictims(group({p}), in, 1, kNow), std::vector<std::string>{"i-5"}) << p;
  }
  EXPECT_EQ(chooseScaleInVictims(group(), in, 0, kNow), std::vector<std::string>{});
}

TEST(TerminationPolicyTest, TheTypesAreAwsNames) {
  std::vector<std::string_view> want = {"AllocationStrategy",
                                        "ClosestToNextInstanceHour",
                                        "Default",
                                        "NewestInstance",
                                        "OldestInstance",
                                        "OldestLaunchConfiguration",
                                        "OldestLaunchTemplate"};
  EXPECT_EQ(terminationPolicyTypes(), want);
  EXPECT_TRUE(isTerminationPolicyType("OldestInstance"));
  EXPECT_FALSE(isTerminationPolicyType("oldestinstance"));
}

} // namespace
} // namespace tide::operations
