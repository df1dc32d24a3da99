// For tests: a Store that forwards to a real one and fails chosen calls, so that tests can show
// what a controller does when one key's reads or writes fail (the rest of the store works).
#pragma once

#include "store/store.h"

#include <functional>
#include <string>

namespace tide::store {

// A Tx that asks `fault` before each call: a non-OK Status is returned instead of the call.
class FaultyTx final : public Tx {
public:
  // fault(call, key): `call` is the Tx method's name ("putTarget"), `key` its first argument's
  // key (a name, id or ARN; a target's group ARN, an activity's group name; empty for lists).
  using Fault = std::function<Status(const std::string& call, const std::string& key)>;
  FaultyTx(Tx& tx, const Fault& fault) : tx_(tx), fault_(fault) {}

  Result<std::optional<model::Image>> image(const std::string& imageId) override {
    TIDE_RETURN_IF_ERROR(check("image", imageId));
    return tx_.image(imageId);
  }
  Result<std::optional<model::Image>> imageByName(const std::string& name) override {
    TIDE_RETURN_IF_ERROR(check("imageByName", name));
    return tx_.imageByName(name);
  }
  Result<std::vector<model::Image>> images() override {
    TIDE_RETURN_IF_ERROR(check("images", std::string()));
    return tx_.images();
  }
  Status putImage(const model::Image& image) override {
    TIDE_RETURN_IF_ERROR(check("putImage", image.imageId));
    return tx_.putImage(image);
  }
  Status deleteImage(const std::string& imageId) override {
    TIDE_RETURN_IF_ERROR(check("deleteImage", imageId));
    return tx_.deleteImage(imageId);
  }
  Result<std::optional<model::LaunchTemplate>> launchTemplate(const std::string& id) override {
    TIDE_RETURN_IF_ERROR(check("launchTemplate", id));
    return tx_.launchTemplate(id);
  }
  Result<std::optional<model::LaunchTemplate>>
  launchTemplateByName(const std::string& name) override {
    TIDE_RETURN_IF_ERROR(check("launchTemplateByName", name));
    return tx_.launchTemplateByName(name);
  }
  Result<std::vector<model::LaunchTemplate>> launchTemplates() override {
    TIDE_RETURN_IF_ERROR(check("launchTemplates", std::string()));
    return tx_.launchTemplates();
  }
  Status putLaunchTemplate(const model::LaunchTemplate& lt) override {
    TIDE_RETURN_IF_ERROR(check("putLaunchTemplate", lt.launchTemplateId));
    return tx_.putLaunchTemplate(lt);
  }
  Status deleteLaunchTemplate(const std::string& id) override {
    TIDE_RETURN_IF_ERROR(check("deleteLaunchTemplate", id));
    return tx_.deleteLaunchTemplate(id);
  }
  Result<std::optional<model::LaunchTemplateVersion>>
  launchTemplateVersion(const std::string& templateId, int64_t version) override {
    TIDE_RETURN_IF_ERROR(check("launchTemplateVersion", templateId));
    return tx_.launchTemplateVersion(templateId, version);
  }
  Result<std::vector<model::LaunchTemplateVersion>>
  launchTemplateVersions(const std::string& templateId) override {
    TIDE_RETURN_IF_ERROR(check("launchTemplateVersions", templateId));
    return tx_.launchTemplateVersions(templateId);
  }
  Status insertLaunchTemplateVersion(const model::LaunchTemplateVersion& v) override {
    TIDE_RETURN_IF_ERROR(check("insertLaunchTemplateVersion", v.launchTemplateId));
    return tx_.insertLaunchTemplateVersion(v);
  }
  Result<std::optional<model::Instance>> instance(const std::string& instanceId) override {
    TIDE_RETURN_IF_ERROR(check("instance", instanceId));
    return tx_.instance(instanceId);
  }
  Result<std::vector<model::Instance>> instances() override {
    TIDE_RETURN_IF_ERROR(check("instances", std::string()));
    return tx_.instances();
  }
  Status putInstance(const model::Instance& instance) override {
    TIDE_RETURN_IF_ERROR(check("putInstance", instance.instanceId));
    return tx_.putInstance(instance);
  }
  Status deleteInstance(const std::string& instanceId) override {
    TIDE_RETURN_IF_ERROR(check("deleteInstance", instanceId));
    return tx_.deleteInstance(instanceId);
  }
  Result<std::optional<model::LoadBalancer>> loadBalancer(const std::string& arn) override {
    TIDE_RETURN_IF_ERROR(check("loadBalancer", arn));
    return tx_.loadBalancer(arn);
  }
  Result<std::optional<model::LoadBalancer>> loadBalancerByName(const std::string& name) override {
    TIDE_RETURN_IF_ERROR(check("loadBalancerByName", name));
    return tx_.loadBalancerByName(name);
  }
  Result<std::vector<model::LoadBalancer>> loadBalancers() override {
    TIDE_RETURN_IF_ERROR(check("loadBalancers", std::string()));
    return tx_.loadBalancers();
  }
  Status putLoadBalancer(const model::LoadBalancer& lb) override {
    TIDE_RETURN_IF_ERROR(check("putLoadBalancer", lb.loadBalancerArn));
    return tx_.putLoadBalancer(lb);
  }
  Status deleteLoadBalancer(const std::string& arn) override {
    TIDE_RETURN_IF_ERROR(check("deleteLoadBalancer", arn));
    return tx_.deleteLoadBalancer(arn);
  }
  Result<std::optional<model::Listener>> listener(const std::string& arn) override {
    TIDE_RETURN_IF_ERROR(check("listener", arn));
    return tx_.listener(arn);
  }
  Result<std::vector<model::Listener>> listeners() override {
    TIDE_RETURN_IF_ERROR(check("listeners", std::string()));
    return tx_.listeners();
  }
  Status putListener(const model::Listener& listener) override {
    TIDE_RETURN_IF_ERROR(check("putListener", listener.listenerArn));
    return tx_.putListener(listener);
  }
  Status deleteListener(const std::string& arn) override {
    TIDE_RETURN_IF_ERROR(check("deleteListener", arn));
    return tx_.deleteListener(arn);
  }
  Result<std::optional<model::TargetGroup>> targetGroup(const std::string& arn) override {
    TIDE_RETURN_IF_ERROR(check("targetGroup", arn));
    return tx_.targetGroup(arn);
  }
  Result<std::optional<model::TargetGroup>> targetGroupByName(const std::string& name) override {
    TIDE_RETURN_IF_ERROR(check("targetGroupByName", name));
    return tx_.targetGroupByName(name);
  }
  Result<std::vector<model::TargetGroup>> targetGroups() override {
    TIDE_RETURN_IF_ERROR(check("targetGroups", std::string()));
    return tx_.targetGroups();
  }
  Status putTargetGroup(const model::TargetGroup& tg) override {
    TIDE_RETURN_IF_ERROR(check("putTargetGroup", tg.targetGroupArn));
    return tx_.putTargetGroup(tg);
  }
  Status deleteTargetGroup(const std::string& arn) override {
    TIDE_RETURN_IF_ERROR(check("deleteTargetGroup", arn));
    return tx_.deleteTargetGroup(arn);
  }
  Result<std::vector<model::Target>> targets(const std::string& targetGroupArn) override {
    TIDE_RETURN_IF_ERROR(check("targets", targetGroupArn));
    return tx_.targets(targetGroupArn);
  }
  Status putTarget(const model::Target& target) override {
    TIDE_RETURN_IF_ERROR(check("putTarget", target.targetGroupArn));
    return tx_.putTarget(target);
  }
  Status deleteTarget(const model::Target& target) override {
    TIDE_RETURN_IF_ERROR(check("deleteTarget", target.targetGroupArn));
    return tx_.deleteTarget(target);
  }
  Result<std::optional<model::AutoScalingGroup>>
  autoScalingGroup(const std::string& name) override {
    TIDE_RETURN_IF_ERROR(check("autoScalingGroup", name));
    return tx_.autoScalingGroup(name);
  }
  Result<std::vector<model::AutoScalingGroup>> autoScalingGroups() override {
    TIDE_RETURN_IF_ERROR(check("autoScalingGroups", std::string()));
    return tx_.autoScalingGroups();
  }
  Status putAutoScalingGroup(const model::AutoScalingGroup& group) override {
    TIDE_RETURN_IF_ERROR(check("putAutoScalingGroup", group.autoScalingGroupName));
    return tx_.putAutoScalingGroup(group);
  }
  Status deleteAutoScalingGroup(const std::string& name) override {
    TIDE_RETURN_IF_ERROR(check("deleteAutoScalingGroup", name));
    return tx_.deleteAutoScalingGroup(name);
  }
  Result<std::vector<model::ScalingPolicy>> scalingPolicies(const std::string& groupName) override {
    TIDE_RETURN_IF_ERROR(check("scalingPolicies", groupName));
    return tx_.scalingPolicies(groupName);
  }
  Status putScalingPolicy(const model::ScalingPolicy& policy) override {
    TIDE_RETURN_IF_ERROR(check("putScalingPolicy", policy.autoScalingGroupName));
    return tx_.putScalingPolicy(policy);
  }
  Status deleteScalingPolicy(const std::string& policyArn) override {
    TIDE_RETURN_IF_ERROR(check("deleteScalingPolicy", policyArn));
    return tx_.deleteScalingPolicy(policyArn);
  }
  Result<std::vector<model::ScalingActivity>> scalingActivities(const std::string& groupName,
                                                                int limit) override {
    TIDE_RETURN_IF_ERROR(check("scalingActivities", groupName));
    return tx_.scalingActivities(groupName, limit);
  }
  Status putScalingActivity(const model::ScalingActivity& activity) override {
    TIDE_RETURN_IF_ERROR(check("putScalingActivity", activity.autoScalingGroupName));
    return tx_.putScalingActivity(activity);
  }
  Result<std::optional<model::MetricAlarm>> alarm(const std::string& name) override {
    TIDE_RETURN_IF_ERROR(check("alarm", name));
    return tx_.alarm(name);
  }
  Result<std::vector<model::MetricAlarm>> alarms() override {
    TIDE_RETURN_IF_ERROR(check("alarms", std::string()));
    return tx_.alarms();
  }
  Status putAlarm(const model::MetricAlarm& alarm) override {
    TIDE_RETURN_IF_ERROR(check("putAlarm", alarm.alarmName));
    return tx_.putAlarm(alarm);
  }
  Status deleteAlarm(const std::string& name) override {
    TIDE_RETURN_IF_ERROR(check("deleteAlarm", name));
    return tx_.deleteAlarm(name);
  }
  Result<std::optional<model::Stack>> stack(const std::string& name) override {
    TIDE_RETURN_IF_ERROR(check("stack", name));
    return tx_.stack(name);
  }
  Result<std::vector<model::Stack>> stacks() override {
    TIDE_RETURN_IF_ERROR(check("stacks", std::string()));
    return tx_.stacks();
  }
  Status putStack(const model::Stack& stack) override {
    TIDE_RETURN_IF_ERROR(check("putStack", stack.stackName));
    return tx_.putStack(stack);
  }
  Status deleteStack(const std::string& name) override {
    TIDE_RETURN_IF_ERROR(check("deleteStack", name));
    return tx_.deleteStack(name);
  }
  Result<std::vector<model::AlarmHistoryItem>> alarmHistory(const std::string& alarmName) override {
    TIDE_RETURN_IF_ERROR(check("alarmHistory", alarmName));
    return tx_.alarmHistory(alarmName);
  }
  Status putAlarmHistoryItem(const model::AlarmHistoryItem& item) override {
    TIDE_RETURN_IF_ERROR(check("putAlarmHistoryItem", item.alarmName));
    return tx_.putAlarmHistoryItem(item);
  }
  Result<std::vector<model::StackEvent>> stackEvents(const std::string& stackId) override {
    TIDE_RETURN_IF_ERROR(check("stackEvents", stackId));
    return tx_.stackEvents(stackId);
  }
  Status putStackEvent(const model::StackEvent& event) override {
    TIDE_RETURN_IF_ERROR(check("putStackEvent", event.stackId));
    return tx_.putStackEvent(event);
  }
  Result<std::vector<model::Stack>> deletedStacks() override {
    TIDE_RETURN_IF_ERROR(check("deletedStacks", std::string()));
    return tx_.deletedStacks();
  }
  Status putDeletedStack(const model::Stack& stack) override {
    TIDE_RETURN_IF_ERROR(check("putDeletedStack", stack.stackId));
    return tx_.putDeletedStack(stack);
  }

