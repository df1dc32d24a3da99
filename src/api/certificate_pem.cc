#include "api/certificate_pem.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <vector>

namespace tide::api {

namespace {

struct Free {
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(STACK_OF(X509) * p) const { sk_X509_free(p); }
};
template <typename T> using Owned = std::unique_ptr<T, Free>;

Status invalid(const std::string& message) {
  return Status("ValidationException", message);
}

Owned<BIO> memory(const std::string& text) {
  return Owned<BIO>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Every certificate in a PEM text, in order; an error when there is none or a block is not a
// certificate.
Result<std::vector<Owned<X509>>> readCertificates(const std::string& pem, const char* what) {
  std::vector<Owned<X509>> out;
  Owned<BIO> bio = memory(pem);
  for (;;) {
    X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (x == nullptr) {
      unsigned long e = ERR_peek_last_error();
      ERR_clear_error();
      // Running out of PEM blocks ends the list; anything else is a malformed one.
      if (!out.empty() && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
        break;
      }
      return invalid(std::string("Unable to parse ") + what +
                     ". Please ensure the input is a PEM-encoded X.509 certificate.");
    }
    out.emplace_back(x);
  }
  return out;
}

std::string nameText(const X509_NAME* name) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string commonName(const X509_NAME* name) {
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) {
    return "";
  }
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) {
    return "";
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

std::vector<std::string> dnsNames(X509* cert) {
  std::vector<std::string> out;
  Owned<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) {
    return out;
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names.get(), i);
    if (g->type == GEN_DNS) {
      const ASN1_STRING* s = g->d.dNSName;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<size_t>(ASN1_STRING_length(s)));
    }
  }
  return out;
}

// "0a:1b:..." as ACM shows serial numbers.
std::string serialText(X509* cert) {
  Owned<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) {
    return "";
  }
  std::vector<unsigned char> bytes(static_cast<size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), bytes.data());
  if (bytes.empty()) {
    bytes.push_back(0);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    if (!out.empty()) {
      out += ':';
    }
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

Result<TimeMs> timeOf(const ASN1_TIME* t) {
  struct tm tm = {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) {
    return invalid("The certificate's validity period cannot be read.");
  }
  return static_cast<TimeMs>(timegm(&tm)) * 1000;
}

// ACM's KeyAlgorithm for a key, or empty when ACM does not take it.
std::string keyAlgorithm(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
  case EVP_PKEY_RSA: {
    int bits = EVP_PKEY_get_bits(key);
    if (bits == 1024 || bits == 2048 || bits == 3072 || bits == 4096) {
      return "RSA_" + std::to_string(bits);
    }
    return "";
  }
  case EVP_PKEY_EC: {
    char group[64] = {};
    size_t n = 0;
    if (EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), &n) != 1) {
      return "";
    }
    std::string g(group, n);
    if (g == "prime256v1" || g == "secp384r1" || g == "secp521r1") {
      return "EC_" + g;
    }
    return "";
  }
  default:
    return "";
  }
}

// ACM's words for the signature algorithm ("SHA256WITHRSA").
std::string signatureAlgorithm(X509* cert) {
  switch (X509_get_signature_nid(cert)) {
  case NID_sha1WithRSAEncryption:
    return "SHA1WITHRSA";
  case NID_sha256WithRSAEncryption:
    return "SHA256WITHRSA";
  case NID_sha384WithRSAEncryption:
    return "SHA384WITHRSA";
  case NID_sha512WithRSAEncryption:
    return "SHA512WITHRSA";
  case NID_ecdsa_with_SHA1:
    return "SHA1WITHECDSA";
  case NID_ecdsa_with_SHA256:
    return "SHA256WITHECDSA";
  case NID_ecdsa_with_SHA384:
    return "SHA384WITHECDSA";
  case NID_ecdsa_with_SHA512:
    return "SHA512WITHECDSA";
  case NID_rsassaPss:
    return "SHA256WITHRSASSA_PSS";
  default:
    return OBJ_nid2sn(X509_get_signature_nid(cert));
  }
}

std::vector<std::string> keyUsages(X509* cert) {
  std::vector<std::string> out;
  uint32_t ku = X509_get_key_usage(cert);
  if (ku == UINT32_MAX) {
    return out; // no keyUsage extension
  }
  const std::pair<uint32_t, const char*> kBits[] = {
      {KU_DIGITAL_SIGNATURE, "DIGITAL_SIGNATURE"},
      {KU_NON_REPUDIATION, "NON_REPUDIATION"},
      {KU_KEY_ENCIPHERMENT, "KEY_ENCIPHERMENT"},
      {KU_DATA_ENCIPHERMENT, "DATA_ENCIPHERMENT"},
      {KU_KEY_AGREEMENT, "KEY_AGREEMENT"},
      {KU_KEY_CERT_SIGN, "CERTIFICATE_SIGNING"},
      {KU_CRL_SIGN, "CRL_SIGNING"},
      {KU_ENCIPHER_ONLY, "ENCIPHER_ONLY"},
      {KU_DECIPHER_ONLY, "DECIPHER_ONLY"},
  };
  for (const auto& [bit, name] : kBits) {
    if ((ku & bit) != 0) {
      out.emplace_back(name);
    }
  }
  return out;
}

