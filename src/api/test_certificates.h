// Test-only: certificates and keys made with OpenSSL in the test, as PEM (self-signed, or
// signed by a test CA), so that tests need no files and no `openssl` command.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tide::testcerts {

struct KeyAndCertificate {
  std::string keyPem;
  std::string certificatePem;
  EVP_PKEY* key = nullptr; // owned; for signing others
  X509* cert = nullptr;    // owned
  KeyAndCertificate() = default;
  KeyAndCertificate(const KeyAndCertificate&) = delete;
  KeyAndCertificate& operator=(const KeyAndCertificate&) = delete;
  KeyAndCertificate(KeyAndCertificate&& o) noexcept { *this = std::move(o); }
  KeyAndCertificate& operator=(KeyAndCertificate&& o) noexcept {
    std::swap(keyPem, o.keyPem);
    std::swap(certificatePem, o.certificatePem);
    std::swap(key, o.key);
    std::swap(cert, o.cert);
    return *this;
  }
  ~KeyAndCertificate() {
    EVP_PKEY_free(key);
    X509_free(cert);
  }
};

struct CertificateSpec {
  std::string commonName = "example.test";
  std::vector<std::string> dnsNames;         // subjectAltName DNS entries
  int64_t notBeforeSeconds = 0;              // epoch seconds
  int64_t notAfterSeconds = 4102444800;      // 2100-01-01
  bool rsa = false;                          // RSA 2048 instead of EC P-256
  bool ca = false;                           // basicConstraints CA:TRUE, keyCertSign
  const KeyAndCertificate* issuer = nullptr; // null: self-signed
  long serial = 4096;
};

inline std::string pemOf(X509* x) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

inline std::string pemOf(EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

inline void addExtension(X509* x, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
  X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  X509_add_ext(x, e, -1);
  X509_EXTENSION_free(e);
}

inline KeyAndCertificate make(const CertificateSpec& spec) {
  KeyAndCertificate out;
  out.key = spec.rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), spec.serial);
  ASN1_TIME_set(X509_getm_notBefore(x), static_cast<time_t>(spec.notBeforeSeconds));
  ASN1_TIME_set(X509_getm_notAfter(x), static_cast<time_t>(spec.notAfterSeconds));
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.commonName.c_str()), -1,
                             -1, 0);
  X509_set_pubkey(x, out.key);
  X509* issuerCert = spec.issuer != nullptr ? spec.issuer->cert : x;
  X509_set_issuer_name(x, X509_get_subject_name(issuerCert));
  if (!spec.dnsNames.empty()) {
    std::string san;
    for (const std::string& d : spec.dnsNames) {
      san += (san.empty() ? "DNS:" : ",DNS:") + d;
    }
    addExtension(x, issuerCert, NID_subject_alt_name, san);
  }
  if (spec.ca) {
    addExtension(x, issuerCert, NID_basic_constraints, "critical,CA:TRUE");
    addExtension(x, issuerCert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    addExtension(x, issuerCert, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    addExtension(x, issuerCert, NID_ext_key_usage, "serverAuth");
  }
  X509_sign(x, spec.issuer != nullptr ? spec.issuer->key : out.key, EVP_sha256());
  out.cert = x;
  out.certificatePem = pemOf(x);
  out.keyPem = pemOf(out.key);
  return out;
}

} // namespace tide::testcerts
