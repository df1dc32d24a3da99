#include "operations/launch.h"

#include "common/ids.h"
#include "model/instance_types.h"
#include "model/names.h"
#include "model/public_parameters.h"
#include "model/validation.h"

#include <cmath>
#include <set>

namespace tide::operations {

using model::Instance;
using model::InstanceGoal;
using model::InstanceState;

Result<model::LaunchTemplate> findLaunchTemplate(store::Tx& tx, const std::string& id,
                                                 const std::string& name) {
  if (id.empty() == name.empty()) {
    return Status("MissingParameter", "Give exactly one of LaunchTemplateId or LaunchTemplateName");
  }
  TIDE_ASSIGN_OR_RETURN(auto lt,
                        id.empty() ? tx.launchTemplateByName(name) : tx.launchTemplate(id));
  if (!lt.has_value()) {
    if (id.empty()) {
      return Status("InvalidLaunchTemplateName.NotFoundException",
                    "The specified launch template, with template name " + name +
                        ", does not exist.");
    }
    return Status("InvalidLaunchTemplateId.NotFound",
                  "The specified launch template, with template ID " + id + ", does not exist.");
  }
  return std::move(*lt);
}

Result<ResolvedTemplate> resolveLaunchTemplate(store::Tx& tx, const std::string& id,
                                               const std::string& name,
                                               const std::string& version) {
  TIDE_ASSIGN_OR_RETURN(auto lt, findLaunchTemplate(tx, id, name));
  TIDE_ASSIGN_OR_RETURN(auto number, model::resolveLaunchTemplateVersion(lt, version));
  TIDE_ASSIGN_OR_RETURN(auto v, tx.launchTemplateVersion(lt.launchTemplateId, number));
  if (!v.has_value()) {
    return Status("InvalidLaunchTemplateId.VersionNotFound",
                  "Could not find launch template version " + std::to_string(number) + " of " +
                      lt.launchTemplateName);
  }
  return ResolvedTemplate{std::move(lt), std::move(*v)};
}

bool holdsCapacity(const Instance& i) {
  return i.state != InstanceState::Terminated && i.state != InstanceState::Stopped &&
         i.goal == InstanceGoal::Run;
}

double coresOf(const std::string& type) {
  const model::InstanceType* t = model::findInstanceType(type);
  return t ? t->cpuCores : 0;
}

namespace {

// Whether the instance holds its private address (stopped instances keep theirs, as in EC2).
bool holdsAddress(const Instance& i) {
  return i.state != InstanceState::Terminated;
}

} // namespace

Result<std::vector<Instance>> launchInstances(store::Tx& tx, const LaunchRequest& r,
                                              double maxCpuCores, TimeMs now,
                                              AddressSource* addressSource) {
  const model::LaunchTemplateData& data = r.data;
  if (data.imageId.empty()) {
    return Status("MissingParameter", "An ImageId is needed (or a launch template that has one)");
  }
  if (data.instanceType.empty()) {
    return Status("MissingParameter",
                  "An InstanceType is needed (or a launch template that has one)");
  }
  // A launch template may name a Systems Manager parameter ("resolve:ssm:NAME"): EC2 resolves
  // it at each launch, and the instance records the image id it resolved to.
  TIDE_ASSIGN_OR_RETURN(std::string imageId, model::resolveImageId(data.imageId));
  TIDE_ASSIGN_OR_RETURN(auto img, tx.image(imageId));
  if (!img.has_value()) {
    return Status("InvalidAMIID.NotFound", "The image id '[" + imageId + "]' does not exist");
  }
  const model::Image& image = *img;
  if (image.state != model::ImageState::Available) {
    return Status("InvalidAMIID.Unavailable",
                  "The image '" + imageId + "' is " +
                      std::string(model::imageStateName(image.state)) + ", not available" +
                      (image.stateReason.empty() ? "" : ": " + image.stateReason));
  }
  TIDE_RETURN_IF_ERROR(model::validateTags(r.tags));
  TIDE_ASSIGN_OR_RETURN(auto all, tx.instances());
  double used = 0;
  std::set<std::string> addresses;
  for (const Instance& i : all) {
    if (holdsCapacity(i)) {
      used += coresOf(i.instanceType);
    }
    if (holdsAddress(i) && !i.privateIpAddress.empty()) {
      addresses.insert(i.privateIpAddress);
    }
  }
  double cores = coresOf(data.instanceType);
  int64_t fit = static_cast<int64_t>(std::floor((maxCpuCores - used) / cores + 1e-9));
  int64_t count = std::min(r.maxCount, fit);
  if (count < r.minCount) {
    char buf[320];
    snprintf(buf, sizeof buf,
             "There is not enough capacity for %lld %s instance(s) (%.3g cores each): %.3g of "
             "the host's %.3g cores are in use (raise it with tide server --max-cpu-cores)",
             static_cast<long long>(r.minCount), data.instanceType.c_str(), cores, used,
             maxCpuCores);
    return Status("InsufficientInstanceCapacity", buf);
  }
  WholeSubnet wholeSubnet;
  if (addressSource == nullptr) {
    addressSource = &wholeSubnet;
  }
  std::vector<Instance> launched;
  for (int64_t k = 0; k < count; ++k) {
    Instance i;
    i.instanceId = newId("i");
    i.reservationId = r.reservationId;
    i.imageId = imageId;
    i.contentDigest = image.contentDigest;
    i.runCommand = image.runCommand;
    i.instanceType = data.instanceType;
    i.launchTemplateId = r.launchTemplateId;
    i.launchTemplateName = r.launchTemplateName;
    i.launchTemplateVersion = r.launchTemplateVersion;
    i.amiLaunchIndex = static_cast<int>(k);
    i.port = data.port.value_or(image.port);
    TIDE_ASSIGN_OR_RETURN(auto ip, chooseAddress(*addressSource, addresses, i.port));
    i.privateIpAddress = ip;
    i.state = InstanceState::Pending;
    i.goal = InstanceGoal::Run;
    i.launchTime = now;
    i.stateChangedAt = now;
    i.userData = data.userData;
    i.environment = data.environment;
    i.tags = r.tags;
    i.securityGroupIds = data.securityGroupIds;
    i.blockDeviceMappings = data.blockDeviceMappings;
    if (!r.autoScalingGroupName.empty()) {
      i.autoScalingGroupName = r.autoScalingGroupName;
      i.lifecycleState = model::LifecycleState::Pending;
      i.healthStatus = model::HealthStatus::Healthy;
      i.protectedFromScaleIn = r.protectedFromScaleIn;
    }
    TIDE_RETURN_IF_ERROR(tx.putInstance(i));
    launched.push_back(std::move(i));
  }
  return launched;
}

} // namespace tide::operations
