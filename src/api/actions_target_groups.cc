// CreateTargetGroup, DescribeTargetGroups, ModifyTargetGroup, Modify/Describe
// TargetGroupAttributes, DeleteTargetGroup, RegisterTargets, DeregisterTargets,
// DescribeTargetHealth.
//
// Registration records a target in state "initial" (or "unused" when no listener forwards to
// its group); deregistration starts draining. Both go through operations/targets.h, the one
// writer of target rows; the health checker and the target registration controller (control)
// move the states on from there, through the same functions.
#include "api/elb_shapes.h"
#include "api/handlers.h"
#include "api/params.h"
#include "common/ids.h"
#include "model/names.h"
#include "model/validation.h"
#include "operations/targets.h"

namespace tide::api {

namespace {

Status tgNotFound(const std::string& what) {
  return Status("TargetGroupNotFound", "One or more target groups not found: " + what);
}

Result<model::TargetGroup> findTargetGroup(store::Tx& tx, const std::string& arnOrName) {
  auto tg = tx.targetGroup(arnOrName);
  TIDE_RETURN_IF_ERROR(tg.status());
  if (!tg->has_value()) {
    tg = tx.targetGroupByName(arnOrName);
    TIDE_RETURN_IF_ERROR(tg.status());
  }
  if (!tg->has_value()) {
    return tgNotFound("'" + arnOrName + "'");
  }
  return std::move(**tg);
}

// Matcher {HttpCode} or {GrpcCode} onto tg: GrpcCode for GRPC target groups, HttpCode for the
// others, as ELBv2 takes them (the codes are checked by model::validateTargetGroup).
Status readMatcher(const Json& m, model::TargetGroup& tg) {
  if (!m.is_object()) {
    return validationError("Matcher must be {HttpCode: \"200\"} or, for the GRPC protocol "
                           "version, {GrpcCode: \"12\"}");
  }
  TIDE_RETURN_IF_ERROR(checkKnownParams(m, {"HttpCode", "GrpcCode"}));
  auto http = optString(m, "HttpCode");
  auto grpc = optString(m, "GrpcCode");
  TIDE_RETURN_IF_ERROR(firstError({&http.status(), &grpc.status()}));
  if (tg.protocolVersion == "GRPC") {
    if (http->has_value()) {
      return validationError("Health check matcher HTTP code cannot be used with the GRPC "
                             "protocol version: use GrpcCode");
    }
    if (!grpc->has_value()) {
      return validationError("Health check matcher GRPC code cannot be empty");
    }
    tg.matcher = **grpc;
    return Status::ok();
  }
  if (grpc->has_value()) {
    return validationError("Health check matcher GRPC code can only be used with the GRPC "
                           "protocol version (this target group's is " +
                           tg.protocolVersion + "): use HttpCode");
  }
  if (!http->has_value()) {
    return validationError("Health check matcher HTTP code cannot be empty");
  }
  tg.matcher = **http;
  return Status::ok();
}

// Reads the health check fields of CreateTargetGroup / ModifyTargetGroup onto tg.
Status readHealthCheck(const Json& p, model::TargetGroup& tg) {
  auto path = optString(p, "HealthCheckPath");
  auto port = optString(p, "HealthCheckPort");
  auto protocol = optString(p, "HealthCheckProtocol");
  auto interval = optNumber(p, "HealthCheckIntervalSeconds");
  auto timeout = optNumber(p, "HealthCheckTimeoutSeconds");
  auto healthy = optInt(p, "HealthyThresholdCount");
  auto unhealthy = optInt(p, "UnhealthyThresholdCount");
  auto enabled = optBool(p, "HealthCheckEnabled");
  TIDE_RETURN_IF_ERROR(
      firstError({&path.status(), &port.status(), &protocol.status(), &interval.status(),
                  &timeout.status(), &healthy.status(), &unhealthy.status(), &enabled.status()}));
  if (protocol->value_or("HTTP") != "HTTP") {
    return validationError("HealthCheckProtocol '" + **protocol + "' is not supported: use HTTP");
  }
  tg.healthCheckPath = path->value_or(tg.healthCheckPath);
  tg.healthCheckPort = port->value_or(tg.healthCheckPort);
  tg.healthCheckIntervalSeconds = interval->value_or(tg.healthCheckIntervalSeconds);
  tg.healthCheckTimeoutSeconds = timeout->value_or(tg.healthCheckTimeoutSeconds);
  tg.healthyThresholdCount = static_cast<int>(healthy->value_or(tg.healthyThresholdCount));
  tg.unhealthyThresholdCount = static_cast<int>(unhealthy->value_or(tg.unhealthyThresholdCount));
  tg.healthCheckEnabled = enabled->value_or(tg.healthCheckEnabled);
  if (p.contains("Matcher")) {
    TIDE_RETURN_IF_ERROR(readMatcher(p["Matcher"], tg));
  }
  return Status::ok();
}

struct TargetRef {
  std::string id;
  int port = 0;
};

Result<std::vector<TargetRef>> targetRefs(const Json& p) {
  auto it = p.find("Targets");
  if (it == p.end() || !it->is_array() || it->empty()) {
    return Status("MissingParameter", "The request must contain Targets: [{Id, Port}]");
  }
  std::vector<TargetRef> out;
  for (const Json& t : *it) {
    if (!t.is_object()) {
      return validationError("Targets must be a list of {Id, Port}");
    }
    TIDE_RETURN_IF_ERROR(checkKnownParams(t, {"Id", "Port", "AvailabilityZone"}));
    auto id = reqString(t, "Id");
    auto port = optInt(t, "Port");
    TIDE_RETURN_IF_ERROR(firstError({&id.status(), &port.status()}));
    if (port->has_value() && (**port < 1 || **port > 65535)) {
      return validationError("Target port must be 1 to 65535");
    }
    out.push_back({*id, static_cast<int>(port->value_or(0))});
  }
  return out;
}

Result<bool> boolAttribute(const std::string& key, const std::string& value) {
  if (value == "true" || value == "false") {
    return value == "true";
  }
  return validationError("Attribute " + key + " must be true or false, got '" + value + "'");
}

// One ModifyTargetGroupAttributes key onto tg (ranges are checked here, combinations by
// model::validateTargetGroup once all keys are applied, so their order does not matter).
Status applyTargetGroupAttribute(const std::string& key, const std::string& value,
                                 model::TargetGroup& tg) {
  if (key == "load_balancing.algorithm.type") {
    tg.algorithm = value;
  } else if (key == "load_balancing.algorithm.anomaly_mitigation") {
    tg.anomalyMitigation = value;
  } else if (key == "slow_start.duration_seconds") {
    auto v = intAttribute(key, value, 0, 900);
    if (!v) {
      return validationError("Attribute slow_start.duration_seconds must be 0 (off) or a whole "
                             "number from 30 to 900, got '" +
                             value + "'");
    }
    tg.slowStartSeconds = *v;
  } else if (key == "stickiness.enabled") {
    TIDE_ASSIGN_OR_RETURN(auto v, boolAttribute(key, value));
    tg.stickinessEnabled = v;
  } else if (key == "stickiness.type") {
    tg.stickinessType = value;
  } else if (key == "stickiness.lb_cookie.duration_seconds") {
    TIDE_ASSIGN_OR_RETURN(auto v, intAttribute(key, value, 1, 604800));
    tg.lbCookieDurationSeconds = v;
  } else if (key == "stickiness.app_cookie.cookie_name") {
    tg.appCookieName = value;
  } else if (key == "stickiness.app_cookie.duration_seconds") {
    TIDE_ASSIGN_OR_RETURN(auto v, intAttribute(key, value, 1, 604800));
    tg.appCookieDurationSeconds = v;
  } else if (key == "tide.target.max_concurrency") {
    if (value == "adaptive") {
      tg.maxConcurrencyPerTarget = model::kAdaptiveConcurrency;
      return Status::ok();
    }
    auto v = intAttribute(key, value, 0, model::kMaxConcurrencyPerTarget);
    if (!v) {
      return validationError("Attribute tide.target.max_concurrency must be adaptive, 0 "
                             "(unlimited) or a whole number from 1 to 100000, got '" +
                             value + "'");
    }
    tg.maxConcurrencyPerTarget = *v;
  } else if (key == "tide.queue.max_length") {
    TIDE_ASSIGN_OR_RETURN(auto v, intAttribute(key, value, 0, model::kMaxQueueLength));
    tg.queueMaxLength = v;
  } else if (key == "tide.queue.timeout_ms") {
    TIDE_ASSIGN_OR_RETURN(auto v, intAttribute(key, value, 1, model::kMaxQueueTimeoutMs));
    tg.queueTimeoutMs = v;
  } else {
    return validationError("Unknown or unsupported target group attribute '" + key + "' (value '" +
                           value + "')");
  }
  return Status::ok();
}

} // namespace

Result<Json> createTargetGroup(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"Name", "Protocol", "ProtocolVersion", "Port", "VpcId", "HealthCheckProtocol",
          "HealthCheckPort", "HealthCheckEnabled", "HealthCheckPath", "HealthCheckIntervalSeconds",
          "HealthCheckTimeoutSeconds", "HealthyThresholdCount", "UnhealthyThresholdCount",
          "Matcher", "TargetType", "Tags", "IpAddressType"}));
  auto name = reqString(p, "Name");
  auto protocol = optString(p, "Protocol");
  auto port = optInt(p, "Port");
  auto type = optString(p, "TargetType");
  auto version = optString(p, "ProtocolVersion");
  auto tags = elbTags(p);
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &protocol.status(), &port.status(),
                                   &type.status(), &version.status(), &tags.status()}));
  model::TargetGroup tg;
  tg.targetGroupName = *name;
  tg.protocol = protocol->value_or("HTTP");
  tg.protocolVersion = version->value_or("HTTP1");
  if (tg.protocolVersion == "GRPC") {
    // ELBv2's defaults for gRPC: its own health check method, and UNIMPLEMENTED (12) as the
    // healthy answer (a server that answers at all is up).
    tg.healthCheckPath = "/AWS.ALB/healthcheck";
    tg.matcher = "12";
    // tide's own: no concurrency limit. The adaptive one reads a target's load from how long
    // its answers take, and gRPC calls last as long as their streams do by design.
    tg.maxConcurrencyPerTarget = 0;
  }
  tg.port = static_cast<int>(port->value_or(80));
  tg.targetType = type->value_or("instance");
  tg.tags = *tags;
  TIDE_RETURN_IF_ERROR(readHealthCheck(p, tg));
  TIDE_RETURN_IF_ERROR(model::validateTargetGroup(tg));
  tg.targetGroupArn = elbArn(ctx, "targetgroup/" + tg.targetGroupName + "/" + randomHex(16));
  tg.createdTime = ctx.clock.now();
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto existing, tx.targetGroupByName(tg.targetGroupName));
    if (existing.has_value()) {
      return Status("DuplicateTargetGroupName",
                    "A target group named '" + tg.targetGroupName + "' already exists");
    }
    return tx.putTargetGroup(tg);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"TargetGroups", Json::array({targetGroupJson(tg, {})})}};
}

