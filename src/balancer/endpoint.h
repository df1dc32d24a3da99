// Parsing and printing IPv4 endpoints ("127.0.0.1:8080").
#pragma once

#include "balancer/snapshot.h"
#include "common/status.h"

#include <string>
#include <string_view>

namespace tide::balancer {

// "a.b.c.d" into a host-order address.
Result<uint32_t> parseIpv4(std::string_view text);
// "a.b.c.d:port"; port 0 is allowed only when allowZeroPort.
Result<Endpoint> parseEndpoint(std::string_view text, bool allowZeroPort = false);
std::string formatIpv4(uint32_t address);
std::string formatEndpoint(const Endpoint& e);

} // namespace tide::balancer
