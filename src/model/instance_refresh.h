// Auto Scaling instance refresh (StartInstanceRefresh ... DescribeInstanceRefreshes), as kept in
// its group's document: a refresh belongs to its group, its progress and the group's launch
// template change in one write. Type-only header; the state machine is
// operations/instance_refresh.h.
#pragma once

#include "common/clock.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tide::model {

// An instance refresh's Status (Auto Scaling's InstanceRefreshStatus). Transitions:
//   Pending → InProgress (first controller pass)
//   InProgress → Successful | Failed | Cancelling (CancelInstanceRefresh)
//              | RollbackInProgress (RollbackInstanceRefresh, or AutoRollback on a failure)
//   Cancelling → Cancelled (once no instance is launching or being taken out)
//   RollbackInProgress → RollbackSuccessful | RollbackFailed
// Baking is AWS's wait after success (BakeTime); tide accepts BakeTime 0 only, so never bakes.
enum class InstanceRefreshStatus {
  Pending,            // "Pending": accepted, not yet started
  InProgress,         // "InProgress": replacing instances
  Successful,         // "Successful": every instance replaced
  Failed,             // "Failed": a replacement failed to launch or stay healthy, or an alarm
  Cancelling,         // "Cancelling": CancelInstanceRefresh; finishing the instances in flight
  Cancelled,          // "Cancelled"
  RollbackInProgress, // "RollbackInProgress": replacing the refreshed instances back
  RollbackFailed,     // "RollbackFailed"
  RollbackSuccessful, // "RollbackSuccessful"
  Baking,             // "Baking": never entered by tide (BakeTime is 0)
};

// Preferences.ScaleInProtectedInstances: what a refresh does with protected instances.
enum class ScaleInProtectedInstances {
  Ignore,  // "Ignore" (default): leave them, replace the others
  Refresh, // "Refresh": replace them too
  Wait,    // "Wait": do not finish while one is left to replace
};

// Preferences.StandbyInstances: what a refresh does with Standby instances.
enum class StandbyInstances {
  Ignore,    // "Ignore" (default): leave them
  Terminate, // "Terminate": terminate them (not replaced: standby is not capacity)
  Wait,      // "Wait": do not finish while one is left in standby
};

// Auto Scaling's RefreshPreferences, with AWS's defaults.
struct RefreshPreferences {
  int minHealthyPercentage = 90;     // of desired capacity kept healthy and warmed (rounded up)
  int maxHealthyPercentage = 100;    // of desired capacity in service or pending (100..200)
  std::optional<int> instanceWarmup; // seconds; unset: DefaultInstanceWarmup, else grace
  std::vector<int> checkpointPercentages; // ascending, the last may be 100
  std::optional<int> checkpointDelay;     // seconds paused at a checkpoint; unset: 3600
  bool skipMatching = false;              // leave instances already on the desired config
  bool autoRollback = false;              // on failure, roll back instead of failing
  ScaleInProtectedInstances scaleInProtectedInstances = ScaleInProtectedInstances::Ignore;
  StandbyInstances standbyInstances = StandbyInstances::Ignore;
  std::vector<std::string> alarms; // AlarmSpecification.Alarms: any in ALARM fails the refresh
  bool operator==(const RefreshPreferences&) const = default;
};

// A launch template and version (DesiredConfiguration.LaunchTemplate, resolved to its id).
struct RefreshLaunchTemplate {
  std::string launchTemplateId;
  std::string launchTemplateName;
  std::string version; // "$Default", "$Latest" or a number
  bool operator==(const RefreshLaunchTemplate&) const = default;
};

struct InstanceRefresh {
  std::string instanceRefreshId; // a UUID
  std::string strategy = "Rolling";
  InstanceRefreshStatus status = InstanceRefreshStatus::Pending;
  std::string statusReason;
  TimeMs startTime = 0;
  TimeMs endTime = 0; // 0 while active
  int percentageComplete = 0;
  int instancesToUpdate = 0;
  RefreshPreferences preferences;
  std::optional<RefreshLaunchTemplate> desiredConfiguration; // unset: the group's own
  RefreshLaunchTemplate previousConfiguration;               // the group's at the start
  // The state machine's own: the instances still to replace (the forward pass's, then the
  // rollback's), how many there were, and the checkpoints.
  std::vector<std::string> toReplace;
  int total = 0;
  size_t nextCheckpoint = 0;  // index in checkpointPercentages of the next checkpoint
  TimeMs checkpointUntil = 0; // paused at a checkpoint until then (0: not paused)
  // RollbackDetails (once a rollback started)
  std::string rollbackReason;
  TimeMs rollbackStartTime = 0;
  int percentageCompleteOnRollback = 0;
  int instancesToUpdateOnRollback = 0;
  bool operator==(const InstanceRefresh&) const = default;
};

std::string_view instanceRefreshStatusName(InstanceRefreshStatus s);
std::optional<InstanceRefreshStatus> parseInstanceRefreshStatus(std::string_view s);
std::string_view scaleInProtectedInstancesName(ScaleInProtectedInstances v);
std::optional<ScaleInProtectedInstances> parseScaleInProtectedInstances(std::string_view s);
std::string_view standbyInstancesName(StandbyInstances v);
std::optional<StandbyInstances> parseStandbyInstances(std::string_view s);

} // namespace tide::model
