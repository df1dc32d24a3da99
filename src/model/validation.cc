#include "model/validation.h"

#include "common/ids.h"
#include "common/text.h"
#include "model/instance_types.h"
#include "model/public_parameters.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
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
  size_t total = 0;
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
    const size_t entry = v.name.size() + 1 + v.value.size(); // NAME=VALUE
    if (entry > kMaxEnvironmentEntryBytes) {
      return Status("InvalidParameterValue", "Environment variable " + quoted(v.name) + " is " +
                                                 std::to_string(entry) +
                                                 " bytes as NAME=VALUE; the limit is " +
                                                 std::to_string(kMaxEnvironmentEntryBytes) +
                                                 " (the kernel's MAX_ARG_STRLEN less its NUL)");
    }
    total += entry + 1;
  }
  if (total > kMaxEnvironmentBytes) {
    return Status("InvalidParameterValue",
                  "The Environment is " + std::to_string(total) +
                      " bytes (each NAME=VALUE and its NUL); the limit is " +
                      std::to_string(kMaxEnvironmentBytes) +
                      ", well below the kernel's ARG_MAX for the arguments and environment");
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
  if (!data.imageId.empty() && !isIdOf(data.imageId, "ami") && !isSsmImageReference(data.imageId)) {
    return Status("InvalidAMIID.Malformed",
                  "Invalid id: " + quoted(data.imageId) +
                      " (expecting \"ami-\" and 17 hex digits, or resolve:ssm:PARAMETER)");
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
bool parseCode(std::string_view s, int& code, int low = 200, int high = 499) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), code);
  return ec == std::errc() && end == s.data() + s.size() && code >= low && code <= high;
}

// The first part of a gRPC matcher ("0", "0-5") that is not codes 0..99, or nullopt.
std::optional<std::string> badGrpcPart(std::string_view matcher) {
  if (matcher.empty()) {
    return std::string();
  }
  for (const std::string& part : splitString(matcher, ',')) {
    size_t dash = part.find('-');
    int a = 0, b = 0;
    std::string_view p(part);
    if (dash == std::string::npos ? !parseCode(p, a, 0, 99)
                                  : !parseCode(p.substr(0, dash), a, 0, 99) ||
                                        !parseCode(p.substr(dash + 1), b, 0, 99) || b < a) {
      return part;
    }
  }
  return std::nullopt;
}
} // namespace

Status validateGrpcMatcher(std::string_view matcher) {
  if (matcher.empty()) {
    return validationError("Health check matcher GRPC code cannot be empty");
  }
  if (auto bad = badGrpcPart(matcher)) {
    return validationError("Health check matcher GRPC code " + quoted(*bad) +
                           " must be within '0-99' inclusive (codes like \"12\", \"0,1\" or "
                           "\"0-5\")");
  }
  return Status::ok();
}

bool grpcMatcherMatches(std::string_view matcher, int code) {
  for (const std::string& part : splitString(matcher, ',')) {
    size_t dash = part.find('-');
    int a = 0, b = 0;
    std::string_view p(part);
    if (dash == std::string::npos) {
      if (parseCode(p, a, 0, 99) && a == code) {
        return true;
      }
    } else if (parseCode(p.substr(0, dash), a, 0, 99) && parseCode(p.substr(dash + 1), b, 0, 99) &&
               code >= a && code <= b) {
      return true;
    }
  }
  return false;
}

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
  if (tg.maxConcurrencyPerTarget != kAdaptiveConcurrency &&
      (tg.maxConcurrencyPerTarget < 0 || tg.maxConcurrencyPerTarget > kMaxConcurrencyPerTarget)) {
    return validationError(
        "tide.target.max_concurrency must be adaptive, 0 (unlimited) or 1 to 100000");
  }
  if (tg.queueMaxLength < 0 || tg.queueMaxLength > kMaxQueueLength) {
    return validationError("tide.queue.max_length must be 0 to 100000");
  }
  if (tg.queueTimeoutMs < 1 || tg.queueTimeoutMs > kMaxQueueTimeoutMs) {
    return validationError("tide.queue.timeout_ms must be 1 to 600000");
  }
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
  if (tg.protocolVersion != "HTTP1" && tg.protocolVersion != "HTTP2" &&
      tg.protocolVersion != "GRPC") {
    return validationError("ProtocolVersion " + quoted(tg.protocolVersion) +
                           " must be HTTP1, HTTP2 or GRPC");
  }
  TIDE_RETURN_IF_ERROR(tg.protocolVersion == "GRPC" ? validateGrpcMatcher(tg.matcher)
                                                    : validateMatcher(tg.matcher));
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

