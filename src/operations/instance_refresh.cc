#include "operations/instance_refresh.h"

#include "common/crash_point.h"
#include "common/log.h"
#include "operations/launch.h"
#include "operations/scaling_activity.h"

#include <algorithm>
#include <map>
#include <set>

namespace tide::operations {

using model::ActivityKind;
using model::ActivityStatusCode;
using model::HealthStatus;
using model::Instance;
using model::InstanceRefresh;
using model::InstanceRefreshStatus;
using model::LifecycleState;
using model::RefreshLaunchTemplate;

namespace {

constexpr int kDefaultCheckpointDelay = 3600; // seconds (AWS's)

RefreshLaunchTemplate groupTemplate(const model::AutoScalingGroup& g) {
  return {g.launchTemplateId, g.launchTemplateName, g.launchTemplateVersion};
}

// A configuration resolved to what an instance records: template id and version number.
struct Resolved {
  std::string id;
  int64_t version = 0;
  bool matches(const Instance& i) const {
    return i.launchTemplateId == id && i.launchTemplateVersion == version;
  }
};

Result<Resolved> resolve(store::Tx& tx, const RefreshLaunchTemplate& t) {
  TIDE_ASSIGN_OR_RETURN(auto r, resolveLaunchTemplate(tx, t.launchTemplateId, "", t.version));
  return Resolved{r.launchTemplate.launchTemplateId, r.version.versionNumber};
}

bool live(const Instance& i) {
  return i.lifecycleState == LifecycleState::Pending ||
         i.lifecycleState == LifecycleState::InService;
}

// The instances a refresh (or its rollback) replaces: the group's in service, pending or in
// standby, leaving out those on `target` when skipMatching, and those the preferences ignore.
std::vector<std::string> chooseToReplace(const std::vector<const Instance*>& members,
                                         const model::RefreshPreferences& p, const Resolved& target,
                                         bool skipMatching) {
  std::vector<std::string> out;
  for (const Instance* i : members) {
    bool standby = i->lifecycleState == LifecycleState::Standby;
    if (!live(*i) && !standby) {
      continue;
    }
    if (i->healthStatus == HealthStatus::Unhealthy) {
      continue; // the group replaces it anyway
    }
    if (skipMatching && target.matches(*i)) {
      continue;
    }
    if (standby && p.standbyInstances == model::StandbyInstances::Ignore) {
      continue;
    }
    if (i->protectedFromScaleIn &&
        p.scaleInProtectedInstances == model::ScaleInProtectedInstances::Ignore) {
      continue;
    }
    out.push_back(i->instanceId);
  }
  return out;
}

std::vector<const Instance*> membersOf(const std::vector<Instance>& instances,
                                       const std::string& group) {
  std::vector<const Instance*> out;
  for (const Instance& i : instances) {
    if (i.autoScalingGroupName == group && i.lifecycleState.has_value() &&
        i.lifecycleState != LifecycleState::Terminated) {
      out.push_back(&i);
    }
  }
  return out;
}

void finish(InstanceRefresh& r, InstanceRefreshStatus s, const std::string& reason, TimeMs now) {
  r.status = s;
  r.statusReason = reason;
  r.endTime = now;
  r.checkpointUntil = 0;
  if (s == InstanceRefreshStatus::Successful) {
    r.percentageComplete = 100;
    r.instancesToUpdate = 0;
  } else if (s == InstanceRefreshStatus::RollbackSuccessful) {
    r.percentageCompleteOnRollback = 100;
    r.instancesToUpdateOnRollback = 0;
  }
}

} // namespace

bool isActive(InstanceRefreshStatus s) {
  switch (s) {
  case InstanceRefreshStatus::Pending:
  case InstanceRefreshStatus::InProgress:
  case InstanceRefreshStatus::Cancelling:
  case InstanceRefreshStatus::RollbackInProgress:
  case InstanceRefreshStatus::Baking:
    return true;
  default:
    return false;
  }
}

InstanceRefresh* activeRefresh(model::AutoScalingGroup& g) {
  for (auto& r : g.instanceRefreshes) {
    if (isActive(r.status)) {
      return &r;
    }
  }
  return nullptr;
}
const InstanceRefresh* activeRefresh(const model::AutoScalingGroup& g) {
  return activeRefresh(const_cast<model::AutoScalingGroup&>(g));
}

RefreshLaunchTemplate launchTemplateOf(const model::AutoScalingGroup& g) {
  const InstanceRefresh* r = activeRefresh(g);
  if (r != nullptr && r->desiredConfiguration.has_value() &&
      (r->status == InstanceRefreshStatus::Pending ||
       r->status == InstanceRefreshStatus::InProgress ||
       r->status == InstanceRefreshStatus::Cancelling)) {
    return *r->desiredConfiguration;
  }
  return groupTemplate(g);
}

Status checkRefreshPreferences(const model::RefreshPreferences& p, bool hasDesired,
                               const std::string& groupVersion) {
  if (p.minHealthyPercentage < 0 || p.minHealthyPercentage > 100) {
    return validationError("MinHealthyPercentage must be between 0 and 100");
  }
  if (p.maxHealthyPercentage < p.minHealthyPercentage) {
    return validationError("MaxHealthyPercentage must be greater than or equal to "
                           "MinHealthyPercentage");
  }
  if (p.maxHealthyPercentage < 100 || p.maxHealthyPercentage > 200) {
    return validationError("MaxHealthyPercentage must be between 100 and 200");
  }
  if (p.maxHealthyPercentage - p.minHealthyPercentage > 100) {
    return validationError("The difference between MaxHealthyPercentage and "
                           "MinHealthyPercentage cannot be greater than 100");
  }
  if (p.instanceWarmup.has_value() && *p.instanceWarmup < 0) {
    return validationError("InstanceWarmup must be greater than or equal to 0");
  }
  if (p.checkpointDelay.has_value() && (*p.checkpointDelay < 0 || *p.checkpointDelay > 172800)) {
    return validationError("CheckpointDelay must be between 0 and 172800");
  }
  if (p.checkpointDelay.has_value() && p.checkpointPercentages.empty()) {
    return validationError("CheckpointDelay can only be specified with CheckpointPercentages");
  }
  int last = 0;
  for (int c : p.checkpointPercentages) {
    if (c < 1 || c > 100) {
      return validationError("CheckpointPercentages values must be between 1 and 100");
    }
    if (c <= last) {
      return validationError("CheckpointPercentages values must be in ascending order, without "
                             "duplicates");
    }
    last = c;
  }
  if (p.alarms.size() > 10) {
    return validationError("AlarmSpecification can specify at most 10 alarms");
  }
  if (p.autoRollback && !hasDesired) {
    return validationError("AutoRollback requires a DesiredConfiguration: specify a "
                           "DesiredConfiguration to enable auto rollback");
  }
  if (p.autoRollback && (groupVersion == "$Latest" || groupVersion == "$Default")) {
    return validationError("AutoRollback is not supported when the Auto Scaling group uses the "
                           "launch template's " +
                           groupVersion + " version");
  }
  return Status::ok();
}

Status startInstanceRefresh(store::Tx& tx, model::AutoScalingGroup& g,
                            const std::vector<Instance>& instances, InstanceRefresh r, TimeMs now) {
  if (activeRefresh(g) != nullptr) {
    return Status("InstanceRefreshInProgress",
                  "An Instance Refresh is already in progress and blocks the execution of this "
                  "Instance Refresh.");
  }
  r.status = InstanceRefreshStatus::Pending;
  r.startTime = now;
  r.previousConfiguration = groupTemplate(g);
  TIDE_ASSIGN_OR_RETURN(auto target,
                        resolve(tx, r.desiredConfiguration.value_or(r.previousConfiguration)));
  r.toReplace = chooseToReplace(membersOf(instances, g.autoScalingGroupName), r.preferences, target,
                                r.preferences.skipMatching);
  r.total = static_cast<int>(r.toReplace.size());
  r.instancesToUpdate = r.total;
  g.instanceRefreshes.insert(g.instanceRefreshes.begin(), std::move(r));
  if (g.instanceRefreshes.size() > kMaxInstanceRefreshesKept) {
    g.instanceRefreshes.resize(kMaxInstanceRefreshesKept);
  }
  return Status::ok();
}

Result<std::string> cancelInstanceRefresh(model::AutoScalingGroup& g) {
  InstanceRefresh* r = activeRefresh(g);
  if (r == nullptr || r->status == InstanceRefreshStatus::Cancelling) {
    return Status("ActiveInstanceRefreshNotFound",
                  "No in progress or pending Instance Refresh found for Auto Scaling group " +
                      g.autoScalingGroupName);
  }
  if (r->status == InstanceRefreshStatus::RollbackInProgress) {
    return Status("ActiveInstanceRefreshNotFound", "The Instance Refresh of Auto Scaling group " +
                                                       g.autoScalingGroupName +
                                                       " is rolling back and cannot be cancelled");
  }
  r->status = InstanceRefreshStatus::Cancelling;
  r->statusReason = "Instance Refresh cancellation requested by user";
  r->checkpointUntil = 0;
  return r->instanceRefreshId;
}

Result<std::string> rollbackInstanceRefresh(store::Tx& tx, model::AutoScalingGroup& g,
                                            const std::vector<Instance>& instances,
                                            const std::string& reason, TimeMs now) {
  InstanceRefresh* r = activeRefresh(g);
  if (r == nullptr || (r->status != InstanceRefreshStatus::Pending &&
                       r->status != InstanceRefreshStatus::InProgress &&
                       r->status != InstanceRefreshStatus::Baking)) {
    return Status("ActiveInstanceRefreshNotFound",
                  "No in progress or pending Instance Refresh found for Auto Scaling group " +
                      g.autoScalingGroupName);
  }
  if (!r->desiredConfiguration.has_value()) {
    return Status("IrreversibleInstanceRefresh",
                  "The Instance Refresh cannot be rolled back because no DesiredConfiguration "
                  "was specified when it was started");
  }
  const std::string& v = r->previousConfiguration.version;
  if (v == "$Latest" || v == "$Default" || v.empty()) {
    return Status("IrreversibleInstanceRefresh",
                  "The Instance Refresh cannot be rolled back because the Auto Scaling group uses "
                  "the launch template's " +
                      (v.empty() ? std::string("$Default") : v) + " version");
  }
  TIDE_ASSIGN_OR_RETURN(auto target, resolve(tx, r->previousConfiguration));
  r->status = InstanceRefreshStatus::RollbackInProgress;
  r->statusReason = reason;
  r->rollbackReason = reason;
  r->rollbackStartTime = now;
  r->checkpointUntil = 0;
  r->toReplace =
      chooseToReplace(membersOf(instances, g.autoScalingGroupName), r->preferences, target, true);
  r->total = static_cast<int>(r->toReplace.size());
  r->instancesToUpdateOnRollback = r->total;
  r->percentageCompleteOnRollback = r->total == 0 ? 100 : 0;
  return r->instanceRefreshId;
}

std::string refreshTakeOutCause() {
  return " an instance was taken out of service in response to an instance refresh.";
}

Status stepInstanceRefresh(store::Tx& tx, model::AutoScalingGroup& g,
                           const std::vector<model::ScalingActivity>& acts, RefreshPass& p) {
  const int n = g.deleting ? 0 : g.desiredCapacity;
  p.desired = n;
  InstanceRefresh* r = activeRefresh(g);
  if (r == nullptr) {
    return Status::ok();
  }
  const TimeMs now = p.now;
  if (g.deleting) {
    finish(*r, InstanceRefreshStatus::Cancelled, "The Auto Scaling group is being deleted", now);
    p.changed = true;
    return Status::ok();
  }
  if (r->status == InstanceRefreshStatus::Pending) {
    r->status = InstanceRefreshStatus::InProgress;
    p.changed = true;
  }
  const bool rollback = r->status == InstanceRefreshStatus::RollbackInProgress;
  const TimeMs phaseStart = rollback ? r->rollbackStartTime : r->startTime;
  std::map<std::string, Instance*> byId;
  for (Instance* i : p.members) {
    byId[i->instanceId] = i;
  }
  // Instances that left the group or are on their way out are done with.
  size_t before = r->toReplace.size();
  std::erase_if(r->toReplace, [&](const std::string& id) {
    auto it = byId.find(id);
    return it == byId.end() || it->second->lifecycleState == LifecycleState::Terminating ||
           it->second->lifecycleState == LifecycleState::Detaching;
  });
  p.changed = p.changed || r->toReplace.size() != before;
  std::set<std::string> old(r->toReplace.begin(), r->toReplace.end());

  if (r->status == InstanceRefreshStatus::Cancelling) {
    bool inFlight = std::any_of(p.members.begin(), p.members.end(), [](const Instance* i) {
      return i->lifecycleState == LifecycleState::Pending ||
             i->lifecycleState == LifecycleState::Terminating;
    });
    if (!inFlight) {
      finish(*r, InstanceRefreshStatus::Cancelled, "Instance Refresh cancelled by user", now);
      p.changed = true;
    }
    return Status::ok();
  }

  // Failure: a replacement that did not launch or did not stay healthy, or an alarm.
  std::string failure;
  for (const auto& a : acts) {
    if (a.kind == ActivityKind::Launch && a.statusCode == ActivityStatusCode::Failed &&
        a.startTime >= phaseStart) {
      failure =
          "Instance Refresh failed: a replacement instance failed to launch: " + a.statusMessage;
      break;
    }
  }
  for (const Instance* i : p.members) {
    if (failure.empty() && !old.count(i->instanceId) && i->launchTime >= phaseStart &&
        i->healthStatus == HealthStatus::Unhealthy) {
      failure = "Instance Refresh failed: replacement instance " + i->instanceId +
                " failed its health check";
    }
  }
  if (failure.empty() && !rollback) {
    for (const std::string& name : r->preferences.alarms) {
      TIDE_ASSIGN_OR_RETURN(auto alarm, tx.alarm(name));
      if (alarm.has_value() && alarm->stateValue == model::AlarmStateValue::Alarm) {
        failure =
            "Instance Refresh failed: the CloudWatch alarm " + name + " went into the ALARM state";
        break;
      }
    }
  }
  if (!failure.empty()) {
    p.changed = true;
    logInfo("auto scaling group " + g.autoScalingGroupName + ": " + failure);
    if (!rollback && r->preferences.autoRollback && r->desiredConfiguration.has_value()) {
      std::vector<Instance> copies;
      for (const Instance* i : p.members) {
        copies.push_back(*i);
      }
      auto rolled = rollbackInstanceRefresh(tx, g, copies, failure, now);
      if (rolled.isOk()) {
        return Status::ok();
      }
      failure += "; " + rolled.status().message();
    }
    finish(*r, rollback ? InstanceRefreshStatus::RollbackFailed : InstanceRefreshStatus::Failed,
           failure, now);
    return Status::ok();
  }

  const auto& prefs = r->preferences;
  const int warmup =
      prefs.instanceWarmup.value_or(g.defaultInstanceWarmup.value_or(g.healthCheckGracePeriod));
  // Bounds on the group's capacity during the refresh.
  int minCount = (n * prefs.minHealthyPercentage + 99) / 100;
  int maxCount = n * prefs.maxHealthyPercentage / 100;
  if (prefs.maxHealthyPercentage > 100) {
    maxCount = std::max(maxCount, n + 1);
  } else {
    minCount = std::min(minCount, n - 1); // at least one at a time
  }
  // The group's instances: old ones (to replace) that may go, and how many are healthy (old ones
  // in service, new ones also warmed up and serving) or still coming (new ones not ready).
  int healthy = 0, notReady = 0, liveCount = 0;
  bool waiting = false;
  std::vector<Instance*> candidates, standbyToGo;
  std::vector<std::string> ignored;
  for (Instance* i : p.members) {
    const bool isOld = old.count(i->instanceId) > 0;
    if (i->lifecycleState == LifecycleState::Standby) {
      if (isOld && prefs.standbyInstances == model::StandbyInstances::Terminate) {
        standbyToGo.push_back(i);
      } else if (isOld && prefs.standbyInstances == model::StandbyInstances::Wait) {
        waiting = true;
      } else if (isOld) {
        ignored.push_back(i->instanceId); // went to standby since the start: Ignore
      }
      continue;
    }
    if (!live(*i) || i->healthStatus == HealthStatus::Unhealthy) {
      continue;
    }
    ++liveCount;
    if (isOld) {
      if (i->protectedFromScaleIn &&
          prefs.scaleInProtectedInstances == model::ScaleInProtectedInstances::Wait) {
        waiting = true;
      } else if (i->protectedFromScaleIn &&
                 prefs.scaleInProtectedInstances == model::ScaleInProtectedInstances::Ignore) {
        ignored.push_back(i->instanceId); // protected since the start: Ignore
      } else {
        candidates.push_back(i);
      }
      if (i->lifecycleState == LifecycleState::InService) {
        ++healthy;
      }
      continue;
    }
    TimeMs warm = i->launchTime + 1000LL * warmup;
    if (i->lifecycleState == LifecycleState::InService && now >= warm && p.serving(*i)) {
      ++healthy;
    } else {
      ++notReady;
      if (now < warm) {
        p.next = std::min(p.next, warm);
      }
    }
  }

  for (const std::string& id : ignored) {
    std::erase(r->toReplace, id);
    p.changed = true;
  }

  // Progress: an old instance counts once it is gone and its replacement is ready.
  const int shortfall = std::max(0, n - liveCount);
  const int left = std::min(r->total, static_cast<int>(r->toReplace.size()) + notReady + shortfall);
  const int percentage = r->total == 0 ? 100 : (r->total - left) * 100 / r->total;
  int& shownPct = rollback ? r->percentageCompleteOnRollback : r->percentageComplete;
  int& shownLeft = rollback ? r->instancesToUpdateOnRollback : r->instancesToUpdate;
  if (shownPct != percentage || shownLeft != left) {
    shownPct = percentage;
    shownLeft = left;
    p.changed = true;
  }

  // A checkpoint: paused (the instances in flight go on, nothing new starts) for its delay.
  const auto& cps = prefs.checkpointPercentages;
  if (!rollback && r->checkpointUntil == 0 && r->nextCheckpoint < cps.size() &&
      percentage >= cps[r->nextCheckpoint]) {
    while (r->nextCheckpoint < cps.size() && percentage >= cps[r->nextCheckpoint]) {
      ++r->nextCheckpoint;
    }
    int delay = prefs.checkpointDelay.value_or(kDefaultCheckpointDelay);
    r->checkpointUntil = now + 1000LL * delay;
    r->statusReason = "Checkpoint reached at " + std::to_string(percentage) +
                      " percent complete. Waiting " + std::to_string(delay) +
                      " seconds before continuing.";
    p.changed = true;
  }
  if (r->checkpointUntil > now) {
    p.desired = std::clamp(liveCount, n, std::max(n, maxCount)); // keep what is launching
    p.next = std::min(p.next, r->checkpointUntil);
    return Status::ok();
  }
  if (r->checkpointUntil != 0) {
    r->checkpointUntil = 0;
    r->statusReason.clear();
    p.changed = true;
  }

  // Done once every old instance is gone (terminated, not only taken out) and the capacity is
  // back, ready.
  const bool draining = std::any_of(p.members.begin(), p.members.end(), [](const Instance* i) {
    return i->lifecycleState == LifecycleState::Terminating;
  });
  if (r->toReplace.empty() && notReady == 0 && shortfall == 0 && !draining) {
    if (rollback) {
      finish(*r, InstanceRefreshStatus::RollbackSuccessful, "", now);
    } else {
      if (r->desiredConfiguration.has_value()) {
        g.launchTemplateId = r->desiredConfiguration->launchTemplateId;
        g.launchTemplateName = r->desiredConfiguration->launchTemplateName;
        g.launchTemplateVersion = r->desiredConfiguration->version;
      }
      finish(*r, InstanceRefreshStatus::Successful, "", now);
    }
    p.changed = true;
    logInfo("auto scaling group " + g.autoScalingGroupName + ": instance refresh " +
            r->instanceRefreshId + " " + std::string(instanceRefreshStatusName(r->status)));
    return Status::ok();
  }

  // Standby instances to terminate go (they are not capacity); old instances go while enough
  // stay healthy, oldest first; replacements launch first up to the maximum.
  for (Instance* i : standbyToGo) {
    TIDE_RETURN_IF_ERROR(p.takeOut(*i, refreshTakeOutCause()));
    std::erase(r->toReplace, i->instanceId);
    p.changed = true;
  }
  std::stable_sort(candidates.begin(), candidates.end(), [](const Instance* a, const Instance* b) {
    return a->launchTime < b->launchTime;
  });
  const int take = std::clamp(healthy - minCount, 0, static_cast<int>(candidates.size()));
  for (int k = 0; k < take; ++k) {
    TIDE_CRASH_POINT("refresh.take_out");
    TIDE_RETURN_IF_ERROR(p.takeOut(*candidates[k], refreshTakeOutCause()));
    std::erase(r->toReplace, candidates[k]->instanceId);
    p.changed = true;
  }
  const int oldLeft = static_cast<int>(candidates.size()) - take;
  p.desired = n + std::clamp(maxCount - n, 0, oldLeft);
  if (liveCount - take < p.desired) {
    p.launchCause = causeTime(now) + " an instance was launched in response to an instance "
                                     "refresh.";
  }
  std::string reason;
  if (waiting && candidates.size() == static_cast<size_t>(take)) {
    reason = "Waiting for instances that are protected from scale in or in Standby";
  }
  if (r->statusReason != reason && !rollback) {
    r->statusReason = reason;
    p.changed = true;
  }
  return Status::ok();
}

} // namespace tide::operations
