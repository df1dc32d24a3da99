#include "control/listener_tls.h"

#include "model/ssl_policies.h"

#include <algorithm>
#include <cctype>

namespace tide::control {

namespace {

// The wire value of a protocol name as DescribeSSLPolicies writes it; 0 when unknown.
uint16_t versionOf(std::string_view name) {
  if (name == "TLSv1") {
    return 0x0301;
  }
  if (name == "TLSv1.1") {
    return 0x0302;
  }
  if (name == "TLSv1.2") {
    return 0x0303;
  }
  if (name == "TLSv1.3") {
    return 0x0304;
  }
  return 0;
}

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

balancer::TlsCertificate tlsCertificate(const model::Certificate& c) {
  balancer::TlsCertificate out;
  out.arn = c.certificateArn;
  out.certificatePem = c.certificatePem;
  if (!c.chainPem.empty()) {
    out.certificatePem += out.certificatePem.ends_with('\n') ? "" : "\n";
    out.certificatePem += c.chainPem;
  }
  out.privateKeyPem = c.privateKeyPem;
  for (const std::string& n : c.subjectAlternativeNames) { // the domain name is among them
    std::string name = lowercase(n);
    if (std::find(out.names.begin(), out.names.end(), name) == out.names.end()) {
      out.names.push_back(std::move(name));
    }
  }
  return out;
}

} // namespace

std::optional<balancer::TlsConfig>
listenerTlsConfig(const model::Listener& listener,
                  const std::map<std::string, const model::Certificate*>& certificates) {
  const model::SslPolicy* policy = model::findSslPolicy(listener.sslPolicy);
  auto def = certificates.find(listener.defaultCertificateArn);
  if (policy == nullptr || def == certificates.end()) {
    return std::nullopt;
  }
  balancer::TlsConfig out;
  out.policyName = std::string(policy->name);
  out.certificates.push_back(tlsCertificate(*def->second));
  for (const std::string& arn : listener.sniCertificateArns) {
    if (auto it = certificates.find(arn); it != certificates.end()) {
      out.certificates.push_back(tlsCertificate(*it->second));
    }
  }
  out.minVersion = 0xffff;
  out.maxVersion = 0;
  for (std::string_view p : policy->protocols) {
    uint16_t v = versionOf(p);
    out.minVersion = std::min(out.minVersion, v);
    out.maxVersion = std::max(out.maxVersion, v);
  }
  for (std::string_view c : policy->ciphers) {
    std::string& list = c.starts_with("TLS_") ? out.cipherSuites : out.cipherList;
    if (!list.empty()) {
      list += ':';
    }
    list += c;
  }
  return out;
}

} // namespace tide::control
