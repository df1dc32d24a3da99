#include "api/elb_shapes.h"

#include "api/params.h"
#include "api/shapes.h"
#include "model/names.h"

#include <charconv>

namespace tide::api {

std::string elbArn(const std::string& resource) {
  return std::string("arn:aws:elasticloadbalancing:local:") + kOwnerId + ":" + resource;
}

Json loadBalancerJson(const model::LoadBalancer& lb) {
  return {{"LoadBalancerArn", lb.loadBalancerArn},
          {"LoadBalancerName", lb.loadBalancerName},
          {"DNSName", lb.bindAddress},
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
  for (const auto& a : l.defaultActions) {
    if (a.type == "forward" && a.targetGroupArn == targetGroupArn) {
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
          {"Matcher", {{"HttpCode", tg.matcher}}},
          {"LoadBalancerArns", lbs},
          {"TargetType", tg.targetType},
          {"ProtocolVersion", "HTTP1"},
          {"IpAddressType", "ipv4"}};
}

Json listenerJson(const model::Listener& l) {
  Json actions = Json::array();
  int order = 1;
  for (const auto& a : l.defaultActions) {
    Json j = {{"Type", a.type}, {"Order", order++}};
    if (a.type == "forward") {
      j["TargetGroupArn"] = a.targetGroupArn;
      j["ForwardConfig"] = {
          {"TargetGroups", Json::array({{{"TargetGroupArn", a.targetGroupArn}, {"Weight", 1}}})}};
    } else {
      j["FixedResponseConfig"] = {{"StatusCode", std::to_string(a.fixedStatusCode)},
                                  {"ContentType", a.fixedContentType},
                                  {"MessageBody", a.fixedMessageBody}};
    }
    actions.push_back(j);
  }
  return {{"ListenerArn", l.listenerArn},
          {"LoadBalancerArn", l.loadBalancerArn},
          {"Port", l.port},
          {"Protocol", l.protocol},
          {"DefaultActions", actions}};
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
        {"Value", std::to_string(lb.maxConnectionsPerListener)}}});
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
       attr("stickiness.app_cookie.duration_seconds",
            std::to_string(tg.appCookieDurationSeconds))});
}

Result<std::vector<model::ListenerAction>> parseListenerActions(const Json& actions) {
  if (!actions.is_array() || actions.size() != 1) {
    return validationError("DefaultActions must hold exactly one action (forward or "
                           "fixed-response); rules with more come later");
  }
  const Json& a = actions[0];
  if (!a.is_object()) {
    return validationError("DefaultActions must be a list of {Type, ...}");
  }
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      a, {"Type", "TargetGroupArn", "ForwardConfig", "FixedResponseConfig", "Order"}));
  auto type = reqString(a, "Type");
  if (!type) {
    return type.status();
  }
  model::ListenerAction out;
  out.type = *type;
  if (*type == "forward") {
    auto arn = optString(a, "TargetGroupArn");
    if (!arn) {
      return arn.status();
    }
    out.targetGroupArn = arn->value_or("");
    if (a.contains("ForwardConfig")) {
      const Json& groups = a["ForwardConfig"].value("TargetGroups", Json::array());
      if (!groups.is_array() || groups.size() != 1 || !groups[0].is_object() ||
          !groups[0].contains("TargetGroupArn") || !groups[0]["TargetGroupArn"].is_string()) {
        return validationError("ForwardConfig.TargetGroups must hold one {TargetGroupArn}; "
                               "weighted forwarding comes later");
      }
      std::string fromConfig = groups[0]["TargetGroupArn"];
      if (!out.targetGroupArn.empty() && out.targetGroupArn != fromConfig) {
        return validationError("TargetGroupArn and ForwardConfig name different target groups");
      }
      out.targetGroupArn = fromConfig;
    }
    if (out.targetGroupArn.empty()) {
      return validationError("A forward action needs a TargetGroupArn");
    }
    return std::vector<model::ListenerAction>{out};
  }
  if (*type == "fixed-response") {
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
    return std::vector<model::ListenerAction>{out};
  }
  return validationError("Action type '" + *type +
                         "' is not supported yet: use forward or fixed-response");
}

} // namespace tide::api
