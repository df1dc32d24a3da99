#include "model/validation.h"

#include "common/ids.h"
#include "common/text.h"
#include "model/instance_types.h"

#include <cctype>
#include <charconv>
#include <set>

namespace tide::model {

namespace {
bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::string quoted(std::string_view s) {
  std::string out = "'";
  out += s.size() > 200 ? std::string(s.substr(0, 200)) + "..." : std::string(s);
  out += "'";
  return out;
}
} // namespace

Status validateImageName(std::string_view name) {
  if (name.size() < 3 || name.size() > 128) {
    return Status("InvalidAMIName.Malformed",
                  "Image name " + quoted(name) + " must be 3 to 128 characters long");
  }
  for (char c : name) {
    if (!isAlnum(c) && std::string_view("()[] ./-'@_").find(c) == std::string_view::npos) {
      return Status("InvalidAMIName.Malformed",
                    "Image name " + quoted(name) +
                        " may hold only letters, digits, spaces and ( ) [ ] . / - ' @ _");
    }
  }
  return Status::ok();
}

Status validateLaunchTemplateName(std::string_view name) {
  if (name.size() < 3 || name.size() > 128) {
    return Status("InvalidLaunchTemplateName.MalformedException",
                  "Launch template name " + quoted(name) + " must be 3 to 128 characters long");
  }
  for (char c : name) {
    if (!isAlnum(c) && std::string_view("().-/_").find(c) == std::string_view::npos) {
      return Status("InvalidLaunchTemplateName.MalformedException",
                    "Launch template name " + quoted(name) +
                        " may hold only letters, digits and ( ) . - / _");
    }
  }
  return Status::ok();
}

Status validatePort(int port, std::string_view field) {
  if (port < 1 || port > 65535) {
    return Status("InvalidParameterValue", "Invalid value '" + std::to_string(port) + "' for " +
                                               std::string(field) + ": must be 1 to 65535");
  }
  return Status::ok();
}

Status validateInstanceType(std::string_view type) {
  if (findInstanceType(type) == nullptr) {
    std::string known;
    for (const InstanceType& t : instanceTypes()) {
      known += known.empty() ? "" : ", ";
      known += t.name;
    }
    return Status("InvalidParameterValue",
                  "Invalid value " + quoted(type) + " for InstanceType; known types: " + known);
  }
  return Status::ok();
}

Status validateTags(const std::vector<Tag>& tags) {
  if (tags.size() > 50) {
    return Status("TagLimitExceeded",
                  "At most 50 tags per resource, got " + std::to_string(tags.size()));
  }
  std::set<std::string> keys;
  for (const Tag& t : tags) {
    if (t.key.empty() || t.key.size() > 128) {
      return Status("InvalidParameterValue",
                    "Tag key " + quoted(t.key) + " must be 1 to 128 characters long");
    }
    if (t.key.rfind("aws:", 0) == 0) {
      return Status("InvalidParameterValue",
                    "Tag key " + quoted(t.key) + " uses the reserved prefix 'aws:'");
    }
    if (t.value.size() > 256) {
      return Status("InvalidParameterValue",
                    "Value of tag " + quoted(t.key) + " is longer than 256 characters");
    }
    if (!keys.insert(t.key).second) {
      return Status("InvalidParameterValue", "Tag key " + quoted(t.key) + " is given twice");
    }
  }
  return Status::ok();
}

Status validateEnvironment(const std::vector<EnvironmentVariable>& env) {
  std::set<std::string> names;
  for (const EnvironmentVariable& v : env) {
    bool ok = !v.name.empty() && !(v.name[0] >= '0' && v.name[0] <= '9');
    for (char c : v.name) {
      ok = ok && (isAlnum(c) || c == '_');
    }
    if (!ok) {
      return Status("InvalidParameterValue", "Environment variable name " + quoted(v.name) +
                                                 " must match [A-Za-z_][A-Za-z0-9_]*");
    }
    if (v.name == "HOST" || v.name == "PORT" || v.name.rfind("TIDE_", 0) == 0) {
      return Status("InvalidParameterValue",
                    "Environment variable " + quoted(v.name) +
                        " is set by tide itself (HOST, PORT and TIDE_* are reserved)");
    }
    if (v.value.find('\0') != std::string::npos) {
      return Status("InvalidParameterValue",
                    "Environment variable " + quoted(v.name) + " holds a NUL byte");
    }
    if (!names.insert(v.name).second) {
      return Status("InvalidParameterValue",
                    "Environment variable " + quoted(v.name) + " is given twice");
    }
  }
  return Status::ok();
}

Status validateUserData(std::string_view base64) {
  if (base64.empty()) {
    return Status::ok();
  }
  std::optional<std::string> decoded = base64Decode(base64);
  if (!decoded) {
    return Status("InvalidUserData.Malformed", "UserData must be valid base64");
  }
  if (decoded->size() > 16384) {
    return Status("InvalidParameterValue",
                  "User data is limited to 16384 bytes, got " + std::to_string(decoded->size()));
  }
  return Status::ok();
}

Status validateSecurityGroupIds(const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    if (!isShortOrLongIdOf(id, "sg")) {
      return Status("InvalidGroupId.Malformed",
                    "Invalid id: " + quoted(id) +
                        " (expecting \"sg-...\" with 8 or 17 hex digits)");
    }
  }
  return Status::ok();
}

