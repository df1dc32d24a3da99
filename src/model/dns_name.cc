#include "model/dns_name.h"

#include <charconv>
#include <cstdint>

namespace tide::model {

namespace {

// The field at `index` of an ARN split at ':' (region is 3), or empty.
std::string_view arnField(std::string_view arn, int index) {
  for (int i = 0; i < index; ++i) {
    size_t colon = arn.find(':');
    if (colon == std::string_view::npos) {
      return {};
    }
    arn.remove_prefix(colon + 1);
  }
  return arn.substr(0, arn.find(':'));
}

} // namespace

std::string loadBalancerDnsName(std::string_view arn, std::string_view name) {
  std::string_view region = arnField(arn, 3);
  size_t slash = arn.rfind('/');
  std::string_view id =
      slash == std::string_view::npos ? std::string_view() : arn.substr(slash + 1);
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value, 16);
  if (region.empty() || id.empty() || ec != std::errc() || end != id.data() + id.size()) {
    return std::string(name) + ".elb.localhost";
  }
  std::string digits = std::to_string(value % 10'000'000'000ULL);
  digits.insert(0, 10 - digits.size(), '0');
  std::string out;
  out.reserve(name.size() + region.size() + 30);
  out.append(name).append("-").append(digits).append(".");
  out.append(region).append(".elb.localhost");
  return out;
}

} // namespace tide::model
