#include "api/auth.h"

#include <algorithm>
#include <ctime>

namespace tide::api {

namespace {

std::string amzDate(TimeMs now) {
  std::time_t t = static_cast<std::time_t>(now / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

} // namespace

sigv4::SignedRequest signedRequestOf(const HttpRequest& request) {
  sigv4::SignedRequest r;
  r.method = request.method;
  std::string_view target = request.target;
  size_t q = target.find('?');
  r.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) {
    r.query = std::string(target.substr(q + 1));
  }
  r.headers = request.headers;
  r.body = request.body;
  return r;
}

Status authError(sigv4::Failure failure, AuthDialect dialect, const std::string& message) {
  using sigv4::Failure;
  struct Row {
    Failure failure;
    const char* ec2;
    const char* query;
    const char* json;
  };
  // EC2 answers AuthFailure for a key or signature it cannot validate and RequestExpired for a
  // stale one; the query services SignatureDoesNotMatch ("Signature expired: ...") for both.
  static const Row kRows[] = {
      {Failure::Missing, "MissingAuthenticationToken", "MissingAuthenticationToken",
       "MissingAuthenticationTokenException"},
      {Failure::Incomplete, "IncompleteSignature", "IncompleteSignature",
       "IncompleteSignatureException"},
      {Failure::UnknownKey, "AuthFailure", "InvalidClientTokenId", "UnrecognizedClientException"},
      {Failure::Mismatch, "AuthFailure", "SignatureDoesNotMatch", "InvalidSignatureException"},
      {Failure::Expired, "RequestExpired", "SignatureDoesNotMatch", "InvalidSignatureException"},
  };
  for (const Row& r : kRows) {
    if (r.failure == failure) {
      const char* code = dialect == AuthDialect::Ec2     ? r.ec2
                         : dialect == AuthDialect::Query ? r.query
                                                         : r.json;
      std::string text = failure == Failure::Expired && dialect != AuthDialect::Ec2
                             ? "Signature expired: " + message
                             : message;
      return Status(code, text);
    }
  }
  return internalError("authError asked for a request that did not fail"); // a bug
}

Result<Caller> authenticate(const AuthConfig& config, const HttpRequest& request, TimeMs now,
                            AuthDialect dialect) {
  sigv4::SignedRequest r = signedRequestOf(request);
  if (config.mode == AuthMode::None) {
    sigv4::Verdict v = sigv4::parse(r); // any key; the scope still names the region
    if (v.failure != sigv4::Failure::None) {
      return Caller{};
    }
    const sigv4::CredentialScope& s = v.signature.scope;
    return Caller{s.accessKeyId, s.region, s.service};
  }
  sigv4::Verdict v = sigv4::verify(
      r,
      [&](std::string_view key) -> std::optional<std::string> {
        if (key == config.credentials.accessKeyId) {
          return config.credentials.secretAccessKey;
        }
        return std::nullopt;
      },
      now);
  if (v.failure != sigv4::Failure::None) {
    return authError(v.failure, dialect, v.message);
  }
  const sigv4::CredentialScope& s = v.signature.scope;
  return Caller{s.accessKeyId, s.region, s.service};
}

void signRequest(HttpRequest& request, const Credentials& credentials, const std::string& region,
                 const std::string& service, TimeMs now) {
  std::string date = amzDate(now);
  std::string payload = sigv4::sha256Hex(request.body);
  request.headers.emplace_back("x-amz-date", date);
  request.headers.emplace_back("x-amz-content-sha256", payload);
  std::vector<std::string> names;
  for (const auto& [name, value] : request.headers) {
    std::string n = name;
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
    if (n != "authorization" && n != "content-length" && n != "user-agent") {
      names.push_back(n);
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  sigv4::CredentialScope scope{credentials.accessKeyId, date.substr(0, 8), region, service};
  std::string canonical = sigv4::canonicalRequest(signedRequestOf(request), names, payload, false);
  std::string signature =
      sigv4::sign(credentials.secretAccessKey, scope, sigv4::stringToSign(date, scope, canonical));
  std::string signedHeaders;
  for (const std::string& n : names) {
    signedHeaders += (signedHeaders.empty() ? "" : ";") + n;
  }
  request.headers.emplace_back("authorization",
                               "AWS4-HMAC-SHA256 Credential=" + credentials.accessKeyId + "/" +
                                   scope.date + "/" + region + "/" + service +
                                   "/aws4_request, SignedHeaders=" + signedHeaders +
                                   ", Signature=" + signature);
}

} // namespace tide::api