Result<Json> describeTargetGroups(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"LoadBalancerArn", "TargetGroupArns", "Names", "Marker", "PageSize"}));
  auto lbArn = optString(p, "LoadBalancerArn");
  auto arns = optStringList(p, "TargetGroupArns");
  auto names = optStringList(p, "Names");
  TIDE_RETURN_IF_ERROR(firstError({&lbArn.status(), &arns.status(), &names.status()}));
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        auto all = tx.targetGroups();
        auto listeners = tx.listeners();
        TIDE_RETURN_IF_ERROR(firstError({&all.status(), &listeners.status()}));
        for (const auto& want : *arns) {
          if (std::none_of(all->begin(), all->end(),
                           [&](const auto& tg) { return tg.targetGroupArn == want; })) {
            return tgNotFound("'" + want + "'");
          }
        }
        for (const auto& want : *names) {
          if (std::none_of(all->begin(), all->end(),
                           [&](const auto& tg) { return tg.targetGroupName == want; })) {
            return tgNotFound("'" + want + "'");
          }
        }
        if (lbArn->has_value()) {
          TIDE_ASSIGN_OR_RETURN(auto lb, tx.loadBalancer(**lbArn));
          if (!lb.has_value()) {
            return Status("LoadBalancerNotFound", "Load balancer '" + **lbArn + "' not found");
          }
        }
        for (const auto& tg : *all) {
          bool named = std::find(arns->begin(), arns->end(), tg.targetGroupArn) != arns->end() ||
                       std::find(names->begin(), names->end(), tg.targetGroupName) != names->end();
          if (!arns->empty() || !names->empty()) {
            if (!named) {
              continue;
            }
          }
          if (lbArn->has_value() &&
              std::none_of(listeners->begin(), listeners->end(), [&](const auto& l) {
                return l.loadBalancerArn == **lbArn && forwardsTo(l, tg.targetGroupArn);
              })) {
            continue;
          }
          out.push_back(targetGroupJson(tg, *listeners));
        }
        return Status::ok();
      },
      false));
  return Json{{"TargetGroups", out}};
}