namespace {
bool isTokenChar(char c) {
  return isAlnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isVisible(char c) {
  return c >= 0x20 && c < 0x7f;
}

int wildcards(std::string_view s) {
  int n = 0;
  for (char c : s) {
    n += c == '*' || c == '?';
  }
  return n;
}

bool isIpv4Cidr(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) {
    return false;
  }
  int octets = 0, value = -1;
  for (char c : s.substr(0, slash + 1)) {
    if (c >= '0' && c <= '9') {
      value = (value < 0 ? 0 : value * 10) + (c - '0');
      if (value > 255) {
        return false;
      }
    } else if ((c == '.' || c == '/') && value >= 0) {
      ++octets;
      value = -1;
    } else {
      return false;
    }
  }
  int bits = 0;
  std::string_view b = s.substr(slash + 1);
  auto [end, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
  return octets == 4 && ec == std::errc() && end == b.data() + b.size() && !b.empty() &&
         bits >= 0 && bits <= 32;
}

bool isRedirectToken(std::string_view s) {
  return s == "#{protocol}" || s == "#{host}" || s == "#{port}" || s == "#{path}" ||
         s == "#{query}";
}
} // namespace

Status validateListenerAction(const ListenerAction& a) {
  if (a.type == "forward") {
    if (a.forwardTargetGroups.empty()) {
      if (a.targetGroupArn.empty()) {
        return validationError("A forward action needs a TargetGroupArn or ForwardConfig");
      }
      return Status::ok();
    }
    if (a.forwardTargetGroups.size() > 5) {
      return validationError("ForwardConfig.TargetGroups holds " +
                             std::to_string(a.forwardTargetGroups.size()) +
                             " target groups; at most 5");
    }
    std::set<std::string> seen;
    int total = 0;
    for (const TargetGroupTuple& t : a.forwardTargetGroups) {
      if (t.targetGroupArn.empty()) {
        return validationError("ForwardConfig.TargetGroups[].TargetGroupArn is required");
      }
      if (t.weight < 0 || t.weight > 999) {
        return validationError("Weight " + std::to_string(t.weight) + " of " + t.targetGroupArn +
                               " must be 0 to 999");
      }
      if (!seen.insert(t.targetGroupArn).second) {
        return validationError("Target group " + quoted(t.targetGroupArn) +
                               " is named twice in ForwardConfig.TargetGroups");
      }
      total += t.weight;
    }
    if (total == 0) {
      return validationError("ForwardConfig.TargetGroups: at least one weight must be above 0");
    }
    return Status::ok();
  }
  if (a.type == "redirect") {
    if (a.redirectProtocol != "HTTP" && a.redirectProtocol != "HTTPS" &&
        a.redirectProtocol != "#{protocol}") {
      return validationError("RedirectConfig.Protocol " + quoted(a.redirectProtocol) +
                             " must be HTTP, HTTPS or #{protocol}");
    }
    if (a.redirectPort != "#{port}") {
      int port = 0;
      auto [end, ec] = std::from_chars(a.redirectPort.data(),
                                       a.redirectPort.data() + a.redirectPort.size(), port);
      if (ec != std::errc() || end != a.redirectPort.data() + a.redirectPort.size() || port < 1 ||
          port > 65535) {
        return validationError("RedirectConfig.Port " + quoted(a.redirectPort) +
                               " must be 1 to 65535 or #{port}");
      }
    }
    auto visible = [](const std::string& s) {
      return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    };
    if (a.redirectHost.empty() || a.redirectHost.size() > 128 || !visible(a.redirectHost)) {
      return validationError("RedirectConfig.Host " + quoted(a.redirectHost) +
                             " must be 1 to 128 visible characters");
    }
    if (a.redirectPath.empty() || a.redirectPath[0] != '/' || a.redirectPath.size() > 128 ||
        !visible(a.redirectPath)) {
      return validationError("RedirectConfig.Path " + quoted(a.redirectPath) +
                             " must start with '/' and be 1 to 128 visible characters");
    }
    if (a.redirectQuery.size() > 128 || (!a.redirectQuery.empty() && a.redirectQuery[0] == '?') ||
        !visible(a.redirectQuery)) {
      return validationError("RedirectConfig.Query " + quoted(a.redirectQuery) +
                             " must be up to 128 visible characters without a leading '?'");
    }
    if (a.redirectStatusCode != "HTTP_301" && a.redirectStatusCode != "HTTP_302") {
      return validationError("RedirectConfig.StatusCode " + quoted(a.redirectStatusCode) +
                             " must be HTTP_301 or HTTP_302");
    }
    if (a.redirectProtocol == "#{protocol}" && a.redirectHost == "#{host}" &&
        a.redirectPort == "#{port}" && a.redirectPath == "/#{path}" &&
        a.redirectQuery == "#{query}") {
      return validationError("RedirectConfig redirects to the same URL: change at least one of "
                             "Protocol, Host, Port, Path or Query");
    }
    for (const std::string* part : {&a.redirectHost, &a.redirectPath, &a.redirectQuery}) {
      size_t at = 0;
      while ((at = part->find("#{", at)) != std::string::npos) {
        size_t close = part->find('}', at);
        if (close == std::string::npos || !isRedirectToken(part->substr(at, close - at + 1))) {
          return validationError("RedirectConfig part " + quoted(*part) +
                                 " has an unknown token: use #{protocol}, #{host}, #{port}, "
                                 "#{path} or #{query}");
        }
        at = close;
      }
    }
    return Status::ok();
  }
  if (a.type == "fixed-response") {
    return Status::ok(); // checked when parsed (status, content type, body length)
  }
  return validationError("Action type " + quoted(a.type) +
                         " is not supported: use forward, redirect or fixed-response");
}

Status validateRuleConditions(const std::vector<RuleCondition>& conditions) {
  if (conditions.empty()) {
    return validationError("A rule needs at least one condition");
  }
  std::set<std::string> once;
  int values = 0, stars = 0;
  for (const RuleCondition& c : conditions) {
    std::string what = "Condition " + quoted(c.field);
    bool single = c.field == "host-header" || c.field == "http-request-method" ||
                  c.field == "path-pattern" || c.field == "source-ip";
    if (!single && c.field != "http-header" && c.field != "query-string") {
      return validationError("Condition field " + quoted(c.field) +
                             " must be host-header, path-pattern, http-header, "
                             "http-request-method, query-string or source-ip");
    }
    if (single && !once.insert(c.field).second) {
      return validationError("A rule may hold one " + c.field + " condition only");
    }
    size_t count = c.field == "query-string" ? c.queryValues.size() : c.values.size();
    if (count < 1 || count > 3) {
      return validationError(what + " must hold 1 to 3 values, got " + std::to_string(count));
    }
    values += static_cast<int>(count);
    for (const std::string& v : c.values) {
      stars += wildcards(v);
      if (c.field == "host-header") {
        bool ok = !v.empty() && v.size() <= 128;
        for (char ch : v) {
          ok = ok && (isAlnum(ch) || ch == '-' || ch == '.' || ch == '*' || ch == '?');
        }
        size_t dot = v.rfind('.');
        ok = ok && dot != std::string::npos;
        for (size_t i = dot + 1; ok && i < v.size(); ++i) {
          ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') || v[i] == '*' ||
               v[i] == '?';
        }
        if (!ok) {
          return validationError(what + ": host name " + quoted(v) +
                                 " must be 1 to 128 of A-Z a-z 0-9 - . * ?, with a '.' and "
                                 "only letters after the last '.'");
        }
      } else if (c.field == "path-pattern") {
        bool ok = !v.empty() && v.size() <= 128;
        for (char ch : v) {
          ok = ok && (isAlnum(ch) ||
                      std::string_view("_-.$/~\"'@:+&*?").find(ch) != std::string_view::npos);
        }
        if (!ok) {
          return validationError(what + ": path pattern " + quoted(v) +
                                 " must be 1 to 128 of A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & * ?");
        }
      } else if (c.field == "http-header") {
        if (v.empty() || v.size() > 128 || !std::all_of(v.begin(), v.end(), isVisible)) {
          return validationError(what + ": header value " + quoted(v) +
                                 " must be 1 to 128 visible characters");
        }
      } else if (c.field == "http-request-method") {
        bool ok = !v.empty() && v.size() <= 40;
        for (char ch : v) {
          ok = ok && ((ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_');
        }
        if (!ok) {
          return validationError(what + ": method " + quoted(v) +
                                 " must be 1 to 40 of A-Z - _ (no wildcards)");
        }
      } else if (c.field == "source-ip") {
        if (!isIpv4Cidr(v)) {
          return validationError(what + ": " + quoted(v) +
                                 " must be an IPv4 CIDR like 10.0.0.0/8 (tide has no IPv6)");
        }
      }
    }
    if (c.field == "http-header") {
      bool ok = !c.httpHeaderName.empty() && c.httpHeaderName.size() <= 40 &&
                std::all_of(c.httpHeaderName.begin(), c.httpHeaderName.end(), isTokenChar);
      if (!ok) {
        return validationError(what + ": HttpHeaderName " + quoted(c.httpHeaderName) +
                               " must be 1 to 40 token characters (RFC 9110)");
      }
      std::string lower = c.httpHeaderName;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      if (lower == "host") {
        return validationError(what + ": use a host-header condition for the Host header");
      }
    }
    for (const QueryStringKeyValue& kv : c.queryValues) {
      stars += wildcards(kv.key) + wildcards(kv.value);
      if (kv.value.empty() || kv.value.size() > 128 || kv.key.size() > 128 ||
          !std::all_of(kv.value.begin(), kv.value.end(), isVisible) ||
          !std::all_of(kv.key.begin(), kv.key.end(), isVisible)) {
        return validationError(what + ": Key " + quoted(kv.key) + " and Value " + quoted(kv.value) +
                               " must be visible characters, the Value 1 to 128 and the Key "
                               "up to 128");
      }
    }
  }
  if (values > 5) {
    return validationError("A rule may hold at most 5 condition values in all, got " +
                           std::to_string(values));
  }
  if (stars > 5) {
    return validationError("A rule may hold at most 5 wildcards in all, got " +
                           std::to_string(stars));
  }
  return Status::ok();
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
