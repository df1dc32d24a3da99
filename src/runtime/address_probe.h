// The bind probe: whether an address and port are free on this host before an instance is given
// them, so that an instance never meets "Address already in use" because another program (or
// another tide server's instance) listens there.
#pragma once

#include "common/status.h"

#include <string>

namespace tide::runtime {

// Binds a TCP socket to ip:port with SO_REUSEADDR (as the instances' servers do, so a
// connection in TIME_WAIT does not count) and closes it again. False only when the kernel says
// the address is in use (EADDRINUSE: something listens there, or is bound without
// SO_REUSEADDR); any other failure (not an IPv4 address, a port that needs privileges) is the
// instance's own to meet and counts as free. Thread-safe.
bool addressFree(const std::string& ip, int port);

// Whether no TCP socket on the host (this network namespace) listens or is bound unconnected at
// ip at any port, as /proc/net/tcp lists them (connections ending in TIME_WAIT do not count): the
// probe for a load balancer's own address, whose ports are not known when it is given out. True
// when the table cannot be read. Thread-safe.
bool addressUnused(const std::string& ip);

// Whether the balancer can listen on ip:port now: binds a socket as the balancer's workers do
// (SO_REUSEADDR and SO_REUSEPORT, so this server's own listeners do not count) and closes it.
// Errors, as InvalidConfigurationRequest naming ip:port: a port below the host's first
// unprivileged port (1024) without root or CAP_NET_BIND_SERVICE; the address and port in use
// by another program; the address not on this host. Thread-safe.
Status canListen(const std::string& ip, int port);

} // namespace tide::runtime
