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

// "AutoScalingGroup name not found - AutoScalingGroup 'NAME' not found" (ValidationError).
Status groupNotFound(const std::string& name);
// The group, or groupNotFound.
Result<model::AutoScalingGroup> findGroup(store::Tx& tx, const std::string& name);
// A group that takes changes: findGroup, and ScalingActivityInProgress while it is deleted.
Result<model::AutoScalingGroup> findLiveGroup(store::Tx& tx, const std::string& name);

// Whether an instance counts as one of the group's (it belongs to it and is not terminated).
bool isGroupMember(const model::Instance& i, const std::string& groupName);

// `zone` below: the availability zone tide's instances are shown in, named with the request's
// region ("us-east-1a"; tideZone).
std::string tideZone(const ActionContext& ctx);

// One group with its member instances (AutoScalingGroups[] of DescribeAutoScalingGroups).
Json autoScalingGroupJson(const model::AutoScalingGroup& g,
                          const std::vector<model::Instance>& members, const std::string& zone);
// Instances[] of a group.
Json groupInstanceJson(const model::Instance& i, const std::string& zone);
// WarmPoolConfiguration of DescribeWarmPool and DescribeAutoScalingGroups.
Json warmPoolConfigurationJson(const model::WarmPoolConfiguration& pool);
// AutoScalingInstances[] of DescribeAutoScalingInstances (HealthStatus in capitals, as AWS).
Json autoScalingInstanceJson(const model::Instance& i, const std::string& zone);
// Activities[] of DescribeScalingActivities (Details begin with Auto Scaling's zone key).
Json activityJson(const model::ScalingActivity& a, const std::string& zone);
// ScalingPolicies[] of DescribePolicies; alarms: the alarms whose actions name the policy.
Json scalingPolicyJson(const model::ScalingPolicy& p,
                       const std::vector<model::MetricAlarm>& alarms);
// One tag of a request's Tags [{ResourceId, ResourceType, Key, Value, PropagateAtLaunch}].
struct GroupTag {
  std::string groupName; // ResourceId
  model::Tag tag;
  bool propagateAtLaunch = true;
};
// Reads Tags (actions_auto_scaling_tags.cc). With groupName (CreateAutoScalingGroup), ResourceId
// and ResourceType may be left out, PropagateAtLaunch defaults to true and no Tags is no tag;
// without it (CreateOrUpdateTags, DeleteTags) ResourceId and ResourceType are required and
// PropagateAtLaunch defaults to false. keysOnly (DeleteTags): values are not checked. Errors:
// ValidationError naming the tag.
Result<std::vector<GroupTag>> parseGroupTags(const Json& p, const std::string* groupName,
                                             bool keysOnly);
// Sets the tags naming g on g (a key already there takes the new value and flag).
// LimitExceeded past 50 tags.
Status applyGroupTags(model::AutoScalingGroup& g, const std::vector<GroupTag>& tags);
// Whether the group's tag `key` is put on the instances it launches.
bool propagatesAtLaunch(const model::AutoScalingGroup& g, const std::string& key);
// Tags[] of DescribeAutoScalingGroups.
Json groupTagsJson(const model::AutoScalingGroup& g);
// Alarms [{AlarmName, AlarmARN}] whose actions name the policy.
Json policyAlarmsJson(const model::ScalingPolicy& p, const std::vector<model::MetricAlarm>& alarms);

} // namespace tide::api
