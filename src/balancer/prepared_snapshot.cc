#include "balancer/prepared_snapshot.h"

#include "balancer/endpoint.h"
#include "balancer/local_response.h"
#include "balancer/tls_context.h"
#include "common/log.h"

namespace tide::balancer {

namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// The TLS contexts of an HTTPS listener: those `previous` built for the same configuration, else
// new ones. Null when OpenSSL refuses the configuration (said in the log): the listener is not
// listened on, never answered in plain HTTP.
std::shared_ptr<const TlsContexts> tlsContextsFor(const Listener& l,
                                                  const PreparedSnapshot* previous) {
  if (previous != nullptr) {
    for (const PreparedListener& pl : previous->listeners) {
      if (pl.tls && pl.listener->https && pl.listener->tls == l.tls) {
        return pl.tls;
      }
    }
  }
  auto built = TlsContexts::build(l.tls);
  if (!built) {
    logWarn("balancer: HTTPS listener on " + formatEndpoint(l.endpoint) +
            " not served: " + built.status().message());
    return nullptr;
  }
  return std::shared_ptr<const TlsContexts>(std::move(*built));
}

} // namespace

int listenerForHost(const PreparedSocket& socket, std::string_view host) {
  if (!host.empty() && host.back() == '.') {
    host.remove_suffix(1);
  }
  for (size_t i = 0; i < socket.hostNames.size(); ++i) {
    const std::string& name = socket.hostNames[i];
    if (name.empty() || name.size() != host.size()) {
      continue;
    }
    bool same = true;
    for (size_t k = 0; k < name.size() && same; ++k) {
      char c = host[k];
      same = (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) == name[k];
    }
    if (same) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

Result<std::shared_ptr<const PreparedSnapshot>>
prepareSnapshot(std::shared_ptr<const Snapshot> snapshot, const SlotCapacity& capacity,
                const PreparedSnapshot* previous) {
  if (!snapshot) {
    return validationError("no snapshot");
  }
  auto p = std::make_shared<PreparedSnapshot>();
  p->snapshot = snapshot;
  const Snapshot& s = *snapshot;
  std::vector<uint8_t> lbSeen(capacity.loadBalancers, 0);
  uint32_t maxHead = 1024;
  uint32_t weightedCounter = 0; // hands out per-worker counters to weighted forwards
  for (const LoadBalancer& lb : s.loadBalancers) {
    if (lb.slot >= capacity.loadBalancers || lbSeen[lb.slot]) {
      return validationError("load balancer '" + lb.name + "': slot " + std::to_string(lb.slot) +
                             " is out of range or used twice");
    }
    lbSeen[lb.slot] = 1;
    p->loadBalancerSlotEnd = std::max(p->loadBalancerSlotEnd, lb.slot + 1);
    if (lb.maxHeaderBytes < 1024 || lb.maxHeaderBytes > 1024 * 1024) {
      return validationError("load balancer '" + lb.name +
                             "': maxHeaderBytes must be within 1 KiB..1 MiB");
    }
    if (lb.idleTimeout.count() <= 0 || lb.targetTimeout.count() <= 0 ||
        lb.requestHeaderTimeout.count() <= 0) {
      return validationError("load balancer '" + lb.name + "': timeouts must be positive");
    }
    if (lb.maxUriBytes < 1 || lb.maxConnectionsPerListener < 1) {
      return validationError("load balancer '" + lb.name +
                             "': maxUriBytes and maxConnectionsPerListener must be at least 1");
    }
    maxHead = std::max(maxHead, lb.maxHeaderBytes);
    for (const Listener& l : lb.listeners) {
      if (l.endpoint.port == 0) {
        return validationError("listener of '" + lb.name + "': port 0");
      }
      if (l.sharedEndpoint.address != 0 && l.sharedEndpoint.port == 0) {
        return validationError("listener of '" + lb.name + "': shared endpoint without a port");
      }
      PreparedListener pl;
      pl.loadBalancer = &lb;
      pl.listener = &l;
      pl.forwardedPortLine = "X-Forwarded-Port: " + std::to_string(l.endpoint.port) + "\r\n";
      auto action = prepareAction(l.defaultAction, s.targetGroups.size(), weightedCounter);
      if (!action) {
        return validationError("listener on " + formatEndpoint(l.endpoint) + ": " +
                               action.status().message());
      }
      pl.defaultAction = std::move(*action);
      pl.fixedHeadKeepAlive = pl.defaultAction.fixedHeadKeepAlive;
      pl.fixedHeadClose = pl.defaultAction.fixedHeadClose;
      int lastPriority = 0;
      for (const Rule& r : l.rules) {
        if (r.priority < 1 || r.priority > 50000 || r.priority <= lastPriority) {
          return validationError("listener on " + formatEndpoint(l.endpoint) +
                                 ": rule priorities must be 1..50000, unique and ascending");
        }
        lastPriority = r.priority;
        auto rule = prepareRule(r, s.targetGroups.size(), weightedCounter);
        if (!rule) {
          return validationError("listener on " + formatEndpoint(l.endpoint) + ": " +
                                 rule.status().message());
        }
        pl.rules.push_back(std::move(*rule));
      }
      if (l.https && (l.tls.certificates.empty() || l.tls.minVersion > l.tls.maxVersion)) {
        return validationError("listener on " + formatEndpoint(l.endpoint) +
                               ": HTTPS needs a certificate and a valid range of versions");
      }
      if (l.https) {
        pl.tls = tlsContextsFor(l, previous);
      }
      std::shared_ptr<const TlsContexts> tls = pl.tls;
      p->listeners.push_back(std::move(pl));
      int index = static_cast<int>(p->listeners.size() - 1);
      for (const Endpoint* e : {&l.endpoint, &l.sharedEndpoint}) {
        // An HTTPS listener whose contexts could not be built gets no socket: its port is never
        // answered in plain HTTP.
        if (e->address == 0 || (l.https && !tls)) {
          continue;
        }
        int si = p->findSocket(*e);
        if (si < 0) {
          si = static_cast<int>(p->sockets.size());
          p->sockets.push_back(PreparedSocket{*e, {}, {}});
          p->sockets.back().tls = tls;
        } else if ((p->sockets[size_t(si)].tls != nullptr) != l.https) {
          if (e == &l.sharedEndpoint) {
            continue; // HTTP and HTTPS on one shared port: the first one's (prepared_snapshot.h)
          }
          return validationError("listener on " + formatEndpoint(*e) +
                                 ": HTTP and HTTPS listeners on the same endpoint");
        }
        PreparedSocket& socket = p->sockets[size_t(si)];
        for (int other : socket.listeners) {
          if (p->listeners[size_t(other)].loadBalancer == &lb) {
            return validationError("two listeners of '" + lb.name + "' on " + formatEndpoint(*e));
          }
        }
        socket.listeners.push_back(index);
        socket.hostNames.push_back(lowercase(lb.dnsName));
        socket.sharedOnly &= e == &l.sharedEndpoint;
      }
    }
  }
  p->bufferBytes = std::max<size_t>(32 * 1024, maxHead + 4096);

  std::vector<uint8_t> tgSeen(capacity.targetGroups, 0);
  p->stateBySlot.assign(capacity.targets, SlotState::Absent);
  p->endpointBySlot.assign(capacity.targets, Endpoint{});
  p->targetIndexBySlot.assign(capacity.targets, -1);
  for (const TargetGroup& g : s.targetGroups) {
    if (g.slot >= capacity.targetGroups || tgSeen[g.slot]) {
      return validationError("target group '" + g.name + "': slot " + std::to_string(g.slot) +
                             " is out of range or used twice");
    }
    tgSeen[g.slot] = 1;
    p->targetGroupSlotEnd = std::max(p->targetGroupSlotEnd, g.slot + 1);
    const LbAlgorithm* algorithm = findLbAlgorithm(g.algorithm);
    if (algorithm == nullptr) {
      return validationError("target group '" + g.name + "': unknown algorithm '" + g.algorithm +
                             "' (round_robin, least_outstanding_requests, weighted_random)");
    }
    if (g.slowStart.count() < 0) {
      return validationError("target group '" + g.name + "': negative slow start");
    }
    if (g.queueTimeout.count() < 1) {
      return validationError("target group '" + g.name + "': queue timeout must be at least 1 ms");
    }
    const Stickiness& sticky = g.stickiness;
    if (sticky.type != Stickiness::Type::None &&
        (sticky.durationSeconds < 1 || sticky.durationSeconds > 604800)) {
      return validationError("target group '" + g.name +
                             "': stickiness duration must be 1 to 604800 seconds");
    }
    if (sticky.type == Stickiness::Type::AppCookie &&
        (sticky.appCookieName.empty() || sticky.appCookieName.size() > 256 ||
         sticky.appCookieName.find_first_of(" \t\r\n;=,\"") != std::string::npos)) {
      return validationError("target group '" + g.name + "': invalid application cookie name");
    }
    p->algorithmByGroup.push_back(algorithm);
    // Fail open as ALB does: only when every registered target is unhealthy. A target still in
    // its initial checks is not unhealthy: while one is, the group does not fail open (it gets
    // no traffic itself either, lb_algorithm.h isEligible).
    bool anyUnhealthy = false;
    bool anyRoutableOrInitial = false;
    for (const Target& t : g.targets) {
      if (t.slot >= capacity.targets || p->stateBySlot[t.slot] != SlotState::Absent) {
        return validationError("target '" + t.id + "': slot " + std::to_string(t.slot) +
                               " is out of range or used twice");
      }
      if (t.endpoint.port == 0) {
        return validationError("target '" + t.id + "': port 0");
      }
      p->stateBySlot[t.slot] = t.state == TargetState::Routable   ? SlotState::Routable
                               : t.state == TargetState::Draining ? SlotState::Draining
                               : t.state == TargetState::Initial  ? SlotState::Initial
                                                                  : SlotState::Unhealthy;
      p->endpointBySlot[t.slot] = t.endpoint;
      p->targetIndexBySlot[t.slot] = static_cast<int32_t>(&t - g.targets.data());
      p->targetSlotEnd = std::max(p->targetSlotEnd, t.slot + 1);
      anyUnhealthy |= t.state == TargetState::Unhealthy;
      anyRoutableOrInitial |= t.state == TargetState::Routable || t.state == TargetState::Initial;
    }
    p->failOpenByGroup.push_back(anyUnhealthy && !anyRoutableOrInitial ? 1 : 0);
  }
  return std::shared_ptr<const PreparedSnapshot>(std::move(p));
}

} // namespace tide::balancer
