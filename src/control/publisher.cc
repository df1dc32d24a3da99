#include "control/publisher.h"

#include "common/text.h"
#include "control/listener_tls.h"
#include "model/dns_name.h"

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <set>

namespace tide::control {

namespace {

// The slot for key: the one it had, else the smallest that is free.
uint32_t slotFor(const std::string& key, const std::map<std::string, uint32_t>& old,
                 std::map<std::string, uint32_t>& now) {
  if (auto it = now.find(key); it != now.end()) {
    return it->second;
  }
  if (auto it = old.find(key); it != old.end()) {
    now[key] = it->second;
    return it->second;
  }
  std::set<uint32_t> taken;
  for (const auto& [k, s] : now) {
    taken.insert(s);
  }
  for (const auto& [k, s] : old) {
    if (!now.count(k)) {
      // Keep slots of resources still to be placed in this pass free for them.
      taken.insert(s);
    }
  }
  uint32_t s = 0;
  while (taken.count(s)) {
    ++s;
  }
  now[key] = s;
  return s;
}

constexpr uint32_t kLoopback = 0x7f000001; // 127.0.0.1

uint32_t ipv4(const std::string& text) {
  in_addr a{};
  return inet_pton(AF_INET, text.c_str(), &a) == 1 ? ntohl(a.s_addr) : 0;
}

bool sameTargets(const std::vector<balancer::Target>& a, const std::vector<balancer::Target>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || !(a[i].endpoint == b[i].endpoint) || a[i].slot != b[i].slot ||
        a[i].state != b[i].state || a[i].slowStartBeginMs != b[i].slowStartBeginMs) {
      return false;
    }
  }
  return true;
}

// The access log file of a load balancer: ALB's key layout under the directory, one file per
// load balancer (appended, not rotated). Empty when the log is off.
std::string accessLogPath(const std::string& dir, const model::LoadBalancer& lb) {
  if (dir.empty() || !lb.accessLogsEnabled || lb.accessLogsBucket.empty()) {
    return "";
  }
  std::string id = lb.loadBalancerArn.substr(lb.loadBalancerArn.rfind('/') + 1);
  std::string path = dir + "/" + lb.accessLogsBucket + "/";
  if (!lb.accessLogsPrefix.empty()) {
    path += lb.accessLogsPrefix + "/";
  }
  // The account and region are the load balancer's own, from its ARN.
  std::string region = arnField(lb.loadBalancerArn, 3);
  std::string account = arnField(lb.loadBalancerArn, 4);
  return path + "AWSLogs/" + account + "/elasticloadbalancing/" + region + "/" + account +
         "_elasticloadbalancing_" + region + "_app." + lb.loadBalancerName + "." + id + ".log";
}

bool sameAction(const balancer::Action& a, const balancer::Action& b) {
  return a.kind == b.kind && a.targetGroup == b.targetGroup &&
         a.fixedResponse.statusCode == b.fixedResponse.statusCode &&
         a.fixedResponse.body == b.fixedResponse.body &&
         a.fixedResponse.contentType == b.fixedResponse.contentType &&
         a.weightedGroups == b.weightedGroups && a.redirect == b.redirect;
}

bool sameRules(const std::vector<balancer::Rule>& a, const std::vector<balancer::Rule>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].arn != b[i].arn || a[i].priority != b[i].priority ||
        a[i].conditions != b[i].conditions || !sameAction(a[i].action, b[i].action)) {
      return false;
    }
  }
  return true;
}

// A model action in the data plane's terms; groupIndex maps target group ARNs to indexes.
balancer::Action toAction(const model::ListenerAction& a,
                          const std::map<std::string, uint32_t>& groupIndex) {
  balancer::Action out;
  auto indexOf = [&](const std::string& arn) {
    auto it = groupIndex.find(arn);
    return it == groupIndex.end() ? 0u : it->second;
  };
  if (a.type == "forward") {
    out.kind = balancer::Action::Kind::Forward;
    std::vector<model::TargetGroupTuple> groups = model::forwardGroups(a);
    out.targetGroup = groups.empty() ? 0 : indexOf(groups.front().targetGroupArn);
    if (groups.size() > 1) {
      for (const auto& g : groups) {
        out.weightedGroups.push_back({indexOf(g.targetGroupArn), static_cast<uint32_t>(g.weight)});
      }
    }
  } else if (a.type == "redirect") {
    out.kind = balancer::Action::Kind::Redirect;
    out.redirect = {a.redirectProtocol, a.redirectHost,
                    a.redirectPort,     a.redirectPath,
                    a.redirectQuery,    a.redirectStatusCode == "HTTP_302" ? 302 : 301};
  } else {
    out.kind = balancer::Action::Kind::FixedResponse;
    out.fixedResponse = {a.fixedStatusCode, a.fixedContentType, a.fixedMessageBody};
  }
  return out;
}

