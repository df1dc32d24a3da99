#include "api/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

namespace tide::api::sigv4 {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// A header value as SigV4 signs it: trimmed, runs of spaces made one.
std::string collapse(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += c;
  }
  return out;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// Percent-decoding; a '%' not followed by two hex digits stays as it is.
std::string uriDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hexValue(s[i + 1]);
      int lo = hexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// The query's parameters, decoded, in order.
std::vector<std::pair<std::string, std::string>> queryParams(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      out.emplace_back(uriDecode(pair.substr(0, eq)),
                       eq == std::string_view::npos ? "" : uriDecode(pair.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) {
      break;
    }
    q.remove_prefix(amp + 1);
  }
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  for (;;) {
    size_t at = s.find(sep);
    out.emplace_back(s.substr(0, at));
    if (at == std::string_view::npos) {
      return out;
    }
    s.remove_prefix(at + 1);
  }
}

// AKID/YYYYMMDD/region/service/aws4_request.
std::optional<CredentialScope> parseScope(std::string_view credential) {
  std::vector<std::string> parts = split(credential, '/');
  if (parts.size() != 5 || parts[0].empty() || parts[1].size() != 8 || parts[2].empty() ||
      parts[3].empty() || parts[4] != "aws4_request") {
    return std::nullopt;
  }
  return CredentialScope{parts[0], parts[1], parts[2], parts[3]};
}

// YYYYMMDDTHHMMSSZ → milliseconds since the epoch.
std::optional<TimeMs> parseAmzDate(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') {
    return std::nullopt;
  }
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && !std::isdigit(static_cast<unsigned char>(s[i]))) {
      return std::nullopt;
    }
  }
  auto num = [&](size_t at, size_t n) { return std::stoi(std::string(s.substr(at, n))); };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(9, 2);
  tm.tm_min = num(11, 2);
  tm.tm_sec = num(13, 2);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  return static_cast<TimeMs>(timegm(&tm)) * 1000;
}

const std::string* headerOf(const SignedRequest& r, std::string_view lowercaseName) {
  for (const auto& [name, value] : r.headers) {
    if (lower(name) == lowercaseName) {
      return &value;
    }
  }
  return nullptr;
}

bool isHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Verdict incomplete(std::string message) {
  return Verdict{Failure::Incomplete, std::move(message), {}};
}

} // namespace

std::string sha256Hex(std::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), out, &len, EVP_sha256(), nullptr);
  return hex(out, len);
}

std::string hmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string uriEncode(std::string_view s, bool keepSlash) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keepSlash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string canonicalRequest(const SignedRequest& r, const std::vector<std::string>& signedHeaders,
                             std::string_view payloadHash, bool presigned) {
  std::string out = r.method + "\n";
  // The path as sent, encoded once more (every AWS service but S3 signs it double-encoded).
  out += uriEncode(r.path.empty() ? "/" : r.path, true) + "\n";
  std::vector<std::pair<std::string, std::string>> params;
  for (auto& [k, v] : queryParams(r.query)) {
    if (presigned && k == "X-Amz-Signature") {
      continue;
    }
    params.emplace_back(uriEncode(k, false), uriEncode(v, false));
  }
  std::sort(params.begin(), params.end());
  for (size_t i = 0; i < params.size(); ++i) {
    out += (i ? "&" : "") + params[i].first + "=" + params[i].second;
  }
  out += "\n";
  std::map<std::string, std::string> values; // lowercase name → values joined with ','
  for (const auto& [name, value] : r.headers) {
    std::string n = lower(name);
    std::string& v = values[n];
    v += (v.empty() ? "" : ",") + collapse(value);
  }
  for (const std::string& h : signedHeaders) {
    out += h + ":" + values[h] + "\n";
  }
  out += "\n";
  for (size_t i = 0; i < signedHeaders.size(); ++i) {
    out += (i ? ";" : "") + signedHeaders[i];
  }
  out += "\n";
  out += payloadHash;
  return out;
}

std::string stringToSign(std::string_view amzDate, const CredentialScope& scope,
                         std::string_view canonical) {
  return std::string(kAlgorithm) + "\n" + std::string(amzDate) + "\n" + scope.date + "/" +
         scope.region + "/" + scope.service + "/aws4_request\n" + sha256Hex(canonical);
}

