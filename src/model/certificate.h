// Certificates imported into ACM (AWS Certificate Manager): what ImportCertificate keeps and
// DescribeCertificate shows, and what an HTTPS listener serves. Type-only header.
#pragma once

#include "common/clock.h"
#include "model/types.h"

#include <string>
#include <vector>

namespace tide::model {

struct Certificate {
  std::string certificateArn; // arn:aws:acm:REGION:ACCOUNT:certificate/UUID
  std::string certificatePem; // the leaf certificate, PEM
  std::string chainPem;       // the issuers' certificates, PEM, leaf's issuer first; may be empty
  std::string privateKeyPem;  // the leaf's private key, PEM (unencrypted); never answered by the
                              // API, kept in the store, which only its owner can read
  std::string domainName;     // the subject's common name (else the first DNS SAN)
  std::vector<std::string> subjectAlternativeNames; // DNS names (the domain name first)
  std::string serial;                 // "0a:1b:..." (lowercase hex pairs, as ACM shows them)
  std::string subject;                // "CN=example.com,O=Example" (RFC 2253)
  std::string issuer;                 // the same, for the issuer
  std::string keyAlgorithm;           // ACM's KeyAlgorithm: RSA_2048, EC_prime256v1, ...
  std::string signatureAlgorithm;     // ACM's words: SHA256WITHRSA, SHA256WITHECDSA, ...
  std::vector<std::string> keyUsages; // ACM's KeyUsageName: DIGITAL_SIGNATURE, ...
  std::vector<std::string> extendedKeyUsages; // ACM's ExtendedKeyUsageName: TLS_WEB_SERVER_...
  TimeMs notBefore = 0;
  TimeMs notAfter = 0;
  TimeMs importedAt = 0; // the last ImportCertificate (a reimport moves it)
  TimeMs createdAt = 0;  // the first ImportCertificate
  std::vector<Tag> tags;
};

} // namespace tide::model
