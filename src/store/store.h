// Durable state: what users and policies asked for (desired state) and the facts that must
// survive a restart (an instance's process and state, a target's health state, activities).
// Per-second observations (CPU and memory readings, health-check counters) are not kept here:
// they stay in memory, and CPU goes to the metric store (src/metrics).
//
// Every change happens in a transaction: Store::transact runs a function with a Tx; when the
// function returns OK the changes commit together, otherwise none of them is kept. After a
// commit that wrote anything, the change listeners run (on the committing thread) with the
// ChangeSet of the rows it wrote, so that the level-triggered controllers that watch those rows
// run a pass soon.
//
// The SQLite implementation (sqlite_store.h) is the embedded default; the interface is the seam
// for other backends. A Store is used from one thread at a time (the control thread).
#pragma once

#include "common/status.h"
#include "model/auto_scaling.h"
#include "model/certificate.h"
#include "model/elb.h"
#include "model/network.h"
#include "model/types.h"
#include "store/change_set.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tide::store {

// One transaction. Valid only inside the function given to Store::transact. Reads see the
// transaction's own writes. Errors from the backend are "InternalError".
class Tx {
public:
  virtual ~Tx() = default;

  virtual Result<std::optional<model::Image>> image(const std::string& imageId) = 0;
  virtual Result<std::optional<model::Image>> imageByName(const std::string& name) = 0;
  virtual Result<std::vector<model::Image>> images() = 0; // ordered by creation
  virtual Status putImage(const model::Image& image) = 0; // insert or replace by id
  virtual Status deleteImage(const std::string& imageId) = 0;

  virtual Result<std::optional<model::LaunchTemplate>> launchTemplate(const std::string& id) = 0;
  virtual Result<std::optional<model::LaunchTemplate>>
  launchTemplateByName(const std::string& name) = 0;
  virtual Result<std::vector<model::LaunchTemplate>> launchTemplates() = 0;
  virtual Status putLaunchTemplate(const model::LaunchTemplate& lt) = 0;
  // Deletes the template and all its versions.
  virtual Status deleteLaunchTemplate(const std::string& id) = 0;

  virtual Result<std::optional<model::LaunchTemplateVersion>>
  launchTemplateVersion(const std::string& templateId, int64_t version) = 0;
  virtual Result<std::vector<model::LaunchTemplateVersion>>
  launchTemplateVersions(const std::string& templateId) = 0; // ascending version
  // Versions are immutable: inserting an existing (template, version) is an error.
  virtual Status insertLaunchTemplateVersion(const model::LaunchTemplateVersion& v) = 0;

  virtual Result<std::optional<model::Instance>> instance(const std::string& instanceId) = 0;
  virtual Result<std::vector<model::Instance>> instances() = 0;    // ordered by launch
  virtual Status putInstance(const model::Instance& instance) = 0; // insert or replace by id
  virtual Status deleteInstance(const std::string& instanceId) = 0;

  virtual Result<std::optional<model::LoadBalancer>> loadBalancer(const std::string& arn) = 0;
  virtual Result<std::optional<model::LoadBalancer>>
  loadBalancerByName(const std::string& name) = 0;
  virtual Result<std::vector<model::LoadBalancer>> loadBalancers() = 0; // by creation
  virtual Status putLoadBalancer(const model::LoadBalancer& lb) = 0;
  virtual Status deleteLoadBalancer(const std::string& arn) = 0;

  virtual Result<std::optional<model::Listener>> listener(const std::string& arn) = 0;
  virtual Result<std::vector<model::Listener>> listeners() = 0; // by creation
  virtual Status putListener(const model::Listener& listener) = 0;
  virtual Status deleteListener(const std::string& arn) = 0;

  virtual Result<std::optional<model::TargetGroup>> targetGroup(const std::string& arn) = 0;
  virtual Result<std::optional<model::TargetGroup>> targetGroupByName(const std::string& name) = 0;
  virtual Result<std::vector<model::TargetGroup>> targetGroups() = 0; // by creation
  virtual Status putTargetGroup(const model::TargetGroup& tg) = 0;
  // Deletes the group and its targets.
  virtual Status deleteTargetGroup(const std::string& arn) = 0;

  // The targets of one group (all groups when targetGroupArn is empty), by registration.
  virtual Result<std::vector<model::Target>> targets(const std::string& targetGroupArn) = 0;
  virtual Status putTarget(const model::Target& target) = 0; // keyed by group, id and port
  virtual Status deleteTarget(const model::Target& target) = 0;

  virtual Result<std::optional<model::AutoScalingGroup>>
  autoScalingGroup(const std::string& name) = 0;
  virtual Result<std::vector<model::AutoScalingGroup>> autoScalingGroups() = 0; // by creation
  virtual Status putAutoScalingGroup(const model::AutoScalingGroup& group) = 0;
  // Deletes the group, its policies and its activities.
  virtual Status deleteAutoScalingGroup(const std::string& name) = 0;

  // The policies of one group (all when groupName is empty), by creation.
  virtual Result<std::vector<model::ScalingPolicy>>
  scalingPolicies(const std::string& groupName) = 0;
  virtual Status putScalingPolicy(const model::ScalingPolicy& policy) = 0; // keyed by ARN
  virtual Status deleteScalingPolicy(const std::string& policyArn) = 0;

  // The newest `limit` activities of a group, newest first.
  virtual Result<std::vector<model::ScalingActivity>>
  scalingActivities(const std::string& groupName, int limit) = 0;
  virtual Status putScalingActivity(const model::ScalingActivity& activity) = 0; // by id

