// HTTP/1.1 message heads parsed in place (RFC 9112): tide's one head parser, used by the load
// balancer (both sides of the proxy), the API server and client, the health checker and
// `tide load`. The length of every body is decided by the one framing rule (framing.h), applied
// the same way to requests and responses so that nothing is ever read two ways (smuggling).
//
// Parsing never allocates: a head is parsed into views over the caller's buffer, which must stay
// unchanged while the views are used. Lines end with CRLF.
//
// Responses, and requests to tide's own servers (parseRequestHeadStrict), are parsed strictly:
// bare CR or LF, obs-fold, whitespace before a colon and non-token header names are errors.
// Requests through the balancer are classified as they are parsed (desync_verdict.h): what the RFC
// forbids but tide can still read one way only gets a tier and a reason in MessageHead::desync
// and is left to the load balancer's desync mitigation mode; what tide cannot read one way only
// (a bare CR or LF, conflicting or invalid lengths, a final coding other than chunked) is Invalid.
#pragma once

#include "http1/desync_verdict.h"
#include "http1/framing.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tide::http1 {

// Headers the proxy looks at; everything else is Other and forwarded as is.
enum class HeaderKind : uint8_t {
  Other,            // forwarded unchanged
  ContentLength,    // framing
  TransferEncoding, // framing
  Connection,       // hop-by-hop, and names more hop-by-hop headers
  KeepAlive,        // hop-by-hop
  ProxyConnection,  // hop-by-hop (non-standard, still removed)
  Te,               // hop-by-hop
  Trailer,          // hop-by-hop
  Upgrade,          // hop-by-hop (the balancer keeps it for an upgrade it carries)
  Host,             // required once in HTTP/1.1 requests
  XForwardedFor,    // appended to
  XForwardedProto,  // replaced
  XForwardedPort,   // replaced
};

struct HeaderField {
  std::string_view name;                    // as received
  std::string_view value;                   // without leading and trailing whitespace
  uint32_t lineBegin = 0;                   // offset of the line in the head
  uint32_t lineEnd = 0;                     // offset just past its CRLF
  HeaderKind kind = HeaderKind::Other;      // see HeaderKind
  bool hopByHop = false;                    // removed when forwarding (also what desync
                                            // normalization removes from a request)
  HeaderKind lookalike = HeaderKind::Other; // requests: ContentLength or TransferEncoding when
                                            // the name is close to one but not it (removed)
};

inline constexpr size_t kMaxHeaderFields = 100; // more fields: 431 (request) / 502 (response)

// The parts of a request or response head. Offsets are relative to the head's first byte.
struct MessageHead {
  // Request line (requests only).
  std::string_view method;
  std::string_view target;
  std::string_view version; // as received, without surrounding whitespace; empty: HTTP/0.9
  // Status line (responses only).
  int status = 0;
  // Both.
  int versionMinor = 1;          // HTTP/1.0 or HTTP/1.1 (requests: 0 for HTTP/0.9, 1 for 1.2+)
  uint32_t requestLineBegin = 0; // empty lines before the request line are skipped (and dropped)
  uint32_t length = 0;           // bytes of the head, through the blank line
  uint32_t fieldsBegin = 0;      // offset of the first header line
  uint32_t fieldsEnd = 0;        // offset of the blank line ending the head
  bool keepAlive = true;         // the sender allows keep-alive (version and Connection rules)
  bool anyHopByHop = false;      // some field must be removed when forwarding
  bool expectContinue = false;   // Expect: 100-continue (requests)
  BodyFraming framing = BodyFraming::None;
  uint64_t contentLength = 0; // framing == ContentLength
  DesyncVerdict desync;       // requests: the desync classification (desync_verdict.h)
  size_t fieldCount = 0;
  HeaderField fields[kMaxHeaderFields]; // [0, fieldCount) valid; a new member above also goes
                                        // into resetHead() (parser.cc)
};

