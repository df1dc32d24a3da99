// ELBv2's TLS settings of listeners: the checks of CreateListener's and ModifyListener's
// Protocol, SslPolicy and Certificates (listener_tls.h), AddListenerCertificates,
// RemoveListenerCertificates, DescribeListenerCertificates and DescribeSSLPolicies.
#include "api/elb_shapes.h"
#include "api/handlers.h"
#include "api/listener_tls.h"
#include "api/params.h"
#include "model/ssl_policies.h"

#include <algorithm>

namespace tide::api {

namespace {

// An Application Load Balancer's listeners hold the default certificate and up to 25 more
// (ELBv2's quota "certificates per Application Load Balancer", not counting the default).
constexpr size_t kMaxSniCertificates = 25;

Status certificateNotFound(const std::string& arn) {
  return Status("CertificateNotFound", "Certificate '" + arn + "' not found");
}

// The ARNs of a Certificates member [{CertificateArn, IsDefault}].
Result<std::vector<std::string>> certificateArns(const Json& p) {
  std::vector<std::string> out;
  auto it = p.find("Certificates");
  if (it == p.end() || it->is_null()) {
    return out;
  }
  if (!it->is_array()) {
    return validationError("Certificates must be a list of {CertificateArn}");
  }
  for (const Json& c : *it) {
    if (!c.is_object() || !c.contains("CertificateArn") || !c["CertificateArn"].is_string() ||
        c["CertificateArn"].get<std::string>().empty()) {
      return validationError("Each of Certificates needs a CertificateArn");
    }
    if (c.contains("IsDefault") && !c["IsDefault"].is_boolean() && !c["IsDefault"].is_null()) {
      return validationError("Certificates' IsDefault must be true or false");
    }
    out.push_back(c["CertificateArn"]);
  }
  return out;
}

// The certificate is one ACM holds (CertificateNotFound otherwise).
Status checkCertificate(store::Tx& tx, const std::string& arn) {
  TIDE_ASSIGN_OR_RETURN(auto c, tx.certificate(arn));
  if (!c) {
    return certificateNotFound(arn);
  }
  return Status::ok();
}

Json certificateJson(const std::string& arn, bool isDefault) {
  return {{"CertificateArn", arn}, {"IsDefault", isDefault}};
}

Json sslPolicyJson(const model::SslPolicy& policy) {
  Json ciphers = Json::array();
  int priority = 1;
  for (std::string_view c : policy.ciphers) {
    ciphers.push_back({{"Name", std::string(c)}, {"Priority", priority++}});
  }
  Json protocols = Json::array();
  for (std::string_view v : policy.protocols) {
    protocols.push_back(std::string(v));
  }
  return {{"SslProtocols", protocols},
          {"Ciphers", ciphers},
          {"Name", std::string(policy.name)},
          {"SupportedLoadBalancerTypes", Json::array({"application", "network"})}};
}

} // namespace

Status applyListenerTls(store::Tx& tx, const Json& p, model::Listener& l) {
  if (p.contains("AlpnPolicy") && !p["AlpnPolicy"].is_null()) {
    return Status("ALPNPolicyNotSupported",
                  "ALPN policies are for the TLS listeners of Network Load Balancers: an "
                  "Application Load Balancer's listener takes none");
  }
  TIDE_ASSIGN_OR_RETURN(auto protocol, optString(p, "Protocol"));
  TIDE_ASSIGN_OR_RETURN(auto policy, optString(p, "SslPolicy"));
  TIDE_ASSIGN_OR_RETURN(auto certs, certificateArns(p));
  if (protocol.has_value()) {
    if (*protocol != "HTTP" && *protocol != "HTTPS") {
      return Status("UnsupportedProtocol",
                    "Listener protocol '" + *protocol +
                        "' is not supported by an Application Load Balancer: use HTTP or HTTPS");
    }
    l.protocol = *protocol;
  }
  if (l.protocol == "HTTP") {
    if (policy.has_value() || !certs.empty()) {
      return validationError("SslPolicy and Certificates are for HTTPS listeners only");
    }
    l.sslPolicy.clear(); // an HTTPS listener turned HTTP drops its TLS settings
    l.defaultCertificateArn.clear();
    l.sniCertificateArns.clear();
    return Status::ok();
  }
  if (certs.size() > 1) {
    return validationError("A listener takes one certificate in Certificates, its default; add "
                           "the others with AddListenerCertificates");
  }
  if (!certs.empty()) {
    TIDE_RETURN_IF_ERROR(checkCertificate(tx, certs.front()));
    l.defaultCertificateArn = certs.front();
    std::erase(l.sniCertificateArns, l.defaultCertificateArn);
  }
  if (l.defaultCertificateArn.empty()) {
    return validationError("A certificate must be specified for HTTPS listeners");
  }
  if (policy.has_value()) {
    if (model::findSslPolicy(*policy) == nullptr) {
      return Status("SSLPolicyNotFound", "SSL policy '" + *policy + "' not found");
    }
    l.sslPolicy = *policy;
  }
  if (l.sslPolicy.empty()) {
    l.sslPolicy = std::string(model::kDefaultSslPolicy);
  }
  return Status::ok();
}

Result<Json> addListenerCertificates(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"ListenerArn", "Certificates"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "ListenerArn"));
  TIDE_ASSIGN_OR_RETURN(auto certs, certificateArns(p));
  if (certs.empty()) {
    return validationError("The request must contain at least one certificate in Certificates");
  }
  for (const Json& c : p["Certificates"]) {
    if (c.contains("IsDefault") && c["IsDefault"].is_boolean() && c["IsDefault"].get<bool>()) {
      return validationError("AddListenerCertificates adds certificates for SNI: change the "
                             "default one with ModifyListener");
    }
  }
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto l, findListener(tx, arn));
    if (l.protocol != "HTTPS") {
      return Status("InvalidConfigurationRequest",
                    "Listener '" + arn +
                        "' is not an HTTPS listener: certificates are for "
                        "HTTPS listeners only");
    }
    for (const std::string& c : certs) {
      TIDE_RETURN_IF_ERROR(checkCertificate(tx, c));
      if (c != l.defaultCertificateArn &&
          std::find(l.sniCertificateArns.begin(), l.sniCertificateArns.end(), c) ==
              l.sniCertificateArns.end()) {
        l.sniCertificateArns.push_back(c);
      }
      out.push_back(certificateJson(c, false));
    }
    if (l.sniCertificateArns.size() > kMaxSniCertificates) {
      return Status("TooManyCertificates",
                    "You've reached the limit on the number of certificates per load balancer "
                    "(" +
                        std::to_string(kMaxSniCertificates) + " besides the default)");
    }
    return tx.putListener(l);
  }));
  return Json{{"Certificates", out}};
}