balancer::RuleCondition toCondition(const model::RuleCondition& c) {
  using Field = balancer::RuleCondition::Field;
  balancer::RuleCondition out;
  out.field = c.field == "host-header"           ? Field::HostHeader
              : c.field == "http-header"         ? Field::HttpHeader
              : c.field == "http-request-method" ? Field::HttpRequestMethod
              : c.field == "query-string"        ? Field::QueryString
              : c.field == "source-ip"           ? Field::SourceIp
                                                 : Field::PathPattern;
  out.values = c.values;
  out.headerName = c.httpHeaderName;
  for (const auto& kv : c.queryValues) {
    out.queryValues.emplace_back(kv.key, kv.value);
  }
  return out;
}

// Whether two snapshots configure the data plane the same way (versions aside).
bool sameConfiguration(const balancer::Snapshot& a, const balancer::Snapshot& b) {
  if (a.loadBalancers.size() != b.loadBalancers.size() ||
      a.targetGroups.size() != b.targetGroups.size()) {
    return false;
  }
  for (size_t i = 0; i < a.targetGroups.size(); ++i) {
    const auto& x = a.targetGroups[i];
    const auto& y = b.targetGroups[i];
    if (x.arn != y.arn || x.slot != y.slot || x.algorithm != y.algorithm ||
        x.slowStart != y.slowStart || !(x.stickiness == y.stickiness) ||
        x.maxConcurrency != y.maxConcurrency || x.queueMaxLength != y.queueMaxLength ||
        x.queueTimeout != y.queueTimeout || x.protocolVersion != y.protocolVersion ||
        !sameTargets(x.targets, y.targets)) {
      return false;
    }
  }
  for (size_t i = 0; i < a.loadBalancers.size(); ++i) {
    const auto& x = a.loadBalancers[i];
    const auto& y = b.loadBalancers[i];
    if (x.arn != y.arn || x.slot != y.slot || x.address != y.address ||
        x.idleTimeout != y.idleTimeout || x.listeners.size() != y.listeners.size() ||
        x.dnsName != y.dnsName || x.desyncMitigationMode != y.desyncMitigationMode) {
      return false;
    }
    if (x.maxUriBytes != y.maxUriBytes || x.maxRequestBodyBytes != y.maxRequestBodyBytes ||
        x.requestHeaderTimeout != y.requestHeaderTimeout ||
        x.maxConnectionsPerListener != y.maxConnectionsPerListener ||
        x.maxConnectionsPerClient != y.maxConnectionsPerClient ||
        x.accessLogPath != y.accessLogPath) {
      return false;
    }
    for (size_t k = 0; k < x.listeners.size(); ++k) {
      const auto& l = x.listeners[k];
      const auto& m = y.listeners[k];
      if (l.arn != m.arn || !(l.endpoint == m.endpoint) ||
          !(l.sharedEndpoint == m.sharedEndpoint) || l.defaultAction.kind != m.defaultAction.kind ||
          l.defaultAction.targetGroup != m.defaultAction.targetGroup ||
          l.defaultAction.fixedResponse.statusCode != m.defaultAction.fixedResponse.statusCode ||
          l.defaultAction.fixedResponse.body != m.defaultAction.fixedResponse.body ||
          l.defaultAction.fixedResponse.contentType != m.defaultAction.fixedResponse.contentType ||
          !sameAction(l.defaultAction, m.defaultAction) || !sameRules(l.rules, m.rules) ||
          l.https != m.https || !(l.tls == m.tls)) {
        return false;
      }
    }
  }
  return true;
}

balancer::Stickiness stickinessOf(const model::TargetGroup& g) {
  balancer::Stickiness out;
  if (!g.stickinessEnabled) {
    return out;
  }
  bool app = g.stickinessType == "app_cookie";
  out.type = app ? balancer::Stickiness::Type::AppCookie : balancer::Stickiness::Type::LbCookie;
  out.durationSeconds =
      static_cast<uint32_t>(app ? g.appCookieDurationSeconds : g.lbCookieDurationSeconds);
  out.appCookieName = app ? g.appCookieName : "";
  return out;
}

