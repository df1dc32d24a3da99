// The handlers of the action table (action_table.cc), one file per resource family.
#pragma once

#include "api/action.h"
#include "model/auto_scaling.h"

namespace tide::api {

// actions_images.cc
Result<Json> createImage(ActionContext& ctx, const Json& p);
Result<Json> registerImage(ActionContext& ctx, const Json& p);
Result<Json> describeImages(ActionContext& ctx, const Json& p);
Result<Json> deregisterImage(ActionContext& ctx, const Json& p);

// actions_launch_templates.cc
Result<Json> createLaunchTemplate(ActionContext& ctx, const Json& p);
Result<Json> createLaunchTemplateVersion(ActionContext& ctx, const Json& p);
Result<Json> describeLaunchTemplates(ActionContext& ctx, const Json& p);
Result<Json> describeLaunchTemplateVersions(ActionContext& ctx, const Json& p);
Result<Json> modifyLaunchTemplate(ActionContext& ctx, const Json& p);
Result<Json> deleteLaunchTemplate(ActionContext& ctx, const Json& p);

// actions_instances.cc
Result<Json> runInstances(ActionContext& ctx, const Json& p);
Result<Json> describeInstances(ActionContext& ctx, const Json& p);
Result<Json> terminateInstances(ActionContext& ctx, const Json& p);
Result<Json> stopInstances(ActionContext& ctx, const Json& p);
Result<Json> startInstances(ActionContext& ctx, const Json& p);
Result<Json> getConsoleOutput(ActionContext& ctx, const Json& p);
Result<Json> describeInstanceTypes(ActionContext& ctx, const Json& p);
Result<Json> describeInstanceStatus(ActionContext& ctx, const Json& p);
Result<Json> describeHost(ActionContext& ctx, const Json& p);

// actions_regions.cc
// STS (actions_sts.cc).
Result<Json> getCallerIdentity(ActionContext& ctx, const Json& p);
Result<Json> getSessionToken(ActionContext& ctx, const Json& p);
Result<Json> describeRegions(ActionContext& ctx, const Json& p);
Result<Json> describeAvailabilityZones(ActionContext& ctx, const Json& p);
Result<Json> describeAccountAttributes(ActionContext& ctx, const Json& p);

// actions_vpcs.cc
Result<Json> createVpc(ActionContext& ctx, const Json& p);
Result<Json> deleteVpc(ActionContext& ctx, const Json& p);
Result<Json> describeVpcs(ActionContext& ctx, const Json& p);
Result<Json> createSubnet(ActionContext& ctx, const Json& p);
Result<Json> deleteSubnet(ActionContext& ctx, const Json& p);
Result<Json> describeSubnets(ActionContext& ctx, const Json& p);

// actions_security_groups.cc
Result<Json> createSecurityGroup(ActionContext& ctx, const Json& p);
Result<Json> deleteSecurityGroup(ActionContext& ctx, const Json& p);
Result<Json> describeSecurityGroups(ActionContext& ctx, const Json& p);
Result<Json> describeSecurityGroupRules(ActionContext& ctx, const Json& p);
Result<Json> authorizeSecurityGroupIngress(ActionContext& ctx, const Json& p);
Result<Json> authorizeSecurityGroupEgress(ActionContext& ctx, const Json& p);
Result<Json> revokeSecurityGroupIngress(ActionContext& ctx, const Json& p);
Result<Json> revokeSecurityGroupEgress(ActionContext& ctx, const Json& p);

// actions_key_pairs.cc
Result<Json> createKeyPair(ActionContext& ctx, const Json& p);
Result<Json> importKeyPair(ActionContext& ctx, const Json& p);
Result<Json> describeKeyPairs(ActionContext& ctx, const Json& p);
Result<Json> deleteKeyPair(ActionContext& ctx, const Json& p);

// actions_tags.cc
Result<Json> createTags(ActionContext& ctx, const Json& p);
Result<Json> deleteTags(ActionContext& ctx, const Json& p);
Result<Json> describeTags(ActionContext& ctx, const Json& p);

// actions_load_balancers.cc
Result<Json> createLoadBalancer(ActionContext& ctx, const Json& p);
Result<Json> describeLoadBalancers(ActionContext& ctx, const Json& p);
Result<Json> deleteLoadBalancer(ActionContext& ctx, const Json& p);
Result<Json> modifyLoadBalancerAttributes(ActionContext& ctx, const Json& p);
Result<Json> describeLoadBalancerAttributes(ActionContext& ctx, const Json& p);
Result<Json> createListener(ActionContext& ctx, const Json& p);
Result<Json> describeListeners(ActionContext& ctx, const Json& p);
Result<Json> deleteListener(ActionContext& ctx, const Json& p);

// actions_rules.cc
Result<Json> createRule(ActionContext& ctx, const Json& p);
Result<Json> modifyRule(ActionContext& ctx, const Json& p);
Result<Json> deleteRule(ActionContext& ctx, const Json& p);
Result<Json> describeRules(ActionContext& ctx, const Json& p);
Result<Json> setRulePriorities(ActionContext& ctx, const Json& p);
Result<Json> modifyListener(ActionContext& ctx, const Json& p);

// actions_target_groups.cc
Result<Json> createTargetGroup(ActionContext& ctx, const Json& p);
Result<Json> describeTargetGroups(ActionContext& ctx, const Json& p);
Result<Json> modifyTargetGroup(ActionContext& ctx, const Json& p);
Result<Json> modifyTargetGroupAttributes(ActionContext& ctx, const Json& p);
Result<Json> describeTargetGroupAttributes(ActionContext& ctx, const Json& p);
Result<Json> deleteTargetGroup(ActionContext& ctx, const Json& p);
Result<Json> registerTargets(ActionContext& ctx, const Json& p);
Result<Json> deregisterTargets(ActionContext& ctx, const Json& p);
Result<Json> describeTargetHealth(ActionContext& ctx, const Json& p);

// actions_auto_scaling.cc
Result<Json> createAutoScalingGroup(ActionContext& ctx, const Json& p);
Result<Json> updateAutoScalingGroup(ActionContext& ctx, const Json& p);
Result<Json> describeAutoScalingGroups(ActionContext& ctx, const Json& p);
Result<Json> deleteAutoScalingGroup(ActionContext& ctx, const Json& p);
Result<Json> setDesiredCapacity(ActionContext& ctx, const Json& p);
Result<Json> terminateInstanceInAutoScalingGroup(ActionContext& ctx, const Json& p);
Result<Json> describeAutoScalingInstances(ActionContext& ctx, const Json& p);
Result<Json> describeScalingActivities(ActionContext& ctx, const Json& p);
Result<Json> putScalingPolicy(ActionContext& ctx, const Json& p);
Result<Json> describePolicies(ActionContext& ctx, const Json& p);
Result<Json> deletePolicy(ActionContext& ctx, const Json& p);
Result<Json> executePolicy(ActionContext& ctx, const Json& p);

// actions_auto_scaling_controls.cc
Result<Json> describeTerminationPolicyTypes(ActionContext& ctx, const Json& p);
Result<Json> setInstanceProtection(ActionContext& ctx, const Json& p);
Result<Json> setInstanceHealth(ActionContext& ctx, const Json& p);
Result<Json> suspendProcesses(ActionContext& ctx, const Json& p);
Result<Json> resumeProcesses(ActionContext& ctx, const Json& p);
Result<Json> describeScalingProcessTypes(ActionContext& ctx, const Json& p);
Result<Json> enterStandby(ActionContext& ctx, const Json& p);
Result<Json> exitStandby(ActionContext& ctx, const Json& p);
Result<Json> attachInstances(ActionContext& ctx, const Json& p);
Result<Json> detachInstances(ActionContext& ctx, const Json& p);

// actions_auto_scaling_refresh.cc
Result<Json> startInstanceRefresh(ActionContext& ctx, const Json& p);
Result<Json> cancelInstanceRefresh(ActionContext& ctx, const Json& p);
Result<Json> rollbackInstanceRefresh(ActionContext& ctx, const Json& p);
Result<Json> describeInstanceRefreshes(ActionContext& ctx, const Json& p);

// actions_auto_scaling_tags.cc
Result<Json> createOrUpdateTags(ActionContext& ctx, const Json& p);
Result<Json> describeAutoScalingTags(ActionContext& ctx, const Json& p);
Result<Json> deleteAutoScalingTags(ActionContext& ctx, const Json& p);

// actions_elb_tags.cc
Result<Json> addTags(ActionContext& ctx, const Json& p);
Result<Json> removeTags(ActionContext& ctx, const Json& p);
Result<Json> describeElbTags(ActionContext& ctx, const Json& p);
Result<Json> setSubnets(ActionContext& ctx, const Json& p);
Result<Json> setSecurityGroups(ActionContext& ctx, const Json& p);

// actions_metric_data.cc
Result<Json> getMetricData(ActionContext& ctx, const Json& p);

// actions_cloudwatch.cc
Result<Json> putMetricData(ActionContext& ctx, const Json& p);
Result<Json> getMetricStatistics(ActionContext& ctx, const Json& p);
Result<Json> listMetrics(ActionContext& ctx, const Json& p);
Result<Json> putMetricAlarm(ActionContext& ctx, const Json& p);
Result<Json> describeAlarms(ActionContext& ctx, const Json& p);
Result<Json> deleteAlarms(ActionContext& ctx, const Json& p);
Result<Json> setAlarmState(ActionContext& ctx, const Json& p);
Result<Json> describeAlarmHistory(ActionContext& ctx, const Json& p);
Result<Json> tagResource(ActionContext& ctx, const Json& p);
Result<Json> untagResource(ActionContext& ctx, const Json& p);
Result<Json> listTagsForResource(ActionContext& ctx, const Json& p);

// actions_ssm.cc
Result<Json> getParameter(ActionContext& ctx, const Json& p);
Result<Json> getParameters(ActionContext& ctx, const Json& p);
Result<Json> getParametersByPath(ActionContext& ctx, const Json& p);

// actions_auto_scaling_scheduled.cc
Result<Json> putScheduledUpdateGroupAction(ActionContext& ctx, const Json& p);
Result<Json> batchPutScheduledUpdateGroupAction(ActionContext& ctx, const Json& p);
Result<Json> deleteScheduledAction(ActionContext& ctx, const Json& p);
Result<Json> batchDeleteScheduledAction(ActionContext& ctx, const Json& p);
Result<Json> describeScheduledActions(ActionContext& ctx, const Json& p);
// actions_auto_scaling_predictive.cc
Result<Json> getPredictiveScalingForecast(ActionContext& ctx, const Json& p);
// actions_auto_scaling_hooks.cc
Result<Json> putLifecycleHook(ActionContext& ctx, const Json& p);
Result<Json> deleteLifecycleHook(ActionContext& ctx, const Json& p);
Result<Json> describeLifecycleHooks(ActionContext& ctx, const Json& p);
Result<Json> describeLifecycleHookTypes(ActionContext& ctx, const Json& p);
Result<Json> completeLifecycleAction(ActionContext& ctx, const Json& p);
Result<Json> recordLifecycleActionHeartbeat(ActionContext& ctx, const Json& p);
// CreateAutoScalingGroup's LifecycleHookSpecificationList, put in g (ValidationError on a bad
// or duplicate hook).
Status readLifecycleHookSpecifications(const Json& p, model::AutoScalingGroup& g);

// actions_auto_scaling_warm_pool.cc
Result<Json> putWarmPool(ActionContext& ctx, const Json& p);
Result<Json> deleteWarmPool(ActionContext& ctx, const Json& p);
Result<Json> describeWarmPool(ActionContext& ctx, const Json& p);

// actions_acm.cc (AWS Certificate Manager)
Result<Json> importCertificate(ActionContext& ctx, const Json& p);
Result<Json> listCertificates(ActionContext& ctx, const Json& p);
Result<Json> describeCertificate(ActionContext& ctx, const Json& p);
Result<Json> getCertificate(ActionContext& ctx, const Json& p);
Result<Json> deleteCertificate(ActionContext& ctx, const Json& p);
Result<Json> addTagsToCertificate(ActionContext& ctx, const Json& p);
Result<Json> removeTagsFromCertificate(ActionContext& ctx, const Json& p);
Result<Json> listTagsForCertificate(ActionContext& ctx, const Json& p);

// actions_listener_certificates.cc (ELBv2: HTTPS listeners' certificates and policies)
Result<Json> addListenerCertificates(ActionContext& ctx, const Json& p);
Result<Json> removeListenerCertificates(ActionContext& ctx, const Json& p);
Result<Json> describeListenerCertificates(ActionContext& ctx, const Json& p);
Result<Json> describeSslPolicies(ActionContext& ctx, const Json& p);

} // namespace tide::api
