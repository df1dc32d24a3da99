// The bind probe: whether an address and port are free on this host before an instance is given
// them, so that an instance never meets "Address already in use" because another program (or
// another tide server's instance) listens there.
#pragma once

#include <string>

namespace tide::runtime {

// Binds a TCP socket to ip:port with SO_REUSEADDR (as the instances' servers do, so a
// connection in TIME_WAIT does not count) and closes it again. False only when the kernel says
// the address is in use (EADDRINUSE: something listens there, or is bound without
// SO_REUSEADDR); any other failure (not an IPv4 address, a port that needs privileges) is the
// instance's own to meet and counts as free. Thread-safe.
bool addressFree(const std::string& ip, int port);

} // namespace tide::runtime
