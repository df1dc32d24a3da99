// ACM's imported certificates over AWS JSON 1.1 (CertificateManager.*), and ELBv2's HTTPS
// listeners: Certificates, SslPolicy, Add/Remove/DescribeListenerCertificates,
// DescribeSSLPolicies.
#include "api/api_test_fixture.h"
#include "api/test_certificates.h"
#include "common/text.h"
#include "model/ssl_policies.h"

namespace tide::api {
namespace {

using testcerts::CertificateSpec;
using testcerts::make;

class AcmTest : public ApiTest {
protected:
  // A request as botocore sends ACM's: AWS JSON 1.1.
  std::pair<int, Json> acm(const std::string& op, const Json& body) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"x-amz-target", "CertificateManager." + op},
                 {"content-type", "application/x-amz-json-1.1"}};
    r.body = body.dump();
    HttpResponse resp = handleApiRequest(*ctx_, r);
    EXPECT_EQ(resp.contentType, "application/x-amz-json-1.1");
    return {resp.status, resp.body.empty() ? Json::object() : Json::parse(resp.body)};
  }
  Json acmOk(const std::string& op, const Json& body) {
    auto [status, j] = acm(op, body);
    EXPECT_EQ(status, 200) << op << ": " << j.dump();
    return j;
  }
  std::pair<std::string, std::string> acmError(const std::string& op, const Json& body) {
    auto [status, j] = acm(op, body);
    EXPECT_EQ(status, 400) << j.dump();
    return {j.value("__type", ""), j.value("message", "")};
  }
  // Seconds of the test clock, for validity periods around "now".
  int64_t nowSeconds() const { return clock_.now() / 1000; }
  CertificateSpec valid(const std::string& cn, std::vector<std::string> sans = {}) {
    CertificateSpec s;
    s.commonName = cn;
    s.dnsNames = std::move(sans);
    s.notBeforeSeconds = nowSeconds() - 3600;
    s.notAfterSeconds = nowSeconds() + 90 * 86400;
    return s;
  }
  Json importBody(const testcerts::KeyAndCertificate& kc, const std::string& chain = "") {
    Json b = {{"Certificate", base64Encode(kc.certificatePem)},
              {"PrivateKey", base64Encode(kc.keyPem)}};
    if (!chain.empty()) {
      b["CertificateChain"] = base64Encode(chain);
    }
    return b;
  }
  std::string importNew(const std::string& cn, std::vector<std::string> sans = {}) {
    auto kc = make(valid(cn, std::move(sans)));
    return acmOk("ImportCertificate", importBody(kc))["CertificateArn"];
  }

  // ELBv2 fixtures.
  std::string targetGroup() {
    return ok("CreateTargetGroup",
              {{"Name", "web"}, {"Port", 80}})["TargetGroups"][0]["TargetGroupArn"];
  }
  std::string loadBalancer() {
    return ok("CreateLoadBalancer", {{"Name", "shop"}})["LoadBalancers"][0]["LoadBalancerArn"];
  }
  Json forward(const std::string& tg) {
    return Json::array({{{"Type", "forward"}, {"TargetGroupArn", tg}}});
  }
};

