#include "store/codec.h"

#include "model/names.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace tide::model {

using nlohmann::json;

NLOHMANN_JSON_SERIALIZE_ENUM(ImageState, {{ImageState::Pending, "pending"},
                                          {ImageState::Available, "available"},
                                          {ImageState::Failed, "failed"}})
NLOHMANN_JSON_SERIALIZE_ENUM(InstanceState, {{InstanceState::Pending, "pending"},
                                             {InstanceState::Running, "running"},
                                             {InstanceState::ShuttingDown, "shutting-down"},
                                             {InstanceState::Terminated, "terminated"},
                                             {InstanceState::Stopping, "stopping"},
                                             {InstanceState::Stopped, "stopped"}})
NLOHMANN_JSON_SERIALIZE_ENUM(InstanceGoal, {{InstanceGoal::Run, "run"},
                                            {InstanceGoal::Stop, "stop"},
                                            {InstanceGoal::Terminate, "terminate"}})

// Enums kept by the names of model/names.h (the APIs' names); a name this tide does not know
// makes the document unreadable rather than silently another value.
template <typename E>
void enumFromJson(const json& j, E& v, std::optional<E> (*parse)(std::string_view),
                  const char* what) {
  const std::string& name = j.get_ref<const std::string&>();
  auto parsed = parse(name);
  if (!parsed) {
    throw std::invalid_argument(std::string("unknown ") + what + " '" + name + "'");
  }
  v = *parsed;
}
#define TIDE_ENUM_JSON(E, nameOf, parse)                                                           \
  void to_json(json& j, E v) {                                                                     \
    j = std::string(nameOf(v));                                                                    \
  }                                                                                                \
  void from_json(const json& j, E& v) {                                                            \
    enumFromJson(j, v, parse, #E);                                                                 \
  }
// An optional enum: "" when unset, as the store kept these strings before they were enums.
#define TIDE_OPTIONAL_ENUM_JSON(E, nameOf, parse)                                                  \
  TIDE_ENUM_JSON(E, nameOf, parse)                                                                 \
  void to_json(json& j, const std::optional<E>& v) {                                               \
    j = v ? std::string(nameOf(*v)) : "";                                                          \
  }                                                                                                \
  void from_json(const json& j, std::optional<E>& v) {                                             \
    v.reset();                                                                                     \
    if (!j.get_ref<const std::string&>().empty()) {                                                \
      enumFromJson(j, v.emplace(), parse, #E);                                                     \
    }                                                                                              \
  }
TIDE_OPTIONAL_ENUM_JSON(LifecycleState, lifecycleStateName, parseLifecycleState)
TIDE_OPTIONAL_ENUM_JSON(HealthStatus, healthStatusName, parseHealthStatus)
TIDE_ENUM_JSON(HealthCheckType, healthCheckTypeName, parseHealthCheckType)
TIDE_ENUM_JSON(ActivityStatusCode, activityStatusCodeName, parseActivityStatusCode)
TIDE_ENUM_JSON(ActivityKind, activityKindName, parseActivityKind)
TIDE_ENUM_JSON(LifecycleTransition, lifecycleTransitionName, parseLifecycleTransition)
TIDE_ENUM_JSON(LifecycleActionResult, lifecycleActionResultName, parseLifecycleActionResult)
TIDE_ENUM_JSON(AlarmStateValue, alarmStateValueName, parseAlarmStateValue)
TIDE_ENUM_JSON(InstanceRefreshStatus, instanceRefreshStatusName, parseInstanceRefreshStatus)
TIDE_ENUM_JSON(ScaleInProtectedInstances, scaleInProtectedInstancesName,
               parseScaleInProtectedInstances)
TIDE_ENUM_JSON(StandbyInstances, standbyInstancesName, parseStandbyInstances)
#undef TIDE_OPTIONAL_ENUM_JSON
#undef TIDE_ENUM_JSON

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Tag, key, value)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Vpc, vpcId, cidrBlock, cidrAssociationId, isDefault,
                                                createTime, tags)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Subnet, subnetId, vpcId, cidrBlock, zoneLetter,
                                                defaultForAz, mapPublicIpOnLaunch, createTime, tags)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SecurityGroupRule, ruleId, isEgress, ipProtocol,
                                                fromPort, toPort, cidrIpv4, cidrIpv6,
                                                referencedGroupId, description)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SecurityGroup, groupId, groupName, description,
                                                vpcId, rules, createTime, tags)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(KeyPair, keyPairId, keyName, keyType,
                                                keyFingerprint, publicKey, createTime, tags)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Certificate, certificateArn, certificatePem,
                                                chainPem, privateKeyPem, domainName,
                                                subjectAlternativeNames, serial, subject, issuer,
                                                keyAlgorithm, signatureAlgorithm, keyUsages,
                                                extendedKeyUsages, notBefore, notAfter, importedAt,
                                                createdAt, tags)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(EnvironmentVariable, name, value)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BlockDeviceMapping, deviceName, volumeSizeGiB,
                                                volumeType)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StateReason, code, message)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Image, imageId, name, description, state,
                                                stateReason, sourceDirectory, sourceInstanceId,
                                                runCommand, port, healthCheckPath, contentDigest,
                                                sizeBytes, fileCount, creationDate, tags, readAsUid,
                                                readAsGid)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LaunchTemplate, launchTemplateId,
                                                launchTemplateName, createTime,
                                                defaultVersionNumber, latestVersionNumber, tags)