Status validateBlockDeviceMappings(const std::vector<BlockDeviceMapping>& mappings) {
  static const std::set<std::string> kTypes = {"gp2", "gp3", "io1",     "io2",
                                               "st1", "sc1", "standard"};
  std::set<std::string> devices;
  for (const BlockDeviceMapping& m : mappings) {
    if (m.deviceName.empty() || m.deviceName[0] != '/') {
      return Status("InvalidBlockDeviceMapping",
                    "DeviceName " + quoted(m.deviceName) + " must be a path like /dev/xvda");
    }
    if (!devices.insert(m.deviceName).second) {
      return Status("InvalidBlockDeviceMapping",
                    "DeviceName " + quoted(m.deviceName) + " is given twice");
    }
    if (m.volumeSizeGiB < 1 || m.volumeSizeGiB > 16384) {
      return Status("InvalidParameterValue", "Volume size " + std::to_string(m.volumeSizeGiB) +
                                                 " GiB of " + m.deviceName + " must be 1 to 16384");
    }
    if (!kTypes.count(m.volumeType)) {
      return Status("InvalidParameterValue",
                    "VolumeType " + quoted(m.volumeType) +
                        " must be one of gp2, gp3, io1, io2, st1, sc1, standard");
    }
  }
  return Status::ok();
}

Status validateLaunchTemplateData(const LaunchTemplateData& data) {
  if (!data.imageId.empty() && !isIdOf(data.imageId, "ami")) {
    return Status("InvalidAMIID.Malformed", "Invalid id: " + quoted(data.imageId) +
                                                " (expecting \"ami-\" and 17 hex digits)");
  }
  if (!data.instanceType.empty()) {
    TIDE_RETURN_IF_ERROR(validateInstanceType(data.instanceType));
  }
  if (data.port) {
    TIDE_RETURN_IF_ERROR(validatePort(*data.port, "Port"));
  }
  TIDE_RETURN_IF_ERROR(validateUserData(data.userData));
  TIDE_RETURN_IF_ERROR(validateEnvironment(data.environment));
  TIDE_RETURN_IF_ERROR(validateTags(data.instanceTags));
  TIDE_RETURN_IF_ERROR(validateSecurityGroupIds(data.securityGroupIds));
  return validateBlockDeviceMappings(data.blockDeviceMappings);
}

Status validateElbName(std::string_view name, std::string_view what) {
  bool ok = !name.empty() && name.size() <= 32 && name.front() != '-' && name.back() != '-';
  for (char c : name) {
    ok = ok && (isAlnum(c) || c == '-');
  }
  if (!ok) {
    return validationError(std::string(what) + " name " + quoted(name) +
                           " must be 1 to 32 letters, digits and hyphens, not starting or "
                           "ending with a hyphen");
  }
  return Status::ok();
}

namespace {
bool parseCode(std::string_view s, int& code) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), code);
  return ec == std::errc() && end == s.data() + s.size() && code >= 200 && code <= 499;
}
} // namespace

