// Health checks over HTTP/2 for target groups of ProtocolVersion HTTP2 and GRPC: cleartext
// HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3), spoken through nghttp2's session with tide's
// own non-blocking socket on the control thread's event loop, as startHealthProbe does for
// HTTP/1.1 (health_checker.h).
//
// GRPC: a POST to the health check path (a gRPC method, "/AWS.ALB/healthcheck" by default) with
// `content-type: application/grpc`, `te: trailers` and one empty gRPC message (5 zero bytes:
// not compressed, length 0). The grpc-status of the answer (its trailers, or a trailers-only
// answer) is matched against the gRPC matcher ("12", "0,1", "0-5"): a match passes, another
// code is CodeMismatch with statusCode = the grpc-status (so DescribeTargetHealth says
// "Health checks failed with these codes: [12]"). An answer without grpc-status fails.
//
// HTTP2: a GET of the path; the :status of the response is matched against the HTTP matcher.
//
// Failures: no answer within the timeout is Timeout; a refused or reset connection, a target
// that does not speak HTTP/2 (an HTTP/1 answer, a malformed frame), a reset stream or a
// GOAWAY before the answer are Failed with a detail saying which.
#pragma once

#include "common/clock.h"
#include "common/event_loop.h"
#include "control/target_health.h"

#include <cstdint>
#include <functional>
#include <string>

namespace tide::control {

// What an HTTP/2 health check asks and how its answer is judged.
struct H2ProbeSpec {
  std::string path = "/AWS.ALB/healthcheck"; // :path, a gRPC method for GRPC
  std::string matcher = "12";                // gRPC codes (grpc) or HTTP codes, validated
  bool grpc = true;                          // true: gRPC POST and grpc-status; false: GET
};

// One HTTP/2 health check to ip:port (IPv4, host order) from `source` (host order; 0: the
// kernel's choice), `done` called once on the loop with the outcome, never from inside this
// call. Never blocks the loop. Call on the loop's thread.
void startH2HealthProbe(EventLoop& loop, uint32_t ip, uint16_t port, uint32_t source,
                        const H2ProbeSpec& spec, Millis timeout,
                        std::function<void(CheckResult)> done);

} // namespace tide::control
