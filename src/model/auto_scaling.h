// Auto Scaling resources (groups, scaling policies, scaling activities), CloudWatch metric
// alarms and CloudFormation-style stacks, named and shaped as in those APIs. Type-only header.
#pragma once

#include "common/clock.h"
#include "model/instance_refresh.h"
#include "model/types.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tide::model {

// ---------------------------------------------------------------------------------------------
// Auto Scaling groups. An instance belongs to a group when its autoScalingGroupName says so
// (see Instance): the group's instances are derived, never listed twice.

// How a group decides that an instance is unhealthy (Auto Scaling's HealthCheckType).
enum class HealthCheckType {
  EC2, // "EC2": the instance's state only
  ELB, // "ELB": also its target groups' health checks
};

// A process of the group's that SuspendProcesses stopped (Auto Scaling's SuspendedProcess).
struct SuspendedProcess {
  std::string processName;      // Launch, Terminate, HealthCheck, ReplaceUnhealthy, ...
  std::string suspensionReason; // "User suspended at 2026-11-27T21:18:13Z"
  bool operator==(const SuspendedProcess&) const = default;
};

// A scheduled action (Auto Scaling's ScheduledUpdateGroupAction), kept in its group's document:
// it belongs to the group, goes with it, and its next run and the group's sizes it sets change in
// one write (a restart neither runs it twice nor skips it).
struct ScheduledUpdateGroupAction {
  std::string scheduledActionName; // 1..255 characters, unique in the group
  std::string scheduledActionArn;  // arn:aws:autoscaling:REGION:ACCOUNT:scheduledUpdateGroupAction:
                                   //   UUID:autoScalingGroupName/G:scheduledActionName/N
  TimeMs startTime = 0;            // one-time: when it runs; recurring: not before; 0: unset
  TimeMs endTime = 0;              // recurring: not after; 0: unset
  std::string recurrence;          // 5-field cron; empty: a one-time action
  std::string timeZone;            // IANA name the cron is read in; empty: UTC
  std::optional<int> minSize;
  std::optional<int> maxSize;
  std::optional<int> desiredCapacity;
  TimeMs nextRun = 0; // when it runs next (0: never again); the controller moves it on
  bool operator==(const ScheduledUpdateGroupAction&) const = default;
};

// A lifecycle hook's LifecycleTransition (Auto Scaling's).
enum class LifecycleTransition {
  Launching,   // "autoscaling:EC2_INSTANCE_LAUNCHING": holds new instances in Pending:Wait
  Terminating, // "autoscaling:EC2_INSTANCE_TERMINATING": holds leaving ones in Terminating:Wait
};

// A lifecycle action's result (Auto Scaling's LifecycleActionResult).
enum class LifecycleActionResult {
  Continue, // "CONTINUE": launching: put in service; terminating: terminate
  Abandon,  // "ABANDON": launching: terminate and replace; terminating: terminate
};

// A lifecycle hook (Auto Scaling's LifecycleHook), kept in its group's document like scheduled
// actions. tide has no SNS or SQS: the notification target and role are kept and shown only.
struct LifecycleHook {
  std::string lifecycleHookName; // 1..255 characters, unique in the group
  LifecycleTransition lifecycleTransition = LifecycleTransition::Launching;
  std::string notificationTargetArn; // kept and shown; nothing is sent
  std::string roleArn;               // kept and shown
  std::string notificationMetadata;  // up to 1023 characters
  int heartbeatTimeout = 3600;       // seconds, 30..7200
  LifecycleActionResult defaultResult = LifecycleActionResult::Abandon; // on a timeout
  bool operator==(const LifecycleHook&) const = default;
};

// One instance held by one hook (a lifecycle action), kept in the group's document so that a
// restart keeps the instance waiting with its token and deadlines.
struct LifecycleAction {
  std::string lifecycleActionToken; // a UUID
  std::string lifecycleHookName;
  std::string instanceId;
  LifecycleTransition lifecycleTransition = LifecycleTransition::Launching;
  int heartbeatTimeout = 3600; // the hook's when the action began (seconds)
  LifecycleActionResult defaultResult = LifecycleActionResult::Abandon; // the hook's
  TimeMs startTime = 0;
  TimeMs heartbeatDeadline = 0; // the default result applies at this time; heartbeats move it
  TimeMs globalDeadline = 0;    // no heartbeat moves it past this (100 x heartbeat, at most 48 h)
  std::optional<LifecycleActionResult> result; // CompleteLifecycleAction's; unset: waiting
  bool operator==(const LifecycleAction&) const = default;
};

