// RunInstances, DescribeInstances, TerminateInstances, StopInstances, StartInstances,
// GetConsoleOutput, DescribeInstanceTypes and tide's DescribeHost.
//
// These actions record what the user wants (an instance row, a goal); the instance controller
// does the launching, stopping and terminating, so the API answers at once with EC2's
// immediate states ("pending", "shutting-down", "stopping").
#include "api/handlers.h"
#include "api/network_shapes.h"
#include "api/params.h"
#include "api/shapes.h"
#include "common/ids.h"
#include "common/text.h"
#include "model/instance_types.h"
#include "model/names.h"
#include "model/validation.h"
#include "operations/launch.h"
#include "store/space_reserve.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace tide::api {

namespace {

using model::Instance;
using model::InstanceGoal;
using model::InstanceState;

Json stateJson(InstanceState s) {
  return {{"Code", model::instanceStateCode(s)},
          {"Name", std::string(model::instanceStateName(s))}};
}

// Loads the instances named by InstanceIds (all must exist and not be long gone).
Result<std::vector<Instance>> namedInstances(store::Tx& tx, const std::vector<std::string>& ids) {
  std::vector<Instance> out;
  std::vector<std::string> missing;
  for (const auto& id : ids) {
    TIDE_ASSIGN_OR_RETURN(auto i, tx.instance(id));
    if (!i.has_value()) {
      missing.push_back(id);
      continue;
    }
    out.push_back(std::move(*i));
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) {
      list += list.empty() ? "" : ", ";
      list += m;
    }
    return Status("InvalidInstanceID.NotFound",
                  "The instance ID" + std::string(missing.size() > 1 ? "s '" : " '") + list +
                      (missing.size() > 1 ? "' do not exist" : "' does not exist"));
  }
  return out;
}

// The instances a Describe action names (InvalidInstanceID.NotFound for one that is unknown),
// or all of them when it names none.
Result<std::vector<Instance>> listedInstances(ActionContext& ctx,
                                              const std::vector<std::string>& ids) {
  std::vector<Instance> instances;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        if (!ids.empty()) {
          TIDE_ASSIGN_OR_RETURN(auto named, namedInstances(tx, ids));
          instances = std::move(named);
          return Status::ok();
        }
        TIDE_ASSIGN_OR_RETURN(auto all, tx.instances());
        instances = std::move(all);
        return Status::ok();
      },
      false));
  return instances;
}

Result<std::vector<std::string>> requiredIds(const Json& p) {
  auto ids = optStringList(p, "InstanceIds");
  TIDE_RETURN_IF_ERROR(ids.status());
  if (ids->empty()) {
    return Status("MissingParameter", "The request must contain the parameter InstanceIds");
  }
  for (const auto& id : *ids) {
    if (!isIdOf(id, "i")) {
      return Status("InvalidInstanceID.Malformed",
                    "Invalid id: '" + id + "' (expecting \"i-\" and 17 hex digits)");
    }
  }
  return ids;
}

// The shared shape of Terminate/Stop/StartInstances: apply `change` to each named instance in
// one transaction; it returns the state the instance is reported in now, or an error that
// cancels the whole request.
Result<Json> changeInstances(ActionContext& ctx, const Json& p, const char* listName,
                             Result<InstanceState> (*change)(Instance&, TimeMs now)) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"InstanceIds", "Force", "Hibernate", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto ids, requiredIds(p));
  Json out = Json::array();
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto instances, namedInstances(tx, ids));
    for (Instance& i : instances) {
      InstanceState previous = i.state;
      TIDE_ASSIGN_OR_RETURN(auto current, change(i, ctx.clock.now()));
      TIDE_RETURN_IF_ERROR(tx.putInstance(i));
      out.push_back({{"InstanceId", i.instanceId},
                     {"PreviousState", stateJson(previous)},
                     {"CurrentState", stateJson(current)}});
    }
    return Status::ok();
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{listName, out}};
}

std::string userInitiated(TimeMs now) {
  return "User initiated (" + formatIso8601(now).substr(0, 19) + " GMT)";
}

Result<InstanceState> terminate(Instance& i, TimeMs now) {
  if (i.state == InstanceState::Terminated) {
    return i.state;
  }
  if (i.goal != InstanceGoal::Terminate) {
    i.goal = InstanceGoal::Terminate;
    i.stateTransitionReason = userInitiated(now);
  }
  return InstanceState::ShuttingDown;
}

