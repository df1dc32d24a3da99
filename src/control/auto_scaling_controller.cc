#include "control/auto_scaling_controller.h"

#include "control/lifecycle_hooks.h"

#include "common/crash_point.h"
#include "common/ids.h"
#include "common/log.h"
#include "operations/instance_refresh.h"
#include "operations/launch.h"
#include "operations/lifecycle_hooks.h"
#include "operations/scaling_activity.h"
#include "operations/scaling_processes.h"
#include "operations/target_tracking.h"
#include "operations/targets.h"
#include "operations/termination_policy.h"
#include "operations/warm_pool.h"

#include <algorithm>
#include <map>

namespace tide::control {

using model::ActivityKind;
using model::ActivityStatusCode;
using model::HealthStatus;
using model::Instance;
using model::InstanceGoal;
using model::InstanceState;
using model::LifecycleState;
using model::TargetHealthState;
using operations::isSuspended;
using operations::ScalingProcess;

namespace {

// Descriptions, for people only: decisions read an activity's kind and instanceId.
constexpr const char* kLaunching = "Launching a new EC2 instance";
constexpr const char* kTerminating = "Terminating EC2 instance: ";
constexpr const char* kEc2HealthCause =
    " an instance was taken out of service in response to an EC2 health check indicating it has "
    "been terminated or stopped.";
// An impaired instance (its status check failed: the kernel killed a process of it for memory).
constexpr const char* kEc2StatusCause =
    " an instance was taken out of service in response to an EC2 instance status checks failure.";
constexpr const char* kUserHealthCause =
    " an instance was taken out of service in response to a user health-check.";

bool inService(const Instance& i) {
  return i.lifecycleState == LifecycleState::Pending ||
         i.lifecycleState == LifecycleState::PendingWait ||
         i.lifecycleState == LifecycleState::PendingProceed ||
         i.lifecycleState == LifecycleState::InService;
}

// On its way into service (launched, attached, back from standby; or past its launching hooks).
bool entering(const Instance& i) {
  return i.lifecycleState == LifecycleState::Pending ||
         i.lifecycleState == LifecycleState::PendingProceed;
}

// Taken out of service: draining, held by terminating hooks, or about to be terminated.
bool leaving(const Instance& i) {
  return i.lifecycleState == LifecycleState::Terminating ||
         i.lifecycleState == LifecycleState::TerminatingWait ||
         i.lifecycleState == LifecycleState::TerminatingProceed;
}

// EC2 health: the instance should run and does (or is on its way up, as a stopped warm
// instance that scale-out took and that is starting again).
bool ec2Healthy(const Instance& i) {
  return i.goal == InstanceGoal::Run &&
         (i.state == InstanceState::Pending || i.state == InstanceState::Running ||
          (i.state == InstanceState::Stopped && i.lifecycleState == LifecycleState::Pending));
}

} // namespace

Result<Millis> AutoScalingController::reconcile(const Wake& wake) {
  TimeMs now = clock_.now();
  TimeMs next = now + 1000;
  std::vector<std::string> names;
  std::set<std::string> exist;
  TIDE_RETURN_IF_ERROR(store_.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto groups, tx.autoScalingGroups());
        for (const auto& g : groups) {
          exist.insert(g.autoScalingGroupName);
          // A group is dirty when it changed, one of its instances did (an instance's parent is
          // its group), or a target of one of its target groups did (a target's parent is its
          // target group's ARN).
          bool dirty = wake.dirty(g.autoScalingGroupName) || failed_.count(g.autoScalingGroupName);
          for (const std::string& arn : g.targetGroupArns) {
            dirty = dirty || wake.dirty(arn);
          }
          if (dirty) {
            names.push_back(g.autoScalingGroupName);
          }
        }
        return Status::ok();
      },
      false));
  std::erase_if(failed_, [&](const std::string& name) { return !exist.count(name); });
  for (const std::string& name : names) {
    Status s = reconcileGroup(name, now, next);
    if (!s.isOk()) {
      // One group's failure does not end the pass for the others; it is tried again soon.
      logError("auto scaling group " + name + ": " + s.toString());
      failed_.insert(name);
      next = std::min(next, now + options_.retryAfter.count());
      continue;
    }
    failed_.erase(name);
  }
  return Millis(std::max<TimeMs>(next - now, 10));
}

