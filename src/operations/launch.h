// Launching instances: what RunInstances and the Auto Scaling group controller share. Resolving
// a launch template version, checking the image and the host's capacity, choosing private
// addresses and recording the new instances as "pending", all inside the caller's
// transaction (nothing is recorded when anything fails). The instance controller starts them.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "model/types.h"
#include "operations/addresses.h"
#include "store/store.h"

#include <string>
#include <vector>

namespace tide::operations {

struct ResolvedTemplate {
  model::LaunchTemplate launchTemplate;
  model::LaunchTemplateVersion version;
};

// By id or by name (exactly one non-empty), with EC2's not-found codes.
Result<model::LaunchTemplate> findLaunchTemplate(store::Tx& tx, const std::string& id,
                                                 const std::string& name);
// version: "$Default" (or empty), "$Latest" or a number.
Result<ResolvedTemplate> resolveLaunchTemplate(store::Tx& tx, const std::string& id,
                                               const std::string& name, const std::string& version);

struct LaunchRequest {
  model::LaunchTemplateData data; // merged and validated; ImageId and InstanceType required
  std::string launchTemplateId;   // when from a template
  std::string launchTemplateName;
  int64_t launchTemplateVersion = 0;
  std::vector<model::Tag> tags;      // the instances' tags
  int64_t minCount = 1;              // fewer than this fit: InsufficientInstanceCapacity
  int64_t maxCount = 1;              // as many as fit, up to this
  std::string reservationId;         // "r-..."
  std::string autoScalingGroupName;  // when launched by a group (lifecycle Pending)
  bool protectedFromScaleIn = false; // the group's NewInstancesProtectedFromScaleIn
};

// Records the instances (state pending, goal run), each with a private address chosen by
// chooseAddress from `addresses` (null: WholeSubnet). Errors: MissingParameter (no image or
// type), InvalidAMIID.NotFound / .Unavailable, InsufficientInstanceCapacity (with the cores in
// use and the limit), InsufficientFreeAddressesInSubnet.
Result<std::vector<model::Instance>> launchInstances(store::Tx& tx, const LaunchRequest& request,
                                                     double maxCpuCores, TimeMs now,
                                                     AddressSource* addresses = nullptr);

// Whether the instance holds CPU capacity on the host (it runs or is about to).
bool holdsCapacity(const model::Instance& i);
// The local CPU quota of an instance type (0 when unknown).
double coresOf(const std::string& instanceType);

} // namespace tide::operations
