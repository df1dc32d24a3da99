// Termination policies: which instances an Auto Scaling group takes out of service when it
// scales in, as Amazon EC2 Auto Scaling chooses them (user guide, "Configure termination
// policies"). A pure function over the group's candidates: the group controller calls it
// wherever the group has more instances than it wants; DescribeTerminationPolicyTypes and the
// group's validation read the table of names.
//
// For each victim, one at a time (the zones are weighed again after each):
//   1. zone balance first: only the Availability Zones with the most candidates among those
//      with at least one instance not protected from scale-in are considered;
//   2. instances protected from scale-in are never chosen;
//   3. the group's policies in order, each keeping the instances it prefers and passing them to
//      the next while several remain; then Default (what AWS does when none is listed);
//   4. AWS then chooses at random; tide takes the lowest instance id, so that runs repeat.
// The policies:
//   Default: OldestLaunchConfiguration, then OldestLaunchTemplate, then ClosestToNextInstanceHour;
//   OldestInstance / NewestInstance: the earliest / latest launch time;
//   OldestLaunchTemplate: instances not of the group's current launch template first (an
//     attached instance launched without one counts as not current), else the oldest version of
//     the current template;
//   OldestLaunchConfiguration: instances launched from a launch configuration (tide has none:
//     it prefers no instance);
//   ClosestToNextInstanceHour: the least time left until the instance's next whole hour since
//     its launch (AWS's billing hour);
//   AllocationStrategy: aligns a mixed instances group's Spot and On-Demand allocation (tide's
//     groups have one instance type and one market: it prefers no instance).
// Unhealthy instances are not candidates: the group replaces them whatever the policies say.
#pragma once

#include "common/clock.h"
#include "model/auto_scaling.h"
#include "model/types.h"

#include <string>
#include <string_view>
#include <vector>

namespace tide::operations {

// An instance the group may take out of service to scale in (InService or Pending, healthy).
struct ScaleInCandidate {
  std::string instanceId;
  std::string availabilityZone;
  std::string launchTemplateId;      // empty: launched without a launch template
  int64_t launchTemplateVersion = 0; // the template's version it was launched from
  TimeMs launchTime = 0;
  bool protectedFromScaleIn = false; // never chosen
};

// The candidate for a member instance (tide's instances are all in one zone; "local-1a" stands
// for it here, whatever the region's name).
ScaleInCandidate scaleInCandidate(const model::Instance& i);

// The policy names AWS accepts, in DescribeTerminationPolicyTypes' order (alphabetical).
const std::vector<std::string_view>& terminationPolicyTypes();
bool isTerminationPolicyType(std::string_view name);

// Up to `count` instance ids to take out of service, in the order they are chosen; fewer when
// fewer candidates are unprotected. `now` is for ClosestToNextInstanceHour. Unknown policy names
// (refused by the API) prefer no instance.
std::vector<std::string> chooseScaleInVictims(const model::AutoScalingGroup& group,
                                              std::vector<ScaleInCandidate> candidates, int count,
                                              TimeMs now);

} // namespace tide::operations
