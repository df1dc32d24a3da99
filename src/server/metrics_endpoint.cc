#include "server/metrics_endpoint.h"

#include "api/dispatch.h"
#include "balancer/response_time_histogram.h"
#include "common/process_health.h"
#include "metrics/prometheus.h"

#include <algorithm>
#include <array>
#include <set>

namespace tide::server {
namespace {

// A series tide publishes every second whose latest second is older than this is not shown.
constexpr Millis kTideSeriesStaleAfter{5000};

// Target response time buckets shown to Prometheus (seconds): its usual latency bounds.
constexpr std::array kResponseTimeBounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

// The AWS/AutoScaling group metrics of every group, as latest values of the second before now.
Status addGroupMetrics(store::Store& store, TimeMs second, std::vector<metrics::LatestValue>& out) {
  std::vector<model::AutoScalingGroup> groups;
  std::vector<model::Instance> instances;
  TIDE_RETURN_IF_ERROR(store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(groups, tx.autoScalingGroups());
        TIDE_ASSIGN_OR_RETURN(instances, tx.instances());
        return Status::ok();
      },
      false));
  std::set<metrics::MetricKey> present;
  for (const metrics::LatestValue& v : out) {
    present.insert(v.metric);
  }
  for (const model::AutoScalingGroup& g : groups) {
    int inService = 0, pending = 0, standby = 0, terminating = 0, total = 0;
    for (const model::Instance& i : instances) {
      if (i.autoScalingGroupName != g.autoScalingGroupName || !i.lifecycleState) {
        continue;
      }
      using model::LifecycleState;
      switch (*i.lifecycleState) {
      case LifecycleState::InService:
        ++inService;
        break;
      case LifecycleState::Pending:
      case LifecycleState::PendingWait:
      case LifecycleState::PendingProceed:
        ++pending;
        break;
      case LifecycleState::Standby:
      case LifecycleState::EnteringStandby:
        ++standby;
        break;
      case LifecycleState::Terminating:
      case LifecycleState::TerminatingWait:
      case LifecycleState::TerminatingProceed:
        ++terminating;
        break;
      case LifecycleState::Detaching:
        break;
      default:
        continue; // terminated, or in the warm pool: not a member AWS counts
      }
      ++total;
    }
    const std::pair<const char*, int> values[] = {
        {"GroupMinSize", g.minSize},
        {"GroupMaxSize", g.maxSize},
        {"GroupDesiredCapacity", g.desiredCapacity},
        {"GroupInServiceInstances", inService},
        {"GroupPendingInstances", pending},
        {"GroupStandbyInstances", standby},
        {"GroupTerminatingInstances", terminating},
        {"GroupTotalInstances", total},
    };
    for (const auto& [name, value] : values) {
      metrics::MetricKey key{
          "AWS/AutoScaling", name, {{"AutoScalingGroupName", g.autoScalingGroupName}}};
      if (present.count(key) == 0) {
        out.push_back(metrics::LatestValue{std::move(key), second, 1, double(value), double(value),
                                           double(value)});
      }
    }
  }
  return Status::ok();
}

metrics::HistogramFamily responseTimes(const control::MetricsPublisher& publisher) {
  metrics::HistogramFamily f;
  f.name = "tide_target_response_time_seconds";
  f.help = "Target response time (request sent to the target -> response head received) per "
           "target group, since tide started";
  for (const auto& [group, total] : publisher.responseTimeTotals()) {
    metrics::HistogramSample s;
    if (!total.loadBalancer.empty()) {
      s.labels.emplace_back("load_balancer", total.loadBalancer);
    }
    s.labels.emplace_back("target_group", group);
    s.bounds.assign(kResponseTimeBounds.begin(), kResponseTimeBounds.end());
    s.counts.assign(s.bounds.size(), 0);
    for (size_t b = 0; b < total.counts.size(); ++b) {
      if (total.counts[b] == 0) {
        continue;
      }
      // A balancer bucket counts under the first bound at or above its highest value.
      double highest = double(balancer::responseTimeBucketLowest(int(b) + 1) - 1) * 1e-6;
      auto at = std::lower_bound(s.bounds.begin(), s.bounds.end(), highest);
      if (at == s.bounds.end()) {
        s.overflow += total.counts[b];
      } else {
        s.counts[size_t(at - s.bounds.begin())] += total.counts[b];
      }
    }
    s.sum = total.sumSeconds;
    f.samples.push_back(std::move(s));
  }
  return f;
}

