#include "model/ssl_policies.h"

namespace tide::model {

namespace {

using Names = std::vector<std::string_view>;

// The TLS 1.3 suites every TLS13 policy takes.
const Names kTls13 = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                      "TLS_CHACHA20_POLY1305_SHA256"};

// ELBSecurityPolicy-2016-08's TLS 1.0-1.2 ciphers, in AWS's order.
const Names kClassic = {"ECDHE-ECDSA-AES128-GCM-SHA256",
                        "ECDHE-RSA-AES128-GCM-SHA256",
                        "ECDHE-ECDSA-AES128-SHA256",
                        "ECDHE-RSA-AES128-SHA256",
                        "ECDHE-ECDSA-AES128-SHA",
                        "ECDHE-RSA-AES128-SHA",
                        "ECDHE-ECDSA-AES256-GCM-SHA384",
                        "ECDHE-RSA-AES256-GCM-SHA384",
                        "ECDHE-ECDSA-AES256-SHA384",
                        "ECDHE-RSA-AES256-SHA384",
                        "ECDHE-RSA-AES256-SHA",
                        "ECDHE-ECDSA-AES256-SHA",
                        "AES128-GCM-SHA256",
                        "AES128-SHA256",
                        "AES128-SHA",
                        "AES256-GCM-SHA384",
                        "AES256-SHA256",
                        "AES256-SHA"};

// The forward-secret (ECDHE) ones of kClassic.
const Names kForwardSecret = {
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-RSA-AES128-SHA256",       "ECDHE-ECDSA-AES128-SHA",      "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-SHA384",
    "ECDHE-RSA-AES256-SHA384",       "ECDHE-RSA-AES256-SHA",        "ECDHE-ECDSA-AES256-SHA"};

// TLS 1.2 without SHA-1 CBC suites (ELBSecurityPolicy-TLS-1-2-2017-01, TLS13-1-2-Ext1-2021-06).
const Names kTls12 = {"ECDHE-ECDSA-AES128-GCM-SHA256",
                      "ECDHE-RSA-AES128-GCM-SHA256",
                      "ECDHE-ECDSA-AES128-SHA256",
                      "ECDHE-RSA-AES128-SHA256",
                      "ECDHE-ECDSA-AES256-GCM-SHA384",
                      "ECDHE-RSA-AES256-GCM-SHA384",
                      "ECDHE-ECDSA-AES256-SHA384",
                      "ECDHE-RSA-AES256-SHA384",
                      "AES128-GCM-SHA256",
                      "AES128-SHA256",
                      "AES256-GCM-SHA384",
                      "AES256-SHA256"};

// Forward-secret TLS 1.2 suites with SHA-2 (FS-1-2-Res-2019-08, TLS13-1-2-2021-06).
const Names kTls12ForwardSecret = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
                                   "ECDHE-ECDSA-AES128-SHA256",     "ECDHE-RSA-AES128-SHA256",
                                   "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
                                   "ECDHE-ECDSA-AES256-SHA384",     "ECDHE-RSA-AES256-SHA384"};

// Forward-secret AEAD suites only (FS-1-2-Res-2020-10, TLS13-1-2-Res-2021-06).
const Names kRestricted = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
                           "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"};

Names join(const Names& a, const Names& b) {
  Names out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

const std::vector<SslPolicy>& table() {
  static const std::vector<SslPolicy> k = {
      {"ELBSecurityPolicy-2016-08", {"TLSv1", "TLSv1.1", "TLSv1.2"}, kClassic},
      {"ELBSecurityPolicy-TLS13-1-2-2021-06",
       {"TLSv1.2", "TLSv1.3"},
       join(kTls13, kTls12ForwardSecret)},
      {"ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
       {"TLSv1.2", "TLSv1.3"},
       join(kTls13, kRestricted)},
      {"ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", {"TLSv1.2", "TLSv1.3"}, join(kTls13, kTls12)},
      {"ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", {"TLSv1.2", "TLSv1.3"}, join(kTls13, kClassic)},
      {"ELBSecurityPolicy-TLS13-1-1-2021-06",
       {"TLSv1.1", "TLSv1.2", "TLSv1.3"},
       join(kTls13, kClassic)},
      {"ELBSecurityPolicy-TLS13-1-0-2021-06",
       {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"},
       join(kTls13, kClassic)},
      {"ELBSecurityPolicy-TLS13-1-3-2021-06", {"TLSv1.3"}, kTls13},
      // The one policy with DES-CBC3-SHA (3DES), for legacy clients; OpenSSL 3 serves it
      // only where its security level allows.
      {"ELBSecurityPolicy-TLS-1-0-2015-04",
       {"TLSv1", "TLSv1.1", "TLSv1.2"},
       join(kClassic, {"DES-CBC3-SHA"})},
      {"ELBSecurityPolicy-TLS-1-1-2017-01", {"TLSv1.1", "TLSv1.2"}, kClassic},
      {"ELBSecurityPolicy-TLS-1-2-2017-01", {"TLSv1.2"}, kTls12},
      {"ELBSecurityPolicy-TLS-1-2-Ext-2018-06", {"TLSv1.2"}, kClassic},
      {"ELBSecurityPolicy-FS-2018-06", {"TLSv1", "TLSv1.1", "TLSv1.2"}, kForwardSecret},
      {"ELBSecurityPolicy-FS-1-1-2019-08", {"TLSv1.1", "TLSv1.2"}, kForwardSecret},
      {"ELBSecurityPolicy-FS-1-2-2019-08", {"TLSv1.2"}, kForwardSecret},
      {"ELBSecurityPolicy-FS-1-2-Res-2019-08", {"TLSv1.2"}, kTls12ForwardSecret},
      {"ELBSecurityPolicy-FS-1-2-Res-2020-10", {"TLSv1.2"}, kRestricted},
      {"ELBSecurityPolicy-2015-05", {"TLSv1", "TLSv1.1", "TLSv1.2"}, kClassic},
  };
  return k;
}

} // namespace

std::span<const SslPolicy> sslPolicies() {
  return table();
}

const SslPolicy* findSslPolicy(std::string_view name) {
  for (const SslPolicy& p : table()) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

} // namespace tide::model
