// Stack resources for HTTPS listeners (docs/stacks.md, docs/tls.md):
// AWS::ElasticLoadBalancingV2::ListenerCertificate (AddListenerCertificates), and
// Tide::CertificateManager::Certificate, which imports a certificate from PEM files (ACM's own
// AWS::CertificateManager::Certificate requests one from a CA, which tide cannot; CloudFormation
// cannot import one). Rows of resources.cc's table.
#pragma once

#include "stacks/resources.h"

namespace tide::stacks {

extern const PropertySpec kListenerCertificateProps[2];
Result<std::string> createListenerCertificate(ResourceCall& c, const Json& props);
Result<std::optional<std::string>> findListenerCertificate(ResourceCall& c, const Json& props);
Result<bool> removeListenerCertificate(ActionContext& ctx, const std::string& physicalId);

extern const PropertySpec kImportedCertificateProps[3];
extern const std::string_view kImportedCertificateAttrs[1];
Result<std::string> createImportedCertificate(ResourceCall& c, const Json& props);
Result<std::optional<std::string>> findImportedCertificate(ResourceCall& c, const Json& props);
Result<bool> removeImportedCertificate(ActionContext& ctx, const std::string& physicalId);
Result<Json> importedCertificateAttribute(ActionContext& ctx, const std::string& physicalId,
                                          const std::string& name);

} // namespace tide::stacks
