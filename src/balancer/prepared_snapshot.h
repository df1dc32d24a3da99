// A Snapshot checked and indexed once, when it is published (Balancer::apply), so that workers
// only follow array indexes on the request path: algorithms resolved from their names, fail-open
// decided per group, target state and endpoint by slot, listeners flattened, fixed responses
// pre-rendered. Immutable once built; shared by all workers.
#pragma once

#include "balancer/lb_algorithm.h"
#include "balancer/rules.h"
#include "balancer/snapshot.h"
#include "common/status.h"

#include <memory>
#include <string>
#include <vector>

namespace tide::balancer {

class TlsContexts;

// Upper bounds on slots (see snapshot.h); per-worker state is allocated for them up front.
struct SlotCapacity {
  uint32_t loadBalancers = 64; // LoadBalancer::slot < this
  uint32_t targetGroups = 256; // TargetGroup::slot < this
  uint32_t targets = 4096;     // Target::slot < this
};

enum class SlotState : uint8_t {
  Absent,    // no target has this slot in the snapshot
  Routable,  // TargetState::Routable
  Draining,  // TargetState::Draining
  Unhealthy, // TargetState::Unhealthy
  Initial,   // TargetState::Initial
};

struct PreparedListener {
  const LoadBalancer* loadBalancer = nullptr; // owner
  const Listener* listener = nullptr;         // the listener itself
  std::string fixedHeadKeepAlive;             // fixed response head (FixedResponse only)
  std::string fixedHeadClose;                 // the same with Connection: close
  std::string forwardedPortLine;              // "X-Forwarded-Port: 80\r\n"
  std::vector<PreparedRule> rules;            // the listener's rules, by priority (rules.h)
  PreparedAction defaultAction;               // the default action, prepared
  std::shared_ptr<const TlsContexts> tls;     // HTTPS: its contexts (null: HTTP, or refused)
};

// An endpoint the workers listen on and the listeners that answer there: one (a load balancer's
// own address, or a port only one load balancer has), or several sharing 127.0.0.1:port, of
// which the request's Host chooses (snapshot.h, Listener).
struct PreparedSocket {
  Endpoint endpoint;
  std::vector<int> listeners;         // indexes in PreparedSnapshot::listeners, snapshot order
  std::vector<std::string> hostNames; // by listener: its load balancer's dnsName, lowercase
  bool sharedOnly = true; // only listeners' sharedEndpoint: best effort (another program may
                          // hold 127.0.0.1:port; the listeners still answer on their own)
  // HTTPS: the OpenSSL contexts connections are made from (tls_context.h); null for HTTP. A
  // connection holds them for its life (TlsSession), so a new snapshot with new certificates
  // drops no connection. A socket is HTTP or HTTPS: a listener of the other kind sharing its
  // 127.0.0.1:port is not answered there, and on a shared HTTPS socket the first listener's
  // certificates are served.
  std::shared_ptr<const TlsContexts> tls;
};

// The index in socket.listeners of the listener whose load balancer `host` (a Host header's
// value without its port, as rules.h's hostOf gives it) names, ignoring case and one trailing
// dot; -1 when it names none. Allocates nothing.
int listenerForHost(const PreparedSocket& socket, std::string_view host);

struct PreparedSnapshot {
  std::shared_ptr<const Snapshot> snapshot;
  std::vector<PreparedListener> listeners;          // all listeners of all load balancers
  std::vector<PreparedSocket> sockets;              // where the workers listen
  std::vector<const LbAlgorithm*> algorithmByGroup; // by index in snapshot->targetGroups
  std::vector<uint8_t> failOpenByGroup; // by index: every target Unhealthy or Draining (none
                                        // Routable or Initial), so the Unhealthy ones are used
  std::vector<SlotState> stateBySlot;   // by Target::slot (capacity long)
  std::vector<Endpoint> endpointBySlot; // by Target::slot
  uint32_t loadBalancerSlotEnd = 0;     // 1 + highest slot in use (0 when none)
  uint32_t targetGroupSlotEnd = 0;
  uint32_t targetSlotEnd = 0;
  size_t bufferBytes = 0; // connection buffer size: fits the largest head limit
  // By Target::slot: the target's index in its group's targets, or -1.
  std::vector<int32_t> targetIndexBySlot;

  // The socket on that endpoint, or -1.
  int findSocket(const Endpoint& e) const {
    for (size_t i = 0; i < sockets.size(); ++i) {
      if (sockets[i].endpoint == e) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }
};

// Checks a snapshot (slots within capacity and unique, known algorithms, valid indexes, ports,
// statuses, limits) and indexes it. Errors are ValidationError with what is wrong. HTTPS
// listeners get their TLS contexts: those of `previous` where its listener had the same TLS
// configuration (no key parsed again, and TLS sessions resume across snapshots), else new ones.
Result<std::shared_ptr<const PreparedSnapshot>>
prepareSnapshot(std::shared_ptr<const Snapshot> snapshot, const SlotCapacity& capacity,
                const PreparedSnapshot* previous = nullptr);

} // namespace tide::balancer
