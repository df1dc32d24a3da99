// What an HTTPS listener's row and ACM's certificates give the balancer snapshot: the
// listener's TLS configuration (balancer::TlsConfig), its security policy resolved to protocol
// versions and OpenSSL cipher lists (model/ssl_policies.h).
#pragma once

#include "balancer/snapshot.h"
#include "model/certificate.h"
#include "model/elb.h"

#include <map>
#include <optional>
#include <string>

namespace tide::control {

// The TLS configuration of an HTTPS listener, or nullopt when it cannot be served (its default
// certificate is gone, or its policy unknown: the API prevents both). Certificates the
// listener names that ACM no longer has are left out; the default comes first.
std::optional<balancer::TlsConfig>
listenerTlsConfig(const model::Listener& listener,
                  const std::map<std::string, const model::Certificate*>& certificates);

} // namespace tide::control
