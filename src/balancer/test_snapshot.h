// A snapshot for the balancer's tests: one load balancer whose listener forwards to one target
// group, built in code.
#pragma once

#include "balancer/snapshot.h"
#include "balancer/test_net.h"

#include <memory>
#include <string>
#include <vector>

namespace tide::balancer::test_net {

// Builds a one-load-balancer snapshot: one listener forwarding to one target group.
inline std::shared_ptr<Snapshot> makeSnapshot(uint16_t port, const std::vector<Endpoint>& targets,
                                              const std::string& algorithm = "round_robin") {
  auto s = std::make_shared<Snapshot>();
  s->version = 1;
  TargetGroup g;
  g.name = "tg";
  g.slot = 0;
  g.algorithm = algorithm;
  for (size_t i = 0; i < targets.size(); ++i) {
    Target t;
    t.id = "t" + std::to_string(i);
    t.endpoint = targets[i];
    t.slot = uint32_t(i);
    g.targets.push_back(t);
  }
  s->targetGroups.push_back(g);
  LoadBalancer lb;
  lb.name = "lb";
  lb.slot = 0;
  Listener l;
  l.endpoint = Endpoint{kLoopback, port};
  lb.listeners.push_back(l);
  s->loadBalancers.push_back(lb);
  return s;
}

} // namespace tide::balancer::test_net
