#include "control/target_health.h"

#include <gtest/gtest.h>

namespace tide::control {
namespace {

using model::TargetHealthState;
const CheckResult kPass{CheckResult::Kind::Passed, 200, ""};
const CheckResult kFail{CheckResult::Kind::CodeMismatch, 500, ""};
const CheckResult kTimeout{CheckResult::Kind::Timeout, 0, ""};

model::TargetGroup group() {
  model::TargetGroup tg; // ELBv2 defaults: healthy 5, unhealthy 2
  tg.targetGroupName = "web";
  return tg;
}

TEST(TargetHealth, NewTargetIsHealthyAfterItsFirstPassingCheck) {
  model::Target t;
  EXPECT_EQ(applyCheck(t, group(), kPass), HealthChange::StateChanged);
  EXPECT_EQ(t.state, TargetHealthState::Healthy);
  EXPECT_TRUE(t.reason.empty());
}

TEST(TargetHealth, UnhealthyAfterTheUnhealthyThresholdWithElbReasons) {
  model::Target t;
  t.state = TargetHealthState::Healthy;
  EXPECT_EQ(applyCheck(t, group(), kFail), HealthChange::CounterOnly);
  EXPECT_EQ(t.state, TargetHealthState::Healthy);
  EXPECT_EQ(applyCheck(t, group(), kFail), HealthChange::StateChanged);
  EXPECT_EQ(t.state, TargetHealthState::Unhealthy);
  EXPECT_EQ(t.reason, "Target.ResponseCodeMismatch");
  EXPECT_EQ(t.description, "Health checks failed with these codes: [500]");
  applyCheck(t, group(), kTimeout);
  EXPECT_EQ(t.reason, "Target.Timeout");
  EXPECT_EQ(t.description, "Request timed out");
}

TEST(TargetHealth, RiseNeedsTheHealthyThresholdInARow) {
  model::Target t;
  t.state = TargetHealthState::Unhealthy;
  model::TargetGroup tg = group();
  tg.healthyThresholdCount = 3;
  applyCheck(t, tg, kPass);
  applyCheck(t, tg, kPass);
  applyCheck(t, tg, kFail); // the run is broken: start counting again
  EXPECT_EQ(t.state, TargetHealthState::Unhealthy);
  applyCheck(t, tg, kPass);
  applyCheck(t, tg, kPass);
  EXPECT_EQ(t.state, TargetHealthState::Unhealthy);
  EXPECT_EQ(applyCheck(t, tg, kPass), HealthChange::StateChanged);
  EXPECT_EQ(t.state, TargetHealthState::Healthy);
}

TEST(TargetHealth, InitialTargetsFailAfterTheThresholdAndOthersAreLeftAlone) {
  model::Target t;
  applyCheck(t, group(), kFail);
  EXPECT_EQ(t.state, TargetHealthState::Initial);
  applyCheck(t, group(), {CheckResult::Kind::Failed, 0, "connection refused"});
  EXPECT_EQ(t.state, TargetHealthState::Unhealthy);
  EXPECT_EQ(t.reason, "Target.FailedHealthChecks");
  EXPECT_EQ(t.description, "Health checks failed: connection refused");
  model::Target draining;
  draining.state = TargetHealthState::Draining;
  EXPECT_EQ(applyCheck(draining, group(), kPass), HealthChange::Unchanged);
  EXPECT_EQ(draining.state, TargetHealthState::Draining);
}

} // namespace
} // namespace tide::control