std::vector<std::string> extendedKeyUsages(X509* cert) {
  std::vector<std::string> out;
  uint32_t xku = X509_get_extended_key_usage(cert);
  if (xku == UINT32_MAX) {
    return out;
  }
  const std::pair<uint32_t, const char*> kBits[] = {
      {XKU_SSL_SERVER, "TLS_WEB_SERVER_AUTHENTICATION"},
      {XKU_SSL_CLIENT, "TLS_WEB_CLIENT_AUTHENTICATION"},
      {XKU_CODE_SIGN, "CODE_SIGNING"},
      {XKU_SMIME, "EMAIL_PROTECTION"},
      {XKU_TIMESTAMP, "TIME_STAMPING"},
      {XKU_OCSP_SIGN, "OCSP_SIGNING"},
  };
  for (const auto& [bit, name] : kBits) {
    if ((xku & bit) != 0) {
      out.emplace_back(name);
    }
  }
  return out;
}

// Whether the chain leads from the certificate to a certificate of the chain (the last one
// need not be a root: ACM takes intermediates only). Times are checked apart, against tide's
// clock.
bool chainValidates(X509* cert, const std::vector<Owned<X509>>& chain) {
  Owned<X509_STORE> store(X509_STORE_new());
  Owned<STACK_OF(X509)> untrusted(sk_X509_new_null());
  for (const Owned<X509>& c : chain) {
    X509_STORE_add_cert(store.get(), c.get());
    sk_X509_push(untrusted.get(), c.get());
  }
  Owned<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), cert, untrusted.get()) != 1) {
    return false;
  }
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME);
  bool ok = X509_verify_cert(ctx.get()) == 1;
  ERR_clear_error();
  return ok;
}

} // namespace

Result<model::Certificate> readImportedCertificate(const std::string& certificatePem,
                                                   const std::string& privateKeyPem,
                                                   const std::string& chainPem, TimeMs now) {
  TIDE_ASSIGN_OR_RETURN(auto certs, readCertificates(certificatePem, "certificate"));
  if (certs.size() != 1) {
    return invalid("The certificate field contains more than one certificate. You can specify "
                   "only one certificate in this field.");
  }
  X509* cert = certs.front().get();
  if (privateKeyPem.find("ENCRYPTED") != std::string::npos) {
    return invalid("The private key is encrypted: ACM imports unencrypted private keys only "
                   "(openssl pkey -in KEY -out PLAIN).");
  }
  Owned<BIO> keyBio = memory(privateKeyPem);
  // A passphrase callback that gives none: an encrypted key fails here rather than prompting.
  Owned<EVP_PKEY> key(PEM_read_bio_PrivateKey(
      keyBio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  ERR_clear_error();
  if (!key) {
    return invalid("Unable to parse the private key. Please ensure the input is a PEM-encoded "
                   "private key.");
  }
  std::string algorithm = keyAlgorithm(key.get());
  if (algorithm.empty()) {
    return invalid("The private key is not supported: ACM takes RSA keys of 1024, 2048, 3072 "
                   "or 4096 bits and EC keys on P-256, P-384 or P-521.");
  }
  if (X509_check_private_key(cert, key.get()) != 1) {
    ERR_clear_error();
    return invalid("The private key does not match the public key in the certificate.");
  }
  if (!chainPem.empty()) {
    TIDE_ASSIGN_OR_RETURN(auto chain, readCertificates(chainPem, "certificate chain"));
    if (!chainValidates(cert, chain)) {
      return invalid("Could not validate the certificate with the certificate chain.");
    }
  }
  model::Certificate c;
  TIDE_ASSIGN_OR_RETURN(c.notBefore, timeOf(X509_get0_notBefore(cert)));
  TIDE_ASSIGN_OR_RETURN(c.notAfter, timeOf(X509_get0_notAfter(cert)));
  if (now < c.notBefore) {
    return invalid("The certificate is not valid yet: it is valid from " +
                   formatIso8601(c.notBefore) + ".");
  }
  if (now > c.notAfter) {
    return invalid("The certificate has expired: it was valid until " + formatIso8601(c.notAfter) +
                   ".");
  }
  c.certificatePem = certificatePem;
  c.chainPem = chainPem;
  c.privateKeyPem = privateKeyPem;
  c.subject = nameText(X509_get_subject_name(cert));
  c.issuer = nameText(X509_get_issuer_name(cert));
  c.serial = serialText(cert);
  c.keyAlgorithm = algorithm;
  c.signatureAlgorithm = signatureAlgorithm(cert);
  c.keyUsages = keyUsages(cert);
  c.extendedKeyUsages = extendedKeyUsages(cert);
  std::vector<std::string> sans = dnsNames(cert);
  std::string cn = commonName(X509_get_subject_name(cert));
  c.domainName = !cn.empty() ? cn : (sans.empty() ? "" : sans.front());
  // ACM lists the domain name among the subject alternative names, first.
  if (!c.domainName.empty()) {
    c.subjectAlternativeNames.push_back(c.domainName);
  }
  for (const std::string& s : sans) {
    if (s != c.domainName) {
      c.subjectAlternativeNames.push_back(s);
    }
  }
  return c;
}

} // namespace tide::api