Result<InstanceState> stop(Instance& i, TimeMs now) {
  if (i.state == InstanceState::Stopped) {
    return i.state;
  }
  if (i.state == InstanceState::Terminated || i.state == InstanceState::ShuttingDown ||
      i.goal == InstanceGoal::Terminate) {
    return Status("IncorrectInstanceState", "The instance '" + i.instanceId +
                                                "' is not in a state from which it can be "
                                                "stopped (it is " +
                                                std::string(model::instanceStateName(i.state)) +
                                                ")");
  }
  if (i.goal != InstanceGoal::Stop) {
    i.goal = InstanceGoal::Stop;
    i.stateTransitionReason = userInitiated(now);
  }
  return InstanceState::Stopping;
}

Result<InstanceState> start(Instance& i, TimeMs now) {
  if (i.state == InstanceState::Running || i.state == InstanceState::Pending) {
    if (i.goal == InstanceGoal::Run) {
      return i.state;
    }
  }
  if (i.state != InstanceState::Stopped || i.goal == InstanceGoal::Terminate) {
    return Status("IncorrectInstanceState", "The instance '" + i.instanceId +
                                                "' is not in a state from which it can be "
                                                "started (it is " +
                                                std::string(model::instanceStateName(i.state)) +
                                                "); wait until it is stopped");
  }
  i.goal = InstanceGoal::Run;
  i.stateTransitionReason = "";
  (void)now;
  return InstanceState::Pending;
}

} // namespace

Result<Json> runInstances(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"ImageId", "InstanceType", "MinCount", "MaxCount", "LaunchTemplate",
                           "UserData", "TagSpecifications", "SecurityGroupIds",
                           "BlockDeviceMappings", "Port", "Environment", "ClientToken", "DryRun"}));
  auto minCount = optInt(p, "MinCount");
  auto maxCount = optInt(p, "MaxCount");
  TIDE_RETURN_IF_ERROR(firstError({&minCount.status(), &maxCount.status()}));
  int64_t lo = minCount->value_or(1), hi = maxCount->value_or(lo);
  if (lo < 1 || hi < lo) {
    return Status("InvalidParameterValue", "MinCount (" + std::to_string(lo) +
                                               ") must be at least 1 and no more than MaxCount (" +
                                               std::to_string(hi) + ")");
  }
  if (hi > ctx.limits.maxInstancesPerRequest) {
    return Status("InstanceLimitExceeded",
                  "MaxCount " + std::to_string(hi) + " is above the limit of " +
                      std::to_string(ctx.limits.maxInstancesPerRequest) + " per request");
  }
  // Fields given with the request override the launch template's, as in EC2.
  Json overrides = Json::object();
  for (const char* k : {"ImageId", "InstanceType", "UserData", "TagSpecifications",
                        "SecurityGroupIds", "BlockDeviceMappings", "Port", "Environment"}) {
    if (p.contains(k)) {
      overrides[k] = p[k];
    }
  }
  std::string ltId, ltName, ltVersion;
  if (p.contains("LaunchTemplate")) {
    const Json& lt = p["LaunchTemplate"];
    if (!lt.is_object()) {
      return validationError("LaunchTemplate must be {LaunchTemplateId | LaunchTemplateName, "
                             "Version}");
    }
    TIDE_RETURN_IF_ERROR(
        checkKnownParams(lt, {"LaunchTemplateId", "LaunchTemplateName", "Version"}));
    auto id = optString(lt, "LaunchTemplateId");
    auto name = optString(lt, "LaunchTemplateName");
    auto version = optString(lt, "Version");
    TIDE_RETURN_IF_ERROR(firstError({&id.status(), &name.status(), &version.status()}));
    ltId = id->value_or("");
    ltName = name->value_or("");
    ltVersion = version->value_or("$Default");
  }

  // An instance's disk, console and logs live in the data directory: no launch while its file
  // system is full.
  TIDE_RETURN_IF_ERROR(store::checkRoomForNewData(
      ctx.dataDir + "/state.db", "InsufficientInstanceCapacity", "a new instance"));

  std::vector<Instance> launched;
  std::string reservationId = newId("r");
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    operations::LaunchRequest request;
    model::LaunchTemplateData base;
    if (!ltId.empty() || !ltName.empty()) {
      TIDE_ASSIGN_OR_RETURN(auto r, operations::resolveLaunchTemplate(tx, ltId, ltName, ltVersion));
      base = r.version.data;
      request.launchTemplateId = r.launchTemplate.launchTemplateId;
      request.launchTemplateName = r.launchTemplate.launchTemplateName;
      request.launchTemplateVersion = r.version.versionNumber;
    }
    std::vector<model::Tag> templateTags = base.instanceTags;
    TIDE_ASSIGN_OR_RETURN(auto data, parseLaunchTemplateData(overrides, base));
    // Instance tags: the template's, overridden key by key by the request's.
    request.tags = templateTags;
    if (p.contains("TagSpecifications")) {
      for (const model::Tag& t : data.instanceTags) {
        auto it = std::find_if(request.tags.begin(), request.tags.end(),
                               [&](const model::Tag& x) { return x.key == t.key; });
        if (it != request.tags.end()) {
          it->value = t.value;
        } else {
          request.tags.push_back(t);
        }
      }
    }
    request.data = std::move(data);
    request.minCount = lo;
    request.maxCount = hi;
    request.reservationId = reservationId;
    TIDE_ASSIGN_OR_RETURN(auto made,
                          operations::launchInstances(tx, request, ctx.limits.maxCpuCores,
                                                      ctx.clock.now(), ctx.addresses));
    launched = std::move(made);
    return Status::ok();
  });
  if (!s.isOk()) {
    return s;
  }
  Json instances = Json::array();
  for (const Instance& i : launched) {
    instances.push_back(instanceJson(i, zoneName(ctx.region, "a")));
  }
  return Json{{"ReservationId", reservationId},
              {"OwnerId", ctx.accountId},
              {"Groups", Json::array()},
              {"Instances", instances}};
}

