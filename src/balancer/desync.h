// HTTP desync protection: every request head gets a tier and a reason, as AWS's
// http_desync_guardian classifies requests (the tiers and reason names are its), and the load
// balancer's desync mitigation mode decides what happens to each tier.
//
// The classification is made by parseRequestHead (http_parser.cc) during the one parse of the
// head: it fills MessageHead::desync. This header holds the types (light: anything may include
// it), the mode table, and the message that says why (built only when asked, for logs and
// tests; it allocates).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tide::balancer {

// How risky a request is, from least to most.
enum class DesyncTier : uint8_t {
  Compliant,  // complies with RFC 9110/9112 and poses no known threat
  Acceptable, // not compliant, but no known desync risk
  Ambiguous,  // not compliant; servers and proxies may read it differently
  Severe,     // a high risk: a known smuggling pattern or broken syntax
};

// Why; the names are http_desync_guardian's (ClassificationReason).
enum class DesyncReason : uint8_t {
  Compliant,                          // nothing found
  EmptyHeader,                        // a header line with an empty name
  SuspiciousHeader,                   // a name close to Content-Length / Transfer-Encoding
  NonCompliantHeader,                 // a name or value with characters outside the RFC's
  BadHeader,                          // CR, LF or NUL in a name or value
  MultilineHeader,                    // obs-fold: a line continuing the previous header
  MissingHeaderColon,                 // a header line without a colon
  BadMethod,                          // a method that is not a token
  AmbiguousUri,                       // a control character (HTAB, DEL...) in the URI
  SpaceInUri,                         // a space in the URI
  BadUri,                             // CR, LF or NUL in the URI, or a version hidden in it
  NonCompliantVersion,                // HTTP/0.9, HTTP/1.2+, whitespace around the version
  BadVersion,                         // not an HTTP/1.x version, or two of them
  UndefinedContentLengthSemantics,    // Content-Length on GET/HEAD (not 0), or in HTTP/0.9
  GetHeadZeroContentLength,           // Content-Length: 0 on GET/HEAD
  MultipleContentLength,              // Content-Length fields with different values
  DuplicateContentLength,             // Content-Length fields with the same value
  BadContentLength,                   // a Content-Length that is not a 64-bit number
  UndefinedTransferEncodingSemantics, // Transfer-Encoding on GET/HEAD or before HTTP/1.1
  MultipleTransferEncodingChunked,    // chunked applied twice
  BadTransferEncoding,                // an unknown coding, or chunked not the final one
  BothTeClPresent,                    // Transfer-Encoding and Content-Length together
};

// routing.http.desync_mitigation_mode.
enum class DesyncMitigationMode : uint8_t {
  Monitor,   // forward every request tide can frame unambiguously; only count
  Defensive, // forward Compliant and Acceptable, Ambiguous only normalized and then close
             // both connections, block Severe (the AWS default)
  Strictest, // forward only Compliant
};

// What parseRequestHead found. `field` names the header the reason is about (or -1).
struct DesyncVerdict {
  DesyncTier tier = DesyncTier::Compliant;       // the highest tier found
  DesyncReason reason = DesyncReason::Compliant; // the first reason of that tier
  int16_t field = -1;         // index in MessageHead::fields the reason is about, or -1
  uint64_t number = 0;        // the Content-Length a GET/HEAD reason is about
  bool unframeable = false;   // tide cannot tell where the body ends, or where a line ends:
                              // never forwarded (parseRequestHead returns Invalid)
  bool notNormalized = false; // some Ambiguous finding could not be removed from what is
                              // forwarded (a GET/HEAD body, a URI): defensive mode blocks it

  // Raises the tier (and sets the reason) if `t` is higher than the current one.
  void raise(DesyncTier t, DesyncReason r, int f = -1) {
    if (t > tier) {
      tier = t;
      reason = r;
      field = static_cast<int16_t>(f);
    }
  }
};

// What the worker does with a classified request.
enum class DesyncAction : uint8_t {
  Forward,          // forward, keep both connections
  ForwardThenClose, // forward (normalized), then close the client and the target connection
  Block,            // answer 400 and close the client connection
};

// The mode table (AWS's, with tide's rule that an unframeable request is never forwarded).
DesyncAction desyncAction(DesyncMitigationMode mode, const DesyncVerdict& v);

std::string_view desyncTierName(DesyncTier t);
std::string_view desyncReasonName(DesyncReason r);
// Inline: the control plane uses these with the balancer's headers only.
inline std::string_view desyncModeName(DesyncMitigationMode m) {
  switch (m) {
  case DesyncMitigationMode::Monitor:
    return "monitor";
  case DesyncMitigationMode::Defensive:
    return "defensive";
  case DesyncMitigationMode::Strictest:
    return "strictest";
  }
  return "?";
}

// "monitor", "defensive" or "strictest" (the attribute's values); anything else: nullopt.
inline std::optional<DesyncMitigationMode> parseDesyncMitigationMode(std::string_view s) {
  for (auto m : {DesyncMitigationMode::Monitor, DesyncMitigationMode::Defensive,
                 DesyncMitigationMode::Strictest}) {
    if (s == desyncModeName(m)) {
      return m;
    }
  }
  return std::nullopt;
}

struct MessageHead;

// Why the request was classified as it was: the method, the tier, the reason and what it is
// about ("\"POST\", Severe: MultipleContentLength \"Content-Length\": \"100\""). Values of
// headers other than Content-Length and Transfer-Encoding are obfuscated (only the characters
// at fault are shown). Allocates: for logs and tests, not for every request.
std::string describeDesync(const MessageHead& head);

} // namespace tide::balancer
