// CloudWatch actions: not implemented yet (the rows in the action table are reserved).
#include "api/handlers.h"

namespace tide::api {

namespace {
Status notYet(const char* action) {
  return Status("NotImplemented", std::string(action) + " is not implemented yet");
}
} // namespace

Result<Json> putMetricData(ActionContext&, const Json&) {
  return notYet("PutMetricData");
}
Result<Json> getMetricStatistics(ActionContext&, const Json&) {
  return notYet("GetMetricStatistics");
}
Result<Json> listMetrics(ActionContext&, const Json&) {
  return notYet("ListMetrics");
}
Result<Json> putMetricAlarm(ActionContext&, const Json&) {
  return notYet("PutMetricAlarm");
}
Result<Json> describeAlarms(ActionContext&, const Json&) {
  return notYet("DescribeAlarms");
}
Result<Json> deleteAlarms(ActionContext&, const Json&) {
  return notYet("DeleteAlarms");
}
Result<Json> setAlarmState(ActionContext&, const Json&) {
  return notYet("SetAlarmState");
}

} // namespace tide::api
