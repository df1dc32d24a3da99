// The data plane's configuration: one immutable, versioned Snapshot built by the control plane
// (the publisher) and adopted by every balancer worker on its own loop. Type-only header: keep
// its includes to the minimum so that anything can include it.
//
// Ownership: published as std::shared_ptr<const Snapshot>. A worker keeps a reference per
// request in flight, so a request always finishes with the snapshot it started with.
//
// Slots: load balancers, target groups and targets carry a `slot`, a small stable index chosen
// by the publisher (it stays the same for the same resource across snapshots). Workers index
// per-target state (keep-alive pools, outstanding counts) and counters by slot, never by name.
// Slots must stay below BalancerOptions' capacities.
#pragma once

#include "balancer/desync.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tide::balancer {

// An IPv4 address and port, both in host byte order.
struct Endpoint {
  uint32_t address = 0; // 127.0.0.1 is 0x7f000001
  uint16_t port = 0;    // 1..65535
  bool operator==(const Endpoint&) const = default;
};

// What the balancer may do with a registered target (HAProxy keeps the same split between
// operational and admin state). Transitions are the control plane's: a target is registered as
// Initial (or Routable when its group has no health checks), becomes Routable or Unhealthy with
// health checks and moves between the two, and becomes Draining when deregistered until the
// deregistration delay or its last request ends; then it leaves the snapshot.
enum class TargetState : uint8_t {
  Routable,  // healthy (or health unknown but allowed): gets new requests
  Draining,  // deregistering: no new requests; in-flight ones finish; keep-alive closed after
  Unhealthy, // failed health checks: no new requests unless every target of the group is
             // Unhealthy (fail open, as ALB does)
  Initial,   // registered, no health check passed yet: never gets requests, and keeps its
             // group from failing open
};

struct Target {
  std::string id;    // the target's id as registered (instance id or address)
  Endpoint endpoint; // where to connect
  uint32_t slot = 0; // stable index for per-target state and counters
  TargetState state = TargetState::Routable; // see TargetState
  // CLOCK_MONOTONIC ms when its slow start began (it became Routable); 0: not in slow start.
  // Used with TargetGroup::slowStart.
  int64_t slowStartBeginMs = 0;
};

// Sticky sessions (target group attributes stickiness.*): which cookie binds a client to a target.
struct Stickiness {
  enum class Type : uint8_t {
    None,      // stickiness.enabled false: every request goes to the algorithm
    LbCookie,  // the balancer issues AWSALB (and AWSALBCORS) naming the target
    AppCookie, // the balancer issues AWSALBAPP-0 when the target sets the cookie appCookieName
  };
  Type type = Type::None;           // see Type
  uint32_t durationSeconds = 86400; // how long a binding holds: 1..604800
  std::string appCookieName;        // AppCookie: the application's cookie (an RFC 6265 token)
  bool operator==(const Stickiness&) const = default;
};

// TargetGroup::maxConcurrency for `adaptive`.
inline constexpr uint32_t kAdaptiveConcurrency = UINT32_MAX;

// How a target group's targets speak (its ProtocolVersion): HTTP/1.1, or HTTP/2 with prior
// knowledge (h2c) for HTTP2 and GRPC groups (docs/load-balancer.md "gRPC and HTTP/2 target
// groups"). Only requests that came over HTTP/2 go to HTTP2 and GRPC groups, only POSTs to GRPC
// groups, and gRPC requests only to GRPC groups; the others are answered 464, as ALB does.
enum class ProtocolVersion : uint8_t { Http1, Http2, Grpc };

