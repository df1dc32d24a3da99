// Target health as ELBv2 computes it: the result of one health check applied to a target's
// state with rise/fall hysteresis kept in one counter (HAProxy's check.c), and the reasons and
// descriptions DescribeTargetHealth shows. Pure functions: the health checker does the I/O.
#pragma once

#include "model/elb.h"

#include <string>

namespace tide::control {

// What one health check found.
struct CheckResult {
  enum class Kind {
    Passed,       // the response code matched
    CodeMismatch, // a response whose code did not match (statusCode says which)
    Timeout,      // no full response within HealthCheckTimeoutSeconds
    Failed,       // connection refused or reset, or a malformed response
  };
  Kind kind = Kind::Passed;
  int statusCode = 0; // for CodeMismatch (and Passed)
  std::string detail; // for Failed: what went wrong ("connection refused")
};

// How a check changed the target: ELBv2's "changed / unchanged" (Envoy's health checker
// reports the same three outcomes).
enum class HealthChange {
  Unchanged,    // same state, same counter
  CounterOnly,  // same state; the consecutive pass/fail counter moved
  StateChanged, // healthy ⇄ unhealthy, or initial → healthy / unhealthy
};

// Applies one check to a target in state initial, healthy or unhealthy (others are left as
// they are). Rules (ELBv2): an initial target becomes healthy after its first passing check
// and unhealthy after UnhealthyThresholdCount failures in a row; a healthy one becomes
// unhealthy after UnhealthyThresholdCount failures in a row; an unhealthy one becomes healthy
// after HealthyThresholdCount passes in a row.
HealthChange applyCheck(model::Target& target, const model::TargetGroup& tg,
                        const CheckResult& result);

} // namespace tide::control