// Optional fields: absent from the document when unset.
template <typename T> void optToJson(json& j, const char* key, const std::optional<T>& v) {
  if (v) {
    j[key] = *v;
  }
}
template <typename T> void optFromJson(const json& j, const char* key, std::optional<T>& v) {
  v = j.contains(key) ? std::optional<T>(j.at(key).get<T>()) : std::nullopt;
}

void to_json(json& j, const LaunchTemplateData& d) {
  j = json{{"imageId", d.imageId},
           {"instanceType", d.instanceType},
           {"userData", d.userData},
           {"environment", d.environment},
           {"instanceTags", d.instanceTags},
           {"securityGroupIds", d.securityGroupIds},
           {"blockDeviceMappings", d.blockDeviceMappings}};
  optToJson(j, "port", d.port);
}

void from_json(const json& j, LaunchTemplateData& d) {
  LaunchTemplateData def;
  d.imageId = j.value("imageId", def.imageId);
  d.instanceType = j.value("instanceType", def.instanceType);
  d.userData = j.value("userData", def.userData);
  d.environment = j.value("environment", def.environment);
  d.instanceTags = j.value("instanceTags", def.instanceTags);
  d.securityGroupIds = j.value("securityGroupIds", def.securityGroupIds);
  d.blockDeviceMappings = j.value("blockDeviceMappings", def.blockDeviceMappings);
  optFromJson(j, "port", d.port);
}

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LaunchTemplateVersion, launchTemplateId,
                                                launchTemplateName, versionNumber,
                                                versionDescription, createTime, data)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    Instance, instanceId, reservationId, imageId, contentDigest, runCommand, instanceType,
    launchTemplateId, launchTemplateName, launchTemplateVersion, amiLaunchIndex, privateIpAddress,
    port, state, goal, stateReason, stateTransitionReason, launchTime, stateChangedAt, userData,
    environment, tags, securityGroupIds, blockDeviceMappings, autoScalingGroupName, lifecycleState,
    healthStatus, protectedFromScaleIn, addToTargetGroups, hibernate, frozen, pid,
    processStartTicks, lastExit, impairedSince)

NLOHMANN_JSON_SERIALIZE_ENUM(TargetHealthState, {{TargetHealthState::Initial, "initial"},
                                                 {TargetHealthState::Healthy, "healthy"},
                                                 {TargetHealthState::Unhealthy, "unhealthy"},
                                                 {TargetHealthState::Unused, "unused"},
                                                 {TargetHealthState::Draining, "draining"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    LoadBalancer, loadBalancerArn, loadBalancerName, ipAddress, createdTime, idleTimeoutSeconds,
    desyncMitigationMode, tags, subnetIds, securityGroupIds, maxUriBytes, maxRequestBodyBytes,
    requestHeaderTimeoutSeconds, maxConnectionsPerListener, accessLogsEnabled, accessLogsBucket,
    accessLogsPrefix, maxConnectionsPerClient)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TargetGroupTuple, targetGroupArn, weight)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ListenerAction, type, targetGroupArn,
                                                fixedStatusCode, fixedContentType, fixedMessageBody,
                                                forwardTargetGroups, redirectProtocol, redirectHost,
                                                redirectPort, redirectPath, redirectQuery,
                                                redirectStatusCode)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(QueryStringKeyValue, key, value)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RuleCondition, field, values, httpHeaderName,
                                                queryValues)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Rule, ruleArn, priority, conditions, actions, tags)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Listener, listenerArn, loadBalancerArn, port,
                                                protocol, defaultActions, rules, tags,
                                                defaultCertificateArn, sniCertificateArns,
                                                sslPolicy)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    TargetGroup, targetGroupArn, targetGroupName, protocol, port, targetType, healthCheckPath,
    healthCheckPort, healthCheckIntervalSeconds, healthCheckTimeoutSeconds, healthyThresholdCount,
    unhealthyThresholdCount, matcher, healthCheckEnabled, deregistrationDelaySeconds, algorithm,
    createdTime, tags, anomalyMitigation, slowStartSeconds, stickinessEnabled, stickinessType,
    lbCookieDurationSeconds, appCookieName, appCookieDurationSeconds, maxConcurrencyPerTarget,
    queueMaxLength, queueTimeoutMs, protocolVersion)
