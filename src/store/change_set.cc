#include "store/change_set.h"

namespace tide::store {

std::string_view kindName(Kind kind) {
  static constexpr std::string_view kNames[kKindCount] = {"Image",
                                                          "LaunchTemplate",
                                                          "LaunchTemplateVersion",
                                                          "Instance",
                                                          "LoadBalancer",
                                                          "Listener",
                                                          "TargetGroup",
                                                          "Target",
                                                          "AutoScalingGroup",
                                                          "ScalingPolicy",
                                                          "ScalingActivity",
                                                          "Alarm",
                                                          "Stack",
                                                          "Vpc",
                                                          "Subnet",
                                                          "SecurityGroup",
                                                          "KeyPair",
                                                          "Certificate"};
  return kNames[static_cast<int>(kind)];
}

} // namespace tide::store