  Result<std::optional<model::Vpc>> vpc(const std::string& vpcId) override {
    TIDE_RETURN_IF_ERROR(check("vpc", vpcId));
    return tx_.vpc(vpcId);
  }
  Result<std::vector<model::Vpc>> vpcs() override {
    TIDE_RETURN_IF_ERROR(check("vpcs", std::string()));
    return tx_.vpcs();
  }
  Status putVpc(const model::Vpc& vpc) override {
    TIDE_RETURN_IF_ERROR(check("putVpc", vpc.vpcId));
    return tx_.putVpc(vpc);
  }
  Status deleteVpc(const std::string& vpcId) override {
    TIDE_RETURN_IF_ERROR(check("deleteVpc", vpcId));
    return tx_.deleteVpc(vpcId);
  }
  Result<std::optional<model::Subnet>> subnet(const std::string& subnetId) override {
    TIDE_RETURN_IF_ERROR(check("subnet", subnetId));
    return tx_.subnet(subnetId);
  }
  Result<std::vector<model::Subnet>> subnets(const std::string& vpcId) override {
    TIDE_RETURN_IF_ERROR(check("subnets", vpcId));
    return tx_.subnets(vpcId);
  }
  Status putSubnet(const model::Subnet& subnet) override {
    TIDE_RETURN_IF_ERROR(check("putSubnet", subnet.subnetId));
    return tx_.putSubnet(subnet);
  }
  Status deleteSubnet(const std::string& subnetId) override {
    TIDE_RETURN_IF_ERROR(check("deleteSubnet", subnetId));
    return tx_.deleteSubnet(subnetId);
  }
  Result<std::optional<model::SecurityGroup>> securityGroup(const std::string& groupId) override {
    TIDE_RETURN_IF_ERROR(check("securityGroup", groupId));
    return tx_.securityGroup(groupId);
  }
  Result<std::vector<model::SecurityGroup>> securityGroups(const std::string& vpcId) override {
    TIDE_RETURN_IF_ERROR(check("securityGroups", vpcId));
    return tx_.securityGroups(vpcId);
  }
  Status putSecurityGroup(const model::SecurityGroup& group) override {
    TIDE_RETURN_IF_ERROR(check("putSecurityGroup", group.groupId));
    return tx_.putSecurityGroup(group);
  }
  Status deleteSecurityGroup(const std::string& groupId) override {
    TIDE_RETURN_IF_ERROR(check("deleteSecurityGroup", groupId));
    return tx_.deleteSecurityGroup(groupId);
  }
  Result<std::optional<model::KeyPair>> keyPair(const std::string& keyPairId) override {
    TIDE_RETURN_IF_ERROR(check("keyPair", keyPairId));
    return tx_.keyPair(keyPairId);
  }
  Result<std::optional<model::KeyPair>> keyPairByName(const std::string& name) override {
    TIDE_RETURN_IF_ERROR(check("keyPairByName", name));
    return tx_.keyPairByName(name);
  }
  Result<std::vector<model::KeyPair>> keyPairs() override {
    TIDE_RETURN_IF_ERROR(check("keyPairs", std::string()));
    return tx_.keyPairs();
  }
  Status putKeyPair(const model::KeyPair& keyPair) override {
    TIDE_RETURN_IF_ERROR(check("putKeyPair", keyPair.keyPairId));
    return tx_.putKeyPair(keyPair);
  }
  Status deleteKeyPair(const std::string& keyPairId) override {
    TIDE_RETURN_IF_ERROR(check("deleteKeyPair", keyPairId));
    return tx_.deleteKeyPair(keyPairId);
  }
  Result<std::optional<model::Certificate>> certificate(const std::string& arn) override {
    TIDE_RETURN_IF_ERROR(check("certificate", arn));
    return tx_.certificate(arn);
  }
  Result<std::vector<model::Certificate>> certificates() override {
    TIDE_RETURN_IF_ERROR(check("certificates", std::string()));
    return tx_.certificates();
  }
  Status putCertificate(const model::Certificate& certificate) override {
    TIDE_RETURN_IF_ERROR(check("putCertificate", certificate.certificateArn));
    return tx_.putCertificate(certificate);
  }
  Status deleteCertificate(const std::string& arn) override {
    TIDE_RETURN_IF_ERROR(check("deleteCertificate", arn));
    return tx_.deleteCertificate(arn);
  }

private:
  Status check(const char* call, const std::string& key) {
    return fault_ ? fault_(call, key) : Status::ok();
  }
  Tx& tx_;
  const Fault& fault_;
};

// A Store whose transactions are FaultyTx over `store`'s. Set `fault` to inject; clear it to heal.
class FaultyStore final : public Store {
public:
  explicit FaultyStore(Store& store) : store_(store) {}

  FaultyTx::Fault fault;

  Status transact(const std::function<Status(Tx&)>& fn, bool notify = true) override {
    return store_.transact(
        [&](Tx& tx) {
          FaultyTx faulty(tx, fault);
          return fn(faulty);
        },
        notify);
  }
  uint64_t writeCommits() const override { return store_.writeCommits(); }
  using Store::onChange;
  void onChange(std::function<void(const ChangeSet&)> listener) override {
    store_.onChange(std::move(listener));
  }

private:
  Store& store_;
};

} // namespace tide::store