// Target.consecutive is not stored: the health checker counts in memory.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Target, targetGroupArn, id, port, state, reason,
                                                description, registeredAt, drainingSince)

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SuspendedProcess, processName, suspensionReason)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    AutoScalingGroup, autoScalingGroupName, autoScalingGroupArn, launchTemplateId,
    launchTemplateName, launchTemplateVersion, minSize, maxSize, desiredCapacity, targetGroupArns,
    healthCheckType, healthCheckGracePeriod, defaultCooldown, terminationPolicies, tags,
    unpropagatedTagKeys, newInstancesProtectedFromScaleIn, suspendedProcesses, maxInstanceLifetime,
    createdTime, deleting, cooldownUntil)
// AutoScalingGroup's optional members, beyond the macro's (which has no std::optional).
void to_json(json& j, const ScheduledUpdateGroupAction& v) {
  j = json{{"scheduledActionName", v.scheduledActionName},
           {"scheduledActionArn", v.scheduledActionArn},
           {"startTime", v.startTime},
           {"endTime", v.endTime},
           {"recurrence", v.recurrence},
           {"timeZone", v.timeZone},
           {"nextRun", v.nextRun}};
  optToJson(j, "minSize", v.minSize);
  optToJson(j, "maxSize", v.maxSize);
  optToJson(j, "desiredCapacity", v.desiredCapacity);
}
void from_json(const json& j, ScheduledUpdateGroupAction& v) {
  ScheduledUpdateGroupAction d;
  v.scheduledActionName = j.value("scheduledActionName", d.scheduledActionName);
  v.scheduledActionArn = j.value("scheduledActionArn", d.scheduledActionArn);
  v.startTime = j.value("startTime", d.startTime);
  v.endTime = j.value("endTime", d.endTime);
  v.recurrence = j.value("recurrence", d.recurrence);
  v.timeZone = j.value("timeZone", d.timeZone);
  v.nextRun = j.value("nextRun", d.nextRun);
  optFromJson(j, "minSize", v.minSize);
  optFromJson(j, "maxSize", v.maxSize);
  optFromJson(j, "desiredCapacity", v.desiredCapacity);
}
// Instance refreshes (model/instance_refresh.h), kept in their group's document.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RefreshLaunchTemplate, launchTemplateId,
                                                launchTemplateName, version)