TEST_F(AcmTest, ImportDescribeGetListDelete) {
  auto kc = make(valid("shop.example.test", {"shop.example.test", "www.example.test"}));
  Json r = acmOk("ImportCertificate", {{"Certificate", base64Encode(kc.certificatePem)},
                                       {"PrivateKey", base64Encode(kc.keyPem)},
                                       {"Tags", {{{"Key", "team"}, {"Value", "web"}}}}});
  std::string arn = r["CertificateArn"];
  EXPECT_TRUE(arn.starts_with("arn:aws:acm:us-east-1:000000000000:certificate/")) << arn;
  EXPECT_EQ(arn.size(), std::string("arn:aws:acm:us-east-1:000000000000:certificate/").size() + 36);

  Json d = acmOk("DescribeCertificate", {{"CertificateArn", arn}})["Certificate"];
  EXPECT_EQ(d["DomainName"], "shop.example.test");
  EXPECT_EQ(d["SubjectAlternativeNames"], Json::array({"shop.example.test", "www.example.test"}));
  EXPECT_EQ(d["Subject"], "CN=shop.example.test");
  EXPECT_EQ(d["Issuer"], "CN=shop.example.test");
  EXPECT_EQ(d["Serial"], "10:00");
  EXPECT_EQ(d["KeyAlgorithm"], "EC_prime256v1");
  EXPECT_EQ(d["SignatureAlgorithm"], "SHA256WITHECDSA");
  EXPECT_EQ(d["Type"], "IMPORTED");
  EXPECT_EQ(d["Status"], "ISSUED");
  EXPECT_EQ(d["InUseBy"], Json::array());
  EXPECT_EQ(d["KeyUsages"], Json::parse(R"([{"Name":"DIGITAL_SIGNATURE"},
                                            {"Name":"KEY_ENCIPHERMENT"}])"));
  EXPECT_EQ(d["ExtendedKeyUsages"][0]["Name"], "TLS_WEB_SERVER_AUTHENTICATION");
  EXPECT_EQ(d["NotBefore"], nowSeconds() - 3600); // epoch seconds on the JSON wire
  EXPECT_EQ(d["NotAfter"], nowSeconds() + 90 * 86400);
  EXPECT_EQ(d["ImportedAt"], nowSeconds());
  EXPECT_FALSE(d.contains("PrivateKey"));

  Json g = acmOk("GetCertificate", {{"CertificateArn", arn}});
  EXPECT_EQ(g["Certificate"], kc.certificatePem);
  EXPECT_FALSE(g.contains("CertificateChain"));
  EXPECT_EQ(g.dump().find("PRIVATE KEY"), std::string::npos); // never answered

  Json l = acmOk("ListCertificates", Json::object());
  // ACM lists RSA_1024 and RSA_2048 unless Includes.keyTypes names others.
  EXPECT_EQ(l["CertificateSummaryList"].size(), 0u) << l;
  l = acmOk("ListCertificates", {{"Includes", {{"keyTypes", {"EC_prime256v1"}}}}});
  ASSERT_EQ(l["CertificateSummaryList"].size(), 1u) << l;
  Json s = l["CertificateSummaryList"][0];
  EXPECT_EQ(s["CertificateArn"], arn);
  EXPECT_EQ(s["InUse"], false);
  EXPECT_EQ(s["Status"], "ISSUED");
  EXPECT_EQ(
      acmOk("ListCertificates", {{"Includes", {{"keyTypes", {"EC_prime256v1"}}}},
                                 {"CertificateStatuses", {"EXPIRED"}}})["CertificateSummaryList"]
          .size(),
      0u);

  Json tags = acmOk("ListTagsForCertificate", {{"CertificateArn", arn}})["Tags"];
  EXPECT_EQ(tags, Json::parse(R"([{"Key":"team","Value":"web"}])"));
  acmOk("AddTagsToCertificate", {{"CertificateArn", arn}, {"Tags", {{{"Key", "env"}}}}});
  acmOk("RemoveTagsFromCertificate",
        {{"CertificateArn", arn}, {"Tags", {{{"Key", "team"}, {"Value", "other"}}}}});
  EXPECT_EQ(acmOk("ListTagsForCertificate", {{"CertificateArn", arn}})["Tags"].size(), 2u);
  acmOk("RemoveTagsFromCertificate", {{"CertificateArn", arn}, {"Tags", {{{"Key", "team"}}}}});
  EXPECT_EQ(acmOk("ListTagsForCertificate", {{"CertificateArn", arn}})["Tags"],
            Json::parse(R"([{"Key":"env","Value":""}])"));
  EXPECT_EQ(
      acmError("AddTagsToCertificate", {{"CertificateArn", arn}, {"Tags", {{{"Key", "aws:x"}}}}})
          .first,
      "InvalidTagException");

  acmOk("DeleteCertificate", {{"CertificateArn", arn}});
  auto [code, message] = acmError("DescribeCertificate", {{"CertificateArn", arn}});
  EXPECT_EQ(code, "ResourceNotFoundException");
  EXPECT_EQ(message, "Could not find certificate " + arn + ".");
  EXPECT_EQ(acmError("DeleteCertificate", {{"CertificateArn", arn}}).first,
            "ResourceNotFoundException");
  EXPECT_EQ(acmError("GetCertificate", {{"CertificateArn", "nope"}}).first, "InvalidArnException");
}