// A warm pool's PoolState: what its instances are while they wait.
enum class WarmPoolState {
  Stopped,    // "Stopped": process stopped, files kept (the default)
  Running,    // "Running": running, not registered, not capacity
  Hibernated, // "Hibernated": processes frozen by the cgroup freezer; memory kept, no CPU
};

// A group's warm pool (PutWarmPool's WarmPoolConfiguration), kept in its group's document.
// Its size: maxGroupPreparedCapacity (unset: the group's MaxSize) minus the desired capacity,
// at least minSize.
struct WarmPoolConfiguration {
  std::optional<int> maxGroupPreparedCapacity; // unset: the group's MaxSize (API: -1)
  int minSize = 0;                             // instances kept warm whatever the capacity
  WarmPoolState poolState = WarmPoolState::Stopped;
  bool reuseOnScaleIn = false; // InstanceReusePolicy: scale-in returns instances to the pool
  bool pendingDelete = false;  // DeleteWarmPool accepted; "PendingDelete" until it is empty
  bool operator==(const WarmPoolConfiguration&) const = default;
};

struct AutoScalingGroup {
  std::string autoScalingGroupName; // 1..255 characters, unique
  std::string autoScalingGroupArn;  // arn:aws:autoscaling:REGION:ACCOUNT:autoScalingGroup:
                                    //   UUID:autoScalingGroupName/NAME
  std::string launchTemplateId;     // the group's launch template
  std::string launchTemplateName;
  std::string launchTemplateVersion = "$Default"; // "$Default", "$Latest" or a number
  int minSize = 0;
  int maxSize = 0;
  int desiredCapacity = 0;                  // min <= desired <= max
  std::vector<std::string> targetGroupArns; // instances are registered with these
  HealthCheckType healthCheckType = HealthCheckType::EC2;
  int healthCheckGracePeriod = 0;           // seconds after launch before health counts (API: 0)
  int defaultCooldown = 300;                // seconds, for simple scaling policies
  std::optional<int> defaultInstanceWarmup; // seconds a new instance warms up (unset: none set)
  std::vector<std::string> terminationPolicies = {"Default"}; // Default, OldestInstance, ...
  std::vector<Tag> tags; // CreateOrUpdateTags; propagated to instances at launch unless listed
                         // in unpropagatedTagKeys
  std::vector<std::string> unpropagatedTagKeys;     // keys of tags with PropagateAtLaunch false
  bool newInstancesProtectedFromScaleIn = false;    // instances it launches start protected
  std::vector<SuspendedProcess> suspendedProcesses; // by name, in the order suspended
  int maxInstanceLifetime = 0; // seconds an instance may serve before it is replaced; 0: forever
  TimeMs createdTime = 0;
  bool deleting = false;    // DeleteAutoScalingGroup accepted; "Delete in progress"
  TimeMs cooldownUntil = 0; // no simple scaling before this
  std::vector<ScheduledUpdateGroupAction> scheduledActions; // by creation
  std::vector<InstanceRefresh> instanceRefreshes; // newest first, the last 50 (instance_refresh.h)
  std::vector<LifecycleHook> lifecycleHooks;      // by creation, at most 50
  std::vector<LifecycleAction> lifecycleActions;  // instances waiting in Pending:Wait or
                                                  // Terminating:Wait, one per hook
  std::optional<WarmPoolConfiguration> warmPool;  // PutWarmPool; unset: none
};

struct StepAdjustment {
  std::optional<double> lowerBound; // of (metric - threshold); unset: -infinity
  std::optional<double> upperBound; // unset: +infinity
  int scalingAdjustment = 0;
  bool operator==(const StepAdjustment&) const = default;
};

// A CloudWatch metric's dimension (alarms, target tracking's customized metrics).
struct Dimension {
  std::string name;
  std::string value;
  bool operator==(const Dimension&) const = default;
};

