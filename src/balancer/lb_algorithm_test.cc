// The load-balancing algorithms alone: weights, the slow start ramp under a fixed now, and the
// spread of weighted_random with a seeded generator (deterministic: same seed, same picks).
#include "balancer/lb_algorithm.h"
#include "balancer/prepared_snapshot.h"

#include <gtest/gtest.h>

#include <map>

namespace tide::balancer {
namespace {

TargetGroup group(size_t n, const std::string& algorithm) {
  TargetGroup g;
  g.name = "tg";
  g.algorithm = algorithm;
  for (size_t i = 0; i < n; ++i) {
    Target t;
    t.id = "t" + std::to_string(i);
    t.endpoint = {0x7f000001, uint16_t(8000 + i)};
    t.slot = uint32_t(i);
    g.targets.push_back(t);
  }
  return g;
}

SelectionState state(int64_t nowMs = 1'000'000) {
  SelectionState s;
  s.cursorByGroup.assign(4, 0);
  s.outstandingByTarget.assign(16, 0);
  s.nowMs = nowMs;
  s.rng = 12345;
  return s;
}

// How many of `picks` choices went to each target index.
std::map<int, int> spread(const TargetGroup& g, SelectionState& s, int picks,
                          uint32_t excludeSlot = kNoSlot) {
  const LbAlgorithm* a = findLbAlgorithm(g.algorithm);
  std::map<int, int> out;
  for (int i = 0; i < picks; ++i) {
    out[a->choose(g, false, excludeSlot, s)]++;
  }
  return out;
}

TEST(LbAlgorithmTest, AllThreeAreInTheTable) {
  for (const char* name : {"round_robin", "least_outstanding_requests", "weighted_random"}) {
    ASSERT_NE(findLbAlgorithm(name), nullptr) << name;
    EXPECT_EQ(findLbAlgorithm(name)->name, name);
  }
  EXPECT_EQ(findLbAlgorithm("random"), nullptr);
}

TEST(LbAlgorithmTest, SlowStartWeightRampsLinearly) {
  TargetGroup g = group(1, "round_robin");
  Target& t = g.targets[0];
  EXPECT_EQ(targetWeight(g, t, 5000), kFullWeight); // no slow start in the group
  g.slowStart = std::chrono::milliseconds(100'000);
  EXPECT_EQ(targetWeight(g, t, 5000), kFullWeight); // the target is not ramping
  t.slowStartBeginMs = 10'000;
  EXPECT_EQ(targetWeight(g, t, 9'000), 1u);  // clock before the ramp: the minimum
  EXPECT_EQ(targetWeight(g, t, 10'000), 1u); // from (almost) zero
  EXPECT_EQ(targetWeight(g, t, 35'000), kFullWeight / 4);
  EXPECT_EQ(targetWeight(g, t, 60'000), kFullWeight / 2);
  EXPECT_EQ(targetWeight(g, t, 109'999), kFullWeight * 99'999 / 100'000);
  EXPECT_EQ(targetWeight(g, t, 110'000), kFullWeight); // the ramp is over
  EXPECT_EQ(targetWeight(g, t, 999'000), kFullWeight);
}

TEST(LbAlgorithmTest, RoundRobinTakesTurnsAndSkipsIneligible) {
  TargetGroup g = group(3, "round_robin");
  SelectionState s = state();
  const LbAlgorithm* rr = findLbAlgorithm("round_robin");
  EXPECT_EQ(rr->choose(g, false, kNoSlot, s), 0);
  EXPECT_EQ(rr->choose(g, false, kNoSlot, s), 1);
  EXPECT_EQ(rr->choose(g, false, kNoSlot, s), 2);
  g.targets[1].state = TargetState::Draining;
  g.targets[2].state = TargetState::Unhealthy;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(rr->choose(g, false, kNoSlot, s), 0);
  }
  EXPECT_EQ(rr->choose(g, false, /*excludeSlot=*/0, s), -1);
  EXPECT_EQ(rr->choose(g, /*failOpen=*/true, 0, s), 2); // unhealthy ones when failing open
}

TEST(LbAlgorithmTest, InitialTargetsGetNoRequestsEvenWhenTheGroupFailsOpen) {
  for (const char* name : {"round_robin", "least_outstanding_requests", "weighted_random"}) {
    TargetGroup g = group(3, name);
    g.targets[0].state = TargetState::Initial;
    g.targets[1].state = TargetState::Unhealthy;
    g.targets[2].state = TargetState::Initial;
    SelectionState s = state();
    const LbAlgorithm* a = findLbAlgorithm(name);
    for (int i = 0; i < 50; ++i) {
      EXPECT_EQ(a->choose(g, /*failOpen=*/false, kNoSlot, s), -1) << name;
      EXPECT_EQ(a->choose(g, /*failOpen=*/true, kNoSlot, s), 1) << name;
    }
  }
}

// Whether prepareSnapshot decides that a group of targets in these states fails open.
bool failsOpen(std::vector<TargetState> states) {
  auto snap = std::make_shared<Snapshot>();
  TargetGroup g = group(states.size(), "round_robin");
  for (size_t i = 0; i < states.size(); ++i) {
    g.targets[i].state = states[i];
  }
  snap->targetGroups.push_back(g);
  auto p = prepareSnapshot(snap, SlotCapacity{});
  EXPECT_TRUE(p.isOk()) << p.status().toString();
  return p.isOk() && (*p)->failOpenByGroup.at(0) != 0;
}

TEST(LbAlgorithmTest, AGroupFailsOpenOnlyWhenEveryTargetIsUnhealthy) {
  using S = TargetState;
  EXPECT_TRUE(failsOpen({S::Unhealthy}));
  EXPECT_TRUE(failsOpen({S::Unhealthy, S::Unhealthy}));
  EXPECT_TRUE(failsOpen({S::Unhealthy, S::Draining})); // draining ones are deregistered
  EXPECT_FALSE(failsOpen({S::Routable, S::Unhealthy}));
  // A target in its initial checks is not unhealthy: no fail-open while one is, and the new
  // target gets nothing either until it passes (the case above).
  EXPECT_FALSE(failsOpen({S::Initial}));
  EXPECT_FALSE(failsOpen({S::Unhealthy, S::Initial}));
  EXPECT_FALSE(failsOpen({S::Draining}));
  EXPECT_FALSE(failsOpen({}));
}

TEST(LbAlgorithmTest, RoundRobinGivesARampingTargetItsWeightedShare) {
  TargetGroup g = group(3, "round_robin");
  g.slowStart = std::chrono::milliseconds(100'000);
  SelectionState s = state(/*nowMs=*/1'000'000);
  g.targets[2].slowStartBeginMs = 1'000'000 - 25'000; // a quarter through the ramp
  auto seen = spread(g, s, 9000);
  // Shares 1 : 1 : 0.25 of 2.25.
  EXPECT_NEAR(seen[2], 9000 * 0.25 / 2.25, 150);
  EXPECT_NEAR(seen[0], 9000 / 2.25, 200);
  EXPECT_NEAR(seen[1], 9000 / 2.25, 200);
  EXPECT_EQ(seen[-1], 0);
  // Once the ramp is over it is an equal again.
  s.nowMs += 75'000;
  seen = spread(g, s, 3000);
  EXPECT_EQ(seen[0], 1000);
  EXPECT_EQ(seen[1], 1000);
  EXPECT_EQ(seen[2], 1000);
}

TEST(LbAlgorithmTest, RoundRobinStillAnswersWhenOnlyRampingTargetsAreEligible) {
  TargetGroup g = group(2, "round_robin");
  g.slowStart = std::chrono::milliseconds(100'000);
  SelectionState s = state(1'000'000);
  g.targets[0].slowStartBeginMs = 1'000'000; // weight 1 of 1024
  g.targets[1].state = TargetState::Draining;
  auto seen = spread(g, s, 50);
  EXPECT_EQ(seen[0], 50);
}

TEST(LbAlgorithmTest, WeightedRandomSpreadsByWeight) {
  TargetGroup g = group(3, "weighted_random");
  SelectionState s = state();
  auto seen = spread(g, s, 30000);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(seen[i], 10000, 400) << i;
  }
  EXPECT_EQ(seen[-1], 0);
  // A target half through its slow start: shares 1 : 1 : 0.5.
  g.slowStart = std::chrono::milliseconds(60'000);
  g.targets[2].slowStartBeginMs = s.nowMs - 30'000;
  seen = spread(g, s, 30000);
  EXPECT_NEAR(seen[0], 12000, 400);
  EXPECT_NEAR(seen[1], 12000, 400);
  EXPECT_NEAR(seen[2], 6000, 400);
}

TEST(LbAlgorithmTest, WeightedRandomIsDeterministicForASeedAndHonoursEligibility) {
  TargetGroup g = group(4, "weighted_random");
  SelectionState s1 = state(), s2 = state();
  const LbAlgorithm* wr = findLbAlgorithm("weighted_random");
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(wr->choose(g, false, kNoSlot, s1), wr->choose(g, false, kNoSlot, s2));
  }
  g.targets[0].state = TargetState::Draining;
  g.targets[3].state = TargetState::Unhealthy;
  auto seen = spread(g, s1, 2000, /*excludeSlot=*/1);
  EXPECT_EQ(seen[2], 2000); // the only one left: not draining, not unhealthy, not excluded
  seen = spread(g, s1, 2000, 2);
  EXPECT_EQ(seen[1], 2000);
  g.targets[1].state = TargetState::Draining;
  g.targets[2].state = TargetState::Draining;
  EXPECT_EQ(wr->choose(g, false, kNoSlot, s1), -1);
  EXPECT_EQ(wr->choose(g, true, kNoSlot, s1), 3); // fail open to the unhealthy one
  EXPECT_EQ(wr->choose(group(0, "weighted_random"), false, kNoSlot, s1), -1);
}

} // namespace
} // namespace tide::balancer
