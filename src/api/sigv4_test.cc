#include "api/sigv4.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace tide::api::sigv4 {
namespace {

struct Vector {
  std::string name;
  SignedRequest request;
};

// Requests Debian's botocore signed (testdata/make_sigv4_vectors.py), at this time and key.
struct Vectors {
  TimeMs now = 0;
  std::string key, secret;
  std::vector<Vector> all;
};

const Vectors& vectors() {
  static const Vectors v = [] {
    Vectors out;
    std::ifstream in(TIDE_SIGV4_VECTORS);
    nlohmann::json j = nlohmann::json::parse(in);
    out.now = 1796530350000; // 2026-12-06T04:12:30Z, the "now" of the file
    EXPECT_EQ(j["now"], "20261206T041230Z");
    out.key = j["accessKeyId"];
    out.secret = j["secretAccessKey"];
    for (const auto& x : j["vectors"]) {
      Vector v;
      v.name = x["name"];
      v.request.method = x["method"];
      v.request.path = x["path"];
      v.request.query = x["query"];
      v.request.body = x["body"];
      for (const auto& h : x["headers"]) {
        v.request.headers.emplace_back(h[0], h[1]);
      }
      out.all.push_back(v);
    }
    return out;
  }();
  return v;
}

Verdict check(const SignedRequest& r, TimeMs now) {
  const Vectors& v = vectors();
  return verify(
      r,
      [&](std::string_view key) -> std::optional<std::string> {
        if (key == v.key) {
          return v.secret;
        }
        return std::nullopt;
      },
      now);
}

const Vector& named(std::string_view name) {
  for (const Vector& v : vectors().all) {
    if (v.name == name) {
      return v;
    }
  }
  ADD_FAILURE() << "no vector " << name;
  return vectors().all.front();
}

void setHeader(SignedRequest& r, std::string_view name, std::string value) {
  for (auto& [n, v] : r.headers) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  r.headers.emplace_back(std::string(name), std::move(value));
}

TEST(SigV4Test, AcceptsEveryRequestBotocoreSigned) {
  ASSERT_GE(vectors().all.size(), 8u);
  for (const Vector& v : vectors().all) {
    Verdict verdict = check(v.request, vectors().now);
    EXPECT_EQ(verdict.failure, Failure::None) << v.name << ": " << verdict.message;
    EXPECT_EQ(verdict.signature.scope.region, "us-east-1") << v.name;
  }
  EXPECT_EQ(check(named("ec2 query").request, vectors().now).signature.scope.service, "ec2");
  EXPECT_TRUE(check(named("presigned GET").request, vectors().now).signature.presigned);
  // The session token is one of the query parameters the presigned signature covers.
  const Vector& token = named("presigned GET with a session token");
  EXPECT_NE(token.request.query.find("X-Amz-Security-Token="), std::string::npos);
  SignedRequest swapped = token.request;
  swapped.query.replace(swapped.query.find("X-Amz-Security-Token=") + 21, 4, "XXXX");
  EXPECT_EQ(check(swapped, vectors().now).failure, Failure::Mismatch);
}

TEST(SigV4Test, ATamperedRequestIsAMismatch) {
  for (const Vector& v : vectors().all) {
    SignedRequest body = v.request;
    body.body += " ";
    SignedRequest query = v.request;
    query.query += query.query.empty() ? "x=1" : "&x=1";
    SignedRequest path = v.request;
    path.path += "x";
    SignedRequest method = v.request;
    method.method = method.method == "GET" ? "POST" : "GET";
    SignedRequest host = v.request;
    setHeader(host, "Host", "127.0.0.1:4567");
    for (const SignedRequest* r : {&query, &path, &method, &host}) {
      EXPECT_EQ(check(*r, vectors().now).failure, Failure::Mismatch) << v.name;
    }
    if (!v.request.body.empty() && v.request.query.find("X-Amz-Signature") == std::string::npos) {
      EXPECT_EQ(check(body, vectors().now).failure, Failure::Mismatch) << v.name;
    }
  }
}

TEST(SigV4Test, AWrongSecretIsAMismatchAndAnUnknownKeyIsSaidSo) {
  const SignedRequest& r = named("ec2 query").request;
  Verdict wrong = verify(
      r, [](std::string_view) -> std::optional<std::string> { return "not-the-secret"; },
      vectors().now);
  EXPECT_EQ(wrong.failure, Failure::Mismatch);
  Verdict unknown = verify(
      r, [](std::string_view) -> std::optional<std::string> { return std::nullopt; },
      vectors().now);
  EXPECT_EQ(unknown.failure, Failure::UnknownKey);
  EXPECT_NE(unknown.message.find("AKIDTIDEEXAMPLE"), std::string::npos);
}

TEST(SigV4Test, TheClockMayDifferByFifteenMinutesAtMost) {
  const SignedRequest& r = named("cloudwatch json 1.0").request;
  const TimeMs minute = 60'000;
  EXPECT_EQ(check(r, vectors().now + 15 * minute).failure, Failure::None);
  EXPECT_EQ(check(r, vectors().now - 15 * minute).failure, Failure::None);
  EXPECT_EQ(check(r, vectors().now + 15 * minute + 1).failure, Failure::Expired);
  EXPECT_EQ(check(r, vectors().now - 15 * minute - 1).failure, Failure::Expired);
}

TEST(SigV4Test, APresignedRequestExpiresAfterItsSeconds) {
  const SignedRequest& r = named("presigned GET").request; // X-Amz-Expires=300
  EXPECT_EQ(check(r, vectors().now + 300'000).failure, Failure::None);
  EXPECT_EQ(check(r, vectors().now + 300'001).failure, Failure::Expired);
}

TEST(SigV4Test, UnsignedAndMalformedSignaturesAreRefusedWithTheirKind) {
  SignedRequest unsigned_ = named("ec2 query").request;
  std::erase_if(unsigned_.headers, [](const auto& h) { return h.first == "Authorization"; });
  EXPECT_EQ(check(unsigned_, vectors().now).failure, Failure::Missing);

  const std::string good =
      "AWS4-HMAC-SHA256 Credential=AKIDTIDEEXAMPLE/20261206/us-east-1/ec2/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date, Signature=" +
      std::string(64, 'a');
  SignedRequest base = named("ec2 query").request;
  setHeader(base, "Authorization", good);
  EXPECT_EQ(check(base, vectors().now).failure, Failure::Mismatch); // well formed, wrong
  for (std::string bad : {
           std::string("AWS4-HMAC-SHA1 Credential=x"),
           std::string("AWS4-HMAC-SHA256"),
           good.substr(0, good.find(", Signature")),                         // no signature
           std::string(good).replace(good.find("aws4_request"), 12, "aws5"), // bad scope
           std::string(good).replace(good.find("20261206"), 8, "20261205"),  // other date
           std::string(good).replace(good.find("content-type;host"), 17, "host;content-type"),
           std::string(good).replace(good.find("content-type;host;x-amz-date"), 28,
                                     "content-type;x-amz-date"), // host unsigned
           std::string(good).replace(good.find("aaaa"), 4, "AAAA"),
       }) {
    SignedRequest r = base;
    setHeader(r, "Authorization", bad);
    Verdict v = check(r, vectors().now);
    EXPECT_EQ(v.failure, Failure::Incomplete) << bad;
    EXPECT_FALSE(v.message.empty()) << bad;
  }
  SignedRequest noDate = base;
  std::erase_if(noDate.headers, [](const auto& h) { return h.first == "X-Amz-Date"; });
  EXPECT_EQ(check(noDate, vectors().now).failure, Failure::Incomplete);
}

TEST(SigV4Test, UriEncodingIsRfc3986WithUpperCaseDigits) {
  EXPECT_EQ(uriEncode("a b/c~d-e_f.g*h+", false), "a%20b%2Fc~d-e_f.g%2Ah%2B");
  EXPECT_EQ(uriEncode("/a b/", true), "/a%20b/");
  EXPECT_EQ(uriEncode("\xff", false), "%FF");
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

} // namespace
} // namespace tide::api::sigv4
