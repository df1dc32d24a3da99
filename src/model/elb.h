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
  std::string loadBalancerArn;  // arn:aws:elasticloadbalancing:REGION:ACCOUNT:
                                //   loadbalancer/app/NAME/16 hex digits
  std::string loadBalancerName; // 1..32 of letters, digits and "-"; unique
  // tide: its own loopback address, where its listeners listen (besides 127.0.0.1, shared):
  // 127.2.B.x given by the server (docs/load-balancer.md "Addresses"), or the BindAddress asked
  // for. Empty only in rows from before addresses were given; the server gives those one when
  // it starts.
  std::string ipAddress;
  TimeMs createdTime = 0;
  int idleTimeoutSeconds = 60;                    // attribute idle_timeout.timeout_seconds, 1..4000
  std::string desyncMitigationMode = "defensive"; // routing.http.desync_mitigation_mode
  std::vector<Tag> tags;
  // Network placement (SetSubnets, SetSecurityGroups). Empty subnetIds: the default VPC's
  // default subnets. Its security groups are what instances' rules admit it by (its
  // connections to targets come from ipAddress); they do not filter its own listeners.
  std::vector<std::string> subnetIds;
  std::vector<std::string> securityGroupIds;
  // Limits, tide's own attributes (docs/load-balancer.md "Limits and slow clients").
  int maxUriBytes = 8192;                 // tide.http.max_uri_bytes, 256..1048576: longer is 414
  int maxRequestBodyBytes = 0;            // tide.http.max_request_body_bytes, 0 (unlimited)..: 413
  int requestHeaderTimeoutSeconds = 60;   // tide.http.request_header_timeout_seconds, 1..4000: 408
  int maxConnectionsPerListener = 100000; // tide.listener.max_connections, 1..1000000
  int maxConnectionsPerClient = 0;        // tide.listener.max_connections_per_client,
                                          // 0..1000000; 0: a quarter of the above
  // Access log (ALB's attributes; tide writes to <data-dir>/access-logs/BUCKET/PREFIX/...).
  bool accessLogsEnabled = false; // access_logs.s3.enabled
  std::string accessLogsBucket;   // access_logs.s3.bucket
  std::string accessLogsPrefix;   // access_logs.s3.prefix
};

// One target group of a weighted forward action (ForwardConfig.TargetGroups[]).
struct TargetGroupTuple {
  std::string targetGroupArn;
  int weight = 1; // 0..999; a group of weight 0 gets no requests
  bool operator==(const TargetGroupTuple&) const = default;
};

// A listener's default action, or a rule's action.
struct ListenerAction {
  std::string type = "forward";                      // "forward", "redirect" or "fixed-response"
  std::string targetGroupArn;                        // forward to one group: where to
  int fixedStatusCode = 200;                         // fixed-response: 2XX, 4XX or 5XX
  std::string fixedContentType = "text/plain";       // fixed-response
  std::string fixedMessageBody;                      // fixed-response, at most 1024 characters
  std::vector<TargetGroupTuple> forwardTargetGroups; // forward: ForwardConfig.TargetGroups, 1..5
                                                     // (empty: targetGroupArn with weight 1)
  std::string redirectProtocol = "#{protocol}";      // redirect: HTTP, HTTPS or #{protocol}
  std::string redirectHost = "#{host}";              // redirect: 1..128, tokens allowed
  std::string redirectPort = "#{port}";              // redirect: 1..65535 or #{port}
  std::string redirectPath = "/#{path}";             // redirect: starts with "/", 1..128
  std::string redirectQuery = "#{query}";            // redirect: 0..128, no leading "?"
  std::string redirectStatusCode = "HTTP_301";       // redirect: HTTP_301 or HTTP_302
  bool operator==(const ListenerAction&) const = default;
};

// The target groups a forward action sends to, with their weights.
inline std::vector<TargetGroupTuple> forwardGroups(const ListenerAction& a) {
  if (a.type != "forward") {
    return {};
  }
  if (!a.forwardTargetGroups.empty()) {
    return a.forwardTargetGroups;
  }
  return {{a.targetGroupArn, 1}};
}

// A key and value of a query-string condition; an empty key matches any key.
struct QueryStringKeyValue {
  std::string key;
  std::string value;
  bool operator==(const QueryStringKeyValue&) const = default;
};

