#include "api/auth.h"

#include "common/text.h"

#include <openssl/crypto.h>
#include <strings.h>

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

constexpr std::string_view kSessionKeyPrefix = "ASIA";
constexpr std::string_view kTokenPrefix = "TIDE1.";

// What the server's key says about a session: the token's MAC and the session's secret.
std::string sessionMac(const Credentials& server, std::string_view keyId, long long expiry) {
  return hexEncode(sigv4::hmacSha256(server.secretAccessKey,
                                     "tide session token\n" + server.accessKeyId + "\n" +
                                         std::string(keyId) + "\n" + std::to_string(expiry)));
}

std::string sessionSecret(const Credentials& server, std::string_view keyId, long long expiry) {
  std::string mac =
      sigv4::hmacSha256(server.secretAccessKey, "tide session secret\n" + std::string(keyId) +
                                                    "\n" + std::to_string(expiry));
  return base64Encode(mac.substr(0, 30)); // 30 bytes: 40 characters, as AWS's secrets
}

// The X-Amz-Security-Token a request carries: its header, or the presigned query parameter.
std::optional<std::string> securityTokenOf(const sigv4::SignedRequest& r) {
  for (const auto& [name, value] : r.headers) {
    if (name.size() == 20 && ::strncasecmp(name.c_str(), "x-amz-security-token", 20) == 0) {
      return value;
    }
  }
  constexpr std::string_view kParam = "X-Amz-Security-Token=";
  std::string_view q = r.query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    if (pair.starts_with(kParam)) {
      return std::string(pair.substr(kParam.size()));
    }
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
  }
  return std::nullopt;
}

enum class TokenFailure { None, Invalid, Missing, Expired };

// The secret of a session key, when `token` is the server's token for it and has not expired.
std::optional<std::string> sessionSecretFor(const Credentials& server, std::string_view keyId,
                                            std::string_view token, TimeMs now,
                                            TokenFailure& failure) {
  failure = TokenFailure::Invalid;
  if (!token.starts_with(kTokenPrefix)) {
    return std::nullopt;
  }
  std::string_view rest = token.substr(kTokenPrefix.size());
  size_t dot1 = rest.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : rest.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || rest.substr(0, dot1) != keyId) {
    return std::nullopt;
  }
  std::string_view expiryText = rest.substr(dot1 + 1, dot2 - dot1 - 1);
  if (expiryText.empty() || expiryText.size() > 12 ||
      !std::all_of(expiryText.begin(), expiryText.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  long long expiry = std::stoll(std::string(expiryText));
  std::string expected = sessionMac(server, keyId, expiry);
  std::string_view mac = rest.substr(dot2 + 1);
  if (mac.size() != expected.size() ||
      CRYPTO_memcmp(mac.data(), expected.data(), expected.size()) != 0) {
    return std::nullopt;
  }
  if (now / 1000 >= expiry) {
    failure = TokenFailure::Expired;
    return std::nullopt;
  }
  failure = TokenFailure::None;
  return sessionSecret(server, keyId, expiry);
}

// The refusal of a request whose security token is not the server's, or has expired, as each
// protocol words it.
Status tokenError(TokenFailure failure, AuthDialect dialect) {
  if (failure == TokenFailure::Expired) {
    return Status(dialect == AuthDialect::Json ? "ExpiredTokenException" : "ExpiredToken",
                  "The security token included in the request is expired");
  }
  const char* code = dialect == AuthDialect::Ec2     ? "AuthFailure"
                     : dialect == AuthDialect::Query ? "InvalidClientTokenId"
                                                     : "UnrecognizedClientException";
  return Status(code, failure == TokenFailure::Missing
                          ? "The security token included in the request is invalid: a session "
                            "key (ASIA...) is sent with its session token (X-Amz-Security-Token; "
                            "AWS_SESSION_TOKEN for the aws CLI and SDKs)"
                          : "The security token included in the request is invalid.");
}

} // namespace

