// HTTPS listeners' TLS settings in ELBv2 requests (docs/tls.md): Protocol, SslPolicy and
// Certificates of CreateListener and ModifyListener, checked against ACM's certificates and
// the security policies (model/ssl_policies.h).
#pragma once

#include "api/action.h"
#include "model/elb.h"
#include "store/store.h"

namespace tide::api {

// Sets l.protocol, l.sslPolicy and l.defaultCertificateArn from the request's Protocol,
// SslPolicy and Certificates (members absent keep what l has; l is a new listener's defaults
// for CreateListener). HTTPS needs a default certificate (ValidationError "A certificate must
// be specified for HTTPS listeners") that ACM has (CertificateNotFound), and a policy that
// exists (SSLPolicyNotFound; ELBSecurityPolicy-2016-08 when none is named); HTTP takes
// neither, and turning a listener to HTTP drops them. Other protocols are UnsupportedProtocol;
// AlpnPolicy is ALPNPolicyNotSupported (an Application Load Balancer's listeners take none).
Status applyListenerTls(store::Tx& tx, const Json& p, model::Listener& l);

} // namespace tide::api
