#include "cli/event_text.h"

namespace tide::cli {

namespace {

using Json = nlohmann::json;

std::string field(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) {
    return "-";
  }
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

// The fields that matter for each detail-type.
std::string what(const std::string& type, const Json& d) {
  if (type == "EC2 Instance State-change Notification") {
    return field(d, "instance-id") + " " + field(d, "state");
  }
  if (type.rfind("EC2 Instance Launch ", 0) == 0 || type.rfind("EC2 Instance Terminate ", 0) == 0) {
    std::string out = field(d, "AutoScalingGroupName") + " " + field(d, "EC2InstanceId") + " " +
                      field(d, "StatusCode");
    std::string message = field(d, "StatusMessage");
    if (message != "-" && !message.empty()) {
      out += ": " + message;
    }
    return out;
  }
  if (type.find("Lifecycle Action") != std::string::npos) {
    return field(d, "AutoScalingGroupName") + " " + field(d, "EC2InstanceId") + " hook " +
           field(d, "LifecycleHookName");
  }
  if (type == "CloudWatch Alarm State Change") {
    const Json& now = d.value("state", Json::object());
    const Json& before = d.value("previousState", Json::object());
    return field(d, "alarmName") + " " + field(before, "value") + " → " + field(now, "value") +
           " (" + field(now, "reason") + ")";
  }
  if (type == "ELB Target Health State Change") {
    const Json& t = d.value("target", Json::object());
    std::string group = field(d, "targetGroupArn");
    size_t slash = group.find("targetgroup/");
    if (slash != std::string::npos) {
      group = group.substr(slash + 12);
      group = group.substr(0, group.find('/'));
    }
    std::string out = group + " " + field(t, "id") + ":" + field(t, "port") + " " +
                      (d.contains("previousState") && !d["previousState"].is_null()
                           ? field(d, "previousState") + " → "
                           : "") +
                      field(d, "state");
    std::string reason = field(d, "reason");
    if (reason != "-" && !reason.empty()) {
      out += " (" + reason + ")";
    }
    return out;
  }
  if (type == "Auto Scaling Desired Capacity Change") {
    return field(d, "AutoScalingGroupName") + " desired " + field(d, "PreviousDesiredCapacity") +
           " → " + field(d, "DesiredCapacity");
  }
  return d.dump();
}

} // namespace

std::string eventText(uint64_t seq, const Json& event) {
  std::string type = field(event, "detail-type");
  return field(event, "time") + "  #" + std::to_string(seq) + "  " + type + "  " +
         what(type, event.value("detail", Json::object()));
}

} // namespace tide::cli
