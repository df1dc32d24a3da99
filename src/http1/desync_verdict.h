// The desync classification of a request head (AWS http_desync_guardian's tiers and reason
// names): what parseRequestHead (parser.h) finds in the one parse of the head. Types only, light
// enough for anything to include; what a load balancer does with each tier is the balancer's
// (src/balancer/desync.h).
#pragma once

#include <cstdint>

namespace tide::http1 {

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
  bool malformed = false;     // a request-line or field form RFC 9112 / RFC 9110 say to
                              // reject (target.h, docs/security.md): 400 and close in every
                              // mode (parseRequestHead returns Invalid)
  bool mustClose = false;     // forwarded at most once on its connection: RFC 9112 §6.1 says
                              // to close after Transfer-Encoding beside Content-Length

  // Raises the tier (and sets the reason) if `t` is higher than the current one.
  void raise(DesyncTier t, DesyncReason r, int f = -1) {
    if (t > tier) {
      tier = t;
      reason = r;
      field = static_cast<int16_t>(f);
    }
  }
};

} // namespace tide::http1
