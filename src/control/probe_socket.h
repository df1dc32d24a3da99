// The socket of one active health check, shared by the HTTP/1.1 probe (health_checker.cc) and
// the h2c probe (grpc_probe.cc). Type and syscalls only; runs on the control thread.
#pragma once

#include <cstdint>
#include <string>

namespace tide::control {

// A non-blocking socket connecting to ip:port (IPv4, host order) from `source` (a load
// balancer's address, host order; 0, or an address that cannot be bound: the kernel's choice).
// Returns the socket with its connect in progress (or done), or -1 with `error` set.
int connectProbeSocket(uint32_t ip, uint16_t port, uint32_t source, std::string& error);

// "a.b.c.d:port": the Host (HTTP/1.1) or :authority (HTTP/2) a check sends.
std::string probeAuthority(uint32_t ip, uint16_t port);

} // namespace tide::control