Status validateMatcher(std::string_view matcher) {
  auto bad = [&] {
    return validationError("Matcher HttpCode " + quoted(matcher) +
                           " must be codes from 200 to 499 like \"200\", \"200,302\" or "
                           "\"200-299\"");
  };
  if (matcher.empty()) {
    return bad();
  }
  for (const std::string& part : splitString(matcher, ',')) {
    size_t dash = part.find('-');
    int a = 0, b = 0;
    if (dash == std::string::npos
            ? !parseCode(part, a)
            : !parseCode(std::string_view(part).substr(0, dash), a) ||
                  !parseCode(std::string_view(part).substr(dash + 1), b) || b < a) {
      return bad();
    }
  }
  return Status::ok();
}

bool matcherMatches(std::string_view matcher, int status) {
  for (const std::string& part : splitString(matcher, ',')) {
    size_t dash = part.find('-');
    int a = 0, b = 0;
    std::string_view p(part);
    if (dash == std::string::npos) {
      if (parseCode(p, a) && a == status) {
        return true;
      }
    } else if (parseCode(p.substr(0, dash), a) && parseCode(p.substr(dash + 1), b) && status >= a &&
               status <= b) {
      return true;
    }
  }
  return false;
}

Status validateAppCookieName(std::string_view name) {
  if (name.empty() || name.size() > 256) {
    return validationError("stickiness.app_cookie.cookie_name must be 1 to 256 characters");
  }
  // A cookie-name is an RFC 9110 token (RFC 6265 §4.1.1).
  for (char ch : name) {
    bool ok = std::isalnum(static_cast<unsigned char>(ch)) ||
              std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos;
    if (!ok) {
      return validationError("stickiness.app_cookie.cookie_name " + quoted(name) +
                             " may only contain letters, digits and !#$%&'*+-.^_`|~");
    }
  }
  for (std::string_view reserved : {"AWSALB", "AWSALBAPP", "AWSALBTG"}) {
    if (name.substr(0, reserved.size()) == reserved) {
      return validationError("stickiness.app_cookie.cookie_name " + quoted(name) +
                             " is not allowed: the prefixes AWSALB, AWSALBAPP and AWSALBTG are "
                             "reserved");
    }
  }
  return Status::ok();
}

Status validateTargetGroupAttributes(const TargetGroup& tg) {
  if (tg.slowStartSeconds != 0 && (tg.slowStartSeconds < 30 || tg.slowStartSeconds > 900)) {
    return validationError("slow_start.duration_seconds must be 0 (off) or 30 to 900");
  }
  if (tg.anomalyMitigation != "on" && tg.anomalyMitigation != "off") {
    return validationError("load_balancing.algorithm.anomaly_mitigation " +
                           quoted(tg.anomalyMitigation) + " must be on or off");
  }
  if (tg.stickinessType != "lb_cookie" && tg.stickinessType != "app_cookie") {
    return validationError("stickiness.type " + quoted(tg.stickinessType) +
                           " must be lb_cookie or app_cookie");
  }
  if (tg.lbCookieDurationSeconds < 1 || tg.lbCookieDurationSeconds > 604800) {
    return validationError("stickiness.lb_cookie.duration_seconds must be 1 to 604800");
  }
  if (tg.appCookieDurationSeconds < 1 || tg.appCookieDurationSeconds > 604800) {
    return validationError("stickiness.app_cookie.duration_seconds must be 1 to 604800");
  }
  if (!tg.appCookieName.empty() || (tg.stickinessEnabled && tg.stickinessType == "app_cookie")) {
    TIDE_RETURN_IF_ERROR(validateAppCookieName(tg.appCookieName));
  }
  if (tg.slowStartSeconds > 0 && tg.algorithm == "least_outstanding_requests") {
    return Status("InvalidConfigurationRequest",
                  "You cannot enable both slow start and least outstanding requests algorithm on "
                  "a target group");
  }
  if (tg.slowStartSeconds > 0 && tg.algorithm == "weighted_random") {
    return Status("InvalidConfigurationRequest",
                  "You cannot enable both slow start and weighted random algorithm on a target "
                  "group");
  }
  if (tg.anomalyMitigation == "on" && tg.algorithm != "weighted_random") {
    return Status("InvalidConfigurationRequest",
                  "load_balancing.algorithm.anomaly_mitigation can only be on with the "
                  "weighted_random algorithm");
  }
  return Status::ok();
}

