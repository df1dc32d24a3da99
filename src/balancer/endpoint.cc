#include "balancer/endpoint.h"

#include <charconv>

namespace tide::balancer {

Result<uint32_t> parseIpv4(std::string_view text) {
  uint32_t address = 0;
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    unsigned part = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), part);
    size_t used = p - rest.data();
    if (ec != std::errc() || used == 0 || used > 3 || part > 255) {
      return validationError("not an IPv4 address: '" + std::string(text) + "'");
    }
    address = (address << 8) | part;
    rest.remove_prefix(used);
    if (i < 3) {
      if (rest.empty() || rest.front() != '.') {
        return validationError("not an IPv4 address: '" + std::string(text) + "'");
      }
      rest.remove_prefix(1);
    }
  }
  if (!rest.empty()) {
    return validationError("not an IPv4 address: '" + std::string(text) + "'");
  }
  return address;
}

Result<Endpoint> parseEndpoint(std::string_view text, bool allowZeroPort) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return validationError("expected HOST:PORT, got '" + std::string(text) + "'");
  }
  TIDE_ASSIGN_OR_RETURN(uint32_t address, parseIpv4(text.substr(0, colon)));
  std::string_view portText = text.substr(colon + 1);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || p != portText.data() + portText.size() || port > 65535 ||
      (port == 0 && !allowZeroPort)) {
    return validationError("invalid port in '" + std::string(text) + "'");
  }
  return Endpoint{address, static_cast<uint16_t>(port)};
}

std::string formatIpv4(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

std::string formatEndpoint(const Endpoint& e) {
  return formatIpv4(e.address) + ":" + std::to_string(e.port);
}

} // namespace tide::balancer
