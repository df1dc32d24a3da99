// Reading and checking the PEM that ImportCertificate takes (OpenSSL): one certificate, its
// private key (unencrypted, RSA 1024..4096 or EC P-256/P-384/P-521, matching the certificate),
// an optional chain that validates it, and a validity period that includes "now". What it
// finds is what DescribeCertificate shows: subject, issuer, serial, SANs, key and signature
// algorithms, key usages, NotBefore/NotAfter.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "model/certificate.h"

#include <string>

namespace tide::api {

// The certificate read from PEM texts, its ARN, times of import and tags left empty. Errors
// are ValidationException with ACM's wording (the certificate, the key or the chain not PEM,
// more than one certificate, an encrypted or unsupported key, a key that does not match, a
// chain that does not validate, not yet valid or expired at `now`).
Result<model::Certificate> readImportedCertificate(const std::string& certificatePem,
                                                   const std::string& privateKeyPem,
                                                   const std::string& chainPem, TimeMs now);

} // namespace tide::api
