// HTTPS listeners in the balancer snapshot: certificates (default first), names lowercase,
// the chain after the leaf, the policy's versions and cipher lists.
#include "control/listener_tls.h"

#include <gtest/gtest.h>

namespace tide::control {
namespace {

model::Certificate certificate(const std::string& arn, std::vector<std::string> names) {
  model::Certificate c;
  c.certificateArn = arn;
  c.certificatePem = "LEAF " + arn + "\n";
  c.privateKeyPem = "KEY " + arn;
  c.subjectAlternativeNames = std::move(names);
  return c;
}

TEST(ListenerTlsTest, DefaultFirstThenSniAndPolicyResolved) {
  model::Certificate a = certificate("arn:a", {"Shop.Example.test", "*.shop.example.test"});
  a.chainPem = "CHAIN\n";
  model::Certificate b = certificate("arn:b", {"api.example.test"});
  std::map<std::string, const model::Certificate*> byArn = {{"arn:a", &a}, {"arn:b", &b}};
  model::Listener l;
  l.protocol = "HTTPS";
  l.defaultCertificateArn = "arn:a";
  l.sniCertificateArns = {"arn:gone", "arn:b"};
  l.sslPolicy = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06";
  auto tls = listenerTlsConfig(l, byArn);
  ASSERT_TRUE(tls.has_value());
  ASSERT_EQ(tls->certificates.size(), 2u); // the one ACM no longer has is left out
  EXPECT_EQ(tls->certificates[0].arn, "arn:a");
  EXPECT_EQ(tls->certificates[0].certificatePem, "LEAF arn:a\nCHAIN\n");
  EXPECT_EQ(tls->certificates[0].privateKeyPem, "KEY arn:a");
  EXPECT_EQ(tls->certificates[0].names,
            (std::vector<std::string>{"shop.example.test", "*.shop.example.test"}));
  EXPECT_EQ(tls->certificates[1].arn, "arn:b");
  EXPECT_EQ(tls->minVersion, 0x0303);
  EXPECT_EQ(tls->maxVersion, 0x0304);
  EXPECT_EQ(tls->cipherSuites,
            "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  EXPECT_EQ(tls->cipherList, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                             "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384");

  l.sslPolicy = "ELBSecurityPolicy-2016-08";
  tls = listenerTlsConfig(l, byArn);
  ASSERT_TRUE(tls.has_value());
  EXPECT_EQ(tls->minVersion, 0x0301);
  EXPECT_EQ(tls->maxVersion, 0x0303);
  EXPECT_EQ(tls->cipherSuites, "");

  l.defaultCertificateArn = "arn:gone";
  EXPECT_FALSE(listenerTlsConfig(l, byArn).has_value());
  l.defaultCertificateArn = "arn:a";
  l.sslPolicy = "nope";
  EXPECT_FALSE(listenerTlsConfig(l, byArn).has_value());
}

} // namespace
} // namespace tide::control