// Slow start (ALB): a target that becomes Routable ramps up over the group's duration, but only
// while another Routable target of the group is past its ramp (the first targets of a group,
// or all of them at start-up, take their full share at once). A target keeps the ramp it began
// until it stops being Routable; `known` holds those of the last pass, `now` receives this one's.
void beginSlowStarts(balancer::TargetGroup& tg, const std::vector<std::string>& keys,
                     const std::map<std::string, int64_t>& known,
                     std::map<std::string, int64_t>& now, int64_t nowMs) {
  int64_t duration = tg.slowStart.count();
  bool anySettled = false;
  for (size_t i = 0; i < tg.targets.size(); ++i) {
    auto it = known.find(keys[i]);
    if (tg.targets[i].state == balancer::TargetState::Routable && it != known.end() &&
        (it->second == 0 || nowMs - it->second >= duration)) {
      anySettled = true;
    }
  }
  for (size_t i = 0; i < tg.targets.size(); ++i) {
    balancer::Target& t = tg.targets[i];
    if (t.state != balancer::TargetState::Routable) {
      continue;
    }
    auto it = known.find(keys[i]);
    int64_t begin = it != known.end() ? it->second : (duration > 0 && anySettled ? nowMs : 0);
    now[keys[i]] = begin;
    t.slowStartBeginMs = begin;
  }
}

} // namespace

