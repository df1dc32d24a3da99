// The rest of an Auto Scaling group's controls (issue 11, item 7): termination policy types,
// scale-in protection, instance health, suspended processes, standby, attaching and detaching
// instances. Each records what the user asks for in one transaction (bad input changes
// nothing), with an activity whose Cause says so as Auto Scaling words it; the group controller
// (control/auto_scaling_controller.h) carries it out: it drains the targets of an instance
// entering standby or detaching, registers an attached one, replaces an unhealthy one.
#include "api/auto_scaling_shapes.h"
#include "api/handlers.h"
#include "api/params.h"
#include "model/names.h"
#include "operations/scaling_activity.h"
#include "operations/scaling_processes.h"
#include "operations/termination_policy.h"

#include <algorithm>

namespace tide::api {

namespace {

using model::AutoScalingGroup;
using model::Instance;
using model::LifecycleState;
using operations::causeTime;

// InstanceIds: required, 1..max of them, no repeats kept.
Result<std::vector<std::string>> instanceIds(const Json& p, size_t max, const char* tooMany) {
  TIDE_ASSIGN_OR_RETURN(auto ids, optStringList(p, "InstanceIds"));
  std::vector<std::string> out;
  for (auto& id : ids) {
    if (std::find(out.begin(), out.end(), id) == out.end()) {
      out.push_back(std::move(id));
    }
  }
  if (out.size() > max) {
    return validationError(tooMany);
  }
  return out;
}

// The named instances, each a member of the group (in any lifecycle state but Terminated), or
// AWS's ValidationError naming the first that is not.
Result<std::vector<Instance>> groupInstances(store::Tx& tx, const std::string& group,
                                             const std::vector<std::string>& ids) {
  std::vector<Instance> out;
  for (const auto& id : ids) {
    TIDE_ASSIGN_OR_RETURN(auto i, tx.instance(id));
    if (!i.has_value() || !isGroupMember(*i, group)) {
      return validationError("The instance " + id + " is not part of Auto Scaling group " + group +
                             ".");
    }
    out.push_back(std::move(*i));
  }
  return out;
}

std::string instanceList(const std::vector<Instance>& in) {
  std::string s;
  for (const auto& i : in) {
    s += (s.empty() ? "" : ", ") + i.instanceId;
  }
  return s;
}

// How a cause ends, as AWS's: ", shrinking the capacity from 3 to 2." (or increasing), or "."
// when the capacity does not change.
std::string capacityChange(int from, int to) {
  if (from == to) {
    return ".";
  }
  return std::string(to < from ? ", shrinking" : ", increasing") + " the capacity from " +
         std::to_string(from) + " to " + std::to_string(to) + ".";
}

// Moves the group's desired capacity by `change` (standby and detach lower it, attach raises it)
// and stores the group; refused, as AWS words it, when the result leaves MinSize..MaxSize.
// `what`: "place into standby", "detach", "attach".
Status changeDesiredBy(store::Tx& tx, AutoScalingGroup& g, int change, const std::string& what) {
  int n = change < 0 ? -change : change;
  int desired = g.desiredCapacity + change;
  if (desired < g.minSize || desired > g.maxSize) {
    return validationError(
        "AutoScalingGroup " + g.autoScalingGroupName +
        " has min-size=" + std::to_string(g.minSize) + ", max-size=" + std::to_string(g.maxSize) +
        ", and desired-size=" + std::to_string(g.desiredCapacity) + ". To " + what + " " +
        std::to_string(n) + (what == "place into standby" ? " instances" : " instance") +
        ", please update the AutoScalingGroup sizes appropriately.");
  }
  g.desiredCapacity = desired;
  return tx.putAutoScalingGroup(g);
}

// Takes instances out of service into `state` (EnteringStandby, Detaching) with one activity
// each, the capacity stepping down one at a time for each that was InService when `decrement`,
// as AWS words it: "...instance i-1 was <done> in response to a user request, shrinking the
// capacity from 3 to 2."
Status takeOut(store::Tx& tx, const std::string& group, std::vector<Instance>& in,
               LifecycleState state, model::ActivityKind kind, const std::string& description,
               const std::string& done, bool decrement, int before, TimeMs now,
               std::vector<model::ScalingActivity>& acts) {
  int capacity = before;
  for (Instance& i : in) {
    // A standby instance is not capacity: taking it out changes none.
    int to = decrement && i.lifecycleState == LifecycleState::InService ? capacity - 1 : capacity;
    i.lifecycleState = state;
    TIDE_RETURN_IF_ERROR(tx.putInstance(i));
    auto a =
        operations::newActivity(group, kind, i.instanceId, description + i.instanceId,
                                causeTime(now) + " instance " + i.instanceId + " was " + done +
                                    " in response to a user request" + capacityChange(capacity, to),
                                now);
    a.progress = 50;
    capacity = to;
    TIDE_RETURN_IF_ERROR(tx.putScalingActivity(a));
    acts.push_back(a);
  }
  return Status::ok();
}

Json activitiesJson(const ActionContext& ctx, const std::vector<model::ScalingActivity>& acts) {
  Json out = Json::array();
  for (const auto& a : acts) {
    out.push_back(activityJson(a, tideZone(ctx)));
  }
  return Json{{"Activities", out}};
}

// Suspend/ResumeProcesses: ScalingProcesses, every one a known name (none: all of them).
Result<std::vector<std::string>> processNames(const Json& p) {
  TIDE_ASSIGN_OR_RETURN(auto names, optStringList(p, "ScalingProcesses"));
  if (names.empty()) {
    for (std::string_view n : operations::scalingProcessTypes()) {
      names.emplace_back(n);
    }
    return names;
  }
  for (const auto& n : names) {
    if (!operations::parseScalingProcess(n)) {
      return validationError("Process name " + n +
                             " is not a valid process name. Valid process names are: "
                             "AddToLoadBalancer, AlarmNotification, AZRebalance, HealthCheck, "
                             "InstanceRefresh, Launch, ReplaceUnhealthy, ScheduledActions, "
                             "Terminate.");
    }
  }
  return names;
}

} // namespace

Result<Json> describeTerminationPolicyTypes(ActionContext&, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {}));
  Json names = Json::array();
  for (std::string_view n : operations::terminationPolicyTypes()) {
    names.push_back(std::string(n));
  }
  return Json{{"TerminationPolicyTypes", names}};
}