void to_json(json& j, const RefreshPreferences& v) {
  j = json{{"minHealthyPercentage", v.minHealthyPercentage},
           {"maxHealthyPercentage", v.maxHealthyPercentage},
           {"checkpointPercentages", v.checkpointPercentages},
           {"skipMatching", v.skipMatching},
           {"autoRollback", v.autoRollback},
           {"scaleInProtectedInstances", v.scaleInProtectedInstances},
           {"standbyInstances", v.standbyInstances},
           {"alarms", v.alarms}};
  optToJson(j, "instanceWarmup", v.instanceWarmup);
  optToJson(j, "checkpointDelay", v.checkpointDelay);
}
void from_json(const json& j, RefreshPreferences& v) {
  RefreshPreferences d;
  v.minHealthyPercentage = j.value("minHealthyPercentage", d.minHealthyPercentage);
  v.maxHealthyPercentage = j.value("maxHealthyPercentage", d.maxHealthyPercentage);
  v.checkpointPercentages = j.value("checkpointPercentages", d.checkpointPercentages);
  v.skipMatching = j.value("skipMatching", d.skipMatching);
  v.autoRollback = j.value("autoRollback", d.autoRollback);
  v.scaleInProtectedInstances = j.value("scaleInProtectedInstances", d.scaleInProtectedInstances);
  v.standbyInstances = j.value("standbyInstances", d.standbyInstances);
  v.alarms = j.value("alarms", d.alarms);
  optFromJson(j, "instanceWarmup", v.instanceWarmup);
  optFromJson(j, "checkpointDelay", v.checkpointDelay);
}
void to_json(json& j, const InstanceRefresh& v) {
  j = json{{"instanceRefreshId", v.instanceRefreshId},
           {"strategy", v.strategy},
           {"status", v.status},
           {"statusReason", v.statusReason},
           {"startTime", v.startTime},
           {"endTime", v.endTime},
           {"percentageComplete", v.percentageComplete},
           {"instancesToUpdate", v.instancesToUpdate},
           {"preferences", v.preferences},
           {"previousConfiguration", v.previousConfiguration},
           {"toReplace", v.toReplace},
           {"total", v.total},
           {"nextCheckpoint", v.nextCheckpoint},
           {"checkpointUntil", v.checkpointUntil},
           {"rollbackReason", v.rollbackReason},
           {"rollbackStartTime", v.rollbackStartTime},
           {"percentageCompleteOnRollback", v.percentageCompleteOnRollback},
           {"instancesToUpdateOnRollback", v.instancesToUpdateOnRollback}};
  optToJson(j, "desiredConfiguration", v.desiredConfiguration);
}
void from_json(const json& j, InstanceRefresh& v) {
  InstanceRefresh d;
  v.instanceRefreshId = j.value("instanceRefreshId", d.instanceRefreshId);
  v.strategy = j.value("strategy", d.strategy);
  v.status = j.value("status", d.status);
  v.statusReason = j.value("statusReason", d.statusReason);
  v.startTime = j.value("startTime", d.startTime);
  v.endTime = j.value("endTime", d.endTime);
  v.percentageComplete = j.value("percentageComplete", d.percentageComplete);
  v.instancesToUpdate = j.value("instancesToUpdate", d.instancesToUpdate);
  v.preferences = j.value("preferences", d.preferences);
  v.previousConfiguration = j.value("previousConfiguration", d.previousConfiguration);
  v.toReplace = j.value("toReplace", d.toReplace);
  v.total = j.value("total", d.total);
  v.nextCheckpoint = j.value("nextCheckpoint", d.nextCheckpoint);
  v.checkpointUntil = j.value("checkpointUntil", d.checkpointUntil);
  v.rollbackReason = j.value("rollbackReason", d.rollbackReason);
  v.rollbackStartTime = j.value("rollbackStartTime", d.rollbackStartTime);
  v.percentageCompleteOnRollback =
      j.value("percentageCompleteOnRollback", d.percentageCompleteOnRollback);
  v.instancesToUpdateOnRollback =
      j.value("instancesToUpdateOnRollback", d.instancesToUpdateOnRollback);
  optFromJson(j, "desiredConfiguration", v.desiredConfiguration);
}
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LifecycleHook, lifecycleHookName,
                                                lifecycleTransition, notificationTargetArn, roleArn,
                                                notificationMetadata, heartbeatTimeout,
                                                defaultResult)
void to_json(json& j, const LifecycleAction& v) {
  j = json{{"lifecycleActionToken", v.lifecycleActionToken},
           {"lifecycleHookName", v.lifecycleHookName},
           {"instanceId", v.instanceId},
           {"lifecycleTransition", v.lifecycleTransition},
           {"heartbeatTimeout", v.heartbeatTimeout},
           {"defaultResult", v.defaultResult},
           {"startTime", v.startTime},
           {"heartbeatDeadline", v.heartbeatDeadline},
           {"globalDeadline", v.globalDeadline}};
  if (v.result) {
    j["result"] = *v.result;
  }
}
void from_json(const json& j, LifecycleAction& v) {
  LifecycleAction d;
  v.lifecycleActionToken = j.value("lifecycleActionToken", d.lifecycleActionToken);
  v.lifecycleHookName = j.value("lifecycleHookName", d.lifecycleHookName);
  v.instanceId = j.value("instanceId", d.instanceId);
  v.lifecycleTransition = j.value("lifecycleTransition", d.lifecycleTransition);
  v.heartbeatTimeout = j.value("heartbeatTimeout", d.heartbeatTimeout);
  v.defaultResult = j.value("defaultResult", d.defaultResult);
  v.startTime = j.value("startTime", d.startTime);
  v.heartbeatDeadline = j.value("heartbeatDeadline", d.heartbeatDeadline);
  v.globalDeadline = j.value("globalDeadline", d.globalDeadline);
  v.result.reset();
  if (j.contains("result")) {
    v.result = j.at("result").get<LifecycleActionResult>();
  }
}
NLOHMANN_JSON_SERIALIZE_ENUM(WarmPoolState, {{WarmPoolState::Stopped, "Stopped"},
                                             {WarmPoolState::Running, "Running"},
                                             {WarmPoolState::Hibernated, "Hibernated"}})
