#include "api/elb_shapes.h"

#include "api/params.h"
#include "api/shapes.h"
#include "model/dns_name.h"
#include "model/names.h"
#include "model/validation.h"

#include <charconv>

namespace tide::api {

std::string elbArn(const ActionContext& ctx, const std::string& resource) {
  return "arn:aws:elasticloadbalancing:" + ctx.region + ":" + ctx.accountId + ":" + resource;
}

Json loadBalancerJson(const model::LoadBalancer& lb) {
  return {{"LoadBalancerArn", lb.loadBalancerArn},
          {"LoadBalancerName", lb.loadBalancerName},
          {"DNSName", model::loadBalancerDnsName(lb.loadBalancerArn, lb.loadBalancerName)},
          {"CanonicalHostedZoneId", "ZTIDELOCAL"},
          {"CreatedTime", formatIso8601(lb.createdTime)},
          {"Scheme", "internet-facing"},
          {"VpcId", "vpc-local"},
          {"State", {{"Code", "active"}}},
          {"Type", "application"},
          {"AvailabilityZones", Json::array({{{"ZoneName", "local-1a"}}})},
          {"SecurityGroups", Json::array()},
          {"IpAddressType", "ipv4"}};
}

bool forwardsTo(const model::Listener& l, const std::string& targetGroupArn) {
  for (const std::string& arn : model::targetGroupsOf(l)) {
    if (arn == targetGroupArn) {
      return true;
    }
  }
  return false;
}

Json targetGroupJson(const model::TargetGroup& tg, const std::vector<model::Listener>& listeners) {
  Json lbs = Json::array();
  for (const auto& l : listeners) {
    if (forwardsTo(l, tg.targetGroupArn) &&
        std::find(lbs.begin(), lbs.end(), l.loadBalancerArn) == lbs.end()) {
      lbs.push_back(l.loadBalancerArn);
    }
  }
  return {{"TargetGroupArn", tg.targetGroupArn},
          {"TargetGroupName", tg.targetGroupName},
          {"Protocol", tg.protocol},
          {"Port", tg.port},
          {"VpcId", "vpc-local"},
          {"HealthCheckProtocol", "HTTP"},
          {"HealthCheckPort", tg.healthCheckPort},
          {"HealthCheckEnabled", tg.healthCheckEnabled},
          {"HealthCheckIntervalSeconds", tg.healthCheckIntervalSeconds},
          {"HealthCheckTimeoutSeconds", tg.healthCheckTimeoutSeconds},
          {"HealthyThresholdCount", tg.healthyThresholdCount},
          {"UnhealthyThresholdCount", tg.unhealthyThresholdCount},
          {"HealthCheckPath", tg.healthCheckPath},
          {"Matcher", {{tg.protocolVersion == "GRPC" ? "GrpcCode" : "HttpCode", tg.matcher}}},
          {"LoadBalancerArns", lbs},
          {"TargetType", tg.targetType},
          {"ProtocolVersion", tg.protocolVersion},
          {"IpAddressType", "ipv4"}};
}

Json actionsJson(const std::vector<model::ListenerAction>& list) {
  Json actions = Json::array();
  int order = 1;
  for (const auto& a : list) {
    Json j = {{"Type", a.type}, {"Order", order++}};
    if (a.type == "forward") {
      Json groups = Json::array();
      for (const auto& t : model::forwardGroups(a)) {
        groups.push_back({{"TargetGroupArn", t.targetGroupArn}, {"Weight", t.weight}});
      }
      if (groups.size() == 1) {
        j["TargetGroupArn"] = groups[0]["TargetGroupArn"];
      }
      j["ForwardConfig"] = {{"TargetGroups", groups},
                            {"TargetGroupStickinessConfig", {{"Enabled", false}}}};
    } else if (a.type == "redirect") {
      j["RedirectConfig"] = {
          {"Protocol", a.redirectProtocol}, {"Host", a.redirectHost},
          {"Port", a.redirectPort},         {"Path", a.redirectPath},
          {"Query", a.redirectQuery},       {"StatusCode", a.redirectStatusCode}};
    } else {
      j["FixedResponseConfig"] = {{"StatusCode", std::to_string(a.fixedStatusCode)},
                                  {"ContentType", a.fixedContentType},
                                  {"MessageBody", a.fixedMessageBody}};
    }
    actions.push_back(j);
  }
  return actions;
}

Json listenerJson(const model::Listener& l) {
  Json j = {{"ListenerArn", l.listenerArn},
            {"LoadBalancerArn", l.loadBalancerArn},
            {"Port", l.port},
            {"Protocol", l.protocol},
            {"DefaultActions", actionsJson(l.defaultActions)}};
  if (!l.defaultCertificateArn.empty()) {
    // DescribeListeners names the default certificate only (DescribeListenerCertificates all).
    j["Certificates"] = Json::array({{{"CertificateArn", l.defaultCertificateArn}}});
  }
  if (!l.sslPolicy.empty()) {
    j["SslPolicy"] = l.sslPolicy;
  }
  return j;
}

std::string defaultRuleArn(const model::Listener& l) {
  std::string arn = l.listenerArn;
  size_t at = arn.find(":listener/");
  if (at != std::string::npos) {
    arn.replace(at, 10, ":listener-rule/");
  }
  return arn + "/" + arn.substr(arn.size() - 16); // the listener's own id: stable, unique
}

Json conditionsJson(const std::vector<model::RuleCondition>& conditions) {
  Json out = Json::array();
  for (const auto& c : conditions) {
    Json j = {{"Field", c.field}};
    if (c.field == "host-header") {
      j["Values"] = c.values;
      j["HostHeaderConfig"] = {{"Values", c.values}};
    } else if (c.field == "path-pattern") {
      j["Values"] = c.values;
      j["PathPatternConfig"] = {{"Values", c.values}};
    } else if (c.field == "http-header") {
      j["HttpHeaderConfig"] = {{"HttpHeaderName", c.httpHeaderName}, {"Values", c.values}};
    } else if (c.field == "http-request-method") {
      j["HttpRequestMethodConfig"] = {{"Values", c.values}};
    } else if (c.field == "source-ip") {
      j["SourceIpConfig"] = {{"Values", c.values}};
    } else if (c.field == "query-string") {
      Json kvs = Json::array();
      for (const auto& kv : c.queryValues) {
        Json e = {{"Value", kv.value}};
        if (!kv.key.empty()) {
          e["Key"] = kv.key;
        }
        kvs.push_back(e);
      }
      j["QueryStringConfig"] = {{"Values", kvs}};
    }
    out.push_back(j);
  }
  return out;
}

Json ruleJson(const model::Rule& r) {
  return {{"RuleArn", r.ruleArn},
          {"Priority", std::to_string(r.priority)},
          {"Conditions", conditionsJson(r.conditions)},
          {"Actions", actionsJson(r.actions)},
          {"IsDefault", false}};
}

Json defaultRuleJson(const model::Listener& l) {
  return {{"RuleArn", defaultRuleArn(l)},
          {"Priority", "default"},
          {"Conditions", Json::array()},
          {"Actions", actionsJson(l.defaultActions)},
          {"IsDefault", true}};
}

Json targetHealthJson(const model::Target& t, const model::TargetGroup& tg) {
  int port = t.port ? t.port : tg.port;
  Json health = {{"State", std::string(model::targetHealthStateName(t.state))}};
  if (!t.reason.empty()) {
    health["Reason"] = t.reason;
  }
  if (!t.description.empty()) {
    health["Description"] = t.description;
  }
  return {{"Target", {{"Id", t.id}, {"Port", port}}},
          {"HealthCheckPort",
           tg.healthCheckPort == "traffic-port" ? std::to_string(port) : tg.healthCheckPort},
          {"TargetHealth", health}};
}

Json loadBalancerAttributesJson(const model::LoadBalancer& lb) {
  return Json::array(
      {{{"Key", "idle_timeout.timeout_seconds"}, {"Value", std::to_string(lb.idleTimeoutSeconds)}},
       {{"Key", "routing.http.desync_mitigation_mode"}, {"Value", lb.desyncMitigationMode}},
       {{"Key", "deletion_protection.enabled"}, {"Value", "false"}},
       {{"Key", "access_logs.s3.enabled"}, {"Value", lb.accessLogsEnabled ? "true" : "false"}},
       {{"Key", "access_logs.s3.bucket"}, {"Value", lb.accessLogsBucket}},
       {{"Key", "access_logs.s3.prefix"}, {"Value", lb.accessLogsPrefix}},
       {{"Key", "tide.http.max_uri_bytes"}, {"Value", std::to_string(lb.maxUriBytes)}},
       {{"Key", "tide.http.max_request_body_bytes"},
        {"Value", std::to_string(lb.maxRequestBodyBytes)}},
       {{"Key", "tide.http.request_header_timeout_seconds"},
        {"Value", std::to_string(lb.requestHeaderTimeoutSeconds)}},
       {{"Key", "tide.listener.max_connections"},
        {"Value", std::to_string(lb.maxConnectionsPerListener)}},
       {{"Key", "tide.listener.max_connections_per_client"},
        {"Value", std::to_string(lb.maxConnectionsPerClient)}}});
}

Json targetGroupAttributesJson(const model::TargetGroup& tg) {
  auto attr = [](std::string key, std::string value) {
    return Json{{"Key", std::move(key)}, {"Value", std::move(value)}};
  };
  return Json::array(
      {attr("deregistration_delay.timeout_seconds", std::to_string(tg.deregistrationDelaySeconds)),
       attr("load_balancing.algorithm.type", tg.algorithm),
       attr("load_balancing.algorithm.anomaly_mitigation", tg.anomalyMitigation),
       attr("slow_start.duration_seconds", std::to_string(tg.slowStartSeconds)),
       attr("stickiness.enabled", tg.stickinessEnabled ? "true" : "false"),
       attr("stickiness.type", tg.stickinessType),
       attr("stickiness.lb_cookie.duration_seconds", std::to_string(tg.lbCookieDurationSeconds)),
       attr("stickiness.app_cookie.cookie_name", tg.appCookieName),
       attr("stickiness.app_cookie.duration_seconds", std::to_string(tg.appCookieDurationSeconds)),
       attr("tide.target.max_concurrency", tg.maxConcurrencyPerTarget == model::kAdaptiveConcurrency
                                               ? std::string("adaptive")
                                               : std::to_string(tg.maxConcurrencyPerTarget)),
       attr("tide.queue.max_length", std::to_string(tg.queueMaxLength)),
       attr("tide.queue.timeout_ms", std::to_string(tg.queueTimeoutMs))});
}

namespace {

Result<std::vector<std::string>> stringList(const Json& j, const std::string& what) {
  if (!j.is_array()) {
    return validationError(what + " must be a list of strings");
  }
  std::vector<std::string> out;
  for (const Json& v : j) {
    if (!v.is_string()) {
      return validationError(what + " must be a list of strings");
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<model::ListenerAction> parseForward(const Json& a) {
  model::ListenerAction out;
  TIDE_ASSIGN_OR_RETURN(auto arn, optString(a, "TargetGroupArn"));
  out.targetGroupArn = arn.value_or("");
  if (a.contains("ForwardConfig")) {
    const Json& cfg = a["ForwardConfig"];
    if (!cfg.is_object()) {
      return validationError("ForwardConfig must be {TargetGroups, TargetGroupStickinessConfig}");
    }
    TIDE_RETURN_IF_ERROR(checkKnownParams(cfg, {"TargetGroups", "TargetGroupStickinessConfig"}));
    if (cfg.contains("TargetGroupStickinessConfig")) {
      const Json& st = cfg["TargetGroupStickinessConfig"];
      if (!st.is_object() || st.value("Enabled", false) != false) {
        return validationError("ForwardConfig.TargetGroupStickinessConfig: target group "
                               "stickiness is not supported; omit it or set Enabled false");
      }
    }
    const Json groups = cfg.value("TargetGroups", Json::array());
    if (!groups.is_array() || groups.empty()) {
      return validationError("ForwardConfig.TargetGroups must hold 1 to 5 {TargetGroupArn, "
                             "Weight}");
    }
    for (const Json& g : groups) {
      if (!g.is_object()) {
        return validationError("ForwardConfig.TargetGroups must hold {TargetGroupArn, Weight}");
      }
      TIDE_RETURN_IF_ERROR(checkKnownParams(g, {"TargetGroupArn", "Weight"}));
      auto tgArn = reqString(g, "TargetGroupArn");
      auto weight = optInt(g, "Weight");
      TIDE_RETURN_IF_ERROR(firstError({&tgArn.status(), &weight.status()}));
      int64_t w = weight->value_or(1);
      if (w < 0 || w > 999) {
        return validationError("Weight " + std::to_string(w) + " of '" + *tgArn +
                               "' must be 0 to 999");
      }
      out.forwardTargetGroups.push_back({*tgArn, static_cast<int>(w)});
    }
    if (!out.targetGroupArn.empty() &&
        (out.forwardTargetGroups.size() != 1 ||
         out.forwardTargetGroups[0].targetGroupArn != out.targetGroupArn)) {
      return validationError("TargetGroupArn and ForwardConfig name different target groups");
    }
    if (out.forwardTargetGroups.size() == 1) {
      out.targetGroupArn = out.forwardTargetGroups[0].targetGroupArn;
      if (out.forwardTargetGroups[0].weight == 1) {
        out.forwardTargetGroups.clear(); // the plain form
      }
    }
  }
  return out;
}

Result<model::ListenerAction> parseRedirect(const Json& a) {
  model::ListenerAction out;
  out.type = "redirect";
  if (!a.contains("RedirectConfig") || !a["RedirectConfig"].is_object()) {
    return validationError("A redirect action needs RedirectConfig {Protocol, Host, Port, Path, "
                           "Query, StatusCode}");
  }
  const Json& cfg = a["RedirectConfig"];
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(cfg, {"Protocol", "Host", "Port", "Path", "Query", "StatusCode"}));
  auto protocol = optString(cfg, "Protocol");
  auto host = optString(cfg, "Host");
  auto path = optString(cfg, "Path");
  auto query = optString(cfg, "Query");
  auto code = reqString(cfg, "StatusCode");
  TIDE_RETURN_IF_ERROR(firstError(
      {&protocol.status(), &host.status(), &path.status(), &query.status(), &code.status()}));
  std::string port = "#{port}";
  if (cfg.contains("Port")) {
    if (cfg["Port"].is_string()) {
      port = cfg["Port"].get<std::string>();
    } else if (cfg["Port"].is_number_integer()) {
      port = std::to_string(cfg["Port"].get<int64_t>());
    } else {
      return validationError("RedirectConfig.Port must be a port number or #{port}");
    }
  }
  out.redirectProtocol = protocol->value_or("#{protocol}");
  out.redirectHost = host->value_or("#{host}");
  out.redirectPort = port;
  out.redirectPath = path->value_or("/#{path}");
  out.redirectQuery = query->value_or("#{query}");
  out.redirectStatusCode = *code;
  return out;
}

Result<model::ListenerAction> parseFixedResponse(const Json& a) {
  model::ListenerAction out;
  out.type = "fixed-response";
  const Json cfg = a.value("FixedResponseConfig", Json::object());
  if (!cfg.is_object()) {
    return validationError("FixedResponseConfig must be {StatusCode, ContentType, MessageBody}");
  }
  TIDE_RETURN_IF_ERROR(checkKnownParams(cfg, {"StatusCode", "ContentType", "MessageBody"}));
  auto code = reqString(cfg, "StatusCode");
  auto contentType = optString(cfg, "ContentType");
  auto body = optString(cfg, "MessageBody");
  TIDE_RETURN_IF_ERROR(firstError({&code.status(), &contentType.status(), &body.status()}));
  int status = 0;
  auto [end, ec] = std::from_chars(code->data(), code->data() + code->size(), status);
  if (ec != std::errc() || end != code->data() + code->size() ||
      !((status >= 200 && status < 300) || (status >= 400 && status < 600))) {
    return validationError("FixedResponseConfig.StatusCode '" + *code +
                           "' must be a 2XX, 4XX or 5XX code");
  }
  static const char* kTypes[] = {"text/plain", "text/css", "text/html", "application/javascript",
                                 "application/json"};
  out.fixedContentType = contentType->value_or("text/plain");
  if (std::find(std::begin(kTypes), std::end(kTypes), out.fixedContentType) == std::end(kTypes)) {
    return validationError("FixedResponseConfig.ContentType '" + out.fixedContentType +
                           "' must be text/plain, text/css, text/html, application/javascript "
                           "or application/json");
  }
  out.fixedStatusCode = status;
  out.fixedMessageBody = body->value_or("");
  if (out.fixedMessageBody.size() > 1024) {
    return validationError("FixedResponseConfig.MessageBody is limited to 1024 characters");
  }
  return out;
}

} // namespace

Result<std::vector<model::ListenerAction>> parseListenerActions(const Json& actions,
                                                                const std::string& what) {
  if (!actions.is_array() || actions.size() != 1) {
    return validationError(what + " must hold exactly one action (forward, redirect or "
                                  "fixed-response): tide has no authenticate actions");
  }
  const Json& a = actions[0];
  if (!a.is_object()) {
    return validationError(what + " must be a list of {Type, ...}");
  }
  TIDE_RETURN_IF_ERROR(checkKnownParams(a, {"Type", "TargetGroupArn", "ForwardConfig",
                                            "FixedResponseConfig", "RedirectConfig", "Order"}));
  auto type = reqString(a, "Type");
  TIDE_RETURN_IF_ERROR(type.status());
  TIDE_ASSIGN_OR_RETURN(auto order, optInt(a, "Order"));
  if (order.has_value() && (*order < 1 || *order > 50000)) {
    return validationError(what + "[].Order must be 1 to 50000");
  }
  Result<model::ListenerAction> out = validationError("");
  if (*type == "forward") {
    out = parseForward(a);
  } else if (*type == "redirect") {
    out = parseRedirect(a);
  } else if (*type == "fixed-response") {
    out = parseFixedResponse(a);
  } else {
    return validationError("Action type '" + *type +
                           "' is not supported: use forward, redirect or fixed-response");
  }
  TIDE_RETURN_IF_ERROR(out.status());
  TIDE_RETURN_IF_ERROR(model::validateListenerAction(*out));
  return std::vector<model::ListenerAction>{*out};
}

Result<std::vector<model::RuleCondition>> parseRuleConditions(const Json& conditions) {
  if (!conditions.is_array()) {
    return validationError("Conditions must be a list of {Field, ...}");
  }
  std::vector<model::RuleCondition> out;
  for (const Json& c : conditions) {
    if (!c.is_object()) {
      return validationError("Conditions must be a list of {Field, ...}");
    }
    TIDE_RETURN_IF_ERROR(checkKnownParams(
        c, {"Field", "Values", "HostHeaderConfig", "PathPatternConfig", "HttpHeaderConfig",
            "HttpRequestMethodConfig", "QueryStringConfig", "SourceIpConfig"}));
    auto field = reqString(c, "Field");
    TIDE_RETURN_IF_ERROR(field.status());
    model::RuleCondition rc;
    rc.field = *field;
    static const std::pair<const char*, const char*> kConfigs[] = {
        {"host-header", "HostHeaderConfig"},   {"path-pattern", "PathPatternConfig"},
        {"http-header", "HttpHeaderConfig"},   {"http-request-method", "HttpRequestMethodConfig"},
        {"query-string", "QueryStringConfig"}, {"source-ip", "SourceIpConfig"}};
    const char* configName = nullptr;
    for (const auto& [f, cfg] : kConfigs) {
      if (*field == f) {
        configName = cfg;
      } else if (c.contains(cfg)) {
        return validationError(std::string(cfg) + " does not go with Field '" + *field + "'");
      }
    }
    if (configName == nullptr) {
      return validationError("Condition field '" + *field +
                             "' must be host-header, path-pattern, http-header, "
                             "http-request-method, query-string or source-ip");
    }
    std::string what = "Condition '" + *field + "'";
    bool legacy = *field == "host-header" || *field == "path-pattern";
    if (c.contains("Values")) {
      if (!legacy) {
        return validationError(what + ": use " + configName + " rather than Values");
      }
      TIDE_ASSIGN_OR_RETURN(auto v, stringList(c["Values"], what + " Values"));
      rc.values = v;
    }
    if (c.contains(configName)) {
      const Json& cfg = c[configName];
      if (!cfg.is_object()) {
        return validationError(std::string(configName) + " must be an object");
      }
      if (*field == "http-header") {
        TIDE_RETURN_IF_ERROR(checkKnownParams(cfg, {"HttpHeaderName", "Values"}));
        TIDE_ASSIGN_OR_RETURN(auto name, reqString(cfg, "HttpHeaderName"));
        rc.httpHeaderName = name;
      } else {
        TIDE_RETURN_IF_ERROR(checkKnownParams(cfg, {"Values"}));
      }
      const Json values = cfg.value("Values", Json::array());
      if (*field == "query-string") {
        if (!values.is_array()) {
          return validationError("QueryStringConfig.Values must be a list of {Key, Value}");
        }
        for (const Json& kv : values) {
          if (!kv.is_object()) {
            return validationError("QueryStringConfig.Values must be a list of {Key, Value}");
          }
          TIDE_RETURN_IF_ERROR(checkKnownParams(kv, {"Key", "Value"}));
          auto key = optString(kv, "Key");
          auto value = reqString(kv, "Value");
          TIDE_RETURN_IF_ERROR(firstError({&key.status(), &value.status()}));
          rc.queryValues.push_back({key->value_or(""), *value});
        }
      } else {
        TIDE_ASSIGN_OR_RETURN(auto v, stringList(values, std::string(configName) + ".Values"));
        if (c.contains("Values") && v != rc.values) {
          return validationError(what + ": Values and " + configName +
                                 ".Values differ; give one of them");
        }
        rc.values = v;
      }
    } else if (!legacy) {
      return validationError(what + " needs " + configName);
    }
    out.push_back(std::move(rc));
  }
  TIDE_RETURN_IF_ERROR(model::validateRuleConditions(out));
  return out;
}

Result<model::Listener> findListener(store::Tx& tx, const std::string& arn) {
  TIDE_ASSIGN_OR_RETURN(auto l, tx.listener(arn));
  if (!l.has_value()) {
    return Status("ListenerNotFound", "Listener '" + arn + "' not found");
  }
  return std::move(*l);
}

Status checkListenerPort(ActionContext& ctx, store::Tx& tx, const model::LoadBalancer& lb,
                         int port) {
  TIDE_ASSIGN_OR_RETURN(auto all, tx.listeners());
  for (const auto& other : all) {
    if (other.port != port) {
      continue;
    }
    TIDE_ASSIGN_OR_RETURN(auto otherLb, tx.loadBalancer(other.loadBalancerArn));
    if (otherLb.has_value() && otherLb->ipAddress == lb.ipAddress) {
      return Status("DuplicateListener", "A listener on " + lb.ipAddress + ":" +
                                             std::to_string(port) + " already exists (" +
                                             other.listenerArn + ")");
    }
  }
  return ctx.host.canListen(lb.ipAddress, port);
}

Status checkForwardTargets(store::Tx& tx, const std::string& loadBalancerArn,
                           const std::vector<model::ListenerAction>& actions) {
  TIDE_ASSIGN_OR_RETURN(auto all, tx.listeners());
  for (const auto& a : actions) {
    for (const auto& t : model::forwardGroups(a)) {
      TIDE_ASSIGN_OR_RETURN(auto tg, tx.targetGroup(t.targetGroupArn));
      if (!tg.has_value()) {
        return Status("TargetGroupNotFound", "Target group '" + t.targetGroupArn + "' not found");
      }
      // As in ELBv2, a target group serves one load balancer.
      for (const auto& other : all) {
        if (forwardsTo(other, t.targetGroupArn) && other.loadBalancerArn != loadBalancerArn) {
          return Status("TargetGroupAssociationLimit",
                        "Target group '" + tg->targetGroupName +
                            "' is already used by another load balancer");
        }
      }
    }
  }
  return Status::ok();
}

} // namespace tide::api
