#include "api/shapes.h"

#include "api/params.h"
#include "model/names.h"
#include "model/public_parameters.h"
#include "model/validation.h"

namespace tide::api {

Json imageJson(const std::string& accountId, const model::Image& img) {
  Json j = {
      {"ImageId", img.imageId},
      {"Name", img.name},
      {"Description", img.description},
      {"State", std::string(model::imageStateName(img.state))},
      {"CreationDate", formatIso8601(img.creationDate)},
      {"OwnerId", accountId},
      {"Public", false},
      {"Architecture", "x86_64"},
      {"ImageType", "machine"},
      {"RootDeviceType", "ebs"},
      {"VirtualizationType", "hvm"},
      {"Tags", tagsJson(img.tags)},
      // tide's own fields:
      {"RunCommand", img.runCommand},
      {"Port", img.port},
      {"HealthCheckPath", img.healthCheckPath},
      {"ContentDigest", img.contentDigest},
      {"SizeBytes", img.sizeBytes},
      {"FileCount", img.fileCount},
  };
  if (model::isBuiltinImage(img.imageId)) {
    // tide's base image shows as AWS's public images do: Amazon's, public, aliased "amazon".
    j["OwnerId"] = std::string(model::kAmazonOwnerId);
    j["ImageOwnerAlias"] = std::string(model::kAmazonOwnerAlias);
    j["Public"] = true;
  }
  if (!img.sourceDirectory.empty()) {
    j["SourceDirectory"] = img.sourceDirectory;
    j["ImageLocation"] = img.sourceDirectory;
  }
  if (!img.sourceInstanceId.empty()) {
    j["SourceInstanceId"] = img.sourceInstanceId;
  }
  if (!img.stateReason.empty()) {
    j["StateReason"] = {{"Code", "Client.ImageImportFailed"}, {"Message", img.stateReason}};
  }
  return j;
}

Json launchTemplateJson(const std::string& accountId, const model::LaunchTemplate& lt) {
  return {{"LaunchTemplateId", lt.launchTemplateId},
          {"LaunchTemplateName", lt.launchTemplateName},
          {"CreateTime", formatIso8601(lt.createTime)},
          {"CreatedBy", "arn:aws:iam::" + accountId + ":root"},
          {"DefaultVersionNumber", lt.defaultVersionNumber},
          {"LatestVersionNumber", lt.latestVersionNumber},
          {"Tags", tagsJson(lt.tags)}};
}

Json launchTemplateDataJson(const model::LaunchTemplateData& d) {
  Json j = Json::object();
  if (!d.imageId.empty()) {
    j["ImageId"] = d.imageId;
  }
  if (!d.instanceType.empty()) {
    j["InstanceType"] = d.instanceType;
  }
  if (d.port) {
    j["Port"] = *d.port;
  }
  if (!d.userData.empty()) {
    j["UserData"] = d.userData;
  }
  if (!d.environment.empty()) {
    Json env = Json::array();
    for (const auto& v : d.environment) {
      env.push_back({{"Name", v.name}, {"Value", v.value}});
    }
    j["Environment"] = env;
  }
  if (!d.instanceTags.empty()) {
    j["TagSpecifications"] =
        Json::array({{{"ResourceType", "instance"}, {"Tags", tagsJson(d.instanceTags)}}});
  }
  if (!d.securityGroupIds.empty()) {
    j["SecurityGroupIds"] = d.securityGroupIds;
  }
  if (!d.blockDeviceMappings.empty()) {
    Json bdm = Json::array();
    for (const auto& m : d.blockDeviceMappings) {
      bdm.push_back({{"DeviceName", m.deviceName},
                     {"Ebs", {{"VolumeSize", m.volumeSizeGiB}, {"VolumeType", m.volumeType}}}});
    }
    j["BlockDeviceMappings"] = bdm;
  }
  return j;
}

Json launchTemplateVersionJson(const std::string& accountId, const model::LaunchTemplateVersion& v,
                               int64_t defaultVersion) {
  return {{"LaunchTemplateId", v.launchTemplateId},
          {"LaunchTemplateName", v.launchTemplateName},
          {"VersionNumber", v.versionNumber},
          {"VersionDescription", v.versionDescription},
          {"CreateTime", formatIso8601(v.createTime)},
          {"CreatedBy", "arn:aws:iam::" + accountId + ":root"},
          {"DefaultVersion", v.versionNumber == defaultVersion},
          {"LaunchTemplateData", launchTemplateDataJson(v.data)}};
}

Json instanceJson(const model::Instance& i, const std::string& zone,
                  const std::optional<model::InstanceUsage>& usage) {
  Json j = {
      {"InstanceId", i.instanceId},
      {"ImageId", i.imageId},
      {"InstanceType", i.instanceType},
      {"State",
       {{"Code", model::instanceStateCode(i.state)},
        {"Name", std::string(model::instanceStateName(i.state))}}},
      {"LaunchTime", formatIso8601(i.launchTime)},
      {"AmiLaunchIndex", i.amiLaunchIndex},
      {"StateTransitionReason", i.stateTransitionReason},
      {"Placement", {{"AvailabilityZone", zone}, {"Tenancy", "default"}}},
      {"Architecture", "x86_64"},
      {"RootDeviceType", "ebs"},
      {"Tags", tagsJson(i.tags)},
      // tide's own fields:
      {"Port", i.port},
  };
  if (!i.autoScalingGroupName.empty()) {
    // As EC2 tags the instances of a group.
    j["Tags"].push_back({{"Key", "aws:autoscaling:groupName"}, {"Value", i.autoScalingGroupName}});
  }
  if (!i.privateIpAddress.empty()) {
    j["PrivateIpAddress"] = i.privateIpAddress;
    j["PrivateDnsName"] = i.privateIpAddress;
  }
  if (!i.stateReason.code.empty()) {
    j["StateReason"] = {{"Code", i.stateReason.code}, {"Message", i.stateReason.message}};
  }
  Json groups = Json::array();
  for (const auto& g : i.securityGroupIds) {
    groups.push_back({{"GroupId", g}, {"GroupName", g}});
  }
  j["SecurityGroups"] = groups;
  if (!i.blockDeviceMappings.empty()) {
    Json bdm = Json::array();
    for (const auto& m : i.blockDeviceMappings) {
      bdm.push_back({{"DeviceName", m.deviceName},
                     {"Ebs", {{"VolumeSize", m.volumeSizeGiB}, {"Status", "attached"}}}});
    }
    j["BlockDeviceMappings"] = bdm;
  }
  if (!i.launchTemplateId.empty()) {
    j["LaunchTemplate"] = {{"LaunchTemplateId", i.launchTemplateId},
                           {"LaunchTemplateName", i.launchTemplateName},
                           {"Version", std::to_string(i.launchTemplateVersion)}};
  }
  if (i.pid > 0) {
    j["ProcessId"] = i.pid;
  }
  if (usage && usage->cpuUtilization >= 0) {
    j["CPUUtilization"] = usage->cpuUtilization;
  }
  if (usage && usage->memoryBytes >= 0) {
    j["MemoryUsedBytes"] = usage->memoryBytes;
  }
  if (!i.lastExit.empty()) {
    j["LastExit"] = i.lastExit;
  }
  return j;
}

Result<model::LaunchTemplateData> parseLaunchTemplateData(const Json& j,
                                                          model::LaunchTemplateData d) {
  if (!j.is_object()) {
    return validationError("LaunchTemplateData must be an object");
  }
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(j, {"ImageId", "InstanceType", "Port", "UserData", "Environment",
                           "TagSpecifications", "SecurityGroupIds", "BlockDeviceMappings"}));
  auto imageId = optString(j, "ImageId");
  auto type = optString(j, "InstanceType");
  auto port = optInt(j, "Port");
  auto userData = optString(j, "UserData");
  TIDE_RETURN_IF_ERROR(
      firstError({&imageId.status(), &type.status(), &port.status(), &userData.status()}));
  if (*imageId) {
    d.imageId = **imageId;
  }
  if (*type) {
    d.instanceType = **type;
  }
  if (*port) {
    if (**port < 1 || **port > 65535) {
      return Status("InvalidParameterValue",
                    "Invalid value '" + std::to_string(**port) + "' for Port: must be 1 to 65535");
    }
    d.port = static_cast<int>(**port);
  }
  if (*userData) {
    d.userData = **userData;
  }
  if (j.contains("Environment")) {
    const Json& env = j["Environment"];
    if (!env.is_array()) {
      return validationError("Environment must be a list of {Name, Value}");
    }
    d.environment.clear();
    for (const Json& e : env) {
      auto name = optString(e, "Name");
      auto value = optString(e, "Value");
      if (!e.is_object() || !name || !value || !name->has_value()) {
        return validationError("Environment must be a list of {Name, Value} strings");
      }
      d.environment.push_back({**name, value->value_or("")});
    }
  }
  if (j.contains("TagSpecifications")) {
    TIDE_ASSIGN_OR_RETURN(auto tags,
                          tagSpecifications(j, "instance", {"volume", "network-interface"}));
    d.instanceTags = tags;
  }
  if (j.contains("SecurityGroupIds")) {
    TIDE_ASSIGN_OR_RETURN(auto groups, optStringList(j, "SecurityGroupIds"));
    d.securityGroupIds = groups;
  }
  if (j.contains("BlockDeviceMappings")) {
    const Json& list = j["BlockDeviceMappings"];
    if (!list.is_array()) {
      return validationError("BlockDeviceMappings must be a list of {DeviceName, Ebs}");
    }
    d.blockDeviceMappings.clear();
    for (const Json& m : list) {
      model::BlockDeviceMapping b;
      auto dev = optString(m, "DeviceName");
      if (!m.is_object() || !dev) {
        return validationError("BlockDeviceMappings must be a list of {DeviceName, Ebs}");
      }
      b.deviceName = dev->value_or(b.deviceName);
      if (m.contains("Ebs")) {
        const Json& ebs = m["Ebs"];
        auto size = optInt(ebs, "VolumeSize");
        auto vt = optString(ebs, "VolumeType");
        if (!ebs.is_object() || !size || !vt) {
          return validationError("BlockDeviceMappings.Ebs must be {VolumeSize, VolumeType}");
        }
        if (*size) {
          if (**size < 1 || **size > 16384) {
            return Status("InvalidParameterValue", "Volume size " + std::to_string(**size) +
                                                       " GiB of " + b.deviceName +
                                                       " must be 1 to 16384");
          }
          b.volumeSizeGiB = static_cast<int>(**size);
        }
        b.volumeType = vt->value_or(b.volumeType);
      }
      d.blockDeviceMappings.push_back(b);
    }
  }
  TIDE_RETURN_IF_ERROR(model::validateLaunchTemplateData(d));
  return d;
}

} // namespace tide::api