enum class ParseStatus : uint8_t {
  Complete,       // the head is in `head`
  Incomplete,     // need more bytes; nothing is wrong yet
  Invalid,        // malformed: 400 for a request, 502 for a response
  TooLarge,       // longer than the limit or too many fields: 431 / 502
  NotImplemented, // kept for callers; no longer returned: codings before chunked are
                  // forwarded, unknown ones are Invalid (Severe BadTransferEncoding)
};

// Parses a request head at the start of data. `maxBytes` limits the head's size. Fills
// head.desync (also when it returns Invalid because the request cannot be framed), and marks
// the fields that make a request ambiguous (look-alikes of the framing headers, duplicate
// Content-Length, Content-Length beside chunked, folded or nameless lines) hopByHop, so that what
// is forwarded has one framing only.
ParseStatus parseRequestHead(const char* data, size_t size, size_t maxBytes, MessageHead& head);

// Parses a response head at the start of data. `requestMethodHead` (the request was HEAD) and
// the status code decide whether a body follows.
ParseStatus parseResponseHead(const char* data, size_t size, size_t maxBytes,
                              bool requestMethodHead, MessageHead& head);

// Parses just the status line at the start of data ("HTTP/1.x SP 3DIGIT [SP reason] CRLF"), as
// parseResponseHead reads it, for a client that decides on the status alone (a health check).
// Complete sets *versionMinor, *status and *length (bytes through the CRLF); TooLarge when no
// line ends within maxBytes.
ParseStatus parseStatusLine(const char* data, size_t size, size_t maxBytes, int* versionMinor,
                            int* status, size_t* length);

// Whether a message is gRPC's: its Content-Type is application/grpc, or application/grpc+<format>
// or with parameters (gRPC over HTTP/2; application/grpc-web is gRPC-Web, made for HTTP/1.1, and
// is not).
bool isGrpcMessage(const MessageHead& head);

// Why parseRequestHeadStrict refused a request head.
enum class HeadError : uint8_t {
  None,                   // not refused
  RequestLine,            // not "METHOD SP target SP HTTP/x.y CRLF" with a token method and a
                          // target of the method's form (target.h)
  UnsupportedVersion,     // a well-formed version other than HTTP/1.x (505)
  Field,                  // a field line that is not "token: value" (bare CR or LF, obs-fold,
                          // whitespace before the colon, a control character in the value)
  TooManyFields,          // more than kMaxHeaderFields fields
  BadContentLength,       // a Content-Length that is not a number
  ConflictingLengths,     // Content-Length values that differ
  BothLengthAndChunked,   // Content-Length beside Transfer-Encoding
  BadTransferEncoding,    // a final coding other than chunked, or chunked twice
  TransferEncodingHttp10, // Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)
  MissingHost,            // an HTTP/1.1 request without Host
  DuplicateHost,          // more than one Host field
  InvalidHost,            // a Host value that is not uri-host [ ":" port ] (RFC 9110 §7.2)
};

// Words for a HeadError, for an error response ("malformed request line: ...").
std::string_view headErrorText(HeadError e);

// Parses a request head at the start of data as tide's own servers read requests: strictly, the
// way responses are read, and without the classification (head.desync stays Compliant). Empty
// lines before the request line are skipped. Returns Invalid with *error set when the request is
// refused; TooLarge as parseRequestHead. Content-Length may be a list of equal values ("5, 5").
ParseStatus parseRequestHeadStrict(const char* data, size_t size, size_t maxBytes,
                                   MessageHead& head, HeadError* error);

// Whether the first bytes of a request whose head is still incomplete can start a valid one:
// Invalid (with *error) as soon as the request line is whole and wrong, or the method so far has
// a character no method has; Incomplete otherwise. Lets a server refuse garbage (a TLS
// handshake, another protocol) without waiting for a blank line that may never come.
ParseStatus checkRequestStart(const char* data, size_t size, HeadError* error);

} // namespace tide::http1
