// Auto Scaling resources in the Auto Scaling API's response shapes (DescribeAutoScalingGroups,
// DescribeAutoScalingInstances, DescribeScalingActivities, DescribePolicies). These shapes are
// an interface contract: scripts read them, so change them only as AWS would.
#pragma once

#include "api/action.h"
#include "model/auto_scaling.h"
#include "model/types.h"

#include <vector>

namespace tide::api {

// "arn:aws:autoscaling:REGION:ACCOUNT:" + resource, for the request's region and account.
std::string autoScalingArn(const ActionContext& ctx, const std::string& resource);

// Whether an instance counts as one of the group's (it belongs to it and is not terminated).
bool isGroupMember(const model::Instance& i, const std::string& groupName);

// One group with its member instances (AutoScalingGroups[] of DescribeAutoScalingGroups).
Json autoScalingGroupJson(const model::AutoScalingGroup& g,
                          const std::vector<model::Instance>& members);
// Instances[] of a group.
Json groupInstanceJson(const model::Instance& i);
// AutoScalingInstances[] of DescribeAutoScalingInstances (HealthStatus in capitals, as AWS).
Json autoScalingInstanceJson(const model::Instance& i);
// Activities[] of DescribeScalingActivities.
Json activityJson(const model::ScalingActivity& a);
// ScalingPolicies[] of DescribePolicies; alarms: the alarms whose actions name the policy.
Json scalingPolicyJson(const model::ScalingPolicy& p,
                       const std::vector<model::MetricAlarm>& alarms);
// Alarms [{AlarmName, AlarmARN}] whose actions name the policy.
Json policyAlarmsJson(const model::ScalingPolicy& p, const std::vector<model::MetricAlarm>& alarms);

} // namespace tide::api