std::string sign(std::string_view secretAccessKey, const CredentialScope& scope,
                 std::string_view toSign) {
  std::string key = hmacSha256("AWS4" + std::string(secretAccessKey), scope.date);
  key = hmacSha256(key, scope.region);
  key = hmacSha256(key, scope.service);
  key = hmacSha256(key, "aws4_request");
  std::string mac = hmacSha256(key, toSign);
  return hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

Verdict parse(const SignedRequest& r) {
  Verdict v;
  Signature& s = v.signature;
  std::vector<std::pair<std::string, std::string>> query = queryParams(r.query);
  auto param = [&](std::string_view name) -> const std::string* {
    for (const auto& [k, val] : query) {
      if (k == name) {
        return &val;
      }
    }
    return nullptr;
  };
  const std::string* auth = headerOf(r, "authorization");
  if (auth == nullptr && param("X-Amz-Signature") == nullptr) {
    return Verdict{Failure::Missing, "the request is not signed (no Authorization header)", {}};
  }
  std::string credential, signedHeaders;
  if (auth != nullptr) {
    std::string_view a = *auth;
    if (a.substr(0, kAlgorithm.size()) != kAlgorithm ||
        (a.size() > kAlgorithm.size() && a[kAlgorithm.size()] != ' ')) {
      return incomplete("the Authorization header must start with " + std::string(kAlgorithm));
    }
    a.remove_prefix(std::min(a.size(), kAlgorithm.size()));
    for (std::string part : split(a, ',')) {
      std::string p = collapse(part);
      size_t eq = p.find('=');
      if (eq == std::string::npos) {
        return incomplete("Authorization header part '" + p + "' is not name=value");
      }
      std::string name = p.substr(0, eq), value = p.substr(eq + 1);
      if (name == "Credential") {
        credential = value;
      } else if (name == "SignedHeaders") {
        signedHeaders = value;
      } else if (name == "Signature") {
        s.signature = value;
      }
    }
    const std::string* date = headerOf(r, "x-amz-date");
    if (date == nullptr) {
      return incomplete("a signed request needs an X-Amz-Date header");
    }
    s.amzDate = *date;
  } else {
    s.presigned = true;
    const std::string* algorithm = param("X-Amz-Algorithm");
    if (algorithm == nullptr || *algorithm != kAlgorithm) {
      return incomplete("X-Amz-Algorithm must be " + std::string(kAlgorithm));
    }
    for (auto [name, into] : {std::pair<const char*, std::string*>{"X-Amz-Credential", &credential},
                              {"X-Amz-SignedHeaders", &signedHeaders},
                              {"X-Amz-Signature", &s.signature},
                              {"X-Amz-Date", &s.amzDate}}) {
      const std::string* value = param(name);
      if (value == nullptr) {
        return incomplete(std::string("a presigned request needs ") + name);
      }
      *into = *value;
    }
    const std::string* expires = param("X-Amz-Expires");
    if (expires == nullptr || expires->empty() || expires->size() > 6 ||
        !std::all_of(expires->begin(), expires->end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      return incomplete("a presigned request needs X-Amz-Expires, in seconds (at most 604800)");
    }
    s.expiresSeconds = std::stoll(*expires);
    if (s.expiresSeconds > 604800) {
      return incomplete("X-Amz-Expires must be at most 604800 seconds (7 days)");
    }
  }
  std::optional<CredentialScope> scope = parseScope(credential);
  if (!scope) {
    return incomplete("Credential must be ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request, not '" +
                      credential + "'");
  }
  s.scope = *scope;
  if (signedHeaders.empty()) {
    return incomplete("SignedHeaders is missing");
  }
  s.signedHeaders = split(signedHeaders, ';');
  for (const std::string& h : s.signedHeaders) {
    if (h.empty() || h != lower(h)) {
      return incomplete("SignedHeaders must be lowercase names separated by ';'");
    }
  }
  if (!std::is_sorted(s.signedHeaders.begin(), s.signedHeaders.end())) {
    return incomplete("SignedHeaders must be sorted");
  }
  if (std::find(s.signedHeaders.begin(), s.signedHeaders.end(), "host") == s.signedHeaders.end()) {
    return incomplete("SignedHeaders must include host");
  }
  if (!isHex64(s.signature)) {
    return incomplete("Signature must be 64 lowercase hex digits");
  }
  if (!parseAmzDate(s.amzDate)) {
    return incomplete("X-Amz-Date must be YYYYMMDDTHHMMSSZ, not '" + s.amzDate + "'");
  }
  if (s.amzDate.substr(0, 8) != s.scope.date) {
    return incomplete("the Credential's date " + s.scope.date + " is not the request's date " +
                      s.amzDate.substr(0, 8));
  }
  return v;
}

Verdict verify(const SignedRequest& r,
               const std::function<std::optional<std::string>(std::string_view)>& secretFor,
               TimeMs now, Millis skew) {
  Verdict v = parse(r);
  if (v.failure != Failure::None) {
    return v;
  }
  const Signature& s = v.signature;
  std::optional<std::string> secret = secretFor(s.scope.accessKeyId);
  if (!secret) {
    v.failure = Failure::UnknownKey;
    v.message = "the access key " + s.scope.accessKeyId + " is not known (see tide credentials)";
    return v;
  }
  TimeMs at = *parseAmzDate(s.amzDate);
  if (s.presigned) {
    if (now > at + s.expiresSeconds * 1000 || at > now + skew.count()) {
      v.failure = Failure::Expired;
      v.message = "the presigned request expired, or is dated in the future (" + s.amzDate + ")";
      return v;
    }
  } else if (at < now - skew.count() || at > now + skew.count()) {
    v.failure = Failure::Expired;
    v.message = "the request's time " + s.amzDate + " is more than " +
                std::to_string(skew.count() / 60000) + " minutes from the server's";
    return v;
  }
  // The payload hash is always the body's own: a signed x-amz-content-sha256 that is not it (or
  // UNSIGNED-PAYLOAD, which only S3 accepts) would let a body be changed under the signature.
  std::string payload = sha256Hex(r.body);
  if (const std::string* claimed = headerOf(r, "x-amz-content-sha256");
      claimed != nullptr && *claimed != payload) {
    v.failure = Failure::Mismatch;
    v.message = "the body's SHA-256 is not the x-amz-content-sha256 it was signed with";
    return v;
  }
  std::string canonical = canonicalRequest(r, s.signedHeaders, payload, s.presigned);
  std::string expected = sign(*secret, s.scope, stringToSign(s.amzDate, s.scope, canonical));
  if (CRYPTO_memcmp(expected.data(), s.signature.data(), expected.size()) != 0) {
    v.failure = Failure::Mismatch;
    v.message = "the request signature we calculated does not match the signature you provided; "
                "check your secret access key and signing method";
  }
  return v;
}

} // namespace tide::api::sigv4
