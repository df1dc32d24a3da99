#include "api/auth.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

namespace tide::api {
namespace {

namespace fs = std::filesystem;

const TimeMs kNow = 1'796'000'000'000; // 2026-11-30

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/tide-auth-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

const Credentials kKey{"AKIAABCDEFGHIJKLMNOP", "secretsecretsecretsecretsecretsecret1234"};

HttpRequest queryRequest(std::string body = "Action=DescribeRegions&Version=2016-11-15") {
  HttpRequest r;
  r.method = "POST";
  r.target = "/";
  r.headers = {{"host", "127.0.0.1:4566"},
               {"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
  r.body = std::move(body);
  return r;
}

AuthConfig sigv4Config() {
  return AuthConfig{AuthMode::SigV4, kKey};
}

TEST(CredentialsTest, MadeOnceWithOwnerOnlyModeAndReadBack) {
  TempDir dir;
  auto first = loadOrCreateCredentials(dir.path);
  ASSERT_TRUE(first) << first.status().toString();
  EXPECT_EQ(first->accessKeyId.substr(0, 4), "AKIA");
  EXPECT_EQ(first->accessKeyId.size(), 20u);
  EXPECT_EQ(first->secretAccessKey.size(), 40u);
  struct stat st {};
  ASSERT_EQ(::stat(credentialsPath(dir.path).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = loadOrCreateCredentials(dir.path);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->accessKeyId, first->accessKeyId);
  EXPECT_EQ(again->secretAccessKey, first->secretAccessKey);
  EXPECT_NE(newCredentials().secretAccessKey, first->secretAccessKey);
}

TEST(CredentialsTest, AFileOthersCanReadIsRefusedWithTheFix) {
  TempDir dir;
  ASSERT_TRUE(loadOrCreateCredentials(dir.path));
  ::chmod(credentialsPath(dir.path).c_str(), 0644);
  auto c = readCredentials(credentialsPath(dir.path));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.status().code(), "ValidationError");
  EXPECT_NE(c.status().message().find("chmod 600"), std::string::npos);
}

TEST(CredentialsTest, AMalformedFileIsRefused) {
  TempDir dir;
  std::string path = credentialsPath(dir.path);
  {
    std::ofstream out(path);
    out << "[default]\naws_access_key_id = short\n";
  }
  ::chmod(path.c_str(), 0600);
  auto c = readCredentials(path);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.status().code(), "ValidationError");
  EXPECT_EQ(readCredentials(dir.path + "/none").status().code(), "NotFound");
}

TEST(AuthTest, ARequestSignedWithTheKeyIsAcceptedWithItsScope) {
  HttpRequest r = queryRequest();
  signRequest(r, kKey, "eu-west-1", "ec2", kNow);
  auto caller = authenticate(sigv4Config(), r, kNow + 60'000, AuthDialect::Ec2);
  ASSERT_TRUE(caller) << caller.status().toString();
  EXPECT_EQ(caller->region, "eu-west-1");
  EXPECT_EQ(caller->service, "ec2");
  EXPECT_EQ(caller->accessKeyId, kKey.accessKeyId);
}

TEST(AuthTest, AWrongSecretIsRefusedInEachDialect) {
  HttpRequest r = queryRequest();
  signRequest(r, Credentials{kKey.accessKeyId, "not-the-secret-not-the-secret-not-the-sec"},
              "us-east-1", "ec2", kNow);
  EXPECT_EQ(authenticate(sigv4Config(), r, kNow, AuthDialect::Ec2).status().code(), "AuthFailure");
  EXPECT_EQ(authenticate(sigv4Config(), r, kNow, AuthDialect::Query).status().code(),
            "SignatureDoesNotMatch");
  EXPECT_EQ(authenticate(sigv4Config(), r, kNow, AuthDialect::Json).status().code(),
            "InvalidSignatureException");
}

TEST(AuthTest, ATamperedBodyIsRefused) {
  HttpRequest r = queryRequest();
  signRequest(r, kKey, "us-east-1", "ec2", kNow);
  r.body = "Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-1";
  EXPECT_EQ(authenticate(sigv4Config(), r, kNow, AuthDialect::Query).status().code(),
            "SignatureDoesNotMatch");
  // Also when the signed x-amz-content-sha256 header is left saying the old hash.
  HttpRequest unsignedHash = queryRequest();
  signRequest(unsignedHash, kKey, "us-east-1", "ec2", kNow);
  unsignedHash.body += "&DryRun=true";
  EXPECT_EQ(authenticate(sigv4Config(), unsignedHash, kNow, AuthDialect::Ec2).status().code(),
            "AuthFailure");
}

TEST(AuthTest, AnExpiredDateIsRefused) {
  HttpRequest r = queryRequest();
  signRequest(r, kKey, "us-east-1", "ec2", kNow);
  TimeMs later = kNow + 16 * 60'000;
  auto ec2 = authenticate(sigv4Config(), r, later, AuthDialect::Ec2);
  EXPECT_EQ(ec2.status().code(), "RequestExpired");
  auto query = authenticate(sigv4Config(), r, later, AuthDialect::Query);
  EXPECT_EQ(query.status().code(), "SignatureDoesNotMatch");
  EXPECT_EQ(query.status().message().rfind("Signature expired", 0), 0u);
  EXPECT_TRUE(authenticate(sigv4Config(), r, kNow + 14 * 60'000, AuthDialect::Ec2));
}

TEST(AuthTest, AnUnknownKeyAndAnUnsignedRequestAreRefused) {
  HttpRequest r = queryRequest();
  signRequest(r, Credentials{"AKIAZZZZZZZZZZZZZZZZ", kKey.secretAccessKey}, "us-east-1",
              "monitoring", kNow);
  EXPECT_EQ(authenticate(sigv4Config(), r, kNow, AuthDialect::Query).status().code(),
            "InvalidClientTokenId");
  EXPECT_EQ(authenticate(sigv4Config(), r, kNow, AuthDialect::Json).status().code(),
            "UnrecognizedClientException");
  HttpRequest bare = queryRequest();
  EXPECT_EQ(authenticate(sigv4Config(), bare, kNow, AuthDialect::Query).status().code(),
            "MissingAuthenticationToken");
  EXPECT_EQ(authenticate(sigv4Config(), bare, kNow, AuthDialect::Json).status().code(),
            "MissingAuthenticationTokenException");
}

TEST(AuthTest, AuthNoneAcceptsAnyKeyAndKeepsItsRegion) {
  AuthConfig none{AuthMode::None, {}};
  HttpRequest r = queryRequest();
  signRequest(r, Credentials{"test", "test"}, "ap-south-1", "ec2", kNow);
  auto caller = authenticate(none, r, kNow + 3'600'000, AuthDialect::Ec2);
  ASSERT_TRUE(caller);
  EXPECT_EQ(caller->region, "ap-south-1");
  auto bare = authenticate(none, queryRequest(), kNow, AuthDialect::Ec2);
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->region, "");
}

// A request signed with session credentials: the token header is added before signing, as
// the SDKs do.
HttpRequest sessionRequest(const SessionCredentials& c, TimeMs at) {
  HttpRequest r = queryRequest();
  r.headers.emplace_back("X-Amz-Security-Token", c.sessionToken);
  signRequest(r, Credentials{c.accessKeyId, c.secretAccessKey}, "us-east-1", "sts", at);
  return r;
}

TEST(SessionTest, SessionCredentialsAreAcceptedUntilTheyExpire) {
  SessionCredentials c = issueSessionCredentials(kKey, kNow, 900);
  EXPECT_EQ(c.accessKeyId.substr(0, 4), "ASIA");
  EXPECT_EQ(c.accessKeyId.size(), 20u);
  EXPECT_EQ(c.secretAccessKey.size(), 40u);
  EXPECT_EQ(c.expiration, kNow + 900'000);
  auto caller =
      authenticate(sigv4Config(), sessionRequest(c, kNow + 1000), kNow + 1000, AuthDialect::Query);
  ASSERT_TRUE(caller) << caller.status().toString();
  EXPECT_TRUE(caller->session);
  EXPECT_EQ(caller->accessKeyId, c.accessKeyId);
  // Past the expiration, in each dialect's words.
  TimeMs late = kNow + 900'000;
  HttpRequest r = sessionRequest(c, late);
  EXPECT_EQ(authenticate(sigv4Config(), r, late, AuthDialect::Query).status().code(),
            "ExpiredToken");
  EXPECT_EQ(authenticate(sigv4Config(), r, late, AuthDialect::Ec2).status().code(), "ExpiredToken");
  EXPECT_EQ(authenticate(sigv4Config(), r, late, AuthDialect::Json).status().code(),
            "ExpiredTokenException");
}

TEST(SessionTest, ATokenThatIsNotTheServersOrNotTheKeysIsRefused) {
  SessionCredentials c = issueSessionCredentials(kKey, kNow, 3600);
  SessionCredentials other = issueSessionCredentials(kKey, kNow, 3600);
  auto code = [](const HttpRequest& r, AuthDialect d) {
    return authenticate(sigv4Config(), r, kNow, d).status().code();
  };
  // Another session's token with this session's key.
  SessionCredentials swapped = c;
  swapped.sessionToken = other.sessionToken;
  EXPECT_EQ(code(sessionRequest(swapped, kNow), AuthDialect::Query), "InvalidClientTokenId");
  EXPECT_EQ(code(sessionRequest(swapped, kNow), AuthDialect::Ec2), "AuthFailure");
  EXPECT_EQ(code(sessionRequest(swapped, kNow), AuthDialect::Json), "UnrecognizedClientException");
  // A token whose expiry was moved (its MAC no longer fits).
  SessionCredentials extended = c;
  size_t dot = extended.sessionToken.rfind('.');
  extended.sessionToken.replace(dot - 1, 1, "9");
  EXPECT_EQ(code(sessionRequest(extended, kNow), AuthDialect::Query), "InvalidClientTokenId");
  // A token made by another server's key.
  SessionCredentials foreign = issueSessionCredentials(
      Credentials{kKey.accessKeyId, "anothersecretanothersecretanothersecret1"}, kNow, 3600);
  EXPECT_EQ(code(sessionRequest(foreign, kNow), AuthDialect::Query), "InvalidClientTokenId");
  // The session key without its token; the server's own key with a token.
  HttpRequest bare = queryRequest();
  signRequest(bare, Credentials{c.accessKeyId, c.secretAccessKey}, "us-east-1", "sts", kNow);
  EXPECT_EQ(code(bare, AuthDialect::Query), "InvalidClientTokenId");
  EXPECT_NE(authenticate(sigv4Config(), bare, kNow, AuthDialect::Ec2)
                .status()
                .message()
                .find("AWS_SESSION_TOKEN"),
            std::string::npos);
  HttpRequest rootWithToken = queryRequest();
  rootWithToken.headers.emplace_back("X-Amz-Security-Token", c.sessionToken);
  signRequest(rootWithToken, kKey, "us-east-1", "sts", kNow);
  EXPECT_EQ(code(rootWithToken, AuthDialect::Query), "InvalidClientTokenId");
  // The right token, a wrong secret: the signature does not match.
  SessionCredentials wrongSecret = c;
  wrongSecret.secretAccessKey = other.secretAccessKey;
  EXPECT_EQ(code(sessionRequest(wrongSecret, kNow), AuthDialect::Query), "SignatureDoesNotMatch");
}

// Presigned URLs carry the token as a query parameter (the integration tests presign with
// botocore); here it is read there from a request signed in its header.
TEST(SessionTest, ATokenInTheQueryStringIsRead) {
  SessionCredentials c = issueSessionCredentials(kKey, kNow, 3600);
  HttpRequest r = queryRequest();
  r.method = "GET";
  r.body.clear();
  r.target = "/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Security-Token=" + c.sessionToken;
  signRequest(r, Credentials{c.accessKeyId, c.secretAccessKey}, "us-east-1", "sts", kNow);
  auto caller = authenticate(sigv4Config(), r, kNow, AuthDialect::Query);
  ASSERT_TRUE(caller) << caller.status().toString();
  EXPECT_TRUE(caller->session);
}

TEST(ViewerTokenTest, TheTokenIsAnHmacOfTheServersKey) {
  std::string token = viewerToken(kKey);
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(token, viewerToken(kKey));
  EXPECT_NE(token, viewerToken(Credentials{kKey.accessKeyId, std::string(40, 'x')}));
}

TEST(ViewerTokenTest, AViewerPathNeedsTheTokenInAHeaderACookieOrTheQuery) {
  AuthConfig config = sigv4Config();
  std::string token = viewerToken(kKey);
  HttpRequest r;
  r.method = "GET";
  r.target = "/metrics";
  Status refused = authorizeViewer(&config, r);
  EXPECT_EQ(refused.code(), "AccessDeniedException");
  EXPECT_NE(refused.message().find("tide console"), std::string::npos);

  HttpRequest bearer = r;
  bearer.headers = {{"authorization", "Bearer " + token}};
  EXPECT_TRUE(authorizeViewer(&config, bearer).isOk());
  bearer.headers = {{"authorization", "Bearer " + token.substr(1) + "0"}};
  EXPECT_FALSE(authorizeViewer(&config, bearer).isOk());

  HttpRequest cookie = r;
  cookie.headers = {{"cookie", "theme=dark; tide_token=" + token}};
  EXPECT_TRUE(authorizeViewer(&config, cookie).isOk());

  HttpRequest query = r;
  query.target = "/console/?view=all&token=" + token;
  EXPECT_TRUE(authorizeViewer(&config, query).isOk());
  query.target = "/console/?token=" + token + "x";
  EXPECT_FALSE(authorizeViewer(&config, query).isOk());
}

TEST(ViewerTokenTest, WithoutAuthEveryoneMayView) {
  AuthConfig none{AuthMode::None, {}};
  HttpRequest r;
  r.target = "/metrics";
  EXPECT_TRUE(authorizeViewer(&none, r).isOk());
  EXPECT_TRUE(authorizeViewer(nullptr, r).isOk());
}

} // namespace
} // namespace tide::api
