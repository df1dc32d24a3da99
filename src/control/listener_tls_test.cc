// HTTPS listeners in the balancer snapshot: certificates (default first), names lowercase,
// the chain after the leaf, the policy's versions and cipher lists.
#include "control/listener_tls.h"

#include "control/publisher.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

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

// The publisher puts HTTPS listeners in the snapshot with their TLS configuration, and
// publishes again when a certificate is reimported.
TEST(ListenerTlsTest, PublisherCarriesHttpsListenersAndRepublishesOnReimport) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("tide-listener-tls-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto store = std::move(*store::openSqliteStore((dir / "state.db").string()));
  model::TargetGroup tg;
  tg.targetGroupArn = "arn:tg/web";
  tg.targetGroupName = "web";
  model::LoadBalancer lb;
  lb.loadBalancerArn = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/"
                       "shop/50dc6c495c0c9188";
  lb.loadBalancerName = "shop";
  model::Certificate cert = certificate("arn:cert", {"shop.example.test"});
  model::Listener https;
  https.listenerArn = "arn:listener/443";
  https.loadBalancerArn = lb.loadBalancerArn;
  https.port = 8443;
  https.protocol = "HTTPS";
  https.defaultActions = {{"forward", tg.targetGroupArn}};
  https.defaultCertificateArn = cert.certificateArn;
  https.sslPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06";
  ASSERT_TRUE(store
                  ->transact([&](store::Tx& tx) {
                    TIDE_RETURN_IF_ERROR(tx.putTargetGroup(tg));
                    TIDE_RETURN_IF_ERROR(tx.putLoadBalancer(lb));
                    TIDE_RETURN_IF_ERROR(tx.putCertificate(cert));
                    return tx.putListener(https);
                  })
                  .isOk());
  std::vector<std::shared_ptr<const balancer::Snapshot>> published;
  Publisher p(*store, [&](auto s) { published.push_back(s); });
  ASSERT_TRUE(p.publish().isOk());
  ASSERT_EQ(published.size(), 1u);
  ASSERT_EQ(published[0]->loadBalancers[0].listeners.size(), 1u);
  const balancer::Listener& l = published[0]->loadBalancers[0].listeners[0];
  EXPECT_TRUE(l.https);
  EXPECT_EQ(l.tls.policyName, "ELBSecurityPolicy-TLS13-1-2-2021-06");
  ASSERT_EQ(l.tls.certificates.size(), 1u);
  EXPECT_EQ(l.tls.certificates[0].privateKeyPem, "KEY arn:cert");

  ASSERT_TRUE(p.publish().isOk());
  EXPECT_EQ(published.size(), 1u); // nothing changed
  cert.certificatePem = "RENEWED\n";
  ASSERT_TRUE(store->transact([&](store::Tx& tx) { return tx.putCertificate(cert); }).isOk());
  ASSERT_TRUE(p.publish().isOk());
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(published[1]->loadBalancers[0].listeners[0].tls.certificates[0].certificatePem,
            "RENEWED\n");
  fs::remove_all(dir);
}

} // namespace
} // namespace tide::control