// One query of a target-tracking policy's customized metric in its Metrics form (Auto
// Scaling's TargetTrackingMetricDataQuery; CloudWatch's MetricDataQuery for a metric alarm):
// exactly one of a metric (metricName set) and an expression.
struct MetricDataQuery {
  std::string id;         // a lowercase letter first
  std::string expression; // metric math (metrics/metric_math.h); empty for a metric
  std::string label;
  bool returnData = true; // exactly one query of a set returns data
  // MetricStat
  std::string namespace_;
  std::string metricName; // empty for an expression
  std::vector<Dimension> dimensions;
  std::string stat; // Average, Sum, p99, ...
  std::string unit;
  std::optional<int> period; // seconds; unset: the alarm's or policy's
  bool operator==(const MetricDataQuery&) const = default;
};

// A TargetTrackingScaling policy's TargetTrackingConfiguration, as PutScalingPolicy takes it:
// either a predefined metric or a customized one (a single metric, or Metrics queries).
struct TargetTrackingConfiguration {
  std::string predefinedMetricType; // ASGAverageCPUUtilization, ...; empty: customized
  std::string resourceLabel;        // ALBRequestCountPerTarget: app/LB/ID/targetgroup/TG/ID
  // CustomizedMetricSpecification, single-metric form
  std::string metricName;
  std::string namespace_;
  std::vector<Dimension> dimensions;
  std::string statistic; // Average, Minimum, ...
  std::string unit;
  std::vector<MetricDataQuery> metrics; // the Metrics form; empty otherwise
  std::optional<int> period;            // seconds: 1 (tide), 10, 30 or 60; unset: 60
  double targetValue = 0;
  bool disableScaleIn = false; // true: no low alarm, never scales in
  bool operator==(const TargetTrackingConfiguration&) const = default;
};

// One PredictiveScalingMetricSpecification of a PredictiveScaling policy: a target and either
// a predefined metric pair, or a scaling metric and a load metric (each predefined or
// customized by metric data queries), with an optional customized capacity metric.
struct PredictiveScalingMetricSpecification {
  double targetValue = 0;   // the scaling metric's target per instance
  std::string pairType;     // PredefinedMetricPairSpecification: ASGCPUUtilization, ...
  std::string pairLabel;    //   its ResourceLabel (ALBRequestCount)
  std::string scalingType;  // PredefinedScalingMetricSpecification: ASGAverageCPUUtilization..
  std::string scalingLabel; //   its ResourceLabel (ALBRequestCountPerTarget)
  std::string loadType;     // PredefinedLoadMetricSpecification: ASGTotalCPUUtilization, ...
  std::string loadLabel;    //   its ResourceLabel (ALBTargetGroupRequestCount)
  std::vector<MetricDataQuery> customizedScaling;  // CustomizedScalingMetricSpecification
  std::vector<MetricDataQuery> customizedLoad;     // CustomizedLoadMetricSpecification
  std::vector<MetricDataQuery> customizedCapacity; // CustomizedCapacityMetricSpecification
  bool operator==(const PredictiveScalingMetricSpecification&) const = default;
};

// A PredictiveScaling policy's PredictiveScalingConfiguration (operations/predictive_scaling.h).
struct PredictiveScalingConfiguration {
  std::vector<PredictiveScalingMetricSpecification> metricSpecifications; // exactly one
  bool forecastAndScale = false;        // Mode ForecastAndScale; false: ForecastOnly (default)
  int schedulingBufferTime = 300;       // seconds capacity is raised ahead of its hour
  bool increaseMaxCapacity = false;     // MaxCapacityBreachBehavior IncreaseMaxCapacity; false:
                                        // HonorMaxCapacity (default)
  std::optional<int> maxCapacityBuffer; // percent above the forecast (IncreaseMaxCapacity only)
  TimeMs scaledHour = 0; // ForecastAndScale: the forecast hour last applied (the controller's)
  bool operator==(const PredictiveScalingConfiguration&) const = default;
};

struct ScalingPolicy {
  std::string policyName;
  std::string policyArn; // arn:aws:autoscaling:REGION:ACCOUNT:scalingPolicy:UUID:
                         //   autoScalingGroupName/G:policyName/P
  std::string autoScalingGroupName;
  std::string policyType = "SimpleScaling"; // SimpleScaling, StepScaling, TargetTrackingScaling,
                                            // PredictiveScaling
  std::string adjustmentType = "ChangeInCapacity"; // or ExactCapacity, PercentChangeInCapacity
  int scalingAdjustment = 0;                       // SimpleScaling
  std::optional<int> cooldown;                 // SimpleScaling; unset: the group's DefaultCooldown
  std::vector<StepAdjustment> stepAdjustments; // StepScaling
  std::string metricAggregationType = "Average"; // StepScaling
  std::optional<int> minAdjustmentMagnitude;     // PercentChangeInCapacity
  std::optional<int> estimatedInstanceWarmup;    // StepScaling, TargetTrackingScaling; seconds
  std::optional<TargetTrackingConfiguration> targetTracking;       // TargetTrackingScaling
  std::optional<PredictiveScalingConfiguration> predictiveScaling; // PredictiveScaling
  bool enabled = true;
  // TargetTrackingScaling: its managed alarms, AlarmHigh then AlarmLow (none with
  // DisableScaleIn). Other types: empty (their alarms are found by their actions).
  std::vector<std::string> alarmNames;
};