Status AutoScalingController::reconcileGroup(const std::string& name, TimeMs now, TimeMs& next) {
  int toLaunch = 0, active = 0, toWarm = 0;
  std::string cause, trigger;
  bool deleted = false;
  TIDE_RETURN_IF_ERROR(store_.transact([&](store::Tx& tx) {
    return observe(tx, name, now, toLaunch, toWarm, active, cause, trigger, next, deleted);
  }));
  if (deleted) {
    logInfo("auto scaling group " + name + " deleted");
    return Status::ok();
  }
  if (toLaunch > 0) {
    if (cause.empty()) {
      cause = trigger + operations::causeTime(now) +
              " an instance was started in response to a difference between desired and actual "
              "capacity, increasing the capacity from " +
              std::to_string(active) + " to " + std::to_string(active + toLaunch) + ".";
    }
    launch(name, toLaunch, cause, now, next, false);
  }
  if (toWarm > 0 && toLaunch == 0) { // the group's own capacity first
    launch(name, toWarm,
           operations::causeTime(now) +
               " an instance was launched in response to a difference between the warm pool's "
               "desired and actual size.",
           now, next, true);
  }
  return Status::ok();
}

Status AutoScalingController::observe(store::Tx& tx, const std::string& name, TimeMs now,
                                      int& toLaunch, int& toWarm, int& active,
                                      std::string& launchCause, std::string& trigger, TimeMs& next,
                                      bool& deleted) {
  TIDE_ASSIGN_OR_RETURN(auto found, tx.autoScalingGroup(name));
  if (!found.has_value()) {
    deleted = true;
    return Status::ok();
  }
  model::AutoScalingGroup g = std::move(*found); // its refresh and lifecycle actions may move on
  const std::vector<model::LifecycleAction> actionsBefore = g.lifecycleActions;
  auto instances = tx.instances();
  auto targets = tx.targets("");
  auto tgs = tx.targetGroups();
  auto acts = tx.scalingActivities(name, 200);
  TIDE_RETURN_IF_ERROR(
      firstError({&instances.status(), &targets.status(), &tgs.status(), &acts.status()}));
  std::map<std::string, const model::TargetGroup*> groupTgs;
  for (const auto& tg : *tgs) {
    if (std::find(g.targetGroupArns.begin(), g.targetGroupArns.end(), tg.targetGroupArn) !=
        g.targetGroupArns.end()) {
      groupTgs[tg.targetGroupArn] = &tg;
    }
  }
  std::vector<Instance*> members;
  for (Instance& i : *instances) {
    if (i.autoScalingGroupName == name && i.lifecycleState != LifecycleState::Terminated &&
        i.lifecycleState != LifecycleState::WarmedTerminated) {
      members.push_back(&i);
    }
  }
  std::map<std::string, bool> changed; // instance id → its row changed

  // Finishes the in-progress activities of a kind about an instance.
  auto finish = [&](const std::string& id, ActivityKind kind, ActivityStatusCode code,
                    const std::string& message) -> Status {
    for (auto& a : *acts) {
      bool open = a.statusCode == ActivityStatusCode::InProgress ||
                  a.statusCode == ActivityStatusCode::PreInService;
      if (open && a.kind == kind && a.instanceId == id) {
        operations::finishActivity(a, code, now, message);
        TIDE_RETURN_IF_ERROR(tx.putScalingActivity(a));
      }
    }
    return Status::ok();
  };
  // Takes an instance out of service with an activity saying why.
  // AWS begins the Cause of a launch or termination that a change of the desired capacity
  // made with that change's own cause: "At T1 a monitor alarm ... triggered policy ... changing
  // the desired capacity from 2 to 3.  At T2 an instance was started ...". The newest such
  // change, when it set the capacity the group now has; else nothing.
  auto triggeredBy = [&](int desired) -> std::string {
    for (const model::ScalingActivity& a : *acts) {
      if (a.kind == ActivityKind::Other &&
          a.description.rfind("Changing the desired capacity from ", 0) == 0) {
        return a.description.ends_with(" to " + std::to_string(desired)) ? a.cause + "  " : "";
      }
    }
    return "";
  };
  auto takeOut = [&](Instance& i, const std::string& why,
                     const std::string& before = std::string()) -> Status {
    i.lifecycleState = LifecycleState::Terminating;
    changed[i.instanceId] = true;
    auto a = operations::newActivity(name, ActivityKind::Terminate, i.instanceId,
                                     kTerminating + i.instanceId,
                                     before + operations::causeTime(now) + why, now);
    acts->insert(acts->begin(), a);
    logInfo("auto scaling group " + name + ": taking " + i.instanceId + " out of service");
    return tx.putScalingActivity(a);
  };
  // Registers a running member with the group's target groups (operations: a member already
  // registered and not draining is left as it is). It starts as initial even where no listener
  // forwards to the target group; the target controller marks it unused on its next pass.
  auto registerTargets = [&](const Instance& i) -> Status {
    for (const auto& [arn, tg] : groupTgs) {
      TIDE_RETURN_IF_ERROR(
          operations::registerTarget(tx, *targets, *tg, i.instanceId, tg->port, true, now)
              .status());
    }
    return Status::ok();
  };

  // The warm pool's instances (control/warm_pool.h): not capacity; the pool pass moves them.
  WarmPoolPass pool{tx,
                    g,
                    members,
                    changed,
                    *acts,
                    *targets,
                    groupTgs,
                    now,
                    next,
                    options_.canFreeze,
                    &options_.appReady};
  TIDE_RETURN_IF_ERROR(advanceWarmPool(pool));

  // Lifecycle and health. Health checks mark instances Unhealthy (unless HealthCheck is
  // suspended); Unhealthy instances in service are replaced, protected or not (unless
  // ReplaceUnhealthy or Terminate is suspended). SetInstanceHealth marks them too.
  const bool checkHealth = !isSuspended(g, ScalingProcess::HealthCheck);
  const bool replaceUnhealthy = !isSuspended(g, ScalingProcess::ReplaceUnhealthy) &&
                                !isSuspended(g, ScalingProcess::Terminate);
  const bool addToLoadBalancer = !isSuspended(g, ScalingProcess::AddToLoadBalancer);
  for (Instance* ip : members) {
    Instance& i = *ip;
    if (operations::isWarmed(*i.lifecycleState)) {
      continue; // the pool pass moved it
    }
    if (i.state == InstanceState::Terminated) {
      if (!leaving(i)) {
        TIDE_RETURN_IF_ERROR(takeOut(i, kEc2HealthCause));
        i.healthStatus = HealthStatus::Unhealthy;
      }
      TIDE_RETURN_IF_ERROR(
          finish(i.instanceId, ActivityKind::Terminate, ActivityStatusCode::Successful, ""));
      for (ActivityKind k : {ActivityKind::Launch, ActivityKind::Standby, ActivityKind::Attach,
                             ActivityKind::Detach}) {
        TIDE_RETURN_IF_ERROR(finish(i.instanceId, k, ActivityStatusCode::Cancelled,
                                    "The instance was terminated before it came into service"));
      }
      i.lifecycleState = LifecycleState::Terminated;
      changed[i.instanceId] = true;
      continue;
    }
    if (!inService(i)) {
      continue;
    }
    // Why the group takes it out of service, if it does (set by a health check this pass).
    const char* why = nullptr;
    if (checkHealth && i.healthStatus != HealthStatus::Unhealthy) {
      TimeMs graceEnds = i.launchTime + 1000LL * g.healthCheckGracePeriod;
      if (!ec2Healthy(i)) {
        why = kEc2HealthCause;
      } else if (i.impairedSince != 0 && i.lifecycleState == LifecycleState::InService) {
        // Status checks count after the grace period, as ELB checks do (Auto Scaling's).
        if (now < graceEnds) {
          next = std::min(next, graceEnds);
        } else {
          why = kEc2StatusCause;
        }
      } else if (g.healthCheckType == model::HealthCheckType::ELB &&
                 i.lifecycleState == LifecycleState::InService) {
        if (now < graceEnds) {
          next = std::min(next, graceEnds);
        } else if (std::any_of(targets->begin(), targets->end(), [&](const auto& t) {
                     return t.id == i.instanceId && groupTgs.count(t.targetGroupArn) &&
                            t.state == TargetHealthState::Unhealthy;
                   })) {
          why = " an instance was taken out of service in response to an ELB system health check "
                "failure.";
        }
      }
      if (why != nullptr) {
        i.healthStatus = HealthStatus::Unhealthy;
        changed[i.instanceId] = true;
      }
    }
    if (i.healthStatus == HealthStatus::Unhealthy) {
      if (replaceUnhealthy) {
        // Marked by SetInstanceHealth (or by a check while ReplaceUnhealthy was suspended).
        TIDE_RETURN_IF_ERROR(takeOut(i, why != nullptr ? why : kUserHealthCause));
        continue;
      }
      if (!ec2Healthy(i)) {
        continue; // not running: nothing to register or put in service
      }
    }
    // Launching lifecycle hooks hold it in Pending:Wait (not registered, no traffic) until they
    // are answered (control/lifecycle_hooks.cc).
    const auto before = i.lifecycleState;
    TIDE_ASSIGN_OR_RETURN(bool held, holdForLaunchHooks(tx, g, i, *acts, now, next));
    if (i.lifecycleState != before) {
      changed[i.instanceId] = true;
    }
    if (held) {
      continue;
    }
    if (i.state == InstanceState::Running && !i.frozen) { // a warm one thaws first
      if (entering(i) && !addToLoadBalancer) {
        i.addToTargetGroups = false; // AWS does not add it when the process resumes
        changed[i.instanceId] = true;
      }
      if (addToLoadBalancer && i.addToTargetGroups) {
        TIDE_RETURN_IF_ERROR(registerTargets(i));
      }
      if (entering(i)) {
        i.lifecycleState = LifecycleState::InService;
        changed[i.instanceId] = true;
        for (ActivityKind k : {ActivityKind::Launch, ActivityKind::Standby, ActivityKind::Attach}) {
          TIDE_RETURN_IF_ERROR(finish(i.instanceId, k, ActivityStatusCode::Successful, ""));
        }
        logInfo("auto scaling group " + name + ": " + i.instanceId + " is InService");
      }
    }
  }

  // Capacity: too many in service → choose victims; too few → launch (after this commit).
  // Standby instances are members but not capacity.
  std::vector<Instance*> live;
  for (Instance* i : members) {
    if (inService(*i) && !(i->healthStatus == HealthStatus::Unhealthy && replaceUnhealthy)) {
      live.push_back(i);
    }
  }
  active = static_cast<int>(live.size());
  int desired = g.deleting ? 0 : g.desiredCapacity;
  const bool terminate = g.deleting || !isSuspended(g, ScalingProcess::Terminate);

  // Instance refresh (operations/instance_refresh.h): takes old instances out in batches and
  // may hold more than the desired capacity while their replacements launch first.
  if (operations::activeRefresh(g) != nullptr && terminate &&
      !isSuspended(g, ScalingProcess::Launch)) {
    operations::RefreshPass rp;
    rp.now = now;
    rp.members = members;
    rp.next = next;
    rp.serving = [&](const Instance& i) {
      return std::all_of(groupTgs.begin(), groupTgs.end(), [&](const auto& tg) {
        return std::any_of(targets->begin(), targets->end(), [&](const model::Target& t) {
          return t.id == i.instanceId && t.targetGroupArn == tg.first &&
                 (t.state == TargetHealthState::Healthy || t.state == TargetHealthState::Unused);
        });
      });
    };
    rp.takeOut = takeOut;
    TIDE_RETURN_IF_ERROR(operations::stepInstanceRefresh(tx, g, *acts, rp));
    if (rp.changed) {
      TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(g));
    }
    std::erase_if(
        live, [](const Instance* i) { return i->lifecycleState == LifecycleState::Terminating; });
    active = static_cast<int>(live.size());
    desired = rp.desired;
    next = rp.next;
    if (!rp.launchCause.empty()) {
      launchCause = rp.launchCause;
    }
  }

  // Max instance lifetime: the oldest instance past it (not protected) is replaced, one at a
  // time, launching its replacement first so that the capacity holds: it is not counted while
  // its replacement launches, and is taken out once nothing in the group is still pending.
  Instance* expired = nullptr;
  if (g.maxInstanceLifetime > 0 && !g.deleting) {
    TimeMs lifetime = 1000LL * g.maxInstanceLifetime;
    for (Instance* i : live) {
      if (i->protectedFromScaleIn || i->lifecycleState != LifecycleState::InService) {
        continue;
      }
      if (now - i->launchTime >= lifetime) {
        if (expired == nullptr || i->launchTime < expired->launchTime) {
          expired = i;
        }
      } else {
        next = std::min(next, i->launchTime + lifetime);
      }
    }
  }
  if (expired != nullptr && terminate) {
    std::erase(live, expired);
    --active;
    bool pending = std::any_of(live.begin(), live.end(), [](const Instance* i) {
      return i->lifecycleState != LifecycleState::InService;
    });
    if (active >= desired && !pending) {
      TIDE_RETURN_IF_ERROR(takeOut(*expired, " an instance was taken out of service in response "
                                             "to a maximum instance lifetime being reached."));
    } else if (active < desired) {
      launchCause = operations::causeTime(now) +
                    " an instance was launched to replace an instance that reached its maximum "
                    "instance lifetime.";
    }
  }
  if (active > desired && terminate) {
    std::vector<operations::ScaleInCandidate> candidates;
    std::map<std::string, Instance*> byId;
    for (Instance* i : live) {
      candidates.push_back(operations::scaleInCandidate(*i));
      byId[i->instanceId] = i;
    }
    if (g.deleting) {
      for (auto& c : candidates) {
        c.protectedFromScaleIn = false; // ForceDelete takes every instance
      }
    }
    for (const std::string& id :
         operations::chooseScaleInVictims(g, std::move(candidates), active - desired, now)) {
      const std::string why = " an instance was taken out of service in response to a difference "
                              "between desired and actual capacity, shrinking the capacity from " +
                              std::to_string(active) + " to " + std::to_string(desired) + ".";
      TIDE_CRASH_POINT("asg.terminate.victim");
      TIDE_ASSIGN_OR_RETURN(bool reused, returnToWarmPool(pool, *byId[id], why));
      if (!reused) {
        TIDE_RETURN_IF_ERROR(takeOut(*byId[id], why, triggeredBy(desired)));
      }
    }
  } else if (active < desired && !isSuspended(g, ScalingProcess::Launch)) {
    toLaunch = desired - active;
    trigger = triggeredBy(desired);
    // Warm instances first: they serve in a fraction of a cold launch's time.
    TIDE_ASSIGN_OR_RETURN(
        int taken,
        takeFromWarmPool(pool, toLaunch,
                         trigger + operations::causeTime(now) +
                             " an instance was taken from the warm pool in response to "
                             "a difference between desired and actual capacity, "
                             "increasing the capacity from " +
                             std::to_string(active) + " to " + std::to_string(desired) + "."));
    toLaunch -= taken;
  }
  TIDE_RETURN_IF_ERROR(sizeWarmPool(pool, !isSuspended(g, ScalingProcess::Launch), toWarm));
  if (g.deleting) {
    // Standby and detaching instances go with the group too.
    for (Instance* i : members) {
      if (i->lifecycleState == LifecycleState::Standby ||
          i->lifecycleState == LifecycleState::EnteringStandby) {
        TIDE_RETURN_IF_ERROR(takeOut(*i, " an instance was taken out of service in response to "
                                         "a user request deleting the AutoScalingGroup."));
      }
    }
  }

  // Terminating, EnteringStandby, Detaching: drain the targets (a standby or detaching instance,
  // only the group's); once they are gone, terminate, stand by, or leave the group.
  bool anyLeft = false;
  for (Instance* ip : members) {
    Instance& i = *ip;
    if (i.lifecycleState == LifecycleState::Terminated) {
      continue;
    }
    anyLeft = true;
    const bool terminating = leaving(i);
    if (!terminating && i.lifecycleState != LifecycleState::EnteringStandby &&
        i.lifecycleState != LifecycleState::Detaching) {
      continue;
    }
    int remaining = 0;
    for (model::Target& t : *targets) {
      if (t.id != i.instanceId || (!terminating && !groupTgs.count(t.targetGroupArn))) {
        continue;
      }
      ++remaining;
      TIDE_RETURN_IF_ERROR(operations::deregisterTarget(tx, t, now).status());
    }
    if (remaining > 0) {
      continue;
    }
    // Terminating lifecycle hooks hold it in Terminating:Wait, drained, until they are answered.
    if (terminating) {
      const auto before = i.lifecycleState;
      bool held = holdForTerminateHooks(g, i, now, next);
      if (i.lifecycleState != before) {
        changed[i.instanceId] = true;
      }
      if (held) {
        continue;
      }
    }
    if (i.lifecycleState == LifecycleState::EnteringStandby) {
      i.lifecycleState = LifecycleState::Standby;
      changed[i.instanceId] = true;
      TIDE_RETURN_IF_ERROR(
          finish(i.instanceId, ActivityKind::Standby, ActivityStatusCode::Successful, ""));
      logInfo("auto scaling group " + name + ": " + i.instanceId + " is in Standby");
    } else if (i.lifecycleState == LifecycleState::Detaching) {
      i.autoScalingGroupName.clear();
      i.lifecycleState.reset();
      i.healthStatus.reset();
      i.protectedFromScaleIn = false;
      changed[i.instanceId] = true;
      TIDE_RETURN_IF_ERROR(
          finish(i.instanceId, ActivityKind::Detach, ActivityStatusCode::Successful, ""));
      logInfo("auto scaling group " + name + ": " + i.instanceId + " detached");
    } else if (i.goal != InstanceGoal::Terminate) {
      i.goal = InstanceGoal::Terminate;
      i.stateTransitionReason =
          "Auto Scaling: taken out of service (" + formatIso8601(now).substr(0, 19) + " GMT)";
      changed[i.instanceId] = true;
      for (auto& a : *acts) {
        if (a.statusCode == ActivityStatusCode::InProgress && a.kind == ActivityKind::Terminate &&
            a.instanceId == i.instanceId && a.progress < 50) {
          a.progress = 50;
          TIDE_RETURN_IF_ERROR(tx.putScalingActivity(a));
        }
      }
    }
  }
  for (Instance* i : members) {
    if (changed.count(i->instanceId)) {
      TIDE_RETURN_IF_ERROR(tx.putInstance(*i));
    }
  }
  pruneLifecycleActions(g, members);
  if (g.lifecycleActions != actionsBefore && !g.deleting) {
    TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(g));
  }

  if (g.deleting) {
    toLaunch = 0;
    toWarm = 0;
    if (!anyLeft) {
      deleted = true;
      TIDE_RETURN_IF_ERROR(operations::deleteGroupTrackingAlarms(tx, name));
      return tx.deleteAutoScalingGroup(name);
    }
    return Status::ok();
  }

  // Launch backoff, from the activities: the failed launches since the last launch that
  // worked (a pass that launched some and then failed counts as failed).
  if (toLaunch > 0 || toWarm > 0) {
    TimeMs lastSuccess = -1;
    for (const auto& a : *acts) {
      if (a.kind == ActivityKind::Launch && a.statusCode != ActivityStatusCode::Failed) {
        lastSuccess = std::max(lastSuccess, a.startTime);
      }
    }
    int failures = 0;
    TimeMs lastFailure = 0;
    for (const auto& a : *acts) {
      if (a.kind == ActivityKind::Launch && a.statusCode == ActivityStatusCode::Failed &&
          a.startTime >= lastSuccess) {
        ++failures;
        lastFailure = std::max(lastFailure, a.endTime);
      }
    }
    if (failures > 0) {
      TimeMs backoff = options_.launchBackoff.count();
      for (int k = 1; k < failures && backoff < options_.maxLaunchBackoff.count(); ++k) {
        backoff *= 2;
      }
      backoff = std::min<TimeMs>(backoff, options_.maxLaunchBackoff.count());
      if (now < lastFailure + backoff) {
        toLaunch = 0;
        toWarm = 0;
        next = std::min(next, lastFailure + backoff);
      }
    }
  }
  return Status::ok();
}

