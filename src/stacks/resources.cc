// The resource types of stacks: one row per type, each making, finding, updating and deleting
// its resource through the action table (the same handlers the API serves).
#include "stacks/resources.h"
#include "stacks/resources_tls.h"

#include <algorithm>
#include <cassert>
#include <filesystem>
#include <initializer_list>
#include <string_view>

namespace tide::stacks {

namespace {

using K = PropertyKind;

// Whether s is one of the error codes by which an action says its resource does not exist.
bool notFound(const Status& s, std::initializer_list<std::string_view> codes) {
  return std::find(codes.begin(), codes.end(), s.code()) != codes.end();
}

// A numeric property as a number (CloudFormation takes "8080" for 8080).
Json number(const Json& v) {
  if (v.is_string()) {
    std::string s = v;
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0') {
      return d == static_cast<double>(static_cast<int64_t>(d)) ? Json(static_cast<int64_t>(d))
                                                               : Json(d);
    }
  }
  return v;
}

std::string text(const Json& v) {
  if (v.is_string()) {
    return v;
  }
  if (v.is_number_float()) {
    double d = v;
    if (d == static_cast<double>(static_cast<int64_t>(d))) {
      return std::to_string(static_cast<int64_t>(d));
    }
  }
  return v.dump();
}

Json boolean(const Json& v) {
  if (v == "true") {
    return true;
  }
  if (v == "false") {
    return false;
  }
  return v;
}

// Copies the named properties to the action's parameters, converted to the action's types.
void copy(const Json& props, Json& params, std::initializer_list<const char*> names,
          PropertyKind kind) {
  for (const char* n : names) {
    if (!props.contains(n)) {
      continue;
    }
    const Json& v = props[n];
    switch (kind) {
    case K::Number:
      params[n] = number(v);
      break;
    case K::String:
      params[n] = text(v);
      break;
    case K::Boolean:
      params[n] = boolean(v);
      break;
    default:
      params[n] = v;
    }
  }
}

std::string nameOr(const Json& props, const char* key, const ResourceCall& c, size_t max,
                   bool unique = false) {
  if (props.contains(key)) {
    return text(props[key]);
  }
  return generatedName(c, max, unique);
}

// "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/0123" →
// "targetgroup/web/0123"
std::string arnResource(const std::string& arn) {
  size_t colon = 0;
  for (int i = 0; i < 5 && colon != std::string::npos; ++i) {
    colon = arn.find(':', colon == 0 ? 0 : colon + 1);
  }
  return colon == std::string::npos ? arn : arn.substr(colon + 1);
}

// ----------------------------------------------------------------- AWS::EC2::LaunchTemplate

constexpr PropertySpec kLaunchTemplateProps[] = {
    {"LaunchTemplateName", K::String},
    {"LaunchTemplateData", K::Object, true, true},
    {"VersionDescription", K::String, false, true},
    {"TagSpecifications", K::List},
};
constexpr std::string_view kLaunchTemplateAttrs[] = {"LaunchTemplateId", "LatestVersionNumber",
                                                     "DefaultVersionNumber"};

Json launchTemplateData(const Json& props) {
  Json d = props.value("LaunchTemplateData", Json::object());
  if (d.contains("Port")) {
    d["Port"] = number(d["Port"]);
  }
  return d;
}

Result<std::string> createLaunchTemplate(ResourceCall& c, const Json& props) {
  Json p = {{"LaunchTemplateName", nameOr(props, "LaunchTemplateName", c, 128)},
            {"LaunchTemplateData", launchTemplateData(props)}};
  copy(props, p, {"VersionDescription"}, K::String);
  copy(props, p, {"TagSpecifications"}, K::List);
  TIDE_ASSIGN_OR_RETURN(auto r, invokeAction(c.ctx, "CreateLaunchTemplate", p));
  return r["LaunchTemplate"]["LaunchTemplateId"].get<std::string>();
}

Result<std::optional<std::string>> findLaunchTemplate(ResourceCall& c, const Json& props) {
  auto r = invokeAction(c.ctx, "DescribeLaunchTemplates",
                        {{"LaunchTemplateNames", {nameOr(props, "LaunchTemplateName", c, 128)}}});
  if (!r || (*r)["LaunchTemplates"].empty()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>((*r)["LaunchTemplates"][0]["LaunchTemplateId"]);
}

Status updateLaunchTemplate(ResourceCall& c, const std::string& id, const Json& props) {
  Json p = {{"LaunchTemplateId", id}, {"LaunchTemplateData", launchTemplateData(props)}};
  copy(props, p, {"VersionDescription"}, K::String);
  TIDE_ASSIGN_OR_RETURN(auto v, invokeAction(c.ctx, "CreateLaunchTemplateVersion", p));
  auto m = invokeAction(c.ctx, "ModifyLaunchTemplate",
                        {{"LaunchTemplateId", id},
                         {"DefaultVersion", text(v["LaunchTemplateVersion"]["VersionNumber"])}});
  return m.status();
}

Result<bool> removeLaunchTemplate(ActionContext& ctx, const std::string& id) {
  auto r = invokeAction(ctx, "DeleteLaunchTemplate", {{"LaunchTemplateId", id}});
  if (!r && !notFound(r.status(), {"InvalidLaunchTemplateId.NotFound",
                                   "InvalidLaunchTemplateName.NotFoundException"})) {
    return r.status();
  }
  return true;
}

Result<Json> launchTemplateAttribute(ActionContext& ctx, const std::string& id,
                                     const std::string& name) {
  TIDE_ASSIGN_OR_RETURN(
      auto r, invokeAction(ctx, "DescribeLaunchTemplates", {{"LaunchTemplateIds", {id}}}));
  const Json& lt = r["LaunchTemplates"][0];
  if (name == "LaunchTemplateId") {
    return Json(id);
  }
  return Json(text(lt[name])); // version numbers are strings in CloudFormation
}

// ---------------------------------------------------- AWS::ElasticLoadBalancingV2::TargetGroup

constexpr PropertySpec kTargetGroupProps[] = {
    {"Name", K::String},
    {"Port", K::Number},
    {"Protocol", K::String},
    {"ProtocolVersion", K::String},
    {"TargetType", K::String},
    {"VpcId", K::String},
    {"IpAddressType", K::String},
    {"HealthCheckEnabled", K::Boolean, false, true},
    {"HealthCheckProtocol", K::String, false, true},
    {"HealthCheckPort", K::String, false, true},
    {"HealthCheckPath", K::String, false, true},
    {"HealthCheckIntervalSeconds", K::Number, false, true},
    {"HealthCheckTimeoutSeconds", K::Number, false, true},
    {"HealthyThresholdCount", K::Number, false, true},
    {"UnhealthyThresholdCount", K::Number, false, true},
    {"Matcher", K::Object, false, true},
    {"TargetGroupAttributes", K::List, false, true},
    {"Tags", K::List},
};
constexpr std::string_view kTargetGroupAttrs[] = {"TargetGroupArn", "TargetGroupName",
                                                  "TargetGroupFullName", "LoadBalancerArns"};

void healthCheckParams(const Json& props, Json& p) {
  copy(props, p, {"HealthCheckProtocol", "HealthCheckPort", "HealthCheckPath"}, K::String);
  copy(props, p,
       {"HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthyThresholdCount",
        "UnhealthyThresholdCount"},
       K::Number);
  copy(props, p, {"HealthCheckEnabled"}, K::Boolean);
  copy(props, p, {"Matcher"}, K::Object);
}

// [{Key, Value}] with the values as strings, as ELBv2 takes them.
Json attributeList(const Json& list) {
  Json out = Json::array();
  for (const Json& a : list) {
    Json e = a;
    if (e.is_object() && e.contains("Value")) {
      e["Value"] = text(e["Value"]);
    }
    out.push_back(e);
  }
  return out;
}

Status targetGroupAttributes(ActionContext& ctx, const std::string& arn, const Json& props) {
  if (!props.contains("TargetGroupAttributes") || props["TargetGroupAttributes"].empty()) {
    return Status::ok();
  }
  return invokeAction(ctx, "ModifyTargetGroupAttributes",
                      {{"TargetGroupArn", arn},
                       {"Attributes", attributeList(props["TargetGroupAttributes"])}})
      .status();
}

Result<std::string> createTargetGroup(ResourceCall& c, const Json& props) {
  Json p = {{"Name", nameOr(props, "Name", c, 32)}};
  copy(props, p, {"Port"}, K::Number);
  copy(props, p, {"Protocol", "ProtocolVersion", "TargetType", "VpcId", "IpAddressType"},
       K::String);
  copy(props, p, {"Tags"}, K::List);
  healthCheckParams(props, p);
  TIDE_ASSIGN_OR_RETURN(auto r, invokeAction(c.ctx, "CreateTargetGroup", p));
  std::string arn = r["TargetGroups"][0]["TargetGroupArn"];
  Status attrs = targetGroupAttributes(c.ctx, arn, props);
  if (!attrs.isOk()) {
    (void)invokeAction(c.ctx, "DeleteTargetGroup", {{"TargetGroupArn", arn}}); // nothing half-made
    return attrs;
  }
  return arn;
}

// A target group whose attributes a crash may have cut off: CreateTargetGroup is one action,
// ModifyTargetGroupAttributes the next.
Status finishTargetGroup(ResourceCall& c, const std::string& arn, const Json& props) {
  return targetGroupAttributes(c.ctx, arn, props);
}

Result<std::optional<std::string>> findTargetGroup(ResourceCall& c, const Json& props) {
  auto r = invokeAction(c.ctx, "DescribeTargetGroups", {{"Names", {nameOr(props, "Name", c, 32)}}});
  if (!r || (*r)["TargetGroups"].empty()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>((*r)["TargetGroups"][0]["TargetGroupArn"]);
}

Status updateTargetGroup(ResourceCall& c, const std::string& arn, const Json& props) {
  Json p = {{"TargetGroupArn", arn}};
  healthCheckParams(props, p);
  if (p.size() > 1) {
    TIDE_RETURN_IF_ERROR(invokeAction(c.ctx, "ModifyTargetGroup", p).status());
  }
  return targetGroupAttributes(c.ctx, arn, props);
}

Result<bool> removeTargetGroup(ActionContext& ctx, const std::string& arn) {
  auto r = invokeAction(ctx, "DeleteTargetGroup", {{"TargetGroupArn", arn}});
  if (!r && !notFound(r.status(), {"TargetGroupNotFound"})) {
    return r.status();
  }
  return true;
}

Result<Json> targetGroupAttribute(ActionContext& ctx, const std::string& arn,
                                  const std::string& name) {
  if (name == "TargetGroupArn") {
    return Json(arn);
  }
  if (name == "TargetGroupFullName") {
    return Json(arnResource(arn));
  }
  TIDE_ASSIGN_OR_RETURN(auto r,
                        invokeAction(ctx, "DescribeTargetGroups", {{"TargetGroupArns", {arn}}}));
  return r["TargetGroups"][0][name];
}

// --------------------------------------------------- AWS::ElasticLoadBalancingV2::LoadBalancer

constexpr PropertySpec kLoadBalancerProps[] = {
    {"Name", K::String},
    {"BindAddress", K::String}, // tide's: the IPv4 address its listeners listen on
    {"Type", K::String},
    {"Scheme", K::String},
    {"IpAddressType", K::String},
    {"Subnets", K::List},
    {"SecurityGroups", K::List},
    {"LoadBalancerAttributes", K::List, false, true},
    {"Tags", K::List},
};
constexpr std::string_view kLoadBalancerAttrs[] = {"LoadBalancerArn", "DNSName", "LoadBalancerName",
                                                   "LoadBalancerFullName", "CanonicalHostedZoneID"};

Status loadBalancerAttributes(ActionContext& ctx, const std::string& arn, const Json& props) {
  if (!props.contains("LoadBalancerAttributes") || props["LoadBalancerAttributes"].empty()) {
    return Status::ok();
  }
  return invokeAction(ctx, "ModifyLoadBalancerAttributes",
                      {{"LoadBalancerArn", arn},
                       {"Attributes", attributeList(props["LoadBalancerAttributes"])}})
      .status();
}

Result<std::string> createLoadBalancer(ResourceCall& c, const Json& props) {
  Json p = {{"Name", nameOr(props, "Name", c, 32)}};
  copy(props, p, {"BindAddress", "Type", "Scheme", "IpAddressType"}, K::String);
  copy(props, p, {"Subnets", "SecurityGroups", "Tags"}, K::List);
  TIDE_ASSIGN_OR_RETURN(auto r, invokeAction(c.ctx, "CreateLoadBalancer", p));
  std::string arn = r["LoadBalancers"][0]["LoadBalancerArn"];
  Status attrs = loadBalancerAttributes(c.ctx, arn, props);
  if (!attrs.isOk()) {
    (void)invokeAction(c.ctx, "DeleteLoadBalancer", {{"LoadBalancerArn", arn}});
    return attrs;
  }
  return arn;
}

Status finishLoadBalancer(ResourceCall& c, const std::string& arn, const Json& props) {
  return loadBalancerAttributes(c.ctx, arn, props);
}

Result<std::optional<std::string>> findLoadBalancer(ResourceCall& c, const Json& props) {
  auto r =
      invokeAction(c.ctx, "DescribeLoadBalancers", {{"Names", {nameOr(props, "Name", c, 32)}}});
  if (!r || (*r)["LoadBalancers"].empty()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>((*r)["LoadBalancers"][0]["LoadBalancerArn"]);
}

Status updateLoadBalancer(ResourceCall& c, const std::string& arn, const Json& props) {
  return loadBalancerAttributes(c.ctx, arn, props);
}

Result<bool> removeLoadBalancer(ActionContext& ctx, const std::string& arn) {
  auto r = invokeAction(ctx, "DeleteLoadBalancer", {{"LoadBalancerArn", arn}});
  if (!r && !notFound(r.status(), {"LoadBalancerNotFound"})) {
    return r.status();
  }
  return true;
}

Result<Json> loadBalancerAttribute(ActionContext& ctx, const std::string& arn,
                                   const std::string& name) {
  if (name == "LoadBalancerArn") {
    return Json(arn);
  }
  if (name == "LoadBalancerFullName") {
    std::string r = arnResource(arn); // loadbalancer/app/NAME/ID
    return Json(r.substr(r.find('/') + 1));
  }
  TIDE_ASSIGN_OR_RETURN(auto r,
                        invokeAction(ctx, "DescribeLoadBalancers", {{"LoadBalancerArns", {arn}}}));
  const Json& lb = r["LoadBalancers"][0];
  return name == "CanonicalHostedZoneID" ? lb["CanonicalHostedZoneId"] : lb[name];
}

// ------------------------------------------------------- AWS::ElasticLoadBalancingV2::Listener

constexpr PropertySpec kListenerProps[] = {
    {"LoadBalancerArn", K::String, true}, {"Port", K::Number, true}, {"Protocol", K::String},
    {"DefaultActions", K::List, true},    {"SslPolicy", K::String},  {"Certificates", K::List},
};
constexpr std::string_view kListenerAttrs[] = {"ListenerArn"};

Result<std::string> createListener(ResourceCall& c, const Json& props) {
  Json p = Json::object();
  copy(props, p, {"LoadBalancerArn", "Protocol", "SslPolicy"}, K::String);
  copy(props, p, {"Port"}, K::Number);
  copy(props, p, {"DefaultActions", "Certificates"}, K::List);
  TIDE_ASSIGN_OR_RETURN(auto r, invokeAction(c.ctx, "CreateListener", p));
  return r["Listeners"][0]["ListenerArn"].get<std::string>();
}

Result<std::optional<std::string>> findListener(ResourceCall& c, const Json& props) {
  auto r = invokeAction(c.ctx, "DescribeListeners",
                        {{"LoadBalancerArn", text(props["LoadBalancerArn"])}});
  if (!r) {
    return std::optional<std::string>();
  }
  for (const Json& l : (*r)["Listeners"]) {
    if (l["Port"] == number(props["Port"])) {
      return std::optional<std::string>(l["ListenerArn"]);
    }
  }
  return std::optional<std::string>();
}

Result<bool> removeListener(ActionContext& ctx, const std::string& arn) {
  auto r = invokeAction(ctx, "DeleteListener", {{"ListenerArn", arn}});
  if (!r && !notFound(r.status(), {"ListenerNotFound"})) {
    return r.status();
  }
  return true;
}

Result<Json> listenerAttribute(ActionContext&, const std::string& arn, const std::string&) {
  return Json(arn);
}

// --------------------------------------------------- AWS::ElasticLoadBalancingV2::ListenerRule

constexpr PropertySpec kRuleProps[] = {
    {"ListenerArn", K::String, true},
    {"Priority", K::Number, true, true},
    {"Conditions", K::List, true, true},
    {"Actions", K::List, true, true},
};
constexpr std::string_view kRuleAttrs[] = {"RuleArn", "IsDefault"};

Result<std::string> createRule(ResourceCall& c, const Json& props) {
  Json p = Json::object();
  copy(props, p, {"ListenerArn"}, K::String);
  copy(props, p, {"Priority"}, K::Number);
  copy(props, p, {"Conditions", "Actions"}, K::List);
  TIDE_ASSIGN_OR_RETURN(auto r, invokeAction(c.ctx, "CreateRule", p));
  return r["Rules"][0]["RuleArn"].get<std::string>();
}

Result<std::optional<std::string>> findRule(ResourceCall& c, const Json& props) {
  auto r = invokeAction(c.ctx, "DescribeRules", {{"ListenerArn", text(props["ListenerArn"])}});
  if (!r) {
    return std::optional<std::string>();
  }
  for (const Json& rule : (*r)["Rules"]) {
    if (rule["Priority"] == text(number(props["Priority"]))) {
      return std::optional<std::string>(rule["RuleArn"]);
    }
  }
  return std::optional<std::string>();
}

Status updateRule(ResourceCall& c, const std::string& arn, const Json& props) {
  Json p = {{"RuleArn", arn}};
  copy(props, p, {"Conditions", "Actions"}, K::List);
  TIDE_ASSIGN_OR_RETURN(auto r, invokeAction(c.ctx, "ModifyRule", p));
  if (r["Rules"][0]["Priority"] != text(number(props["Priority"]))) {
    TIDE_ASSIGN_OR_RETURN(
        auto s, invokeAction(c.ctx, "SetRulePriorities",
                             {{"RulePriorities",
                               {{{"RuleArn", arn}, {"Priority", number(props["Priority"])}}}}}));
  }
  return Status::ok();
}

Result<bool> removeRule(ActionContext& ctx, const std::string& arn) {
  auto r = invokeAction(ctx, "DeleteRule", {{"RuleArn", arn}});
  if (!r && !notFound(r.status(), {"RuleNotFound"})) {
    return r.status();
  }
  return true;
}

Result<Json> ruleAttribute(ActionContext&, const std::string& arn, const std::string& name) {
  return name == "IsDefault" ? Json(false) : Json(arn);
}

// ---------------------------------------------------------- AWS::AutoScaling::AutoScalingGroup

constexpr PropertySpec kGroupProps[] = {
    {"AutoScalingGroupName", K::String},
    {"LaunchTemplate", K::Object, true, true},
    {"MinSize", K::Number, true, true},
    {"MaxSize", K::Number, true, true},
    {"DesiredCapacity", K::Number, false, true},
    {"TargetGroupARNs", K::List},
    {"HealthCheckType", K::String, false, true},
    {"HealthCheckGracePeriod", K::Number, false, true},
    {"Cooldown", K::Number, false, true},
    {"DefaultInstanceWarmup", K::Number, false, true},
    {"TerminationPolicies", K::List, false, true},
    {"NewInstancesProtectedFromScaleIn", K::Boolean, false, true},
    {"MaxInstanceLifetime", K::Number, false, true},
    {"LifecycleHookSpecificationList", K::List, false, true},
    {"Tags", K::List},
};

// A LifecycleHookSpecification (or an AWS::AutoScaling::LifecycleHook's properties) as the
// API takes it: HeartbeatTimeout a number, the rest strings.
Json hookParams(const Json& spec) {
  Json p = Json::object();
  copy(spec, p,
       {"LifecycleHookName", "LifecycleTransition", "DefaultResult", "NotificationMetadata",
        "NotificationTargetARN", "RoleARN"},
       K::String);
  copy(spec, p, {"HeartbeatTimeout"}, K::Number);
  return p;
}

Json hookSpecifications(const Json& props) {
  Json out = Json::array();
  for (const Json& spec : props.value("LifecycleHookSpecificationList", Json::array())) {
    out.push_back(spec.is_object() ? hookParams(spec) : spec);
  }
  return out;
}

Json groupLaunchTemplate(const Json& props) {
  Json lt = props.value("LaunchTemplate", Json::object());
  if (lt.contains("Version")) {
    lt["Version"] = text(lt["Version"]);
  }
  return lt;
}

void groupSizeParams(const Json& props, Json& p) {
  p["LaunchTemplate"] = groupLaunchTemplate(props);
  copy(props, p,
       {"MinSize", "MaxSize", "DesiredCapacity", "HealthCheckGracePeriod", "DefaultInstanceWarmup"},
       K::Number);
  copy(props, p, {"HealthCheckType"}, K::String);
  // Left out (of an update too): AWS's defaults, as CloudFormation sets them.
  p["NewInstancesProtectedFromScaleIn"] = false;
  p["MaxInstanceLifetime"] = 0;
  p["TerminationPolicies"] = props.value("TerminationPolicies", Json::array({"Default"}));
  copy(props, p, {"NewInstancesProtectedFromScaleIn"}, K::Boolean);
  copy(props, p, {"MaxInstanceLifetime"}, K::Number);
  if (props.contains("Cooldown")) {
    p["DefaultCooldown"] = number(props["Cooldown"]);
  }
}

Result<std::string> createGroup(ResourceCall& c, const Json& props) {
  std::string name = nameOr(props, "AutoScalingGroupName", c, 255, true);
  Json p = {{"AutoScalingGroupName", name}};
  groupSizeParams(props, p);
  copy(props, p, {"TargetGroupARNs", "Tags"}, K::List);
  if (props.contains("LifecycleHookSpecificationList")) {
    p["LifecycleHookSpecificationList"] = hookSpecifications(props);
  }
  TIDE_ASSIGN_OR_RETURN(auto r, invokeAction(c.ctx, "CreateAutoScalingGroup", p));
  return name;
}

Result<std::optional<std::string>> findGroup(ResourceCall& c, const Json& props) {
  std::string name = nameOr(props, "AutoScalingGroupName", c, 255, true);
  auto r = invokeAction(c.ctx, "DescribeAutoScalingGroups", {{"AutoScalingGroupNames", {name}}});
  if (!r || !r->contains("AutoScalingGroups") || (*r)["AutoScalingGroups"].empty()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(name);
}

Status updateGroup(ResourceCall& c, const std::string& name, const Json& props) {
  Json p = {{"AutoScalingGroupName", name}};
  groupSizeParams(props, p);
  TIDE_RETURN_IF_ERROR(invokeAction(c.ctx, "UpdateAutoScalingGroup", p).status());
  // The listed hooks are put (added or changed). A hook left out of the list is kept: the
  // group's hooks may also come from AWS::AutoScaling::LifecycleHook resources.
  for (Json h : hookSpecifications(props)) {
    if (!h.is_object()) {
      return Status("ValidationError", "Each LifecycleHookSpecification must be a map");
    }
    h["AutoScalingGroupName"] = name;
    TIDE_RETURN_IF_ERROR(invokeAction(c.ctx, "PutLifecycleHook", h).status());
  }
  return Status::ok();
}

// ForceDelete terminates the instances; the group is gone when the controller has finished.
Result<bool> removeGroup(ActionContext& ctx, const std::string& name) {
  TIDE_ASSIGN_OR_RETURN(
      auto d, invokeAction(ctx, "DescribeAutoScalingGroups", {{"AutoScalingGroupNames", {name}}}));
  if (!d.contains("AutoScalingGroups") || d["AutoScalingGroups"].empty()) {
    return true;
  }
  if (d["AutoScalingGroups"][0].value("Status", "") == "Delete in progress") {
    return false;
  }
  auto r = invokeAction(ctx, "DeleteAutoScalingGroup",
                        {{"AutoScalingGroupName", name}, {"ForceDelete", true}});
  if (!r) {
    // DeleteAutoScalingGroup says "not found" only with a ValidationError, and the group was
    // just described above: any error stands.
    return r.status();
  }
  return false;
}

// ------------------------------------------------------------ AWS::AutoScaling::ScalingPolicy

constexpr PropertySpec kPolicyProps[] = {
    {"AutoScalingGroupName", K::String, true},
    {"PolicyType", K::String, false, true},
    {"AdjustmentType", K::String, false, true},
    {"ScalingAdjustment", K::Number, false, true},
    {"Cooldown", K::Number, false, true},
    {"StepAdjustments", K::List, false, true},
    {"MetricAggregationType", K::String, false, true},
    {"EstimatedInstanceWarmup", K::Number, false, true},
    {"MinAdjustmentMagnitude", K::Number, false, true},
    {"TargetTrackingConfiguration", K::Object, false, true},
    {"PredictiveScalingConfiguration", K::Object, false, true},
};

// TargetTrackingConfiguration as CloudFormation writes it (the API's shape, with numbers and
// booleans that YAML may give as strings) → PutScalingPolicy's.
Json trackingParams(Json t) {
  if (!t.is_object()) {
    return t;
  }
  if (t.contains("TargetValue")) {
    t["TargetValue"] = number(t["TargetValue"]);
  }
  if (t.contains("DisableScaleIn") && t["DisableScaleIn"].is_string()) {
    t["DisableScaleIn"] = t["DisableScaleIn"] == "true";
  }
  if (t.contains("CustomizedMetricSpecification") &&
      t["CustomizedMetricSpecification"].is_object()) {
    Json& cu = t["CustomizedMetricSpecification"];
    if (cu.contains("Period")) {
      cu["Period"] = number(cu["Period"]);
    }
    if (cu.contains("Metrics") && cu["Metrics"].is_array()) {
      for (Json& q : cu["Metrics"]) {
        if (!q.is_object()) {
          continue;
        }
        if (q.contains("ReturnData") && q["ReturnData"].is_string()) {
          q["ReturnData"] = q["ReturnData"] == "true";
        }
        if (q.contains("MetricStat") && q["MetricStat"].is_object() &&
            q["MetricStat"].contains("Period")) {
          q["MetricStat"]["Period"] = number(q["MetricStat"]["Period"]);
        }
      }
    }
  }
  return t;
}
// PredictiveScalingConfiguration as CloudFormation writes it (the API's shape; numbers and
// booleans YAML may give as strings) → PutScalingPolicy's.
Json predictiveParams(Json c) {
  if (!c.is_object()) {
    return c;
  }
  for (const char* k : {"SchedulingBufferTime", "MaxCapacityBuffer"}) {
    if (c.contains(k)) {
      c[k] = number(c[k]);
    }
  }
  if (!c.contains("MetricSpecifications") || !c["MetricSpecifications"].is_array()) {
    return c;
  }
  for (Json& spec : c["MetricSpecifications"]) {
    if (!spec.is_object()) {
      continue;
    }
    if (spec.contains("TargetValue")) {
      spec["TargetValue"] = number(spec["TargetValue"]);
    }
    for (const char* m :
         {"CustomizedScalingMetricSpecification", "CustomizedLoadMetricSpecification",
          "CustomizedCapacityMetricSpecification"}) {
      if (!spec.contains(m) || !spec[m].is_object() || !spec[m].contains("MetricDataQueries") ||
          !spec[m]["MetricDataQueries"].is_array()) {
        continue;
      }
      for (Json& q : spec[m]["MetricDataQueries"]) {
        if (q.is_object() && q.contains("ReturnData") && q["ReturnData"].is_string()) {
          q["ReturnData"] = q["ReturnData"] == "true";
        }
      }
    }
  }
  return c;
}
constexpr std::string_view kPolicyAttrs[] = {"Arn", "PolicyName"};

Json policyParams(ResourceCall& c, const Json& props) {
  Json p = {{"PolicyName", generatedName(c, 255)}};
  copy(props, p, {"AutoScalingGroupName", "PolicyType", "AdjustmentType", "MetricAggregationType"},
       K::String);
  copy(props, p,
       {"ScalingAdjustment", "Cooldown", "EstimatedInstanceWarmup", "MinAdjustmentMagnitude"},
       K::Number);
  if (props.contains("StepAdjustments")) {
    Json steps = Json::array();
    for (Json s : props["StepAdjustments"]) {
      for (const char* k :
           {"MetricIntervalLowerBound", "MetricIntervalUpperBound", "ScalingAdjustment"}) {
        if (s.is_object() && s.contains(k)) {
          s[k] = number(s[k]);
        }
      }
      steps.push_back(s);
    }
    p["StepAdjustments"] = steps;
  }
  if (props.contains("TargetTrackingConfiguration")) {
    p["TargetTrackingConfiguration"] = trackingParams(props["TargetTrackingConfiguration"]);
  }
  if (props.contains("PredictiveScalingConfiguration")) {
    p["PredictiveScalingConfiguration"] = predictiveParams(props["PredictiveScalingConfiguration"]);
  }
  return p;
}

Result<std::string> createPolicy(ResourceCall& c, const Json& props) {
  TIDE_ASSIGN_OR_RETURN(auto r, invokeAction(c.ctx, "PutScalingPolicy", policyParams(c, props)));
  return r["PolicyARN"].get<std::string>();
}

Result<std::optional<std::string>> findPolicy(ResourceCall& c, const Json& props) {
  auto r = invokeAction(c.ctx, "DescribePolicies",
                        {{"AutoScalingGroupName", text(props["AutoScalingGroupName"])},
                         {"PolicyNames", {generatedName(c, 255)}}});
  if (!r || !r->contains("ScalingPolicies") || (*r)["ScalingPolicies"].empty()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>((*r)["ScalingPolicies"][0]["PolicyARN"]);
}

Status updatePolicy(ResourceCall& c, const std::string&, const Json& props) {
  return invokeAction(c.ctx, "PutScalingPolicy", policyParams(c, props)).status();
}

// "...:scalingPolicy:UUID:autoScalingGroupName/G:policyName/P" → {G, P}.
std::pair<std::string, std::string> policyArnParts(const std::string& arn) {
  std::string g, p;
  size_t gi = arn.find(":autoScalingGroupName/");
  size_t pi = arn.find(":policyName/");
  if (gi != std::string::npos && pi != std::string::npos && pi > gi) {
    g = arn.substr(gi + 22, pi - gi - 22);
    p = arn.substr(pi + 12);
  }
  return {g, p};
}

Result<bool> removePolicy(ActionContext& ctx, const std::string& arn) {
  auto [group, name] = policyArnParts(arn);
  auto r =
      invokeAction(ctx, "DeletePolicy",
                   {{"AutoScalingGroupName", group}, {"PolicyName", name.empty() ? arn : name}});
  if (!r && !notFound(r.status(), {"ValidationError"})) {
    return r.status(); // ValidationError: the group (and so its policies) is gone already
  }
  return true;
}

Result<Json> policyAttribute(ActionContext&, const std::string& arn, const std::string& name) {
  return name == "Arn" ? Json(arn) : Json(policyArnParts(arn).second);
}

// ---------------------------------------------------------- AWS::AutoScaling::WarmPool
// A group's warm pool (PutWarmPool); Ref gives the group's name, the pool's only name.

constexpr PropertySpec kWarmPoolProps[] = {
    {"AutoScalingGroupName", K::String, true},
    {"MaxGroupPreparedCapacity", K::Number, false, true},
    {"MinSize", K::Number, false, true},
    {"PoolState", K::String, false, true},
    {"InstanceReusePolicy", K::Object, false, true},
};

Json warmPoolParams(const Json& props) {
  Json p = Json::object();
  copy(props, p, {"AutoScalingGroupName", "PoolState"}, K::String);
  copy(props, p, {"MaxGroupPreparedCapacity", "MinSize"}, K::Number);
  if (auto it = props.find("InstanceReusePolicy"); it != props.end() && it->is_object()) {
    Json reuse = Json::object();
    copy(*it, reuse, {"ReuseOnScaleIn"}, K::Boolean);
    p["InstanceReusePolicy"] = reuse;
  }
  return p;
}

Result<std::string> createWarmPool(ResourceCall& c, const Json& props) {
  Json p = warmPoolParams(props);
  TIDE_RETURN_IF_ERROR(invokeAction(c.ctx, "PutWarmPool", p).status());
  return p["AutoScalingGroupName"].get<std::string>();
}

Result<std::optional<std::string>> findWarmPool(ResourceCall& c, const Json& props) {
  std::string group = props.value("AutoScalingGroupName", "");
  auto r = invokeAction(c.ctx, "DescribeWarmPool", {{"AutoScalingGroupName", group}});
  if (!r || !r->contains("WarmPoolConfiguration")) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(group);
}

Status updateWarmPool(ResourceCall& c, const std::string&, const Json& props) {
  return invokeAction(c.ctx, "PutWarmPool", warmPoolParams(props)).status();
}

Result<bool> removeWarmPool(ActionContext& ctx, const std::string& group) {
  // ForceDelete: the pool goes at once and the group controller terminates its instances.
  auto r =
      invokeAction(ctx, "DeleteWarmPool", {{"AutoScalingGroupName", group}, {"ForceDelete", true}});
  if (!r && !notFound(r.status(), {"ValidationError", "ScalingActivityInProgress"})) {
    return r.status(); // ValidationError: no pool, or no group, any more
  }
  return true;
}

// ---------------------------------------------------------- AWS::AutoScaling::ScheduledAction
// Ref gives the action's name, generated as CloudFormation does (stack-logicalId-HASH); the
// group is found by the name when the action is removed.

constexpr PropertySpec kScheduledProps[] = {
    {"AutoScalingGroupName", K::String, true}, {"StartTime", K::String, false, true},
    {"EndTime", K::String, false, true},       {"Recurrence", K::String, false, true},
    {"TimeZone", K::String, false, true},      {"MinSize", K::Number, false, true},
    {"MaxSize", K::Number, false, true},       {"DesiredCapacity", K::Number, false, true},
};
constexpr std::string_view kScheduledAttrs[] = {"ScheduledActionName"};

Json scheduledParams(ResourceCall& c, const Json& props) {
  Json p = {{"ScheduledActionName", generatedName(c, 255, true)}};
  copy(props, p, {"AutoScalingGroupName", "StartTime", "EndTime", "Recurrence", "TimeZone"},
       K::String);
  copy(props, p, {"MinSize", "MaxSize", "DesiredCapacity"}, K::Number);
  return p;
}

Result<std::string> createScheduled(ResourceCall& c, const Json& props) {
  Json p = scheduledParams(c, props);
  TIDE_RETURN_IF_ERROR(invokeAction(c.ctx, "PutScheduledUpdateGroupAction", p).status());
  return p["ScheduledActionName"].get<std::string>();
}

// The group of the action named `name` (empty when there is none).
std::string scheduledGroup(ActionContext& ctx, const std::string& name) {
  auto r = invokeAction(ctx, "DescribeScheduledActions", {{"ScheduledActionNames", {name}}});
  if (!r || (*r)["ScheduledUpdateGroupActions"].empty()) {
    return "";
  }
  return (*r)["ScheduledUpdateGroupActions"][0]["AutoScalingGroupName"];
}

Result<std::optional<std::string>> findScheduled(ResourceCall& c, const Json&) {
  std::string name = generatedName(c, 255, true);
  if (scheduledGroup(c.ctx, name).empty()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(name);
}

Status updateScheduled(ResourceCall& c, const std::string&, const Json& props) {
  return invokeAction(c.ctx, "PutScheduledUpdateGroupAction", scheduledParams(c, props)).status();
}

Result<bool> removeScheduled(ActionContext& ctx, const std::string& name) {
  std::string group = scheduledGroup(ctx, name);
  if (group.empty()) {
    return true; // gone already (a one-time action that ran, or its group was deleted)
  }
  auto r = invokeAction(ctx, "DeleteScheduledAction",
                        {{"AutoScalingGroupName", group}, {"ScheduledActionName", name}});
  if (!r && !notFound(r.status(), {"ValidationError"})) {
    return r.status();
  }
  return true;
}

Result<Json> scheduledAttribute(ActionContext&, const std::string& name, const std::string&) {
  return Json(name);
}

// ------------------------------------------------------------ AWS::AutoScaling::LifecycleHook
// Ref gives the hook's name (LifecycleHookName, or generated as CloudFormation does); the group
// is found by the name when the hook is removed.

constexpr PropertySpec kHookProps[] = {
    {"AutoScalingGroupName", K::String, true},
    {"LifecycleHookName", K::String},
    {"LifecycleTransition", K::String, true, true},
    {"DefaultResult", K::String, false, true},
    {"HeartbeatTimeout", K::Number, false, true},
    {"NotificationMetadata", K::String, false, true},
    {"NotificationTargetARN", K::String, false, true},
    {"RoleARN", K::String, false, true},
};

Json lifecycleHookParams(ResourceCall& c, const Json& props) {
  Json p = hookParams(props);
  p["LifecycleHookName"] = nameOr(props, "LifecycleHookName", c, 255, true);
  p["AutoScalingGroupName"] = text(props["AutoScalingGroupName"]);
  return p;
}

Result<std::string> createHook(ResourceCall& c, const Json& props) {
  Json p = lifecycleHookParams(c, props);
  TIDE_RETURN_IF_ERROR(invokeAction(c.ctx, "PutLifecycleHook", p).status());
  return p["LifecycleHookName"].get<std::string>();
}

// The group that has a hook named `name` (empty when none has).
std::string hookGroup(ActionContext& ctx, const std::string& name) {
  auto groups = invokeAction(ctx, "DescribeAutoScalingGroups", Json::object());
  if (!groups) {
    return "";
  }
  for (const Json& g : groups->value("AutoScalingGroups", Json::array())) {
    std::string group = g.value("AutoScalingGroupName", "");
    auto r = invokeAction(ctx, "DescribeLifecycleHooks",
                          {{"AutoScalingGroupName", group}, {"LifecycleHookNames", {name}}});
    if (r && !r->value("LifecycleHooks", Json::array()).empty()) {
      return group;
    }
  }
  return "";
}

Result<std::optional<std::string>> findHook(ResourceCall& c, const Json& props) {
  Json p = lifecycleHookParams(c, props);
  auto r = invokeAction(c.ctx, "DescribeLifecycleHooks",
                        {{"AutoScalingGroupName", p["AutoScalingGroupName"]},
                         {"LifecycleHookNames", Json::array({p["LifecycleHookName"]})}});
  if (!r || r->value("LifecycleHooks", Json::array()).empty()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(p["LifecycleHookName"].get<std::string>());
}

Status updateHook(ResourceCall& c, const std::string&, const Json& props) {
  return invokeAction(c.ctx, "PutLifecycleHook", lifecycleHookParams(c, props)).status();
}

Result<bool> removeHook(ActionContext& ctx, const std::string& name) {
  std::string group = hookGroup(ctx, name);
  if (group.empty()) {
    return true; // gone already (its group was deleted)
  }
  auto r = invokeAction(ctx, "DeleteLifecycleHook",
                        {{"AutoScalingGroupName", group}, {"LifecycleHookName", name}});
  if (!r && !notFound(r.status(), {"ValidationError"})) {
    return r.status();
  }
  return true;
}

Result<Json> hookAttribute(ActionContext&, const std::string& name, const std::string&) {
  return Json(name);
}

// ------------------------------------------------------------------- AWS::CloudWatch::Alarm

constexpr PropertySpec kAlarmProps[] = {
    {"AlarmName", K::String},
    {"AlarmDescription", K::String, false, true},
    {"MetricName", K::String, false, true},
    {"Namespace", K::String, false, true},
    {"Dimensions", K::List, false, true},
    {"Statistic", K::String, false, true},
    {"ExtendedStatistic", K::String, false, true},
    {"Period", K::Number, false, true},
    {"EvaluationPeriods", K::Number, true, true},
    {"DatapointsToAlarm", K::Number, false, true},
    {"Threshold", K::Number, false, true},
    {"ComparisonOperator", K::String, true, true},
    {"TreatMissingData", K::String, false, true},
    {"Unit", K::String, false, true},
    {"ActionsEnabled", K::Boolean, false, true},
    {"AlarmActions", K::List, false, true},
    {"OKActions", K::List, false, true},
    {"InsufficientDataActions", K::List, false, true},
};
constexpr std::string_view kAlarmAttrs[] = {"Arn"};

Json alarmParams(ResourceCall& c, const Json& props) {
  Json p = {{"AlarmName", nameOr(props, "AlarmName", c, 255, true)}};
  copy(props, p,
       {"AlarmDescription", "MetricName", "Namespace", "Statistic", "ExtendedStatistic",
        "ComparisonOperator", "TreatMissingData", "Unit"},
       K::String);
  copy(props, p, {"Period", "EvaluationPeriods", "DatapointsToAlarm", "Threshold"}, K::Number);
  copy(props, p, {"ActionsEnabled"}, K::Boolean);
  copy(props, p, {"Dimensions", "AlarmActions", "OKActions", "InsufficientDataActions"}, K::List);
  if (p.contains("Dimensions")) {
    for (Json& d : p["Dimensions"]) {
      if (d.is_object() && d.contains("Value")) {
        d["Value"] = text(d["Value"]);
      }
    }
  }
  return p;
}

Result<std::string> createAlarm(ResourceCall& c, const Json& props) {
  Json p = alarmParams(c, props);
  TIDE_ASSIGN_OR_RETURN(auto r, invokeAction(c.ctx, "PutMetricAlarm", p));
  return p["AlarmName"].get<std::string>();
}

Result<std::optional<std::string>> findAlarm(ResourceCall& c, const Json& props) {
  std::string name = nameOr(props, "AlarmName", c, 255, true);
  auto r = invokeAction(c.ctx, "DescribeAlarms", {{"AlarmNames", {name}}});
  if (!r || !r->contains("MetricAlarms") || (*r)["MetricAlarms"].empty()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(name);
}

Status updateAlarm(ResourceCall& c, const std::string&, const Json& props) {
  return invokeAction(c.ctx, "PutMetricAlarm", alarmParams(c, props)).status();
}

Result<bool> removeAlarm(ActionContext& ctx, const std::string& name) {
  auto r = invokeAction(ctx, "DeleteAlarms", {{"AlarmNames", {name}}});
  if (!r && !notFound(r.status(), {"ResourceNotFound"})) {
    return r.status();
  }
  return true;
}

Result<Json> alarmAttribute(ActionContext& ctx, const std::string& name, const std::string&) {
  return Json("arn:aws:cloudwatch:" + ctx.region + ":" + ctx.accountId + ":alarm:" + name);
}

// ------------------------------------------------------------------------ Tide::EC2::Image

constexpr PropertySpec kImageProps[] = {
    {"Name", K::String},
    {"Description", K::String},
    {"SourceDirectory", K::String, true},
    {"RunCommand", K::String, true},
    {"Port", K::Number},
    {"HealthCheckPath", K::String},
};
constexpr std::string_view kImageAttrs[] = {"ImageId", "Name"};

Result<std::string> createImage(ResourceCall& c, const Json& props) {
  Json p = {{"Name", nameOr(props, "Name", c, 128)}};
  copy(props, p, {"Description", "RunCommand", "HealthCheckPath"}, K::String);
  copy(props, p, {"Port"}, K::Number);
  std::filesystem::path dir(text(props["SourceDirectory"]));
  if (dir.is_relative() && !c.basePath.empty()) {
    dir = std::filesystem::path(c.basePath) / dir;
  }
  p["SourceDirectory"] = dir.lexically_normal().string();
  TIDE_ASSIGN_OR_RETURN(auto r, invokeAction(c.ctx, "CreateImage", p));
  return r["ImageId"].get<std::string>();
}

Result<std::optional<std::string>> findImage(ResourceCall& c, const Json& props) {
  auto r = invokeAction(
      c.ctx, "DescribeImages",
      {{"Filters", {{{"Name", "name"}, {"Values", {nameOr(props, "Name", c, 128)}}}}}});
  if (!r || (*r)["Images"].empty()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>((*r)["Images"][0]["ImageId"]);
}

Result<bool> imageReady(ActionContext& ctx, const std::string& id) {
  TIDE_ASSIGN_OR_RETURN(auto r, invokeAction(ctx, "DescribeImages", {{"ImageIds", {id}}}));
  const Json& img = r["Images"][0];
  if (img["State"] == "failed") {
    std::string why = img.contains("StateReason") ? img["StateReason"].value("Message", "") : "";
    return Status("ImageFailed", "image " + id + " failed: " + why);
  }
  return img["State"] == "available";
}

Result<bool> removeImage(ActionContext& ctx, const std::string& id) {
  auto r = invokeAction(ctx, "DeregisterImage", {{"ImageId", id}});
  if (!r && !notFound(r.status(), {"InvalidAMIID.NotFound"})) {
    return r.status();
  }
  return true;
}

Result<Json> imageAttribute(ActionContext& ctx, const std::string& id, const std::string& name) {
  if (name == "ImageId") {
    return Json(id);
  }
  TIDE_ASSIGN_OR_RETURN(auto r, invokeAction(ctx, "DescribeImages", {{"ImageIds", {id}}}));
  return r["Images"][0][name];
}

// ---------------------------------------------------------------------------------- table

const ResourceType kTypes[] = {
    {"AWS::EC2::LaunchTemplate", kLaunchTemplateProps, kLaunchTemplateAttrs, createLaunchTemplate,
     findLaunchTemplate, nullptr, updateLaunchTemplate, removeLaunchTemplate,
     launchTemplateAttribute},
    {"AWS::ElasticLoadBalancingV2::TargetGroup", kTargetGroupProps, kTargetGroupAttrs,
     createTargetGroup, findTargetGroup, nullptr, updateTargetGroup, removeTargetGroup,
     targetGroupAttribute, finishTargetGroup},
    {"AWS::ElasticLoadBalancingV2::LoadBalancer", kLoadBalancerProps, kLoadBalancerAttrs,
     createLoadBalancer, findLoadBalancer, nullptr, updateLoadBalancer, removeLoadBalancer,
     loadBalancerAttribute, finishLoadBalancer},
    {"AWS::ElasticLoadBalancingV2::Listener", kListenerProps, kListenerAttrs, createListener,
     findListener, nullptr, nullptr, removeListener, listenerAttribute},
    {"AWS::ElasticLoadBalancingV2::ListenerRule", kRuleProps, kRuleAttrs, createRule, findRule,
     nullptr, updateRule, removeRule, ruleAttribute},
    {"AWS::AutoScaling::AutoScalingGroup",
     kGroupProps,
     {},
     createGroup,
     findGroup,
     nullptr,
     updateGroup,
     removeGroup,
     nullptr},
    {"AWS::AutoScaling::ScalingPolicy", kPolicyProps, kPolicyAttrs, createPolicy, findPolicy,
     nullptr, updatePolicy, removePolicy, policyAttribute},
    {"AWS::AutoScaling::ScheduledAction", kScheduledProps, kScheduledAttrs, createScheduled,
     findScheduled, nullptr, updateScheduled, removeScheduled, scheduledAttribute},
    {"AWS::AutoScaling::LifecycleHook",
     kHookProps,
     {},
     createHook,
     findHook,
     nullptr,
     updateHook,
     removeHook,
     hookAttribute},
    {"AWS::AutoScaling::WarmPool",
     kWarmPoolProps,
     {},
     createWarmPool,
     findWarmPool,
     nullptr,
     updateWarmPool,
     removeWarmPool,
     nullptr},
    {"AWS::CloudWatch::Alarm", kAlarmProps, kAlarmAttrs, createAlarm, findAlarm, nullptr,
     updateAlarm, removeAlarm, alarmAttribute},
    {"Tide::EC2::Image", kImageProps, kImageAttrs, createImage, findImage, imageReady, nullptr,
     removeImage, imageAttribute},
    // resources_tls.cc
    {"AWS::ElasticLoadBalancingV2::ListenerCertificate",
     kListenerCertificateProps,
     {},
     createListenerCertificate,
     findListenerCertificate,
     nullptr,
     nullptr,
     removeListenerCertificate,
     nullptr},
    {"Tide::CertificateManager::Certificate", kImportedCertificateProps, kImportedCertificateAttrs,
     createImportedCertificate, findImportedCertificate, nullptr, nullptr,
     removeImportedCertificate, importedCertificateAttribute},
};

// FNV-1a, for names that must be the same after a restart.
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  return h;
}

std::string upperHex(uint64_t v, int digits) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string out(digits, '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) {
    out[i] = kDigits[v & 15];
  }
  return out;
}

} // namespace

Result<Json> invokeAction(ActionContext& ctx, std::string_view action, const Json& params) {
  const api::ActionEntry* a = api::findAction(action);
  assert(a != nullptr);
  return a->handler(ctx, params);
}

std::span<const ResourceType> resourceTypes() {
  return kTypes;
}

const ResourceType* findResourceType(std::string_view name) {
  for (const ResourceType& t : kTypes) {
    if (t.name == name) {
      return &t;
    }
  }
  return nullptr;
}

const PropertySpec* findProperty(const ResourceType& t, std::string_view name) {
  for (const PropertySpec& p : t.properties) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

std::string generatedName(const ResourceCall& c, size_t maxLength, bool unique) {
  std::string base = c.stackName + "-" + c.logicalId;
  std::string suffix = unique ? "-" + upperHex(fnv1a(c.stackId + "/" + c.logicalId), 12) : "";
  if (base.size() + suffix.size() > maxLength) {
    std::string hash = "-" + upperHex(fnv1a(base), 6);
    size_t keep = maxLength - suffix.size() - hash.size();
    base = base.substr(0, keep);
    while (!base.empty() && base.back() == '-') {
      base.pop_back();
    }
    base += hash;
  }
  return base + suffix;
}

} // namespace tide::stacks