void to_json(json& j, const WarmPoolConfiguration& v) {
  j = json{{"minSize", v.minSize},
           {"poolState", v.poolState},
           {"reuseOnScaleIn", v.reuseOnScaleIn},
           {"pendingDelete", v.pendingDelete}};
  optToJson(j, "maxGroupPreparedCapacity", v.maxGroupPreparedCapacity);
}
void from_json(const json& j, WarmPoolConfiguration& v) {
  WarmPoolConfiguration d;
  v.minSize = j.value("minSize", d.minSize);
  v.poolState = j.value("poolState", d.poolState);
  v.reuseOnScaleIn = j.value("reuseOnScaleIn", d.reuseOnScaleIn);
  v.pendingDelete = j.value("pendingDelete", d.pendingDelete);
  optFromJson(j, "maxGroupPreparedCapacity", v.maxGroupPreparedCapacity);
}
void groupExtrasToJson(json& j, const AutoScalingGroup& v) {
  optToJson(j, "defaultInstanceWarmup", v.defaultInstanceWarmup);
  optToJson(j, "warmPool", v.warmPool);
  if (!v.scheduledActions.empty()) {
    j["scheduledActions"] = v.scheduledActions;
  }
  if (!v.instanceRefreshes.empty()) {
    j["instanceRefreshes"] = v.instanceRefreshes;
  }
  if (!v.lifecycleHooks.empty()) {
    j["lifecycleHooks"] = v.lifecycleHooks;
  }
  if (!v.lifecycleActions.empty()) {
    j["lifecycleActions"] = v.lifecycleActions;
  }
}
void groupExtrasFromJson(const json& j, AutoScalingGroup& v) {
  optFromJson(j, "defaultInstanceWarmup", v.defaultInstanceWarmup);
  optFromJson(j, "warmPool", v.warmPool);
  v.scheduledActions = j.value("scheduledActions", std::vector<ScheduledUpdateGroupAction>{});
  v.instanceRefreshes = j.value("instanceRefreshes", std::vector<InstanceRefresh>{});
  v.lifecycleHooks = j.value("lifecycleHooks", std::vector<LifecycleHook>{});
  v.lifecycleActions = j.value("lifecycleActions", std::vector<LifecycleAction>{});
}

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Dimension, name, value)
void to_json(json& j, const MetricDataQuery& v) {
  j = json{{"id", v.id},
           {"expression", v.expression},
           {"label", v.label},
           {"returnData", v.returnData},
           {"namespace_", v.namespace_},
           {"metricName", v.metricName},
           {"dimensions", v.dimensions},
           {"stat", v.stat},
           {"unit", v.unit}};
  optToJson(j, "period", v.period);
}
void from_json(const json& j, MetricDataQuery& v) {
  MetricDataQuery d;
  v.id = j.value("id", d.id);
  v.expression = j.value("expression", d.expression);
  v.label = j.value("label", d.label);
  v.returnData = j.value("returnData", d.returnData);
  v.namespace_ = j.value("namespace_", d.namespace_);
  v.metricName = j.value("metricName", d.metricName);
  v.dimensions = j.value("dimensions", d.dimensions);
  v.stat = j.value("stat", d.stat);
  v.unit = j.value("unit", d.unit);
  optFromJson(j, "period", v.period);
}
void to_json(json& j, const TargetTrackingConfiguration& v) {
  j = json{{"predefinedMetricType", v.predefinedMetricType},
           {"resourceLabel", v.resourceLabel},
           {"metricName", v.metricName},
           {"namespace_", v.namespace_},
           {"dimensions", v.dimensions},
           {"statistic", v.statistic},
           {"unit", v.unit},
           {"metrics", v.metrics},
           {"targetValue", v.targetValue},
           {"disableScaleIn", v.disableScaleIn}};
  optToJson(j, "period", v.period);
}
void from_json(const json& j, TargetTrackingConfiguration& v) {
  TargetTrackingConfiguration d;
  v.predefinedMetricType = j.value("predefinedMetricType", d.predefinedMetricType);
  v.resourceLabel = j.value("resourceLabel", d.resourceLabel);
  v.metricName = j.value("metricName", d.metricName);
  v.namespace_ = j.value("namespace_", d.namespace_);
  v.dimensions = j.value("dimensions", d.dimensions);
  v.statistic = j.value("statistic", d.statistic);
  v.unit = j.value("unit", d.unit);
  v.metrics = j.value("metrics", d.metrics);
  v.targetValue = j.value("targetValue", d.targetValue);
  v.disableScaleIn = j.value("disableScaleIn", d.disableScaleIn);
  optFromJson(j, "period", v.period);
}

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PredictiveScalingMetricSpecification, targetValue,
                                                pairType, pairLabel, scalingType, scalingLabel,
                                                loadType, loadLabel, customizedScaling,
                                                customizedLoad, customizedCapacity)
