// GET /metrics on the API port: tide's metrics for Prometheus (metrics/prometheus.h names and
// writes them). Shows the latest complete second of every CloudWatch series in the metric
// store (tide's own, in AWS/ and Tide/ namespaces, only while they are published: at most 5 s
// old); each Auto Scaling group's size (the AWS/AutoScaling group metrics GroupMinSize,
// GroupMaxSize, GroupDesiredCapacity, GroupInServiceInstances, GroupPendingInstances,
// GroupStandbyInstances, GroupTerminatingInstances, GroupTotalInstances, from the store's
// groups and instances, as tide does not publish them to CloudWatch); histograms of target
// response time per target group since the server started; and tide's own process health
// (common/process_health.h). Readers need the viewer token when auth is on
// (api::authorizeViewer): 401 without any credentials, 403 with a wrong one. Runs on the
// control thread, as the API does.
#pragma once

#include "api/auth.h"
#include "api/http.h"
#include "control/metrics_publisher.h"
#include "metrics/series.h"
#include "store/store.h"

namespace tide::server {

struct MetricsEndpointSources {
  const api::AuthConfig* auth = nullptr;                // null: no auth
  const metrics::MetricStore* metrics = nullptr;        // the CloudWatch series
  const control::MetricsPublisher* publisher = nullptr; // response time histograms
  store::Store* store = nullptr;                        // groups and instances
  const Clock* clock = nullptr;                         // what "the latest second" is
};

// Whether a request is for /metrics (GET, any query string).
bool isMetricsRequest(const api::HttpRequest& request);

// The answer to GET /metrics.
api::HttpResponse serveMetrics(const MetricsEndpointSources& sources,
                               const api::HttpRequest& request);

} // namespace tide::server
