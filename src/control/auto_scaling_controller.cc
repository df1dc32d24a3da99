#include "control/auto_scaling_controller.h"

#include "common/ids.h"
#include "common/log.h"
#include "operations/launch.h"
#include "operations/scaling_activity.h"
#include "operations/target_tracking.h"
#include "operations/targets.h"

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

namespace {

// Descriptions, for people only: decisions read an activity's kind and instanceId.
constexpr const char* kLaunching = "Launching a new EC2 instance";
constexpr const char* kTerminating = "Terminating EC2 instance: ";

bool inService(const Instance& i) {
  return i.lifecycleState == LifecycleState::Pending ||
         i.lifecycleState == LifecycleState::InService;
}

// EC2 health: the instance should run and does (or is on its way up).
bool ec2Healthy(const Instance& i) {
  return i.goal == InstanceGoal::Run &&
         (i.state == InstanceState::Pending || i.state == InstanceState::Running);
}

// -1 when a goes before b as a victim, 1 when after, 0 when the policy does not tell.
using VictimOrder = int (*)(const model::AutoScalingGroup&, const Instance&, const Instance&);

int oldestInstance(const model::AutoScalingGroup&, const Instance& a, const Instance& b) {
  return a.launchTime == b.launchTime ? 0 : (a.launchTime < b.launchTime ? -1 : 1);
}
int newestInstance(const model::AutoScalingGroup& g, const Instance& a, const Instance& b) {
  return -oldestInstance(g, a, b);
}
// Instances of another template than the group's first, then older versions first.
int oldestLaunchTemplate(const model::AutoScalingGroup& g, const Instance& a, const Instance& b) {
  bool aOther = a.launchTemplateId != g.launchTemplateId;
  bool bOther = b.launchTemplateId != g.launchTemplateId;
  if (aOther != bOther) {
    return aOther ? -1 : 1;
  }
  if (a.launchTemplateVersion != b.launchTemplateVersion) {
    return a.launchTemplateVersion < b.launchTemplateVersion ? -1 : 1;
  }
  return 0;
}
// Auto Scaling's Default balances Availability Zones (tide has one), then takes the oldest
// launch template, then the instance closest to the next billing hour; tide has no billing
// hours and takes the oldest instance instead.
int defaultOrder(const model::AutoScalingGroup& g, const Instance& a, const Instance& b) {
  int c = oldestLaunchTemplate(g, a, b);
  return c != 0 ? c : oldestInstance(g, a, b);
}
int noOrder(const model::AutoScalingGroup&, const Instance&, const Instance&) {
  return 0;
}

struct TerminationPolicyRow {
  const char* name;
  VictimOrder order;
};

const TerminationPolicyRow kTerminationPolicies[] = {
    {"Default", defaultOrder},
    {"OldestInstance", oldestInstance},
    {"NewestInstance", newestInstance},
    {"OldestLaunchTemplate", oldestLaunchTemplate},
    {"OldestLaunchConfiguration", oldestLaunchTemplate},
    {"ClosestToNextInstanceHour", noOrder}, // no billing hours locally
    {"AllocationStrategy", noOrder},        // one instance type, one market
};

VictimOrder terminationPolicy(const std::string& name) {
  for (const auto& row : kTerminationPolicies) {
    if (name == row.name) {
      return row.order;
    }
  }
  return noOrder;
}

// Whether a should be taken out of service before b: unhealthy first, then the group's
// termination policies in order, then Default.
bool victimBefore(const model::AutoScalingGroup& g, const Instance& a, const Instance& b) {
  if ((a.healthStatus == HealthStatus::Unhealthy) != (b.healthStatus == HealthStatus::Unhealthy)) {
    return a.healthStatus == HealthStatus::Unhealthy;
  }
  for (const auto& name : g.terminationPolicies) {
    if (int c = terminationPolicy(name)(g, a, b); c != 0) {
      return c < 0;
    }
  }
  if (int c = defaultOrder(g, a, b); c != 0) {
    return c < 0;
  }
  return a.instanceId < b.instanceId;
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
  int toLaunch = 0, active = 0;
  bool deleted = false;
  TIDE_RETURN_IF_ERROR(store_.transact(
      [&](store::Tx& tx) { return observe(tx, name, now, toLaunch, active, next, deleted); }));
  if (deleted) {
    logInfo("auto scaling group " + name + " deleted");
    return Status::ok();
  }
  if (toLaunch > 0) {
    launch(name, active, toLaunch, now, next);
  }
  return Status::ok();
}

Status AutoScalingController::observe(store::Tx& tx, const std::string& name, TimeMs now,
                                      int& toLaunch, int& active, TimeMs& next, bool& deleted) {
  TIDE_ASSIGN_OR_RETURN(auto found, tx.autoScalingGroup(name));
  if (!found.has_value()) {
    deleted = true;
    return Status::ok();
  }
  const model::AutoScalingGroup g = std::move(*found);
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
    if (i.autoScalingGroupName == name && i.lifecycleState != LifecycleState::Terminated) {
      members.push_back(&i);
    }
  }
  std::map<std::string, bool> changed; // instance id → its row changed