void to_json(json& j, const PredictiveScalingConfiguration& v) {
  j = json{{"metricSpecifications", v.metricSpecifications},
           {"forecastAndScale", v.forecastAndScale},
           {"schedulingBufferTime", v.schedulingBufferTime},
           {"increaseMaxCapacity", v.increaseMaxCapacity},
           {"scaledHour", v.scaledHour}};
  optToJson(j, "maxCapacityBuffer", v.maxCapacityBuffer);
}
void from_json(const json& j, PredictiveScalingConfiguration& v) {
  PredictiveScalingConfiguration d;
  v.metricSpecifications = j.value("metricSpecifications", d.metricSpecifications);
  v.forecastAndScale = j.value("forecastAndScale", d.forecastAndScale);
  v.schedulingBufferTime = j.value("schedulingBufferTime", d.schedulingBufferTime);
  v.increaseMaxCapacity = j.value("increaseMaxCapacity", d.increaseMaxCapacity);
  v.scaledHour = j.value("scaledHour", d.scaledHour);
  optFromJson(j, "maxCapacityBuffer", v.maxCapacityBuffer);
}

void to_json(json& j, const StepAdjustment& v) {
  j = json{{"scalingAdjustment", v.scalingAdjustment}};
  optToJson(j, "lowerBound", v.lowerBound);
  optToJson(j, "upperBound", v.upperBound);
}
void from_json(const json& j, StepAdjustment& v) {
  v.scalingAdjustment = j.value("scalingAdjustment", 0);
  optFromJson(j, "lowerBound", v.lowerBound);
  optFromJson(j, "upperBound", v.upperBound);
}

void to_json(json& j, const ScalingPolicy& v) {
  j = json{{"policyName", v.policyName},
           {"policyArn", v.policyArn},
           {"autoScalingGroupName", v.autoScalingGroupName},
           {"policyType", v.policyType},
           {"adjustmentType", v.adjustmentType},
           {"scalingAdjustment", v.scalingAdjustment},
           {"stepAdjustments", v.stepAdjustments},
           {"metricAggregationType", v.metricAggregationType},
           {"enabled", v.enabled},
           {"alarmNames", v.alarmNames}};
  optToJson(j, "cooldown", v.cooldown);
  optToJson(j, "minAdjustmentMagnitude", v.minAdjustmentMagnitude);
  optToJson(j, "estimatedInstanceWarmup", v.estimatedInstanceWarmup);
  if (v.targetTracking) {
    j["targetTracking"] = *v.targetTracking;
  }
  if (v.predictiveScaling) {
    j["predictiveScaling"] = *v.predictiveScaling;
  }
}
void from_json(const json& j, ScalingPolicy& v) {
  ScalingPolicy d;
  v.policyName = j.value("policyName", d.policyName);
  v.policyArn = j.value("policyArn", d.policyArn);
  v.autoScalingGroupName = j.value("autoScalingGroupName", d.autoScalingGroupName);
  v.policyType = j.value("policyType", d.policyType);
  v.adjustmentType = j.value("adjustmentType", d.adjustmentType);
  v.scalingAdjustment = j.value("scalingAdjustment", d.scalingAdjustment);
  v.stepAdjustments = j.value("stepAdjustments", d.stepAdjustments);
  v.metricAggregationType = j.value("metricAggregationType", d.metricAggregationType);
  v.enabled = j.value("enabled", d.enabled);
  v.alarmNames = j.value("alarmNames", d.alarmNames);
  optFromJson(j, "cooldown", v.cooldown);
  optFromJson(j, "minAdjustmentMagnitude", v.minAdjustmentMagnitude);
  optFromJson(j, "estimatedInstanceWarmup", v.estimatedInstanceWarmup);
  if (j.contains("targetTracking")) {
    v.targetTracking = j.at("targetTracking").get<TargetTrackingConfiguration>();
  }
  if (j.contains("predictiveScaling")) {
    v.predictiveScaling = j.at("predictiveScaling").get<PredictiveScalingConfiguration>();
  }
}

