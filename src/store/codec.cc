#include "store/codec.h"

#include <nlohmann/json.hpp>

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

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Tag, key, value)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(EnvironmentVariable, name, value)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BlockDeviceMapping, deviceName, volumeSizeGiB,
                                                volumeType)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StateReason, code, message)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Image, imageId, name, description, state,
                                                stateReason, sourceDirectory, sourceInstanceId,
                                                runCommand, port, healthCheckPath, contentDigest,
                                                sizeBytes, fileCount, creationDate, tags)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LaunchTemplate, launchTemplateId,
                                                launchTemplateName, createTime,
                                                defaultVersionNumber, latestVersionNumber, tags)

void to_json(json& j, const LaunchTemplateData& d) {
  j = json{{"imageId", d.imageId},
           {"instanceType", d.instanceType},
           {"userData", d.userData},
           {"environment", d.environment},
           {"instanceTags", d.instanceTags},
           {"securityGroupIds", d.securityGroupIds},
           {"blockDeviceMappings", d.blockDeviceMappings}};
  if (d.port) {
    j["port"] = *d.port;
  }
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
  d.port = j.contains("port") ? std::optional<int>(j.at("port").get<int>()) : std::nullopt;
}

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LaunchTemplateVersion, launchTemplateId,
                                                launchTemplateName, versionNumber,
                                                versionDescription, createTime, data)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    Instance, instanceId, reservationId, imageId, contentDigest, runCommand, instanceType,
    launchTemplateId, launchTemplateName, launchTemplateVersion, amiLaunchIndex, privateIpAddress,
    port, state, goal, stateReason, stateTransitionReason, launchTime, stateChangedAt, userData,
    environment, tags, securityGroupIds, blockDeviceMappings, pid, processStartTicks,
    cpuUtilization, memoryBytes, lastExit)

NLOHMANN_JSON_SERIALIZE_ENUM(TargetHealthState, {{TargetHealthState::Initial, "initial"},
                                                 {TargetHealthState::Healthy, "healthy"},
                                                 {TargetHealthState::Unhealthy, "unhealthy"},
                                                 {TargetHealthState::Unused, "unused"},
                                                 {TargetHealthState::Draining, "draining"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LoadBalancer, loadBalancerArn, loadBalancerName,
                                                bindAddress, createdTime, idleTimeoutSeconds,
                                                desyncMitigationMode, tags)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ListenerAction, type, targetGroupArn,
                                                fixedStatusCode, fixedContentType, fixedMessageBody)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Listener, listenerArn, loadBalancerArn, port,
                                                protocol, defaultActions)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TargetGroup, targetGroupArn, targetGroupName,
                                                protocol, port, targetType, healthCheckPath,
                                                healthCheckPort, healthCheckIntervalSeconds,
                                                healthCheckTimeoutSeconds, healthyThresholdCount,
                                                unhealthyThresholdCount, matcher,
                                                healthCheckEnabled, deregistrationDelaySeconds,
                                                algorithm, createdTime, tags)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Target, targetGroupArn, id, port, state, reason,
                                                description, consecutive, registeredAt,
                                                drainingSince)

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

} // namespace tide::store
