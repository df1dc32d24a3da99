#include "cli/event_text.h"

#include <gtest/gtest.h>

namespace tide::cli {
namespace {

using Json = nlohmann::json;

Json event(const std::string& type, Json detail) {
  return {{"version", "0"},
          {"id", "x"},
          {"detail-type", type},
          {"source", "aws.ec2"},
          {"time", "2026-12-06T12:00:00Z"},
          {"detail", std::move(detail)}};
}

TEST(EventTextTest, KeyFieldsOfEachType) {
  EXPECT_EQ(eventText(3, event("EC2 Instance State-change Notification",
                               {{"instance-id", "i-1"}, {"state", "running"}})),
            "2026-12-06T12:00:00Z  #3  EC2 Instance State-change Notification  i-1 running");
  EXPECT_EQ(
      eventText(4, event("EC2 Instance Launch Unsuccessful", {{"AutoScalingGroupName", "web"},
                                                              {"EC2InstanceId", ""},
                                                              {"StatusCode", "Failed"},
                                                              {"StatusMessage", "no capacity"}})),
      "2026-12-06T12:00:00Z  #4  EC2 Instance Launch Unsuccessful  web  Failed: no capacity");
  EXPECT_EQ(eventText(5, event("ELB Target Health State Change",
                               {{"targetGroupArn",
                                 "arn:aws:elasticloadbalancing:us-east-1:0:targetgroup/web/0123"},
                                {"target", {{"id", "i-1"}, {"port", 8080}}},
                                {"state", "unhealthy"},
                                {"reason", "Target.FailedHealthChecks"},
                                {"previousState", "healthy"}})),
            "2026-12-06T12:00:00Z  #5  ELB Target Health State Change  web i-1:8080 healthy → "
            "unhealthy (Target.FailedHealthChecks)");
  EXPECT_EQ(eventText(6, event("CloudWatch Alarm State Change",
                               {{"alarmName", "cpu"},
                                {"state", {{"value", "ALARM"}, {"reason", "crossed"}}},
                                {"previousState", {{"value", "OK"}}}})),
            "2026-12-06T12:00:00Z  #6  CloudWatch Alarm State Change  cpu OK → ALARM (crossed)");
  EXPECT_EQ(eventText(7, event("Something New", {{"a", 1}})),
            "2026-12-06T12:00:00Z  #7  Something New  {\"a\":1}");
}

} // namespace
} // namespace tide::cli