Result<Json> setInstanceProtection(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"InstanceIds", "AutoScalingGroupName", "ProtectedFromScaleIn"}));
  auto name = reqString(p, "AutoScalingGroupName");
  auto ids = instanceIds(p, 50, "The number of instance IDs must be between 1 and 50.");
  auto protect = optBool(p, "ProtectedFromScaleIn");
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &ids.status(), &protect.status()}));
  if (!protect->has_value()) {
    return validationError("The parameter ProtectedFromScaleIn is required");
  }
  if (ids->empty()) {
    return validationError("The parameter InstanceIds is required");
  }
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_RETURN_IF_ERROR(findLiveGroup(tx, *name).status());
    TIDE_ASSIGN_OR_RETURN(auto in, groupInstances(tx, *name, *ids));
    for (Instance& i : in) {
      i.protectedFromScaleIn = **protect;
      TIDE_RETURN_IF_ERROR(tx.putInstance(i));
    }
    return Status::ok();
  }));
  return Json::object();
}

Result<Json> setInstanceHealth(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"InstanceId", "HealthStatus", "ShouldRespectGracePeriod"}));
  auto id = reqString(p, "InstanceId");
  auto status = reqString(p, "HealthStatus");
  auto respect = optBool(p, "ShouldRespectGracePeriod");
  TIDE_RETURN_IF_ERROR(firstError({&id.status(), &status.status(), &respect.status()}));
  auto health = model::parseHealthStatus(*status);
  if (!health) {
    return validationError("Valid values for HealthStatus are Healthy and Unhealthy, not '" +
                           *status + "'");
  }
  TimeMs now = ctx.clock.now();
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto inst, tx.instance(*id));
    if (!inst.has_value() || inst->autoScalingGroupName.empty() ||
        !isGroupMember(*inst, inst->autoScalingGroupName)) {
      return validationError("Instance Id not found - No managed instance found for instance "
                             "ID: " +
                             *id);
    }
    Instance i = std::move(*inst);
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, i.autoScalingGroupName));
    // Within the group's grace period, and asked to respect it: the health is not changed.
    if (respect->value_or(true) && now < i.launchTime + 1000LL * g.healthCheckGracePeriod) {
      return Status::ok();
    }
    if (i.lifecycleState == LifecycleState::Terminating ||
        i.lifecycleState == LifecycleState::TerminatingWait ||
        i.lifecycleState == LifecycleState::TerminatingProceed) {
      return Status::ok(); // already on its way out
    }
    i.healthStatus = *health;
    return tx.putInstance(i);
  }));
  return Json::object();
}

Result<Json> describeScalingProcessTypes(ActionContext&, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {}));
  Json out = Json::array();
  for (std::string_view n : operations::scalingProcessTypes()) {
    out.push_back({{"ProcessName", std::string(n)}});
  }
  return Json{{"Processes", out}};
}