// kind and instanceId: rows written before them are classified by schema migration 4.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ScalingActivity, activityId, autoScalingGroupName,
                                                kind, instanceId, description, cause, details,
                                                startTime, endTime, statusCode, statusMessage,
                                                progress)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MetricAlarm, alarmName, alarmArn, alarmDescription,
                                                namespace_, metricName, dimensions, statistic,
                                                extendedStatistic, period, evaluationPeriods,
                                                datapointsToAlarm, threshold, comparisonOperator,
                                                treatMissingData, metrics, alarmActions, okActions,
                                                insufficientDataActions, actionsEnabled, stateValue,
                                                stateReason, stateReasonData, stateUpdatedTimestamp,
                                                alarmConfigurationUpdatedTimestamp, tags)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AlarmHistoryItem, alarmName, alarmType, timestamp,
                                                historyItemType, historySummary, historyData)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StackParameter, key, value)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StackResource, logicalResourceId, resourceType,
                                                physicalResourceId, resourceStatus,
                                                resourceStatusReason, lastUpdatedTimestamp)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StackOutput, outputKey, outputValue, description)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StackEvent, eventId, stackId, stackName,
                                                logicalResourceId, physicalResourceId, resourceType,
                                                timestamp, resourceStatus, resourceStatusReason)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StackResourceChange, action, logicalResourceId,
                                                physicalResourceId, resourceType, replacement)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StackChangeSet, changeSetName, changeSetId,
                                                changeSetType, description, status, statusReason,
                                                executionStatus, creationTime, templateBody,
                                                submittedTemplateBody, parameters, changes)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Stack, stackName, stackId, templateBody,
                                                submittedTemplateBody, parameters, stackStatus,
                                                stackStatusReason, creationTime, lastUpdatedTime,
                                                deletionTime, resources, outputs,
                                                previousTemplateBody, previousSubmittedTemplateBody,
                                                previousParameters, changeSets, executingChangeSet)

} // namespace tide::model