// A rule condition (RuleCondition): AND across a rule's conditions, OR within one's values.
struct RuleCondition {
  std::string field;               // host-header, path-pattern, http-header, http-request-method,
                                   // query-string or source-ip
  std::vector<std::string> values; // all fields but http-header and query-string
  std::string httpHeaderName;      // http-header: the header to look at
  std::vector<QueryStringKeyValue> queryValues; // query-string
  bool operator==(const RuleCondition&) const = default;
};

// A listener rule other than the default one (the listener's DefaultActions are the default
// rule, listed last by DescribeRules).
struct Rule {
  std::string ruleArn; // ...:listener-rule/app/LBNAME/LBID/LISTENERID/16 hex digits
  int priority = 1;    // 1..50000, unique per listener; lower is evaluated first
  std::vector<RuleCondition> conditions; // 1..5 match evaluations in all
  std::vector<ListenerAction> actions;   // exactly one: forward, redirect or fixed-response
  std::vector<Tag> tags;
  bool operator==(const Rule&) const = default;
};

struct Listener {
  std::string listenerArn; // ...:listener/app/LBNAME/LBID/16 hex digits
  std::string loadBalancerArn;
  int port = 80; // 1..65535, unique among listeners on one bind address
  std::string protocol = "HTTP";
  std::vector<ListenerAction> defaultActions; // exactly one
  std::vector<Rule> rules;                    // the listener's rules, by priority
  std::vector<Tag> tags;
  // HTTPS listeners (docs/tls.md): the default certificate (Certificates in CreateListener),
  // the others offered by SNI (AddListenerCertificates), and the security policy by name.
  std::string defaultCertificateArn;           // HTTPS: an ACM certificate ARN; HTTP: empty
  std::vector<std::string> sniCertificateArns; // the listener's other certificates, as added
  std::string sslPolicy;                       // HTTPS: an ELBSecurityPolicy-* name; HTTP: empty
};

// Every target group the listener's default actions and rules forward to (with repeats).
inline std::vector<std::string> targetGroupsOf(const Listener& l) {
  std::vector<std::string> out;
  auto add = [&](const std::vector<ListenerAction>& actions) {
    for (const ListenerAction& a : actions) {
      for (const TargetGroupTuple& t : forwardGroups(a)) {
        out.push_back(t.targetGroupArn);
      }
    }
  };
  add(l.defaultActions);
  for (const Rule& r : l.rules) {
    add(r.actions);
  }
  return out;
}

// Bounds of the overload protection attributes (tide.target.*, tide.queue.*).
inline constexpr int kMaxConcurrencyPerTarget = 100000;
// TargetGroup::maxConcurrencyPerTarget for tide.target.max_concurrency = adaptive.
inline constexpr int kAdaptiveConcurrency = -1;
inline constexpr int kMaxQueueLength = 100000;
inline constexpr int kMaxQueueTimeoutMs = 600000;

struct TargetGroup {
  std::string targetGroupArn;  // ...:targetgroup/NAME/16 hex digits
  std::string targetGroupName; // 1..32 of letters, digits and "-"; unique
  std::string protocol = "HTTP";
  // How the balancer speaks to the targets and how they are health-checked: HTTP1, HTTP2 (h2c
  // checks matching HTTP codes) or GRPC (h2c gRPC checks; `matcher` holds gRPC codes).
  std::string protocolVersion = "HTTP1";
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
  std::string matcher = "200";                  // "200", "200,302" or "200-299"; GRPC: gRPC
                                                // codes 0..99 ("12", "0,1", "0-5")
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
  // Overload protection (tide's own; docs/load-balancer.md "Overload").
  int maxConcurrencyPerTarget = kAdaptiveConcurrency; // tide.target.max_concurrency: adaptive
                                                      // (-1), or 0..100000 (0: unlimited)
  int queueMaxLength = 1000; // tide.queue.max_length, 0..100000 (per balancer worker)
  int queueTimeoutMs = 1000; // tide.queue.timeout_ms, 1..600000

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
  int consecutive = 0;     // passes (positive) or failures (negative) in a row: the health
                           // checker's working count, kept in memory and never stored (0 as read)
  TimeMs registeredAt = 0;
  TimeMs drainingSince = 0; // when deregistered
  bool operator==(const Target&) const = default;
};

} // namespace tide::model