// A scaling activity's StatusCode (the ones tide uses of Auto Scaling's).
enum class ActivityStatusCode {
  InProgress,   // "InProgress"
  Successful,   // "Successful"
  Failed,       // "Failed"
  Cancelled,    // "Cancelled"
  PreInService, // "PreInService": an instance leaving standby, not yet in service
};

// What a scaling activity does: decisions read this (and instanceId), never the description.
enum class ActivityKind {
  Other,     // "Other": e.g. a change of desired capacity
  Launch,    // "Launch": launching an instance (instanceId empty when the launch failed)
  Terminate, // "Terminate": taking an instance out of service and terminating it
  Standby,   // "Standby": moving an instance to standby (EnterStandby) or out of it
  Attach,    // "Attach": attaching an existing instance (AttachInstances)
  Detach,    // "Detach": detaching an instance from the group (DetachInstances)
};

struct ScalingActivity {
  std::string activityId; // a UUID
  std::string autoScalingGroupName;
  ActivityKind kind = ActivityKind::Other;
  std::string instanceId;  // the instance launched or terminated; empty when none
  std::string description; // "Launching a new EC2 instance: i-..." (for people only)
  std::string cause;       // "At 2026-11-27T21:18:13Z an alarm ... changing the desired ..."
  std::string details;     // Details: a JSON object; empty: {"Availability Zone":...} only
  TimeMs startTime = 0;
  TimeMs endTime = 0; // 0 while in progress
  ActivityStatusCode statusCode = ActivityStatusCode::InProgress;
  std::string statusMessage;
  int progress = 0; // 0..100
};

// ---------------------------------------------------------------------------------------------
// CloudWatch metric alarms, as stored: the request (PutMetricAlarm) and the alarm's state.

// An alarm's StateValue (CloudWatch's).
enum class AlarmStateValue {
  Ok,               // "OK": within the threshold
  Alarm,            // "ALARM": outside the threshold for M of the last N periods
  InsufficientData, // "INSUFFICIENT_DATA": just created, or no data to decide
};

struct MetricAlarm {
  std::string alarmName; // unique
  std::string alarmArn;  // arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME
  std::string alarmDescription;
  std::string namespace_; // "AWS/EC2", ...
  std::string metricName; // "CPUUtilization", ...
  std::vector<Dimension> dimensions;
  std::string statistic;         // Average, Sum, Minimum, Maximum, SampleCount; or empty
  std::string extendedStatistic; // "p99"; or empty
  int period = 60;               // seconds
  int evaluationPeriods = 1;
  int datapointsToAlarm = 0; // 0: EvaluationPeriods
  double threshold = 0;
  std::string comparisonOperator; // GreaterThanThreshold, ...
  std::string treatMissingData = "missing";
  std::vector<MetricDataQuery> metrics; // a metric math alarm (then namespace_ etc. are empty)
  std::vector<std::string> alarmActions, okActions, insufficientDataActions;
  bool actionsEnabled = true;
  AlarmStateValue stateValue = AlarmStateValue::InsufficientData;
  std::string stateReason = "Unchecked: Initial alarm creation";
  std::string stateReasonData;
  TimeMs stateUpdatedTimestamp = 0;
  TimeMs alarmConfigurationUpdatedTimestamp = 0;
  std::vector<Tag> tags; // TagResource; PutMetricAlarm's Tags when it creates the alarm
};