TEST_F(AcmTest, RsaWithAChainAndReimport) {
  CertificateSpec caSpec = valid("Test CA");
  caSpec.ca = true;
  caSpec.rsa = true;
  auto ca = make(caSpec);
  CertificateSpec leafSpec = valid("api.example.test", {"api.example.test"});
  leafSpec.rsa = true;
  leafSpec.issuer = &ca;
  auto leaf = make(leafSpec);
  std::string arn =
      acmOk("ImportCertificate", importBody(leaf, ca.certificatePem))["CertificateArn"];
  Json d = acmOk("DescribeCertificate", {{"CertificateArn", arn}})["Certificate"];
  EXPECT_EQ(d["KeyAlgorithm"], "RSA_2048");
  EXPECT_EQ(d["SignatureAlgorithm"], "SHA256WITHRSA");
  EXPECT_EQ(d["Issuer"], "CN=Test CA");
  EXPECT_EQ(acmOk("GetCertificate", {{"CertificateArn", arn}})["CertificateChain"],
            ca.certificatePem);
  EXPECT_EQ(acmOk("ListCertificates", Json::object())["CertificateSummaryList"].size(), 1u);

  // A chain that does not lead to the certificate's issuer.
  auto other = make(caSpec);
  EXPECT_EQ(acmError("ImportCertificate", importBody(leaf, other.certificatePem)).second,
            "Could not validate the certificate with the certificate chain.");

  // A reimport keeps the ARN and the first import's time, and replaces what is served.
  clock_.advance(Millis(60'000));
  auto renewed = make(valid("api.example.test", {"api.example.test", "v2.example.test"}));
  Json body = importBody(renewed);
  body["CertificateArn"] = arn;
  EXPECT_EQ(acmOk("ImportCertificate", body)["CertificateArn"], arn);
  d = acmOk("DescribeCertificate", {{"CertificateArn", arn}})["Certificate"];
  EXPECT_EQ(d["SubjectAlternativeNames"].size(), 2u);
  EXPECT_EQ(d["ImportedAt"], nowSeconds());
  EXPECT_EQ(d["CreatedAt"], nowSeconds() - 60);
  body["Tags"] = {{{"Key", "k"}, {"Value", "v"}}};
  EXPECT_EQ(acmError("ImportCertificate", body).first, "InvalidParameterException");
  body.erase("Tags");
  body["CertificateArn"] = "arn:aws:acm:us-east-1:000000000000:certificate/none";
  EXPECT_EQ(acmError("ImportCertificate", body).first, "ResourceNotFoundException");
}

TEST_F(AcmTest, BadImportsAreRefusedAndChangeNothing) {
  auto a = make(valid("a.example.test"));
  auto b = make(valid("b.example.test"));
  auto expect = [&](const Json& body, const std::string& message) {
    auto [code, m] = acmError("ImportCertificate", body);
    EXPECT_EQ(code, "ValidationException") << m;
    EXPECT_NE(m.find(message), std::string::npos) << m;
  };
  expect({{"PrivateKey", base64Encode(a.keyPem)}}, "Value null at 'certificate'");
  expect({{"Certificate", base64Encode(a.certificatePem)}}, "Value null at 'privateKey'");
  expect({{"Certificate", "not base64!"}, {"PrivateKey", base64Encode(a.keyPem)}},
         "not valid base64");
  expect({{"Certificate", base64Encode("hello")}, {"PrivateKey", base64Encode(a.keyPem)}},
         "Unable to parse certificate");
  expect({{"Certificate", base64Encode(a.certificatePem + b.certificatePem)},
          {"PrivateKey", base64Encode(a.keyPem)}},
         "contains more than one certificate");
  expect({{"Certificate", base64Encode(a.certificatePem)}, {"PrivateKey", base64Encode("x")}},
         "Unable to parse the private key");
  expect({{"Certificate", base64Encode(a.certificatePem)}, {"PrivateKey", base64Encode(b.keyPem)}},
         "does not match the public key");
  expect({{"Certificate", base64Encode(a.certificatePem)},
          {"PrivateKey", base64Encode("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")}},
         "encrypted");
  expect({{"Certificate", base64Encode(a.certificatePem)},
          {"PrivateKey", base64Encode(std::string(5121, 'k'))}},
         "less than or equal to 5120");
  CertificateSpec old = valid("old.example.test");
  old.notAfterSeconds = nowSeconds() - 1;
  expect(importBody(make(old)), "The certificate has expired");
  CertificateSpec future = valid("new.example.test");
  future.notBeforeSeconds = nowSeconds() + 3600;
  expect(importBody(make(future)), "not valid yet");
  // A member ImportCertificate does not have.
  EXPECT_EQ(acmError("ImportCertificate", {{"Certificate", base64Encode(a.certificatePem)},
                                           {"PrivateKey", base64Encode(a.keyPem)},
                                           {"Unknown", 1}})
                .first,
            "ValidationException");
  EXPECT_EQ(acmOk("ListCertificates",
                  {{"Includes", {{"keyTypes", {"EC_prime256v1"}}}}})["CertificateSummaryList"]
                .size(),
            0u);
  EXPECT_EQ(acmError("ListCertificates", {{"Includes", {{"keyTypes", {"DSA"}}}}}).first,
            "ValidationException");
  EXPECT_EQ(acmError("ListCertificates", {{"SortBy", "CREATED_AT"}}).first, "ValidationException");
}

TEST_F(AcmTest, HttpsListenersServeImportedCertificates) {
  std::string tg = targetGroup();
  std::string lb = loadBalancer();
  std::string shop = importNew("shop.example.test");
  std::string api = importNew("api.example.test");
  Json https = {{"LoadBalancerArn", lb},
                {"Protocol", "HTTPS"},
                {"Port", 8443},
                {"DefaultActions", forward(tg)}};

  auto [code, message] = error("CreateListener", https);
  EXPECT_EQ(code, "ValidationError");
  EXPECT_EQ(message, "A certificate must be specified for HTTPS listeners");
  Json bad = https;
  bad["Certificates"] = {{{"CertificateArn", shop + "x"}}};
  EXPECT_EQ(errorCode("CreateListener", bad), "CertificateNotFound");
  bad["Certificates"] = {{{"CertificateArn", shop}}};
  bad["SslPolicy"] = "ELBSecurityPolicy-None";
  EXPECT_EQ(errorCode("CreateListener", bad), "SSLPolicyNotFound");
  bad["Protocol"] = "TCP";
  EXPECT_EQ(errorCode("CreateListener", bad), "UnsupportedProtocol");
  bad["Protocol"] = "HTTP";
  bad.erase("SslPolicy");
  EXPECT_EQ(errorCode("CreateListener", bad), "ValidationError");

  https["Certificates"] = {{{"CertificateArn", shop}}};
  Json l = ok("CreateListener", https)["Listeners"][0];
  std::string listener = l["ListenerArn"];
  EXPECT_EQ(l["Protocol"], "HTTPS");
  EXPECT_EQ(l["SslPolicy"], std::string(model::kDefaultSslPolicy));
  EXPECT_EQ(l["Certificates"], Json::parse(R"([{"CertificateArn":")" + shop + R"("}])"));

  // The certificate is in use: ACM says by which load balancer, and refuses to delete it.
  Json d = acmOk("DescribeCertificate", {{"CertificateArn", shop}})["Certificate"];
  EXPECT_EQ(d["InUseBy"], Json::array({lb}));
  EXPECT_EQ(acmError("DeleteCertificate", {{"CertificateArn", shop}}).first,
            "ResourceInUseException");

  // More certificates for SNI.
  Json added = ok("AddListenerCertificates",
                  {{"ListenerArn", listener}, {"Certificates", {{{"CertificateArn", api}}}}});
  EXPECT_EQ(added["Certificates"][0]["IsDefault"], false);
  EXPECT_EQ(
      errorCode("AddListenerCertificates",
                {{"ListenerArn", listener}, {"Certificates", {{{"CertificateArn", api + "x"}}}}}),
      "CertificateNotFound");
  Json certs = ok("DescribeListenerCertificates", {{"ListenerArn", listener}})["Certificates"];
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_EQ(certs[0], Json::parse(R"({"CertificateArn":")" + shop + R"(","IsDefault":true})"));
  EXPECT_EQ(certs[1]["CertificateArn"], api);
  EXPECT_EQ(errorCode("RemoveListenerCertificates",
                      {{"ListenerArn", listener}, {"Certificates", {{{"CertificateArn", shop}}}}}),
            "OperationNotPermitted");
  EXPECT_EQ(acmError("DeleteCertificate", {{"CertificateArn", api}}).first,
            "ResourceInUseException");
  ok("RemoveListenerCertificates",
     {{"ListenerArn", listener}, {"Certificates", {{{"CertificateArn", api}}}}});
  acmOk("DeleteCertificate", {{"CertificateArn", api}});

  // ModifyListener changes the policy and the default certificate; HTTP drops both.
  std::string next = importNew("next.example.test");
  l = ok("ModifyListener", {{"ListenerArn", listener},
                            {"SslPolicy", "ELBSecurityPolicy-TLS13-1-2-2021-06"},
                            {"Certificates", {{{"CertificateArn", next}}}}})["Listeners"][0];
  EXPECT_EQ(l["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06");
  EXPECT_EQ(l["Certificates"][0]["CertificateArn"], next);
  EXPECT_EQ(errorCode("ModifyListener", {{"ListenerArn", listener}, {"SslPolicy", "nope"}}),
            "SSLPolicyNotFound");
  l = ok("ModifyListener", {{"ListenerArn", listener}, {"Protocol", "HTTP"}})["Listeners"][0];
  EXPECT_FALSE(l.contains("SslPolicy"));
  EXPECT_FALSE(l.contains("Certificates"));
  EXPECT_EQ(errorCode("ModifyListener", {{"ListenerArn", listener}, {"Protocol", "HTTPS"}}),
            "ValidationError");
  EXPECT_EQ(errorCode("AddListenerCertificates",
                      {{"ListenerArn", listener}, {"Certificates", {{{"CertificateArn", shop}}}}}),
            "InvalidConfigurationRequest");
  acmOk("DeleteCertificate", {{"CertificateArn", shop}}); // no longer in use
}

TEST_F(AcmTest, DescribeSslPolicies) {
  Json all = ok("DescribeSSLPolicies", Json::object())["SslPolicies"];
  EXPECT_EQ(all.size(), model::sslPolicies().size());
  Json p = ok("DescribeSSLPolicies",
              {{"Names", {"ELBSecurityPolicy-TLS13-1-2-Res-2021-06"}}})["SslPolicies"];
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0]["SslProtocols"], Json::array({"TLSv1.2", "TLSv1.3"}));
  EXPECT_EQ(p[0]["Ciphers"][0], Json::parse(R"({"Name":"TLS_AES_128_GCM_SHA256","Priority":1})"));
  EXPECT_EQ(p[0]["Ciphers"].size(), 7u);
  p = ok("DescribeSSLPolicies", {{"Names", {"ELBSecurityPolicy-2016-08"}}})["SslPolicies"];
  EXPECT_EQ(p[0]["SslProtocols"], Json::array({"TLSv1", "TLSv1.1", "TLSv1.2"}));
  // The ciphers AWS's security policy tables give, in their order.
  auto ciphers = [&](const std::string& name) {
    std::vector<std::string> out;
    Json policies = ok("DescribeSSLPolicies", {{"Names", Json::array({name})}})["SslPolicies"];
    for (const Json& c : policies[0]["Ciphers"]) {
      out.push_back(c["Name"]);
    }
    return out;
  };
  const std::vector<std::string> tls13 = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                          "TLS_CHACHA20_POLY1305_SHA256"};
  std::vector<std::string> fs12 = tls13;
  for (const char* c :
       {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA256",
        "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384"}) {
    fs12.push_back(c);
  }
  EXPECT_EQ(ciphers("ELBSecurityPolicy-TLS13-1-2-2021-06"), fs12); // forward secret only
  std::vector<std::string> ext1 = ciphers("ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06");
  EXPECT_EQ(ext1.size(), 15u); // and the four RSA key-exchange suites with SHA-2
  EXPECT_EQ(ext1.back(), "AES256-SHA256");
  EXPECT_EQ(ciphers("ELBSecurityPolicy-TLS-1-0-2015-04").back(), "DES-CBC3-SHA");
  EXPECT_EQ(ciphers("ELBSecurityPolicy-2016-08").size(), 18u);
  EXPECT_EQ(errorCode("DescribeSSLPolicies", {{"Names", {"ELBSecurityPolicy-1999"}}}),
            "SSLPolicyNotFound");
}

