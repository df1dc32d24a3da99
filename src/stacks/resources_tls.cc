#include "stacks/resources_tls.h"

#include "common/text.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tide::stacks {

namespace {

using K = PropertyKind;

// The ARNs of a Certificates property [{CertificateArn}].
Result<std::vector<std::string>> certificateArns(const Json& certificates) {
  std::vector<std::string> out;
  for (const Json& c : certificates) {
    if (!c.is_object() || !c.contains("CertificateArn") || !c["CertificateArn"].is_string()) {
      return validationError("Certificates must be a list of {CertificateArn: ARN}");
    }
    out.push_back(c["CertificateArn"]);
  }
  return out;
}

// A ListenerCertificate's physical id: the listener's ARN, then its certificates' ARNs, joined
// by '|' (no ARN holds one). CloudFormation's own ids for it are opaque too.
std::string listenerCertificateId(const std::string& listener,
                                  const std::vector<std::string>& certs) {
  std::string id = listener;
  for (const std::string& c : certs) {
    id += "|" + c;
  }
  return id;
}

// A PEM file named by a property, relative to the template's directory.
Result<std::string> readFile(const ResourceCall& c, const Json& props, const char* name) {
  std::filesystem::path path(props[name].is_string() ? props[name].get<std::string>() : "");
  if (path.is_relative() && !c.basePath.empty()) {
    path = std::filesystem::path(c.basePath) / path;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return validationError(std::string(name) + ": cannot read " + path.string());
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

// ------------------------------------------------ AWS::ElasticLoadBalancingV2::ListenerCertificate

const PropertySpec kListenerCertificateProps[2] = {
    {"ListenerArn", K::String, true},
    {"Certificates", K::List, true},
};

Result<std::string> createListenerCertificate(ResourceCall& c, const Json& props) {
  std::string listener = props["ListenerArn"].is_string() ? props["ListenerArn"].get<std::string>()
                                                          : props["ListenerArn"].dump();
  TIDE_ASSIGN_OR_RETURN(auto certs, certificateArns(props["Certificates"]));
  TIDE_RETURN_IF_ERROR(
      invokeAction(c.ctx, "AddListenerCertificates",
                   {{"ListenerArn", listener}, {"Certificates", props["Certificates"]}})
          .status());
  return listenerCertificateId(listener, certs);
}

Result<std::optional<std::string>> findListenerCertificate(ResourceCall& c, const Json& props) {
  if (!props["ListenerArn"].is_string()) {
    return std::optional<std::string>();
  }
  std::string listener = props["ListenerArn"];
  auto certs = certificateArns(props["Certificates"]);
  auto r = invokeAction(c.ctx, "DescribeListenerCertificates", {{"ListenerArn", listener}});
  if (!certs || !r) {
    return std::optional<std::string>();
  }
  for (const std::string& want : *certs) {
    bool there = false;
    for (const Json& have : (*r)["Certificates"]) {
      there |= have["CertificateArn"] == want;
    }
    if (!there) {
      return std::optional<std::string>();
    }
  }
  return std::optional<std::string>(listenerCertificateId(listener, *certs));
}

Result<bool> removeListenerCertificate(ActionContext& ctx, const std::string& physicalId) {
  std::vector<std::string> parts = splitString(physicalId, '|');
  if (parts.size() < 2) {
    return true;
  }
  Json certs = Json::array();
  for (size_t i = 1; i < parts.size(); ++i) {
    certs.push_back({{"CertificateArn", parts[i]}});
  }
  auto r = invokeAction(ctx, "RemoveListenerCertificates",
                        {{"ListenerArn", parts[0]}, {"Certificates", certs}});
  if (!r && r.status().code() != "ListenerNotFound") {
    return r.status();
  }
  return true;
}

// ------------------------------------------------------ Tide::CertificateManager::Certificate

const PropertySpec kImportedCertificateProps[3] = {
    {"CertificateFile", K::String, true}, // PEM, relative to the template's directory
    {"PrivateKeyFile", K::String, true},  // PEM, unencrypted
    {"CertificateChainFile", K::String},  // PEM, optional
};
const std::string_view kImportedCertificateAttrs[1] = {"CertificateArn"};

namespace {

Result<Json> importParams(ResourceCall& c, const Json& props) {
  TIDE_ASSIGN_OR_RETURN(std::string cert, readFile(c, props, "CertificateFile"));
  TIDE_ASSIGN_OR_RETURN(std::string key, readFile(c, props, "PrivateKeyFile"));
  Json p = {{"Certificate", base64Encode(cert)}, {"PrivateKey", base64Encode(key)}};
  if (props.contains("CertificateChainFile")) {
    TIDE_ASSIGN_OR_RETURN(std::string chain, readFile(c, props, "CertificateChainFile"));
    p["CertificateChain"] = base64Encode(chain);
  }
  return p;
}

} // namespace

Result<std::string> createImportedCertificate(ResourceCall& c, const Json& props) {
  TIDE_ASSIGN_OR_RETURN(Json p, importParams(c, props));
  // Tagged with the stack, as CloudFormation tags what it makes.
  p["Tags"] = {{{"Key", "tide:cloudformation:stack-name"}, {"Value", c.stackName}},
               {{"Key", "tide:cloudformation:logical-id"}, {"Value", c.logicalId}}};
  TIDE_ASSIGN_OR_RETURN(auto r, invokeAction(c.ctx, "ImportCertificate", p));
  return r["CertificateArn"].get<std::string>();
}

Result<std::optional<std::string>> findImportedCertificate(ResourceCall& c, const Json& props) {
  // The certificate this stack resource imported before a crash: tagged with its stack and
  // logical id, holding the same certificate.
  auto cert = readFile(c, props, "CertificateFile");
  auto all = invokeAction(c.ctx, "ListCertificates",
                          {{"Includes",
                            {{"keyTypes",
                              {"RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1",
                               "EC_secp384r1", "EC_secp521r1"}}}}});
  if (!cert || !all) {
    return std::optional<std::string>();
  }
  for (const Json& s : (*all)["CertificateSummaryList"]) {
    std::string arn = s["CertificateArn"];
    auto tags = invokeAction(c.ctx, "ListTagsForCertificate", {{"CertificateArn", arn}});
    auto body = invokeAction(c.ctx, "GetCertificate", {{"CertificateArn", arn}});
    if (!tags || !body || (*body)["Certificate"] != *cert) {
      continue;
    }
    bool stack = false, logical = false;
    for (const Json& t : (*tags)["Tags"]) {
      stack |= t["Key"] == "tide:cloudformation:stack-name" && t["Value"] == c.stackName;
      logical |= t["Key"] == "tide:cloudformation:logical-id" && t["Value"] == c.logicalId;
    }
    if (stack && logical) {
      return std::optional<std::string>(arn);
    }
  }
  return std::optional<std::string>();
}

Result<bool> removeImportedCertificate(ActionContext& ctx, const std::string& physicalId) {
  auto r = invokeAction(ctx, "DeleteCertificate", {{"CertificateArn", physicalId}});
  if (!r && r.status().code() != "ResourceNotFoundException") {
    return r.status();
  }
  return true;
}

Result<Json> importedCertificateAttribute(ActionContext&, const std::string& physicalId,
                                          const std::string&) {
  return Json(physicalId);
}

} // namespace tide::stacks
