// The alarm evaluator: evaluates every metric alarm against the metric store once a second
// (right after the metrics publisher put the second's samples in, stamped in the second they
// cover, so the period that just ended is complete), records state changes
// with CloudWatch's reasons, and invokes the actions: an Auto Scaling policy named in the
// actions of the alarm's new state runs on the change, and, as CloudWatch does for Auto
// Scaling actions, again on every further period the alarm stays in that state (the policy's
// cooldown and bounds decide whether anything changes).
// Not thread-safe: runs on the control thread.
#pragma once

#include "common/clock.h"
#include "metrics/series.h"
#include "store/store.h"

#include <map>

namespace tide::control {

struct AlarmControllerOptions {
  Millis evaluationLag = Millis(0); // evaluate as of now minus this
};

class AlarmController {
public:
  AlarmController(store::Store& store, const metrics::MetricStore& metrics, const Clock& clock,
                  AlarmControllerOptions options = {})
      : store_(store), metrics_(metrics), clock_(clock), options_(options) {}

  // One pass over every alarm. Returns how soon to run again (the next second).
  Result<Millis> reconcile();

private:
  store::Store& store_;
  const metrics::MetricStore& metrics_;
  const Clock& clock_;
  AlarmControllerOptions options_;
  std::map<std::string, int64_t> lastActedPeriod_; // by alarm name: period index last acted on
};

} // namespace tide::control
