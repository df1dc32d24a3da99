#include "control/target_health.h"

namespace tide::control {

namespace {

void setFailureReason(model::Target& t, const CheckResult& r) {
  switch (r.kind) {
  case CheckResult::Kind::CodeMismatch:
    t.reason = "Target.ResponseCodeMismatch";
    t.description = "Health checks failed with these codes: [" + std::to_string(r.statusCode) + "]";
    break;
  case CheckResult::Kind::Timeout:
    t.reason = "Target.Timeout";
    t.description = "Request timed out";
    break;
  case CheckResult::Kind::Failed:
  case CheckResult::Kind::Passed:
    t.reason = "Target.FailedHealthChecks";
    t.description = "Health checks failed" + (r.detail.empty() ? "" : ": " + r.detail);
    break;
  }
}

} // namespace

HealthChange applyCheck(model::Target& t, const model::TargetGroup& tg, const CheckResult& r) {
  using model::TargetHealthState;
  if (t.state != TargetHealthState::Initial && t.state != TargetHealthState::Healthy &&
      t.state != TargetHealthState::Unhealthy) {
    return HealthChange::Unchanged;
  }
  bool passed = r.kind == CheckResult::Kind::Passed;
  int before = t.consecutive;
  // One counter: positive passes in a row, negative failures in a row.
  if (passed) {
    t.consecutive = t.consecutive > 0 ? t.consecutive + 1 : 1;
  } else {
    t.consecutive = t.consecutive < 0 ? t.consecutive - 1 : -1;
  }
  TargetHealthState next = t.state;
  switch (t.state) {
  case TargetHealthState::Initial:
    if (passed) {
      next = TargetHealthState::Healthy;
    } else if (-t.consecutive >= tg.unhealthyThresholdCount) {
      next = TargetHealthState::Unhealthy;
    }
    break;
  case TargetHealthState::Healthy:
    if (!passed && -t.consecutive >= tg.unhealthyThresholdCount) {
      next = TargetHealthState::Unhealthy;
    }
    break;
  case TargetHealthState::Unhealthy:
    if (passed && t.consecutive >= tg.healthyThresholdCount) {
      next = TargetHealthState::Healthy;
    } else if (!passed) {
      setFailureReason(t, r); // keep the latest reason in view
    }
    break;
  default:
    break;
  }
  if (next == t.state) {
    return t.consecutive == before ? HealthChange::Unchanged : HealthChange::CounterOnly;
  }
  t.state = next;
  if (next == TargetHealthState::Healthy) {
    t.reason.clear();
    t.description.clear();
  } else {
    setFailureReason(t, r);
  }
  return HealthChange::StateChanged;
}

} // namespace tide::control
