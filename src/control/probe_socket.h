// What the HTTP/1.1 probe (health_checker.cc) and the h2c probe (grpc_probe.cc) of an active
// health check share: the socket, connected from a load balancer's address, and the end of a
// check (its socket and timer gone, its outcome reported once). Runs on the control thread.
#pragma once

#include "common/event_loop.h"
#include "control/target_health.h"

#include <cstdint>
#include <functional>
#include <string>

namespace tide::control {

// A non-blocking socket connecting to ip:port (IPv4, host order) from `source` (a load
// balancer's address, host order; 0, or an address that cannot be bound: the kernel's choice).
// Returns the socket with its connect in progress (or done), or -1 with `error` set.
int connectProbeSocket(uint32_t ip, uint16_t port, uint32_t source, std::string& error);

// "a.b.c.d:port": the Host (HTTP/1.1) or :authority (HTTP/2) a check sends.
std::string probeAuthority(uint32_t ip, uint16_t port);

// A check in flight: its socket (in the loop), its timer and whom to tell.
struct ProbeBase {
  EventLoop& loop;
  int fd = -1;
  EventLoop::TimerId timer = 0;
  std::function<void(CheckResult)> done;

  explicit ProbeBase(EventLoop& l) : loop(l) {}
  // Reports `r` (once: later calls do nothing), after closing the socket and the timer.
  void finish(CheckResult r);
  // After the socket said it is ready for the first time: whether its connect failed (then the
  // check is finished as failed, with the system's words for why).
  bool connectFailed();
};

} // namespace tide::control
