#include "model/validation.h"

#include "common/ids.h"
#include "common/text.h"
#include "model/instance_types.h"

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
