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

// Every value of each enum reads back from its name, and each name is the API's.
template <typename E, size_t N>
void expectRoundTrip(std::string_view (*name)(E), std::optional<E> (*parse)(std::string_view),
                     const E (&values)[N], const std::string_view (&names)[N]) {
  for (size_t k = 0; k < N; ++k) {
    EXPECT_EQ(name(values[k]), names[k]);
    EXPECT_EQ(parse(names[k]), values[k]) << names[k];
  }
  EXPECT_FALSE(parse(""));
  EXPECT_FALSE(parse("exploded"));
}

TEST(Names, AutoScalingAndAlarmEnumsRoundTrip) {
  expectRoundTrip(lifecycleStateName, parseLifecycleState,
                  {LifecycleState::Pending, LifecycleState::InService, LifecycleState::Terminating,
                   LifecycleState::Terminated},
                  {"Pending", "InService", "Terminating", "Terminated"});
  expectRoundTrip(healthStatusName, parseHealthStatus,
                  {HealthStatus::Healthy, HealthStatus::Unhealthy}, {"Healthy", "Unhealthy"});
  expectRoundTrip(healthCheckTypeName, parseHealthCheckType,
                  {HealthCheckType::EC2, HealthCheckType::ELB}, {"EC2", "ELB"});
  expectRoundTrip(activityStatusCodeName, parseActivityStatusCode,
                  {ActivityStatusCode::InProgress, ActivityStatusCode::Successful,
                   ActivityStatusCode::Failed, ActivityStatusCode::Cancelled},
                  {"InProgress", "Successful", "Failed", "Cancelled"});
  expectRoundTrip(activityKindName, parseActivityKind,
                  {ActivityKind::Other, ActivityKind::Launch, ActivityKind::Terminate},
                  {"Other", "Launch", "Terminate"});
  expectRoundTrip(alarmStateValueName, parseAlarmStateValue,
                  {AlarmStateValue::Ok, AlarmStateValue::Alarm, AlarmStateValue::InsufficientData},
                  {"OK", "ALARM", "INSUFFICIENT_DATA"});
  // Names are exact: case matters, as in the APIs.
  EXPECT_FALSE(parseHealthCheckType("elb"));
  EXPECT_FALSE(parseAlarmStateValue("Alarm"));
}

} // namespace
} // namespace tide::model
