// AWS Signature Version 4, checked on the server's side: the canonical request, the string to
// sign, the HMAC-SHA256 key chain, and a verdict on a request signed in its Authorization header
// or presigned in its query string. AWS's rules as botocore applies them (the tests replay
// requests that Debian's botocore signed: src/api/testdata/sigv4_vectors.json).
//
// This is the first step of signed requests (issue 10): the server does not call it yet. The
// verdict is a Failure kind, not a wire error: each protocol names it its own way (ec2:
// AuthFailure; query: SignatureDoesNotMatch, IncompleteSignature, ...), which the protocol
// layer decides.
#pragma once

#include "common/clock.h"
#include "common/status.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tide::api::sigv4 {

// What a signature covers, as received: the request target's raw path and query (still
// percent-encoded), the headers (names in any case; repeated names are joined with ','), the body.
struct SignedRequest {
  std::string method;
  std::string path;  // "/", as sent (percent-encoded)
  std::string query; // after '?', as sent; "" when none
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// The Credential scope: AKID/20261206/us-east-1/ec2/aws4_request.
struct CredentialScope {
  std::string accessKeyId;
  std::string date; // YYYYMMDD
  std::string region;
  std::string service;
};

// A request's signature as its sender stated it.
struct Signature {
  CredentialScope scope;
  std::vector<std::string> signedHeaders; // lowercase, in the order given (must be sorted)
  std::string signature;                  // lowercase hex, 64 digits
  std::string amzDate;                    // YYYYMMDDTHHMMSSZ
  bool presigned = false;                 // in the query string (X-Amz-Signature)
  long long expiresSeconds = 0;           // presigned: X-Amz-Expires
};

enum class Failure {
  None,
  Missing,    // no Authorization header and no X-Amz-Signature (MissingAuthenticationToken)
  Incomplete, // malformed or missing parts (IncompleteSignature)
  UnknownKey, // the access key is not known (InvalidClientTokenId / AuthFailure)
  Mismatch,   // the signature does not match (SignatureDoesNotMatch / AuthFailure)
  Expired,    // outside the allowed skew, or past X-Amz-Expires (RequestExpired)
};

struct Verdict {
  Failure failure = Failure::None;
  std::string message; // what a person needs to fix it
  Signature signature; // what was parsed (scope.region and service name the request's)
};

// Lowercase hex SHA-256 of bytes.
std::string sha256Hex(std::string_view bytes);

// HMAC-SHA256 of data under key: the 32 raw bytes.
std::string hmacSha256(std::string_view key, std::string_view data);

// RFC 3986 percent-encoding as SigV4 wants it: A-Z a-z 0-9 - _ . ~ kept, everything else %XX
// (upper case); '/' kept when keepSlash.
std::string uriEncode(std::string_view s, bool keepSlash);

// The canonical request (AWS's "Create a canonical request"), for the given signed headers
// and payload hash. The query excludes X-Amz-Signature when presigned.
std::string canonicalRequest(const SignedRequest& r, const std::vector<std::string>& signedHeaders,
                             std::string_view payloadHash, bool presigned);

// "AWS4-HMAC-SHA256\n<amzDate>\n<scope>\n<hex sha256 of the canonical request>".
std::string stringToSign(std::string_view amzDate, const CredentialScope& scope,
                         std::string_view canonicalRequest);

// Lowercase hex HMAC-SHA256 signature of stringToSign with the key derived from the secret.
std::string sign(std::string_view secretAccessKey, const CredentialScope& scope,
                 std::string_view stringToSign);

// Parses the signature from the Authorization header or the query string. Missing when neither
// carries one; Incomplete with a message when one is malformed.
Verdict parse(const SignedRequest& r);

// Checks a request: its signature parses, its key is known (secretFor returns the secret, or
// nullopt), its time is within `skew` of now (and before its presigned expiry), and the
// signature matches. The signature's scope must be for its own date.
Verdict verify(const SignedRequest& r,
               const std::function<std::optional<std::string>(std::string_view)>& secretFor,
               TimeMs now, Millis skew = Millis(15 * 60 * 1000));

} // namespace tide::api::sigv4