Result<Json> suspendProcesses(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AutoScalingGroupName", "ScalingProcesses"}));
  auto name = reqString(p, "AutoScalingGroupName");
  auto names = processNames(p);
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &names.status()}));
  TimeMs now = ctx.clock.now();
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *name));
    for (const auto& n : *names) {
      auto& sp = g.suspendedProcesses;
      if (std::none_of(sp.begin(), sp.end(), [&](const auto& s) { return s.processName == n; })) {
        sp.push_back({n, "User suspended at " + formatIso8601(now).substr(0, 19) + "Z"});
      }
    }
    return tx.putAutoScalingGroup(g);
  }));
  return Json::object();
}

Result<Json> resumeProcesses(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AutoScalingGroupName", "ScalingProcesses"}));
  auto name = reqString(p, "AutoScalingGroupName");
  auto names = processNames(p);
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &names.status()}));
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *name));
    std::erase_if(g.suspendedProcesses, [&](const model::SuspendedProcess& s) {
      return std::find(names->begin(), names->end(), s.processName) != names->end();
    });
    return tx.putAutoScalingGroup(g);
  }));
  return Json::object();
}

Result<Json> enterStandby(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"InstanceIds", "AutoScalingGroupName", "ShouldDecrementDesiredCapacity"}));
  auto name = reqString(p, "AutoScalingGroupName");
  auto ids = instanceIds(p, 20, "The number of instance IDs must be between 1 and 20.");
  auto decrement = optBool(p, "ShouldDecrementDesiredCapacity");
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &ids.status(), &decrement.status()}));
  if (!decrement->has_value()) {
    return validationError("The parameter ShouldDecrementDesiredCapacity is required");
  }
  TimeMs now = ctx.clock.now();
  std::vector<model::ScalingActivity> acts;
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *name));
    TIDE_ASSIGN_OR_RETURN(auto in, groupInstances(tx, *name, *ids));
    for (const Instance& i : in) {
      if (i.lifecycleState != LifecycleState::InService) {
        return validationError("The instance " + i.instanceId +
                               " is not in InService. Only InService instances can be moved to "
                               "Standby.");
      }
    }
    int before = g.desiredCapacity;
    int n = static_cast<int>(in.size());
    if (**decrement) {
      TIDE_RETURN_IF_ERROR(changeDesiredBy(tx, g, -n, "place into standby"));
    }
    TIDE_RETURN_IF_ERROR(takeOut(
        tx, *name, in, LifecycleState::EnteringStandby, model::ActivityKind::Standby,
        "Moving EC2 instance to Standby: ", "moved to standby", **decrement, before, now, acts));
    return Status::ok();
  }));
  return activitiesJson(ctx, acts);
}

Result<Json> exitStandby(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"InstanceIds", "AutoScalingGroupName"}));
  auto name = reqString(p, "AutoScalingGroupName");
  auto ids = instanceIds(p, 20, "The number of instance IDs must be between 1 and 20.");
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &ids.status()}));
  TimeMs now = ctx.clock.now();
  std::vector<model::ScalingActivity> acts;
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *name));
    TIDE_ASSIGN_OR_RETURN(auto in, groupInstances(tx, *name, *ids));
    for (const Instance& i : in) {
      if (i.lifecycleState != LifecycleState::Standby) {
        return validationError("The instance " + i.instanceId +
                               " is not in Standby. Only Standby instances can be moved out of "
                               "Standby.");
      }
    }
    int n = static_cast<int>(in.size());
    if (g.desiredCapacity + n > g.maxSize) {
      return validationError("AutoScalingGroup " + *name + " has min-size=" +
                             std::to_string(g.minSize) + ", max-size=" + std::to_string(g.maxSize) +
                             ", and desired-size=" + std::to_string(g.desiredCapacity) +
                             ". To move " + std::to_string(n) +
                             " instances out of standby, please update the AutoScalingGroup "
                             "sizes appropriately.");
    }
    int capacity = g.desiredCapacity;
    g.desiredCapacity += n;
    TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(g));
    for (Instance& i : in) {
      i.lifecycleState = LifecycleState::Pending; // in service again once registered
      i.addToTargetGroups = true;
      TIDE_RETURN_IF_ERROR(tx.putInstance(i));
      auto a =
          operations::newActivity(*name, model::ActivityKind::Standby, i.instanceId,
                                  "Moving EC2 instance out of Standby: " + i.instanceId,
                                  causeTime(now) + " instance " + i.instanceId +
                                      " was moved out of standby in response to a user request" +
                                      capacityChange(capacity, capacity + 1),
                                  now);
      a.statusCode = model::ActivityStatusCode::PreInService;
      a.progress = 30;
      ++capacity;
      TIDE_RETURN_IF_ERROR(tx.putScalingActivity(a));
      acts.push_back(a);
    }
    return Status::ok();
  }));
  return activitiesJson(ctx, acts);
}