// One entry of an alarm's history (DescribeAlarmHistory's AlarmHistoryItem). Kept after the
// alarm is deleted, as CloudWatch keeps it; bounded per alarm (store::Tx::kMaxAlarmHistory).
struct AlarmHistoryItem {
  std::string alarmName;
  std::string alarmType = "MetricAlarm";
  TimeMs timestamp = 0;
  std::string historyItemType; // "ConfigurationUpdate", "StateUpdate" or "Action"
  std::string historySummary;  // "Alarm updated from OK to ALARM", "Alarm \"x\" created"
  std::string historyData;     // a JSON document, as CloudWatch writes it
  bool operator==(const AlarmHistoryItem&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Stacks (tide up / down), shaped as CloudFormation's DescribeStacks.

struct StackParameter {
  std::string key;
  std::string value;
  bool operator==(const StackParameter&) const = default;
};

struct StackResource {
  std::string logicalResourceId;  // the template's name for it
  std::string resourceType;       // "AWS::EC2::LaunchTemplate", ...
  std::string physicalResourceId; // the id or ARN it got
  std::string resourceStatus;     // CREATE_COMPLETE, DELETE_FAILED, ...
  std::string resourceStatusReason;
  TimeMs lastUpdatedTimestamp = 0; // when its status last changed
  bool operator==(const StackResource&) const = default;
};

struct StackOutput {
  std::string outputKey;
  std::string outputValue;
  std::string description;
  bool operator==(const StackOutput&) const = default;
};

// One status change of a stack or of one of its resources (DescribeStackEvents). The stack's
// own events name the stack as LogicalResourceId, its id as PhysicalResourceId and the type
// AWS::CloudFormation::Stack.
struct StackEvent {
  std::string eventId;
  std::string stackId;
  std::string stackName;
  std::string logicalResourceId;
  std::string physicalResourceId;
  std::string resourceType;
  TimeMs timestamp = 0;
  std::string resourceStatus; // the status it changed to
  std::string resourceStatusReason;
  bool operator==(const StackEvent&) const = default;
};

// One resource change a change set would make (DescribeChangeSet's ResourceChange).
struct StackResourceChange {
  std::string action; // Add, Modify, Remove
  std::string logicalResourceId;
  std::string physicalResourceId; // empty for Add
  std::string resourceType;
  std::string replacement; // True, False (Modify only; empty otherwise)
  bool operator==(const StackResourceChange&) const = default;
};

// A change set: a proposed template and parameters for a stack, with the changes they would
// make, kept in its stack until executed or deleted.
struct StackChangeSet {
  std::string changeSetName;
  std::string changeSetId;   // arn:aws:cloudformation:REGION:ACCOUNT:changeSet/NAME/UUID
  std::string changeSetType; // CREATE (the stack waits in REVIEW_IN_PROGRESS) or UPDATE
  std::string description;
  std::string status;          // CREATE_COMPLETE or FAILED (computed when it is created)
  std::string statusReason;    // why it FAILED
  std::string executionStatus; // AVAILABLE, UNAVAILABLE, EXECUTE_IN_PROGRESS, EXECUTE_COMPLETE,
                               // EXECUTE_FAILED, OBSOLETE
  TimeMs creationTime = 0;
  std::string templateBody;          // as the engine reads it (Stack::templateBody)
  std::string submittedTemplateBody; // as submitted (GetTemplate)
  std::vector<StackParameter> parameters;
  std::vector<StackResourceChange> changes;
  bool operator==(const StackChangeSet&) const = default;
};

struct Stack {
  std::string stackName;             // unique among live stacks
  std::string stackId;               // arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID
  std::string templateBody;          // the parsed template as JSON (with tide's Metadata added)
  std::string submittedTemplateBody; // the template as submitted (GetTemplate); empty: as above
  std::vector<StackParameter> parameters;
  std::string stackStatus; // CREATE_IN_PROGRESS, CREATE_COMPLETE, ... (CloudFormation's)
  std::string stackStatusReason;
  TimeMs creationTime = 0;
  TimeMs lastUpdatedTime = 0;
  TimeMs deletionTime = 0;              // DELETE_COMPLETE stacks
  std::vector<StackResource> resources; // in creation order
  std::vector<StackOutput> outputs;
  // During an update and its rollback: the template and parameters before the update, which a
  // failed update rolls back to.
  std::string previousTemplateBody;
  std::string previousSubmittedTemplateBody;
  std::vector<StackParameter> previousParameters;
  std::vector<StackChangeSet> changeSets; // by creation
  std::string executingChangeSet;         // the change set id an update or create runs, if any
  bool operator==(const Stack&) const = default;
};

} // namespace tide::model
