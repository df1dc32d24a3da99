// Auto Scaling actions: not implemented yet (the rows in the action table are reserved).
#include "api/handlers.h"

namespace tide::api {

namespace {
Status notYet(const char* action) {
  return Status("NotImplemented", std::string(action) + " is not implemented yet");
}
} // namespace

Result<Json> createAutoScalingGroup(ActionContext&, const Json&) {
  return notYet("CreateAutoScalingGroup");
}
Result<Json> updateAutoScalingGroup(ActionContext&, const Json&) {
  return notYet("UpdateAutoScalingGroup");
}
Result<Json> describeAutoScalingGroups(ActionContext&, const Json&) {
  return notYet("DescribeAutoScalingGroups");
}
Result<Json> deleteAutoScalingGroup(ActionContext&, const Json&) {
  return notYet("DeleteAutoScalingGroup");
}
Result<Json> setDesiredCapacity(ActionContext&, const Json&) {
  return notYet("SetDesiredCapacity");
}
Result<Json> terminateInstanceInAutoScalingGroup(ActionContext&, const Json&) {
  return notYet("TerminateInstanceInAutoScalingGroup");
}
Result<Json> describeAutoScalingInstances(ActionContext&, const Json&) {
  return notYet("DescribeAutoScalingInstances");
}
Result<Json> describeScalingActivities(ActionContext&, const Json&) {
  return notYet("DescribeScalingActivities");
}
Result<Json> putScalingPolicy(ActionContext&, const Json&) {
  return notYet("PutScalingPolicy");
}
Result<Json> describePolicies(ActionContext&, const Json&) {
  return notYet("DescribePolicies");
}
Result<Json> deletePolicy(ActionContext&, const Json&) {
  return notYet("DeletePolicy");
}
Result<Json> executePolicy(ActionContext&, const Json&) {
  return notYet("ExecutePolicy");
}

} // namespace tide::api