Result<Json> describeInstances(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"InstanceIds", "Filters", "MaxResults", "NextToken", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto ids, optStringList(p, "InstanceIds"));
  TIDE_ASSIGN_OR_RETURN(auto fs, filters(p));
  TIDE_ASSIGN_OR_RETURN(std::vector<Instance> instances, listedInstances(ctx, ids));
  // Reservations in launch order, each with its instances.
  std::vector<std::string> order;
  std::map<std::string, Json> byReservation;
  for (const Instance& i : instances) {
    bool keep = true;
    for (const Filter& f : fs) {
      std::optional<std::string> value;
      if (f.name == "instance-state-name") {
        value = std::string(model::instanceStateName(i.state));
      } else if (f.name == "instance-id") {
        value = i.instanceId;
      } else if (f.name == "image-id") {
        value = i.imageId;
      } else if (f.name == "instance-type") {
        value = i.instanceType;
      } else if (f.name == "private-ip-address") {
        value = i.privateIpAddress;
      } else if (f.name == "reservation-id") {
        value = i.reservationId;
      } else if (f.name == "launch-template-name") {
        value = i.launchTemplateName;
      } else if (f.name.rfind("tag:", 0) == 0) {
        value = tagValue(i.tags, f.name.substr(4));
      } else {
        return Status(
            "InvalidParameterValue",
            "The filter '" + f.name +
                "' is invalid; tide knows instance-state-name, "
                "instance-id, image-id, instance-type, private-ip-address, reservation-id, "
                "launch-template-name and tag:<key>");
      }
      keep = keep && value && filterMatches(f, *value);
    }
    if (!keep) {
      continue;
    }
    auto it = byReservation.find(i.reservationId);
    if (it == byReservation.end()) {
      order.push_back(i.reservationId);
      it = byReservation
               .emplace(i.reservationId, Json{{"ReservationId", i.reservationId},
                                              {"OwnerId", ctx.accountId},
                                              {"Groups", Json::array()},
                                              {"Instances", Json::array()}})
               .first;
    }
    Json shape = instanceJson(i, zoneName(ctx.region, "a"), ctx.host.instanceUsage(i.instanceId));
    if (std::string dir = ctx.host.instanceDirectory(i.instanceId); !dir.empty()) {
      shape["WorkingDirectory"] = dir; // tide's own: where the instance's files are
    }
    it->second["Instances"].push_back(std::move(shape));
  }
  Json reservations = Json::array();
  for (const auto& r : order) {
    reservations.push_back(std::move(byReservation[r]));
  }
  return Json{{"Reservations", reservations}};
}

Result<Json> terminateInstances(ActionContext& ctx, const Json& p) {
  return changeInstances(ctx, p, "TerminatingInstances", terminate);
}

Result<Json> stopInstances(ActionContext& ctx, const Json& p) {
  return changeInstances(ctx, p, "StoppingInstances", stop);
}

Result<Json> startInstances(ActionContext& ctx, const Json& p) {
  return changeInstances(ctx, p, "StartingInstances", start);
}

Result<Json> getConsoleOutput(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"InstanceId", "Latest", "DryRun"}));
  auto id = reqString(p, "InstanceId");
  TIDE_RETURN_IF_ERROR(id.status());
  if (!isIdOf(*id, "i")) {
    return Status("InvalidInstanceID.Malformed", "Invalid id: '" + *id + "'");
  }
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status { return namedInstances(tx, {*id}).status(); }, false));
  TIDE_ASSIGN_OR_RETURN(auto out, ctx.host.consoleOutput(*id, 64 * 1024));
  return Json{{"InstanceId", *id},
              {"Timestamp", formatIso8601(ctx.clock.now())},
              {"Output", base64Encode(out)}};
}