  // Finishes the in-progress activities of a kind about an instance.
  auto finish = [&](const std::string& id, ActivityKind kind, ActivityStatusCode code,
                    const std::string& message) -> Status {
    for (auto& a : *acts) {
      if (a.statusCode == ActivityStatusCode::InProgress && a.kind == kind && a.instanceId == id) {
        operations::finishActivity(a, code, now, message);
        TIDE_RETURN_IF_ERROR(tx.putScalingActivity(a));
      }
    }
    return Status::ok();
  };
  // Takes an instance out of service with an activity saying why.
  auto takeOut = [&](Instance& i, const std::string& why) -> Status {
    i.lifecycleState = LifecycleState::Terminating;
    changed[i.instanceId] = true;
    auto a =
        operations::newActivity(name, ActivityKind::Terminate, i.instanceId,
                                kTerminating + i.instanceId, operations::causeTime(now) + why, now);
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

  // Lifecycle and health.
  for (Instance* ip : members) {
    Instance& i = *ip;
    if (i.state == InstanceState::Terminated) {
      if (i.lifecycleState != LifecycleState::Terminating) {
        TIDE_RETURN_IF_ERROR(takeOut(i, " an instance was taken out of service in response to an "
                                        "EC2 health check indicating it has been terminated or "
                                        "stopped."));
        i.healthStatus = HealthStatus::Unhealthy;
      }
      TIDE_RETURN_IF_ERROR(
          finish(i.instanceId, ActivityKind::Terminate, ActivityStatusCode::Successful, ""));
      TIDE_RETURN_IF_ERROR(finish(i.instanceId, ActivityKind::Launch, ActivityStatusCode::Cancelled,
                                  "The instance was terminated before it came into service"));
      i.lifecycleState = LifecycleState::Terminated;
      changed[i.instanceId] = true;
      continue;
    }
    if (!inService(i)) {
      continue;
    }
    if (!ec2Healthy(i)) {
      i.healthStatus = HealthStatus::Unhealthy;
      TIDE_RETURN_IF_ERROR(takeOut(i, " an instance was taken out of service in response to an "
                                      "EC2 health check indicating it has been terminated or "
                                      "stopped."));
      continue;
    }
    if (g.healthCheckType == model::HealthCheckType::ELB &&
        i.lifecycleState == LifecycleState::InService) {
      TimeMs graceEnds = i.launchTime + 1000LL * g.healthCheckGracePeriod;
      if (now < graceEnds) {
        next = std::min(next, graceEnds);
      } else {
        bool unhealthy = std::any_of(targets->begin(), targets->end(), [&](const auto& t) {
          return t.id == i.instanceId && groupTgs.count(t.targetGroupArn) &&
                 t.state == TargetHealthState::Unhealthy;
        });
        if (unhealthy) {
          i.healthStatus = HealthStatus::Unhealthy;
          TIDE_RETURN_IF_ERROR(takeOut(i, " an instance was taken out of service in response to "
                                          "an ELB system health check failure."));
          continue;
        }
      }
    }
    if (i.state == InstanceState::Running) {
      TIDE_RETURN_IF_ERROR(registerTargets(i));
      if (i.lifecycleState == LifecycleState::Pending) {
        i.lifecycleState = LifecycleState::InService;
        changed[i.instanceId] = true;
        TIDE_RETURN_IF_ERROR(
            finish(i.instanceId, ActivityKind::Launch, ActivityStatusCode::Successful, ""));
        logInfo("auto scaling group " + name + ": " + i.instanceId + " is InService");
      }
    }
  }

  // Capacity: too many in service → choose victims; too few → launch (after this commit).
  std::vector<Instance*> live;
  for (Instance* i : members) {
    if (inService(*i)) {
      live.push_back(i);
    }
  }
  active = static_cast<int>(live.size());
  int desired = g.deleting ? 0 : g.desiredCapacity;
  if (active > desired) {
    std::sort(live.begin(), live.end(),
              [&](const Instance* a, const Instance* b) { return victimBefore(g, *a, *b); });
    for (int k = 0; k < active - desired; ++k) {
      TIDE_RETURN_IF_ERROR(takeOut(
          *live[k], " an instance was taken out of service in response to a difference between "
                    "desired and actual capacity, shrinking the capacity from " +
                        std::to_string(active) + " to " + std::to_string(desired) + "."));
    }
  } else if (active < desired) {
    toLaunch = desired - active;
  }

  // Terminating: drain the targets; once they are gone, terminate.
  bool anyLeft = false;
  for (Instance* ip : members) {
    Instance& i = *ip;
    if (i.lifecycleState == LifecycleState::Terminated) {
      continue;
    }
    anyLeft = true;
    if (i.lifecycleState != LifecycleState::Terminating) {
      continue;
    }
    int remaining = 0;
    for (model::Target& t : *targets) {
      if (t.id != i.instanceId) {
        continue;
      }
      ++remaining;
      TIDE_RETURN_IF_ERROR(operations::deregisterTarget(tx, t, now).status());
    }
    if (remaining == 0 && i.goal != InstanceGoal::Terminate) {
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

  if (g.deleting) {
    toLaunch = 0;
    if (!anyLeft) {
      deleted = true;
      TIDE_RETURN_IF_ERROR(operations::deleteGroupTrackingAlarms(tx, name));
      return tx.deleteAutoScalingGroup(name);
    }
    return Status::ok();
  }

  // Launch backoff, from the activities: the failed launches since the last launch that
  // worked (a pass that launched some and then failed counts as failed).
  if (toLaunch > 0) {
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
        next = std::min(next, lastFailure + backoff);
      }
    }
  }
  return Status::ok();
}

void AutoScalingController::launch(const std::string& name, int active, int count, TimeMs now,
                                   TimeMs& next) {
  std::string cause = operations::causeTime(now) +
                      " an instance was started in response to a difference between desired and "
                      "actual capacity, increasing the capacity from " +
                      std::to_string(active) + " to " + std::to_string(active + count) + ".";
  int launched = 0;
  for (int batch = 1; launched < count; batch *= 2) {
    int n = std::min(batch, count - launched);
    std::vector<std::string> ids;
    Status s = store_.transact([&](store::Tx& tx) -> Status {
      TIDE_ASSIGN_OR_RETURN(auto g, tx.autoScalingGroup(name));
      if (!g.has_value() || g->deleting) {
        return Status::ok();
      }
      auto r =
          operations::resolveLaunchTemplate(tx, g->launchTemplateId, "", g->launchTemplateVersion);
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
      TIDE_ASSIGN_OR_RETURN(auto out, operations::launchInstances(tx, req, options_.maxCpuCores,
                                                                  now, options_.addresses));
      for (const Instance& i : out) {
        ids.push_back(i.instanceId);
        TIDE_RETURN_IF_ERROR(tx.putScalingActivity(
            operations::newActivity(name, ActivityKind::Launch, i.instanceId,
                                    std::string(kLaunching) + ": " + i.instanceId, cause, now)));
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