metrics::HistogramFamily durations(HealthTimer timer, std::string name, std::string help,
                                   const char* label) {
  metrics::HistogramFamily f{std::move(name), std::move(help), {}};
  std::span<const double> bounds = durationBounds();
  for (const auto& [key, h] : durationHistograms(timer)) {
    metrics::HistogramSample s;
    if (label != nullptr) {
      s.labels.emplace_back(label, key);
    }
    s.bounds.assign(bounds.begin(), bounds.end());
    s.counts = h.counts;
    s.overflow = h.overflow;
    s.sum = h.sumSeconds;
    f.samples.push_back(std::move(s));
  }
  return f;
}

} // namespace

bool isMetricsRequest(const api::HttpRequest& request) {
  std::string_view target = request.target;
  std::string_view path = target.substr(0, target.find('?'));
  return path == "/metrics" && request.method == "GET";
}

api::HttpResponse serveMetrics(const MetricsEndpointSources& sources,
                               const api::HttpRequest& request) {
  if (Status s = api::authorizeViewer(sources.auth, request); !s.isOk()) {
    api::HttpResponse r = api::errorResponse(s);
    bool presented = request.header("authorization") != nullptr ||
                     request.header("cookie") != nullptr ||
                     request.target.find("token=") != std::string::npos;
    r.status = presented ? 403 : 401;
    if (!presented) {
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"tide\"");
    }
    return r;
  }
  TimeMs now = sources.clock->now();
  TimeMs thisSecond = now / 1000 * 1000;
  std::vector<metrics::LatestValue> latest;
  if (sources.metrics != nullptr) {
    latest = sources.metrics->latest(thisSecond);
    // tide's own series come every second: one that stopped (a terminated instance's, a deleted
    // target group's) is gone, not frozen at its last value. An app's keep their latest value.
    std::erase_if(latest, [&](const metrics::LatestValue& v) {
      bool tides =
          v.metric.namespace_.rfind("AWS/", 0) == 0 || v.metric.namespace_.rfind("Tide/", 0) == 0;
      return tides && v.timestamp < thisSecond - kTideSeriesStaleAfter.count();
    });
  }
  if (sources.store != nullptr) {
    Status s = addGroupMetrics(*sources.store, thisSecond - 1000, latest);
    if (!s.isOk()) {
      return api::errorResponse(s);
    }
  }
  std::sort(latest.begin(), latest.end(),
            [](const auto& a, const auto& b) { return a.metric < b.metric; });
  metrics::Exposition e;
  e.gauges = metrics::cloudWatchGauges(latest);
  if (sources.publisher != nullptr) {
    e.histograms.push_back(responseTimes(*sources.publisher));
  }
  e.histograms.push_back(durations(HealthTimer::ApiRequest, "tide_api_request_duration_seconds",
                                   "API actions served, by action: handler start to result",
                                   "action"));
  e.histograms.push_back(durations(HealthTimer::ReconcilePass,
                                   "tide_reconcile_pass_duration_seconds",
                                   "Controller reconcile passes, by controller", "controller"));
  e.histograms.push_back(durations(HealthTimer::StoreCommit, "tide_store_commit_duration_seconds",
                                   "Store write transactions, BEGIN to COMMIT", nullptr));
  const std::string* accept = request.header("accept");
  metrics::ExpositionFormat format = metrics::negotiateExposition(accept ? *accept : "");
  api::HttpResponse r;
  r.contentType = std::string(metrics::expositionContentType(format));
  r.body = metrics::renderExposition(e, format);
  return r;
}

} // namespace tide::server
