#include "model/names.h"

#include <gtest/gtest.h>

namespace tide::model {
namespace {

TEST(Names, InstanceStatesRoundTripWithEc2Codes) {
  for (InstanceState s :
       {InstanceState::Pending, InstanceState::Running, InstanceState::ShuttingDown,
        InstanceState::Terminated, InstanceState::Stopping, InstanceState::Stopped}) {
    EXPECT_EQ(parseInstanceState(instanceStateName(s)), s);
  }
  EXPECT_EQ(instanceStateCode(InstanceState::Running), 16);
  EXPECT_EQ(instanceStateCode(InstanceState::Stopped), 80);
  EXPECT_EQ(instanceStateName(InstanceState::ShuttingDown), "shutting-down");
  EXPECT_FALSE(parseInstanceState("exploded"));
}

TEST(Names, ImageStatesAndGoals) {
  EXPECT_EQ(parseImageState("available"), ImageState::Available);
  EXPECT_FALSE(parseImageState("deleted"));
  EXPECT_EQ(parseInstanceGoal(instanceGoalName(InstanceGoal::Stop)), InstanceGoal::Stop);
}

} // namespace
} // namespace tide::model