// ELBv2's new actions over the query protocol, as the aws CLI and SDKs send them.
TEST_F(AcmTest, ElbActionsOverQuery) {
  auto form = [&](const std::string& body) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.body = body;
    r.headers = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
    return handleApiRequest(*ctx_, r);
  };
  HttpResponse r = form("Action=DescribeSSLPolicies&Version=2015-12-01&Names.member.1="
                        "ELBSecurityPolicy-TLS13-1-3-2021-06");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("<DescribeSSLPoliciesResult><SslPolicies><member><SslProtocols><member>"
                        "TLSv1.3</member></SslProtocols><Ciphers><member><Name>"
                        "TLS_AES_128_GCM_SHA256</Name><Priority>1</Priority>"),
            std::string::npos)
      << r.body;
  r = form("Action=DescribeListenerCertificates&Version=2015-12-01&ListenerArn=arn:nope");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("<Code>ListenerNotFound</Code>"), std::string::npos) << r.body;
  r = form("Action=AddListenerCertificates&Version=2015-12-01&ListenerArn=arn:nope&"
           "Certificates.member.1.CertificateArn=arn:aws:acm:us-east-1:000000000000:"
           "certificate/x");
  EXPECT_NE(r.body.find("<Code>ListenerNotFound</Code>"), std::string::npos) << r.body;
}

} // namespace
} // namespace tide::api