Result<Json> modifyTargetGroup(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"TargetGroupArn", "HealthCheckProtocol", "HealthCheckPort", "HealthCheckPath",
          "HealthCheckEnabled", "HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds",
          "HealthyThresholdCount", "UnhealthyThresholdCount", "Matcher"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "TargetGroupArn"));
  Json out;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto tg, findTargetGroup(tx, arn));
    TIDE_RETURN_IF_ERROR(readHealthCheck(p, tg));
    TIDE_RETURN_IF_ERROR(model::validateTargetGroup(tg));
    TIDE_ASSIGN_OR_RETURN(auto listeners, tx.listeners());
    out = targetGroupJson(tg, listeners);
    return tx.putTargetGroup(tg);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"TargetGroups", Json::array({out})}};
}

Result<Json> modifyTargetGroupAttributes(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"TargetGroupArn", "Attributes"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "TargetGroupArn"));
  TIDE_ASSIGN_OR_RETURN(auto attrs, attributes(p));
  model::TargetGroup tg;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto found, findTargetGroup(tx, arn));
    tg = std::move(found);
    for (const auto& [key, value] : attrs) {
      if (key == "deregistration_delay.timeout_seconds") {
        TIDE_ASSIGN_OR_RETURN(auto v, intAttribute(key, value, 0, 3600));
        tg.deregistrationDelaySeconds = v;
      } else {
        TIDE_RETURN_IF_ERROR(applyTargetGroupAttribute(key, value, tg));
      }
    }
    TIDE_RETURN_IF_ERROR(model::validateTargetGroup(tg));
    return tx.putTargetGroup(tg);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"Attributes", targetGroupAttributesJson(tg)}};
}