struct TargetGroup {
  std::string name;                      // TargetGroupName
  std::string arn;                       // TargetGroupArn (may be empty in `tide balance`)
  uint32_t slot = 0;                     // stable index for per-group counters
  std::string algorithm = "round_robin"; // a name in the algorithm table (lb_algorithm.h)
  std::vector<Target> targets;           // registered targets, in any state
  // slow_start.duration_seconds: a target's weight ramps linearly from its slowStartBeginMs over
  // this; 0: off.
  std::chrono::milliseconds slowStart{0};
  // stickiness.* attributes.
  Stickiness stickiness;
  // Overload protection (docs/load-balancer.md "Overload"). tide.target.max_concurrency: at most
  // this many requests outstanding on one target (each of W workers takes ceil(N / W) of it);
  // 0: unlimited, no queue; kAdaptiveConcurrency (the default): each target's limit follows its
  // measured latency (adaptive_limit.h), per worker.
  uint32_t maxConcurrency = kAdaptiveConcurrency;
  // tide.queue.max_length: requests waiting for a free target slot, per worker (FIFO); a request
  // finding the queue full is answered 503 at once. 0: no queue.
  uint32_t queueMaxLength = 1000;
  // tide.queue.timeout_ms: a request waiting this long is answered 503.
  std::chrono::milliseconds queueTimeout{1'000};
  ProtocolVersion protocolVersion = ProtocolVersion::Http1;
};

// A fixed-response action, as ALB's FixedResponseConfig.
struct FixedResponse {
  int statusCode = 200;                   // 2XX, 4XX or 5XX
  std::string contentType = "text/plain"; // sent as Content-Type
  std::string body;                       // sent as is
};

// A redirect action, as ALB's RedirectActionConfig. Each part may hold the tokens #{protocol},
// #{host}, #{port}, #{path} (without its leading "/") and #{query} (without the "?").
struct Redirect {
  std::string protocol = "#{protocol}"; // HTTP, HTTPS or #{protocol}
  std::string host = "#{host}";         // host name
  std::string port = "#{port}";         // port number
  std::string path = "/#{path}";        // starts with "/"
  std::string query = "#{query}";       // without the leading "?"
  int statusCode = 301;                 // 301 or 302
  bool operator==(const Redirect&) const = default;
};

// One target group of a weighted forward action.
struct WeightedTargetGroup {
  uint32_t targetGroup = 0; // index into Snapshot::targetGroups
  uint32_t weight = 1;      // 0..999; 0: never chosen
  bool operator==(const WeightedTargetGroup&) const = default;
};

// A listener's default action, or a rule's action.
struct Action {
  enum class Kind : uint8_t {
    Forward,       // forward to targetGroups[targetGroup] (or by weight over weightedGroups)
    FixedResponse, // answer with fixedResponse
    Redirect,      // answer with a redirect
  };
  Kind kind = Kind::Forward;   // which of the three
  uint32_t targetGroup = 0;    // index into Snapshot::targetGroups (Forward only)
  FixedResponse fixedResponse; // (FixedResponse only)
  std::vector<WeightedTargetGroup> weightedGroups; // Forward: when not empty, chosen by weight
                                                   // over these (targetGroup is ignored)
  Redirect redirect;                               // (Redirect only)
};

// A rule condition: a request matches when one of the values matches (OR); a rule matches when
// all its conditions do (AND). Wildcards * (any run) and ? (one character) as ALB has them.
struct RuleCondition {
  enum class Field : uint8_t {
    HostHeader,        // values: host names, case-insensitive, wildcards
    PathPattern,       // values: path patterns, case-sensitive, wildcards
    HttpHeader,        // headerName; values case-insensitive, wildcards
    HttpRequestMethod, // values: methods, exact
    QueryString,       // queryValues: key (may be empty) and value, case-insensitive, wildcards
    SourceIp,          // values: IPv4 CIDRs of the client address
  };
  Field field = Field::PathPattern;                             // see Field
  std::vector<std::string> values;                              // see Field
  std::string headerName;                                       // HttpHeader only
  std::vector<std::pair<std::string, std::string>> queryValues; // QueryString only
  bool operator==(const RuleCondition&) const = default;
};

// A listener rule: the first rule (lowest priority) whose conditions all match decides.
struct Rule {
  std::string arn;                       // RuleArn (may be empty)
  int priority = 1;                      // 1..50000, unique within the listener
  std::vector<RuleCondition> conditions; // all must match
  Action action;                         // what to do with a matching request
};

// One certificate an HTTPS listener serves (an ACM certificate, docs/tls.md).
struct TlsCertificate {
  std::string arn;                // CertificateArn
  std::string certificatePem;     // the leaf certificate, then its chain (what is sent), PEM
  std::string privateKeyPem;      // the leaf's private key, PEM (kept in memory only)
  std::vector<std::string> names; // the DNS names it is for (CN and SANs), lowercase; a
                                  // "*.example.com" wildcard covers one label
  bool operator==(const TlsCertificate&) const = default;
};

// The TLS side of an HTTPS listener: its certificates and its security policy, resolved to
// what a TLS library takes (src/balancer/tls_context.h builds OpenSSL contexts from it).
struct TlsConfig {
  std::vector<TlsCertificate> certificates; // the default certificate first, then those added
                                            // for SNI (chosen by name: exact, then wildcard,
                                            // else the default)
  std::string policyName;                   // the SslPolicy ("ELBSecurityPolicy-2016-08")
  uint16_t minVersion = 0x0303;             // lowest protocol version (wire value: 0x0301 is
                                            // TLS 1.0, 0x0303 TLS 1.2, 0x0304 TLS 1.3)
  uint16_t maxVersion = 0x0304;             // highest protocol version (wire value)
  std::string cipherList;   // TLS 1.0-1.2 ciphers, OpenSSL's list syntax ("A:B"), by priority
  std::string cipherSuites; // TLS 1.3 suites, the same syntax; empty when 1.3 is not allowed
  bool operator==(const TlsConfig&) const = default;
};

// A listener listens on its own endpoint (its load balancer's address) and, when it has one,
// on a shared endpoint (127.0.0.1 with the same port) that other load balancers' listeners of
// that port share too. A request on an endpoint that several listeners share goes to the one
// whose load balancer's dnsName is the request's Host (any port, any case); when none is named
// it is answered 421 Misdirected Request. An endpoint only one listener has takes every request.
struct Listener {
  std::string arn;         // ListenerArn (may be empty)
  Endpoint endpoint;       // where to listen: its load balancer's own address and its port
  Endpoint sharedEndpoint; // also listen here, shared by port (address 0: nowhere else)
  Action defaultAction;    // what to do with every request no rule matches
  std::vector<Rule> rules; // by priority, lowest first; evaluated before the default action
  bool https = false;      // an HTTPS listener: TLS with `tls` (docs/tls.md), never served
                           // as plain HTTP
  TlsConfig tls;           // HTTPS only
};

struct LoadBalancer {
  std::string name;    // LoadBalancerName
  std::string dnsName; // DNSName: the Host that names it on a
                       // shared endpoint (see Listener)
  std::string arn;     // LoadBalancerArn (may be empty)
  uint32_t slot = 0;   // stable index for per-load-balancer counters
  // Its own address (host order): the source of its connections to targets, by which their
  // security groups admit them. 0: unbound (the kernel's choice, 127.0.0.1).
  uint32_t address = 0;
  std::vector<Listener> listeners;                 // HTTP and HTTPS listeners
  std::chrono::milliseconds idleTimeout{60'000};   // idle_timeout.timeout_seconds: idle client
                                                   // connections are closed after this
  std::chrono::milliseconds targetTimeout{60'000}; // no answer from a target within this: 504
  uint32_t maxHeaderBytes = 16 * 1024;             // request or response head larger: 431 / 502
  bool addForwardedHeaders = true; // add X-Forwarded-For (appended), -Proto and -Port
  DesyncMitigationMode desyncMitigationMode =
      DesyncMitigationMode::Defensive; // routing.http.desync_mitigation_mode (desync.h)
  // Limits (docs/load-balancer.md "Limits and slow clients").
  uint32_t maxUriBytes = 8 * 1024;  // request target longer: 414 (tide.http.max_uri_bytes)
  uint64_t maxRequestBodyBytes = 0; // request body longer: 413; 0: unlimited
                                    // (tide.http.max_request_body_bytes)
  std::chrono::milliseconds requestHeaderTimeout{60'000}; // a head not complete within this
                                                          // after it started (or after connect):
                                                          // 408 and close, or close when nothing
                                                          // came (tide.http.request_header_
                                                          // timeout_seconds)
  uint32_t maxConnectionsPerListener = 100'000; // more client connections on one listener are
                                                // closed at once (tide.listener.max_connections)
  uint32_t maxConnectionsPerClient = 0; // the same, from one client address; 0: a quarter of
                                        // the above (tide.listener.max_connections_per_client,
                                        // admission.h)
  std::string accessLogPath;            // append ALB access log entries to this file; empty: off
};

struct Snapshot {
  uint64_t version = 0;                    // grows with every publication
  std::vector<LoadBalancer> loadBalancers; // each with its listeners
  std::vector<TargetGroup> targetGroups;   // referenced by index from actions
};

} // namespace tide::balancer
