#include "api/auto_scaling_shapes.h"

#include "api/network_shapes.h"
#include "api/predictive_scaling_shapes.h"
#include "api/shapes.h"
#include "api/target_tracking_shapes.h"
#include "model/names.h"
#include "operations/warm_pool.h"

#include <algorithm>

namespace tide::api {

Status groupNotFound(const std::string& name) {
  return validationError("AutoScalingGroup name not found - AutoScalingGroup '" + name +
                         "' not found");
}

Result<model::AutoScalingGroup> findGroup(store::Tx& tx, const std::string& name) {
  TIDE_ASSIGN_OR_RETURN(auto g, tx.autoScalingGroup(name));
  if (!g.has_value()) {
    return groupNotFound(name);
  }
  return std::move(*g);
}

Result<model::AutoScalingGroup> findLiveGroup(store::Tx& tx, const std::string& name) {
  auto g = findGroup(tx, name);
  if (g && g->deleting) {
    return Status("ScalingActivityInProgress",
                  "AutoScalingGroup '" + name + "' is pending delete; it cannot be changed");
  }
  return g;
}

std::string autoScalingArn(const ActionContext& ctx, const std::string& resource) {
  return "arn:aws:autoscaling:" + ctx.region + ":" + ctx.accountId + ":" + resource;
}

bool isGroupMember(const model::Instance& i, const std::string& groupName) {
  return i.autoScalingGroupName == groupName && i.state != model::InstanceState::Terminated &&
         i.lifecycleState != model::LifecycleState::Terminated &&
         !(i.lifecycleState && operations::isWarmed(*i.lifecycleState)); // DescribeWarmPool's
}

namespace {

// LifecycleState and HealthStatus as the API shows them: empty when not in a group.
std::string lifecycleText(const model::Instance& i) {
  return i.lifecycleState ? std::string(model::lifecycleStateName(*i.lifecycleState)) : "";
}
std::string healthText(const model::Instance& i) {
  return i.healthStatus ? std::string(model::healthStatusName(*i.healthStatus)) : "";
}

Json instanceTemplateJson(const model::Instance& i) {
  return {{"LaunchTemplateId", i.launchTemplateId},
          {"LaunchTemplateName", i.launchTemplateName},
          {"Version", std::to_string(i.launchTemplateVersion)}};
}

} // namespace

std::string tideZone(const ActionContext& ctx) {
  return zoneName(ctx.region, "a");
}

Json groupInstanceJson(const model::Instance& i, const std::string& zone) {
  return {{"InstanceId", i.instanceId},
          {"InstanceType", i.instanceType},
          {"AvailabilityZone", zone},
          {"LifecycleState", lifecycleText(i)},
          {"HealthStatus", healthText(i)},
          {"LaunchTemplate", instanceTemplateJson(i)},
          {"ProtectedFromScaleIn", i.protectedFromScaleIn}};
}

Json autoScalingInstanceJson(const model::Instance& i, const std::string& zone) {
  std::string health = healthText(i);
  std::transform(health.begin(), health.end(), health.begin(), ::toupper);
  return {{"InstanceId", i.instanceId},
          {"InstanceType", i.instanceType},
          {"AutoScalingGroupName", i.autoScalingGroupName},
          {"AvailabilityZone", zone},
          {"LifecycleState", lifecycleText(i)},
          {"HealthStatus", health},
          {"LaunchTemplate", instanceTemplateJson(i)},
          {"ProtectedFromScaleIn", i.protectedFromScaleIn}};
}

Json autoScalingGroupJson(const model::AutoScalingGroup& g,
                          const std::vector<model::Instance>& members, const std::string& zone) {
  Json instances = Json::array();
  for (const auto& i : members) {
    instances.push_back(groupInstanceJson(i, zone));
  }
  Json tags = groupTagsJson(g);
  Json suspended = Json::array();
  for (const auto& sp : g.suspendedProcesses) {
    suspended.push_back(
        {{"ProcessName", sp.processName}, {"SuspensionReason", sp.suspensionReason}});
  }
  Json j = {{"AutoScalingGroupName", g.autoScalingGroupName},
            {"AutoScalingGroupARN", g.autoScalingGroupArn},
            {"LaunchTemplate",
             {{"LaunchTemplateId", g.launchTemplateId},
              {"LaunchTemplateName", g.launchTemplateName},
              {"Version", g.launchTemplateVersion}}},
            {"MinSize", g.minSize},
            {"MaxSize", g.maxSize},
            {"DesiredCapacity", g.desiredCapacity},
            {"DefaultCooldown", g.defaultCooldown},
            {"AvailabilityZones", Json::array({zone})},
            {"LoadBalancerNames", Json::array()},
            {"TargetGroupARNs", g.targetGroupArns},
            {"HealthCheckType", std::string(model::healthCheckTypeName(g.healthCheckType))},
            {"HealthCheckGracePeriod", g.healthCheckGracePeriod},
            {"Instances", instances},
            {"CreatedTime", formatIso8601(g.createdTime)},
            {"SuspendedProcesses", suspended},
            {"TerminationPolicies", g.terminationPolicies},
            {"NewInstancesProtectedFromScaleIn", g.newInstancesProtectedFromScaleIn},
            {"Tags", tags}};
  if (g.defaultInstanceWarmup) {
    j["DefaultInstanceWarmup"] = *g.defaultInstanceWarmup;
  }
  if (g.maxInstanceLifetime > 0) {
    j["MaxInstanceLifetime"] = g.maxInstanceLifetime;
  }
  if (g.deleting) {
    j["Status"] = "Delete in progress";
  }
  if (g.warmPool) {
    j["WarmPoolConfiguration"] = warmPoolConfigurationJson(*g.warmPool);
    j["WarmPoolSize"] = operations::warmPoolTargetSize(g);
  }
  return j;
}

Json warmPoolConfigurationJson(const model::WarmPoolConfiguration& pool) {
  Json j = {{"MinSize", pool.minSize},
            {"PoolState", std::string(operations::warmPoolStateName(pool.poolState))},
            {"InstanceReusePolicy", {{"ReuseOnScaleIn", pool.reuseOnScaleIn}}}};
  j["MaxGroupPreparedCapacity"] = pool.maxGroupPreparedCapacity.value_or(-1);
  if (pool.pendingDelete) {
    j["Status"] = "PendingDelete";
  }
  return j;
}

Json activityJson(const model::ScalingActivity& a, const std::string& zone) {
  Json j = {{"ActivityId", a.activityId},
            {"AutoScalingGroupName", a.autoScalingGroupName},
            {"Cause", a.cause},
            {"Description", a.description},
            {"StatusCode", std::string(model::activityStatusCodeName(a.statusCode))},
            {"StatusMessage", a.statusMessage},
            {"StartTime", formatIso8601(a.startTime)},
            {"Progress", a.progress},
            {"Details", a.details.empty()
                            ? "{\"Availability Zone\":\"" + zone + "\"}"
                            : "{\"Availability Zone\":\"" + zone + "\"," + a.details.substr(1)}};
  if (a.endTime != 0) {
    j["EndTime"] = formatIso8601(a.endTime);
  }
  return j;
}

Json policyAlarmsJson(const model::ScalingPolicy& p,
                      const std::vector<model::MetricAlarm>& alarms) {
  Json out = Json::array();
  for (const auto& a : alarms) {
    for (const auto* actions : {&a.alarmActions, &a.okActions, &a.insufficientDataActions}) {
      if (std::find(actions->begin(), actions->end(), p.policyArn) != actions->end()) {
        out.push_back({{"AlarmName", a.alarmName}, {"AlarmARN", a.alarmArn}});
        break;
      }
    }
  }
  return out;
}

Json scalingPolicyJson(const model::ScalingPolicy& p,
                       const std::vector<model::MetricAlarm>& alarms) {
  Json j = {{"AutoScalingGroupName", p.autoScalingGroupName},
            {"PolicyName", p.policyName},
            {"PolicyARN", p.policyArn},
            {"PolicyType", p.policyType},
            {"Alarms", policyAlarmsJson(p, alarms)},
            {"Enabled", p.enabled}};
  if (p.predictiveScaling) {
    j["PredictiveScalingConfiguration"] = predictiveScalingJson(*p.predictiveScaling);
    return j;
  }
  if (p.targetTracking) {
    j["TargetTrackingConfiguration"] = targetTrackingJson(*p.targetTracking);
    if (p.estimatedInstanceWarmup) {
      j["EstimatedInstanceWarmup"] = *p.estimatedInstanceWarmup;
    }
    return j;
  }
  j["AdjustmentType"] = p.adjustmentType;
  if (p.minAdjustmentMagnitude) {
    j["MinAdjustmentMagnitude"] = *p.minAdjustmentMagnitude;
  }
  if (p.policyType == "SimpleScaling") {
    j["ScalingAdjustment"] = p.scalingAdjustment;
    if (p.cooldown) {
      j["Cooldown"] = *p.cooldown;
    }
  } else {
    Json steps = Json::array();
    for (const auto& s : p.stepAdjustments) {
      Json step = {{"ScalingAdjustment", s.scalingAdjustment}};
      if (s.lowerBound) {
        step["MetricIntervalLowerBound"] = *s.lowerBound;
      }
      if (s.upperBound) {
        step["MetricIntervalUpperBound"] = *s.upperBound;
      }
      steps.push_back(step);
    }
    j["StepAdjustments"] = steps;
    j["MetricAggregationType"] = p.metricAggregationType;
    if (p.estimatedInstanceWarmup) {
      j["EstimatedInstanceWarmup"] = *p.estimatedInstanceWarmup;
    }
  }
  return j;
}

} // namespace tide::api