Status Publisher::publish() {
  auto snap = std::make_shared<balancer::Snapshot>();
  Slots slots;
  std::map<std::string, int64_t> routable;
  int64_t nowMs = monotonicMs_ ? monotonicMs_()
                               : std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count();
  TIDE_RETURN_IF_ERROR(store_.transact(
      [&](store::Tx& tx) -> Status {
        auto lbs = tx.loadBalancers();
        auto listeners = tx.listeners();
        auto groups = tx.targetGroups();
        auto targets = tx.targets("");
        auto instances = tx.instances();
        auto certificates = tx.certificates();
        TIDE_RETURN_IF_ERROR(
            firstError({&lbs.status(), &listeners.status(), &groups.status(), &targets.status(),
                        &instances.status(), &certificates.status()}));
        std::map<std::string, const model::Certificate*> certificateByArn;
        for (const auto& c : *certificates) {
          certificateByArn[c.certificateArn] = &c;
        }
        std::map<std::string, std::string> addressOf;
        for (const auto& i : *instances) {
          if (i.state == model::InstanceState::Running) {
            addressOf[i.instanceId] = i.privateIpAddress;
          }
        }
        // Only groups that a listener forwards to are in the data plane.
        std::map<std::string, uint32_t> groupIndex;
        for (const auto& l : *listeners) {
          for (const std::string& arn : model::targetGroupsOf(l)) {
            groupIndex.emplace(arn, 0);
          }
        }
        for (const auto& g : *groups) {
          if (!groupIndex.count(g.targetGroupArn)) {
            continue;
          }
          balancer::TargetGroup tg;
          tg.name = g.targetGroupName;
          tg.arn = g.targetGroupArn;
          tg.slot = slotFor(g.targetGroupArn, slots_.targetGroups, slots.targetGroups);
          tg.algorithm = g.algorithm;
          tg.slowStart = std::chrono::seconds(g.slowStartSeconds);
          tg.stickiness = stickinessOf(g);
          tg.maxConcurrency = g.maxConcurrencyPerTarget == model::kAdaptiveConcurrency
                                  ? balancer::kAdaptiveConcurrency
                                  : static_cast<uint32_t>(g.maxConcurrencyPerTarget);
          tg.queueMaxLength = static_cast<uint32_t>(g.queueMaxLength);
          tg.queueTimeout = std::chrono::milliseconds(g.queueTimeoutMs);
          tg.protocolVersion = g.protocolVersion == "GRPC"    ? balancer::ProtocolVersion::Grpc
                               : g.protocolVersion == "HTTP2" ? balancer::ProtocolVersion::Http2
                                                              : balancer::ProtocolVersion::Http1;
          std::vector<std::string> keys; // by index in tg.targets
          for (const auto& t : *targets) {
            if (t.targetGroupArn != g.targetGroupArn ||
                t.state == model::TargetHealthState::Unused) {
              continue;
            }
            auto addr = addressOf.find(t.id);
            if (addr == addressOf.end()) {
              continue; // not running: nothing to connect to
            }
            balancer::Target bt;
            bt.id = t.id;
            bt.endpoint = {ipv4(addr->second), static_cast<uint16_t>(t.port)};
            std::string key = t.targetGroupArn + "|" + t.id + "|" + std::to_string(t.port);
            bt.slot = slotFor(key, slots_.targets, slots.targets);
            // Initial: no check passed yet, no traffic; without health checks none will, and
            // the target is routed to as ALB routes to targets whose health is unavailable.
            bt.state =
                t.state == model::TargetHealthState::Healthy    ? balancer::TargetState::Routable
                : t.state == model::TargetHealthState::Draining ? balancer::TargetState::Draining
                : t.state != model::TargetHealthState::Initial  ? balancer::TargetState::Unhealthy
                : g.healthCheckEnabled                          ? balancer::TargetState::Initial
                                                                : balancer::TargetState::Routable;
            tg.targets.push_back(bt);
            keys.push_back(key);
          }
          beginSlowStarts(tg, keys, routable_, routable, nowMs);
          groupIndex[g.targetGroupArn] = static_cast<uint32_t>(snap->targetGroups.size());
          snap->targetGroups.push_back(std::move(tg));
        }
        for (const auto& lb : *lbs) {
          balancer::LoadBalancer out;
          out.name = lb.loadBalancerName;
          out.arn = lb.loadBalancerArn;
          out.dnsName = model::loadBalancerDnsName(lb.loadBalancerArn, lb.loadBalancerName);
          out.slot = slotFor(lb.loadBalancerArn, slots_.loadBalancers, slots.loadBalancers);
          out.idleTimeout = std::chrono::milliseconds(lb.idleTimeoutSeconds * 1000LL);
          // The API accepts only the three names; anything else keeps the default.
          out.desyncMitigationMode = balancer::parseDesyncMitigationMode(lb.desyncMitigationMode)
                                         .value_or(balancer::DesyncMitigationMode::Defensive);
          out.maxUriBytes = static_cast<uint32_t>(lb.maxUriBytes);
          out.maxRequestBodyBytes = static_cast<uint64_t>(lb.maxRequestBodyBytes);
          out.requestHeaderTimeout =
              std::chrono::milliseconds(lb.requestHeaderTimeoutSeconds * 1000LL);
          out.maxConnectionsPerListener = static_cast<uint32_t>(lb.maxConnectionsPerListener);
          out.maxConnectionsPerClient = static_cast<uint32_t>(lb.maxConnectionsPerClient);
          out.accessLogPath = accessLogPath(accessLogDirectory_, lb);
          out.address = lb.ipAddress.empty() ? 0 : ipv4(lb.ipAddress);
          for (const auto& l : *listeners) {
            if (l.loadBalancerArn != lb.loadBalancerArn || l.defaultActions.empty()) {
              continue;
            }
            balancer::Listener bl;
            bl.arn = l.listenerArn;
            // Its own address, and 127.0.0.1 shared with other load balancers' listeners of
            // the port (Host decides there when several share it). A row without an address
            // (cannot happen once the server has started) listens on 127.0.0.1 only.
            uint16_t port = static_cast<uint16_t>(l.port);
            uint32_t own = lb.ipAddress.empty() ? kLoopback : ipv4(lb.ipAddress);
            bl.endpoint = {own, port};
            if (own != kLoopback) {
              bl.sharedEndpoint = {kLoopback, port};
            }
            if (l.protocol == "HTTPS") {
              std::optional<balancer::TlsConfig> tls = listenerTlsConfig(l, certificateByArn);
              if (!tls) {
                continue; // its default certificate is gone: nothing to serve it with
              }
              bl.https = true;
              bl.tls = std::move(*tls);
            }
            bl.defaultAction = toAction(l.defaultActions.front(), groupIndex);
            std::vector<model::Rule> rules = l.rules;
            std::sort(rules.begin(), rules.end(),
                      [](const auto& x, const auto& y) { return x.priority < y.priority; });
            for (const model::Rule& r : rules) {
              if (r.actions.empty()) {
                continue;
              }
              balancer::Rule br;
              br.arn = r.ruleArn;
              br.priority = r.priority;
              for (const auto& c : r.conditions) {
                br.conditions.push_back(toCondition(c));
              }
              br.action = toAction(r.actions.front(), groupIndex);
              bl.rules.push_back(std::move(br));
            }
            out.listeners.push_back(std::move(bl));
          }
          snap->loadBalancers.push_back(std::move(out));
        }
        return Status::ok();
      },
      false));
  routable_ = std::move(routable);
  if (last_ && sameConfiguration(*last_, *snap)) {
    return Status::ok();
  }
  snap->version = ++version_;
  slots_ = std::move(slots);
  last_ = snap;
  sink_(snap);
  return Status::ok();
}

} // namespace tide::control
