#include "api/action.h"
#include "api/handlers.h"

#include <cassert>
#include <iterator>

namespace tide::api {

namespace {
constexpr ActionEntry kActions[] = {
    {"CreateImage", "ec2", createImage},
    {"RegisterImage", "ec2", registerImage},
    {"DescribeImages", "ec2", describeImages},
    {"DeregisterImage", "ec2", deregisterImage},
    {"CreateLaunchTemplate", "ec2", createLaunchTemplate},
    {"CreateLaunchTemplateVersion", "ec2", createLaunchTemplateVersion},
    {"DescribeLaunchTemplates", "ec2", describeLaunchTemplates},
    {"DescribeLaunchTemplateVersions", "ec2", describeLaunchTemplateVersions},
    {"ModifyLaunchTemplate", "ec2", modifyLaunchTemplate},
    {"DeleteLaunchTemplate", "ec2", deleteLaunchTemplate},
    {"RunInstances", "ec2", runInstances},
    {"DescribeInstances", "ec2", describeInstances},
    {"TerminateInstances", "ec2", terminateInstances},
    {"StopInstances", "ec2", stopInstances},
    {"StartInstances", "ec2", startInstances},
    {"GetConsoleOutput", "ec2", getConsoleOutput},
    {"DescribeInstanceTypes", "ec2", describeInstanceTypes},
    {"DescribeInstanceStatus", "ec2", describeInstanceStatus},
    {"DescribeHost", "tide", describeHost},
    {"DescribeRegions", "ec2", describeRegions},
    {"DescribeAvailabilityZones", "ec2", describeAvailabilityZones},
    {"DescribeAccountAttributes", "ec2", describeAccountAttributes},
    {"CreateVpc", "ec2", createVpc},
    {"DeleteVpc", "ec2", deleteVpc},
    {"DescribeVpcs", "ec2", describeVpcs},
    {"CreateSubnet", "ec2", createSubnet},
    {"DeleteSubnet", "ec2", deleteSubnet},
    {"DescribeSubnets", "ec2", describeSubnets},
    {"CreateSecurityGroup", "ec2", createSecurityGroup},
    {"DeleteSecurityGroup", "ec2", deleteSecurityGroup},
    {"DescribeSecurityGroups", "ec2", describeSecurityGroups},
    {"DescribeSecurityGroupRules", "ec2", describeSecurityGroupRules},
    {"AuthorizeSecurityGroupIngress", "ec2", authorizeSecurityGroupIngress},
    {"AuthorizeSecurityGroupEgress", "ec2", authorizeSecurityGroupEgress},
    {"RevokeSecurityGroupIngress", "ec2", revokeSecurityGroupIngress},
    {"RevokeSecurityGroupEgress", "ec2", revokeSecurityGroupEgress},
    {"CreateKeyPair", "ec2", createKeyPair},
    {"ImportKeyPair", "ec2", importKeyPair},
    {"DescribeKeyPairs", "ec2", describeKeyPairs},
    {"DeleteKeyPair", "ec2", deleteKeyPair},
    {"CreateTags", "ec2", createTags},
    {"DeleteTags", "ec2", deleteTags},
    {"DescribeTags", "ec2", describeTags},
    {"CreateLoadBalancer", "elbv2", createLoadBalancer},
    {"DescribeLoadBalancers", "elbv2", describeLoadBalancers},
    {"DeleteLoadBalancer", "elbv2", deleteLoadBalancer},
    {"ModifyLoadBalancerAttributes", "elbv2", modifyLoadBalancerAttributes},
    {"DescribeLoadBalancerAttributes", "elbv2", describeLoadBalancerAttributes},
    {"CreateListener", "elbv2", createListener},
    {"DescribeListeners", "elbv2", describeListeners},
    {"DeleteListener", "elbv2", deleteListener},
    {"ModifyListener", "elbv2", modifyListener},
    {"CreateRule", "elbv2", createRule},
    {"ModifyRule", "elbv2", modifyRule},
    {"DeleteRule", "elbv2", deleteRule},
    {"DescribeRules", "elbv2", describeRules},
    {"SetRulePriorities", "elbv2", setRulePriorities},
    {"CreateTargetGroup", "elbv2", createTargetGroup},
    {"DescribeTargetGroups", "elbv2", describeTargetGroups},
    {"ModifyTargetGroup", "elbv2", modifyTargetGroup},
    {"ModifyTargetGroupAttributes", "elbv2", modifyTargetGroupAttributes},
    {"DescribeTargetGroupAttributes", "elbv2", describeTargetGroupAttributes},
    {"DeleteTargetGroup", "elbv2", deleteTargetGroup},
    {"RegisterTargets", "elbv2", registerTargets},
    {"DeregisterTargets", "elbv2", deregisterTargets},
    {"DescribeTargetHealth", "elbv2", describeTargetHealth},
    {"AddTags", "elbv2", addTags},
    {"RemoveTags", "elbv2", removeTags},
    {"DescribeTags", "elbv2", describeElbTags},
    {"SetSubnets", "elbv2", setSubnets},
    {"SetSecurityGroups", "elbv2", setSecurityGroups},
    {"CreateAutoScalingGroup", "autoscaling", createAutoScalingGroup},
    {"UpdateAutoScalingGroup", "autoscaling", updateAutoScalingGroup},
    {"DescribeAutoScalingGroups", "autoscaling", describeAutoScalingGroups},
    {"DeleteAutoScalingGroup", "autoscaling", deleteAutoScalingGroup},
    {"SetDesiredCapacity", "autoscaling", setDesiredCapacity},
    {"TerminateInstanceInAutoScalingGroup", "autoscaling", terminateInstanceInAutoScalingGroup},
    {"DescribeAutoScalingInstances", "autoscaling", describeAutoScalingInstances},
    {"DescribeScalingActivities", "autoscaling", describeScalingActivities},
    {"PutScalingPolicy", "autoscaling", putScalingPolicy},
    {"DescribePolicies", "autoscaling", describePolicies},
    {"DeletePolicy", "autoscaling", deletePolicy},
    {"ExecutePolicy", "autoscaling", executePolicy},
    {"CreateOrUpdateTags", "autoscaling", createOrUpdateTags},
    {"DescribeTags", "autoscaling", describeAutoScalingTags},
    {"DeleteTags", "autoscaling", deleteAutoScalingTags},
    {"DescribeTerminationPolicyTypes", "autoscaling", describeTerminationPolicyTypes},
    {"SetInstanceProtection", "autoscaling", setInstanceProtection},
    {"SetInstanceHealth", "autoscaling", setInstanceHealth},
    {"SuspendProcesses", "autoscaling", suspendProcesses},
    {"ResumeProcesses", "autoscaling", resumeProcesses},
    {"DescribeScalingProcessTypes", "autoscaling", describeScalingProcessTypes},
    {"EnterStandby", "autoscaling", enterStandby},
    {"ExitStandby", "autoscaling", exitStandby},
    {"AttachInstances", "autoscaling", attachInstances},
    {"DetachInstances", "autoscaling", detachInstances},
    {"PutScheduledUpdateGroupAction", "autoscaling", putScheduledUpdateGroupAction},
    {"BatchPutScheduledUpdateGroupAction", "autoscaling", batchPutScheduledUpdateGroupAction},
    {"DeleteScheduledAction", "autoscaling", deleteScheduledAction},
    {"BatchDeleteScheduledAction", "autoscaling", batchDeleteScheduledAction},
    {"DescribeScheduledActions", "autoscaling", describeScheduledActions},
    {"GetPredictiveScalingForecast", "autoscaling", getPredictiveScalingForecast},
    {"StartInstanceRefresh", "autoscaling", startInstanceRefresh},
    {"CancelInstanceRefresh", "autoscaling", cancelInstanceRefresh},
    {"RollbackInstanceRefresh", "autoscaling", rollbackInstanceRefresh},
    {"DescribeInstanceRefreshes", "autoscaling", describeInstanceRefreshes},
    {"PutLifecycleHook", "autoscaling", putLifecycleHook},
    {"DeleteLifecycleHook", "autoscaling", deleteLifecycleHook},
    {"DescribeLifecycleHooks", "autoscaling", describeLifecycleHooks},
    {"DescribeLifecycleHookTypes", "autoscaling", describeLifecycleHookTypes},
    {"CompleteLifecycleAction", "autoscaling", completeLifecycleAction},
    {"RecordLifecycleActionHeartbeat", "autoscaling", recordLifecycleActionHeartbeat},
    {"PutWarmPool", "autoscaling", putWarmPool},
    {"DeleteWarmPool", "autoscaling", deleteWarmPool},
    {"DescribeWarmPool", "autoscaling", describeWarmPool},
    {"PutMetricData", "monitoring", putMetricData},
    {"GetMetricStatistics", "monitoring", getMetricStatistics},
    {"ListMetrics", "monitoring", listMetrics},
    {"PutMetricAlarm", "monitoring", putMetricAlarm},
    {"DescribeAlarms", "monitoring", describeAlarms},
    {"DeleteAlarms", "monitoring", deleteAlarms},
    {"SetAlarmState", "monitoring", setAlarmState},
    {"DescribeAlarmHistory", "monitoring", describeAlarmHistory},
    {"TagResource", "monitoring", tagResource},
    {"UntagResource", "monitoring", untagResource},
    {"ListTagsForResource", "monitoring", listTagsForResource},
    {"GetMetricData", "monitoring", getMetricData},
    {"GetCallerIdentity", "sts", getCallerIdentity},
    {"GetSessionToken", "sts", getSessionToken},
    {"GetParameter", "ssm", getParameter},
    {"GetParameters", "ssm", getParameters},
    {"GetParametersByPath", "ssm", getParametersByPath},
    {"AddListenerCertificates", "elbv2", addListenerCertificates},
    {"RemoveListenerCertificates", "elbv2", removeListenerCertificates},
    {"DescribeListenerCertificates", "elbv2", describeListenerCertificates},
    {"DescribeSSLPolicies", "elbv2", describeSslPolicies},
    {"ImportCertificate", "acm", importCertificate},
    {"ListCertificates", "acm", listCertificates},
    {"DescribeCertificate", "acm", describeCertificate},
    {"GetCertificate", "acm", getCertificate},
    {"DeleteCertificate", "acm", deleteCertificate},
    {"AddTagsToCertificate", "acm", addTagsToCertificate},
    {"RemoveTagsFromCertificate", "acm", removeTagsFromCertificate},
    {"ListTagsForCertificate", "acm", listTagsForCertificate},
};
} // namespace

std::span<const ActionEntry> actionTable() {
  return kActions;
}

const ActionEntry* findAction(std::string_view name) {
  for (const ActionEntry& a : kActions) {
    if (a.name == name) {
      return &a;
    }
  }
  return nullptr;
}

ActionTable::ActionTable(std::initializer_list<std::span<const ActionEntry>> extra)
    : entries_(std::begin(kActions), std::end(kActions)) {
  for (std::span<const ActionEntry> rows : extra) {
    for (const ActionEntry& row : rows) {
      assert(find(row.service, row.name) == nullptr && "an action is registered twice");
      entries_.push_back(row);
    }
  }
}

const ActionEntry* ActionTable::find(std::string_view name) const {
  for (const ActionEntry& a : entries_) {
    if (a.name == name) {
      return &a;
    }
  }
  return nullptr;
}

const ActionEntry* ActionTable::find(std::string_view service, std::string_view name) const {
  for (const ActionEntry& a : entries_) {
    if (a.name == name && a.service == service) {
      return &a;
    }
  }
  return nullptr;
}

} // namespace tide::api