SessionCredentials issueSessionCredentials(const Credentials& server, TimeMs now,
                                           long long durationSeconds) {
  SessionCredentials c;
  c.accessKeyId = std::string(kSessionKeyPrefix) + randomKeyCharacters(16);
  long long expiry = now / 1000 + durationSeconds;
  c.expiration = expiry * 1000;
  c.secretAccessKey = sessionSecret(server, c.accessKeyId, expiry);
  c.sessionToken = std::string(kTokenPrefix) + c.accessKeyId + "." + std::to_string(expiry) + "." +
                   sessionMac(server, c.accessKeyId, expiry);
  return c;
}

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
    return Caller{s.accessKeyId, s.region, s.service, securityTokenOf(r).has_value()};
  }
  // The server's own key signs without a token; a session key ("ASIA...") with the token the
  // server gave it. A token that does not fit the key is refused as AWS refuses it.
  std::optional<std::string> token = securityTokenOf(r);
  TokenFailure tokenFailure = TokenFailure::None;
  sigv4::Verdict v = sigv4::verify(
      r,
      [&](std::string_view key) -> std::optional<std::string> {
        if (key == config.credentials.accessKeyId) {
          if (token) {
            tokenFailure = TokenFailure::Invalid;
            return std::nullopt;
          }
          return config.credentials.secretAccessKey;
        }
        if (key.starts_with(kSessionKeyPrefix)) {
          if (!token) {
            tokenFailure = TokenFailure::Missing;
            return std::nullopt;
          }
          return sessionSecretFor(config.credentials, key, *token, now, tokenFailure);
        }
        return std::nullopt;
      },
      now);
  if (v.failure == sigv4::Failure::UnknownKey && tokenFailure != TokenFailure::None) {
    return tokenError(tokenFailure, dialect);
  }
  if (v.failure != sigv4::Failure::None) {
    return authError(v.failure, dialect, v.message);
  }
  const sigv4::CredentialScope& s = v.signature.scope;
  return Caller{s.accessKeyId, s.region, s.service, token.has_value()};
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

std::string viewerToken(const Credentials& server) {
  return hexEncode(
      sigv4::hmacSha256(server.secretAccessKey, "tide viewer token\n" + server.accessKeyId));
}

namespace {

// The value of `name` in a Cookie header ("a=1; tide_token=T"), or empty.
std::string_view cookieValue(std::string_view cookies, std::string_view name) {
  while (!cookies.empty()) {
    size_t end = cookies.find(';');
    std::string_view pair = cookies.substr(0, end);
    cookies = end == std::string_view::npos ? std::string_view() : cookies.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') {
      pair.remove_prefix(1);
    }
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return pair.substr(eq + 1);
    }
  }
  return {};
}

// The value of `name` in the request target's query ("/metrics?token=T"), or empty. Tokens
// are hex, so no percent-decoding is needed to compare them.
std::string_view queryValue(std::string_view target, std::string_view name) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) {
    return {};
  }
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    size_t end = query.find('&');
    std::string_view pair = query.substr(0, end);
    query = end == std::string_view::npos ? std::string_view() : query.substr(end + 1);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return pair.substr(eq + 1);
    }
  }
  return {};
}

bool sameToken(std::string_view given, const std::string& expected) {
  return given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

} // namespace

Status authorizeViewer(const AuthConfig* config, const HttpRequest& request) {
  if (config == nullptr || config->mode == AuthMode::None) {
    return Status::ok();
  }
  std::string expected = viewerToken(config->credentials);
  if (const std::string* authorization = request.header("authorization")) {
    std::string_view value = *authorization;
    if (value.size() > 7 && strncasecmp(value.data(), "bearer ", 7) == 0 &&
        sameToken(value.substr(7), expected)) {
      return Status::ok();
    }
  }
  if (const std::string* cookies = request.header("cookie")) {
    if (sameToken(cookieValue(*cookies, "tide_token"), expected)) {
      return Status::ok();
    }
  }
  if (sameToken(queryValue(request.target, "token"), expected)) {
    return Status::ok();
  }
  return Status("AccessDeniedException",
                "this page needs tide's viewer token: `tide console` prints a URL that carries "
                "it (or send it as `Authorization: Bearer TOKEN`)");
}

} // namespace tide::api
