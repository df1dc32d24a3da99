// Passive health: ejection lengths, their doubling and reset, and what the algorithms see.
#include "balancer/passive_health.h"

#include <gtest/gtest.h>

namespace tide::balancer {
namespace {

using std::chrono::milliseconds;

TEST(PassiveHealth, AnEjectionLastsTheBaseAndDoublesPerFailureInARowUpToTheMax) {
  SelectionState selection;
  PassiveHealth health(4, milliseconds(1000), milliseconds(3000), selection);
  ASSERT_EQ(selection.ejectedUntilByTarget.size(), 4u);
  EXPECT_FALSE(health.ejected(2, 0));
  EXPECT_TRUE(health.eject(2, 10'000));
  EXPECT_TRUE(health.ejected(2, 10'999));
  EXPECT_FALSE(health.ejected(2, 11'000));
  EXPECT_FALSE(health.ejected(1, 10'500)); // per target
  EXPECT_TRUE(health.eject(2, 11'000));
  EXPECT_EQ(selection.ejectedUntilByTarget[2], 13'000); // 2 s
  EXPECT_TRUE(health.eject(2, 13'000));
  EXPECT_EQ(selection.ejectedUntilByTarget[2], 16'000); // 4 s, capped at 3 s
  EXPECT_TRUE(health.eject(2, 16'000));
  EXPECT_EQ(selection.ejectedUntilByTarget[2], 19'000);
}

TEST(PassiveHealth, FailuresWhileEjectedDoNotLengthenTheEjection) {
  SelectionState selection;
  PassiveHealth health(1, milliseconds(1000), milliseconds(30'000), selection);
  EXPECT_TRUE(health.eject(0, 0));
  EXPECT_FALSE(health.eject(0, 500)); // requests that were in flight fail too
  EXPECT_EQ(selection.ejectedUntilByTarget[0], 1000);
  EXPECT_TRUE(health.eject(0, 1000));
  EXPECT_EQ(selection.ejectedUntilByTarget[0], 3000); // the second in a row: 2 s
}

TEST(PassiveHealth, AnAnswerEndsTheRunOfFailures) {
  SelectionState selection;
  PassiveHealth health(1, milliseconds(1000), milliseconds(30'000), selection);
  health.eject(0, 0);
  health.eject(0, 1000); // 2 s
  health.answered(0);
  EXPECT_TRUE(health.eject(0, 5000));
  EXPECT_EQ(selection.ejectedUntilByTarget[0], 6000); // the base again
}

TEST(PassiveHealth, TheAlgorithmsSkipAnEjectedTargetUnlessTheyFailOpen) {
  SelectionState selection;
  PassiveHealth health(2, milliseconds(1000), milliseconds(30'000), selection);
  Target t;
  t.slot = 1;
  t.state = TargetState::Routable;
  selection.nowMs = 100;
  EXPECT_TRUE(isEligible(t, false, kNoSlot, selection));
  health.eject(1, 100);
  EXPECT_FALSE(isEligible(t, false, kNoSlot, selection));
  selection.honourEjections = false; // every eligible target is ejected: use them anyway
  EXPECT_TRUE(isEligible(t, false, kNoSlot, selection));
}

} // namespace
} // namespace tide::balancer
