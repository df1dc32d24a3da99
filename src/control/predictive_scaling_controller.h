// The predictive scaling controller: carries out the ForecastAndScale predictive scaling
// policies (operations/predictive_scaling.h). Once per forecast hour, SchedulingBufferTime
// before the hour starts, it forecasts the policy's load from the group's metric history and
// raises the group's desired capacity to the hour's forecast capacity when that is higher
// (never lowering it: dynamic policies scale in), with an activity that says why. ForecastOnly
// policies change nothing. Each policy is one transaction; one that fails is logged and tried
// again at the next pass, the others go on. A pass returns how long until the next policy's
// hour is due. Not thread-safe: runs on the control thread.
#pragma once

#include "common/clock.h"
#include "metrics/series.h"
#include "store/store.h"

namespace tide::control {

class PredictiveScalingController {
public:
  // `metrics` and `clock` must outlive the controller.
  PredictiveScalingController(store::Store& store, const metrics::MetricStore& metrics,
                              const Clock& clock)
      : store_(store), metrics_(metrics), clock_(clock) {}

  // One pass over every ForecastAndScale policy. Returns how soon to run again.
  Result<Millis> reconcile();

private:
  store::Store& store_;
  const metrics::MetricStore& metrics_;
  const Clock& clock_;
};

} // namespace tide::control