Status validateTargetGroup(const TargetGroup& tg) {
  TIDE_RETURN_IF_ERROR(validateElbName(tg.targetGroupName, "Target group"));
  if (tg.protocol != "HTTP") {
    return validationError("Protocol " + quoted(tg.protocol) + " is not supported: use HTTP");
  }
  if (tg.targetType != "instance") {
    return validationError("TargetType " + quoted(tg.targetType) +
                           " is not supported: use instance");
  }
  TIDE_RETURN_IF_ERROR(validatePort(tg.port, "Port"));
  if (tg.healthCheckPath.empty() || tg.healthCheckPath[0] != '/' ||
      tg.healthCheckPath.size() > 1024) {
    return validationError("HealthCheckPath " + quoted(tg.healthCheckPath) +
                           " must start with '/' and be at most 1024 characters");
  }
  if (tg.healthCheckPort != "traffic-port") {
    int port = 0;
    auto [end, ec] = std::from_chars(tg.healthCheckPort.data(),
                                     tg.healthCheckPort.data() + tg.healthCheckPort.size(), port);
    if (ec != std::errc() || end != tg.healthCheckPort.data() + tg.healthCheckPort.size() ||
        port < 1 || port > 65535) {
      return validationError("HealthCheckPort " + quoted(tg.healthCheckPort) +
                             " must be traffic-port or 1 to 65535");
    }
  }
  if (!(tg.healthCheckIntervalSeconds >= 0.1 && tg.healthCheckIntervalSeconds <= 300)) {
    return validationError("HealthCheckIntervalSeconds must be 0.1 to 300 (AWS: 5 to 300)");
  }
  if (!(tg.healthCheckTimeoutSeconds >= 0.1 && tg.healthCheckTimeoutSeconds <= 120)) {
    return validationError("HealthCheckTimeoutSeconds must be 0.1 to 120 (AWS: 2 to 120)");
  }
  if (tg.healthCheckTimeoutSeconds >= tg.healthCheckIntervalSeconds) {
    return validationError("HealthCheckTimeoutSeconds must be smaller than "
                           "HealthCheckIntervalSeconds");
  }
  if (tg.healthyThresholdCount < 2 || tg.healthyThresholdCount > 10) {
    return validationError("HealthyThresholdCount must be 2 to 10");
  }
  if (tg.unhealthyThresholdCount < 2 || tg.unhealthyThresholdCount > 10) {
    return validationError("UnhealthyThresholdCount must be 2 to 10");
  }
  TIDE_RETURN_IF_ERROR(validateMatcher(tg.matcher));
  if (tg.deregistrationDelaySeconds < 0 || tg.deregistrationDelaySeconds > 3600) {
    return validationError("deregistration_delay.timeout_seconds must be 0 to 3600");
  }
  if (tg.algorithm != "round_robin" && tg.algorithm != "least_outstanding_requests" &&
      tg.algorithm != "weighted_random") {
    return validationError("load_balancing.algorithm.type " + quoted(tg.algorithm) +
                           " must be round_robin, least_outstanding_requests or weighted_random");
  }
  TIDE_RETURN_IF_ERROR(validateTargetGroupAttributes(tg));
  return validateTags(tg.tags);
}

Result<int64_t> resolveLaunchTemplateVersion(const LaunchTemplate& lt, std::string_view spec) {
  if (spec.empty() || spec == "$Default") {
    return lt.defaultVersionNumber;
  }
  if (spec == "$Latest") {
    return lt.latestVersionNumber;
  }
  int64_t v = 0;
  auto [end, ec] = std::from_chars(spec.data(), spec.data() + spec.size(), v);
  if (ec != std::errc() || end != spec.data() + spec.size()) {
    return Status("InvalidParameterValue", "Invalid launch template version " + quoted(spec) +
                                               ": expecting a number, $Default or $Latest");
  }
  if (v < 1 || v > lt.latestVersionNumber) {
    return Status("InvalidLaunchTemplateId.VersionNotFound",
                  "Could not find launch template version " + std::string(spec) + " of " +
                      lt.launchTemplateName + " (" + lt.launchTemplateId + "); versions are 1 to " +
                      std::to_string(lt.latestVersionNumber));
  }
  return v;
}

} // namespace tide::model
