// The live console: a page served by `tide server` under /console/ on the API's port that draws
// the architecture as the seed does (users → load balancer → listeners and rules → target
// groups → instances), charts the metrics every second and acts on what it shows
// (docs/console.md).
//
// Routes (all answered here; the server sends /console and /console/... to handle()):
//   GET  /console                → 302 to /console/ (the query kept)
//   GET  /console/, /console/F   → the embedded page and its files (assets.h); the page with a
//                                  valid ?token= also sets the tide_token cookie
//   GET  /console/api/state      → the snapshot (console_state.h)            viewer token
//   POST /console/api/metrics    → GetMetricData, its request and response   viewer token
//   POST /console/api/call       → {"Action", "Params"}: one allowlisted     viewer token in a
//                                  action, or the console's StartLoad and    header (never the
//                                  StopLoad; errors in the JSON error shape  cookie alone)
// Not thread-safe: runs on the control thread (the API's HTTP server calls it there).
#pragma once

#include "api/action.h"
#include "api/http.h"
#include "balancer/counters.h"
#include "console/load_runner.h"
#include "control/publisher.h"

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace tide::console {

struct ConsoleOptions {
  std::string selfExe;         // the tide binary a load runs with (`tide load`)
  std::string dataDir;         // a load's output goes to <dataDir>/console-load.log
  std::string eventStreamPath; // the server's event stream ("/events"); empty: the page polls
};

class Console {
public:
  using CounterSource = std::function<balancer::CountersSnapshot()>;

  // ctx: the API's context (store, metrics, action table, auth); publisher and counters: the
  // balancer's slots and counters, for each instance's requests per second. All must outlive
  // the console.
  Console(api::ActionContext& ctx, const control::Publisher& publisher, CounterSource counters,
          ConsoleOptions options);

  // Whether a request target is the console's: "/console", "/console/..." (with any query).
  static bool handles(std::string_view target);
  api::HttpResponse handle(const api::HttpRequest& request);
  // Stops the console's load, if one runs (at the server's stop).
  void stopLoad();

private:
  api::HttpResponse page(const api::HttpRequest& request, std::string_view file);
  api::HttpResponse state();
  api::HttpResponse metrics(const api::HttpRequest& request);
  api::HttpResponse call(const api::HttpRequest& request);
  Result<nlohmann::json> startLoad(const nlohmann::json& params);
  // Requests per second of each instance over the last second or more, from the balancer's
  // per-target counters (summed over the instance's targets).
  std::map<std::string, double> requestRates();

  api::ActionContext& ctx_;
  const control::Publisher& publisher_;
  CounterSource counters_;
  ConsoleOptions options_;
  LoadRunner load_;
  // requestRates(): the totals at the last reading and when it was taken, and the rates then.
  std::map<std::string, uint64_t> lastTotals_;
  TimeMs lastTotalsAt_ = 0;
  std::map<std::string, double> rates_;
};

// The request with every credential but those in headers dropped (no cookie, no ?token=), and
// X-Tide-Token read as a bearer token: what an action that changes state is authorized by, so
// that a page elsewhere cannot make the browser act with the cookie alone (no CSRF).
api::HttpRequest withHeaderCredentialsOnly(const api::HttpRequest& request);

} // namespace tide::console