  virtual Result<std::optional<model::MetricAlarm>> alarm(const std::string& name) = 0;
  virtual Result<std::vector<model::MetricAlarm>> alarms() = 0; // by name
  virtual Status putAlarm(const model::MetricAlarm& alarm) = 0;
  virtual Status deleteAlarm(const std::string& name) = 0;

  // Alarm history (DescribeAlarmHistory), newest first: one alarm's, or every alarm's when
  // alarmName is empty. Kept after the alarm is deleted (as CloudWatch keeps it).
  // putAlarmHistoryItem appends one and keeps only the newest kMaxAlarmHistory of its alarm and
  // the newest kMaxAlarmHistoryTotal of all alarms, so that history stays bounded.
  static constexpr int kMaxAlarmHistory = 100;
  static constexpr int kMaxAlarmHistoryTotal = 10000;
  virtual Result<std::vector<model::AlarmHistoryItem>>
  alarmHistory(const std::string& alarmName) = 0;
  virtual Status putAlarmHistoryItem(const model::AlarmHistoryItem& item) = 0;

  virtual Result<std::optional<model::Stack>> stack(const std::string& name) = 0;
  virtual Result<std::vector<model::Stack>> stacks() = 0; // by creation
  virtual Status putStack(const model::Stack& stack) = 0;
  virtual Status deleteStack(const std::string& name) = 0;

  // A stack's events, newest first (DescribeStackEvents), kept for live and deleted stacks
  // alike. putStackEvent appends one and keeps only the newest kMaxStackEvents of its stack.
  static constexpr int kMaxStackEvents = 1000;
  virtual Result<std::vector<model::StackEvent>> stackEvents(const std::string& stackId) = 0;
  virtual Status putStackEvent(const model::StackEvent& event) = 0;

  // Stacks whose deletion completed (DELETE_COMPLETE, described by stack id and listed by
  // ListStacks), newest deletion first, keyed by stack id. putDeletedStack keeps only the
  // newest kMaxDeletedStacks, dropping the events of those it drops.
  static constexpr int kMaxDeletedStacks = 200;
  virtual Result<std::vector<model::Stack>> deletedStacks() = 0;
  virtual Status putDeletedStack(const model::Stack& stack) = 0;

  // EC2 networking (kept and shown, not enforced). The default VPC, its subnets and its
  // default security group exist from the store's creation (schema version 6).
  virtual Result<std::optional<model::Vpc>> vpc(const std::string& vpcId) = 0;
  virtual Result<std::vector<model::Vpc>> vpcs() = 0; // by creation
  virtual Status putVpc(const model::Vpc& vpc) = 0;
  virtual Status deleteVpc(const std::string& vpcId) = 0;

  virtual Result<std::optional<model::Subnet>> subnet(const std::string& subnetId) = 0;
  // The subnets of one VPC (all when vpcId is empty), by creation.
  virtual Result<std::vector<model::Subnet>> subnets(const std::string& vpcId) = 0;
  virtual Status putSubnet(const model::Subnet& subnet) = 0;
  virtual Status deleteSubnet(const std::string& subnetId) = 0;

  virtual Result<std::optional<model::SecurityGroup>> securityGroup(const std::string& groupId) = 0;
  // The groups of one VPC (all when vpcId is empty), by creation.
  virtual Result<std::vector<model::SecurityGroup>> securityGroups(const std::string& vpcId) = 0;
  virtual Status putSecurityGroup(const model::SecurityGroup& group) = 0; // names unique per VPC
  virtual Status deleteSecurityGroup(const std::string& groupId) = 0;

  virtual Result<std::optional<model::KeyPair>> keyPair(const std::string& keyPairId) = 0;
  virtual Result<std::optional<model::KeyPair>> keyPairByName(const std::string& name) = 0;
  virtual Result<std::vector<model::KeyPair>> keyPairs() = 0; // by creation
  virtual Status putKeyPair(const model::KeyPair& keyPair) = 0;
  virtual Status deleteKeyPair(const std::string& keyPairId) = 0;

  // ACM certificates (with their private keys: the store is readable by its owner only).
  virtual Result<std::optional<model::Certificate>> certificate(const std::string& arn) = 0;
  virtual Result<std::vector<model::Certificate>> certificates() = 0; // by first import
  virtual Status putCertificate(const model::Certificate& certificate) = 0;
  virtual Status deleteCertificate(const std::string& arn) = 0;
};

class Store {
public:
  virtual ~Store() = default;

  // Runs fn in one transaction (exclusive: one writer). Commits when fn returns OK; rolls back
  // and returns fn's Status otherwise. Notifies listeners after a commit when notify is true
  // (facts no controller waits for commit without waking the controllers).
  virtual Status transact(const std::function<Status(Tx&)>& fn, bool notify = true) = 0;

  // How many committed transactions wrote something since the store was opened (transactions
  // that only read are not counted). For tests and benchmarks.
  virtual uint64_t writeCommits() const = 0;

  // Adds a listener called after each notifying commit that wrote something, with the rows it
  // wrote (a write that matched no row, such as deleting what is gone, still calls it, with
  // fewer changes). Not removable; listeners live as long as the store.
  virtual void onChange(std::function<void(const ChangeSet&)> listener) = 0;
  // The same, for listeners that do not care which rows changed.
  void onChange(std::function<void()> listener) {
    onChange([l = std::move(listener)](const ChangeSet&) { l(); });
  }
};

} // namespace tide::store
