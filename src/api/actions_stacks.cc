// stack actions: not implemented yet (the rows in the action table are reserved).
#include "api/handlers.h"

namespace tide::api {

namespace {
Status notYet(const char* action) {
  return Status("NotImplemented", std::string(action) + " is not implemented yet");
}
} // namespace

Result<Json> createStack(ActionContext&, const Json&) {
  return notYet("CreateStack");
}
Result<Json> updateStack(ActionContext&, const Json&) {
  return notYet("UpdateStack");
}
Result<Json> deleteStack(ActionContext&, const Json&) {
  return notYet("DeleteStack");
}
Result<Json> describeStacks(ActionContext&, const Json&) {
  return notYet("DescribeStacks");
}
Result<Json> describeStackResources(ActionContext&, const Json&) {
  return notYet("DescribeStackResources");
}
Result<Json> validateTemplate(ActionContext&, const Json&) {
  return notYet("ValidateTemplate");
}

} // namespace tide::api
