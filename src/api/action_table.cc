#include "api/action.h"
#include "api/handlers.h"

#include <array>

namespace tide::api {

namespace {
constexpr std::array<ActionEntry, 17> kActions = {{
    {"CreateImage", "ec2", createImage},
    {"DescribeImages", "ec2", describeImages},
    {"DeregisterImage", "ec2", deregisterImage},
    {"CreateLaunchTemplate", "ec2", createLaunchTemplate},
    {"CreateLaunchTemplateVersion", "ec2", createLaunchTemplateVersion},
    {"DescribeLaunchTemplates", "ec2", describeLaunchTemplates},
    {"DescribeLaunchTemplateVersions", "ec2", describeLaunchTemplateVersions},
    {"ModifyLaunchTemplate", "ec2", modifyLaunchTemplate},
    {"DeleteLaunchTemplate", "ec2", deleteLaunchTemplate},
    {"RunInstances", "ec2", runInstances},
    {"DescribeInstances", "ec2", describeInstances},
    {"TerminateInstances", "ec2", terminateInstances},
    {"StopInstances", "ec2", stopInstances},
    {"StartInstances", "ec2", startInstances},
    {"GetConsoleOutput", "ec2", getConsoleOutput},
    {"DescribeInstanceTypes", "ec2", describeInstanceTypes},
    {"DescribeHost", "tide", describeHost},
}};
} // namespace

std::span<const ActionEntry> actionTable() {
  return kActions;
}

const ActionEntry* findAction(std::string_view name) {
  for (const ActionEntry& a : kActions) {
    if (a.name == name) {
      return &a;
    }
  }
  return nullptr;
}

} // namespace tide::api