Result<Json> attachInstances(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"InstanceIds", "AutoScalingGroupName"}));
  auto name = reqString(p, "AutoScalingGroupName");
  auto ids = instanceIds(p, 20,
                         "List exceeds the maximum number of instances to attach. Please retry "
                         "your request with fewer instances.");
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &ids.status()}));
  TimeMs now = ctx.clock.now();
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *name));
    std::vector<Instance> in;
    for (const auto& id : *ids) {
      TIDE_ASSIGN_OR_RETURN(auto i, tx.instance(id));
      if (!i.has_value() || i->state == model::InstanceState::Terminated) {
        return validationError("Instance ID(s) " + id + " are not valid.");
      }
      if (i->autoScalingGroupName == *name && isGroupMember(*i, *name)) {
        continue; // already a member: nothing to do, as AWS
      }
      if (!i->autoScalingGroupName.empty() && isGroupMember(*i, i->autoScalingGroupName)) {
        return validationError("The instance " + id +
                               " is already part of the Auto Scaling group " +
                               i->autoScalingGroupName + ".");
      }
      if (i->state != model::InstanceState::Running || i->goal != model::InstanceGoal::Run) {
        return validationError("Instance " + id +
                               " is not in correct state. Instance must be in running state.");
      }
      in.push_back(std::move(*i));
    }
    int n = static_cast<int>(in.size());
    if (n == 0) {
      return Status::ok();
    }
    TIDE_RETURN_IF_ERROR(changeDesiredBy(tx, g, n, "attach"));
    for (Instance& i : in) {
      i.autoScalingGroupName = *name;
      i.lifecycleState = LifecycleState::Pending; // registered and in service on the next pass
      i.healthStatus = model::HealthStatus::Healthy;
      i.protectedFromScaleIn = g.newInstancesProtectedFromScaleIn;
      i.addToTargetGroups = true;
      TIDE_RETURN_IF_ERROR(tx.putInstance(i));
    }
    auto a = operations::newActivity(
        *name, model::ActivityKind::Attach, in.size() == 1 ? in[0].instanceId : "",
        "Attaching an existing EC2 instance: " + instanceList(in),
        causeTime(now) +
            " an instance was added in response to user request. Keeping the capacity at the "
            "new " +
            std::to_string(g.desiredCapacity) + ".",
        now);
    if (in.size() > 1) {
      // One activity per instance, so that each finishes when its instance is in service.
      for (const Instance& i : in) {
        auto each = a;
        each.activityId = operations::newActivity(*name, a.kind, "", "", "", now).activityId;
        each.instanceId = i.instanceId;
        each.description = "Attaching an existing EC2 instance: " + i.instanceId;
        TIDE_RETURN_IF_ERROR(tx.putScalingActivity(each));
      }
      return Status::ok();
    }
    return tx.putScalingActivity(a);
  }));
  return Json::object();
}

Result<Json> detachInstances(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"InstanceIds", "AutoScalingGroupName", "ShouldDecrementDesiredCapacity"}));
  auto name = reqString(p, "AutoScalingGroupName");
  auto ids = instanceIds(p, 20,
                         "List exceeds the maximum number of instances to detach. Please retry "
                         "your request with fewer instances.");
  auto decrement = optBool(p, "ShouldDecrementDesiredCapacity");
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &ids.status(), &decrement.status()}));
  if (!decrement->has_value()) {
    return validationError("The parameter ShouldDecrementDesiredCapacity is required");
  }
  TimeMs now = ctx.clock.now();
  std::vector<model::ScalingActivity> acts;
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *name));
    TIDE_ASSIGN_OR_RETURN(auto in, groupInstances(tx, *name, *ids));
    for (const Instance& i : in) {
      if (i.lifecycleState != LifecycleState::InService &&
          i.lifecycleState != LifecycleState::Standby) {
        return validationError("The instance " + i.instanceId +
                               " is not in InService or Standby. Only InService or Standby "
                               "instances can be detached.");
      }
    }
    int inService = 0;
    for (const Instance& i : in) {
      inService += i.lifecycleState == LifecycleState::InService ? 1 : 0;
    }
    int before = g.desiredCapacity;
    if (**decrement) {
      TIDE_RETURN_IF_ERROR(changeDesiredBy(tx, g, -inService, "detach"));
    }
    TIDE_RETURN_IF_ERROR(
        takeOut(tx, *name, in, LifecycleState::Detaching, model::ActivityKind::Detach,
                "Detaching EC2 instance: ", "detached", **decrement, before, now, acts));
    return Status::ok();
  }));
  return activitiesJson(ctx, acts);
}

} // namespace tide::api
