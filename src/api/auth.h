// Who may call the API: every request signed with SigV4 by the server's key (credentials.h), or,
// with `--auth none`, anyone (for CI that signs with test/test; the server then refuses to listen
// off loopback). The dispatcher routes a request first, then asks here, so that a refusal is
// answered in the request's own protocol with the code AWS gives in it.
#pragma once

#include "api/credentials.h"
#include "api/http.h"
#include "api/sigv4.h"
#include "common/clock.h"
#include "common/status.h"

#include <string>

namespace tide::api {

enum class AuthMode {
  SigV4, // every request signed by the server's key (the default)
  None,  // any request, signed by any key or not signed at all
};

struct AuthConfig {
  AuthMode mode = AuthMode::SigV4;
  Credentials credentials; // the one key SigV4 mode accepts
};

// How a protocol names auth failures: EC2's query (AuthFailure), the other query services
// (SignatureDoesNotMatch, InvalidClientTokenId, ...) and the JSON and CBOR protocols
// (InvalidSignatureException, UnrecognizedClientException, ...).
enum class AuthDialect {
  Ec2,   // ec2 query
  Query, // autoscaling, elasticloadbalancing, monitoring, cloudformation, sts query
  Json,  // AWS JSON 1.0/1.1, Smithy RPC v2 CBOR, tide's own JSON
};

// What an accepted request was signed for. Empty fields when it was not signed (--auth none).
struct Caller {
  std::string accessKeyId;
  std::string region;   // the credential scope's region
  std::string service;  // the credential scope's service ("ec2", "monitoring", ...)
  bool session = false; // signed with temporary credentials (an X-Amz-Security-Token)
};

// Temporary credentials, as STS GetSessionToken gives them: an "ASIA" key, its secret and the
// session token to send with it (X-Amz-Security-Token), valid until `expiration`. tide keeps
// no record of them: the token carries the key and the expiry under an HMAC by the server's
// secret, and the session's secret is derived from the same three, so they stay valid across
// restarts and end when the server's key changes.
struct SessionCredentials {
  std::string accessKeyId;     // "ASIA" + 16 upper-case letters and digits
  std::string secretAccessKey; // 40 characters of base64
  std::string sessionToken;
  TimeMs expiration = 0;
};

// New session credentials under the server's key, valid for durationSeconds from now.
SessionCredentials issueSessionCredentials(const Credentials& server, TimeMs now,
                                           long long durationSeconds);

// Checks a request's signature. The Status on refusal carries the dialect's code and a message
// saying what to fix.
Result<Caller> authenticate(const AuthConfig& config, const HttpRequest& request, TimeMs now,
                            AuthDialect dialect);

// The error a failure is answered with in a dialect (also used for a signature whose service
// is not the one the request is for).
Status authError(sigv4::Failure failure, AuthDialect dialect, const std::string& message);

// The request as SigV4 covers it: path and query split from the target, headers, body.
sigv4::SignedRequest signedRequestOf(const HttpRequest& request);

// Signs a request as a client does (X-Amz-Date, X-Amz-Content-Sha256 and Authorization headers
// added; Host must already be among the headers). Used by tide's CLI.
void signRequest(HttpRequest& request, const Credentials& credentials, const std::string& region,
                 const std::string& service, TimeMs now);

// The bearer token of what is read rather than called: the console, /metrics and the event
// stream (a browser cannot sign SigV4, and Prometheus does not). 64 lowercase hex digits of an
// HMAC by the server's secret: the same across restarts, changed with the server's key.
// `tide console` prints a URL that carries it.
std::string viewerToken(const Credentials& server);

// Whether a request may read the viewer paths. Always with --auth none (or a null config);
// with SigV4 the request carries the viewer token as `Authorization: Bearer TOKEN`, a
// `tide_token` cookie or a `token` query parameter. Refusals are AccessDeniedException with
// what to do.
Status authorizeViewer(const AuthConfig* config, const HttpRequest& request);

} // namespace tide::api
