// The TLS security policies of Application Load Balancers (ELBv2 DescribeSSLPolicies,
// a listener's SslPolicy), by name, with the protocol versions and ciphers AWS's documentation
// lists for each ("Security policies for your Application Load Balancer"). Cipher names are
// OpenSSL's, as AWS writes them; the TLS 1.3 suites (TLS_AES_128_GCM_SHA256, ...) are listed
// with the others, as DescribeSSLPolicies lists them.
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace tide::model {

// The policy HTTPS listeners get when CreateListener names none: AWS's default for the API,
// the CLI and CloudFormation (the console picks a TLS 1.3 policy instead).
inline constexpr std::string_view kDefaultSslPolicy = "ELBSecurityPolicy-2016-08";

struct SslPolicy {
  std::string_view name;                   // "ELBSecurityPolicy-TLS13-1-2-2021-06"
  std::vector<std::string_view> protocols; // "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"
  std::vector<std::string_view> ciphers;   // by priority (1 first), TLS 1.3 suites first
};

// Every policy, in the order DescribeSSLPolicies lists them.
std::span<const SslPolicy> sslPolicies();
// The policy of that name, or nullptr.
const SslPolicy* findSslPolicy(std::string_view name);

} // namespace tide::model
