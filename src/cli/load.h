// The engine of `tide load`: an open-loop HTTP/1.1 load generator on one thread.
//
// Requests are scheduled by time from a LoadProfile (see load_profile.h), never by completion:
// when the server slows down, the offered rate stays and the slowness shows up as latency,
// timeouts and errors. Requests go out over at most `connections` keep-alive connections
// (non-blocking sockets, one epoll). A request that is due while every connection is busy waits
// in a queue; its latency counts from the moment it was due, so queueing is not hidden
// (no "coordinated omission"), and one that waits longer than the timeout counts as a timeout.
//
// Time: the injected Clock decides when requests are due, when they time out and when a second
// of progress ends, so tests can drive the schedule with a VirtualClock. Latency itself is
// measured with the monotonic clock in microseconds.
#pragma once

#include "cli/latency_histogram.h"
#include "cli/load_profile.h"
#include "common/clock.h"
#include "common/status.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tide::cli {

// Where the requests go: an http:// URL taken apart.
struct LoadTarget {
  std::string host;       // name or address to resolve ("127.0.0.1", "localhost", "[::1]" → ::1;
                          // NAME.localhost → 127.0.0.1, as curl does)
  uint16_t port = 80;     // from the URL, else 80
  std::string hostHeader; // the Host header: host[:port] as written in the URL
  std::string path = "/"; // path and query, as written ("/?work=2000")
};

// Parses "http://HOST[:PORT][/PATH[?QUERY]]". Any host is accepted (it is the user's tool);
// https and userinfo are refused with a ValidationError; a fragment is dropped (never sent).
Result<LoadTarget> parseLoadUrl(std::string_view url);

struct LoadOptions {
  LoadTarget target;             // where to send GET requests
  LoadProfile profile;           // when to send them
  int connections = 32;          // most connections open at once (1..10000)
  Millis timeout = Millis(5000); // a request not answered this long after it was due fails
};

// Counts of outcomes. A response is Succeeded when its status is 2xx or 3xx; every other outcome
// is Failed.
struct LoadCounts {
  int64_t sent = 0;             // requests written to a connection
  int64_t status2xx = 0;        // responses 200..299
  int64_t status3xx = 0;        // 300..399
  int64_t status4xx = 0;        // 400..499
  int64_t status5xx = 0;        // 500..599 (and anything else a server sends)
  int64_t timeouts = 0;         // no whole response within the timeout (or queued that long)
  int64_t connectionErrors = 0; // connect refused, reset, closed early, malformed response

  int64_t succeeded() const { return status2xx + status3xx; }
  int64_t failed() const { return status4xx + status5xx + timeouts + connectionErrors; }
  int64_t finished() const { return succeeded() + failed(); }
};

// What happened in one second (for the progress line).
struct LoadProgress {
  Millis elapsed{0};         // since the start of the profile
  double targetRate = 0;     // requests the profile scheduled in the last second, per second
  double achievedRate = 0;   // successful responses in the last second, per second
  int64_t inFlight = 0;      // requests sent and not yet answered, plus queued ones
  LoadCounts second;         // outcomes in the last second
  int64_t p50Micros = 0;     // latency percentiles of the last second's responses
  int64_t p99Micros = 0;     //
  int instancesAnswered = 0; // distinct X-Instance-Id values seen in the last second
};

// The whole run.
struct LoadReport {
  LoadCounts totals;                        // every outcome
  int64_t due = 0;                          // requests the profile scheduled by the end
  int64_t cancelled = 0;                    // in flight or queued when the run was stopped
  std::array<int64_t, 600> statusCodes{};   // responses by status code (index = code)
  LatencyHistogram latency;                 // every response, from due time to its last byte
  std::map<std::string, int64_t> instances; // responses by X-Instance-Id
  Millis elapsed{0};                        // how long the run took
  bool stopped = false;                     // ended by stop() before the profile's end
};

// Runs one load test. Not thread-safe, except stop(), which may be called from any thread or a
// signal handler.
class LoadGenerator {
public:
  LoadGenerator(LoadOptions options, const Clock& clock);
  ~LoadGenerator(); // closes every connection
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Resolves the host and sends one request, waiting up to the timeout for its response (any
  // status will do). Fails with TargetUnreachable when the host cannot be resolved or connected
  // to, or does not answer HTTP in time. The probe is not counted in the report. Optional: run()
  // works without it.
  Status probe();

  // Runs the profile to its end (then waits for the requests in flight, at most the timeout) or
  // until stop(). Calls onSecond once per second of the clock. Returns the report; fails only
  // when the host cannot be resolved or the engine cannot work (epoll).
  Result<LoadReport> run(const std::function<void(const LoadProgress&)>& onSecond);

  // Asks run() to return soon, closing every connection. Async-signal-safe and thread-safe.
  void stop();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace tide::cli