void AutoScalingController::launch(const std::string& name, int count, const std::string& cause,
                                   TimeMs now, TimeMs& next, bool intoWarmPool) {
  int launched = 0;
  for (int batch = 1; launched < count; batch *= 2) {
    int n = std::min(batch, count - launched);
    std::vector<std::string> ids;
    TIDE_CRASH_POINT("asg.launch.batch");
    Status s = store_.transact([&](store::Tx& tx) -> Status {
      TIDE_ASSIGN_OR_RETURN(auto g, tx.autoScalingGroup(name));
      if (!g.has_value() || g->deleting) {
        return Status::ok();
      }
      // The group's template, or its instance refresh's desired one while that runs.
      model::RefreshLaunchTemplate lt = operations::launchTemplateOf(*g);
      auto r = operations::resolveLaunchTemplate(tx, lt.launchTemplateId, "", lt.version);
      TIDE_RETURN_IF_ERROR(r.status());
      operations::LaunchRequest req;
      req.data = r->version.data;
      req.launchTemplateId = r->launchTemplate.launchTemplateId;
      req.launchTemplateName = r->launchTemplate.launchTemplateName;
      req.launchTemplateVersion = r->version.versionNumber;
      req.tags = r->version.data.instanceTags;
      for (const model::Tag& t : g->tags) { // the group's tags win over the template's
        if (std::find(g->unpropagatedTagKeys.begin(), g->unpropagatedTagKeys.end(), t.key) !=
            g->unpropagatedTagKeys.end()) {
          continue; // PropagateAtLaunch false
        }
        auto same = std::find_if(req.tags.begin(), req.tags.end(),
                                 [&](const model::Tag& x) { return x.key == t.key; });
        if (same != req.tags.end()) {
          same->value = t.value;
        } else {
          req.tags.push_back(t);
        }
      }
      req.minCount = n;
      req.maxCount = n;
      req.reservationId = newId("r");
      req.autoScalingGroupName = name;
      req.protectedFromScaleIn = g->newInstancesProtectedFromScaleIn;
      TIDE_ASSIGN_OR_RETURN(auto out, operations::launchInstances(tx, req, options_.maxCpuCores,
                                                                  now, options_.addresses));
      for (Instance& i : out) {
        ids.push_back(i.instanceId);
        if (intoWarmPool) {
          i.lifecycleState = LifecycleState::WarmedPending; // not capacity (control/warm_pool.h)
          TIDE_RETURN_IF_ERROR(tx.putInstance(i));
        }
        TIDE_RETURN_IF_ERROR(tx.putScalingActivity(operations::newActivity(
            name, ActivityKind::Launch, i.instanceId,
            std::string(intoWarmPool ? "Launching a new EC2 instance into warm pool" : kLaunching) +
                ": " + i.instanceId,
            cause, now)));
      }
      return Status::ok();
    });
    if (!s.isOk()) {
      logError("auto scaling group " + name + ": cannot launch: " + s.toString());
      Status recorded = store_.transact([&](store::Tx& tx) -> Status {
        auto a = operations::newActivity(
            name, ActivityKind::Launch, "",
            std::string(kLaunching) + ".  Status Reason: " + s.message(), cause, now);
        operations::finishActivity(a, ActivityStatusCode::Failed, now, s.toString());
        return tx.putScalingActivity(a);
      });
      if (!recorded.isOk()) {
        logError("auto scaling group " + name + ": " + recorded.toString());
      }
      next = std::min(next, now + options_.launchBackoff.count());
      return;
    }
    if (ids.empty()) {
      return; // the group went away
    }
    launched += n;
    logInfo("auto scaling group " + name + ": launched " + std::to_string(n) + " instance(s)");
  }
}

} // namespace tide::control