Result<Json> removeListenerCertificates(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"ListenerArn", "Certificates"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "ListenerArn"));
  TIDE_ASSIGN_OR_RETURN(auto certs, certificateArns(p));
  if (certs.empty()) {
    return validationError("The request must contain at least one certificate in Certificates");
  }
  TIDE_RETURN_IF_ERROR(ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto l, findListener(tx, arn));
    for (const std::string& c : certs) {
      if (c == l.defaultCertificateArn) {
        return Status("OperationNotPermitted",
                      "The default certificate '" + c +
                          "' cannot be removed: name another one with ModifyListener first");
      }
      // Removing a certificate the listener does not hold changes nothing, as ELBv2 answers.
      std::erase(l.sniCertificateArns, c);
    }
    return tx.putListener(l);
  }));
  return Json::object();
}

Result<Json> describeListenerCertificates(ActionContext& ctx, const Json& p) {
  // Marker and PageSize are taken by the dispatcher, which pages the result.
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"ListenerArn"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "ListenerArn"));
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto l, findListener(tx, arn));
        if (!l.defaultCertificateArn.empty()) {
          out.push_back(certificateJson(l.defaultCertificateArn, true));
        }
        for (const std::string& c : l.sniCertificateArns) {
          out.push_back(certificateJson(c, false));
        }
        return Status::ok();
      },
      false));
  return Json{{"Certificates", out}};
}

Result<Json> describeSslPolicies(ActionContext& ctx, const Json& p) {
  (void)ctx;
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"Names", "LoadBalancerType"}));
  TIDE_ASSIGN_OR_RETURN(auto names, optStringList(p, "Names"));
  TIDE_ASSIGN_OR_RETURN(auto type, optString(p, "LoadBalancerType"));
  if (type.has_value() && *type != "application" && *type != "network" && *type != "gateway") {
    return validationError("LoadBalancerType must be application, network or gateway");
  }
  Json out = Json::array();
  if (type.has_value() && *type == "gateway") {
    return Json{{"SslPolicies", out}}; // Gateway Load Balancers terminate no TLS
  }
  for (const std::string& n : names) {
    if (model::findSslPolicy(n) == nullptr) {
      return Status("SSLPolicyNotFound", "SSL policy '" + n + "' not found");
    }
  }
  for (const model::SslPolicy& policy : model::sslPolicies()) {
    if (names.empty() ||
        std::find(names.begin(), names.end(), std::string(policy.name)) != names.end()) {
      out.push_back(sslPolicyJson(policy));
    }
  }
  return Json{{"SslPolicies", out}};
}

} // namespace tide::api