namespace tide::store {

namespace {
template <typename T> Result<T> decode(const std::string& doc, const char* what) {
  try {
    return nlohmann::json::parse(doc).get<T>();
  } catch (const std::exception& e) {
    return internalError(std::string("stored ") + what + " cannot be read: " + e.what());
  }
}
} // namespace

std::string encodeImage(const model::Image& v) {
  return nlohmann::json(v).dump();
}
Result<model::Image> decodeImage(const std::string& doc) {
  return decode<model::Image>(doc, "image");
}
std::string encodeLaunchTemplate(const model::LaunchTemplate& v) {
  return nlohmann::json(v).dump();
}
Result<model::LaunchTemplate> decodeLaunchTemplate(const std::string& doc) {
  return decode<model::LaunchTemplate>(doc, "launch template");
}
std::string encodeLaunchTemplateVersion(const model::LaunchTemplateVersion& v) {
  return nlohmann::json(v).dump();
}
Result<model::LaunchTemplateVersion> decodeLaunchTemplateVersion(const std::string& doc) {
  return decode<model::LaunchTemplateVersion>(doc, "launch template version");
}
std::string encodeInstance(const model::Instance& v) {
  return nlohmann::json(v).dump();
}
Result<model::Instance> decodeInstance(const std::string& doc) {
  return decode<model::Instance>(doc, "instance");
}

std::string encodeLoadBalancer(const model::LoadBalancer& v) {
  return nlohmann::json(v).dump();
}
Result<model::LoadBalancer> decodeLoadBalancer(const std::string& doc) {
  return decode<model::LoadBalancer>(doc, "load balancer");
}
std::string encodeListener(const model::Listener& v) {
  return nlohmann::json(v).dump();
}
Result<model::Listener> decodeListener(const std::string& doc) {
  return decode<model::Listener>(doc, "listener");
}
std::string encodeTargetGroup(const model::TargetGroup& v) {
  return nlohmann::json(v).dump();
}
Result<model::TargetGroup> decodeTargetGroup(const std::string& doc) {
  return decode<model::TargetGroup>(doc, "target group");
}
std::string encodeTarget(const model::Target& v) {
  return nlohmann::json(v).dump();
}
Result<model::Target> decodeTarget(const std::string& doc) {
  return decode<model::Target>(doc, "target");
}

std::string encodeAutoScalingGroup(const model::AutoScalingGroup& v) {
  nlohmann::json j(v);
  model::groupExtrasToJson(j, v);
  return j.dump();
}
Result<model::AutoScalingGroup> decodeAutoScalingGroup(const std::string& doc) {
  TIDE_ASSIGN_OR_RETURN(auto g, decode<model::AutoScalingGroup>(doc, "Auto Scaling group"));
  try {
    model::groupExtrasFromJson(nlohmann::json::parse(doc), g);
  } catch (const std::exception& e) {
    return internalError(std::string("stored Auto Scaling group cannot be read: ") + e.what());
  }
  return g;
}
std::string encodeScalingPolicy(const model::ScalingPolicy& v) {
  return nlohmann::json(v).dump();
}
Result<model::ScalingPolicy> decodeScalingPolicy(const std::string& doc) {
  return decode<model::ScalingPolicy>(doc, "scaling policy");
}
std::string encodeScalingActivity(const model::ScalingActivity& v) {
  return nlohmann::json(v).dump();
}
Result<model::ScalingActivity> decodeScalingActivity(const std::string& doc) {
  return decode<model::ScalingActivity>(doc, "scaling activity");
}
std::string encodeAlarm(const model::MetricAlarm& v) {
  return nlohmann::json(v).dump();
}
Result<model::MetricAlarm> decodeAlarm(const std::string& doc) {
  return decode<model::MetricAlarm>(doc, "alarm");
}
std::string encodeAlarmHistoryItem(const model::AlarmHistoryItem& v) {
  return nlohmann::json(v).dump();
}
Result<model::AlarmHistoryItem> decodeAlarmHistoryItem(const std::string& doc) {
  return decode<model::AlarmHistoryItem>(doc, "alarm history item");
}
std::string encodeStack(const model::Stack& v) {
  return nlohmann::json(v).dump();
}
Result<model::Stack> decodeStack(const std::string& doc) {
  return decode<model::Stack>(doc, "stack");
}
std::string encodeStackEvent(const model::StackEvent& v) {
  return nlohmann::json(v).dump();
}
Result<model::StackEvent> decodeStackEvent(const std::string& doc) {
  return decode<model::StackEvent>(doc, "stack event");
}

std::string encodeVpc(const model::Vpc& v) {
  return nlohmann::json(v).dump();
}
Result<model::Vpc> decodeVpc(const std::string& doc) {
  return decode<model::Vpc>(doc, "VPC");
}
std::string encodeSubnet(const model::Subnet& v) {
  return nlohmann::json(v).dump();
}
Result<model::Subnet> decodeSubnet(const std::string& doc) {
  return decode<model::Subnet>(doc, "subnet");
}
std::string encodeSecurityGroup(const model::SecurityGroup& v) {
  return nlohmann::json(v).dump();
}
Result<model::SecurityGroup> decodeSecurityGroup(const std::string& doc) {
  return decode<model::SecurityGroup>(doc, "security group");
}
std::string encodeKeyPair(const model::KeyPair& v) {
  return nlohmann::json(v).dump();
}
Result<model::KeyPair> decodeKeyPair(const std::string& doc) {
  return decode<model::KeyPair>(doc, "key pair");
}
std::string encodeCertificate(const model::Certificate& v) {
  return nlohmann::json(v).dump();
}
Result<model::Certificate> decodeCertificate(const std::string& doc) {
  return decode<model::Certificate>(doc, "certificate");
}

} // namespace tide::store