Result<Json> describeTargetGroupAttributes(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"TargetGroupArn"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "TargetGroupArn"));
  Json out;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto tg, findTargetGroup(tx, arn));
        out = targetGroupAttributesJson(tg);
        return Status::ok();
      },
      false));
  return Json{{"Attributes", out}};
}

Result<Json> deleteTargetGroup(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"TargetGroupArn"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "TargetGroupArn"));
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto tg, findTargetGroup(tx, arn));
    TIDE_ASSIGN_OR_RETURN(auto listeners, tx.listeners());
    for (const auto& l : listeners) {
      if (forwardsTo(l, tg.targetGroupArn)) {
        return Status("ResourceInUse", "Target group '" + tg.targetGroupName +
                                           "' is currently in use by a listener (" + l.listenerArn +
                                           ")");
      }
    }
    return tx.deleteTargetGroup(tg.targetGroupArn);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> registerTargets(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"TargetGroupArn", "Targets"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "TargetGroupArn"));
  TIDE_ASSIGN_OR_RETURN(auto refs, targetRefs(p));
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto tg, findTargetGroup(tx, arn));
    auto inUse = operations::targetGroupInUse(tx, tg.targetGroupArn);
    auto existing = tx.targets(tg.targetGroupArn);
    TIDE_RETURN_IF_ERROR(firstError({&inUse.status(), &existing.status()}));
    std::string notRunning;
    for (const TargetRef& ref : refs) {
      TIDE_ASSIGN_OR_RETURN(auto inst, tx.instance(ref.id));
      if (!inst.has_value() || inst->state != model::InstanceState::Running) {
        notRunning += (notRunning.empty() ? "'" : ", '") + ref.id + "'";
        continue;
      }
      TIDE_RETURN_IF_ERROR(
          operations::registerTarget(tx, *existing, tg, ref.id, ref.port, *inUse, ctx.clock.now())
              .status());
    }
    if (!notRunning.empty()) {
      return Status("InvalidTarget", "The following targets are not in a running state and "
                                     "cannot be registered: " +
                                         notRunning);
    }
    return Status::ok();
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> deregisterTargets(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"TargetGroupArn", "Targets"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "TargetGroupArn"));
  TIDE_ASSIGN_OR_RETURN(auto refs, targetRefs(p));
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto tg, findTargetGroup(tx, arn));
    TIDE_ASSIGN_OR_RETURN(auto existing, tx.targets(tg.targetGroupArn));
    std::string missing;
    for (const TargetRef& ref : refs) {
      int port = ref.port ? ref.port : tg.port;
      auto t = std::find_if(existing.begin(), existing.end(),
                            [&](const auto& e) { return e.id == ref.id && e.port == port; });
      if (t == existing.end()) {
        missing += (missing.empty() ? "'" : ", '") + ref.id + ":" + std::to_string(port) + "'";
        continue;
      }
      TIDE_RETURN_IF_ERROR(operations::deregisterTarget(tx, *t, ctx.clock.now()).status());
    }
    if (!missing.empty()) {
      return Status("InvalidTarget", "The following targets are not registered in target group '" +
                                         tg.targetGroupName + "': " + missing);
    }
    return Status::ok();
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> describeTargetHealth(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"TargetGroupArn", "Targets", "Include"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "TargetGroupArn"));
  std::vector<TargetRef> refs;
  if (p.contains("Targets")) {
    TIDE_ASSIGN_OR_RETURN(auto r, targetRefs(p));
    refs = r;
  }
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto tg, findTargetGroup(tx, arn));
        auto targets = tx.targets(tg.targetGroupArn);
        TIDE_RETURN_IF_ERROR(targets.status());
        for (const auto& t : *targets) {
          bool wanted = refs.empty() || std::any_of(refs.begin(), refs.end(), [&](const auto& r) {
                          return r.id == t.id && (r.port == 0 || r.port == t.port);
                        });
          if (wanted) {
            out.push_back(targetHealthJson(t, tg));
          }
        }
        // Asked-for targets that are not registered are reported as "unused", as ELBv2 does.
        for (const auto& r : refs) {
          if (std::none_of(targets->begin(), targets->end(),
                           [&](const auto& t) { return t.id == r.id; })) {
            model::Target t;
            t.id = r.id;
            t.port = r.port;
            t.state = model::TargetHealthState::Unused;
            t.reason = "Target.NotRegistered";
            t.description = "Target is not registered to the target group";
            out.push_back(targetHealthJson(t, tg));
          }
        }
        return Status::ok();
      },
      false));
  return Json{{"TargetHealthDescriptions", out}};
}

} // namespace tide::api
