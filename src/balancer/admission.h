// Admission of client connections on a worker's listeners (docs/load-balancer.md "Limits and
// slow clients", docs/security.md "Connection floods"): the bound on one listener
// (tide.listener.max_connections) and on one client address on it
// (tide.listener.max_connections_per_client), each worker taking an equal share of both
// (SO_REUSEPORT spreads connections evenly, so no counter is shared between workers).
//
// At a bound, the exchange makes room by closing idle connections (no request begun, nothing to
// write), oldest idle first: of that client at its own bound, of anyone at the listener's. Only
// when none is idle is the new connection refused. One client's idle connections never lock the
// others out, and a client at its bound recycles its own.
//
// Not thread-safe: one per worker.
#pragma once

#include "balancer/snapshot.h"

#include <cstdint>
#include <unordered_map>

namespace tide::balancer {

// tide.listener.max_connections_per_client, or when it is 0 (the default) a quarter of
// tide.listener.max_connections (at least 1).
inline uint32_t perClientLimit(const LoadBalancer& lb) {
  if (lb.maxConnectionsPerClient != 0) {
    return lb.maxConnectionsPerClient;
  }
  return lb.maxConnectionsPerListener / 4 != 0 ? lb.maxConnectionsPerListener / 4 : 1;
}

// One worker's share of a bound: rounded up, at least 1.
inline uint32_t workerShare(uint32_t limit, unsigned workers) {
  workers = workers == 0 ? 1 : workers;
  return uint32_t((uint64_t(limit) + workers - 1) / workers);
}

// Idle connections closed at once to make room: a few per cent of the bound, so that the scan
// for them (over the worker's connections) runs once per that many admissions under a flood.
inline uint32_t idleBatch(uint32_t share) {
  return share / 32 != 0 ? share / 32 : 1;
}

// Open connections by listener and by (listener, client address).
class ConnectionCounts {
public:
  uint32_t onListener(uint64_t listener) const {
    auto it = byListener_.find(listener);
    return it == byListener_.end() ? 0 : it->second;
  }
  uint32_t ofClient(uint64_t listener, uint32_t address) const {
    auto it = byClient_.find(ClientKey{listener, address});
    return it == byClient_.end() ? 0 : it->second;
  }
  void add(uint64_t listener, uint32_t address) {
    ++byListener_[listener];
    ++byClient_[ClientKey{listener, address}];
  }
  // REQUIRES: add() was called with the same arguments.
  void remove(uint64_t listener, uint32_t address) {
    --byListener_[listener];
    auto it = byClient_.find(ClientKey{listener, address});
    if (it != byClient_.end() && --it->second == 0) {
      byClient_.erase(it); // a flood from many addresses leaves nothing behind
    }
  }

private:
  struct ClientKey {
    uint64_t listener;
    uint32_t address;
    bool operator==(const ClientKey&) const = default;
  };
  struct ClientKeyHash {
    size_t operator()(const ClientKey& k) const {
      return size_t((k.listener * 0x9e3779b97f4a7c15ULL) ^
                    (uint64_t(k.address) * 0xff51afd7ed558ccdULL));
    }
  };
  std::unordered_map<uint64_t, uint32_t> byListener_;
  std::unordered_map<ClientKey, uint32_t, ClientKeyHash> byClient_;
};

} // namespace tide::balancer
