// Elastic Load Balancing v2 resources (Application Load Balancers), named and shaped as in the
// ELBv2 API. Type-only header: keep its includes minimal.
#pragma once

#include "common/clock.h"
#include "model/types.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tide::model {

struct LoadBalancer {
  std::string loadBalancerArn;           // arn:aws:elasticloadbalancing:local:000000000000:
                                         //   loadbalancer/app/NAME/16 hex digits
  std::string loadBalancerName;          // 1..32 of letters, digits and "-"; unique
  std::string bindAddress = "127.0.0.1"; // tide: where its listeners listen (DNSName)
  TimeMs createdTime = 0;
  int idleTimeoutSeconds = 60;                    // attribute idle_timeout.timeout_seconds, 1..4000
  std::string desyncMitigationMode = "defensive"; // routing.http.desync_mitigation_mode
  std::vector<Tag> tags;
  // Limits, tide's own attributes (docs/load-balancer.md "Limits and slow clients").
  int maxUriBytes = 8192;                 // tide.http.max_uri_bytes, 256..1048576: longer is 414
  int maxRequestBodyBytes = 0;            // tide.http.max_request_body_bytes, 0 (unlimited)..: 413
  int requestHeaderTimeoutSeconds = 60;   // tide.http.request_header_timeout_seconds, 1..4000: 408
  int maxConnectionsPerListener = 100000; // tide.listener.max_connections, 1..1000000
  // Access log (ALB's attributes; tide writes to <data-dir>/access-logs/BUCKET/PREFIX/...).
  bool accessLogsEnabled = false; // access_logs.s3.enabled
  std::string accessLogsBucket;   // access_logs.s3.bucket
  std::string accessLogsPrefix;   // access_logs.s3.prefix
};

// A listener's default action.
struct ListenerAction {
  std::string type = "forward";                // "forward" or "fixed-response"
  std::string targetGroupArn;                  // forward: where to
  int fixedStatusCode = 200;                   // fixed-response: 2XX, 4XX or 5XX
  std::string fixedContentType = "text/plain"; // fixed-response
  std::string fixedMessageBody;                // fixed-response, at most 1024 characters
  bool operator==(const ListenerAction&) const = default;
};

struct Listener {
  std::string listenerArn; // ...:listener/app/LBNAME/LBID/16 hex digits
  std::string loadBalancerArn;
  int port = 80; // 1..65535, unique among listeners on one bind address
  std::string protocol = "HTTP";
  std::vector<ListenerAction> defaultActions; // exactly one for now
};

struct TargetGroup {
  std::string targetGroupArn;  // ...:targetgroup/NAME/16 hex digits
  std::string targetGroupName; // 1..32 of letters, digits and "-"; unique
  std::string protocol = "HTTP";
  int port = 80; // targets' default port
  std::string targetType = "instance";
  // Health checks (ELBv2 defaults for HTTP target groups of an ALB). tide accepts fractions of a
  // second for the interval and timeout so that tests and demos can be quick.
  std::string healthCheckPath = "/";
  std::string healthCheckPort = "traffic-port"; // or a port number
  double healthCheckIntervalSeconds = 30;       // AWS: 5..300; tide: 0.1..300
  double healthCheckTimeoutSeconds = 5;         // AWS: 2..120; tide: 0.1..120, < interval
  int healthyThresholdCount = 5;                // 2..10
  int unhealthyThresholdCount = 2;              // 2..10
  std::string matcher = "200";                  // "200", "200,302" or "200-299"
  bool healthCheckEnabled = true;
  // Attributes.
  int deregistrationDelaySeconds = 300;  // deregistration_delay.timeout_seconds, 0..3600
  std::string algorithm = "round_robin"; // load_balancing.algorithm.type

  std::string anomalyMitigation = "off";    // load_balancing.algorithm.anomaly_mitigation: on|off
                                            // (weighted_random only; accepted, no effect yet)
  int slowStartSeconds = 0;                 // slow_start.duration_seconds: 0 (off) or 30..900
  bool stickinessEnabled = false;           // stickiness.enabled
  std::string stickinessType = "lb_cookie"; // stickiness.type: lb_cookie | app_cookie
  int lbCookieDurationSeconds = 86400;      // stickiness.lb_cookie.duration_seconds, 1..604800
  std::string appCookieName;                // stickiness.app_cookie.cookie_name
  int appCookieDurationSeconds = 86400;     // stickiness.app_cookie.duration_seconds, 1..604800

  TimeMs createdTime = 0;
  std::vector<Tag> tags;
};

// A target's health state (DescribeTargetHealth). Transitions:
//   registered → initial (or unused when no listener forwards to its group)
//   initial → healthy (first passing check) | unhealthy (UnhealthyThresholdCount failures)
//   healthy ⇄ unhealthy (thresholds, with one counter as in HAProxy's rise/fall)
//   any → draining (deregistered) → removed after the deregistration delay
enum class TargetHealthState {
  Initial,   // "initial": registered, first checks running
  Healthy,   // "healthy"
  Unhealthy, // "unhealthy"
  Unused,    // "unused": no listener sends traffic to its group, or its group has no LB
  Draining,  // "draining": deregistered; finishing in-flight requests
};

struct Target {
  std::string targetGroupArn;
  std::string id; // instance id
  int port = 0;   // 0: the group's port
  TargetHealthState state = TargetHealthState::Initial;
  std::string reason;      // Elb.InitialHealthChecking, Target.FailedHealthChecks, ...
  std::string description; // "Health checks failed with these codes: [500]", ...
  int consecutive = 0;     // passes (positive) or failures (negative) in a row
  TimeMs registeredAt = 0;
  TimeMs drainingSince = 0; // when deregistered
  bool operator==(const Target&) const = default;
};

} // namespace tide::model