// EC2's two status checks of an instance. The system check (the host) always passes here; the
// instance check fails (impaired, its reachability failed since ImpairedSince) once the kernel
// has killed one of its processes for memory (model::Instance::impairedSince). Running
// instances only unless IncludeAllInstances, which adds the others as not-applicable.
Result<Json> describeInstanceStatus(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"InstanceIds", "Filters", "MaxResults", "NextToken", "IncludeAllInstances", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto ids, optStringList(p, "InstanceIds"));
  TIDE_ASSIGN_OR_RETURN(auto fs, filters(p));
  TIDE_ASSIGN_OR_RETURN(auto includeAll, optBool(p, "IncludeAllInstances"));
  TIDE_ASSIGN_OR_RETURN(std::vector<Instance> instances, listedInstances(ctx, ids));
  const std::string zone = zoneName(ctx.region, "a");
  Json out = Json::array();
  for (const Instance& i : instances) {
    const bool running = i.state == InstanceState::Running;
    if (!running && !includeAll.value_or(false)) {
      continue;
    }
    const bool impaired = running && i.impairedSince != 0;
    const std::string instanceStatus = !running ? "not-applicable" : impaired ? "impaired" : "ok";
    const std::string systemStatus = running ? "ok" : "not-applicable";
    const std::string reachability = impaired ? "failed" : "passed";
    bool keep = true;
    for (const Filter& f : fs) {
      std::optional<std::string> value;
      if (f.name == "availability-zone") {
        value = zone;
      } else if (f.name == "instance-state-name") {
        value = std::string(model::instanceStateName(i.state));
      } else if (f.name == "instance-state-code") {
        value = std::to_string(model::instanceStateCode(i.state));
      } else if (f.name == "instance-status.status") {
        value = instanceStatus;
      } else if (f.name == "system-status.status") {
        value = systemStatus;
      } else if (f.name == "instance-status.reachability") {
        value = running ? std::optional<std::string>(reachability) : std::nullopt;
      } else if (f.name == "system-status.reachability") {
        value = running ? std::optional<std::string>("passed") : std::nullopt;
      } else {
        return Status("InvalidParameterValue",
                      "The filter '" + f.name +
                          "' is invalid; tide knows availability-zone, instance-state-name, "
                          "instance-state-code, instance-status.status, "
                          "instance-status.reachability, system-status.status and "
                          "system-status.reachability");
      }
      keep = keep && value && filterMatches(f, *value);
    }
    if (!keep) {
      continue;
    }
    Json check = {{"Status", instanceStatus}};
    Json system = {{"Status", systemStatus}};
    if (running) {
      Json detail = {{"Name", "reachability"}, {"Status", reachability}};
      if (impaired) {
        detail["ImpairedSince"] = formatIso8601(i.impairedSince);
      }
      check["Details"] = Json::array({detail});
      system["Details"] = Json::array({{{"Name", "reachability"}, {"Status", "passed"}}});
    }
    out.push_back({{"AvailabilityZone", zone},
                   {"InstanceId", i.instanceId},
                   {"InstanceState", stateJson(i.state)},
                   {"InstanceStatus", check},
                   {"SystemStatus", system}});
  }
  return Json{{"InstanceStatuses", out}};
}

Result<Json> describeInstanceTypes(ActionContext& ctx, const Json& p) {
  (void)ctx;
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"InstanceTypes", "Filters", "MaxResults", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto names, optStringList(p, "InstanceTypes"));
  for (const auto& n : names) {
    TIDE_RETURN_IF_ERROR(model::validateInstanceType(n));
  }
  Json out = Json::array();
  for (const model::InstanceType& t : model::instanceTypes()) {
    if (!names.empty() && std::find(names.begin(), names.end(), t.name) == names.end()) {
      continue;
    }
    out.push_back({{"InstanceType", std::string(t.name)},
                   {"VCpuInfo", {{"DefaultVCpus", t.awsVcpus}}},
                   {"MemoryInfo", {{"SizeInMiB", t.awsMemoryMiB}}},
                   {"LocalCpuCores", t.cpuCores},
                   {"LocalMemoryMiB", t.memoryBytes / (1024 * 1024)},
                   {"LocalPidsMax", t.pidsMax}});
  }
  return Json{{"InstanceTypes", out}};
}

Result<Json> describeHost(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {}));
  Json host = ctx.host.describe();
  double used = 0;
  std::map<std::string, int> byState;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto all, tx.instances());
        for (const Instance& i : all) {
          if (operations::holdsCapacity(i)) {
            used += operations::coresOf(i.instanceType);
          }
          byState[std::string(model::instanceStateName(i.state))]++;
        }
        return Status::ok();
      },
      false));
  host["CpuCoresInUse"] = used;
  host["MaxCpuCores"] = ctx.limits.maxCpuCores;
  host["InstanceCounts"] = byState;
  return Json{{"Host", host}};
}

} // namespace tide::api
